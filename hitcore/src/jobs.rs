//! Jobs: work that the web tier (or another job) persists in the database
//! for the workers to run at the right time, on any number of processes.
//!
//! This module holds the rules only: what a job is, which state it is in,
//! how long to wait before the next attempt, when a recurring job runs
//! next. The queue itself is the store trait [`crate::store::JobQueue`];
//! the runtime that claims and runs jobs is `hitjobs`.
//!
//! Pure: no I/O, no clock; every function takes `now`.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::PersonId;

pub use crate::id::{JobId, WorkerId};

/// The queue a job goes to when its kind names no other.
pub const DEFAULT_QUEUE: &str = "default";
/// The attempts a job gets when its kind names no other number.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// A kind of job: a payload type with a stable name.
///
/// `KIND` is part of the schema: queued rows carry it, so renaming it
/// needs a migration that rewrites them.
pub trait JobKind: Serialize + DeserializeOwned {
    /// The persisted name, e.g. `"people.export"`.
    const KIND: &'static str;
    /// The longest one attempt may run. A job locked for longer is taken
    /// back and run again (its worker is presumed dead or stuck).
    const MAX_RUN: Duration;
    /// The queue it runs on.
    const QUEUE: &'static str = DEFAULT_QUEUE;
    /// How many attempts it gets before it is kept as failed.
    const MAX_ATTEMPTS: u32 = DEFAULT_MAX_ATTEMPTS;
    /// Lower runs first.
    const PRIORITY: i32 = 0;
}

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub queue: String,
    /// Lower runs first; among equals, the earlier `run_at`, then the
    /// lower id.
    pub priority: i32,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    pub max_attempts: u32,
    /// The longest one attempt may run, in seconds.
    pub max_run_secs: u32,
    /// The person who asked for it; they see it on their job page.
    pub enqueued_by: Option<PersonId>,
    /// A recurring job's schedule name: at most one job with the same key
    /// is pending or running at any time, across all processes.
    pub singleton_key: Option<String>,
}

impl NewJob {
    /// A job of kind `J`, to run at `now`.
    ///
    /// # Errors
    /// When the payload does not serialize to JSON.
    pub fn of<J: JobKind>(payload: &J, now: DateTime<Utc>) -> Result<NewJob, serde_json::Error> {
        Ok(NewJob {
            kind: J::KIND.to_owned(),
            payload: serde_json::to_value(payload)?,
            queue: J::QUEUE.to_owned(),
            priority: J::PRIORITY,
            run_at: now,
            max_attempts: J::MAX_ATTEMPTS,
            max_run_secs: u32::try_from(J::MAX_RUN.as_secs()).unwrap_or(u32::MAX),
            enqueued_by: None,
            singleton_key: None,
        })
    }

    /// The same job, asked for by `person`.
    pub fn by(self, person: PersonId) -> NewJob {
        NewJob {
            enqueued_by: Some(person),
            ..self
        }
    }

    /// The same job, not before `at`.
    pub fn at(self, at: DateTime<Utc>) -> NewJob {
        NewJob { run_at: at, ..self }
    }
}

/// How far a running job has come, as its rows (or steps) done of total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

impl Progress {
    /// Whole percent, 0 to 100; 0 while the total is unknown.
    pub fn percent(&self) -> u8 {
        if self.total == 0 {
            return 0;
        }
        let p = self.done.min(self.total).saturating_mul(100) / self.total;
        u8::try_from(p).unwrap_or(100)
    }
}

/// The name of the counter of enqueued jobs (labels `kind`, `queue`),
/// which the stores increment once a job is committed. Its description and
/// every other metric name are in `hitjobs::telemetry`.
pub const ENQUEUED_METRIC: &str = "hit_jobs_enqueued_total";

/// How one queue stands at a moment, as [`crate::store::JobQueue::queue_stats`]
/// reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueDepth {
    pub queue: String,
    /// Pending jobs that are due: they wait for a worker.
    pub waiting: u64,
    /// Pending jobs due later: scheduled ones and retries in their
    /// back-off.
    pub scheduled: u64,
    /// Jobs a worker holds.
    pub running: u64,
    /// The `run_at` of the due job that has waited longest; `None` when
    /// none waits.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
}

impl QueueDepth {
    /// How long the oldest due job has waited at `now`; zero when none
    /// waits.
    pub fn oldest_waiting_age(&self, now: DateTime<Utc>) -> Duration {
        self.oldest_waiting_since
            .and_then(|since| (now - since).to_std().ok())
            .unwrap_or(Duration::ZERO)
    }
}

/// The queues with open jobs, and the workers alive, at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Every queue with a pending or running job, by name.
    pub queues: Vec<QueueDepth>,
    /// Workers that have not stopped and whose heartbeat is recent.
    pub live_workers: u64,
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub queue: String,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    /// Attempts started so far; counted when a worker claims the job, so a
    /// job that kills its worker still uses up its attempts.
    pub attempts: u32,
    pub max_attempts: u32,
    pub max_run_secs: u32,
    pub last_error: Option<String>,
    pub locked_by: Option<WorkerId>,
    pub locked_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub enqueued_by: Option<PersonId>,
    pub progress: Option<Progress>,
    /// The storage key of the file the job made (an export), once done.
    pub result_file: Option<String>,
    pub singleton_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at` or a free worker (also after a failed
    /// attempt that will be retried).
    Pending,
    /// Locked by a worker.
    Running,
    Succeeded,
    /// Out of attempts; kept with its last error until retried or deleted.
    Failed,
}

impl Job {
    pub fn state(&self) -> JobState {
        if self.finished_at.is_some() {
            JobState::Succeeded
        } else if self.failed_at.is_some() {
            JobState::Failed
        } else if self.locked_by.is_some() {
            JobState::Running
        } else {
            JobState::Pending
        }
    }

    /// Whether a worker has held the job for longer than one attempt may
    /// run at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        match (self.state(), self.locked_at) {
            (JobState::Running, Some(at)) => {
                now - at > TimeDelta::seconds(i64::from(self.max_run_secs))
            }
            _ => false,
        }
    }
}

/// The waits between attempts: `base`, then twice that, four times, ...,
/// never more than `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// 5 s, 10 s, 20 s, ... up to an hour: ten attempts span about 45
    /// minutes, enough for a mail server's restart.
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(5),
            max: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The wait after the `attempt`-th failed attempt (1 for the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// What becomes of a job whose attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Run again, not before this time.
    RetryAt(DateTime<Utc>),
    /// Out of attempts: keep it as failed.
    GiveUp,
}

/// Decides the next step for a job that failed its `attempts`-th attempt.
pub fn after_failure(
    attempts: u32,
    max_attempts: u32,
    backoff: &Backoff,
    now: DateTime<Utc>,
) -> AfterFailure {
    if attempts >= max_attempts {
        return AfterFailure::GiveUp;
    }
    let wait = TimeDelta::from_std(backoff.delay(attempts)).unwrap_or(TimeDelta::MAX);
    AfterFailure::RetryAt(now.checked_add_signed(wait).unwrap_or(now))
}

/// When a recurring job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Every so often, counted from the end of the last run.
    Every(Duration),
    /// Once a day at this time (UTC).
    DailyAt(NaiveTime),
}

impl Schedule {
    /// The first run time after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            Schedule::Every(every) => {
                let every = TimeDelta::from_std(every).unwrap_or(TimeDelta::MAX);
                now.checked_add_signed(every).unwrap_or(now)
            }
            Schedule::DailyAt(time) => {
                let today = now.date_naive().and_time(time).and_utc();
                if today > now {
                    today
                } else {
                    today + TimeDelta::days(1)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, h, m, 0)
            .single()
            .expect("a valid time")
    }

    #[rstest]
    #[case(1, 5)]
    #[case(2, 10)]
    #[case(3, 20)]
    #[case(10, 2560)]
    #[case(11, 3600)]
    #[case(u32::MAX, 3600)]
    fn backoff_doubles_up_to_its_cap(#[case] attempt: u32, #[case] secs: u64) {
        assert_eq!(Backoff::default().delay(attempt), Duration::from_secs(secs));
    }

    #[test]
    fn a_failed_attempt_is_retried_until_the_attempts_are_used_up() {
        let b = Backoff::default();
        let now = at(12, 0);
        assert_eq!(
            after_failure(1, 3, &b, now),
            AfterFailure::RetryAt(now + TimeDelta::seconds(5))
        );
        assert_eq!(
            after_failure(2, 3, &b, now),
            AfterFailure::RetryAt(now + TimeDelta::seconds(10))
        );
        assert_eq!(after_failure(3, 3, &b, now), AfterFailure::GiveUp);
        assert_eq!(after_failure(4, 3, &b, now), AfterFailure::GiveUp);
    }

    #[rstest]
    #[case(at(2, 0), at(3, 30))]
    #[case(at(3, 30), at(3, 30) + TimeDelta::days(1))]
    #[case(at(23, 0), at(3, 30) + TimeDelta::days(1))]
    fn a_daily_job_runs_next_at_its_time(#[case] now: DateTime<Utc>, #[case] next: DateTime<Utc>) {
        let daily = Schedule::DailyAt(NaiveTime::from_hms_opt(3, 30, 0).expect("a time"));
        assert_eq!(daily.next_after(now), next);
    }

    #[test]
    fn an_interval_job_runs_next_one_interval_later() {
        let every = Schedule::Every(Duration::from_secs(60));
        assert_eq!(every.next_after(at(12, 0)), at(12, 1));
    }

    #[rstest]
    #[case(0, 0, 0)]
    #[case(1, 3, 33)]
    #[case(3, 3, 100)]
    #[case(9, 3, 100)]
    fn progress_is_whole_percent(#[case] done: u64, #[case] total: u64, #[case] pct: u8) {
        assert_eq!(Progress { done, total }.percent(), pct);
    }
}
