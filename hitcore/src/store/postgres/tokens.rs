//! [`TokenRepo`] on PostgreSQL: single-use tokens for invitations and
//! password resets in `login_tokens` (migration 9), as in the SQLite store.

use chrono::{DateTime, Utc};
use postgres::Row;

use super::{PostgresStore, query_opt};
use crate::id::PersonId;
use crate::login_token::{LoginToken, NewLoginToken, TokenPurpose};
use crate::store::row::Columns;
use crate::store::sql::{parse_timestamp, timestamp_text};
use crate::store::{StoreError, TokenRepo};

fn timestamp(r: &Row, name: &str) -> Result<DateTime<Utc>, StoreError> {
    let text = r.text(name)?;
    parse_timestamp(&text).map_err(|e| r.invalid(name, Box::new(e)))
}

/// A row of `person_id, purpose, created_at, expires_at, used_at`.
fn login_token(r: &Row) -> Result<LoginToken, StoreError> {
    let purpose = r.text("purpose")?;
    let purpose = TokenPurpose::parse(&purpose)
        .ok_or_else(|| r.invalid("purpose", format!("unknown purpose {purpose:?}").into()))?;
    let used_at = match r.opt_text("used_at")? {
        Some(t) => Some(parse_timestamp(&t).map_err(|e| r.invalid("used_at", Box::new(e)))?),
        None => None,
    };
    Ok(LoginToken {
        person_id: PersonId(r.int("person_id")?),
        purpose,
        created_at: timestamp(r, "created_at")?,
        expires_at: timestamp(r, "expires_at")?,
        used_at,
    })
}

impl TokenRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(person.id = %token.person_id, token.purpose = %token.purpose))]
    fn create_login_token(&self, token: &NewLoginToken) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO login_tokens \
                 (person_id, purpose, token_hash, created_at, expires_at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM people WHERE id = $1)",
                &[
                    &token.person_id.0,
                    &token.purpose.as_str(),
                    &token.token_hash,
                    &timestamp_text(token.created_at),
                    &timestamp_text(token.expires_at),
                ],
            )?;
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
            query_opt(
                c,
                "SELECT person_id, purpose, created_at, expires_at, used_at FROM login_tokens \
                 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
                &[&token_hash, &purpose.as_str(), &timestamp_text(now)],
                login_token,
            )
        })
    }

    #[tracing::instrument(skip_all, fields(token.purpose = %purpose))]
    fn consume_login_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<LoginToken>, StoreError> {
        let now = timestamp_text(now);
        self.write(|tx| {
            let used = query_opt(
                tx,
                "UPDATE login_tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND purpose = $3 \
                 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING person_id, purpose, created_at, expires_at, used_at",
                &[&now, &token_hash, &purpose.as_str()],
                login_token,
            )?;
            if let Some(token) = &used {
                tx.execute(
                    "UPDATE login_tokens SET used_at = $1 \
                     WHERE person_id = $2 AND used_at IS NULL AND expires_at > $1",
                    &[&now, &token.person_id.0],
                )?;
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
            Ok(c.query_one(
                "SELECT max(created_at) AS newest FROM login_tokens \
                 WHERE person_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
                &[&person.0, &purpose.as_str(), &timestamp_text(now)],
            )?
            .try_get("newest")?)
        })?;
        newest
            .map(|t| parse_timestamp(&t).map_err(|e| StoreError::Backend(Box::new(e))))
            .transpose()
    }
}
