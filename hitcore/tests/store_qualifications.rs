//! The qualification contract ([`QualificationRepo`]) on every store: the
//! kind catalogues are created, changed and deleted (softly when in use);
//! qualifying a course participant issues the qualifications of 5.5 with
//! their finish dates, once, and revoking removes exactly those; the
//! person page's lists come back in order.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set (required when `CI=true`), each with a
//! fresh database.

mod common;

use chrono::NaiveDate;
use hitcore::ability::{
    CreateEvent, CreateEventRole, CreateParticipation, ManageKinds, ManageQualifications, Permit,
    QualifyParticipation, system,
};
use hitcore::event::kind::{
    CategoryPatch, EventKind, EventKindPatch, KindQualification, LinkCategory, LinkRole,
    LinkValidity, QualificationKind, QualificationKindPatch,
};
use hitcore::event::participation::{EventRoleType, NewParticipation};
use hitcore::event::qualification::Removal;
use hitcore::event::{COURSE, DateInput, Event, EventPatch, NewEvent, validated_dates};
use hitcore::id::{EventId, ParticipationId, PersonId, QualificationKindId};
use hitcore::person::Person;
use hitcore::store::StoreError;
use hitcore::validate::Violations;

use common::{MEMBER, World, at, each_store, t0};

/// In CI the PostgreSQL store must be part of the run.
fn each(case: impl Fn(&World<'_>)) {
    let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let has_pg = std::env::var("HIT_TEST_POSTGRES_URL").is_ok_and(|v| !v.trim().is_empty());
    assert!(
        !is_ci || has_pg,
        "CI=true needs HIT_TEST_POSTGRES_URL for the PostgreSQL store"
    );
    each_store(case);
}

fn admin() -> Permit<ManageKinds> {
    system(ManageKinds)
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
}

fn qkind(
    w: &World<'_>,
    label: &str,
    validity: Option<u32>,
    reactivateable: Option<u32>,
    days: Option<f64>,
) -> QualificationKind {
    let patch = QualificationKindPatch {
        label: Some(label.to_owned()),
        validity,
        reactivateable,
        required_training_days: days,
        ..QualificationKindPatch::default()
    }
    .validated()
    .expect("valid kind");
    w.s.create_qualification_kind(&admin(), &patch, t0())
        .expect("kind created")
}

fn link(kind: &QualificationKind, category: LinkCategory, role: LinkRole) -> KindQualification {
    KindQualification {
        qualification_kind_id: kind.id,
        category,
        role,
        grouping: None,
        validity: LinkValidity::ValidOrExpired,
    }
}

fn ekind(w: &World<'_>, label: &str, links: Vec<KindQualification>) -> EventKind {
    let patch = EventKindPatch {
        label: Some(label.to_owned()),
        short_name: Some(label.chars().take(3).collect()),
        minimum_age: Some(17),
        qualifications: links,
        ..EventKindPatch::default()
    }
    .validated()
    .expect("valid event kind");
    w.s.create_event_kind(&admin(), &patch, t0())
        .expect("event kind created")
}

/// A course of `kind` on the root group with two dates, the last one
/// finishing on `last_day`.
fn course(w: &World<'_>, kind: &EventKind, name: &str, last_day: &str, days: Option<f64>) -> Event {
    let inputs = vec![
        DateInput {
            label: Some("Weekend".into()),
            start_at: Some("2025-05-03 09:00".into()),
            finish_at: Some("2025-05-04 17:00".into()),
            location: None,
        },
        DateInput {
            label: Some("Final".into()),
            start_at: Some(format!("{last_day} 09:00")),
            finish_at: Some(format!("{last_day} 17:00")),
            location: None,
        },
    ];
    let mut v = Violations::default();
    let dates = validated_dates(&inputs, &mut v);
    let fields = EventPatch {
        name: Some(name.to_owned()),
        kind_id: Some(kind.id),
        training_days: days,
        dates,
        ..EventPatch::defaults_for(COURSE)
    }
    .validated(COURSE, v)
    .expect("valid course");
    w.s.create_event(
        &system(CreateEvent(vec![w.root.id])),
        &NewEvent {
            event_type: COURSE.into(),
            group_ids: vec![w.root.id],
            fields,
            questions: Vec::new(),
            creator_id: None,
        },
        t0(),
    )
    .expect("course created")
}

/// Registers `person` in `event` (by someone else: active) with `role`.
fn take_part(
    w: &World<'_>,
    event: &Event,
    person: &Person,
    role: EventRoleType,
) -> ParticipationId {
    let permit = system(CreateParticipation {
        event: event.id,
        person: person.id,
        by_self: false,
    });
    let p =
        w.s.register(
            &permit,
            &NewParticipation {
                event_id: event.id,
                person_id: person.id,
                additional_information: None,
                answers: Vec::new(),
                priority_2_id: None,
                priority_3_id: None,
                by_self: false,
            },
            &|_| Vec::new(),
            d("2025-01-01"),
            t0(),
        )
        .expect("registered");
    if role != EventRoleType::Participant && !p.roles.iter().any(|r| r.role_type == role) {
        w.s.add_event_role(
            &system(CreateEventRole {
                participation: p.id,
                role_type: role,
            }),
            None,
            t0(),
        )
        .expect("role added");
    }
    p.id
}

fn qualify_permit(event: EventId, participation: ParticipationId) -> Permit<QualifyParticipation> {
    system(QualifyParticipation {
        event_id: event,
        participation_id: participation,
    })
}

fn kinds_held(
    w: &World<'_>,
    p: PersonId,
) -> Vec<(QualificationKindId, NaiveDate, Option<NaiveDate>)> {
    w.s.qualifications_of_person(p)
        .expect("qualifications")
        .into_iter()
        .map(|q| (q.qualification_kind_id, q.start_at, q.finish_at))
        .collect()
}

// ---------------------------------------------------------- catalogues

#[test]
fn categories_are_ordered_changed_and_deleted() {
    each(|w| {
        let cat = |label: &str, order| {
            CategoryPatch {
                label: Some(label.into()),
                order,
            }
            .validated()
            .expect("valid")
        };
        let b =
            w.s.create_event_kind_category(&admin(), &cat("Beta", 2))
                .expect("created");
        let a =
            w.s.create_event_kind_category(&admin(), &cat("Alpha", 5))
                .expect("created");
        let labels = |w: &World<'_>| -> Vec<String> {
            w.s.event_kind_categories()
                .expect("categories")
                .into_iter()
                .map(|c| c.label)
                .collect()
        };
        assert_eq!(labels(w), ["Beta", "Alpha"]);
        w.s.update_event_kind_category(&admin(), a.id, &cat("Alpha", 1))
            .expect("updated");
        assert_eq!(labels(w), ["Alpha", "Beta"]);

        let mut patch = EventKindPatch {
            label: Some("Kind".into()),
            kind_category_id: Some(b.id),
            ..EventKindPatch::default()
        };
        let k = w.s.create_event_kind(&admin(), &patch, t0()).expect("kind");
        assert_eq!(k.kind_category_id, Some(b.id));
        w.s.delete_event_kind_category(&admin(), b.id)
            .expect("deleted");
        assert_eq!(labels(w), ["Alpha"]);
        let k = w.s.event_kind(k.id).expect("read").expect("kept");
        assert_eq!(k.kind_category_id, None, "the kind outlives its category");
        patch.kind_category_id = Some(b.id);
        let unknown = w.s.update_event_kind(&admin(), k.id, &patch, t0());
        assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    });
}

#[test]
fn qualification_kinds_keep_their_fields_and_unique_labels() {
    each(|w| {
        let k = qkind(w, "First aid", Some(2), Some(2), Some(1.5));
        assert_eq!(k.validity, Some(2));
        assert_eq!(k.reactivateable, Some(2));
        assert_eq!(k.required_training_days, Some(1.5));
        let again = QualificationKindPatch {
            label: Some("First aid".into()),
            ..QualificationKindPatch::default()
        };
        let taken = w.s.create_qualification_kind(&admin(), &again, t0());
        assert!(
            matches!(&taken, Err(StoreError::Conflict { field }) if field == "label"),
            "{taken:?}"
        );
        let patch = QualificationKindPatch {
            label: Some("First aid basic".into()),
            validity: None,
            ..QualificationKindPatch::default()
        };
        let k =
            w.s.update_qualification_kind(&admin(), k.id, &patch, t0())
                .expect("updated");
        assert_eq!((k.label.as_str(), k.validity), ("First aid basic", None));
    });
}

#[test]
fn kinds_in_use_are_only_marked_deleted() {
    each(|w| {
        let unused = qkind(w, "Unused", None, None, None);
        let used = qkind(w, "Used", Some(1), None, None);
        let blc = ekind(
            w,
            "Basic",
            vec![link(
                &used,
                LinkCategory::Qualification,
                LinkRole::Participant,
            )],
        );
        let lonely = ekind(w, "Lonely", Vec::new());
        course(w, &blc, "BLC", "2025-06-01", None);

        assert_eq!(
            w.s.delete_qualification_kind(&admin(), unused.id, t0())
                .expect("deleted"),
            Removal::Deleted
        );
        assert_eq!(
            w.s.delete_qualification_kind(&admin(), used.id, t0())
                .expect("deleted"),
            Removal::SoftDeleted
        );
        assert_eq!(
            w.s.delete_event_kind(&admin(), lonely.id, t0())
                .expect("deleted"),
            Removal::Deleted
        );
        assert_eq!(
            w.s.delete_event_kind(&admin(), blc.id, t0())
                .expect("deleted"),
            Removal::SoftDeleted
        );
        let live: Vec<String> =
            w.s.qualification_kinds(false)
                .expect("kinds")
                .into_iter()
                .map(|k| k.label)
                .collect();
        assert!(live.is_empty(), "{live:?}");
        assert_eq!(w.s.qualification_kinds(true).expect("kinds").len(), 1);
        assert!(w.s.event_kinds(false).expect("kinds").is_empty());
        let all = w.s.event_kinds(true).expect("kinds");
        assert_eq!(all.len(), 1);
        assert!(all[0].deleted_at.is_some());
        assert_eq!(all[0].qualifications.len(), 1, "links stay");
        assert!(w.s.event_kind(lonely.id).expect("read").is_none());
    });
}

#[test]
fn event_kind_links_are_replaced_on_update() {
    each(|w| {
        let a = qkind(w, "A", Some(1), None, None);
        let b = qkind(w, "B", Some(1), None, None);
        let k = ekind(
            w,
            "Kind",
            vec![
                KindQualification {
                    grouping: Some(1),
                    validity: LinkValidity::Valid,
                    ..link(&a, LinkCategory::Precondition, LinkRole::Participant)
                },
                link(&b, LinkCategory::Qualification, LinkRole::Leader),
            ],
        );
        assert_eq!(k.qualifications.len(), 2);
        assert_eq!(k.qualifications[0].grouping, Some(1));
        assert_eq!(k.qualifications[0].validity, LinkValidity::Valid);
        assert_eq!(k.minimum_age, Some(17));
        let patch = EventKindPatch {
            label: Some("Kind".into()),
            qualifications: vec![link(&a, LinkCategory::Prolongation, LinkRole::Participant)],
            ..EventKindPatch::default()
        };
        let k =
            w.s.update_event_kind(&admin(), k.id, &patch, t0())
                .expect("updated");
        assert_eq!(
            k.qualifications,
            vec![link(&a, LinkCategory::Prolongation, LinkRole::Participant)]
        );
        let mut bad = patch.clone();
        bad.qualifications[0].qualification_kind_id = QualificationKindId(999_999);
        let refused = w.s.update_event_kind(&admin(), k.id, &bad, t0());
        assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
        assert_eq!(
            w.s.event_kind(k.id)
                .expect("read")
                .expect("kind")
                .qualifications
                .len(),
            1,
            "a refused update changes nothing"
        );
    });
}

// ------------------------------------------------------------ qualify

#[test]
fn qualify_issues_once_with_finish_date_and_revoke_removes_it() {
    each(|w| {
        let leader_kind = qkind(w, "Youth leader", Some(3), Some(4), None);
        let first_aid = qkind(w, "First aid", Some(2), None, None);
        let blc = ekind(
            w,
            "Basic leader course",
            vec![
                link(
                    &leader_kind,
                    LinkCategory::Qualification,
                    LinkRole::Participant,
                ),
                link(&first_aid, LinkCategory::Qualification, LinkRole::Leader),
            ],
        );
        let c = course(w, &blc, "BLC-01", "2025-06-12", Some(3.0));
        let member = w.person("Mia", "Member", &w.root_members, MEMBER);
        let leader = w.person("Leo", "Leader", &w.root_members, MEMBER);
        let mp = take_part(w, &c, &member, EventRoleType::Participant);
        let lp = take_part(w, &c, &leader, EventRoleType::Leader);

        let issued =
            w.s.qualify(&qualify_permit(c.id, mp), t0())
                .expect("qualified");
        assert_eq!(issued.len(), 1);
        assert_eq!(issued[0].origin.as_deref(), Some("BLC-01"));
        assert_eq!(issued[0].event_id, Some(c.id));
        assert_eq!(issued[0].qualified_at, Some(d("2025-06-12")));
        assert_eq!(
            kinds_held(w, member.id),
            vec![(leader_kind.id, d("2025-06-12"), Some(d("2028-12-31")))]
        );
        let again = w.s.qualify(&qualify_permit(c.id, mp), t0()).expect("again");
        assert!(again.is_empty(), "qualifying twice issues nothing new");
        assert_eq!(kinds_held(w, member.id).len(), 1);

        w.s.qualify(&qualify_permit(c.id, lp), t0())
            .expect("leader");
        assert_eq!(
            kinds_held(w, leader.id),
            vec![(first_aid.id, d("2025-06-12"), Some(d("2027-12-31")))]
        );

        let rows = w.s.qualification_participants(c.id).expect("participants");
        let names: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| (r.person.last_name.as_deref().unwrap_or(""), r.is_qualified))
            .collect();
        assert_eq!(names, [("Leader", true), ("Member", true)]);
        assert!(rows[0].roles.contains(&EventRoleType::Leader));

        assert_eq!(
            w.s.revoke_qualification(&qualify_permit(c.id, mp))
                .expect("revoked"),
            1
        );
        assert!(kinds_held(w, member.id).is_empty());
        let rows = w.s.qualification_participants(c.id).expect("participants");
        assert!(
            !rows
                .iter()
                .find(|r| r.participation_id == mp)
                .expect("row")
                .is_qualified
        );
        assert_eq!(kinds_held(w, leader.id).len(), 1, "others keep theirs");
    });
}

#[test]
fn qualify_refuses_a_participation_of_another_event_and_a_course_without_kind_links() {
    each(|w| {
        let k = qkind(w, "K", None, None, None);
        let kind = ekind(
            w,
            "Kind",
            vec![link(&k, LinkCategory::Qualification, LinkRole::Participant)],
        );
        let one = course(w, &kind, "One", "2025-06-12", None);
        let two = course(w, &kind, "Two", "2025-07-12", None);
        let member = w.person("Mia", "Member", &w.root_members, MEMBER);
        let p = take_part(w, &one, &member, EventRoleType::Participant);
        let wrong = w.s.qualify(&qualify_permit(two.id, p), t0());
        assert!(matches!(wrong, Err(StoreError::NotFound)), "{wrong:?}");
        assert!(kinds_held(w, member.id).is_empty());
        let unlimited = w.s.qualify(&qualify_permit(one.id, p), t0()).expect("ok");
        assert_eq!(unlimited[0].finish_at, None, "unlimited kind");
    });
}

#[test]
fn prolongation_counts_training_days_of_earlier_courses() {
    each(|w| {
        let leader_kind = qkind(w, "Youth leader", Some(3), Some(4), Some(2.0));
        let blc = ekind(
            w,
            "Basic",
            vec![link(
                &leader_kind,
                LinkCategory::Qualification,
                LinkRole::Participant,
            )],
        );
        let refresher = ekind(
            w,
            "Refresher",
            vec![link(
                &leader_kind,
                LinkCategory::Prolongation,
                LinkRole::Participant,
            )],
        );
        let member = w.person("Mia", "Member", &w.root_members, MEMBER);
        let basic = course(w, &blc, "BLC", "2025-06-12", None);
        let p = take_part(w, &basic, &member, EventRoleType::Participant);
        w.s.qualify(&qualify_permit(basic.id, p), t0())
            .expect("basic");

        // One day is not enough on its own.
        let first = course(w, &refresher, "REF-1", "2026-06-12", Some(1.0));
        let p1 = take_part(w, &first, &member, EventRoleType::Participant);
        assert!(
            w.s.qualify(&qualify_permit(first.id, p1), t0())
                .expect("ref 1")
                .is_empty()
        );

        // With the earlier refresher's day, two days add up.
        let second = course(w, &refresher, "REF-2", "2027-06-12", Some(1.0));
        let p2 = take_part(w, &second, &member, EventRoleType::Participant);
        let prolonged =
            w.s.qualify(&qualify_permit(second.id, p2), t0())
                .expect("ref 2");
        assert_eq!(prolonged.len(), 1);
        assert_eq!(prolonged[0].start_at, d("2027-06-12"));
        assert_eq!(prolonged[0].finish_at, Some(d("2030-12-31")));
    });
}

// ------------------------------------------------------- person page

#[test]
fn history_lists_the_persons_events_with_roles_latest_first() {
    each(|w| {
        let kind = ekind(w, "Kind", Vec::new());
        let early = course(w, &kind, "Early", "2025-06-12", None);
        let late = course(w, &kind, "Late", "2026-06-12", None);
        let member = w.person("Mia", "Member", &w.root_members, MEMBER);
        take_part(w, &early, &member, EventRoleType::Participant);
        take_part(w, &late, &member, EventRoleType::Leader);
        let history = w.s.event_history(member.id).expect("history");
        let names: Vec<&str> = history.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["Late", "Early"]);
        assert!(history[0].roles.contains(&EventRoleType::Leader));
        assert_eq!(history[1].roles, [EventRoleType::Participant]);
        assert_eq!(history[1].group_id, w.root.id);
        assert!(history.iter().all(|h| h.is_active));
        assert_eq!(history[1].start_at.map(|t| t.date()), Some(d("2025-05-03")));
        assert_eq!(
            history[1].finish_at.map(|t| t.date()),
            Some(d("2025-06-12"))
        );
        let other = w.person("Otto", "Other", &w.root_members, MEMBER);
        assert!(w.s.event_history(other.id).expect("history").is_empty());
    });
}

#[test]
fn qualifications_by_hand_are_added_and_removed() {
    each(|w| {
        let k = qkind(w, "First aid", Some(0), None, None);
        let member = w.person("Mia", "Member", &w.root_members, MEMBER);
        let permit = system(ManageQualifications(member.id));
        let q =
            w.s.add_qualification(&permit, k.id, d("2025-03-01"), Some("External"), at(0))
                .expect("added");
        assert_eq!(q.finish_at, Some(d("2025-12-31")), "validity 0: same year");
        let twice =
            w.s.add_qualification(&permit, k.id, d("2025-03-01"), None, at(0));
        assert!(
            matches!(&twice, Err(StoreError::Conflict { field }) if field == "start_at"),
            "{twice:?}"
        );
        let other = w.person("Otto", "Other", &w.root_members, MEMBER);
        let foreign =
            w.s.remove_qualification(&system(ManageQualifications(other.id)), q.id);
        assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
        w.s.remove_qualification(&permit, q.id).expect("removed");
        assert!(kinds_held(w, member.id).is_empty());
    });
}
