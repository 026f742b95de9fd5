//! Groups: the tree the whole organisation hangs on, and the rules for
//! creating, editing, deleting and archiving its nodes.
//!
//! The tree is stored as a materialised path of ids (see ARCHITECTURE.md,
//! "Group tree"). This module holds the types and pure rules only; the
//! stores execute what the rules decide.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::GroupId;
use crate::org::Organisation;
use crate::validate::{Violations, clean, email, single_line};

/// A group, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub parent_id: Option<GroupId>,
    /// Ids from the root down to this group, this group included.
    pub path: Vec<GroupId>,
    /// The layer this group belongs to; a layer group points to itself.
    pub layer_group_id: GroupId,
    /// The group type key from the organisation definition.
    pub group_type: String,
    pub name: String,
    pub short_name: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    pub address: Address,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A postal address, as groups and people carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub address_care_of: Option<String>,
    pub street: Option<String>,
    pub housenumber: Option<String>,
    pub postbox: Option<String>,
    pub zip_code: Option<String>,
    pub town: Option<String>,
    pub country: Option<String>,
}

impl Address {
    /// Trims every field but the zip code (blank ones become none) and
    /// records lines that are too long or broken.
    pub fn cleaned(self, v: &mut Violations) -> Address {
        let a = Address {
            address_care_of: clean(self.address_care_of),
            street: clean(self.street),
            housenumber: clean(self.housenumber),
            postbox: clean(self.postbox),
            // hitobito keeps the zip code as typed, only blank becomes none.
            zip_code: self.zip_code.filter(|z| !z.trim().is_empty()),
            town: clean(self.town),
            country: clean(self.country).map(|c| c.to_uppercase()),
        };
        single_line(v, "address_care_of", &a.address_care_of, 255);
        single_line(v, "street", &a.street, 255);
        single_line(v, "housenumber", &a.housenumber, 20);
        single_line(v, "postbox", &a.postbox, 255);
        single_line(v, "zip_code", &a.zip_code, 20);
        single_line(v, "town", &a.town, 255);
        single_line(v, "country", &a.country, 2);
        a
    }

    /// "street housenumber", hitobito's computed `address` field.
    pub fn street_line(&self) -> Option<String> {
        match (&self.street, &self.housenumber) {
            (Some(s), Some(h)) => Some(format!("{s} {h}")),
            (Some(s), None) => Some(s.clone()),
            _ => None,
        }
    }
}

impl Group {
    /// The short name if present, else the name (hitobito's `display_name`).
    pub fn display_name(&self) -> &str {
        self.short_name.as_deref().unwrap_or(&self.name)
    }

    /// Whether this group starts its own layer.
    pub fn is_layer(&self) -> bool {
        self.layer_group_id == self.id
    }

    /// Whether `ancestor` is this group or one of its ancestors.
    pub fn is_in_subtree_of(&self, ancestor: GroupId) -> bool {
        self.path.contains(&ancestor)
    }

    /// Whether the group was soft-deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether the group was archived (and is read-only).
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// Neither deleted nor archived: the `_if_active` ability variants.
    pub fn is_active(&self) -> bool {
        !self.is_deleted() && !self.is_archived()
    }
}

/// The editable fields of a group, as a form submits them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    pub address: Address,
}

impl GroupPatch {
    /// Trims and checks the fields; a static-name type keeps its label.
    ///
    /// # Errors
    /// The violations: a missing name, a short name over 31 characters, an
    /// invalid email, a description over 65,535 characters or a line break
    /// in a single-line field.
    pub fn validated(self, is_static_name: bool) -> Result<GroupPatch, Violations> {
        let mut v = Violations::default();
        let name = clean(self.name);
        if name.is_none() && !is_static_name {
            v.add("name", "errors.required");
        }
        single_line(&mut v, "name", &name, 255);
        let short_name = clean(self.short_name);
        single_line(&mut v, "short_name", &short_name, 31);
        let email = email(&mut v, "email", self.email);
        let description = clean(self.description);
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 65_535)
        {
            v.add("description", "errors.too_long");
        }
        let address = self.address.cleaned(&mut v);
        v.into_result(GroupPatch {
            name,
            short_name,
            email,
            description,
            address,
        })
    }
}

/// Where a planned group goes: below an existing group or below an earlier
/// entry of the same plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanParent {
    Existing(GroupId),
    Planned(usize),
}

/// One group to insert, as [`plan_create`] decides.
#[derive(Clone, Debug, PartialEq)]
pub struct NewGroup {
    pub parent: PlanParent,
    pub group_type: String,
    /// Whether the type starts a layer (then the group is its own layer).
    pub is_layer: bool,
    pub fields: GroupPatch,
}

/// Why a group may not be created, deleted, archived or moved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupRuleError {
    #[error("group type {child} is not allowed below {parent}")]
    TypeNotAllowed { parent: String, child: String },
    #[error("a {group_type} already exists here and its name is fixed")]
    StaticNameTaken { group_type: String },
    #[error("the root group cannot be deleted")]
    RootGroup,
    #[error("group {0} still has subgroups")]
    HasChildren(GroupId),
    #[error("group {0} is already archived")]
    AlreadyArchived(GroupId),
    #[error("group {0} is deleted or archived")]
    Inactive(GroupId),
    #[error("group {0} cannot move below one of its own subgroups or its current parent")]
    BadMoveTarget(GroupId),
}

/// Plans a new group of `group_type` below `parent` with its default
/// children (recursively), so the store can insert all of them at once.
///
/// `sibling_types` are the types of the parent's non-deleted children, to
/// keep static-name types unique per parent.
///
/// # Errors
/// The child type is not allowed, the parent is not active, or a
/// static-name sibling of the same type exists. Field violations come from
/// [`GroupPatch::validated`], which the caller runs first.
pub fn plan_create(
    org: &Organisation,
    parent: &Group,
    sibling_types: &[String],
    group_type: &str,
    fields: GroupPatch,
) -> Result<Vec<NewGroup>, GroupRuleError> {
    if !parent.is_active() {
        return Err(GroupRuleError::Inactive(parent.id));
    }
    if !org.is_child_allowed(&parent.group_type, group_type) {
        return Err(GroupRuleError::TypeNotAllowed {
            parent: parent.group_type.clone(),
            child: group_type.to_owned(),
        });
    }
    if org.group_type(group_type).is_none() {
        return Err(GroupRuleError::TypeNotAllowed {
            parent: parent.group_type.clone(),
            child: group_type.to_owned(),
        });
    }
    check_static_name_free(org, group_type, sibling_types)?;
    let mut plan = Vec::new();
    push_with_defaults(
        org,
        &mut plan,
        PlanParent::Existing(parent.id),
        group_type,
        Some(fields),
    );
    Ok(plan)
}

/// Checks that a group of `group_type` may join siblings of
/// `sibling_types` (the types of the new parent's non-deleted children):
/// a static-name type exists at most once per parent (section 1.4). For
/// creating and for moving a group; the stores check it again when they
/// write.
///
/// # Errors
/// [`GroupRuleError::StaticNameTaken`].
pub fn check_static_name_free(
    org: &Organisation,
    group_type: &str,
    sibling_types: &[String],
) -> Result<(), GroupRuleError> {
    let is_static = org.group_type(group_type).is_some_and(|t| t.is_static_name);
    if is_static && sibling_types.iter().any(|t| t == group_type) {
        return Err(GroupRuleError::StaticNameTaken {
            group_type: group_type.to_owned(),
        });
    }
    Ok(())
}

/// Plans the root group of a new organisation with its default children.
pub fn plan_root(org: &Organisation, fields: GroupPatch) -> Vec<NewGroup> {
    let mut plan = Vec::new();
    let root = org.root_type().key.clone();
    // The root has no parent; `Planned(usize::MAX)` marks that for the store.
    push_with_defaults(
        org,
        &mut plan,
        PlanParent::Planned(usize::MAX),
        &root,
        Some(fields),
    );
    plan
}

fn push_with_defaults(
    org: &Organisation,
    plan: &mut Vec<NewGroup>,
    parent: PlanParent,
    group_type: &str,
    fields: Option<GroupPatch>,
) {
    let Some(gt) = org.group_type(group_type) else {
        return;
    };
    let lang = org.default_language();
    let mut fields = fields.unwrap_or_default();
    if gt.is_static_name || fields.name.is_none() {
        fields.name = Some(gt.labels.get(lang).to_owned());
    }
    if gt.is_static_name {
        fields.short_name = None;
    }
    let index = plan.len();
    plan.push(NewGroup {
        parent,
        group_type: gt.key.clone(),
        is_layer: gt.is_layer,
        fields,
    });
    for child in &gt.default_children {
        push_with_defaults(org, plan, PlanParent::Planned(index), child, None);
    }
}

/// Checks that a group may be soft-deleted (section 1.4): not the root and
/// without non-deleted subgroups.
///
/// # Errors
/// [`GroupRuleError::RootGroup`] or [`GroupRuleError::HasChildren`].
pub fn check_destroy(group: &Group, has_children: bool) -> Result<(), GroupRuleError> {
    if group.parent_id.is_none() {
        return Err(GroupRuleError::RootGroup);
    }
    if has_children {
        return Err(GroupRuleError::HasChildren(group.id));
    }
    Ok(())
}

/// Checks that a group may be archived: not deleted, not yet archived, not
/// the root and without non-deleted subgroups.
///
/// # Errors
/// [`GroupRuleError::Inactive`], [`GroupRuleError::AlreadyArchived`],
/// [`GroupRuleError::RootGroup`] or [`GroupRuleError::HasChildren`].
pub fn check_archive(group: &Group, has_children: bool) -> Result<(), GroupRuleError> {
    if group.is_deleted() {
        return Err(GroupRuleError::Inactive(group.id));
    }
    if group.is_archived() {
        return Err(GroupRuleError::AlreadyArchived(group.id));
    }
    if group.parent_id.is_none() {
        return Err(GroupRuleError::RootGroup);
    }
    if has_children {
        return Err(GroupRuleError::HasChildren(group.id));
    }
    Ok(())
}

/// Checks a move of `group` below `target`: the group must not be deleted
/// (an archived one may move), the target must be active and its type must
/// allow the group's type, and the target may be neither the group itself,
/// one of its subgroups, nor its current parent.
///
/// Whether the target already has a child of a static-name type is a
/// question about the target's children, which the store answers.
///
/// # Errors
/// [`GroupRuleError::BadMoveTarget`], [`GroupRuleError::Inactive`] or
/// [`GroupRuleError::TypeNotAllowed`].
pub fn check_move(org: &Organisation, group: &Group, target: &Group) -> Result<(), GroupRuleError> {
    if group.is_deleted() {
        return Err(GroupRuleError::Inactive(group.id));
    }
    if target.is_in_subtree_of(group.id) || Some(target.id) == group.parent_id {
        return Err(GroupRuleError::BadMoveTarget(group.id));
    }
    if !target.is_active() {
        return Err(GroupRuleError::Inactive(target.id));
    }
    if !org.is_child_allowed(&target.group_type, &group.group_type) {
        return Err(GroupRuleError::TypeNotAllowed {
            parent: target.group_type.clone(),
            child: group.group_type.clone(),
        });
    }
    Ok(())
}

/// Sorts siblings the way hitobito keeps them: by display name, ignoring
/// case.
pub fn sort_siblings(groups: &mut [Group]) {
    groups.sort_by_cached_key(|g| (g.display_name().to_lowercase(), g.id));
}

/// All groups of the organisation in memory, indexed for the questions
/// pages and the ability engine ask: a group by id, its children, its
/// ancestors, its layer.
///
/// A federation has at most a few thousand groups, so the whole tree fits
/// in a few hundred kilobytes and is loaded once and shared.
#[derive(Clone, Debug, Default)]
pub struct GroupTree {
    groups: std::collections::HashMap<GroupId, Group>,
    children: std::collections::HashMap<GroupId, Vec<GroupId>>,
    root: Option<GroupId>,
}

impl GroupTree {
    /// Builds the tree from every stored group (deleted ones included).
    pub fn new(groups: Vec<Group>) -> GroupTree {
        let mut tree = GroupTree::default();
        let mut sorted = groups;
        sort_siblings(&mut sorted);
        for g in &sorted {
            match g.parent_id {
                Some(p) => tree.children.entry(p).or_default().push(g.id),
                None if g.deleted_at.is_none() => tree.root = Some(g.id),
                None => {}
            }
        }
        tree.groups = sorted.into_iter().map(|g| (g.id, g)).collect();
        tree
    }

    /// The group with this id, deleted or not.
    pub fn get(&self, id: GroupId) -> Option<&Group> {
        self.groups.get(&id)
    }

    /// The root group, if the organisation has one yet.
    pub fn root(&self) -> Option<&Group> {
        self.root.and_then(|r| self.get(r))
    }

    /// The non-deleted children of a group, sorted by display name.
    pub fn children(&self, id: GroupId) -> impl Iterator<Item = &Group> {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.get(*c))
            .filter(|g| !g.is_deleted())
    }

    /// The ancestors of a group and the group itself, from the root down.
    pub fn hierarchy(&self, id: GroupId) -> Vec<&Group> {
        self.get(id).map_or_else(Vec::new, |g| {
            g.path.iter().filter_map(|a| self.get(*a)).collect()
        })
    }

    /// The layer group of a group.
    pub fn layer_of(&self, id: GroupId) -> Option<&Group> {
        self.get(id).and_then(|g| self.get(g.layer_group_id))
    }

    /// Every non-deleted group, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Group> {
        self.groups.values().filter(|g| !g.is_deleted())
    }

    /// The number of non-deleted groups.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the tree has no groups at all.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn org() -> Organisation {
        let src = include_str!("../../examples/demo-federation.toml");
        Organisation::from_toml(src, "demo-federation.toml").expect("the demo loads")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
            .single()
            .expect("valid instant")
    }

    /// A group with `path` (the last id is its own) in layer `layer`.
    fn group(path: &[i64], layer: i64, group_type: &str) -> Group {
        let id = *path.last().expect("a path ends with the group");
        Group {
            id: GroupId(id),
            parent_id: path.len().checked_sub(2).map(|i| GroupId(path[i])),
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

    fn named(name: &str) -> GroupPatch {
        GroupPatch {
            name: Some(name.to_owned()),
            ..GroupPatch::default()
        }
    }

    #[test]
    fn new_group_brings_its_default_children_named_after_their_type() {
        let org = org();
        let region = group(&[1, 2], 2, "Region");
        let plan = plan_create(&org, &region, &[], "Club", named("Club X")).expect("allowed");
        let got: Vec<(&str, Option<&str>, PlanParent)> = plan
            .iter()
            .map(|g| (g.group_type.as_str(), g.fields.name.as_deref(), g.parent))
            .collect();
        assert_eq!(
            got,
            [
                ("Club", Some("Club X"), PlanParent::Existing(GroupId(2))),
                ("ClubBoard", Some("Board"), PlanParent::Planned(0)),
                ("ClubMembers", Some("Members"), PlanParent::Planned(0)),
            ]
        );
        assert!(plan[0].is_layer && !plan[1].is_layer);
    }

    #[test]
    fn static_name_type_is_created_once_per_parent_and_keeps_its_label() {
        let org = org();
        let club = group(&[1, 2, 3], 3, "Club");
        let mut fields = named("Our own name");
        fields.short_name = Some("OWN".into());
        let plan = plan_create(&org, &club, &[], "ClubBoard", fields).expect("first board");
        assert_eq!(plan[0].fields.name.as_deref(), Some("Board"));
        assert_eq!(plan[0].fields.short_name, None);
        let siblings = ["ClubMembers".to_owned(), "ClubBoard".to_owned()];
        assert_eq!(
            plan_create(&org, &club, &siblings, "ClubBoard", named("Second")),
            Err(GroupRuleError::StaticNameTaken {
                group_type: "ClubBoard".into()
            })
        );
        // Types without a fixed name may repeat.
        assert!(plan_create(&org, &club, &siblings, "ClubMembers", named("More")).is_ok());
    }

    #[test]
    fn child_type_must_be_allowed_and_parent_active() {
        let org = org();
        let club = group(&[1, 2, 3], 3, "Club");
        assert_eq!(
            plan_create(&org, &club, &[], "Region", named("R")),
            Err(GroupRuleError::TypeNotAllowed {
                parent: "Club".into(),
                child: "Region".into()
            })
        );
        assert!(matches!(
            plan_create(&org, &club, &[], "NoSuchType", named("R")),
            Err(GroupRuleError::TypeNotAllowed { .. })
        ));
        let mut archived = club.clone();
        archived.archived_at = Some(now());
        assert_eq!(
            plan_create(&org, &archived, &[], "ClubMembers", named("M")),
            Err(GroupRuleError::Inactive(GroupId(3)))
        );
    }

    #[test]
    fn root_and_groups_with_children_are_not_deleted() {
        let root = group(&[1], 1, "Federation");
        assert_eq!(check_destroy(&root, false), Err(GroupRuleError::RootGroup));
        let club = group(&[1, 2, 3], 3, "Club");
        assert_eq!(
            check_destroy(&club, true),
            Err(GroupRuleError::HasChildren(GroupId(3)))
        );
        assert_eq!(check_destroy(&club, false), Ok(()));
        let mut archived = club;
        archived.archived_at = Some(now());
        assert_eq!(check_destroy(&archived, false), Ok(()), "archived may go");
    }

    #[test]
    fn archive_is_refused_for_deleted_archived_root_and_parents() {
        let mut deleted = group(&[1, 2, 3, 4], 3, "ClubMembers");
        deleted.deleted_at = Some(now());
        assert_eq!(
            check_archive(&deleted, false),
            Err(GroupRuleError::Inactive(GroupId(4)))
        );
        let mut archived = group(&[1, 2, 3, 4], 3, "ClubMembers");
        archived.archived_at = Some(now());
        assert_eq!(
            check_archive(&archived, false),
            Err(GroupRuleError::AlreadyArchived(GroupId(4)))
        );
        let root = group(&[1], 1, "Federation");
        assert_eq!(check_archive(&root, false), Err(GroupRuleError::RootGroup));
        let members = group(&[1, 2, 3, 4], 3, "ClubMembers");
        assert_eq!(
            check_archive(&members, true),
            Err(GroupRuleError::HasChildren(GroupId(4)))
        );
        assert_eq!(check_archive(&members, false), Ok(()));
    }

    #[test]
    fn deleted_group_does_not_move_but_an_archived_one_may() {
        let org = org();
        let members = group(&[1, 2, 3, 4], 3, "ClubMembers");
        let other = group(&[1, 2, 5, 6], 5, "ClubMembers");
        let mut deleted = members.clone();
        deleted.deleted_at = Some(now());
        assert_eq!(
            check_move(&org, &deleted, &other),
            Err(GroupRuleError::Inactive(GroupId(4)))
        );
        let mut archived = members;
        archived.archived_at = Some(now());
        assert_eq!(check_move(&org, &archived, &other), Ok(()));
    }

    #[test]
    fn move_target_is_checked_for_place_state_and_type() {
        let org = org();
        let members = group(&[1, 2, 3, 4], 3, "ClubMembers");
        let below = group(&[1, 2, 3, 4, 7], 3, "ClubMembers");
        let club = group(&[1, 2, 3], 3, "Club");
        for target in [&members, &below, &club] {
            assert_eq!(
                check_move(&org, &members, target),
                Err(GroupRuleError::BadMoveTarget(GroupId(4))),
                "{}",
                target.id
            );
        }
        let mut gone = group(&[1, 2, 5, 6], 5, "ClubMembers");
        gone.deleted_at = Some(now());
        assert_eq!(
            check_move(&org, &members, &gone),
            Err(GroupRuleError::Inactive(GroupId(6)))
        );
        let region = group(&[1, 2], 2, "Region");
        assert!(matches!(
            check_move(&org, &members, &region),
            Err(GroupRuleError::TypeNotAllowed { .. })
        ));
        let root = group(&[1], 1, "Federation");
        assert_eq!(
            check_move(&org, &root, &members),
            Err(GroupRuleError::BadMoveTarget(GroupId(1))),
            "the root moves nowhere"
        );
    }

    #[test]
    fn static_name_type_may_not_join_a_sibling_of_its_type() {
        let org = org();
        let siblings = ["ClubBoard".to_owned(), "ClubMembers".to_owned()];
        assert_eq!(
            check_static_name_free(&org, "ClubBoard", &siblings),
            Err(GroupRuleError::StaticNameTaken {
                group_type: "ClubBoard".into()
            })
        );
        assert_eq!(
            check_static_name_free(&org, "ClubMembers", &siblings),
            Ok(())
        );
        assert_eq!(check_static_name_free(&org, "ClubBoard", &[]), Ok(()));
    }

    #[test]
    fn description_limit_counts_characters_not_bytes() {
        let patch = |n: usize| GroupPatch {
            description: Some("ä".repeat(n)),
            ..named("G")
        };
        // 65,535 two-byte characters are within the documented limit.
        assert!(patch(65_535).validated(false).is_ok());
        let v = patch(65_536).validated(false).expect_err("too long");
        assert_eq!(v.for_field("description"), Some("errors.too_long"));
    }

    #[test]
    fn name_is_required_unless_the_type_fixes_it() {
        let v = GroupPatch::default().validated(false).expect_err("no name");
        assert_eq!(v.for_field("name"), Some("errors.required"));
        assert!(GroupPatch::default().validated(true).is_ok());
        let long = GroupPatch {
            short_name: Some("x".repeat(32)),
            ..named("G")
        };
        let v = long.validated(false).expect_err("short name too long");
        assert_eq!(v.for_field("short_name"), Some("errors.too_long"));
    }

    #[test]
    fn siblings_sort_by_display_name_ignoring_case() {
        let mut a = group(&[1, 10], 1, "Committee");
        a.name = "beta".into();
        let mut b = group(&[1, 11], 1, "Committee");
        b.name = "Zulu".into();
        b.short_name = Some("Alpha".into());
        let mut c = group(&[1, 12], 1, "Committee");
        c.name = "Gamma".into();
        let mut all = vec![c, a, b];
        sort_siblings(&mut all);
        let names: Vec<&str> = all.iter().map(Group::display_name).collect();
        assert_eq!(names, ["Alpha", "beta", "Gamma"]);
    }
}
