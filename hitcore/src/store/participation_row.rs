//! Rows of the participation tables to domain values, once for both SQL
//! stores (through [`Columns`]), with the column lists their statements
//! select.
//!
//! The event is read here only as far as the application rules need it
//! (no dates, groups or texts): the participation stores decide inside
//! their own transactions and must not wait for the event store's reads.

use chrono::{DateTime, NaiveDate, Utc};

use super::row::Columns;
use super::sql::{parse_date, parse_timestamp};
use crate::event::Event;
use crate::event::participation::{Application, EventRole, EventRoleType, Participation};
use crate::id::{ApplicationId, EventId, EventKindId, EventRoleId, ParticipationId, PersonId};

/// The columns of `events` the application rules read, alias `e`.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.event_type, e.name, e.kind_id, \
     CAST(e.maximum_participants AS BIGINT) AS maximum_participants, e.participant_count, \
     e.teamer_count, e.applicant_count, e.application_opening_at, e.application_closing_at, \
     e.applications_cancelable, e.waiting_list, e.automatic_assignment, e.requires_approval, \
     e.priorization, e.participations_visible, e.notify_contact_on_participations, \
     e.contact_id, e.shared_access_token, e.created_at, e.updated_at";

/// The columns of `event_participations`, alias `pa`.
pub(crate) const PARTICIPATION_COLUMNS: &str = "pa.id, pa.event_id, pa.person_id, \
     pa.additional_information, pa.active, pa.application_id, pa.qualified, pa.created_at, \
     pa.updated_at";

/// The person's name columns, alias `p`.
pub(crate) const NAME_COLUMNS: &str = "p.first_name, p.last_name, p.nickname, p.email";

/// The columns of `event_applications`, alias `a` (all prefixed `a_`).
pub(crate) const APPLICATION_COLUMNS: &str = "a.id AS a_id, a.priority_1_id AS a_p1, \
     a.priority_2_id AS a_p2, a.priority_3_id AS a_p3, a.approved AS a_approved, \
     a.rejected AS a_rejected, a.waiting_list AS a_waiting, \
     a.waiting_list_comment AS a_comment";

fn timestamp<R: Columns>(r: &R, name: &str) -> Result<DateTime<Utc>, R::Error> {
    parse_timestamp(&r.text(name)?).map_err(|e| r.invalid(name, Box::new(e)))
}

fn opt_date<R: Columns>(r: &R, name: &str) -> Result<Option<NaiveDate>, R::Error> {
    match r.opt_text(name)? {
        None => Ok(None),
        Some(t) => parse_date(&t)
            .map(Some)
            .map_err(|e| r.invalid(name, Box::new(e))),
    }
}

/// An event from [`EVENT_COLUMNS`]: the fields the rules read; texts,
/// groups and dates are left empty.
pub(crate) fn event<R: Columns>(r: &R) -> Result<Event, R::Error> {
    let max = r.opt_int("maximum_participants")?;
    Ok(Event {
        id: EventId(r.int("id")?),
        event_type: r.text("event_type")?,
        group_ids: Vec::new(),
        name: r.text("name")?,
        description: None,
        application_conditions: None,
        number: None,
        motto: None,
        cost: None,
        location: None,
        kind_id: r.opt_int("kind_id")?.map(EventKindId),
        state: None,
        maximum_participants: max.map(|m| u32::try_from(m).unwrap_or(0)),
        minimum_participants: None,
        participant_count: r.count("participant_count")?,
        teamer_count: r.count("teamer_count")?,
        applicant_count: r.count("applicant_count")?,
        application_opening_at: opt_date(r, "application_opening_at")?,
        application_closing_at: opt_date(r, "application_closing_at")?,
        applications_cancelable: r.flag("applications_cancelable")?,
        external_applications: false,
        globally_visible: None,
        participations_visible: r.flag("participations_visible")?,
        priorization: r.flag("priorization")?,
        requires_approval: r.flag("requires_approval")?,
        automatic_assignment: r.flag("automatic_assignment")?,
        waiting_list: r.flag("waiting_list")?,
        notify_contact_on_participations: r.flag("notify_contact_on_participations")?,
        contact_id: r.opt_int("contact_id")?.map(PersonId),
        shared_access_token: r.text("shared_access_token")?,
        training_days: None,
        creator_id: None,
        updater_id: None,
        dates: Vec::new(),
        created_at: timestamp(r, "created_at")?,
        updated_at: timestamp(r, "updated_at")?,
    })
}

/// A participation from [`PARTICIPATION_COLUMNS`], without its roles.
pub(crate) fn participation<R: Columns>(r: &R) -> Result<Participation, R::Error> {
    Ok(Participation {
        id: ParticipationId(r.int("id")?),
        event_id: EventId(r.int("event_id")?),
        person_id: PersonId(r.int("person_id")?),
        additional_information: r.opt_text("additional_information")?,
        active: r.flag("active")?,
        application_id: r.opt_int("application_id")?.map(ApplicationId),
        qualified: r.flag("qualified")?,
        roles: Vec::new(),
        created_at: timestamp(r, "created_at")?,
        updated_at: timestamp(r, "updated_at")?,
    })
}

/// The display name from [`NAME_COLUMNS`]: first and last name, else the
/// nickname, else the email.
pub(crate) fn name<R: Columns>(r: &R) -> Result<String, R::Error> {
    let full = [r.opt_text("first_name")?, r.opt_text("last_name")?]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !full.is_empty() {
        return Ok(full);
    }
    Ok(r.opt_text("nickname")?
        .filter(|s| !s.trim().is_empty())
        .or(r.opt_text("email")?)
        .unwrap_or_default())
}

/// The application from [`APPLICATION_COLUMNS`] of a LEFT JOIN, if any.
pub(crate) fn application<R: Columns>(r: &R) -> Result<Option<Application>, R::Error> {
    let Some(id) = r.opt_int("a_id")? else {
        return Ok(None);
    };
    Ok(Some(Application {
        id: ApplicationId(id),
        priority_1_id: EventId(r.int("a_p1")?),
        priority_2_id: r.opt_int("a_p2")?.map(EventId),
        priority_3_id: r.opt_int("a_p3")?.map(EventId),
        approved: r.flag("a_approved")?,
        rejected: r.flag("a_rejected")?,
        waiting_list: r.flag("a_waiting")?,
        waiting_list_comment: r.opt_text("a_comment")?,
    }))
}

/// An event role from `r.id, r.participation_id, r.role_type, r.label`;
/// with the participation it belongs to.
pub(crate) fn event_role<R: Columns>(r: &R) -> Result<(ParticipationId, EventRole), R::Error> {
    let key = r.text("role_type")?;
    let role_type =
        EventRoleType::from_key(&key).ok_or_else(|| r.invalid("role_type", key.into()))?;
    Ok((
        ParticipationId(r.int("participation_id")?),
        EventRole {
            id: EventRoleId(r.int("id")?),
            role_type,
            label: r.opt_text("label")?,
        },
    ))
}

/// Hands each participation its roles (ordered as the forms list types).
pub(crate) fn attach_roles(
    participations: &mut [Participation],
    roles: Vec<(ParticipationId, EventRole)>,
) {
    for (pid, role) in roles {
        if let Some(p) = participations.iter_mut().find(|p| p.id == pid) {
            p.roles.push(role);
        }
    }
    for p in participations {
        p.roles.sort_by_key(|r| r.role_type);
    }
}
