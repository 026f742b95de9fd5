//! People's qualifications and the date rules of section 5.5: when a
//! qualification ends, whether it is active or still reactivatable on a
//! day, what qualifying a course participant issues ([`plan_qualify`]),
//! what revoking removes ([`issued_by`]), and the precondition warnings of
//! an application (5.4 step 3, [`check_preconditions`]).
//!
//! Everything takes the day it is about; nothing reads the clock.

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::EventDate;
use super::kind::{
    EventKind, KindQualification, LinkCategory, LinkRole, LinkValidity, QualificationKind,
};
use super::participation::{EventRoleKind, EventRoleType};
use crate::id::{
    EventId, GroupId, ParticipationId, PersonId, QualificationId, QualificationKindId,
};
use crate::person::Person;

/// A qualification a person holds (or held), as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Qualification {
    pub id: QualificationId,
    pub person_id: PersonId,
    pub qualification_kind_id: QualificationKindId,
    pub start_at: NaiveDate,
    /// `None`: unlimited.
    pub finish_at: Option<NaiveDate>,
    pub qualified_at: Option<NaiveDate>,
    /// Where it comes from, e.g. the course name.
    pub origin: Option<String>,
    /// The course that issued it; `None` when entered by hand.
    pub event_id: Option<EventId>,
}

impl Qualification {
    /// Whether the qualification is valid on `day`: started, and not
    /// finished before it.
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.start_at <= day && self.finish_at.is_none_or(|f| f >= day)
    }

    /// Whether a course on `day` may still prolong the qualification: it
    /// is active, unlimited, or `reactivateable` years (the kind's) after
    /// its finish have not passed.
    pub fn is_reactivatable_on(&self, reactivateable: Option<u32>, day: NaiveDate) -> bool {
        let Some(finish) = self.finish_at else {
            return true;
        };
        if self.is_active_on(day) {
            return true;
        }
        reactivateable
            .and_then(|years| finish.checked_add_months(Months::new(years.saturating_mul(12))))
            .is_some_and(|until| until >= day)
    }
}

/// How a catalogue entry went away: deleted, or only marked deleted
/// because something still uses it (5.5's soft delete).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    Deleted,
    SoftDeleted,
}

/// One active participant on a course's qualification page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualificationParticipant {
    pub participation_id: ParticipationId,
    pub person: Person,
    pub roles: Vec<EventRoleType>,
    pub is_qualified: bool,
}

/// One course or event in a person's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventHistoryEntry {
    pub event_id: EventId,
    /// The event's first group (by id) that is not deleted, else its
    /// first, for its URL.
    pub group_id: GroupId,
    pub event_type: String,
    pub name: String,
    pub start_at: Option<NaiveDateTime>,
    pub finish_at: Option<NaiveDateTime>,
    pub roles: Vec<EventRoleType>,
    /// `false`: a pending application.
    pub is_active: bool,
    pub is_qualified: bool,
}

/// A qualification to insert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewQualification {
    pub person_id: PersonId,
    pub qualification_kind_id: QualificationKindId,
    pub start_at: NaiveDate,
    pub finish_at: Option<NaiveDate>,
    pub qualified_at: Option<NaiveDate>,
    pub origin: Option<String>,
    pub event_id: Option<EventId>,
}

/// The end of validity of a qualification starting on `start`: December
/// 31st of the year `validity` years after the start year (0: the same
/// year); `None` for an unlimited kind.
pub fn finish_date(start: NaiveDate, validity: Option<u32>) -> Option<NaiveDate> {
    let year = start.year().checked_add(i32::try_from(validity?).ok()?)?;
    NaiveDate::from_ymd_opt(year, 12, 31)
}

/// The day a course qualifies on: the finish of its last date, or that
/// date's start when it has no finish. `None` without dates.
pub fn qualification_date(dates: &[EventDate]) -> Option<NaiveDate> {
    let last = dates.iter().max_by_key(|d| d.start_at)?;
    Some(last.finish_at.unwrap_or(last.start_at).date())
}

/// The first day of a course: the earliest start of its dates.
pub fn course_start(dates: &[EventDate]) -> Option<NaiveDate> {
    dates.iter().map(|d| d.start_at.date()).min()
}

/// Which links of a kind apply to a participant: "leader" when the
/// participation holds a leader-kind event role, "participant" otherwise.
pub fn qualifier_role(roles: &[EventRoleType]) -> LinkRole {
    if roles.iter().any(|r| r.kind() == EventRoleKind::Leader) {
        LinkRole::Leader
    } else {
        LinkRole::Participant
    }
}

/// Training days a person earned in one course for one qualification
/// kind: an earlier qualified participation in a course whose kind
/// issues or prolongs that kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainingCourse {
    pub qualification_kind_id: QualificationKindId,
    /// The course's qualification date.
    pub date: NaiveDate,
    pub days: f64,
}

/// Everything [`plan_qualify`] needs about one participant of one course.
#[derive(Clone, Debug)]
pub struct QualifyInput<'a> {
    pub person_id: PersonId,
    pub event_id: EventId,
    /// The course name, recorded as origin.
    pub origin: &'a str,
    /// The course kind's links.
    pub links: &'a [KindQualification],
    /// The qualification kinds the links name (others are ignored).
    pub kinds: &'a [QualificationKind],
    pub role: LinkRole,
    /// Every qualification the person holds or held.
    pub held: &'a [Qualification],
    /// [`qualification_date`] of the course.
    pub qualification_date: NaiveDate,
    /// [`course_start`] of the course.
    pub course_start: NaiveDate,
    /// The course's own training days (`None` counts as 0).
    pub training_days: Option<f64>,
    /// The person's earlier qualifying courses (this one excluded).
    pub earlier: &'a [TrainingCourse],
}

/// What qualifying a participant issues (section 5.5).
///
/// * For each `qualification` link of the participant's role, a
///   qualification starting on the qualification date, unless the person
///   has one of that kind starting that day already (so qualifying twice
///   issues nothing new).
/// * For each `prolongation` link of the role whose kind the person holds
///   reactivatable at the course start, a new qualification from the
///   qualification date; never when a qualification of the kind starts on
///   or after that date already, and for kinds with
///   `required_training_days` only when the training days add up.
///
/// The training days counted are those of this course and of the earlier
/// qualifying courses whose qualification date lies after the start of
/// the latest qualification of the kind held before this course (the days
/// that earned it are spent) and within the validity window: after the
/// day `validity` years before this course's qualification date.
///
/// Limitations: hitobito also prolongs from the qualification kinds a
/// course issues; here only explicit prolongation links prolong.
pub fn plan_qualify(input: &QualifyInput<'_>) -> Vec<NewQualification> {
    let date = input.qualification_date;
    let mut out: Vec<NewQualification> = Vec::new();
    for link in input.links.iter().filter(|l| l.role == input.role) {
        let Some(kind) = input
            .kinds
            .iter()
            .find(|k| k.id == link.qualification_kind_id)
        else {
            continue;
        };
        let of_kind = || {
            input
                .held
                .iter()
                .filter(move |q| q.qualification_kind_id == kind.id)
        };
        if out.iter().any(|n| n.qualification_kind_id == kind.id)
            || of_kind().any(|q| q.start_at >= date)
        {
            continue;
        }
        let issue = match link.category {
            LinkCategory::Qualification => true,
            LinkCategory::Prolongation => {
                of_kind().any(|q| q.is_reactivatable_on(kind.reactivateable, input.course_start))
                    && has_training_days(input, kind)
            }
            LinkCategory::Precondition => false,
        };
        if issue {
            out.push(NewQualification {
                person_id: input.person_id,
                qualification_kind_id: kind.id,
                start_at: date,
                finish_at: finish_date(date, kind.validity),
                qualified_at: Some(date),
                origin: Some(input.origin.to_owned()),
                event_id: Some(input.event_id),
            });
        }
    }
    out
}

/// Whether the training days of the window reach the kind's requirement
/// (see [`plan_qualify`]).
fn has_training_days(input: &QualifyInput<'_>, kind: &QualificationKind) -> bool {
    let Some(required) = kind.required_training_days else {
        return true;
    };
    let date = input.qualification_date;
    let latest_start = input
        .held
        .iter()
        .filter(|q| q.qualification_kind_id == kind.id && q.start_at < date)
        .map(|q| q.start_at)
        .max();
    let window_start = kind
        .validity
        .and_then(|years| date.checked_sub_months(Months::new(years.saturating_mul(12))));
    let earlier: f64 = input
        .earlier
        .iter()
        .filter(|c| c.qualification_kind_id == kind.id && c.date <= date)
        .filter(|c| latest_start.is_none_or(|s| c.date > s))
        .filter(|c| window_start.is_none_or(|s| c.date > s))
        .map(|c| c.days)
        .sum();
    earlier + input.training_days.unwrap_or(0.0) >= required
}

/// The qualifications revoking a participant's qualification removes:
/// those this course issued on its qualification date.
pub fn issued_by(
    held: &[Qualification],
    event_id: EventId,
    date: NaiveDate,
) -> Vec<QualificationId> {
    held.iter()
        .filter(|q| q.event_id == Some(event_id) && q.start_at == date)
        .map(|q| q.id)
        .collect()
}

/// Why an application may not meet a course's preconditions. Warnings
/// only: nothing is refused because of them (5.4 step 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "warning")]
pub enum PreconditionWarning {
    /// The kind has a minimum age, but the person's birthday is unknown.
    BirthdayUnknown { minimum_age: u32 },
    /// The person reaches the minimum age only after the course year.
    TooYoung { minimum_age: u32 },
    /// No grouping of precondition kinds is complete; per grouping, the
    /// kinds that are missing (or not valid enough).
    MissingQualifications {
        missing: Vec<Vec<QualificationKindId>>,
    },
}

/// The precondition warnings for a participant applying to a course of
/// `kind` starting on `course_start` (5.4 step 3).
///
/// Minimum age: the person must reach it by the end of the course start
/// year. Qualifications: the participant-role precondition links form
/// groupings by number; one complete grouping suffices. A link is met by
/// a qualification of its kind that is active on the course start
/// (`valid`), also reactivatable then (`valid_or_reactivatable`), or of
/// that kind at all (`valid_or_expired`).
pub fn check_preconditions(
    kind: &EventKind,
    kinds: &[QualificationKind],
    birthday: Option<NaiveDate>,
    held: &[Qualification],
    course_start: NaiveDate,
) -> Vec<PreconditionWarning> {
    let mut warnings = Vec::new();
    if let Some(minimum_age) = kind.minimum_age.filter(|a| *a > 0) {
        match birthday {
            None => warnings.push(PreconditionWarning::BirthdayUnknown { minimum_age }),
            Some(b)
                if i64::from(b.year()) + i64::from(minimum_age)
                    > i64::from(course_start.year()) =>
            {
                warnings.push(PreconditionWarning::TooYoung { minimum_age });
            }
            Some(_) => {}
        }
    }
    let missing = missing_by_grouping(kind, kinds, held, course_start);
    if !missing.is_empty() && missing.iter().all(|m| !m.is_empty()) {
        warnings.push(PreconditionWarning::MissingQualifications { missing });
    }
    warnings
}

/// Per grouping (ascending number, no number as 0), the precondition
/// kinds the person does not meet; empty when there are no preconditions.
fn missing_by_grouping(
    kind: &EventKind,
    kinds: &[QualificationKind],
    held: &[Qualification],
    course_start: NaiveDate,
) -> Vec<Vec<QualificationKindId>> {
    let links: Vec<&KindQualification> = kind
        .qualifications
        .iter()
        .filter(|l| l.category == LinkCategory::Precondition && l.role == LinkRole::Participant)
        .collect();
    let mut groupings: Vec<u32> = links.iter().map(|l| l.grouping.unwrap_or(0)).collect();
    groupings.sort_unstable();
    groupings.dedup();
    groupings
        .into_iter()
        .map(|number| {
            links
                .iter()
                .filter(|l| l.grouping.unwrap_or(0) == number)
                .filter(|l| !is_met(l, kinds, held, course_start))
                .map(|l| l.qualification_kind_id)
                .collect()
        })
        .collect()
}

fn is_met(
    link: &KindQualification,
    kinds: &[QualificationKind],
    held: &[Qualification],
    day: NaiveDate,
) -> bool {
    let reactivateable = kinds
        .iter()
        .find(|k| k.id == link.qualification_kind_id)
        .and_then(|k| k.reactivateable);
    held.iter()
        .filter(|q| q.qualification_kind_id == link.qualification_kind_id)
        .any(|q| match link.validity {
            LinkValidity::Valid => q.is_active_on(day),
            LinkValidity::ValidOrReactivatable => q.is_reactivatable_on(reactivateable, day),
            LinkValidity::ValidOrExpired => true,
        })
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::id::{EventDateId, EventKindId};

    const FIRST_AID: QualificationKindId = QualificationKindId(1);
    const LEADER: QualificationKindId = QualificationKindId(2);
    const COURSE: EventId = EventId(7);
    const PERSON: PersonId = PersonId(3);

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    fn kind(
        id: QualificationKindId,
        validity: Option<u32>,
        reactivateable: Option<u32>,
    ) -> QualificationKind {
        QualificationKind {
            id,
            label: format!("k{}", id.0),
            description: None,
            validity,
            reactivateable,
            required_training_days: None,
            deleted_at: None,
        }
    }

    fn held(kind: QualificationKindId, start: &str, finish: Option<&str>) -> Qualification {
        Qualification {
            id: QualificationId(start.len() as i64 + kind.0 * 100),
            person_id: PERSON,
            qualification_kind_id: kind,
            start_at: d(start),
            finish_at: finish.map(d),
            qualified_at: None,
            origin: None,
            event_id: None,
        }
    }

    fn link(
        kind: QualificationKindId,
        category: LinkCategory,
        role: LinkRole,
    ) -> KindQualification {
        KindQualification {
            qualification_kind_id: kind,
            category,
            role,
            grouping: None,
            validity: LinkValidity::ValidOrExpired,
        }
    }

    #[rstest]
    #[case("2024-03-10", Some(2), Some("2026-12-31"))]
    #[case("2024-12-31", Some(1), Some("2025-12-31"))]
    #[case("2024-01-01", Some(0), Some("2024-12-31"))]
    #[case("2024-06-01", None, None)]
    fn finish_is_the_end_of_the_year_after_validity(
        #[case] start: &str,
        #[case] validity: Option<u32>,
        #[case] finish: Option<&str>,
    ) {
        assert_eq!(finish_date(d(start), validity), finish.map(d));
    }

    #[rstest]
    #[case("2024-03-10", true)]
    #[case("2026-12-31", true)]
    #[case("2027-01-01", false)]
    #[case("2024-03-09", false)]
    fn active_from_start_to_finish(#[case] day: &str, #[case] active: bool) {
        let q = held(FIRST_AID, "2024-03-10", Some("2026-12-31"));
        assert_eq!(q.is_active_on(d(day)), active);
    }

    #[test]
    fn unlimited_qualification_stays_active() {
        let q = held(FIRST_AID, "2000-01-01", None);
        assert!(q.is_active_on(d("2099-01-01")));
        assert!(q.is_reactivatable_on(None, d("2099-01-01")));
    }

    #[rstest]
    #[case(Some(2), "2028-12-31", true)]
    #[case(Some(2), "2029-01-01", false)]
    #[case(None, "2027-01-01", false)]
    #[case(None, "2026-06-01", true)]
    fn reactivatable_for_the_kinds_years_after_finish(
        #[case] reactivateable: Option<u32>,
        #[case] day: &str,
        #[case] expected: bool,
    ) {
        let q = held(FIRST_AID, "2024-03-10", Some("2026-12-31"));
        assert_eq!(q.is_reactivatable_on(reactivateable, d(day)), expected);
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a time")
    }

    #[test]
    fn qualification_date_is_the_last_dates_finish_or_start() {
        let date = |id, start: &str, finish: Option<&str>| EventDate {
            id: EventDateId(id),
            label: None,
            start_at: at(start),
            finish_at: finish.map(at),
            location: None,
        };
        let dates = vec![
            date(1, "2025-05-01 09:00", Some("2025-05-02 17:00")),
            date(2, "2025-06-10 09:00", Some("2025-06-12 17:00")),
        ];
        assert_eq!(qualification_date(&dates), Some(d("2025-06-12")));
        assert_eq!(course_start(&dates), Some(d("2025-05-01")));
        let open_end = vec![date(1, "2025-05-01 09:00", None)];
        assert_eq!(qualification_date(&open_end), Some(d("2025-05-01")));
        assert_eq!(qualification_date(&[]), None);
    }

    #[test]
    fn leader_roles_qualify_as_leader() {
        assert_eq!(
            qualifier_role(&[EventRoleType::Participant]),
            LinkRole::Participant
        );
        assert_eq!(
            qualifier_role(&[EventRoleType::Cook]),
            LinkRole::Participant
        );
        assert_eq!(
            qualifier_role(&[EventRoleType::Participant, EventRoleType::AssistantLeader]),
            LinkRole::Leader
        );
    }

    struct Case {
        links: Vec<KindQualification>,
        kinds: Vec<QualificationKind>,
        role: LinkRole,
        held: Vec<Qualification>,
        training_days: Option<f64>,
        earlier: Vec<TrainingCourse>,
    }

    impl Case {
        fn new(links: Vec<KindQualification>, kinds: Vec<QualificationKind>) -> Case {
            Case {
                links,
                kinds,
                role: LinkRole::Participant,
                held: Vec::new(),
                training_days: None,
                earlier: Vec::new(),
            }
        }

        fn plan(&self) -> Vec<NewQualification> {
            plan_qualify(&QualifyInput {
                person_id: PERSON,
                event_id: COURSE,
                origin: "BLC-01",
                links: &self.links,
                kinds: &self.kinds,
                role: self.role,
                held: &self.held,
                qualification_date: d("2025-06-12"),
                course_start: d("2025-06-10"),
                training_days: self.training_days,
                earlier: &self.earlier,
            })
        }
    }

    #[test]
    fn qualification_links_of_the_role_issue_with_finish_date() {
        let mut c = Case::new(
            vec![
                link(LEADER, LinkCategory::Qualification, LinkRole::Participant),
                link(FIRST_AID, LinkCategory::Qualification, LinkRole::Leader),
                link(FIRST_AID, LinkCategory::Precondition, LinkRole::Participant),
            ],
            vec![
                kind(LEADER, Some(3), Some(4)),
                kind(FIRST_AID, Some(2), None),
            ],
        );
        let plan = c.plan();
        assert_eq!(plan.len(), 1);
        let q = &plan[0];
        assert_eq!(q.qualification_kind_id, LEADER);
        assert_eq!(q.start_at, d("2025-06-12"));
        assert_eq!(q.qualified_at, Some(d("2025-06-12")));
        assert_eq!(q.finish_at, Some(d("2028-12-31")));
        assert_eq!(q.origin.as_deref(), Some("BLC-01"));
        assert_eq!(q.event_id, Some(COURSE));

        c.role = LinkRole::Leader;
        let plan = c.plan();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].qualification_kind_id, FIRST_AID);
    }

    #[test]
    fn qualifying_twice_issues_nothing_new() {
        let mut c = Case::new(
            vec![link(
                LEADER,
                LinkCategory::Qualification,
                LinkRole::Participant,
            )],
            vec![kind(LEADER, None, None)],
        );
        let first = c.plan();
        assert_eq!(first[0].finish_at, None, "unlimited kind");
        c.held.push(held(LEADER, "2025-06-12", None));
        assert!(c.plan().is_empty());
    }

    #[test]
    fn newer_qualification_blocks_issue_and_prolongation() {
        let mut c = Case::new(
            vec![
                link(LEADER, LinkCategory::Qualification, LinkRole::Participant),
                link(FIRST_AID, LinkCategory::Prolongation, LinkRole::Participant),
            ],
            vec![
                kind(LEADER, Some(3), None),
                kind(FIRST_AID, Some(2), Some(2)),
            ],
        );
        c.held.push(held(LEADER, "2025-09-01", Some("2028-12-31")));
        c.held
            .push(held(FIRST_AID, "2025-08-01", Some("2027-12-31")));
        assert!(c.plan().is_empty());
    }

    #[rstest]
    // Still active at the course start.
    #[case(Some("2025-12-31"), Some(2), true)]
    // Expired, but within the two reactivation years.
    #[case(Some("2023-12-31"), Some(2), true)]
    // Expired past the reactivation window.
    #[case(Some("2022-12-31"), Some(2), false)]
    // Expired, and the kind cannot be reactivated.
    #[case(Some("2024-12-31"), None, false)]
    fn prolongation_needs_a_reactivatable_qualification(
        #[case] finish: Option<&str>,
        #[case] reactivateable: Option<u32>,
        #[case] prolonged: bool,
    ) {
        let mut c = Case::new(
            vec![link(
                FIRST_AID,
                LinkCategory::Prolongation,
                LinkRole::Participant,
            )],
            vec![kind(FIRST_AID, Some(2), reactivateable)],
        );
        assert!(c.plan().is_empty(), "nothing to prolong");
        c.held.push(held(FIRST_AID, "2020-03-01", finish));
        let plan = c.plan();
        assert_eq!(!plan.is_empty(), prolonged);
        if prolonged {
            assert_eq!(plan[0].start_at, d("2025-06-12"));
            assert_eq!(plan[0].finish_at, Some(d("2027-12-31")));
        }
    }

    fn training(date: &str, days: f64) -> TrainingCourse {
        TrainingCourse {
            qualification_kind_id: LEADER,
            date: d(date),
            days,
        }
    }

    #[rstest]
    // This course alone is enough.
    #[case(Some(2.0), vec![], true)]
    // This course and an earlier one add up.
    #[case(Some(1.0), vec![training("2024-05-01", 1.5)], true)]
    // The earlier course is outside the three-year window.
    #[case(Some(1.0), vec![training("2022-06-12", 1.5)], false)]
    // The earlier course came before the held qualification started.
    #[case(Some(1.0), vec![training("2021-01-15", 1.5)], false)]
    // No training days at all.
    #[case(None, vec![], false)]
    fn prolongation_needs_the_training_days(
        #[case] this_course: Option<f64>,
        #[case] earlier: Vec<TrainingCourse>,
        #[case] prolonged: bool,
    ) {
        let mut leader = kind(LEADER, Some(3), Some(4));
        leader.required_training_days = Some(2.0);
        let mut c = Case::new(
            vec![link(
                LEADER,
                LinkCategory::Prolongation,
                LinkRole::Participant,
            )],
            vec![leader],
        );
        c.held.push(held(LEADER, "2021-02-01", Some("2024-12-31")));
        c.training_days = this_course;
        c.earlier = earlier;
        assert_eq!(!c.plan().is_empty(), prolonged);
    }

    #[test]
    fn training_days_do_not_hold_back_a_first_qualification() {
        let mut leader = kind(LEADER, Some(3), Some(4));
        leader.required_training_days = Some(2.0);
        let c = Case::new(
            vec![link(
                LEADER,
                LinkCategory::Qualification,
                LinkRole::Participant,
            )],
            vec![leader],
        );
        assert_eq!(c.plan().len(), 1);
    }

    #[test]
    fn revoke_removes_what_the_course_issued_that_day() {
        let mut own = held(LEADER, "2025-06-12", Some("2028-12-31"));
        own.event_id = Some(COURSE);
        let mut other_day = held(FIRST_AID, "2024-06-12", Some("2026-12-31"));
        other_day.event_id = Some(COURSE);
        let mut other_course = held(FIRST_AID, "2025-06-12", Some("2027-12-31"));
        other_course.id = QualificationId(999);
        other_course.event_id = Some(EventId(8));
        let by_hand = held(LEADER, "2025-06-12", None);
        let all = vec![own.clone(), other_day, other_course, by_hand];
        assert_eq!(issued_by(&all, COURSE, d("2025-06-12")), vec![own.id]);
    }

    fn event_kind(minimum_age: Option<u32>, links: Vec<KindQualification>) -> EventKind {
        EventKind {
            id: EventKindId(1),
            label: "BLC".into(),
            short_name: None,
            general_information: None,
            application_conditions: None,
            minimum_age,
            kind_category_id: None,
            qualifications: links,
            deleted_at: None,
        }
    }

    #[rstest]
    #[case(None, vec![PreconditionWarning::BirthdayUnknown { minimum_age: 17 }])]
    // Turns 17 on the last day of the course year: old enough.
    #[case(Some("2008-12-31"), vec![])]
    #[case(Some("2009-01-01"), vec![PreconditionWarning::TooYoung { minimum_age: 17 }])]
    fn minimum_age_by_the_end_of_the_course_year(
        #[case] birthday: Option<&str>,
        #[case] expected: Vec<PreconditionWarning>,
    ) {
        let k = event_kind(Some(17), vec![]);
        assert_eq!(
            check_preconditions(&k, &[], birthday.map(d), &[], d("2025-06-10")),
            expected
        );
    }

    fn pre(
        kind: QualificationKindId,
        grouping: Option<u32>,
        validity: LinkValidity,
    ) -> KindQualification {
        KindQualification {
            grouping,
            validity,
            ..link(kind, LinkCategory::Precondition, LinkRole::Participant)
        }
    }

    #[test]
    fn one_grouping_needs_all_its_kinds() {
        let k = event_kind(
            None,
            vec![
                pre(FIRST_AID, Some(1), LinkValidity::ValidOrExpired),
                pre(LEADER, Some(1), LinkValidity::ValidOrExpired),
            ],
        );
        let start = d("2025-06-10");
        let only_one = vec![held(FIRST_AID, "2020-01-01", Some("2021-12-31"))];
        assert_eq!(
            check_preconditions(&k, &[], None, &only_one, start),
            vec![PreconditionWarning::MissingQualifications {
                missing: vec![vec![LEADER]]
            }]
        );
        let both = vec![only_one[0].clone(), held(LEADER, "2020-01-01", None)];
        assert!(check_preconditions(&k, &[], None, &both, start).is_empty());
    }

    #[test]
    fn any_complete_grouping_of_several_suffices() {
        let k = event_kind(
            None,
            vec![
                pre(FIRST_AID, Some(1), LinkValidity::ValidOrExpired),
                pre(LEADER, Some(2), LinkValidity::ValidOrExpired),
            ],
        );
        let start = d("2025-06-10");
        assert_eq!(
            check_preconditions(&k, &[], None, &[], start),
            vec![PreconditionWarning::MissingQualifications {
                missing: vec![vec![FIRST_AID], vec![LEADER]]
            }]
        );
        let second = vec![held(LEADER, "2020-01-01", None)];
        assert!(check_preconditions(&k, &[], None, &second, start).is_empty());
    }

    #[rstest]
    #[case(LinkValidity::Valid, "2025-12-31", true)]
    #[case(LinkValidity::Valid, "2024-12-31", false)]
    #[case(LinkValidity::ValidOrReactivatable, "2024-12-31", true)]
    #[case(LinkValidity::ValidOrReactivatable, "2022-12-31", false)]
    #[case(LinkValidity::ValidOrExpired, "2010-12-31", true)]
    fn each_link_asks_its_validity(
        #[case] validity: LinkValidity,
        #[case] finish: &str,
        #[case] met: bool,
    ) {
        let k = event_kind(None, vec![pre(FIRST_AID, None, validity)]);
        let kinds = vec![kind(FIRST_AID, Some(2), Some(2))];
        let q = vec![held(FIRST_AID, "2008-01-01", Some(finish))];
        let warnings = check_preconditions(&k, &kinds, None, &q, d("2025-06-10"));
        assert_eq!(warnings.is_empty(), met);
    }

    #[test]
    fn leader_preconditions_do_not_concern_applicants() {
        let k = event_kind(
            None,
            vec![link(
                FIRST_AID,
                LinkCategory::Precondition,
                LinkRole::Leader,
            )],
        );
        assert!(check_preconditions(&k, &[], None, &[], d("2025-06-10")).is_empty());
    }
}
