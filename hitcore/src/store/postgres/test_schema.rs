//! A throw-away schema per test, so that tests share one PostgreSQL
//! database without seeing each other's rows, and start from id 1.

use std::fmt;

use postgres::NoTls;

use super::{CONNECT_TIMEOUT, backend};
use crate::store::StoreError;

/// A fresh, uniquely named schema in a PostgreSQL database, dropped with
/// everything in it when this value is dropped; for tests.
///
/// [`TestSchema::url`] is the database URL with the schema first on the
/// search path of every connection (through the `options` parameter), so
/// a store opened on it creates its tables there. Its connections also
/// commit without waiting for the disk (`synchronous_commit=off`): a test
/// database need not survive a crash, and its tests run faster so.
pub struct TestSchema {
    base: String,
    name: String,
    url: String,
    durable_url: String,
}

impl fmt::Debug for TestSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSchema")
            .field("name", &self.name)
            .finish()
    }
}

impl TestSchema {
    /// Creates a schema named `hit_test_<random>` in the database of
    /// `base_url`.
    ///
    /// Connects synchronously: call it off the async executor (the driver
    /// panics on a thread that drives async tasks).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the server cannot be reached or refuses
    /// the schema.
    pub fn create(base_url: &str) -> Result<TestSchema, StoreError> {
        let name = format!("hit_test_{:016x}", rand::random::<u64>());
        let mut client = connect(base_url)?;
        client.batch_execute(&format!("CREATE SCHEMA \"{name}\""))?;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let durable_url = format!("{base_url}{separator}options=-csearch_path%3D{name}");
        let url = format!("{durable_url}%20-csynchronous_commit%3Doff");
        Ok(TestSchema {
            base: base_url.to_owned(),
            name,
            url,
            durable_url,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database URL whose connections put this schema first.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// [`TestSchema::url`] with the server's own commit setting: commits
    /// wait for the disk, as in production. For benchmarks.
    pub fn durable_url(&self) -> &str {
        &self.durable_url
    }

    fn drop_schema(&self) -> Result<(), StoreError> {
        let mut client = connect(&self.base)?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))?;
        Ok(())
    }
}

impl Drop for TestSchema {
    /// Drops the schema on a thread of its own (the driver must not run on
    /// an async test's thread) and waits for it.
    fn drop(&mut self) {
        let dropped = std::thread::scope(|s| s.spawn(|| self.drop_schema()).join());
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test schema {}: {e:?}", self.name),
            Err(_) => eprintln!("dropping the test schema {} panicked", self.name),
        }
    }
}

fn connect(url: &str) -> Result<postgres::Client, StoreError> {
    let mut config: postgres::Config = url.parse().map_err(backend)?;
    config.connect_timeout(CONNECT_TIMEOUT);
    Ok(config.connect(NoTls)?)
}
