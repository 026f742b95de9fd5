//! The PostgreSQL store while its server goes away and comes back: calls
//! fail fast with [`StoreError::Unavailable`] (never a hang, never a plain
//! backend error), and succeed again once the server is back, on the same
//! store, without reopening it.
//!
//! The test runs a private cluster of its own (initdb into a temporary
//! folder, a free port on 127.0.0.1), because it stops and starts the
//! server; the shared server on 5432 is never touched. It needs the
//! PostgreSQL server binaries and runs only when `HIT_TEST_PG_RESTART=1`
//! (`.ci/run` sets it); otherwise it prints a note and passes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hitcore::store::postgres::PostgresStore;
use hitcore::store::{GroupRepo, PersonRepo, StoreError};

use common::org;

/// How long a call may take to report that the server is gone: the store's
/// connect timeout (3 s) and some slack for a loaded machine.
const FAIL_FAST: Duration = Duration::from_secs(10);

/// A PostgreSQL cluster in a temporary folder, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Whether the commands run as `postgres` (initdb refuses root).
    is_root: bool,
}

impl Cluster {
    /// Creates the cluster (initdb) without starting it.
    fn init() -> Cluster {
        let bin = server_binaries();
        let dir = tempfile::tempdir().expect("temp dir");
        let is_root = output(Command::new("id").arg("-u")).trim() == "0";
        if is_root {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(chown.success(), "chown of {}", dir.path().display());
        }
        let port = free_port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            is_root,
        };
        let data = cluster.data().display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs a server binary (as `postgres` when we are root) and waits.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if self.is_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd.args(args).output().expect("server binary runs");
        assert!(
            out.status.success(),
            "{program} {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let data = self.data().display().to_string();
        let socket_dir = self.dir.path().display().to_string();
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
        );
    }

    /// Stops the server: `fast` ends the sessions politely (they get
    /// "terminating connection due to administrator command"),
    /// `immediate` kills it as a crash would.
    fn stop(&self, mode: &str) {
        let data = self.data().display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-m", mode, "-w", "-t", "60", "stop"],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let data = self.data().display().to_string();
            let path = self.bin.join("pg_ctl");
            let mut cmd = if self.is_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&path);
                c
            } else {
                Command::new(&path)
            };
            let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
        }
    }
}

/// The folder of `initdb` and `pg_ctl`: `PG_BIN` if set, else that of the
/// newest version under /usr/lib/postgresql.
fn server_binaries() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}; install the postgresql package", root.display()))
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("a PostgreSQL version with initdb under /usr/lib/postgresql")
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").port()
}

fn is_enabled() -> bool {
    if std::env::var("HIT_TEST_PG_RESTART").as_deref() == Ok("1") {
        return true;
    }
    eprintln!(
        "note: HIT_TEST_PG_RESTART is not 1: the PostgreSQL restart test is skipped \
         (it runs a private cluster with initdb and pg_ctl)"
    );
    false
}

/// The call fails quickly, and as `Unavailable`.
fn assert_unavailable_fast<T: std::fmt::Debug>(
    what: &str,
    call: impl FnOnce() -> Result<T, StoreError>,
) {
    let started = Instant::now();
    let outcome = call();
    let took = started.elapsed();
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{what}: expected Unavailable, got {outcome:?}"
    );
    assert!(took < FAIL_FAST, "{what} took {took:?}");
}

#[test]
fn store_fails_fast_while_the_server_is_down_and_recovers_by_itself() {
    if !is_enabled() {
        return;
    }
    let cluster = Cluster::init();
    cluster.start();
    let store = PostgresStore::open(&cluster.url(), org()).expect("opened");
    assert_eq!(store.person_count().expect("reads"), 0);

    for mode in ["fast", "immediate"] {
        // Calls on another thread while the server goes: each either
        // succeeds or reports Unavailable, none fails otherwise.
        let is_stopping = AtomicBool::new(true);
        let in_flight = std::thread::scope(|s| {
            let caller = s.spawn(|| {
                let mut seen = Vec::new();
                while is_stopping.load(Ordering::SeqCst) {
                    seen.push(store.all_groups().map(drop));
                }
                seen
            });
            std::thread::sleep(Duration::from_millis(50));
            cluster.stop(mode);
            is_stopping.store(false, Ordering::SeqCst);
            caller.join().expect("caller")
        });
        for outcome in &in_flight {
            assert!(
                matches!(outcome, Ok(()) | Err(StoreError::Unavailable(_))),
                "stop -m {mode}: a call in flight failed otherwise: {outcome:?}"
            );
        }

        assert_unavailable_fast("a read", || store.person_count());
        assert_unavailable_fast("a second read", || store.all_groups());

        cluster.start();
        assert_eq!(
            store.person_count().expect("the same store reads again"),
            0,
            "after stop -m {mode}"
        );
        store.all_groups().expect("and again");
    }
}

#[test]
fn statement_cut_off_by_a_shutdown_is_unavailable() {
    if !is_enabled() {
        return;
    }
    let cluster = Cluster::init();
    cluster.start();
    let mut client = postgres::Client::connect(&cluster.url(), postgres::NoTls).expect("connected");
    let outcome = std::thread::scope(|s| {
        let sleeper = s.spawn(move || client.batch_execute("SELECT pg_sleep(60)"));
        std::thread::sleep(Duration::from_millis(300));
        cluster.stop("fast");
        sleeper.join().expect("sleeper")
    });
    let e = outcome.expect_err("the shutdown ends the statement");
    let mapped = StoreError::from(e);
    assert!(
        matches!(mapped, StoreError::Unavailable(_)),
        "expected Unavailable: {mapped:?}"
    );
}
