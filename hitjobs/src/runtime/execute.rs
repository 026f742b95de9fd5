//! Running one claimed job: its span and Sentry scope, its handler (a
//! panic caught and counted as a failed attempt), the log line and the
//! metrics, and what a failure or a success means for the queue. Both the
//! threaded worker and the inline one run jobs through here, so they
//! behave the same.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use hitcore::jobs::{AfterFailure, Backoff, Job, after_failure};
use hitcore::store::{JobQueue, StoreError};
use hitcore::{JobId, WorkerId};

use crate::clock::Clock;
use crate::registry::{JobContext, PermanentFailure, Registry};
use crate::telemetry::metrics::{
    JOB_DURATION, JOBS_FAILED, JOBS_RETRIED, JOBS_STARTED, JOBS_SUCCEEDED,
};
use crate::telemetry::sentry::{AttemptOutcome, capture_job_failure};

/// The longest error text kept with a job; a handler's error chain can
/// be long, the job page shows one line.
const MAX_ERROR_CHARS: usize = 2_000;

/// Why an attempt failed, and whether another attempt could succeed.
struct Failure {
    text: String,
    is_permanent: bool,
    /// What failed, for Sentry: `error`, `panic` or `no_handler`.
    kind: &'static str,
}

/// What became of a claimed job on this worker.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ran {
    /// The handler returned `Ok`; the job still has to be marked done.
    Succeeded,
    /// The attempt failed and is recorded (retry or failed for good).
    Failed,
    /// Not run: it waited in the local queue past its maximum run time, so
    /// another worker may have taken it back; it was released.
    Skipped,
}

/// Everything needed to run a job and record its outcome.
pub(crate) struct Executor<S: ?Sized> {
    pub(crate) store: Arc<S>,
    pub(crate) registry: Arc<Registry<S>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) backoff: Backoff,
    pub(crate) worker: WorkerId,
}

impl<S: JobQueue + ?Sized> Executor<S> {
    /// The time now, on the worker's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs `job` inside a span carrying its id and kind, and records a
    /// failure at once. Never panics, whatever the handler does. A store
    /// error while recording is logged: the job then stays locked until
    /// `recover` takes it back.
    pub(crate) fn run(&self, job: &Job) -> Ran {
        let span = tracing::info_span!(
            "job",
            job.id = %job.id,
            job.kind = %job.kind,
            job.attempt = job.attempts
        );
        let _entered = span.enter();
        // Every Sentry event of the attempt (a panic of its handler, the
        // failure) carries the job's ids, as every log line does.
        sentry::with_scope(
            |scope| {
                scope.set_tag("job.id", job.id);
                scope.set_tag("job.kind", &job.kind);
                scope.set_tag("job.attempt", job.attempts);
                scope.set_tag("worker.id", self.worker);
            },
            || self.attempt(job),
        )
    }

    fn attempt(&self, job: &Job) -> Ran {
        if job.is_overdue(self.now()) {
            self.release_overdue(job);
            return Ran::Skipped;
        }
        metrics::counter!(JOBS_STARTED, "kind" => job.kind.clone()).increment(1);
        let started = Instant::now();
        let result = self.call(job);
        let took = started.elapsed();
        metrics::histogram!(JOB_DURATION, "kind" => job.kind.clone()).record(took.as_secs_f64());
        let duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(()) => {
                metrics::counter!(JOBS_SUCCEEDED, "kind" => job.kind.clone()).increment(1);
                tracing::info!(duration_ms, "Job {} ({}) done", job.id, job.kind);
                Ran::Succeeded
            }
            Err(error) => {
                if let Err(e) = self.record_failure(job, &error, duration_ms) {
                    tracing::warn!(
                        error = %e,
                        "Could not record the failure of job {}; it is retried once taken back",
                        job.id
                    );
                }
                Ran::Failed
            }
        }
    }

    /// Calls the handler; the error text on failure, and whether the
    /// handler said that retrying is pointless ([`PermanentFailure`]).
    fn call(&self, job: &Job) -> Result<(), Failure> {
        let Some(handler) = self.registry.handler(&job.kind) else {
            return Err(Failure {
                text: format!(
                    "no handler for the job kind `{}` in this worker (it runs: {})",
                    job.kind,
                    self.registry.kinds().join(", ")
                ),
                is_permanent: false,
                kind: "no_handler",
            });
        };
        let ctx = JobContext::new(&*self.store, job, self.worker, &*self.clock);
        // The handler's state is dropped with the attempt; nothing it may
        // have left half-changed is used afterwards, so unwind safety
        // holds.
        match catch_unwind(AssertUnwindSafe(|| handler(&job.payload, &ctx))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure {
                is_permanent: e.chain().any(|cause| cause.is::<PermanentFailure>()),
                text: format!("{e:#}"),
                kind: "error",
            }),
            Err(panic) => Err(Failure {
                text: format!("the handler panicked: {}", panic_message(&*panic)),
                is_permanent: false,
                kind: "panic",
            }),
        }
    }

    /// Back to the queue after the configured back-off, or kept as failed
    /// once the attempts are used up (then the next instance of a
    /// recurring job is scheduled).
    fn record_failure(
        &self,
        job: &Job,
        failure: &Failure,
        duration_ms: u64,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let error = truncated(&failure.text);
        let retry_at = match after_failure(job.attempts, job.max_attempts, &self.backoff, now) {
            AfterFailure::RetryAt(_) if failure.is_permanent => None,
            AfterFailure::RetryAt(at) => Some(at),
            AfterFailure::GiveUp => None,
        };
        report_failure(job, failure, retry_at.is_some());
        let is_held = self
            .store
            .fail(self.worker, job.id, &error, retry_at, now)?;
        match retry_at {
            Some(at) => tracing::warn!(
                duration_ms,
                retry_at = %at,
                "Job {} ({}) failed attempt {} of {}, retried at {at}: {error}",
                job.id, job.kind, job.attempts, job.max_attempts
            ),
            None if failure.is_permanent => tracing::warn!(
                duration_ms,
                "Job {} ({}) failed for good on attempt {} of {}, not retried: {error}",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts
            ),
            None => tracing::warn!(
                duration_ms,
                "Job {} ({}) failed its last attempt ({} of {}) and is kept as failed: {error}",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts
            ),
        }
        if is_held && retry_at.is_none() {
            self.schedule_next(job.singleton_key.as_deref());
        }
        Ok(())
    }

    fn release_overdue(&self, job: &Job) {
        tracing::warn!(
            "Job {} ({}) waited in this worker longer than its maximum run time; released",
            job.id,
            job.kind
        );
        if let Err(e) = self.store.release(self.worker, &[job.id]) {
            tracing::warn!(error = %e, "Could not release job {}", job.id);
        }
    }

    /// Marks jobs done; the next instance of each recurring one among them
    /// is scheduled. Returns how many this worker still held.
    pub(crate) fn succeed(&self, done: &[Settled]) -> Result<u64, StoreError> {
        let ids: Vec<JobId> = done.iter().map(|s| s.id).collect();
        let held = self.store.succeed(self.worker, &ids, self.now())?;
        if held < ids.len() as u64 {
            tracing::warn!(
                "{} of {} finished jobs had been taken back from this worker before they \
                 were marked done; they run again",
                ids.len() as u64 - held,
                ids.len()
            );
        }
        for settled in done {
            self.schedule_next(settled.singleton_key.as_deref());
        }
        Ok(held)
    }

    /// Enqueues the next instance of the recurring job with this key, if
    /// it is one. The store keeps it single: when another worker was
    /// faster, nothing is added.
    pub(crate) fn schedule_next(&self, key: Option<&str>) {
        let Some(recurring) = key.and_then(|k| self.registry.recurring_for(k)) else {
            return;
        };
        let now = self.now();
        let enqueued = recurring
            .next_job(now)
            .map_err(|e| e.to_string())
            .and_then(|job| self.store.enqueue(&job, now).map_err(|e| e.to_string()));
        if let Err(e) = enqueued {
            tracing::warn!(
                job.kind = recurring.kind(),
                "Could not schedule the next {} job: {e}; the next maintenance round retries",
                recurring.kind()
            );
        }
    }

    /// Makes sure every recurring job has its one pending instance, due
    /// no later than its schedule says from `now`: one that a start with
    /// a longer interval left (`MAIL_RETRIEVE_SECS` lowered, say) is
    /// brought forward rather than waited for.
    pub(crate) fn ensure_recurring(&self) -> Result<(), StoreError> {
        let now = self.now();
        for recurring in self.registry.recurring() {
            let job = recurring
                .next_job(now)
                .map_err(|e| StoreError::Rule(e.to_string()))?;
            if let Some(id) = self.store.enqueue(&job, now)? {
                tracing::debug!(
                    job.id = %id,
                    job.kind = recurring.kind(),
                    "Scheduled {} for {}",
                    recurring.kind(),
                    job.run_at
                );
            } else if self.store.bring_forward(recurring.kind(), job.run_at)? {
                tracing::info!(
                    job.kind = recurring.kind(),
                    "Brought the pending {} job forward to {}, as its schedule now says",
                    recurring.kind(),
                    job.run_at
                );
            }
        }
        Ok(())
    }
}

/// Counts a failed attempt (retried or failed for good) and reports it
/// to Sentry, within the job's scope; the error text stays in the log and
/// the job's row.
fn report_failure(job: &Job, failure: &Failure, is_retried: bool) {
    let outcome = match (is_retried, failure.is_permanent) {
        (true, _) => AttemptOutcome::Retried,
        (false, true) => AttemptOutcome::Permanent,
        (false, false) => AttemptOutcome::Failed,
    };
    let counter = if is_retried {
        JOBS_RETRIED
    } else {
        JOBS_FAILED
    };
    metrics::counter!(counter, "kind" => job.kind.clone()).increment(1);
    capture_job_failure(
        &job.kind,
        job.attempts,
        job.max_attempts,
        outcome,
        failure.kind,
    );
}

/// A job whose handler succeeded, waiting to be marked done.
#[derive(Clone, Debug)]
pub(crate) struct Settled {
    pub(crate) id: JobId,
    pub(crate) singleton_key: Option<String>,
}

impl Settled {
    pub(crate) fn of(job: &Job) -> Settled {
        Settled {
            id: job.id,
            singleton_key: job.singleton_key.clone(),
        }
    }
}

/// The text a panic was raised with, when it is text.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

fn truncated(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((end, _)) => format!("{}…", &error[..end]),
        None => error.to_owned(),
    }
}
