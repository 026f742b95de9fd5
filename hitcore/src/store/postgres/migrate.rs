//! The PostgreSQL side of the migration runner
//! ([`crate::store::migration`]): the whole run holds a session-level
//! advisory lock, so processes that start at once migrate one after the
//! other, and each step is one transaction.
//!
//! The lock is keyed by the schema the tables live in (the first of the
//! search path), so runs on different schemas of one database, such as the
//! tests' throw-away schemas, do not wait for each other. It is released
//! at the end of the run, and by the server when the connection goes.

use postgres::Client;

use super::{postgres_dialect, postgres_schema};
use crate::store::StoreError;
use crate::store::migration::{Found, Migration, Step, Target};
use crate::store::sql::SCHEMA;

/// The first half of the advisory lock's key, "hit" in ASCII; the second
/// half is the hash of the schema name.
const LOCK_CLASS: i32 = 0x0068_6974;

/// A connection the runner migrates.
pub(super) struct PostgresTarget<'c>(pub(super) &'c mut Client);

impl Target for PostgresTarget<'_> {
    fn lock(&mut self) -> Result<(), StoreError> {
        self.0.execute(
            "SELECT pg_advisory_lock($1, hashtext(coalesce(current_schema(), '')))",
            &[&LOCK_CLASS],
        )?;
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StoreError> {
        self.0.execute(
            "SELECT pg_advisory_unlock($1, hashtext(coalesce(current_schema(), '')))",
            &[&LOCK_CLASS],
        )?;
        Ok(())
    }

    fn step(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Step) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.transaction()?;
        f(&mut PostgresStep(&mut tx))?;
        tx.commit()?;
        Ok(())
    }
}

struct PostgresStep<'t, 'c>(&'t mut postgres::Transaction<'c>);

impl Step for PostgresStep<'_, '_> {
    fn found(&mut self) -> Result<Found, StoreError> {
        let current: Option<String> = self.0.query_one("SELECT current_schema()", &[])?.get(0);
        let Some(current) = current else {
            return Err(StoreError::Rule(
                "the search path names no schema that exists, so there is nowhere to create \
                 the tables"
                    .to_owned(),
            ));
        };
        let tables: Vec<String> = self
            .0
            .query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = $1",
                &[&current],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if tables.is_empty() {
            return Ok(Found::Empty);
        }
        if !tables.iter().any(|t| t == "schema_migrations") {
            return Ok(Found::Foreign);
        }
        let version: Option<i32> = self
            .0
            .query_one("SELECT MAX(version) FROM schema_migrations", &[])?
            .get(0);
        Ok(Found::At(i64::from(version.unwrap_or(0))))
    }

    fn create(&mut self) -> Result<(), StoreError> {
        Ok(self.0.batch_execute(&postgres_schema(SCHEMA))?)
    }

    fn apply(&mut self, migration: &Migration) -> Result<(), StoreError> {
        self.0.batch_execute(&postgres_dialect(migration.sql))?;
        let version = i32::try_from(migration.version)
            .map_err(|_| StoreError::Rule(format!("no version {}", migration.version)))?;
        self.0.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )?;
        Ok(())
    }
}
