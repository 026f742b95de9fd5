//! The job queue contract ([`JobQueue`]) on every store: jobs are claimed
//! best first, once, by one worker at a time, even by many threads at
//! once; only the holder settles a job; attempts count claims, not
//! releases; overdue jobs and those of dead workers come back (or fail
//! when out of attempts); a singleton key has one open job at most; and
//! waiting workers wake when a job arrives.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set, each with a fresh database. Time is an
//! argument of every call, so the tests move it instead of sleeping.

mod common;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use hitcore::ability::{self, Actor, ManageJob, system};
use hitcore::jobs::{Job, JobState, NewJob, Progress, QueueStats};
use hitcore::store::{JobQueue, Store, StoreError};
use hitcore::{JobId, PersonId, WorkerId};
use serde_json::json;

use common::{MEMBER, each_store, t0};

/// `n` seconds after [`t0`].
fn secs(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(n)
}

/// A job of `kind` on the default queue, due at [`t0`], with 3 attempts
/// of at most 60 s.
fn new_job(kind: &str) -> NewJob {
    NewJob {
        kind: kind.to_owned(),
        payload: json!({ "what": kind }),
        queue: "default".to_owned(),
        priority: 0,
        run_at: t0(),
        max_attempts: 3,
        max_run_secs: 60,
        enqueued_by: None,
        singleton_key: None,
    }
}

fn default_queue() -> Vec<String> {
    vec!["default".to_owned()]
}

fn enqueue(s: &dyn Store, job: NewJob) -> JobId {
    s.enqueue(&job, t0())
        .expect("enqueued")
        .expect("no other job with its singleton key")
}

fn worker(s: &dyn Store, now: DateTime<Utc>) -> WorkerId {
    s.register_worker("test-host", 4242, now)
        .expect("worker registered")
}

fn claim(s: &dyn Store, w: WorkerId, limit: u32, now: DateTime<Utc>) -> Vec<Job> {
    s.claim(w, &default_queue(), limit, now).expect("claimed")
}

fn ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|j| j.id).collect()
}

fn reload(s: &dyn Store, id: JobId) -> Job {
    s.job(id).expect("job read").expect("job exists")
}

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

/// An administrator (the root user) as the ability sees them.
fn administrator() -> Actor {
    Actor {
        person_id: PersonId(999),
        is_root: true,
        grants: Vec::new(),
        has_role: false,
    }
}

/// A job claimed by a new worker at [`t0`] and failed for good at
/// `failed_at`. The worker claims every due job of the default queue, so
/// call this before enqueuing the others of a test.
fn failed_job(s: &dyn Store, job: NewJob, failed_at: DateTime<Utc>) -> Job {
    let id = enqueue(s, job);
    let w = worker(s, t0());
    let claimed = s
        .claim(w, &default_queue(), 100, t0())
        .expect("claimed")
        .into_iter()
        .find(|j| j.id == id)
        .expect("the job is claimed");
    assert!(
        s.fail(w, claimed.id, "it broke", None, failed_at)
            .expect("failed")
    );
    reload(s, id)
}

// ------------------------------------------------------------ enqueue

#[test]
fn enqueued_job_is_stored_pending_with_what_it_was_given() {
    each_store(|w| {
        let owner = w.person("Ada", "Owner", &w.root_members, MEMBER);
        let job = NewJob {
            priority: -3,
            run_at: secs(10),
            enqueued_by: Some(owner.id),
            ..new_job("people.export")
        };
        let id = w.s.enqueue(&job, t0()).expect("enqueued").expect("an id");
        let stored = reload(w.s, id);
        assert_eq!(stored.state(), JobState::Pending);
        assert_eq!(
            (stored.kind.as_str(), &stored.payload, stored.queue.as_str()),
            (
                "people.export",
                &json!({ "what": "people.export" }),
                "default"
            )
        );
        assert_eq!((stored.priority, stored.run_at), (-3, secs(10)));
        assert_eq!((stored.attempts, stored.max_attempts), (0, 3));
        assert_eq!(stored.max_run_secs, 60);
        assert_eq!(stored.enqueued_by, Some(owner.id));
        assert_eq!(stored.created_at, t0());
        assert_eq!(
            (stored.locked_by, stored.locked_at, stored.last_error),
            (None, None, None)
        );
        assert_eq!((stored.progress, stored.result_file), (None, None));
        assert_eq!(w.s.job(JobId(id.0 + 1000)).expect("read"), None);
    });
}

#[test]
fn enqueue_many_adds_jobs_in_order_and_refuses_singletons() {
    each_store(|w| {
        let jobs: Vec<NewJob> = (0..5).map(|i| new_job(&format!("bulk.{i}"))).collect();
        let ids = w.s.enqueue_many(&jobs, t0()).expect("enqueued");
        let kinds: Vec<String> = ids.iter().map(|id| reload(w.s, *id).kind).collect();
        assert_eq!(kinds, ["bulk.0", "bulk.1", "bulk.2", "bulk.3", "bulk.4"]);
        assert_eq!(w.s.enqueue_many(&[], t0()).expect("nothing"), []);

        let with_singleton = vec![
            new_job("bulk.5"),
            NewJob {
                singleton_key: Some("once".to_owned()),
                ..new_job("bulk.6")
            },
        ];
        let refused = w.s.enqueue_many(&with_singleton, t0());
        assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");
        assert_eq!(w.s.open_job_count().expect("count"), 5, "nothing added");
    });
}

#[test]
fn ten_thousand_jobs_are_enqueued_in_one_call() {
    each_store(|w| {
        let jobs: Vec<NewJob> = (0..10_000).map(|_| new_job("bulk.noop")).collect();
        let ids = w.s.enqueue_many(&jobs, t0()).expect("enqueued");
        assert_eq!(ids.len(), 10_000);
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 10_000);
        assert_eq!(w.s.open_job_count().expect("count"), 10_000);
    });
}

// -------------------------------------------------------------- claim

#[test]
fn claim_takes_due_jobs_by_priority_then_run_at_then_id() {
    each_store(|w| {
        let late = enqueue(
            w.s,
            NewJob {
                run_at: secs(-10),
                ..new_job("late")
            },
        );
        let urgent = enqueue(
            w.s,
            NewJob {
                priority: -1,
                ..new_job("urgent")
            },
        );
        let first_of_equals = enqueue(w.s, new_job("equal.1"));
        let second_of_equals = enqueue(w.s, new_job("equal.2"));
        let earlier = enqueue(
            w.s,
            NewJob {
                run_at: secs(-20),
                ..new_job("earlier")
            },
        );
        let low = enqueue(
            w.s,
            NewJob {
                priority: 5,
                run_at: secs(-100),
                ..new_job("low")
            },
        );
        let worker = worker(w.s, t0());

        assert_eq!(ids(&claim(w.s, worker, 3, t0())), [urgent, earlier, late]);
        assert_eq!(
            ids(&claim(w.s, worker, 10, t0())),
            [first_of_equals, second_of_equals, low]
        );
        assert_eq!(claim(w.s, worker, 10, t0()), []);
    });
}

#[test]
fn claimed_job_is_running_for_its_worker_with_an_attempt_counted() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("one"));
        let worker = worker(w.s, t0());
        let claimed = claim(w.s, worker, 1, secs(5));
        assert_eq!(ids(&claimed), [id]);
        let job = &claimed[0];
        assert_eq!(job.state(), JobState::Running);
        assert_eq!(
            (job.locked_by, job.locked_at, job.attempts),
            (Some(worker), Some(secs(5)), 1)
        );
        assert_eq!(&reload(w.s, id), job, "claim returns the row as stored");
        assert_eq!(w.s.open_job_count().expect("count"), 1);
    });
}

#[test]
fn jobs_not_yet_due_wait_for_their_time() {
    each_store(|w| {
        let id = enqueue(
            w.s,
            NewJob {
                run_at: secs(3600),
                ..new_job("later")
            },
        );
        let worker = worker(w.s, t0());
        assert_eq!(claim(w.s, worker, 10, secs(3599)), []);
        assert_eq!(ids(&claim(w.s, worker, 10, secs(3600))), [id]);
    });
}

#[test]
fn claim_takes_only_jobs_of_the_queues_asked_for() {
    each_store(|w| {
        let default = enqueue(w.s, new_job("default"));
        let mail = enqueue(
            w.s,
            NewJob {
                queue: "mail".to_owned(),
                priority: 1,
                ..new_job("mail")
            },
        );
        let export = enqueue(
            w.s,
            NewJob {
                queue: "export".to_owned(),
                ..new_job("export")
            },
        );
        let worker = worker(w.s, t0());
        let mail_only = w.s.claim(worker, &["mail".to_owned()], 10, t0());
        assert_eq!(ids(&mail_only.expect("claimed")), [mail]);
        let both = ["default".to_owned(), "export".to_owned()];
        assert_eq!(
            ids(&w.s.claim(worker, &both, 10, t0()).expect("claimed")),
            [default, export]
        );
        assert_eq!(w.s.claim(worker, &[], 10, t0()).expect("no queue"), []);
    });
}

#[test]
fn claim_of_zero_jobs_takes_none() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("one"));
        let worker = worker(w.s, t0());
        assert_eq!(claim(w.s, worker, 0, t0()), []);
        assert_eq!(reload(w.s, id).state(), JobState::Pending);
    });
}

#[test]
fn a_job_claimed_by_one_worker_is_not_claimed_by_another() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("one"));
        let (a, b) = (worker(w.s, t0()), worker(w.s, t0()));
        assert_eq!(ids(&claim(w.s, a, 10, t0())), [id]);
        assert_eq!(claim(w.s, b, 10, secs(30)), []);
        assert_eq!(reload(w.s, id).locked_by, Some(a));
    });
}

#[test]
fn concurrent_claims_get_each_job_exactly_once() {
    const JOBS: usize = 2_000;
    const THREADS: usize = 8;
    each_store(|w| {
        let jobs: Vec<NewJob> = (0..JOBS).map(|_| new_job("concurrent")).collect();
        let all = w.s.enqueue_many(&jobs, t0()).expect("enqueued");
        let s = w.s;
        let claimed: Vec<Vec<JobId>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(move || {
                        let me = worker(s, t0());
                        let mut mine = Vec::new();
                        loop {
                            let batch = ids(&claim(s, me, 25, t0()));
                            if batch.is_empty() {
                                return mine;
                            }
                            let held = s.succeed(me, &batch, t0()).expect("succeeded");
                            assert_eq!(held, batch.len() as u64, "the worker held its batch");
                            mine.extend(batch);
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("claiming thread"))
                .collect()
        });
        let total: usize = claimed.iter().map(Vec::len).sum();
        let distinct: BTreeSet<JobId> = claimed.iter().flatten().copied().collect();
        assert_eq!(total, JOBS, "no job was claimed twice");
        assert_eq!(distinct, all.into_iter().collect(), "every job was claimed");
        assert_eq!(w.s.open_job_count().expect("count"), 0);
    });
}

// ------------------------------------------------------------- settle

#[test]
fn succeed_settles_the_held_jobs_and_counts_them() {
    each_store(|w| {
        let a = enqueue(w.s, new_job("a"));
        let b = enqueue(w.s, new_job("b"));
        let c = enqueue(w.s, new_job("c"));
        let worker = worker(w.s, t0());
        claim(w.s, worker, 2, secs(1));

        let held = w.s.succeed(worker, &[a, b, c], secs(2)).expect("succeeded");
        assert_eq!(held, 2, "c was never claimed");
        let done = reload(w.s, a);
        assert_eq!(done.state(), JobState::Succeeded);
        assert_eq!(
            (done.finished_at, done.locked_by, done.locked_at),
            (Some(secs(2)), None, Some(secs(1)))
        );
        assert_eq!(reload(w.s, c).state(), JobState::Pending);
        assert_eq!(w.s.succeed(worker, &[a], secs(3)).expect("again"), 0);
        assert_eq!(w.s.succeed(worker, &[], secs(3)).expect("none"), 0);
        assert_eq!(w.s.open_job_count().expect("count"), 1);
    });
}

#[test]
fn only_the_holder_settles_or_updates_a_job() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("held"));
        let (holder, other) = (worker(w.s, t0()), worker(w.s, t0()));
        claim(w.s, holder, 1, t0());
        let progress = Progress { done: 1, total: 2 };

        assert_eq!(w.s.succeed(other, &[id], t0()).expect("succeed"), 0);
        assert!(!w.s.fail(other, id, "not mine", None, t0()).expect("fail"));
        assert_eq!(w.s.release(other, &[id]).expect("release"), 0);
        assert_not_found(w.s.set_progress(other, id, progress));
        assert_not_found(w.s.set_result_file(other, id, "x.csv"));
        let untouched = reload(w.s, id);
        assert_eq!(untouched.state(), JobState::Running);
        assert_eq!(
            (untouched.locked_by, untouched.attempts, untouched.progress),
            (Some(holder), 1, None)
        );
        assert_eq!(untouched.last_error, None);

        assert_eq!(w.s.succeed(holder, &[id], t0()).expect("succeed"), 1);
        assert_eq!(reload(w.s, id).state(), JobState::Succeeded);
        assert_not_found(w.s.set_progress(holder, id, progress));
    });
}

#[test]
fn running_job_saves_its_progress_and_result_file() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("people.export"));
        let worker = worker(w.s, t0());
        claim(w.s, worker, 1, t0());
        let progress = Progress {
            done: 250,
            total: 1000,
        };
        w.s.set_progress(worker, id, progress).expect("progress");
        w.s.set_result_file(worker, id, "exports/1.csv")
            .expect("file");
        w.s.succeed(worker, &[id], secs(1)).expect("succeeded");
        let job = reload(w.s, id);
        assert_eq!(job.progress, Some(progress));
        assert_eq!(job.result_file.as_deref(), Some("exports/1.csv"));
    });
}

#[test]
fn a_failed_attempt_returns_for_its_retry_time_or_fails_for_good() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("flaky"));
        let worker = worker(w.s, t0());
        claim(w.s, worker, 1, t0());

        let retried =
            w.s.fail(worker, id, "connection refused", Some(secs(5)), secs(1))
                .expect("failed");
        assert!(retried);
        let pending = reload(w.s, id);
        assert_eq!(pending.state(), JobState::Pending);
        assert_eq!(
            (pending.run_at, pending.attempts, pending.locked_at),
            (secs(5), 1, None)
        );
        assert_eq!(pending.last_error.as_deref(), Some("connection refused"));
        assert_eq!(claim(w.s, worker, 1, secs(4)), [], "not before its retry");
        let again = claim(w.s, worker, 1, secs(5));
        assert_eq!((ids(&again), again[0].attempts), (vec![id], 2));

        assert!(
            w.s.fail(worker, id, "still refused", None, secs(6))
                .expect("failed")
        );
        let failed = reload(w.s, id);
        assert_eq!(failed.state(), JobState::Failed);
        assert_eq!(
            (failed.failed_at, failed.locked_by, failed.locked_at),
            (Some(secs(6)), None, Some(secs(5)))
        );
        assert_eq!(failed.last_error.as_deref(), Some("still refused"));
        assert_eq!(claim(w.s, worker, 1, secs(3600)), [], "failed jobs stay");
        assert_eq!(w.s.open_job_count().expect("count"), 0);
    });
}

#[test]
fn error_text_with_a_nul_character_is_stored() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("odd"));
        let worker = worker(w.s, t0());
        claim(w.s, worker, 1, t0());
        assert!(
            w.s.fail(worker, id, "bad\0byte", None, t0())
                .expect("failed")
        );
        assert_eq!(
            reload(w.s, id).last_error.as_deref(),
            Some("bad\u{fffd}byte")
        );
    });
}

#[test]
fn release_puts_a_job_back_without_counting_the_attempt() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("interrupted"));
        let worker = worker(w.s, t0());
        assert_eq!(claim(w.s, worker, 1, t0())[0].attempts, 1);
        assert_eq!(w.s.release(worker, &[id]).expect("released"), 1);
        let back = reload(w.s, id);
        assert_eq!(back.state(), JobState::Pending);
        assert_eq!(
            (back.attempts, back.locked_by, back.locked_at),
            (0, None, None)
        );
        assert_eq!(claim(w.s, worker, 1, secs(1))[0].attempts, 1);
        assert_eq!(w.s.release(worker, &[]).expect("none"), 0);
    });
}

// ------------------------------------------------------------ workers

#[test]
fn stopped_worker_gives_back_its_jobs_uncounted_and_beats_no_more() {
    each_store(|w| {
        let a = enqueue(w.s, new_job("a"));
        let b = enqueue(w.s, new_job("b"));
        let c = enqueue(w.s, new_job("c"));
        let (stopping, other) = (worker(w.s, t0()), worker(w.s, t0()));
        claim(w.s, stopping, 2, t0());
        claim(w.s, other, 1, t0());
        w.s.heartbeat(stopping, secs(5)).expect("alive");

        assert_eq!(w.s.stop_worker(stopping, secs(10)).expect("stopped"), 2);
        for id in [a, b] {
            let job = reload(w.s, id);
            assert_eq!((job.state(), job.attempts), (JobState::Pending, 0));
        }
        assert_eq!(reload(w.s, c).locked_by, Some(other));
        assert_not_found(w.s.heartbeat(stopping, secs(11)));
        assert_eq!(w.s.stop_worker(stopping, secs(12)).expect("again"), 0);
        assert_not_found(w.s.heartbeat(WorkerId(9999), secs(11)));
        assert_not_found(w.s.stop_worker(WorkerId(9999), secs(11)));
    });
}

#[test]
fn overdue_jobs_are_taken_back_and_run_again() {
    each_store(|w| {
        let id = enqueue(w.s, new_job("stuck"));
        let (stuck, healthy) = (worker(w.s, t0()), worker(w.s, t0()));
        claim(w.s, stuck, 1, t0());
        let alive = Duration::from_secs(3600);

        assert_eq!(
            w.s.recover(secs(60), alive).expect("recover"),
            0,
            "60 s is allowed"
        );
        assert_eq!(w.s.recover(secs(61), alive).expect("recover"), 1);
        let back = reload(w.s, id);
        assert_eq!(back.state(), JobState::Pending);
        assert_eq!((back.attempts, back.locked_by), (1, None));
        assert_eq!(
            back.last_error,
            Some(format!(
                "taken back: worker {stuck} did not finish within 60 s"
            ))
        );
        assert_eq!(w.s.succeed(stuck, &[id], secs(62)).expect("too late"), 0);

        let again = claim(w.s, healthy, 1, secs(62));
        assert_eq!((ids(&again), again[0].attempts), (vec![id], 2));
        assert_eq!(w.s.recover(secs(100), alive).expect("recover"), 0);
    });
}

#[test]
fn jobs_of_a_worker_that_stopped_beating_are_taken_back() {
    each_store(|w| {
        let long = NewJob {
            max_run_secs: 3600,
            ..new_job("long")
        };
        let lost = enqueue(w.s, long.clone());
        let kept = enqueue(w.s, long);
        let (dead, alive) = (worker(w.s, t0()), worker(w.s, t0()));
        claim(w.s, dead, 1, t0());
        claim(w.s, alive, 1, t0());
        w.s.heartbeat(dead, secs(10)).expect("beat");
        w.s.heartbeat(alive, secs(35)).expect("beat");
        let dead_after = Duration::from_secs(30);

        assert_eq!(w.s.recover(secs(40), dead_after).expect("recover"), 0);
        assert_eq!(w.s.recover(secs(41), dead_after).expect("recover"), 1);
        let back = reload(w.s, lost);
        assert_eq!(back.state(), JobState::Pending);
        assert_eq!(
            back.last_error,
            Some(format!("taken back: worker {dead} stopped beating"))
        );
        assert_eq!(reload(w.s, kept).locked_by, Some(alive));
        assert_eq!(ids(&claim(w.s, alive, 1, secs(42))), [lost]);
    });
}

#[test]
fn a_job_taken_back_at_its_last_attempt_is_kept_as_failed() {
    each_store(|w| {
        let id = enqueue(
            w.s,
            NewJob {
                max_attempts: 1,
                ..new_job("crashes")
            },
        );
        let worker = worker(w.s, t0());
        claim(w.s, worker, 1, t0());
        assert_eq!(
            w.s.recover(secs(61), Duration::from_secs(3600))
                .expect("recover"),
            1
        );
        let failed = reload(w.s, id);
        assert_eq!(failed.state(), JobState::Failed);
        assert_eq!(
            (failed.failed_at, failed.locked_at, failed.attempts),
            (Some(secs(61)), Some(t0()), 1)
        );
        assert_eq!(
            failed.last_error,
            Some(format!(
                "taken back: worker {worker} did not finish within 60 s"
            ))
        );
        assert_eq!(w.s.failed_jobs(10).expect("failed"), [failed]);
    });
}

// ----------------------------------------------------------- singleton

#[test]
fn a_singleton_has_one_open_job_until_it_settles() {
    each_store(|w| {
        let cleanup = NewJob {
            singleton_key: Some("sessions.cleanup".to_owned()),
            ..new_job("sessions.cleanup")
        };
        let other_key = NewJob {
            singleton_key: Some("jobs.cleanup".to_owned()),
            ..new_job("jobs.cleanup")
        };
        let first =
            w.s.enqueue(&cleanup, t0())
                .expect("enqueue")
                .expect("first");
        assert_eq!(
            w.s.enqueue(&cleanup, t0()).expect("enqueue"),
            None,
            "pending"
        );
        assert!(w.s.enqueue(&other_key, t0()).expect("enqueue").is_some());

        let worker = worker(w.s, t0());
        assert_eq!(ids(&claim(w.s, worker, 1, t0())), [first]);
        assert_eq!(
            w.s.enqueue(&cleanup, t0()).expect("enqueue"),
            None,
            "running"
        );

        w.s.succeed(worker, &[first], secs(1)).expect("succeeded");
        let second =
            w.s.enqueue(&cleanup, secs(2))
                .expect("enqueue")
                .expect("again");
        assert_ne!(second, first);

        // A failed one does not block the next either.
        assert!(ids(&claim(w.s, worker, 10, secs(3))).contains(&second));
        w.s.fail(worker, second, "broke", None, secs(4))
            .expect("failed");
        assert!(w.s.enqueue(&cleanup, secs(5)).expect("enqueue").is_some());
    });
}

#[test]
fn bringing_a_singleton_forward_moves_only_an_untried_pending_job_due_later() {
    each_store(|w| {
        let at = |run_at| NewJob {
            singleton_key: Some("mail.retrieve".to_owned()),
            run_at,
            ..new_job("mail.retrieve")
        };
        let id = enqueue(w.s, at(secs(60)));

        let bring = |run_at| w.s.bring_forward("mail.retrieve", run_at).expect("brought");
        assert!(!bring(secs(90)), "never later");
        assert!(!bring(secs(60)), "not when due then already");
        assert_eq!(reload(w.s, id).run_at, secs(60));
        assert!(bring(secs(5)), "earlier");
        assert_eq!(reload(w.s, id).run_at, secs(5));
        assert!(
            !w.s.bring_forward("other.key", secs(1))
                .expect("no such key")
        );
        assert_eq!(reload(w.s, id).run_at, secs(5));

        // Running, then back for a retry: its back-off stands.
        let worker = worker(w.s, secs(5));
        assert_eq!(ids(&claim(w.s, worker, 1, secs(5))), [id]);
        assert!(!bring(secs(6)), "running");
        w.s.fail(worker, id, "mailbox down", Some(secs(300)), secs(6))
            .expect("failed for now");
        assert!(!bring(secs(10)), "a retry keeps its back-off");
        assert_eq!(reload(w.s, id).run_at, secs(300));
    });
}

#[test]
fn concurrent_enqueues_of_a_singleton_add_one_job() {
    each_store(|w| {
        let job = NewJob {
            singleton_key: Some("mail.retrieve".to_owned()),
            ..new_job("mail.retrieve")
        };
        let s = w.s;
        let added: Vec<Option<JobId>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| s.enqueue(&job, t0()).expect("enqueue")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("enqueuing thread"))
                .collect()
        });
        assert_eq!(added.iter().flatten().count(), 1, "{added:?}");
        assert_eq!(w.s.open_job_count().expect("count"), 1);
    });
}

// ------------------------------------------------------------- listing

#[test]
fn jobs_of_a_person_are_the_newest_first_up_to_the_limit() {
    each_store(|w| {
        let ada = w.person("Ada", "Owner", &w.root_members, MEMBER);
        let bob = w.person("Bob", "Other", &w.root_members, MEMBER);
        let by = |person: PersonId, kind: &str, at: DateTime<Utc>| {
            let job = NewJob {
                enqueued_by: Some(person),
                ..new_job(kind)
            };
            w.s.enqueue(&job, at).expect("enqueue").expect("an id")
        };
        let old = by(ada.id, "old", secs(0));
        let newest = by(ada.id, "newest", secs(20));
        by(bob.id, "bobs", secs(30));
        let middle = by(ada.id, "middle", secs(10));
        let same_time = by(ada.id, "same time as middle", secs(10));
        enqueue(w.s, new_job("nobody's"));

        let listed = |limit| ids(&w.s.jobs_of_person(ada.id, limit).expect("jobs"));
        assert_eq!(listed(10), [newest, same_time, middle, old]);
        assert_eq!(listed(2), [newest, same_time]);
        assert_eq!(
            ids(&w.s.jobs_of_person(PersonId(9999), 10).expect("jobs")),
            []
        );
    });
}

#[test]
fn failed_jobs_are_everyones_newest_first_up_to_the_limit() {
    each_store(|w| {
        let ada = w.person("Ada", "Owner", &w.root_members, MEMBER);
        let first = failed_job(
            w.s,
            NewJob {
                enqueued_by: Some(ada.id),
                ..new_job("a")
            },
            secs(10),
        );
        let last = failed_job(w.s, new_job("b"), secs(30));
        let between = failed_job(w.s, new_job("c"), secs(20));
        enqueue(w.s, new_job("pending"));

        let failed = |limit| ids(&w.s.failed_jobs(limit).expect("failed"));
        assert_eq!(failed(10), [last.id, between.id, first.id]);
        assert_eq!(failed(1), [last.id]);
    });
}

// --------------------------------------------------------------- manage

#[test]
fn an_administrator_retries_a_failed_job_with_fresh_attempts() {
    each_store(|w| {
        let failed = failed_job(w.s, new_job("broken"), secs(10));
        let permit = ability::permit_manage_job(&administrator(), &failed).expect("permit");
        w.s.retry_job(&permit, secs(100)).expect("retried");

        let retried = reload(w.s, failed.id);
        assert_eq!(retried.state(), JobState::Pending);
        assert_eq!(
            (retried.attempts, retried.failed_at, retried.run_at),
            (0, None, secs(100))
        );
        let worker = worker(w.s, t0());
        assert_eq!(claim(w.s, worker, 1, secs(99)), [], "due at the retry");
        assert_eq!(ids(&claim(w.s, worker, 1, secs(100))), [failed.id]);
        assert_not_found(w.s.retry_job(&permit, secs(101)));
    });
}

#[test]
fn retry_of_a_singleton_conflicts_while_another_is_open() {
    each_store(|w| {
        let cleanup = NewJob {
            singleton_key: Some("cleanup".to_owned()),
            ..new_job("cleanup")
        };
        let failed = failed_job(w.s, cleanup.clone(), secs(10));
        enqueue(w.s, cleanup);
        let permit = ability::permit_manage_job(&administrator(), &failed).expect("permit");
        let refused = w.s.retry_job(&permit, secs(20));
        assert!(
            matches!(&refused, Err(StoreError::Conflict { field }) if field == "singleton_key"),
            "{refused:?}"
        );
        assert_eq!(reload(w.s, failed.id).state(), JobState::Failed);
    });
}

#[test]
fn an_administrator_deletes_a_failed_job_and_nothing_else() {
    each_store(|w| {
        let failed = failed_job(w.s, new_job("broken"), secs(10));
        let pending = enqueue(w.s, new_job("pending"));
        let permit = ability::permit_manage_job(&administrator(), &failed).expect("permit");
        w.s.delete_job(&permit).expect("deleted");
        assert_eq!(w.s.job(failed.id).expect("read"), None);
        assert_not_found(w.s.delete_job(&permit));

        // The ability hands out no permit for a pending job; the store
        // refuses one all the same.
        let forged = system(ManageJob(pending));
        assert_not_found(w.s.delete_job(&forged));
        assert_not_found(w.s.retry_job(&forged, secs(20)));
        assert_eq!(reload(w.s, pending).state(), JobState::Pending);
    });
}

#[test]
fn settled_jobs_before_the_cutoff_are_deleted_and_returned() {
    each_store(|w| {
        let succeeded = enqueue(w.s, new_job("done long ago"));
        let worker = worker(w.s, t0());
        claim(w.s, worker, 1, t0());
        w.s.succeed(worker, &[succeeded], secs(100))
            .expect("succeeded");
        let old_failure = failed_job(w.s, new_job("failed long ago"), secs(200));
        let recent = failed_job(w.s, new_job("failed recently"), secs(400));
        let pending = enqueue(w.s, new_job("pending"));

        let deleted = w.s.delete_settled_before(secs(300)).expect("deleted");
        let mut deleted = ids(&deleted);
        deleted.sort();
        assert_eq!(deleted, [succeeded, old_failure.id]);
        assert_eq!(w.s.job(succeeded).expect("read"), None);
        assert!(w.s.job(recent.id).expect("read").is_some());
        assert!(w.s.job(pending).expect("read").is_some());
        assert_eq!(w.s.delete_settled_before(secs(300)).expect("again"), []);
    });
}

// -------------------------------------------------------------- waiting

#[test]
fn wait_for_jobs_returns_after_its_timeout_when_nothing_comes() {
    each_store(|w| {
        let timeout = Duration::from_millis(50);
        let started = Instant::now();
        w.s.wait_for_jobs(timeout).expect("waited");
        assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    });
}

/// Waits on `waiting` in a thread of its own, once to start listening and
/// then for up to a minute, while `enqueue` runs on this thread; returns
/// how long the second wait took.
fn wait_while_enqueued(waiting: &dyn Store, enqueue: impl FnOnce()) -> Duration {
    let (ready, is_ready) = mpsc::channel();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(move || {
            waiting.wait_for_jobs(Duration::ZERO).expect("first wait");
            ready.send(()).expect("ready");
            let started = Instant::now();
            waiting
                .wait_for_jobs(Duration::from_secs(60))
                .expect("second wait");
            started.elapsed()
        });
        is_ready.recv().expect("the waiter listens");
        enqueue();
        waiter.join().expect("waiting thread")
    })
}

#[test]
fn wait_for_jobs_wakes_when_another_thread_enqueues() {
    each_store(|w| {
        let waited = wait_while_enqueued(w.s, || {
            enqueue(w.s, new_job("wake up"));
        });
        assert!(waited < Duration::from_secs(60), "{waited:?}");
    });
}

#[test]
fn wait_for_jobs_wakes_when_another_postgres_connection_enqueues() {
    use hitcore::store::postgres::{PostgresStore, TestSchema};

    let Some(base) = std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
    else {
        return;
    };
    let schema = TestSchema::create(&base).expect("a test schema");
    let waiting = PostgresStore::open(schema.url(), common::org()).expect("waiting store");
    let enqueuing = PostgresStore::open(schema.url(), common::org()).expect("enqueuing store");
    let waited = wait_while_enqueued(&waiting, || {
        enqueuing
            .enqueue(&new_job("wake up"), t0())
            .expect("enqueued");
    });
    assert!(waited < Duration::from_secs(60), "{waited:?}");
}

#[test]
fn enqueue_of_a_job_for_later_wakes_nobody() {
    each_store(|w| {
        let s = w.s;
        s.wait_for_jobs(Duration::ZERO).expect("first wait");
        s.enqueue(
            &NewJob {
                run_at: secs(3600),
                ..new_job("later")
            },
            t0(),
        )
        .expect("enqueued");
        let timeout = Duration::from_millis(50);
        let started = Instant::now();
        s.wait_for_jobs(timeout).expect("waited");
        assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    });
}

#[test]
fn queue_stats_count_open_jobs_per_queue_and_live_workers() {
    each_store(|w| {
        let s = w.s;
        let dead_after = Duration::from_secs(30);
        let empty = s.queue_stats(secs(10), dead_after).expect("stats");
        assert_eq!(empty, QueueStats::default(), "no job and no worker yet");

        // default: two due (at t0 and t0 + 5 s), one due later, one
        // running, one done and one failed (neither counts); mail: one due.
        failed_job(s, new_job("failed"), secs(2));
        let done = enqueue(s, new_job("done"));
        let done_by = worker(s, t0());
        assert_eq!(ids(&claim(s, done_by, 1, t0())), [done]);
        s.succeed(done_by, &[done], secs(1)).expect("done");
        let running = enqueue(s, new_job("running"));
        let busy = worker(s, t0());
        assert_eq!(ids(&claim(s, busy, 1, t0())), [running]);
        enqueue(s, new_job("oldest"));
        enqueue(
            s,
            NewJob {
                run_at: secs(5),
                ..new_job("younger")
            },
        );
        enqueue(
            s,
            NewJob {
                run_at: secs(3600),
                ..new_job("later")
            },
        );
        enqueue(
            s,
            NewJob {
                queue: "mail".to_owned(),
                ..new_job("mail")
            },
        );
        let stopped = worker(s, t0());
        s.stop_worker(stopped, secs(1)).expect("stopped");
        s.heartbeat(busy, secs(20)).expect("beat");

        let stats = s.queue_stats(secs(40), dead_after).expect("stats");

        // Only busy beat within the last 30 s.
        assert_eq!(stats.live_workers, 1);
        let queues: Vec<&str> = stats.queues.iter().map(|q| q.queue.as_str()).collect();
        assert_eq!(queues, ["default", "mail"]);
        let default = &stats.queues[0];
        assert_eq!(
            (default.waiting, default.scheduled, default.running),
            (2, 1, 1)
        );
        assert_eq!(default.oldest_waiting_since, Some(t0()));
        assert_eq!(
            default.oldest_waiting_age(secs(40)),
            Duration::from_secs(40)
        );
        let mail = &stats.queues[1];
        assert_eq!((mail.waiting, mail.scheduled, mail.running), (1, 0, 0));

        let early = s
            .queue_stats(secs(3), Duration::from_secs(3600))
            .expect("stats");
        assert_eq!(early.live_workers, 3, "all but the stopped one");
        assert_eq!(
            (early.queues[0].waiting, early.queues[0].scheduled),
            (1, 2),
            "at 3 s the job due at 5 s is scheduled"
        );
    });
}
