//! `/groups/:group_id/events/:event_id/application_market`: a course's
//! assigned participants beside the pending applications (section 5.4,
//! 6), and assigning or removing them in place.
//!
//! Every handler needs the event row's `application_market` cell
//! (`ability::permit_application_market`); what "add" refuses and how a
//! participation moves is the store's, in one transaction.

use chrono::Utc;
use hitcore::GroupId;
use hitcore::ability;
use hitcore::event::application::{MarketFilter, supports_applications};
use hitcore::event::participation::{Market, ParticipationEntry};
use hitcore::id::{EventId, ParticipationId};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Response, handler};
use serde::Serialize;

use super::participations::{
    EventHeader, check_visible, event_subject, header, load_event, market_refusal_key,
};
use super::{Fields, redirect, visible_group};
use crate::context::RequestCtx;
use crate::error::WebError;
use crate::state::AppState;

/// The filter of the query (`?prio=1,2,3&waiting_list=1`, or repeated
/// `prio` check boxes); priority 1 alone without any.
fn filter_of(query: &Fields) -> MarketFilter {
    let prios: Vec<&str> = query
        .0
        .iter()
        .filter(|(k, _)| k == "prio")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let is_waiting = query.flag("waiting_list");
    if prios.is_empty() && !is_waiting {
        return MarketFilter::default();
    }
    MarketFilter {
        prio_1: prios.contains(&"1"),
        prio_2: prios.contains(&"2"),
        prio_3: prios.contains(&"3"),
        waiting_list: is_waiting,
    }
}

/// The query string that keeps the filter across add and remove.
fn filter_query(f: &MarketFilter) -> String {
    let prios: Vec<&str> = [(f.prio_1, "1"), (f.prio_2, "2"), (f.prio_3, "3")]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
        .collect();
    let mut q = format!("prio={}", prios.join(","));
    if f.waiting_list {
        q.push_str("&waiting_list=1");
    }
    q
}

#[derive(Serialize)]
struct MarketView {
    event: EventHeader,
    filter: MarketFilter,
    filter_query: String,
    url: String,
    tables: Tables,
}

/// The two tables, the fragment add and remove answer with
/// (`application_market/_tables.html`, id `application-market`).
#[derive(Serialize)]
struct Tables {
    participants: Vec<MarketRow>,
    applications: Vec<MarketRow>,
    participant_count: u32,
    maximum_participants: Option<u32>,
    error: Option<String>,
    url: String,
    /// The filter, for the hidden fields of the forms.
    filter_prios: String,
    filter_waiting: bool,
}

#[derive(Serialize)]
struct MarketRow {
    participation_id: i64,
    name: String,
    url: String,
    priority: Option<u8>,
    event_name: Option<String>,
    waiting_list: bool,
    approved: bool,
}

fn row(base: &str, entry: &ParticipationEntry) -> MarketRow {
    MarketRow {
        participation_id: entry.participation.id.0,
        name: entry.person_name.clone(),
        url: format!("{base}/participations/{}", entry.participation.id),
        priority: None,
        event_name: None,
        waiting_list: entry.application.as_ref().is_some_and(|a| a.waiting_list),
        approved: entry.application.as_ref().is_some_and(|a| a.approved),
    }
}

/// The tables of `market`. Applications of other courses link to their
/// own event's page under the market's group: the event pages accept any
/// group of the event, and courses of one kind may sit in other groups.
fn tables(
    group_id: GroupId,
    event_id: EventId,
    market: &Market,
    filter: &MarketFilter,
    counts: (u32, Option<u32>),
) -> Tables {
    let base = format!("/groups/{group_id}/events/{event_id}");
    let base = base.as_str();
    Tables {
        participants: market.participants.iter().map(|e| row(base, e)).collect(),
        applications: market
            .applications
            .iter()
            .map(|a| MarketRow {
                priority: a.priority,
                event_name: Some(a.event_name.clone()),
                // FIXME: an application of another course of the kind links
                // under the market's group, which 404s when that course is
                // not on the group; the entry would need its event's groups.
                url: format!(
                    "/groups/{group_id}/events/{}/participations/{}",
                    a.entry.participation.event_id, a.entry.participation.id
                ),
                ..row(base, &a.entry)
            })
            .collect(),
        participant_count: counts.0,
        maximum_participants: counts.1,
        error: None,
        url: format!("{base}/application_market"),
        filter_prios: [
            (filter.prio_1, "1"),
            (filter.prio_2, "2"),
            (filter.prio_3, "3"),
        ]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
        .collect::<Vec<_>>()
        .join(","),
        filter_waiting: filter.waiting_list,
    }
}

/// The market after a change, read again with the counters.
async fn reload(
    state: &AppState,
    event_id: EventId,
    filter: MarketFilter,
) -> Result<(Market, (u32, Option<u32>)), WebError> {
    state
        .db(move |s| {
            let market = s.market(event_id, &filter)?;
            let event = s
                .event(event_id)?
                .ok_or(hitcore::store::StoreError::NotFound)?;
            let max = event.maximum_participants.filter(|m| *m > 0);
            Ok((market, (event.participant_count, max)))
        })
        .await
}

/// GET /groups/:group_id/events/:event_id/application_market: the
/// assigned participants and the pending applications (page, or the
/// tables fragment).
#[handler]
pub async fn index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, event_id)): Path<(GroupId, EventId)>,
    Query(query): Query<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    check_visible(viewer, &subject)?;
    if !supports_applications(&loaded.event.event_type) {
        return Err(WebError::NotFound);
    }
    ability::permit_application_market(&viewer.actor, &subject)?;
    let filter = filter_of(&query);
    let (market, counts) = reload(&state, event_id, filter).await?;
    let base = format!("/groups/{group_id}/events/{event_id}");
    let view = MarketView {
        event: header(ctx, &state, viewer, g, &subject),
        filter,
        filter_query: filter_query(&filter),
        url: format!("{base}/application_market"),
        tables: tables(group_id, event_id, &market, &filter, counts),
    };
    ctx.render(
        &state,
        "application_market/index.html",
        "application_market/_tables.html",
        &view,
    )
}

#[derive(Clone, Copy)]
enum Change {
    Add,
    Remove,
    WaitingList,
}

/// Runs one market change and answers with the tables (HTMX) or a
/// redirect back to the market; a refusal shows its message above the
/// tables with 422.
async fn change(
    ctx: &RequestCtx,
    state: &AppState,
    (group_id, event_id, pid): (GroupId, EventId, ParticipationId),
    fields: &Fields,
    what: Change,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load_event(state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    check_visible(viewer, &subject)?;
    let permit = ability::permit_application_market(&viewer.actor, &subject)?;
    let now = Utc::now();
    let on = fields.flag("on");
    let comment = fields.get("comment");
    let outcome = state
        .db_raw(move |s| match what {
            Change::Add => s.market_add(&permit, pid, now),
            Change::Remove => s.market_remove(&permit, pid, now),
            Change::WaitingList => s.set_waiting_list(&permit, pid, on, comment.as_deref()),
        })
        .await?;
    let refusal = match outcome {
        Ok(()) => None,
        Err(e) => match market_refusal_key(&e) {
            Some(key) => Some(key),
            None => return Err(e.into()),
        },
    };
    let filter = filter_of(fields);
    let base = format!("/groups/{group_id}/events/{event_id}");
    if !ctx.htmx.is_request {
        // Without HTMX the refusal is a page of its own that says why.
        if let Some(key) = refusal {
            return Err(WebError::Rule(key.to_owned()));
        }
        return Ok(redirect(
            ctx,
            &format!("{base}/application_market?{}", filter_query(&filter)),
        ));
    }
    let (market, counts) = reload(state, event_id, filter).await?;
    let mut t = tables(group_id, event_id, &market, &filter, counts);
    let is_refused = refusal.is_some();
    t.error = refusal.map(|key| ctx.t(key));
    let resp = ctx.render_template(
        state,
        "application_market/_tables.html",
        &MarketFragment { tables: t },
    )?;
    Ok(if is_refused {
        let mut resp = resp.into_response();
        resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
        resp
    } else {
        resp
    })
}

/// What `_tables.html` sees when rendered alone.
#[derive(Serialize)]
struct MarketFragment {
    tables: Tables,
}

/// POST .../application_market/:participation_id/add: assigns the
/// application to this course (the tables fragment, or a redirect).
#[handler]
pub async fn add(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    change(ctx, &state, ids, &fields, Change::Add).await
}

/// POST .../application_market/:participation_id/remove: takes the
/// participant back to the applications (the tables fragment, or a
/// redirect).
#[handler]
pub async fn remove(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    change(ctx, &state, ids, &fields, Change::Remove).await
}

/// POST .../application_market/:participation_id/waiting_list: puts the
/// application on the waiting list (`on=1`, `comment`) or takes it off
/// (the tables fragment, or a redirect).
#[handler]
pub async fn waiting_list(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    change(ctx, &state, ids, &fields, Change::WaitingList).await
}
