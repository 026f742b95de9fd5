//! The clean-ups that keep the database small: `session.cleanup` removes
//! expired browser sessions, `jobs.cleanup` settled jobs older than
//! [`KEEP_SETTLED_JOBS`] together with the files they made.

use std::time::Duration;

use anyhow::Context as _;
use chrono::TimeDelta;
use hitcore::jobs::JobKind;
use hitcore::store::{AuthRepo, JobQueue};
use serde::{Deserialize, Serialize};

use crate::registry::JobContext;

/// How long finished and failed jobs (and their files) are kept: the issue
/// asks for 30 days, long enough to download an export after a holiday.
pub const KEEP_SETTLED_JOBS: TimeDelta = TimeDelta::days(30);

/// Removes expired sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCleanup {}

impl JobKind for SessionCleanup {
    const KIND: &'static str = "session.cleanup";
    const MAX_RUN: Duration = Duration::from_secs(5 * 60);
    /// The next run is ten minutes away; retrying sooner buys nothing.
    const MAX_ATTEMPTS: u32 = 1;
}

/// Removes settled jobs older than [`KEEP_SETTLED_JOBS`] and their files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsCleanup {}

impl JobKind for JobsCleanup {
    const KIND: &'static str = "jobs.cleanup";
    const MAX_RUN: Duration = Duration::from_secs(30 * 60);
    const MAX_ATTEMPTS: u32 = 3;
}

/// Deletes the files jobs made, by storage key: the storage of
/// `STORAGE_URL` in production, a stand-in in tests.
pub trait ResultFiles: Send + Sync {
    /// Deletes the file stored under `key`; a file that is already gone is
    /// not an error.
    ///
    /// # Errors
    /// When the storage refuses or cannot be reached.
    fn delete(&self, key: &str) -> anyhow::Result<()>;
}

impl ResultFiles for hitcore::storage::Storage {
    fn delete(&self, key: &str) -> anyhow::Result<()> {
        let key = hitcore::storage::StorageKey::new(key)?;
        hitcore::storage::Storage::delete(self, &key)?;
        Ok(())
    }
}

/// A process without file storage: there is nothing to delete.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResultFiles;

impl ResultFiles for NoResultFiles {
    fn delete(&self, key: &str) -> anyhow::Result<()> {
        tracing::debug!(
            file.key = key,
            "No file storage configured; nothing to delete"
        );
        Ok(())
    }
}

pub(super) fn sessions<S: AuthRepo + ?Sized>(
    _job: SessionCleanup,
    ctx: &JobContext<'_, S>,
) -> anyhow::Result<()> {
    let removed = ctx
        .store()
        .delete_expired_sessions(ctx.now())
        .context("while deleting expired sessions")?;
    tracing::info!(sessions = removed, "Removed {removed} expired sessions");
    Ok(())
}

/// Deletes the old jobs first, then their files: a file whose job row is
/// gone can no longer be downloaded, so a file left behind by a failed
/// delete is only wasted space, never a leak. Such files are named in a
/// warning.
pub(super) fn jobs<S: JobQueue + ?Sized>(
    _job: JobsCleanup,
    ctx: &JobContext<'_, S>,
    files: &dyn ResultFiles,
) -> anyhow::Result<()> {
    let cutoff = ctx.now() - KEEP_SETTLED_JOBS;
    let deleted = ctx
        .store()
        .delete_settled_before(cutoff)
        .context("while deleting old jobs")?;
    let mut kept = 0;
    for (job, key) in deleted
        .iter()
        .filter_map(|j| j.result_file.as_deref().map(|k| (j, k)))
    {
        if let Err(e) = files.delete(key) {
            kept += 1;
            tracing::warn!(
                job.id = %job.id,
                file.key = key,
                "Could not delete the file of old job {}: {e:#}",
                job.id
            );
        }
    }
    tracing::info!(
        jobs = deleted.len(),
        files_kept = kept,
        "Removed {} jobs settled before {cutoff}",
        deleted.len()
    );
    Ok(())
}
