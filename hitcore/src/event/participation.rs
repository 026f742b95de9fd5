//! Participations, event roles and their permissions, and the counts of
//! section 5.3.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{ApplicationId, EventId, EventRoleId, ParticipationId, PersonId};

/// What an event role lets its holder do in that event (5.3). They count
/// only while the participation is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPermission {
    /// Edit the event, its tags and attachments (not create or delete it).
    EventFull,
    /// All participation data; write, send mails, manage event roles.
    ParticipationsFull,
    /// Read participations including details.
    ParticipationsReadDetails,
    /// Read the participant list.
    ParticipationsRead,
    /// Issue qualifications.
    Qualify,
}

/// How an event role counts: the team (leaders, helpers) or participants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventRoleKind {
    Leader,
    Helper,
    Participant,
}

/// The core event role types (5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventRoleType {
    Leader,
    AssistantLeader,
    Cook,
    Helper,
    Treasurer,
    Speaker,
    /// In courses restricted: given only through an application or the
    /// application market.
    Participant,
}

impl EventRoleType {
    /// Every type, in the order forms list them.
    pub const ALL: [EventRoleType; 7] = [
        EventRoleType::Leader,
        EventRoleType::AssistantLeader,
        EventRoleType::Cook,
        EventRoleType::Helper,
        EventRoleType::Treasurer,
        EventRoleType::Speaker,
        EventRoleType::Participant,
    ];

    /// The stable name stored in `event_roles.role_type`.
    pub fn key(self) -> &'static str {
        match self {
            EventRoleType::Leader => "leader",
            EventRoleType::AssistantLeader => "assistant_leader",
            EventRoleType::Cook => "cook",
            EventRoleType::Helper => "helper",
            EventRoleType::Treasurer => "treasurer",
            EventRoleType::Speaker => "speaker",
            EventRoleType::Participant => "participant",
        }
    }

    /// The type stored under `key`, if any.
    pub fn from_key(key: &str) -> Option<EventRoleType> {
        EventRoleType::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The permissions of the type.
    pub fn permissions(self) -> &'static [EventPermission] {
        use EventPermission::*;
        match self {
            EventRoleType::Leader => &[EventFull, ParticipationsFull, Qualify],
            EventRoleType::AssistantLeader => &[EventFull, ParticipationsFull],
            EventRoleType::Cook | EventRoleType::Helper => &[ParticipationsReadDetails],
            EventRoleType::Treasurer | EventRoleType::Speaker => &[ParticipationsRead],
            EventRoleType::Participant => &[],
        }
    }

    /// How the type counts.
    pub fn kind(self) -> EventRoleKind {
        match self {
            EventRoleType::Leader | EventRoleType::AssistantLeader => EventRoleKind::Leader,
            EventRoleType::Participant => EventRoleKind::Participant,
            _ => EventRoleKind::Helper,
        }
    }
}

/// A person's participation in an event, with its roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Participation {
    pub id: ParticipationId,
    pub event_id: EventId,
    pub person_id: PersonId,
    pub additional_information: Option<String>,
    /// `false`: a pending application without a place yet.
    pub active: bool,
    pub application_id: Option<ApplicationId>,
    pub qualified: bool,
    pub roles: Vec<EventRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One role of a participation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventRole {
    pub id: EventRoleId,
    pub role_type: EventRoleType,
    pub label: Option<String>,
}

/// A course application: priorities, approval and waiting list (5.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Application {
    pub id: ApplicationId,
    pub priority_1_id: EventId,
    pub priority_2_id: Option<EventId>,
    pub priority_3_id: Option<EventId>,
    pub approved: bool,
    pub rejected: bool,
    pub waiting_list: bool,
    pub waiting_list_comment: Option<String>,
}

/// The actor's own participation in an event, as the ability engine
/// needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnParticipation {
    pub active: bool,
    pub roles: Vec<EventRoleType>,
}

impl OwnParticipation {
    /// Whether the actor holds `permission` in the event: through a role
    /// of an active participation only.
    pub fn has(&self, permission: EventPermission) -> bool {
        self.active
            && self
                .roles
                .iter()
                .any(|r| r.permissions().contains(&permission))
    }
}

/// One answer of a participation to a question of its event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub question_id: crate::id::QuestionId,
    /// `None` or blank: not answered. Checkbox answers are joined by ", ".
    pub answer: Option<String>,
}

/// A registration to store: the person, their answers and, for courses,
/// the other priorities (5.4, 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewParticipation {
    pub event_id: EventId,
    pub person_id: PersonId,
    pub additional_information: Option<String>,
    /// Answers by question; questions without one get an empty answer.
    pub answers: Vec<Answer>,
    pub priority_2_id: Option<EventId>,
    pub priority_3_id: Option<EventId>,
    /// The person registers themselves (the rules of the period, the places
    /// and required answers apply, and the registration is pending).
    pub by_self: bool,
}

/// The mails a participation change sends (5.4, 4 and 7). Each is one job;
/// the job reads the participation and decides the recipients again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationMail {
    /// To the participant: the registration is received.
    Confirmation,
    /// To the event's contact person, if the event asks for it.
    ContactNotification,
    /// To the holders of `approve_applications` in the applicant's layers.
    ApprovalRequest,
    /// To the participant: the registration is cancelled.
    Cancellation,
}

impl ParticipationMail {
    /// The template name under `templates/mail/` (without language).
    pub fn template(self) -> &'static str {
        match self {
            ParticipationMail::Confirmation => "event_confirmation",
            ParticipationMail::ContactNotification => "event_contact_notification",
            ParticipationMail::ApprovalRequest => "event_approval_request",
            ParticipationMail::Cancellation => "event_cancellation",
        }
    }
}

/// Which mails a new registration sends (5.4, 4): a confirmation always
/// (to people registering themselves; to someone registered by another
/// only when that person asked for it), the contact's notification when
/// the event wants it, and an approval request when the event requires
/// approval (an application, which is not approved when it is new).
pub fn mails_on_register(
    event: &super::Event,
    by_self: bool,
    send_confirmation: bool,
) -> Vec<ParticipationMail> {
    let mut out = Vec::new();
    if by_self || send_confirmation {
        out.push(ParticipationMail::Confirmation);
    }
    if event.notify_contact_on_participations && event.contact_id.is_some() {
        out.push(ParticipationMail::ContactNotification);
    }
    if event.requires_approval && super::application::supports_applications(&event.event_type) {
        out.push(ParticipationMail::ApprovalRequest);
    }
    out
}

/// A participation as lists and pages show it: with the person's name and
/// the application, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParticipationEntry {
    pub participation: Participation,
    pub person_name: String,
    pub application: Option<Application>,
}

/// One line of a person's event history: the event and their part in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonParticipation {
    pub participation_id: ParticipationId,
    pub event_id: EventId,
    pub event_name: String,
    pub event_type: String,
    /// The first group of the event, for links (`/groups/:g/events/:e`).
    pub group_id: crate::id::GroupId,
    /// The first date's start, if any.
    pub start_at: Option<chrono::NaiveDateTime>,
    pub active: bool,
    pub qualified: bool,
    pub roles: Vec<EventRoleType>,
}

/// A pending application as the market lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarketApplication {
    pub entry: ParticipationEntry,
    /// The priority the market's event has in it (1 to 3); `None` for one
    /// shown because it waits for a course of the same kind.
    pub priority: Option<u8>,
    /// The event the participation belongs to now (its first choice).
    pub event_name: String,
}

/// The application market of one course (5.4, 6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Market {
    /// Active participations with a participant role, by name.
    pub participants: Vec<ParticipationEntry>,
    /// Pending applications the filter selects, by priority, then name.
    pub applications: Vec<MarketApplication>,
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::event::{COURSE, Event, SIMPLE_EVENT};

    fn event(event_type: &str, requires_approval: bool, notify: bool) -> Event {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a time");
        Event {
            id: EventId(1),
            event_type: event_type.to_owned(),
            group_ids: vec![],
            name: "E".to_owned(),
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
            globally_visible: None,
            participations_visible: false,
            priorization: false,
            requires_approval,
            automatic_assignment: false,
            waiting_list: true,
            notify_contact_on_participations: notify,
            contact_id: notify.then_some(PersonId(9)),
            shared_access_token: String::new(),
            training_days: None,
            creator_id: None,
            updater_id: None,
            dates: vec![],
            created_at: t,
            updated_at: t,
        }
    }

    use ParticipationMail::*;

    #[rstest]
    #[case(COURSE, true, false, true, false, vec![Confirmation, ApprovalRequest])]
    #[case(COURSE, false, false, false, false, vec![])]
    #[case(COURSE, false, false, false, true, vec![Confirmation])]
    #[case(COURSE, false, true, true, false, vec![Confirmation, ContactNotification])]
    #[case(SIMPLE_EVENT, true, false, true, false, vec![Confirmation])]
    fn registration_mails_follow_section_5_4(
        #[case] event_type: &str,
        #[case] requires_approval: bool,
        #[case] notify: bool,
        #[case] by_self: bool,
        #[case] send: bool,
        #[case] expected: Vec<ParticipationMail>,
    ) {
        let e = event(event_type, requires_approval, notify);
        assert_eq!(mails_on_register(&e, by_self, send), expected);
    }

    #[test]
    fn own_permissions_count_only_while_active() {
        let mut own = OwnParticipation {
            active: true,
            roles: vec![EventRoleType::Leader],
        };
        assert!(own.has(EventPermission::Qualify));
        own.active = false;
        assert!(!own.has(EventPermission::Qualify));
    }
}
