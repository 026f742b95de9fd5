//! The `hitjobs` binary as an operator runs it: it refuses a database that
//! is behind this build, and otherwise runs jobs until SIGTERM, after
//! which it exits cleanly.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::wait_until;
use hitcore::jobs::{JobState, NewJob};
use hitcore::store::migration::LATEST_VERSION;
use hitjobs::jobs::Noop;

fn hitjobs() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hitjobs"));
    command
        .env_remove("HIT_ORG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

#[test]
fn the_binary_refuses_a_database_that_is_behind_and_says_what_to_run() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    if LATEST_VERSION == 1 {
        return;
    }
    hitcore::store::migrate_to(&url, LATEST_VERSION - 1).expect("an older database");

    let out = hitjobs()
        .env("DATABASE_URL", &url)
        .output()
        .expect("the binary runs");

    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL="), "{stderr}");
    assert!(stderr.contains("run `hitweb migrate`"), "{stderr}");
}

#[test]
fn the_binary_runs_jobs_and_exits_cleanly_on_sigterm() {
    let db = common::Db::sqlite();
    let now = chrono::Utc::now();
    let id = db
        .store
        .enqueue(&NewJob::of(&Noop {}, now).expect("a payload"), now)
        .expect("enqueued")
        .expect("an id");
    let mut child = hitjobs()
        .env("DATABASE_URL", &db.url)
        .args(["--concurrency", "2", "--grace-secs", "5"])
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");

    wait_until("the no-op job is done", || {
        let job = db.store.job(id).expect("read").expect("kept");
        job.state() == JobState::Succeeded
    });
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    let deadline = std::time::Instant::now() + common::PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the status") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the binary did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };

    assert!(status.success(), "{status}");
    // The recurring jobs it scheduled wait for the next worker.
    assert_eq!(db.store.open_job_count().expect("count"), 3);
}
