//! The PostgreSQL store: `postgres` connections in an r2d2 pool, created
//! from the workspace's `schema.sql`, with the same semantics as the SQLite
//! store (the contract suite in `tests/store_contract.rs` runs on both).
//!
//! One submodule per repository trait, like the SQLite store; this module
//! holds what they share: opening and checking the database, the dialect
//! rewrite of the schema, transactions, and the mapping of driver errors
//! to [`StoreError`]. Text forms, people-list parameters and row reading
//! come from [`crate::store::sql`] and [`crate::store::row`].
//!
//! Every call blocks. The driver runs a small runtime of its own per
//! connection and panics when it is used on a thread that drives async
//! tasks, so the web tier runs store calls on `spawn_blocking`, as it does
//! for SQLite.
//!
//! How the two dialects differ, beyond the schema (see [`postgres_schema`]):
//! * parameters are `$1, $2, ...` rather than `?1` and `:name`, and lists of
//!   any length are one array parameter (`= ANY($1::bigint[])`, `unnest`)
//!   where SQLite reads a JSON array with `json_each`;
//! * generated ids come back through `RETURNING id`, not `last_insert_rowid`;
//! * `lower(x COLLATE "C")` stands where SQLite writes `lower(x)`, because
//!   only the "C" collation folds ASCII letters alone, as SQLite's `lower`
//!   does; the name sort and the email comparisons thereby agree exactly;
//! * writes run `SERIALIZABLE` and are retried on a serialization failure,
//!   which gives the same outcome as SQLite's one writer at a time.
//!
//! SQL is parameterised throughout. The few statements assembled at run
//! time (the people list) splice constant fragments only, never input.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, IsolationLevel, NoTls, Row, Transaction};

use crate::org::Organisation;
use crate::store::StoreError;
use crate::store::migration::{self, Mode};
use crate::store::row::Columns;
use crate::store::sql;

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
mod pool;
mod qualifications;
mod roles;
mod search;
mod test_schema;
mod tokens;

pub use test_schema::TestSchema;

/// The most connections one store opens.
const POOL_SIZE: u32 = 10;
/// How long a call waits for a free connection, and a new connection for
/// the server, before it fails with [`StoreError::Unavailable`]: short, so
/// that while the server is down requests fail fast instead of piling up.
///
/// TODO: a server that vanishes without closing its connections (a network
/// partition rather than a stop or a crash) leaves a call that is waiting
/// for an answer waiting until TCP gives up; setting `tcp_user_timeout` and
/// keepalives on the connection configuration would bound that too.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How often a write transaction runs again after a serialization failure
/// before the failure is handed to the caller.
///
/// Under load (many writers, a busy server) transactions overlap longer and
/// collide more often, so the pauses between attempts grow: from 2 ms,
/// doubling up to 250 ms, each with random jitter so that two writers that
/// collided do not meet again at once. All 16 pauses add up to about 2.5 s
/// at most. Ten attempts 1-50 ms apart ran out under four concurrent test
/// runs on two cores (about 3 writes in 100).
const WRITE_RETRIES: usize = 16;

type Pool = r2d2::Pool<pool::Manager>;
/// Statement parameters.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The PostgreSQL implementation of every repository trait.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Arc<PoolGuard>,
    org: Arc<Organisation>,
    /// The connection that waits for new jobs, outside the pool.
    jobs: Arc<jobs::Listener>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("org", &self.org.name)
            .field("connections", &self.pool().state().connections)
            .finish()
    }
}

/// The pool, closed on a thread of its own when the last store goes.
///
/// Closing a connection runs the driver's runtime, which panics on a
/// thread that drives async tasks; the last clone of a store is often
/// dropped on one (at the end of `main`, in an async test).
struct PoolGuard(Option<Pool>);

impl Drop for PoolGuard {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let closing = std::thread::Builder::new()
                .name("hit-pg-close".to_owned())
                .spawn(move || drop(pool));
            if let Err(e) = closing {
                tracing::warn!("Could not close the PostgreSQL pool on its own thread: {e}");
            }
        }
    }
}

/// The first connection to the server failed: it is down or unreachable,
/// refused the login, or has no such database.
///
/// The message names the address and the driver's reason in one line,
/// since start-up errors are often printed without their sources.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the PostgreSQL server at {address}: {reason}")]
pub struct CannotConnect {
    /// `host:port` of the server, never with the user or password.
    pub address: String,
    /// The driver's error with its causes, one after the other.
    pub reason: String,
}

/// An error and its sources in one line: the driver's own message alone
/// ("db error") says little.
fn with_causes(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A stored value that does not have the form `schema.sql` prescribes.
#[derive(Debug, thiserror::Error)]
#[error("column {column} holds a value that does not parse")]
struct InvalidColumn {
    column: String,
    #[source]
    cause: Box<dyn Error + Send + Sync>,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` or `postgresql://` URL (or
    /// a libpq key-value string) names. When the first schema of the
    /// search path holds no tables, it gets the schema and every migration;
    /// otherwise it must be at [`crate::store::migration::LATEST_VERSION`]
    /// already (see [`PostgresStore::migrate`]).
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`CannotConnect`] source when the
    /// first connection fails, or with the driver's error when the URL
    /// does not parse; [`StoreError::Rule`] when the database is behind or
    /// ahead of this build, or holds tables but no `schema_migrations`.
    pub fn open(url: &str, org: Arc<Organisation>) -> Result<PostgresStore, StoreError> {
        let (config, mut first) = connect_first(url)?;
        migration::run(&mut migrate::PostgresTarget(&mut first), Mode::Serve)?;
        drop(first);

        let jobs = Arc::new(jobs::Listener::new(config.clone()));
        let manager = pool::Manager::new(config);
        // Checking each connection on checkout (r2d2's default, spelled
        // out because recovery depends on it) drops the ones a restarted
        // server closed, so the pool reconnects without being reopened.
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .test_on_check_out(true)
            .connection_timeout(CONNECT_TIMEOUT)
            .build(manager)
            .map_err(backend)?;
        Ok(PostgresStore {
            pool: Arc::new(PoolGuard(Some(pool))),
            org,
            jobs,
        })
    }

    /// Brings the database of `url` (as for [`PostgresStore::open`]) to
    /// schema `version`, creating it when empty, under an advisory lock;
    /// see [`crate::store::migrate`].
    ///
    /// # Errors
    /// As for [`crate::store::migrate_to`].
    pub fn migrate(url: &str, version: i64) -> Result<migration::Report, StoreError> {
        let (_, mut client) = connect_first(url)?;
        migration::run(
            &mut migrate::PostgresTarget(&mut client),
            Mode::Migrate { up_to: version },
        )
    }

    /// The organisation definition the store derives person state with.
    pub fn organisation(&self) -> &Organisation {
        &self.org
    }

    fn pool(&self) -> &Pool {
        self.pool
            .0
            .as_ref()
            .expect("the pool is only taken when the guard is dropped")
    }

    /// Runs `f` on a pooled connection outside any explicit transaction.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pooled(|conn| f(conn))
    }

    /// As [`PostgresStore::read`], with the pooled connection itself, for
    /// the statements it keeps prepared ([`pool::Conn::execute_prepared`]).
    fn pooled<T>(
        &self,
        f: impl FnOnce(&mut pool::Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool().get().map_err(unavailable)?;
        f(&mut conn)
    }

    /// Runs `f` in a read-only snapshot, so several queries see one state.
    fn snapshot<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool().get().map_err(unavailable)?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a serializable transaction, committed only when `f`
    /// succeeds.
    ///
    /// SQLite lets one writer in at a time, so a check and the write that
    /// depends on it (a free static name, the root that exists once, the
    /// roles a refresh reads) cannot be overtaken. `SERIALIZABLE` gives the
    /// same guarantee without the global lock: PostgreSQL aborts one of two
    /// transactions that would interleave, and that one runs again from the
    /// start, a few times at most.
    fn write<T>(
        &self,
        f: impl Fn(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        use backon::{BlockingRetryable, ExponentialBuilder};

        let mut conn = self.pool().get().map_err(unavailable)?;
        let back_off = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(2))
            .with_max_delay(Duration::from_millis(250))
            .with_max_times(WRITE_RETRIES)
            .with_jitter();
        (|| run_serializable(&mut conn, &f))
            .retry(back_off)
            .sleep(std::thread::sleep)
            .when(is_retryable)
            .notify(|_, pause| {
                tracing::debug!(
                    pause_ms = pause.as_millis() as u64,
                    "Retrying a write after a serialization failure"
                );
            })
            .call()
    }
}

fn run_serializable<T>(
    conn: &mut Client,
    f: &impl Fn(&mut Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut tx = conn
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()?;
    let out = f(&mut tx)?;
    tx.commit()?;
    Ok(out)
}

/// Whether a failed write may succeed when run again: PostgreSQL refused
/// to serialize it, or chose it as the victim of a deadlock.
fn is_retryable(e: &StoreError) -> bool {
    let StoreError::Backend(source) = e else {
        return false;
    };
    source
        .downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::code)
        .is_some_and(|c| {
            *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        })
}

/// `host:port` of every host a configuration names.
fn address(config: &postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                postgres::config::Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    if hosts.is_empty() {
        "the default host".to_owned()
    } else {
        hosts.join(",")
    }
}

/// The configuration of `url` with [`CONNECT_TIMEOUT`] unless it sets one,
/// and one connection made with it.
///
/// A single connection first, because the pool would retry a server that
/// is down until its timeout and then report only that it timed out.
fn connect_first(url: &str) -> Result<(postgres::Config, Client), StoreError> {
    let mut config: postgres::Config = url.parse().map_err(backend)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let client = config.connect(NoTls).map_err(|cause| {
        StoreError::Backend(Box::new(CannotConnect {
            address: address(&config),
            reason: with_causes(&cause),
        }))
    })?;
    Ok((config, client))
}

/// The SQL function the text filters compare with, as SQLite's store
/// registers it in Rust: lower case by Unicode's rules whatever the
/// database's locale (ICU's root locale), compared byte-wise.
const FOLD_FUNCTION: &str = "CREATE FUNCTION hit_fold(value text) RETURNS text \
     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE \
     AS 'SELECT lower(value COLLATE \"und-x-icu\") COLLATE \"C\"';";

/// `schema.sql` in PostgreSQL's dialect. This is the one place where the
/// two schemas differ; each difference is named in the DIALECT paragraph
/// of `schema.sql` too:
///
/// 1. `INTEGER PRIMARY KEY` (SQLite's rowid) becomes a generated BIGINT
///    identity.
/// 2. `COLLATE binary` (SQLite's byte-wise collation) becomes `COLLATE "C"`.
/// 3. The argument of every `lower(...)` gets `COLLATE "C"`, so that it
///    folds ASCII letters only, as SQLite's `lower` does.
/// 4. The `hit_fold` function that SQLite's store registers per connection
///    is created as a SQL function.
///
/// Comments are dropped, so that the substitutions never see prose.
pub(crate) fn postgres_schema(schema: &str) -> String {
    format!("{FOLD_FUNCTION}\n{}", postgres_dialect(schema))
}

/// Statements in the portable dialect of `schema.sql` (the schema itself
/// or a migration) rewritten for PostgreSQL: substitutions 1 to 3 of
/// [`postgres_schema`], comments dropped. Migrations go through this same
/// function, so the dialects differ in this one place.
///
/// Where a migration cannot be portable (the search indexes of version 3),
/// it holds one block per dialect: the lines between `-- sqlite-only
/// begin` and `-- sqlite-only end` are dropped here; between `--
/// postgres-only begin` and `-- postgres-only end`, the lines starting with
/// `--pg` (comments to SQLite) are taken without that mark and without any
/// substitution, being PostgreSQL already.
pub(crate) fn postgres_dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut portable = String::new();
    let mut block = DialectBlock::Both;
    for line in sql.lines() {
        match (line.trim_end(), block) {
            ("-- sqlite-only begin", DialectBlock::Both) => block = DialectBlock::Sqlite,
            ("-- postgres-only begin", DialectBlock::Both) => block = DialectBlock::Postgres,
            ("-- sqlite-only end", DialectBlock::Sqlite)
            | ("-- postgres-only end", DialectBlock::Postgres) => block = DialectBlock::Both,
            (_, DialectBlock::Both) => {
                portable.push_str(line);
                portable.push('\n');
            }
            (_, DialectBlock::Sqlite) => {}
            (_, DialectBlock::Postgres) => {
                if let Some(code) = line.strip_prefix("--pg") {
                    out.push_str(&portable_to_postgres(&std::mem::take(&mut portable)));
                    out.push_str(code.strip_prefix(' ').unwrap_or(code));
                    out.push('\n');
                }
            }
        }
    }
    out.push_str(&portable_to_postgres(&portable));
    out
}

/// Where a line of a migration stands, see [`postgres_dialect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DialectBlock {
    Both,
    Sqlite,
    Postgres,
}

/// Substitutions 1 to 3 of [`postgres_schema`] on portable statements,
/// comments dropped.
fn portable_to_postgres(sql: &str) -> String {
    let code: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    let code = code
        .replace(
            "INTEGER PRIMARY KEY",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        .replace("COLLATE binary", "COLLATE \"C\"");
    ascii_lower(&code)
}

/// Adds `COLLATE "C"` to the argument of every `lower(...)` in `sql`.
fn ascii_lower(sql: &str) -> String {
    const CALL: &str = "lower(";
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(start) = rest.find(CALL) {
        let open = start + CALL.len();
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let mut depth = 1;
        let close = rest
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(rest.len(), |(i, _)| i);
        out.push_str(&rest[..close]);
        out.push_str(" COLLATE \"C\"");
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

// ------------------------------------------------------------------ errors

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        if let Some(db) = e.as_db_error()
            && *db.code() == SqlState::UNIQUE_VIOLATION
        {
            return StoreError::Conflict {
                field: conflict_field(db.constraint(), db.detail()),
            };
        }
        if is_connection_lost(&e) {
            return StoreError::Unavailable(Box::new(e));
        }
        StoreError::Backend(Box::new(e))
    }
}

/// Whether `e` says the server is gone rather than that the statement
/// failed: the connection is closed, its socket failed, or the server
/// ended the session because it is shutting down or starting (class 57P),
/// or refused or lost the connection (class 08).
fn is_connection_lost(e: &postgres::Error) -> bool {
    if let Some(code) = e.code() {
        return is_shutdown_state(code.code());
    }
    e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>())
}

/// The SQLSTATEs of a server that ends or refuses sessions: connection
/// exceptions (08xxx), admin or crash shutdown and "cannot connect now"
/// (57P01 to 57P03), too many connections (53300).
fn is_shutdown_state(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

fn backend(e: impl Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// No pooled connection became free, and no new one could be made, within
/// [`CONNECT_TIMEOUT`]: the server is down, or every connection is busy.
fn unavailable(e: r2d2::Error) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// The field a unique violation names: the mapped field of an expression
/// index, else the first column of the key in the detail, which reads
/// `Key (column)=(value) already exists.`
fn conflict_field(constraint: Option<&str>, detail: Option<&str>) -> String {
    if let Some(field) = constraint.and_then(sql::field_of_index) {
        return field.to_owned();
    }
    let column = detail
        .and_then(|d| d.strip_prefix("Key ("))
        .and_then(|d| d.split(")=").next())
        .and_then(|d| d.split(',').next())
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.contains('('));
    column.or(constraint).unwrap_or("unknown").to_owned()
}

/// A domain rule the store refused to break.
fn rule(e: impl fmt::Display) -> StoreError {
    StoreError::Rule(e.to_string())
}

// -------------------------------------------------------------------- rows

impl Columns for Row {
    type Error = StoreError;

    fn int(&self, name: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(name)?)
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(name)?)
    }

    fn count(&self, name: &str) -> Result<u32, StoreError> {
        let n: i32 = self.try_get(name)?;
        u32::try_from(n).map_err(|e| self.invalid(name, Box::new(e)))
    }

    fn text(&self, name: &str) -> Result<String, StoreError> {
        Ok(self.try_get(name)?)
    }

    fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(name)?)
    }

    fn flag(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(name)?)
    }

    fn invalid(&self, name: &str, cause: Box<dyn Error + Send + Sync>) -> StoreError {
        StoreError::Backend(Box::new(InvalidColumn {
            column: name.to_owned(),
            cause,
        }))
    }
}

/// Every row of a query, converted by `convert`.
fn query_all<T>(
    c: &mut impl GenericClient,
    sql: &str,
    params: Params<'_>,
    convert: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    c.query(sql, params)?.iter().map(convert).collect()
}

/// The one row of a query, if there is one, converted by `convert`.
fn query_opt<T>(
    c: &mut impl GenericClient,
    sql: &str,
    params: Params<'_>,
    convert: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    c.query_opt(sql, params)?.as_ref().map(convert).transpose()
}

/// A `COUNT(*)` or other BIGINT result that cannot be negative.
fn query_count(
    c: &mut impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, StoreError> {
    let n: i64 = c.query_one(sql, params)?.try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::SCHEMA;

    #[test]
    fn shutdown_and_connection_states_mean_unavailable() {
        for code in ["08006", "08001", "57P01", "57P02", "57P03", "53300"] {
            assert!(is_shutdown_state(code), "{code}");
        }
        for code in ["23505", "40001", "42P01", "57014"] {
            assert!(!is_shutdown_state(code), "{code}");
        }
    }

    #[test]
    fn migrations_go_through_the_schema_rewrite_without_the_function() {
        let sql = "-- why\nCREATE INDEX x ON people (lower(email));\n";
        assert_eq!(
            postgres_dialect(sql),
            "CREATE INDEX x ON people (lower(email COLLATE \"C\"));\n"
        );
        assert!(postgres_schema(SCHEMA).starts_with(FOLD_FUNCTION));
        assert!(!postgres_dialect(SCHEMA).contains("hit_fold(value text)"));
    }

    #[test]
    fn dialect_blocks_drop_sqlite_and_keep_postgres_lines_as_written() {
        let sql = "CREATE INDEX a ON t (lower(x));\n\
                   -- sqlite-only begin\n\
                   CREATE VIRTUAL TABLE s USING fts5 (x);\n\
                   -- sqlite-only end\n\
                   -- postgres-only begin\n\
                   -- a comment\n\
                   --pg SELECT lower(y COLLATE \"und-x-icu\");\n\
                   -- postgres-only end\n\
                   CREATE TABLE u (id INTEGER PRIMARY KEY);\n";
        assert_eq!(
            postgres_dialect(sql),
            "CREATE INDEX a ON t (lower(x COLLATE \"C\"));\n\
             SELECT lower(y COLLATE \"und-x-icu\");\n\
             CREATE TABLE u (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);\n"
        );
    }

    #[test]
    fn schema_rewrite_names_each_dialect_difference() {
        let pg = postgres_schema(SCHEMA);
        assert!(pg.starts_with("CREATE FUNCTION hit_fold"));
        assert!(!pg.contains("--"), "comments are dropped");
        assert!(!pg.contains("INTEGER PRIMARY KEY"));
        assert!(!pg.contains("COLLATE binary"));
        assert!(pg.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"));
        assert!(pg.contains("path TEXT COLLATE \"C\" NOT NULL"));
        assert!(pg.contains("version INTEGER NOT NULL PRIMARY KEY"));
        assert!(pg.contains("ON people (lower(email COLLATE \"C\"))"));
        assert!(pg.contains("lower(coalesce(last_name, '') COLLATE \"C\"),"));
    }

    #[test]
    fn every_lower_gets_the_ascii_collation_around_nested_calls() {
        assert_eq!(
            ascii_lower("x(lower(a), lower(f(b, c)), hit_fold(d))"),
            "x(lower(a COLLATE \"C\"), lower(f(b, c) COLLATE \"C\"), hit_fold(d))"
        );
        assert_eq!(ascii_lower("no call"), "no call");
    }

    #[test]
    fn conflict_names_the_mapped_index_or_the_key_column() {
        assert_eq!(
            conflict_field(
                Some("people_email_key"),
                Some("Key (lower(email::text))=(a@b) already exists.")
            ),
            "email"
        );
        assert_eq!(
            conflict_field(
                Some("sessions_pkey"),
                Some("Key (token_hash)=(hash-1) already exists.")
            ),
            "token_hash"
        );
        assert_eq!(
            conflict_field(Some("t_a_b_key"), Some("Key (a, b)=(1, 2) already exists.")),
            "a"
        );
        assert_eq!(
            conflict_field(Some("odd_idx"), Some("Key (lower(x))=(y) already exists.")),
            "odd_idx"
        );
        assert_eq!(conflict_field(None, None), "unknown");
    }

    #[test]
    fn addresses_name_host_and_port_but_no_credentials() {
        let config: postgres::Config = "postgres://hit:secret@db.example:6543/hit"
            .parse()
            .expect("url");
        assert_eq!(address(&config), "db.example:6543");
        let config: postgres::Config = "postgresql://u@127.0.0.1/x".parse().expect("url");
        assert_eq!(address(&config), "127.0.0.1:5432");
    }

    fn org() -> Arc<Organisation> {
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n";
        Arc::new(Organisation::from_toml(src, "t.toml").expect("org"))
    }

    /// A fresh schema of `HIT_TEST_POSTGRES_URL`, or none (the test is
    /// then skipped).
    fn schema() -> Option<TestSchema> {
        let base = std::env::var("HIT_TEST_POSTGRES_URL").ok()?;
        Some(TestSchema::create(&base).expect("a test schema"))
    }

    fn execute(url: &str, sql: &str) {
        let mut client = url
            .parse::<postgres::Config>()
            .expect("url")
            .connect(NoTls)
            .expect("connected");
        client.batch_execute(sql).expect("executed");
    }

    #[test]
    fn email_keys_are_lower_case_and_never_hold_a_nul() {
        assert_eq!(
            people::email_key(" Änne@X.example "),
            Some("änne@x.example".to_owned())
        );
        assert_eq!(people::email_key("a\0@x.example"), None);
    }

    #[test]
    fn empty_schema_gets_the_tables_once_even_when_two_open_it_at_once() {
        let Some(schema) = schema() else { return };
        std::thread::scope(|s| {
            let a = s.spawn(|| PostgresStore::open(schema.url(), org()).map(drop));
            let b = s.spawn(|| PostgresStore::open(schema.url(), org()).map(drop));
            a.join().expect("a").expect("first opened");
            b.join().expect("b").expect("second opened");
        });
        PostgresStore::open(schema.url(), org()).expect("reopened");
    }

    #[test]
    fn database_of_another_version_or_program_is_refused() {
        let Some(newer) = schema() else { return };
        drop(PostgresStore::open(newer.url(), org()).expect("created"));
        execute(
            newer.url(),
            "INSERT INTO schema_migrations (version) VALUES (99)",
        );
        let e = PostgresStore::open(newer.url(), org()).expect_err("refused");
        assert!(
            matches!(&e, StoreError::Rule(m) if m.contains("version 99")),
            "{e}"
        );

        let Some(foreign) = schema() else { return };
        execute(foreign.url(), "CREATE TABLE users (id BIGINT PRIMARY KEY)");
        let e = PostgresStore::open(foreign.url(), org()).expect_err("refused");
        assert!(
            matches!(&e, StoreError::Rule(m) if m.contains("schema_migrations")),
            "{e}"
        );
    }

    #[test]
    fn unreachable_server_fails_at_once_naming_the_address() {
        // Port 1 on the loopback interface: nothing listens there.
        let started = std::time::Instant::now();
        let e = PostgresStore::open("postgres://hit:secret@127.0.0.1:1/x", org())
            .expect_err("nothing listens");
        assert!(started.elapsed() < CONNECT_TIMEOUT * 2);
        let StoreError::Backend(source) = &e else {
            panic!("expected a backend error: {e:?}");
        };
        let failed = source
            .downcast_ref::<CannotConnect>()
            .expect("cannot connect");
        assert_eq!(failed.address, "127.0.0.1:1");
        assert!(failed.to_string().contains("refused"), "{failed}");
        assert!(!format!("{e:?}").contains("secret"));
    }
}
