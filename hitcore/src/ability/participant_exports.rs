//! Who may export an event's participants, and what the file holds for
//! them (section 9.1, participation exports, with the event rows
//! `index_participations` and `index_full_participations` of 4.3).
//!
//! The active participants are exported by whoever may list them; the
//! full column set, every answer, and the pending applications only by
//! those who may see the participations in full. Everybody else gets the
//! address columns and the answers their event roles may read (5.2).

use super::{Actor, EventAction, EventSubject, EventViewer, Permit, Refusal, event, grant};
use crate::event::participation::EventRoleType;
use crate::event::question::AnswerViewer;
use crate::export::ColumnSet;
use crate::id::EventId;

/// Permit target: export this event's active (or pending) participants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportParticipants {
    pub event: EventId,
    pub active: bool,
}

/// What a participant export holds for one requester.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantExportScope {
    /// Address, or full with `index_full_participations`.
    pub set: ColumnSet,
    /// Whose answers the requester reads: never as the participant (a
    /// column is the same for every row), as someone who sees all with
    /// `index_full_participations`, else by their active event roles.
    pub answers: AnswerViewer,
}

/// May the actor export the event's participants? The active ones with
/// `index_participations`; the pending applications only with
/// `index_full_participations`, since listing them is managing them.
///
/// # Errors
/// The refusal of the deciding row.
pub fn permit_export_participants(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
    active: bool,
) -> Result<Permit<ExportParticipants>, Refusal> {
    let action = if active {
        EventAction::IndexParticipations
    } else {
        EventAction::IndexFullParticipations
    };
    grant(
        event(actor, action, subject, viewer),
        ExportParticipants {
            event: subject.event.id,
            active,
        },
    )
}

/// The column set and the answers of the actor's export, once
/// [`permit_export_participants`] allowed it.
pub fn participant_export_scope(
    actor: &Actor,
    subject: &EventSubject<'_>,
    viewer: &EventViewer,
    _permit: &Permit<ExportParticipants>,
) -> ParticipantExportScope {
    let is_full = event(actor, EventAction::IndexFullParticipations, subject, viewer).is_allowed();
    // Event roles count only through an active participation (5.3).
    let role_types: Vec<EventRoleType> = subject
        .own
        .as_ref()
        .filter(|o| o.active)
        .map(|o| o.roles.clone())
        .unwrap_or_default();
    ParticipantExportScope {
        set: if is_full {
            ColumnSet::Full
        } else {
            ColumnSet::Address
        },
        answers: AnswerViewer {
            is_own: false,
            sees_all: is_full,
            role_types,
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::ability::Grant;
    use crate::event::Event;
    use crate::event::participation::OwnParticipation;
    use crate::group::{Address, Group};
    use crate::id::{GroupId, PersonId};
    use crate::permission::Permission;

    const LAYER: GroupId = GroupId(1);
    const CLUB: GroupId = GroupId(2);

    fn club() -> Group {
        let at = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        Group {
            id: CLUB,
            parent_id: Some(LAYER),
            path: vec![LAYER, CLUB],
            layer_group_id: LAYER,
            group_type: "T".into(),
            name: "Club".into(),
            short_name: None,
            email: None,
            description: None,
            address: Address::default(),
            created_at: at,
            updated_at: at,
            deleted_at: None,
            archived_at: None,
        }
    }

    fn course(participations_visible: bool) -> Event {
        let at = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        Event {
            id: EventId(7),
            event_type: "Event::Course".into(),
            group_ids: vec![CLUB],
            name: "Course".into(),
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
            participations_visible,
            priorization: false,
            requires_approval: false,
            automatic_assignment: false,
            waiting_list: true,
            notify_contact_on_participations: false,
            contact_id: None,
            shared_access_token: "token".into(),
            training_days: None,
            creator_id: None,
            updater_id: None,
            dates: Vec::new(),
            created_at: at,
            updated_at: at,
        }
    }

    fn actor(permission: Option<Permission>) -> Actor {
        Actor {
            person_id: PersonId(1),
            is_root: false,
            grants: permission
                .into_iter()
                .map(|permission| Grant {
                    permission,
                    group_id: CLUB,
                    layer_group_id: LAYER,
                    is_group_active: true,
                })
                .collect(),
            has_role: permission.is_some(),
        }
    }

    fn own(role: EventRoleType, active: bool) -> Option<OwnParticipation> {
        Some(OwnParticipation {
            active,
            roles: vec![role],
        })
    }

    /// Who exports which participants, and with which columns and
    /// answers: the group and layer positions and `participations_full`
    /// everything; `participations_read(_details)` and fellow participants
    /// of a visible list the active ones with address columns and the
    /// answers their roles may read; nobody else anything.
    #[rstest]
    #[case(Some(Permission::GroupFull), None, true, Some(true), Some(true))]
    #[case(
        Some(Permission::LayerAndBelowFull),
        None,
        true,
        Some(true),
        Some(true)
    )]
    #[case(None, own(EventRoleType::Leader, true), false, Some(true), Some(true))]
    #[case(None, own(EventRoleType::Helper, true), false, Some(false), None)]
    #[case(None, own(EventRoleType::Treasurer, true), false, Some(false), None)]
    #[case(None, own(EventRoleType::Participant, true), true, Some(false), None)]
    #[case(None, own(EventRoleType::Participant, true), false, None, None)]
    #[case(None, own(EventRoleType::Leader, false), false, None, None)]
    #[case(Some(Permission::GroupRead), None, true, None, None)]
    #[case(None, None, true, None, None)]
    fn exports_follow_the_participation_rows_of_the_event_table(
        #[case] permission: Option<Permission>,
        #[case] own: Option<OwnParticipation>,
        #[case] participations_visible: bool,
        #[case] active_is_full: Option<bool>,
        #[case] pending_is_full: Option<bool>,
    ) {
        let (g, e) = (club(), course(participations_visible));
        let subject = EventSubject {
            event: &e,
            groups: vec![&g],
            own,
        };
        let who = actor(permission);
        let viewer = EventViewer::default();
        for (active, expected) in [(true, active_is_full), (false, pending_is_full)] {
            let permit = permit_export_participants(&who, &subject, &viewer, active);
            assert_eq!(permit.is_ok(), expected.is_some(), "active {active}");
            if let (Ok(permit), Some(is_full)) = (permit, expected) {
                assert_eq!(
                    permit.target(),
                    &ExportParticipants {
                        event: e.id,
                        active
                    }
                );
                let scope = participant_export_scope(&who, &subject, &viewer, &permit);
                let set = if is_full {
                    ColumnSet::Full
                } else {
                    ColumnSet::Address
                };
                assert_eq!(scope.set, set);
                assert_eq!(scope.answers.sees_all, is_full);
                assert!(!scope.answers.is_own);
            }
        }
    }

    #[test]
    fn answers_follow_the_active_event_roles() {
        let (g, e) = (club(), course(false));
        let subject = EventSubject {
            event: &e,
            groups: vec![&g],
            own: own(EventRoleType::Cook, true),
        };
        let who = actor(None);
        let viewer = EventViewer::default();
        let permit =
            permit_export_participants(&who, &subject, &viewer, true).expect("a cook may list");
        let scope = participant_export_scope(&who, &subject, &viewer, &permit);
        assert_eq!(scope.answers.role_types, [EventRoleType::Cook]);
    }
}
