//! The application rules of section 5.4: when people may apply, whether an
//! application waits for a place, which courses may be its second and
//! third choice, when it may be cancelled and what the application market
//! refuses; and the counters of 5.3 that every change recomputes.
//!
//! Pure functions of the event and the participations they are given; the
//! stores call them inside the transaction that changes the data, so the
//! answer and the change see the same rows.

use chrono::NaiveDate;
use serde::Serialize;

use super::participation::{EventRoleKind, Participation};
use super::{COURSE, Event};
use crate::id::EventId;

/// The comment an application gets when it lands on the waiting list by
/// itself (no place left), so organisers can tell it from one they put
/// there.
pub const WAITING_LIST_COMMENT: &str = "No place left when applying";

/// Whether events of `event_type` take applications (priorities, approval,
/// waiting list, market). Only courses do in the core.
pub fn supports_applications(event_type: &str) -> bool {
    event_type == COURSE
}

/// Whether the application period is open on `today`: opening and
/// closing dates are each optional and inclusive.
pub fn is_period_open(event: &Event, today: NaiveDate) -> bool {
    event.application_opening_at.is_none_or(|d| d <= today)
        && event.application_closing_at.is_none_or(|d| today <= d)
}

/// Whether a place is free: no maximum (`None` or 0), or fewer
/// participants than the maximum.
pub fn has_places(event: &Event) -> bool {
    match event.maximum_participants {
        None | Some(0) => true,
        Some(max) => event.participant_count < max,
    }
}

/// Whether the event keeps a waiting list: its type supports applications
/// and the flag is set.
pub fn has_waiting_list(event: &Event) -> bool {
    supports_applications(&event.event_type) && event.waiting_list
}

/// `application_possible?` of 5.4: the period is open and there is a
/// place or a waiting list.
pub fn application_possible(event: &Event, today: NaiveDate) -> bool {
    is_period_open(event, today) && (has_places(event) || has_waiting_list(event))
}

/// Why an application is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApplyRefusal {
    /// Before the opening or after the closing date.
    #[error("the application period is not open")]
    PeriodClosed,
    /// Full, and no waiting list.
    #[error("the event is full")]
    Full,
    /// The person is registered for this event already.
    #[error("already registered")]
    AlreadyRegistered,
    /// A required question was left blank.
    #[error("a required question has no answer")]
    AnswerMissing,
}

/// Where a new registration lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// Active at once (a place), or pending.
    pub active: bool,
    /// On the waiting list (courses with no place left).
    pub waiting_list: bool,
}

/// Where a registration lands (5.4, 2): someone registering another person
/// gives them a place, as does `automatic_assignment` while places are
/// free; otherwise a self-application is pending, on the waiting list when
/// no place is left. Simple events have no applications: a registration
/// there is active.
///
/// # Errors
/// [`ApplyRefusal::PeriodClosed`] or [`ApplyRefusal::Full`] for a
/// self-application when [`application_possible`] says no; someone
/// registering another person is not bound by the period or the places
/// (the organisers decide).
pub fn placement(
    event: &Event,
    by_self: bool,
    today: NaiveDate,
) -> Result<Placement, ApplyRefusal> {
    if by_self {
        if !is_period_open(event, today) {
            return Err(ApplyRefusal::PeriodClosed);
        }
        if !has_places(event) && !has_waiting_list(event) {
            return Err(ApplyRefusal::Full);
        }
    }
    if !supports_applications(&event.event_type) || !by_self {
        return Ok(Placement {
            active: true,
            waiting_list: false,
        });
    }
    let place = has_places(event);
    Ok(Placement {
        active: place && event.automatic_assignment,
        waiting_list: !place,
    })
}

/// Whether `other` may be the second or third choice of an application for
/// `first`: another course of the same kind whose application period is
/// open on `today`. The caller passes only courses the applicant may see
/// (their hierarchy).
pub fn may_be_other_priority(first: &Event, other: &Event, today: NaiveDate) -> bool {
    other.id != first.id
        && supports_applications(&other.event_type)
        && other.kind_id.is_some()
        && other.kind_id == first.kind_id
        && is_period_open(other, today)
}

/// Whether the participant may cancel their own registration (5.4, 7): the
/// event lets applications be cancelled and the closing date, if any, has
/// not passed.
pub fn may_cancel(event: &Event, today: NaiveDate) -> bool {
    event.applications_cancelable && event.application_closing_at.is_none_or(|d| today <= d)
}

/// Why the application market refuses to add a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MarketRefusal {
    /// `maximum_participants` is reached.
    #[error("the maximum number of participants is reached")]
    MaximumReached,
    /// The person already has another participation in this event.
    #[error("the person already applied for or takes part in this event")]
    AlreadyThere,
    /// Not an application (or an application of another course's kind).
    #[error("this is not an application for this course")]
    NotAnApplication,
}

/// What the market's "add" checks (5.4, 6): a place is left, and the
/// person has no other participation in `event` (`other_in_event`: one
/// that is not the one being moved).
///
/// # Errors
/// The refusal, as above.
pub fn check_market_add(event: &Event, other_in_event: bool) -> Result<(), MarketRefusal> {
    if other_in_event {
        return Err(MarketRefusal::AlreadyThere);
    }
    if !has_places(event) {
        return Err(MarketRefusal::MaximumReached);
    }
    Ok(())
}

/// The counters of 5.3 of one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Active participations with a participant role.
    pub participant_count: u32,
    /// Active participations with a leader- or helper-kind role.
    pub teamer_count: u32,
    /// Participations without roles or with a participant role, active or
    /// not (all priorities).
    pub applicant_count: u32,
}

/// The counters from the event's participations (with their roles).
pub fn counts<'a>(participations: impl IntoIterator<Item = &'a Participation>) -> Counts {
    let mut c = Counts::default();
    for p in participations {
        let has_kind = |k: EventRoleKind| p.roles.iter().any(|r| r.role_type.kind() == k);
        let is_participant = has_kind(EventRoleKind::Participant);
        let is_teamer = has_kind(EventRoleKind::Leader) || has_kind(EventRoleKind::Helper);
        if p.active && is_participant {
            c.participant_count += 1;
        }
        if p.active && is_teamer {
            c.teamer_count += 1;
        }
        if p.roles.is_empty() || is_participant {
            c.applicant_count += 1;
        }
    }
    c
}

/// Which events the market shows applications of, besides the event's own
/// assigned participants (5.4, 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MarketFilter {
    /// Pending applications with this event as first choice (the default).
    pub prio_1: bool,
    pub prio_2: bool,
    pub prio_3: bool,
    /// Pending applications on the waiting list for a course of the same
    /// kind.
    pub waiting_list: bool,
}

impl Default for MarketFilter {
    fn default() -> MarketFilter {
        MarketFilter {
            prio_1: true,
            prio_2: false,
            prio_3: false,
            waiting_list: false,
        }
    }
}

/// The priority (1 to 3) that `event` has in an application, if any.
pub fn priority_of(event: EventId, application: &super::participation::Application) -> Option<u8> {
    if application.priority_1_id == event {
        Some(1)
    } else if application.priority_2_id == Some(event) {
        Some(2)
    } else if application.priority_3_id == Some(event) {
        Some(3)
    } else {
        None
    }
}

/// The layers whose `approve_applications` holders get an applicant's
/// approval request (5.4, 4): the layers of the groups where the
/// applicant holds an active member-kind role on `today`, ascending.
/// `layer_of` gives a group's layer (`None`: unknown or deleted).
pub fn approval_layers(
    org: &crate::org::Organisation,
    roles: &[crate::role::Role],
    layer_of: impl Fn(crate::id::GroupId) -> Option<crate::id::GroupId>,
    today: NaiveDate,
) -> Vec<crate::id::GroupId> {
    let mut layers: Vec<_> = roles
        .iter()
        .filter(|r| r.is_active(today))
        .filter(|r| {
            org.role_type(&r.role_type)
                .is_some_and(|t| t.kind == crate::org::RoleKind::Member)
        })
        .filter_map(|r| layer_of(r.group_id))
        .collect();
    layers.sort();
    layers.dedup();
    layers
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::event::participation::{EventRole, EventRoleType};
    use crate::id::{EventKindId, EventRoleId, ParticipationId, PersonId};

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn course() -> Event {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a time");
        Event {
            id: EventId(1),
            event_type: COURSE.to_owned(),
            group_ids: vec![],
            name: "BLC".to_owned(),
            description: None,
            application_conditions: None,
            number: None,
            motto: None,
            cost: None,
            location: None,
            kind_id: Some(EventKindId(1)),
            state: None,
            maximum_participants: Some(2),
            minimum_participants: None,
            participant_count: 0,
            teamer_count: 0,
            applicant_count: 0,
            application_opening_at: Some(day("2026-03-01")),
            application_closing_at: Some(day("2026-03-31")),
            applications_cancelable: true,
            external_applications: false,
            globally_visible: None,
            participations_visible: true,
            priorization: true,
            requires_approval: true,
            automatic_assignment: false,
            waiting_list: true,
            notify_contact_on_participations: false,
            contact_id: None,
            shared_access_token: String::new(),
            training_days: None,
            creator_id: None,
            updater_id: None,
            dates: vec![],
            created_at: t,
            updated_at: t,
        }
    }

    #[rstest]
    #[case("2026-02-28", false)]
    #[case("2026-03-01", true)]
    #[case("2026-03-31", true)]
    #[case("2026-04-01", false)]
    fn period_is_open_between_opening_and_closing_inclusive(
        #[case] today: &str,
        #[case] open: bool,
    ) {
        assert_eq!(is_period_open(&course(), day(today)), open);
    }

    #[test]
    fn period_without_dates_is_always_open() {
        let mut e = course();
        e.application_opening_at = None;
        e.application_closing_at = None;
        assert!(is_period_open(&e, day("1990-01-01")));
    }

    #[rstest]
    #[case(None, 5, true)]
    #[case(Some(0), 5, true)]
    #[case(Some(2), 1, true)]
    #[case(Some(2), 2, false)]
    fn places_are_free_below_the_maximum(
        #[case] max: Option<u32>,
        #[case] participants: u32,
        #[case] free: bool,
    ) {
        let mut e = course();
        e.maximum_participants = max;
        e.participant_count = participants;
        assert_eq!(has_places(&e), free);
    }

    #[rstest]
    #[case(0, true, true)]
    #[case(2, true, true)]
    #[case(2, false, false)]
    fn application_is_possible_with_a_place_or_a_waiting_list(
        #[case] participants: u32,
        #[case] waiting_list: bool,
        #[case] possible: bool,
    ) {
        let mut e = course();
        e.participant_count = participants;
        e.waiting_list = waiting_list;
        assert_eq!(application_possible(&e, day("2026-03-10")), possible);
    }

    #[test]
    fn simple_events_have_no_waiting_list() {
        let mut e = course();
        e.event_type = super::super::SIMPLE_EVENT.to_owned();
        e.participant_count = 2;
        assert!(!has_waiting_list(&e));
        assert!(!application_possible(&e, day("2026-03-10")));
    }

    #[test]
    fn self_application_with_a_place_is_pending_and_not_waiting() {
        let p = placement(&course(), true, day("2026-03-10")).expect("possible");
        assert_eq!(
            p,
            Placement {
                active: false,
                waiting_list: false
            }
        );
    }

    #[test]
    fn self_application_when_full_lands_on_the_waiting_list() {
        let mut e = course();
        e.participant_count = 2;
        let p = placement(&e, true, day("2026-03-10")).expect("possible");
        assert_eq!(
            p,
            Placement {
                active: false,
                waiting_list: true
            }
        );
    }

    #[test]
    fn automatic_assignment_gives_a_place_while_free() {
        let mut e = course();
        e.automatic_assignment = true;
        assert!(
            placement(&e, true, day("2026-03-10"))
                .expect("possible")
                .active
        );
        e.participant_count = 2;
        assert!(
            !placement(&e, true, day("2026-03-10"))
                .expect("possible")
                .active
        );
    }

    #[test]
    fn registration_by_someone_else_is_active_even_when_closed() {
        let p = placement(&course(), false, day("2026-05-10")).expect("allowed");
        assert_eq!(
            p,
            Placement {
                active: true,
                waiting_list: false
            }
        );
    }

    #[rstest]
    #[case("2026-04-01", ApplyRefusal::PeriodClosed, 0, true)]
    #[case("2026-03-10", ApplyRefusal::Full, 2, false)]
    fn self_application_is_refused(
        #[case] today: &str,
        #[case] refusal: ApplyRefusal,
        #[case] participants: u32,
        #[case] waiting_list: bool,
    ) {
        let mut e = course();
        e.participant_count = participants;
        e.waiting_list = waiting_list;
        assert_eq!(placement(&e, true, day(today)), Err(refusal));
    }

    #[test]
    fn other_priorities_are_open_courses_of_the_same_kind() {
        let first = course();
        let mut other = course();
        other.id = EventId(2);
        assert!(may_be_other_priority(&first, &other, day("2026-03-10")));
        assert!(!may_be_other_priority(&first, &first, day("2026-03-10")));
        assert!(!may_be_other_priority(&first, &other, day("2026-04-10")));
        other.kind_id = Some(EventKindId(9));
        assert!(!may_be_other_priority(&first, &other, day("2026-03-10")));
    }

    #[rstest]
    #[case(true, "2026-03-31", true)]
    #[case(true, "2026-04-01", false)]
    #[case(false, "2026-03-10", false)]
    fn cancel_needs_cancelable_and_an_open_closing_date(
        #[case] cancelable: bool,
        #[case] today: &str,
        #[case] allowed: bool,
    ) {
        let mut e = course();
        e.applications_cancelable = cancelable;
        assert_eq!(may_cancel(&e, day(today)), allowed);
    }

    #[test]
    fn market_add_refuses_past_the_maximum_and_duplicates() {
        let mut e = course();
        assert_eq!(check_market_add(&e, false), Ok(()));
        assert_eq!(check_market_add(&e, true), Err(MarketRefusal::AlreadyThere));
        e.participant_count = 2;
        assert_eq!(
            check_market_add(&e, false),
            Err(MarketRefusal::MaximumReached)
        );
    }

    #[test]
    fn approval_layers_are_those_of_active_member_roles() {
        use crate::id::{GroupId, RoleId};
        use crate::org::Organisation;
        use crate::role::Role;

        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n\
                   [group_types.Top]\nlayer = true\n\
                   [[group_types.Top.roles]]\nkey = \"Member\"\n\
                   [[group_types.Top.roles]]\nkey = \"Passive\"\nkind = \"passive\"\n";
        let org = Organisation::from_toml(src, "t.toml").expect("org");
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a time");
        let role = |id: i64, group: i64, role_type: &str, end: Option<&str>| Role {
            id: RoleId(id),
            person_id: PersonId(1),
            group_id: GroupId(group),
            role_type: role_type.to_owned(),
            label: None,
            start_on: None,
            end_on: end.map(day),
            archived_at: None,
            is_terminated: false,
            created_at: t,
            updated_at: t,
        };
        let roles = [
            role(1, 10, "Top.Member", None),
            role(2, 20, "Top.Passive", None),
            role(3, 30, "Top.Member", Some("2026-01-01")),
            role(4, 11, "Top.Member", None),
        ];
        // Groups 10 and 11 lie in layer 1, 20 in 2, 30 in 3.
        let layer_of = |g: GroupId| Some(GroupId(g.0 / 10));
        assert_eq!(
            approval_layers(&org, &roles, layer_of, day("2026-03-10")),
            [GroupId(1)]
        );
    }

    fn participation(id: i64, active: bool, roles: &[EventRoleType]) -> Participation {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a time");
        Participation {
            id: ParticipationId(id),
            event_id: EventId(1),
            person_id: PersonId(id),
            additional_information: None,
            active,
            application_id: None,
            qualified: false,
            roles: roles
                .iter()
                .enumerate()
                .map(|(i, r)| EventRole {
                    id: EventRoleId(id * 10 + i64::try_from(i).unwrap_or(0)),
                    role_type: *r,
                    label: None,
                })
                .collect(),
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn counts_follow_section_5_3() {
        use EventRoleType::*;
        let ps = [
            participation(1, true, &[Participant]),
            participation(2, false, &[Participant]),
            participation(3, true, &[Leader]),
            participation(4, true, &[Cook, Participant]),
            participation(5, false, &[]),
            participation(6, false, &[Helper]),
        ];
        assert_eq!(
            counts(&ps),
            Counts {
                participant_count: 2,
                teamer_count: 2,
                applicant_count: 4,
            }
        );
    }
}
