//! A worker inside another process (the web server in development): it
//! runs the production jobs and stops when told, like the binary.

mod common;

use hitcore::jobs::{JobState, NewJob};
use hitjobs::jobs::{Noop, Services};
use hitjobs::{WorkerOptions, spawn_embedded};

#[test]
fn an_embedded_worker_runs_jobs_until_it_is_shut_down() {
    common::init_test_tracing();
    for db in common::Db::each() {
        let worker = spawn_embedded(
            db.store.clone(),
            Services::new(common::org(), common::storage()),
            WorkerOptions::with_concurrency(2),
        )
        .expect("started");
        let now = chrono::Utc::now();
        let id = db
            .store
            .enqueue(&NewJob::of(&Noop {}, now).expect("a payload"), now)
            .expect("enqueued")
            .expect("an id");

        common::wait_until("the no-op job is done", || {
            let job = db.store.job(id).expect("read").expect("kept");
            job.state() == JobState::Succeeded
        });
        let report = worker.shutdown().expect("stopped");

        assert_eq!(
            report,
            Default::default(),
            "{}: nothing was left running",
            db.name
        );
        assert_eq!(
            db.store.open_job_count().expect("count"),
            3,
            "{}: the recurring jobs are scheduled",
            db.name
        );
    }
}
