//! [`TokenRepo`] on SQLite: single-use tokens for invitations and password
//! resets in `login_tokens` (migration 9), found by their hash.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, Ts};
use crate::id::PersonId;
use crate::login_token::{LoginToken, NewLoginToken, TokenPurpose};
use crate::store::sql::parse_timestamp;
use crate::store::{StoreError, TokenRepo};

/// A row of `person_id, purpose, created_at, expires_at, used_at`.
fn login_token(r: &Row<'_>) -> rusqlite::Result<LoginToken> {
    let purpose: String = r.get("purpose")?;
    let purpose = TokenPurpose::parse(&purpose).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            format!("unknown token purpose {purpose:?}").into(),
        )
    })?;
    let used_at: Option<Ts> = r.get("used_at")?;
    Ok(LoginToken {
        person_id: PersonId(r.get("person_id")?),
        purpose,
        created_at: r.get::<_, Ts>("created_at")?.0,
        expires_at: r.get::<_, Ts>("expires_at")?.0,
        used_at: used_at.map(|t| t.0),
    })
}

impl TokenRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(person.id = %token.person_id, token.purpose = %token.purpose))]
    fn create_login_token(&self, token: &NewLoginToken) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO login_tokens \
                     (person_id, purpose, token_hash, created_at, expires_at) \
                     SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM people WHERE id = ?1)",
                )?
                .execute(params![
                    token.person_id.0,
                    token.purpose.as_str(),
                    token.token_hash,
                    Ts(token.created_at),
                    Ts(token.expires_at)
                ])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(token.purpose = %purpose))]
    fn open_login_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<LoginToken>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT person_id, purpose, created_at, expires_at, used_at FROM login_tokens \
                 WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
            )?
            .query_row(params![token_hash, purpose.as_str(), Ts(now)], login_token)
            .optional()?)
        })
    }

    #[tracing::instrument(skip_all, fields(token.purpose = %purpose))]
    fn consume_login_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<LoginToken>, StoreError> {
        self.write(|tx| {
            let used = tx
                .prepare_cached(
                    "UPDATE login_tokens SET used_at = ?1 \
                     WHERE token_hash = ?2 AND purpose = ?3 \
                     AND used_at IS NULL AND expires_at > ?1 \
                     RETURNING person_id, purpose, created_at, expires_at, used_at",
                )?
                .query_row(params![Ts(now), token_hash, purpose.as_str()], login_token)
                .optional()?;
            if let Some(token) = &used {
                tx.prepare_cached(
                    "UPDATE login_tokens SET used_at = ?1 \
                     WHERE person_id = ?2 AND used_at IS NULL AND expires_at > ?1",
                )?
                .execute(params![Ts(now), token.person_id.0])?;
            }
            Ok(used)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %person, token.purpose = %purpose))]
    fn newest_open_login_token(
        &self,
        person: PersonId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let newest: Option<String> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT max(created_at) FROM login_tokens \
                 WHERE person_id = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
            )?
            .query_row(params![person.0, purpose.as_str(), Ts(now)], |r| r.get(0))?)
        })?;
        newest
            .map(|t| parse_timestamp(&t).map_err(|e| StoreError::Backend(Box::new(e))))
            .transpose()
    }
}
