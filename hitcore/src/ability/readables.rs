//! Which people and groups a viewer may find: the "readables" of section
//! 4.4 (hitobito's `PersonReadables`), as data a store can turn into SQL.
//!
//! The per-record decisions live in the engine ([`super::person`]); this
//! module describes the same visibility for a whole table at once, so a
//! search can filter in the database instead of loading every hit and
//! asking about each. It decides nothing about a single person and does
//! no I/O.

use serde::Serialize;

use super::{Actor, Because, Decision, Grant};
use crate::id::{GroupId, PersonId};
use crate::org::Organisation;
use crate::permission::Permission;

/// How far an area around a group reaches, measured in the group tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaReach {
    /// The group itself.
    Group,
    /// The group and its subgroups inside the group's own layer.
    GroupAndBelow,
    /// Every group of the layer (the area's group is the layer group).
    Layer,
    /// The layer group's whole subtree, layers below included.
    LayerAndBelow,
}

/// Part of the tree in which an active role makes its holder visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RoleArea {
    pub reach: AreaReach,
    /// The permission group for [`AreaReach::Group`] and
    /// [`AreaReach::GroupAndBelow`]; the layer group for the other two.
    pub group_id: GroupId,
    /// Only roles of types visible from above count
    /// ([`PeopleScope::visible_from_above`]).
    pub is_visible_from_above_only: bool,
}

/// The people a viewer may find (section 4.4, `PersonReadables`): an OR of
/// the parts below. Roles count when they are active on the day of the
/// query, not archived, and sit in a group that is not deleted.
///
/// Limitations: hitobito also lets layer_full and layer_and_below_full
/// holders find deleted people (without active roles) of their layers, and
/// lets managers find the people they manage; neither exists here yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeopleScope {
    /// Everyone (the root user); the other fields are then irrelevant.
    pub is_everyone: bool,
    /// The viewer, who always finds themselves.
    pub person_id: PersonId,
    /// People whose contact data is visible (the `contact_data` permission).
    pub includes_contact_data_visible: bool,
    /// People without any active role (the `admin` permission).
    pub includes_people_without_roles: bool,
    /// People with an active role in one of these areas; sorted, each once.
    pub areas: Vec<RoleArea>,
    /// The keys of the role types visible from above, for the areas that
    /// count only those (empty when no area does).
    pub visible_from_above: Vec<String>,
}

impl PeopleScope {
    /// Whether the scope finds nobody but the viewer.
    pub fn is_self_only(&self) -> bool {
        !self.is_everyone
            && !self.includes_contact_data_visible
            && !self.includes_people_without_roles
            && self.areas.is_empty()
    }
}

/// What a search may return to a viewer: which people, and whether groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchScope {
    pub people: PeopleScope,
    /// Every non-deleted group is readable to anyone with an active role
    /// (and to root); people without roles find no groups.
    pub sees_groups: bool,
}

/// May the actor use the search at all? Anyone signed in may (never
/// refused today); what they find is limited by [`search_scope`].
pub fn search(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else if actor.has_role {
        Decision::Allowed(Because::AnyRole)
    } else {
        Decision::Allowed(Because::Herself)
    }
}

/// What the actor finds in a search: [`people_scope`] and the groups rule.
pub fn search_scope(actor: &Actor, org: &Organisation) -> SearchScope {
    SearchScope {
        people: people_scope(actor, org),
        sees_groups: actor.is_root || actor.has_role,
    }
}

/// The people the actor may find, following section 4.4's
/// `PersonReadables`:
///
/// * group_read and group_full: roles in the permission group;
/// * group_and_below_read and _full: roles in its subtree inside its layer;
/// * any layer_* permission and see_invisible_from_above: roles in the
///   layer;
/// * layer_and_below_read and _full: roles of types visible from above
///   anywhere in the layer's subtree;
/// * see_invisible_from_above: any role in the layer's subtree;
/// * contact_data: people whose contact data is visible;
/// * admin: people without active roles (hitobito's search for admins);
/// * the actor themselves; root: everyone.
///
/// Every hit is thereby someone [`super::person`] lets the actor `show`.
pub fn people_scope(actor: &Actor, org: &Organisation) -> PeopleScope {
    let mut areas: Vec<RoleArea> = actor.grants.iter().flat_map(areas_of).collect();
    areas.sort();
    areas.dedup();
    let areas = without_covered(areas);
    let visible_from_above = if areas.iter().any(|a| a.is_visible_from_above_only) {
        org.visible_from_above_keys()
    } else {
        Vec::new()
    };
    let holds = |p: Permission| actor.grants.iter().any(|g| g.permission == p);
    PeopleScope {
        is_everyone: actor.is_root,
        person_id: actor.person_id,
        includes_contact_data_visible: holds(Permission::ContactData),
        includes_people_without_roles: holds(Permission::Admin),
        areas,
        visible_from_above,
    }
}

/// The areas one grant makes readable (none for permissions that read no
/// people).
fn areas_of(grant: &Grant) -> Vec<RoleArea> {
    let area = |reach, group_id, is_visible_from_above_only| RoleArea {
        reach,
        group_id,
        is_visible_from_above_only,
    };
    let (group, layer) = (grant.group_id, grant.layer_group_id);
    match grant.permission {
        Permission::GroupRead | Permission::GroupFull => vec![area(AreaReach::Group, group, false)],
        Permission::GroupAndBelowRead | Permission::GroupAndBelowFull => {
            vec![area(AreaReach::GroupAndBelow, group, false)]
        }
        Permission::LayerRead | Permission::LayerFull => vec![area(AreaReach::Layer, layer, false)],
        Permission::LayerAndBelowRead | Permission::LayerAndBelowFull => vec![
            area(AreaReach::Layer, layer, false),
            area(AreaReach::LayerAndBelow, layer, true),
        ],
        Permission::SeeInvisibleFromAbove => vec![
            area(AreaReach::Layer, layer, false),
            area(AreaReach::LayerAndBelow, layer, false),
        ],
        _ => Vec::new(),
    }
}

/// Drops the areas another area of the same group contains: a layer, or
/// the visible-only subtree, beside the unrestricted subtree of that layer.
/// (Containment across different groups is left to the database; it only
/// costs a repeated condition.)
fn without_covered(areas: Vec<RoleArea>) -> Vec<RoleArea> {
    let whole_subtree = |group_id: GroupId| {
        areas.iter().any(|a| {
            a.reach == AreaReach::LayerAndBelow
                && !a.is_visible_from_above_only
                && a.group_id == group_id
        })
    };
    let is_covered = |a: &RoleArea| {
        let is_part = a.reach == AreaReach::Layer
            || (a.reach == AreaReach::LayerAndBelow && a.is_visible_from_above_only);
        is_part && whole_subtree(a.group_id)
    };
    areas.iter().filter(|a| !is_covered(a)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = r#"
[organisation]
name = "T"
root = "Top"

[group_types.Top]
layer = true
children = ["Club", "Team"]

[[group_types.Top.roles]]
key = "Admin"
permissions = ["admin", "layer_and_below_full"]

[[group_types.Top.roles]]
key = "Auditor"
permissions = ["layer_and_below_read", "see_invisible_from_above"]

[group_types.Team]

[[group_types.Team.roles]]
key = "Lead"
permissions = ["group_and_below_full", "contact_data"]

[[group_types.Team.roles]]
key = "Reader"
permissions = ["group_read"]

[group_types.Club]
layer = true

[[group_types.Club.roles]]
key = "Leader"
permissions = ["layer_full"]

[[group_types.Club.roles]]
key = "Junior"
visible_from_above = false
"#;

    fn org() -> Organisation {
        Organisation::from_toml(ORG, "t.toml").expect("org")
    }

    fn grant(permission: Permission, group: i64, layer: i64) -> Grant {
        Grant {
            permission,
            group_id: GroupId(group),
            layer_group_id: GroupId(layer),
            is_group_active: true,
        }
    }

    fn actor(grants: Vec<Grant>) -> Actor {
        Actor {
            person_id: PersonId(7),
            is_root: false,
            has_role: !grants.is_empty(),
            grants,
        }
    }

    fn area(reach: AreaReach, group: i64, is_visible_from_above_only: bool) -> RoleArea {
        RoleArea {
            reach,
            group_id: GroupId(group),
            is_visible_from_above_only,
        }
    }

    #[test]
    fn person_without_roles_finds_only_themselves_and_no_groups() {
        let a = actor(Vec::new());
        let scope = search_scope(&a, &org());
        assert!(scope.people.is_self_only());
        assert_eq!(scope.people.person_id, PersonId(7));
        assert!(!scope.sees_groups);
        assert!(search(&a).is_allowed());
    }

    #[test]
    fn root_finds_everyone_and_every_group() {
        let mut a = actor(Vec::new());
        a.is_root = true;
        let scope = search_scope(&a, &org());
        assert!(scope.people.is_everyone);
        assert!(scope.sees_groups);
        assert_eq!(search(&a), Decision::Allowed(Because::Root));
    }

    #[test]
    fn any_role_without_read_permissions_sees_groups_but_only_self() {
        let mut a = actor(Vec::new());
        a.has_role = true;
        let scope = search_scope(&a, &org());
        assert!(scope.sees_groups);
        assert!(scope.people.is_self_only());
    }

    #[test]
    fn group_permissions_read_their_group_or_its_local_subtree() {
        let a = actor(vec![
            grant(Permission::GroupRead, 5, 1),
            grant(Permission::GroupAndBelowFull, 6, 1),
            grant(Permission::GroupAndBelowRead, 6, 1),
        ]);
        let scope = people_scope(&a, &org());
        assert_eq!(
            scope.areas,
            [
                area(AreaReach::Group, 5, false),
                area(AreaReach::GroupAndBelow, 6, false)
            ]
        );
        assert!(scope.visible_from_above.is_empty());
        assert!(!scope.includes_contact_data_visible);
    }

    #[test]
    fn layer_and_below_reads_the_layer_and_visible_roles_below() {
        let a = actor(vec![
            grant(Permission::LayerAndBelowFull, 3, 2),
            grant(Permission::LayerAndBelowRead, 3, 2),
            grant(Permission::ContactData, 3, 2),
        ]);
        let scope = people_scope(&a, &org());
        assert_eq!(
            scope.areas,
            [
                area(AreaReach::Layer, 2, false),
                area(AreaReach::LayerAndBelow, 2, true)
            ]
        );
        assert!(scope.includes_contact_data_visible);
        assert!(scope.visible_from_above.contains(&"Club.Leader".to_owned()));
        assert!(!scope.visible_from_above.contains(&"Club.Junior".to_owned()));
    }

    #[test]
    fn see_invisible_reads_the_whole_subtree_and_covers_the_rest_of_its_layer() {
        let a = actor(vec![
            grant(Permission::LayerAndBelowRead, 1, 1),
            grant(Permission::SeeInvisibleFromAbove, 1, 1),
            grant(Permission::LayerRead, 9, 8),
        ]);
        let scope = people_scope(&a, &org());
        assert_eq!(
            scope.areas,
            [
                area(AreaReach::Layer, 8, false),
                area(AreaReach::LayerAndBelow, 1, false)
            ]
        );
        assert!(scope.visible_from_above.is_empty());
    }

    #[test]
    fn admin_finds_people_without_roles() {
        let a = actor(vec![grant(Permission::Admin, 1, 1)]);
        let scope = people_scope(&a, &org());
        assert!(scope.includes_people_without_roles);
        assert!(scope.areas.is_empty());
    }

    #[test]
    fn permissions_that_read_no_people_add_nothing() {
        let a = actor(vec![
            grant(Permission::Finance, 1, 1),
            grant(Permission::ApproveApplications, 1, 1),
            grant(Permission::Impersonation, 1, 1),
            grant(Permission::ManualDeletion, 1, 1),
        ]);
        assert!(people_scope(&a, &org()).is_self_only());
    }
}
