//! The SQLite side of the migration runner ([`crate::store::migration`]):
//! every step is one `BEGIN IMMEDIATE` transaction, which takes the write
//! lock up front, so two processes migrating one file take turns and the
//! second sees what the first applied.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::store::StoreError;
use crate::store::migration::{Found, Migration, Step, Target};
use crate::store::sql::SCHEMA;

/// A connection the runner migrates.
pub(super) struct SqliteTarget<'c>(pub(super) &'c mut Connection);

impl Target for SqliteTarget<'_> {
    /// Nothing: the write lock of each step is what serialises runs.
    fn lock(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn step(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Step) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let tx = self
            .0
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        f(&mut SqliteStep(&tx))?;
        tx.commit()?;
        Ok(())
    }
}

struct SqliteStep<'t, 'c>(&'t Transaction<'c>);

impl Step for SqliteStep<'_, '_> {
    fn found(&mut self) -> Result<Found, StoreError> {
        let tables: Vec<String> = self
            .0
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if tables.is_empty() {
            return Ok(Found::Empty);
        }
        if !tables.iter().any(|t| t == "schema_migrations") {
            return Ok(Found::Foreign);
        }
        let version: Option<i64> =
            self.0
                .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                    r.get(0)
                })?;
        Ok(Found::At(version.unwrap_or(0)))
    }

    fn create(&mut self) -> Result<(), StoreError> {
        Ok(self.0.execute_batch(SCHEMA)?)
    }

    fn apply(&mut self, migration: &Migration) -> Result<(), StoreError> {
        self.0.execute_batch(migration.sql)?;
        self.0.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [migration.version],
        )?;
        Ok(())
    }
}
