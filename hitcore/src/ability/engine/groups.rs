//! Group actions: the group table of section 4.3.
//!
//! [`rule`] is that table, one arm per filled cell. The full permissions
//! read through the read permission they imply (footnote 4), so only the
//! read columns carry read rules. What no permission can change (a deleted
//! group is not edited, one's own permission-giving group is not deleted)
//! is checked around the table.

use super::reach::Reach;
use crate::ability::{Actor, Because, Decision, GroupAction, Refusal};
use crate::group::Group;
use crate::permission::Permission;

/// One cell of the group table: where the permission reaches, and whether
/// the target must be active ("act").
#[derive(Clone, Copy)]
struct Rule {
    reach: Reach,
    needs_active: bool,
}

const fn at(reach: Reach) -> Option<Rule> {
    Some(Rule {
        reach,
        needs_active: false,
    })
}

const fn at_active(reach: Reach) -> Option<Rule> {
    Some(Rule {
        reach,
        needs_active: true,
    })
}

/// The cell of the group table for `action` and `permission`.
fn rule(action: GroupAction, permission: Permission) -> Option<Rule> {
    use GroupAction as A;
    use Permission as P;
    use Reach as R;
    match (action, permission) {
        (A::ShowDetails | A::IndexPeople, P::GroupRead) => at(R::Group),
        (A::ShowDetails | A::IndexPeople, P::GroupAndBelowRead) => at(R::GroupAndBelow),
        (A::ShowDetails | A::IndexPeople, P::LayerRead) => at(R::Layer),
        (A::ShowDetails | A::IndexPeople, P::LayerAndBelowRead) => at(R::LayerAndBelow),
        // The list is filtered to contact-data people (section 4.4).
        (A::IndexPeople, P::ContactData) => at(R::Everywhere),

        (A::IndexLocalPeople, P::GroupRead) => at(R::Group),
        (A::IndexLocalPeople, P::GroupAndBelowRead) => at(R::GroupAndBelow),
        (A::IndexLocalPeople, P::LayerRead | P::LayerAndBelowRead) => at(R::Layer),
        (A::IndexLocalPeople, P::SeeInvisibleFromAbove) => at(R::LayerAndBelow),

        (A::IndexFullPeople, P::GroupFull) => at(R::Group),
        (A::IndexFullPeople, P::GroupAndBelowFull) => at(R::GroupAndBelow),
        (A::IndexFullPeople | A::IndexDeepFullPeople, P::LayerRead) => at(R::Layer),
        (A::IndexFullPeople | A::IndexDeepFullPeople, P::LayerAndBelowRead) => at(R::LayerAndBelow),

        (A::Update | A::Log, P::GroupFull) => at_active(R::Group),
        (A::Update | A::Log, P::GroupAndBelowFull) => at_active(R::GroupAndBelow),
        (A::Update | A::Log, P::LayerFull) => at_active(R::Layer),
        (A::Update, P::LayerAndBelowFull) => at(R::LayerAndBelow),
        (A::Log, P::LayerAndBelowFull) => at_active(R::LayerAndBelow),

        (A::Destroy | A::Archive, P::GroupAndBelowFull) => at(R::BelowGroup),
        (A::Destroy | A::Archive, P::LayerFull) => at(R::Layer),
        (A::Destroy | A::Archive, P::LayerAndBelowFull) => at(R::LayerAndBelow),

        (A::Reactivate, P::GroupFull) => at(R::Group),
        (A::Reactivate, P::GroupAndBelowFull) => at(R::GroupAndBelow),
        (A::Reactivate, P::LayerFull) => at_active(R::Layer),
        (A::Reactivate, P::LayerAndBelowFull) => at(R::LayerAndBelow),
        _ => None,
    }
}

/// The decision for [`crate::ability::group`].
pub(super) fn decide(actor: &Actor, action: GroupAction, group: &Group) -> Decision {
    if action == GroupAction::Show {
        return show(actor);
    }
    let is_write = matches!(
        action,
        GroupAction::Update | GroupAction::Destroy | GroupAction::Archive
    );
    if is_write && group.is_deleted() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    let decision = by_grants(actor, action, group);
    let is_removal = matches!(action, GroupAction::Destroy | GroupAction::Archive);
    if is_removal && decision.is_allowed() && gives_layer_write(actor, group) {
        return Decision::Refused(Refusal::OwnPermissionRole);
    }
    decision
}

/// Any person with an active role may see every group.
fn show(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else if actor.has_role {
        Decision::Allowed(Because::AnyRole)
    } else {
        Decision::Refused(Refusal::NoPermission)
    }
}

/// The first grant whose cell allows the action. A grant that reaches the
/// group but needs it active makes the refusal [`Refusal::GroupInactive`].
fn by_grants(actor: &Actor, action: GroupAction, group: &Group) -> Decision {
    let mut blocked_by_state = false;
    for grant in &actor.grants {
        let Some(rule) = rule(action, grant.permission) else {
            continue;
        };
        if !grant.reaches(rule.reach, group) {
            continue;
        }
        if rule.needs_active && !is_active_for(action, group) {
            blocked_by_state = true;
            continue;
        }
        return Decision::Allowed(grant.because());
    }
    Decision::Refused(if blocked_by_state {
        Refusal::GroupInactive
    } else {
        Refusal::NoPermission
    })
}

/// "act" in the table. Reactivating undoes a deletion, so there only
/// archiving makes a group inactive.
fn is_active_for(action: GroupAction, group: &Group) -> bool {
    match action {
        GroupAction::Reactivate => !group.is_archived(),
        _ => group.is_active(),
    }
}

/// Whether `group` is where the actor's layer write access comes from: the
/// group of a layer_full or layer_and_below_full role, or the layer such a
/// role gives access to (section 3.5, "not permission-giving").
fn gives_layer_write(actor: &Actor, group: &Group) -> bool {
    actor.grants.iter().any(|g| {
        matches!(
            g.permission,
            Permission::LayerFull | Permission::LayerAndBelowFull
        ) && (g.group_id == group.id || g.layer_group_id == group.id)
    })
}

/// The decision for [`crate::ability::may_create_group`]: the "create child
/// group" row of the table.
pub(super) fn may_create(actor: &Actor, parent: &Group, child_is_layer: bool) -> Decision {
    if !parent.is_active() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    actor
        .grants
        .iter()
        .find(|g| match g.permission {
            Permission::GroupAndBelowFull => {
                !child_is_layer && g.reaches(Reach::GroupAndBelow, parent)
            }
            Permission::LayerFull => !child_is_layer && g.reaches(Reach::Layer, parent),
            Permission::LayerAndBelowFull => g.reaches(Reach::LayerAndBelow, parent),
            _ => false,
        })
        .map_or(Decision::Refused(Refusal::NoPermission), |g| {
            Decision::Allowed(g.because())
        })
}
