//! `/groups/:group_id/events/:event_id/participations/...`: the
//! participant list, the registration form (for oneself, or a leader
//! registering someone), a participation's page with its answers, and the
//! changes to it: cancel, approve or reject, event roles.
//!
//! Every handler decides through `hitcore::ability` (the participation
//! rows of section 4.3) before it shows or changes anything; the
//! application rules themselves are `hitcore::event::application`'s,
//! applied by the store in the transaction of the change.

use chrono::{NaiveDate, Utc};
use hitcore::ability::{
    self, Decision, EventAction, EventSubject, EventViewer, ParticipationAction,
    ParticipationSubject, PersonAction, PersonSubject,
};
use hitcore::event::application::{ApplyRefusal, MarketRefusal};
use hitcore::event::participation::{
    Answer, EventRoleType, NewParticipation, OwnParticipation, Participation, ParticipationEntry,
    ParticipationMail, mails_on_register,
};
use hitcore::event::qualification::{self, PreconditionWarning};
use hitcore::event::question::{self, AnswerInput, AnswerViewer, Question};
use hitcore::event::{Event, EventQuery};
use hitcore::group::Group;
use hitcore::id::{EventId, EventRoleId, ParticipationId};
use hitcore::jobs::NewJob;
use hitcore::store::StoreError;
use hitcore::{GroupId, PersonId};
use hitjobs::jobs::EventParticipationMail;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::{Fields, check, redirect, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::GroupLink;

/// An event with what the participation pages need about it and the
/// viewer.
pub(crate) struct Loaded {
    pub event: Event,
    pub questions: Vec<Question>,
    /// The viewer's own participation in the event.
    pub own: Option<Participation>,
}

/// Loads the event of the URL; a 404 when it is not one of the group's.
pub(crate) async fn load_event(
    state: &AppState,
    viewer: &Viewer,
    group_id: GroupId,
    event_id: EventId,
) -> Result<Loaded, WebError> {
    let person = viewer.person.id;
    let loaded = state
        .db(move |s| {
            let event = s.event(event_id)?.ok_or(StoreError::NotFound)?;
            let questions = s.questions(event_id)?;
            let own = s.participation_of(event_id, person)?;
            Ok(Loaded {
                event,
                questions,
                own,
            })
        })
        .await?;
    if !loaded.event.group_ids.contains(&group_id) {
        return Err(WebError::NotFound);
    }
    Ok(loaded)
}

/// The viewer's participation as the ability engine sees it.
fn own_of(p: &Participation) -> OwnParticipation {
    OwnParticipation {
        active: p.active,
        roles: p.roles.iter().map(|r| r.role_type).collect(),
    }
}

/// The ability engine's view of the event; unknown or deleted groups
/// are left out ([`super::event_groups`]).
pub(crate) fn event_subject<'a>(viewer: &'a Viewer, loaded: &'a Loaded) -> EventSubject<'a> {
    EventSubject {
        event: &loaded.event,
        groups: super::event_groups(viewer, &loaded.event),
        own: loaded.own.as_ref().map(own_of),
    }
}

/// The event's show decision for the viewer: a 404 when refused, so that
/// an invisible event's existence is not shown.
pub(crate) fn check_visible(viewer: &Viewer, subject: &EventSubject<'_>) -> Result<(), WebError> {
    let today = Utc::now().date_naive();
    let ev = EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today);
    if ability::event(&viewer.actor, EventAction::Show, subject, &ev).is_allowed() {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

fn may_event(viewer: &Viewer, subject: &EventSubject<'_>, action: EventAction) -> Decision {
    let today = Utc::now().date_naive();
    let ev = EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today);
    ability::event(&viewer.actor, action, subject, &ev)
}

fn base_url(group_id: GroupId, event_id: EventId) -> String {
    format!("/groups/{group_id}/events/{event_id}")
}

/// The page header every participation page shows.
#[derive(Serialize)]
pub(crate) struct EventHeader {
    pub name: String,
    pub url: String,
    pub participations_url: String,
    pub market_url: Option<String>,
    pub group: GroupLink,
    pub participant_count: u32,
    pub maximum_participants: Option<u32>,
    pub applicant_count: u32,
    pub teamer_count: u32,
}

pub(crate) fn header(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    g: &Group,
    subject: &EventSubject<'_>,
) -> EventHeader {
    let e = subject.event;
    let base = base_url(g.id, e.id);
    let has_market = hitcore::event::application::supports_applications(&e.event_type)
        && ability::may_use_application_market(&viewer.actor, subject).is_allowed();
    EventHeader {
        name: e.name.clone(),
        url: base.clone(),
        participations_url: format!("{base}/participations"),
        market_url: has_market.then(|| format!("{base}/application_market")),
        group: GroupLink::new(&state.org, ctx.lang, g),
        participant_count: e.participant_count,
        maximum_participants: e.maximum_participants.filter(|m| *m > 0),
        applicant_count: e.applicant_count,
        teamer_count: e.teamer_count,
    }
}

fn role_labels(ctx: &RequestCtx, roles: &[EventRoleType]) -> Vec<String> {
    roles
        .iter()
        .map(|r| ctx.t(&format!("participations.role_{}", r.key())))
        .collect()
}

// ----------------------------------------------------------------- index

#[derive(Serialize)]
struct IndexView {
    event: EventHeader,
    is_pending_tab: bool,
    can_see_pending: bool,
    can_register_others: bool,
    new_url: String,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    name: String,
    url: String,
    roles: Vec<String>,
    state: String,
}

fn state_label(ctx: &RequestCtx, entry: &ParticipationEntry) -> String {
    let waiting = entry.application.as_ref().is_some_and(|a| a.waiting_list);
    let key = match (entry.participation.active, waiting) {
        (true, _) => "participations.state_active",
        (false, true) => "participations.state_waiting_list",
        (false, false) => "participations.state_pending",
    };
    let mut label = ctx.t(key);
    if let Some(a) = &entry.application {
        if a.approved {
            label = format!("{label} · {}", ctx.t("participations.approved"));
        } else if a.rejected {
            label = format!("{label} · {}", ctx.t("participations.rejected"));
        }
    }
    label
}

/// GET /groups/:group_id/events/:event_id/participations: the active
/// participants, or the pending ones with `?filter=pending` (page, or the
/// table fragment).
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
    check(may_event(
        viewer,
        &subject,
        EventAction::IndexParticipations,
    ))?;
    let can_see_pending =
        may_event(viewer, &subject, EventAction::IndexFullParticipations).is_allowed();
    let is_pending_tab = query.raw("filter") == Some("pending");
    if is_pending_tab && !can_see_pending {
        return Err(WebError::Forbidden(ability::Refusal::NoPermission));
    }
    let entries = state
        .db(move |s| s.participations(event_id, !is_pending_tab))
        .await?;
    let base = base_url(group_id, event_id);
    let rows = entries
        .iter()
        .map(|e| Row {
            name: e.person_name.clone(),
            url: format!("{base}/participations/{}", e.participation.id),
            roles: role_labels(
                ctx,
                &e.participation
                    .roles
                    .iter()
                    .map(|r| r.role_type)
                    .collect::<Vec<_>>(),
            ),
            state: state_label(ctx, e),
        })
        .collect();
    let today = Utc::now().date_naive();
    let view = IndexView {
        event: header(ctx, &state, viewer, g, &subject),
        is_pending_tab,
        can_see_pending,
        can_register_others: ability::may_create_participation(
            &viewer.actor,
            &subject,
            PersonId(0),
            false,
            today,
        )
        .is_allowed(),
        new_url: format!("{base}/participations/new"),
        rows,
    };
    ctx.render(
        &state,
        "participations/index.html",
        "participations/_table.html",
        &view,
    )
}

// ------------------------------------------------------------------ form

/// One question of the registration form.
#[derive(Serialize)]
struct QuestionField {
    id: i64,
    name: String,
    question: String,
    input: AnswerInput,
    required: bool,
    choices: Vec<ChoiceField>,
    value: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct ChoiceField {
    value: String,
    is_checked: bool,
}

#[derive(Serialize)]
struct FormView {
    event: EventHeader,
    action: String,
    cancel_url: String,
    /// Whom the registration is for; `None`: the viewer.
    person_id: Option<i64>,
    person_name: String,
    is_by_self: bool,
    questions: Vec<QuestionField>,
    additional_information: String,
    /// The courses that may be the second and third choice; empty when
    /// the event does not ask for priorities.
    priorities: Vec<PriorityOption>,
    priority_2_id: Option<i64>,
    priority_3_id: Option<i64>,
    warnings: Vec<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct PriorityOption {
    id: i64,
    name: String,
}

/// The courses that may be an application's second and third choice
/// (5.4, 2): open courses of the same kind among those the viewer finds
/// in the course list (their hierarchy).
async fn other_priorities(
    state: &AppState,
    viewer: &Viewer,
    event: &Event,
    today: NaiveDate,
) -> Result<Vec<PriorityOption>, WebError> {
    if !event.priorization
        || event.kind_id.is_none()
        || !hitcore::event::application::supports_applications(&event.event_type)
    {
        return Ok(Vec::new());
    }
    let ev = EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today);
    let query = EventQuery {
        scope: ability::event_scope(&viewer.actor, &ev),
        event_type: Some(event.event_type.clone()),
        kind_id: event.kind_id,
        from: Some(today),
        to: None,
        page: 1,
        per_page: 100,
    };
    let page = state.db(move |s| s.events_list(&query)).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|other| hitcore::event::application::may_be_other_priority(event, other, today))
        .map(|e| PriorityOption {
            id: e.id.0,
            name: e.name,
        })
        .collect())
}

/// The chosen priority `name` (`priority_2_id`), if it is one of the
/// offered courses; anything else is a bad request.
fn chosen_priority(
    fields: &Fields,
    name: &str,
    offered: &[PriorityOption],
) -> Result<Option<EventId>, WebError> {
    let Some(raw) = fields.get(name) else {
        return Ok(None);
    };
    let id: i64 = raw.trim().parse().map_err(|_| WebError::BadRequest)?;
    if offered.iter().any(|o| o.id == id) {
        Ok(Some(EventId(id)))
    } else {
        Err(WebError::BadRequest)
    }
}

/// The name of a question's field: `answers[<id>]`.
fn answer_field(q: &Question) -> String {
    format!("answers[{}]", q.id.0)
}

fn question_fields(questions: &[Question], fields: Option<&Fields>) -> Vec<QuestionField> {
    question::application_questions(questions)
        .into_iter()
        .map(|q| {
            let name = answer_field(q);
            let values = fields
                .map(|f| f.all(&name).map(str::to_owned).collect::<Vec<_>>())
                .unwrap_or_default();
            QuestionField {
                id: q.id.0,
                question: q.question.clone(),
                input: q.input(),
                required: q.required,
                choices: q
                    .choices
                    .iter()
                    .map(|c| ChoiceField {
                        value: c.clone(),
                        is_checked: values.contains(c),
                    })
                    .collect(),
                value: values.first().cloned().unwrap_or_default(),
                error: None,
                name,
            }
        })
        .collect()
}

/// The precondition warnings for `person` (5.4, 3), translated; none for
/// events without a kind or without dates.
async fn warnings(
    ctx: &RequestCtx,
    state: &AppState,
    event: &Event,
    person: PersonId,
) -> Result<Vec<String>, WebError> {
    let (Some(kind_id), Some(start)) = (event.kind_id, qualification::course_start(&event.dates))
    else {
        return Ok(Vec::new());
    };
    let found = state
        .db(move |s| {
            let Some(kind) = s.event_kind(kind_id)? else {
                return Ok(None);
            };
            let kinds = s.qualification_kinds(true)?;
            let held = s.qualifications_of_person(person)?;
            let birthday = s.person(person)?.and_then(|p| p.birthday);
            Ok(Some((kind, kinds, held, birthday)))
        })
        .await?;
    let Some((kind, kinds, held, birthday)) = found else {
        return Ok(Vec::new());
    };
    let list = qualification::check_preconditions(&kind, &kinds, birthday, &held, start);
    Ok(list
        .iter()
        .map(|w| match w {
            PreconditionWarning::BirthdayUnknown { minimum_age } => ctx
                .t("participations.warning_birthday")
                .replace("%{age}", &minimum_age.to_string()),
            PreconditionWarning::TooYoung { minimum_age } => ctx
                .t("participations.warning_too_young")
                .replace("%{age}", &minimum_age.to_string()),
            PreconditionWarning::MissingQualifications { missing } => {
                let names: Vec<String> = missing
                    .iter()
                    .flatten()
                    .filter_map(|id| kinds.iter().find(|k| k.id == *id))
                    .map(|k| k.label.clone())
                    .collect();
                format!(
                    "{} {}",
                    ctx.t("participations.warning_qualifications"),
                    names.join(", ")
                )
            }
        })
        .collect())
}

/// Whom a form registers: `person_id` of the query or form, else the
/// viewer.
fn registrant(viewer: &Viewer, person_id: Option<&str>) -> Result<PersonId, WebError> {
    match person_id.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(viewer.person.id),
        Some(v) => Ok(PersonId(v.parse().map_err(|_| WebError::BadRequest)?)),
    }
}

/// The name of the person a form registers, asked after the registration
/// itself was permitted.
///
/// # Errors
/// 404 for an unknown person, and for one the viewer may not see.
async fn registrant_name(
    state: &AppState,
    viewer: &Viewer,
    id: PersonId,
) -> Result<String, WebError> {
    if id == viewer.person.id {
        return Ok(viewer.person.display_name());
    }
    let (person, roles) = state
        .db(move |s| {
            let Some(person) = s.person(id)? else {
                return Ok(None);
            };
            Ok(Some((person, s.roles_of_person(id)?)))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    // Only people the registrar may see: otherwise any leader could walk
    // the person ids, register strangers and export their data. Someone
    // hidden is answered like someone unknown.
    let subject = PersonSubject::new(
        &person,
        context::is_root(state, &person),
        &roles,
        &viewer.tree,
        &state.org,
        Utc::now().date_naive(),
    );
    if !ability::person(&viewer.actor, PersonAction::Show, &subject).is_allowed() {
        return Err(WebError::NotFound);
    }
    Ok(person.display_name())
}

/// GET /groups/:group_id/events/:event_id/participations/new: the
/// registration form, `?person_id=N` for registering someone else (page,
/// or the form fragment).
#[handler]
pub async fn new_form(
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
    let person = registrant(viewer, query.raw("person_id"))?;
    let today = Utc::now().date_naive();
    ability::permit_create_participation(&viewer.actor, &subject, person, true, today)?;
    let person_name = registrant_name(&state, viewer, person).await?;
    let view = FormView {
        event: header(ctx, &state, viewer, g, &subject),
        action: format!("{}/participations", base_url(group_id, event_id)),
        cancel_url: base_url(group_id, event_id),
        person_id: (person != viewer.person.id).then_some(person.0),
        person_name,
        is_by_self: person == viewer.person.id,
        questions: question_fields(&loaded.questions, None),
        additional_information: String::new(),
        priorities: other_priorities(&state, viewer, &loaded.event, today).await?,
        priority_2_id: None,
        priority_3_id: None,
        warnings: warnings(ctx, &state, &loaded.event, person).await?,
        error: None,
    };
    ctx.render(
        &state,
        "participations/new.html",
        "participations/_form.html",
        &view,
    )
}

/// The answers of the form, checked by each question; the fields with
/// their messages when one is wrong.
fn answers_of(
    ctx: &RequestCtx,
    questions: &[Question],
    fields: &Fields,
    by_self: bool,
) -> Result<Vec<Answer>, Vec<QuestionField>> {
    let mut out = Vec::new();
    let mut shown = question_fields(questions, Some(fields));
    let mut is_valid = true;
    for (q, field) in question::application_questions(questions)
        .into_iter()
        .zip(shown.iter_mut())
    {
        match q.answer(
            &fields
                .all(&answer_field(q))
                .map(str::to_owned)
                .collect::<Vec<_>>(),
            by_self,
        ) {
            Ok(answer) => out.push(Answer {
                question_id: q.id,
                answer,
            }),
            Err(key) => {
                field.error = Some(ctx.t(key));
                is_valid = false;
            }
        }
    }
    if is_valid { Ok(out) } else { Err(shown) }
}

/// The message key of a refused registration.
fn register_refusal_key(e: &StoreError) -> Option<&'static str> {
    match e {
        StoreError::Conflict { field } if field == "person" => {
            Some("participations.already_registered")
        }
        StoreError::Rule(msg) if *msg == ApplyRefusal::PeriodClosed.to_string() => {
            Some("participations.period_closed")
        }
        StoreError::Rule(msg) if *msg == ApplyRefusal::Full.to_string() => {
            Some("participations.full")
        }
        _ => None,
    }
}

/// The jobs of the mails a registration sends.
fn mail_jobs(
    mails: &[ParticipationMail],
    event: EventId,
    person: PersonId,
    by: PersonId,
    now: chrono::DateTime<Utc>,
) -> Vec<NewJob> {
    mails
        .iter()
        .filter_map(|mail| {
            let job = EventParticipationMail {
                event_id: event,
                person_id: person,
                mail: *mail,
                recipient: None,
            };
            // A payload of two ids and a name always serialises.
            NewJob::of(&job, now).ok().map(|j| j.by(by))
        })
        .collect()
}

/// POST /groups/:group_id/events/:event_id/participations: registers the
/// viewer or `person_id` (redirect to the participation, or the form with
/// messages, 422).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, event_id)): Path<(GroupId, EventId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    check_visible(viewer, &subject)?;
    let person = registrant(viewer, fields.raw("person_id"))?;
    let today = Utc::now().date_naive();
    let permit =
        ability::permit_create_participation(&viewer.actor, &subject, person, true, today)?;
    let person_name = registrant_name(&state, viewer, person).await?;
    let by_self = permit.target().by_self;
    let mut view = FormView {
        event: header(ctx, &state, viewer, g, &subject),
        action: format!("{}/participations", base_url(group_id, event_id)),
        cancel_url: base_url(group_id, event_id),
        person_id: (!by_self).then_some(person.0),
        person_name,
        is_by_self: by_self,
        questions: question_fields(&loaded.questions, Some(&fields)),
        additional_information: fields
            .raw("additional_information")
            .unwrap_or_default()
            .to_owned(),
        priorities: other_priorities(&state, viewer, &loaded.event, today).await?,
        priority_2_id: None,
        priority_3_id: None,
        warnings: Vec::new(),
        error: None,
    };
    let priority_2_id = chosen_priority(&fields, "priority_2_id", &view.priorities)?;
    let priority_3_id = chosen_priority(&fields, "priority_3_id", &view.priorities)?;
    view.priority_2_id = priority_2_id.map(|e| e.0);
    view.priority_3_id = priority_3_id.map(|e| e.0);
    if priority_2_id.is_some() && priority_2_id == priority_3_id {
        view.error = Some(ctx.t("participations.same_priority"));
        return render_form_invalid(ctx, &state, &view);
    }
    let answers = match answers_of(ctx, &loaded.questions, &fields, by_self) {
        Ok(a) => a,
        Err(shown) => {
            view.questions = shown;
            return render_form_invalid(ctx, &state, &view);
        }
    };
    let new = NewParticipation {
        event_id,
        person_id: person,
        additional_information: fields.get("additional_information"),
        answers,
        priority_2_id,
        priority_3_id,
        by_self,
    };
    let mails = mails_on_register(&loaded.event, by_self, fields.flag("send_email"));
    let by = viewer.person.id;
    let now = Utc::now();
    let created = state
        .db_raw(move |s| {
            let jobs = |_: ParticipationId| mail_jobs(&mails, event_id, person, by, now);
            s.register(&permit, &new, &jobs, today, now)
        })
        .await?;
    match created {
        Ok(p) => {
            context::set_flash(
                req.cookie(),
                &state,
                "notice",
                "participations.flash_created",
            );
            Ok(redirect(
                ctx,
                &format!("{}/participations/{}", base_url(group_id, event_id), p.id),
            ))
        }
        Err(e) => match register_refusal_key(&e) {
            Some(key) => {
                view.error = Some(ctx.t(key));
                render_form_invalid(ctx, &state, &view)
            }
            None => Err(e.into()),
        },
    }
}

fn render_form_invalid(
    ctx: &RequestCtx,
    state: &AppState,
    view: &FormView,
) -> Result<Response, WebError> {
    let resp = ctx.render(
        state,
        "participations/new.html",
        "participations/_form.html",
        view,
    )?;
    Ok(unprocessable(resp))
}

// ------------------------------------------------------------------ show

/// One participation with the ability engine's view of it.
struct LoadedParticipation {
    entry: ParticipationEntry,
    answers: Vec<Answer>,
    /// The groups of the participant's roles active today.
    group_ids: Vec<GroupId>,
}

async fn load_participation(
    state: &AppState,
    event_id: EventId,
    id: ParticipationId,
) -> Result<LoadedParticipation, WebError> {
    let today = Utc::now().date_naive();
    let loaded = state
        .db(move |s| {
            let entry = s.participation(id)?.ok_or(StoreError::NotFound)?;
            let answers = s.answers(id)?;
            let roles = s.roles_of_person(entry.participation.person_id)?;
            let group_ids = roles
                .iter()
                .filter(|r| r.is_active(today))
                .map(|r| r.group_id)
                .collect();
            Ok(LoadedParticipation {
                entry,
                answers,
                group_ids,
            })
        })
        .await?;
    if loaded.entry.participation.event_id != event_id {
        return Err(WebError::NotFound);
    }
    Ok(loaded)
}

fn participation_subject<'a>(
    state: &AppState,
    viewer: &'a Viewer,
    event: &'a EventSubject<'a>,
    p: &'a LoadedParticipation,
) -> ParticipationSubject<'a> {
    let application = p.entry.application.as_ref();
    let mut course_layer_ids: Vec<GroupId> = viewer
        .actor
        .grants
        .iter()
        .map(|g| g.layer_group_id)
        .filter(|id| {
            viewer
                .tree
                .get(*id)
                .is_some_and(|l| hitcore::event::offers_courses(&state.org, l))
        })
        .collect();
    course_layer_ids.sort();
    course_layer_ids.dedup();
    ParticipationSubject {
        event,
        participation: &p.entry.participation,
        is_application: application.is_some(),
        participant_groups: p
            .group_ids
            .iter()
            .filter_map(|id| viewer.tree.get(*id))
            .collect(),
        is_other_choice: application.is_some_and(|a| {
            a.waiting_list || a.priority_2_id.is_some() || a.priority_3_id.is_some()
        }),
        course_layer_ids,
    }
}

#[derive(Serialize)]
struct ShowView {
    event: EventHeader,
    id: i64,
    name: String,
    state: String,
    is_active: bool,
    waiting_list_comment: Option<String>,
    additional_information: Option<String>,
    answers: Vec<AnswerRow>,
    roles: Vec<RoleRow>,
    url: String,
    can_cancel: bool,
    can_approve: bool,
    is_approved: bool,
    is_rejected: bool,
    role_options: Vec<RoleOption>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct AnswerRow {
    question: String,
    answer: String,
}

#[derive(Serialize)]
struct RoleRow {
    id: i64,
    label: String,
    can_remove: bool,
}

#[derive(Serialize)]
struct RoleOption {
    value: String,
    label: String,
}

fn visible_answers(
    viewer: &Viewer,
    subject: &ParticipationSubject<'_>,
    questions: &[Question],
    answers: &[Answer],
    today: NaiveDate,
) -> Vec<AnswerRow> {
    let own = subject.event.own.as_ref();
    let sees_all =
        ability::participation(&viewer.actor, ParticipationAction::ShowFull, subject, today)
            .is_allowed();
    let answer_viewer = AnswerViewer {
        is_own: subject.participation.person_id == viewer.person.id,
        sees_all,
        role_types: own
            .filter(|o| o.active)
            .map(|o| o.roles.clone())
            .unwrap_or_default(),
    };
    question::visible_questions(questions, &answer_viewer)
        .into_iter()
        .map(|q| AnswerRow {
            question: q.question.clone(),
            answer: answers
                .iter()
                .find(|a| a.question_id == q.id)
                .and_then(|a| a.answer.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// GET /groups/:group_id/events/:event_id/participations/:id: one
/// participation with the answers the viewer may read and the buttons for
/// what they may do (page).
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, event_id, id)): Path<(GroupId, EventId, ParticipationId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    let p = load_participation(&state, event_id, id).await?;
    let ps = participation_subject(&state, viewer, &subject, &p);
    let today = Utc::now().date_naive();
    let may = |action| ability::participation(&viewer.actor, action, &ps, today);
    if !may(ParticipationAction::Show).is_allowed() {
        return Err(WebError::NotFound);
    }
    let shows_details = may(ParticipationAction::ShowDetails).is_allowed();
    let base = base_url(group_id, event_id);
    let url = format!("{base}/participations/{id}");
    let roles = p
        .entry
        .participation
        .roles
        .iter()
        .map(|r| RoleRow {
            id: r.id.0,
            label: role_labels(ctx, &[r.role_type]).remove(0),
            can_remove: ability::may_destroy_event_role(
                &viewer.actor,
                &subject,
                &p.entry.participation,
                r.role_type,
            )
            .is_allowed(),
        })
        .collect();
    let role_options = EventRoleType::ALL
        .into_iter()
        .filter(|t| {
            !p.entry
                .participation
                .roles
                .iter()
                .any(|r| r.role_type == *t)
        })
        .filter(|t| ability::may_manage_event_roles(&viewer.actor, &subject, *t).is_allowed())
        .map(|t| RoleOption {
            value: t.key().to_owned(),
            label: role_labels(ctx, &[t]).remove(0),
        })
        .collect();
    let application = p.entry.application.as_ref();
    let warnings = if shows_details {
        warnings(ctx, &state, &loaded.event, p.entry.participation.person_id).await?
    } else {
        Vec::new()
    };
    let view = ShowView {
        event: header(ctx, &state, viewer, g, &subject),
        id: id.0,
        name: p.entry.person_name.clone(),
        state: state_label(ctx, &p.entry),
        is_active: p.entry.participation.active,
        waiting_list_comment: application
            .filter(|a| a.waiting_list)
            .and_then(|a| a.waiting_list_comment.clone()),
        additional_information: if shows_details {
            p.entry.participation.additional_information.clone()
        } else {
            None
        },
        answers: if shows_details {
            visible_answers(viewer, &ps, &loaded.questions, &p.answers, today)
        } else {
            Vec::new()
        },
        roles,
        url,
        can_cancel: may(ParticipationAction::Destroy).is_allowed(),
        can_approve: may(ParticipationAction::Approve).is_allowed(),
        is_approved: application.is_some_and(|a| a.approved),
        is_rejected: application.is_some_and(|a| a.rejected),
        role_options,
        warnings,
    };
    ctx.render_template(&state, "participations/show.html", &view)
}

// --------------------------------------------------------------- changes

/// POST .../participations/:id/cancel: cancels (deletes) the
/// participation and mails the participant (redirect to the event).
#[handler]
pub async fn cancel(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, event_id, id)): Path<(GroupId, EventId, ParticipationId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    let p = load_participation(&state, event_id, id).await?;
    let ps = participation_subject(&state, viewer, &subject, &p);
    let today = Utc::now().date_naive();
    let permit = ability::permit_destroy_participation(&viewer.actor, &ps, today)?;
    let now = Utc::now();
    let person = p.entry.participation.person_id;
    let jobs = mail_jobs(
        &[ParticipationMail::Cancellation],
        event_id,
        person,
        viewer.person.id,
        now,
    );
    state
        .db(move |s| s.cancel_participation(&permit, &jobs, now))
        .await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "participations.flash_cancelled",
    );
    Ok(redirect(ctx, &base_url(group_id, event_id)))
}

async fn set_approval(
    ctx: &RequestCtx,
    state: &AppState,
    req: &Request,
    (group_id, event_id, id): (GroupId, EventId, ParticipationId),
    approved: bool,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load_event(state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    let p = load_participation(state, event_id, id).await?;
    let ps = participation_subject(state, viewer, &subject, &p);
    let today = Utc::now().date_naive();
    let permit = ability::permit_approve_application(&viewer.actor, &ps, today)?;
    state.db(move |s| s.set_approval(&permit, approved)).await?;
    let key = if approved {
        "participations.flash_approved"
    } else {
        "participations.flash_rejected"
    };
    context::set_flash(req.cookie(), state, "notice", key);
    Ok(redirect(
        ctx,
        &format!("{}/participations/{id}", base_url(group_id, event_id)),
    ))
}

/// POST .../participations/:id/approve: approves the application
/// (redirect to the participation).
#[handler]
pub async fn approve(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
) -> Result<Response, WebError> {
    set_approval(ctx, &state, req, ids, true).await
}

/// POST .../participations/:id/reject: rejects the application (redirect
/// to the participation).
#[handler]
pub async fn reject(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(ids): Path<(GroupId, EventId, ParticipationId)>,
) -> Result<Response, WebError> {
    set_approval(ctx, &state, req, ids, false).await
}

/// POST .../participations/:id/roles: gives the participation an event
/// role (`role_type`, optional `label`; redirect to the participation).
#[handler]
pub async fn add_role(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, event_id, id)): Path<(GroupId, EventId, ParticipationId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    let p = load_participation(&state, event_id, id).await?;
    let role_type = fields
        .raw("role_type")
        .and_then(EventRoleType::from_key)
        .ok_or(WebError::BadRequest)?;
    let permit = ability::permit_create_event_role(
        &viewer.actor,
        &subject,
        &p.entry.participation,
        role_type,
    )?;
    let label = fields.get("label");
    // A label names the role beside its type ("Kitchen"): one short line.
    if label
        .as_deref()
        .is_some_and(|l| l.chars().count() > 255 || l.contains(['\r', '\n']))
    {
        return Err(WebError::BadRequest);
    }
    let now = Utc::now();
    let added = state
        .db_raw(move |s| s.add_event_role(&permit, label.as_deref(), now))
        .await?;
    match added {
        Ok(_) => {}
        Err(StoreError::Conflict { .. }) => {
            return Err(WebError::Rule("participations.role_taken".to_owned()));
        }
        Err(e) => return Err(e.into()),
    }
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "participations.flash_role_added",
    );
    Ok(redirect(
        ctx,
        &format!("{}/participations/{id}", base_url(group_id, event_id)),
    ))
}

/// POST .../participations/:id/roles/:role_id/delete: removes an event
/// role (redirect to the participation, or to the list when the
/// participation went with its last role).
#[handler]
pub async fn remove_role(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, event_id, id, role_id)): Path<(GroupId, EventId, ParticipationId, EventRoleId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    visible_group(viewer, group_id)?;
    let loaded = load_event(&state, viewer, group_id, event_id).await?;
    let subject = event_subject(viewer, &loaded);
    let p = load_participation(&state, event_id, id).await?;
    let permit = ability::permit_destroy_event_role(
        &viewer.actor,
        &subject,
        &p.entry.participation,
        role_id,
    )?;
    let now = Utc::now();
    state.db(move |s| s.remove_event_role(&permit, now)).await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "participations.flash_role_removed",
    );
    let is_gone = p.entry.participation.roles.len() <= 1 && p.entry.application.is_none();
    let base = base_url(group_id, event_id);
    let target = if is_gone {
        format!("{base}/participations")
    } else {
        format!("{base}/participations/{id}")
    };
    Ok(redirect(ctx, &target))
}

/// The message key of a refused market change, for the market page.
pub(crate) fn market_refusal_key(e: &StoreError) -> Option<&'static str> {
    match e {
        StoreError::Rule(msg) if *msg == MarketRefusal::MaximumReached.to_string() => {
            Some("application_market.maximum_reached")
        }
        StoreError::Rule(msg) if *msg == MarketRefusal::AlreadyThere.to_string() => {
            Some("application_market.already_there")
        }
        StoreError::Rule(msg) if *msg == MarketRefusal::NotAnApplication.to_string() => {
            Some("application_market.not_an_application")
        }
        _ => None,
    }
}
