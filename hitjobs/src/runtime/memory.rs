//! A job queue in memory for the runtime's own unit tests: the contract of
//! [`JobQueue`] for one process, with a condition variable for
//! `wait_for_jobs`. The integration tests in `tests/` use the real stores.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hitcore::ability::{ManageJob, Permit};
use hitcore::jobs::{Job, JobState, NewJob, Progress, QueueDepth, QueueStats};
use hitcore::store::{JobQueue, StoreError};
use hitcore::{JobId, PersonId, WorkerId};

#[derive(Default)]
struct State {
    jobs: BTreeMap<i64, Job>,
    workers: BTreeMap<i64, DateTime<Utc>>,
    next_id: i64,
    /// The `limit` of every claim, in order.
    claim_limits: Vec<u32>,
}

/// The queue; every method takes one lock.
#[derive(Default)]
pub(crate) struct MemoryQueue {
    state: Mutex<State>,
    enqueued: Condvar,
}

impl MemoryQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `limit` of every claim so far.
    pub(crate) fn claim_limits(&self) -> Vec<u32> {
        self.lock().claim_limits.clone()
    }

    /// Every job, by id.
    pub(crate) fn all(&self) -> Vec<Job> {
        self.lock().jobs.values().cloned().collect()
    }
}

fn held_by(job: &Job, worker: WorkerId) -> bool {
    job.state() == JobState::Running && job.locked_by == Some(worker)
}

fn unlock(job: &mut Job) {
    job.locked_by = None;
    job.locked_at = None;
}

impl State {
    fn insert(&mut self, new: &NewJob, now: DateTime<Utc>) -> JobId {
        self.next_id += 1;
        let id = JobId(self.next_id);
        let job = Job {
            id,
            kind: new.kind.clone(),
            payload: new.payload.clone(),
            queue: new.queue.clone(),
            priority: new.priority,
            run_at: new.run_at,
            attempts: 0,
            max_attempts: new.max_attempts,
            max_run_secs: new.max_run_secs,
            last_error: None,
            locked_by: None,
            locked_at: None,
            finished_at: None,
            failed_at: None,
            enqueued_by: new.enqueued_by,
            progress: None,
            result_file: None,
            singleton_key: new.singleton_key.clone(),
            created_at: now,
        };
        self.jobs.insert(id.0, job);
        id
    }

    fn held_mut(&mut self, worker: WorkerId, id: JobId) -> Option<&mut Job> {
        self.jobs.get_mut(&id.0).filter(|j| held_by(j, worker))
    }
}

impl JobQueue for MemoryQueue {
    fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<JobId>, StoreError> {
        let mut state = self.lock();
        if let Some(key) = &job.singleton_key {
            let is_taken = state.jobs.values().any(|j| {
                j.singleton_key.as_ref() == Some(key)
                    && matches!(j.state(), JobState::Pending | JobState::Running)
            });
            if is_taken {
                return Ok(None);
            }
        }
        let id = state.insert(job, now);
        self.enqueued.notify_all();
        Ok(Some(id))
    }

    fn enqueue_many(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<Vec<JobId>, StoreError> {
        let mut state = self.lock();
        let ids = jobs.iter().map(|j| state.insert(j, now)).collect();
        self.enqueued.notify_all();
        Ok(ids)
    }

    fn bring_forward(
        &self,
        singleton_key: &str,
        run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let job = state.jobs.values_mut().find(|j| {
            j.singleton_key.as_deref() == Some(singleton_key) && j.state() == JobState::Pending
        });
        match job {
            Some(job) if job.attempts == 0 && job.run_at > run_at => {
                job.run_at = run_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn register_worker(
        &self,
        _host: &str,
        _pid: u32,
        now: DateTime<Utc>,
    ) -> Result<WorkerId, StoreError> {
        let mut state = self.lock();
        let id = i64::try_from(state.workers.len()).unwrap_or(i64::MAX) + 1;
        state.workers.insert(id, now);
        Ok(WorkerId(id))
    }

    fn heartbeat(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.lock().workers.insert(worker.0, now);
        Ok(())
    }

    fn stop_worker(&self, worker: WorkerId, _now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut released = 0;
        for job in state.jobs.values_mut().filter(|j| held_by(j, worker)) {
            unlock(job);
            job.attempts = job.attempts.saturating_sub(1);
            released += 1;
        }
        state.workers.remove(&worker.0);
        Ok(released)
    }

    fn claim(
        &self,
        worker: WorkerId,
        queues: &[String],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let mut state = self.lock();
        state.claim_limits.push(limit);
        let mut due: Vec<&mut Job> = state
            .jobs
            .values_mut()
            .filter(|j| j.state() == JobState::Pending && j.run_at <= now)
            .filter(|j| queues.contains(&j.queue))
            .collect();
        due.sort_by_key(|j| (j.priority, j.run_at, j.id));
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|j| {
                j.locked_by = Some(worker);
                j.locked_at = Some(now);
                j.attempts += 1;
                j.clone()
            })
            .collect())
    }

    fn succeed(
        &self,
        worker: WorkerId,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut held = 0;
        for id in ids {
            if let Some(job) = state.held_mut(worker, *id) {
                unlock(job);
                job.finished_at = Some(now);
                held += 1;
            }
        }
        Ok(held)
    }

    fn fail(
        &self,
        worker: WorkerId,
        id: JobId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(job) = state.held_mut(worker, id) else {
            return Ok(false);
        };
        unlock(job);
        job.last_error = Some(error.to_owned());
        match retry_at {
            Some(at) => job.run_at = at,
            None => job.failed_at = Some(now),
        }
        Ok(true)
    }

    fn release(&self, worker: WorkerId, ids: &[JobId]) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut held = 0;
        for id in ids {
            if let Some(job) = state.held_mut(worker, *id) {
                unlock(job);
                job.attempts = job.attempts.saturating_sub(1);
                held += 1;
            }
        }
        self.enqueued.notify_all();
        Ok(held)
    }

    fn set_progress(
        &self,
        worker: WorkerId,
        id: JobId,
        progress: Progress,
    ) -> Result<(), StoreError> {
        if let Some(job) = self.lock().held_mut(worker, id) {
            job.progress = Some(progress);
        }
        Ok(())
    }

    fn set_result_file(&self, worker: WorkerId, id: JobId, key: &str) -> Result<(), StoreError> {
        if let Some(job) = self.lock().held_mut(worker, id) {
            job.result_file = Some(key.to_owned());
        }
        Ok(())
    }

    fn recover(&self, now: DateTime<Utc>, dead_after: Duration) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let dead_after = TimeDelta::from_std(dead_after).unwrap_or(TimeDelta::MAX);
        let dead: Vec<i64> = state
            .workers
            .iter()
            .filter(|(_, beat)| now - **beat > dead_after)
            .map(|(id, _)| *id)
            .collect();
        let mut taken = 0;
        for job in state.jobs.values_mut() {
            let is_dead = job.locked_by.is_some_and(|w| dead.contains(&w.0));
            if job.is_overdue(now) || (job.state() == JobState::Running && is_dead) {
                unlock(job);
                if job.attempts >= job.max_attempts {
                    job.failed_at = Some(now);
                }
                taken += 1;
            }
        }
        Ok(taken)
    }

    fn wait_for_jobs(&self, timeout: Duration) -> Result<(), StoreError> {
        let state = self.lock();
        let _ = self.enqueued.wait_timeout(state, timeout);
        Ok(())
    }

    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        Ok(self.lock().jobs.get(&id.0).cloned())
    }

    fn jobs_of_person(&self, person: PersonId, limit: u32) -> Result<Vec<Job>, StoreError> {
        let state = self.lock();
        let mine = state
            .jobs
            .values()
            .rev()
            .filter(|j| j.enqueued_by == Some(person));
        Ok(mine.take(limit as usize).cloned().collect())
    }

    fn failed_jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        let state = self.lock();
        let failed = state
            .jobs
            .values()
            .rev()
            .filter(|j| j.state() == JobState::Failed);
        Ok(failed.take(limit as usize).cloned().collect())
    }

    fn open_job_count(&self) -> Result<u64, StoreError> {
        let state = self.lock();
        let open = state
            .jobs
            .values()
            .filter(|j| matches!(j.state(), JobState::Pending | JobState::Running));
        Ok(open.count() as u64)
    }

    fn queue_stats(
        &self,
        now: DateTime<Utc>,
        dead_after: Duration,
    ) -> Result<QueueStats, StoreError> {
        let state = self.lock();
        let mut queues: BTreeMap<String, QueueDepth> = BTreeMap::new();
        for job in state.jobs.values() {
            let state = job.state();
            if !matches!(state, JobState::Pending | JobState::Running) {
                continue;
            }
            let depth = queues
                .entry(job.queue.clone())
                .or_insert_with(|| QueueDepth {
                    queue: job.queue.clone(),
                    waiting: 0,
                    scheduled: 0,
                    running: 0,
                    oldest_waiting_since: None,
                });
            match state {
                JobState::Running => depth.running += 1,
                _ if job.run_at > now => depth.scheduled += 1,
                _ => {
                    depth.waiting += 1;
                    let oldest = depth.oldest_waiting_since.get_or_insert(job.run_at);
                    *oldest = (*oldest).min(job.run_at);
                }
            }
        }
        let since = TimeDelta::from_std(dead_after)
            .ok()
            .and_then(|span| now.checked_sub_signed(span))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let live_workers = state.workers.values().filter(|at| **at >= since).count();
        Ok(QueueStats {
            queues: queues.into_values().collect(),
            live_workers: live_workers as u64,
        })
    }

    fn retry_job(&self, permit: &Permit<ManageJob>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut state = self.lock();
        let job = state
            .jobs
            .get_mut(&permit.target().0.0)
            .ok_or(StoreError::NotFound)?;
        job.failed_at = None;
        job.attempts = 0;
        job.run_at = now;
        Ok(())
    }

    fn delete_job(&self, permit: &Permit<ManageJob>) -> Result<(), StoreError> {
        self.lock().jobs.remove(&permit.target().0.0);
        Ok(())
    }

    fn delete_settled_before(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError> {
        let mut state = self.lock();
        let old: Vec<i64> = state
            .jobs
            .values()
            .filter(|j| j.finished_at.or(j.failed_at).is_some_and(|at| at < cutoff))
            .map(|j| j.id.0)
            .collect();
        Ok(old
            .into_iter()
            .filter_map(|id| state.jobs.remove(&id))
            .collect())
    }
}
