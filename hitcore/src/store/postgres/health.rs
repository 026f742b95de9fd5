//! [`HealthRepo`] on PostgreSQL: the schema version, read with one simple
//! query (no prepare step, so one round trip after the pool's check).

use postgres::SimpleQueryMessage;

use super::PostgresStore;
use crate::store::migration::LATEST_VERSION;
use crate::store::{HealthRepo, SchemaCheck, StoreError};

/// The query of the probe: constant text, no parameters.
const VERSION_SQL: &str = "SELECT MAX(version) FROM schema_migrations";

impl HealthRepo for PostgresStore {
    #[tracing::instrument(skip_all)]
    fn schema_check(&self) -> Result<SchemaCheck, StoreError> {
        self.read(|c| {
            let messages = c.simple_query(VERSION_SQL)?;
            let found = messages
                .iter()
                .find_map(|m| match m {
                    SimpleQueryMessage::Row(row) => Some(row.get(0)),
                    _ => None,
                })
                .flatten()
                .map(str::parse::<i64>)
                .transpose()
                .map_err(|e| StoreError::Backend(Box::new(e)))?;
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

    use postgres::NoTls;

    use super::*;
    use crate::org::Organisation;
    use crate::store::postgres::TestSchema;

    fn org() -> Arc<Organisation> {
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n";
        Arc::new(Organisation::from_toml(src, "t.toml").expect("org"))
    }

    #[test]
    fn a_database_migrated_further_after_opening_is_not_current() {
        let Ok(base) = std::env::var("HIT_TEST_POSTGRES_URL") else {
            return;
        };
        let schema = TestSchema::create(&base).expect("a test schema");
        let store = PostgresStore::open(schema.url(), org()).expect("created");
        assert!(store.schema_check().expect("checked").is_current());

        // A newer build migrated the database while this one serves.
        let mut client = schema
            .url()
            .parse::<postgres::Config>()
            .expect("url")
            .connect(NoTls)
            .expect("connected");
        client
            .batch_execute("INSERT INTO schema_migrations (version) VALUES (99)")
            .expect("bumped");
        let check = store.schema_check().expect("checked");
        assert_eq!((check.found, check.expected), (99, LATEST_VERSION));
        assert!(!check.is_current());
        drop(store);
    }
}
