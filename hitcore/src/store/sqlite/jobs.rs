//! [`JobQueue`] on SQLite: jobs and workers in their tables, safe for any
//! number of threads and processes on one database file.
//!
//! SQLite lets one writer in at a time, and every change here is a write
//! transaction begun with `BEGIN IMMEDIATE`: the claim chooses and locks
//! its jobs in one guarded `UPDATE ... RETURNING` that no other process
//! can interleave with. Writers that find the lock taken wait for it up to
//! the busy timeout the store sets on every connection.
//!
//! Waiting for jobs: enqueues of this process wake its waiters through the
//! store's [`Wakeup`]; those of other processes are found when the wait
//! times out and the worker claims again.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{SqliteStore, Ts, id_list};
use crate::ability::{ManageJob, Permit};
use crate::id::{JobId, PersonId, WorkerId};
use crate::jobs::{Job, NewJob, Progress, QueueStats};
use crate::store::jobs::{
    self as shared, JOB_COLUMNS, big, big_count, count_enqueued, error_text, micros,
    refuse_singletons, skipped,
};
use crate::store::{JobQueue, StoreError};

const CLAIM_SQL: &str = include_str!("jobs_claim.sql");
const RECOVER_SQL: &str = include_str!("jobs_recover.sql");
const STATS_SQL: &str = include_str!("jobs_stats.sql");

/// The claim for one queue: an equality on the first column of the claim
/// index, whose order then is the order wanted, so SQLite reads no more
/// than `limit` entries of it.
static CLAIM_ONE_QUEUE: LazyLock<String> = LazyLock::new(|| claim_sql("queue = ?4"));
/// The claim for several queues (a JSON array), whose candidates are
/// sorted.
static CLAIM_QUEUES: LazyLock<String> =
    LazyLock::new(|| claim_sql("queue IN (SELECT value FROM json_each(?4))"));

fn claim_sql(queues: &str) -> String {
    CLAIM_SQL
        .replace("{queues}", queues)
        .replace("{columns}", JOB_COLUMNS)
}

const INSERT_SQL: &str = "INSERT INTO jobs (kind, payload, queue, priority, run_at, \
     max_attempts, max_run_secs, enqueued_by, singleton_key, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT DO NOTHING RETURNING id";

/// [`JobQueue::bring_forward`]: the open job of the key, if nobody holds
/// it, it was never tried and it is due after the new time.
const BRING_FORWARD_SQL: &str = "UPDATE jobs SET run_at = ?2 \
     WHERE singleton_key = ?1 AND finished_at IS NULL AND failed_at IS NULL \
     AND locked_by IS NULL AND attempts = 0 AND run_at > ?2";

/// What puts a job back in the queue: no worker, and the attempt not
/// counted (it did not happen).
const UNLOCK_UNCOUNTED: &str = "locked_by = NULL, locked_at = NULL, locked_until_us = NULL, \
     attempts = max(attempts - 1, 0)";

fn job_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    shared::job(r)
}

fn changed(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Adds `job` in the caller's open transaction, so that the job exists
/// exactly when the change that needs it is committed; `None` when a job
/// with the same singleton key is pending or running.
///
/// The workers of this process learn of the job only from
/// [`SqliteStore::wake_workers`], which the caller calls once the
/// transaction is committed (waking them before would let them look too
/// early); without it they find the job when their wait times out.
pub(crate) fn enqueue_in(
    tx: &Transaction<'_>,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Option<JobId>, StoreError> {
    let id = tx
        .prepare_cached(INSERT_SQL)?
        .query_row(
            params![
                job.kind,
                job.payload.to_string(),
                job.queue,
                job.priority,
                Ts(job.run_at),
                big(job.max_attempts),
                big(job.max_run_secs),
                job.enqueued_by.map(|p| p.0),
                job.singleton_key,
                Ts(now),
            ],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.map(JobId))
}

impl SqliteStore {
    /// Wakes this process's threads that wait for jobs; see [`enqueue_in`].
    pub(crate) fn wake_workers(&self) {
        self.wakeup.notify();
    }

    /// Runs one statement that changes jobs of `worker` listed in `ids`
    /// (a JSON array as `?2`, the worker as `?1`) and says how many.
    fn change_held(
        &self,
        sql: &str,
        worker: WorkerId,
        ids: &[JobId],
        now: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let list = id_list(ids.iter().map(|id| id.0));
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(sql)?;
            let n = match now {
                Some(now) => stmt.execute(params![worker.0, list, Ts(now)])?,
                None => stmt.execute(params![worker.0, list])?,
            };
            Ok(changed(n))
        })
    }

    fn select_jobs(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Job>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params, job_row)?;
            Ok(rows.collect::<Result<Vec<Job>, _>>()?)
        })
    }
}

impl JobQueue for SqliteStore {
    #[tracing::instrument(skip_all, fields(job.kind = %job.kind))]
    fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<JobId>, StoreError> {
        let id = self.write(|tx| enqueue_in(tx, job, now))?;
        if id.is_some() {
            count_enqueued([job]);
        }
        if id.is_some() && job.run_at <= now {
            self.wake_workers();
        }
        Ok(id)
    }

    #[tracing::instrument(skip_all, fields(job.count = jobs.len()))]
    fn enqueue_many(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<Vec<JobId>, StoreError> {
        refuse_singletons(jobs)?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.write(|tx| {
            jobs.iter()
                .map(|job| enqueue_in(tx, job, now)?.ok_or_else(skipped))
                .collect::<Result<Vec<JobId>, StoreError>>()
        })?;
        count_enqueued(jobs);
        if jobs.iter().any(|j| j.run_at <= now) {
            self.wake_workers();
        }
        Ok(ids)
    }

    #[tracing::instrument(skip_all, fields(job.singleton_key = singleton_key))]
    fn bring_forward(
        &self,
        singleton_key: &str,
        run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.write(|tx| {
            Ok(tx
                .prepare_cached(BRING_FORWARD_SQL)?
                .execute(params![singleton_key, Ts(run_at)])?)
        })?;
        Ok(n > 0)
    }

    #[tracing::instrument(skip_all, fields(worker.pid = pid))]
    fn register_worker(
        &self,
        host: &str,
        pid: u32,
        now: DateTime<Utc>,
    ) -> Result<WorkerId, StoreError> {
        self.write(|tx| {
            let id: i64 = tx
                .prepare_cached(
                    "INSERT INTO workers (host, pid, started_at, heartbeat_at) \
                     VALUES (?1, ?2, ?3, ?3) RETURNING id",
                )?
                .query_row(params![host, pid, Ts(now)], |r| r.get(0))?;
            Ok(WorkerId(id))
        })
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker))]
    fn heartbeat(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE workers SET heartbeat_at = ?2 WHERE id = ?1 AND stopped_at IS NULL",
                )?
                .execute(params![worker.0, Ts(now)])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker))]
    fn stop_worker(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let released = self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE workers SET stopped_at = coalesce(stopped_at, ?2) WHERE id = ?1",
                )?
                .execute(params![worker.0, Ts(now)])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let sql = format!("UPDATE jobs SET {UNLOCK_UNCOUNTED} WHERE locked_by = ?1");
            Ok(changed(tx.prepare_cached(&sql)?.execute([worker.0])?))
        })?;
        if released > 0 {
            self.wake_workers();
        }
        Ok(released)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, limit))]
    fn claim(
        &self,
        worker: WorkerId,
        queues: &[String],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (sql, queue_param) = match queues {
            [] => return Ok(Vec::new()),
            [one] => (CLAIM_ONE_QUEUE.as_str(), one.clone()),
            many => (
                CLAIM_QUEUES.as_str(),
                serde_json::Value::from(many.to_vec()).to_string(),
            ),
        };
        let mut jobs = self.write(|tx| {
            let mut stmt = tx.prepare_cached(sql)?;
            let rows = stmt.query_map(
                params![worker.0, Ts(now), micros(now), queue_param, limit],
                job_row,
            )?;
            Ok(rows.collect::<Result<Vec<Job>, _>>()?)
        })?;
        jobs.sort_by_key(|j| (j.priority, j.run_at, j.id));
        Ok(jobs)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.count = ids.len()))]
    fn succeed(
        &self,
        worker: WorkerId,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.change_held(
            "UPDATE jobs SET finished_at = ?3, locked_by = NULL, locked_until_us = NULL \
             WHERE id IN (SELECT value FROM json_each(?2)) AND locked_by = ?1",
            worker,
            ids,
            Some(now),
        )
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.id = %id))]
    fn fail(
        &self,
        worker: WorkerId,
        id: JobId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Retried: back to the queue for its time. Given up: kept as
        // failed, with the start of its last attempt.
        let (sql, at) = match retry_at {
            Some(at) => (
                "UPDATE jobs SET last_error = ?3, run_at = ?4, locked_by = NULL, \
                 locked_at = NULL, locked_until_us = NULL WHERE id = ?2 AND locked_by = ?1",
                at,
            ),
            None => (
                "UPDATE jobs SET last_error = ?3, failed_at = ?4, locked_by = NULL, \
                 locked_until_us = NULL WHERE id = ?2 AND locked_by = ?1",
                now,
            ),
        };
        let error = error_text(error);
        let n = self.write(|tx| {
            Ok(tx
                .prepare_cached(sql)?
                .execute(params![worker.0, id.0, error, Ts(at)])?)
        })?;
        Ok(n > 0)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.count = ids.len()))]
    fn release(&self, worker: WorkerId, ids: &[JobId]) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE jobs SET {UNLOCK_UNCOUNTED} \
             WHERE id IN (SELECT value FROM json_each(?2)) AND locked_by = ?1"
        );
        let released = self.change_held(&sql, worker, ids, None)?;
        if released > 0 {
            self.wake_workers();
        }
        Ok(released)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.id = %id))]
    fn set_progress(
        &self,
        worker: WorkerId,
        id: JobId,
        progress: Progress,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE jobs SET progress_done = ?3, progress_total = ?4 \
                     WHERE id = ?2 AND locked_by = ?1",
                )?
                .execute(params![
                    worker.0,
                    id.0,
                    big_count(progress.done),
                    big_count(progress.total)
                ])?;
            held(n)
        })
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.id = %id))]
    fn set_result_file(&self, worker: WorkerId, id: JobId, key: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE jobs SET result_file = ?3 WHERE id = ?2 AND locked_by = ?1",
                )?
                .execute(params![worker.0, id.0, key])?;
            held(n)
        })
    }

    #[tracing::instrument(skip_all)]
    fn recover(&self, now: DateTime<Utc>, dead_after: Duration) -> Result<u64, StoreError> {
        let beat_before = shared::earlier(now, dead_after);
        let taken = self.write(|tx| {
            let n = tx.prepare_cached(RECOVER_SQL)?.execute(params![
                Ts(now),
                Ts(beat_before),
                micros(now)
            ])?;
            Ok(changed(n))
        })?;
        if taken > 0 {
            tracing::warn!(
                job.count = taken,
                "Took back {taken} jobs from dead or overdue workers"
            );
            self.wake_workers();
        }
        Ok(taken)
    }

    fn wait_for_jobs(&self, timeout: Duration) -> Result<(), StoreError> {
        self.wakeup.wait(timeout, None)
    }

    #[tracing::instrument(skip_all, fields(job.id = %id))]
    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        Ok(self.select_jobs(&sql, [id.0])?.pop())
    }

    #[tracing::instrument(skip_all, fields(person.id = %person))]
    fn jobs_of_person(&self, person: PersonId, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE enqueued_by = ?1 \
             ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        self.select_jobs(&sql, params![person.0, limit])
    }

    #[tracing::instrument(skip_all)]
    fn failed_jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE failed_at IS NOT NULL \
             ORDER BY failed_at DESC, id DESC LIMIT ?1"
        );
        self.select_jobs(&sql, [limit])
    }

    #[tracing::instrument(skip_all)]
    fn open_job_count(&self) -> Result<u64, StoreError> {
        // Pending and running jobs, each half from its partial index.
        self.read(|c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT (SELECT COUNT(*) FROM jobs WHERE locked_by IS NULL \
                     AND finished_at IS NULL AND failed_at IS NULL) \
                     + (SELECT COUNT(*) FROM jobs WHERE locked_by IS NOT NULL)",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    #[tracing::instrument(skip_all)]
    fn queue_stats(
        &self,
        now: DateTime<Utc>,
        dead_after: Duration,
    ) -> Result<QueueStats, StoreError> {
        let beat_since = shared::earlier(now, dead_after);
        self.read(|c| {
            let mut stmt = c.prepare_cached(STATS_SQL)?;
            let rows = stmt.query_map(params![Ts(now), Ts(beat_since)], |r| {
                shared::queue_stats_row(r)
            })?;
            Ok(shared::queue_stats_of(rows.collect::<Result<_, _>>()?))
        })
    }

    #[tracing::instrument(skip_all, fields(job.id = %permit.target().0))]
    fn retry_job(&self, permit: &Permit<ManageJob>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE jobs SET attempts = 0, failed_at = NULL, run_at = ?2, \
                     locked_at = NULL, progress_done = NULL, progress_total = NULL \
                     WHERE id = ?1 AND failed_at IS NOT NULL",
                )?
                .execute(params![id.0, Ts(now)])?;
            changed_one(n)
        })?;
        self.wake_workers();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(job.id = %permit.target().0))]
    fn delete_job(&self, permit: &Permit<ManageJob>) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM jobs WHERE id = ?1 AND failed_at IS NOT NULL")?
                .execute([id.0])?;
            changed_one(n)
        })
    }

    #[tracing::instrument(skip_all)]
    fn delete_settled_before(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "DELETE FROM jobs WHERE finished_at < ?1 OR failed_at < ?1 RETURNING {JOB_COLUMNS}"
        );
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([Ts(cutoff)], job_row)?;
            Ok(rows.collect::<Result<Vec<Job>, _>>()?)
        })
    }
}

/// A change of a job the worker holds: [`StoreError::NotFound`] when it
/// does not (any longer), or the job is gone.
fn held(n: usize) -> Result<(), StoreError> {
    changed_one(n)
}

/// One row changed, or [`StoreError::NotFound`]: the job is not there, or
/// not in the state the change needs.
fn changed_one(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
