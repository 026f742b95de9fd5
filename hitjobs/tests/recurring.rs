//! Recurring jobs on the real stores: workers that start at the same time
//! leave exactly one pending instance of each schedule, and a finished
//! instance is followed by the next one.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::Db;
use hitcore::JobId;
use hitcore::jobs::{Job, JobState};
use hitcore::store::Store;
use hitjobs::clock::ManualClock;
use hitjobs::jobs::{self, Services};
use hitjobs::{Worker, WorkerOptions};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0)
        .single()
        .expect("a valid time")
}

/// Every job with an id up to `up_to` (a conflicting singleton insert may
/// use up an id on PostgreSQL, so the ids need not be dense).
fn jobs_up_to(store: &dyn Store, up_to: i64) -> Vec<Job> {
    (1..=up_to)
        .filter_map(|id| store.job(JobId(id)).expect("read"))
        .collect()
}

/// The pending jobs of each singleton key.
fn pending_by_key(jobs: &[Job]) -> BTreeMap<String, usize> {
    let mut by_key = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.state() == JobState::Pending) {
        let key = job.singleton_key.clone().unwrap_or_default();
        *by_key.entry(key).or_insert(0) += 1;
    }
    by_key
}

fn options() -> WorkerOptions {
    WorkerOptions {
        host: "test".to_owned(),
        ..WorkerOptions::with_concurrency(1)
    }
}

#[test]
fn two_workers_started_at_once_leave_one_pending_instance_of_each_schedule() {
    common::init_test_tracing();
    for db in Db::each() {
        let services = Services::new(common::org(), common::storage());
        let clock = Arc::new(ManualClock::new(t0()));
        // Two stores on one database, as two processes have.
        let stores: Vec<Arc<dyn Store>> = vec![
            Arc::clone(&db.store),
            hitcore::store::open(&db.url, common::org()).expect("a second store"),
        ];
        let start = Arc::new(Barrier::new(stores.len()));
        let starting: Vec<_> = stores
            .into_iter()
            .map(|store| {
                let worker = Worker::new(store, jobs::registry::<dyn Store>(&services), options())
                    .with_clock(clock.clone());
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    worker.start().expect("started")
                })
            })
            .collect();
        let handles: Vec<_> = starting
            .into_iter()
            .map(|t| t.join().expect("a worker started"))
            .collect();
        for handle in handles {
            handle.shutdown();
        }

        let all = jobs_up_to(&*db.store, 20);
        let expected: BTreeMap<String, usize> =
            ["jobs.cleanup", "mail.retrieve", "session.cleanup"]
                .into_iter()
                .map(|k| (k.to_owned(), 1))
                .collect();
        assert_eq!(pending_by_key(&all), expected, "{}", db.name);
        assert_eq!(all.len(), 3, "{}: nothing else was enqueued", db.name);
        assert_eq!(db.store.open_job_count().expect("count"), 3, "{}", db.name);
        let session = all
            .iter()
            .find(|j| j.kind == "session.cleanup")
            .expect("a session clean-up");
        assert_eq!(session.run_at, t0() + TimeDelta::minutes(10), "{}", db.name);
        let daily = all
            .iter()
            .find(|j| j.kind == "jobs.cleanup")
            .expect("a jobs clean-up");
        assert_eq!(
            daily.run_at,
            t0().date_naive()
                .and_hms_opt(3, 30, 0)
                .expect("a time")
                .and_utc()
                + TimeDelta::days(1),
            "{}",
            db.name
        );
    }
}

#[test]
fn a_finished_instance_is_followed_by_the_next_one() {
    common::init_test_tracing();
    for db in Db::each() {
        let services = Services::new(common::org(), common::storage());
        let clock = Arc::new(ManualClock::new(t0()));
        let worker = Worker::new(
            Arc::clone(&db.store),
            jobs::registry::<dyn Store>(&services),
            options(),
        )
        .with_clock(clock.clone())
        .inline()
        .expect("registered");

        clock.advance(Duration::from_secs(60));
        let ran = worker.run_due().expect("ran");
        assert_eq!(ran.succeeded, 1, "{}: the mail retrieval ran", db.name);

        let all = jobs_up_to(&*db.store, 20);
        let mail: Vec<&Job> = all.iter().filter(|j| j.kind == "mail.retrieve").collect();
        assert_eq!(mail.len(), 2, "{}", db.name);
        assert_eq!(mail[0].state(), JobState::Succeeded, "{}", db.name);
        assert_eq!(mail[1].state(), JobState::Pending, "{}", db.name);
        assert_eq!(mail[1].run_at, t0() + TimeDelta::minutes(2), "{}", db.name);
        assert_eq!(
            pending_by_key(&all).values().sum::<usize>(),
            3,
            "{}",
            db.name
        );
        worker.stop().expect("stopped");
    }
}

#[test]
fn a_restart_with_a_shorter_interval_brings_the_pending_instance_forward() {
    common::init_test_tracing();
    for db in Db::each() {
        let clock = Arc::new(ManualClock::new(t0()));
        let start = |retrieve_every: Duration| {
            let mut services = Services::new(common::org(), common::storage());
            services.mail.retrieve_every = retrieve_every;
            Worker::new(
                Arc::clone(&db.store),
                jobs::registry::<dyn Store>(&services),
                options(),
            )
            .with_clock(clock.clone())
            .inline()
            .expect("registered")
        };
        let retrieval = || {
            let all = jobs_up_to(&*db.store, 20);
            let pending: Vec<Job> = all
                .into_iter()
                .filter(|j| j.kind == "mail.retrieve" && j.state() == JobState::Pending)
                .collect();
            assert_eq!(pending.len(), 1, "{}: one pending retrieval", db.name);
            pending[0].run_at
        };

        start(Duration::from_secs(60)).stop().expect("stopped");
        assert_eq!(retrieval(), t0() + TimeDelta::seconds(60), "{}", db.name);

        clock.advance(Duration::from_secs(1));
        let quick = start(Duration::from_secs(5));
        assert_eq!(retrieval(), t0() + TimeDelta::seconds(6), "{}", db.name);
        quick.stop().expect("stopped");

        // A longer interval again leaves the sooner instance as it is.
        start(Duration::from_secs(600)).stop().expect("stopped");
        assert_eq!(retrieval(), t0() + TimeDelta::seconds(6), "{}", db.name);
    }
}
