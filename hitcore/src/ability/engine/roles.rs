//! Role actions: the role table of section 4.3 and its general rules.
//!
//! The four write permissions decide show, update, destroy, terminate and
//! create alike; the general rules (no restricted types, an active group
//! to create in, one's own permission-giving role kept, termination only
//! where the type allows it) are checked before them.

use super::reach::Reach;
use crate::ability::{Actor, Because, Decision, Grant, Refusal, RoleAction, RoleSubject};
use crate::group::Group;
use crate::org::{RoleKind, RoleType};
use crate::permission::Permission;

/// The decision for [`crate::ability::role`].
pub(super) fn decide(actor: &Actor, action: RoleAction, subject: &RoleSubject<'_>) -> Decision {
    let is_restricted = subject.role_type.kind == RoleKind::Restricted;
    if action != RoleAction::Show && is_restricted {
        return Decision::Refused(Refusal::RestrictedRole);
    }
    if action == RoleAction::Terminate && !is_terminatable(subject) {
        return Decision::Refused(Refusal::NotTerminatable);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    let is_own = subject.role.person_id == actor.person_id;
    if action == RoleAction::Destroy && is_own && subject.role_type.is_self_protected() {
        return Decision::Refused(Refusal::OwnPermissionRole);
    }
    if action == RoleAction::Terminate && is_own {
        return Decision::Allowed(Because::Herself);
    }
    by_grants(actor, subject.group, subject.role_type)
}

/// A role may be terminated when its type allows it and it is neither
/// terminated nor archived yet (the date is checked by the caller).
fn is_terminatable(subject: &RoleSubject<'_>) -> bool {
    subject.role_type.is_terminatable
        && !subject.role.is_terminated
        && subject.role.archived_at.is_none()
}

/// The decision for [`crate::ability::may_create_role`].
pub(super) fn may_create(actor: &Actor, group: &Group, role_type: &RoleType) -> Decision {
    if role_type.kind == RoleKind::Restricted {
        return Decision::Refused(Refusal::RestrictedRole);
    }
    if !group.is_active() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    by_grants(actor, group, role_type)
}

/// The first grant that may write roles of this type in this group. A
/// grant that would, were the group active, makes the refusal
/// [`Refusal::GroupInactive`].
fn by_grants(actor: &Actor, group: &Group, role_type: &RoleType) -> Decision {
    let mut blocked_by_state = false;
    for grant in actor
        .grants
        .iter()
        .filter(|g| writes(actor, g, group, role_type))
    {
        if group.is_active() {
            return Decision::Allowed(grant.because());
        }
        blocked_by_state = true;
    }
    Decision::Refused(if blocked_by_state {
        Refusal::GroupInactive
    } else {
        Refusal::NoPermission
    })
}

/// The role table, without the "active" part. layer_and_below_full reaches
/// below its layer only roles of types visible from above, unless the
/// actor also holds see_invisible_from_above over the group.
fn writes(actor: &Actor, grant: &Grant, group: &Group, role_type: &RoleType) -> bool {
    match grant.permission {
        Permission::LayerAndBelowFull if grant.reaches_below_layer(group) => {
            role_type.is_visible_from_above || actor.sees_invisible_in(group)
        }
        Permission::LayerAndBelowFull => grant.reaches(Reach::Layer, group),
        p => Reach::of_write(p).is_some_and(|reach| grant.reaches(reach, group)),
    }
}
