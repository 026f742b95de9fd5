//! [`JobQueue`] on PostgreSQL: jobs and workers in their tables, claimed
//! with `FOR UPDATE SKIP LOCKED`, so that any number of workers on any
//! hosts claim at once without waiting for each other.
//!
//! Unlike the other repositories, the queue does not write `SERIALIZABLE`:
//! two claims that pass over each other's locked rows would abort each
//! other there. Each change is one statement, or a `READ COMMITTED`
//! transaction where it takes two; their conditions re-check a row that
//! another transaction changed meanwhile, so a job held by one worker is
//! never changed on behalf of another.
//!
//! The statements of every job's life (enqueue, claim, succeed, fail) and
//! of the heartbeat go to the server with their parameter types
//! (`query_typed`): one round trip instead of a prepare and an execute.
//!
//! Waiting for jobs: every enqueue of a due job notifies channel
//! `hit_jobs` within its transaction, which the server delivers on commit.
//! [`Listener`] keeps one connection of its own (outside the pool) that
//! listens on that channel, opened on the first wait and again after an
//! error; see [`crate::store::jobs::Wakeup`] for how the waiting threads
//! share it.

use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, IsolationLevel, NoTls, Row, Transaction};

use super::{PostgresStore, query_count, unavailable};
use crate::ability::{ManageJob, Permit};
use crate::id::{JobId, PersonId, WorkerId};
use crate::jobs::{Job, NewJob, Progress, QueueStats};
use crate::store::jobs::{
    self as shared, JOB_COLUMNS, Wakeup, big, big_count, count_enqueued, error_text, micros,
    refuse_singletons, skipped,
};
use crate::store::sql::timestamp_text;
use crate::store::{JobQueue, StoreError};

/// The channel enqueues notify and waiting workers listen on.
const CHANNEL: &str = "hit_jobs";

const CLAIM_SQL: &str = include_str!("jobs_claim.sql");
const RECOVER_SQL: &str = include_str!("jobs_recover.sql");
const INSERT_MANY_SQL: &str = include_str!("jobs_insert_many.sql");
const STATS_SQL: &str = include_str!("jobs_stats.sql");

/// The claim for one queue: an equality on the first column of the claim
/// index, whose order then is the order wanted, so the server reads no
/// more than `limit` entries of it (with `= ANY` it would sort them all).
static CLAIM_ONE_QUEUE: LazyLock<String> = LazyLock::new(|| claim_sql("queue = $4"));
/// The claim for several queues, whose candidates are sorted.
static CLAIM_QUEUES: LazyLock<String> = LazyLock::new(|| claim_sql("queue = ANY($4)"));

fn claim_sql(queues: &str) -> String {
    CLAIM_SQL
        .replace("{queues}", queues)
        .replace("{columns}", JOB_COLUMNS)
}

const INSERT_SQL: &str = "INSERT INTO jobs (kind, payload, queue, priority, run_at, \
     max_attempts, max_run_secs, enqueued_by, singleton_key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT DO NOTHING RETURNING id";

/// What puts a job back in the queue: no worker, and the attempt not
/// counted (it did not happen).
const UNLOCK_UNCOUNTED: &str = "locked_by = NULL, locked_at = NULL, locked_until_us = NULL, \
     attempts = GREATEST(attempts - 1, 0)";

fn jobs_of(rows: &[Row]) -> Result<Vec<Job>, StoreError> {
    rows.iter().map(shared::job).collect()
}

/// Adds `job` in the caller's open transaction, so that the job exists
/// exactly when the change that needs it is committed; `None` when a job
/// with the same singleton key is pending or running.
///
/// A job that is due already sends `NOTIFY` on the same transaction,
/// which the server delivers to the waiting workers on commit, and drops
/// if the transaction rolls back; the caller has nothing more to do.
/// Inside a `SERIALIZABLE` transaction (the other repositories' writes),
/// a concurrent insert of the same singleton key may fail it with a
/// serialization failure, which those writes retry.
pub(crate) fn enqueue_in(
    tx: &mut Transaction<'_>,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Option<JobId>, StoreError> {
    let row = tx.query_typed_opt(
        INSERT_SQL,
        &[
            (&job.kind, Type::TEXT),
            (&job.payload.to_string(), Type::TEXT),
            (&job.queue, Type::TEXT),
            (&i64::from(job.priority), Type::INT8),
            (&timestamp_text(job.run_at), Type::TEXT),
            (&big(job.max_attempts), Type::INT8),
            (&big(job.max_run_secs), Type::INT8),
            (&job.enqueued_by.map(|p| p.0), Type::INT8),
            (&job.singleton_key, Type::TEXT),
            (&timestamp_text(now), Type::TEXT),
        ],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    if job.run_at <= now {
        notify(tx)?;
    }
    Ok(Some(JobId(row.try_get(0)?)))
}

/// Tells the listening workers of this schema, on commit, that jobs may
/// be due.
fn notify(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute(NOTIFY_SQL)?;
    Ok(())
}

/// `NOTIFY` on [`CHANNEL`] with the schema as its payload (see
/// [`Listener`]), which the statement form cannot compute.
const NOTIFY_SQL: &str = "SELECT pg_notify('hit_jobs', coalesce(current_schema(), ''))";

impl PostgresStore {
    /// Runs `f` in a `READ COMMITTED` transaction, committed only when `f`
    /// succeeds.
    pub(super) fn queue_write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool().get().map_err(unavailable)?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs one statement that changes jobs of `worker` (`$1`) listed in
    /// `ids` (`$2`), with `now` as `$3` when given, notifying the waiting
    /// workers when `wakes` and a job changed; says how many changed.
    fn change_held(
        &self,
        sql: &str,
        worker: WorkerId,
        ids: &[JobId],
        now: Option<DateTime<Utc>>,
        wakes: bool,
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let now = now.map(timestamp_text);
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> =
            vec![(&worker.0, Type::INT8), (&ids, Type::INT8_ARRAY)];
        if let Some(now) = &now {
            params.push((now, Type::TEXT));
        }
        if !wakes {
            return self.read(|c| Ok(c.execute_typed(sql, &params)?));
        }
        self.queue_write(|tx| {
            let n = tx.execute(sql, &params.iter().map(|(p, _)| *p).collect::<Vec<_>>())?;
            if n > 0 {
                notify(tx)?;
            }
            Ok(n)
        })
    }

    fn select_jobs(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Job>, StoreError> {
        self.read(|c| jobs_of(&c.query(sql, params)?))
    }
}

impl JobQueue for PostgresStore {
    #[tracing::instrument(skip_all, fields(job.kind = %job.kind))]
    fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<JobId>, StoreError> {
        let id = self.queue_write(|tx| enqueue_in(tx, job, now))?;
        if id.is_some() {
            count_enqueued([job]);
        }
        Ok(id)
    }

    #[tracing::instrument(skip_all, fields(job.count = jobs.len()))]
    fn enqueue_many(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<Vec<JobId>, StoreError> {
        refuse_singletons(jobs)?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let columns = ManyJobs::of(jobs);
        let is_due = jobs.iter().any(|j| j.run_at <= now);
        let mut ids = self.queue_write(|tx| {
            let rows = tx.query(
                INSERT_MANY_SQL,
                &[
                    &columns.kind,
                    &columns.payload,
                    &columns.queue,
                    &columns.priority,
                    &columns.run_at,
                    &columns.max_attempts,
                    &columns.max_run_secs,
                    &columns.enqueued_by,
                    &timestamp_text(now),
                ],
            )?;
            if is_due {
                notify(tx)?;
            }
            rows.iter()
                .map(|r| Ok(JobId(r.try_get(0)?)))
                .collect::<Result<Vec<JobId>, StoreError>>()
        })?;
        if ids.len() != jobs.len() {
            return Err(skipped());
        }
        count_enqueued(jobs);
        ids.sort();
        Ok(ids)
    }

    #[tracing::instrument(skip_all, fields(job.singleton_key = singleton_key))]
    fn bring_forward(
        &self,
        singleton_key: &str,
        run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.read(|c| {
            Ok(c.execute(
                "UPDATE jobs SET run_at = $2 \
                 WHERE singleton_key = $1 AND finished_at IS NULL AND failed_at IS NULL \
                 AND locked_by IS NULL AND attempts = 0 AND run_at > $2",
                &[&singleton_key, &timestamp_text(run_at)],
            )?)
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
        self.read(|c| {
            let row = c.query_one(
                "INSERT INTO workers (host, pid, started_at, heartbeat_at) \
                 VALUES ($1, $2, $3, $3) RETURNING id",
                &[&host, &i64::from(pid), &timestamp_text(now)],
            )?;
            Ok(WorkerId(row.try_get(0)?))
        })
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker))]
    fn heartbeat(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let n = self.read(|c| {
            Ok(c.execute_typed(
                "UPDATE workers SET heartbeat_at = $2 WHERE id = $1 AND stopped_at IS NULL",
                &[(&worker.0, Type::INT8), (&timestamp_text(now), Type::TEXT)],
            )?)
        })?;
        changed_one(n)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker))]
    fn stop_worker(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.queue_write(|tx| {
            let n = tx.execute(
                "UPDATE workers SET stopped_at = coalesce(stopped_at, $2) WHERE id = $1",
                &[&worker.0, &timestamp_text(now)],
            )?;
            changed_one(n)?;
            let sql = format!("UPDATE jobs SET {UNLOCK_UNCOUNTED} WHERE locked_by = $1");
            let released = tx.execute(&sql, &[&worker.0])?;
            if released > 0 {
                notify(tx)?;
            }
            Ok(released)
        })
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, limit))]
    fn claim(
        &self,
        worker: WorkerId,
        queues: &[String],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 || queues.is_empty() {
            return Ok(Vec::new());
        }
        let now_text = timestamp_text(now);
        let now_us = micros(now);
        let limit = i64::from(limit);
        let (sql, queue): (&str, (&(dyn ToSql + Sync), Type)) = match queues {
            [one] => (CLAIM_ONE_QUEUE.as_str(), (one, Type::TEXT)),
            _ => (CLAIM_QUEUES.as_str(), (&queues, Type::TEXT_ARRAY)),
        };
        let rows = self.read(|c| {
            Ok(c.query_typed(
                sql,
                &[
                    (&worker.0, Type::INT8),
                    (&now_text, Type::TEXT),
                    (&now_us, Type::INT8),
                    queue,
                    (&limit, Type::INT8),
                ],
            )?)
        })?;
        let mut jobs = jobs_of(&rows)?;
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
            "UPDATE jobs SET finished_at = $3, locked_by = NULL, locked_until_us = NULL \
             WHERE id = ANY($2) AND locked_by = $1",
            worker,
            ids,
            Some(now),
            false,
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
                "UPDATE jobs SET last_error = $3, run_at = $4, locked_by = NULL, \
                 locked_at = NULL, locked_until_us = NULL WHERE id = $2 AND locked_by = $1",
                at,
            ),
            None => (
                "UPDATE jobs SET last_error = $3, failed_at = $4, locked_by = NULL, \
                 locked_until_us = NULL WHERE id = $2 AND locked_by = $1",
                now,
            ),
        };
        let error = error_text(error);
        let n = self.read(|c| {
            Ok(c.execute_typed(
                sql,
                &[
                    (&worker.0, Type::INT8),
                    (&id.0, Type::INT8),
                    (&error, Type::TEXT),
                    (&timestamp_text(at), Type::TEXT),
                ],
            )?)
        })?;
        Ok(n > 0)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.count = ids.len()))]
    fn release(&self, worker: WorkerId, ids: &[JobId]) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE jobs SET {UNLOCK_UNCOUNTED} WHERE id = ANY($2::bigint[]) AND locked_by = $1"
        );
        self.change_held(&sql, worker, ids, None, true)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.id = %id))]
    fn set_progress(
        &self,
        worker: WorkerId,
        id: JobId,
        progress: Progress,
    ) -> Result<(), StoreError> {
        let n = self.read(|c| {
            Ok(c.execute_typed(
                "UPDATE jobs SET progress_done = $3, progress_total = $4 \
                 WHERE id = $2 AND locked_by = $1",
                &[
                    (&worker.0, Type::INT8),
                    (&id.0, Type::INT8),
                    (&big_count(progress.done), Type::INT8),
                    (&big_count(progress.total), Type::INT8),
                ],
            )?)
        })?;
        changed_one(n)
    }

    #[tracing::instrument(skip_all, fields(worker.id = %worker, job.id = %id))]
    fn set_result_file(&self, worker: WorkerId, id: JobId, key: &str) -> Result<(), StoreError> {
        let n = self.read(|c| {
            Ok(c.execute(
                "UPDATE jobs SET result_file = $3 WHERE id = $2 AND locked_by = $1",
                &[&worker.0, &id.0, &key],
            )?)
        })?;
        changed_one(n)
    }

    #[tracing::instrument(skip_all)]
    fn recover(&self, now: DateTime<Utc>, dead_after: Duration) -> Result<u64, StoreError> {
        let beat_before = timestamp_text(shared::earlier(now, dead_after));
        let taken = self.queue_write(|tx| {
            let n = tx.execute(
                RECOVER_SQL,
                &[&timestamp_text(now), &beat_before, &micros(now)],
            )?;
            if n > 0 {
                notify(tx)?;
            }
            Ok(n)
        })?;
        if taken > 0 {
            tracing::warn!(
                job.count = taken,
                "Took back {taken} jobs from dead or overdue workers"
            );
        }
        Ok(taken)
    }

    fn wait_for_jobs(&self, timeout: Duration) -> Result<(), StoreError> {
        self.jobs.wait(timeout)
    }

    #[tracing::instrument(skip_all, fields(job.id = %id))]
    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        Ok(self.select_jobs(&sql, &[&id.0])?.pop())
    }

    #[tracing::instrument(skip_all, fields(person.id = %person))]
    fn jobs_of_person(&self, person: PersonId, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE enqueued_by = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        self.select_jobs(&sql, &[&person.0, &i64::from(limit)])
    }

    #[tracing::instrument(skip_all)]
    fn failed_jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE failed_at IS NOT NULL \
             ORDER BY failed_at DESC, id DESC LIMIT $1"
        );
        self.select_jobs(&sql, &[&i64::from(limit)])
    }

    #[tracing::instrument(skip_all)]
    fn open_job_count(&self) -> Result<u64, StoreError> {
        // Pending and running jobs, each half from its partial index.
        self.read(|c| {
            query_count(
                c,
                "SELECT (SELECT COUNT(*) FROM jobs WHERE locked_by IS NULL \
                 AND finished_at IS NULL AND failed_at IS NULL) \
                 + (SELECT COUNT(*) FROM jobs WHERE locked_by IS NOT NULL)",
                &[],
            )
        })
    }

    #[tracing::instrument(skip_all)]
    fn queue_stats(
        &self,
        now: DateTime<Utc>,
        dead_after: Duration,
    ) -> Result<QueueStats, StoreError> {
        let beat_since = timestamp_text(shared::earlier(now, dead_after));
        self.read(|c| {
            let rows = c.query(STATS_SQL, &[&timestamp_text(now), &beat_since])?;
            let rows = rows
                .iter()
                .map(shared::queue_stats_row)
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(shared::queue_stats_of(rows))
        })
    }

    #[tracing::instrument(skip_all, fields(job.id = %permit.target().0))]
    fn retry_job(&self, permit: &Permit<ManageJob>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.queue_write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET attempts = 0, failed_at = NULL, run_at = $2, \
                 locked_at = NULL, progress_done = NULL, progress_total = NULL \
                 WHERE id = $1 AND failed_at IS NOT NULL",
                &[&id.0, &timestamp_text(now)],
            )?;
            changed_one(n)?;
            notify(tx)
        })
    }

    #[tracing::instrument(skip_all, fields(job.id = %permit.target().0))]
    fn delete_job(&self, permit: &Permit<ManageJob>) -> Result<(), StoreError> {
        let id = permit.target().0;
        let n = self.read(|c| {
            Ok(c.execute(
                "DELETE FROM jobs WHERE id = $1 AND failed_at IS NOT NULL",
                &[&id.0],
            )?)
        })?;
        changed_one(n)
    }

    #[tracing::instrument(skip_all)]
    fn delete_settled_before(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "DELETE FROM jobs WHERE finished_at < $1 OR failed_at < $1 RETURNING {JOB_COLUMNS}"
        );
        self.select_jobs(&sql, &[&timestamp_text(cutoff)])
    }
}

/// One row changed, or [`StoreError::NotFound`]: the job or worker is not
/// there, not in the state the change needs, or not held by the worker.
fn changed_one(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// The columns of many new jobs, one array each, as `unnest` takes them.
struct ManyJobs {
    kind: Vec<String>,
    payload: Vec<String>,
    queue: Vec<String>,
    priority: Vec<i64>,
    run_at: Vec<String>,
    max_attempts: Vec<i64>,
    max_run_secs: Vec<i64>,
    enqueued_by: Vec<Option<i64>>,
}

impl ManyJobs {
    fn of(jobs: &[NewJob]) -> ManyJobs {
        ManyJobs {
            kind: jobs.iter().map(|j| j.kind.clone()).collect(),
            payload: jobs.iter().map(|j| j.payload.to_string()).collect(),
            queue: jobs.iter().map(|j| j.queue.clone()).collect(),
            priority: jobs.iter().map(|j| i64::from(j.priority)).collect(),
            run_at: jobs.iter().map(|j| timestamp_text(j.run_at)).collect(),
            max_attempts: jobs.iter().map(|j| big(j.max_attempts)).collect(),
            max_run_secs: jobs.iter().map(|j| big(j.max_run_secs)).collect(),
            enqueued_by: jobs.iter().map(|j| j.enqueued_by.map(|p| p.0)).collect(),
        }
    }
}

// ---------------------------------------------------------------- listener

/// The connection that listens for the notifications of new jobs, and the
/// waiters it wakes. One per store (its clones share it).
///
/// The channel is the same for every schema of a database, so each
/// notification carries the schema of the jobs as its payload, and the
/// listener passes over those of other schemas (other installations, or
/// other tests, in the same database).
pub(super) struct Listener {
    config: postgres::Config,
    /// Opened by the first wait, with the schema it listens for; dropped
    /// after an error, so that the next wait opens it again.
    client: Mutex<Option<(Client, String)>>,
    wakeup: Wakeup,
}

/// The listening connection was closed by the server or the network.
#[derive(Debug, thiserror::Error)]
#[error("the connection that listens for new jobs was closed")]
struct ListenerClosed;

impl Listener {
    pub(super) fn new(config: postgres::Config) -> Listener {
        Listener {
            config,
            client: Mutex::new(None),
            wakeup: Wakeup::new(),
        }
    }

    fn wait(&self, timeout: Duration) -> Result<(), StoreError> {
        self.wakeup
            .wait(timeout, Some(&mut |left| self.listen(left)))
    }

    /// Waits up to `timeout`, opening the connection first if need be, for
    /// a notification of this schema's jobs; says whether one came.
    fn listen(&self, timeout: Duration) -> Result<bool, StoreError> {
        let started = Instant::now();
        let mut slot = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut client, schema) = match slot.take() {
            Some(open) => open,
            None => self.connect()?,
        };
        let heard = hear(
            &mut client,
            &schema,
            timeout.saturating_sub(started.elapsed()),
        );
        if heard.is_ok() {
            *slot = Some((client, schema));
        }
        heard
    }

    fn connect(&self) -> Result<(Client, String), StoreError> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        let schema: Option<String> = client.query_one(CURRENT_SCHEMA, &[])?.try_get(0)?;
        tracing::debug!("Listening for new jobs on channel {CHANNEL}");
        Ok((client, schema.unwrap_or_default()))
    }
}

/// The schema that notifications name, as [`notify`] and the listener
/// both see it.
const CURRENT_SCHEMA: &str = "SELECT coalesce(current_schema(), '')";

/// Waits up to `timeout` for a notification naming `schema`.
fn hear(client: &mut Client, schema: &str, timeout: Duration) -> Result<bool, StoreError> {
    let started = Instant::now();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        let next = client.notifications().timeout_iter(left).next()?;
        match next {
            Some(n) if n.payload() == schema => {
                // One is enough; those that came with it wake nobody new.
                drain(client)?;
                return Ok(true);
            }
            // Another schema's jobs.
            Some(_) => {}
            // The iterator also ends at once when the connection is gone.
            None if client.is_closed() => {
                return Err(StoreError::Unavailable(Box::new(ListenerClosed)));
            }
            None => return Ok(false),
        }
    }
}

/// Takes the notifications that are already there, without waiting.
fn drain(client: &mut Client) -> Result<(), StoreError> {
    let mut notifications = client.notifications();
    let mut pending = notifications.iter();
    while pending.next()?.is_some() {}
    Ok(())
}

impl Drop for Listener {
    /// Closes the connection on a thread of its own: the driver's runtime
    /// panics on a thread that drives async tasks (see the pool's guard).
    fn drop(&mut self) {
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(client) = client {
            let closing = std::thread::Builder::new()
                .name("hit-pg-listen-close".to_owned())
                .spawn(move || drop(client));
            if let Err(e) = closing {
                tracing::warn!("Could not close the job listener on its own thread: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_go_to_the_channel_the_listener_listens_on() {
        assert!(NOTIFY_SQL.contains(&format!("pg_notify('{CHANNEL}', ")));
    }
}
