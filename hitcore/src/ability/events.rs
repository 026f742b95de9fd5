//! Who may do what with events and courses: the "Event actions" table of
//! section 4.3, and the group and layer positions that the participation
//! rules reuse ("as for the event").

use chrono::NaiveDate;

use super::{Actor, Because, Decision, Grant, Permit, Refusal, grant};
use crate::event::participation::{EventPermission, EventRoleKind, OwnParticipation};
use crate::event::{AttachmentVisibility, Event, EventScope};
use crate::group::{Group, GroupTree};
use crate::id::{AttachmentId, EventId, GroupId};
use crate::org::Organisation;
use crate::permission::Permission;
use crate::role::Role;

/// Permit target: create an event on these groups (ascending ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateEvent(pub Vec<GroupId>);
/// Permit target: edit this event's fields, dates and questions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateEvent(pub EventId);
/// Permit target: attach this event to exactly these groups (ascending
/// ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetEventGroups {
    pub event: EventId,
    pub groups: Vec<GroupId>,
}
/// Permit target: delete this event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyEvent(pub EventId);
/// Permit target: add and remove this event's attachments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManageAttachments(pub EventId);
/// Permit target: download this attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DownloadAttachment(pub AttachmentId);

/// An event as the subject of a decision.
#[derive(Clone, Debug)]
pub struct EventSubject<'a> {
    pub event: &'a Event,
    /// The event's groups (one or more).
    pub groups: Vec<&'a Group>,
    /// The actor's participation in the event, if any.
    pub own: Option<OwnParticipation>,
}

impl EventSubject<'_> {
    /// "act": at least one event group is neither deleted nor archived.
    pub fn is_active(&self) -> bool {
        self.groups.iter().any(|g| g.is_active())
    }

    /// At least one event group is not deleted.
    pub fn has_live_group(&self) -> bool {
        self.groups.iter().any(|g| !g.is_deleted())
    }
}

/// How far `layer_and_below_full` reaches for an action: its whole
/// subtree (L↓), or only its own layer ("L only" in the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerReach {
    Below,
    LayerOnly,
}

/// Whether a write permission of `grant` reaches `group` as in the event
/// table: group_full G, group_and_below_full G↓, layer_full L,
/// layer_and_below_full L↓ or L only.
fn reaches(grant: &Grant, group: &Group, reach: LayerReach) -> bool {
    let in_layer = group.layer_group_id == grant.layer_group_id;
    match grant.permission {
        Permission::GroupFull => group.id == grant.group_id,
        Permission::GroupAndBelowFull => in_layer && group.is_in_subtree_of(grant.group_id),
        Permission::LayerFull => in_layer,
        Permission::LayerAndBelowFull => match reach {
            LayerReach::Below => group.is_in_subtree_of(grant.layer_group_id),
            LayerReach::LayerOnly => in_layer,
        },
        _ => false,
    }
}

/// The group and layer columns of the event table: root, or the first
/// grant among `permissions` that reaches any of the event's groups.
/// `needs_active` is "act". Neither checks the event roles column.
pub fn by_position(
    actor: &Actor,
    subject: &EventSubject<'_>,
    permissions: &[Permission],
    reach: LayerReach,
    needs_active: bool,
) -> Decision {
    if needs_active && !subject.is_active() {
        return Decision::Refused(Refusal::GroupInactive);
    }
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    actor
        .grants
        .iter()
        .filter(|g| permissions.contains(&g.permission))
        .find(|g| subject.groups.iter().any(|group| reaches(g, group, reach)))
        .map_or(Decision::Refused(Refusal::NoPermission), |g| {
            Decision::Allowed(Because::Permission {
                permission: g.permission,
                group_id: g.group_id,
            })
        })
}

/// The four write permissions of the table's columns.
pub const WRITE_POSITIONS: [Permission; 4] = [
    Permission::GroupFull,
    Permission::GroupAndBelowFull,
    Permission::LayerFull,
    Permission::LayerAndBelowFull,
];

/// Event actions of table 4.3 on an existing event (creating one is
/// [`may_create_event`]; the application market, qualifying and reading
/// qualifications are in the participation and qualification modules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    Show,
    IndexParticipations,
    IndexFullParticipations,
    /// Also covers `create_tags`, `assign_tags` and `manage_attachments`.
    Update,
    Destroy,
    IndexInvitations,
}

/// What the "any user" column of `show` needs besides the actor's grants:
/// the layers of all the actor's active roles (also those without
/// permissions), and the shared access token the request carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventViewer {
    pub layer_ids: Vec<GroupId>,
    pub token: Option<String>,
}

impl EventViewer {
    /// The viewer of `actor`, from their roles active on `today`; roles of
    /// other people and of deleted or unknown groups are ignored.
    pub fn new(actor: &Actor, roles: &[Role], tree: &GroupTree, today: NaiveDate) -> EventViewer {
        let mut layer_ids: Vec<GroupId> = roles
            .iter()
            .filter(|r| r.person_id == actor.person_id && r.is_active(today))
            .filter_map(|r| tree.get(r.group_id))
            .filter(|g| !g.is_deleted())
            .map(|g| g.layer_group_id)
            .collect();
        layer_ids.sort();
        layer_ids.dedup();
        EventViewer {
            layer_ids,
            token: None,
        }
    }

    /// The same viewer, holding a shared access token (`?token=`).
    pub fn with_token(self, token: Option<String>) -> EventViewer {
        EventViewer {
            token: token.filter(|t| !t.is_empty()),
            ..self
        }
    }
}

/// Compares two tokens in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The "any user" column of `show`: a globally visible event, one open
/// for external applications, the right shared token, the actor's own
/// participation, or any role of the actor in a layer of an event group.
fn shown_to_anyone(subject: &EventSubject<'_>, viewer: &EventViewer) -> Option<Because> {
    let event = subject.event;
    if event.is_globally_visible() || event.external_applications {
        return Some(Because::Anyone);
    }
    let has_token = viewer
        .token
        .as_deref()
        .is_some_and(|t| same_token(t, &event.shared_access_token));
    let in_layer = subject
        .groups
        .iter()
        .any(|g| viewer.layer_ids.contains(&g.layer_group_id));
    if has_token || subject.own.is_some() {
        Some(Because::Herself)
    } else if in_layer {
        Some(Because::AnyRole)
    } else {
        None
    }
}

/// May the actor do `action` on the event? The rows of the "Event
/// actions" table of section 4.3, each column in turn.
pub fn event(
    actor: &Actor,
    action: EventAction,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
) -> Decision {
    use EventAction::*;
    let position =
        |reach, needs_active| by_position(actor, subject, &WRITE_POSITIONS, reach, needs_active);
    match action {
        Show => match shown_to_anyone(subject, viewer) {
            Some(because) => Decision::Allowed(because),
            None => position(LayerReach::Below, false),
        },
        IndexParticipations => {
            let is_participant = subject
                .own
                .as_ref()
                .is_some_and(|o| o.active && subject.event.participations_visible);
            or_event_role(
                position(LayerReach::Below, false),
                subject,
                &[
                    EventPermission::ParticipationsRead,
                    EventPermission::ParticipationsReadDetails,
                    EventPermission::ParticipationsFull,
                ],
            )
            .or_if(is_participant, Because::Herself)
        }
        IndexFullParticipations => or_event_role(
            position(LayerReach::Below, false),
            subject,
            &[EventPermission::ParticipationsFull],
        ),
        Update => match position(LayerReach::Below, true) {
            Decision::Refused(Refusal::GroupInactive) => Decision::Refused(Refusal::GroupInactive),
            d => or_event_role(d, subject, &[EventPermission::EventFull]),
        },
        // Deleting takes the event from all its groups: like removing a
        // group, it needs the position on each active one (deleted and
        // archived groups hold nothing back).
        Destroy => match position(LayerReach::LayerOnly, true) {
            Decision::Allowed(_) => {
                let active: Vec<&Group> = subject
                    .groups
                    .iter()
                    .copied()
                    .filter(|g| g.is_active())
                    .collect();
                may_create_event(actor, &active)
            }
            refused => refused,
        },
        IndexInvitations => position(LayerReach::Below, false),
    }
}

impl Decision {
    /// This decision, or allowed for `because` when it was refused for
    /// want of a permission and `condition` holds.
    fn or_if(self, condition: bool, because: Because) -> Decision {
        match self {
            Decision::Refused(Refusal::NoPermission) if condition => Decision::Allowed(because),
            d => d,
        }
    }
}

/// The "event role" column: `decision`, or allowed when the actor holds
/// one of `permissions` through an active participation.
fn or_event_role(
    decision: Decision,
    subject: &EventSubject<'_>,
    permissions: &[EventPermission],
) -> Decision {
    let holds = subject
        .own
        .as_ref()
        .is_some_and(|o| permissions.iter().any(|p| o.has(*p)));
    decision.or_if(holds, Because::Herself)
}

/// May the actor create an event on `groups` (the `create` row)? A write
/// position on each of them (`layer_and_below_full` in its own layer
/// only), each group active. Whether the type fits the groups is
/// [`crate::event::check_groups`]'s question.
///
/// hitobito lets a position on any one of the groups suffice; asking for
/// each keeps anybody from putting events into groups they cannot manage.
pub fn may_create_event(actor: &Actor, groups: &[&Group]) -> Decision {
    let mut decision = Decision::Refused(Refusal::NoPermission);
    for group in groups {
        // The subject of a new event: only its groups matter to the rule.
        let probe = probe_event();
        let subject = EventSubject {
            event: &probe,
            groups: vec![group],
            own: None,
        };
        decision = by_position(
            actor,
            &subject,
            &WRITE_POSITIONS,
            LayerReach::LayerOnly,
            true,
        );
        if !decision.is_allowed() {
            return decision;
        }
    }
    decision
}

/// An empty event, the stand-in subject of [`may_create_event`].
fn probe_event() -> Event {
    let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    Event {
        id: EventId(0),
        event_type: String::new(),
        group_ids: Vec::new(),
        name: String::new(),
        description: None,
        application_conditions: None,
        number: None,
        motto: None,
        cost: None,
        location: None,
        kind_id: None,
        state: None,
        maximum_participants: None,
        minimum_participants: None,
        participant_count: 0,
        teamer_count: 0,
        applicant_count: 0,
        application_opening_at: None,
        application_closing_at: None,
        applications_cancelable: false,
        external_applications: false,
        globally_visible: Some(false),
        participations_visible: false,
        priorization: false,
        requires_approval: false,
        automatic_assignment: false,
        waiting_list: false,
        notify_contact_on_participations: false,
        contact_id: None,
        shared_access_token: String::new(),
        training_days: None,
        creator_id: None,
        updater_id: None,
        dates: Vec::new(),
        created_at: at,
        updated_at: at,
    }
}

/// May the actor download an attachment of this visibility? Whoever may
/// see the event gets `global` ones; active participants and the team
/// `participants` ones; only the team (active leaders and helpers) and
/// those who may manage the attachments `team` ones.
pub fn may_download_attachment(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
    visibility: AttachmentVisibility,
) -> Decision {
    let shown = event(actor, EventAction::Show, subject, viewer);
    if !shown.is_allowed() {
        return shown;
    }
    let own = subject.own.as_ref().filter(|o| o.active);
    let is_team = own.is_some_and(|o| {
        o.roles
            .iter()
            .any(|r| matches!(r.kind(), EventRoleKind::Leader | EventRoleKind::Helper))
    });
    let may_manage = || event(actor, EventAction::Update, subject, viewer);
    match visibility {
        AttachmentVisibility::Global => shown,
        AttachmentVisibility::Participants if own.is_some() => Decision::Allowed(Because::Herself),
        AttachmentVisibility::Team if is_team => Decision::Allowed(Because::Herself),
        AttachmentVisibility::Participants | AttachmentVisibility::Team => may_manage(),
    }
}

/// May the actor see the course list (`list_available`)? Everybody.
pub fn may_list_courses(_actor: &Actor) -> Decision {
    Decision::Allowed(Because::Anyone)
}

/// May the actor see all courses, not only the ones open to them
/// (`list_all`)? `layer_full` or `layer_and_below_full` in a layer whose
/// group type offers courses.
pub fn may_list_all_courses(actor: &Actor, tree: &GroupTree, org: &Organisation) -> Decision {
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    actor
        .grants
        .iter()
        .filter(|g| {
            matches!(
                g.permission,
                Permission::LayerFull | Permission::LayerAndBelowFull
            )
        })
        .find(|g| offers_courses(tree, org, g.layer_group_id))
        .map_or(Decision::Refused(Refusal::NoPermission), allowed_by)
}

/// Whether the layer group `layer` may hold courses.
fn offers_courses(tree: &GroupTree, org: &Organisation, layer: GroupId) -> bool {
    tree.get(layer).is_some_and(|g| {
        crate::event::allowed_types(org, g)
            .iter()
            .any(|t| t == crate::event::COURSE)
    })
}

fn allowed_by(g: &Grant) -> Decision {
    Decision::Allowed(Because::Permission {
        permission: g.permission,
        group_id: g.group_id,
    })
}

/// May the actor export the global event list (`export_list`)?
/// `layer_and_below_full` on the root layer.
pub fn may_export_event_list(actor: &Actor, tree: &GroupTree) -> Decision {
    if actor.is_root {
        return Decision::Allowed(Because::Root);
    }
    let root = tree.root().map(|g| g.id);
    actor
        .grants
        .iter()
        .filter(|g| g.permission == Permission::LayerAndBelowFull)
        .find(|g| Some(g.layer_group_id) == root)
        .map_or(Decision::Refused(Refusal::NoPermission), allowed_by)
}

/// May the actor search events by name (`typeahead`)? Anybody with a
/// role.
pub fn may_typeahead_events(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else if actor.has_role {
        Decision::Allowed(Because::AnyRole)
    } else {
        Decision::Refused(Refusal::NoPermission)
    }
}

/// The events the actor finds in the global lists (section 4.4): all for
/// root; else public ones (globally visible, NULL counting as not, or
/// open for external applications), their own, those of their layers and
/// those below a layer where they hold `layer_and_below_*` or
/// `see_invisible_from_above`.
pub fn event_scope(actor: &Actor, viewer: &EventViewer) -> EventScope {
    let mut below: Vec<GroupId> = actor
        .grants
        .iter()
        .filter(|g| {
            matches!(
                g.permission,
                Permission::LayerAndBelowFull
                    | Permission::LayerAndBelowRead
                    | Permission::SeeInvisibleFromAbove
            )
        })
        .map(|g| g.layer_group_id)
        .collect();
    below.sort();
    below.dedup();
    EventScope {
        all: actor.is_root,
        public: true,
        participant: Some(actor.person_id),
        layer_ids: viewer.layer_ids.clone(),
        below_layer_ids: below,
    }
}

/// A permit to create an event on `groups`.
///
/// # Errors
/// The refusal of [`may_create_event`].
pub fn permit_create_event(
    actor: &Actor,
    groups: &[&Group],
) -> Result<Permit<CreateEvent>, Refusal> {
    let mut ids: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
    ids.sort();
    ids.dedup();
    grant(may_create_event(actor, groups), CreateEvent(ids))
}

/// A permit to edit the event's fields, dates and questions.
///
/// # Errors
/// The refusal when [`EventAction::Update`] is not allowed.
pub fn permit_update_event(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
) -> Result<Permit<UpdateEvent>, Refusal> {
    grant(
        event(actor, EventAction::Update, subject, viewer),
        UpdateEvent(subject.event.id),
    )
}

/// A permit to attach the event to `groups` instead of its current ones:
/// the actor may update the event, and may create events on every group
/// added or removed (so nobody takes an event away from a group they
/// cannot manage) and on one of the groups it keeps (so nobody gives an
/// event away and locks themselves out). An empty list is refused.
///
/// # Errors
/// The first refusal.
pub fn permit_set_event_groups(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
    groups: &[&Group],
) -> Result<Permit<SetEventGroups>, Refusal> {
    let mut ids: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
    ids.sort();
    ids.dedup();
    let changed: Vec<&Group> = groups
        .iter()
        .copied()
        .filter(|g| !subject.event.group_ids.contains(&g.id))
        .chain(
            subject
                .groups
                .iter()
                .copied()
                .filter(|g| !ids.contains(&g.id)),
        )
        .collect();
    let keeps_one = groups
        .iter()
        .any(|g| may_create_event(actor, &[g]).is_allowed());
    let decision = match event(actor, EventAction::Update, subject, viewer) {
        Decision::Allowed(_) if ids.is_empty() => Decision::Refused(Refusal::NoPermission),
        allowed @ Decision::Allowed(_) if changed.is_empty() => allowed,
        Decision::Allowed(_) if !keeps_one => Decision::Refused(Refusal::NoPermission),
        Decision::Allowed(_) => may_create_event(actor, &changed),
        refused => refused,
    };
    grant(
        decision,
        SetEventGroups {
            event: subject.event.id,
            groups: ids,
        },
    )
}

/// A permit to delete the event.
///
/// # Errors
/// The refusal when [`EventAction::Destroy`] is not allowed.
pub fn permit_destroy_event(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
) -> Result<Permit<DestroyEvent>, Refusal> {
    grant(
        event(actor, EventAction::Destroy, subject, viewer),
        DestroyEvent(subject.event.id),
    )
}

/// A permit to add and remove the event's attachments (the `update` row).
///
/// # Errors
/// The refusal when [`EventAction::Update`] is not allowed.
pub fn permit_manage_attachments(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
) -> Result<Permit<ManageAttachments>, Refusal> {
    grant(
        event(actor, EventAction::Update, subject, viewer),
        ManageAttachments(subject.event.id),
    )
}

/// A permit to download one attachment of the event.
///
/// # Errors
/// The refusal of [`may_download_attachment`].
pub fn permit_download_attachment(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
    attachment: &crate::event::Attachment,
) -> Result<Permit<DownloadAttachment>, Refusal> {
    grant(
        may_download_attachment(actor, subject, viewer, attachment.visibility),
        DownloadAttachment(attachment.id),
    )
}

#[cfg(test)]
#[path = "tests_events.rs"]
mod tests;
