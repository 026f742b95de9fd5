//! Person actions: the person table of section 4.3 with the constraints of
//! section 4.2.
//!
//! Each permission sees a subject through the subject's roles: a role is
//! "at a position" of a grant when its group is within the grant's reach.
//! Which roles count differs per cell: active ones by default, future ones
//! too for group_read `show`, only non-restricted ones for `update`, and
//! the last ended role for the deleted-people rule.

use super::reach::Reach;
use crate::ability::{
    Actor, Because, Decision, Grant, PersonAction, PersonSubject, Refusal, SubjectRole,
};
use crate::group::Group;
use crate::permission::Permission;
use crate::role::RoleState;

/// The decision for [`crate::ability::person`].
pub(super) fn decide(actor: &Actor, action: PersonAction, subject: &PersonSubject<'_>) -> Decision {
    let is_self = actor.person_id == subject.id;
    if action == PersonAction::UpdateEmail && subject.is_root {
        // The email is what makes the root user root (section 2.3).
        return Decision::Refused(Refusal::RootEmail);
    }
    if action == PersonAction::Destroy && is_self {
        return Decision::Refused(Refusal::NotOnSelf);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    if is_self {
        return Decision::Allowed(Because::Herself);
    }
    actor
        .grants
        .iter()
        .find(|g| allows(actor, g, action, subject))
        .map_or(Decision::Refused(Refusal::NoPermission), |g| {
            Decision::Allowed(g.because())
        })
}

/// Whether one grant allows the action on someone else.
fn allows(actor: &Actor, grant: &Grant, action: PersonAction, subject: &PersonSubject<'_>) -> bool {
    match action {
        PersonAction::Show => shows(grant, subject),
        PersonAction::ShowDetails => {
            grant.permission != Permission::ContactData && sees_an_active_role(grant, subject)
        }
        PersonAction::ShowFull => {
            !matches!(
                grant.permission,
                Permission::ContactData | Permission::GroupRead | Permission::GroupAndBelowRead
            ) && sees_an_active_role(grant, subject)
        }
        PersonAction::Update => subject.active_roles().any(|r| updates(actor, grant, r)),
        PersonAction::UpdateEmail => writes_all_capable_roles(actor, grant.permission, subject),
        PersonAction::Destroy => grant.permission == Permission::Admin,
    }
}

/// The `show` column: the read rule, widened by contact data, future roles
/// (group_read), deleted people (layer_full, layer_and_below_full) and
/// people without roles (admin).
fn shows(grant: &Grant, subject: &PersonSubject<'_>) -> bool {
    match grant.permission {
        Permission::ContactData => subject.contact_data_visible,
        Permission::GroupRead => subject
            .roles
            .iter()
            .any(|r| r.state != RoleState::Ended && sees_role(grant, r)),
        Permission::LayerFull => {
            sees_an_active_role(grant, subject)
                || last_role_if_deleted(subject).is_some_and(|g| grant.reaches(Reach::Layer, g))
        }
        Permission::LayerAndBelowFull => {
            sees_an_active_role(grant, subject)
                || last_role_if_deleted(subject)
                    .is_some_and(|g| grant.reaches(Reach::LayerAndBelow, g))
        }
        Permission::Admin => subject.active_roles().next().is_none(),
        _ => sees_an_active_role(grant, subject),
    }
}

fn sees_an_active_role(grant: &Grant, subject: &PersonSubject<'_>) -> bool {
    subject.active_roles().any(|r| sees_role(grant, r))
}

/// Whether a read (or full) permission sees the holder of this role. The
/// `*_and_below_*` permissions see below their layer only the roles of
/// types visible from above; see_invisible_from_above sees all of them.
fn sees_role(grant: &Grant, role: &SubjectRole<'_>) -> bool {
    let group = role.group;
    match grant.permission {
        Permission::GroupRead | Permission::GroupFull => grant.reaches(Reach::Group, group),
        Permission::GroupAndBelowRead | Permission::GroupAndBelowFull => {
            grant.reaches(Reach::GroupAndBelow, group)
        }
        Permission::LayerRead | Permission::LayerFull => grant.reaches(Reach::Layer, group),
        Permission::LayerAndBelowRead | Permission::LayerAndBelowFull => {
            grant.reaches(Reach::Layer, group)
                || (role.role_type.is_visible_from_above
                    && grant.reaches(Reach::LayerAndBelow, group))
        }
        Permission::SeeInvisibleFromAbove => grant.reaches(Reach::LayerAndBelow, group),
        _ => false,
    }
}

/// The `update` column. Inside its own layer a write permission counts only
/// non-restricted roles; below it (layer_and_below_full) a role counts if
/// its type is visible from above, or if the actor also holds
/// see_invisible_from_above over the role's group.
fn updates(actor: &Actor, grant: &Grant, role: &SubjectRole<'_>) -> bool {
    let Some(reach) = Reach::of_write(grant.permission) else {
        return false;
    };
    let group = role.group;
    if reach == Reach::LayerAndBelow && grant.reaches_below_layer(group) {
        return role.role_type.is_visible_from_above || actor.sees_invisible_in(group);
    }
    let reach = if reach == Reach::LayerAndBelow {
        Reach::Layer
    } else {
        reach
    };
    role.is_non_restricted() && grant.reaches(reach, group)
}

/// The capable-role rule of `update_email` (section 4.2,
/// `if_permissions_in_all_capable_groups`): through `permission`, the actor
/// can write every group in which the subject holds a capable role. It
/// holds for any subject without capable roles, wherever they are.
fn writes_all_capable_roles(
    actor: &Actor,
    permission: Permission,
    subject: &PersonSubject<'_>,
) -> bool {
    let Some(reach) = Reach::of_write(permission) else {
        return false;
    };
    subject
        .active_roles()
        .filter(|r| r.role_type.is_capable())
        .all(|r| {
            actor
                .grants_of(permission)
                .any(|g| g.reaches(reach, r.group))
        })
}

/// For a person without active roles: the group of the role that ended
/// last (the deleted-people rule).
fn last_role_if_deleted<'a>(subject: &PersonSubject<'a>) -> Option<&'a Group> {
    if subject.active_roles().next().is_some() {
        return None;
    }
    subject
        .roles
        .iter()
        .filter(|r| r.state == RoleState::Ended)
        .max_by_key(|r| (r.role.end_on, r.role.id))
        .map(|r| r.group)
}
