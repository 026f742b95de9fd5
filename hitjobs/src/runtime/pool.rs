//! The threads of a running worker: the dispatcher (claims, heartbeat,
//! recovery), the runners and the settler, the local state they share
//! under one lock, and the shutdown that stops them in order.
//!
//! A job's way through: the dispatcher claims it into `queue`; a runner
//! moves it to `running` and runs it (a failure is recorded right there);
//! a success goes to `done`, which the settler marks done in one call per
//! batch. Shutdown: stop claiming, release what is still queued, give the
//! running jobs the grace period, settle what finished, release the rest,
//! record the worker's stop.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use hitcore::jobs::Job;
use hitcore::store::JobQueue;
use hitcore::{JobId, WorkerId};

use super::execute::{Executor, Ran, Settled};
use super::{SHORT_JOB, WorkerOptions};
use crate::shutdown::ShutdownToken;
use crate::telemetry::QueueGauges;

/// The pause after a failed store call before the next try.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// What a shutdown did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Claimed jobs that had not started, put back in the queue.
    pub released_unstarted: u64,
    /// Jobs still running when the grace period ended, put back in the
    /// queue (their attempt not counted).
    pub released_running: u64,
}

/// The state the threads share.
#[derive(Default)]
struct Local {
    queue: VecDeque<Job>,
    running: HashSet<JobId>,
    done: Vec<Settled>,
    /// Runners take no more jobs; the dispatcher releases what it claims.
    is_stopping: bool,
    /// The settler flushes `done` and exits.
    is_settler_stopping: bool,
    /// The shutdown has settled and released everything; a runner that
    /// finishes after this marks its job done itself (which the store
    /// ignores for a job that was released meanwhile).
    is_closed: bool,
}

struct Pool<S: ?Sized> {
    executor: Executor<S>,
    options: WorkerOptions,
    queues: Vec<String>,
    token: ShutdownToken,
    local: Mutex<Local>,
    /// Runners wait here for a job (or the stop).
    work: Condvar,
    /// The dispatcher and the shutdown wait here for a job to finish.
    room: Condvar,
    /// The settler waits here for finished jobs (or its stop).
    settle: Condvar,
    /// How long jobs take, in microseconds: a moving average over about
    /// the last eight; zero until one has run.
    job_micros: AtomicU64,
}

/// A running worker. Dropping the handle leaves the worker running; stop
/// it with [`WorkerHandle::shutdown`].
pub struct WorkerHandle {
    id: WorkerId,
    token: ShutdownToken,
    stop: Box<dyn FnOnce() -> ShutdownReport + Send>,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle")
            .field("id", &self.id)
            .field("is_stopping", &self.token.is_triggered())
            .finish()
    }
}

impl WorkerHandle {
    /// The worker's id in the store.
    pub fn id(&self) -> WorkerId {
        self.id
    }

    /// The token that stops the worker from claiming; triggering it makes
    /// [`WorkerHandle::wait`] shut the worker down.
    pub fn token(&self) -> ShutdownToken {
        self.token.clone()
    }

    /// Blocks until the token is triggered, then shuts down.
    pub fn wait(self) -> ShutdownReport {
        self.token.wait();
        self.shutdown()
    }

    /// Stops claiming, lets running jobs finish within the grace period,
    /// puts the rest back in the queue and records the worker's stop.
    /// Blocks for at most the grace period plus one poll interval.
    pub fn shutdown(self) -> ShutdownReport {
        self.token.trigger();
        (self.stop)()
    }
}

/// Starts the threads of a registered worker.
pub(super) fn start<S: JobQueue + Send + Sync + ?Sized + 'static>(
    executor: Executor<S>,
    options: WorkerOptions,
    queues: Vec<String>,
    token: ShutdownToken,
) -> anyhow::Result<WorkerHandle> {
    let id = executor.worker;
    tracing::info!(
        worker.id = %id,
        concurrency = options.concurrency,
        batch = options.capacity(),
        long_job_batch = options.long_job_capacity(),
        queues = %queues.join(","),
        "Worker {id} started on queues {}",
        queues.join(", ")
    );
    let pool = Arc::new(Pool {
        executor,
        options,
        queues,
        token: token.clone(),
        local: Mutex::new(Local::default()),
        work: Condvar::new(),
        room: Condvar::new(),
        settle: Condvar::new(),
        job_micros: AtomicU64::new(0),
    });
    let threads = spawn_threads(&pool)?;
    Ok(WorkerHandle {
        id,
        token,
        stop: Box::new(move || pool.shutdown(threads)),
    })
}

struct Threads {
    dispatcher: JoinHandle<()>,
    settler: JoinHandle<()>,
}

fn spawn_threads<S: JobQueue + Send + Sync + ?Sized + 'static>(
    pool: &Arc<Pool<S>>,
) -> anyhow::Result<Threads> {
    let spawn = |name: String, run: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name)
            .spawn(run)
            .map_err(|e| anyhow::anyhow!("while starting a worker thread: {e}"))
    };
    // Runners go first: once the dispatcher runs, claimed jobs need them.
    // A runner still busy when the worker is shut down is left to finish
    // on its own, so their handles are not kept.
    for n in 0..pool.options.concurrency.max(1) {
        let p = Arc::clone(pool);
        spawn(format!("hit-job-{n}"), Box::new(move || p.runner()))?;
    }
    let p = Arc::clone(pool);
    let settler = spawn("hit-job-settle".to_owned(), Box::new(move || p.settler()))?;
    let p = Arc::clone(pool);
    let dispatcher = spawn("hit-job-claim".to_owned(), Box::new(move || p.dispatcher()))?;
    Ok(Threads {
        dispatcher,
        settler,
    })
}

/// When the periodic chores are due next, on the worker's clock.
struct Chores {
    heartbeat: DateTime<Utc>,
    recover: DateTime<Utc>,
    /// The database gauges, refreshed with each recovery round.
    gauges: QueueGauges,
}

fn after(at: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    at.checked_add_signed(TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl<S: JobQueue + Send + Sync + ?Sized> Pool<S> {
    fn lock(&self) -> MutexGuard<'_, Local> {
        // Every change to `Local` is a single push, pop or flag; a thread
        // that panicked (none should: handlers run under catch_unwind)
        // cannot have left it half-changed.
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn worker(&self) -> WorkerId {
        self.executor.worker
    }

    // ---------------------------------------------------------- dispatcher

    fn dispatcher(&self) {
        let now = self.executor.now();
        let mut chores = Chores {
            heartbeat: after(now, self.options.heartbeat_every),
            recover: now,
            gauges: QueueGauges::default(),
        };
        while !self.token.is_triggered() {
            self.do_chores(&mut chores);
            let Some(limit) = self.room_to_claim() else {
                continue;
            };
            let claimed =
                self.executor
                    .store
                    .claim(self.worker(), &self.queues, limit, self.executor.now());
            match claimed {
                Ok(jobs) if jobs.is_empty() => self.wait_for_jobs(),
                Ok(jobs) => self.hand_out(jobs),
                Err(e) => {
                    tracing::warn!(error = %e, "Could not claim jobs; trying again");
                    self.token.wait_timeout(RETRY_PAUSE);
                }
            }
        }
    }

    /// How many jobs to claim now; `None` after waiting (bounded by the
    /// poll interval) for a running job to finish.
    ///
    /// With jobs still queued locally, the dispatcher waits until half the
    /// capacity is free, so that it claims in batches rather than one job
    /// per finished job.
    fn room_to_claim(&self) -> Option<u32> {
        let capacity = self.capacity();
        let local = self.lock();
        let held = u32::try_from(local.queue.len() + local.running.len()).unwrap_or(u32::MAX);
        let free = capacity.saturating_sub(held);
        if free > 0 && (local.queue.is_empty() || free >= capacity.div_ceil(2)) {
            return Some(free);
        }
        if !local.is_stopping {
            let _ = self.room.wait_timeout(local, self.options.poll);
        }
        None
    }

    fn wait_for_jobs(&self) {
        if let Err(e) = self.executor.store.wait_for_jobs(self.options.poll) {
            tracing::warn!(error = %e, "Could not wait for new jobs; polling instead");
            self.token.wait_timeout(RETRY_PAUSE);
        }
    }

    fn hand_out(&self, jobs: Vec<Job>) {
        let mut local = self.lock();
        if local.is_stopping {
            drop(local);
            let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
            self.release(&ids);
            return;
        }
        let n = jobs.len();
        local.queue.extend(jobs);
        drop(local);
        if n >= self.options.concurrency as usize {
            self.work.notify_all();
        } else {
            for _ in 0..n {
                self.work.notify_one();
            }
        }
    }

    fn do_chores(&self, chores: &mut Chores) {
        let now = self.executor.now();
        if now >= chores.heartbeat {
            if let Err(e) = self.executor.store.heartbeat(self.worker(), now) {
                tracing::warn!(error = %e, "Could not write the heartbeat of worker {}", self.worker());
            }
            chores.heartbeat = after(now, self.options.heartbeat_every);
        }
        if now >= chores.recover {
            self.recover(now);
            self.refresh_gauges(&mut chores.gauges, now);
            chores.recover = after(now, self.options.recover_every);
        }
    }

    /// Takes back overdue jobs and those of dead workers (any worker may;
    /// the store makes it safe), and makes sure each recurring job has its
    /// instance (one may be missing when a worker died between settling
    /// an instance and scheduling the next).
    fn recover(&self, now: DateTime<Utc>) {
        match self.executor.store.recover(now, self.options.dead_after) {
            Ok(0) => {}
            // The store logs what it took back, once.
            Ok(n) => tracing::debug!(jobs = n, "Recovery took back {n} jobs"),
            Err(e) => tracing::warn!(error = %e, "Could not take back overdue jobs"),
        }
        if let Err(e) = self.executor.ensure_recurring() {
            tracing::warn!(error = %e, "Could not schedule the recurring jobs");
        }
    }

    /// Sets the queue and worker gauges from the store, at the pace of the
    /// recovery rounds: often enough for a scrape every 15 s, and one
    /// query however many scrapes come.
    fn refresh_gauges(&self, gauges: &mut QueueGauges, now: DateTime<Utc>) {
        let dead_after = self.options.dead_after;
        if let Err(e) = gauges.refresh(&*self.executor.store, now, dead_after) {
            tracing::warn!(error = %e, "Could not read the queue gauges");
        }
    }

    /// The jobs to hold at once now.
    fn capacity(&self) -> u32 {
        capacity_for(&self.options, self.job_micros.load(Ordering::Relaxed))
    }

    // ------------------------------------------------------------- runners

    fn runner(&self) {
        while let Some(job) = self.next_job() {
            let started = Instant::now();
            let ran = self.executor.run(&job);
            self.took(started.elapsed());
            self.finished(&job, ran == Ran::Succeeded);
        }
    }

    /// Adds a job's run time to the moving average. Runners update it
    /// without a lock; a lost update among concurrent ones only makes the
    /// average a little older.
    fn took(&self, elapsed: Duration) {
        let sample = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let old = self.job_micros.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (old.saturating_mul(7) / 8)
                .saturating_add(sample / 8)
                .max(1)
        };
        self.job_micros.store(new, Ordering::Relaxed);
    }

    fn next_job(&self) -> Option<Job> {
        let mut local = self.lock();
        loop {
            if local.is_stopping {
                return None;
            }
            if let Some(job) = local.queue.pop_front() {
                local.running.insert(job.id);
                return Some(job);
            }
            local = self
                .work
                .wait(local)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn finished(&self, job: &Job, is_success: bool) {
        let mut local = self.lock();
        local.running.remove(&job.id);
        let is_closed = local.is_closed;
        if is_success && !is_closed {
            local.done.push(Settled::of(job));
        }
        drop(local);
        self.room.notify_all();
        if is_success && is_closed {
            self.settle_now(&[Settled::of(job)]);
        } else if is_success {
            self.settle.notify_one();
        }
    }

    // ------------------------------------------------------------- settler

    fn settler(&self) {
        loop {
            let mut local = self.lock();
            while local.done.is_empty() && !local.is_settler_stopping {
                local = self
                    .settle
                    .wait(local)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if local.done.is_empty() {
                return;
            }
            let batch = std::mem::take(&mut local.done);
            let is_last_try = local.is_settler_stopping;
            drop(local);
            if let Err(e) = self.executor.succeed(&batch) {
                self.settle_failed(batch, &e, is_last_try);
            }
        }
    }

    /// Keeps a batch that could not be marked done for the next try, after
    /// a pause; at shutdown, the jobs are left for `recover` (and run
    /// again).
    fn settle_failed(&self, batch: Vec<Settled>, e: &hitcore::store::StoreError, is_last: bool) {
        tracing::warn!(
            error = %e,
            jobs = batch.len(),
            "Could not mark {} finished jobs done{}",
            batch.len(),
            if is_last { "; they run again once taken back" } else { "; trying again" }
        );
        if is_last {
            return;
        }
        let mut local = self.lock();
        local.done.splice(0..0, batch);
        let _ = self.settle.wait_timeout(local, RETRY_PAUSE);
    }

    fn settle_now(&self, done: &[Settled]) {
        if let Err(e) = self.executor.succeed(done) {
            tracing::warn!(error = %e, "Could not mark finished jobs done");
        }
    }

    // ------------------------------------------------------------ shutdown

    fn shutdown(&self, threads: Threads) -> ShutdownReport {
        let deadline = Instant::now() + self.options.grace;
        let mut report = ShutdownReport::default();

        let unstarted = self.stop_runners();
        join(threads.dispatcher, "dispatcher");
        report.released_unstarted = self.release(&unstarted);

        self.wait_for_running(deadline);
        self.lock().is_settler_stopping = true;
        self.settle.notify_all();
        join(threads.settler, "settler");

        let (leftover, running) = self.close();
        if !leftover.is_empty() {
            self.settle_now(&leftover);
        }
        report.released_running = self.release(&running);
        self.record_stop(&report);
        report
    }

    /// Stops runners from taking jobs; returns the queued ones.
    fn stop_runners(&self) -> Vec<JobId> {
        let mut local = self.lock();
        local.is_stopping = true;
        let unstarted = local.queue.drain(..).map(|j| j.id).collect();
        drop(local);
        self.work.notify_all();
        self.room.notify_all();
        unstarted
    }

    /// Waits until no job runs or `deadline` passes, writing heartbeats
    /// meanwhile: a grace period longer than `dead_after` must not make
    /// the other workers take the running jobs away.
    fn wait_for_running(&self, deadline: Instant) {
        let mut next_beat = Instant::now() + self.options.heartbeat_every;
        let mut local = self.lock();
        while !local.running.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            if now >= next_beat {
                drop(local);
                if let Err(e) = self
                    .executor
                    .store
                    .heartbeat(self.worker(), self.executor.now())
                {
                    tracing::warn!(error = %e, "Could not write the heartbeat of worker {}", self.worker());
                }
                next_beat = Instant::now() + self.options.heartbeat_every;
                local = self.lock();
                continue;
            }
            let wait = deadline.min(next_beat).saturating_duration_since(now);
            local = self
                .room
                .wait_timeout(local, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Marks the worker closed; returns the successes that reached `done`
    /// after the settler stopped, and the jobs still running.
    fn close(&self) -> (Vec<Settled>, Vec<JobId>) {
        let mut local = self.lock();
        local.is_closed = true;
        let leftover = std::mem::take(&mut local.done);
        let running = local.running.iter().copied().collect();
        (leftover, running)
    }

    fn record_stop(&self, report: &ShutdownReport) {
        let id = self.worker();
        match self.executor.store.stop_worker(id, self.executor.now()) {
            Ok(_) => tracing::info!(
                worker.id = %id,
                released_unstarted = report.released_unstarted,
                released_running = report.released_running,
                "Worker {id} stopped; {} claimed and {} running jobs went back to the queue",
                report.released_unstarted,
                report.released_running
            ),
            Err(e) => tracing::warn!(
                worker.id = %id,
                error = %e,
                "Could not record the stop of worker {id}; its jobs are taken back once its \
                 heartbeat is old"
            ),
        }
    }

    /// Puts jobs back in the queue; returns how many this worker still
    /// held.
    fn release(&self, ids: &[JobId]) -> u64 {
        if ids.is_empty() {
            return 0;
        }
        match self.executor.store.release(self.worker(), ids) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "Could not put {} jobs back in the queue; they are taken back once overdue",
                    ids.len()
                );
                0
            }
        }
    }
}

/// The jobs to hold at once when jobs take `job_micros` on average (zero:
/// none has run yet): many while they are short.
pub(super) fn capacity_for(options: &WorkerOptions, job_micros: u64) -> u32 {
    let short = u64::try_from(SHORT_JOB.as_micros()).unwrap_or(u64::MAX);
    if job_micros > 0 && job_micros <= short {
        options.capacity()
    } else {
        options.long_job_capacity()
    }
}

fn join(thread: JoinHandle<()>, name: &str) {
    if thread.join().is_err() {
        tracing::error!("The worker's {name} thread panicked");
    }
}
