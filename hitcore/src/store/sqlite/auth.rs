//! [`AuthRepo`] on SQLite: login data in `people`, browser sessions in
//! `sessions`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, Ts};
use crate::ability::{Permit, SetPassword};
use crate::auth::{MAX_FAILED_ATTEMPTS, is_locked};
use crate::id::PersonId;
use crate::store::{AuthRepo, Login, Session, StoreError};

const LOGIN_COLUMNS: &str = "id, encrypted_password, failed_attempts, locked_at";

fn login_of(conn: &Connection, id: PersonId) -> Result<Login, StoreError> {
    let sql = format!("SELECT {LOGIN_COLUMNS} FROM people WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.0], super::rows::login)?)
}

/// The login after one more failed attempt at `now`.
///
/// A lock that has run out starts the count afresh, so that the account
/// locks again after the next [`MAX_FAILED_ATTEMPTS`] failures rather than
/// never again.
fn after_failure(mut login: Login, now: DateTime<Utc>) -> Login {
    if login.locked_at.is_some() && !is_locked(login.locked_at, now) {
        login.locked_at = None;
        login.failed_attempts = 0;
    }
    login.failed_attempts = login.failed_attempts.saturating_add(1);
    if login.failed_attempts >= MAX_FAILED_ATTEMPTS && login.locked_at.is_none() {
        login.locked_at = Some(now);
    }
    login
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
            .query_row(params![token_hash, Ts(now)], |r| {
                Ok(Session {
                    person_id: PersonId(r.get(0)?),
                    created_at: r.get::<_, Ts>(1)?.0,
                    expires_at: r.get::<_, Ts>(2)?.0,
                })
            })
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
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn login(attempts: u32, locked_at: Option<DateTime<Utc>>) -> Login {
        Login {
            person_id: PersonId(1),
            password_hash: None,
            failed_attempts: attempts,
            locked_at,
        }
    }

    #[test]
    fn fifth_failure_locks() {
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        assert_eq!(after_failure(login(3, None), now).locked_at, None);
        assert_eq!(after_failure(login(4, None), now).locked_at, Some(now));
    }

    #[test]
    fn failure_during_a_lock_keeps_it_and_after_it_counts_anew() {
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        let locked = now - Duration::minutes(10);
        let during = after_failure(login(5, Some(locked)), now);
        assert_eq!(
            (during.failed_attempts, during.locked_at),
            (6, Some(locked))
        );
        let old = now - Duration::hours(2);
        let after = after_failure(login(5, Some(old)), now);
        assert_eq!((after.failed_attempts, after.locked_at), (1, None));
    }
}
