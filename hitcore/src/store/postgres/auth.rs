//! [`AuthRepo`] on PostgreSQL: login data in `people`, browser sessions in
//! `sessions`, as in the SQLite store.

use chrono::{DateTime, Utc};
use postgres::GenericClient;

use super::{PostgresStore, query_opt};
use crate::ability::{Permit, SetPassword};
use crate::id::PersonId;
use crate::store::row::{LOGIN_COLUMNS, SIGNED_IN_COLUMNS};
use crate::store::sql::{after_failure, timestamp_text};
use crate::store::{AuthRepo, Login, Session, SignedIn, StoreError, row};

fn login_of(c: &mut impl GenericClient, id: PersonId) -> Result<Login, StoreError> {
    let sql = format!("SELECT {LOGIN_COLUMNS} FROM people WHERE id = $1");
    query_opt(c, &sql, &[&id.0], row::login)?.ok_or(StoreError::NotFound)
}

fn changed_one(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl AuthRepo for PostgresStore {
    #[tracing::instrument(skip_all)]
    fn login_by_email(&self, email: &str) -> Result<Option<Login>, StoreError> {
        // The columns of LOGIN_COLUMNS, with the alias of the email lookup.
        let sql = super::people::by_email_sql(
            "p.id, p.encrypted_password, p.failed_attempts, p.locked_at",
        );
        let Some(email) = super::people::email_key(email) else {
            return Ok(None);
        };
        self.read(|c| query_opt(c, &sql, &[&email], row::login))
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn record_failed_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<Login, StoreError> {
        self.write(|tx| {
            let login = after_failure(login_of(tx, id)?, now);
            let attempts = i32::try_from(login.failed_attempts).unwrap_or(i32::MAX);
            tx.execute(
                "UPDATE people SET failed_attempts = $1, locked_at = $2 WHERE id = $3",
                &[&attempts, &login.locked_at.map(timestamp_text), &id.0],
            )?;
            if login.locked_at == Some(now) {
                tracing::warn!(person.id = %id, "Locked person {id} after failed logins");
            }
            login_of(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn record_good_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE people SET failed_attempts = 0, locked_at = NULL, \
                 last_sign_in_at = $1 WHERE id = $2",
                &[&timestamp_text(now), &id.0],
            )?;
            changed_one(n)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn set_password_hash(
        &self,
        permit: &Permit<SetPassword>,
        hash: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE people SET encrypted_password = $1 WHERE id = $2",
                &[&hash, &id.0],
            )?;
            changed_one(n)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %session.person_id))]
    fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, person_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    &token_hash,
                    &session.person_id.0,
                    &timestamp_text(session.created_at),
                    &timestamp_text(session.expires_at),
                ],
            )?;
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        self.read(|c| {
            query_opt(
                c,
                "SELECT person_id, created_at, expires_at FROM sessions \
                 WHERE token_hash = $1 AND expires_at > $2",
                &[&token_hash, &timestamp_text(now)],
                row::session,
            )
        })
    }

    #[tracing::instrument(skip_all)]
    fn signed_in(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedIn>, StoreError> {
        // A global stamp is the XOR of its 16 stripes (migration 10).
        let sql = format!(
            "SELECT {}, {SIGNED_IN_COLUMNS}, \
             (SELECT bit_xor(stamp) FROM cache_stamps WHERE name = 'groups') AS groups_stamp, \
             (SELECT bit_xor(stamp) FROM cache_stamps WHERE name = 'memberships') \
                 AS memberships_stamp \
             FROM sessions s \
             JOIN people p ON p.id = s.person_id \
             LEFT JOIN access_stamps a ON a.person_id = s.person_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
            person_columns!()
        );
        self.read(|c| {
            query_opt(
                c,
                &sql,
                &[&token_hash, &timestamp_text(now)],
                row::signed_in,
            )
        })
    }

    #[tracing::instrument(skip_all)]
    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM sessions WHERE expires_at <= $1",
                &[&timestamp_text(now)],
            )?)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn end_other_sessions(&self, id: PersonId, keep: Option<&str>) -> Result<u64, StoreError> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM sessions WHERE person_id = $1 AND token_hash IS DISTINCT FROM $2",
                &[&id.0, &keep],
            )?)
        })
    }
}
