//! The decision rules. See the parent module for the vocabulary.
//!
//! Each question is answered the same way: the root user and the person
//! acting on themselves are settled first, then every [`Grant`] of the actor
//! is tried in turn, and the first one whose rule holds for the subject
//! names the reason. Refusals that do not depend on permissions (an
//! inactive group, a restricted role type, the self-protection rules of
//! section 3.5) are checked around that loop. The rules per subject live in
//! the submodules; the positions a grant reaches (G, G↓, L, L↓) in
//! [`reach`].

use super::*;
use crate::org::RoleKind;

mod groups;
mod people;
mod reach;
mod roles;

use reach::Reach;

impl Actor {
    /// Resolves a person's roles into grants. Only roles active on `today`
    /// count; roles of deleted groups or unknown types are ignored, and so
    /// are roles of other people.
    pub fn new(
        person_id: PersonId,
        is_root: bool,
        roles: &[Role],
        tree: &GroupTree,
        org: &Organisation,
        today: chrono::NaiveDate,
    ) -> Actor {
        let mut grants = Vec::new();
        let mut has_role = false;
        for role in roles
            .iter()
            .filter(|r| r.person_id == person_id && r.is_active(today))
        {
            let Some(group) = tree.get(role.group_id).filter(|g| !g.is_deleted()) else {
                continue;
            };
            let Some(role_type) = org.role_type(&role.role_type) else {
                continue;
            };
            has_role = true;
            grants.extend(role_type.permissions.iter().map(|&permission| Grant {
                permission,
                group_id: group.id,
                layer_group_id: group.layer_group_id,
                is_group_active: group.is_active(),
            }));
        }
        Actor {
            person_id,
            is_root,
            grants,
            has_role,
        }
    }

    /// The grants of one permission.
    fn grants_of(&self, permission: Permission) -> impl Iterator<Item = &Grant> {
        self.grants
            .iter()
            .filter(move |g| g.permission == permission)
    }

    /// Whether the actor holds `see_invisible_from_above` in a layer of
    /// `group`'s layer hierarchy (its own layer or one above).
    fn sees_invisible_in(&self, group: &Group) -> bool {
        self.grants_of(Permission::SeeInvisibleFromAbove)
            .any(|g| g.reaches(Reach::LayerAndBelow, group))
    }
}

impl<'a> PersonSubject<'a> {
    /// Resolves a person and their roles against the tree and definition.
    /// Archived roles and roles of deleted groups are left out, as are roles
    /// of unknown types and roles of other people.
    pub fn new(
        person: &Person,
        is_root: bool,
        roles: &'a [Role],
        tree: &'a GroupTree,
        org: &'a Organisation,
        today: chrono::NaiveDate,
    ) -> PersonSubject<'a> {
        let roles = roles
            .iter()
            .filter(|r| r.person_id == person.id && r.archived_at.is_none())
            .filter_map(|role| {
                let group = tree.get(role.group_id).filter(|g| !g.is_deleted())?;
                let role_type = org.role_type(&role.role_type)?;
                Some(SubjectRole {
                    role,
                    group,
                    role_type,
                    state: role.state(today),
                })
            })
            .collect();
        PersonSubject {
            id: person.id,
            is_root,
            contact_data_visible: person.contact_data_visible,
            roles,
        }
    }

    /// The roles that are active today.
    fn active_roles(&self) -> impl Iterator<Item = &SubjectRole<'a>> {
        self.roles.iter().filter(|r| r.state == RoleState::Active)
    }
}

impl SubjectRole<'_> {
    /// Whether the role's type is not restricted (the "nr" cells).
    fn is_non_restricted(&self) -> bool {
        self.role_type.kind != RoleKind::Restricted
    }
}

/// May the actor do `action` to the person?
///
/// Nobody may change the root user's email, not even root; nobody may
/// destroy themselves. Apart from that root may do everything, and
/// everybody may see and edit themselves. See [`PersonAction`] for what
/// each action covers.
pub fn person(actor: &Actor, action: PersonAction, subject: &PersonSubject<'_>) -> Decision {
    people::decide(actor, action, subject)
}

/// May the actor do `action` to the group?
///
/// [`GroupAction::Archive`] follows the rule of [`GroupAction::Destroy`].
/// Updating, destroying or archiving a deleted group is refused with
/// [`Refusal::GroupInactive`], also for root; destroying or archiving the
/// group, or the layer group, where the actor holds `layer_full` or
/// `layer_and_below_full` is refused with [`Refusal::OwnPermissionRole`].
pub fn group(actor: &Actor, action: GroupAction, group: &Group, _tree: &GroupTree) -> Decision {
    groups::decide(actor, action, group)
}

/// May the actor create a child group below `parent`, a layer or not?
///
/// Whether the type may be created there at all is the question of
/// [`crate::group::plan_create`]; this one only asks about permissions. An inactive parent is
/// refused with [`Refusal::GroupInactive`], also for root.
pub fn may_create_group(
    actor: &Actor,
    parent: &Group,
    child_is_layer: bool,
    _tree: &GroupTree,
) -> Decision {
    groups::may_create(actor, parent, child_is_layer)
}

/// May the actor do `action` to the role?
///
/// Restricted role types are refused for every action but
/// [`RoleAction::Show`], also for root. [`RoleAction::Terminate`] cannot
/// see the date: it checks the type and the role's flags only, and
/// [`may_terminate_role`] adds that the role runs today.
pub fn role(
    actor: &Actor,
    action: RoleAction,
    subject: &RoleSubject<'_>,
    _tree: &GroupTree,
) -> Decision {
    roles::decide(actor, action, subject)
}

/// May the actor terminate the role (section 3.5) on `today`?
///
/// As [`role`] with [`RoleAction::Terminate`], and the role must be active
/// on `today`: an ended or future role is refused with
/// [`Refusal::NotTerminatable`].
pub fn may_terminate_role(
    actor: &Actor,
    subject: &RoleSubject<'_>,
    tree: &GroupTree,
    today: chrono::NaiveDate,
) -> Decision {
    match role(actor, RoleAction::Terminate, subject, tree) {
        Decision::Allowed(_) if subject.role.state(today) != RoleState::Active => {
            Decision::Refused(Refusal::NotTerminatable)
        }
        decision => decision,
    }
}

/// May the actor create a role of `role_type` in `group` (for an existing
/// person, or for a new one)?
///
/// A restricted type is refused with [`Refusal::RestrictedRole`] and a
/// deleted or archived group with [`Refusal::GroupInactive`], also for root.
pub fn may_create_role(
    actor: &Actor,
    group: &Group,
    role_type: &RoleType,
    _tree: &GroupTree,
) -> Decision {
    roles::may_create(actor, group, role_type)
}

/// Which part of `group`'s people list the actor may see; `None` when they
/// may not list its people at all.
///
/// Following section 4.4: everybody with a read permission on the group
/// itself (group_read in it, group_and_below_read above it within its
/// layer, layer_read or layer_and_below_read in its layer,
/// see_invisible_from_above in its layer or above) and root see all; a
/// layer_and_below_read holder of an upper layer sees the holders of
/// visible-from-above types; a contact_data holder sees the people whose
/// contact data is visible.
pub fn people_list(actor: &Actor, group: &Group, _tree: &GroupTree) -> Option<ListVisibility> {
    if actor.is_root || actor.grants.iter().any(|g| lists_everyone(g, group)) {
        Some(ListVisibility::All)
    } else if actor
        .grants_of(Permission::LayerAndBelowRead)
        .any(|g| g.reaches(Reach::LayerAndBelow, group))
    {
        Some(ListVisibility::VisibleFromAbove)
    } else if actor.grants_of(Permission::ContactData).next().is_some() {
        Some(ListVisibility::ContactDataOnly)
    } else {
        None
    }
}

/// Whether the grant shows every person of `group`'s list.
fn lists_everyone(grant: &Grant, group: &Group) -> bool {
    let reach = match grant.permission {
        Permission::GroupRead => Reach::Group,
        Permission::GroupAndBelowRead => Reach::GroupAndBelow,
        Permission::LayerRead | Permission::LayerAndBelowRead => Reach::Layer,
        Permission::SeeInvisibleFromAbove => Reach::LayerAndBelow,
        _ => return false,
    };
    grant.reaches(reach, group)
}
