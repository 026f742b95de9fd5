//! One test per cell of the participation rows of table 4.3 and of the
//! event row's `application_market` cell.

use chrono::{NaiveDate, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::ability::Grant;
use crate::event::participation::{EventRole, OwnParticipation};
use crate::event::{COURSE, Event};
use crate::group::Address;
use crate::id::{EventKindId, GroupId};

// The tree: 1 layer L > 2 group G > 3 subgroup Gb; 1 > 4 another group
// of L (Ls); 1 > 5 a layer below L (D); 6 a separate upper layer (U).
const L: GroupId = GroupId(1);
const G: GroupId = GroupId(2);
const GB: GroupId = GroupId(3);
const LS: GroupId = GroupId(4);
const D: GroupId = GroupId(5);
const U: GroupId = GroupId(6);

const ME: PersonId = PersonId(1);
const OTHER: PersonId = PersonId(2);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).expect("a date")
}

fn group(id: GroupId, archived: bool) -> Group {
    let (path, layer) = match id.0 {
        1 => (vec![L], L),
        2 => (vec![L, G], L),
        3 => (vec![L, G, GB], L),
        4 => (vec![L, LS], L),
        5 => (vec![L, D], D),
        _ => (vec![U], U),
    };
    let at = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
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
        created_at: at,
        updated_at: at,
        deleted_at: None,
        archived_at: archived.then_some(at),
    }
}

fn event() -> Event {
    let t = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a time");
    Event {
        id: EventId(7),
        event_type: COURSE.to_owned(),
        group_ids: vec![],
        name: "Course".to_owned(),
        description: None,
        application_conditions: None,
        number: None,
        motto: None,
        cost: None,
        location: None,
        kind_id: Some(EventKindId(1)),
        state: None,
        maximum_participants: None,
        minimum_participants: None,
        participant_count: 0,
        teamer_count: 0,
        applicant_count: 0,
        application_opening_at: None,
        application_closing_at: None,
        applications_cancelable: true,
        external_applications: false,
        globally_visible: None,
        participations_visible: false,
        priorization: false,
        requires_approval: true,
        automatic_assignment: false,
        waiting_list: true,
        notify_contact_on_participations: false,
        contact_id: None,
        shared_access_token: String::new(),
        training_days: None,
        creator_id: None,
        updater_id: None,
        dates: vec![],
        created_at: t,
        updated_at: t,
    }
}

fn participation_of(person: PersonId, roles: &[EventRoleType]) -> Participation {
    let t = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a time");
    Participation {
        id: ParticipationId(person.0 + 100),
        event_id: EventId(7),
        person_id: person,
        additional_information: None,
        active: true,
        application_id: None,
        qualified: false,
        roles: roles
            .iter()
            .zip(1..)
            .map(|(r, i)| EventRole {
                id: EventRoleId(person.0 * 10 + i),
                role_type: *r,
                label: None,
            })
            .collect(),
        created_at: t,
        updated_at: t,
    }
}

/// An actor holding `permission` through a role in group G.
fn actor(permission: Option<Permission>) -> Actor {
    Actor {
        person_id: ME,
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

fn own(roles: &[EventRoleType]) -> Option<OwnParticipation> {
    Some(OwnParticipation {
        active: true,
        roles: roles.to_vec(),
    })
}

/// Decides `action` on OTHER's application in an event of group `at`.
fn decide(
    who: &Actor,
    action: ParticipationAction,
    at: GroupId,
    mine: Option<OwnParticipation>,
    archived: bool,
) -> bool {
    let e = event();
    let g = group(at, archived);
    let subject = EventSubject {
        event: &e,
        groups: vec![&g],
        own: mine,
    };
    let p = participation_of(OTHER, &[EventRoleType::Participant]);
    let d = group(D, false);
    let ps = ParticipationSubject {
        event: &subject,
        participation: &p,
        is_application: true,
        participant_groups: vec![&d],
        is_other_choice: false,
        course_layer_ids: Vec::new(),
    };
    participation(who, action, &ps, today()).is_allowed()
}

use ParticipationAction as A;
use Permission as P;

#[rstest]
#[case(P::GroupFull, G, true)]
#[case(P::GroupFull, GB, false)]
#[case(P::GroupAndBelowFull, GB, true)]
#[case(P::GroupAndBelowFull, LS, false)]
#[case(P::LayerFull, LS, true)]
#[case(P::LayerFull, D, false)]
#[case(P::LayerAndBelowFull, D, true)]
#[case(P::LayerAndBelowFull, U, false)]
#[case(P::GroupRead, G, false)]
#[case(P::LayerRead, G, false)]
fn positions_as_for_the_event_reach_show_details_and_full(
    #[case] permission: Permission,
    #[case] at: GroupId,
    #[case] allowed: bool,
) {
    let who = actor(Some(permission));
    for action in [A::Show, A::ShowDetails, A::ShowFull, A::Update, A::Destroy] {
        assert_eq!(decide(&who, action, at, None, false), allowed, "{action:?}");
    }
}

#[rstest]
#[case(A::Show, true)]
#[case(A::ShowDetails, true)]
#[case(A::ShowFull, true)]
#[case(A::Update, false)]
#[case(A::Destroy, false)]
fn write_positions_need_an_active_group_only_for_writes(
    #[case] action: ParticipationAction,
    #[case] allowed: bool,
) {
    let who = actor(Some(P::LayerFull));
    assert_eq!(decide(&who, action, G, None, true), allowed);
}

#[rstest]
#[case(EventRoleType::Leader, [true, true, true, true, false])]
#[case(EventRoleType::AssistantLeader, [true, true, true, true, false])]
#[case(EventRoleType::Cook, [true, true, false, false, false])]
#[case(EventRoleType::Helper, [true, true, false, false, false])]
#[case(EventRoleType::Treasurer, [true, false, false, false, false])]
#[case(EventRoleType::Speaker, [true, false, false, false, false])]
#[case(EventRoleType::Participant, [false, false, false, false, false])]
fn event_roles_give_what_their_permissions_say(
    #[case] role: EventRoleType,
    #[case] expected: [bool; 5],
) {
    let who = actor(None);
    let actions = [A::Show, A::ShowDetails, A::ShowFull, A::Update, A::Destroy];
    for (action, allowed) in actions.into_iter().zip(expected) {
        assert_eq!(
            decide(&who, action, U, own(&[role]), false),
            allowed,
            "{action:?}"
        );
    }
}

#[test]
fn event_roles_of_a_pending_participation_give_nothing() {
    let mine = Some(OwnParticipation {
        active: false,
        roles: vec![EventRoleType::Leader],
    });
    assert!(!decide(&actor(None), A::Show, U, mine, false));
}

#[test]
fn fellow_participants_see_each_other_only_when_participations_are_visible() {
    let mut e = event();
    let g = group(U, false);
    let p = participation_of(OTHER, &[EventRoleType::Participant]);
    let who = actor(None);
    for visible in [false, true] {
        e.participations_visible = visible;
        let subject = EventSubject {
            event: &e,
            groups: vec![&g],
            own: own(&[EventRoleType::Participant]),
        };
        let ps = ParticipationSubject {
            event: &subject,
            participation: &p,
            is_application: false,
            participant_groups: vec![],
            is_other_choice: false,
            course_layer_ids: Vec::new(),
        };
        assert_eq!(
            participation(&who, A::Show, &ps, today()).is_allowed(),
            visible
        );
        assert!(!participation(&who, A::ShowDetails, &ps, today()).is_allowed());
    }
}

/// Decides `action` on the actor's own participation.
fn decide_own(action: ParticipationAction, e: &Event) -> bool {
    let g = group(U, false);
    let subject = EventSubject {
        event: e,
        groups: vec![&g],
        own: own(&[EventRoleType::Participant]),
    };
    let p = participation_of(ME, &[EventRoleType::Participant]);
    let ps = ParticipationSubject {
        event: &subject,
        participation: &p,
        is_application: true,
        participant_groups: vec![],
        is_other_choice: false,
        course_layer_ids: Vec::new(),
    };
    participation(&actor(None), action, &ps, today()).is_allowed()
}

#[rstest]
#[case(A::Show, true)]
#[case(A::ShowDetails, true)]
#[case(A::ShowFull, false)]
#[case(A::Update, false)]
#[case(A::Approve, false)]
fn own_participation_shows_with_details(
    #[case] action: ParticipationAction,
    #[case] allowed: bool,
) {
    assert_eq!(decide_own(action, &event()), allowed);
}

#[rstest]
#[case(true, None, true)]
#[case(true, Some("2026-03-10"), true)]
#[case(true, Some("2026-03-09"), false)]
#[case(false, None, false)]
fn own_cancel_needs_cancelable_and_closing_not_past(
    #[case] cancelable: bool,
    #[case] closing: Option<&str>,
    #[case] allowed: bool,
) {
    let mut e = event();
    e.applications_cancelable = cancelable;
    e.application_closing_at = closing.map(|d| d.parse().expect("a date"));
    assert_eq!(decide_own(A::Destroy, &e), allowed);
}

#[rstest]
#[case(D, true)]
#[case(G, true)]
#[case(U, false)]
fn approve_for_holders_whose_layer_is_above_the_applicant(
    #[case] applicant_group: GroupId,
    #[case] allowed: bool,
) {
    let e = event();
    let g = group(U, false);
    let subject = EventSubject {
        event: &e,
        groups: vec![&g],
        own: None,
    };
    let p = participation_of(OTHER, &[EventRoleType::Participant]);
    let pg = group(applicant_group, false);
    let mut ps = ParticipationSubject {
        event: &subject,
        participation: &p,
        is_application: true,
        participant_groups: vec![&pg],
        is_other_choice: false,
        course_layer_ids: Vec::new(),
    };
    let who = actor(Some(P::ApproveApplications));
    assert_eq!(
        participation(&who, A::Approve, &ps, today()).is_allowed(),
        allowed
    );
    assert_eq!(
        participation(&who, A::Show, &ps, today()).is_allowed(),
        allowed
    );
    assert!(!participation(&who, A::Update, &ps, today()).is_allowed());
    ps.is_application = false;
    assert!(!participation(&who, A::Approve, &ps, today()).is_allowed());
}

#[test]
fn approve_needs_approve_applications() {
    assert!(!decide(
        &actor(Some(P::LayerAndBelowFull)),
        A::Approve,
        G,
        None,
        false
    ));
}

fn event_subject<'a>(
    e: &'a Event,
    g: &'a Group,
    mine: Option<OwnParticipation>,
) -> EventSubject<'a> {
    EventSubject {
        event: e,
        groups: vec![g],
        own: mine,
    }
}

#[rstest]
#[case(true, None, true)]
#[case(false, None, false)]
#[case(true, Some("2026-03-01"), false)]
fn self_registration_needs_visibility_and_an_open_application(
    #[case] can_see: bool,
    #[case] closing: Option<&str>,
    #[case] allowed: bool,
) {
    let mut e = event();
    e.application_closing_at = closing.map(|d| d.parse().expect("a date"));
    let g = group(U, false);
    let s = event_subject(&e, &g, None);
    let d = may_create_participation(&actor(None), &s, ME, can_see, today());
    assert_eq!(d.is_allowed(), allowed);
    assert!(!may_create_participation(&actor(None), &s, OTHER, can_see, today()).is_allowed());
}

#[rstest]
#[case(Some("2026-03-01"), None, false, Refusal::ApplicationClosed)]
#[case(None, Some(3), false, Refusal::EventFull)]
fn a_refused_applicant_learns_what_stopped_them(
    #[case] closing: Option<&str>,
    #[case] maximum: Option<u32>,
    #[case] waiting_list: bool,
    #[case] reason: Refusal,
) {
    let mut e = event();
    e.application_closing_at = closing.map(|d| d.parse().expect("a date"));
    e.maximum_participants = maximum;
    e.participant_count = 3;
    e.waiting_list = waiting_list;
    let g = group(U, false);
    let s = event_subject(&e, &g, None);
    let d = may_create_participation(&actor(None), &s, ME, true, today());
    assert_eq!(d, Decision::Refused(reason.clone()));
    // A write position registers others past the period and the places,
    // but applies for its holder by the same rules.
    let g = group(G, false);
    let s = event_subject(&e, &g, None);
    let leader = actor(Some(P::GroupFull));
    assert!(may_create_participation(&leader, &s, OTHER, true, today()).is_allowed());
    assert_eq!(
        may_create_participation(&leader, &s, ME, true, today()),
        Decision::Refused(reason)
    );
}

#[rstest]
#[case(P::GroupFull, G, false, true)]
#[case(P::GroupAndBelowFull, GB, false, true)]
#[case(P::LayerFull, LS, false, true)]
#[case(P::LayerAndBelowFull, D, false, true)]
#[case(P::LayerFull, G, true, false)]
#[case(P::LayerFull, D, false, false)]
fn write_positions_register_others_in_active_groups(
    #[case] permission: Permission,
    #[case] at: GroupId,
    #[case] archived: bool,
    #[case] allowed: bool,
) {
    let e = event();
    let g = group(at, archived);
    let s = event_subject(&e, &g, None);
    let d = may_create_participation(&actor(Some(permission)), &s, OTHER, false, today());
    assert_eq!(d.is_allowed(), allowed);
}

#[rstest]
#[case(P::GroupFull, G, false)]
#[case(P::GroupAndBelowFull, G, false)]
#[case(P::LayerFull, G, true)]
#[case(P::LayerFull, LS, true)]
#[case(P::LayerFull, D, false)]
#[case(P::LayerAndBelowFull, GB, true)]
#[case(P::LayerAndBelowFull, D, false)]
fn application_market_is_for_layer_writers_of_the_own_layer(
    #[case] permission: Permission,
    #[case] at: GroupId,
    #[case] allowed: bool,
) {
    let e = event();
    let g = group(at, false);
    let s = event_subject(&e, &g, None);
    assert_eq!(
        may_use_application_market(&actor(Some(permission)), &s).is_allowed(),
        allowed
    );
}

#[test]
fn application_market_needs_an_active_group_and_refuses_event_roles() {
    let e = event();
    let g = group(G, true);
    let s = event_subject(&e, &g, None);
    assert!(!may_use_application_market(&actor(Some(P::LayerFull)), &s).is_allowed());
    let g = group(U, false);
    let s = event_subject(&e, &g, own(&[EventRoleType::Leader]));
    assert!(!may_use_application_market(&actor(None), &s).is_allowed());
}

#[test]
fn participations_full_manages_roles_but_not_course_participant_roles() {
    let e = event();
    let g = group(U, false);
    let s = event_subject(&e, &g, own(&[EventRoleType::AssistantLeader]));
    let who = actor(None);
    assert!(may_manage_event_roles(&who, &s, EventRoleType::Cook).is_allowed());
    assert_eq!(
        may_manage_event_roles(&who, &s, EventRoleType::Participant),
        Decision::Refused(Refusal::RestrictedRole)
    );
    let s = event_subject(&e, &g, own(&[EventRoleType::Helper]));
    assert!(!may_manage_event_roles(&who, &s, EventRoleType::Cook).is_allowed());
    let s = event_subject(&e, &g, None);
    assert!(
        may_manage_event_roles(
            &actor(Some(P::GroupFull)),
            &event_subject(&e, &group(G, false), None),
            EventRoleType::Cook
        )
        .is_allowed()
    );
    assert!(!may_manage_event_roles(&who, &s, EventRoleType::Cook).is_allowed());
}

#[test]
fn participations_full_may_not_remove_their_own_full_role() {
    let e = event();
    let g = group(U, false);
    let s = event_subject(&e, &g, own(&[EventRoleType::Leader, EventRoleType::Cook]));
    let mine = participation_of(ME, &[EventRoleType::Leader, EventRoleType::Cook]);
    let who = actor(None);
    assert_eq!(
        may_destroy_event_role(&who, &s, &mine, EventRoleType::Leader),
        Decision::Refused(Refusal::OwnPermissionRole)
    );
    assert!(may_destroy_event_role(&who, &s, &mine, EventRoleType::Cook).is_allowed());
    let theirs = participation_of(OTHER, &[EventRoleType::Leader]);
    assert!(may_destroy_event_role(&who, &s, &theirs, EventRoleType::Leader).is_allowed());
}

#[test]
fn permits_name_their_target() {
    let e = event();
    let g = group(G, false);
    let s = event_subject(&e, &g, None);
    let who = actor(Some(P::LayerFull));
    let permit = permit_application_market(&who, &s).expect("allowed");
    assert_eq!(permit.target(), &UseApplicationMarket(EventId(7)));
    let permit = permit_create_participation(&who, &s, OTHER, true, today()).expect("allowed");
    assert!(!permit.target().by_self);
}

/// "Different prio": layer writers of a course-offering layer update a
/// pending application of another layer's course when it waits or names
/// a second or third choice; nothing else reaches it.
#[rstest]
#[case(P::LayerFull, true, false, true, true)]
#[case(P::LayerAndBelowFull, true, false, true, true)]
#[case(P::GroupFull, true, false, true, false)]
#[case(P::LayerFull, false, false, true, false)]
#[case(P::LayerFull, true, true, true, false)]
#[case(P::LayerFull, true, false, false, false)]
fn different_prio_lets_course_offering_layers_update_waiting_applications(
    #[case] permission: Permission,
    #[case] is_other_choice: bool,
    #[case] active: bool,
    #[case] offers_courses: bool,
    #[case] allowed: bool,
) {
    let e = event();
    // The course is in another layer (U): no position reaches it.
    let g = group(U, false);
    let subject = EventSubject {
        event: &e,
        groups: vec![&g],
        own: None,
    };
    let mut p = participation_of(OTHER, &[EventRoleType::Participant]);
    p.active = active;
    let who = actor(Some(permission));
    let ps = ParticipationSubject {
        event: &subject,
        participation: &p,
        is_application: true,
        participant_groups: vec![],
        is_other_choice,
        course_layer_ids: if offers_courses { vec![L] } else { Vec::new() },
    };
    assert_eq!(
        participation(&who, A::Update, &ps, today()).is_allowed(),
        allowed
    );
    // Only updating: showing it still needs a position or a role.
    assert!(!participation(&who, A::ShowFull, &ps, today()).is_allowed());
}
