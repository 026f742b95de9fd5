//! The decision tables of section 4.3, one case per cell, and the rules
//! around them (root, self-service, self-protection, inactive groups, role
//! states, list filtering).
//!
//! Every case runs against one small organisation (federation → region →
//! club, with teams inside each layer) and one actor who holds a single
//! role in the team G of the region L:
//!
//! ```text
//! 1 Federation ─┬─ 2 Region (L) ─┬─ 10 Team (G) ─┬─ 11 Team (Gb)
//!               │                │               └─ 5 Club ── 18 Team
//!               │                ├─ 12 Team (Ls)
//!               │                ├─ 16 Team (archived), 17 Team (deleted)
//!               │                └─ 3 Club ── 13 Team (Dv, Di; D for groups)
//!               ├─ 4 Region ── 14 Team (U)
//!               └─ 15 Team (upper layer)
//! ```

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::group::Address;

// ------------------------------------------------------------ the fixture

const ORG_TOML: &str = r#"
[organisation]
name = "Ability test federation"
root = "Federation"
languages = ["en"]

[group_types.Federation]
layer = true
children = ["Region", "Team"]

[group_types.Region]
layer = true
children = ["Club", "Team"]

[group_types.Club]
layer = true
children = ["Team"]

[group_types.Team]
children = ["Team", "Club"]

[[group_types.Team.roles]]
key = "Member"

[[group_types.Team.roles]]
key = "GroupReader"
permissions = ["group_read"]

[[group_types.Team.roles]]
key = "GroupBelowReader"
permissions = ["group_and_below_read"]

[[group_types.Team.roles]]
key = "GroupLeader"
permissions = ["group_full"]

[[group_types.Team.roles]]
key = "GroupBelowLeader"
permissions = ["group_and_below_full"]

[[group_types.Team.roles]]
key = "LayerReader"
permissions = ["layer_read"]

[[group_types.Team.roles]]
key = "LayerLeader"
permissions = ["layer_full"]

[[group_types.Team.roles]]
key = "LayerBelowReader"
permissions = ["layer_and_below_read"]

[[group_types.Team.roles]]
key = "LayerBelowLeader"
permissions = ["layer_and_below_full"]

[[group_types.Team.roles]]
key = "Seer"
permissions = ["see_invisible_from_above"]

[[group_types.Team.roles]]
key = "Auditor"
permissions = ["layer_and_below_full", "see_invisible_from_above"]

[[group_types.Team.roles]]
key = "Contact"
permissions = ["contact_data"]
kind = "external"

[[group_types.Team.roles]]
key = "Admin"
permissions = ["admin"]

[[group_types.Team.roles]]
key = "Secret"
permissions = ["group_read"]
kind = "passive"
visible_from_above = false

[[group_types.Team.roles]]
key = "Managed"
kind = "restricted"

[[group_types.Team.roles]]
key = "ManagedLeader"
permissions = ["group_full"]
kind = "restricted"

[[group_types.Team.roles]]
key = "Volunteer"
terminatable = true
"#;

const MEMBER: &str = "Team.Member";
const GROUP_READ: &str = "Team.GroupReader";
const GROUP_BELOW_READ: &str = "Team.GroupBelowReader";
const GROUP_FULL: &str = "Team.GroupLeader";
const GROUP_BELOW_FULL: &str = "Team.GroupBelowLeader";
const LAYER_READ: &str = "Team.LayerReader";
const LAYER_FULL: &str = "Team.LayerLeader";
const LAYER_BELOW_READ: &str = "Team.LayerBelowReader";
const LAYER_BELOW_FULL: &str = "Team.LayerBelowLeader";
const SEE_INVISIBLE: &str = "Team.Seer";
/// layer_and_below_full together with see_invisible_from_above.
const AUDITOR: &str = "Team.Auditor";
const CONTACT: &str = "Team.Contact";
const ADMIN: &str = "Team.Admin";
/// Reads its group, invisible from above.
const SECRET: &str = "Team.Secret";
const MANAGED: &str = "Team.Managed";
/// Restricted, but with group_full.
const MANAGED_LEADER: &str = "Team.ManagedLeader";
const VOLUNTEER: &str = "Team.Volunteer";

const FEDERATION: i64 = 1;
const REGION: i64 = 2;
const CLUB: i64 = 3;
const OTHER_REGION: i64 = 4;
const SUBCLUB: i64 = 5;
const TEAM_G: i64 = 10;
const TEAM_GB: i64 = 11;
const TEAM_LS: i64 = 12;
const CLUB_TEAM: i64 = 13;
const OTHER_REGION_TEAM: i64 = 14;
const FEDERATION_TEAM: i64 = 15;
const ARCHIVED_TEAM: i64 = 16;
const DELETED_TEAM: i64 = 17;
const SUBCLUB_TEAM: i64 = 18;

const ACTOR: i64 = 100;
const SUBJECT: i64 = 200;
const ROOT: i64 = 1;

static ORG: LazyLock<Organisation> = LazyLock::new(|| {
    Organisation::from_toml(ORG_TOML, "ability-test.toml").expect("the test organisation loads")
});

static TREE: LazyLock<GroupTree> = LazyLock::new(|| {
    let mut archived = make_group(ARCHIVED_TEAM, &[1, 2, 16], REGION, "Team");
    archived.archived_at = Some(now());
    let mut deleted = make_group(DELETED_TEAM, &[1, 2, 17], REGION, "Team");
    deleted.deleted_at = Some(now());
    GroupTree::new(vec![
        make_group(FEDERATION, &[1], FEDERATION, "Federation"),
        make_group(REGION, &[1, 2], REGION, "Region"),
        make_group(CLUB, &[1, 2, 3], CLUB, "Club"),
        make_group(OTHER_REGION, &[1, 4], OTHER_REGION, "Region"),
        make_group(SUBCLUB, &[1, 2, 10, 5], SUBCLUB, "Club"),
        make_group(TEAM_G, &[1, 2, 10], REGION, "Team"),
        make_group(TEAM_GB, &[1, 2, 10, 11], REGION, "Team"),
        make_group(TEAM_LS, &[1, 2, 12], REGION, "Team"),
        make_group(CLUB_TEAM, &[1, 2, 3, 13], CLUB, "Team"),
        make_group(OTHER_REGION_TEAM, &[1, 4, 14], OTHER_REGION, "Team"),
        make_group(FEDERATION_TEAM, &[1, 15], FEDERATION, "Team"),
        archived,
        deleted,
        make_group(SUBCLUB_TEAM, &[1, 2, 10, 5, 18], SUBCLUB, "Team"),
    ])
});

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 9, 0, 0)
        .single()
        .expect("valid time")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn today() -> NaiveDate {
    day(2025, 3, 10)
}

fn make_group(id: i64, path: &[i64], layer: i64, group_type: &str) -> Group {
    let parent_id = path.len().checked_sub(2).map(|i| GroupId(path[i]));
    Group {
        id: GroupId(id),
        parent_id,
        path: path.iter().copied().map(GroupId).collect(),
        layer_group_id: GroupId(layer),
        group_type: group_type.to_owned(),
        name: format!("{group_type} {id}"),
        short_name: None,
        email: None,
        description: None,
        address: Address::default(),
        created_at: now(),
        updated_at: now(),
        deleted_at: None,
        archived_at: None,
    }
}

fn tree() -> &'static GroupTree {
    &TREE
}

fn g(id: i64) -> &'static Group {
    TREE.get(GroupId(id)).expect("group of the fixture")
}

fn rt(key: &str) -> &'static RoleType {
    ORG.role_type(key).expect("role type of the fixture")
}

/// A role running since the start of the year, without end.
fn active_role(id: i64, person: i64, group: i64, role_type: &str) -> Role {
    Role {
        id: RoleId(id),
        person_id: PersonId(person),
        group_id: GroupId(group),
        role_type: role_type.to_owned(),
        label: None,
        start_on: Some(day(2025, 1, 1)),
        end_on: None,
        archived_at: None,
        is_terminated: false,
        created_at: now(),
        updated_at: now(),
    }
}

fn future(mut r: Role) -> Role {
    r.start_on = Some(day(2025, 4, 1));
    r
}

/// The role as ended on `end` (before today).
fn ended(mut r: Role, end: NaiveDate) -> Role {
    r.start_on = Some(day(2024, 1, 1));
    r.end_on = Some(end);
    r
}

fn actor(roles: &[Role]) -> Actor {
    Actor::new(PersonId(ACTOR), false, roles, &TREE, &ORG, today())
}

/// The actor with one active role of `role_type` in `group`.
fn actor_with(role_type: &str, group: i64) -> Actor {
    actor(&[active_role(1000, ACTOR, group, role_type)])
}

fn root() -> Actor {
    Actor::new(PersonId(ROOT), true, &[], &TREE, &ORG, today())
}

fn person_record(id: i64, contact_data_visible: bool) -> Person {
    Person {
        id: PersonId(id),
        first_name: Some("Test".to_owned()),
        last_name: Some(format!("Person {id}")),
        nickname: None,
        company_name: None,
        is_company: false,
        email: Some(format!("p{id}@example.org")),
        address: Address::default(),
        gender: None,
        birthday: None,
        language: "en".to_owned(),
        additional_information: None,
        primary_group_id: None,
        contact_data_visible,
        created_at: now(),
        updated_at: now(),
    }
}

fn subject_of(id: i64, is_root: bool, roles: &[Role]) -> PersonSubject<'_> {
    PersonSubject::new(
        &person_record(id, false),
        is_root,
        roles,
        &TREE,
        &ORG,
        today(),
    )
}

/// The subject person with these roles.
fn subject(roles: &[Role]) -> PersonSubject<'_> {
    subject_of(SUBJECT, false, roles)
}

fn by(permission: Permission, group: i64) -> Decision {
    Decision::Allowed(Because::Permission {
        permission,
        group_id: GroupId(group),
    })
}

fn refused(refusal: Refusal) -> Decision {
    Decision::Refused(refusal)
}

/// Where the subject (a person, role or group) sits, relative to the
/// actor's role in G.
#[derive(Clone, Copy, Debug)]
enum Pos {
    G,
    Gb,
    Ls,
    /// A lower layer, with a role visible from above.
    Dv,
    /// A lower layer, with a role invisible from above.
    Di,
    /// A group in a lower layer (group table).
    D,
    U,
}

impl Pos {
    fn group(self) -> i64 {
        match self {
            Pos::G => TEAM_G,
            Pos::Gb => TEAM_GB,
            Pos::Ls => TEAM_LS,
            Pos::Dv | Pos::Di | Pos::D => CLUB_TEAM,
            Pos::U => OTHER_REGION_TEAM,
        }
    }

    /// The type of the subject's role there: a capable role (it reads its
    /// group), invisible from above at Di.
    fn role_type(self) -> &'static str {
        match self {
            Pos::Di => SECRET,
            _ => GROUP_READ,
        }
    }
}

/// What a table cell expects.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Allowed through the actor's role in G.
    Y,
    /// Refused: no permission.
    N,
    /// Allowed to anybody with a role.
    Any,
    /// Refused: the group gives the actor their permission.
    Own,
}

#[track_caller]
fn check(decision: &Decision, expect: Expect) {
    let ok = match expect {
        Expect::Y => matches!(
            decision,
            Decision::Allowed(Because::Permission { group_id, .. }) if *group_id == GroupId(TEAM_G)
        ),
        Expect::N => *decision == refused(Refusal::NoPermission),
        Expect::Any => *decision == Decision::Allowed(Because::AnyRole),
        Expect::Own => *decision == refused(Refusal::OwnPermissionRole),
    };
    assert!(ok, "expected {expect:?}, got {decision:?}");
}

// -------------------------------------------------------- the person table

/// Table 4.3, person actions: one case per permission row, column and
/// position of the subject's only role. The `create` column is
/// [`may_create_role`] for the subject's role type at that position.
mod person_table {
    use super::Expect::*;
    use super::Pos::*;
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum Col {
        Show,
        ShowDetails,
        ShowFull,
        Update,
        UpdateEmail,
        Create,
    }
    use Col::{Create, Show, ShowDetails, ShowFull, Update, UpdateEmail};

    #[rstest]
    #[case::none_show_g(MEMBER, Show, G, N)]
    #[case::none_show_gb(MEMBER, Show, Gb, N)]
    #[case::none_show_ls(MEMBER, Show, Ls, N)]
    #[case::none_show_dv(MEMBER, Show, Dv, N)]
    #[case::none_show_di(MEMBER, Show, Di, N)]
    #[case::none_show_u(MEMBER, Show, U, N)]
    #[case::none_show_details_g(MEMBER, ShowDetails, G, N)]
    #[case::none_show_details_gb(MEMBER, ShowDetails, Gb, N)]
    #[case::none_show_details_ls(MEMBER, ShowDetails, Ls, N)]
    #[case::none_show_details_dv(MEMBER, ShowDetails, Dv, N)]
    #[case::none_show_details_di(MEMBER, ShowDetails, Di, N)]
    #[case::none_show_details_u(MEMBER, ShowDetails, U, N)]
    #[case::none_show_full_g(MEMBER, ShowFull, G, N)]
    #[case::none_show_full_gb(MEMBER, ShowFull, Gb, N)]
    #[case::none_show_full_ls(MEMBER, ShowFull, Ls, N)]
    #[case::none_show_full_dv(MEMBER, ShowFull, Dv, N)]
    #[case::none_show_full_di(MEMBER, ShowFull, Di, N)]
    #[case::none_show_full_u(MEMBER, ShowFull, U, N)]
    #[case::none_update_g(MEMBER, Update, G, N)]
    #[case::none_update_gb(MEMBER, Update, Gb, N)]
    #[case::none_update_ls(MEMBER, Update, Ls, N)]
    #[case::none_update_dv(MEMBER, Update, Dv, N)]
    #[case::none_update_di(MEMBER, Update, Di, N)]
    #[case::none_update_u(MEMBER, Update, U, N)]
    #[case::none_update_email_g(MEMBER, UpdateEmail, G, N)]
    #[case::none_update_email_gb(MEMBER, UpdateEmail, Gb, N)]
    #[case::none_update_email_ls(MEMBER, UpdateEmail, Ls, N)]
    #[case::none_update_email_dv(MEMBER, UpdateEmail, Dv, N)]
    #[case::none_update_email_di(MEMBER, UpdateEmail, Di, N)]
    #[case::none_update_email_u(MEMBER, UpdateEmail, U, N)]
    #[case::none_create_g(MEMBER, Create, G, N)]
    #[case::none_create_gb(MEMBER, Create, Gb, N)]
    #[case::none_create_ls(MEMBER, Create, Ls, N)]
    #[case::none_create_dv(MEMBER, Create, Dv, N)]
    #[case::none_create_di(MEMBER, Create, Di, N)]
    #[case::none_create_u(MEMBER, Create, U, N)]
    #[case::contact_data_show_g(CONTACT, Show, G, N)]
    #[case::contact_data_show_gb(CONTACT, Show, Gb, N)]
    #[case::contact_data_show_ls(CONTACT, Show, Ls, N)]
    #[case::contact_data_show_dv(CONTACT, Show, Dv, N)]
    #[case::contact_data_show_di(CONTACT, Show, Di, N)]
    #[case::contact_data_show_u(CONTACT, Show, U, N)]
    #[case::contact_data_show_details_g(CONTACT, ShowDetails, G, N)]
    #[case::contact_data_show_details_gb(CONTACT, ShowDetails, Gb, N)]
    #[case::contact_data_show_details_ls(CONTACT, ShowDetails, Ls, N)]
    #[case::contact_data_show_details_dv(CONTACT, ShowDetails, Dv, N)]
    #[case::contact_data_show_details_di(CONTACT, ShowDetails, Di, N)]
    #[case::contact_data_show_details_u(CONTACT, ShowDetails, U, N)]
    #[case::contact_data_show_full_g(CONTACT, ShowFull, G, N)]
    #[case::contact_data_show_full_gb(CONTACT, ShowFull, Gb, N)]
    #[case::contact_data_show_full_ls(CONTACT, ShowFull, Ls, N)]
    #[case::contact_data_show_full_dv(CONTACT, ShowFull, Dv, N)]
    #[case::contact_data_show_full_di(CONTACT, ShowFull, Di, N)]
    #[case::contact_data_show_full_u(CONTACT, ShowFull, U, N)]
    #[case::contact_data_update_g(CONTACT, Update, G, N)]
    #[case::contact_data_update_gb(CONTACT, Update, Gb, N)]
    #[case::contact_data_update_ls(CONTACT, Update, Ls, N)]
    #[case::contact_data_update_dv(CONTACT, Update, Dv, N)]
    #[case::contact_data_update_di(CONTACT, Update, Di, N)]
    #[case::contact_data_update_u(CONTACT, Update, U, N)]
    #[case::contact_data_update_email_g(CONTACT, UpdateEmail, G, N)]
    #[case::contact_data_update_email_gb(CONTACT, UpdateEmail, Gb, N)]
    #[case::contact_data_update_email_ls(CONTACT, UpdateEmail, Ls, N)]
    #[case::contact_data_update_email_dv(CONTACT, UpdateEmail, Dv, N)]
    #[case::contact_data_update_email_di(CONTACT, UpdateEmail, Di, N)]
    #[case::contact_data_update_email_u(CONTACT, UpdateEmail, U, N)]
    #[case::contact_data_create_g(CONTACT, Create, G, N)]
    #[case::contact_data_create_gb(CONTACT, Create, Gb, N)]
    #[case::contact_data_create_ls(CONTACT, Create, Ls, N)]
    #[case::contact_data_create_dv(CONTACT, Create, Dv, N)]
    #[case::contact_data_create_di(CONTACT, Create, Di, N)]
    #[case::contact_data_create_u(CONTACT, Create, U, N)]
    #[case::group_read_show_g(GROUP_READ, Show, G, Y)]
    #[case::group_read_show_gb(GROUP_READ, Show, Gb, N)]
    #[case::group_read_show_ls(GROUP_READ, Show, Ls, N)]
    #[case::group_read_show_dv(GROUP_READ, Show, Dv, N)]
    #[case::group_read_show_di(GROUP_READ, Show, Di, N)]
    #[case::group_read_show_u(GROUP_READ, Show, U, N)]
    #[case::group_read_show_details_g(GROUP_READ, ShowDetails, G, Y)]
    #[case::group_read_show_details_gb(GROUP_READ, ShowDetails, Gb, N)]
    #[case::group_read_show_details_ls(GROUP_READ, ShowDetails, Ls, N)]
    #[case::group_read_show_details_dv(GROUP_READ, ShowDetails, Dv, N)]
    #[case::group_read_show_details_di(GROUP_READ, ShowDetails, Di, N)]
    #[case::group_read_show_details_u(GROUP_READ, ShowDetails, U, N)]
    #[case::group_read_show_full_g(GROUP_READ, ShowFull, G, N)]
    #[case::group_read_show_full_gb(GROUP_READ, ShowFull, Gb, N)]
    #[case::group_read_show_full_ls(GROUP_READ, ShowFull, Ls, N)]
    #[case::group_read_show_full_dv(GROUP_READ, ShowFull, Dv, N)]
    #[case::group_read_show_full_di(GROUP_READ, ShowFull, Di, N)]
    #[case::group_read_show_full_u(GROUP_READ, ShowFull, U, N)]
    #[case::group_read_update_g(GROUP_READ, Update, G, N)]
    #[case::group_read_update_gb(GROUP_READ, Update, Gb, N)]
    #[case::group_read_update_ls(GROUP_READ, Update, Ls, N)]
    #[case::group_read_update_dv(GROUP_READ, Update, Dv, N)]
    #[case::group_read_update_di(GROUP_READ, Update, Di, N)]
    #[case::group_read_update_u(GROUP_READ, Update, U, N)]
    #[case::group_read_update_email_g(GROUP_READ, UpdateEmail, G, N)]
    #[case::group_read_update_email_gb(GROUP_READ, UpdateEmail, Gb, N)]
    #[case::group_read_update_email_ls(GROUP_READ, UpdateEmail, Ls, N)]
    #[case::group_read_update_email_dv(GROUP_READ, UpdateEmail, Dv, N)]
    #[case::group_read_update_email_di(GROUP_READ, UpdateEmail, Di, N)]
    #[case::group_read_update_email_u(GROUP_READ, UpdateEmail, U, N)]
    #[case::group_read_create_g(GROUP_READ, Create, G, N)]
    #[case::group_read_create_gb(GROUP_READ, Create, Gb, N)]
    #[case::group_read_create_ls(GROUP_READ, Create, Ls, N)]
    #[case::group_read_create_dv(GROUP_READ, Create, Dv, N)]
    #[case::group_read_create_di(GROUP_READ, Create, Di, N)]
    #[case::group_read_create_u(GROUP_READ, Create, U, N)]
    #[case::group_and_below_read_show_g(GROUP_BELOW_READ, Show, G, Y)]
    #[case::group_and_below_read_show_gb(GROUP_BELOW_READ, Show, Gb, Y)]
    #[case::group_and_below_read_show_ls(GROUP_BELOW_READ, Show, Ls, N)]
    #[case::group_and_below_read_show_dv(GROUP_BELOW_READ, Show, Dv, N)]
    #[case::group_and_below_read_show_di(GROUP_BELOW_READ, Show, Di, N)]
    #[case::group_and_below_read_show_u(GROUP_BELOW_READ, Show, U, N)]
    #[case::group_and_below_read_show_details_g(GROUP_BELOW_READ, ShowDetails, G, Y)]
    #[case::group_and_below_read_show_details_gb(GROUP_BELOW_READ, ShowDetails, Gb, Y)]
    #[case::group_and_below_read_show_details_ls(GROUP_BELOW_READ, ShowDetails, Ls, N)]
    #[case::group_and_below_read_show_details_dv(GROUP_BELOW_READ, ShowDetails, Dv, N)]
    #[case::group_and_below_read_show_details_di(GROUP_BELOW_READ, ShowDetails, Di, N)]
    #[case::group_and_below_read_show_details_u(GROUP_BELOW_READ, ShowDetails, U, N)]
    #[case::group_and_below_read_show_full_g(GROUP_BELOW_READ, ShowFull, G, N)]
    #[case::group_and_below_read_show_full_gb(GROUP_BELOW_READ, ShowFull, Gb, N)]
    #[case::group_and_below_read_show_full_ls(GROUP_BELOW_READ, ShowFull, Ls, N)]
    #[case::group_and_below_read_show_full_dv(GROUP_BELOW_READ, ShowFull, Dv, N)]
    #[case::group_and_below_read_show_full_di(GROUP_BELOW_READ, ShowFull, Di, N)]
    #[case::group_and_below_read_show_full_u(GROUP_BELOW_READ, ShowFull, U, N)]
    #[case::group_and_below_read_update_g(GROUP_BELOW_READ, Update, G, N)]
    #[case::group_and_below_read_update_gb(GROUP_BELOW_READ, Update, Gb, N)]
    #[case::group_and_below_read_update_ls(GROUP_BELOW_READ, Update, Ls, N)]
    #[case::group_and_below_read_update_dv(GROUP_BELOW_READ, Update, Dv, N)]
    #[case::group_and_below_read_update_di(GROUP_BELOW_READ, Update, Di, N)]
    #[case::group_and_below_read_update_u(GROUP_BELOW_READ, Update, U, N)]
    #[case::group_and_below_read_update_email_g(GROUP_BELOW_READ, UpdateEmail, G, N)]
    #[case::group_and_below_read_update_email_gb(GROUP_BELOW_READ, UpdateEmail, Gb, N)]
    #[case::group_and_below_read_update_email_ls(GROUP_BELOW_READ, UpdateEmail, Ls, N)]
    #[case::group_and_below_read_update_email_dv(GROUP_BELOW_READ, UpdateEmail, Dv, N)]
    #[case::group_and_below_read_update_email_di(GROUP_BELOW_READ, UpdateEmail, Di, N)]
    #[case::group_and_below_read_update_email_u(GROUP_BELOW_READ, UpdateEmail, U, N)]
    #[case::group_and_below_read_create_g(GROUP_BELOW_READ, Create, G, N)]
    #[case::group_and_below_read_create_gb(GROUP_BELOW_READ, Create, Gb, N)]
    #[case::group_and_below_read_create_ls(GROUP_BELOW_READ, Create, Ls, N)]
    #[case::group_and_below_read_create_dv(GROUP_BELOW_READ, Create, Dv, N)]
    #[case::group_and_below_read_create_di(GROUP_BELOW_READ, Create, Di, N)]
    #[case::group_and_below_read_create_u(GROUP_BELOW_READ, Create, U, N)]
    #[case::group_full_show_g(GROUP_FULL, Show, G, Y)]
    #[case::group_full_show_gb(GROUP_FULL, Show, Gb, N)]
    #[case::group_full_show_ls(GROUP_FULL, Show, Ls, N)]
    #[case::group_full_show_dv(GROUP_FULL, Show, Dv, N)]
    #[case::group_full_show_di(GROUP_FULL, Show, Di, N)]
    #[case::group_full_show_u(GROUP_FULL, Show, U, N)]
    #[case::group_full_show_details_g(GROUP_FULL, ShowDetails, G, Y)]
    #[case::group_full_show_details_gb(GROUP_FULL, ShowDetails, Gb, N)]
    #[case::group_full_show_details_ls(GROUP_FULL, ShowDetails, Ls, N)]
    #[case::group_full_show_details_dv(GROUP_FULL, ShowDetails, Dv, N)]
    #[case::group_full_show_details_di(GROUP_FULL, ShowDetails, Di, N)]
    #[case::group_full_show_details_u(GROUP_FULL, ShowDetails, U, N)]
    #[case::group_full_show_full_g(GROUP_FULL, ShowFull, G, Y)]
    #[case::group_full_show_full_gb(GROUP_FULL, ShowFull, Gb, N)]
    #[case::group_full_show_full_ls(GROUP_FULL, ShowFull, Ls, N)]
    #[case::group_full_show_full_dv(GROUP_FULL, ShowFull, Dv, N)]
    #[case::group_full_show_full_di(GROUP_FULL, ShowFull, Di, N)]
    #[case::group_full_show_full_u(GROUP_FULL, ShowFull, U, N)]
    #[case::group_full_update_g(GROUP_FULL, Update, G, Y)]
    #[case::group_full_update_gb(GROUP_FULL, Update, Gb, N)]
    #[case::group_full_update_ls(GROUP_FULL, Update, Ls, N)]
    #[case::group_full_update_dv(GROUP_FULL, Update, Dv, N)]
    #[case::group_full_update_di(GROUP_FULL, Update, Di, N)]
    #[case::group_full_update_u(GROUP_FULL, Update, U, N)]
    #[case::group_full_update_email_g(GROUP_FULL, UpdateEmail, G, Y)]
    #[case::group_full_update_email_gb(GROUP_FULL, UpdateEmail, Gb, N)]
    #[case::group_full_update_email_ls(GROUP_FULL, UpdateEmail, Ls, N)]
    #[case::group_full_update_email_dv(GROUP_FULL, UpdateEmail, Dv, N)]
    #[case::group_full_update_email_di(GROUP_FULL, UpdateEmail, Di, N)]
    #[case::group_full_update_email_u(GROUP_FULL, UpdateEmail, U, N)]
    #[case::group_full_create_g(GROUP_FULL, Create, G, Y)]
    #[case::group_full_create_gb(GROUP_FULL, Create, Gb, N)]
    #[case::group_full_create_ls(GROUP_FULL, Create, Ls, N)]
    #[case::group_full_create_dv(GROUP_FULL, Create, Dv, N)]
    #[case::group_full_create_di(GROUP_FULL, Create, Di, N)]
    #[case::group_full_create_u(GROUP_FULL, Create, U, N)]
    #[case::group_and_below_full_show_g(GROUP_BELOW_FULL, Show, G, Y)]
    #[case::group_and_below_full_show_gb(GROUP_BELOW_FULL, Show, Gb, Y)]
    #[case::group_and_below_full_show_ls(GROUP_BELOW_FULL, Show, Ls, N)]
    #[case::group_and_below_full_show_dv(GROUP_BELOW_FULL, Show, Dv, N)]
    #[case::group_and_below_full_show_di(GROUP_BELOW_FULL, Show, Di, N)]
    #[case::group_and_below_full_show_u(GROUP_BELOW_FULL, Show, U, N)]
    #[case::group_and_below_full_show_details_g(GROUP_BELOW_FULL, ShowDetails, G, Y)]
    #[case::group_and_below_full_show_details_gb(GROUP_BELOW_FULL, ShowDetails, Gb, Y)]
    #[case::group_and_below_full_show_details_ls(GROUP_BELOW_FULL, ShowDetails, Ls, N)]
    #[case::group_and_below_full_show_details_dv(GROUP_BELOW_FULL, ShowDetails, Dv, N)]
    #[case::group_and_below_full_show_details_di(GROUP_BELOW_FULL, ShowDetails, Di, N)]
    #[case::group_and_below_full_show_details_u(GROUP_BELOW_FULL, ShowDetails, U, N)]
    #[case::group_and_below_full_show_full_g(GROUP_BELOW_FULL, ShowFull, G, Y)]
    #[case::group_and_below_full_show_full_gb(GROUP_BELOW_FULL, ShowFull, Gb, Y)]
    #[case::group_and_below_full_show_full_ls(GROUP_BELOW_FULL, ShowFull, Ls, N)]
    #[case::group_and_below_full_show_full_dv(GROUP_BELOW_FULL, ShowFull, Dv, N)]
    #[case::group_and_below_full_show_full_di(GROUP_BELOW_FULL, ShowFull, Di, N)]
    #[case::group_and_below_full_show_full_u(GROUP_BELOW_FULL, ShowFull, U, N)]
    #[case::group_and_below_full_update_g(GROUP_BELOW_FULL, Update, G, Y)]
    #[case::group_and_below_full_update_gb(GROUP_BELOW_FULL, Update, Gb, Y)]
    #[case::group_and_below_full_update_ls(GROUP_BELOW_FULL, Update, Ls, N)]
    #[case::group_and_below_full_update_dv(GROUP_BELOW_FULL, Update, Dv, N)]
    #[case::group_and_below_full_update_di(GROUP_BELOW_FULL, Update, Di, N)]
    #[case::group_and_below_full_update_u(GROUP_BELOW_FULL, Update, U, N)]
    #[case::group_and_below_full_update_email_g(GROUP_BELOW_FULL, UpdateEmail, G, Y)]
    #[case::group_and_below_full_update_email_gb(GROUP_BELOW_FULL, UpdateEmail, Gb, Y)]
    #[case::group_and_below_full_update_email_ls(GROUP_BELOW_FULL, UpdateEmail, Ls, N)]
    #[case::group_and_below_full_update_email_dv(GROUP_BELOW_FULL, UpdateEmail, Dv, N)]
    #[case::group_and_below_full_update_email_di(GROUP_BELOW_FULL, UpdateEmail, Di, N)]
    #[case::group_and_below_full_update_email_u(GROUP_BELOW_FULL, UpdateEmail, U, N)]
    #[case::group_and_below_full_create_g(GROUP_BELOW_FULL, Create, G, Y)]
    #[case::group_and_below_full_create_gb(GROUP_BELOW_FULL, Create, Gb, Y)]
    #[case::group_and_below_full_create_ls(GROUP_BELOW_FULL, Create, Ls, N)]
    #[case::group_and_below_full_create_dv(GROUP_BELOW_FULL, Create, Dv, N)]
    #[case::group_and_below_full_create_di(GROUP_BELOW_FULL, Create, Di, N)]
    #[case::group_and_below_full_create_u(GROUP_BELOW_FULL, Create, U, N)]
    #[case::layer_read_show_g(LAYER_READ, Show, G, Y)]
    #[case::layer_read_show_gb(LAYER_READ, Show, Gb, Y)]
    #[case::layer_read_show_ls(LAYER_READ, Show, Ls, Y)]
    #[case::layer_read_show_dv(LAYER_READ, Show, Dv, N)]
    #[case::layer_read_show_di(LAYER_READ, Show, Di, N)]
    #[case::layer_read_show_u(LAYER_READ, Show, U, N)]
    #[case::layer_read_show_details_g(LAYER_READ, ShowDetails, G, Y)]
    #[case::layer_read_show_details_gb(LAYER_READ, ShowDetails, Gb, Y)]
    #[case::layer_read_show_details_ls(LAYER_READ, ShowDetails, Ls, Y)]
    #[case::layer_read_show_details_dv(LAYER_READ, ShowDetails, Dv, N)]
    #[case::layer_read_show_details_di(LAYER_READ, ShowDetails, Di, N)]
    #[case::layer_read_show_details_u(LAYER_READ, ShowDetails, U, N)]
    #[case::layer_read_show_full_g(LAYER_READ, ShowFull, G, Y)]
    #[case::layer_read_show_full_gb(LAYER_READ, ShowFull, Gb, Y)]
    #[case::layer_read_show_full_ls(LAYER_READ, ShowFull, Ls, Y)]
    #[case::layer_read_show_full_dv(LAYER_READ, ShowFull, Dv, N)]
    #[case::layer_read_show_full_di(LAYER_READ, ShowFull, Di, N)]
    #[case::layer_read_show_full_u(LAYER_READ, ShowFull, U, N)]
    #[case::layer_read_update_g(LAYER_READ, Update, G, N)]
    #[case::layer_read_update_gb(LAYER_READ, Update, Gb, N)]
    #[case::layer_read_update_ls(LAYER_READ, Update, Ls, N)]
    #[case::layer_read_update_dv(LAYER_READ, Update, Dv, N)]
    #[case::layer_read_update_di(LAYER_READ, Update, Di, N)]
    #[case::layer_read_update_u(LAYER_READ, Update, U, N)]
    #[case::layer_read_update_email_g(LAYER_READ, UpdateEmail, G, N)]
    #[case::layer_read_update_email_gb(LAYER_READ, UpdateEmail, Gb, N)]
    #[case::layer_read_update_email_ls(LAYER_READ, UpdateEmail, Ls, N)]
    #[case::layer_read_update_email_dv(LAYER_READ, UpdateEmail, Dv, N)]
    #[case::layer_read_update_email_di(LAYER_READ, UpdateEmail, Di, N)]
    #[case::layer_read_update_email_u(LAYER_READ, UpdateEmail, U, N)]
    #[case::layer_read_create_g(LAYER_READ, Create, G, N)]
    #[case::layer_read_create_gb(LAYER_READ, Create, Gb, N)]
    #[case::layer_read_create_ls(LAYER_READ, Create, Ls, N)]
    #[case::layer_read_create_dv(LAYER_READ, Create, Dv, N)]
    #[case::layer_read_create_di(LAYER_READ, Create, Di, N)]
    #[case::layer_read_create_u(LAYER_READ, Create, U, N)]
    #[case::layer_full_show_g(LAYER_FULL, Show, G, Y)]
    #[case::layer_full_show_gb(LAYER_FULL, Show, Gb, Y)]
    #[case::layer_full_show_ls(LAYER_FULL, Show, Ls, Y)]
    #[case::layer_full_show_dv(LAYER_FULL, Show, Dv, N)]
    #[case::layer_full_show_di(LAYER_FULL, Show, Di, N)]
    #[case::layer_full_show_u(LAYER_FULL, Show, U, N)]
    #[case::layer_full_show_details_g(LAYER_FULL, ShowDetails, G, Y)]
    #[case::layer_full_show_details_gb(LAYER_FULL, ShowDetails, Gb, Y)]
    #[case::layer_full_show_details_ls(LAYER_FULL, ShowDetails, Ls, Y)]
    #[case::layer_full_show_details_dv(LAYER_FULL, ShowDetails, Dv, N)]
    #[case::layer_full_show_details_di(LAYER_FULL, ShowDetails, Di, N)]
    #[case::layer_full_show_details_u(LAYER_FULL, ShowDetails, U, N)]
    #[case::layer_full_show_full_g(LAYER_FULL, ShowFull, G, Y)]
    #[case::layer_full_show_full_gb(LAYER_FULL, ShowFull, Gb, Y)]
    #[case::layer_full_show_full_ls(LAYER_FULL, ShowFull, Ls, Y)]
    #[case::layer_full_show_full_dv(LAYER_FULL, ShowFull, Dv, N)]
    #[case::layer_full_show_full_di(LAYER_FULL, ShowFull, Di, N)]
    #[case::layer_full_show_full_u(LAYER_FULL, ShowFull, U, N)]
    #[case::layer_full_update_g(LAYER_FULL, Update, G, Y)]
    #[case::layer_full_update_gb(LAYER_FULL, Update, Gb, Y)]
    #[case::layer_full_update_ls(LAYER_FULL, Update, Ls, Y)]
    #[case::layer_full_update_dv(LAYER_FULL, Update, Dv, N)]
    #[case::layer_full_update_di(LAYER_FULL, Update, Di, N)]
    #[case::layer_full_update_u(LAYER_FULL, Update, U, N)]
    #[case::layer_full_update_email_g(LAYER_FULL, UpdateEmail, G, Y)]
    #[case::layer_full_update_email_gb(LAYER_FULL, UpdateEmail, Gb, Y)]
    #[case::layer_full_update_email_ls(LAYER_FULL, UpdateEmail, Ls, Y)]
    #[case::layer_full_update_email_dv(LAYER_FULL, UpdateEmail, Dv, N)]
    #[case::layer_full_update_email_di(LAYER_FULL, UpdateEmail, Di, N)]
    #[case::layer_full_update_email_u(LAYER_FULL, UpdateEmail, U, N)]
    #[case::layer_full_create_g(LAYER_FULL, Create, G, Y)]
    #[case::layer_full_create_gb(LAYER_FULL, Create, Gb, Y)]
    #[case::layer_full_create_ls(LAYER_FULL, Create, Ls, Y)]
    #[case::layer_full_create_dv(LAYER_FULL, Create, Dv, N)]
    #[case::layer_full_create_di(LAYER_FULL, Create, Di, N)]
    #[case::layer_full_create_u(LAYER_FULL, Create, U, N)]
    #[case::layer_and_below_read_show_g(LAYER_BELOW_READ, Show, G, Y)]
    #[case::layer_and_below_read_show_gb(LAYER_BELOW_READ, Show, Gb, Y)]
    #[case::layer_and_below_read_show_ls(LAYER_BELOW_READ, Show, Ls, Y)]
    #[case::layer_and_below_read_show_dv(LAYER_BELOW_READ, Show, Dv, Y)]
    #[case::layer_and_below_read_show_di(LAYER_BELOW_READ, Show, Di, N)]
    #[case::layer_and_below_read_show_u(LAYER_BELOW_READ, Show, U, N)]
    #[case::layer_and_below_read_show_details_g(LAYER_BELOW_READ, ShowDetails, G, Y)]
    #[case::layer_and_below_read_show_details_gb(LAYER_BELOW_READ, ShowDetails, Gb, Y)]
    #[case::layer_and_below_read_show_details_ls(LAYER_BELOW_READ, ShowDetails, Ls, Y)]
    #[case::layer_and_below_read_show_details_dv(LAYER_BELOW_READ, ShowDetails, Dv, Y)]
    #[case::layer_and_below_read_show_details_di(LAYER_BELOW_READ, ShowDetails, Di, N)]
    #[case::layer_and_below_read_show_details_u(LAYER_BELOW_READ, ShowDetails, U, N)]
    #[case::layer_and_below_read_show_full_g(LAYER_BELOW_READ, ShowFull, G, Y)]
    #[case::layer_and_below_read_show_full_gb(LAYER_BELOW_READ, ShowFull, Gb, Y)]
    #[case::layer_and_below_read_show_full_ls(LAYER_BELOW_READ, ShowFull, Ls, Y)]
    #[case::layer_and_below_read_show_full_dv(LAYER_BELOW_READ, ShowFull, Dv, Y)]
    #[case::layer_and_below_read_show_full_di(LAYER_BELOW_READ, ShowFull, Di, N)]
    #[case::layer_and_below_read_show_full_u(LAYER_BELOW_READ, ShowFull, U, N)]
    #[case::layer_and_below_read_update_g(LAYER_BELOW_READ, Update, G, N)]
    #[case::layer_and_below_read_update_gb(LAYER_BELOW_READ, Update, Gb, N)]
    #[case::layer_and_below_read_update_ls(LAYER_BELOW_READ, Update, Ls, N)]
    #[case::layer_and_below_read_update_dv(LAYER_BELOW_READ, Update, Dv, N)]
    #[case::layer_and_below_read_update_di(LAYER_BELOW_READ, Update, Di, N)]
    #[case::layer_and_below_read_update_u(LAYER_BELOW_READ, Update, U, N)]
    #[case::layer_and_below_read_update_email_g(LAYER_BELOW_READ, UpdateEmail, G, N)]
    #[case::layer_and_below_read_update_email_gb(LAYER_BELOW_READ, UpdateEmail, Gb, N)]
    #[case::layer_and_below_read_update_email_ls(LAYER_BELOW_READ, UpdateEmail, Ls, N)]
    #[case::layer_and_below_read_update_email_dv(LAYER_BELOW_READ, UpdateEmail, Dv, N)]
    #[case::layer_and_below_read_update_email_di(LAYER_BELOW_READ, UpdateEmail, Di, N)]
    #[case::layer_and_below_read_update_email_u(LAYER_BELOW_READ, UpdateEmail, U, N)]
    #[case::layer_and_below_read_create_g(LAYER_BELOW_READ, Create, G, N)]
    #[case::layer_and_below_read_create_gb(LAYER_BELOW_READ, Create, Gb, N)]
    #[case::layer_and_below_read_create_ls(LAYER_BELOW_READ, Create, Ls, N)]
    #[case::layer_and_below_read_create_dv(LAYER_BELOW_READ, Create, Dv, N)]
    #[case::layer_and_below_read_create_di(LAYER_BELOW_READ, Create, Di, N)]
    #[case::layer_and_below_read_create_u(LAYER_BELOW_READ, Create, U, N)]
    #[case::layer_and_below_full_show_g(LAYER_BELOW_FULL, Show, G, Y)]
    #[case::layer_and_below_full_show_gb(LAYER_BELOW_FULL, Show, Gb, Y)]
    #[case::layer_and_below_full_show_ls(LAYER_BELOW_FULL, Show, Ls, Y)]
    #[case::layer_and_below_full_show_dv(LAYER_BELOW_FULL, Show, Dv, Y)]
    #[case::layer_and_below_full_show_di(LAYER_BELOW_FULL, Show, Di, N)]
    #[case::layer_and_below_full_show_u(LAYER_BELOW_FULL, Show, U, N)]
    #[case::layer_and_below_full_show_details_g(LAYER_BELOW_FULL, ShowDetails, G, Y)]
    #[case::layer_and_below_full_show_details_gb(LAYER_BELOW_FULL, ShowDetails, Gb, Y)]
    #[case::layer_and_below_full_show_details_ls(LAYER_BELOW_FULL, ShowDetails, Ls, Y)]
    #[case::layer_and_below_full_show_details_dv(LAYER_BELOW_FULL, ShowDetails, Dv, Y)]
    #[case::layer_and_below_full_show_details_di(LAYER_BELOW_FULL, ShowDetails, Di, N)]
    #[case::layer_and_below_full_show_details_u(LAYER_BELOW_FULL, ShowDetails, U, N)]
    #[case::layer_and_below_full_show_full_g(LAYER_BELOW_FULL, ShowFull, G, Y)]
    #[case::layer_and_below_full_show_full_gb(LAYER_BELOW_FULL, ShowFull, Gb, Y)]
    #[case::layer_and_below_full_show_full_ls(LAYER_BELOW_FULL, ShowFull, Ls, Y)]
    #[case::layer_and_below_full_show_full_dv(LAYER_BELOW_FULL, ShowFull, Dv, Y)]
    #[case::layer_and_below_full_show_full_di(LAYER_BELOW_FULL, ShowFull, Di, N)]
    #[case::layer_and_below_full_show_full_u(LAYER_BELOW_FULL, ShowFull, U, N)]
    #[case::layer_and_below_full_update_g(LAYER_BELOW_FULL, Update, G, Y)]
    #[case::layer_and_below_full_update_gb(LAYER_BELOW_FULL, Update, Gb, Y)]
    #[case::layer_and_below_full_update_ls(LAYER_BELOW_FULL, Update, Ls, Y)]
    #[case::layer_and_below_full_update_dv(LAYER_BELOW_FULL, Update, Dv, Y)]
    #[case::layer_and_below_full_update_di(LAYER_BELOW_FULL, Update, Di, N)]
    #[case::layer_and_below_full_update_u(LAYER_BELOW_FULL, Update, U, N)]
    #[case::layer_and_below_full_update_email_g(LAYER_BELOW_FULL, UpdateEmail, G, Y)]
    #[case::layer_and_below_full_update_email_gb(LAYER_BELOW_FULL, UpdateEmail, Gb, Y)]
    #[case::layer_and_below_full_update_email_ls(LAYER_BELOW_FULL, UpdateEmail, Ls, Y)]
    #[case::layer_and_below_full_update_email_dv(LAYER_BELOW_FULL, UpdateEmail, Dv, Y)]
    #[case::layer_and_below_full_update_email_di(LAYER_BELOW_FULL, UpdateEmail, Di, Y)]
    #[case::layer_and_below_full_update_email_u(LAYER_BELOW_FULL, UpdateEmail, U, N)]
    #[case::layer_and_below_full_create_g(LAYER_BELOW_FULL, Create, G, Y)]
    #[case::layer_and_below_full_create_gb(LAYER_BELOW_FULL, Create, Gb, Y)]
    #[case::layer_and_below_full_create_ls(LAYER_BELOW_FULL, Create, Ls, Y)]
    #[case::layer_and_below_full_create_dv(LAYER_BELOW_FULL, Create, Dv, Y)]
    #[case::layer_and_below_full_create_di(LAYER_BELOW_FULL, Create, Di, N)]
    #[case::layer_and_below_full_create_u(LAYER_BELOW_FULL, Create, U, N)]
    #[case::see_invisible_from_above_show_g(SEE_INVISIBLE, Show, G, Y)]
    #[case::see_invisible_from_above_show_gb(SEE_INVISIBLE, Show, Gb, Y)]
    #[case::see_invisible_from_above_show_ls(SEE_INVISIBLE, Show, Ls, Y)]
    #[case::see_invisible_from_above_show_dv(SEE_INVISIBLE, Show, Dv, Y)]
    #[case::see_invisible_from_above_show_di(SEE_INVISIBLE, Show, Di, Y)]
    #[case::see_invisible_from_above_show_u(SEE_INVISIBLE, Show, U, N)]
    #[case::see_invisible_from_above_show_details_g(SEE_INVISIBLE, ShowDetails, G, Y)]
    #[case::see_invisible_from_above_show_details_gb(SEE_INVISIBLE, ShowDetails, Gb, Y)]
    #[case::see_invisible_from_above_show_details_ls(SEE_INVISIBLE, ShowDetails, Ls, Y)]
    #[case::see_invisible_from_above_show_details_dv(SEE_INVISIBLE, ShowDetails, Dv, Y)]
    #[case::see_invisible_from_above_show_details_di(SEE_INVISIBLE, ShowDetails, Di, Y)]
    #[case::see_invisible_from_above_show_details_u(SEE_INVISIBLE, ShowDetails, U, N)]
    #[case::see_invisible_from_above_show_full_g(SEE_INVISIBLE, ShowFull, G, Y)]
    #[case::see_invisible_from_above_show_full_gb(SEE_INVISIBLE, ShowFull, Gb, Y)]
    #[case::see_invisible_from_above_show_full_ls(SEE_INVISIBLE, ShowFull, Ls, Y)]
    #[case::see_invisible_from_above_show_full_dv(SEE_INVISIBLE, ShowFull, Dv, Y)]
    #[case::see_invisible_from_above_show_full_di(SEE_INVISIBLE, ShowFull, Di, Y)]
    #[case::see_invisible_from_above_show_full_u(SEE_INVISIBLE, ShowFull, U, N)]
    #[case::see_invisible_from_above_update_g(SEE_INVISIBLE, Update, G, N)]
    #[case::see_invisible_from_above_update_gb(SEE_INVISIBLE, Update, Gb, N)]
    #[case::see_invisible_from_above_update_ls(SEE_INVISIBLE, Update, Ls, N)]
    #[case::see_invisible_from_above_update_dv(SEE_INVISIBLE, Update, Dv, N)]
    #[case::see_invisible_from_above_update_di(SEE_INVISIBLE, Update, Di, N)]
    #[case::see_invisible_from_above_update_u(SEE_INVISIBLE, Update, U, N)]
    #[case::see_invisible_from_above_update_email_g(SEE_INVISIBLE, UpdateEmail, G, N)]
    #[case::see_invisible_from_above_update_email_gb(SEE_INVISIBLE, UpdateEmail, Gb, N)]
    #[case::see_invisible_from_above_update_email_ls(SEE_INVISIBLE, UpdateEmail, Ls, N)]
    #[case::see_invisible_from_above_update_email_dv(SEE_INVISIBLE, UpdateEmail, Dv, N)]
    #[case::see_invisible_from_above_update_email_di(SEE_INVISIBLE, UpdateEmail, Di, N)]
    #[case::see_invisible_from_above_update_email_u(SEE_INVISIBLE, UpdateEmail, U, N)]
    #[case::see_invisible_from_above_create_g(SEE_INVISIBLE, Create, G, N)]
    #[case::see_invisible_from_above_create_gb(SEE_INVISIBLE, Create, Gb, N)]
    #[case::see_invisible_from_above_create_ls(SEE_INVISIBLE, Create, Ls, N)]
    #[case::see_invisible_from_above_create_dv(SEE_INVISIBLE, Create, Dv, N)]
    #[case::see_invisible_from_above_create_di(SEE_INVISIBLE, Create, Di, N)]
    #[case::see_invisible_from_above_create_u(SEE_INVISIBLE, Create, U, N)]
    fn cell(#[case] holder: &str, #[case] col: Col, #[case] pos: Pos, #[case] expect: Expect) {
        let actor = actor_with(holder, TEAM_G);
        let roles = [active_role(1, SUBJECT, pos.group(), pos.role_type())];
        let action = match col {
            Show => PersonAction::Show,
            ShowDetails => PersonAction::ShowDetails,
            ShowFull => PersonAction::ShowFull,
            Update => PersonAction::Update,
            UpdateEmail => PersonAction::UpdateEmail,
            Create => {
                let d = may_create_role(&actor, g(pos.group()), rt(pos.role_type()), tree());
                return check(&d, expect);
            }
        };
        check(&person(&actor, action, &subject(&roles)), expect);
    }
}

// --------------------------------------------------------- the group table

/// Table 4.3, group actions: one case per permission column, action row and
/// target position. "Create child group" is asked for a non-layer child
/// (`CreateChild`) and for a layer (`CreateLayer`) below the target.
mod group_table {
    use super::Expect::*;
    use super::Pos::*;
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum Act {
        Show,
        ShowDetails,
        IndexPeople,
        IndexLocalPeople,
        IndexFullPeople,
        IndexDeepFullPeople,
        Update,
        CreateChild,
        CreateLayer,
        Destroy,
        Archive,
        Reactivate,
        Log,
    }
    use Act::{
        Archive, CreateChild, CreateLayer, Destroy, IndexDeepFullPeople, IndexFullPeople,
        IndexLocalPeople, IndexPeople, Log, Reactivate, Show, ShowDetails, Update,
    };

    #[rstest]
    #[case::group_read_show_g(GROUP_READ, Show, G, Any)]
    #[case::group_read_show_gb(GROUP_READ, Show, Gb, Any)]
    #[case::group_read_show_ls(GROUP_READ, Show, Ls, Any)]
    #[case::group_read_show_d(GROUP_READ, Show, D, Any)]
    #[case::group_read_show_u(GROUP_READ, Show, U, Any)]
    #[case::group_read_show_details_g(GROUP_READ, ShowDetails, G, Y)]
    #[case::group_read_show_details_gb(GROUP_READ, ShowDetails, Gb, N)]
    #[case::group_read_show_details_ls(GROUP_READ, ShowDetails, Ls, N)]
    #[case::group_read_show_details_d(GROUP_READ, ShowDetails, D, N)]
    #[case::group_read_show_details_u(GROUP_READ, ShowDetails, U, N)]
    #[case::group_read_index_people_g(GROUP_READ, IndexPeople, G, Y)]
    #[case::group_read_index_people_gb(GROUP_READ, IndexPeople, Gb, N)]
    #[case::group_read_index_people_ls(GROUP_READ, IndexPeople, Ls, N)]
    #[case::group_read_index_people_d(GROUP_READ, IndexPeople, D, N)]
    #[case::group_read_index_people_u(GROUP_READ, IndexPeople, U, N)]
    #[case::group_read_index_local_people_g(GROUP_READ, IndexLocalPeople, G, Y)]
    #[case::group_read_index_local_people_gb(GROUP_READ, IndexLocalPeople, Gb, N)]
    #[case::group_read_index_local_people_ls(GROUP_READ, IndexLocalPeople, Ls, N)]
    #[case::group_read_index_local_people_d(GROUP_READ, IndexLocalPeople, D, N)]
    #[case::group_read_index_local_people_u(GROUP_READ, IndexLocalPeople, U, N)]
    #[case::group_read_index_full_people_g(GROUP_READ, IndexFullPeople, G, N)]
    #[case::group_read_index_full_people_gb(GROUP_READ, IndexFullPeople, Gb, N)]
    #[case::group_read_index_full_people_ls(GROUP_READ, IndexFullPeople, Ls, N)]
    #[case::group_read_index_full_people_d(GROUP_READ, IndexFullPeople, D, N)]
    #[case::group_read_index_full_people_u(GROUP_READ, IndexFullPeople, U, N)]
    #[case::group_read_index_deep_full_g(GROUP_READ, IndexDeepFullPeople, G, N)]
    #[case::group_read_index_deep_full_gb(GROUP_READ, IndexDeepFullPeople, Gb, N)]
    #[case::group_read_index_deep_full_ls(GROUP_READ, IndexDeepFullPeople, Ls, N)]
    #[case::group_read_index_deep_full_d(GROUP_READ, IndexDeepFullPeople, D, N)]
    #[case::group_read_index_deep_full_u(GROUP_READ, IndexDeepFullPeople, U, N)]
    #[case::group_read_update_g(GROUP_READ, Update, G, N)]
    #[case::group_read_update_gb(GROUP_READ, Update, Gb, N)]
    #[case::group_read_update_ls(GROUP_READ, Update, Ls, N)]
    #[case::group_read_update_d(GROUP_READ, Update, D, N)]
    #[case::group_read_update_u(GROUP_READ, Update, U, N)]
    #[case::group_read_create_child_g(GROUP_READ, CreateChild, G, N)]
    #[case::group_read_create_child_gb(GROUP_READ, CreateChild, Gb, N)]
    #[case::group_read_create_child_ls(GROUP_READ, CreateChild, Ls, N)]
    #[case::group_read_create_child_d(GROUP_READ, CreateChild, D, N)]
    #[case::group_read_create_child_u(GROUP_READ, CreateChild, U, N)]
    #[case::group_read_create_layer_g(GROUP_READ, CreateLayer, G, N)]
    #[case::group_read_create_layer_gb(GROUP_READ, CreateLayer, Gb, N)]
    #[case::group_read_create_layer_ls(GROUP_READ, CreateLayer, Ls, N)]
    #[case::group_read_create_layer_d(GROUP_READ, CreateLayer, D, N)]
    #[case::group_read_create_layer_u(GROUP_READ, CreateLayer, U, N)]
    #[case::group_read_destroy_g(GROUP_READ, Destroy, G, N)]
    #[case::group_read_destroy_gb(GROUP_READ, Destroy, Gb, N)]
    #[case::group_read_destroy_ls(GROUP_READ, Destroy, Ls, N)]
    #[case::group_read_destroy_d(GROUP_READ, Destroy, D, N)]
    #[case::group_read_destroy_u(GROUP_READ, Destroy, U, N)]
    #[case::group_read_archive_g(GROUP_READ, Archive, G, N)]
    #[case::group_read_archive_gb(GROUP_READ, Archive, Gb, N)]
    #[case::group_read_archive_ls(GROUP_READ, Archive, Ls, N)]
    #[case::group_read_archive_d(GROUP_READ, Archive, D, N)]
    #[case::group_read_archive_u(GROUP_READ, Archive, U, N)]
    #[case::group_read_reactivate_g(GROUP_READ, Reactivate, G, N)]
    #[case::group_read_reactivate_gb(GROUP_READ, Reactivate, Gb, N)]
    #[case::group_read_reactivate_ls(GROUP_READ, Reactivate, Ls, N)]
    #[case::group_read_reactivate_d(GROUP_READ, Reactivate, D, N)]
    #[case::group_read_reactivate_u(GROUP_READ, Reactivate, U, N)]
    #[case::group_read_log_g(GROUP_READ, Log, G, N)]
    #[case::group_read_log_gb(GROUP_READ, Log, Gb, N)]
    #[case::group_read_log_ls(GROUP_READ, Log, Ls, N)]
    #[case::group_read_log_d(GROUP_READ, Log, D, N)]
    #[case::group_read_log_u(GROUP_READ, Log, U, N)]
    #[case::group_and_below_read_show_g(GROUP_BELOW_READ, Show, G, Any)]
    #[case::group_and_below_read_show_gb(GROUP_BELOW_READ, Show, Gb, Any)]
    #[case::group_and_below_read_show_ls(GROUP_BELOW_READ, Show, Ls, Any)]
    #[case::group_and_below_read_show_d(GROUP_BELOW_READ, Show, D, Any)]
    #[case::group_and_below_read_show_u(GROUP_BELOW_READ, Show, U, Any)]
    #[case::group_and_below_read_show_details_g(GROUP_BELOW_READ, ShowDetails, G, Y)]
    #[case::group_and_below_read_show_details_gb(GROUP_BELOW_READ, ShowDetails, Gb, Y)]
    #[case::group_and_below_read_show_details_ls(GROUP_BELOW_READ, ShowDetails, Ls, N)]
    #[case::group_and_below_read_show_details_d(GROUP_BELOW_READ, ShowDetails, D, N)]
    #[case::group_and_below_read_show_details_u(GROUP_BELOW_READ, ShowDetails, U, N)]
    #[case::group_and_below_read_index_people_g(GROUP_BELOW_READ, IndexPeople, G, Y)]
    #[case::group_and_below_read_index_people_gb(GROUP_BELOW_READ, IndexPeople, Gb, Y)]
    #[case::group_and_below_read_index_people_ls(GROUP_BELOW_READ, IndexPeople, Ls, N)]
    #[case::group_and_below_read_index_people_d(GROUP_BELOW_READ, IndexPeople, D, N)]
    #[case::group_and_below_read_index_people_u(GROUP_BELOW_READ, IndexPeople, U, N)]
    #[case::group_and_below_read_index_local_people_g(GROUP_BELOW_READ, IndexLocalPeople, G, Y)]
    #[case::group_and_below_read_index_local_people_gb(GROUP_BELOW_READ, IndexLocalPeople, Gb, Y)]
    #[case::group_and_below_read_index_local_people_ls(GROUP_BELOW_READ, IndexLocalPeople, Ls, N)]
    #[case::group_and_below_read_index_local_people_d(GROUP_BELOW_READ, IndexLocalPeople, D, N)]
    #[case::group_and_below_read_index_local_people_u(GROUP_BELOW_READ, IndexLocalPeople, U, N)]
    #[case::group_and_below_read_index_full_people_g(GROUP_BELOW_READ, IndexFullPeople, G, N)]
    #[case::group_and_below_read_index_full_people_gb(GROUP_BELOW_READ, IndexFullPeople, Gb, N)]
    #[case::group_and_below_read_index_full_people_ls(GROUP_BELOW_READ, IndexFullPeople, Ls, N)]
    #[case::group_and_below_read_index_full_people_d(GROUP_BELOW_READ, IndexFullPeople, D, N)]
    #[case::group_and_below_read_index_full_people_u(GROUP_BELOW_READ, IndexFullPeople, U, N)]
    #[case::group_and_below_read_index_deep_full_g(GROUP_BELOW_READ, IndexDeepFullPeople, G, N)]
    #[case::group_and_below_read_index_deep_full_gb(GROUP_BELOW_READ, IndexDeepFullPeople, Gb, N)]
    #[case::group_and_below_read_index_deep_full_ls(GROUP_BELOW_READ, IndexDeepFullPeople, Ls, N)]
    #[case::group_and_below_read_index_deep_full_d(GROUP_BELOW_READ, IndexDeepFullPeople, D, N)]
    #[case::group_and_below_read_index_deep_full_u(GROUP_BELOW_READ, IndexDeepFullPeople, U, N)]
    #[case::group_and_below_read_update_g(GROUP_BELOW_READ, Update, G, N)]
    #[case::group_and_below_read_update_gb(GROUP_BELOW_READ, Update, Gb, N)]
    #[case::group_and_below_read_update_ls(GROUP_BELOW_READ, Update, Ls, N)]
    #[case::group_and_below_read_update_d(GROUP_BELOW_READ, Update, D, N)]
    #[case::group_and_below_read_update_u(GROUP_BELOW_READ, Update, U, N)]
    #[case::group_and_below_read_create_child_g(GROUP_BELOW_READ, CreateChild, G, N)]
    #[case::group_and_below_read_create_child_gb(GROUP_BELOW_READ, CreateChild, Gb, N)]
    #[case::group_and_below_read_create_child_ls(GROUP_BELOW_READ, CreateChild, Ls, N)]
    #[case::group_and_below_read_create_child_d(GROUP_BELOW_READ, CreateChild, D, N)]
    #[case::group_and_below_read_create_child_u(GROUP_BELOW_READ, CreateChild, U, N)]
    #[case::group_and_below_read_create_layer_g(GROUP_BELOW_READ, CreateLayer, G, N)]
    #[case::group_and_below_read_create_layer_gb(GROUP_BELOW_READ, CreateLayer, Gb, N)]
    #[case::group_and_below_read_create_layer_ls(GROUP_BELOW_READ, CreateLayer, Ls, N)]
    #[case::group_and_below_read_create_layer_d(GROUP_BELOW_READ, CreateLayer, D, N)]
    #[case::group_and_below_read_create_layer_u(GROUP_BELOW_READ, CreateLayer, U, N)]
    #[case::group_and_below_read_destroy_g(GROUP_BELOW_READ, Destroy, G, N)]
    #[case::group_and_below_read_destroy_gb(GROUP_BELOW_READ, Destroy, Gb, N)]
    #[case::group_and_below_read_destroy_ls(GROUP_BELOW_READ, Destroy, Ls, N)]
    #[case::group_and_below_read_destroy_d(GROUP_BELOW_READ, Destroy, D, N)]
    #[case::group_and_below_read_destroy_u(GROUP_BELOW_READ, Destroy, U, N)]
    #[case::group_and_below_read_archive_g(GROUP_BELOW_READ, Archive, G, N)]
    #[case::group_and_below_read_archive_gb(GROUP_BELOW_READ, Archive, Gb, N)]
    #[case::group_and_below_read_archive_ls(GROUP_BELOW_READ, Archive, Ls, N)]
    #[case::group_and_below_read_archive_d(GROUP_BELOW_READ, Archive, D, N)]
    #[case::group_and_below_read_archive_u(GROUP_BELOW_READ, Archive, U, N)]
    #[case::group_and_below_read_reactivate_g(GROUP_BELOW_READ, Reactivate, G, N)]
    #[case::group_and_below_read_reactivate_gb(GROUP_BELOW_READ, Reactivate, Gb, N)]
    #[case::group_and_below_read_reactivate_ls(GROUP_BELOW_READ, Reactivate, Ls, N)]
    #[case::group_and_below_read_reactivate_d(GROUP_BELOW_READ, Reactivate, D, N)]
    #[case::group_and_below_read_reactivate_u(GROUP_BELOW_READ, Reactivate, U, N)]
    #[case::group_and_below_read_log_g(GROUP_BELOW_READ, Log, G, N)]
    #[case::group_and_below_read_log_gb(GROUP_BELOW_READ, Log, Gb, N)]
    #[case::group_and_below_read_log_ls(GROUP_BELOW_READ, Log, Ls, N)]
    #[case::group_and_below_read_log_d(GROUP_BELOW_READ, Log, D, N)]
    #[case::group_and_below_read_log_u(GROUP_BELOW_READ, Log, U, N)]
    #[case::group_full_show_g(GROUP_FULL, Show, G, Any)]
    #[case::group_full_show_gb(GROUP_FULL, Show, Gb, Any)]
    #[case::group_full_show_ls(GROUP_FULL, Show, Ls, Any)]
    #[case::group_full_show_d(GROUP_FULL, Show, D, Any)]
    #[case::group_full_show_u(GROUP_FULL, Show, U, Any)]
    #[case::group_full_show_details_g(GROUP_FULL, ShowDetails, G, Y)]
    #[case::group_full_show_details_gb(GROUP_FULL, ShowDetails, Gb, N)]
    #[case::group_full_show_details_ls(GROUP_FULL, ShowDetails, Ls, N)]
    #[case::group_full_show_details_d(GROUP_FULL, ShowDetails, D, N)]
    #[case::group_full_show_details_u(GROUP_FULL, ShowDetails, U, N)]
    #[case::group_full_index_people_g(GROUP_FULL, IndexPeople, G, Y)]
    #[case::group_full_index_people_gb(GROUP_FULL, IndexPeople, Gb, N)]
    #[case::group_full_index_people_ls(GROUP_FULL, IndexPeople, Ls, N)]
    #[case::group_full_index_people_d(GROUP_FULL, IndexPeople, D, N)]
    #[case::group_full_index_people_u(GROUP_FULL, IndexPeople, U, N)]
    #[case::group_full_index_local_people_g(GROUP_FULL, IndexLocalPeople, G, Y)]
    #[case::group_full_index_local_people_gb(GROUP_FULL, IndexLocalPeople, Gb, N)]
    #[case::group_full_index_local_people_ls(GROUP_FULL, IndexLocalPeople, Ls, N)]
    #[case::group_full_index_local_people_d(GROUP_FULL, IndexLocalPeople, D, N)]
    #[case::group_full_index_local_people_u(GROUP_FULL, IndexLocalPeople, U, N)]
    #[case::group_full_index_full_people_g(GROUP_FULL, IndexFullPeople, G, Y)]
    #[case::group_full_index_full_people_gb(GROUP_FULL, IndexFullPeople, Gb, N)]
    #[case::group_full_index_full_people_ls(GROUP_FULL, IndexFullPeople, Ls, N)]
    #[case::group_full_index_full_people_d(GROUP_FULL, IndexFullPeople, D, N)]
    #[case::group_full_index_full_people_u(GROUP_FULL, IndexFullPeople, U, N)]
    #[case::group_full_index_deep_full_g(GROUP_FULL, IndexDeepFullPeople, G, N)]
    #[case::group_full_index_deep_full_gb(GROUP_FULL, IndexDeepFullPeople, Gb, N)]
    #[case::group_full_index_deep_full_ls(GROUP_FULL, IndexDeepFullPeople, Ls, N)]
    #[case::group_full_index_deep_full_d(GROUP_FULL, IndexDeepFullPeople, D, N)]
    #[case::group_full_index_deep_full_u(GROUP_FULL, IndexDeepFullPeople, U, N)]
    #[case::group_full_update_g(GROUP_FULL, Update, G, Y)]
    #[case::group_full_update_gb(GROUP_FULL, Update, Gb, N)]
    #[case::group_full_update_ls(GROUP_FULL, Update, Ls, N)]
    #[case::group_full_update_d(GROUP_FULL, Update, D, N)]
    #[case::group_full_update_u(GROUP_FULL, Update, U, N)]
    #[case::group_full_create_child_g(GROUP_FULL, CreateChild, G, N)]
    #[case::group_full_create_child_gb(GROUP_FULL, CreateChild, Gb, N)]
    #[case::group_full_create_child_ls(GROUP_FULL, CreateChild, Ls, N)]
    #[case::group_full_create_child_d(GROUP_FULL, CreateChild, D, N)]
    #[case::group_full_create_child_u(GROUP_FULL, CreateChild, U, N)]
    #[case::group_full_create_layer_g(GROUP_FULL, CreateLayer, G, N)]
    #[case::group_full_create_layer_gb(GROUP_FULL, CreateLayer, Gb, N)]
    #[case::group_full_create_layer_ls(GROUP_FULL, CreateLayer, Ls, N)]
    #[case::group_full_create_layer_d(GROUP_FULL, CreateLayer, D, N)]
    #[case::group_full_create_layer_u(GROUP_FULL, CreateLayer, U, N)]
    #[case::group_full_destroy_g(GROUP_FULL, Destroy, G, N)]
    #[case::group_full_destroy_gb(GROUP_FULL, Destroy, Gb, N)]
    #[case::group_full_destroy_ls(GROUP_FULL, Destroy, Ls, N)]
    #[case::group_full_destroy_d(GROUP_FULL, Destroy, D, N)]
    #[case::group_full_destroy_u(GROUP_FULL, Destroy, U, N)]
    #[case::group_full_archive_g(GROUP_FULL, Archive, G, N)]
    #[case::group_full_archive_gb(GROUP_FULL, Archive, Gb, N)]
    #[case::group_full_archive_ls(GROUP_FULL, Archive, Ls, N)]
    #[case::group_full_archive_d(GROUP_FULL, Archive, D, N)]
    #[case::group_full_archive_u(GROUP_FULL, Archive, U, N)]
    #[case::group_full_reactivate_g(GROUP_FULL, Reactivate, G, Y)]
    #[case::group_full_reactivate_gb(GROUP_FULL, Reactivate, Gb, N)]
    #[case::group_full_reactivate_ls(GROUP_FULL, Reactivate, Ls, N)]
    #[case::group_full_reactivate_d(GROUP_FULL, Reactivate, D, N)]
    #[case::group_full_reactivate_u(GROUP_FULL, Reactivate, U, N)]
    #[case::group_full_log_g(GROUP_FULL, Log, G, Y)]
    #[case::group_full_log_gb(GROUP_FULL, Log, Gb, N)]
    #[case::group_full_log_ls(GROUP_FULL, Log, Ls, N)]
    #[case::group_full_log_d(GROUP_FULL, Log, D, N)]
    #[case::group_full_log_u(GROUP_FULL, Log, U, N)]
    #[case::group_and_below_full_show_g(GROUP_BELOW_FULL, Show, G, Any)]
    #[case::group_and_below_full_show_gb(GROUP_BELOW_FULL, Show, Gb, Any)]
    #[case::group_and_below_full_show_ls(GROUP_BELOW_FULL, Show, Ls, Any)]
    #[case::group_and_below_full_show_d(GROUP_BELOW_FULL, Show, D, Any)]
    #[case::group_and_below_full_show_u(GROUP_BELOW_FULL, Show, U, Any)]
    #[case::group_and_below_full_show_details_g(GROUP_BELOW_FULL, ShowDetails, G, Y)]
    #[case::group_and_below_full_show_details_gb(GROUP_BELOW_FULL, ShowDetails, Gb, Y)]
    #[case::group_and_below_full_show_details_ls(GROUP_BELOW_FULL, ShowDetails, Ls, N)]
    #[case::group_and_below_full_show_details_d(GROUP_BELOW_FULL, ShowDetails, D, N)]
    #[case::group_and_below_full_show_details_u(GROUP_BELOW_FULL, ShowDetails, U, N)]
    #[case::group_and_below_full_index_people_g(GROUP_BELOW_FULL, IndexPeople, G, Y)]
    #[case::group_and_below_full_index_people_gb(GROUP_BELOW_FULL, IndexPeople, Gb, Y)]
    #[case::group_and_below_full_index_people_ls(GROUP_BELOW_FULL, IndexPeople, Ls, N)]
    #[case::group_and_below_full_index_people_d(GROUP_BELOW_FULL, IndexPeople, D, N)]
    #[case::group_and_below_full_index_people_u(GROUP_BELOW_FULL, IndexPeople, U, N)]
    #[case::group_and_below_full_index_local_people_g(GROUP_BELOW_FULL, IndexLocalPeople, G, Y)]
    #[case::group_and_below_full_index_local_people_gb(GROUP_BELOW_FULL, IndexLocalPeople, Gb, Y)]
    #[case::group_and_below_full_index_local_people_ls(GROUP_BELOW_FULL, IndexLocalPeople, Ls, N)]
    #[case::group_and_below_full_index_local_people_d(GROUP_BELOW_FULL, IndexLocalPeople, D, N)]
    #[case::group_and_below_full_index_local_people_u(GROUP_BELOW_FULL, IndexLocalPeople, U, N)]
    #[case::group_and_below_full_index_full_people_g(GROUP_BELOW_FULL, IndexFullPeople, G, Y)]
    #[case::group_and_below_full_index_full_people_gb(GROUP_BELOW_FULL, IndexFullPeople, Gb, Y)]
    #[case::group_and_below_full_index_full_people_ls(GROUP_BELOW_FULL, IndexFullPeople, Ls, N)]
    #[case::group_and_below_full_index_full_people_d(GROUP_BELOW_FULL, IndexFullPeople, D, N)]
    #[case::group_and_below_full_index_full_people_u(GROUP_BELOW_FULL, IndexFullPeople, U, N)]
    #[case::group_and_below_full_index_deep_full_g(GROUP_BELOW_FULL, IndexDeepFullPeople, G, N)]
    #[case::group_and_below_full_index_deep_full_gb(GROUP_BELOW_FULL, IndexDeepFullPeople, Gb, N)]
    #[case::group_and_below_full_index_deep_full_ls(GROUP_BELOW_FULL, IndexDeepFullPeople, Ls, N)]
    #[case::group_and_below_full_index_deep_full_d(GROUP_BELOW_FULL, IndexDeepFullPeople, D, N)]
    #[case::group_and_below_full_index_deep_full_u(GROUP_BELOW_FULL, IndexDeepFullPeople, U, N)]
    #[case::group_and_below_full_update_g(GROUP_BELOW_FULL, Update, G, Y)]
    #[case::group_and_below_full_update_gb(GROUP_BELOW_FULL, Update, Gb, Y)]
    #[case::group_and_below_full_update_ls(GROUP_BELOW_FULL, Update, Ls, N)]
    #[case::group_and_below_full_update_d(GROUP_BELOW_FULL, Update, D, N)]
    #[case::group_and_below_full_update_u(GROUP_BELOW_FULL, Update, U, N)]
    #[case::group_and_below_full_create_child_g(GROUP_BELOW_FULL, CreateChild, G, Y)]
    #[case::group_and_below_full_create_child_gb(GROUP_BELOW_FULL, CreateChild, Gb, Y)]
    #[case::group_and_below_full_create_child_ls(GROUP_BELOW_FULL, CreateChild, Ls, N)]
    #[case::group_and_below_full_create_child_d(GROUP_BELOW_FULL, CreateChild, D, N)]
    #[case::group_and_below_full_create_child_u(GROUP_BELOW_FULL, CreateChild, U, N)]
    #[case::group_and_below_full_create_layer_g(GROUP_BELOW_FULL, CreateLayer, G, N)]
    #[case::group_and_below_full_create_layer_gb(GROUP_BELOW_FULL, CreateLayer, Gb, N)]
    #[case::group_and_below_full_create_layer_ls(GROUP_BELOW_FULL, CreateLayer, Ls, N)]
    #[case::group_and_below_full_create_layer_d(GROUP_BELOW_FULL, CreateLayer, D, N)]
    #[case::group_and_below_full_create_layer_u(GROUP_BELOW_FULL, CreateLayer, U, N)]
    #[case::group_and_below_full_destroy_g(GROUP_BELOW_FULL, Destroy, G, N)]
    #[case::group_and_below_full_destroy_gb(GROUP_BELOW_FULL, Destroy, Gb, Y)]
    #[case::group_and_below_full_destroy_ls(GROUP_BELOW_FULL, Destroy, Ls, N)]
    #[case::group_and_below_full_destroy_d(GROUP_BELOW_FULL, Destroy, D, N)]
    #[case::group_and_below_full_destroy_u(GROUP_BELOW_FULL, Destroy, U, N)]
    #[case::group_and_below_full_archive_g(GROUP_BELOW_FULL, Archive, G, N)]
    #[case::group_and_below_full_archive_gb(GROUP_BELOW_FULL, Archive, Gb, Y)]
    #[case::group_and_below_full_archive_ls(GROUP_BELOW_FULL, Archive, Ls, N)]
    #[case::group_and_below_full_archive_d(GROUP_BELOW_FULL, Archive, D, N)]
    #[case::group_and_below_full_archive_u(GROUP_BELOW_FULL, Archive, U, N)]
    #[case::group_and_below_full_reactivate_g(GROUP_BELOW_FULL, Reactivate, G, Y)]
    #[case::group_and_below_full_reactivate_gb(GROUP_BELOW_FULL, Reactivate, Gb, Y)]
    #[case::group_and_below_full_reactivate_ls(GROUP_BELOW_FULL, Reactivate, Ls, N)]
    #[case::group_and_below_full_reactivate_d(GROUP_BELOW_FULL, Reactivate, D, N)]
    #[case::group_and_below_full_reactivate_u(GROUP_BELOW_FULL, Reactivate, U, N)]
    #[case::group_and_below_full_log_g(GROUP_BELOW_FULL, Log, G, Y)]
    #[case::group_and_below_full_log_gb(GROUP_BELOW_FULL, Log, Gb, Y)]
    #[case::group_and_below_full_log_ls(GROUP_BELOW_FULL, Log, Ls, N)]
    #[case::group_and_below_full_log_d(GROUP_BELOW_FULL, Log, D, N)]
    #[case::group_and_below_full_log_u(GROUP_BELOW_FULL, Log, U, N)]
    #[case::layer_read_show_g(LAYER_READ, Show, G, Any)]
    #[case::layer_read_show_gb(LAYER_READ, Show, Gb, Any)]
    #[case::layer_read_show_ls(LAYER_READ, Show, Ls, Any)]
    #[case::layer_read_show_d(LAYER_READ, Show, D, Any)]
    #[case::layer_read_show_u(LAYER_READ, Show, U, Any)]
    #[case::layer_read_show_details_g(LAYER_READ, ShowDetails, G, Y)]
    #[case::layer_read_show_details_gb(LAYER_READ, ShowDetails, Gb, Y)]
    #[case::layer_read_show_details_ls(LAYER_READ, ShowDetails, Ls, Y)]
    #[case::layer_read_show_details_d(LAYER_READ, ShowDetails, D, N)]
    #[case::layer_read_show_details_u(LAYER_READ, ShowDetails, U, N)]
    #[case::layer_read_index_people_g(LAYER_READ, IndexPeople, G, Y)]
    #[case::layer_read_index_people_gb(LAYER_READ, IndexPeople, Gb, Y)]
    #[case::layer_read_index_people_ls(LAYER_READ, IndexPeople, Ls, Y)]
    #[case::layer_read_index_people_d(LAYER_READ, IndexPeople, D, N)]
    #[case::layer_read_index_people_u(LAYER_READ, IndexPeople, U, N)]
    #[case::layer_read_index_local_people_g(LAYER_READ, IndexLocalPeople, G, Y)]
    #[case::layer_read_index_local_people_gb(LAYER_READ, IndexLocalPeople, Gb, Y)]
    #[case::layer_read_index_local_people_ls(LAYER_READ, IndexLocalPeople, Ls, Y)]
    #[case::layer_read_index_local_people_d(LAYER_READ, IndexLocalPeople, D, N)]
    #[case::layer_read_index_local_people_u(LAYER_READ, IndexLocalPeople, U, N)]
    #[case::layer_read_index_full_people_g(LAYER_READ, IndexFullPeople, G, Y)]
    #[case::layer_read_index_full_people_gb(LAYER_READ, IndexFullPeople, Gb, Y)]
    #[case::layer_read_index_full_people_ls(LAYER_READ, IndexFullPeople, Ls, Y)]
    #[case::layer_read_index_full_people_d(LAYER_READ, IndexFullPeople, D, N)]
    #[case::layer_read_index_full_people_u(LAYER_READ, IndexFullPeople, U, N)]
    #[case::layer_read_index_deep_full_g(LAYER_READ, IndexDeepFullPeople, G, Y)]
    #[case::layer_read_index_deep_full_gb(LAYER_READ, IndexDeepFullPeople, Gb, Y)]
    #[case::layer_read_index_deep_full_ls(LAYER_READ, IndexDeepFullPeople, Ls, Y)]
    #[case::layer_read_index_deep_full_d(LAYER_READ, IndexDeepFullPeople, D, N)]
    #[case::layer_read_index_deep_full_u(LAYER_READ, IndexDeepFullPeople, U, N)]
    #[case::layer_read_update_g(LAYER_READ, Update, G, N)]
    #[case::layer_read_update_gb(LAYER_READ, Update, Gb, N)]
    #[case::layer_read_update_ls(LAYER_READ, Update, Ls, N)]
    #[case::layer_read_update_d(LAYER_READ, Update, D, N)]
    #[case::layer_read_update_u(LAYER_READ, Update, U, N)]
    #[case::layer_read_create_child_g(LAYER_READ, CreateChild, G, N)]
    #[case::layer_read_create_child_gb(LAYER_READ, CreateChild, Gb, N)]
    #[case::layer_read_create_child_ls(LAYER_READ, CreateChild, Ls, N)]
    #[case::layer_read_create_child_d(LAYER_READ, CreateChild, D, N)]
    #[case::layer_read_create_child_u(LAYER_READ, CreateChild, U, N)]
    #[case::layer_read_create_layer_g(LAYER_READ, CreateLayer, G, N)]
    #[case::layer_read_create_layer_gb(LAYER_READ, CreateLayer, Gb, N)]
    #[case::layer_read_create_layer_ls(LAYER_READ, CreateLayer, Ls, N)]
    #[case::layer_read_create_layer_d(LAYER_READ, CreateLayer, D, N)]
    #[case::layer_read_create_layer_u(LAYER_READ, CreateLayer, U, N)]
    #[case::layer_read_destroy_g(LAYER_READ, Destroy, G, N)]
    #[case::layer_read_destroy_gb(LAYER_READ, Destroy, Gb, N)]
    #[case::layer_read_destroy_ls(LAYER_READ, Destroy, Ls, N)]
    #[case::layer_read_destroy_d(LAYER_READ, Destroy, D, N)]
    #[case::layer_read_destroy_u(LAYER_READ, Destroy, U, N)]
    #[case::layer_read_archive_g(LAYER_READ, Archive, G, N)]
    #[case::layer_read_archive_gb(LAYER_READ, Archive, Gb, N)]
    #[case::layer_read_archive_ls(LAYER_READ, Archive, Ls, N)]
    #[case::layer_read_archive_d(LAYER_READ, Archive, D, N)]
    #[case::layer_read_archive_u(LAYER_READ, Archive, U, N)]
    #[case::layer_read_reactivate_g(LAYER_READ, Reactivate, G, N)]
    #[case::layer_read_reactivate_gb(LAYER_READ, Reactivate, Gb, N)]
    #[case::layer_read_reactivate_ls(LAYER_READ, Reactivate, Ls, N)]
    #[case::layer_read_reactivate_d(LAYER_READ, Reactivate, D, N)]
    #[case::layer_read_reactivate_u(LAYER_READ, Reactivate, U, N)]
    #[case::layer_read_log_g(LAYER_READ, Log, G, N)]
    #[case::layer_read_log_gb(LAYER_READ, Log, Gb, N)]
    #[case::layer_read_log_ls(LAYER_READ, Log, Ls, N)]
    #[case::layer_read_log_d(LAYER_READ, Log, D, N)]
    #[case::layer_read_log_u(LAYER_READ, Log, U, N)]
    #[case::layer_and_below_read_show_g(LAYER_BELOW_READ, Show, G, Any)]
    #[case::layer_and_below_read_show_gb(LAYER_BELOW_READ, Show, Gb, Any)]
    #[case::layer_and_below_read_show_ls(LAYER_BELOW_READ, Show, Ls, Any)]
    #[case::layer_and_below_read_show_d(LAYER_BELOW_READ, Show, D, Any)]
    #[case::layer_and_below_read_show_u(LAYER_BELOW_READ, Show, U, Any)]
    #[case::layer_and_below_read_show_details_g(LAYER_BELOW_READ, ShowDetails, G, Y)]
    #[case::layer_and_below_read_show_details_gb(LAYER_BELOW_READ, ShowDetails, Gb, Y)]
    #[case::layer_and_below_read_show_details_ls(LAYER_BELOW_READ, ShowDetails, Ls, Y)]
    #[case::layer_and_below_read_show_details_d(LAYER_BELOW_READ, ShowDetails, D, Y)]
    #[case::layer_and_below_read_show_details_u(LAYER_BELOW_READ, ShowDetails, U, N)]
    #[case::layer_and_below_read_index_people_g(LAYER_BELOW_READ, IndexPeople, G, Y)]
    #[case::layer_and_below_read_index_people_gb(LAYER_BELOW_READ, IndexPeople, Gb, Y)]
    #[case::layer_and_below_read_index_people_ls(LAYER_BELOW_READ, IndexPeople, Ls, Y)]
    #[case::layer_and_below_read_index_people_d(LAYER_BELOW_READ, IndexPeople, D, Y)]
    #[case::layer_and_below_read_index_people_u(LAYER_BELOW_READ, IndexPeople, U, N)]
    #[case::layer_and_below_read_index_local_people_g(LAYER_BELOW_READ, IndexLocalPeople, G, Y)]
    #[case::layer_and_below_read_index_local_people_gb(LAYER_BELOW_READ, IndexLocalPeople, Gb, Y)]
    #[case::layer_and_below_read_index_local_people_ls(LAYER_BELOW_READ, IndexLocalPeople, Ls, Y)]
    #[case::layer_and_below_read_index_local_people_d(LAYER_BELOW_READ, IndexLocalPeople, D, N)]
    #[case::layer_and_below_read_index_local_people_u(LAYER_BELOW_READ, IndexLocalPeople, U, N)]
    #[case::layer_and_below_read_index_full_people_g(LAYER_BELOW_READ, IndexFullPeople, G, Y)]
    #[case::layer_and_below_read_index_full_people_gb(LAYER_BELOW_READ, IndexFullPeople, Gb, Y)]
    #[case::layer_and_below_read_index_full_people_ls(LAYER_BELOW_READ, IndexFullPeople, Ls, Y)]
    #[case::layer_and_below_read_index_full_people_d(LAYER_BELOW_READ, IndexFullPeople, D, Y)]
    #[case::layer_and_below_read_index_full_people_u(LAYER_BELOW_READ, IndexFullPeople, U, N)]
    #[case::layer_and_below_read_index_deep_full_g(LAYER_BELOW_READ, IndexDeepFullPeople, G, Y)]
    #[case::layer_and_below_read_index_deep_full_gb(LAYER_BELOW_READ, IndexDeepFullPeople, Gb, Y)]
    #[case::layer_and_below_read_index_deep_full_ls(LAYER_BELOW_READ, IndexDeepFullPeople, Ls, Y)]
    #[case::layer_and_below_read_index_deep_full_d(LAYER_BELOW_READ, IndexDeepFullPeople, D, Y)]
    #[case::layer_and_below_read_index_deep_full_u(LAYER_BELOW_READ, IndexDeepFullPeople, U, N)]
    #[case::layer_and_below_read_update_g(LAYER_BELOW_READ, Update, G, N)]
    #[case::layer_and_below_read_update_gb(LAYER_BELOW_READ, Update, Gb, N)]
    #[case::layer_and_below_read_update_ls(LAYER_BELOW_READ, Update, Ls, N)]
    #[case::layer_and_below_read_update_d(LAYER_BELOW_READ, Update, D, N)]
    #[case::layer_and_below_read_update_u(LAYER_BELOW_READ, Update, U, N)]
    #[case::layer_and_below_read_create_child_g(LAYER_BELOW_READ, CreateChild, G, N)]
    #[case::layer_and_below_read_create_child_gb(LAYER_BELOW_READ, CreateChild, Gb, N)]
    #[case::layer_and_below_read_create_child_ls(LAYER_BELOW_READ, CreateChild, Ls, N)]
    #[case::layer_and_below_read_create_child_d(LAYER_BELOW_READ, CreateChild, D, N)]
    #[case::layer_and_below_read_create_child_u(LAYER_BELOW_READ, CreateChild, U, N)]
    #[case::layer_and_below_read_create_layer_g(LAYER_BELOW_READ, CreateLayer, G, N)]
    #[case::layer_and_below_read_create_layer_gb(LAYER_BELOW_READ, CreateLayer, Gb, N)]
    #[case::layer_and_below_read_create_layer_ls(LAYER_BELOW_READ, CreateLayer, Ls, N)]
    #[case::layer_and_below_read_create_layer_d(LAYER_BELOW_READ, CreateLayer, D, N)]
    #[case::layer_and_below_read_create_layer_u(LAYER_BELOW_READ, CreateLayer, U, N)]
    #[case::layer_and_below_read_destroy_g(LAYER_BELOW_READ, Destroy, G, N)]
    #[case::layer_and_below_read_destroy_gb(LAYER_BELOW_READ, Destroy, Gb, N)]
    #[case::layer_and_below_read_destroy_ls(LAYER_BELOW_READ, Destroy, Ls, N)]
    #[case::layer_and_below_read_destroy_d(LAYER_BELOW_READ, Destroy, D, N)]
    #[case::layer_and_below_read_destroy_u(LAYER_BELOW_READ, Destroy, U, N)]
    #[case::layer_and_below_read_archive_g(LAYER_BELOW_READ, Archive, G, N)]
    #[case::layer_and_below_read_archive_gb(LAYER_BELOW_READ, Archive, Gb, N)]
    #[case::layer_and_below_read_archive_ls(LAYER_BELOW_READ, Archive, Ls, N)]
    #[case::layer_and_below_read_archive_d(LAYER_BELOW_READ, Archive, D, N)]
    #[case::layer_and_below_read_archive_u(LAYER_BELOW_READ, Archive, U, N)]
    #[case::layer_and_below_read_reactivate_g(LAYER_BELOW_READ, Reactivate, G, N)]
    #[case::layer_and_below_read_reactivate_gb(LAYER_BELOW_READ, Reactivate, Gb, N)]
    #[case::layer_and_below_read_reactivate_ls(LAYER_BELOW_READ, Reactivate, Ls, N)]
    #[case::layer_and_below_read_reactivate_d(LAYER_BELOW_READ, Reactivate, D, N)]
    #[case::layer_and_below_read_reactivate_u(LAYER_BELOW_READ, Reactivate, U, N)]
    #[case::layer_and_below_read_log_g(LAYER_BELOW_READ, Log, G, N)]
    #[case::layer_and_below_read_log_gb(LAYER_BELOW_READ, Log, Gb, N)]
    #[case::layer_and_below_read_log_ls(LAYER_BELOW_READ, Log, Ls, N)]
    #[case::layer_and_below_read_log_d(LAYER_BELOW_READ, Log, D, N)]
    #[case::layer_and_below_read_log_u(LAYER_BELOW_READ, Log, U, N)]
    #[case::layer_full_show_g(LAYER_FULL, Show, G, Any)]
    #[case::layer_full_show_gb(LAYER_FULL, Show, Gb, Any)]
    #[case::layer_full_show_ls(LAYER_FULL, Show, Ls, Any)]
    #[case::layer_full_show_d(LAYER_FULL, Show, D, Any)]
    #[case::layer_full_show_u(LAYER_FULL, Show, U, Any)]
    #[case::layer_full_show_details_g(LAYER_FULL, ShowDetails, G, Y)]
    #[case::layer_full_show_details_gb(LAYER_FULL, ShowDetails, Gb, Y)]
    #[case::layer_full_show_details_ls(LAYER_FULL, ShowDetails, Ls, Y)]
    #[case::layer_full_show_details_d(LAYER_FULL, ShowDetails, D, N)]
    #[case::layer_full_show_details_u(LAYER_FULL, ShowDetails, U, N)]
    #[case::layer_full_index_people_g(LAYER_FULL, IndexPeople, G, Y)]
    #[case::layer_full_index_people_gb(LAYER_FULL, IndexPeople, Gb, Y)]
    #[case::layer_full_index_people_ls(LAYER_FULL, IndexPeople, Ls, Y)]
    #[case::layer_full_index_people_d(LAYER_FULL, IndexPeople, D, N)]
    #[case::layer_full_index_people_u(LAYER_FULL, IndexPeople, U, N)]
    #[case::layer_full_index_local_people_g(LAYER_FULL, IndexLocalPeople, G, Y)]
    #[case::layer_full_index_local_people_gb(LAYER_FULL, IndexLocalPeople, Gb, Y)]
    #[case::layer_full_index_local_people_ls(LAYER_FULL, IndexLocalPeople, Ls, Y)]
    #[case::layer_full_index_local_people_d(LAYER_FULL, IndexLocalPeople, D, N)]
    #[case::layer_full_index_local_people_u(LAYER_FULL, IndexLocalPeople, U, N)]
    #[case::layer_full_index_full_people_g(LAYER_FULL, IndexFullPeople, G, Y)]
    #[case::layer_full_index_full_people_gb(LAYER_FULL, IndexFullPeople, Gb, Y)]
    #[case::layer_full_index_full_people_ls(LAYER_FULL, IndexFullPeople, Ls, Y)]
    #[case::layer_full_index_full_people_d(LAYER_FULL, IndexFullPeople, D, N)]
    #[case::layer_full_index_full_people_u(LAYER_FULL, IndexFullPeople, U, N)]
    #[case::layer_full_index_deep_full_g(LAYER_FULL, IndexDeepFullPeople, G, Y)]
    #[case::layer_full_index_deep_full_gb(LAYER_FULL, IndexDeepFullPeople, Gb, Y)]
    #[case::layer_full_index_deep_full_ls(LAYER_FULL, IndexDeepFullPeople, Ls, Y)]
    #[case::layer_full_index_deep_full_d(LAYER_FULL, IndexDeepFullPeople, D, N)]
    #[case::layer_full_index_deep_full_u(LAYER_FULL, IndexDeepFullPeople, U, N)]
    #[case::layer_full_update_g(LAYER_FULL, Update, G, Y)]
    #[case::layer_full_update_gb(LAYER_FULL, Update, Gb, Y)]
    #[case::layer_full_update_ls(LAYER_FULL, Update, Ls, Y)]
    #[case::layer_full_update_d(LAYER_FULL, Update, D, N)]
    #[case::layer_full_update_u(LAYER_FULL, Update, U, N)]
    #[case::layer_full_create_child_g(LAYER_FULL, CreateChild, G, Y)]
    #[case::layer_full_create_child_gb(LAYER_FULL, CreateChild, Gb, Y)]
    #[case::layer_full_create_child_ls(LAYER_FULL, CreateChild, Ls, Y)]
    #[case::layer_full_create_child_d(LAYER_FULL, CreateChild, D, N)]
    #[case::layer_full_create_child_u(LAYER_FULL, CreateChild, U, N)]
    #[case::layer_full_create_layer_g(LAYER_FULL, CreateLayer, G, N)]
    #[case::layer_full_create_layer_gb(LAYER_FULL, CreateLayer, Gb, N)]
    #[case::layer_full_create_layer_ls(LAYER_FULL, CreateLayer, Ls, N)]
    #[case::layer_full_create_layer_d(LAYER_FULL, CreateLayer, D, N)]
    #[case::layer_full_create_layer_u(LAYER_FULL, CreateLayer, U, N)]
    #[case::layer_full_destroy_g(LAYER_FULL, Destroy, G, Own)]
    #[case::layer_full_destroy_gb(LAYER_FULL, Destroy, Gb, Y)]
    #[case::layer_full_destroy_ls(LAYER_FULL, Destroy, Ls, Y)]
    #[case::layer_full_destroy_d(LAYER_FULL, Destroy, D, N)]
    #[case::layer_full_destroy_u(LAYER_FULL, Destroy, U, N)]
    #[case::layer_full_archive_g(LAYER_FULL, Archive, G, Own)]
    #[case::layer_full_archive_gb(LAYER_FULL, Archive, Gb, Y)]
    #[case::layer_full_archive_ls(LAYER_FULL, Archive, Ls, Y)]
    #[case::layer_full_archive_d(LAYER_FULL, Archive, D, N)]
    #[case::layer_full_archive_u(LAYER_FULL, Archive, U, N)]
    #[case::layer_full_reactivate_g(LAYER_FULL, Reactivate, G, Y)]
    #[case::layer_full_reactivate_gb(LAYER_FULL, Reactivate, Gb, Y)]
    #[case::layer_full_reactivate_ls(LAYER_FULL, Reactivate, Ls, Y)]
    #[case::layer_full_reactivate_d(LAYER_FULL, Reactivate, D, N)]
    #[case::layer_full_reactivate_u(LAYER_FULL, Reactivate, U, N)]
    #[case::layer_full_log_g(LAYER_FULL, Log, G, Y)]
    #[case::layer_full_log_gb(LAYER_FULL, Log, Gb, Y)]
    #[case::layer_full_log_ls(LAYER_FULL, Log, Ls, Y)]
    #[case::layer_full_log_d(LAYER_FULL, Log, D, N)]
    #[case::layer_full_log_u(LAYER_FULL, Log, U, N)]
    #[case::layer_and_below_full_show_g(LAYER_BELOW_FULL, Show, G, Any)]
    #[case::layer_and_below_full_show_gb(LAYER_BELOW_FULL, Show, Gb, Any)]
    #[case::layer_and_below_full_show_ls(LAYER_BELOW_FULL, Show, Ls, Any)]
    #[case::layer_and_below_full_show_d(LAYER_BELOW_FULL, Show, D, Any)]
    #[case::layer_and_below_full_show_u(LAYER_BELOW_FULL, Show, U, Any)]
    #[case::layer_and_below_full_show_details_g(LAYER_BELOW_FULL, ShowDetails, G, Y)]
    #[case::layer_and_below_full_show_details_gb(LAYER_BELOW_FULL, ShowDetails, Gb, Y)]
    #[case::layer_and_below_full_show_details_ls(LAYER_BELOW_FULL, ShowDetails, Ls, Y)]
    #[case::layer_and_below_full_show_details_d(LAYER_BELOW_FULL, ShowDetails, D, Y)]
    #[case::layer_and_below_full_show_details_u(LAYER_BELOW_FULL, ShowDetails, U, N)]
    #[case::layer_and_below_full_index_people_g(LAYER_BELOW_FULL, IndexPeople, G, Y)]
    #[case::layer_and_below_full_index_people_gb(LAYER_BELOW_FULL, IndexPeople, Gb, Y)]
    #[case::layer_and_below_full_index_people_ls(LAYER_BELOW_FULL, IndexPeople, Ls, Y)]
    #[case::layer_and_below_full_index_people_d(LAYER_BELOW_FULL, IndexPeople, D, Y)]
    #[case::layer_and_below_full_index_people_u(LAYER_BELOW_FULL, IndexPeople, U, N)]
    #[case::layer_and_below_full_index_local_people_g(LAYER_BELOW_FULL, IndexLocalPeople, G, Y)]
    #[case::layer_and_below_full_index_local_people_gb(LAYER_BELOW_FULL, IndexLocalPeople, Gb, Y)]
    #[case::layer_and_below_full_index_local_people_ls(LAYER_BELOW_FULL, IndexLocalPeople, Ls, Y)]
    #[case::layer_and_below_full_index_local_people_d(LAYER_BELOW_FULL, IndexLocalPeople, D, N)]
    #[case::layer_and_below_full_index_local_people_u(LAYER_BELOW_FULL, IndexLocalPeople, U, N)]
    #[case::layer_and_below_full_index_full_people_g(LAYER_BELOW_FULL, IndexFullPeople, G, Y)]
    #[case::layer_and_below_full_index_full_people_gb(LAYER_BELOW_FULL, IndexFullPeople, Gb, Y)]
    #[case::layer_and_below_full_index_full_people_ls(LAYER_BELOW_FULL, IndexFullPeople, Ls, Y)]
    #[case::layer_and_below_full_index_full_people_d(LAYER_BELOW_FULL, IndexFullPeople, D, Y)]
    #[case::layer_and_below_full_index_full_people_u(LAYER_BELOW_FULL, IndexFullPeople, U, N)]
    #[case::layer_and_below_full_index_deep_full_g(LAYER_BELOW_FULL, IndexDeepFullPeople, G, Y)]
    #[case::layer_and_below_full_index_deep_full_gb(LAYER_BELOW_FULL, IndexDeepFullPeople, Gb, Y)]
    #[case::layer_and_below_full_index_deep_full_ls(LAYER_BELOW_FULL, IndexDeepFullPeople, Ls, Y)]
    #[case::layer_and_below_full_index_deep_full_d(LAYER_BELOW_FULL, IndexDeepFullPeople, D, Y)]
    #[case::layer_and_below_full_index_deep_full_u(LAYER_BELOW_FULL, IndexDeepFullPeople, U, N)]
    #[case::layer_and_below_full_update_g(LAYER_BELOW_FULL, Update, G, Y)]
    #[case::layer_and_below_full_update_gb(LAYER_BELOW_FULL, Update, Gb, Y)]
    #[case::layer_and_below_full_update_ls(LAYER_BELOW_FULL, Update, Ls, Y)]
    #[case::layer_and_below_full_update_d(LAYER_BELOW_FULL, Update, D, Y)]
    #[case::layer_and_below_full_update_u(LAYER_BELOW_FULL, Update, U, N)]
    #[case::layer_and_below_full_create_child_g(LAYER_BELOW_FULL, CreateChild, G, Y)]
    #[case::layer_and_below_full_create_child_gb(LAYER_BELOW_FULL, CreateChild, Gb, Y)]
    #[case::layer_and_below_full_create_child_ls(LAYER_BELOW_FULL, CreateChild, Ls, Y)]
    #[case::layer_and_below_full_create_child_d(LAYER_BELOW_FULL, CreateChild, D, Y)]
    #[case::layer_and_below_full_create_child_u(LAYER_BELOW_FULL, CreateChild, U, N)]
    #[case::layer_and_below_full_create_layer_g(LAYER_BELOW_FULL, CreateLayer, G, Y)]
    #[case::layer_and_below_full_create_layer_gb(LAYER_BELOW_FULL, CreateLayer, Gb, Y)]
    #[case::layer_and_below_full_create_layer_ls(LAYER_BELOW_FULL, CreateLayer, Ls, Y)]
    #[case::layer_and_below_full_create_layer_d(LAYER_BELOW_FULL, CreateLayer, D, Y)]
    #[case::layer_and_below_full_create_layer_u(LAYER_BELOW_FULL, CreateLayer, U, N)]
    #[case::layer_and_below_full_destroy_g(LAYER_BELOW_FULL, Destroy, G, Own)]
    #[case::layer_and_below_full_destroy_gb(LAYER_BELOW_FULL, Destroy, Gb, Y)]
    #[case::layer_and_below_full_destroy_ls(LAYER_BELOW_FULL, Destroy, Ls, Y)]
    #[case::layer_and_below_full_destroy_d(LAYER_BELOW_FULL, Destroy, D, Y)]
    #[case::layer_and_below_full_destroy_u(LAYER_BELOW_FULL, Destroy, U, N)]
    #[case::layer_and_below_full_archive_g(LAYER_BELOW_FULL, Archive, G, Own)]
    #[case::layer_and_below_full_archive_gb(LAYER_BELOW_FULL, Archive, Gb, Y)]
    #[case::layer_and_below_full_archive_ls(LAYER_BELOW_FULL, Archive, Ls, Y)]
    #[case::layer_and_below_full_archive_d(LAYER_BELOW_FULL, Archive, D, Y)]
    #[case::layer_and_below_full_archive_u(LAYER_BELOW_FULL, Archive, U, N)]
    #[case::layer_and_below_full_reactivate_g(LAYER_BELOW_FULL, Reactivate, G, Y)]
    #[case::layer_and_below_full_reactivate_gb(LAYER_BELOW_FULL, Reactivate, Gb, Y)]
    #[case::layer_and_below_full_reactivate_ls(LAYER_BELOW_FULL, Reactivate, Ls, Y)]
    #[case::layer_and_below_full_reactivate_d(LAYER_BELOW_FULL, Reactivate, D, Y)]
    #[case::layer_and_below_full_reactivate_u(LAYER_BELOW_FULL, Reactivate, U, N)]
    #[case::layer_and_below_full_log_g(LAYER_BELOW_FULL, Log, G, Y)]
    #[case::layer_and_below_full_log_gb(LAYER_BELOW_FULL, Log, Gb, Y)]
    #[case::layer_and_below_full_log_ls(LAYER_BELOW_FULL, Log, Ls, Y)]
    #[case::layer_and_below_full_log_d(LAYER_BELOW_FULL, Log, D, Y)]
    #[case::layer_and_below_full_log_u(LAYER_BELOW_FULL, Log, U, N)]
    fn cell(#[case] holder: &str, #[case] act: Act, #[case] pos: Pos, #[case] expect: Expect) {
        let actor = actor_with(holder, TEAM_G);
        let target = g(pos.group());
        let action = match act {
            Show => GroupAction::Show,
            ShowDetails => GroupAction::ShowDetails,
            IndexPeople => GroupAction::IndexPeople,
            IndexLocalPeople => GroupAction::IndexLocalPeople,
            IndexFullPeople => GroupAction::IndexFullPeople,
            IndexDeepFullPeople => GroupAction::IndexDeepFullPeople,
            Update => GroupAction::Update,
            Destroy => GroupAction::Destroy,
            Archive => GroupAction::Archive,
            Reactivate => GroupAction::Reactivate,
            Log => GroupAction::Log,
            CreateChild | CreateLayer => {
                let is_layer = matches!(act, CreateLayer);
                return check(&may_create_group(&actor, target, is_layer, tree()), expect);
            }
        };
        check(&group(&actor, action, target, tree()), expect);
    }
}

// ---------------------------------------------------------- the role table

/// Table 4.3, role actions: one case per write permission, action and
/// position of someone else's role.
mod role_table {
    use super::Expect::*;
    use super::Pos::*;
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum RoleCol {
        Show,
        Update,
        Destroy,
        Create,
    }
    use RoleCol::{Create, Destroy, Show, Update};

    #[rstest]
    #[case::group_full_show_g(GROUP_FULL, Show, G, Y)]
    #[case::group_full_show_gb(GROUP_FULL, Show, Gb, N)]
    #[case::group_full_show_ls(GROUP_FULL, Show, Ls, N)]
    #[case::group_full_show_dv(GROUP_FULL, Show, Dv, N)]
    #[case::group_full_show_di(GROUP_FULL, Show, Di, N)]
    #[case::group_full_show_u(GROUP_FULL, Show, U, N)]
    #[case::group_full_update_g(GROUP_FULL, Update, G, Y)]
    #[case::group_full_update_gb(GROUP_FULL, Update, Gb, N)]
    #[case::group_full_update_ls(GROUP_FULL, Update, Ls, N)]
    #[case::group_full_update_dv(GROUP_FULL, Update, Dv, N)]
    #[case::group_full_update_di(GROUP_FULL, Update, Di, N)]
    #[case::group_full_update_u(GROUP_FULL, Update, U, N)]
    #[case::group_full_destroy_g(GROUP_FULL, Destroy, G, Y)]
    #[case::group_full_destroy_gb(GROUP_FULL, Destroy, Gb, N)]
    #[case::group_full_destroy_ls(GROUP_FULL, Destroy, Ls, N)]
    #[case::group_full_destroy_dv(GROUP_FULL, Destroy, Dv, N)]
    #[case::group_full_destroy_di(GROUP_FULL, Destroy, Di, N)]
    #[case::group_full_destroy_u(GROUP_FULL, Destroy, U, N)]
    #[case::group_full_create_g(GROUP_FULL, Create, G, Y)]
    #[case::group_full_create_gb(GROUP_FULL, Create, Gb, N)]
    #[case::group_full_create_ls(GROUP_FULL, Create, Ls, N)]
    #[case::group_full_create_dv(GROUP_FULL, Create, Dv, N)]
    #[case::group_full_create_di(GROUP_FULL, Create, Di, N)]
    #[case::group_full_create_u(GROUP_FULL, Create, U, N)]
    #[case::group_and_below_full_show_g(GROUP_BELOW_FULL, Show, G, Y)]
    #[case::group_and_below_full_show_gb(GROUP_BELOW_FULL, Show, Gb, Y)]
    #[case::group_and_below_full_show_ls(GROUP_BELOW_FULL, Show, Ls, N)]
    #[case::group_and_below_full_show_dv(GROUP_BELOW_FULL, Show, Dv, N)]
    #[case::group_and_below_full_show_di(GROUP_BELOW_FULL, Show, Di, N)]
    #[case::group_and_below_full_show_u(GROUP_BELOW_FULL, Show, U, N)]
    #[case::group_and_below_full_update_g(GROUP_BELOW_FULL, Update, G, Y)]
    #[case::group_and_below_full_update_gb(GROUP_BELOW_FULL, Update, Gb, Y)]
    #[case::group_and_below_full_update_ls(GROUP_BELOW_FULL, Update, Ls, N)]
    #[case::group_and_below_full_update_dv(GROUP_BELOW_FULL, Update, Dv, N)]
    #[case::group_and_below_full_update_di(GROUP_BELOW_FULL, Update, Di, N)]
    #[case::group_and_below_full_update_u(GROUP_BELOW_FULL, Update, U, N)]
    #[case::group_and_below_full_destroy_g(GROUP_BELOW_FULL, Destroy, G, Y)]
    #[case::group_and_below_full_destroy_gb(GROUP_BELOW_FULL, Destroy, Gb, Y)]
    #[case::group_and_below_full_destroy_ls(GROUP_BELOW_FULL, Destroy, Ls, N)]
    #[case::group_and_below_full_destroy_dv(GROUP_BELOW_FULL, Destroy, Dv, N)]
    #[case::group_and_below_full_destroy_di(GROUP_BELOW_FULL, Destroy, Di, N)]
    #[case::group_and_below_full_destroy_u(GROUP_BELOW_FULL, Destroy, U, N)]
    #[case::group_and_below_full_create_g(GROUP_BELOW_FULL, Create, G, Y)]
    #[case::group_and_below_full_create_gb(GROUP_BELOW_FULL, Create, Gb, Y)]
    #[case::group_and_below_full_create_ls(GROUP_BELOW_FULL, Create, Ls, N)]
    #[case::group_and_below_full_create_dv(GROUP_BELOW_FULL, Create, Dv, N)]
    #[case::group_and_below_full_create_di(GROUP_BELOW_FULL, Create, Di, N)]
    #[case::group_and_below_full_create_u(GROUP_BELOW_FULL, Create, U, N)]
    #[case::layer_full_show_g(LAYER_FULL, Show, G, Y)]
    #[case::layer_full_show_gb(LAYER_FULL, Show, Gb, Y)]
    #[case::layer_full_show_ls(LAYER_FULL, Show, Ls, Y)]
    #[case::layer_full_show_dv(LAYER_FULL, Show, Dv, N)]
    #[case::layer_full_show_di(LAYER_FULL, Show, Di, N)]
    #[case::layer_full_show_u(LAYER_FULL, Show, U, N)]
    #[case::layer_full_update_g(LAYER_FULL, Update, G, Y)]
    #[case::layer_full_update_gb(LAYER_FULL, Update, Gb, Y)]
    #[case::layer_full_update_ls(LAYER_FULL, Update, Ls, Y)]
    #[case::layer_full_update_dv(LAYER_FULL, Update, Dv, N)]
    #[case::layer_full_update_di(LAYER_FULL, Update, Di, N)]
    #[case::layer_full_update_u(LAYER_FULL, Update, U, N)]
    #[case::layer_full_destroy_g(LAYER_FULL, Destroy, G, Y)]
    #[case::layer_full_destroy_gb(LAYER_FULL, Destroy, Gb, Y)]
    #[case::layer_full_destroy_ls(LAYER_FULL, Destroy, Ls, Y)]
    #[case::layer_full_destroy_dv(LAYER_FULL, Destroy, Dv, N)]
    #[case::layer_full_destroy_di(LAYER_FULL, Destroy, Di, N)]
    #[case::layer_full_destroy_u(LAYER_FULL, Destroy, U, N)]
    #[case::layer_full_create_g(LAYER_FULL, Create, G, Y)]
    #[case::layer_full_create_gb(LAYER_FULL, Create, Gb, Y)]
    #[case::layer_full_create_ls(LAYER_FULL, Create, Ls, Y)]
    #[case::layer_full_create_dv(LAYER_FULL, Create, Dv, N)]
    #[case::layer_full_create_di(LAYER_FULL, Create, Di, N)]
    #[case::layer_full_create_u(LAYER_FULL, Create, U, N)]
    #[case::layer_and_below_full_show_g(LAYER_BELOW_FULL, Show, G, Y)]
    #[case::layer_and_below_full_show_gb(LAYER_BELOW_FULL, Show, Gb, Y)]
    #[case::layer_and_below_full_show_ls(LAYER_BELOW_FULL, Show, Ls, Y)]
    #[case::layer_and_below_full_show_dv(LAYER_BELOW_FULL, Show, Dv, Y)]
    #[case::layer_and_below_full_show_di(LAYER_BELOW_FULL, Show, Di, N)]
    #[case::layer_and_below_full_show_u(LAYER_BELOW_FULL, Show, U, N)]
    #[case::layer_and_below_full_update_g(LAYER_BELOW_FULL, Update, G, Y)]
    #[case::layer_and_below_full_update_gb(LAYER_BELOW_FULL, Update, Gb, Y)]
    #[case::layer_and_below_full_update_ls(LAYER_BELOW_FULL, Update, Ls, Y)]
    #[case::layer_and_below_full_update_dv(LAYER_BELOW_FULL, Update, Dv, Y)]
    #[case::layer_and_below_full_update_di(LAYER_BELOW_FULL, Update, Di, N)]
    #[case::layer_and_below_full_update_u(LAYER_BELOW_FULL, Update, U, N)]
    #[case::layer_and_below_full_destroy_g(LAYER_BELOW_FULL, Destroy, G, Y)]
    #[case::layer_and_below_full_destroy_gb(LAYER_BELOW_FULL, Destroy, Gb, Y)]
    #[case::layer_and_below_full_destroy_ls(LAYER_BELOW_FULL, Destroy, Ls, Y)]
    #[case::layer_and_below_full_destroy_dv(LAYER_BELOW_FULL, Destroy, Dv, Y)]
    #[case::layer_and_below_full_destroy_di(LAYER_BELOW_FULL, Destroy, Di, N)]
    #[case::layer_and_below_full_destroy_u(LAYER_BELOW_FULL, Destroy, U, N)]
    #[case::layer_and_below_full_create_g(LAYER_BELOW_FULL, Create, G, Y)]
    #[case::layer_and_below_full_create_gb(LAYER_BELOW_FULL, Create, Gb, Y)]
    #[case::layer_and_below_full_create_ls(LAYER_BELOW_FULL, Create, Ls, Y)]
    #[case::layer_and_below_full_create_dv(LAYER_BELOW_FULL, Create, Dv, Y)]
    #[case::layer_and_below_full_create_di(LAYER_BELOW_FULL, Create, Di, N)]
    #[case::layer_and_below_full_create_u(LAYER_BELOW_FULL, Create, U, N)]
    fn cell(#[case] holder: &str, #[case] col: RoleCol, #[case] pos: Pos, #[case] expect: Expect) {
        let actor = actor_with(holder, TEAM_G);
        let r = active_role(1, SUBJECT, pos.group(), pos.role_type());
        let subject = RoleSubject {
            role: &r,
            group: g(pos.group()),
            role_type: rt(pos.role_type()),
        };
        let action = match col {
            Show => RoleAction::Show,
            Update => RoleAction::Update,
            Destroy => RoleAction::Destroy,
            Create => {
                let d = may_create_role(&actor, subject.group, subject.role_type, tree());
                return check(&d, expect);
            }
        };
        check(&role(&actor, action, &subject, tree()), expect);
    }
}

// ------------------------------------------------ resolving actor, subject

#[test]
fn actor_gets_one_grant_per_permission_with_implications() {
    let a = actor_with(GROUP_FULL, TEAM_G);
    let grant = |permission| Grant {
        permission,
        group_id: GroupId(TEAM_G),
        layer_group_id: GroupId(REGION),
        is_group_active: true,
    };
    assert_eq!(
        a.grants,
        [grant(Permission::GroupFull), grant(Permission::GroupRead)]
    );
    assert!(a.has_role);
    assert!(!a.is_root);
}

#[test]
fn role_without_permissions_counts_as_a_role_but_grants_nothing() {
    let a = actor_with(MEMBER, TEAM_G);
    assert!(a.has_role);
    assert!(a.grants.is_empty());
}

#[rstest]
#[case::ended(ended(active_role(1, ACTOR, TEAM_G, LAYER_FULL), day(2025, 3, 9)))]
#[case::future(future(active_role(1, ACTOR, TEAM_G, LAYER_FULL)))]
#[case::archived(Role { archived_at: Some(now()), ..active_role(1, ACTOR, TEAM_G, LAYER_FULL) })]
#[case::in_deleted_group(active_role(1, ACTOR, DELETED_TEAM, LAYER_FULL))]
#[case::of_unknown_type(active_role(1, ACTOR, TEAM_G, "Team.Ghost"))]
#[case::of_someone_else(active_role(1, SUBJECT, TEAM_G, LAYER_FULL))]
fn roles_that_grant_nothing(#[case] r: Role) {
    let a = actor(&[r]);
    assert!(a.grants.is_empty());
    assert!(!a.has_role);
}

#[test]
fn role_ending_today_still_grants() {
    let a = actor(&[ended(active_role(1, ACTOR, TEAM_G, GROUP_READ), today())]);
    assert_eq!(a.grants.len(), 1);
}

#[test]
fn role_in_archived_group_grants_and_is_marked_inactive() {
    let a = actor_with(GROUP_READ, ARCHIVED_TEAM);
    assert_eq!(a.grants.len(), 1);
    assert!(!a.grants[0].is_group_active);
}

#[test]
fn subject_keeps_active_future_and_ended_roles_with_their_state() {
    let roles = [
        active_role(1, SUBJECT, TEAM_G, MEMBER),
        future(active_role(2, SUBJECT, TEAM_GB, MEMBER)),
        ended(active_role(3, SUBJECT, TEAM_LS, MEMBER), day(2025, 2, 1)),
        Role {
            archived_at: Some(now()),
            ..active_role(4, SUBJECT, TEAM_G, MEMBER)
        },
        active_role(5, SUBJECT, DELETED_TEAM, MEMBER),
        active_role(6, SUBJECT, TEAM_G, "Team.Ghost"),
        active_role(7, ACTOR, TEAM_G, MEMBER),
    ];
    let s = subject(&roles);
    let kept: Vec<(i64, RoleState)> = s.roles.iter().map(|r| (r.role.id.0, r.state)).collect();
    assert_eq!(
        kept,
        [
            (1, RoleState::Active),
            (2, RoleState::Future),
            (3, RoleState::Ended)
        ]
    );
    assert_eq!(s.id, PersonId(SUBJECT));
}

#[test]
fn allowed_decision_names_the_grant_used() {
    let roles = [active_role(1, SUBJECT, TEAM_G, MEMBER)];
    let a = actor_with(GROUP_FULL, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::Update, &subject(&roles)),
        by(Permission::GroupFull, TEAM_G)
    );
    // Reading goes through the implied permission (footnote 4).
    assert_eq!(
        group(&a, GroupAction::ShowDetails, g(TEAM_G), tree()),
        by(Permission::GroupRead, TEAM_G)
    );
}

// ------------------------------------------------------------------- root

#[rstest]
#[case::show(PersonAction::Show)]
#[case::show_details(PersonAction::ShowDetails)]
#[case::show_full(PersonAction::ShowFull)]
#[case::update(PersonAction::Update)]
#[case::update_email(PersonAction::UpdateEmail)]
#[case::destroy(PersonAction::Destroy)]
fn root_may_do_anything_to_anyone(#[case] action: PersonAction) {
    let roles = [active_role(1, SUBJECT, OTHER_REGION_TEAM, LAYER_BELOW_FULL)];
    assert_eq!(
        person(&root(), action, &subject(&roles)),
        Decision::Allowed(Because::Root)
    );
}

#[rstest]
#[case::show(GroupAction::Show)]
#[case::show_details(GroupAction::ShowDetails)]
#[case::index_full_people(GroupAction::IndexFullPeople)]
#[case::update(GroupAction::Update)]
#[case::destroy(GroupAction::Destroy)]
#[case::archive(GroupAction::Archive)]
#[case::log(GroupAction::Log)]
fn root_may_do_anything_to_groups(#[case] action: GroupAction) {
    assert_eq!(
        group(&root(), action, g(TEAM_LS), tree()),
        Decision::Allowed(Because::Root)
    );
}

#[test]
fn root_may_create_groups_and_roles_anywhere() {
    let root = root();
    let allowed = Decision::Allowed(Because::Root);
    assert_eq!(may_create_group(&root, g(CLUB), true, tree()), allowed);
    assert_eq!(
        may_create_role(&root, g(CLUB_TEAM), rt(SECRET), tree()),
        allowed
    );
    let r = active_role(1, SUBJECT, CLUB_TEAM, SECRET);
    let s = RoleSubject {
        role: &r,
        group: g(CLUB_TEAM),
        role_type: rt(SECRET),
    };
    assert_eq!(role(&root, RoleAction::Destroy, &s, tree()), allowed);
}

#[test]
fn root_may_see_and_edit_itself_but_not_change_its_email() {
    let s = subject_of(ROOT, true, &[]);
    let root = root();
    assert_eq!(
        person(&root, PersonAction::Update, &s),
        Decision::Allowed(Because::Root)
    );
    assert_eq!(
        person(&root, PersonAction::UpdateEmail, &s),
        refused(Refusal::RootEmail)
    );
}

#[test]
fn root_may_not_destroy_itself() {
    let s = subject_of(ROOT, true, &[]);
    assert_eq!(
        person(&root(), PersonAction::Destroy, &s),
        refused(Refusal::NotOnSelf)
    );
}

#[rstest]
#[case::layer_and_below_full_on_the_root_layer(AUDITOR, FEDERATION_TEAM)]
#[case::admin(ADMIN, FEDERATION_TEAM)]
#[case::group_full_where_root_sits(GROUP_FULL, TEAM_G)]
fn nobody_changes_roots_email(#[case] holder: &str, #[case] at: i64) {
    let roles = [active_role(1, ROOT, TEAM_G, MEMBER)];
    let s = subject_of(ROOT, true, &roles);
    let a = actor_with(holder, at);
    assert_eq!(
        person(&a, PersonAction::UpdateEmail, &s),
        refused(Refusal::RootEmail)
    );
}

#[test]
fn root_is_refused_what_no_permission_can_change() {
    let root = root();
    let inactive = refused(Refusal::GroupInactive);
    assert_eq!(
        group(&root, GroupAction::Update, g(DELETED_TEAM), tree()),
        inactive
    );
    assert_eq!(
        may_create_group(&root, g(ARCHIVED_TEAM), false, tree()),
        inactive
    );
    assert_eq!(
        may_create_role(&root, g(ARCHIVED_TEAM), rt(MEMBER), tree()),
        inactive
    );
    assert_eq!(
        may_create_role(&root, g(TEAM_G), rt(MANAGED), tree()),
        refused(Refusal::RestrictedRole)
    );
}

// ------------------------------------------------------------ self-service

#[rstest]
#[case::show(PersonAction::Show)]
#[case::show_details(PersonAction::ShowDetails)]
#[case::show_full(PersonAction::ShowFull)]
#[case::update(PersonAction::Update)]
#[case::update_email(PersonAction::UpdateEmail)]
fn person_without_roles_may_see_and_edit_themselves(#[case] action: PersonAction) {
    let a = actor(&[]);
    let s = subject_of(ACTOR, false, &[]);
    assert_eq!(person(&a, action, &s), Decision::Allowed(Because::Herself));
}

#[test]
fn person_with_capable_roles_may_change_their_own_email() {
    let roles = [active_role(1, ACTOR, TEAM_G, LAYER_BELOW_FULL)];
    let a = actor(&roles);
    let s = subject_of(ACTOR, false, &roles);
    assert_eq!(
        person(&a, PersonAction::UpdateEmail, &s),
        Decision::Allowed(Because::Herself)
    );
}

#[test]
fn nobody_destroys_themselves_not_even_an_admin() {
    let roles = [active_role(1, ACTOR, FEDERATION_TEAM, ADMIN)];
    let s = subject_of(ACTOR, false, &roles);
    assert_eq!(
        person(&actor(&roles), PersonAction::Destroy, &s),
        refused(Refusal::NotOnSelf)
    );
}

#[test]
fn person_without_roles_sees_no_one_else() {
    let roles = [active_role(1, SUBJECT, TEAM_G, MEMBER)];
    assert_eq!(
        person(&actor(&[]), PersonAction::Show, &subject(&roles)),
        refused(Refusal::NoPermission)
    );
}

// ---------------------------------------------------------- person extras

#[test]
fn contact_data_shows_contact_data_people_anywhere_but_no_details() {
    let roles = [active_role(1, SUBJECT, OTHER_REGION_TEAM, CONTACT)];
    let s = PersonSubject::new(
        &person_record(SUBJECT, true),
        false,
        &roles,
        &TREE,
        &ORG,
        today(),
    );
    let a = actor_with(CONTACT, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::Show, &s),
        by(Permission::ContactData, TEAM_G)
    );
    for action in [
        PersonAction::ShowDetails,
        PersonAction::ShowFull,
        PersonAction::Update,
    ] {
        assert_eq!(
            person(&a, action, &s),
            refused(Refusal::NoPermission),
            "{action:?}"
        );
    }
}

#[test]
fn contact_data_people_are_hidden_from_those_without_contact_data() {
    let roles = [active_role(1, SUBJECT, OTHER_REGION_TEAM, CONTACT)];
    let s = PersonSubject::new(
        &person_record(SUBJECT, true),
        false,
        &roles,
        &TREE,
        &ORG,
        today(),
    );
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::Show, &s),
        refused(Refusal::NoPermission)
    );
}

#[test]
fn admin_may_destroy_others() {
    let roles = [active_role(1, SUBJECT, OTHER_REGION_TEAM, LAYER_BELOW_FULL)];
    let a = actor_with(ADMIN, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::Destroy, &subject(&roles)),
        by(Permission::Admin, TEAM_G)
    );
}

#[rstest]
#[case::layer_and_below_full(AUDITOR)]
#[case::group_full(GROUP_FULL)]
fn only_admin_may_destroy_people(#[case] holder: &str) {
    let roles = [active_role(1, SUBJECT, TEAM_G, MEMBER)];
    let a = actor_with(holder, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::Destroy, &subject(&roles)),
        refused(Refusal::NoPermission)
    );
}

#[test]
fn admin_sees_people_without_active_roles_only() {
    let a = actor_with(ADMIN, TEAM_G);
    assert!(person(&a, PersonAction::Show, &subject(&[])).is_allowed());
    let roles = [active_role(1, SUBJECT, TEAM_G, MEMBER)];
    assert!(!person(&a, PersonAction::Show, &subject(&roles)).is_allowed());
}

#[rstest]
#[case::group_read_show(GROUP_READ, PersonAction::Show, true)]
#[case::group_full_show_through_group_read(GROUP_FULL, PersonAction::Show, true)]
#[case::group_read_show_details(GROUP_READ, PersonAction::ShowDetails, false)]
#[case::group_full_update(GROUP_FULL, PersonAction::Update, false)]
#[case::group_and_below_read_show(GROUP_BELOW_READ, PersonAction::Show, false)]
#[case::layer_read_show(LAYER_READ, PersonAction::Show, false)]
#[case::layer_full_show(LAYER_FULL, PersonAction::Show, false)]
fn future_roles_count_for_group_read_show_only(
    #[case] holder: &str,
    #[case] action: PersonAction,
    #[case] allowed: bool,
) {
    let roles = [future(active_role(1, SUBJECT, TEAM_G, MEMBER))];
    let a = actor_with(holder, TEAM_G);
    assert_eq!(person(&a, action, &subject(&roles)).is_allowed(), allowed);
}

#[test]
fn ended_roles_of_the_actor_grant_nothing() {
    let a = actor(&[ended(
        active_role(1, ACTOR, TEAM_G, LAYER_BELOW_FULL),
        day(2025, 3, 1),
    )]);
    let roles = [active_role(2, SUBJECT, TEAM_G, MEMBER)];
    assert_eq!(
        person(&a, PersonAction::Show, &subject(&roles)),
        refused(Refusal::NoPermission)
    );
    assert_eq!(
        group(&a, GroupAction::Show, g(TEAM_G), tree()),
        refused(Refusal::NoPermission)
    );
}

#[rstest]
#[case::group_full(GROUP_FULL)]
#[case::group_read(GROUP_READ)]
#[case::layer_read(LAYER_READ)]
#[case::layer_and_below_read(LAYER_BELOW_READ)]
fn ended_roles_of_the_subject_are_not_seen(#[case] holder: &str) {
    let roles = [ended(
        active_role(1, SUBJECT, TEAM_G, MEMBER),
        day(2025, 2, 1),
    )];
    let a = actor_with(holder, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::Show, &subject(&roles)),
        refused(Refusal::NoPermission)
    );
}

/// The deleted-people rule: a person without active roles whose last role
/// ended in the layer (layer_full) or below (layer_and_below_full).
#[rstest]
#[case::layer_full_last_role_in_layer(LAYER_FULL, &[(TEAM_LS, 2)], true)]
#[case::layer_full_last_role_below(LAYER_FULL, &[(CLUB_TEAM, 2)], false)]
#[case::layer_full_last_role_elsewhere(LAYER_FULL, &[(TEAM_LS, 1), (OTHER_REGION_TEAM, 2)], false)]
#[case::layer_full_older_elsewhere(LAYER_FULL, &[(OTHER_REGION_TEAM, 1), (TEAM_LS, 2)], true)]
#[case::layer_and_below_full_last_role_below(LAYER_BELOW_FULL, &[(CLUB_TEAM, 2)], true)]
#[case::layer_and_below_full_last_role_above(LAYER_BELOW_FULL, &[(FEDERATION_TEAM, 2)], false)]
#[case::layer_read_sees_no_deleted_people(LAYER_READ, &[(TEAM_LS, 2)], false)]
#[case::layer_and_below_read_neither(LAYER_BELOW_READ, &[(TEAM_LS, 2)], false)]
fn deleted_people_are_shown_by_the_layer_of_their_last_role(
    #[case] holder: &str,
    #[case] ended_roles: &[(i64, u32)],
    #[case] allowed: bool,
) {
    let roles: Vec<Role> = ended_roles
        .iter()
        .enumerate()
        .map(|(i, &(at, month))| {
            let id = i64::try_from(i).expect("few roles");
            ended(active_role(id, SUBJECT, at, MEMBER), day(2025, month, 1))
        })
        .collect();
    let a = actor_with(holder, TEAM_G);
    let s = subject(&roles);
    assert_eq!(person(&a, PersonAction::Show, &s).is_allowed(), allowed);
    assert!(!person(&a, PersonAction::ShowDetails, &s).is_allowed());
}

#[test]
fn person_with_an_active_role_elsewhere_is_not_deleted() {
    let roles = [
        ended(active_role(1, SUBJECT, TEAM_LS, MEMBER), day(2025, 3, 1)),
        active_role(2, SUBJECT, OTHER_REGION_TEAM, MEMBER),
    ];
    let a = actor_with(LAYER_FULL, TEAM_G);
    assert!(!person(&a, PersonAction::Show, &subject(&roles)).is_allowed());
}

/// The "nr" cells of the `update` column: the subject's only role at the
/// position is restricted.
#[rstest]
#[case::group_full_in_g(GROUP_FULL, TEAM_G, false)]
#[case::group_and_below_full_in_g(GROUP_BELOW_FULL, TEAM_G, false)]
#[case::group_and_below_full_in_gb(GROUP_BELOW_FULL, TEAM_GB, false)]
#[case::layer_full_in_g(LAYER_FULL, TEAM_G, false)]
#[case::layer_full_in_gb(LAYER_FULL, TEAM_GB, false)]
#[case::layer_full_in_ls(LAYER_FULL, TEAM_LS, false)]
#[case::layer_and_below_full_in_g(LAYER_BELOW_FULL, TEAM_G, false)]
#[case::layer_and_below_full_in_gb(LAYER_BELOW_FULL, TEAM_GB, false)]
#[case::layer_and_below_full_in_ls(LAYER_BELOW_FULL, TEAM_LS, false)]
#[case::layer_and_below_full_below_in_dv(LAYER_BELOW_FULL, CLUB_TEAM, true)]
fn restricted_roles_give_no_edit_right_inside_the_layer(
    #[case] holder: &str,
    #[case] at: i64,
    #[case] may_update: bool,
) {
    let roles = [active_role(1, SUBJECT, at, MANAGED)];
    let a = actor_with(holder, TEAM_G);
    let s = subject(&roles);
    assert!(person(&a, PersonAction::Show, &s).is_allowed());
    assert_eq!(
        person(&a, PersonAction::Update, &s).is_allowed(),
        may_update
    );
}

#[test]
fn a_non_restricted_role_beside_a_restricted_one_allows_update() {
    let roles = [
        active_role(1, SUBJECT, TEAM_G, MANAGED),
        active_role(2, SUBJECT, TEAM_G, MEMBER),
    ];
    let a = actor_with(GROUP_FULL, TEAM_G);
    assert!(person(&a, PersonAction::Update, &subject(&roles)).is_allowed());
}

/// The layer_and_below_full `update` cell for Di, and the
/// see_invisible_from_above row that reads but never writes.
#[rstest]
#[case::with_see_invisible_in_the_same_role(actor_with(AUDITOR, TEAM_G), true, true)]
#[case::with_see_invisible_from_the_root_layer(labf_and_seer(FEDERATION_TEAM), true, true)]
#[case::with_see_invisible_in_another_region(labf_and_seer(OTHER_REGION_TEAM), false, false)]
#[case::see_invisible_alone_does_not_write(actor_with(SEE_INVISIBLE, TEAM_G), true, false)]
fn invisible_people_below_are_edited_only_with_see_invisible(
    #[case] a: Actor,
    #[case] may_show: bool,
    #[case] may_update: bool,
) {
    let roles = [active_role(1, SUBJECT, CLUB_TEAM, SECRET)];
    let s = subject(&roles);
    assert_eq!(person(&a, PersonAction::Show, &s).is_allowed(), may_show);
    assert_eq!(
        person(&a, PersonAction::Update, &s).is_allowed(),
        may_update
    );
}

/// layer_and_below_full in G, see_invisible_from_above through a second
/// role in `seer_at`.
fn labf_and_seer(seer_at: i64) -> Actor {
    actor(&[
        active_role(1, ACTOR, TEAM_G, LAYER_BELOW_FULL),
        active_role(2, ACTOR, seer_at, SEE_INVISIBLE),
    ])
}

/// The capable-role rule of `update_email` (footnote 3).
#[rstest]
#[case::no_capable_role_anywhere(GROUP_FULL, &[(OTHER_REGION_TEAM, MEMBER)], true)]
#[case::no_roles_at_all(GROUP_FULL, &[], true)]
#[case::restricted_roles_are_not_capable(GROUP_FULL, &[(OTHER_REGION_TEAM, MANAGED_LEADER)], true)]
#[case::capable_role_in_g(GROUP_FULL, &[(TEAM_G, LAYER_FULL)], true)]
#[case::capable_in_g_and_u(GROUP_FULL, &[(TEAM_G, SECRET), (OTHER_REGION_TEAM, SECRET)], false)]
#[case::capable_in_g_and_gb(GROUP_BELOW_FULL, &[(TEAM_G, GROUP_READ), (TEAM_GB, SECRET)], true)]
#[case::group_full_not_over_gb(GROUP_FULL, &[(TEAM_G, GROUP_READ), (TEAM_GB, GROUP_READ)], false)]
#[case::layer_full_not_below(LAYER_FULL, &[(TEAM_LS, GROUP_READ), (CLUB_TEAM, GROUP_READ)], false)]
#[case::layer_and_below_full_over_invisible(LAYER_BELOW_FULL, &[(CLUB_TEAM, SECRET)], true)]
#[case::layer_and_below_full_not_above(LAYER_BELOW_FULL, &[(FEDERATION_TEAM, GROUP_READ)], false)]
#[case::read_permissions_never(LAYER_BELOW_READ, &[(TEAM_G, MEMBER)], false)]
fn update_email_needs_write_power_over_every_capable_role(
    #[case] holder: &str,
    #[case] subject_roles: &[(i64, &str)],
    #[case] allowed: bool,
) {
    let roles: Vec<Role> = subject_roles
        .iter()
        .enumerate()
        .map(|(i, &(at, t))| active_role(i64::try_from(i).expect("few roles"), SUBJECT, at, t))
        .collect();
    let a = actor_with(holder, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::UpdateEmail, &subject(&roles)).is_allowed(),
        allowed
    );
}

#[test]
fn update_email_combines_the_grants_of_one_permission() {
    let a = actor(&[
        active_role(1, ACTOR, TEAM_G, GROUP_FULL),
        active_role(2, ACTOR, OTHER_REGION_TEAM, GROUP_FULL),
    ]);
    let roles = [
        active_role(3, SUBJECT, TEAM_G, GROUP_READ),
        active_role(4, SUBJECT, OTHER_REGION_TEAM, GROUP_READ),
    ];
    assert_eq!(
        person(&a, PersonAction::UpdateEmail, &subject(&roles)),
        by(Permission::GroupFull, TEAM_G)
    );
}

#[rstest]
#[case::group_and_below_read(GROUP_BELOW_READ, false)]
#[case::group_and_below_full(GROUP_BELOW_FULL, false)]
#[case::layer_read(LAYER_READ, false)]
#[case::layer_and_below_read(LAYER_BELOW_READ, true)]
fn a_layer_below_g_is_not_part_of_g_below(#[case] holder: &str, #[case] allowed: bool) {
    let roles = [active_role(1, SUBJECT, SUBCLUB_TEAM, MEMBER)];
    let a = actor_with(holder, TEAM_G);
    assert_eq!(
        person(&a, PersonAction::ShowDetails, &subject(&roles)).is_allowed(),
        allowed
    );
}

// ----------------------------------------------------------- group extras

#[test]
fn any_person_with_a_role_sees_every_group_and_nobody_else_does() {
    let a = actor_with(MEMBER, TEAM_G);
    for id in [FEDERATION, CLUB_TEAM, OTHER_REGION_TEAM, ARCHIVED_TEAM] {
        assert_eq!(
            group(&a, GroupAction::Show, g(id), tree()),
            Decision::Allowed(Because::AnyRole)
        );
        assert_eq!(
            group(&actor(&[]), GroupAction::Show, g(id), tree()),
            refused(Refusal::NoPermission)
        );
    }
}

#[test]
fn contact_data_lists_the_people_of_every_group_and_nothing_more() {
    let a = actor_with(CONTACT, TEAM_G);
    assert_eq!(
        group(&a, GroupAction::IndexPeople, g(OTHER_REGION_TEAM), tree()),
        by(Permission::ContactData, TEAM_G)
    );
    for action in [GroupAction::ShowDetails, GroupAction::IndexLocalPeople] {
        assert!(!group(&a, action, g(OTHER_REGION_TEAM), tree()).is_allowed());
    }
}

#[rstest]
#[case::local_people_in_l(GroupAction::IndexLocalPeople, TEAM_LS, true)]
#[case::local_people_below(GroupAction::IndexLocalPeople, CLUB_TEAM, true)]
#[case::local_people_elsewhere(GroupAction::IndexLocalPeople, OTHER_REGION_TEAM, false)]
#[case::no_people_list(GroupAction::IndexPeople, CLUB_TEAM, false)]
#[case::no_details(GroupAction::ShowDetails, CLUB_TEAM, false)]
#[case::no_update(GroupAction::Update, TEAM_G, false)]
fn see_invisible_from_above_lists_local_people_below(
    #[case] action: GroupAction,
    #[case] at: i64,
    #[case] allowed: bool,
) {
    let a = actor_with(SEE_INVISIBLE, TEAM_G);
    assert_eq!(group(&a, action, g(at), tree()).is_allowed(), allowed);
}

/// Archived groups ("act"): most writes need an active group; the layer
/// and below column of `update` and `reactivate` does not.
#[rstest]
#[case::layer_full_update(LAYER_FULL, GroupAction::Update, refused(Refusal::GroupInactive))]
#[case::layer_full_log(LAYER_FULL, GroupAction::Log, refused(Refusal::GroupInactive))]
#[case::layer_full_reactivate(LAYER_FULL, GroupAction::Reactivate, refused(Refusal::GroupInactive))]
#[case::layer_full_destroy(LAYER_FULL, GroupAction::Destroy, by(Permission::LayerFull, TEAM_G))]
#[case::layer_full_details(
    LAYER_FULL,
    GroupAction::ShowDetails,
    by(Permission::LayerRead, TEAM_G)
)]
#[case::layer_and_below_full_update(
    LAYER_BELOW_FULL,
    GroupAction::Update,
    by(Permission::LayerAndBelowFull, TEAM_G)
)]
#[case::layer_and_below_full_log(
    LAYER_BELOW_FULL,
    GroupAction::Log,
    refused(Refusal::GroupInactive)
)]
#[case::layer_and_below_full_reactivate(
    LAYER_BELOW_FULL,
    GroupAction::Reactivate,
    by(Permission::LayerAndBelowFull, TEAM_G)
)]
#[case::layer_read_update(LAYER_READ, GroupAction::Update, refused(Refusal::NoPermission))]
fn archived_group_refuses_writes(
    #[case] holder: &str,
    #[case] action: GroupAction,
    #[case] expected: Decision,
) {
    let a = actor_with(holder, TEAM_G);
    assert_eq!(group(&a, action, g(ARCHIVED_TEAM), tree()), expected);
}

#[test]
fn archived_group_of_g_refuses_group_full_writes_but_reactivation() {
    let a = actor_with(GROUP_FULL, ARCHIVED_TEAM);
    let target = g(ARCHIVED_TEAM);
    let inactive = refused(Refusal::GroupInactive);
    assert_eq!(group(&a, GroupAction::Update, target, tree()), inactive);
    assert_eq!(group(&a, GroupAction::Log, target, tree()), inactive);
    // Reactivation and reading need no active group in the group_full column.
    assert!(group(&a, GroupAction::Reactivate, target, tree()).is_allowed());
    assert!(group(&a, GroupAction::IndexFullPeople, target, tree()).is_allowed());
}

#[rstest]
#[case::update(GroupAction::Update, refused(Refusal::GroupInactive))]
#[case::destroy(GroupAction::Destroy, refused(Refusal::GroupInactive))]
#[case::archive(GroupAction::Archive, refused(Refusal::GroupInactive))]
#[case::reactivate(GroupAction::Reactivate, by(Permission::LayerFull, TEAM_G))]
#[case::show_details(GroupAction::ShowDetails, by(Permission::LayerRead, TEAM_G))]
fn deleted_group_may_only_be_reactivated_or_read(
    #[case] action: GroupAction,
    #[case] expected: Decision,
) {
    let a = actor_with(LAYER_FULL, TEAM_G);
    assert_eq!(group(&a, action, g(DELETED_TEAM), tree()), expected);
}

#[test]
fn deleted_group_is_not_updated_even_by_layer_and_below_full() {
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    assert_eq!(
        group(&a, GroupAction::Update, g(DELETED_TEAM), tree()),
        refused(Refusal::GroupInactive)
    );
}

/// A user cannot destroy a group in which, or whose layer, grants them
/// layer_full or layer_and_below_full (section 3.5).
#[rstest]
#[case::layer_full_own_group(LAYER_FULL, TEAM_G, refused(Refusal::OwnPermissionRole))]
#[case::layer_full_own_layer(LAYER_FULL, REGION, refused(Refusal::OwnPermissionRole))]
#[case::layer_full_sibling_group(LAYER_FULL, TEAM_LS, by(Permission::LayerFull, TEAM_G))]
#[case::layer_full_lower_layer(LAYER_FULL, CLUB, refused(Refusal::NoPermission))]
#[case::layer_and_below_full_own_layer(
    LAYER_BELOW_FULL,
    REGION,
    refused(Refusal::OwnPermissionRole)
)]
#[case::layer_and_below_full_lower_layer(
    LAYER_BELOW_FULL,
    CLUB,
    by(Permission::LayerAndBelowFull, TEAM_G)
)]
#[case::layer_and_below_full_upper_layer(
    LAYER_BELOW_FULL,
    FEDERATION,
    refused(Refusal::NoPermission)
)]
#[case::group_and_below_full_own_group(GROUP_BELOW_FULL, TEAM_G, refused(Refusal::NoPermission))]
#[case::group_and_below_full_sublayer(GROUP_BELOW_FULL, SUBCLUB, refused(Refusal::NoPermission))]
fn permission_giving_groups_are_not_destroyed(
    #[case] holder: &str,
    #[case] target: i64,
    #[case] expected: Decision,
) {
    let a = actor_with(holder, TEAM_G);
    assert_eq!(group(&a, GroupAction::Destroy, g(target), tree()), expected);
    assert_eq!(group(&a, GroupAction::Archive, g(target), tree()), expected);
}

#[test]
fn a_layer_role_elsewhere_protects_its_group_from_any_other_grant() {
    // The federation-level grant would reach the club, but the actor's
    // layer_full role sits in the club's team.
    let a = actor(&[
        active_role(1, ACTOR, FEDERATION_TEAM, LAYER_BELOW_FULL),
        active_role(2, ACTOR, CLUB_TEAM, LAYER_FULL),
    ]);
    assert_eq!(
        group(&a, GroupAction::Destroy, g(CLUB_TEAM), tree()),
        refused(Refusal::OwnPermissionRole)
    );
    assert!(group(&a, GroupAction::Destroy, g(TEAM_LS), tree()).is_allowed());
}

#[rstest]
#[case::group_and_below_full_team_below_g(GROUP_BELOW_FULL, TEAM_GB, false, true)]
#[case::group_and_below_full_no_layer(GROUP_BELOW_FULL, TEAM_G, true, false)]
#[case::group_and_below_full_not_in_a_sublayer(GROUP_BELOW_FULL, SUBCLUB, false, false)]
#[case::layer_full_below_the_layer_group(LAYER_FULL, REGION, false, true)]
#[case::layer_full_no_layer(LAYER_FULL, REGION, true, false)]
#[case::layer_full_not_in_a_lower_layer(LAYER_FULL, CLUB, false, false)]
#[case::layer_and_below_full_layer_below_l(LAYER_BELOW_FULL, REGION, true, true)]
#[case::layer_and_below_full_in_a_lower_layer(LAYER_BELOW_FULL, CLUB, true, true)]
#[case::layer_and_below_full_not_in_the_upper_layer(LAYER_BELOW_FULL, FEDERATION, false, false)]
#[case::group_full_never(GROUP_FULL, TEAM_G, false, false)]
fn may_create_group_follows_the_parent_and_child_kind(
    #[case] holder: &str,
    #[case] parent: i64,
    #[case] child_is_layer: bool,
    #[case] allowed: bool,
) {
    let a = actor_with(holder, TEAM_G);
    assert_eq!(
        may_create_group(&a, g(parent), child_is_layer, tree()).is_allowed(),
        allowed
    );
}

#[rstest]
#[case::archived(ARCHIVED_TEAM)]
#[case::deleted(DELETED_TEAM)]
fn no_group_is_created_below_an_inactive_parent(#[case] parent: i64) {
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    assert_eq!(
        may_create_group(&a, g(parent), false, tree()),
        refused(Refusal::GroupInactive)
    );
}

#[test]
fn permits_follow_the_decisions() {
    let a = actor_with(LAYER_FULL, TEAM_G);
    let permit = permit_update_group(&a, g(TEAM_LS), tree()).expect("layer_full edits Ls");
    assert_eq!(permit.target(), &UpdateGroup(GroupId(TEAM_LS)));
    assert_eq!(
        permit_destroy_group(&a, g(TEAM_G), tree()).map(|_| ()),
        Err(Refusal::OwnPermissionRole)
    );
    assert_eq!(
        permit_create_group(&a, g(REGION), true, tree()).map(|_| ()),
        Err(Refusal::NoPermission)
    );
}

// ------------------------------------------------------------ role extras

fn role_subject(r: &Role) -> RoleSubject<'_> {
    RoleSubject {
        role: r,
        group: g(r.group_id.0),
        role_type: rt(&r.role_type),
    }
}

#[rstest]
#[case::layer_and_below_full_with_see_invisible(actor_with(AUDITOR, TEAM_G), true)]
#[case::see_invisible_from_the_root_layer(labf_and_seer(FEDERATION_TEAM), true)]
#[case::see_invisible_in_the_club_itself(labf_and_seer(CLUB_TEAM), true)]
#[case::see_invisible_in_another_region(labf_and_seer(OTHER_REGION_TEAM), false)]
#[case::layer_and_below_full_alone(actor_with(LAYER_BELOW_FULL, TEAM_G), false)]
fn invisible_roles_below_need_see_invisible(#[case] a: Actor, #[case] allowed: bool) {
    let r = active_role(1, SUBJECT, CLUB_TEAM, SECRET);
    let s = role_subject(&r);
    for action in [RoleAction::Show, RoleAction::Update, RoleAction::Destroy] {
        assert_eq!(
            role(&a, action, &s, tree()).is_allowed(),
            allowed,
            "{action:?}"
        );
    }
    assert_eq!(
        may_create_role(&a, g(CLUB_TEAM), rt(SECRET), tree()).is_allowed(),
        allowed
    );
}

#[test]
fn invisible_roles_in_the_own_layer_need_nothing_more() {
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    let r = active_role(1, SUBJECT, TEAM_LS, SECRET);
    assert!(role(&a, RoleAction::Update, &role_subject(&r), tree()).is_allowed());
}

#[rstest]
#[case::show(RoleAction::Show)]
#[case::update(RoleAction::Update)]
#[case::destroy(RoleAction::Destroy)]
fn roles_of_an_archived_group_are_not_touched(#[case] action: RoleAction) {
    let a = actor_with(LAYER_FULL, TEAM_G);
    let r = active_role(1, SUBJECT, ARCHIVED_TEAM, MEMBER);
    assert_eq!(
        role(&a, action, &role_subject(&r), tree()),
        refused(Refusal::GroupInactive)
    );
}

#[rstest]
#[case::archived(ARCHIVED_TEAM)]
#[case::deleted(DELETED_TEAM)]
fn no_role_is_created_in_an_inactive_group(#[case] at: i64) {
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    assert_eq!(
        may_create_role(&a, g(at), rt(MEMBER), tree()),
        refused(Refusal::GroupInactive)
    );
}

#[rstest]
#[case::update(RoleAction::Update)]
#[case::destroy(RoleAction::Destroy)]
fn restricted_roles_are_refused(#[case] action: RoleAction) {
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    let r = active_role(1, SUBJECT, TEAM_G, MANAGED);
    assert_eq!(
        role(&a, action, &role_subject(&r), tree()),
        refused(Refusal::RestrictedRole)
    );
    assert_eq!(
        role(&root(), action, &role_subject(&r), tree()),
        refused(Refusal::RestrictedRole)
    );
}

#[test]
fn restricted_roles_are_not_created_but_may_be_seen() {
    let a = actor_with(LAYER_BELOW_FULL, TEAM_G);
    assert_eq!(
        may_create_role(&a, g(TEAM_G), rt(MANAGED_LEADER), tree()),
        refused(Refusal::RestrictedRole)
    );
    let r = active_role(1, SUBJECT, TEAM_G, MANAGED);
    assert_eq!(
        role(&a, RoleAction::Show, &role_subject(&r), tree()),
        by(Permission::LayerAndBelowFull, TEAM_G)
    );
}

#[rstest]
#[case::group_full(GROUP_FULL)]
#[case::layer_full(LAYER_FULL)]
#[case::layer_and_below_full(LAYER_BELOW_FULL)]
#[case::layer_and_below_full_with_more(AUDITOR)]
fn own_permission_giving_role_is_not_destroyable(#[case] holder: &str) {
    let own = active_role(1, ACTOR, TEAM_G, holder);
    let a = actor(std::slice::from_ref(&own));
    let s = role_subject(&own);
    assert_eq!(
        role(&a, RoleAction::Destroy, &s, tree()),
        refused(Refusal::OwnPermissionRole)
    );
    assert!(role(&a, RoleAction::Update, &s, tree()).is_allowed());
}

// hitobito leaves group_and_below_full unprotected; we protect it like the
// other write permissions (see `RoleType::is_self_protected`).
#[test]
fn own_group_and_below_full_role_is_not_destroyable() {
    let own = active_role(1, ACTOR, TEAM_G, GROUP_BELOW_FULL);
    let a = actor(std::slice::from_ref(&own));
    assert_eq!(
        role(&a, RoleAction::Destroy, &role_subject(&own), tree()),
        refused(Refusal::OwnPermissionRole)
    );
}

#[test]
fn own_plain_role_may_be_destroyed_with_a_leading_role() {
    let roles = [
        active_role(1, ACTOR, TEAM_G, LAYER_FULL),
        active_role(2, ACTOR, TEAM_LS, MEMBER),
    ];
    let a = actor(&roles);
    assert!(role(&a, RoleAction::Destroy, &role_subject(&roles[1]), tree()).is_allowed());
}

#[test]
fn someone_elses_protected_role_may_be_destroyed() {
    let a = actor_with(LAYER_FULL, TEAM_G);
    let r = active_role(1, SUBJECT, TEAM_LS, LAYER_FULL);
    assert!(role(&a, RoleAction::Destroy, &role_subject(&r), tree()).is_allowed());
}

#[test]
fn own_terminatable_role_may_be_terminated() {
    let own = active_role(1, ACTOR, OTHER_REGION_TEAM, VOLUNTEER);
    let a = actor(std::slice::from_ref(&own));
    let s = role_subject(&own);
    assert_eq!(
        role(&a, RoleAction::Terminate, &s, tree()),
        Decision::Allowed(Because::Herself)
    );
    assert_eq!(
        may_terminate_role(&a, &s, tree(), today()),
        Decision::Allowed(Because::Herself)
    );
}

fn terminated(mut r: Role) -> Role {
    r.is_terminated = true;
    r
}

#[rstest]
#[case::type_not_terminatable(active_role(1, ACTOR, TEAM_G, MEMBER))]
#[case::already_terminated(terminated(active_role(1, ACTOR, TEAM_G, VOLUNTEER)))]
#[case::archived(Role { archived_at: Some(now()), ..active_role(1, ACTOR, TEAM_G, VOLUNTEER) })]
#[case::ended(ended(active_role(1, ACTOR, TEAM_G, VOLUNTEER), day(2025, 3, 1)))]
#[case::not_yet_started(future(active_role(1, ACTOR, TEAM_G, VOLUNTEER)))]
fn roles_that_cannot_be_terminated(#[case] own: Role) {
    let a = actor_with(MEMBER, TEAM_G);
    assert_eq!(
        may_terminate_role(&a, &role_subject(&own), tree(), today()),
        refused(Refusal::NotTerminatable)
    );
}

#[rstest]
#[case::group_full_in_g(GROUP_FULL, TEAM_G, by(Permission::GroupFull, TEAM_G))]
#[case::group_full_elsewhere(GROUP_FULL, TEAM_LS, refused(Refusal::NoPermission))]
#[case::read_permission(LAYER_READ, TEAM_G, refused(Refusal::NoPermission))]
fn others_terminate_roles_like_they_update_them(
    #[case] holder: &str,
    #[case] at: i64,
    #[case] expected: Decision,
) {
    let a = actor_with(holder, TEAM_G);
    let r = active_role(1, SUBJECT, at, VOLUNTEER);
    assert_eq!(
        may_terminate_role(&a, &role_subject(&r), tree(), today()),
        expected
    );
}

#[test]
fn terminating_a_restricted_role_is_refused() {
    let own = active_role(1, ACTOR, TEAM_G, MANAGED);
    let a = actor(std::slice::from_ref(&own));
    assert_eq!(
        role(&a, RoleAction::Terminate, &role_subject(&own), tree()),
        refused(Refusal::RestrictedRole)
    );
}

// ----------------------------------------------------------- people lists

/// Section 4.4, the per-group list: which part of a group's people the
/// actor sees.
#[rstest]
#[case::group_read_in_g(GROUP_READ, TEAM_G, Some(ListVisibility::All))]
#[case::group_read_not_below(GROUP_READ, TEAM_GB, None)]
#[case::group_full_through_group_read(GROUP_FULL, TEAM_G, Some(ListVisibility::All))]
#[case::group_and_below_read_below(GROUP_BELOW_READ, TEAM_GB, Some(ListVisibility::All))]
#[case::group_and_below_read_not_beside(GROUP_BELOW_READ, TEAM_LS, None)]
#[case::group_and_below_read_not_in_a_sublayer(GROUP_BELOW_READ, SUBCLUB_TEAM, None)]
#[case::layer_read_in_layer(LAYER_READ, TEAM_LS, Some(ListVisibility::All))]
#[case::layer_read_not_below(LAYER_READ, CLUB_TEAM, None)]
#[case::layer_full_not_below(LAYER_FULL, CLUB_TEAM, None)]
#[case::layer_and_below_read_in_layer(LAYER_BELOW_READ, TEAM_LS, Some(ListVisibility::All))]
#[case::layer_and_below_read_below(
    LAYER_BELOW_READ,
    CLUB_TEAM,
    Some(ListVisibility::VisibleFromAbove)
)]
#[case::layer_and_below_full_below(
    LAYER_BELOW_FULL,
    SUBCLUB_TEAM,
    Some(ListVisibility::VisibleFromAbove)
)]
#[case::layer_and_below_read_not_above(LAYER_BELOW_READ, FEDERATION_TEAM, None)]
#[case::see_invisible_below(SEE_INVISIBLE, CLUB_TEAM, Some(ListVisibility::All))]
#[case::see_invisible_not_beside(SEE_INVISIBLE, OTHER_REGION_TEAM, None)]
#[case::auditor_below(AUDITOR, CLUB_TEAM, Some(ListVisibility::All))]
#[case::contact_data_anywhere(CONTACT, OTHER_REGION_TEAM, Some(ListVisibility::ContactDataOnly))]
#[case::no_permission(MEMBER, TEAM_G, None)]
#[case::group_full_not_below(GROUP_FULL, TEAM_GB, None)]
fn people_list_cases(
    #[case] holder: &str,
    #[case] at: i64,
    #[case] expected: Option<ListVisibility>,
) {
    let a = actor_with(holder, TEAM_G);
    assert_eq!(people_list(&a, g(at), tree()), expected);
}

#[test]
fn root_lists_everyone_everywhere() {
    assert_eq!(
        people_list(&root(), g(OTHER_REGION_TEAM), tree()),
        Some(ListVisibility::All)
    );
}

#[test]
fn a_better_grant_wins_over_contact_data() {
    let a = actor(&[
        active_role(1, ACTOR, TEAM_G, CONTACT),
        active_role(2, ACTOR, FEDERATION_TEAM, LAYER_BELOW_READ),
    ]);
    assert_eq!(
        people_list(&a, g(CLUB_TEAM), tree()),
        Some(ListVisibility::VisibleFromAbove)
    );
    assert_eq!(
        people_list(&a, g(FEDERATION_TEAM), tree()),
        Some(ListVisibility::All)
    );
}

// Regression: a *_full holder could attach a role to any person id and so
// make a person hidden from them visible and editable.
#[test]
fn role_for_a_person_one_may_not_see_is_refused() {
    let a = actor_with(LAYER_BELOW_FULL, REGION);
    let hidden = [active_role(2, SUBJECT, CLUB_TEAM, SECRET)];
    let s = subject(&hidden);
    assert!(!person(&a, PersonAction::Show, &s).is_allowed());
    assert!(may_create_role(&a, g(TEAM_G), rt(MEMBER), tree()).is_allowed());
    assert_eq!(
        permit_create_role(&a, g(TEAM_G), rt(MEMBER), &s, tree()).err(),
        Some(Refusal::NoPermission)
    );

    let visible = [active_role(2, SUBJECT, CLUB_TEAM, MEMBER)];
    let s = subject(&visible);
    assert!(permit_create_role(&a, g(TEAM_G), rt(MEMBER), &s, tree()).is_ok());
}
