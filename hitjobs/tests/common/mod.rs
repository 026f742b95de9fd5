//! What the worker tests share: databases on both backends, a table in
//! which test jobs count their runs, the test job kinds with their
//! handlers, and worker processes that are this test binary started again.
//!
//! # Worker processes
//!
//! A test that needs real processes (to kill one with -9, or to send it
//! SIGTERM) starts `current_exe()` with `--exact worker_process --ignored`
//! and says in [`CHILD`] and the other `HITJOBS_TEST_*` variables what to
//! do. The child registers the test kinds below, so they never reach the
//! production binary. Each test binary that starts children must define
//! that ignored test as `fn worker_process() { common::child_main() }`.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hitcore::Organisation;
use hitcore::jobs::{JobKind, NewJob};
use hitcore::store::Store;
use hitjobs::{JobContext, Registry, Worker, WorkerOptions};
use serde::{Deserialize, Serialize};

/// How long a test waits for something that should happen within a few
/// seconds before it fails: generous, because both cores may be busy
/// building or running other tests.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// What a child process is to do; its presence makes it a child.
pub const CHILD: &str = "HITJOBS_TEST_CHILD";
const DB: &str = "HITJOBS_TEST_DB";
const RUNS: &str = "HITJOBS_TEST_RUNS";
const CONCURRENCY: &str = "HITJOBS_TEST_CONCURRENCY";
const BATCH: &str = "HITJOBS_TEST_BATCH";
const GRACE_MS: &str = "HITJOBS_TEST_GRACE_MS";
const RECOVER_MS: &str = "HITJOBS_TEST_RECOVER_MS";

pub fn init_test_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
}

/// What `f` logs on this thread at info and above, as text: for the
/// tests that check what the log leaves out.
pub fn log_of(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            kept.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter("info")
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = captured.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The demo organisation (the worker tests need one to open a store, and
/// none of its content).
/// A storage in memory, gone with the process.
pub fn storage() -> hitcore::storage::Storage {
    hitcore::storage::Storage::open(&hitcore::storage::StorageLocation::Memory)
        .expect("a memory storage")
}

pub fn org() -> Arc<Organisation> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/demo-federation.toml"
    );
    let src = std::fs::read_to_string(path).expect("the demo definition");
    Arc::new(Organisation::from_toml(&src, path).expect("the demo definition loads"))
}

// ------------------------------------------------------------- databases

/// A database for one test, with the store on it and the table the test
/// jobs count their runs in; removed with the value.
pub struct Db {
    pub name: &'static str,
    /// The store's URL, for child processes.
    pub url: String,
    /// The run table's URL (another SQLite file, or the same schema).
    pub runs_url: String,
    pub store: Arc<dyn Store>,
    /// The run table, as this process sees it.
    pub runs: Arc<Runs>,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<hitcore::store::postgres::TestSchema>,
}

impl Db {
    /// A SQLite file of its own.
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
        let runs_url = dir.path().join("runs.db").display().to_string();
        let store = hitcore::store::open(&url, org()).expect("the SQLite store");
        let runs = Arc::new(Runs::open(&runs_url));
        runs.create();
        Db {
            name: "sqlite",
            url,
            runs_url,
            store,
            runs,
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// A fresh schema in the database `HIT_TEST_POSTGRES_URL` names, or
    /// none (with a note) when it is unset.
    pub fn postgres() -> Option<Db> {
        let Some(base) = std::env::var("HIT_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        else {
            eprintln!("note: HIT_TEST_POSTGRES_URL is not set: the PostgreSQL case is skipped");
            return None;
        };
        let schema =
            hitcore::store::postgres::TestSchema::create(&base).expect("a fresh test schema");
        let url = schema.url().to_owned();
        let store = hitcore::store::open(&url, org()).expect("the PostgreSQL store");
        let runs = Arc::new(Runs::open(&url));
        runs.create();
        Some(Db {
            name: "postgres",
            runs_url: url.clone(),
            url,
            store,
            runs,
            _dir: None,
            _schema: Some(schema),
        })
    }

    /// Both backends (PostgreSQL when configured).
    pub fn each() -> Vec<Db> {
        let mut all = vec![Db::sqlite()];
        all.extend(Db::postgres());
        all
    }
}

/// The table test jobs write a row into each time they start.
pub enum Runs {
    Sqlite(r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>),
    Postgres(r2d2::Pool<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>),
}

impl Runs {
    pub fn open(url: &str) -> Runs {
        if url.starts_with("postgres") {
            let config: postgres::Config = url.parse().expect("a PostgreSQL URL");
            let manager = r2d2_postgres::PostgresConnectionManager::new(config, postgres::NoTls);
            Runs::Postgres(pool(manager))
        } else {
            let manager = r2d2_sqlite::SqliteConnectionManager::file(url).with_init(|c| {
                c.busy_timeout(Duration::from_secs(30))?;
                c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            });
            Runs::Sqlite(pool(manager))
        }
    }

    fn create(&self) {
        match self {
            Runs::Sqlite(p) => p
                .get()
                .expect("a connection")
                .execute_batch(
                    "CREATE TABLE runs (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, \
                     pid INTEGER NOT NULL, is_finished INTEGER NOT NULL DEFAULT 0)",
                )
                .expect("the run table"),
            Runs::Postgres(p) => p
                .get()
                .expect("a connection")
                .batch_execute(
                    "CREATE TABLE runs (id BIGSERIAL PRIMARY KEY, job_id BIGINT NOT NULL, \
                     pid BIGINT NOT NULL, is_finished BOOLEAN NOT NULL DEFAULT false)",
                )
                .expect("the run table"),
        }
    }

    /// Records a start of `job`; returns the run's id and how many times
    /// the job had started before.
    pub fn start(&self, job: i64) -> anyhow::Result<(i64, i64)> {
        let pid = i64::from(std::process::id());
        match self {
            Runs::Sqlite(p) => {
                let c = p.get()?;
                let before: i64 =
                    c.query_row("SELECT count(*) FROM runs WHERE job_id = ?1", [job], |r| {
                        r.get(0)
                    })?;
                c.execute("INSERT INTO runs (job_id, pid) VALUES (?1, ?2)", [job, pid])?;
                Ok((c.last_insert_rowid(), before))
            }
            Runs::Postgres(p) => {
                let mut c = p.get()?;
                let row = c.query_one(
                    "WITH before AS (SELECT count(*) AS n FROM runs WHERE job_id = $1) \
                     INSERT INTO runs (job_id, pid) VALUES ($1, $2) \
                     RETURNING id, (SELECT n FROM before)",
                    &[&job, &pid],
                )?;
                Ok((row.get(0), row.get(1)))
            }
        }
    }

    pub fn finish(&self, run: i64) -> anyhow::Result<()> {
        match self {
            Runs::Sqlite(p) => {
                p.get()?
                    .execute("UPDATE runs SET is_finished = 1 WHERE id = ?1", [run])?;
            }
            Runs::Postgres(p) => {
                p.get()?
                    .execute("UPDATE runs SET is_finished = true WHERE id = $1", &[&run])?;
            }
        }
        Ok(())
    }

    /// (job id, runs, finished runs) for every job that ran, by job id.
    pub fn per_job(&self) -> Vec<(i64, i64, i64)> {
        let sql = "SELECT job_id, count(*), sum(CASE WHEN is_finished THEN 1 ELSE 0 END) \
                   FROM runs GROUP BY job_id ORDER BY job_id";
        match self {
            Runs::Sqlite(p) => {
                let c = p.get().expect("a connection");
                let mut stmt = c.prepare(sql).expect("the query");
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .expect("rows")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Runs::Postgres(p) => p
                .get()
                .expect("a connection")
                .query(sql, &[])
                .expect("rows")
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect(),
        }
    }

    /// How many runs started, in all.
    pub fn started(&self) -> i64 {
        self.per_job().iter().map(|(_, n, _)| n).sum()
    }
}

fn pool<M: r2d2::ManageConnection>(manager: M) -> r2d2::Pool<M> {
    r2d2::Pool::builder()
        .max_size(8)
        .min_idle(Some(1))
        .build(manager)
        .expect("a pool for the run table")
}

// ------------------------------------------------------------ test kinds

/// Counts its run and succeeds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Count {}

impl JobKind for Count {
    const KIND: &'static str = "test.count";
    const MAX_RUN: Duration = Duration::from_secs(600);
}

/// Counts its start, takes `first_ms` on its first start and `then_ms` on
/// later ones, and marks its run finished.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Slow {
    pub first_ms: u64,
    pub then_ms: u64,
}

impl JobKind for Slow {
    const KIND: &'static str = "test.slow";
    const MAX_RUN: Duration = Duration::from_secs(600);
}

/// The test kinds, counting in `runs`.
pub fn registry(runs: Arc<Runs>) -> Registry<dyn Store> {
    let mut registry = Registry::new();
    let counting = Arc::clone(&runs);
    registry.register(move |_: Count, ctx: &JobContext<'_, dyn Store>| {
        counting.start(ctx.id().0)?;
        Ok(())
    });
    registry.register(move |job: Slow, ctx: &JobContext<'_, dyn Store>| {
        let (run, before) = runs.start(ctx.id().0)?;
        let ms = if before == 0 {
            job.first_ms
        } else {
            job.then_ms
        };
        // The job's own work, in real time: what the worker around it
        // must cope with.
        std::thread::sleep(Duration::from_millis(ms));
        runs.finish(run)
    });
    registry
}

/// A `test.slow` job, with its maximum run time.
pub fn slow(first_ms: u64, then_ms: u64, max_run_secs: u32) -> NewJob {
    let job = NewJob::of(&Slow { first_ms, then_ms }, chrono::Utc::now()).expect("a payload");
    NewJob {
        max_run_secs,
        ..job
    }
}

// ------------------------------------------------------- worker processes

/// How a child worker runs.
#[derive(Clone, Debug)]
pub struct ChildSpec {
    pub concurrency: u32,
    /// Small by default, so that the processes claim often and their
    /// claims interleave.
    pub batch: u32,
    pub grace: Duration,
    pub recover_every: Duration,
}

impl Default for ChildSpec {
    fn default() -> ChildSpec {
        ChildSpec {
            concurrency: 4,
            batch: 16,
            grace: Duration::from_secs(30),
            recover_every: Duration::from_secs(15),
        }
    }
}

/// A worker process on `db`; killed with -9 if still running when
/// dropped.
pub struct ChildWorker {
    child: Child,
}

impl ChildWorker {
    pub fn start(db: &Db, spec: &ChildSpec) -> ChildWorker {
        let exe = std::env::current_exe().expect("the test binary");
        let child = Command::new(exe)
            .args(["--exact", "worker_process", "--ignored", "--nocapture"])
            .env(CHILD, "worker")
            .env(DB, &db.url)
            .env(RUNS, &db.runs_url)
            .env(CONCURRENCY, spec.concurrency.to_string())
            .env(BATCH, spec.batch.to_string())
            .env(GRACE_MS, spec.grace.as_millis().to_string())
            .env(RECOVER_MS, spec.recover_every.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("a worker process");
        ChildWorker { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("a pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    }

    /// Kills the process with SIGKILL, as `kill -9` does.
    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        let _ = self.child.wait();
    }

    /// Waits for the process to exit; fails the test unless it exits
    /// successfully within [`PATIENCE`].
    pub fn wait_for_success(mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                assert!(status.success(), "the worker process exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "the worker process did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildWorker {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `condition` until it holds; fails the test, naming `what`, after
/// [`PATIENCE`]. For what happens in other processes, which no clock of
/// this process can step.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The body of the ignored `worker_process` test: nothing in a normal
/// run; a worker until SIGTERM when started by [`ChildWorker::start`].
pub fn child_main() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter("warn")
        .try_init();
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
    let ms = |name: &str| Duration::from_millis(var(name).parse().expect("milliseconds"));
    let store = hitcore::store::open(&var(DB), org()).expect("the store");
    let runs = Arc::new(Runs::open(&var(RUNS)));
    let options = WorkerOptions {
        grace: ms(GRACE_MS),
        recover_every: ms(RECOVER_MS),
        // Only the maximum run time may take a job back in these tests.
        dead_after: Duration::from_secs(3600),
        poll: Duration::from_millis(200),
        batch: var(BATCH).parse().expect("a number"),
        ..WorkerOptions::with_concurrency(var(CONCURRENCY).parse().expect("a number"))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the signal handler");
    let mut signals = {
        let _entered = runtime.enter();
        hitjobs::shutdown::Signals::install().expect("signal handlers")
    };
    let handle = Worker::new(store, registry(runs), options)
        .start()
        .expect("the worker starts");
    runtime.block_on(signals.recv());
    handle.shutdown();
}
