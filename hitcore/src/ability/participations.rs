//! Who may see, register for and change participations: the
//! "Participation actions" of section 4.3, with applications and their
//! approval, event roles, and the `application_market` cell of the event
//! table.
//!
//! The group and layer positions are those of the event
//! ([`super::by_position`]); what the event roles give comes from the
//! actor's own participation ([`EventSubject::own`]). The event's own
//! actions (show, update, the participant list) are in `events`.

use chrono::NaiveDate;
use serde::Serialize;

use super::by_position;
use super::{Actor, Because, Decision, EventSubject, LayerReach, Permit, Refusal, WRITE_POSITIONS};
use crate::event::application;
use crate::event::participation::{EventPermission, EventRoleType, Participation};
use crate::group::Group;
use crate::id::{EventId, EventRoleId, GroupId, ParticipationId, PersonId};
use crate::permission::Permission;

/// A participation as the subject of a decision.
#[derive(Clone, Debug)]
pub struct ParticipationSubject<'a> {
    /// The event, with the actor's own participation in it.
    pub event: &'a EventSubject<'a>,
    pub participation: &'a Participation,
    /// Whether it is a course application (it has an application row).
    pub is_application: bool,
    /// The groups of the participant's active roles (for approval).
    pub participant_groups: Vec<&'a Group>,
    /// A pending application on the waiting list or naming a second or
    /// third choice: what the "different prio" case of `update` needs.
    pub is_other_choice: bool,
    /// The layers whose group type offers courses, among those of the
    /// actor's grants (the organisation definition knows; the route asks).
    pub course_layer_ids: Vec<GroupId>,
}

impl ParticipationSubject<'_> {
    fn is_own(&self, actor: &Actor) -> bool {
        self.participation.person_id == actor.person_id
    }
}

/// Participation actions of table 4.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationAction {
    /// See it in lists and its page.
    Show,
    /// Its details (additional information, answers the viewer may see).
    ShowDetails,
    /// Everything, all answers included.
    ShowFull,
    /// Change it and its event roles.
    Update,
    /// Cancel or delete it.
    Destroy,
    /// Approve or reject the application.
    Approve,
}

/// Whether the actor's own participation in the event gives one of
/// `permissions` (active participations only, 5.3).
fn by_event_role(subject: &EventSubject<'_>, permissions: &[EventPermission]) -> bool {
    subject
        .own
        .as_ref()
        .is_some_and(|own| permissions.iter().any(|p| own.has(*p)))
}

/// The group and layer write positions "as for the event".
fn by_event_position(actor: &Actor, subject: &EventSubject<'_>, needs_active: bool) -> Decision {
    by_position(
        actor,
        subject,
        &WRITE_POSITIONS,
        LayerReach::Below,
        needs_active,
    )
}

/// The first allowed of several decisions, else the last refusal.
fn first_allowed(decisions: impl IntoIterator<Item = Decision>) -> Decision {
    let mut last = Decision::Refused(Refusal::NoPermission);
    for d in decisions {
        if d.is_allowed() {
            return d;
        }
        if d != Decision::Refused(Refusal::NoPermission) || last.is_allowed() {
            last = d;
        }
    }
    last
}

fn allowed_if(condition: bool, because: Because) -> Decision {
    if condition {
        Decision::Allowed(because)
    } else {
        Decision::Refused(Refusal::NoPermission)
    }
}

/// The actor's `approve_applications` grant whose layer lies in the
/// hierarchy (ancestors and self) of one of the participant's groups.
fn by_approval(actor: &Actor, participant_groups: &[&Group]) -> Decision {
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    actor
        .grants
        .iter()
        .filter(|g| g.permission == Permission::ApproveApplications)
        .find(|g| {
            participant_groups
                .iter()
                .any(|group| group.path.contains(&g.layer_group_id))
        })
        .map_or(Decision::Refused(Refusal::NoPermission), |g| {
            Decision::Allowed(Because::Permission {
                permission: g.permission,
                group_id: g.group_id,
            })
        })
}

/// "Different prio" of the `update` row: a `layer_full` or
/// `layer_and_below_full` grant in a course-offering layer reaches a
/// pending application on the waiting list or with a second or third
/// choice, in any layer (act).
fn by_different_prio(actor: &Actor, subject: &ParticipationSubject<'_>) -> Decision {
    if !subject.is_other_choice || subject.participation.active {
        return Decision::Refused(Refusal::NoPermission);
    }
    if !subject.event.is_active() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    actor
        .grants
        .iter()
        .filter(|g| {
            matches!(
                g.permission,
                Permission::LayerFull | Permission::LayerAndBelowFull
            )
        })
        .find(|g| subject.course_layer_ids.contains(&g.layer_group_id))
        .map_or(Decision::Refused(Refusal::NoPermission), |g| {
            Decision::Allowed(Because::Permission {
                permission: g.permission,
                group_id: g.group_id,
            })
        })
}

/// May the actor do `action` with the participation? `today` decides
/// whether the participant may still cancel.
pub fn participation(
    actor: &Actor,
    action: ParticipationAction,
    subject: &ParticipationSubject<'_>,
    today: NaiveDate,
) -> Decision {
    use EventPermission::*;
    let own = allowed_if(subject.is_own(actor), Because::Herself);
    let event = subject.event;
    let role = |ps: &[EventPermission]| allowed_if(by_event_role(event, ps), Because::Herself);
    match action {
        ParticipationAction::Show => first_allowed([
            own,
            allowed_if(
                event.event.participations_visible && by_event_role_active(event),
                Because::Herself,
            ),
            role(&[
                ParticipationsRead,
                ParticipationsReadDetails,
                ParticipationsFull,
            ]),
            by_event_position(actor, event, false),
            if subject.is_application {
                by_approval(actor, &subject.participant_groups)
            } else {
                Decision::Refused(Refusal::NoPermission)
            },
        ]),
        ParticipationAction::ShowDetails => first_allowed([
            own,
            role(&[ParticipationsReadDetails, ParticipationsFull]),
            by_event_position(actor, event, false),
        ]),
        ParticipationAction::ShowFull => first_allowed([
            role(&[ParticipationsFull]),
            by_event_position(actor, event, false),
        ]),
        ParticipationAction::Update => first_allowed([
            role(&[ParticipationsFull]),
            by_event_position(actor, event, true),
            by_different_prio(actor, subject),
        ]),
        ParticipationAction::Destroy => first_allowed([
            allowed_if(
                subject.is_own(actor) && application::may_cancel(event.event, today),
                Because::Herself,
            ),
            by_event_position(actor, event, true),
        ]),
        ParticipationAction::Approve => {
            if subject.is_application {
                by_approval(actor, &subject.participant_groups)
            } else {
                Decision::Refused(Refusal::NoPermission)
            }
        }
    }
}

/// Whether the actor is a fellow participant: their participation in the
/// event is active.
fn by_event_role_active(subject: &EventSubject<'_>) -> bool {
    subject.own.as_ref().is_some_and(|o| o.active)
}

/// May the actor register `person` for the event? Themselves, while
/// [`application::application_possible`] and they may see the event
/// (`can_see_event`, the event's show decision), whatever their
/// position; anybody else, with a group or layer write position on the
/// event (act).
pub fn may_create_participation(
    actor: &Actor,
    event: &EventSubject<'_>,
    person: PersonId,
    can_see_event: bool,
    today: NaiveDate,
) -> Decision {
    let own = if !can_see_event {
        Decision::Refused(Refusal::NoPermission)
    } else if !application::is_period_open(event.event, today) {
        Decision::Refused(Refusal::ApplicationClosed)
    } else if !application::application_possible(event.event, today) {
        Decision::Refused(Refusal::EventFull)
    } else {
        Decision::Allowed(Because::Herself)
    };
    // Applying oneself follows the application rules, write position or
    // not (the store applies them to every self-registration); a write
    // position registers others past the period and the places.
    if person == actor.person_id {
        return own;
    }
    by_event_position(actor, event, true)
}

/// May the actor give, change or take event roles of participations of
/// the event? Holders of `participations_full` in it, and the write
/// positions (act). Course participant roles come only through an
/// application or the market: refused here.
pub fn may_manage_event_roles(
    actor: &Actor,
    event: &EventSubject<'_>,
    role_type: EventRoleType,
) -> Decision {
    if role_type == EventRoleType::Participant
        && application::supports_applications(&event.event.event_type)
    {
        return Decision::Refused(Refusal::RestrictedRole);
    }
    first_allowed([
        allowed_if(
            by_event_role(event, &[EventPermission::ParticipationsFull]),
            Because::Herself,
        ),
        by_event_position(actor, event, true),
    ])
}

/// May the actor remove the event role? As [`may_manage_event_roles`],
/// except that a holder of `participations_full` only by their event role
/// may not remove their own role that gives it (they would lock themselves
/// out).
pub fn may_destroy_event_role(
    actor: &Actor,
    event: &EventSubject<'_>,
    participation: &Participation,
    role_type: EventRoleType,
) -> Decision {
    let position = by_event_position(actor, event, true);
    if position.is_allowed() {
        return position;
    }
    let is_own_full_role = participation.person_id == actor.person_id
        && role_type
            .permissions()
            .contains(&EventPermission::ParticipationsFull);
    if is_own_full_role {
        return Decision::Refused(Refusal::OwnPermissionRole);
    }
    may_manage_event_roles(actor, event, role_type)
}

/// The `application_market` cell of the event table: `layer_full` in one
/// of the event's layers, `layer_and_below_full` in its own layer only;
/// an event group must be active.
pub fn may_use_application_market(actor: &Actor, event: &EventSubject<'_>) -> Decision {
    if !event.has_live_group() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    by_position(
        actor,
        event,
        &[Permission::LayerFull, Permission::LayerAndBelowFull],
        LayerReach::LayerOnly,
        true,
    )
}

/// Permit target: register `person` for `event`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateParticipation {
    pub event: EventId,
    pub person: PersonId,
    /// The person registers themselves.
    pub by_self: bool,
}
/// Permit target: change this participation (and its event roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateParticipation(pub ParticipationId);
/// Permit target: cancel or delete this participation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyParticipation(pub ParticipationId);
/// Permit target: approve or reject the application of this participation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApproveApplication(pub ParticipationId);
/// Permit target: give this participation a role of this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateEventRole {
    pub participation: ParticipationId,
    pub role_type: EventRoleType,
}
/// Permit target: remove this event role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyEventRole(pub EventRoleId);
/// Permit target: assign and remove participants of this event in the
/// application market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseApplicationMarket(pub EventId);

fn grant<T>(decision: Decision, target: T) -> Result<Permit<T>, Refusal> {
    match decision {
        Decision::Allowed(_) => Ok(Permit { target }),
        Decision::Refused(r) => Err(r),
    }
}

/// A permit to register `person` for the event.
///
/// # Errors
/// The refusal of [`may_create_participation`].
pub fn permit_create_participation(
    actor: &Actor,
    event: &EventSubject<'_>,
    person: PersonId,
    can_see_event: bool,
    today: NaiveDate,
) -> Result<Permit<CreateParticipation>, Refusal> {
    grant(
        may_create_participation(actor, event, person, can_see_event, today),
        CreateParticipation {
            event: event.event.id,
            person,
            by_self: person == actor.person_id,
        },
    )
}

/// A permit to change the participation.
///
/// # Errors
/// The refusal of [`ParticipationAction::Update`].
pub fn permit_update_participation(
    actor: &Actor,
    subject: &ParticipationSubject<'_>,
    today: NaiveDate,
) -> Result<Permit<UpdateParticipation>, Refusal> {
    grant(
        participation(actor, ParticipationAction::Update, subject, today),
        UpdateParticipation(subject.participation.id),
    )
}

/// A permit to cancel or delete the participation.
///
/// # Errors
/// The refusal of [`ParticipationAction::Destroy`].
pub fn permit_destroy_participation(
    actor: &Actor,
    subject: &ParticipationSubject<'_>,
    today: NaiveDate,
) -> Result<Permit<DestroyParticipation>, Refusal> {
    grant(
        participation(actor, ParticipationAction::Destroy, subject, today),
        DestroyParticipation(subject.participation.id),
    )
}

/// A permit to approve or reject the participation's application.
///
/// # Errors
/// The refusal of [`ParticipationAction::Approve`].
pub fn permit_approve_application(
    actor: &Actor,
    subject: &ParticipationSubject<'_>,
    today: NaiveDate,
) -> Result<Permit<ApproveApplication>, Refusal> {
    grant(
        participation(actor, ParticipationAction::Approve, subject, today),
        ApproveApplication(subject.participation.id),
    )
}

/// A permit to give the participation a role of `role_type`.
///
/// # Errors
/// The refusal of [`may_manage_event_roles`].
pub fn permit_create_event_role(
    actor: &Actor,
    event: &EventSubject<'_>,
    participation: &Participation,
    role_type: EventRoleType,
) -> Result<Permit<CreateEventRole>, Refusal> {
    grant(
        may_manage_event_roles(actor, event, role_type),
        CreateEventRole {
            participation: participation.id,
            role_type,
        },
    )
}

/// A permit to remove the participation's role `role`.
///
/// # Errors
/// The refusal of [`may_destroy_event_role`], or
/// [`Refusal::NoPermission`] when the role is not the participation's.
pub fn permit_destroy_event_role(
    actor: &Actor,
    event: &EventSubject<'_>,
    participation: &Participation,
    role: EventRoleId,
) -> Result<Permit<DestroyEventRole>, Refusal> {
    let role_type = participation
        .roles
        .iter()
        .find(|r| r.id == role)
        .map(|r| r.role_type)
        .ok_or(Refusal::NoPermission)?;
    grant(
        may_destroy_event_role(actor, event, participation, role_type),
        DestroyEventRole(role),
    )
}

/// A permit to assign and remove participants in the event's market.
///
/// # Errors
/// The refusal of [`may_use_application_market`].
pub fn permit_application_market(
    actor: &Actor,
    event: &EventSubject<'_>,
) -> Result<Permit<UseApplicationMarket>, Refusal> {
    grant(
        may_use_application_market(actor, event),
        UseApplicationMarket(event.event.id),
    )
}

#[cfg(test)]
#[path = "participations_tests.rs"]
mod tests;
