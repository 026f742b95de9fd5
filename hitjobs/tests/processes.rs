//! Worker processes on one database: many jobs over several processes run
//! exactly once; a process killed with -9 delays its job, never loses it;
//! SIGTERM lets a running job finish within the grace period, or puts it
//! back in the queue.
//!
//! The processes are this test binary, started again (see
//! `common::ChildWorker`), so the test kinds stay out of the production
//! binary.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ChildSpec, ChildWorker, Count, Db, wait_until};
use hitcore::JobId;
use hitcore::jobs::{JobState, NewJob};
use hitjobs::{Worker, WorkerOptions};

/// Not a test of its own: the worker process the other tests start.
#[test]
#[ignore = "the worker process the other tests of this file start"]
fn worker_process() {
    common::child_main();
}

fn every_job_runs_exactly_once(db: &Db, jobs: usize, processes: usize) {
    let new: Vec<NewJob> = (0..jobs)
        .map(|_| NewJob::of(&Count {}, chrono::Utc::now()).expect("a payload"))
        .collect();
    let ids = db
        .store
        .enqueue_many(&new, chrono::Utc::now())
        .expect("enqueued");
    assert_eq!(ids.len(), jobs);

    let children: Vec<ChildWorker> = (0..processes)
        .map(|_| ChildWorker::start(db, &ChildSpec::default()))
        .collect();
    wait_until("every job is done", || {
        db.store.open_job_count().expect("count") == 0
    });
    for child in &children {
        child.terminate();
    }
    for child in children {
        child.wait_for_success();
    }

    let runs = db.runs.per_job();
    assert_eq!(runs.len(), jobs, "{}: every job ran", db.name);
    let twice: Vec<_> = runs.iter().filter(|(_, n, _)| *n != 1).collect();
    assert!(
        twice.is_empty(),
        "{}: jobs ran more than once: {twice:?}",
        db.name
    );
    let mut ran: Vec<i64> = runs.iter().map(|(id, _, _)| *id).collect();
    let mut enqueued: Vec<i64> = ids.iter().map(|id| id.0).collect();
    ran.sort_unstable();
    enqueued.sort_unstable();
    assert_eq!(
        ran, enqueued,
        "{}: the jobs that ran are the enqueued ones",
        db.name
    );
    assert_eq!(
        db.store.open_job_count().expect("count"),
        0,
        "{}: none left",
        db.name
    );
    assert!(
        db.store.failed_jobs(10).expect("failed jobs").is_empty(),
        "{}",
        db.name
    );
}

#[test]
fn ten_thousand_jobs_over_four_processes_on_postgres_run_exactly_once() {
    common::init_test_tracing();
    let Some(db) = Db::postgres() else {
        return;
    };
    every_job_runs_exactly_once(&db, 10_000, 4);
}

#[test]
fn ten_thousand_jobs_over_two_processes_on_one_sqlite_file_run_exactly_once() {
    common::init_test_tracing();
    every_job_runs_exactly_once(&Db::sqlite(), 10_000, 2);
}

/// The job a test follows, as stored now.
fn job(db: &Db, id: JobId) -> hitcore::jobs::Job {
    db.store.job(id).expect("read").expect("the job is kept")
}

#[test]
fn a_job_whose_worker_was_killed_is_taken_back_after_its_maximum_run_time() {
    common::init_test_tracing();
    for db in Db::each() {
        let id = db
            .store
            .enqueue(&common::slow(600_000, 0, 2), chrono::Utc::now())
            .expect("enqueued")
            .expect("an id");
        let mut doomed = ChildWorker::start(&db, &ChildSpec::default());
        wait_until("the job started", || db.runs.started() == 1);
        doomed.kill_hard();
        assert_eq!(job(&db, id).state(), JobState::Running, "{}", db.name);

        let rescuer = ChildWorker::start(
            &db,
            &ChildSpec {
                recover_every: Duration::from_millis(100),
                ..ChildSpec::default()
            },
        );
        wait_until("the job is done", || {
            job(&db, id).state() == JobState::Succeeded
        });
        rescuer.terminate();
        rescuer.wait_for_success();

        let done = job(&db, id);
        assert_eq!(done.attempts, 2, "{}: the killed attempt counts", db.name);
        let runs = db.runs.per_job();
        assert_eq!(
            runs,
            [(id.0, 2, 1)],
            "{}: one run killed, one finished",
            db.name
        );
    }
}

#[test]
fn sigterm_lets_a_running_job_finish_within_the_grace_period() {
    common::init_test_tracing();
    for db in Db::each() {
        let id = db
            .store
            .enqueue(&common::slow(1_500, 0, 600), chrono::Utc::now())
            .expect("enqueued")
            .expect("an id");
        let worker = ChildWorker::start(&db, &ChildSpec::default());
        wait_until("the job started", || db.runs.started() == 1);

        worker.terminate();
        worker.wait_for_success();

        assert_eq!(job(&db, id).state(), JobState::Succeeded, "{}", db.name);
        assert_eq!(db.runs.per_job(), [(id.0, 1, 1)], "{}", db.name);
    }
}

#[test]
fn sigterm_releases_a_job_that_outlasts_the_grace_period_and_it_runs_later() {
    common::init_test_tracing();
    for db in Db::each() {
        let id = db
            .store
            .enqueue(&common::slow(600_000, 0, 600), chrono::Utc::now())
            .expect("enqueued")
            .expect("an id");
        let worker = ChildWorker::start(
            &db,
            &ChildSpec {
                grace: Duration::from_millis(300),
                ..ChildSpec::default()
            },
        );
        wait_until("the job started", || db.runs.started() == 1);

        worker.terminate();
        worker.wait_for_success();

        let released = job(&db, id);
        assert_eq!(released.state(), JobState::Pending, "{}", db.name);
        assert_eq!(
            released.attempts, 0,
            "{}: the released attempt is not counted",
            db.name
        );

        let registry = common::registry(Arc::clone(&db.runs));
        let inline = Worker::new(Arc::clone(&db.store), registry, WorkerOptions::default())
            .inline()
            .expect("registered");
        assert_eq!(inline.run_due().expect("ran").succeeded, 1, "{}", db.name);
        assert_eq!(job(&db, id).state(), JobState::Succeeded, "{}", db.name);
        assert_eq!(db.runs.per_job(), [(id.0, 2, 1)], "{}", db.name);
    }
}
