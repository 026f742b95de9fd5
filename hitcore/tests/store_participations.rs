//! The participation contract ([`ParticipationRepo`]) on every store:
//! registrations with their answers, applications and counters (5.3,
//! 5.4), the waiting list, cancellation, approval, event roles, the
//! application market, a person's event history and the approvers of an
//! approval request; mail jobs join the registration's transaction.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set (and must be when `CI=true`).

mod common;

use chrono::NaiveDate;
use hitcore::ability::{
    ApproveApplication, CreateEvent, CreateEventRole, CreateParticipation, DestroyEventRole,
    DestroyParticipation, ManageKinds, UseApplicationMarket, system,
};
use hitcore::event::application::{MarketFilter, MarketRefusal, WAITING_LIST_COMMENT};
use hitcore::event::kind::EventKindPatch;
use hitcore::event::participation::{
    Answer, EventRoleType, NewParticipation, Participation, ParticipationMail,
};
use hitcore::event::question::NewQuestion;
use hitcore::event::{COURSE, Event, EventPatch, NewEvent, NewEventDate, SIMPLE_EVENT};
use hitcore::id::{EventId, EventKindId, ParticipationId};
use hitcore::jobs::{JobKind, NewJob};
use hitcore::person::Person;
use hitcore::store::StoreError;
use hitcore::{GroupId, PersonId};
use serde::{Deserialize, Serialize};

use common::{MEMBER, PRESIDENT, World, day, each_store, t0};

#[test]
fn postgres_runs_in_ci() {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        assert!(
            std::env::var("HIT_TEST_POSTGRES_URL").is_ok_and(|v| !v.trim().is_empty()),
            "CI=true needs HIT_TEST_POSTGRES_URL for the PostgreSQL store"
        );
    }
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn kind(w: &World<'_>, label: &str) -> EventKindId {
    let patch = EventKindPatch {
        label: Some(label.to_owned()),
        short_name: None,
        general_information: None,
        application_conditions: None,
        minimum_age: None,
        kind_category_id: None,
        qualifications: Vec::new(),
    };
    w.s.create_event_kind(&system(ManageKinds), &patch, t0())
        .expect("kind created")
        .id
}

fn question(text: &str, required: bool) -> NewQuestion {
    NewQuestion {
        question: text.to_owned(),
        choices: Vec::new(),
        multiple_choices: false,
        required,
        admin: false,
        visible_role_types: Vec::new(),
    }
}

/// A course on the root group with `max` places, open in March 2025.
fn course(
    w: &World<'_>,
    name: &str,
    kind_id: Option<EventKindId>,
    max: Option<u32>,
    questions: Vec<NewQuestion>,
) -> Event {
    event_of(w, COURSE, name, kind_id, max, questions)
}

fn event_of(
    w: &World<'_>,
    event_type: &str,
    name: &str,
    kind_id: Option<EventKindId>,
    max: Option<u32>,
    questions: Vec<NewQuestion>,
) -> Event {
    let start = date("2025-06-01").and_hms_opt(9, 0, 0).expect("a time");
    let fields = EventPatch {
        name: Some(name.to_owned()),
        kind_id,
        maximum_participants: max,
        application_opening_at: Some(date("2025-03-01")),
        application_closing_at: Some(date("2025-03-31")),
        applications_cancelable: true,
        requires_approval: true,
        priorization: true,
        waiting_list: true,
        dates: vec![NewEventDate {
            label: None,
            start_at: start,
            finish_at: None,
            location: None,
        }],
        ..EventPatch::default()
    };
    let new = NewEvent {
        event_type: event_type.to_owned(),
        group_ids: vec![w.root.id],
        fields,
        questions,
        creator_id: None,
    };
    w.s.create_event(&system(CreateEvent(vec![w.root.id])), &new, t0())
        .expect("event created")
}

fn event(w: &World<'_>, id: EventId) -> Event {
    w.s.event(id).expect("read").expect("event exists")
}

fn new_participation(e: &Event, p: &Person, answers: Vec<Answer>) -> NewParticipation {
    NewParticipation {
        event_id: e.id,
        person_id: p.id,
        additional_information: Some("Vegetarian".into()),
        answers,
        priority_2_id: None,
        priority_3_id: None,
        by_self: true,
    }
}

/// A mail job of the test; the real one lives in hitjobs.
#[derive(Serialize, Deserialize)]
struct TestMail {
    person_id: PersonId,
    mail: ParticipationMail,
}

impl JobKind for TestMail {
    const KIND: &'static str = "test.participation_mail";
    const MAX_RUN: std::time::Duration = std::time::Duration::from_secs(60);
}

fn register_with(
    w: &World<'_>,
    new: &NewParticipation,
    by_self: bool,
    mails: &[ParticipationMail],
) -> Result<Participation, StoreError> {
    let permit = system(CreateParticipation {
        event: new.event_id,
        person: new.person_id,
        by_self,
    });
    let person = new.person_id;
    let jobs = |_: ParticipationId| -> Vec<NewJob> {
        mails
            .iter()
            .map(|m| {
                NewJob::of(
                    &TestMail {
                        person_id: person,
                        mail: *m,
                    },
                    t0(),
                )
                .expect("job")
            })
            .collect()
    };
    w.s.register(&permit, new, &jobs, date("2025-03-10"), t0())
}

fn apply(w: &World<'_>, e: &Event, p: &Person) -> Participation {
    register_with(w, &new_participation(e, p, Vec::new()), true, &[]).expect("registered")
}

fn member(w: &World<'_>, first: &str) -> Person {
    w.person(first, "Test", &w.root_members, MEMBER)
}

fn counts(e: &Event) -> (u32, u32, u32) {
    (e.participant_count, e.teamer_count, e.applicant_count)
}

#[test]
fn self_application_is_pending_with_role_answers_application_and_counts() {
    each_store(|w| {
        let e = course(w, "BLC", None, Some(2), vec![question("Diet?", true)]);
        let q = w.s.questions(e.id).expect("questions")[0].id;
        let ann = member(w, "Ann");
        let answers = vec![Answer {
            question_id: q,
            answer: Some("none".into()),
        }];
        let p =
            register_with(w, &new_participation(&e, &ann, answers), true, &[]).expect("registered");
        assert!(!p.active);
        assert_eq!(
            p.roles.iter().map(|r| r.role_type).collect::<Vec<_>>(),
            [EventRoleType::Participant]
        );
        let entry = w.s.participation(p.id).expect("read").expect("exists");
        let app = entry.application.expect("an application");
        assert_eq!(app.priority_1_id, e.id);
        assert!(!app.waiting_list && !app.approved);
        assert_eq!(entry.person_name, "Ann Test");
        assert_eq!(
            w.s.answers(p.id).expect("answers"),
            [Answer {
                question_id: q,
                answer: Some("none".into())
            }]
        );
        assert_eq!(counts(&event(w, e.id)), (0, 0, 1));
    });
}

#[test]
fn registration_by_someone_else_is_active_and_counted() {
    each_store(|w| {
        let e = course(w, "BLC", None, Some(2), Vec::new());
        let ann = member(w, "Ann");
        let mut new = new_participation(&e, &ann, Vec::new());
        new.by_self = false;
        let p = register_with(w, &new, false, &[]).expect("registered");
        assert!(p.active);
        assert_eq!(counts(&event(w, e.id)), (1, 0, 1));
        assert_eq!(w.s.participations(e.id, true).expect("list").len(), 1);
        assert!(w.s.participations(e.id, false).expect("list").is_empty());
    });
}

#[test]
fn questions_without_an_answer_get_an_empty_one() {
    each_store(|w| {
        let e = course(
            w,
            "BLC",
            None,
            None,
            vec![question("A?", false), question("B?", false)],
        );
        let p = apply(w, &e, &member(w, "Ann"));
        let answers = w.s.answers(p.id).expect("answers");
        assert_eq!(answers.len(), 2);
        assert!(answers.iter().all(|a| a.answer.is_none()));
    });
}

#[test]
fn second_registration_of_a_person_is_a_conflict() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let ann = member(w, "Ann");
        apply(w, &e, &ann);
        let again = register_with(w, &new_participation(&e, &ann, Vec::new()), true, &[]);
        assert!(
            matches!(&again, Err(StoreError::Conflict { field }) if field == "person"),
            "{again:?}"
        );
        assert_eq!(counts(&event(w, e.id)).2, 1);
    });
}

#[test]
fn full_course_puts_self_applications_on_the_waiting_list() {
    each_store(|w| {
        let e = course(w, "BLC", None, Some(1), Vec::new());
        let mut first = new_participation(&e, &member(w, "Ann"), Vec::new());
        first.by_self = false;
        register_with(w, &first, false, &[]).expect("placed");
        let p = apply(w, &e, &member(w, "Bob"));
        let app =
            w.s.participation(p.id)
                .expect("read")
                .expect("exists")
                .application;
        let app = app.expect("application");
        assert!(app.waiting_list);
        assert_eq!(
            app.waiting_list_comment.as_deref(),
            Some(WAITING_LIST_COMMENT)
        );
        assert!(!p.active);
    });
}

#[test]
fn application_outside_the_period_is_refused_and_leaves_nothing() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let ann = member(w, "Ann");
        let permit = system(CreateParticipation {
            event: e.id,
            person: ann.id,
            by_self: true,
        });
        let none = |_: ParticipationId| Vec::new();
        let refused = w.s.register(
            &permit,
            &new_participation(&e, &ann, Vec::new()),
            &none,
            date("2025-04-01"),
            t0(),
        );
        assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");
        assert!(w.s.participation_of(e.id, ann.id).expect("read").is_none());
    });
}

#[test]
fn simple_events_have_no_application_and_place_at_once() {
    each_store(|w| {
        let e = event_of(w, SIMPLE_EVENT, "Party", None, None, Vec::new());
        let p = apply(w, &e, &member(w, "Ann"));
        assert!(p.active && p.application_id.is_none());
        assert_eq!(counts(&event(w, e.id)), (1, 0, 1));
    });
}

#[test]
fn registration_writes_its_mail_jobs_in_the_same_transaction() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let ann = member(w, "Ann");
        let mails = [
            ParticipationMail::Confirmation,
            ParticipationMail::ApprovalRequest,
        ];
        register_with(w, &new_participation(&e, &ann, Vec::new()), true, &mails)
            .expect("registered");
        assert_eq!(w.s.open_job_count().expect("jobs"), 2);
        // A refused registration writes none.
        let again = register_with(w, &new_participation(&e, &ann, Vec::new()), true, &mails);
        assert!(again.is_err());
        assert_eq!(w.s.open_job_count().expect("jobs"), 2);
    });
}

#[test]
fn cancel_deletes_the_participation_and_recounts() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let p = apply(w, &e, &member(w, "Ann"));
        w.s.cancel_participation(&system(DestroyParticipation(p.id)), &[], t0())
            .expect("cancelled");
        assert!(w.s.participation(p.id).expect("read").is_none());
        assert_eq!(counts(&event(w, e.id)), (0, 0, 0));
    });
}

#[test]
fn approve_and_reject_exclude_each_other() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let p = apply(w, &e, &member(w, "Ann"));
        let permit = system(ApproveApplication(p.id));
        w.s.set_approval(&permit, true).expect("approved");
        let app = |w: &World<'_>| {
            w.s.participation(p.id)
                .expect("read")
                .and_then(|e| e.application)
                .expect("application")
        };
        assert!(app(w).approved && !app(w).rejected);
        w.s.set_approval(&permit, false).expect("rejected");
        assert!(!app(w).approved && app(w).rejected);
    });
}

#[test]
fn approval_of_a_participation_without_application_is_not_found() {
    each_store(|w| {
        let e = event_of(w, SIMPLE_EVENT, "Party", None, None, Vec::new());
        let p = apply(w, &e, &member(w, "Ann"));
        let r = w.s.set_approval(&system(ApproveApplication(p.id)), true);
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    });
}

#[test]
fn event_roles_count_as_team_and_the_last_role_removes_a_simple_participation() {
    each_store(|w| {
        let e = event_of(w, SIMPLE_EVENT, "Party", None, None, Vec::new());
        let p = apply(w, &e, &member(w, "Ann"));
        let cook =
            w.s.add_event_role(
                &system(CreateEventRole {
                    participation: p.id,
                    role_type: EventRoleType::Cook,
                }),
                Some("Soup"),
                t0(),
            )
            .expect("role added");
        assert_eq!(counts(&event(w, e.id)), (1, 1, 1));
        let again = w.s.add_event_role(
            &system(CreateEventRole {
                participation: p.id,
                role_type: EventRoleType::Cook,
            }),
            None,
            t0(),
        );
        assert!(matches!(&again, Err(StoreError::Conflict { field }) if field == "role_type"));
        w.s.remove_event_role(&system(DestroyEventRole(cook.id)), t0())
            .expect("removed");
        assert_eq!(counts(&event(w, e.id)), (1, 0, 1));
        let participant = p.roles[0].id;
        w.s.remove_event_role(&system(DestroyEventRole(participant)), t0())
            .expect("removed");
        assert!(w.s.participation(p.id).expect("read").is_none());
        assert_eq!(counts(&event(w, e.id)), (0, 0, 0));
    });
}

#[test]
fn removing_the_participant_role_of_an_application_makes_it_pending() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let mut new = new_participation(&e, &member(w, "Ann"), Vec::new());
        new.by_self = false;
        let p = register_with(w, &new, false, &[]).expect("placed");
        w.s.add_event_role(
            &system(CreateEventRole {
                participation: p.id,
                role_type: EventRoleType::Helper,
            }),
            None,
            t0(),
        )
        .expect("helper");
        w.s.remove_event_role(&system(DestroyEventRole(p.roles[0].id)), t0())
            .expect("removed");
        let now = w.s.participation(p.id).expect("read").expect("kept");
        assert!(!now.participation.active);
        assert_eq!(counts(&event(w, e.id)), (0, 0, 0));
    });
}

#[test]
fn market_assigns_and_removes_applications() {
    each_store(|w| {
        let e = course(w, "BLC", None, Some(1), Vec::new());
        let ann = apply(w, &e, &member(w, "Ann"));
        let bob = apply(w, &e, &member(w, "Bob"));
        let permit = system(UseApplicationMarket(e.id));
        let market = w.s.market(e.id, &MarketFilter::default()).expect("market");
        assert!(market.participants.is_empty());
        assert_eq!(market.applications.len(), 2);
        assert_eq!(market.applications[0].priority, Some(1));

        w.s.market_add(&permit, ann.id, t0()).expect("assigned");
        assert_eq!(counts(&event(w, e.id)), (1, 0, 2));
        let refused = w.s.market_add(&permit, bob.id, t0());
        assert!(
            matches!(&refused, Err(StoreError::Rule(m)) if *m == MarketRefusal::MaximumReached.to_string()),
            "{refused:?}"
        );
        let market = w.s.market(e.id, &MarketFilter::default()).expect("market");
        assert_eq!(market.participants.len(), 1);
        assert_eq!(market.participants[0].participation.id, ann.id);
        assert_eq!(market.applications.len(), 1);

        w.s.market_remove(&permit, ann.id, t0()).expect("removed");
        let back = w.s.participation(ann.id).expect("read").expect("kept");
        assert!(!back.participation.active);
        assert_eq!(counts(&event(w, e.id)), (0, 0, 2));
    });
}

/// The market of one course must not take applications or participants
/// of another course that never named it (a breaker's finding: a leader
/// of one course could move anyone's participation into it).
#[test]
fn market_takes_only_applications_that_name_its_course() {
    each_store(|w| {
        let k = kind(w, "Basic course");
        let theirs = course(w, "Theirs", Some(k), Some(5), Vec::new());
        let mine = course(w, "Mine", Some(k), Some(5), Vec::new());
        let ann = apply(w, &theirs, &member(w, "Ann"));
        let bob = apply(w, &theirs, &member(w, "Bob"));
        w.s.market_add(&system(UseApplicationMarket(theirs.id)), bob.id, t0())
            .expect("assigned in its own course");
        let permit = system(UseApplicationMarket(mine.id));
        for (who, p) in [("a pending application", ann.id), ("a participant", bob.id)] {
            let refused = w.s.market_add(&permit, p, t0());
            assert!(
                matches!(&refused, Err(StoreError::Rule(m)) if *m == MarketRefusal::NotAnApplication.to_string()),
                "{who}: {refused:?}"
            );
        }
        assert_eq!(
            w.s.participation(ann.id)
                .expect("read")
                .expect("kept")
                .participation
                .event_id,
            theirs.id
        );
        let bob_now =
            w.s.participation(bob.id)
                .expect("read")
                .expect("kept")
                .participation;
        assert_eq!((bob_now.event_id, bob_now.active), (theirs.id, true));
        assert_eq!(counts(&event(w, theirs.id)), (1, 0, 2));
        assert_eq!(counts(&event(w, mine.id)), (0, 0, 0));
        // Nor may it take a place away in another course.
        assert!(w.s.market_remove(&permit, bob.id, t0()).is_err());
        assert!(
            w.s.participation(bob.id)
                .expect("read")
                .expect("kept")
                .participation
                .active
        );
    });
}

#[test]
fn market_add_takes_off_the_waiting_list_and_remove_drops_other_roles() {
    each_store(|w| {
        let e = course(w, "BLC", None, Some(1), Vec::new());
        let mut first = new_participation(&e, &member(w, "Ann"), Vec::new());
        first.by_self = false;
        let ann = register_with(w, &first, false, &[]).expect("placed");
        let bob = apply(w, &e, &member(w, "Bob"));
        let permit = system(UseApplicationMarket(e.id));
        w.s.market_remove(&permit, ann.id, t0()).expect("removed");
        w.s.market_add(&permit, bob.id, t0()).expect("assigned");
        let app = w.s.participation(bob.id).expect("read").expect("exists");
        assert!(app.participation.active);
        assert!(!app.application.expect("application").waiting_list);
        w.s.add_event_role(
            &system(CreateEventRole {
                participation: bob.id,
                role_type: EventRoleType::Helper,
            }),
            None,
            t0(),
        )
        .expect("helper");
        w.s.market_remove(&permit, bob.id, t0()).expect("removed");
        let roles =
            w.s.participation(bob.id)
                .expect("read")
                .expect("kept")
                .participation
                .roles;
        assert_eq!(
            roles.iter().map(|r| r.role_type).collect::<Vec<_>>(),
            [EventRoleType::Participant]
        );
    });
}

#[test]
fn market_moves_a_second_priority_and_remaps_answers_by_question_text() {
    each_store(|w| {
        let k = kind(w, "Basic course");
        let first = course(
            w,
            "BLC 1",
            Some(k),
            None,
            vec![question("Diet?", false), question("Only here?", false)],
        );
        let second = course(w, "BLC 2", Some(k), None, vec![question("Diet?", false)]);
        let ann = member(w, "Ann");
        let qs = w.s.questions(first.id).expect("questions");
        let mut new = new_participation(
            &first,
            &ann,
            vec![Answer {
                question_id: qs[0].id,
                answer: Some("vegan".into()),
            }],
        );
        new.priority_2_id = Some(second.id);
        let p = register_with(w, &new, true, &[]).expect("applied");

        let prio_2 = MarketFilter {
            prio_1: false,
            prio_2: true,
            ..MarketFilter::default()
        };
        let market = w.s.market(second.id, &prio_2).expect("market");
        assert_eq!(market.applications.len(), 1);
        assert_eq!(market.applications[0].priority, Some(2));
        assert_eq!(market.applications[0].event_name, "BLC 1");
        assert!(
            w.s.market(second.id, &MarketFilter::default())
                .expect("market")
                .applications
                .is_empty()
        );

        w.s.market_add(&system(UseApplicationMarket(second.id)), p.id, t0())
            .expect("assigned");
        assert!(
            w.s.participation_of(first.id, ann.id)
                .expect("read")
                .is_none()
        );
        let moved =
            w.s.participation_of(second.id, ann.id)
                .expect("read")
                .expect("moved");
        let q2 = w.s.questions(second.id).expect("questions")[0].id;
        assert_eq!(
            w.s.answers(moved.id).expect("answers"),
            [Answer {
                question_id: q2,
                answer: Some("vegan".into())
            }]
        );
        assert_eq!(counts(&event(w, first.id)), (0, 0, 0));
        assert_eq!(counts(&event(w, second.id)), (1, 0, 1));

        w.s.market_remove(&system(UseApplicationMarket(second.id)), p.id, t0())
            .expect("removed");
        assert!(
            w.s.participation_of(first.id, ann.id)
                .expect("read")
                .is_some()
        );
    });
}

#[test]
fn market_shows_waiting_lists_of_courses_of_the_same_kind() {
    each_store(|w| {
        let k = kind(w, "Basic course");
        let full = course(w, "BLC 1", Some(k), Some(1), Vec::new());
        let other = course(w, "BLC 2", Some(k), None, Vec::new());
        let mut first = new_participation(&full, &member(w, "Ann"), Vec::new());
        first.by_self = false;
        register_with(w, &first, false, &[]).expect("placed");
        let bob = apply(w, &full, &member(w, "Bob"));
        let waiting = MarketFilter {
            prio_1: false,
            waiting_list: true,
            ..MarketFilter::default()
        };
        let market = w.s.market(other.id, &waiting).expect("market");
        assert_eq!(market.applications.len(), 1);
        assert_eq!(market.applications[0].entry.participation.id, bob.id);
        assert_eq!(market.applications[0].priority, None);
    });
}

#[test]
fn waiting_list_is_set_with_a_comment() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let p = apply(w, &e, &member(w, "Ann"));
        let permit = system(UseApplicationMarket(e.id));
        w.s.set_waiting_list(&permit, p.id, true, Some("Next year"))
            .expect("set");
        let app =
            w.s.participation(p.id)
                .expect("read")
                .and_then(|e| e.application);
        let app = app.expect("application");
        assert!(app.waiting_list);
        assert_eq!(app.waiting_list_comment.as_deref(), Some("Next year"));
        let other = course(w, "Other", None, None, Vec::new());
        let r =
            w.s.set_waiting_list(&system(UseApplicationMarket(other.id)), p.id, false, None);
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    });
}

#[test]
fn person_history_lists_participations_with_event_and_roles() {
    each_store(|w| {
        let e = course(w, "BLC", None, None, Vec::new());
        let ann = member(w, "Ann");
        apply(w, &e, &ann);
        let history = w.s.participations_of_person(ann.id).expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].event_name, "BLC");
        assert_eq!(history[0].group_id, w.root.id);
        assert_eq!(history[0].roles, [EventRoleType::Participant]);
        assert!(!history[0].active);
        assert!(history[0].start_at.is_some());
    });
}

#[test]
fn people_with_roles_in_layers_are_the_active_holders() {
    each_store(|w| {
        let boss = w.person("Boss", "Test", &w.root_board, PRESIDENT);
        member(w, "Ann");
        let (region, region_board, _) = w.region(&w.root, "North");
        let other = w.person("Reg", "Test", &region_board, PRESIDENT);
        let types = vec![PRESIDENT.to_owned()];
        let found =
            w.s.people_with_roles_in_layers(&[w.root.id], &types, day(0))
                .expect("people");
        assert_eq!(found, [boss.id]);
        let found =
            w.s.people_with_roles_in_layers(&[w.root.id, region.id], &types, day(0))
                .expect("people");
        assert_eq!(found, [boss.id, other.id]);
        let none: Vec<GroupId> = Vec::new();
        assert!(
            w.s.people_with_roles_in_layers(&none, &types, day(0))
                .expect("none")
                .is_empty()
        );
    });
}
