//! `/groups/:group_id/events/...`, `/list_events` and `/list_courses`: a
//! group's events (upcoming or by year, and as iCalendar), the event form
//! with its dates, the event page with its questions, and the global
//! event and course lists.
//!
//! Every handler asks `hitcore::ability` (the "Event actions" table of
//! section 4.3) before it shows or changes an event; registrations, the
//! application market and qualifications are other modules' pages, linked
//! from the event page when the viewer may use them.

use chrono::{NaiveDateTime, Utc};
use hitcore::GroupId;
use hitcore::ability::{self, EventAction, EventSubject, EventViewer};
use hitcore::event::participation::OwnParticipation;
use hitcore::event::question::{self, NewQuestion, Question};
use hitcore::event::{
    self as ev, DateInput, Event, EventPatch, EventQuery, EventWhen, NewEvent, validated_dates,
};
use hitcore::id::{AttachmentId, EventId, EventKindId, QuestionId};
use hitcore::store::{Page, StoreError};
use hitcore::validate::Violations;
use poem::http::header;
use poem::web::{CsrfVerifier, Data, Form, Multipart, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::{Fields, check, parse_date, redirect, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::middleware::{CSRF_FIELD, CSRF_HEADER};
use crate::state::AppState;
use crate::views::{FieldErrors, GroupLink, OptionView};

/// How many blank date rows a new form offers; blank rows are ignored.
const BLANK_DATE_ROWS: usize = 3;

/// An event with what the pages around it need.
struct Loaded {
    event: Event,
    own: Option<OwnParticipation>,
}

/// The event, if it belongs to `group_id` (else a 404), with the viewer's
/// own participation.
async fn load(
    state: &AppState,
    viewer: &Viewer,
    group_id: GroupId,
    id: EventId,
) -> Result<Loaded, WebError> {
    let person = viewer.person.id;
    let (event, participation) = state
        .db(move |s| {
            let event = s.event(id)?.ok_or(StoreError::NotFound)?;
            let own = s.participation_of(id, person)?;
            Ok((event, own))
        })
        .await?;
    if !event.group_ids.contains(&group_id) {
        return Err(WebError::NotFound);
    }
    let own = participation.map(|p| OwnParticipation {
        active: p.active,
        roles: p.roles.iter().map(|r| r.role_type).collect(),
    });
    Ok(Loaded { event, own })
}

/// The ability engine's view of the event; deleted groups are left out
/// ([`super::event_groups`]).
fn subject<'a>(viewer: &'a Viewer, loaded: &'a Loaded) -> EventSubject<'a> {
    EventSubject {
        event: &loaded.event,
        groups: super::event_groups(viewer, &loaded.event),
        own: loaded.own.clone(),
    }
}

/// The viewer's layers and the shared token of the request, if any.
fn event_viewer(viewer: &Viewer, token: Option<String>) -> EventViewer {
    let today = Utc::now().date_naive();
    EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today).with_token(token)
}

/// The query string of the event page: a shared access token.
#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn date_time_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// One event in a list.
#[derive(Serialize)]
struct EventRow {
    id: EventId,
    name: String,
    url: String,
    kind: String,
    dates: Vec<String>,
    location: Option<String>,
    participant_count: u32,
    maximum_participants: Option<u32>,
}

impl EventRow {
    fn new(ctx: &RequestCtx, event: &Event, group: GroupId) -> EventRow {
        EventRow {
            id: event.id,
            name: event.name.clone(),
            url: format!("/groups/{group}/events/{}", event.id),
            kind: type_label(ctx, &event.event_type),
            dates: event.dates.iter().map(date_line).collect(),
            location: event.location.clone(),
            participant_count: event.participant_count,
            maximum_participants: event.maximum_participants.filter(|m| *m > 0),
        }
    }
}

fn date_line(d: &ev::EventDate) -> String {
    let mut text = date_time_text(d.start_at);
    if let Some(f) = d.finish_at {
        text.push_str(" – ");
        text.push_str(&date_time_text(f));
    }
    if let Some(l) = &d.label {
        text = format!("{l}: {text}");
    }
    text
}

fn type_label(ctx: &RequestCtx, event_type: &str) -> String {
    match event_type {
        ev::COURSE => ctx.t("events.type_course"),
        ev::SIMPLE_EVENT => ctx.t("events.type_event"),
        other => other.to_owned(),
    }
}

// ----------------------------------------------------------------- index

#[derive(Serialize)]
struct IndexView {
    group: GroupLink,
    rows: Vec<EventRow>,
    year: Option<i32>,
    years: Vec<YearLink>,
    new_links: Vec<NewLink>,
    ics_url: String,
}

#[derive(Serialize)]
struct YearLink {
    year: i32,
    url: String,
    is_current: bool,
}

#[derive(Serialize)]
struct NewLink {
    label: String,
    url: String,
}

/// The query string of the group's event list.
#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// GET /groups/:group_id/events: the group's upcoming events, or those
/// of `?year=` (page, or the table fragment).
#[handler]
pub async fn index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    check(ability::may_index_lists(&viewer.actor))?;
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => Some(
            y.parse::<i32>()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or(WebError::BadRequest)?,
        ),
    };
    let today = Utc::now().date_naive();
    let when = year.map_or(EventWhen::Upcoming(today), EventWhen::Year);
    let events = visible_events(&state, viewer, group_id, when).await?;
    let years = state.db(move |s| s.event_years(group_id)).await?;
    let view = IndexView {
        group: GroupLink::new(&state.org, ctx.lang, g),
        rows: events
            .iter()
            .map(|e| EventRow::new(ctx, e, group_id))
            .collect(),
        year,
        years: years
            .into_iter()
            .map(|y| YearLink {
                year: y,
                url: format!("/groups/{group_id}/events?year={y}"),
                is_current: Some(y) == year,
            })
            .collect(),
        new_links: new_links(ctx, &state, viewer, g),
        ics_url: format!("/groups/{group_id}/events.ics"),
    };
    ctx.render(&state, "events/index.html", "events/_table.html", &view)
}

/// The group's events of `when` that the viewer may see.
async fn visible_events(
    state: &AppState,
    viewer: &Viewer,
    group_id: GroupId,
    when: EventWhen,
) -> Result<Vec<Event>, WebError> {
    let person = viewer.person.id;
    let found = state
        .db(move |s| {
            s.events_of_group(group_id, when)?
                .into_iter()
                .map(|e| {
                    let own = s.participation_of(e.id, person)?;
                    Ok((e, own))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await?;
    let ev_viewer = event_viewer(viewer, None);
    Ok(found
        .into_iter()
        .map(|(event, p)| Loaded {
            event,
            own: p.map(|p| OwnParticipation {
                active: p.active,
                roles: p.roles.iter().map(|r| r.role_type).collect(),
            }),
        })
        .filter(|l| {
            ability::event(
                &viewer.actor,
                EventAction::Show,
                &subject(viewer, l),
                &ev_viewer,
            )
            .is_allowed()
        })
        .map(|l| l.event)
        .collect())
}

/// "New event" links for the types the group allows, if the viewer may
/// create events in it.
fn new_links(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    g: &hitcore::group::Group,
) -> Vec<NewLink> {
    if !ability::may_create_event(&viewer.actor, &[g]).is_allowed() {
        return Vec::new();
    }
    ev::allowed_types(&state.org, g)
        .iter()
        .map(|t| NewLink {
            label: format!("{} {}", ctx.t("events.new"), type_label(ctx, t)),
            url: format!("/groups/{}/events/new?type={}", g.id, url_encode(t)),
        })
        .collect()
}

fn url_encode(text: &str) -> String {
    text.replace(':', "%3A")
}

// ------------------------------------------------------------------ form

#[derive(Serialize)]
struct EventForm {
    title: String,
    action: String,
    cancel_url: String,
    group: GroupLink,
    event_type: String,
    is_course: bool,
    fields: FormFields,
    dates: Vec<DateInput>,
    kinds: Vec<OptionView>,
    /// The groups the event is or can be on; shown when there is a choice.
    groups: Vec<GroupChoice>,
    contact: ContactInput,
    /// One blank question row on new events.
    has_question: bool,
    question: QuestionInput,
    errors: FieldErrors,
}

#[derive(Default, Serialize)]
struct FormFields {
    name: String,
    description: String,
    application_conditions: String,
    number: String,
    motto: String,
    cost: String,
    location: String,
    state: String,
    maximum_participants: String,
    minimum_participants: String,
    application_opening_at: String,
    application_closing_at: String,
    training_days: String,
    applications_cancelable: bool,
    external_applications: bool,
    globally_visible: bool,
    participations_visible: bool,
    priorization: bool,
    requires_approval: bool,
    automatic_assignment: bool,
    waiting_list: bool,
    notify_contact_on_participations: bool,
}

#[derive(Default, Serialize)]
struct QuestionInput {
    question: String,
    choices: String,
    multiple_choices: bool,
    required: bool,
    admin: bool,
}

#[derive(Serialize)]
struct FormView {
    form: EventForm,
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn number(v: Option<u32>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl FormFields {
    fn of(p: &EventPatch) -> FormFields {
        FormFields {
            name: text(&p.name),
            description: text(&p.description),
            application_conditions: text(&p.application_conditions),
            number: text(&p.number),
            motto: text(&p.motto),
            cost: text(&p.cost),
            location: text(&p.location),
            state: text(&p.state),
            maximum_participants: number(p.maximum_participants),
            minimum_participants: number(p.minimum_participants),
            application_opening_at: p
                .application_opening_at
                .map(|d| d.to_string())
                .unwrap_or_default(),
            application_closing_at: p
                .application_closing_at
                .map(|d| d.to_string())
                .unwrap_or_default(),
            training_days: p.training_days.map(|d| d.to_string()).unwrap_or_default(),
            applications_cancelable: p.applications_cancelable,
            external_applications: p.external_applications,
            globally_visible: p.globally_visible.unwrap_or(true),
            participations_visible: p.participations_visible,
            priorization: p.priorization,
            requires_approval: p.requires_approval,
            automatic_assignment: p.automatic_assignment,
            waiting_list: p.waiting_list,
            notify_contact_on_participations: p.notify_contact_on_participations,
        }
    }

    /// What was typed, for a form shown again.
    fn typed(f: &Fields) -> FormFields {
        let raw = |n: &str| f.raw(n).unwrap_or_default().to_owned();
        FormFields {
            name: raw("name"),
            description: raw("description"),
            application_conditions: raw("application_conditions"),
            number: raw("number"),
            motto: raw("motto"),
            cost: raw("cost"),
            location: raw("location"),
            state: raw("state"),
            maximum_participants: raw("maximum_participants"),
            minimum_participants: raw("minimum_participants"),
            application_opening_at: raw("application_opening_at"),
            application_closing_at: raw("application_closing_at"),
            training_days: raw("training_days"),
            applications_cancelable: f.flag("applications_cancelable"),
            external_applications: f.flag("external_applications"),
            globally_visible: f.flag("globally_visible"),
            participations_visible: f.flag("participations_visible"),
            priorization: f.flag("priorization"),
            requires_approval: f.flag("requires_approval"),
            automatic_assignment: f.flag("automatic_assignment"),
            waiting_list: f.flag("waiting_list"),
            notify_contact_on_participations: f.flag("notify_contact_on_participations"),
        }
    }
}

fn date_inputs(event: Option<&Event>) -> Vec<DateInput> {
    let mut rows: Vec<DateInput> = event
        .map(|e| {
            e.dates
                .iter()
                .map(|d| DateInput {
                    label: d.label.clone(),
                    start_at: Some(d.start_at.format("%Y-%m-%dT%H:%M").to_string()),
                    finish_at: d.finish_at.map(|f| f.format("%Y-%m-%dT%H:%M").to_string()),
                    location: d.location.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    rows.extend(std::iter::repeat_with(DateInput::default).take(BLANK_DATE_ROWS));
    rows
}

/// The date rows of a submission: `dates[i][field]`, in order of `i`.
fn typed_dates(f: &Fields) -> Vec<DateInput> {
    let mut rows: std::collections::BTreeMap<usize, DateInput> = Default::default();
    for (key, value) in &f.0 {
        let Some(rest) = key.strip_prefix("dates[") else {
            continue;
        };
        let Some((position, field)) = rest.split_once("][") else {
            continue;
        };
        let (Ok(i), Some(field)) = (position.parse::<usize>(), field.strip_suffix(']')) else {
            continue;
        };
        // Bounded, so a crafted form cannot make many rows.
        if i >= 100 {
            continue;
        }
        let row = rows.entry(i).or_default();
        let slot = match field {
            "label" => &mut row.label,
            "start_at" => &mut row.start_at,
            "finish_at" => &mut row.finish_at,
            "location" => &mut row.location,
            _ => continue,
        };
        *slot = Some(value.clone());
    }
    rows.into_values().collect()
}

async fn kind_options(
    state: &AppState,
    selected: Option<EventKindId>,
) -> Result<Vec<OptionView>, WebError> {
    // A deleted kind is offered only where it is chosen already, so that
    // a course of a deleted kind can still be saved as it is.
    let kinds = state.db(|s| s.event_kinds(true)).await?;
    Ok(kinds
        .into_iter()
        .filter(|k| k.deleted_at.is_none() || Some(k.id) == selected)
        .map(|k| OptionView {
            value: k.id.to_string(),
            label: k.label,
            is_selected: Some(k.id) == selected,
        })
        .collect())
}

/// Adds a violation on `kind_id` unless `patch` names a kind that exists
/// and is not deleted; a course may keep the kind it has (`current`) even
/// after the kind was deleted.
async fn check_kind(
    state: &AppState,
    patch: &EventPatch,
    current: Option<EventKindId>,
    v: &mut Violations,
) -> Result<(), WebError> {
    let Some(id) = patch.kind_id.filter(|k| Some(*k) != current) else {
        return Ok(());
    };
    let kind = state.db(move |s| s.event_kind(id)).await?;
    if kind.is_none_or(|k| k.deleted_at.is_some()) {
        v.add("kind_id", "errors.invalid");
    }
    Ok(())
}

/// A group the event can be on: a checkbox of the event form.
#[derive(Serialize)]
struct GroupChoice {
    id: i64,
    label: String,
    is_checked: bool,
    /// Kept as it is: the group of the page, or a group of the event the
    /// viewer may not create events on.
    is_fixed: bool,
}

/// The groups of the event form: the page's group `primary` and the
/// event's other `current` groups, and every other active group of the
/// same type the viewer may create events on; the page's group first,
/// then by name.
fn group_choices(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    primary: &hitcore::group::Group,
    current: &[GroupId],
) -> Vec<GroupChoice> {
    let mut choices: Vec<(bool, GroupChoice)> = viewer
        .tree
        .iter()
        .filter(|g| g.group_type == primary.group_type && !g.is_deleted())
        .filter_map(|g| {
            let is_primary = g.id == primary.id;
            let is_attached = is_primary || current.contains(&g.id);
            let may = !is_primary
                && g.is_active()
                && ability::may_create_event(&viewer.actor, &[g]).is_allowed();
            (is_attached || may).then(|| {
                let choice = GroupChoice {
                    id: g.id.0,
                    label: GroupLink::with_layer(&state.org, ctx.lang, g, &viewer.tree).full_name,
                    is_checked: is_attached,
                    is_fixed: !may,
                };
                (!is_primary, choice)
            })
        })
        .collect();
    choices.sort_by(|(a_other, a), (b_other, b)| (a_other, &a.label).cmp(&(b_other, &b.label)));
    choices.into_iter().map(|(_, c)| c).collect()
}

/// The groups a submission puts the event on, ascending: the fixed
/// choices, the ticked ones, and the event's `current` groups that are
/// deleted (not offered, so not taken away). A ticked group that is not
/// offered is a violation; a fixed one sent anyway is kept as it is.
fn chosen_groups(
    choices: &[GroupChoice],
    current: &[GroupId],
    viewer: &Viewer,
    f: &Fields,
    v: &mut Violations,
) -> Vec<GroupId> {
    let mut ids: Vec<GroupId> = choices
        .iter()
        .filter(|c| c.is_fixed && c.is_checked)
        .map(|c| GroupId(c.id))
        .collect();
    for raw in f.all("group_ids") {
        let offered = raw
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| choices.iter().find(|c| c.id == id));
        match offered {
            Some(c) if c.is_fixed => {}
            Some(c) => ids.push(GroupId(c.id)),
            None => v.add("group_ids", "errors.invalid"),
        }
    }
    ids.extend(
        current
            .iter()
            .filter(|id| viewer.tree.get(**id).is_none_or(|g| g.is_deleted())),
    );
    ids.sort();
    ids.dedup();
    ids
}

/// The event's contact as the form shows it: the address when the editor
/// may see the person in full and they have one, else only the name (and
/// the contact stays unless another address is entered).
#[derive(Debug, Default, Serialize)]
struct ContactInput {
    email: String,
    kept_name: Option<String>,
}

/// Whether the viewer may see `person` in full: what 5.1 asks of an
/// event's contact.
async fn may_show_full(
    state: &AppState,
    viewer: &Viewer,
    person: &hitcore::person::Person,
) -> Result<bool, WebError> {
    let id = person.id;
    let roles = state.db(move |s| s.roles_of_person(id)).await?;
    let subject = ability::PersonSubject::new(
        person,
        context::is_root(state, person),
        &roles,
        &viewer.tree,
        &state.org,
        Utc::now().date_naive(),
    );
    Ok(ability::person(&viewer.actor, ability::PersonAction::ShowFull, &subject).is_allowed())
}

async fn contact_input(
    state: &AppState,
    viewer: &Viewer,
    contact: Option<hitcore::id::PersonId>,
) -> Result<ContactInput, WebError> {
    let Some(id) = contact else {
        return Ok(ContactInput::default());
    };
    let Some(person) = state.db(move |s| s.person(id)).await? else {
        return Ok(ContactInput::default());
    };
    let email = person.email.clone().filter(|e| !e.trim().is_empty());
    Ok(match email {
        Some(email) if may_show_full(state, viewer, &person).await? => ContactInput {
            email,
            kept_name: None,
        },
        _ => ContactInput {
            email: String::new(),
            kept_name: Some(person.display_name()),
        },
    })
}

/// The contact a submission names: the person with the address in
/// `contact_email`, if the editor may see them in full (else a
/// violation); none when it is blank, unless the form kept the contact
/// by name; `current` when the field is missing.
async fn chosen_contact(
    state: &AppState,
    viewer: &Viewer,
    f: &Fields,
    shown: &ContactInput,
    current: Option<hitcore::id::PersonId>,
    v: &mut Violations,
) -> Result<Option<hitcore::id::PersonId>, WebError> {
    let Some(raw) = f.raw("contact_email") else {
        return Ok(current);
    };
    let email = raw.trim().to_owned();
    if email.is_empty() {
        return Ok(shown.kept_name.as_ref().and(current));
    }
    let found = state.db(move |s| s.person_by_email(&email)).await?;
    match found {
        Some(person) if may_show_full(state, viewer, &person).await? => Ok(Some(person.id)),
        _ => {
            v.add("contact_email", "errors.contact_unknown");
            Ok(current)
        }
    }
}

async fn event_form(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    g: &hitcore::group::Group,
    event_type: &str,
    event: Option<&Event>,
) -> Result<EventForm, WebError> {
    let (title, action, cancel_url) = match event {
        None => (
            format!("{} {}", ctx.t("events.new"), type_label(ctx, event_type)),
            format!("/groups/{}/events", g.id),
            format!("/groups/{}/events", g.id),
        ),
        Some(e) => (
            ctx.t("events.edit"),
            format!("/groups/{}/events/{}", g.id, e.id),
            format!("/groups/{}/events/{}", g.id, e.id),
        ),
    };
    let patch = event.map_or_else(|| EventPatch::defaults_for(event_type), Event::to_patch);
    let current = event.map_or(&[][..], |e| e.group_ids.as_slice());
    Ok(EventForm {
        title,
        action,
        cancel_url,
        group: GroupLink::new(&state.org, ctx.lang, g),
        event_type: event_type.to_owned(),
        is_course: ev::is_course_type(event_type),
        fields: FormFields::of(&patch),
        dates: date_inputs(event),
        kinds: kind_options(state, patch.kind_id).await?,
        groups: group_choices(ctx, state, viewer, g, current),
        contact: contact_input(state, viewer, event.and_then(|e| e.contact_id)).await?,
        has_question: event.is_none(),
        question: QuestionInput::default(),
        errors: FieldErrors::default(),
    })
}

fn render_form(
    ctx: &RequestCtx,
    state: &AppState,
    form: EventForm,
    is_invalid: bool,
) -> Result<Response, WebError> {
    let resp = ctx.render(
        state,
        "events/form.html",
        "events/_form.html",
        &FormView { form },
    )?;
    Ok(if is_invalid {
        unprocessable(resp)
    } else {
        resp
    })
}

fn opt_number<T: std::str::FromStr>(f: &Fields, name: &str, v: &mut Violations) -> Option<T> {
    let raw = f.get(name)?;
    let parsed = raw.trim().parse().ok();
    if parsed.is_none() {
        v.add(name, "errors.invalid");
    }
    parsed
}

fn opt_date(f: &Fields, name: &str, v: &mut Violations) -> Option<chrono::NaiveDate> {
    parse_date(f.raw(name)).unwrap_or_else(|_| {
        v.add(name, "errors.invalid_date");
        None
    })
}

/// The submitted fields as a validated patch for `event_type`.
fn patch_of(f: &Fields, event_type: &str) -> Result<EventPatch, Violations> {
    let mut v = Violations::default();
    let dates = validated_dates(&typed_dates(f), &mut v);
    let patch = EventPatch {
        name: f.get("name"),
        description: f.get("description"),
        application_conditions: f.get("application_conditions"),
        number: f.get("number"),
        motto: f.get("motto"),
        cost: f.get("cost"),
        location: f.get("location"),
        kind_id: opt_number(f, "kind_id", &mut v).map(EventKindId),
        state: f.get("state"),
        maximum_participants: opt_number(f, "maximum_participants", &mut v),
        minimum_participants: opt_number(f, "minimum_participants", &mut v),
        application_opening_at: opt_date(f, "application_opening_at", &mut v),
        application_closing_at: opt_date(f, "application_closing_at", &mut v),
        applications_cancelable: f.flag("applications_cancelable"),
        external_applications: f.flag("external_applications"),
        globally_visible: Some(f.flag("globally_visible")),
        participations_visible: f.flag("participations_visible"),
        priorization: f.flag("priorization"),
        requires_approval: f.flag("requires_approval"),
        automatic_assignment: f.flag("automatic_assignment"),
        waiting_list: f.flag("waiting_list"),
        notify_contact_on_participations: f.flag("notify_contact_on_participations"),
        contact_id: None,
        training_days: opt_number(f, "training_days", &mut v),
        dates,
    };
    patch.validated(event_type, v)
}

/// The question of a submission: the fields `question`, `choices` ...
/// of the question form, or `questions[0][question]` ... of the new-event
/// form (`is_row`), where a blank row means no question.
fn question_of(f: &Fields, is_row: bool) -> Result<Option<NewQuestion>, Violations> {
    let field = |n: &str| {
        if is_row {
            format!("questions[0][{n}]")
        } else {
            n.to_owned()
        }
    };
    let text = f.raw(&field("question")).unwrap_or_default();
    if text.trim().is_empty() && is_row {
        return Ok(None);
    }
    NewQuestion::from_form(
        text,
        f.raw(&field("choices")).unwrap_or_default(),
        f.flag(&field("multiple_choices")),
        f.flag(&field("required")),
        f.flag(&field("admin")),
    )
    .map(Some)
}

fn refill(ctx: &RequestCtx, form: &mut EventForm, f: &Fields, v: &Violations) {
    form.fields = FormFields::typed(f);
    let mut dates = typed_dates(f);
    dates.extend(std::iter::repeat_with(DateInput::default).take(1));
    form.dates = dates;
    form.question = QuestionInput {
        question: f
            .raw("questions[0][question]")
            .unwrap_or_default()
            .to_owned(),
        choices: f
            .raw("questions[0][choices]")
            .unwrap_or_default()
            .to_owned(),
        multiple_choices: f.flag("questions[0][multiple_choices]"),
        required: f.flag("questions[0][required]"),
        admin: f.flag("questions[0][admin]"),
    };
    for k in &mut form.kinds {
        k.is_selected = f.raw("kind_id") == Some(k.value.as_str());
    }
    form.contact.email = f.raw("contact_email").unwrap_or_default().to_owned();
    for c in form.groups.iter_mut().filter(|c| !c.is_fixed) {
        c.is_checked = f.all("group_ids").any(|raw| raw.trim() == c.id.to_string());
    }
    form.errors = FieldErrors::from_violations(ctx.lang, v);
}

/// The query string of the new-event form.
#[derive(Debug, Default, Deserialize)]
pub struct TypeQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
}

/// The requested type, if the group allows it (else a 400).
fn allowed_type(
    state: &AppState,
    g: &hitcore::group::Group,
    requested: Option<&str>,
) -> Result<String, WebError> {
    let requested = requested.unwrap_or(ev::SIMPLE_EVENT);
    ev::allowed_types(&state.org, g)
        .iter()
        .find(|t| t.as_str() == requested)
        .cloned()
        .ok_or(WebError::BadRequest)
}

/// GET /groups/:group_id/events/new?type=...: the new-event form (page,
/// or the form fragment).
#[handler]
pub async fn new_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
    Query(q): Query<TypeQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    ability::permit_create_event(&viewer.actor, &[g])?;
    let event_type = allowed_type(&state, g, q.event_type.as_deref())?;
    let form = event_form(ctx, &state, viewer, g, &event_type, None).await?;
    render_form(ctx, &state, form, false)
}

/// POST /groups/:group_id/events: creates an event with its dates and
/// first question (redirect to it, or the form with messages).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(group_id): Path<GroupId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    ability::permit_create_event(&viewer.actor, &[g])?;
    let event_type = allowed_type(&state, g, fields.raw("event_type"))?;
    let mut form = event_form(ctx, &state, viewer, g, &event_type, None).await?;
    let mut violations = Violations::default();
    let group_ids = chosen_groups(&form.groups, &[], viewer, &fields, &mut violations);
    let groups: Vec<&hitcore::group::Group> = group_ids
        .iter()
        .filter_map(|id| viewer.tree.get(*id))
        .collect();
    let permit = ability::permit_create_event(&viewer.actor, &groups)?;
    if let Err(mut v) = ev::check_groups(&state.org, &event_type, &groups) {
        violations.0.append(&mut v.0);
    }
    let patch = patch_of(&fields, &event_type).map_err(|mut v| violations.0.append(&mut v.0));
    let question = question_of(&fields, true).map_err(|v| {
        violations.0.extend(v.0.into_iter().map(|mut x| {
            x.field = format!("questions[0][{}]", x.field);
            x
        }));
    });
    if let Ok(patch) = &patch {
        check_kind(&state, patch, None, &mut violations).await?;
    }
    let contact = chosen_contact(
        &state,
        viewer,
        &fields,
        &form.contact,
        None,
        &mut violations,
    )
    .await?;
    let (Ok(mut patch), Ok(question), true) = (patch, question, violations.is_empty()) else {
        refill(ctx, &mut form, &fields, &violations);
        return render_form(ctx, &state, form, true);
    };
    patch.contact_id = contact;
    let new = NewEvent {
        event_type,
        group_ids,
        fields: patch,
        questions: question.into_iter().collect(),
        creator_id: Some(viewer.person.id),
    };
    let now = Utc::now();
    let event = state
        .db(move |s| s.create_event(&permit, &new, now))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", "events.flash_created");
    Ok(redirect(
        ctx,
        &format!("/groups/{group_id}/events/{}", event.id),
    ))
}

/// GET /groups/:group_id/events/:id/edit: the edit form (page, or the
/// form fragment).
#[handler]
pub async fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, EventId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    ability::permit_update_event(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    let form = event_form(
        ctx,
        &state,
        viewer,
        g,
        &loaded.event.event_type,
        Some(&loaded.event),
    )
    .await?;
    render_form(ctx, &state, form, false)
}

/// POST /groups/:group_id/events/:id: saves the fields and dates
/// (redirect to the event, or the form with messages).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, EventId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    let permit =
        ability::permit_update_event(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    let event_type = loaded.event.event_type.clone();
    let mut form = event_form(ctx, &state, viewer, g, &event_type, Some(&loaded.event)).await?;
    let mut violations = Violations::default();
    let current = &loaded.event.group_ids;
    let group_ids = chosen_groups(&form.groups, current, viewer, &fields, &mut violations);
    let groups_permit = if group_ids == *current {
        None
    } else {
        let groups: Vec<&hitcore::group::Group> = group_ids
            .iter()
            .filter_map(|id| viewer.tree.get(*id))
            .collect();
        // Deleted groups the event keeps are not checked again.
        let live: Vec<&hitcore::group::Group> =
            groups.iter().copied().filter(|g| !g.is_deleted()).collect();
        if let Err(mut v) = ev::check_groups(&state.org, &event_type, &live) {
            violations.0.append(&mut v.0);
        }
        let s = subject(viewer, &loaded);
        Some(ability::permit_set_event_groups(
            &viewer.actor,
            &s,
            &ev_viewer,
            &groups,
        )?)
    };
    let patch = patch_of(&fields, &event_type).map_err(|mut v| violations.0.append(&mut v.0));
    if let Ok(patch) = &patch {
        check_kind(&state, patch, loaded.event.kind_id, &mut violations).await?;
    }
    let current = loaded.event.contact_id;
    let contact = chosen_contact(
        &state,
        viewer,
        &fields,
        &form.contact,
        current,
        &mut violations,
    )
    .await?;
    let (Ok(mut patch), true) = (patch, violations.is_empty()) else {
        refill(ctx, &mut form, &fields, &violations);
        return render_form(ctx, &state, form, true);
    };
    patch.contact_id = contact;
    let now = Utc::now();
    state
        .db(move |s| s.update_event(&permit, &patch, groups_permit.as_ref(), now))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", "events.flash_updated");
    Ok(redirect(ctx, &format!("/groups/{group_id}/events/{id}")))
}

/// POST /groups/:group_id/events/:id/delete: deletes the event and its
/// attachments' files (redirect to the group's events).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, EventId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    let permit =
        ability::permit_destroy_event(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    let keys = match state.db_raw(move |s| s.delete_event(&permit)).await? {
        Err(StoreError::Rule(m)) if m == ev::DeleteRefusal::HasApplications.to_string() => {
            return Err(WebError::Rule("events.has_applications".to_owned()));
        }
        other => other?,
    };
    delete_files(&state, keys).await;
    context::set_flash(req.cookie(), &state, "notice", "events.flash_deleted");
    Ok(redirect(ctx, &format!("/groups/{group_id}/events")))
}

// ------------------------------------------------------------------ show

#[derive(Serialize)]
struct ShowView {
    group: GroupLink,
    event: EventDetails,
    questions: Vec<QuestionRow>,
    can_edit: bool,
    can_delete: bool,
    edit_url: String,
    delete_url: String,
    question_url: String,
    links: Vec<NewLink>,
    apply_url: Option<String>,
    apply_notice: Option<String>,
    question_form: QuestionInput,
    errors: FieldErrors,
    attachments: Vec<AttachmentRow>,
    attachment_url: String,
}

#[derive(Serialize)]
struct EventDetails {
    id: EventId,
    name: String,
    kind: String,
    is_course: bool,
    description: Option<String>,
    application_conditions: Option<String>,
    number: Option<String>,
    motto: Option<String>,
    cost: Option<String>,
    location: Option<String>,
    dates: Vec<String>,
    application_period: Option<String>,
    participant_count: u32,
    teamer_count: u32,
    applicant_count: u32,
    maximum_participants: Option<u32>,
    has_places: bool,
    waiting_list: bool,
}

#[derive(Serialize)]
struct QuestionRow {
    question: String,
    choices: String,
    flags: Vec<String>,
    delete_url: String,
}

fn details(ctx: &RequestCtx, e: &Event) -> EventDetails {
    let period = match (e.application_opening_at, e.application_closing_at) {
        (None, None) => None,
        (o, c) => Some(format!(
            "{} – {}",
            o.map(|d| d.to_string()).unwrap_or_default(),
            c.map(|d| d.to_string()).unwrap_or_default()
        )),
    };
    EventDetails {
        id: e.id,
        name: e.name.clone(),
        kind: type_label(ctx, &e.event_type),
        is_course: e.is_course(),
        description: e.description.clone(),
        application_conditions: e.application_conditions.clone(),
        number: e.number.clone(),
        motto: e.motto.clone(),
        cost: e.cost.clone(),
        location: e.location.clone(),
        dates: e.dates.iter().map(date_line).collect(),
        application_period: period,
        participant_count: e.participant_count,
        teamer_count: e.teamer_count,
        applicant_count: e.applicant_count,
        maximum_participants: e.maximum_participants.filter(|m| *m > 0),
        has_places: e.has_places_available(),
        waiting_list: e.waiting_list,
    }
}

fn question_rows(ctx: &RequestCtx, base: &str, questions: &[Question]) -> Vec<QuestionRow> {
    questions
        .iter()
        .map(|q| {
            let mut flags = Vec::new();
            if q.required {
                flags.push(ctx.t("events.question_required"));
            }
            if q.admin {
                flags.push(ctx.t("events.question_admin"));
            }
            if q.multiple_choices {
                flags.push(ctx.t("events.question_multiple"));
            }
            QuestionRow {
                question: q.question.clone(),
                choices: question::format_choices(&q.choices),
                flags,
                delete_url: format!("{base}/questions/{}/delete", q.id),
            }
        })
        .collect()
}

/// The links to the pages of other modules the viewer may use.
fn page_links(
    ctx: &RequestCtx,
    viewer: &Viewer,
    s: &EventSubject<'_>,
    ev_viewer: &EventViewer,
    base: &str,
) -> Vec<NewLink> {
    let mut links = Vec::new();
    let actor = &viewer.actor;
    if ability::event(actor, EventAction::IndexParticipations, s, ev_viewer).is_allowed() {
        links.push(NewLink {
            label: ctx.t("events.participants"),
            url: format!("{base}/participations"),
        });
    }
    if s.event.is_course() && ability::may_use_application_market(actor, s).is_allowed() {
        links.push(NewLink {
            label: ctx.t("events.application_market"),
            url: format!("{base}/application_market"),
        });
    }
    if s.event.is_course() && ability::may_read_qualifications(actor, s).is_allowed() {
        links.push(NewLink {
            label: ctx.t("events.qualifications"),
            url: format!("{base}/qualifications"),
        });
    }
    links
}

/// What a refused submission on the event page typed, with the messages.
#[derive(Default)]
struct Typed {
    question: QuestionInput,
    errors: FieldErrors,
}

async fn render_show(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    g: &hitcore::group::Group,
    loaded: &Loaded,
    ev_viewer: &EventViewer,
    typed: Typed,
) -> Result<Response, WebError> {
    let Typed {
        question: question_form,
        errors,
    } = typed;
    let s = subject(viewer, loaded);
    let actor = &viewer.actor;
    let id = loaded.event.id;
    let (questions, attachments) = state
        .db(move |st| Ok((st.questions(id)?, st.attachments(id)?)))
        .await?;
    let base = format!("/groups/{}/events/{}", g.id, id);
    let can_edit = ability::event(actor, EventAction::Update, &s, ev_viewer).is_allowed();
    let today = Utc::now().date_naive();
    let apply = loaded
        .own
        .is_none()
        .then(|| ability::may_create_participation(actor, &s, viewer.person.id, true, today));
    let can_apply = apply.as_ref().is_some_and(ability::Decision::is_allowed);
    // Why one cannot apply, when it is the period or the places.
    let apply_notice = match apply {
        Some(ability::Decision::Refused(
            r @ (ability::Refusal::ApplicationClosed | ability::Refusal::EventFull),
        )) => Some(ctx.t(crate::error::refusal_key(&r))),
        _ => None,
    };
    let view = ShowView {
        group: GroupLink::new(&state.org, ctx.lang, g),
        event: details(ctx, &loaded.event),
        questions: question_rows(ctx, &base, &questions),
        can_edit,
        can_delete: ability::event(actor, EventAction::Destroy, &s, ev_viewer).is_allowed(),
        edit_url: format!("{base}/edit"),
        delete_url: format!("{base}/delete"),
        question_url: format!("{base}/questions"),
        links: page_links(ctx, viewer, &s, ev_viewer, &base),
        apply_url: can_apply.then(|| format!("{base}/participations/new")),
        apply_notice,
        question_form,
        errors,
        attachments: attachment_rows(ctx, viewer, &s, ev_viewer, &base, &attachments),
        attachment_url: format!("{base}/attachments"),
    };
    ctx.render(state, "events/show.html", "events/_details.html", &view)
}

/// GET /groups/:group_id/events/:id: the event page (page, or the details
/// fragment).
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, EventId)>,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, q.token);
    check(ability::event(
        &viewer.actor,
        EventAction::Show,
        &subject(viewer, &loaded),
        &ev_viewer,
    ))?;
    render_show(
        ctx,
        &state,
        viewer,
        g,
        &loaded,
        &ev_viewer,
        Typed::default(),
    )
    .await
}

// ------------------------------------------------------------- questions

/// POST /groups/:group_id/events/:id/questions: adds a question (redirect
/// to the event, or the event page with messages).
#[handler]
pub async fn add_question(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, EventId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    let permit =
        ability::permit_update_event(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    let question = match question_of(&fields, false) {
        Ok(Some(q)) => q,
        Ok(None) => return Err(WebError::BadRequest),
        Err(v) => {
            let typed = QuestionInput {
                question: fields.raw("question").unwrap_or_default().to_owned(),
                choices: fields.raw("choices").unwrap_or_default().to_owned(),
                multiple_choices: fields.flag("multiple_choices"),
                required: fields.flag("required"),
                admin: fields.flag("admin"),
            };
            let errors = FieldErrors::from_violations(ctx.lang, &v);
            let resp = render_show(
                ctx,
                &state,
                viewer,
                g,
                &loaded,
                &ev_viewer,
                Typed {
                    question: typed,
                    errors,
                },
            )
            .await?;
            return Ok(unprocessable(resp));
        }
    };
    state
        .db(move |s| s.add_question(&permit, &question))
        .await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "events.flash_question_added",
    );
    Ok(redirect(ctx, &format!("/groups/{group_id}/events/{id}")))
}

/// POST /groups/:group_id/events/:id/questions/:qid/delete: removes a
/// question with its answers (redirect to the event).
#[handler]
pub async fn remove_question(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id, qid)): Path<(GroupId, EventId, QuestionId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    let permit =
        ability::permit_update_event(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    state.db(move |s| s.remove_question(&permit, qid)).await?;
    Ok(redirect(ctx, &format!("/groups/{group_id}/events/{id}")))
}

// --------------------------------------------------------------- calendar

/// GET /groups/:group_id/events.ics: the group's upcoming events the
/// viewer may see, as an iCalendar file.
#[handler]
pub async fn calendar(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    check(ability::may_index_lists(&viewer.actor))?;
    let today = Utc::now().date_naive();
    let events = visible_events(&state, viewer, group_id, EventWhen::Upcoming(today)).await?;
    // Calendar programs need absolute links, and UIDs unique to this site.
    let base = &state.config.mail.settings.base_url;
    let host = base
        .parse::<poem::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .unwrap_or_else(|| state.config.mail.settings.list_domain.clone());
    let body = ev::ical::calendar(g.display_name(), &events, &host, Utc::now(), |e| {
        format!("{base}/groups/{group_id}/events/{}", e.id)
    });
    Ok(body
        .with_content_type("text/calendar; charset=utf-8")
        .with_header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"events-{group_id}.ics\""),
        )
        .into_response())
}

// ------------------------------------------------------------ global lists

#[derive(Serialize)]
struct ListView {
    title: String,
    rows: Vec<EventRow>,
    is_courses: bool,
    kinds: Vec<OptionView>,
    from: String,
    to: String,
    page: u32,
    pages: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
}

/// The query string of the global lists.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    kind_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
}

const PER_PAGE: u32 = 50;

/// The group whose URL an event is linked through: its first group that
/// is not deleted (a deleted group's pages are 404). None when all are:
/// the event is left out of the list.
fn link_group(viewer: &Viewer, e: &Event) -> Option<GroupId> {
    super::event_groups(viewer, e).first().map(|g| g.id)
}

async fn global_list(
    ctx: &RequestCtx,
    state: &AppState,
    q: ListQuery,
    event_type: &str,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    check(ability::may_list_courses(&viewer.actor))?;
    let ev_viewer = event_viewer(viewer, None);
    let mut scope = ability::event_scope(&viewer.actor, &ev_viewer);
    let is_courses = event_type == ev::COURSE;
    if is_courses
        && ability::may_list_all_courses(&viewer.actor, &viewer.tree, &state.org).is_allowed()
    {
        scope.all = true;
    }
    let kind_id = match q.kind_id.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(EventKindId(k.parse().map_err(|_| WebError::BadRequest)?)),
    };
    let from = parse_date(q.from.as_deref()).map_err(|_| WebError::BadRequest)?;
    let to = parse_date(q.to.as_deref()).map_err(|_| WebError::BadRequest)?;
    let page = q.page.unwrap_or(1).max(1);
    let query = EventQuery {
        scope,
        event_type: Some(event_type.to_owned()),
        kind_id,
        from,
        to,
        page,
        per_page: PER_PAGE,
    };
    let found: Page<Event> = state.db(move |s| s.events_list(&query)).await?;
    let link = |p: u32| {
        let path = if is_courses {
            "/list_courses"
        } else {
            "/list_events"
        };
        let mut url = format!("{path}?page={p}");
        if let Some(k) = kind_id {
            url.push_str(&format!("&kind_id={k}"));
        }
        if let Some(d) = from {
            url.push_str(&format!("&from={d}"));
        }
        if let Some(d) = to {
            url.push_str(&format!("&to={d}"));
        }
        url
    };
    let pages = found.pages();
    let view = ListView {
        title: ctx.t(if is_courses {
            "events.list_courses"
        } else {
            "events.list_events"
        }),
        rows: found
            .items
            .iter()
            .filter_map(|e| Some(EventRow::new(ctx, e, link_group(viewer, e)?)))
            .collect(),
        is_courses,
        kinds: if is_courses {
            kind_options(state, kind_id).await?
        } else {
            Vec::new()
        },
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.map(|d| d.to_string()).unwrap_or_default(),
        page,
        pages,
        prev_url: (page > 1).then(|| link(page - 1)),
        next_url: (page < pages).then(|| link(page + 1)),
    };
    ctx.render(state, "events/list.html", "events/_list.html", &view)
}

/// GET /list_events: the events the viewer may see, by date (page, or
/// the list fragment).
#[handler]
pub async fn list_events(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    global_list(ctx, &state, q, ev::SIMPLE_EVENT).await
}

/// GET /list_courses?kind_id=&from=&to=: the courses the viewer may see,
/// filtered by kind and dates (page, or the list fragment).
#[handler]
pub async fn list_courses(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    global_list(ctx, &state, q, ev::COURSE).await
}

// ------------------------------------------------------------ attachments

/// The largest attachment request read: the largest file plus the other
/// fields.
pub const MAX_ATTACHMENT_BODY_BYTES: u64 = ev::MAX_ATTACHMENT_BYTES as u64 + 64 * 1024;

/// One attachment on the event page.
#[derive(Serialize)]
struct AttachmentRow {
    filename: String,
    url: String,
    visibility: String,
    size_kb: u64,
    delete_url: String,
}

fn attachment_rows(
    ctx: &RequestCtx,
    viewer: &Viewer,
    s: &EventSubject<'_>,
    ev_viewer: &EventViewer,
    base: &str,
    attachments: &[ev::Attachment],
) -> Vec<AttachmentRow> {
    attachments
        .iter()
        .filter(|a| {
            ability::may_download_attachment(&viewer.actor, s, ev_viewer, a.visibility).is_allowed()
        })
        .map(|a| AttachmentRow {
            filename: a.filename.clone(),
            url: format!("{base}/attachments/{}", a.id),
            visibility: ctx.t(&format!("events.visibility_{}", a.visibility.as_str())),
            size_kb: a.byte_size.div_ceil(1024),
            delete_url: format!("{base}/attachments/{}/delete", a.id),
        })
        .collect()
}

/// The CSRF check of the url-encoded forms, for a multipart body: the
/// `X-CSRF-Token` header, or else the first field, which must be
/// `csrf_token`; a file before the token is refused unread.
async fn check_multipart_csrf(req: &Request, form: &mut Multipart) -> Result<(), WebError> {
    let token = match req.header(CSRF_HEADER) {
        Some(t) => Some(t.to_owned()),
        None => match form.next_field().await.map_err(|_| WebError::BadRequest)? {
            Some(field) if field.name() == Some(CSRF_FIELD) => read_limited(field, 1024)
                .await?
                .and_then(|b| String::from_utf8(b).ok()),
            _ => None,
        },
    };
    let is_valid = match (token, req.data::<CsrfVerifier>()) {
        (Some(t), Some(verifier)) => verifier.is_valid(&t),
        _ => false,
    };
    if is_valid {
        Ok(())
    } else {
        tracing::warn!("Refused an attachment upload without a valid CSRF token");
        Err(WebError::CsrfRefused)
    }
}

/// A field's content, or `None` when it has more than `limit` bytes.
async fn read_limited(field: poem::web::Field, limit: u64) -> Result<Option<Vec<u8>>, WebError> {
    let mut bytes = Vec::new();
    field
        .into_async_read()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| WebError::BadRequest)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// The upload's fields after the token: the visibility and the file.
struct Upload {
    visibility: ev::AttachmentVisibility,
    filename: String,
    /// `None`: larger than the limit.
    bytes: Option<Vec<u8>>,
}

async fn read_upload(form: &mut Multipart) -> Result<Upload, WebError> {
    let mut found = Upload {
        visibility: ev::AttachmentVisibility::default(),
        filename: String::new(),
        bytes: Some(Vec::new()),
    };
    while let Some(field) = form.next_field().await.map_err(|_| WebError::BadRequest)? {
        match field.name() {
            Some("visibility") => {
                let text = read_limited(field, 64).await?.unwrap_or_default();
                found.visibility = ev::AttachmentVisibility::parse(&String::from_utf8_lossy(&text))
                    .ok_or(WebError::BadRequest)?;
            }
            Some("file") => {
                found.filename = field.file_name().unwrap_or_default().to_owned();
                found.bytes = read_limited(field, ev::MAX_ATTACHMENT_BYTES as u64).await?;
            }
            Some(CSRF_FIELD) => {}
            _ => return Err(WebError::BadRequest),
        }
    }
    Ok(found)
}

/// POST /groups/:group_id/events/:event_id/attachments: stores an upload
/// (multipart: `csrf_token` first, then `visibility` and `file`).
/// Redirects to the event; a refused file shows the event page with the
/// message (422).
///
/// Like the picture upload, the route sits outside the body limit and
/// the CSRF middleware of `app.rs`, so both happen here first.
#[handler]
pub async fn upload(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, EventId)>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let declared = req
        .header(header::CONTENT_LENGTH)
        .map(|v| v.trim().parse::<u64>());
    let is_declared_too_large = matches!(declared, Some(Ok(n)) if n > MAX_ATTACHMENT_BODY_BYTES);
    if !is_declared_too_large {
        check_multipart_csrf(req, &mut form).await?;
    }
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    let permit =
        ability::permit_manage_attachments(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    // A body declared larger than any attachment is answered unread, with
    // the file field's own message (nothing changes, so no CSRF check is
    // needed to say so).
    let checked = if is_declared_too_large {
        let mut v = Violations::default();
        v.add("file", "errors.file_too_large");
        Err(v)
    } else {
        let sent = read_upload(&mut form).await?;
        let size = sent
            .bytes
            .as_ref()
            .map_or(ev::MAX_ATTACHMENT_BYTES + 1, Vec::len);
        ev::check_attachment(&sent.filename, size, sent.visibility).map(|a| (a, sent.bytes))
    };
    let (checked, bytes) = match checked {
        Ok(a) => a,
        Err(v) => {
            let errors = FieldErrors::from_violations(ctx.lang, &v);
            let resp = render_show(
                ctx,
                &state,
                viewer,
                g,
                &loaded,
                &ev_viewer,
                Typed {
                    errors,
                    ..Typed::default()
                },
            )
            .await?;
            return Ok(unprocessable(resp));
        }
    };
    let bytes = bytes.unwrap_or_default();
    let key = format!("events/{id}/{}", hitcore::auth::new_token());
    let storage = state.storage.clone();
    let stored_key = key.clone();
    tokio::task::spawn_blocking(move || {
        let key = hitcore::storage::StorageKey::new(stored_key)?;
        storage.write(&key, bytes)
    })
    .await
    .map_err(WebError::internal)?
    .map_err(WebError::internal)?;
    let now = Utc::now();
    state
        .db(move |s| s.add_attachment(&permit, &checked, &key, now))
        .await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "events.flash_attachment_added",
    );
    Ok(redirect(ctx, &format!("/groups/{group_id}/events/{id}")))
}

/// The attachment `aid` of the loaded event, or a 404.
async fn attachment_of(
    state: &AppState,
    loaded: &Loaded,
    aid: AttachmentId,
) -> Result<ev::Attachment, WebError> {
    let found = state.db(move |s| s.attachment(aid)).await?;
    found
        .filter(|a| a.event_id == loaded.event.id)
        .ok_or(WebError::NotFound)
}

/// A file name for `Content-Disposition`: ASCII letters, digits and
/// `.-_` kept, everything else `_`, so no header can be broken.
fn header_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// GET /groups/:group_id/events/:event_id/attachments/:aid: the file, as
/// a download, for those its visibility lets in.
#[handler]
pub async fn download(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id, aid)): Path<(GroupId, EventId, AttachmentId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let attachment = attachment_of(&state, &loaded, aid).await?;
    let ev_viewer = event_viewer(viewer, None);
    ability::permit_download_attachment(
        &viewer.actor,
        &subject(viewer, &loaded),
        &ev_viewer,
        &attachment,
    )?;
    let storage = state.storage.clone();
    let key = attachment.storage_key.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let key = hitcore::storage::StorageKey::new(key)?;
        storage.read(&key)
    })
    .await
    .map_err(WebError::internal)?
    .map_err(WebError::internal)?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, attachment.content_type.as_str())
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                header_filename(&attachment.filename)
            ),
        )
        .header(header::CACHE_CONTROL, "private, no-cache")
        .body(bytes))
}

/// Deletes attachment files whose rows are gone. The rows went first, so
/// a file that cannot be deleted now is unreachable; it is logged, and
/// the answer does not fail for it.
async fn delete_files(state: &AppState, keys: Vec<String>) {
    let storage = state.storage.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        keys.iter().try_for_each(|k| {
            let key = hitcore::storage::StorageKey::new(k.clone())?;
            storage.delete(&key)
        })
    })
    .await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "An attachment's file stays in storage"),
        Err(e) => tracing::warn!(error = %e, "An attachment's file stays in storage"),
    }
}

/// POST /groups/:group_id/events/:event_id/attachments/:aid/delete:
/// removes an attachment (redirect to the event).
#[handler]
pub async fn remove_attachment(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id, aid)): Path<(GroupId, EventId, AttachmentId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load(&state, viewer, group_id, id).await?;
    let ev_viewer = event_viewer(viewer, None);
    let permit =
        ability::permit_manage_attachments(&viewer.actor, &subject(viewer, &loaded), &ev_viewer)?;
    let gone = state.db(move |s| s.remove_attachment(&permit, aid)).await?;
    delete_files(&state, vec![gone.storage_key]).await;
    Ok(redirect(ctx, &format!("/groups/{group_id}/events/{id}")))
}
