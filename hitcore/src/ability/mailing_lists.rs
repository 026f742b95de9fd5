//! Who may see, create, change and delete mailing lists, and who may
//! manage their subscriptions or subscribe themselves: the table "Mailing
//! list and subscription actions" of section 4.3.
//!
//! Every row of that table reaches the same positions: `group_full` the
//! list's group itself, `group_and_below_full` its group and the subgroups
//! in the same layer, `layer_full` and `layer_and_below_full` the lists of
//! their own layer only. The rows differ in whether the group must be
//! active, and in what a person without such a role may do.

use super::{Actor, Because, Decision, Grant, Permit, Refusal};
use crate::group::Group;
use crate::id::{GroupId, MailingListId, PersonId};
use crate::mailing_list::{MailingList, SubscribableFor};
use crate::permission::Permission;

/// Permit target: create a mailing list in this group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateMailingList(pub GroupId);
/// Permit target: edit this list's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateMailingList(pub MailingListId);
/// Permit target: delete this list with its subscriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyMailingList(pub MailingListId);
/// Permit target: add and remove any subscription of this list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManageSubscriptions(pub MailingListId);
/// Permit target: `person` subscribes to or unsubscribes from `list`
/// themselves (section 6.3, self-service).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscribeSelf {
    pub list: MailingListId,
    pub person: PersonId,
}

/// A mailing list as the subject of a decision.
#[derive(Clone, Copy, Debug)]
pub struct ListSubject<'a> {
    pub list: &'a MailingList,
    /// The list's group.
    pub group: &'a Group,
    /// Whether the actor is covered by one of the list's group
    /// subscriptions ([`crate::mailing_list::is_covered`]), which makes a
    /// `Configured` list subscribable for them.
    pub is_actor_covered: bool,
}

impl ListSubject<'_> {
    /// Whether the actor may subscribe to the list without a manager's
    /// role (section 6.3): `Anyone` lists, and `Configured` lists that
    /// cover them.
    fn is_subscribable(&self) -> bool {
        match self.list.subscribable_for {
            SubscribableFor::Anyone => true,
            SubscribableFor::Configured => self.is_actor_covered,
            SubscribableFor::Nobody => false,
        }
    }
}

/// Whether a write permission of `grant` reaches `group` in this table.
/// Unlike elsewhere, `layer_and_below_full` reaches its own layer only.
fn reaches(grant: &Grant, group: &Group) -> bool {
    let in_layer = group.layer_group_id == grant.layer_group_id;
    match grant.permission {
        Permission::GroupFull => group.id == grant.group_id,
        Permission::GroupAndBelowFull => in_layer && group.is_in_subtree_of(grant.group_id),
        Permission::LayerFull | Permission::LayerAndBelowFull => in_layer,
        _ => false,
    }
}

/// The manager's column of the table: root, or the first grant that
/// reaches `group`. `needs_active` is "act" in the table; a deleted group
/// refuses everything, also for root.
fn by_role(actor: &Actor, group: &Group, needs_active: bool) -> Decision {
    if group.is_deleted() || (needs_active && group.is_archived()) {
        return Decision::Refused(Refusal::GroupInactive);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    actor.grants.iter().find(|g| reaches(g, group)).map_or(
        Decision::Refused(Refusal::NoPermission),
        |g| {
            Decision::Allowed(Because::Permission {
                permission: g.permission,
                group_id: g.group_id,
            })
        },
    )
}

/// The manager's column, or else the "any" column when `subject` is
/// subscribable for the actor (and the group active, when `needs_active`).
fn by_role_or_subscribable(
    actor: &Actor,
    subject: &ListSubject<'_>,
    needs_active: bool,
) -> Decision {
    match by_role(actor, subject.group, needs_active) {
        Decision::Refused(Refusal::NoPermission) if subject.is_subscribable() => {
            Decision::Allowed(Because::Herself)
        }
        decision => decision,
    }
}

/// May the actor see the group's list of mailing lists? Anybody with an
/// active role may, on any group (section 4.3, group actions); each list
/// on it is then checked with [`may_show_list`].
pub fn may_index_lists(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else if actor.has_role {
        Decision::Allowed(Because::AnyRole)
    } else {
        Decision::Refused(Refusal::NoPermission)
    }
}

/// May the actor see the list (its fields, its address)? Its managers, and
/// anybody the list is subscribable for.
pub fn may_show_list(actor: &Actor, subject: &ListSubject<'_>) -> Decision {
    by_role_or_subscribable(actor, subject, false)
}

/// May the actor see the list's subscriptions and recipients?
pub fn may_see_subscriptions(actor: &Actor, subject: &ListSubject<'_>) -> Decision {
    by_role(actor, subject.group, false)
}

/// May the actor edit the list? The relay asks this of the person who
/// sent a message, to let a list's managers always post.
pub fn may_update_list(actor: &Actor, subject: &ListSubject<'_>) -> Decision {
    by_role(actor, subject.group, true)
}

/// May the actor create a list in `group`?
pub fn may_create_list(actor: &Actor, group: &Group) -> Decision {
    by_role(actor, group, true)
}

/// May the actor subscribe to or unsubscribe from the list themselves?
/// Anybody the list is subscribable for, and its managers; the group must
/// be neither deleted nor archived.
pub fn may_subscribe_self(actor: &Actor, subject: &ListSubject<'_>) -> Decision {
    by_role_or_subscribable(actor, subject, true)
}

fn grant<T>(decision: Decision, target: T) -> Result<Permit<T>, Refusal> {
    match decision {
        Decision::Allowed(_) => Ok(Permit { target }),
        Decision::Refused(r) => Err(r),
    }
}

/// A permit to create a list in `group`.
///
/// # Errors
/// The refusal of [`may_create_list`].
pub fn permit_create_mailing_list(
    actor: &Actor,
    group: &Group,
) -> Result<Permit<CreateMailingList>, Refusal> {
    grant(may_create_list(actor, group), CreateMailingList(group.id))
}

/// A permit to edit the list.
///
/// # Errors
/// The refusal of [`may_update_list`].
pub fn permit_update_mailing_list(
    actor: &Actor,
    subject: &ListSubject<'_>,
) -> Result<Permit<UpdateMailingList>, Refusal> {
    grant(
        may_update_list(actor, subject),
        UpdateMailingList(subject.list.id),
    )
}

/// A permit to delete the list.
///
/// # Errors
/// The refusal of [`may_update_list`] (the same row of the table).
pub fn permit_destroy_mailing_list(
    actor: &Actor,
    subject: &ListSubject<'_>,
) -> Result<Permit<DestroyMailingList>, Refusal> {
    grant(
        may_update_list(actor, subject),
        DestroyMailingList(subject.list.id),
    )
}

/// A permit to add and remove the list's subscriptions
/// (`update_subscriptions`, and "Subscription manage" for managers).
///
/// # Errors
/// The refusal of [`may_update_list`] (the same row of the table).
pub fn permit_manage_subscriptions(
    actor: &Actor,
    subject: &ListSubject<'_>,
) -> Result<Permit<ManageSubscriptions>, Refusal> {
    grant(
        may_update_list(actor, subject),
        ManageSubscriptions(subject.list.id),
    )
}

/// A permit for the actor to subscribe to or unsubscribe from the list.
///
/// # Errors
/// The refusal of [`may_subscribe_self`].
pub fn permit_subscribe_self(
    actor: &Actor,
    subject: &ListSubject<'_>,
) -> Result<Permit<SubscribeSelf>, Refusal> {
    grant(
        may_subscribe_self(actor, subject),
        SubscribeSelf {
            list: subject.list.id,
            person: actor.person_id,
        },
    )
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::group::Address;

    // The tree: 1 federation layer > 2 group G > 3 subgroup of G (Gb);
    // 1 > 4 another group of the layer (Ls); 1 > 5 a region layer (D).
    const L: GroupId = GroupId(1);
    const G: GroupId = GroupId(2);
    const GB: GroupId = GroupId(3);
    const LS: GroupId = GroupId(4);
    const D: GroupId = GroupId(5);

    fn group(id: GroupId, state: State) -> Group {
        let (path, layer) = match id.0 {
            1 => (vec![L], L),
            2 => (vec![L, G], L),
            3 => (vec![L, G, GB], L),
            4 => (vec![L, LS], L),
            _ => (vec![L, D], D),
        };
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single();
        Group {
            id,
            parent_id: path.len().checked_sub(2).map(|i| path[i]),
            path,
            layer_group_id: layer,
            group_type: "T".into(),
            name: format!("g{}", id.0),
            short_name: None,
            email: None,
            description: None,
            address: Address::default(),
            created_at: at.expect("valid"),
            updated_at: at.expect("valid"),
            deleted_at: if state == State::Deleted { at } else { None },
            archived_at: if state == State::Archived { at } else { None },
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum State {
        Active,
        Archived,
        Deleted,
    }

    fn list(subscribable_for: SubscribableFor) -> MailingList {
        let at = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        MailingList {
            id: MailingListId(9),
            group_id: G,
            name: "List".into(),
            description: None,
            publisher: None,
            mail_name: None,
            additional_senders: Vec::new(),
            subscribers_may_post: false,
            anyone_may_post: false,
            preferred_labels: Vec::new(),
            main_email: false,
            delivery_report: false,
            subscribable_for,
            subscribable_mode: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// An actor holding `permission` through a role in group G.
    fn actor(permission: Option<Permission>) -> Actor {
        Actor {
            person_id: PersonId(1),
            is_root: false,
            grants: permission
                .into_iter()
                .map(|permission| Grant {
                    permission,
                    group_id: G,
                    layer_group_id: L,
                    is_group_active: true,
                })
                .collect(),
            has_role: permission.is_some(),
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Action {
        Show,
        IndexSubscriptions,
        Write,
        SubscribeSelf,
    }

    fn decide(a: Action, actor: &Actor, subject: &ListSubject<'_>) -> Decision {
        match a {
            Action::Show => may_show_list(actor, subject),
            Action::IndexSubscriptions => may_see_subscriptions(actor, subject),
            Action::Write => may_update_list(actor, subject),
            Action::SubscribeSelf => may_subscribe_self(actor, subject),
        }
    }

    const P_GF: Option<Permission> = Some(Permission::GroupFull);
    const P_GBF: Option<Permission> = Some(Permission::GroupAndBelowFull);
    const P_LF: Option<Permission> = Some(Permission::LayerFull);
    const P_LBF: Option<Permission> = Some(Permission::LayerAndBelowFull);

    /// The table of section 4.3 for a `Nobody` list: the list's group at
    /// each position, and whether each permission may act there. Every
    /// row reaches the same positions.
    #[rstest]
    #[case(P_GF, G, true)]
    #[case(P_GF, GB, false)]
    #[case(P_GF, LS, false)]
    #[case(P_GF, D, false)]
    #[case(P_GBF, G, true)]
    #[case(P_GBF, GB, true)]
    #[case(P_GBF, LS, false)]
    #[case(P_GBF, D, false)]
    #[case(P_LF, G, true)]
    #[case(P_LF, GB, true)]
    #[case(P_LF, LS, true)]
    #[case(P_LF, D, false)]
    #[case(P_LBF, G, true)]
    #[case(P_LBF, LS, true)]
    #[case(P_LBF, D, false)]
    #[case(Some(Permission::LayerAndBelowRead), G, false)]
    #[case(Some(Permission::GroupRead), G, false)]
    #[case(Some(Permission::ContactData), G, false)]
    #[case(None, G, false)]
    fn managers_reach_the_positions_of_the_table(
        #[case] permission: Option<Permission>,
        #[case] position: GroupId,
        #[case] allowed: bool,
    ) {
        let g = group(position, State::Active);
        let l = list(SubscribableFor::Nobody);
        let subject = ListSubject {
            list: &l,
            group: &g,
            is_actor_covered: true,
        };
        let who = actor(permission);
        for a in [
            Action::Show,
            Action::IndexSubscriptions,
            Action::Write,
            Action::SubscribeSelf,
        ] {
            assert_eq!(
                decide(a, &who, &subject).is_allowed(),
                allowed,
                "{a:?} {permission:?} at {position}"
            );
        }
        assert_eq!(may_create_list(&who, &g).is_allowed(), allowed);
        assert_eq!(permit_update_mailing_list(&who, &subject).is_ok(), allowed);
        assert_eq!(permit_destroy_mailing_list(&who, &subject).is_ok(), allowed);
        assert_eq!(permit_manage_subscriptions(&who, &subject).is_ok(), allowed);
    }

    /// "act": writing needs an active group; reading does not; a deleted
    /// group refuses everything, root included.
    #[rstest]
    #[case(Action::Show, State::Archived, true)]
    #[case(Action::IndexSubscriptions, State::Archived, true)]
    #[case(Action::Write, State::Archived, false)]
    #[case(Action::SubscribeSelf, State::Archived, false)]
    #[case(Action::Show, State::Deleted, false)]
    #[case(Action::IndexSubscriptions, State::Deleted, false)]
    #[case(Action::Write, State::Deleted, false)]
    #[case(Action::SubscribeSelf, State::Deleted, false)]
    fn inactive_groups_refuse_writes_and_deleted_ones_everything(
        #[case] a: Action,
        #[case] state: State,
        #[case] allowed: bool,
    ) {
        let g = group(G, state);
        let l = list(SubscribableFor::Anyone);
        let subject = ListSubject {
            list: &l,
            group: &g,
            is_actor_covered: false,
        };
        let root = Actor {
            is_root: true,
            ..actor(None)
        };
        for who in [actor(P_GF), root] {
            let decision = decide(a, &who, &subject);
            assert_eq!(decision.is_allowed(), allowed, "{a:?} {state:?} {who:?}");
            if !allowed {
                assert_eq!(decision, Decision::Refused(Refusal::GroupInactive));
            }
        }
    }

    /// The "any" column: people without a manager's role see and subscribe
    /// to lists subscribable for them, never their subscriptions, and never
    /// edit them.
    #[rstest]
    #[case(SubscribableFor::Anyone, false, true)]
    #[case(SubscribableFor::Configured, true, true)]
    #[case(SubscribableFor::Configured, false, false)]
    #[case(SubscribableFor::Nobody, true, false)]
    fn anyone_sees_and_subscribes_to_lists_subscribable_for_them(
        #[case] subscribable_for: SubscribableFor,
        #[case] is_actor_covered: bool,
        #[case] allowed: bool,
    ) {
        let g = group(D, State::Active);
        let l = list(subscribable_for);
        let subject = ListSubject {
            list: &l,
            group: &g,
            is_actor_covered,
        };
        for who in [actor(None), actor(P_GF)] {
            assert_eq!(may_show_list(&who, &subject).is_allowed(), allowed);
            assert_eq!(may_subscribe_self(&who, &subject).is_allowed(), allowed);
            assert!(!may_see_subscriptions(&who, &subject).is_allowed());
            assert!(!may_update_list(&who, &subject).is_allowed());
        }
    }

    #[test]
    fn self_service_permit_names_the_actor() {
        let g = group(G, State::Active);
        let l = list(SubscribableFor::Anyone);
        let subject = ListSubject {
            list: &l,
            group: &g,
            is_actor_covered: false,
        };
        let permit = permit_subscribe_self(&actor(None), &subject).expect("anyone list");
        assert_eq!(
            permit.target(),
            &SubscribeSelf {
                list: MailingListId(9),
                person: PersonId(1)
            }
        );
    }

    #[test]
    fn root_may_everything_on_active_groups() {
        let root = Actor {
            is_root: true,
            ..actor(None)
        };
        let g = group(D, State::Active);
        let l = list(SubscribableFor::Nobody);
        let subject = ListSubject {
            list: &l,
            group: &g,
            is_actor_covered: false,
        };
        for a in [
            Action::Show,
            Action::IndexSubscriptions,
            Action::Write,
            Action::SubscribeSelf,
        ] {
            assert_eq!(decide(a, &root, &subject), Decision::Allowed(Because::Root));
        }
    }

    #[test]
    fn index_needs_a_role() {
        assert!(may_index_lists(&actor(P_GF)).is_allowed());
        assert!(!may_index_lists(&actor(None)).is_allowed());
    }
}
