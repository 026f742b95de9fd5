//! `/job_observations` (hitobito's name for it): the jobs a person started,
//! with their state and a progress bar that polls while the job runs, the
//! download of the file a job made, and for administrators the failed jobs
//! of everyone, which they may retry or delete.
//!
//! Who sees, downloads and manages which job is decided in
//! `hitcore::ability` (`may_see_job`, `may_download_job_file`,
//! `permit_manage_job`); this module asks and renders.

use chrono::{DateTime, Utc};
use hitcore::JobId;
use hitcore::ability;
use hitcore::jobs::{Job, JobState};
use hitcore::storage::{StorageError, StorageKey, StorageReader};
use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;
use tokio::io::AsyncWriteExt as _;

use super::redirect;
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;

/// The newest jobs shown per list.
const LIST_LIMIT: u32 = 50;
/// How often a running job's row asks for news.
const POLL_EVERY: &str = "1s";
/// Bytes of a download in flight between storage and the client.
const STREAM_BUFFER: usize = 256 * 1024;

#[derive(Serialize)]
struct JobsView {
    jobs: Vec<JobView>,
    /// Administrators: the failed jobs of others.
    failed: Vec<JobView>,
    is_administrator: bool,
}

#[derive(Serialize)]
struct JobRowView {
    job: JobView,
}

#[derive(Serialize)]
struct JobView {
    id: i64,
    kind: String,
    state: JobState,
    state_label: String,
    percent: u8,
    has_progress: bool,
    started_at: Option<String>,
    ended_at: Option<String>,
    attempts: u32,
    max_attempts: u32,
    last_error: Option<String>,
    /// The row's own URL while it should be polled, `None` once settled.
    poll_url: Option<String>,
    poll_every: &'static str,
    download_url: Option<String>,
    manage_url: Option<String>,
    /// The file name offered for the download.
    file_name: Option<String>,
}

impl JobView {
    fn new(ctx: &RequestCtx, viewer: &Viewer, job: &Job) -> JobView {
        let state = job.state();
        let is_settled = matches!(state, JobState::Succeeded | JobState::Failed);
        let base = format!("/job_observations/{}", job.id);
        JobView {
            id: job.id.0,
            kind: kind_label(ctx, &job.kind),
            state,
            state_label: ctx.t(&format!("jobs.states.{}", state_key(state))),
            percent: match state {
                JobState::Succeeded => 100,
                _ => job.progress.map(|p| p.percent()).unwrap_or(0),
            },
            has_progress: job.progress.is_some() || state == JobState::Succeeded,
            started_at: job.locked_at.or(Some(job.created_at)).map(time),
            ended_at: job.finished_at.or(job.failed_at).map(time),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            last_error: job.last_error.clone(),
            poll_url: (!is_settled).then(|| base.clone()),
            poll_every: POLL_EVERY,
            download_url: ability::may_download_job_file(&viewer.actor, job)
                .then(|| format!("{base}/download")),
            manage_url: ability::permit_manage_job(&viewer.actor, job)
                .is_ok()
                .then(|| base.clone()),
            file_name: job.result_file.as_deref().map(file_name),
        }
    }
}

fn state_key(state: JobState) -> &'static str {
    match state {
        JobState::Pending => "pending",
        JobState::Running => "running",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
    }
}

/// The translated name of a job kind, or the kind itself when it has none.
fn kind_label(ctx: &RequestCtx, kind: &str) -> String {
    let key = format!("jobs.kinds.{}", kind.replace('.', "_"));
    let label = ctx.t(&key);
    if label == key { kind.to_owned() } else { label }
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The last part of a storage key, which is what the download is called.
fn file_name(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_owned()
}

/// A job the viewer may see, or a 404 (a job of someone else's is not
/// shown to exist).
async fn visible_job(state: &AppState, viewer: &Viewer, id: JobId) -> Result<Job, WebError> {
    let job = state
        .db(move |s| s.job(id))
        .await?
        .ok_or(WebError::NotFound)?;
    if ability::may_see_job(&viewer.actor, &job) {
        Ok(job)
    } else {
        Err(WebError::NotFound)
    }
}

/// GET /job_observations: the viewer's jobs, and for administrators the
/// failed jobs of others; the list alone (`jobs/_list.html`) for HTMX.
#[handler]
pub async fn index(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let person = viewer.person.id;
    let is_administrator = ability::may_see_failed_jobs(&viewer.actor);
    let (own, failed) = state
        .db(move |s| {
            let own = s.jobs_of_person(person, LIST_LIMIT)?;
            let failed = if is_administrator {
                s.failed_jobs(LIST_LIMIT)?
            } else {
                Vec::new()
            };
            Ok((own, failed))
        })
        .await?;
    let view = JobsView {
        jobs: own.iter().map(|j| JobView::new(ctx, viewer, j)).collect(),
        failed: failed
            .iter()
            .filter(|j| j.enqueued_by != Some(person))
            .filter(|j| ability::may_see_job(&viewer.actor, j))
            .map(|j| JobView::new(ctx, viewer, j))
            .collect(),
        is_administrator,
    };
    ctx.render(&state, "jobs/index.html", "jobs/_list.html", &view)
}

/// GET /job_observations/:id: one job's row, which polls itself while the
/// job is pending or running; the whole list page for plain requests.
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<JobId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let job = visible_job(&state, viewer, id).await?;
    if !ctx.htmx.is_fragment {
        return Ok(super::see_other("/job_observations"));
    }
    let view = JobRowView {
        job: JobView::new(ctx, viewer, &job),
    };
    ctx.render_template(&state, "jobs/_row.html", &view)
}

/// GET /job_observations/:id/download: the file the job made, for the
/// person who started it only, streamed from storage.
#[handler]
pub async fn download(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<JobId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let job = visible_job(&state, viewer, id).await?;
    if !ability::may_download_job_file(&viewer.actor, &job) {
        return Err(WebError::NotFound);
    }
    let key = job.result_file.clone().ok_or(WebError::NotFound)?;
    let name = file_name(&key);
    let storage = state.storage.clone();
    let reader = tokio::task::spawn_blocking(move || {
        StorageKey::new(key).and_then(|key| storage.reader(&key))
    })
    .await
    .map_err(WebError::internal)?
    .map_err(|e| match e {
        StorageError::NotFound { .. } => WebError::NotFound,
        other => WebError::internal(other),
    })?;
    let size = reader.size();
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type(&name))
        .header(header::CONTENT_LENGTH, size)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", name.replace('"', "")),
        )
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(Body::from_async_read(streamed(reader))))
}

/// The file of `reader` as an async byte stream, read a chunk at a time on
/// the blocking pool, so a large export never sits in memory whole. A read
/// error mid-way ends the body early (the client sees a short download
/// against the Content-Length) and is logged.
fn streamed(reader: StorageReader) -> tokio::io::DuplexStream {
    let (mut tx, rx) = tokio::io::duplex(STREAM_BUFFER);
    tokio::spawn(async move {
        let mut reader = reader;
        loop {
            let step = tokio::task::spawn_blocking(move || {
                let chunk = reader.next_chunk();
                (reader, chunk)
            })
            .await;
            let chunk = match step {
                Ok((r, chunk)) => {
                    reader = r;
                    chunk
                }
                Err(e) => {
                    tracing::error!(error = %e, "The download's reader panicked");
                    return;
                }
            };
            match chunk {
                Ok(Some(bytes)) => {
                    if tx.write_all(&bytes).await.is_err() {
                        return; // the client went away
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = %e, "Reading a download from storage failed");
                    return;
                }
            }
        }
    });
    rx
}

/// The media type of an export by its file name.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("vcf") => "text/vcard; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// POST /job_observations/:id/retry: a failed job runs again with a fresh
/// set of attempts (administrators).
#[handler]
pub async fn retry(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<JobId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let job = visible_job(&state, viewer, id).await?;
    let permit = ability::permit_manage_job(&viewer.actor, &job)?;
    let now = Utc::now();
    state.db(move |s| s.retry_job(&permit, now)).await?;
    context::set_flash(req.cookie(), &state, "notice", "jobs.retried");
    Ok(redirect(ctx, "/job_observations"))
}

/// POST /job_observations/:id/delete: removes a failed job
/// (administrators).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<JobId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let job = visible_job(&state, viewer, id).await?;
    let permit = ability::permit_manage_job(&viewer.actor, &job)?;
    state.db(move |s| s.delete_job(&permit)).await?;
    context::set_flash(req.cookie(), &state, "notice", "jobs.deleted");
    Ok(redirect(ctx, "/job_observations"))
}
