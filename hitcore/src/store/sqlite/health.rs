//! [`HealthRepo`] on SQLite: the schema version, read with one query on a
//! pooled connection.

use super::SqliteStore;
use crate::store::migration::LATEST_VERSION;
use crate::store::{HealthRepo, SchemaCheck, StoreError};

impl HealthRepo for SqliteStore {
    #[tracing::instrument(skip_all)]
    fn schema_check(&self) -> Result<SchemaCheck, StoreError> {
        self.read(|c| {
            let found: Option<i64> = c
                .prepare_cached("SELECT MAX(version) FROM schema_migrations")?
                .query_row([], |r| r.get(0))?;
            Ok(SchemaCheck {
                found: found.unwrap_or(0),
                expected: LATEST_VERSION,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rusqlite::Connection;

    use super::*;
    use crate::org::Organisation;

    fn org() -> Arc<Organisation> {
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n";
        Arc::new(Organisation::from_toml(src, "t.toml").expect("org"))
    }

    #[test]
    fn a_database_migrated_further_after_opening_is_not_current() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("health.db");
        let store = SqliteStore::open(path.to_str().expect("path"), org()).expect("created");
        assert!(store.schema_check().expect("checked").is_current());

        // A newer build migrated the database while this one serves.
        Connection::open(&path)
            .expect("open")
            .execute("INSERT INTO schema_migrations (version) VALUES (99)", [])
            .expect("bumped");
        let check = store.schema_check().expect("checked");
        assert_eq!((check.found, check.expected), (99, LATEST_VERSION));
        assert!(!check.is_current());
    }
}
