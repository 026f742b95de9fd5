//! What the two job queues ([`crate::store::JobQueue`]) share: the column
//! list of `jobs` and the reading of its rows, the text forms of what
//! goes in, and [`Wakeup`], the signal behind `wait_for_jobs`.
//!
//! The SQL itself stays with each store; nothing here knows a driver.

use std::cell::RefCell;
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::row::Columns;
use super::sql::parse_timestamp;
use crate::id::{JobId, PersonId, WorkerId};
use crate::jobs::{ENQUEUED_METRIC, Job, NewJob, Progress, QueueDepth, QueueStats};
use crate::store::StoreError;

/// The columns of `jobs` that [`job`] reads, for `SELECT` and `RETURNING`
/// alike (hence no table alias).
pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, queue, priority, run_at, attempts, \
     max_attempts, max_run_secs, last_error, locked_by, locked_at, finished_at, failed_at, \
     enqueued_by, progress_done, progress_total, result_file, singleton_key, created_at";

/// The longest `last_error` kept, in bytes: an error chain is for a
/// person to read, and a runaway one should not bloat every read of the
/// job.
const MAX_ERROR_BYTES: usize = 8 * 1024;

/// A row of [`JOB_COLUMNS`].
pub(crate) fn job<R: Columns>(row: &R) -> Result<Job, R::Error> {
    Ok(Job {
        id: JobId(row.int("id")?),
        kind: row.text("kind")?,
        payload: payload(row)?,
        queue: row.text("queue")?,
        priority: number(row, "priority")?,
        run_at: timestamp(row, "run_at")?,
        attempts: number(row, "attempts")?,
        max_attempts: number(row, "max_attempts")?,
        max_run_secs: number(row, "max_run_secs")?,
        last_error: row.opt_text("last_error")?,
        locked_by: row.opt_int("locked_by")?.map(WorkerId),
        locked_at: opt_timestamp(row, "locked_at")?,
        finished_at: opt_timestamp(row, "finished_at")?,
        failed_at: opt_timestamp(row, "failed_at")?,
        enqueued_by: row.opt_int("enqueued_by")?.map(PersonId),
        progress: progress(row)?,
        result_file: row.opt_text("result_file")?,
        singleton_key: row.opt_text("singleton_key")?,
        created_at: timestamp(row, "created_at")?,
    })
}

fn payload<R: Columns>(row: &R) -> Result<serde_json::Value, R::Error> {
    let text = row.text("payload")?;
    serde_json::from_str(&text).map_err(|e| row.invalid("payload", Box::new(e)))
}

/// A BIGINT column read as the narrower type of the domain.
fn number<R: Columns, N: TryFrom<i64>>(row: &R, name: &str) -> Result<N, R::Error>
where
    N::Error: Error + Send + Sync + 'static,
{
    N::try_from(row.int(name)?).map_err(|e| row.invalid(name, Box::new(e)))
}

fn progress<R: Columns>(row: &R) -> Result<Option<Progress>, R::Error> {
    let (Some(done), Some(total)) = (
        row.opt_int("progress_done")?,
        row.opt_int("progress_total")?,
    ) else {
        return Ok(None);
    };
    let count = |name: &str, n: i64| u64::try_from(n).map_err(|e| row.invalid(name, Box::new(e)));
    Ok(Some(Progress {
        done: count("progress_done", done)?,
        total: count("progress_total", total)?,
    }))
}

fn timestamp<R: Columns>(row: &R, name: &str) -> Result<DateTime<Utc>, R::Error> {
    let text = row.text(name)?;
    parse_timestamp(&text).map_err(|e| row.invalid(name, Box::new(e)))
}

fn opt_timestamp<R: Columns>(row: &R, name: &str) -> Result<Option<DateTime<Utc>>, R::Error> {
    row.opt_text(name)?
        .map(|text| parse_timestamp(&text).map_err(|e| row.invalid(name, Box::new(e))))
        .transpose()
}

/// One row of the stores' `jobs_stats.sql`: a queue (none when no job is
/// open at all) and the number of live workers, which every row repeats.
pub(crate) fn queue_stats_row<R: Columns>(row: &R) -> Result<(Option<QueueDepth>, u64), R::Error> {
    let live_workers = non_negative(row.int("workers")?);
    let Some(queue) = row.opt_text("queue")? else {
        return Ok((None, live_workers));
    };
    let count = |name: &str| row.opt_int(name).map(|n| non_negative(n.unwrap_or(0)));
    let depth = QueueDepth {
        queue,
        waiting: count("waiting")?,
        scheduled: count("scheduled")?,
        running: count("running")?,
        oldest_waiting_since: opt_timestamp(row, "oldest_waiting")?,
    };
    Ok((Some(depth), live_workers))
}

/// The rows of `jobs_stats.sql` as one [`QueueStats`].
pub(crate) fn queue_stats_of(rows: Vec<(Option<QueueDepth>, u64)>) -> QueueStats {
    let live_workers = rows.first().map_or(0, |(_, n)| *n);
    QueueStats {
        queues: rows.into_iter().filter_map(|(depth, _)| depth).collect(),
        live_workers,
    }
}

fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Counts jobs in [`ENQUEUED_METRIC`], by kind and queue. The stores call
/// it once the transaction that added them has committed, so a job rolled
/// back with the change that needed it is not counted.
pub(crate) fn count_enqueued<'a>(jobs: impl IntoIterator<Item = &'a NewJob>) {
    // Grouped first: `enqueue_many` may add ten thousand jobs of one kind,
    // and each increment looks its labels up.
    let mut groups: Vec<(&str, &str, u64)> = Vec::new();
    for job in jobs {
        match groups
            .iter_mut()
            .find(|(kind, queue, _)| *kind == job.kind && *queue == job.queue)
        {
            Some((_, _, n)) => *n += 1,
            None => groups.push((&job.kind, &job.queue, 1)),
        }
    }
    for (kind, queue, n) in groups {
        metrics::counter!(ENQUEUED_METRIC, "kind" => kind.to_owned(), "queue" => queue.to_owned())
            .increment(n);
    }
}

/// An instant as the microseconds since the Unix epoch that
/// `locked_until_us` holds.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A `u32` of the domain as a BIGINT parameter.
pub(crate) fn big(n: u32) -> i64 {
    i64::from(n)
}

/// A `u64` of the domain (progress) as a BIGINT parameter; a count past
/// `i64::MAX` is kept as that.
pub(crate) fn big_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `now` less `span`; the earliest instant chrono knows when that is
/// before it.
pub(crate) fn earlier(now: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(span)
        .ok()
        .and_then(|span| now.checked_sub_signed(span))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The error for a job of `enqueue_many` that the insert skipped, which
/// only a singleton key could cause, and those are refused beforehand.
pub(crate) fn skipped() -> StoreError {
    StoreError::Rule("a job without a singleton key was not inserted".to_owned())
}

/// An error message as stored: without NUL characters, which PostgreSQL's
/// text cannot hold, and cut at [`MAX_ERROR_BYTES`] on a character
/// boundary.
pub(crate) fn error_text(error: &str) -> String {
    let mut end = error.len().min(MAX_ERROR_BYTES);
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error[..end].replace('\0', "\u{fffd}")
}

/// The refusal of [`crate::store::JobQueue::enqueue_many`] for a job with
/// a singleton key.
pub(crate) fn refuse_singletons(jobs: &[crate::jobs::NewJob]) -> Result<(), StoreError> {
    match jobs.iter().find_map(|j| j.singleton_key.as_deref()) {
        Some(key) => Err(StoreError::Rule(format!(
            "enqueue_many takes no singleton jobs (key `{key}`); enqueue those one at a time"
        ))),
        None => Ok(()),
    }
}

// ------------------------------------------------------------------ wakeup

/// Wakes the threads of this process that wait for jobs, without losing
/// a wake-up that comes between a thread's empty claim and its next wait.
///
/// A counter of wake-ups (an "event count"): [`Wakeup::notify`] raises
/// it, and [`Wakeup::wait`] returns as soon as it differs from the value
/// the calling thread saw when its previous wait returned. A job that was
/// enqueued while the thread was claiming therefore ends the next wait at
/// once, instead of after its whole timeout. A thread's first wait has no
/// previous value and waits (the store is new to it; the caller claims
/// before it waits anyway).
///
/// Where the news comes from outside the process (PostgreSQL's `NOTIFY`),
/// one waiter at a time, the leader, listens for it with the function it
/// is given and raises the counter for all; the others wait on the
/// condition variable, and one of them takes over when the leader leaves.
///
/// Limitations: the value seen is kept per thread, so a caller that waits
/// on one thread and claims on another (a pool of blocking threads) may
/// still miss a wake-up and wait until its timeout, which is why callers
/// poll with a timeout as well. Wake-ups are not counted per queue: any
/// new job wakes every waiter.
#[derive(Debug)]
pub(crate) struct Wakeup {
    /// Unique in the process, unlike an address, which a later wakeup
    /// may reuse.
    id: u64,
    state: Mutex<WakeState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct WakeState {
    /// Raised by every wake-up.
    generation: u64,
    /// Whether a waiter is listening for news from outside.
    has_leader: bool,
}

/// A listener for news from outside the process: waits at most the given
/// time and says whether news came. It must not return `Ok(false)` before
/// that time is up (its waiters would spin), and looks once without
/// waiting when the time is zero.
pub(crate) type Listen<'a> = &'a mut dyn FnMut(Duration) -> Result<bool, StoreError>;

/// How many wakeups a thread remembers what it saw of; more are only met
/// in tests that open many stores on one thread.
const SEEN_SLOTS: usize = 16;

thread_local! {
    /// Per wakeup (by id), the generation this thread saw last.
    static SEEN: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

impl Wakeup {
    pub(crate) fn new() -> Wakeup {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Wakeup {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            state: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    /// Wakes every waiter, and makes the next wait of every thread that is
    /// not waiting return at once.
    pub(crate) fn notify(&self) {
        let mut state = self.lock();
        state.generation = state.generation.wrapping_add(1);
        drop(state);
        self.changed.notify_all();
    }

    /// Blocks until a wake-up that the calling thread has not seen, or
    /// until `timeout` has passed; with `listen`, listens for news from
    /// outside while no other waiter does. A zero timeout only looks (and
    /// listens once, which opens what `listen` listens with).
    ///
    /// # Errors
    /// What `listen` returns; the wait ends with it.
    pub(crate) fn wait(
        &self,
        timeout: Duration,
        mut listen: Option<Listen<'_>>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let mut state = self.lock();
        let seen = self.seen().unwrap_or(state.generation);
        let mut has_listened = false;
        let outcome = loop {
            if state.generation != seen {
                break Ok(());
            }
            let left = timeout.saturating_sub(started.elapsed());
            // Listen unless another waiter does, or this one did and has no
            // time left.
            let may_lead = !(state.has_leader || (has_listened && left.is_zero()));
            match listen.as_mut() {
                Some(listen) if may_lead => {
                    state.has_leader = true;
                    drop(state);
                    let heard = listen(left);
                    has_listened = true;
                    state = self.lock();
                    state.has_leader = false;
                    if matches!(heard, Ok(true)) {
                        state.generation = state.generation.wrapping_add(1);
                    }
                    // News for the others, or a free seat for the next
                    // leader.
                    self.changed.notify_all();
                    if let Err(e) = heard {
                        break Err(e);
                    }
                }
                _ if left.is_zero() => break Ok(()),
                _ => {
                    state = self
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        };
        self.remember(state.generation);
        outcome
    }

    fn lock(&self) -> MutexGuard<'_, WakeState> {
        // The state is two plain values, valid whatever a panicking holder
        // left behind.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn seen(&self) -> Option<u64> {
        let key = self.id;
        SEEN.with_borrow(|seen| seen.iter().find(|(k, _)| *k == key).map(|(_, g)| *g))
    }

    fn remember(&self, generation: u64) {
        let key = self.id;
        SEEN.with_borrow_mut(|seen| {
            if let Some(slot) = seen.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = generation;
                return;
            }
            if seen.len() >= SEEN_SLOTS {
                seen.remove(0);
            }
            seen.push((key, generation));
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn error_text_drops_nul_and_cuts_on_a_character_boundary() {
        assert_eq!(error_text("a\0b"), "a\u{fffd}b");
        let long = "ä".repeat(MAX_ERROR_BYTES);
        let cut = error_text(&long);
        assert!(cut.len() <= MAX_ERROR_BYTES);
        assert!(cut.chars().all(|c| c == 'ä'));
    }

    #[test]
    fn a_wait_without_news_lasts_its_timeout() {
        let w = Wakeup::new();
        let started = Instant::now();
        w.wait(Duration::from_millis(30), None).expect("waited");
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn news_between_two_waits_ends_the_second_at_once() {
        let w = Wakeup::new();
        w.wait(Duration::ZERO, None).expect("first wait");
        w.notify();
        let started = Instant::now();
        w.wait(Duration::from_secs(60), None).expect("second wait");
        assert!(started.elapsed() < Duration::from_secs(60));
        // Seen now: the third wait waits again.
        let started = Instant::now();
        w.wait(Duration::from_millis(20), None).expect("third wait");
        assert!(started.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn a_notify_from_another_thread_wakes_a_waiter() {
        let w = Arc::new(Wakeup::new());
        let (tx, rx) = mpsc::channel();
        let waiter = {
            let w = Arc::clone(&w);
            std::thread::spawn(move || {
                w.wait(Duration::ZERO, None).expect("baseline");
                tx.send(()).expect("ready");
                let started = Instant::now();
                w.wait(Duration::from_secs(60), None).expect("woken");
                started.elapsed()
            })
        };
        rx.recv().expect("the waiter is ready");
        w.notify();
        assert!(waiter.join().expect("waiter") < Duration::from_secs(60));
    }

    #[test]
    fn news_heard_by_the_leader_wakes_the_others_too() {
        let w = Arc::new(Wakeup::new());
        let (heard_tx, heard_rx) = mpsc::channel::<()>();
        let heard_rx = Arc::new(Mutex::new(heard_rx));
        let ready = Arc::new(std::sync::Barrier::new(4));
        let mut waiters = Vec::new();
        for _ in 0..3 {
            let w = Arc::clone(&w);
            let heard_rx = Arc::clone(&heard_rx);
            let ready = Arc::clone(&ready);
            waiters.push(std::thread::spawn(move || {
                // Whoever leads hears the one piece of news the test sends.
                let mut listen = |left: Duration| {
                    let rx = heard_rx.lock().unwrap_or_else(PoisonError::into_inner);
                    Ok(rx.recv_timeout(left).is_ok())
                };
                // Seen before the news, so that a thread that starts its
                // wait late still counts it as new.
                w.wait(Duration::ZERO, None).expect("baseline");
                ready.wait();
                let started = Instant::now();
                w.wait(Duration::from_secs(60), Some(&mut listen))
                    .expect("woken");
                started.elapsed()
            }));
        }
        ready.wait();
        heard_tx.send(()).expect("news sent");
        for waiter in waiters {
            assert!(waiter.join().expect("waiter") < Duration::from_secs(60));
        }
    }

    #[test]
    fn a_failing_listener_ends_the_wait_with_its_error() {
        let w = Wakeup::new();
        let mut listen = |_: Duration| Err(StoreError::Rule("gone".into()));
        let e = w
            .wait(Duration::from_secs(60), Some(&mut listen))
            .expect_err("the listener failed");
        assert!(matches!(e, StoreError::Rule(_)), "{e}");
    }
}
