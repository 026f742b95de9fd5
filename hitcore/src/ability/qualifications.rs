//! Who may manage event kinds and qualification kinds, qualify course
//! participants and see or change qualifications (section 4.3): the
//! catalogue rows of "Other subjects", the `qualify` and
//! `qualifications_read` rows of the event table, and qualifications of a
//! person.
//!
//! Which event a participation belongs to, and whether the course may
//! qualify at all, is the caller's and the store's to check; this module
//! only answers who.

use super::{
    Actor, Because, Decision, EventSubject, LayerReach, Permit, PersonSubject, Refusal, by_position,
};
use crate::event::participation::EventPermission;
use crate::id::{EventId, GroupId, ParticipationId, PersonId};
use crate::permission::Permission;
use crate::role::RoleState;

/// Permit target: create, change and delete event kinds, their
/// categories and qualification kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManageKinds;

/// Permit target: mark this participation of this course qualified (and
/// issue its qualifications), or revoke that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QualifyParticipation {
    pub event_id: EventId,
    pub participation_id: ParticipationId,
}

/// Permit target: add or remove qualifications of this person by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManageQualifications(pub PersonId);

fn is_administrator(actor: &Actor) -> bool {
    actor.is_root
        || actor
            .grants
            .iter()
            .any(|g| g.permission == Permission::Admin && g.is_group_active)
}

/// May the actor list event kinds, categories and qualification kinds?
/// Everybody signed in may (the actor is signed in by being one).
pub fn may_index_kinds(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else {
        Decision::Allowed(Because::Anyone)
    }
}

/// May the actor create, change and delete kinds and categories? Only
/// administrators (`admin` through a role in an active group) and root.
pub fn may_manage_kinds(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else if is_administrator(actor) {
        Decision::Allowed(Because::AnyRole)
    } else {
        Decision::Refused(Refusal::NoPermission)
    }
}

/// The layer columns shared by `qualify` and `qualifications_read`:
/// `layer_full` in L, `layer_and_below_full` in its own layer only; or
/// an event role with `qualify` on an active participation. Either needs
/// an event group that is not deleted.
fn qualify_row(actor: &Actor, subject: &EventSubject<'_>, needs_active: bool) -> Decision {
    if !subject.has_live_group() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    let by_layer = by_position(
        actor,
        subject,
        &[Permission::LayerFull, Permission::LayerAndBelowFull],
        LayerReach::LayerOnly,
        needs_active,
    );
    match by_layer {
        Decision::Refused(_)
            if subject
                .own
                .as_ref()
                .is_some_and(|o| o.has(EventPermission::Qualify)) =>
        {
            Decision::Allowed(Because::Herself)
        }
        decision => decision,
    }
}

/// May the actor mark participants of the event qualified? The `qualify`
/// row: `layer_full` L act, `layer_and_below_full` L only act, event role
/// with `qualify`.
pub fn may_qualify(actor: &Actor, subject: &EventSubject<'_>) -> Decision {
    qualify_row(actor, subject, true)
}

/// May the actor see the event's qualification page? The
/// `qualifications_read` row: as [`may_qualify`], without "act".
pub fn may_read_qualifications(actor: &Actor, subject: &EventSubject<'_>) -> Decision {
    qualify_row(actor, subject, false)
}

/// May the actor add or remove the person's qualifications by hand?
/// `layer_full` when the actor's layer offers courses and the person has
/// an active role in that layer; `layer_and_below_full` when the person
/// has one in that layer or below. `offers_courses` answers for a layer
/// group whether its type allows courses.
pub fn may_manage_qualifications(
    actor: &Actor,
    subject: &PersonSubject<'_>,
    offers_courses: &dyn Fn(GroupId) -> bool,
) -> Decision {
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    let active = || {
        subject
            .roles
            .iter()
            .filter(|r| r.state == RoleState::Active && !r.group.is_deleted())
    };
    actor
        .grants
        .iter()
        .find(|g| match g.permission {
            Permission::LayerFull => {
                offers_courses(g.layer_group_id)
                    && active().any(|r| r.group.layer_group_id == g.layer_group_id)
            }
            Permission::LayerAndBelowFull => {
                active().any(|r| r.group.is_in_subtree_of(g.layer_group_id))
            }
            _ => false,
        })
        .map_or(Decision::Refused(Refusal::NoPermission), |g| {
            Decision::Allowed(Because::Permission {
                permission: g.permission,
                group_id: g.group_id,
            })
        })
}

fn grant<T>(decision: Decision, target: T) -> Result<Permit<T>, Refusal> {
    match decision {
        Decision::Allowed(_) => Ok(Permit { target }),
        Decision::Refused(r) => Err(r),
    }
}

/// A permit to manage the kind catalogues.
///
/// # Errors
/// The refusal of [`may_manage_kinds`].
pub fn permit_manage_kinds(actor: &Actor) -> Result<Permit<ManageKinds>, Refusal> {
    grant(may_manage_kinds(actor), ManageKinds)
}

/// A permit to qualify (or revoke) one participation of the event.
///
/// # Errors
/// The refusal of [`may_qualify`].
pub fn permit_qualify(
    actor: &Actor,
    subject: &EventSubject<'_>,
    participation_id: ParticipationId,
) -> Result<Permit<QualifyParticipation>, Refusal> {
    grant(
        may_qualify(actor, subject),
        QualifyParticipation {
            event_id: subject.event.id,
            participation_id,
        },
    )
}

/// A permit to add or remove the person's qualifications by hand.
///
/// # Errors
/// The refusal of [`may_manage_qualifications`].
pub fn permit_manage_qualifications(
    actor: &Actor,
    subject: &PersonSubject<'_>,
    offers_courses: &dyn Fn(GroupId) -> bool,
) -> Result<Permit<ManageQualifications>, Refusal> {
    grant(
        may_manage_qualifications(actor, subject, offers_courses),
        ManageQualifications(subject.id),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::ability::Grant;
    use crate::event::participation::{EventRoleType, OwnParticipation};
    use crate::event::{COURSE, Event, EventDate};
    use crate::group::{Address, Group};
    use crate::id::{EventDateId, RoleId};
    use crate::org::RoleType;
    use crate::role::Role;

    // The tree: 1 layer L > 2 group G > 3 subgroup Gb; 1 > 4 Ls;
    // 1 > 5 a layer D below L > 6 a group of D; 7 an upper layer U.
    const L: GroupId = GroupId(1);
    const G: GroupId = GroupId(2);
    const GB: GroupId = GroupId(3);
    const LS: GroupId = GroupId(4);
    const D: GroupId = GroupId(5);
    const DG: GroupId = GroupId(6);

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum State {
        Active,
        Archived,
        Deleted,
    }

    fn group(id: GroupId, state: State) -> Group {
        let (path, layer) = match id.0 {
            1 => (vec![L], L),
            2 => (vec![L, G], L),
            3 => (vec![L, G, GB], L),
            4 => (vec![L, LS], L),
            5 => (vec![L, D], D),
            _ => (vec![L, D, DG], D),
        };
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single();
        Group {
            id,
            parent_id: path.len().checked_sub(2).map(|i| path[i]),
            path,
            layer_group_id: layer,
            group_type: "T".into(),
            name: format!("g{}", id.0),
            short_name: None,
            email: None,
            description: None,
            address: Address::default(),
            created_at: at.expect("valid"),
            updated_at: at.expect("valid"),
            deleted_at: if state == State::Deleted { at } else { None },
            archived_at: if state == State::Archived { at } else { None },
        }
    }

    fn event() -> Event {
        let at = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let start = NaiveDate::from_ymd_opt(2025, 6, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("valid");
        Event {
            id: EventId(9),
            event_type: COURSE.into(),
            group_ids: vec![],
            name: "Course".into(),
            description: None,
            application_conditions: None,
            number: None,
            motto: None,
            cost: None,
            location: None,
            kind_id: None,
            state: None,
            maximum_participants: None,
            minimum_participants: None,
            participant_count: 0,
            teamer_count: 0,
            applicant_count: 0,
            application_opening_at: None,
            application_closing_at: None,
            applications_cancelable: false,
            external_applications: false,
            globally_visible: None,
            participations_visible: false,
            priorization: false,
            requires_approval: false,
            automatic_assignment: false,
            waiting_list: true,
            notify_contact_on_participations: false,
            contact_id: None,
            shared_access_token: String::new(),
            training_days: None,
            creator_id: None,
            updater_id: None,
            dates: vec![EventDate {
                id: EventDateId(1),
                label: None,
                start_at: start,
                finish_at: None,
                location: None,
            }],
            created_at: at,
            updated_at: at,
        }
    }

    /// An actor holding `permission` through a role in group G (layer L).
    fn actor(permission: Option<Permission>) -> Actor {
        Actor {
            person_id: PersonId(1),
            is_root: false,
            grants: permission
                .into_iter()
                .map(|permission| Grant {
                    permission,
                    group_id: G,
                    layer_group_id: L,
                    is_group_active: true,
                })
                .collect(),
            has_role: permission.is_some(),
        }
    }

    fn decide(
        f: fn(&Actor, &EventSubject<'_>) -> Decision,
        permission: Option<Permission>,
        at: GroupId,
        state: State,
        own: Option<OwnParticipation>,
    ) -> bool {
        let e = event();
        let g = group(at, state);
        let subject = EventSubject {
            event: &e,
            groups: vec![&g],
            own,
        };
        f(&actor(permission), &subject).is_allowed()
    }

    use Permission::{GroupAndBelowFull, GroupFull, LayerAndBelowFull, LayerFull};

    // The `qualify` row: group columns "-", layer_full L act,
    // layer_and_below_full L only act.
    #[rstest]
    #[case(None, G, State::Active, false)]
    #[case(Some(GroupFull), G, State::Active, false)]
    #[case(Some(GroupAndBelowFull), G, State::Active, false)]
    #[case(Some(LayerFull), G, State::Active, true)]
    #[case(Some(LayerFull), LS, State::Active, true)]
    #[case(Some(LayerFull), G, State::Archived, false)]
    #[case(Some(LayerFull), DG, State::Active, false)]
    #[case(Some(LayerAndBelowFull), GB, State::Active, true)]
    #[case(Some(LayerAndBelowFull), LS, State::Archived, false)]
    #[case(Some(LayerAndBelowFull), DG, State::Active, false)]
    #[case(Some(LayerFull), G, State::Deleted, false)]
    fn qualify_row_by_position(
        #[case] permission: Option<Permission>,
        #[case] at: GroupId,
        #[case] state: State,
        #[case] allowed: bool,
    ) {
        assert_eq!(decide(may_qualify, permission, at, state, None), allowed);
    }

    // The `qualifications_read` row: the same positions, without "act".
    #[rstest]
    #[case(None, G, State::Active, false)]
    #[case(Some(GroupFull), G, State::Active, false)]
    #[case(Some(GroupAndBelowFull), GB, State::Active, false)]
    #[case(Some(LayerFull), LS, State::Active, true)]
    #[case(Some(LayerFull), G, State::Archived, true)]
    #[case(Some(LayerFull), DG, State::Active, false)]
    #[case(Some(LayerAndBelowFull), G, State::Archived, true)]
    #[case(Some(LayerAndBelowFull), DG, State::Active, false)]
    #[case(Some(LayerAndBelowFull), G, State::Deleted, false)]
    fn qualifications_read_row_by_position(
        #[case] permission: Option<Permission>,
        #[case] at: GroupId,
        #[case] state: State,
        #[case] allowed: bool,
    ) {
        assert_eq!(
            decide(may_read_qualifications, permission, at, state, None),
            allowed
        );
    }

    fn own(active: bool, role: EventRoleType) -> Option<OwnParticipation> {
        Some(OwnParticipation {
            active,
            roles: vec![role],
        })
    }

    // The event role column: `qualify` (leaders), on an active
    // participation only; assistant leaders have no `qualify`.
    #[rstest]
    #[case(own(true, EventRoleType::Leader), true)]
    #[case(own(false, EventRoleType::Leader), false)]
    #[case(own(true, EventRoleType::AssistantLeader), false)]
    #[case(own(true, EventRoleType::Participant), false)]
    fn event_role_with_qualify(#[case] own: Option<OwnParticipation>, #[case] allowed: bool) {
        for f in [may_qualify, may_read_qualifications] {
            assert_eq!(decide(f, None, DG, State::Active, own.clone()), allowed);
        }
    }

    #[test]
    fn root_qualifies_anywhere_but_in_deleted_groups() {
        let e = event();
        let g = group(DG, State::Active);
        let mut root = actor(None);
        root.is_root = true;
        let subject = EventSubject {
            event: &e,
            groups: vec![&g],
            own: None,
        };
        assert!(may_qualify(&root, &subject).is_allowed());
        let gone = group(DG, State::Deleted);
        let subject = EventSubject {
            groups: vec![&gone],
            ..subject
        };
        assert!(!may_qualify(&root, &subject).is_allowed());
    }

    #[test]
    fn permit_qualify_names_event_and_participation() {
        let e = event();
        let g = group(G, State::Active);
        let subject = EventSubject {
            event: &e,
            groups: vec![&g],
            own: None,
        };
        let p =
            permit_qualify(&actor(Some(LayerFull)), &subject, ParticipationId(4)).expect("allowed");
        assert_eq!(
            *p.target(),
            QualifyParticipation {
                event_id: e.id,
                participation_id: ParticipationId(4)
            }
        );
        assert!(permit_qualify(&actor(Some(GroupFull)), &subject, ParticipationId(4)).is_err());
    }

    // Catalogues: index for all, manage for admin.
    #[rstest]
    #[case(None, true, false)]
    #[case(Some(LayerAndBelowFull), true, false)]
    #[case(Some(Permission::Admin), true, true)]
    fn kinds_index_for_all_manage_for_admin(
        #[case] permission: Option<Permission>,
        #[case] index: bool,
        #[case] manage: bool,
    ) {
        let a = actor(permission);
        assert_eq!(may_index_kinds(&a).is_allowed(), index);
        assert_eq!(may_manage_kinds(&a).is_allowed(), manage);
        assert_eq!(permit_manage_kinds(&a).is_ok(), manage);
    }

    #[test]
    fn admin_of_an_inactive_group_manages_no_kinds() {
        let mut a = actor(Some(Permission::Admin));
        a.grants[0].is_group_active = false;
        assert!(!may_manage_kinds(&a).is_allowed());
    }

    fn role_type() -> RoleType {
        RoleType {
            key: "Members.Member".into(),
            labels: crate::org::Labels::default(),
            declared_permissions: Vec::new(),
            permissions: Vec::new(),
            kind: crate::org::RoleKind::Member,
            is_visible_from_above: true,
            is_terminatable: false,
        }
    }

    fn person_roles(at: GroupId, state: RoleState) -> bool {
        person_decision(Some(LayerFull), at, state, true)
    }

    fn person_decision(
        permission: Option<Permission>,
        at: GroupId,
        state: RoleState,
        offers: bool,
    ) -> bool {
        let g = group(at, State::Active);
        let rt = role_type();
        let r = Role {
            id: RoleId(1),
            person_id: PersonId(2),
            group_id: at,
            role_type: "Members.Member".into(),
            label: None,
            start_on: None,
            end_on: None,
            archived_at: None,
            is_terminated: false,
            created_at: g.created_at,
            updated_at: g.created_at,
        };
        let subject = PersonSubject {
            id: PersonId(2),
            is_root: false,
            contact_data_visible: false,
            roles: vec![crate::ability::SubjectRole {
                role: &r,
                group: &g,
                role_type: &rt,
                state,
            }],
        };
        may_manage_qualifications(&actor(permission), &subject, &|_| offers).is_allowed()
    }

    // Qualification create/destroy ("Other subjects").
    #[rstest]
    #[case(Some(LayerFull), LS, true, true)]
    #[case(Some(LayerFull), LS, false, false)]
    #[case(Some(LayerFull), DG, true, false)]
    #[case(Some(LayerAndBelowFull), DG, false, true)]
    #[case(Some(LayerAndBelowFull), GB, false, true)]
    #[case(Some(GroupFull), G, true, false)]
    #[case(None, G, true, false)]
    fn qualifications_of_people_in_the_layer(
        #[case] permission: Option<Permission>,
        #[case] at: GroupId,
        #[case] offers: bool,
        #[case] allowed: bool,
    ) {
        assert_eq!(
            person_decision(permission, at, RoleState::Active, offers),
            allowed
        );
    }

    #[test]
    fn ended_roles_do_not_count_for_qualifications() {
        assert!(person_roles(G, RoleState::Active));
        assert!(!person_roles(G, RoleState::Ended));
    }
}
