//! `POST /groups/:group_id/events/:event_id/participations/export`: an
//! event's participant list as a file, written by the
//! `participants.export` job like the people export.
//!
//! The permission is asked here (`hitcore::ability`'s participant export
//! rules) and again by the job when it runs; what the file holds is the
//! job's question.

use chrono::Utc;
use hitcore::GroupId;
use hitcore::ability::{self, EventViewer};
use hitcore::export::ExportFormat;
use hitcore::id::EventId;
use hitcore::jobs::NewJob;
use hitjobs::jobs::ParticipantExport;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::participations::{check_visible, event_subject, load_event};
use super::{Fields, redirect, visible_group};
use crate::context::{self, RequestCtx};
use crate::error::WebError;
use crate::state::AppState;

/// The formats a participant list exports to: the tabular ones (a vCard
/// has no place for roles and answers).
const FORMATS: [ExportFormat; 3] = [
    ExportFormat::Csv,
    ExportFormat::CsvPlain,
    ExportFormat::Xlsx,
];

/// The format a form asks for (CSV when it names none); a 400 for
/// anything else.
fn format_of(fields: &Fields) -> Result<ExportFormat, WebError> {
    match fields.get("format") {
        None => Ok(ExportFormat::Csv),
        Some(f) => ExportFormat::parse(&f)
            .filter(|f| FORMATS.contains(f))
            .ok_or(WebError::BadRequest),
    }
}

/// POST /groups/:group_id/events/:event_id/participations/export: starts
/// the export of the active participants (`filter=pending`: the pending
/// applications) as a job and sends the requester to the job page, where
/// the file appears once it is written (redirect).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, event_id)): Path<(GroupId, EventId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    check_visible(viewer, &subject)?;
    let active = fields.raw("filter") != Some("pending");
    let today = Utc::now().date_naive();
    let event_viewer = EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today);
    ability::permit_export_participants(&viewer.actor, &subject, &event_viewer, active)?;
    let format = format_of(&fields)?;

    let payload = ParticipantExport {
        group_id,
        event_id,
        active,
        format,
        lang: ctx.lang.to_owned(),
    };
    let now = Utc::now();
    let job = NewJob::of(&payload, now)
        .map_err(WebError::internal)?
        .by(viewer.person.id);
    state.db(move |s| s.enqueue(&job, now)).await?;
    context::set_flash(req.cookie(), &state, "notice", "jobs.export_started");
    Ok(redirect(ctx, "/job_observations"))
}
