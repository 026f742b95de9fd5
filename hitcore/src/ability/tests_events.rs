//! Every cell of the "Event actions" row of section 4.3 that
//! `ability::events` decides (all but the application market, qualify and
//! qualifications_read), the class-side rules, attachment downloads and
//! the list scope of section 4.4.
//!
//! The tree: root layer R (10) above layer L (1); in L the group G (2)
//! where the actor's role sits, its subgroup Gb (3) and another group Ls
//! (4); the layer D (5) below L with its group Dg (6); and a sibling
//! layer S (7) under R.

use chrono::{TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::event::participation::EventRoleType;
use crate::group::Address;
use crate::id::PersonId;

const R: GroupId = GroupId(10);
const L: GroupId = GroupId(1);
const G: GroupId = GroupId(2);
const GB: GroupId = GroupId(3);
const LS: GroupId = GroupId(4);
const D: GroupId = GroupId(5);
const DG: GroupId = GroupId(6);
const S: GroupId = GroupId(7);

fn group(id: GroupId) -> Group {
    let (path, layer, group_type): (Vec<i64>, GroupId, &str) = match id.0 {
        10 => (vec![10], R, "Top"),
        1 => (vec![10, 1], L, "Top"),
        2 => (vec![10, 1, 2], L, "Club"),
        3 => (vec![10, 1, 2, 3], L, "Club"),
        4 => (vec![10, 1, 4], L, "Club"),
        5 => (vec![10, 1, 5], D, "Top"),
        6 => (vec![10, 1, 5, 6], D, "Club"),
        _ => (vec![10, 7], S, "Top"),
    };
    let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single();
    Group {
        id,
        parent_id: path.len().checked_sub(2).map(|i| GroupId(path[i])),
        path: path.into_iter().map(GroupId).collect(),
        layer_group_id: layer,
        group_type: group_type.into(),
        name: format!("g{}", id.0),
        short_name: None,
        email: None,
        description: None,
        address: Address::default(),
        created_at: at.expect("valid"),
        updated_at: at.expect("valid"),
        deleted_at: None,
        archived_at: None,
    }
}

fn tree() -> GroupTree {
    GroupTree::new([R, L, G, GB, LS, D, DG, S].into_iter().map(group).collect())
}

fn org() -> Organisation {
    Organisation::from_toml(
        r#"
[organisation]
name = "Test"
root = "Top"
languages = ["en"]

[group_types.Top]
label = { en = "Top" }
layer = true
children = ["Top", "Club"]
event_types = ["Event", "Event::Course"]

[group_types.Club]
label = { en = "Club" }
children = ["Club"]
"#,
        "test.toml",
    )
    .expect("test organisation")
}

/// An event that only positions can show: not globally visible.
fn event_in(id: GroupId) -> Event {
    let mut e = probe_event();
    e.id = EventId(1);
    e.group_ids = vec![id];
    e.globally_visible = Some(false);
    e.shared_access_token = "secret-token".into();
    e
}

/// An actor holding `permissions` through one role in G (or in `at`).
fn actor_at(at: GroupId, permissions: &[Permission]) -> Actor {
    let g = group(at);
    Actor {
        person_id: PersonId(1),
        is_root: false,
        grants: permissions
            .iter()
            .map(|&permission| Grant {
                permission,
                group_id: g.id,
                layer_group_id: g.layer_group_id,
                is_group_active: true,
            })
            .collect(),
        has_role: !permissions.is_empty(),
    }
}

fn actor(permission: Permission) -> Actor {
    actor_at(G, &[permission])
}

/// No layers and no token: only the position columns count.
fn nobody() -> EventViewer {
    EventViewer::default()
}

fn decide(
    actor: &Actor,
    action: Option<EventAction>,
    e: &Event,
    groups: Vec<&Group>,
    own: Option<OwnParticipation>,
) -> bool {
    let subject = EventSubject {
        event: e,
        groups: groups.clone(),
        own,
    };
    match action {
        Some(a) => event(actor, a, &subject, &nobody()).is_allowed(),
        None => may_create_event(actor, &groups).is_allowed(),
    }
}

/// Where each write permission reaches, by action (None: create).
#[rstest]
#[case::show(Some(EventAction::Show), "G Gb Ls Dg")]
#[case::index_participations(Some(EventAction::IndexParticipations), "G Gb Ls Dg")]
#[case::index_full_participations(Some(EventAction::IndexFullParticipations), "G Gb Ls Dg")]
#[case::update(Some(EventAction::Update), "G Gb Ls Dg")]
#[case::index_invitations(Some(EventAction::IndexInvitations), "G Gb Ls Dg")]
#[case::create(None, "G Gb Ls")]
#[case::destroy(Some(EventAction::Destroy), "G Gb Ls")]
fn positions_follow_the_event_table(
    #[case] action: Option<EventAction>,
    #[case] layer_and_below: &str,
) {
    let positions = [
        ("G", G),
        ("Gb", GB),
        ("Ls", LS),
        ("Dg", DG),
        ("S", S),
        ("R", R),
    ];
    let expected = [
        (Permission::GroupFull, "G"),
        (Permission::GroupAndBelowFull, "G Gb"),
        (Permission::LayerFull, "G Gb Ls"),
        (Permission::LayerAndBelowFull, layer_and_below),
        (Permission::LayerRead, ""),
        (Permission::GroupRead, ""),
    ];
    for (permission, cells) in expected {
        let a = actor(permission);
        for (name, id) in positions {
            let g = group(id);
            let e = event_in(id);
            let allowed = decide(&a, action, &e, vec![&g], None);
            let wanted = cells.split(' ').any(|c| c == name);
            assert_eq!(
                allowed, wanted,
                "{permission:?} {action:?} on an event in {name}"
            );
        }
    }
}

#[test]
fn any_of_several_groups_counts() {
    let a = actor(Permission::GroupFull);
    let (s, g) = (group(S), group(G));
    let mut e = event_in(S);
    e.group_ids = vec![G, S];
    assert!(decide(
        &a,
        Some(EventAction::Update),
        &e,
        vec![&s, &g],
        None
    ));
    assert!(!decide(&a, Some(EventAction::Update), &e, vec![&s], None));
}

/// "act": write rows need one event group neither deleted nor archived;
/// reading does not.
#[rstest]
#[case(Some(EventAction::Update), false)]
#[case(Some(EventAction::Destroy), false)]
#[case(None, false)]
#[case(Some(EventAction::Show), true)]
#[case(Some(EventAction::IndexParticipations), true)]
#[case(Some(EventAction::IndexFullParticipations), true)]
#[case(Some(EventAction::IndexInvitations), true)]
fn write_rows_need_an_active_group(#[case] action: Option<EventAction>, #[case] allowed: bool) {
    let mut g = group(G);
    g.archived_at = g.created_at.into();
    let e = event_in(G);
    for a in [
        actor(Permission::LayerAndBelowFull),
        Actor {
            is_root: true,
            ..actor(Permission::GroupRead)
        },
    ] {
        assert_eq!(
            decide(&a, action, &e, vec![&g], None),
            allowed,
            "{action:?}"
        );
    }
}

fn own(active: bool, roles: &[EventRoleType]) -> Option<OwnParticipation> {
    Some(OwnParticipation {
        active,
        roles: roles.to_vec(),
    })
}

/// The "event role" column, with participations counting only while
/// active.
#[rstest]
#[case(EventAction::Update, &[EventRoleType::Leader], true, true)]
#[case(EventAction::Update, &[EventRoleType::AssistantLeader], true, true)]
#[case(EventAction::Update, &[EventRoleType::Leader], false, false)]
#[case(EventAction::Update, &[EventRoleType::Helper], true, false)]
#[case(EventAction::Destroy, &[EventRoleType::Leader], true, false)]
#[case(EventAction::IndexInvitations, &[EventRoleType::Leader], true, false)]
#[case(EventAction::IndexFullParticipations, &[EventRoleType::Leader], true, true)]
#[case(EventAction::IndexFullParticipations, &[EventRoleType::Cook], true, false)]
#[case(EventAction::IndexParticipations, &[EventRoleType::Cook], true, true)]
#[case(EventAction::IndexParticipations, &[EventRoleType::Treasurer], true, true)]
#[case(EventAction::IndexParticipations, &[EventRoleType::Treasurer], false, false)]
#[case(EventAction::IndexParticipations, &[EventRoleType::Participant], true, false)]
fn event_roles_grant_their_permissions(
    #[case] action: EventAction,
    #[case] roles: &[EventRoleType],
    #[case] active: bool,
    #[case] allowed: bool,
) {
    let a = actor_at(S, &[]);
    let g = group(G);
    let e = event_in(G);
    assert_eq!(
        decide(&a, Some(action), &e, vec![&g], own(active, roles)),
        allowed
    );
}

#[test]
fn participants_see_each_other_only_if_the_event_says_so() {
    let a = actor_at(S, &[]);
    let g = group(G);
    let mut e = event_in(G);
    let participant = own(true, &[EventRoleType::Participant]);
    let action = Some(EventAction::IndexParticipations);
    assert!(!decide(&a, action, &e, vec![&g], participant.clone()));
    e.participations_visible = true;
    assert!(decide(&a, action, &e, vec![&g], participant));
    assert!(!decide(
        &a,
        action,
        &e,
        vec![&g],
        own(false, &[EventRoleType::Participant])
    ));
}

/// The "any user" column of `show`.
#[test]
fn anyone_sees_public_shared_own_and_layer_events() {
    let a = actor_at(S, &[]);
    let g = group(G);
    let show = |e: &Event, viewer: &EventViewer, own: Option<OwnParticipation>| {
        let subject = EventSubject {
            event: e,
            groups: vec![&g],
            own,
        };
        event(&a, EventAction::Show, &subject, viewer).is_allowed()
    };
    let hidden = event_in(G);
    assert!(!show(&hidden, &nobody(), None));
    let default = Event {
        globally_visible: None,
        ..event_in(G)
    };
    assert!(
        show(&default, &nobody(), None),
        "NULL is the visible default"
    );
    let external = Event {
        external_applications: true,
        ..event_in(G)
    };
    assert!(show(&external, &nobody(), None));
    let token = |t: &str| EventViewer::default().with_token(Some(t.into()));
    assert!(show(&hidden, &token("secret-token"), None));
    assert!(!show(&hidden, &token("secret-tokex"), None));
    assert!(!show(&hidden, &token(""), None));
    assert!(show(
        &hidden,
        &nobody(),
        own(false, &[EventRoleType::Participant])
    ));
    let in_layer = EventViewer {
        layer_ids: vec![L],
        token: None,
    };
    assert!(show(&hidden, &in_layer, None));
    let other_layer = EventViewer {
        layer_ids: vec![S],
        token: None,
    };
    assert!(!show(&hidden, &other_layer, None));
}

#[test]
fn viewer_layers_come_from_all_active_roles() {
    use crate::role::Role;
    let at = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let role = |id: i64, group_id: GroupId, end_on| Role {
        id: crate::id::RoleId(id),
        person_id: PersonId(1),
        group_id,
        role_type: "Club.Member".into(),
        label: None,
        start_on: None,
        end_on,
        archived_at: None,
        is_terminated: false,
        created_at: at,
        updated_at: at,
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let ended = chrono::NaiveDate::from_ymd_opt(2025, 6, 1);
    let roles = [role(1, GB, None), role(2, DG, None), role(3, S, ended)];
    let viewer = EventViewer::new(&actor_at(S, &[]), &roles, &tree(), today);
    assert_eq!(viewer.layer_ids, [L, D]);
}

#[rstest]
#[case(AttachmentVisibility::Global, &[EventRoleType::Participant], false, true)]
#[case(AttachmentVisibility::Participants, &[EventRoleType::Participant], false, true)]
#[case(AttachmentVisibility::Participants, &[], false, false)]
#[case(AttachmentVisibility::Team, &[EventRoleType::Participant], false, false)]
#[case(AttachmentVisibility::Team, &[EventRoleType::Helper], false, true)]
#[case(AttachmentVisibility::Team, &[], true, true)]
#[case(AttachmentVisibility::Participants, &[], true, true)]
fn attachments_follow_their_visibility(
    #[case] visibility: AttachmentVisibility,
    #[case] roles: &[EventRoleType],
    #[case] is_manager: bool,
    #[case] allowed: bool,
) {
    let a = if is_manager {
        actor(Permission::GroupFull)
    } else {
        actor_at(S, &[])
    };
    let g = group(G);
    // Globally visible, so that everybody passes the show check.
    let e = Event {
        globally_visible: Some(true),
        ..event_in(G)
    };
    let subject = EventSubject {
        event: &e,
        groups: vec![&g],
        own: (!roles.is_empty()).then(|| OwnParticipation {
            active: true,
            roles: roles.to_vec(),
        }),
    };
    let decision = may_download_attachment(&a, &subject, &nobody(), visibility);
    assert_eq!(decision.is_allowed(), allowed, "{visibility:?} {roles:?}");
}

#[test]
fn attachments_of_hidden_events_are_refused_to_everyone_else() {
    let a = actor_at(S, &[]);
    let g = group(G);
    let e = event_in(G);
    let subject = EventSubject {
        event: &e,
        groups: vec![&g],
        own: None,
    };
    let d = may_download_attachment(&a, &subject, &nobody(), AttachmentVisibility::Global);
    assert!(!d.is_allowed());
}

#[test]
fn class_side_rules() {
    let (t, o) = (tree(), org());
    let nobody_actor = actor_at(S, &[]);
    assert!(may_list_courses(&nobody_actor).is_allowed());
    // list_all: layer_full or layer_and_below_full in a course-offering
    // layer (Top offers courses, so L does).
    assert!(may_list_all_courses(&actor(Permission::LayerFull), &t, &o).is_allowed());
    assert!(may_list_all_courses(&actor(Permission::LayerAndBelowFull), &t, &o).is_allowed());
    assert!(!may_list_all_courses(&actor(Permission::GroupFull), &t, &o).is_allowed());
    assert!(!may_list_all_courses(&actor(Permission::LayerRead), &t, &o).is_allowed());
    // export_list: layer_and_below_full on the root layer only.
    assert!(may_export_event_list(&actor_at(R, &[Permission::LayerAndBelowFull]), &t).is_allowed());
    assert!(!may_export_event_list(&actor(Permission::LayerAndBelowFull), &t).is_allowed());
    assert!(!may_export_event_list(&actor_at(R, &[Permission::LayerFull]), &t).is_allowed());
    // typeahead: anybody with a role.
    assert!(may_typeahead_events(&actor(Permission::GroupRead)).is_allowed());
    let roleless = Actor {
        has_role: false,
        ..actor_at(S, &[])
    };
    assert!(!may_typeahead_events(&roleless).is_allowed());
}

#[test]
fn list_scope_reaches_below_layer_and_below_and_see_invisible_layers() {
    let viewer = EventViewer {
        layer_ids: vec![L],
        token: None,
    };
    let a = actor_at(G, &[Permission::LayerAndBelowRead, Permission::GroupFull]);
    let scope = event_scope(&a, &viewer);
    assert_eq!(scope.below_layer_ids, [L]);
    assert_eq!(scope.layer_ids, [L]);
    assert_eq!(scope.participant, Some(PersonId(1)));
    assert!(scope.public && !scope.all);
    let root = Actor {
        is_root: true,
        ..actor(Permission::GroupRead)
    };
    assert!(event_scope(&root, &viewer).all);
    assert!(
        event_scope(&actor(Permission::LayerFull), &viewer)
            .below_layer_ids
            .is_empty()
    );
}

#[test]
fn create_permit_names_the_groups_in_order() {
    let (g, gb) = (group(G), group(GB));
    let permit =
        permit_create_event(&actor(Permission::GroupAndBelowFull), &[&gb, &g]).expect("allowed");
    assert_eq!(permit.target().0, [G, GB]);
    assert!(permit_create_event(&actor(Permission::GroupFull), &[]).is_err());
}

#[test]
fn creating_on_several_groups_needs_a_position_on_each() {
    let a = actor(Permission::GroupFull);
    let (g, ls) = (group(G), group(LS));
    assert!(may_create_event(&a, &[&g]).is_allowed());
    assert!(!may_create_event(&a, &[&g, &ls]).is_allowed());
    let layer = actor(Permission::LayerFull);
    assert!(may_create_event(&layer, &[&g, &ls]).is_allowed());
}

#[test]
fn changing_groups_needs_a_position_on_each_added_or_removed_one() {
    let (g, gb, ls) = (group(G), group(GB), group(LS));
    let mut e = event_in(G);
    e.group_ids = vec![G, LS];
    let subject = EventSubject {
        event: &e,
        groups: vec![&g, &ls],
        own: None,
    };
    let club = actor(Permission::GroupAndBelowFull);
    // Adding Gb, below the actor's group: allowed, and the permit lists
    // the new set in order.
    let permit =
        permit_set_event_groups(&club, &subject, &nobody(), &[&gb, &g, &ls]).expect("allowed");
    assert_eq!(permit.target().groups, [G, GB, LS]);
    assert_eq!(permit.target().event, e.id);
    // Removing Ls, which the actor cannot manage: refused.
    assert!(permit_set_event_groups(&club, &subject, &nobody(), &[&g]).is_err());
    // Keeping the groups as they are needs only the update permission.
    assert!(permit_set_event_groups(&club, &subject, &nobody(), &[&ls, &g]).is_ok());
    // Giving the event away to groups the actor cannot manage: refused,
    // although the actor may manage the group removed.
    assert!(permit_set_event_groups(&club, &subject, &nobody(), &[&ls]).is_err());
    // No group at all: refused, even to a layer writer.
    let layer = actor(Permission::LayerFull);
    assert!(permit_set_event_groups(&layer, &subject, &nobody(), &[]).is_err());
    assert!(permit_set_event_groups(&layer, &subject, &nobody(), &[&ls]).is_ok());
    // Without the update permission nothing changes.
    let reader = actor(Permission::GroupRead);
    assert!(permit_set_event_groups(&reader, &subject, &nobody(), &[&g, &ls]).is_err());
}

#[test]
fn deleting_a_shared_event_needs_a_position_on_each_live_group() {
    let club = actor(Permission::GroupAndBelowFull);
    let (g, gb, ls) = (group(G), group(GB), group(LS));
    let mut e = event_in(G);
    e.group_ids = vec![G, LS];
    assert!(!decide(
        &club,
        Some(EventAction::Destroy),
        &e,
        vec![&g, &ls],
        None
    ));
    e.group_ids = vec![G, GB];
    assert!(decide(
        &club,
        Some(EventAction::Destroy),
        &e,
        vec![&g, &gb],
        None
    ));
    // A deleted or archived group does not hold the event back, also
    // not for root.
    let mut gone = group(LS);
    gone.deleted_at = gone.created_at.into();
    let mut archived = group(LS);
    archived.archived_at = archived.created_at.into();
    e.group_ids = vec![G, LS];
    let root = Actor {
        is_root: true,
        ..actor(Permission::GroupRead)
    };
    for other in [&gone, &archived] {
        for who in [&club, &root] {
            assert!(decide(
                who,
                Some(EventAction::Destroy),
                &e,
                vec![&g, other],
                None
            ));
        }
    }
}
