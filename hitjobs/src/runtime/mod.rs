//! The worker: claims due jobs from the store, runs them with the handlers
//! of a [`Registry`], settles them, and keeps itself and its jobs visible
//! to the other workers (heartbeat, recovery of dead workers' jobs,
//! recurring jobs).
//!
//! # Threads, not tasks
//!
//! Store calls block (rusqlite and the synchronous `postgres` driver, which
//! even panics on a thread that drives async tasks), and so do the handlers
//! that make them. A worker therefore runs on plain threads: `concurrency`
//! runners that execute jobs, one dispatcher that claims batches and does
//! the periodic chores, and one settler that marks finished jobs done in
//! batches. A tokio `spawn_blocking` per job would cost a hand-off through
//! the runtime's blocking pool for every job and buy nothing, since no part
//! of the worker awaits anything; the async world only appears in the
//! binary, which waits for a signal and then calls
//! [`WorkerHandle::shutdown`].
//!
//! # How many jobs a worker holds
//!
//! The dispatcher claims up to what is free of the jobs it may hold at
//! once (queued locally or running). Holding more than the concurrency
//! saves round trips: each claim and each settle is a commit, and on
//! PostgreSQL one that waits for the disk. But a job held locally waits
//! while another process may be idle, and its maximum run time counts from
//! its claim. So the worker holds twice its concurrency while jobs take
//! long, and up to [`WorkerOptions::batch`] while they finish within
//! [`SHORT_JOB`] on average (no-op jobs, quick database chores); a
//! job that waited past its maximum run time anyway is released unrun.
//!
//! [`Worker::inline`] runs jobs on the calling thread instead, until none
//! is due: for tests and tools that need a deterministic run.

mod execute;
mod pool;

use std::sync::Arc;
use std::time::Duration;

use hitcore::WorkerId;
use hitcore::jobs::Backoff;
use hitcore::store::{JobQueue, StoreError};

use crate::clock::{Clock, SystemClock};
use crate::registry::Registry;
use crate::shutdown::ShutdownToken;
use execute::{Executor, Ran, Settled};

pub use pool::{ShutdownReport, WorkerHandle};

/// How a worker runs. [`WorkerOptions::default`] holds the defaults; each
/// field says its own.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Jobs run at the same time (runner threads). Default 4.
    pub concurrency: u32,
    /// The most jobs held at once (queued locally or running) while jobs
    /// finish within [`SHORT_JOB`] on average; otherwise twice the
    /// concurrency, or this when smaller. Never below `concurrency`.
    /// Default 500.
    pub batch: u32,
    /// The queues to claim from; `None` for those of the registered kinds.
    pub queues: Option<Vec<String>>,
    /// How long running jobs may take to finish once a shutdown starts;
    /// the rest are put back in the queue. Default 30 s.
    pub grace: Duration,
    /// The waits between attempts. Default [`Backoff::default`].
    pub backoff: Backoff,
    /// The longest wait for new jobs in one go; also how late a job that
    /// became due without a notification (a retry) may start, and how long
    /// a shutdown may wait for the dispatcher. Default 1 s.
    pub poll: Duration,
    /// How often the worker writes its heartbeat. Default 5 s.
    pub heartbeat_every: Duration,
    /// How often it takes back overdue jobs and those of dead workers, and
    /// re-checks the recurring jobs. Default 15 s.
    pub recover_every: Duration,
    /// A worker whose heartbeat is older than this counts as dead. Default
    /// 60 s (twelve missed heartbeats).
    pub dead_after: Duration,
    /// The host name recorded with the worker. Default: this machine's.
    pub host: String,
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            concurrency: 4,
            batch: DEFAULT_BATCH,
            queues: None,
            grace: Duration::from_secs(30),
            backoff: Backoff::default(),
            poll: Duration::from_secs(1),
            heartbeat_every: Duration::from_secs(5),
            recover_every: Duration::from_secs(15),
            dead_after: Duration::from_secs(60),
            host: host_name(),
        }
    }
}

impl WorkerOptions {
    /// The defaults with `concurrency` runners.
    pub fn with_concurrency(concurrency: u32) -> WorkerOptions {
        WorkerOptions {
            concurrency: concurrency.max(1),
            ..WorkerOptions::default()
        }
    }

    /// The most jobs held at once while jobs are short.
    fn capacity(&self) -> u32 {
        self.batch.max(self.concurrency).max(1)
    }

    /// The most jobs held at once while jobs take long (or before any has
    /// run).
    fn long_job_capacity(&self) -> u32 {
        self.concurrency
            .saturating_mul(2)
            .min(self.capacity())
            .max(self.concurrency)
            .max(1)
    }
}

/// The default of [`WorkerOptions::batch`]: as many jobs as one claim
/// should take when they are short, the local queue graphile-worker's
/// batched mode uses.
pub const DEFAULT_BATCH: u32 = 500;

/// Jobs that take at most this long on average are claimed in large
/// batches.
pub const SHORT_JOB: Duration = Duration::from_millis(10);

/// This machine's host name, or `unknown` when it cannot be read.
fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A worker before it starts: the store, the handlers, the clock and the
/// options.
pub struct Worker<S: ?Sized> {
    store: Arc<S>,
    registry: Arc<Registry<S>>,
    clock: Arc<dyn Clock>,
    options: WorkerOptions,
}

impl<S: JobQueue + Send + Sync + ?Sized + 'static> Worker<S> {
    /// A worker on the system clock.
    pub fn new(store: Arc<S>, registry: Registry<S>, options: WorkerOptions) -> Worker<S> {
        Worker {
            store,
            registry: Arc::new(registry),
            clock: Arc::new(SystemClock),
            options,
        }
    }

    /// The same worker on another clock (a [`crate::clock::ManualClock`] in
    /// tests).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Worker<S> {
        Worker { clock, ..self }
    }

    /// Registers the worker, schedules the recurring jobs and starts its
    /// threads; they run until [`WorkerHandle::shutdown`].
    ///
    /// # Errors
    /// When the store refuses the registration or the first scheduling,
    /// when there is no queue to claim from, or a thread cannot be started.
    pub fn start(self) -> anyhow::Result<WorkerHandle> {
        let queues = self.queues()?;
        let (executor, options) = self.register()?;
        pool::start(executor, options, queues, ShutdownToken::new())
    }

    /// Registers the worker for running jobs on the calling thread.
    ///
    /// # Errors
    /// As for [`Worker::start`].
    pub fn inline(self) -> anyhow::Result<InlineWorker<S>> {
        let queues = self.queues()?;
        let batch = self.options.capacity();
        let (executor, _) = self.register()?;
        Ok(InlineWorker {
            executor,
            queues,
            batch,
        })
    }

    fn queues(&self) -> anyhow::Result<Vec<String>> {
        let queues = match &self.options.queues {
            Some(queues) => queues.clone(),
            None => self.registry.queues(),
        };
        anyhow::ensure!(
            !queues.is_empty(),
            "no queue to claim from: no job kind is registered and none was named"
        );
        Ok(queues)
    }

    fn register(self) -> anyhow::Result<(Executor<S>, WorkerOptions)> {
        let now = self.clock.now();
        let worker = self
            .store
            .register_worker(&self.options.host, std::process::id(), now)?;
        let executor = Executor {
            store: self.store,
            registry: self.registry,
            clock: self.clock,
            backoff: self.options.backoff,
            worker,
        };
        executor.ensure_recurring()?;
        Ok((executor, self.options))
    }
}

/// A registered worker that runs jobs on the thread that asks it to.
pub struct InlineWorker<S: ?Sized> {
    executor: Executor<S>,
    queues: Vec<String>,
    batch: u32,
}

/// What one [`InlineWorker::run_due`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCount {
    /// Jobs whose handler succeeded.
    pub succeeded: u64,
    /// Attempts that failed (retried later or kept as failed).
    pub failed: u64,
}

impl<S: JobQueue + ?Sized> InlineWorker<S> {
    /// The worker's id.
    pub fn id(&self) -> WorkerId {
        self.executor.worker
    }

    /// Claims and runs due jobs, one after the other, until none is due
    /// at the clock's time.
    ///
    /// # Errors
    /// When the store fails to claim or to mark a job done.
    pub fn run_due(&self) -> Result<RunCount, StoreError> {
        let mut count = RunCount::default();
        loop {
            let jobs = self.executor.store.claim(
                self.executor.worker,
                &self.queues,
                self.batch,
                self.executor.now(),
            )?;
            if jobs.is_empty() {
                return Ok(count);
            }
            for job in &jobs {
                match self.executor.run(job) {
                    Ran::Succeeded => {
                        self.executor.succeed(&[Settled::of(job)])?;
                        count.succeeded += 1;
                    }
                    Ran::Failed => count.failed += 1,
                    Ran::Skipped => {}
                }
            }
        }
    }

    /// Records the worker stopping.
    ///
    /// # Errors
    /// When the store fails.
    pub fn stop(self) -> Result<(), StoreError> {
        let now = self.executor.now();
        self.executor.store.stop_worker(self.executor.worker, now)?;
        Ok(())
    }
}

#[cfg(test)]
mod memory;
#[cfg(test)]
mod tests;
