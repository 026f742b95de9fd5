//! Which code runs a job of which kind, and which jobs recur: the
//! [`Registry`] a worker is started with, and the [`JobContext`] a handler
//! receives.
//!
//! A handler is registered for a [`JobKind`] type; the registry keeps it
//! under the kind's persisted name and turns the stored JSON payload back
//! into that type before calling it. The handlers themselves live in
//! [`crate::jobs`]; tests register kinds of their own, so test-only kinds
//! never reach the production binary.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use hitcore::jobs::{Job, JobKind, NewJob, Progress, Schedule};
use hitcore::store::{JobQueue, StoreError};
use hitcore::{JobId, WorkerId};

use crate::clock::Clock;

/// An error that another attempt cannot fix: a handler that returns it
/// (anywhere in its error chain) has its job kept as failed at once,
/// without the remaining attempts. For example, a mail server refusing a
/// message for good (a 5xx reply).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PermanentFailure(pub String);

/// What a handler gets besides its payload: the store, the job as claimed,
/// the clock, and ways to report progress and a result file.
pub struct JobContext<'a, S: ?Sized> {
    store: &'a S,
    job: &'a Job,
    worker: WorkerId,
    clock: &'a dyn Clock,
    /// When progress was last written, so a handler may report after every
    /// row without a write per row.
    progress_written_at: Cell<Option<DateTime<Utc>>>,
}

/// Progress is written at most this often, except the last step.
const PROGRESS_EVERY: TimeDelta = TimeDelta::milliseconds(500);

impl<'a, S: ?Sized> JobContext<'a, S> {
    pub(crate) fn new(
        store: &'a S,
        job: &'a Job,
        worker: WorkerId,
        clock: &'a dyn Clock,
    ) -> JobContext<'a, S> {
        JobContext {
            store,
            job,
            worker,
            clock,
            progress_written_at: Cell::new(None),
        }
    }

    /// The store, for the job's own reads and writes.
    pub fn store(&self) -> &'a S {
        self.store
    }

    /// The job as it was claimed: its id, attempts so far (this one
    /// included), who enqueued it.
    pub fn job(&self) -> &'a Job {
        self.job
    }

    /// The job's id.
    pub fn id(&self) -> JobId {
        self.job.id
    }

    /// The time now, from the worker's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl<S: JobQueue + ?Sized> JobContext<'_, S> {
    /// Reports that `done` of `total` steps are done, for the job page.
    /// Written at most twice a second, and always when `done` reaches
    /// `total`, so calling it after every row is fine.
    ///
    /// # Errors
    /// When the store fails.
    pub fn progress(&self, done: u64, total: u64) -> Result<(), StoreError> {
        let now = self.now();
        let is_last = done >= total;
        let is_due = self
            .progress_written_at
            .get()
            .is_none_or(|at| now - at >= PROGRESS_EVERY);
        if !(is_last || is_due) {
            return Ok(());
        }
        self.progress_written_at.set(Some(now));
        self.store
            .set_progress(self.worker, self.job.id, Progress { done, total })
    }

    /// Records the storage key of the file the job made (an export), so
    /// its owner can download it once the job is done.
    ///
    /// # Errors
    /// When the store fails.
    pub fn set_result_file(&self, key: &str) -> Result<(), StoreError> {
        self.store.set_result_file(self.worker, self.job.id, key)
    }
}

/// A registered handler, its payload still JSON.
pub(crate) type Handler<S> =
    dyn Fn(&serde_json::Value, &JobContext<'_, S>) -> anyhow::Result<()> + Send + Sync;

/// Builds the job a recurring schedule enqueues next, due at the given
/// time.
type MakeJob = dyn Fn(DateTime<Utc>) -> Result<NewJob, serde_json::Error> + Send + Sync;

/// A job declared in code to run on a [`Schedule`], with exactly one
/// pending (or running) instance across all workers: its kind is its
/// `singleton_key`.
#[derive(Clone)]
pub struct Recurring {
    kind: &'static str,
    schedule: Schedule,
    make: Arc<MakeJob>,
}

impl std::fmt::Debug for Recurring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recurring")
            .field("kind", &self.kind)
            .field("schedule", &self.schedule)
            .finish()
    }
}

impl Recurring {
    /// The schedule's name: the kind it enqueues, also its singleton key.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// When it runs.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// The next instance, due at the first run time after `now`.
    ///
    /// # Errors
    /// When the payload does not serialize.
    pub fn next_job(&self, now: DateTime<Utc>) -> Result<NewJob, serde_json::Error> {
        let mut job = (self.make)(self.schedule.next_after(now))?;
        job.singleton_key = Some(self.kind.to_owned());
        Ok(job)
    }
}

/// The handlers a worker runs, by kind, and the recurring jobs it keeps
/// scheduled.
pub struct Registry<S: ?Sized> {
    handlers: HashMap<&'static str, Registered<S>>,
    recurring: Vec<Recurring>,
}

struct Registered<S: ?Sized> {
    queue: &'static str,
    handler: Box<Handler<S>>,
}

impl<S: ?Sized> Default for Registry<S> {
    fn default() -> Registry<S> {
        Registry {
            handlers: HashMap::new(),
            recurring: Vec::new(),
        }
    }
}

impl<S: JobQueue + ?Sized> Registry<S> {
    /// An empty registry.
    pub fn new() -> Registry<S> {
        Registry::default()
    }

    /// Runs jobs of kind `J` with `handler`, which gets the payload as a
    /// `J`. A second handler for the same kind replaces the first.
    pub fn register<J, F>(&mut self, handler: F) -> &mut Registry<S>
    where
        J: JobKind + 'static,
        F: Fn(J, &JobContext<'_, S>) -> anyhow::Result<()> + Send + Sync + 'static,
    {
        let erased = move |payload: &serde_json::Value, ctx: &JobContext<'_, S>| {
            let payload = J::deserialize(payload)
                .with_context(|| format!("while reading the payload of a {} job", J::KIND))?;
            handler(payload, ctx)
        };
        let registered = Registered {
            queue: J::QUEUE,
            handler: Box::new(erased),
        };
        if self.handlers.insert(J::KIND, registered).is_some() {
            tracing::warn!(
                job.kind = J::KIND,
                "A second handler for {} replaced the first",
                J::KIND
            );
        }
        self
    }

    /// Keeps one instance of `J` (built from `J::default()`) scheduled on
    /// `schedule`. Register a handler for `J` too, or the instances fail.
    pub fn recur<J>(&mut self, schedule: Schedule) -> &mut Registry<S>
    where
        J: JobKind + Default + 'static,
    {
        let make = |at: DateTime<Utc>| NewJob::of(&J::default(), at);
        self.recurring.retain(|r| r.kind != J::KIND);
        self.recurring.push(Recurring {
            kind: J::KIND,
            schedule,
            make: Arc::new(make),
        });
        self
    }

    /// The handler of a kind.
    pub(crate) fn handler(&self, kind: &str) -> Option<&Handler<S>> {
        self.handlers.get(kind).map(|r| r.handler.as_ref())
    }

    /// The recurring jobs.
    pub fn recurring(&self) -> &[Recurring] {
        &self.recurring
    }

    /// The recurring job whose singleton key is `key`.
    pub(crate) fn recurring_for(&self, key: &str) -> Option<&Recurring> {
        self.recurring.iter().find(|r| r.kind == key)
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// The queues of the registered kinds, sorted: what a worker claims
    /// from unless told otherwise.
    pub fn queues(&self) -> Vec<String> {
        let queues: BTreeSet<&str> = self.handlers.values().map(|r| r.queue).collect();
        queues.into_iter().map(str::to_owned).collect()
    }
}
