//! The decision rules. See the parent module for the vocabulary.

use super::*;

impl Actor {
    /// Resolves a person's roles into grants. Only roles active on `today`
    /// count; roles of deleted groups or unknown types are ignored.
    pub fn new(
        person_id: PersonId,
        is_root: bool,
        roles: &[Role],
        tree: &GroupTree,
        org: &Organisation,
        today: chrono::NaiveDate,
    ) -> Actor {
        todo!()
    }
}

impl<'a> PersonSubject<'a> {
    /// Resolves a person and their roles against the tree and definition.
    /// Archived roles and roles of deleted groups are left out.
    pub fn new(
        person: &Person,
        is_root: bool,
        roles: &'a [Role],
        tree: &'a GroupTree,
        org: &'a Organisation,
        today: chrono::NaiveDate,
    ) -> PersonSubject<'a> {
        todo!()
    }
}

/// May the actor do `action` to the person?
pub fn person(actor: &Actor, action: PersonAction, subject: &PersonSubject<'_>) -> Decision {
    todo!()
}

/// May the actor do `action` to the group?
pub fn group(actor: &Actor, action: GroupAction, group: &Group, tree: &GroupTree) -> Decision {
    todo!()
}

/// May the actor create a group of `child_type` below `parent`?
pub fn may_create_group(
    actor: &Actor,
    parent: &Group,
    child_is_layer: bool,
    tree: &GroupTree,
) -> Decision {
    todo!()
}

/// May the actor do `action` to the role?
pub fn role(
    actor: &Actor,
    action: RoleAction,
    subject: &RoleSubject<'_>,
    tree: &GroupTree,
) -> Decision {
    todo!()
}

/// May the actor create a role of `role_type` in `group` (for an existing
/// person, or for a new one)?
pub fn may_create_role(
    actor: &Actor,
    group: &Group,
    role_type: &RoleType,
    tree: &GroupTree,
) -> Decision {
    todo!()
}

/// Which part of `group`'s people list the actor may see; `None` when they
/// may not list its people at all.
pub fn people_list(actor: &Actor, group: &Group, tree: &GroupTree) -> Option<ListVisibility> {
    todo!()
}
