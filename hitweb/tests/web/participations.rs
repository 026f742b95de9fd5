//! Registrations: applying with answers (required ones enforced for
//! oneself only), the waiting list, "already registered", a leader
//! registering someone, the participation page with its answers, approval
//! by the region coordinator, cancellation, event roles, and the mails
//! the registration sends.

use chrono::{Duration, Utc};
use hitcore::ability::{CreateEvent, system};
use hitcore::event::question::NewQuestion;
use hitcore::event::{COURSE, Event, EventPatch, NewEvent, NewEventDate, SIMPLE_EVENT};
use hitcore::group::Group;
use hitcore::person::Person;
use hitcore::store::{EventRepo, JobQueue, ParticipationRepo};
use poem::http::StatusCode;

use crate::support::{TestApp, unescape};

pub(crate) fn required_question(text: &str) -> NewQuestion {
    NewQuestion {
        question: text.to_owned(),
        choices: Vec::new(),
        multiple_choices: false,
        required: true,
        admin: false,
        visible_role_types: Vec::new(),
    }
}

/// An event of `event_type` on `group`, with two dates next month.
pub(crate) fn event_on(
    app: &TestApp,
    group: &Group,
    event_type: &str,
    max: Option<u32>,
    questions: Vec<NewQuestion>,
) -> Event {
    event_with(app, group, event_type, max, questions, |_| {})
}

/// [`event_on`], with its fields changed by `adjust` before it is stored.
pub(crate) fn event_with(
    app: &TestApp,
    group: &Group,
    event_type: &str,
    max: Option<u32>,
    questions: Vec<NewQuestion>,
    adjust: impl FnOnce(&mut EventPatch),
) -> Event {
    let start = (Utc::now() + Duration::days(30)).date_naive();
    let at = |d: chrono::NaiveDate, h| d.and_hms_opt(h, 0, 0).expect("a time");
    let fields = EventPatch {
        name: Some("Basic <Leader> Course".to_owned()),
        maximum_participants: max,
        applications_cancelable: true,
        requires_approval: event_type == COURSE,
        waiting_list: true,
        participations_visible: true,
        dates: vec![
            NewEventDate {
                label: None,
                start_at: at(start, 9),
                finish_at: Some(at(start, 17)),
                location: None,
            },
            NewEventDate {
                label: None,
                start_at: at(start + Duration::days(7), 9),
                finish_at: None,
                location: None,
            },
        ],
        ..EventPatch::default()
    };
    let mut fields = fields;
    adjust(&mut fields);
    let new = NewEvent {
        event_type: event_type.to_owned(),
        group_ids: vec![group.id],
        fields,
        questions,
        creator_id: None,
    };
    app.store
        .create_event(&system(CreateEvent(vec![group.id])), &new, Utc::now())
        .expect("event created")
}

/// A member of Club Beta who can sign in.
pub(crate) fn beta_member(app: &TestApp, first: &str) -> Person {
    let members = app.child(&app.group("Club Beta"), "ClubMembers");
    app.add_login(
        &members,
        "ClubMembers.Active",
        first,
        &format!("{}@beta.example", first.to_lowercase()),
    )
}

pub(crate) fn url(event: &Event, rest: &str) -> String {
    format!("/groups/{}/events/{}{rest}", event.group_ids[0], event.id)
}

fn sent_mails(app: &TestApp) -> Vec<String> {
    app.mailer
        .take()
        .into_iter()
        .map(|m| {
            String::from_utf8_lossy(&m.message)
                .replace("=\r\n", "")
                .replace("=3D", "=")
        })
        .collect()
}

#[tokio::test]
async fn member_applies_with_an_answer_and_lands_on_the_waiting_list_when_full() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(
        &app,
        &club,
        COURSE,
        Some(1),
        vec![required_question("Diet?")],
    );
    let q = app.store.questions(course.id).expect("questions")[0].id;
    let mut alex = app.signed_in("alpha@demo.example").await;
    let tina = app.person("Tina", "Trainer");
    let placed = alex
        .post(
            &url(&course, "/participations"),
            &[("person_id", &tina.id.to_string())],
        )
        .await;
    placed.assert_status(StatusCode::SEE_OTHER);

    let bea = beta_member(&app, "Bea");
    let mut browser = app.signed_in("bea@beta.example").await;
    let form = browser.get(&url(&course, "/participations/new")).await;
    form.assert_status(StatusCode::OK);
    assert!(
        form.body.contains("id=\"participation-form\""),
        "{}",
        form.body
    );
    assert!(form.body.contains(&format!("name=\"answers[{}]\"", q.0)));
    let field = format!("answers[{}]", q.0);
    let applied = browser
        .post(&url(&course, "/participations"), &[(&field, "vegetarian")])
        .await;
    applied.assert_status(StatusCode::SEE_OTHER);
    let mine = app
        .store
        .participation_of(course.id, bea.id)
        .expect("read")
        .expect("registered");
    assert_eq!(
        applied.location(),
        url(&course, &format!("/participations/{}", mine.id))
    );
    assert!(!mine.active);
    let page = browser.get(applied.location()).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Waiting list"), "{}", page.body);
    assert!(page.body.contains("vegetarian"));
    assert!(unescape(&page.body).contains("Basic <Leader> Course"));
    assert!(!page.body.contains("Basic <Leader>"));

    app.run_jobs();
    let mails = sent_mails(&app);
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: bea@beta.example") && m.contains("waiting list")),
        "{mails:?}"
    );
}

#[tokio::test]
async fn required_answer_is_enforced_for_oneself_only() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, vec![required_question("Diet?")]);
    beta_member(&app, "Bea");
    let mut bea = app.signed_in("bea@beta.example").await;
    let page = bea.post_htmx(&url(&course, "/participations"), &[]).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.is_full_page());
    assert!(page.body.contains("id=\"participation-form\""));
    assert!(page.body.contains("is required"), "{}", page.body);

    let tina = app.person("Tina", "Trainer");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let placed = alex
        .post(
            &url(&course, "/participations"),
            &[("person_id", &tina.id.to_string())],
        )
        .await;
    placed.assert_status(StatusCode::SEE_OTHER);
    let p = app
        .store
        .participation_of(course.id, tina.id)
        .expect("read");
    assert!(p.expect("registered").active);
    app.run_jobs();
}

#[tokio::test]
async fn second_application_says_already_registered() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    beta_member(&app, "Bea");
    let mut bea = app.signed_in("bea@beta.example").await;
    bea.post(&url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let again = bea.post(&url(&course, "/participations"), &[]).await;
    again.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("already registered"), "{}", again.body);
    app.run_jobs();
}

#[tokio::test]
async fn applying_after_the_closing_date_or_when_full_says_why() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let yesterday = (Utc::now() - Duration::days(1)).date_naive();
    let closed = event_with(&app, &club, COURSE, None, Vec::new(), |f| {
        f.application_closing_at = Some(yesterday);
    });
    // A simple event keeps no waiting list: one place, then full.
    let party = event_on(&app, &club, SIMPLE_EVENT, Some(1), Vec::new());
    beta_member(&app, "Bea");
    beta_member(&app, "Cara");
    let mut bea = app.signed_in("bea@beta.example").await;
    let event_page = bea.get(&url(&closed, "")).await;
    event_page.assert_status(StatusCode::OK);
    assert!(
        !event_page.body.contains("apply-button"),
        "{}",
        event_page.body
    );
    assert!(
        event_page.body.contains("application period is not open"),
        "{}",
        event_page.body
    );
    // The organising leader applies by the same rules: a notice, no
    // button that the store would refuse.
    let mut alex = app.signed_in("alpha@demo.example").await;
    let leader_page = alex.get(&url(&closed, "")).await;
    assert!(
        !leader_page.body.contains("apply-button"),
        "{}",
        leader_page.body
    );
    assert!(leader_page.body.contains("application period is not open"));
    let page = bea.get(&url(&closed, "/participations/new")).await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("application period is not open"),
        "{}",
        page.body
    );
    let refused = bea.post(&url(&closed, "/participations"), &[]).await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("application period is not open"),
        "{}",
        refused.body
    );
    bea.post(&url(&party, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mut cara = app.signed_in("cara@beta.example").await;
    let full = cara.post(&url(&party, "/participations"), &[]).await;
    full.assert_status(StatusCode::FORBIDDEN);
    assert!(
        full.body.contains("full and has no waiting list"),
        "{}",
        full.body
    );
    let active = app.store.participations(party.id, true).expect("read");
    let pending = app.store.participations(party.id, false).expect("read");
    assert_eq!(
        active.len() + pending.len(),
        1,
        "the refused application stored nothing"
    );
    app.run_jobs();
}

/// A breaker's finding: a leader registered any person id, someone of
/// another club included, and could then export their data.
#[tokio::test]
async fn a_leader_registers_only_people_they_may_see() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    let bea = beta_member(&app, "Bea");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let hidden = alex
        .post(
            &url(&course, "/participations"),
            &[("person_id", &bea.id.to_string())],
        )
        .await;
    hidden.assert_status(StatusCode::NOT_FOUND);
    let form = alex
        .get(&url(
            &course,
            &format!("/participations/new?person_id={}", bea.id),
        ))
        .await;
    form.assert_status(StatusCode::NOT_FOUND);
    assert!(
        app.store
            .participation_of(course.id, bea.id)
            .expect("read")
            .is_none(),
        "nobody registered"
    );

    let tina = app.person("Tina", "Trainer");
    alex.post(
        &url(&course, "/participations"),
        &[("person_id", &tina.id.to_string())],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.store
            .participation_of(course.id, tina.id)
            .expect("read")
            .is_some_and(|p| p.active),
        "a member of his own club is registered, and placed"
    );
}

#[tokio::test]
async fn registering_someone_else_needs_a_write_position_on_the_event() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    let bea = beta_member(&app, "Bea");
    let mut tina = app.signed_in("trainer@demo.example").await;
    let refused = tina
        .post(
            &url(&course, "/participations"),
            &[("person_id", &bea.id.to_string())],
        )
        .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    let form = tina
        .get(&url(
            &course,
            &format!("/participations/new?person_id={}", bea.id),
        ))
        .await;
    form.assert_status(StatusCode::FORBIDDEN);
    assert!(
        app.store
            .participation_of(course.id, bea.id)
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn region_coordinator_approves_a_club_members_application() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    let bea = beta_member(&app, "Bea");
    let mut browser = app.signed_in("bea@beta.example").await;
    browser
        .post(&url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let p = app
        .store
        .participation_of(course.id, bea.id)
        .expect("read")
        .expect("registered");
    let page_url = url(&course, &format!("/participations/{}", p.id));

    // The applicant sees no approve button and may not approve.
    let own = browser.get(&page_url).await;
    assert!(!own.body.contains("id=\"approve-button\""));
    browser
        .post(&format!("{page_url}/approve"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let mut nora = app.signed_in("north@demo.example").await;
    let page = nora.get(&page_url).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("id=\"approve-button\""), "{}", page.body);
    let approved = nora.post(&format!("{page_url}/approve"), &[]).await;
    approved.assert_status(StatusCode::SEE_OTHER);
    let app_row = app
        .store
        .participation(p.id)
        .expect("read")
        .and_then(|e| e.application)
        .expect("application");
    assert!(app_row.approved);

    app.run_jobs();
    let mails = sent_mails(&app);
    assert!(
        mails.iter().any(|m| m.contains("Approval requested")),
        "an approval request went to Club Beta's approvers: {mails:?}"
    );
}

/// The approval request goes out as one job per approver: an address the
/// mail server defers is retried alone, and nobody else gets theirs twice.
#[tokio::test]
async fn a_deferred_approver_does_not_make_the_others_get_the_request_twice() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    let bea = beta_member(&app, "Bea");
    let mut browser = app.signed_in("bea@beta.example").await;
    browser
        .post(&url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // A second approver for Club Beta, whose mail server defers.
    let board = app.child(&app.group("Club Beta"), "ClubBoard");
    app.add_login(&board, "ClubBoard.President", "Pia", "pia@beta.example");
    app.mailer.defer("pia@beta.example");
    // The first run sends the confirmation and splits the request; the
    // second sends the request to each approver.
    app.run_jobs();
    app.run_jobs();
    let requests: Vec<Vec<String>> = app
        .mailer
        .take()
        .into_iter()
        .filter(|m| String::from_utf8_lossy(&m.message).contains("Approval requested"))
        .map(|m| m.envelope.to)
        .collect();
    assert!(!requests.is_empty(), "some approver got the request");
    assert!(
        requests
            .iter()
            .all(|to| to.len() == 1 && to[0] != "pia@beta.example"),
        "{requests:?}"
    );
    let mut once = requests.clone();
    once.sort();
    once.dedup();
    assert_eq!(
        once.len(),
        requests.len(),
        "each approver once: {requests:?}"
    );
    let waiting: Vec<_> = app
        .store
        .jobs_of_person(bea.id, 50)
        .expect("jobs")
        .into_iter()
        .filter(|j| j.kind == "event.participation_mail" && j.finished_at.is_none())
        .collect();
    assert_eq!(
        waiting.len(),
        1,
        "only the deferred address waits: {waiting:?}"
    );
    assert_eq!(waiting[0].attempts, 1);
    assert!(waiting[0].last_error.is_some());
    // Running again before its back-off is over sends nobody anything;
    // after it, the deferred approver alone gets the request.
    app.run_jobs();
    assert!(app.mailer.take().is_empty());
    app.mailer.accept_all();
    app.run_jobs_at(Utc::now() + Duration::minutes(5));
    let retried: Vec<Vec<String>> = app
        .mailer
        .take()
        .into_iter()
        .map(|m| m.envelope.to)
        .collect();
    assert_eq!(retried, [vec!["pia@beta.example".to_owned()]]);
}

#[tokio::test]
async fn participant_cancels_and_the_counts_follow() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let party = event_on(&app, &club, SIMPLE_EVENT, None, Vec::new());
    let bea = beta_member(&app, "Bea");
    let mut browser = app.signed_in("bea@beta.example").await;
    browser
        .post(&url(&party, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.event(party.id).expect("read").expect("event");
    assert_eq!(stored.participant_count, 1);
    let p = app
        .store
        .participation_of(party.id, bea.id)
        .expect("read")
        .expect("registered");
    let cancelled = browser
        .post(
            &url(&party, &format!("/participations/{}/cancel", p.id)),
            &[],
        )
        .await;
    cancelled.assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.store
            .participation_of(party.id, bea.id)
            .expect("read")
            .is_none()
    );
    let stored = app.store.event(party.id).expect("read").expect("event");
    assert_eq!(stored.participant_count, 0);
    app.run_jobs();
    let mails = sent_mails(&app);
    assert!(mails.iter().any(|m| m.contains("cancelled")), "{mails:?}");
}

#[tokio::test]
async fn participant_list_shows_active_and_pending_tabs_to_the_leader() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    beta_member(&app, "Bea");
    let mut bea = app.signed_in("bea@beta.example").await;
    bea.post(&url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let mut alex = app.signed_in("alpha@demo.example").await;
    let list = alex.get(&url(&course, "/participations")).await;
    list.assert_status(StatusCode::OK);
    assert!(list.is_full_page() && list.has_vary_hx_request());
    assert!(!list.body.contains("Bea Tester"));
    let pending = alex
        .get_htmx(&url(&course, "/participations?filter=pending"))
        .await;
    pending.assert_status(StatusCode::OK);
    assert!(!pending.is_full_page());
    assert!(pending.body.contains("id=\"participations-table\""));
    assert!(pending.body.contains("Bea Tester"), "{}", pending.body);

    // An applicant may not see the pending applications of others.
    bea.get(&url(&course, "/participations?filter=pending"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.run_jobs();
}

#[tokio::test]
async fn leader_adds_and_removes_an_event_role() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let party = event_on(&app, &club, SIMPLE_EVENT, None, Vec::new());
    let tina = app.person("Tina", "Trainer");
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.post(
        &url(&party, "/participations"),
        &[("person_id", &tina.id.to_string())],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let p = app
        .store
        .participation_of(party.id, tina.id)
        .expect("read")
        .expect("registered");
    let base = url(&party, &format!("/participations/{}", p.id));
    alex.post(&format!("{base}/roles"), &[("role_type", "cook")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.event(party.id).expect("read").expect("event");
    assert_eq!(stored.teamer_count, 1);
    let p = app
        .store
        .participation_of(party.id, tina.id)
        .expect("read")
        .expect("registered");
    let cook = p
        .roles
        .iter()
        .find(|r| r.role_type == hitcore::event::participation::EventRoleType::Cook)
        .expect("cook role");
    alex.post(&format!("{base}/roles/{}/delete", cook.id), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.event(party.id).expect("read").expect("event");
    assert_eq!(stored.teamer_count, 0);
    alex.post(&format!("{base}/roles"), &[("role_type", "bogus")])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn applicant_chooses_a_second_priority_among_courses_of_the_same_kind() {
    use hitcore::ability::ManageKinds;
    use hitcore::event::kind::EventKindPatch;
    use hitcore::store::QualificationRepo;

    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let patch = EventKindPatch {
        label: Some("Basic course".to_owned()),
        short_name: None,
        general_information: None,
        application_conditions: None,
        minimum_age: None,
        kind_category_id: None,
        qualifications: Vec::new(),
    };
    let kind = app
        .store
        .create_event_kind(&system(ManageKinds), &patch, Utc::now())
        .expect("kind")
        .id;
    let with_kind = |name: &str| {
        let mut e = event_on(&app, &club, COURSE, None, Vec::new());
        let mut fields = e.to_patch();
        fields.name = Some(name.to_owned());
        fields.kind_id = Some(kind);
        fields.priorization = true;
        // The global course list counts an unset visibility as hidden.
        fields.globally_visible = Some(true);
        e = app
            .store
            .update_event(
                &system(hitcore::ability::UpdateEvent(e.id)),
                &fields,
                None,
                Utc::now(),
            )
            .expect("updated");
        e
    };
    let first = with_kind("BLC spring");
    let second = with_kind("BLC autumn");
    let bea = beta_member(&app, "Bea");
    let mut browser = app.signed_in("bea@beta.example").await;
    let form = browser.get(&url(&first, "/participations/new")).await;
    form.assert_status(StatusCode::OK);
    assert!(
        form.body.contains("name=\"priority_2_id\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("BLC autumn"));
    let second_id = second.id.to_string();
    let twice = browser
        .post(
            &url(&first, "/participations"),
            &[("priority_2_id", &second_id), ("priority_3_id", &second_id)],
        )
        .await;
    twice.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        twice.body.contains("must be different courses"),
        "{}",
        twice.body
    );
    browser
        .post(
            &url(&first, "/participations"),
            &[("priority_2_id", &second_id)],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let p = app
        .store
        .participation_of(first.id, bea.id)
        .expect("read")
        .expect("registered");
    let application = app
        .store
        .participation(p.id)
        .expect("read")
        .and_then(|e| e.application)
        .expect("application");
    assert_eq!(application.priority_2_id, Some(second.id));
    // A course that is not offered is refused.
    let mut other = app.signed_in("alpha@demo.example").await;
    other
        .post(
            &url(&first, "/participations"),
            &[("priority_2_id", "999999")],
        )
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    app.run_jobs();
}
