//! A course's qualification page: who may see it and who may qualify
//! (the `qualifications_read` and `qualify` rows of the event table), the
//! toggle as a page and as an HTMX row, and the person page's
//! "Qualifications" and "Events" sections it fills.

use chrono::{Datelike, Utc};
use hitcore::ability::{CreateEvent, CreateEventRole, CreateParticipation, ManageKinds, system};
use hitcore::event::kind::{
    EventKindPatch, KindQualification, LinkCategory, LinkRole, LinkValidity, QualificationKindPatch,
};
use hitcore::event::participation::{EventRoleType, NewParticipation};
use hitcore::event::{COURSE, DateInput, Event, EventPatch, NewEvent, validated_dates};
use hitcore::group::Group;
use hitcore::id::ParticipationId;
use hitcore::person::Person;
use hitcore::store::{EventRepo, ParticipationRepo, QualificationRepo};
use hitcore::validate::Violations;
use poem::http::StatusCode;

use crate::support::TestApp;

/// A course in `group` whose kind issues "Test leader" (validity 2) to
/// participants; its last date is in January of next year.
fn course(app: &TestApp, group: &Group) -> Event {
    let kind = app
        .store
        .create_qualification_kind(
            &system(ManageKinds),
            &QualificationKindPatch {
                label: Some("Test leader".into()),
                validity: Some(2),
                ..QualificationKindPatch::default()
            },
            Utc::now(),
        )
        .expect("qualification kind");
    let event_kind = app
        .store
        .create_event_kind(
            &system(ManageKinds),
            &EventKindPatch {
                label: Some("Test course kind".into()),
                qualifications: vec![KindQualification {
                    qualification_kind_id: kind.id,
                    category: LinkCategory::Qualification,
                    role: LinkRole::Participant,
                    grouping: None,
                    validity: LinkValidity::ValidOrExpired,
                }],
                ..EventKindPatch::default()
            },
            Utc::now(),
        )
        .expect("event kind");
    let year = Utc::now().year() + 1;
    let inputs = vec![DateInput {
        label: None,
        start_at: Some(format!("{year}-01-10 09:00")),
        finish_at: Some(format!("{year}-01-12 17:00")),
        location: None,
    }];
    let mut v = Violations::default();
    let dates = validated_dates(&inputs, &mut v);
    let fields = EventPatch {
        name: Some("Test course".into()),
        kind_id: Some(event_kind.id),
        dates,
        ..EventPatch::defaults_for(COURSE)
    }
    .validated(COURSE, v)
    .expect("valid course");
    app.store
        .create_event(
            &system(CreateEvent(vec![group.id])),
            &NewEvent {
                event_type: COURSE.into(),
                group_ids: vec![group.id],
                fields,
                questions: Vec::new(),
                creator_id: None,
            },
            Utc::now(),
        )
        .expect("course")
}

fn take_part(
    app: &TestApp,
    event: &Event,
    person: &Person,
    role: EventRoleType,
) -> ParticipationId {
    let p = app
        .store
        .register(
            &system(CreateParticipation {
                event: event.id,
                person: person.id,
                by_self: false,
            }),
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
            Utc::now().date_naive(),
            Utc::now(),
        )
        .expect("registered");
    if !p.roles.iter().any(|r| r.role_type == role) {
        app.store
            .add_event_role(
                &system(CreateEventRole {
                    participation: p.id,
                    role_type: role,
                }),
                None,
                Utc::now(),
            )
            .expect("role");
    }
    p.id
}

struct Setup {
    app: TestApp,
    event: Event,
    root: Group,
    member: Person,
    member_participation: ParticipationId,
    members: Group,
}

fn setup() -> Setup {
    let app = TestApp::new();
    let root = app.group("Demo Federation");
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let event = course(&app, &root);
    let member = app.add_login(&members, "ClubMembers.Active", "Mara", "mara@demo.example");
    let member_participation = take_part(&app, &event, &member, EventRoleType::Participant);
    let leader = app.add_login(&members, "ClubMembers.Active", "Lena", "lena@demo.example");
    take_part(&app, &event, &leader, EventRoleType::Leader);
    let assistant = app.add_login(&members, "ClubMembers.Active", "Assi", "assi@demo.example");
    take_part(&app, &event, &assistant, EventRoleType::AssistantLeader);
    Setup {
        app,
        event,
        root,
        member,
        member_participation,
        members,
    }
}

fn page_url(s: &Setup) -> String {
    format!("/groups/{}/events/{}/qualifications", s.root.id, s.event.id)
}

#[tokio::test]
async fn layer_admin_and_course_leader_see_the_page_others_do_not() {
    let s = setup();
    let url = page_url(&s);
    // layer_and_below_full in the course's layer (Ada, Federation admin).
    let mut ada = s.app.signed_in("admin@demo.example").await;
    let page = ada.get(&url).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("id=\"qualifications-table\""));
    assert!(page.body.contains("Mara"));
    assert!(page.body.contains("Test leader"));
    assert!(
        page.body
            .contains(&format!("id=\"qualify-{}\"", s.member_participation))
    );
    // The event role with `qualify` (the course leader).
    let mut lena = s.app.signed_in("lena@demo.example").await;
    let page = lena.get(&url).await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("id=\"qualify-{}\"", s.member_participation))
    );
    // layer_and_below_full of a lower layer reaches its own layer only.
    let mut nora = s.app.signed_in("north@demo.example").await;
    nora.get(&url).await.assert_status(StatusCode::FORBIDDEN);
    // An assistant leader has no `qualify`; a participant neither.
    let mut assi = s.app.signed_in("assi@demo.example").await;
    assi.get(&url).await.assert_status(StatusCode::FORBIDDEN);
    let mut mara = s.app.signed_in("mara@demo.example").await;
    mara.get(&url).await.assert_status(StatusCode::FORBIDDEN);
    let qualify = format!("{url}/{}", s.member_participation);
    mara.post(&qualify, &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(
        s.app
            .store
            .qualifications_of_person(s.member.id)
            .expect("q")
            .is_empty()
    );
    // The page belongs to the event's groups only.
    let other = format!(
        "/groups/{}/events/{}/qualifications",
        s.members.id, s.event.id
    );
    ada.get(&other).await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn qualifying_shows_the_qualification_on_the_person_page_and_revoke_removes_it() {
    let s = setup();
    let url = page_url(&s);
    let mut lena = s.app.signed_in("lena@demo.example").await;
    let qualify = format!("{url}/{}", s.member_participation);
    let done = lena.post(&qualify, &[]).await;
    done.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), url);

    let year = Utc::now().year() + 1;
    let mut mara = s.app.signed_in("mara@demo.example").await;
    let person = mara
        .get(&format!("/groups/{}/people/{}", s.members.id, s.member.id))
        .await;
    person.assert_status(StatusCode::OK);
    assert!(
        person.body.contains("id=\"qualifications\""),
        "{}",
        person.body
    );
    assert!(person.body.contains("Test leader"));
    assert!(person.body.contains("Test course"), "the event history");
    let finish = format!("{}", year + 2);
    assert!(person.body.contains(&finish), "finish date in {finish}");

    // HTMX: the row comes back swapped, now with the revoke button.
    let row = lena.post_htmx(&format!("{qualify}/delete"), &[]).await;
    row.assert_status(StatusCode::OK);
    assert!(!row.is_full_page());
    assert!(row.body.contains(&format!(
        "id=\"qualification-row-{}\"",
        s.member_participation
    )));
    assert!(row.body.contains("Mark qualified"));
    assert!(
        s.app
            .store
            .qualifications_of_person(s.member.id)
            .expect("q")
            .is_empty()
    );
    let again = lena.post_htmx(&qualify, &[]).await;
    assert!(again.body.contains("Revoke"));
    assert_eq!(
        s.app
            .store
            .qualifications_of_person(s.member.id)
            .expect("q")
            .len(),
        1
    );
}

#[tokio::test]
async fn person_sections_are_only_for_viewers_of_the_details() {
    let s = setup();
    // Tina (Trainer, group_and_below_full on the club's members) sees
    // Mara's details; the sections are there.
    let mut tina = s.app.signed_in("trainer@demo.example").await;
    let url = format!("/groups/{}/people/{}", s.members.id, s.member.id);
    let page = tina.get(&url).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("id=\"person-events\""));
    // A fellow member sees Mara (same group) only if allowed at all; a
    // plain member has no show on others, so no sections leak.
    let mut lena = s.app.signed_in("lena@demo.example").await;
    let other = lena.get(&url).await;
    assert!(!other.body.contains("id=\"qualifications\""));
}

#[tokio::test]
async fn the_page_answers_htmx_with_its_table_fragment() {
    let s = setup();
    let mut ada = s.app.signed_in("admin@demo.example").await;
    let fragment = ada.get_htmx(&page_url(&s)).await;
    fragment.assert_status(StatusCode::OK);
    assert!(fragment.has_vary_hx_request());
    assert!(!fragment.is_full_page());
    assert!(
        fragment
            .body
            .starts_with("<div id=\"qualifications-table\"")
    );
    let page = ada.get(&page_url(&s)).await;
    assert!(page.is_full_page());
}
