//! Who may do what: the one place that decides permissions.
//!
//! Every decision is a pure function of the acting person ([`Actor`]: their
//! active roles, resolved against the group tree), the subject and its
//! place in the tree, following the decision tables of section 4.3 and the
//! list rules of section 4.4 of `shared/domain/hitobito-core.md`. A decision
//! says why ([`Decision`]); mutating store calls need a [`Permit`], which
//! only the `permit_*` functions here hand out.

use std::fmt;

use serde::Serialize;

use crate::group::{Group, GroupTree};
use crate::id::{GroupId, PersonId, RoleId};
use crate::org::{Organisation, RoleType};
use crate::permission::Permission;
use crate::person::Person;
use crate::role::{Role, RoleState};

/// One permission the actor holds through one active role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub permission: Permission,
    /// The group where the role sits (G).
    pub group_id: GroupId,
    /// That group's layer (L(G)).
    pub layer_group_id: GroupId,
    /// Whether that group is neither deleted nor archived.
    pub is_group_active: bool,
}

/// The acting person with everything the engine needs to know about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub person_id: PersonId,
    /// The root user may do everything except change their own email.
    pub is_root: bool,
    /// One entry per (active role, permission after implications).
    pub grants: Vec<Grant>,
    /// Whether the actor holds any active role at all.
    pub has_role: bool,
}

/// A person as the subject of a decision.
#[derive(Clone, Debug)]
pub struct PersonSubject<'a> {
    pub id: PersonId,
    pub is_root: bool,
    pub contact_data_visible: bool,
    /// Active, future and ended (not archived) roles with their groups.
    pub roles: Vec<SubjectRole<'a>>,
}

/// One role of a subject person, resolved against the tree and the
/// organisation definition.
#[derive(Clone, Debug)]
pub struct SubjectRole<'a> {
    pub role: &'a Role,
    pub group: &'a Group,
    pub role_type: &'a RoleType,
    pub state: RoleState,
}

/// A role as the subject of a decision.
#[derive(Clone, Debug)]
pub struct RoleSubject<'a> {
    pub role: &'a Role,
    pub group: &'a Group,
    pub role_type: &'a RoleType,
}

/// Why something was allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Because {
    /// The actor is the root user.
    Root,
    /// The actor acts on themselves.
    Herself,
    /// A permission held through a role in this group.
    Permission {
        permission: Permission,
        group_id: GroupId,
    },
    /// Any person with an active role may (e.g. see any group).
    AnyRole,
    /// Anyone may, signed in or not (the health endpoints).
    Anyone,
}

/// Why something was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
#[non_exhaustive]
pub enum Refusal {
    /// No role of the actor grants this on this subject.
    NoPermission,
    /// Nobody may change the root user's email.
    RootEmail,
    /// The holder may not remove their own permission-giving role, nor
    /// delete a group that gives them layer or group write access.
    OwnPermissionRole,
    /// The group is deleted or archived.
    GroupInactive,
    /// Restricted role types are managed elsewhere.
    RestrictedRole,
    /// Nobody may do this to themselves (e.g. destroy themselves).
    NotOnSelf,
    /// The role cannot be terminated: its type is not terminatable, or it
    /// is already terminated, archived, ended or not yet started.
    NotTerminatable,
    /// Applying oneself: the event's application period is not open.
    ApplicationClosed,
    /// Applying oneself: no place left and no waiting list.
    EventFull,
}

/// The outcome of a permission question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum Decision {
    Allowed(Because),
    Refused(Refusal),
}

impl Decision {
    /// Whether the action is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_))
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed(Because::Root) => write!(f, "allowed: root user"),
            Decision::Allowed(Because::Herself) => write!(f, "allowed: acting on oneself"),
            Decision::Allowed(Because::AnyRole) => write!(f, "allowed: any person with a role"),
            Decision::Allowed(Because::Anyone) => write!(f, "allowed: open to everyone"),
            Decision::Allowed(Because::Permission {
                permission,
                group_id,
            }) => {
                write!(
                    f,
                    "allowed: {permission} through a role in group {group_id}"
                )
            }
            Decision::Refused(r) => write!(
                f,
                "refused: {}",
                match r {
                    Refusal::NoPermission => "no role gives this permission on this subject",
                    Refusal::RootEmail => "nobody may change the root user's email",
                    Refusal::OwnPermissionRole => "one's own permission-giving role is protected",
                    Refusal::GroupInactive => "the group is deleted or archived",
                    Refusal::RestrictedRole => "restricted role types are managed elsewhere",
                    Refusal::NotOnSelf => "not allowed on oneself",
                    Refusal::NotTerminatable => "this role cannot be terminated",
                    Refusal::ApplicationClosed => "the application period is not open",
                    Refusal::EventFull => "the event is full and keeps no waiting list",
                }
            ),
        }
    }
}

/// Person actions of table 4.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonAction {
    Show,
    ShowDetails,
    ShowFull,
    Update,
    UpdateEmail,
    Destroy,
}

/// Group actions of table 4.3 (creating a child is [`may_create_group`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupAction {
    Show,
    ShowDetails,
    IndexPeople,
    IndexLocalPeople,
    IndexFullPeople,
    IndexDeepFullPeople,
    Update,
    Destroy,
    Archive,
    Reactivate,
    Log,
}

/// Role actions of table 4.3 (creating one is [`may_create_role`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleAction {
    Show,
    Update,
    Destroy,
    Terminate,
}

/// How much of a group's people list the actor may see (section 4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListVisibility {
    /// All people with roles in the group.
    All,
    /// Only holders of role types visible from above.
    VisibleFromAbove,
    /// Only people whose contact data is visible.
    ContactDataOnly,
}

/// A capability: proof that an ability check allowed an action on a target.
/// Only this module creates permits (and [`system`] for seeding and tools).
#[derive(Debug, PartialEq, Eq)]
pub struct Permit<T> {
    target: T,
}

impl<T> Permit<T> {
    /// What the permit is for.
    pub fn target(&self) -> &T {
        &self.target
    }
}

/// A permit granted by the system itself, not by anyone's roles: for the
/// first start (seeding), command-line tools and tests. Web handlers never
/// call it.
pub fn system<T>(target: T) -> Permit<T> {
    Permit { target }
}

/// Permit target: edit this group's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateGroup(pub GroupId);
/// Permit target: create groups below this parent (None: the root group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateGroup(pub Option<GroupId>);
/// Permit target: soft-delete this group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyGroup(pub GroupId);
/// Permit target: archive this group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveGroup(pub GroupId);
/// Permit target: move `group` below `new_parent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoveGroup {
    pub group: GroupId,
    pub new_parent: GroupId,
}
/// Permit target: edit this person (contact accounts included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdatePerson(pub PersonId);
/// Permit target: change this person's main email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateEmail(pub PersonId);
/// Permit target: create a new person with a first role of this type here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePerson {
    pub group_id: GroupId,
    pub role_type: String,
}
/// Permit target: give this person a role of this type in this group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRole {
    pub group_id: GroupId,
    pub person_id: PersonId,
    pub role_type: String,
}
/// Permit target: edit this role's label and dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateRole(pub RoleId);
/// Permit target: remove (end or delete) this role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyRole(pub RoleId);
/// Permit target: set this person's password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetPassword(pub PersonId);

mod dev_mails;
pub use dev_mails::*;
mod engine;
pub use engine::*;
mod events;
pub use events::*;
mod health;
pub use health::*;
mod jobs;
pub use jobs::*;
mod logins;
pub use logins::*;
mod mailing_lists;
pub use mailing_lists::*;
mod participant_exports;
pub use participant_exports::*;
mod participations;
pub use participations::*;
mod people_lists;
pub use people_lists::*;
mod qualifications;
pub use qualifications::*;
mod readables;
pub use readables::*;

#[cfg(test)]
mod tests;

fn grant<T>(decision: Decision, target: T) -> Result<Permit<T>, Refusal> {
    match decision {
        Decision::Allowed(_) => Ok(Permit { target }),
        Decision::Refused(r) => Err(r),
    }
}

/// A permit to edit the group's fields.
///
/// # Errors
/// The refusal when [`GroupAction::Update`] is not allowed.
pub fn permit_update_group(
    actor: &Actor,
    g: &Group,
    tree: &GroupTree,
) -> Result<Permit<UpdateGroup>, Refusal> {
    grant(
        group(actor, GroupAction::Update, g, tree),
        UpdateGroup(g.id),
    )
}

/// A permit to create a group of a type (layer or not) below `parent`.
///
/// # Errors
/// The refusal of [`may_create_group`].
pub fn permit_create_group(
    actor: &Actor,
    parent: &Group,
    child_is_layer: bool,
    tree: &GroupTree,
) -> Result<Permit<CreateGroup>, Refusal> {
    grant(
        may_create_group(actor, parent, child_is_layer, tree),
        CreateGroup(Some(parent.id)),
    )
}

/// A permit to soft-delete the group.
///
/// # Errors
/// The refusal when [`GroupAction::Destroy`] is not allowed.
pub fn permit_destroy_group(
    actor: &Actor,
    g: &Group,
    tree: &GroupTree,
) -> Result<Permit<DestroyGroup>, Refusal> {
    grant(
        group(actor, GroupAction::Destroy, g, tree),
        DestroyGroup(g.id),
    )
}

/// A permit to archive the group.
///
/// # Errors
/// The refusal when [`GroupAction::Archive`] is not allowed.
pub fn permit_archive_group(
    actor: &Actor,
    g: &Group,
    tree: &GroupTree,
) -> Result<Permit<ArchiveGroup>, Refusal> {
    grant(
        group(actor, GroupAction::Archive, g, tree),
        ArchiveGroup(g.id),
    )
}

/// A permit to move `g` below `target`: update on the group and create on
/// the target for the group's type.
///
/// # Errors
/// The first refusal of the two checks.
pub fn permit_move_group(
    actor: &Actor,
    g: &Group,
    target: &Group,
    tree: &GroupTree,
) -> Result<Permit<MoveGroup>, Refusal> {
    grant(group(actor, GroupAction::Update, g, tree), ())?;
    grant(
        may_create_group(actor, target, g.is_layer(), tree),
        MoveGroup {
            group: g.id,
            new_parent: target.id,
        },
    )
}

/// A permit to edit the person.
///
/// # Errors
/// The refusal when [`PersonAction::Update`] is not allowed.
pub fn permit_update_person(
    actor: &Actor,
    subject: &PersonSubject<'_>,
) -> Result<Permit<UpdatePerson>, Refusal> {
    grant(
        person(actor, PersonAction::Update, subject),
        UpdatePerson(subject.id),
    )
}

/// A permit to change the person's main email.
///
/// # Errors
/// The refusal when [`PersonAction::UpdateEmail`] is not allowed.
pub fn permit_update_email(
    actor: &Actor,
    subject: &PersonSubject<'_>,
) -> Result<Permit<UpdateEmail>, Refusal> {
    grant(
        person(actor, PersonAction::UpdateEmail, subject),
        UpdateEmail(subject.id),
    )
}

/// A permit to create a new person with a first role of `role_type` in `g`.
///
/// # Errors
/// The refusal of [`may_create_role`].
pub fn permit_create_person(
    actor: &Actor,
    g: &Group,
    role_type: &RoleType,
    tree: &GroupTree,
) -> Result<Permit<CreatePerson>, Refusal> {
    let target = CreatePerson {
        group_id: g.id,
        role_type: role_type.key.clone(),
    };
    grant(may_create_role(actor, g, role_type, tree), target)
}

/// A permit to give an existing person a role of `role_type` in `g`.
///
/// Besides [`may_create_role`], the actor must be allowed to see the
/// person ([`PersonAction::Show`]): otherwise anyone with a `*_full` role
/// could attach a role to any person id and so make invisible people
/// visible and editable to themselves.
///
/// # Errors
/// The refusal of [`may_create_role`], or of the show check.
pub fn permit_create_role(
    actor: &Actor,
    g: &Group,
    role_type: &RoleType,
    subject: &PersonSubject<'_>,
    tree: &GroupTree,
) -> Result<Permit<CreateRole>, Refusal> {
    grant(person(actor, PersonAction::Show, subject), ())?;
    let target = CreateRole {
        group_id: g.id,
        person_id: subject.id,
        role_type: role_type.key.clone(),
    };
    grant(may_create_role(actor, g, role_type, tree), target)
}

/// A permit to edit the role's label and dates.
///
/// # Errors
/// The refusal when [`RoleAction::Update`] is not allowed.
pub fn permit_update_role(
    actor: &Actor,
    subject: &RoleSubject<'_>,
    tree: &GroupTree,
) -> Result<Permit<UpdateRole>, Refusal> {
    grant(
        role(actor, RoleAction::Update, subject, tree),
        UpdateRole(subject.role.id),
    )
}

/// A permit to remove (end or delete) the role.
///
/// # Errors
/// The refusal when [`RoleAction::Destroy`] is not allowed.
pub fn permit_destroy_role(
    actor: &Actor,
    subject: &RoleSubject<'_>,
    tree: &GroupTree,
) -> Result<Permit<DestroyRole>, Refusal> {
    grant(
        role(actor, RoleAction::Destroy, subject, tree),
        DestroyRole(subject.role.id),
    )
}

/// A permit to set one's own password; nobody sets another's password
/// (they get a reset link instead, which the mail issue adds).
///
/// # Errors
/// [`Refusal::NoPermission`] for anyone but the person themselves.
pub fn permit_own_password(
    actor: &Actor,
    person_id: PersonId,
) -> Result<Permit<SetPassword>, Refusal> {
    if actor.person_id == person_id {
        Ok(Permit {
            target: SetPassword(person_id),
        })
    } else {
        Err(Refusal::NoPermission)
    }
}
