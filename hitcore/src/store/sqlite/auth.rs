//! [`AuthRepo`] on SQLite: login data in `people`, browser sessions in
//! `sessions`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, Ts};
use crate::ability::{Permit, SetPassword};
use crate::id::PersonId;
use crate::store::row::{LOGIN_COLUMNS, SIGNED_IN_COLUMNS};
use crate::store::sql::after_failure;
use crate::store::{AuthRepo, Login, Session, SignedIn, StoreError, row};

fn login_of(conn: &Connection, id: PersonId) -> Result<Login, StoreError> {
    let sql = format!("SELECT {LOGIN_COLUMNS} FROM people WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.0], super::rows::login)?)
}

fn changed_one(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl AuthRepo for SqliteStore {
    #[tracing::instrument(skip_all)]
    fn login_by_email(&self, email: &str) -> Result<Option<Login>, StoreError> {
        let sql = format!("SELECT {LOGIN_COLUMNS} FROM people WHERE lower(email) = lower(?1)");
        // As in `person_by_email`: fold the way the stored emails were.
        let email = email.trim().to_lowercase();
        self.read(|c| {
            Ok(c.prepare_cached(&sql)?
                .query_row([email], super::rows::login)
                .optional()?)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn record_failed_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<Login, StoreError> {
        self.write(|tx| {
            let login = after_failure(login_of(tx, id)?, now);
            tx.prepare_cached(
                "UPDATE people SET failed_attempts = ?1, locked_at = ?2 WHERE id = ?3",
            )?
            .execute(params![
                login.failed_attempts,
                login.locked_at.map(Ts),
                id.0
            ])?;
            if login.locked_at == Some(now) {
                tracing::warn!(person.id = %id, "Locked person {id} after failed logins");
            }
            login_of(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn record_good_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE people SET failed_attempts = 0, locked_at = NULL, \
                     last_sign_in_at = ?1 WHERE id = ?2",
                )?
                .execute(params![Ts(now), id.0])?;
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
            let n = tx
                .prepare_cached("UPDATE people SET encrypted_password = ?1 WHERE id = ?2")?
                .execute(params![hash, id.0])?;
            changed_one(n)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %session.person_id))]
    fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO sessions (token_hash, person_id, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                token_hash,
                session.person_id.0,
                Ts(session.created_at),
                Ts(session.expires_at)
            ])?;
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT person_id, created_at, expires_at FROM sessions \
                 WHERE token_hash = ?1 AND expires_at > ?2",
            )?
            .query_row(params![token_hash, Ts(now)], super::rows::session)
            .optional()?)
        })
    }

    #[tracing::instrument(skip_all)]
    fn signed_in(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedIn>, StoreError> {
        // One row per global stamp here (migration 10).
        let sql = format!(
            "SELECT {}, {SIGNED_IN_COLUMNS}, \
             (SELECT stamp FROM cache_stamps WHERE name = 'groups') AS groups_stamp, \
             (SELECT stamp FROM cache_stamps WHERE name = 'memberships') AS memberships_stamp \
             FROM sessions s \
             JOIN people p ON p.id = s.person_id \
             LEFT JOIN access_stamps a ON a.person_id = s.person_id \
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            person_columns!()
        );
        self.read(|c| {
            Ok(c.prepare_cached(&sql)?
                .query_row(params![token_hash, Ts(now)], |r| row::signed_in(r))
                .optional()?)
        })
    }

    #[tracing::instrument(skip_all)]
    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute([token_hash])?;
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
                .execute([Ts(now)])?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn end_other_sessions(&self, id: PersonId, keep: Option<&str>) -> Result<u64, StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "DELETE FROM sessions WHERE person_id = ?1 AND token_hash IS NOT ?2",
                )?
                .execute(params![id.0, keep])?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
    }
}
