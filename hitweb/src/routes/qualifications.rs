//! `/groups/:group_id/events/:event_id/qualifications`: a course's
//! participants with a "qualified" toggle, which issues (or revokes) the
//! qualifications of the course's kind (section 5.5); and the person
//! page's "Qualifications" and "Events" sections.
//!
//! The page needs `qualifications_read`, the toggle `qualify`
//! (`hitcore::ability`); the store sets the participation's flag and the
//! qualifications in one transaction.

use chrono::Utc;
use hitcore::ability::{self, EventSubject};
use hitcore::event::Event;
use hitcore::event::kind::{EventKind, LinkCategory, QualificationKind};
use hitcore::event::participation::{EventRoleType, OwnParticipation};
use hitcore::event::qualification::{
    EventHistoryEntry, Qualification, QualificationParticipant, qualification_date,
};
use hitcore::id::{EventId, GroupId, ParticipationId, PersonId};
use hitcore::store::StoreError;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::{check, redirect, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{GroupLink, format_date};

/// The course with what its page needs.
struct Loaded {
    event: Event,
    kind: Option<EventKind>,
    qualification_kinds: Vec<QualificationKind>,
    participants: Vec<QualificationParticipant>,
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    group_id: GroupId,
    id: EventId,
) -> Result<Loaded, WebError> {
    visible_group(viewer, group_id)?;
    let loaded = state
        .db(move |s| {
            let event = s.event(id)?.ok_or(StoreError::NotFound)?;
            let kind = match event.kind_id {
                Some(k) => s.event_kind(k)?,
                None => None,
            };
            Ok(Loaded {
                kind,
                qualification_kinds: s.qualification_kinds(true)?,
                participants: s.qualification_participants(id)?,
                event,
            })
        })
        .await?;
    if !loaded.event.group_ids.contains(&group_id) {
        return Err(WebError::NotFound);
    }
    Ok(loaded)
}

/// The ability engine's view of the course. The viewer's own
/// participation counts only while active, which is what the page lists.
fn subject<'a>(viewer: &'a Viewer, loaded: &'a Loaded) -> EventSubject<'a> {
    let own = loaded
        .participants
        .iter()
        .find(|p| p.person.id == viewer.person.id)
        .map(|p| OwnParticipation {
            active: true,
            roles: p.roles.clone(),
        });
    EventSubject {
        event: &loaded.event,
        groups: super::event_groups(viewer, &loaded.event),
        own,
    }
}

#[derive(Serialize)]
struct PageView {
    group: GroupLink,
    event_name: String,
    event_url: String,
    kind_label: Option<String>,
    qualification_date: Option<String>,
    /// The qualification kinds the course issues or prolongs.
    issues: Vec<String>,
    is_qualifying: bool,
    can_qualify: bool,
    rows: Vec<RowView>,
}

/// One participant (`qualifications/_row.html`, id
/// `qualification-row-{id}`).
#[derive(Serialize)]
struct RowView {
    id: i64,
    name: String,
    roles: Vec<String>,
    is_qualified: bool,
    can_qualify: bool,
    qualify_url: String,
    revoke_url: String,
}

#[derive(Serialize)]
struct RowFragment {
    row: RowView,
}

fn role_labels(ctx: &RequestCtx, roles: &[EventRoleType]) -> Vec<String> {
    roles
        .iter()
        .map(|r| ctx.t(&format!("participations.role_{}", r.key())))
        .collect()
}

fn row_view(
    ctx: &RequestCtx,
    base: &str,
    p: &QualificationParticipant,
    can_qualify: bool,
) -> RowView {
    RowView {
        id: p.participation_id.0,
        name: p.person.display_name(),
        roles: role_labels(ctx, &p.roles),
        is_qualified: p.is_qualified,
        can_qualify,
        qualify_url: format!("{base}/{}", p.participation_id),
        revoke_url: format!("{base}/{}/delete", p.participation_id),
    }
}

fn base_url(group_id: GroupId, event: EventId) -> String {
    format!("/groups/{group_id}/events/{event}/qualifications")
}

/// GET /groups/:group_id/events/:event_id/qualifications: the course's
/// participants with their qualified state (page, or the table fragment).
#[handler]
pub async fn index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, event_id)): Path<(GroupId, EventId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, viewer, group_id, event_id).await?;
    let subject = subject(viewer, &loaded);
    check(ability::may_read_qualifications(&viewer.actor, &subject))?;
    let is_qualifying = loaded.kind.as_ref().is_some_and(EventKind::is_qualifying);
    let can_qualify = is_qualifying && ability::may_qualify(&viewer.actor, &subject).is_allowed();
    let base = base_url(group_id, event_id);
    let issues = loaded
        .kind
        .iter()
        .flat_map(|k| &k.qualifications)
        .filter(|l| l.category != LinkCategory::Precondition)
        .filter_map(|l| {
            loaded
                .qualification_kinds
                .iter()
                .find(|q| q.id == l.qualification_kind_id)
        })
        .map(|q| q.label.clone())
        .fold(Vec::new(), |mut all: Vec<String>, label| {
            if !all.contains(&label) {
                all.push(label);
            }
            all
        });
    let g = visible_group(viewer, group_id)?;
    let view = PageView {
        group: GroupLink::new(&state.org, ctx.lang, g),
        event_name: loaded.event.name.clone(),
        event_url: format!("/groups/{group_id}/events/{event_id}"),
        kind_label: loaded.kind.as_ref().map(EventKind::display_label),
        qualification_date: qualification_date(&loaded.event.dates)
            .map(|d| format_date(ctx.lang, d)),
        issues,
        is_qualifying,
        can_qualify,
        rows: loaded
            .participants
            .iter()
            .map(|p| row_view(ctx, &base, p, can_qualify))
            .collect(),
    };
    ctx.render(
        &state,
        "qualifications/index.html",
        "qualifications/_table.html",
        &view,
    )
}

/// Qualifies or revokes one participation, then answers with its row
/// (HTMX) or the page again.
async fn toggle(
    ctx: &RequestCtx,
    state: &AppState,
    req: &Request,
    (group_id, event_id, participation_id): (GroupId, EventId, ParticipationId),
    qualify: bool,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(state, viewer, group_id, event_id).await?;
    if !loaded
        .participants
        .iter()
        .any(|p| p.participation_id == participation_id)
    {
        return Err(WebError::NotFound);
    }
    let permit =
        ability::permit_qualify(&viewer.actor, &subject(viewer, &loaded), participation_id)?;
    let now = Utc::now();
    let rows = state
        .db(move |s| {
            if qualify {
                s.qualify(&permit, now)?;
            } else {
                s.revoke_qualification(&permit)?;
            }
            s.qualification_participants(event_id)
        })
        .await?;
    let base = base_url(group_id, event_id);
    if !ctx.htmx.is_request {
        let key = if qualify {
            "qualifications.flash_qualified"
        } else {
            "qualifications.flash_revoked"
        };
        context::set_flash(req.cookie(), state, "notice", key);
        return Ok(redirect(ctx, &base));
    }
    let row = rows
        .iter()
        .find(|p| p.participation_id == participation_id)
        .ok_or(WebError::NotFound)?;
    ctx.render_template(
        state,
        "qualifications/_row.html",
        &RowFragment {
            row: row_view(ctx, &base, row, true),
        },
    )
}

/// POST /groups/:group_id/events/:event_id/qualifications/:participation_id:
/// marks the participant qualified (the row fragment, or a redirect).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
) -> Result<Response, WebError> {
    toggle(ctx, &state, req, ids, true).await
}

/// POST .../qualifications/:participation_id/delete: revokes the
/// participant's qualification (the row fragment, or a redirect).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
) -> Result<Response, WebError> {
    toggle(ctx, &state, req, ids, false).await
}

// ------------------------------------------------------------ person page

/// The person page's "Qualifications" and "Events" sections
/// (`qualifications/_person.html`).
#[derive(Serialize)]
pub struct PersonSections {
    qualifications: Vec<QualificationView>,
    events: Vec<HistoryView>,
}

#[derive(Serialize)]
struct QualificationView {
    kind: String,
    start_at: String,
    finish_at: Option<String>,
    origin: Option<String>,
    is_active: bool,
}

#[derive(Serialize)]
struct HistoryView {
    name: String,
    url: String,
    dates: String,
    roles: Vec<String>,
    state: String,
}

fn qualification_view(
    ctx: &RequestCtx,
    q: &Qualification,
    kinds: &[QualificationKind],
    today: chrono::NaiveDate,
) -> QualificationView {
    QualificationView {
        kind: kinds
            .iter()
            .find(|k| k.id == q.qualification_kind_id)
            .map_or_else(String::new, |k| k.label.clone()),
        start_at: format_date(ctx.lang, q.start_at),
        finish_at: q.finish_at.map(|d| format_date(ctx.lang, d)),
        origin: q.origin.clone(),
        is_active: q.is_active_on(today),
    }
}

fn history_view(ctx: &RequestCtx, e: &EventHistoryEntry) -> HistoryView {
    let day = |t: Option<chrono::NaiveDateTime>| t.map(|t| format_date(ctx.lang, t.date()));
    let dates = match (day(e.start_at), day(e.finish_at)) {
        (Some(s), Some(f)) if s != f => format!("{s} – {f}"),
        (Some(s), _) => s,
        (None, _) => String::new(),
    };
    let state = if !e.is_active {
        "participations.state_pending"
    } else if e.is_qualified {
        "qualifications.qualified"
    } else {
        "participations.state_active"
    };
    HistoryView {
        name: e.name.clone(),
        url: format!("/groups/{}/events/{}", e.group_id, e.event_id),
        dates,
        roles: role_labels(ctx, &e.roles),
        state: ctx.t(state),
    }
}

/// The person's qualifications and event history, for a viewer allowed
/// to see the person's details (`shows_details`); `None` otherwise, and
/// then nothing is read.
///
/// # Errors
/// A store error.
pub async fn person_sections(
    ctx: &RequestCtx,
    state: &AppState,
    person: PersonId,
    shows_details: bool,
) -> Result<Option<PersonSections>, WebError> {
    if !shows_details {
        return Ok(None);
    }
    let (qualifications, kinds, history) = state
        .db(move |s| {
            Ok((
                s.qualifications_of_person(person)?,
                s.qualification_kinds(true)?,
                s.event_history(person)?,
            ))
        })
        .await?;
    let today = Utc::now().date_naive();
    Ok(Some(PersonSections {
        qualifications: qualifications
            .iter()
            .map(|q| qualification_view(ctx, q, &kinds, today))
            .collect(),
        events: history.iter().map(|e| history_view(ctx, e)).collect(),
    }))
}
