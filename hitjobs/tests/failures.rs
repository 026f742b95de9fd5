//! Failed attempts on the real stores: a job that always fails backs off
//! as configured and ends failed after its maximum attempts (on a manual
//! clock, without waiting); a panicking handler fails its attempt and the
//! worker goes on; a job of a kind nobody runs fails with a clear error.

mod common;

use std::sync::{Arc, mpsc};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::Db;
use hitcore::jobs::{Backoff, JobKind, JobState, NewJob};
use hitcore::store::Store;
use hitjobs::clock::ManualClock;
use hitjobs::{JobContext, Registry, Worker, WorkerOptions};
use serde::{Deserialize, Serialize};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0)
        .single()
        .expect("a valid time")
}

/// Always fails.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Refused {
    to: String,
}

impl JobKind for Refused {
    const KIND: &'static str = "test.refused";
    const MAX_RUN: Duration = Duration::from_secs(60);
    const MAX_ATTEMPTS: u32 = 4;
}

/// Panics.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Panics {}

impl JobKind for Panics {
    const KIND: &'static str = "test.panics";
    const MAX_RUN: Duration = Duration::from_secs(60);
}

/// Says that it ran.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Fine {}

impl JobKind for Fine {
    const KIND: &'static str = "test.fine";
    const MAX_RUN: Duration = Duration::from_secs(60);
}

fn options(backoff: Backoff) -> WorkerOptions {
    WorkerOptions {
        backoff,
        host: "test".to_owned(),
        ..WorkerOptions::with_concurrency(1)
    }
}

#[test]
fn a_job_that_always_fails_backs_off_as_configured_and_ends_failed() {
    common::init_test_tracing();
    for db in Db::each() {
        let mut registry: Registry<dyn Store> = Registry::new();
        registry.register(|job: Refused, _ctx: &JobContext<'_, dyn Store>| {
            anyhow::bail!("{} refused the message", job.to)
        });
        let clock = Arc::new(ManualClock::new(t0()));
        let backoff = Backoff {
            base: Duration::from_secs(30),
            max: Duration::from_secs(100),
        };
        let worker = Worker::new(Arc::clone(&db.store), registry, options(backoff))
            .with_clock(clock.clone())
            .inline()
            .expect("registered");
        let payload = Refused {
            to: "mx.example.org".to_owned(),
        };
        let id = db
            .store
            .enqueue(&NewJob::of(&payload, t0()).expect("a payload"), t0())
            .expect("enqueued")
            .expect("an id");

        // 30 s, 60 s, then capped at 100 s; the fourth attempt is the last.
        let mut due = t0();
        for (attempt, wait) in [(1, 30), (2, 60), (3, 100)] {
            clock.set(due);
            assert_eq!(worker.run_due().expect("ran").failed, 1, "{}", db.name);
            let job = db.store.job(id).expect("read").expect("kept");
            assert_eq!(job.attempts, attempt, "{}", db.name);
            assert_eq!(job.state(), JobState::Pending, "{}", db.name);
            assert_eq!(job.run_at, due + TimeDelta::seconds(wait), "{}", db.name);

            clock.set(job.run_at - TimeDelta::seconds(1));
            assert_eq!(
                worker.run_due().expect("ran").failed,
                0,
                "{}: not due",
                db.name
            );
            due = job.run_at;
        }
        clock.set(due);
        assert_eq!(worker.run_due().expect("ran").failed, 1, "{}", db.name);

        let job = db.store.job(id).expect("read").expect("kept");
        assert_eq!(job.state(), JobState::Failed, "{}", db.name);
        assert_eq!(job.attempts, 4, "{}", db.name);
        assert_eq!(job.failed_at, Some(due), "{}", db.name);
        assert_eq!(
            job.last_error.as_deref(),
            Some("mx.example.org refused the message"),
            "{}",
            db.name
        );
        clock.advance(Duration::from_secs(24 * 3600));
        assert_eq!(
            worker.run_due().expect("ran"),
            Default::default(),
            "{}",
            db.name
        );
        assert_eq!(
            db.store.failed_jobs(10).expect("failed").len(),
            1,
            "{}",
            db.name
        );
        worker.stop().expect("stopped");
    }
}

#[test]
fn a_panicking_handler_fails_its_attempt_and_the_worker_goes_on() {
    common::init_test_tracing();
    for db in Db::each() {
        let (tx, rx) = mpsc::sync_channel(10);
        let mut registry: Registry<dyn Store> = Registry::new();
        registry.register(|_: Panics, _ctx: &JobContext<'_, dyn Store>| {
            let rows: Vec<u32> = Vec::new();
            // An indexing bug in a handler, as it would happen.
            let _ = rows[3];
            Ok(())
        });
        registry.register(move |_: Fine, ctx: &JobContext<'_, dyn Store>| {
            let _ = tx.send(ctx.id());
            Ok(())
        });
        let now = Utc::now();
        let jobs = [
            NewJob::of(&Panics {}, now).expect("a payload"),
            NewJob::of(&Fine {}, now).expect("a payload"),
        ];
        let ids = db.store.enqueue_many(&jobs, now).expect("enqueued");
        // One runner: the job after the panic runs on the same thread. The
        // retry is an hour away, after the test.
        let hour = Duration::from_secs(3600);
        let backoff = Backoff {
            base: hour,
            max: hour,
        };
        let handle = Worker::new(Arc::clone(&db.store), registry, options(backoff))
            .start()
            .expect("started");

        let fine = rx.recv_timeout(common::PATIENCE).expect("the next job ran");
        handle.shutdown();

        assert_eq!(fine, ids[1]);
        let panicked = db.store.job(ids[0]).expect("read").expect("kept");
        assert_eq!(
            panicked.state(),
            JobState::Pending,
            "{}: retried later",
            db.name
        );
        assert_eq!(panicked.attempts, 1, "{}", db.name);
        let error = panicked.last_error.expect("the panic is recorded");
        assert!(
            error.starts_with("the handler panicked: index out of bounds"),
            "{error}"
        );
        let fine = db.store.job(ids[1]).expect("read").expect("kept");
        assert_eq!(fine.state(), JobState::Succeeded, "{}", db.name);
    }
}

#[test]
fn a_job_of_a_kind_this_worker_does_not_run_fails_with_a_clear_error() {
    common::init_test_tracing();
    for db in Db::each() {
        let mut registry: Registry<dyn Store> = Registry::new();
        registry.register(|_: Fine, _ctx: &JobContext<'_, dyn Store>| Ok(()));
        let worker = Worker::new(Arc::clone(&db.store), registry, options(Backoff::default()))
            .with_clock(Arc::new(ManualClock::new(t0())))
            .inline()
            .expect("registered");
        let mut unknown = NewJob::of(&Fine {}, t0()).expect("a payload");
        unknown.kind = "people.teleport".to_owned();
        let id = db
            .store
            .enqueue(&unknown, t0())
            .expect("enqueued")
            .expect("an id");

        assert_eq!(worker.run_due().expect("ran").failed, 1, "{}", db.name);

        let job = db.store.job(id).expect("read").expect("kept");
        let error = job.last_error.expect("an error");
        assert_eq!(
            error,
            "no handler for the job kind `people.teleport` in this worker (it runs: test.fine)"
        );
    }
}
