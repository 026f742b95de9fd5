//! The event contract ([`EventRepo`]) on every store: events are created
//! with their groups, dates and questions, read back whole, changed and
//! deleted; the group lists (upcoming, by year) and the global list with
//! its visibility scope select the events section 4.4 and 5.1 say; and
//! attachments are recorded and removed.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set, each with a fresh database.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use hitcore::ability::{
    CreateEvent, DestroyEvent, ManageAttachments, SetEventGroups, UpdateEvent, system,
};
use hitcore::event::question::NewQuestion;
use hitcore::event::{
    AttachmentVisibility, DateInput, Event, EventPatch, EventQuery, EventScope, EventWhen,
    NewEvent, check_attachment, validated_dates,
};
use hitcore::group::Group;
use hitcore::id::{GroupId, PersonId};
use hitcore::store::StoreError;
use hitcore::validate::Violations;

use common::{World, each_store, t0};

fn at(text: &str) -> NaiveDateTime {
    hitcore::event::parse_date_time(text).expect("a date and time")
}

fn fields(name: &str, dates: &[(&str, Option<&str>)]) -> EventPatch {
    let inputs: Vec<DateInput> = dates
        .iter()
        .map(|(start, finish)| DateInput {
            label: Some("Day".into()),
            start_at: Some((*start).to_owned()),
            finish_at: finish.map(str::to_owned),
            location: Some("Hall".into()),
        })
        .collect();
    let mut v = Violations::default();
    let dates = validated_dates(&inputs, &mut v);
    EventPatch {
        name: Some(name.to_owned()),
        globally_visible: Some(false),
        dates,
        ..EventPatch::defaults_for("Event")
    }
    .validated("Event", v)
    .expect("valid event fields")
}

fn create(w: &World<'_>, groups: &[&Group], f: EventPatch) -> Result<Event, StoreError> {
    let ids: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    w.s.create_event(
        &system(CreateEvent(sorted)),
        &NewEvent {
            event_type: "Event".into(),
            group_ids: ids,
            fields: f,
            questions: vec![
                NewQuestion::from_form("Diet?", "meat, veggie\\, vegan", false, true, false)
                    .expect("question"),
            ],
            creator_id: None,
        },
        t0(),
    )
}

fn event(w: &World<'_>, group: &Group, name: &str, start: &str) -> Event {
    create(w, &[group], fields(name, &[(start, None)])).expect("event created")
}

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

fn query(scope: EventScope) -> EventQuery {
    EventQuery {
        scope,
        event_type: None,
        kind_id: None,
        from: None,
        to: None,
        page: 1,
        per_page: 50,
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[test]
fn created_event_reads_back_with_groups_dates_and_questions() {
    each_store(|w| {
        let (region, _, _) = w.region(&w.root, "North");
        let f = fields(
            "Camp",
            &[
                ("2027-07-10T09:00", Some("2027-07-12T17:00")),
                ("2027-05-01T10:00", None),
            ],
        );
        let created = create(w, &[&region, &w.root], f).expect("created");
        let found = w.s.event(created.id).expect("read").expect("exists");
        assert_eq!(found, created);
        let mut groups = vec![w.root.id, region.id];
        groups.sort();
        assert_eq!(found.group_ids, groups);
        assert_eq!(found.dates.len(), 2);
        assert_eq!(found.dates[0].start_at, at("2027-05-01T10:00"));
        assert_eq!(found.start_at(), Some(at("2027-05-01T10:00")));
        assert_eq!(found.finish_at(), Some(at("2027-07-12T17:00")));
        assert_eq!(found.shared_access_token.len(), 32);
        assert_eq!(found.globally_visible, Some(false));
        let questions = w.s.questions(found.id).expect("questions");
        assert_eq!(questions.len(), 1);
        assert_eq!(questions[0].choices, ["meat", "veggie, vegan"]);
        assert!(questions[0].required);
    });
}

#[test]
fn permit_for_other_groups_is_refused() {
    each_store(|w| {
        let f = fields("Party", &[("2027-01-01T20:00", None)]);
        let refused = w.s.create_event(
            &system(CreateEvent(vec![w.root_board.id])),
            &NewEvent {
                event_type: "Event".into(),
                group_ids: vec![w.root.id],
                fields: f,
                questions: Vec::new(),
                creator_id: Some(PersonId(999_999)),
            },
            t0(),
        );
        assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");
    });
}

#[test]
fn tokens_differ_between_events() {
    each_store(|w| {
        let a = event(w, &w.root, "A", "2027-01-01T10:00");
        let b = event(w, &w.root, "B", "2027-01-02T10:00");
        assert_ne!(a.shared_access_token, b.shared_access_token);
    });
}

#[test]
fn update_replaces_fields_and_dates_but_keeps_the_token() {
    each_store(|w| {
        let e = event(w, &w.root, "Old", "2027-03-01T10:00");
        let mut f = fields("New", &[("2027-04-01T10:00", Some("2027-04-02T12:00"))]);
        f.maximum_participants = Some(12);
        f.training_days = Some(1.5);
        f.globally_visible = None;
        let updated =
            w.s.update_event(&system(UpdateEvent(e.id)), &f, None, t0())
                .expect("updated");
        assert_eq!(updated.name, "New");
        assert_eq!(updated.maximum_participants, Some(12));
        assert_eq!(updated.training_days, Some(1.5));
        assert_eq!(updated.globally_visible, None);
        assert_eq!(updated.dates.len(), 1);
        assert_eq!(updated.dates[0].finish_at, Some(at("2027-04-02T12:00")));
        assert_eq!(updated.shared_access_token, e.shared_access_token);
        assert_eq!(w.s.event(e.id).expect("read"), Some(updated));
    });
}

#[test]
fn groups_are_replaced_with_the_fields_and_the_group_lists_follow() {
    each_store(|w| {
        let (north, _, _) = w.region(&w.root, "North");
        let (south, _, _) = w.region(&w.root, "South");
        let e = event(w, &north, "Shared", "2027-03-01T10:00");
        let update = |name: &str, event, groups: Vec<GroupId>| {
            w.s.update_event(
                &system(UpdateEvent(e.id)),
                &fields(name, &[("2027-03-01T10:00", None)]),
                Some(&system(SetEventGroups { event, groups })),
                t0(),
            )
        };
        let mut both = vec![north.id, south.id];
        both.sort();
        let updated = update("Shared camp", e.id, both.clone()).expect("updated");
        assert_eq!(updated.group_ids, both);
        assert_eq!(updated.name, "Shared camp");
        assert_eq!(updated.shared_access_token, e.shared_access_token);
        let in_south =
            w.s.events_of_group(south.id, EventWhen::Year(2027))
                .expect("list");
        assert_eq!(names(&in_south), ["Shared camp"]);
        let moved = update("Shared camp", e.id, vec![south.id]).expect("updated");
        assert_eq!(moved.group_ids, [south.id]);
        let in_north =
            w.s.events_of_group(north.id, EventWhen::Year(2027))
                .expect("list");
        assert!(in_north.is_empty());
        // No group, an unknown one, or a permit for another event: refused,
        // with neither the groups nor the fields changed.
        assert!(matches!(
            update("Renamed", e.id, Vec::new()),
            Err(StoreError::Rule(_))
        ));
        assert!(update("Renamed", e.id, vec![GroupId(999_999)]).is_err());
        let other = hitcore::id::EventId(e.id.0 + 1000);
        assert!(matches!(
            update("Renamed", other, vec![south.id]),
            Err(StoreError::Rule(_))
        ));
        let kept = w.s.event(e.id).expect("read").expect("exists");
        assert_eq!(kept.group_ids, [south.id]);
        assert_eq!(kept.name, "Shared camp");
    });
}

#[test]
fn delete_removes_the_event_and_returns_attachment_keys() {
    each_store(|w| {
        let e = event(w, &w.root, "Gone", "2027-03-01T10:00");
        let a = check_attachment("plan.pdf", 10, AttachmentVisibility::Team).expect("ok");
        w.s.add_attachment(
            &system(ManageAttachments(e.id)),
            &a,
            "events/1/plan.pdf",
            t0(),
        )
        .expect("attached");
        let keys =
            w.s.delete_event(&system(DestroyEvent(e.id)))
                .expect("deleted");
        assert_eq!(keys, ["events/1/plan.pdf"]);
        assert_eq!(w.s.event(e.id).expect("read"), None);
        assert!(w.s.questions(e.id).expect("questions").is_empty());
        assert!(matches!(
            w.s.delete_event(&system(DestroyEvent(e.id))),
            Err(StoreError::NotFound)
        ));
    });
}

#[test]
fn questions_are_added_at_the_end_and_removed() {
    each_store(|w| {
        let e = event(w, &w.root, "Q", "2027-03-01T10:00");
        let permit = system(UpdateEvent(e.id));
        let q = NewQuestion::from_form("Size?", "S, M, L", false, false, true).expect("q");
        let added = w.s.add_question(&permit, &q).expect("added");
        assert!(added.admin);
        let all = w.s.questions(e.id).expect("questions");
        assert_eq!(
            all.iter().map(|q| q.question.as_str()).collect::<Vec<_>>(),
            ["Diet?", "Size?"]
        );
        w.s.remove_question(&permit, all[0].id).expect("removed");
        assert_eq!(
            w.s.questions(e.id).expect("questions"),
            std::slice::from_ref(&added)
        );
        let other = event(w, &w.root, "Other", "2027-03-01T10:00");
        assert!(matches!(
            w.s.remove_question(&system(UpdateEvent(other.id)), added.id),
            Err(StoreError::NotFound)
        ));
    });
}

#[test]
fn group_lists_show_upcoming_events_and_years() {
    each_store(|w| {
        let (region, _, _) = w.region(&w.root, "North");
        event(w, &w.root, "Past", "2026-01-01T10:00");
        event(w, &w.root, "Later", "2027-06-01T10:00");
        event(w, &w.root, "Soon", "2026-12-24T18:00");
        event(w, &region, "Elsewhere", "2026-12-24T18:00");
        // Started yesterday, finishes tomorrow: still upcoming.
        create(
            w,
            &[&w.root],
            fields("Running", &[("2026-12-02T10:00", Some("2026-12-04T10:00"))]),
        )
        .expect("created");
        let today = ymd(2026, 12, 3);
        let upcoming =
            w.s.events_of_group(w.root.id, EventWhen::Upcoming(today))
                .expect("upcoming");
        assert_eq!(names(&upcoming), ["Running", "Soon", "Later"]);
        let in_2026 =
            w.s.events_of_group(w.root.id, EventWhen::Year(2026))
                .expect("2026");
        assert_eq!(names(&in_2026), ["Past", "Running", "Soon"]);
        assert_eq!(w.s.event_years(w.root.id).expect("years"), [2026, 2027]);
        assert_eq!(w.s.event_years(region.id).expect("years"), [2026]);
    });
}

#[test]
fn global_list_follows_the_scope() {
    each_store(|w| {
        let (region, _, _) = w.region(&w.root, "North");
        let (sub, _, _) = w.region(&region, "Deep");
        let mut public = fields("Public", &[("2027-01-01T10:00", None)]);
        public.globally_visible = Some(true);
        create(w, &[&w.root_board], public).expect("public");
        let mut default = fields("Default", &[("2027-01-02T10:00", None)]);
        // NULL counts as not globally visible in lists (4.4).
        default.globally_visible = None;
        create(w, &[&w.root_board], default).expect("default");
        event(w, &region, "Region", "2027-01-03T10:00");
        event(w, &sub, "Sub", "2027-01-04T10:00");

        let everything = w.s.events_list(&query(EventScope {
            all: true,
            ..EventScope::default()
        }));
        assert_eq!(everything.expect("all").total, 4);
        let public_only = w.s.events_list(&query(EventScope {
            public: true,
            ..EventScope::default()
        }));
        assert_eq!(names(&public_only.expect("public").items), ["Public"]);
        let layer = w.s.events_list(&query(EventScope {
            layer_ids: vec![region.id],
            ..EventScope::default()
        }));
        assert_eq!(names(&layer.expect("layer").items), ["Region"]);
        let below = w.s.events_list(&query(EventScope {
            below_layer_ids: vec![region.id],
            ..EventScope::default()
        }));
        assert_eq!(names(&below.expect("below").items), ["Region", "Sub"]);
        let nothing =
            w.s.events_list(&query(EventScope::default()))
                .expect("none");
        assert_eq!(nothing.total, 0);
    });
}

#[test]
fn global_list_filters_by_type_and_dates_and_pages() {
    each_store(|w| {
        for (name, start) in [
            ("A", "2027-01-01T10:00"),
            ("B", "2027-02-01T10:00"),
            ("C", "2027-03-01T10:00"),
        ] {
            event(w, &w.root, name, start);
        }
        let all = EventScope {
            all: true,
            ..EventScope::default()
        };
        let between =
            w.s.events_list(&EventQuery {
                from: Some(ymd(2027, 1, 2)),
                to: Some(ymd(2027, 2, 1)),
                ..query(all.clone())
            })
            .expect("between");
        assert_eq!(names(&between.items), ["B"]);
        let courses =
            w.s.events_list(&EventQuery {
                event_type: Some("Event::Course".into()),
                ..query(all.clone())
            })
            .expect("courses");
        assert_eq!(courses.total, 0);
        let second =
            w.s.events_list(&EventQuery {
                page: 2,
                per_page: 2,
                ..query(all)
            })
            .expect("page 2");
        assert_eq!((names(&second.items), second.total), (vec!["C"], 3));
    });
}

#[test]
fn attachments_are_listed_found_and_removed_per_event() {
    each_store(|w| {
        let e = event(w, &w.root, "Files", "2027-01-01T10:00");
        let permit = system(ManageAttachments(e.id));
        let b = check_attachment("b.pdf", 5, AttachmentVisibility::Global).expect("b");
        let a = check_attachment("A.png", 7, AttachmentVisibility::Participants).expect("a");
        let stored_b =
            w.s.add_attachment(&permit, &b, "k/b", t0())
                .expect("b added");
        let stored_a =
            w.s.add_attachment(&permit, &a, "k/a", t0())
                .expect("a added");
        assert_eq!(stored_a.content_type, "image/png");
        assert_eq!(stored_a.visibility, AttachmentVisibility::Participants);
        let listed = w.s.attachments(e.id).expect("listed");
        assert_eq!(listed, [stored_a.clone(), stored_b.clone()]);
        assert_eq!(
            w.s.attachment(stored_b.id).expect("found"),
            Some(stored_b.clone())
        );
        let other = event(w, &w.root, "Other", "2027-01-01T10:00");
        assert!(matches!(
            w.s.remove_attachment(&system(ManageAttachments(other.id)), stored_a.id),
            Err(StoreError::NotFound)
        ));
        let removed =
            w.s.remove_attachment(&permit, stored_a.id)
                .expect("removed");
        assert_eq!(removed.storage_key, "k/a");
        assert_eq!(w.s.attachments(e.id).expect("listed"), [stored_b]);
    });
}
