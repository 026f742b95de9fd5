//! The runtime against the in-memory queue: claiming and settling on
//! threads, failures and panics, shutdown, recurring jobs. The same
//! behaviours run against the real stores in `hitjobs/tests/`.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use hitcore::JobId;
use hitcore::jobs::{Backoff, JobKind, JobState, NewJob, Schedule};
use hitcore::store::JobQueue;
use serde::{Deserialize, Serialize};

use super::memory::MemoryQueue;
use super::*;
use crate::clock::ManualClock;
use crate::registry::Registry;

/// Long enough for anything that is going to happen on a loaded machine;
/// a test that waits this long has failed.
const PATIENCE: Duration = Duration::from_secs(30);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("a valid time")
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Step {
    n: u32,
}

impl JobKind for Step {
    const KIND: &'static str = "test.step";
    const MAX_RUN: Duration = Duration::from_secs(60);
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Boom {}

impl JobKind for Boom {
    const KIND: &'static str = "test.boom";
    const MAX_RUN: Duration = Duration::from_secs(60);
    const MAX_ATTEMPTS: u32 = 3;
}

fn options(concurrency: u32) -> WorkerOptions {
    WorkerOptions {
        host: "test".to_owned(),
        ..WorkerOptions::with_concurrency(concurrency)
    }
}

fn step(n: u32) -> NewJob {
    NewJob::of(&Step { n }, t0()).expect("a payload")
}

/// A registry whose `test.step` handler reports each run on a channel.
fn reporting() -> (Registry<MemoryQueue>, mpsc::Receiver<u32>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut registry = Registry::new();
    registry.register(move |job: Step, _ctx| {
        let _ = tx.lock().expect("the sender").send(job.n);
        Ok(())
    });
    (registry, rx)
}

fn receive(rx: &mpsc::Receiver<u32>, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| rx.recv_timeout(PATIENCE).expect("a job ran in time"))
        .collect()
}

#[test]
fn two_workers_run_every_job_exactly_once() {
    let queue = Arc::new(MemoryQueue::default());
    let jobs: Vec<NewJob> = (0..2_000).map(step).collect();
    queue.enqueue_many(&jobs, t0()).expect("enqueued");
    let (tx, rx) = mpsc::channel();
    let handles: Vec<WorkerHandle> = (0..2)
        .map(|_| {
            let tx = Mutex::new(tx.clone());
            let mut registry = Registry::new();
            registry.register(move |job: Step, _ctx| {
                let _ = tx.lock().expect("the sender").send(job.n);
                Ok(())
            });
            Worker::new(Arc::clone(&queue), registry, options(3))
                .start()
                .expect("started")
        })
        .collect();

    let mut runs: HashMap<u32, u32> = HashMap::new();
    for n in receive(&rx, 2_000) {
        *runs.entry(n).or_default() += 1;
    }
    for handle in handles {
        handle.shutdown();
    }

    assert_eq!(runs.len(), 2_000);
    assert!(runs.values().all(|&r| r == 1), "a job ran twice");
    assert!(rx.try_recv().is_err(), "a job ran twice");
    assert_eq!(queue.open_job_count().expect("count"), 0);
    assert!(queue.all().iter().all(|j| j.state() == JobState::Succeeded));
}

#[test]
fn a_panicking_handler_fails_its_attempt_and_the_worker_goes_on() {
    let queue = Arc::new(MemoryQueue::default());
    let (mut registry, rx) = reporting();
    registry.register(|_: Boom, _ctx| -> anyhow::Result<()> { panic!("boom at row 3") });
    let boom = NewJob::of(&Boom {}, t0()).expect("a payload");
    let ids = queue
        .enqueue_many(&[boom, step(1)], t0())
        .expect("enqueued");
    let handle = Worker::new(Arc::clone(&queue), registry, options(1))
        .start()
        .expect("started");

    assert_eq!(receive(&rx, 1), [1]);
    handle.shutdown();

    let boom = queue.job(ids[0]).expect("read").expect("kept");
    assert_eq!(boom.state(), JobState::Pending);
    assert_eq!(boom.attempts, 1);
    let error = boom.last_error.expect("the panic is recorded");
    assert!(error.contains("panicked: boom at row 3"), "{error}");
    let step = queue.job(ids[1]).expect("read").expect("kept");
    assert_eq!(step.state(), JobState::Succeeded);
}

#[test]
fn a_job_of_an_unknown_kind_fails_with_the_kinds_this_worker_knows() {
    let queue = Arc::new(MemoryQueue::default());
    let (registry, _rx) = reporting();
    let mut stranger = step(1);
    stranger.kind = "people.teleport".to_owned();
    let id = queue
        .enqueue(&stranger, t0())
        .expect("enqueued")
        .expect("an id");
    let worker = Worker::new(Arc::clone(&queue), registry, options(1))
        .with_clock(Arc::new(ManualClock::new(t0())))
        .inline()
        .expect("registered");

    let count = worker.run_due().expect("ran");

    assert_eq!(
        count,
        RunCount {
            succeeded: 0,
            failed: 1
        }
    );
    let job = queue.job(id).expect("read").expect("kept");
    let error = job.last_error.expect("an error");
    assert!(error.contains("`people.teleport`"), "{error}");
    assert!(error.contains("test.step"), "{error}");
}

#[test]
fn failures_back_off_as_configured_then_the_job_is_kept_as_failed() {
    let queue = Arc::new(MemoryQueue::default());
    let mut registry = Registry::new();
    registry.register(|_: Boom, _ctx| Err(anyhow::anyhow!("the mail server said no")));
    let id = queue
        .enqueue(&NewJob::of(&Boom {}, t0()).expect("a payload"), t0())
        .expect("enqueued")
        .expect("an id");
    let clock = Arc::new(ManualClock::new(t0()));
    let backoff = Backoff {
        base: Duration::from_secs(7),
        max: Duration::from_secs(10),
    };
    let worker = Worker::new(
        Arc::clone(&queue),
        registry,
        WorkerOptions {
            backoff,
            ..options(1)
        },
    )
    .with_clock(clock.clone())
    .inline()
    .expect("registered");

    assert_eq!(worker.run_due().expect("ran").failed, 1);
    let job = queue.job(id).expect("read").expect("kept");
    assert_eq!(job.run_at, t0() + TimeDelta::seconds(7));

    clock.advance(Duration::from_secs(6));
    assert_eq!(worker.run_due().expect("ran").failed, 0, "not due yet");
    clock.advance(Duration::from_secs(1));
    assert_eq!(worker.run_due().expect("ran").failed, 1);
    let job = queue.job(id).expect("read").expect("kept");
    assert_eq!(
        job.run_at,
        t0() + TimeDelta::seconds(7 + 10),
        "capped at 10 s"
    );

    clock.advance(Duration::from_secs(10));
    assert_eq!(worker.run_due().expect("ran").failed, 1);
    let job = queue.job(id).expect("read").expect("kept");
    assert_eq!(job.state(), JobState::Failed);
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("the mail server said no"));
}

/// A handler that blocks until the test lets it go, and says when it
/// started.
fn blocking() -> (
    Registry<MemoryQueue>,
    mpsc::Receiver<u32>,
    mpsc::SyncSender<()>,
) {
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::sync_channel::<()>(1);
    let started_tx = Mutex::new(started_tx);
    let go_rx = Mutex::new(go_rx);
    let mut registry = Registry::new();
    registry.register(move |job: Step, _ctx| {
        let _ = started_tx.lock().expect("the sender").send(job.n);
        let _ = go_rx.lock().expect("the receiver").recv_timeout(PATIENCE);
        Ok(())
    });
    (registry, started_rx, go_tx)
}

#[test]
fn a_shutdown_lets_a_running_job_finish_within_the_grace_period() {
    let queue = Arc::new(MemoryQueue::default());
    let (registry, started, go) = blocking();
    let id = queue
        .enqueue(&step(1), t0())
        .expect("enqueued")
        .expect("an id");
    let handle = Worker::new(Arc::clone(&queue), registry, options(1))
        .start()
        .expect("started");
    receive(&started, 1);

    let token = handle.token();
    let stopping = std::thread::spawn(move || handle.shutdown());
    token.wait();
    go.send(()).expect("the job is waiting");
    let report = stopping.join().expect("the shutdown returns");

    assert_eq!(report, ShutdownReport::default());
    let job = queue.job(id).expect("read").expect("kept");
    assert_eq!(job.state(), JobState::Succeeded);
}

#[test]
fn a_shutdown_releases_the_jobs_still_running_after_the_grace_period() {
    let queue = Arc::new(MemoryQueue::default());
    let (registry, started, go) = blocking();
    let ids = queue
        .enqueue_many(&[step(1), step(2)], t0())
        .expect("enqueued");
    let handle = Worker::new(
        Arc::clone(&queue),
        registry,
        WorkerOptions {
            grace: Duration::ZERO,
            batch: 2,
            ..options(1)
        },
    )
    .start()
    .expect("started");
    receive(&started, 1);

    let report = handle.shutdown();
    assert_eq!(
        report,
        ShutdownReport {
            released_unstarted: 1,
            released_running: 1
        }
    );
    // The released job finishes late; that must not mark it done.
    go.send(()).expect("the job is waiting");
    for id in ids {
        let job = queue.job(id).expect("read").expect("kept");
        assert_eq!(job.state(), JobState::Pending, "job {id}");
        assert_eq!(job.attempts, 0, "a released attempt is not counted");
    }
}

#[test]
fn a_job_that_waited_past_its_maximum_run_time_is_released_unrun() {
    let queue = Arc::new(MemoryQueue::default());
    let (registry, rx) = reporting();
    let clock = Arc::new(ManualClock::new(t0()));
    let id = queue
        .enqueue(&step(1), t0())
        .expect("enqueued")
        .expect("an id");
    let worker = queue.register_worker("test", 1, t0()).expect("registered");
    let [job]: [_; 1] = queue
        .claim(worker, &["default".to_owned()], 1, t0())
        .expect("claimed")
        .try_into()
        .expect("one job");
    clock.advance(Step::MAX_RUN + Duration::from_secs(1));
    let executor = Executor {
        store: Arc::clone(&queue),
        registry: Arc::new(registry),
        clock,
        backoff: Backoff::default(),
        worker,
    };

    assert_eq!(executor.run(&job), Ran::Skipped);
    assert!(rx.try_recv().is_err(), "not run");
    let job = queue.job(id).expect("read").expect("kept");
    assert_eq!(job.state(), JobState::Pending);
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Tick {}

impl JobKind for Tick {
    const KIND: &'static str = "test.tick";
    const MAX_RUN: Duration = Duration::from_secs(60);
}

fn ticking() -> Registry<MemoryQueue> {
    let mut registry = Registry::new();
    registry
        .register(|_: Tick, _ctx| Ok(()))
        .recur::<Tick>(Schedule::Every(Duration::from_secs(600)));
    registry
}

#[test]
fn workers_started_together_leave_one_pending_instance_of_a_schedule() {
    let queue = Arc::new(MemoryQueue::default());
    let clock = Arc::new(ManualClock::new(t0()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            Worker::new(Arc::clone(&queue), ticking(), options(1))
                .with_clock(clock.clone())
                .inline()
                .expect("registered")
        })
        .collect();

    let pending: Vec<_> = queue.all();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].singleton_key.as_deref(), Some("test.tick"));
    assert_eq!(pending[0].run_at, t0() + TimeDelta::minutes(10));
    drop(workers);
}

#[test]
fn a_finished_recurring_job_schedules_its_next_instance() {
    let queue = Arc::new(MemoryQueue::default());
    let clock = Arc::new(ManualClock::new(t0()));
    let worker = Worker::new(Arc::clone(&queue), ticking(), options(1))
        .with_clock(clock.clone())
        .inline()
        .expect("registered");
    clock.advance(Duration::from_secs(600));

    assert_eq!(worker.run_due().expect("ran").succeeded, 1);

    let jobs = queue.all();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].state(), JobState::Succeeded);
    assert_eq!(jobs[1].state(), JobState::Pending);
    assert_eq!(jobs[1].run_at, t0() + TimeDelta::minutes(20));
}

#[test]
fn progress_is_written_at_most_twice_a_second_and_always_at_the_end() {
    let queue = Arc::new(MemoryQueue::default());
    let clock = Arc::new(ManualClock::new(t0()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut registry: Registry<MemoryQueue> = Registry::new();
    {
        let seen = Arc::clone(&seen);
        let clock = clock.clone();
        registry.register(move |_: Step, ctx| {
            for done in 1..=4 {
                ctx.progress(done, 4)?;
                let job = ctx.store().job(ctx.id())?.expect("the job");
                seen.lock()
                    .expect("seen")
                    .push(job.progress.map(|p| p.done));
                clock.advance(Duration::from_millis(300));
            }
            Ok(())
        });
    }
    let id: JobId = queue
        .enqueue(&step(1), t0())
        .expect("enqueued")
        .expect("an id");
    let worker = Worker::new(Arc::clone(&queue), registry, options(1))
        .with_clock(clock.clone())
        .inline()
        .expect("registered");

    assert_eq!(worker.run_due().expect("ran").succeeded, 1);

    assert_eq!(
        *seen.lock().expect("seen"),
        [Some(1), Some(1), Some(3), Some(4)]
    );
    assert!(queue.job(id).expect("read").is_some());
}

#[rstest::rstest]
#[case::before_any_job_ran(0, 8)]
#[case::short_jobs(500, 100)]
#[case::exactly_short(10_000, 100)]
#[case::long_jobs(10_001, 8)]
fn a_worker_holds_many_jobs_only_while_they_are_short(#[case] micros: u64, #[case] held: u32) {
    let options = WorkerOptions {
        batch: 100,
        ..options(4)
    };
    assert_eq!(pool::capacity_for(&options, micros), held);
}

#[test]
fn the_batch_never_goes_below_the_concurrency_nor_above_itself() {
    let small = WorkerOptions {
        batch: 5,
        ..options(4)
    };
    assert_eq!(
        pool::capacity_for(&small, 0),
        5,
        "twice the concurrency is more"
    );
    let tiny = WorkerOptions {
        batch: 1,
        ..options(4)
    };
    assert_eq!(pool::capacity_for(&tiny, 1), 4);
}

#[test]
fn short_jobs_are_claimed_in_large_batches_after_the_first_claim() {
    let queue = Arc::new(MemoryQueue::default());
    let jobs: Vec<NewJob> = (0..300).map(step).collect();
    queue.enqueue_many(&jobs, t0()).expect("enqueued");
    let (registry, rx) = reporting();
    let handle = Worker::new(
        Arc::clone(&queue),
        registry,
        WorkerOptions {
            batch: 100,
            ..options(1)
        },
    )
    .start()
    .expect("started");

    receive(&rx, 300);
    handle.shutdown();

    let limits = queue.claim_limits();
    assert_eq!(limits.first(), Some(&2), "twice the concurrency at first");
    // Up to the batch, less what is held when the claim is made.
    let largest = limits.iter().max().copied().unwrap_or(0);
    assert!((50..=100).contains(&largest), "{limits:?}");
}
