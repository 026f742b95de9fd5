//! The SQLite store: rusqlite connections in an r2d2 pool, WAL mode,
//! foreign keys on, created from the workspace's `schema.sql`.
//!
//! One submodule per repository trait. This module holds what they share:
//! opening and checking the database, transactions, the mapping of driver
//! errors to [`StoreError`] and rusqlite's view of the text forms of
//! timestamps and dates (the forms themselves, like the group paths and
//! the row reading, are shared with the PostgreSQL store in `store::sql`
//! and `store::row`). Every call blocks; the web tier runs them on
//! `spawn_blocking`.
//!
//! SQL is parameterised throughout. The few statements assembled at run
//! time (the people list) splice constant fragments only, never input.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::org::Organisation;
use crate::store::StoreError;
use crate::store::jobs::Wakeup;
use crate::store::migration::{self, Mode};
use crate::store::sql;
// The group path forms, for the submodules.
use crate::store::sql::{path_text, path_upper};

mod auth;
mod bulk;
mod events;
mod groups;
mod health;
mod jobs;
mod list_mail;
mod mailing_lists;
mod migrate;
mod participant_export;
mod participations;
mod people;
mod qualifications;
mod roles;
mod rows;
mod search;
mod tokens;

/// The highest entry of `schema_migrations` this code expects.
pub const SCHEMA_VERSION: i64 = sql::SCHEMA_VERSION;

/// How long a connection waits for another writer before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite implementation of every repository trait.
#[derive(Clone)]
pub struct SqliteStore {
    pool: r2d2::Pool<SqliteConnectionManager>,
    org: Arc<Organisation>,
    /// Wakes this process's threads that wait for jobs (shared by clones).
    wakeup: Arc<Wakeup>,
    /// Taken around every write transaction of this process (shared by
    /// clones); see [`SqliteStore::write`].
    writer: Arc<std::sync::Mutex<()>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("org", &self.org.name)
            .field("connections", &self.pool.state().connections)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (and on first use creates) the database named by a
    /// `sqlite://path` or `sqlite:path` URL or a plain path; `:memory:`
    /// gives a fresh in-memory database. An empty database gets the schema
    /// and every migration; any other must be at [`SCHEMA_VERSION`]
    /// already (see [`SqliteStore::migrate`]).
    ///
    /// # Errors
    /// [`StoreError::Rule`] when the database is behind or ahead of this
    /// build, or holds tables but no `schema_migrations`;
    /// [`StoreError::Backend`] when the file cannot be opened or created.
    pub fn open(path_or_url: &str, org: Arc<Organisation>) -> Result<SqliteStore, StoreError> {
        let path = database_path(path_or_url);
        if path == ":memory:" {
            return SqliteStore::in_memory(org);
        }
        // One connection first: the pool would retry a file it cannot open
        // until its connection timeout, this fails at once with the cause.
        configure(&mut Connection::open(path)?, true)?;
        let manager =
            SqliteConnectionManager::file(Path::new(path)).with_init(|c| configure(c, true));
        let pool = r2d2::Pool::builder().max_size(8).build(manager)?;
        SqliteStore::start(pool, org)
    }

    /// Brings the database of `path_or_url` (as for [`SqliteStore::open`])
    /// to schema `version`, creating it when empty; see
    /// [`crate::store::migrate`].
    ///
    /// # Errors
    /// As for [`crate::store::migrate_to`].
    pub fn migrate(path_or_url: &str, version: i64) -> Result<migration::Report, StoreError> {
        let path = database_path(path_or_url);
        let mut conn = Connection::open(path)?;
        configure(&mut conn, path != ":memory:")?;
        migration::run(
            &mut migrate::SqliteTarget(&mut conn),
            Mode::Migrate { up_to: version },
        )
    }

    /// A new, empty in-memory database shared by all pooled connections of
    /// this store (and no other), for tests and demos.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if SQLite cannot create it.
    pub fn in_memory(org: Arc<Organisation>) -> Result<SqliteStore, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // The memdb VFS shares a database between the connections of one
        // process that open the same name starting with '/'. Unlike a
        // shared-cache database it takes ordinary file locks, so the busy
        // timeout applies. It lives while any connection is open, hence no
        // idle timeout and no maximum lifetime.
        let uri = format!("file:/hit-memory-{}-{n}?vfs=memdb", std::process::id());
        let manager = SqliteConnectionManager::file(uri)
            .with_flags(OpenFlags::default())
            .with_init(|c| configure(c, false));
        let pool = r2d2::Pool::builder()
            .max_size(4)
            .idle_timeout(None)
            .max_lifetime(None)
            .build(manager)?;
        SqliteStore::start(pool, org)
    }

    /// The organisation definition the store derives person state with.
    pub fn organisation(&self) -> &Organisation {
        &self.org
    }

    fn start(
        pool: r2d2::Pool<SqliteConnectionManager>,
        org: Arc<Organisation>,
    ) -> Result<SqliteStore, StoreError> {
        let store = SqliteStore {
            pool,
            org,
            wakeup: Arc::new(Wakeup::new()),
            writer: Arc::new(std::sync::Mutex::new(())),
        };
        let mut conn = store.pool.get()?;
        migration::run(&mut migrate::SqliteTarget(&mut conn), Mode::Serve)?;
        drop(conn);
        Ok(store)
    }

    /// Runs `f` on a pooled connection outside any explicit transaction.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.pool.get()?;
        f(&conn)
    }

    /// Runs `f` in a read transaction, so several queries see one state.
    fn snapshot<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a write transaction, committed only when `f` succeeds.
    ///
    /// `BEGIN IMMEDIATE` takes the write lock up front: a deferred
    /// transaction that reads first and then writes can fail with
    /// SQLITE_BUSY without waiting, when another writer came in between.
    ///
    /// SQLite lets one writer in at a time anyway. Threads of this process
    /// queue for it on a mutex first: SQLite's own busy handler waits by
    /// sleeping 1 to 100 ms between tries, which made four threads that
    /// write small transactions (the list relay's batches) slower than one.
    /// Other processes still meet at SQLite's lock, with the busy timeout.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _turn = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// The file path inside a database URL.
fn database_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Per-connection settings. Foreign keys and the busy timeout are not
/// stored in the file, so every connection sets them.
fn configure(conn: &mut Connection, is_file: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // A 16 MiB page cache per connection (the default is 2 MiB) and
    // in-memory temporary tables keep the sort of a large people list off
    // the disk.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;",
    )?;
    if is_file {
        switch_to_wal(conn)?;
    }
    register_fold(conn)
}

/// Puts the database file in WAL mode (a no-op once it is).
///
/// Switching a new file from the rollback journal takes an exclusive lock.
/// When several processes open the new file at once, SQLite may answer
/// SQLITE_BUSY at once, without its busy handler, to avoid a deadlock
/// between two connections that both hold a shared lock; so the switch
/// is tried again here for as long as the busy timeout.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The SQL function `hit_fold(text)`: the text in lower case by Unicode's
/// rules, as Rust's `str::to_lowercase` gives it; NULL stays NULL.
///
/// SQLite's own `lower` and `LIKE` fold ASCII letters only, so `Ä` and `ä`
/// would never meet. Text filters lower-case their patterns with the same
/// Rust function and compare them with `hit_fold` of the column.
fn register_fold(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;

    conn.create_scalar_function(
        "hit_fold",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| Ok(fold(ctx.get_raw(0))),
    )
}

fn fold(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).to_lowercase()),
    }
}

// ------------------------------------------------------------------ errors

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match &e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            rusqlite::Error::SqliteFailure(f, msg)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Conflict {
                    field: conflict_field(msg.as_deref().unwrap_or("")),
                }
            }
            // Another writer held the lock past the busy timeout: the
            // database is there, but not usable right now.
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Unavailable(Box::new(e))
            }
            _ => StoreError::Backend(Box::new(e)),
        }
    }
}

/// The pool found no free connection in time and could not open one.
impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> StoreError {
        StoreError::Unavailable(Box::new(e))
    }
}

/// The field named by SQLite's unique-violation message, which is either
/// `UNIQUE constraint failed: table.column[, table.column]` or, for an
/// expression index, `UNIQUE constraint failed: index 'name'`.
fn conflict_field(message: &str) -> String {
    let detail = message.rsplit(": ").next().unwrap_or("");
    if let Some(index) = detail.strip_prefix("index '") {
        let index = index.trim_end_matches('\'');
        return sql::field_of_index(index).unwrap_or(index).to_owned();
    }
    let first = detail.split(',').next().unwrap_or(detail).trim();
    first.rsplit('.').next().unwrap_or(first).to_owned()
}

/// A domain rule the store refused to break.
fn rule(e: impl fmt::Display) -> StoreError {
    StoreError::Rule(e.to_string())
}

// ------------------------------------------------------------- text forms

/// A timestamp as stored: UTC, microseconds, fixed width, so that text
/// order is time order.
#[derive(Clone, Copy, Debug)]
struct Ts(DateTime<Utc>);

impl ToSql for Ts {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(sql::timestamp_text(self.0)))
    }
}

impl FromSql for Ts {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Ts> {
        sql::parse_timestamp(value.as_str()?)
            .map(Ts)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A date as stored: `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug)]
struct Day(NaiveDate);

impl ToSql for Day {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(sql::date_text(self.0)))
    }
}

impl FromSql for Day {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Day> {
        sql::parse_date(value.as_str()?)
            .map(Day)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

fn day(d: Option<NaiveDate>) -> Option<Day> {
    d.map(Day)
}

/// A list of ids as the JSON array `json_each` reads, so that a list of any
/// length is one parameter.
fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    serde_json::Value::from(ids.into_iter().collect::<Vec<i64>>()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_field_names_the_column_or_the_mapped_index() {
        assert_eq!(
            conflict_field("UNIQUE constraint failed: sessions.token_hash"),
            "token_hash"
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: index 'people_email_key'"),
            "email"
        );
        assert_eq!(conflict_field("UNIQUE constraint failed: t.a, t.b"), "a");
    }

    #[test]
    fn urls_and_plain_paths_name_the_file() {
        assert_eq!(database_path("sqlite://data/hit.db"), "data/hit.db");
        assert_eq!(database_path("sqlite:///var/hit.db"), "/var/hit.db");
        assert_eq!(database_path("sqlite:hit.db"), "hit.db");
        assert_eq!(database_path("hit.db"), "hit.db");
    }

    fn org() -> Arc<Organisation> {
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n";
        Arc::new(Organisation::from_toml(src, "t.toml").expect("org"))
    }

    fn version_of(path: &Path) -> i64 {
        Connection::open(path)
            .expect("open")
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .expect("version")
    }

    #[test]
    fn new_file_gets_the_schema_in_wal_mode_and_reopens() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("new.db");
        let url = format!("sqlite://{}", path.display());
        drop(SqliteStore::open(&url, org()).expect("created"));
        assert_eq!(version_of(&path), SCHEMA_VERSION);
        let mode: String = Connection::open(&path)
            .expect("open")
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        SqliteStore::open(path.to_str().expect("utf-8 path"), org()).expect("reopened");
        assert_eq!(version_of(&path), SCHEMA_VERSION);
    }

    #[test]
    fn unopenable_file_fails_at_once() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("missing-dir").join("x.db");
        let started = std::time::Instant::now();
        let e = SqliteStore::open(path.to_str().expect("path"), org()).expect_err("refused");
        assert!(matches!(e, StoreError::Backend(_)), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn database_of_another_version_or_program_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let newer = dir.path().join("newer.db");
        drop(SqliteStore::open(newer.to_str().expect("path"), org()).expect("created"));
        Connection::open(&newer)
            .expect("open")
            .execute("INSERT INTO schema_migrations (version) VALUES (99)", [])
            .expect("bumped");
        let e = SqliteStore::open(newer.to_str().expect("path"), org()).expect_err("refused");
        assert!(
            matches!(&e, StoreError::Rule(m) if m.contains("version 99")),
            "{e}"
        );

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .expect("open")
            .execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY)")
            .expect("created");
        let e = SqliteStore::open(foreign.to_str().expect("path"), org()).expect_err("refused");
        assert!(
            matches!(&e, StoreError::Rule(m) if m.contains("schema_migrations")),
            "{e}"
        );
    }

    #[test]
    fn in_memory_stores_are_separate_databases() {
        use crate::store::PersonRepo;
        let a = SqliteStore::in_memory(org()).expect("a");
        let b = SqliteStore::in_memory(org()).expect("b");
        a.write(|tx| {
            tx.execute(
                "INSERT INTO people (language, created_at, updated_at) VALUES ('en', 'x', 'x')",
                [],
            )?;
            Ok(())
        })
        .expect("inserted");
        assert_eq!(a.person_count().expect("count"), 1);
        assert_eq!(b.person_count().expect("count"), 0);
    }
}
