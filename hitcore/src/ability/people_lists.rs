//! What a people list (and an export of one) covers for a viewer: which
//! groups, which role holders, and whether the full column set may be
//! exported.
//!
//! The web page and the export job both build their store query here, so a
//! job that runs later, from the requester's roles at that moment, asks the
//! store exactly what the page would have shown. Parsing request
//! parameters stays with the callers; this module decides nothing about a
//! single person and does no I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Actor, Decision, GroupAction, ListVisibility, Refusal, group, people_list};
use crate::group::{Group, GroupTree};
use crate::org::{Organisation, RoleKind};
use crate::store::{GroupScope, ListFilter, PeopleQuery};

/// How far a people list reaches from its group (hitobito's `range`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListRange {
    /// Roles in the group itself.
    #[default]
    Group,
    /// Roles anywhere in the group's layer.
    Layer,
    /// Roles in the group's whole subtree, lower layers included.
    Deep,
}

impl ListRange {
    /// The range as URLs and job payloads spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ListRange::Group => "group",
            ListRange::Layer => "layer",
            ListRange::Deep => "deep",
        }
    }

    /// The range spelled `value`, if it is one.
    pub fn parse(value: &str) -> Option<ListRange> {
        match value {
            "group" => Some(ListRange::Group),
            "layer" => Some(ListRange::Layer),
            "deep" => Some(ListRange::Deep),
            _ => None,
        }
    }
}

/// A people list as a viewer asks for it, parameters already checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ListRequest<'a> {
    /// The group whose list it is.
    pub group: &'a Group,
    pub range: ListRange,
    /// Only roles of this kind count.
    pub kind: RoleKind,
    /// Only roles of this type count; one of another kind than `kind`, or
    /// unknown to the organisation, matches nobody.
    pub role_type: Option<&'a str>,
    /// Passed on to [`PeopleQuery::text`].
    pub text: Option<&'a str>,
    /// Roles active on this day count.
    pub today: NaiveDate,
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

/// The store query for a people list, or why the viewer may not have it.
///
/// Any list needs [`people_list`] on the group. The wider ranges need more:
/// `layer` needs [`GroupAction::IndexLocalPeople`] and a list on the layer
/// group, and is filtered as that list is; `deep` needs
/// [`GroupAction::IndexDeepFullPeople`] on the group.
///
/// Limitations: a deep list that reaches into lower layers shows only
/// holders of roles visible from above, even in the own layer, because one
/// [`ListFilter`] covers the whole query.
///
/// # Errors
/// [`Refusal::NoPermission`] when the viewer may not list the group, or
/// not over the requested range.
pub fn people_list_query(
    actor: &Actor,
    tree: &GroupTree,
    org: &Organisation,
    request: &ListRequest<'_>,
) -> Result<PeopleQuery, Refusal> {
    let g = request.group;
    let visibility = people_list(actor, g, tree).ok_or(Refusal::NoPermission)?;
    let (scope, visibility) = match request.range {
        ListRange::Group => (GroupScope::Group(g.id), visibility),
        ListRange::Layer => (GroupScope::Layer(g.id), layer_visibility(actor, g, tree)?),
        ListRange::Deep => (
            GroupScope::Deep(g.id),
            deep_visibility(actor, g, tree, visibility)?,
        ),
    };
    Ok(PeopleQuery {
        scope,
        filter: list_filter(org, visibility),
        role_types: Some(role_types(org, request.kind, request.role_type)),
        text: request.text.map(str::to_owned),
        today: request.today,
        page: request.page,
        per_page: request.per_page,
    })
}

/// Whether the viewer may export the full column set (birthday, gender,
/// additional information, non-public contact accounts) of a list over
/// `range`: [`GroupAction::IndexFullPeople`] on the group for the group
/// range, [`GroupAction::IndexDeepFullPeople`] for the layer and deep
/// ranges.
///
/// The layer range needs the deep permission as in hitobito (section 9.1
/// of the domain notes): with `index_full_people` alone, a `group_full`
/// holder of a layer group would get the full data of the whole layer,
/// which that permission never shows them person by person.
pub fn full_people_export(
    actor: &Actor,
    g: &Group,
    range: ListRange,
    tree: &GroupTree,
) -> Decision {
    let action = match range {
        ListRange::Group => GroupAction::IndexFullPeople,
        ListRange::Layer | ListRange::Deep => GroupAction::IndexDeepFullPeople,
    };
    group(actor, action, g, tree)
}

/// The visibility of a layer-wide list: that of the layer group's list.
fn layer_visibility(actor: &Actor, g: &Group, tree: &GroupTree) -> Result<ListVisibility, Refusal> {
    let layer = tree.layer_of(g.id).unwrap_or(g);
    refused_as_error(group(actor, GroupAction::IndexLocalPeople, layer, tree))?;
    people_list(actor, layer, tree).ok_or(Refusal::NoPermission)
}

/// The visibility of a list of the whole subtree: the group's, narrowed to
/// the roles visible from above when lower layers are part of it (root
/// excepted).
fn deep_visibility(
    actor: &Actor,
    g: &Group,
    tree: &GroupTree,
    visibility: ListVisibility,
) -> Result<ListVisibility, Refusal> {
    refused_as_error(group(actor, GroupAction::IndexDeepFullPeople, g, tree))?;
    let has_sublayers = tree
        .iter()
        .any(|o| o.is_in_subtree_of(g.id) && o.layer_group_id != g.layer_group_id);
    Ok(match visibility {
        ListVisibility::All if has_sublayers && !actor.is_root => ListVisibility::VisibleFromAbove,
        v => v,
    })
}

fn refused_as_error(decision: Decision) -> Result<(), Refusal> {
    match decision {
        Decision::Allowed(_) => Ok(()),
        Decision::Refused(r) => Err(r),
    }
}

fn list_filter(org: &Organisation, visibility: ListVisibility) -> ListFilter {
    match visibility {
        ListVisibility::All => ListFilter::All,
        ListVisibility::VisibleFromAbove => ListFilter::RoleTypes(org.visible_from_above_keys()),
        ListVisibility::ContactDataOnly => ListFilter::ContactDataOnly,
    }
}

/// The role types that count: the one asked for when it is of the kind
/// asked for, none when it is not (nobody matches both), else every type
/// of the kind.
fn role_types(org: &Organisation, kind: RoleKind, role_type: Option<&str>) -> Vec<String> {
    match role_type {
        Some(r) if org.role_type(r).is_some_and(|t| t.kind == kind) => vec![r.to_owned()],
        Some(_) => Vec::new(),
        None => org.role_keys_of_kinds(&[kind]),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use chrono::{DateTime, TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::group::Address;
    use crate::id::{GroupId, PersonId, RoleId};
    use crate::role::Role;

    //  1 Federation ─┬─ 2 Board
    //                └─ 3 Region ─┬─ 4 Team
    //                             └─ 5 Club ── 6 Team
    const ORG_TOML: &str = r#"
[organisation]
name = "List test federation"
root = "Federation"
languages = ["en"]

[group_types.Federation]
layer = true
children = ["Board", "Region"]

[group_types.Region]
layer = true
children = ["Team", "Club"]

[group_types.Club]
layer = true
children = ["Team"]

[group_types.Board]

[[group_types.Board.roles]]
key = "Auditor"
permissions = ["layer_and_below_read"]

[group_types.Team]
children = ["Team"]

[[group_types.Team.roles]]
key = "Member"

[[group_types.Team.roles]]
key = "Passive"
kind = "passive"

[[group_types.Team.roles]]
key = "Hidden"
visible_from_above = false

[[group_types.Team.roles]]
key = "Leader"
permissions = ["group_full"]

[[group_types.Team.roles]]
key = "LayerReader"
permissions = ["layer_read"]

[[group_types.Team.roles]]
key = "Contact"
permissions = ["contact_data"]
kind = "external"
"#;

    const FEDERATION: i64 = 1;
    const BOARD: i64 = 2;
    const REGION: i64 = 3;
    const TEAM: i64 = 4;
    const CLUB: i64 = 5;
    const CLUB_TEAM: i64 = 6;

    static ORG: LazyLock<Organisation> = LazyLock::new(|| {
        Organisation::from_toml(ORG_TOML, "lists-test.toml").expect("the test organisation loads")
    });

    static TREE: LazyLock<GroupTree> = LazyLock::new(|| {
        GroupTree::new(vec![
            make_group(FEDERATION, &[1], FEDERATION, "Federation"),
            make_group(BOARD, &[1, 2], FEDERATION, "Board"),
            make_group(REGION, &[1, 3], REGION, "Region"),
            make_group(TEAM, &[1, 3, 4], REGION, "Team"),
            make_group(CLUB, &[1, 3, 5], CLUB, "Club"),
            make_group(CLUB_TEAM, &[1, 3, 5, 6], CLUB, "Team"),
        ])
    });

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 9, 0, 0)
            .single()
            .expect("valid time")
    }

    fn today() -> NaiveDate {
        now().date_naive()
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

    fn g(id: i64) -> &'static Group {
        TREE.get(GroupId(id)).expect("group of the fixture")
    }

    fn actor(role_type: &str, at: i64) -> Actor {
        let role = Role {
            id: RoleId(1),
            person_id: PersonId(100),
            group_id: GroupId(at),
            role_type: role_type.to_owned(),
            label: None,
            start_on: None,
            end_on: None,
            archived_at: None,
            is_terminated: false,
            created_at: now(),
            updated_at: now(),
        };
        Actor::new(PersonId(100), false, &[role], &TREE, &ORG, today())
    }

    fn root() -> Actor {
        Actor::new(PersonId(1), true, &[], &TREE, &ORG, today())
    }

    fn request(group: i64, range: ListRange) -> ListRequest<'static> {
        ListRequest {
            group: g(group),
            range,
            kind: RoleKind::Member,
            role_type: None,
            text: None,
            today: today(),
            page: 1,
            per_page: 50,
        }
    }

    fn query(a: &Actor, group: i64, range: ListRange) -> Result<PeopleQuery, Refusal> {
        people_list_query(a, &TREE, &ORG, &request(group, range))
    }

    fn visible_from_above() -> ListFilter {
        ListFilter::RoleTypes(ORG.visible_from_above_keys())
    }

    #[rstest]
    // A layer reader lists each range of its own layer's groups.
    #[case("Team.LayerReader", TEAM, TEAM, ListRange::Group, Some((GroupScope::Group(GroupId(TEAM)), ListFilter::All)))]
    #[case("Team.LayerReader", TEAM, TEAM, ListRange::Layer, Some((GroupScope::Layer(GroupId(TEAM)), ListFilter::All)))]
    #[case("Team.LayerReader", TEAM, TEAM, ListRange::Deep, Some((GroupScope::Deep(GroupId(TEAM)), ListFilter::All)))]
    // Deep over a lower layer: only roles visible from above.
    #[case("Team.LayerReader", TEAM, REGION, ListRange::Deep, Some((GroupScope::Deep(GroupId(REGION)), visible_from_above())))]
    // A group leader lists the group, but neither its layer nor deep.
    #[case("Team.Leader", TEAM, TEAM, ListRange::Group, Some((GroupScope::Group(GroupId(TEAM)), ListFilter::All)))]
    #[case("Team.Leader", TEAM, TEAM, ListRange::Layer, None)]
    #[case("Team.Leader", TEAM, TEAM, ListRange::Deep, None)]
    // Nothing at all outside what the role reaches.
    #[case("Team.Leader", TEAM, CLUB_TEAM, ListRange::Group, None)]
    #[case("Team.Member", TEAM, TEAM, ListRange::Group, None)]
    // layer_and_below_read lists lower layers filtered, deep included.
    #[case("Board.Auditor", BOARD, CLUB_TEAM, ListRange::Group, Some((GroupScope::Group(GroupId(CLUB_TEAM)), visible_from_above())))]
    // ... but not the layer range there, which needs a list of the layer.
    #[case("Board.Auditor", BOARD, CLUB_TEAM, ListRange::Layer, None)]
    #[case("Board.Auditor", BOARD, REGION, ListRange::Deep, Some((GroupScope::Deep(GroupId(REGION)), visible_from_above())))]
    // contact_data lists any group, but only contact-data people, and no
    // wider range.
    #[case("Team.Contact", TEAM, CLUB_TEAM, ListRange::Group, Some((GroupScope::Group(GroupId(CLUB_TEAM)), ListFilter::ContactDataOnly)))]
    #[case("Team.Contact", TEAM, CLUB_TEAM, ListRange::Layer, None)]
    #[case("Team.Contact", TEAM, CLUB_TEAM, ListRange::Deep, None)]
    fn ranges_are_allowed_or_refused(
        #[case] role_type: &str,
        #[case] at: i64,
        #[case] group: i64,
        #[case] range: ListRange,
        #[case] expected: Option<(GroupScope, ListFilter)>,
    ) {
        let got = query(&actor(role_type, at), group, range);
        match expected {
            Some((scope, filter)) => {
                let q = got.expect("allowed");
                assert_eq!((q.scope, q.filter), (scope, filter));
            }
            None => assert_eq!(got, Err(Refusal::NoPermission)),
        }
    }

    #[test]
    fn root_lists_deep_without_a_filter() {
        let q = query(&root(), REGION, ListRange::Deep).expect("allowed");
        assert_eq!(q.filter, ListFilter::All);
    }

    #[test]
    fn the_query_carries_the_request() {
        let r = ListRequest {
            text: Some("ann"),
            page: 3,
            per_page: 1000,
            ..request(TEAM, ListRange::Group)
        };
        let q =
            people_list_query(&actor("Team.LayerReader", TEAM), &TREE, &ORG, &r).expect("allowed");
        assert_eq!(q.text.as_deref(), Some("ann"));
        assert_eq!((q.today, q.page, q.per_page), (today(), 3, 1000));
        let members = q.role_types.expect("role types");
        assert!(members.iter().any(|m| m == "Team.Member"), "{members:?}");
        assert!(
            !members
                .iter()
                .any(|m| m == "Team.Passive" || m == "Team.Contact"),
            "{members:?}"
        );
    }

    #[rstest]
    #[case(RoleKind::Member, Some("Team.Member"), vec!["Team.Member"])]
    #[case(RoleKind::Passive, Some("Team.Passive"), vec!["Team.Passive"])]
    #[case(RoleKind::Passive, Some("Team.Member"), vec![])]
    #[case(RoleKind::Member, Some("Nowhere.Nobody"), vec![])]
    #[case(RoleKind::External, None, vec!["Team.Contact"])]
    fn role_type_and_kind_intersect(
        #[case] kind: RoleKind,
        #[case] role_type: Option<&str>,
        #[case] expected: Vec<&str>,
    ) {
        let r = ListRequest {
            kind,
            role_type,
            ..request(TEAM, ListRange::Group)
        };
        let q = people_list_query(&root(), &TREE, &ORG, &r).expect("allowed");
        assert_eq!(q.role_types.expect("role types"), expected);
    }

    #[rstest]
    #[case("Team.LayerReader", TEAM, TEAM, ListRange::Group, true)]
    #[case("Team.LayerReader", TEAM, TEAM, ListRange::Layer, true)]
    #[case("Team.LayerReader", TEAM, TEAM, ListRange::Deep, true)]
    #[case("Team.Leader", TEAM, TEAM, ListRange::Group, true)]
    #[case("Team.Leader", TEAM, TEAM, ListRange::Layer, false)]
    #[case("Team.Contact", TEAM, TEAM, ListRange::Group, false)]
    #[case("Team.Member", TEAM, TEAM, ListRange::Group, false)]
    #[case("Board.Auditor", BOARD, CLUB_TEAM, ListRange::Group, true)]
    fn full_export_needs_the_full_list_permission(
        #[case] role_type: &str,
        #[case] at: i64,
        #[case] group: i64,
        #[case] range: ListRange,
        #[case] allowed: bool,
    ) {
        let a = actor(role_type, at);
        assert_eq!(
            full_people_export(&a, g(group), range, &TREE).is_allowed(),
            allowed
        );
    }

    #[test]
    fn ranges_round_trip_through_their_names() {
        for r in [ListRange::Group, ListRange::Layer, ListRange::Deep] {
            assert_eq!(ListRange::parse(r.as_str()), Some(r));
        }
        assert_eq!(ListRange::parse("everything"), None);
    }
}
