//! The participant export contract ([`ParticipantExportRepo`]) on every
//! store: an event's active or pending participants a page at a time, by
//! name, each with the person, event roles and answers.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set, each with a fresh database.

mod common;

use hitcore::ability::{CreateEvent, CreateParticipation, system};
use hitcore::event::participation::{Answer, EventRoleType, NewParticipation};
use hitcore::event::question::NewQuestion;
use hitcore::event::{COURSE, Event, EventPatch, NewEvent, NewEventDate};
use hitcore::person::Person;

use common::{MEMBER, World, day, each_store, patch, t0};

fn course(w: &World<'_>) -> Event {
    let fields = EventPatch {
        name: Some("Course".to_owned()),
        dates: vec![NewEventDate {
            label: None,
            start_at: hitcore::event::parse_date_time("2025-06-01T09:00").expect("a date"),
            finish_at: None,
            location: None,
        }],
        ..EventPatch::defaults_for(COURSE)
    };
    let question = NewQuestion::from_form("Diet?", "", false, false, false).expect("question");
    w.s.create_event(
        &system(CreateEvent(vec![w.root.id])),
        &NewEvent {
            event_type: COURSE.to_owned(),
            group_ids: vec![w.root.id],
            fields,
            questions: vec![question],
            creator_id: None,
        },
        t0(),
    )
    .expect("course created")
}

fn register(w: &World<'_>, e: &Event, p: &Person, by_self: bool, answer: &str) {
    let q = w.s.questions(e.id).expect("questions").remove(0);
    w.s.register(
        &system(CreateParticipation {
            event: e.id,
            person: p.id,
            by_self,
        }),
        &NewParticipation {
            event_id: e.id,
            person_id: p.id,
            additional_information: None,
            answers: vec![Answer {
                question_id: q.id,
                answer: Some(answer.to_owned()),
            }],
            priority_2_id: None,
            priority_3_id: None,
            by_self,
        },
        &|_| Vec::new(),
        day(0),
        t0(),
    )
    .expect("registered");
}

fn person(w: &World<'_>, first: &str, last: &str) -> Person {
    w.person_with(patch(first, last, None), &w.root_members, MEMBER, t0())
        .0
}

#[test]
fn participants_come_a_page_at_a_time_by_name_with_roles_and_answers() {
    each_store(|w| {
        let e = course(w);
        let (zoe, adam, eve) = (
            person(w, "Zoe", "Zeller"),
            person(w, "Adam", "Aebi"),
            person(w, "Eve", "Egli"),
        );
        register(w, &e, &zoe, false, "meat");
        register(w, &e, &adam, false, "veggie");
        register(w, &e, &eve, true, "vegan");

        let first =
            w.s.participants_for_export(e.id, true, 1, 1)
                .expect("page 1");
        assert_eq!(first.total, 2);
        assert_eq!(first.items.len(), 1);
        let a = &first.items[0];
        assert_eq!(a.person.id, adam.id);
        assert!(a.participation.active);
        assert_eq!(
            a.participation
                .roles
                .iter()
                .map(|r| r.role_type)
                .collect::<Vec<_>>(),
            [EventRoleType::Participant]
        );
        assert_eq!(a.answers.len(), 1);
        assert_eq!(a.answers[0].answer.as_deref(), Some("veggie"));

        let second =
            w.s.participants_for_export(e.id, true, 2, 1)
                .expect("page 2");
        assert_eq!(second.items[0].person.id, zoe.id);
        assert!(
            w.s.participants_for_export(e.id, true, 3, 1)
                .expect("past the end")
                .items
                .is_empty()
        );

        let pending =
            w.s.participants_for_export(e.id, false, 1, 10)
                .expect("pending");
        assert_eq!(pending.total, 1);
        assert_eq!(pending.items[0].person.id, eve.id);
        assert_eq!(pending.items[0].answers[0].answer.as_deref(), Some("vegan"));
    });
}
