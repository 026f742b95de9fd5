//! Events: the group's event list (upcoming, by year, as iCalendar), the
//! event form with its dates and question, the event page, who may see
//! and change an event (the event table of section 4.3), and the global
//! event and course lists.

use chrono::{Datelike, Utc};
use hitcore::ability::{CreateEvent, system};
use hitcore::event::question::NewQuestion;
use hitcore::event::{COURSE, DateInput, Event, EventPatch, NewEvent, validated_dates};
use hitcore::group::Group;
use hitcore::store::{EventRepo, GroupRepo, PersonRepo};
use hitcore::validate::Violations;
use poem::http::StatusCode;

use crate::support::{TestApp, unescape};

/// Next year, so that the dates are upcoming whenever the test runs.
fn next_year() -> i32 {
    Utc::now().year() + 1
}

/// An event created by the system in `group`, on 1 March next year.
fn event(app: &TestApp, group: &Group, name: &str, globally_visible: Option<bool>) -> Event {
    shared_event(app, &[group], name, globally_visible)
}

/// [`event`] on several groups.
fn shared_event(
    app: &TestApp,
    groups: &[&Group],
    name: &str,
    globally_visible: Option<bool>,
) -> Event {
    let mut ids: Vec<_> = groups.iter().map(|g| g.id).collect();
    ids.sort();
    let start = format!("{}-03-01T10:00", next_year());
    let mut v = Violations::default();
    let dates = validated_dates(
        &[DateInput {
            start_at: Some(start),
            ..DateInput::default()
        }],
        &mut v,
    );
    let fields = EventPatch {
        name: Some(name.to_owned()),
        globally_visible,
        dates,
        ..EventPatch::defaults_for("Event")
    }
    .validated("Event", v)
    .expect("valid fields");
    app.store
        .create_event(
            &system(CreateEvent(ids.clone())),
            &NewEvent {
                event_type: "Event".into(),
                group_ids: ids,
                fields,
                questions: vec![
                    NewQuestion::from_form("T-shirt size?", "S, M, L", false, false, false)
                        .expect("question"),
                ],
                creator_id: None,
            },
            Utc::now(),
        )
        .expect("event created")
}

/// A member without any write permission in `club`'s layer, signed in.
async fn member_of<'a>(app: &'a TestApp, club: &Group, email: &str) -> crate::support::Browser<'a> {
    let members = app.child(club, "ClubMembers");
    app.add_login(&members, "ClubMembers.Active", "Mo", email);
    app.signed_in(email).await
}

fn event_url(group: &Group, e: &Event) -> String {
    format!("/groups/{}/events/{}", group.id, e.id)
}

#[tokio::test]
async fn leader_creates_an_event_with_two_dates_and_a_question() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let form = alex
        .get(&format!("/groups/{}/events/new?type=Event", club.id))
        .await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("id=\"event-form\""));
    assert!(form.body.contains("name=\"csrf_token\""));
    assert!(form.body.contains("name=\"dates[2][start_at]\""));
    let y = next_year();
    let (first, second) = (format!("{y}-05-02T09:00"), format!("{y}-05-09T09:00"));
    let created = alex
        .post(
            &format!("/groups/{}/events", club.id),
            &[
                ("event_type", "Event"),
                ("name", "Summer party"),
                ("dates[0][label]", "Build-up"),
                ("dates[0][start_at]", &first),
                ("dates[0][finish_at]", ""),
                ("dates[1][start_at]", &second),
                ("dates[1][finish_at]", &format!("{y}-05-09T23:00")),
                ("dates[2][start_at]", ""),
                ("questions[0][question]", "Diet?"),
                ("questions[0][choices]", "meat, veggie\\, vegan"),
                ("questions[0][required]", "1"),
                ("globally_visible", "1"),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    let stored = app
        .store
        .events_of_group(club.id, hitcore::event::EventWhen::Year(y))
        .expect("events")
        .pop()
        .expect("one event");
    assert_eq!(created.location(), event_url(&club, &stored));
    assert_eq!(stored.dates.len(), 2);
    let alex_id = app
        .store
        .person_by_email("alpha@demo.example")
        .expect("read")
        .map(|p| p.id);
    assert_eq!(stored.creator_id, alex_id);
    let questions = app.store.questions(stored.id).expect("questions");
    assert_eq!(questions[0].choices, ["meat", "veggie, vegan"]);
    assert!(questions[0].required);

    let show = alex.get(&event_url(&club, &stored)).await;
    show.assert_status(StatusCode::OK);
    assert!(show.body.contains("Summer party"));
    assert!(show.body.contains(&format!("Build-up: {y}-05-02 09:00")));
    assert!(show.body.contains("Diet?"));
    assert!(show.body.contains("id=\"event-edit\""));

    let index = alex.get(&format!("/groups/{}/events", club.id)).await;
    index.assert_status(StatusCode::OK);
    assert!(index.is_full_page() && index.has_vary_hx_request());
    assert!(index.body.contains("Summer party"));
    let fragment = alex.get_htmx(&format!("/groups/{}/events", club.id)).await;
    assert!(!fragment.is_full_page() && fragment.has_vary_hx_request());
    assert!(fragment.body.contains("id=\"events-table\""));
    let by_year = alex
        .get(&format!("/groups/{}/events?year={y}", club.id))
        .await;
    assert!(by_year.body.contains("Summer party"));
    let other_year = alex
        .get(&format!("/groups/{}/events?year={}", club.id, y + 1))
        .await;
    assert!(!other_year.body.contains("Summer party"));
}

#[tokio::test]
async fn invalid_event_re_renders_the_form_with_messages() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .post_htmx(
            &format!("/groups/{}/events", club.id),
            &[
                ("event_type", "Event::Course"),
                ("name", " "),
                ("dates[0][start_at]", "2030-05-02T09:00"),
                ("dates[0][finish_at]", "2030-05-01T09:00"),
                ("application_opening_at", "2030-04-01"),
                ("application_closing_at", "2030-03-01"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.is_full_page());
    assert!(page.body.contains("id=\"event-form\""));
    let text = unescape(&page.body);
    for message in [
        "is required",
        "must not be before the start",
        "must not be before the opening date",
    ] {
        assert!(text.contains(message), "{message} missing in {text}");
    }
    let none = alex
        .post(
            &format!("/groups/{}/events", club.id),
            &[("event_type", "Event"), ("name", "No dates")],
        )
        .await;
    none.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("needs at least one date"));
    let course = alex
        .get(&format!(
            "/groups/{}/events/new?type=Event::Course",
            club.id
        ))
        .await;
    course.assert_status(StatusCode::OK);
    assert!(course.body.contains("name=\"kind_id\""));
    assert!(
        course
            .body
            .contains("name=\"event_type\" value=\"Event::Course\"")
    );
    let types = alex
        .get(&format!("/groups/{}/events/new?type=Event::Camp", club.id))
        .await;
    types.assert_status(StatusCode::BAD_REQUEST);
}

/// A breaker's finding: an unknown kind id was a 500 (a foreign key
/// failing in the store) instead of a message on the form.
/// A newcomer's finding: a too-long date label or description was
/// refused without a message on the page.
#[tokio::test]
async fn every_refused_event_field_has_its_message() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let start = format!("{}-05-02T09:00", next_year());
    let long = "x".repeat(70_000);
    let label = "y".repeat(300);
    for (field, value) in [
        ("description", long.as_str()),
        ("application_conditions", long.as_str()),
        ("location", long.as_str()),
        ("dates[0][label]", label.as_str()),
        ("dates[0][location]", label.as_str()),
    ] {
        let mut fields = event_fields("Too long", &start, &[]);
        fields.push((field, value));
        let refused = alex
            .post(&format!("/groups/{}/events", club.id), &fields)
            .await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("is too long"), "{field}: no message");
    }
}

#[tokio::test]
async fn unknown_event_kinds_are_refused_on_the_form() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let before = app
        .store
        .events_of_group(club.id, hitcore::event::EventWhen::Year(2030))
        .expect("events")
        .len();
    for kind in ["9999", "0", "-1"] {
        let page = alex
            .post(
                &format!("/groups/{}/events", club.id),
                &[
                    ("event_type", "Event::Course"),
                    ("name", "Course"),
                    ("kind_id", kind),
                    ("dates[0][start_at]", "2030-05-02T09:00"),
                ],
            )
            .await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("id=\"event-form\""), "kind {kind}");
    }
    assert_eq!(
        app.store
            .events_of_group(club.id, hitcore::event::EventWhen::Year(2030))
            .expect("events")
            .len(),
        before,
        "nothing stored"
    );
}

#[tokio::test]
async fn member_without_write_role_sees_layer_events_but_cannot_change_them() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let hidden = event(&app, &club, "Board meeting", Some(false));
    let mut jan = member_of(&app, &club, "member@alpha.example").await;
    // Jan has a role in Club Alpha's layer: the "any user" column.
    jan.get(&event_url(&club, &hidden))
        .await
        .assert_status(StatusCode::OK);
    jan.get(&format!("/groups/{}/events/new", club.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    jan.get(&format!("{}/edit", event_url(&club, &hidden)))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    jan.post(&event_url(&club, &hidden), &[("name", "Mine")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    jan.post(&format!("{}/delete", event_url(&club, &hidden)), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    jan.post(
        &format!("{}/questions", event_url(&club, &hidden)),
        &[("question", "Mine?")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.store.questions(hidden.id).expect("questions").len(), 1);
}

#[tokio::test]
async fn hidden_events_of_other_layers_need_the_shared_token() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let hidden = event(&app, &club, "Board meeting", Some(false));
    let public = event(&app, &club, "Open day", Some(true));
    let mut pia = member_of(&app, &app.group("Club Beta"), "member@beta.example").await;
    pia.get(&event_url(&club, &hidden))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    pia.get(&format!("{}?token=wrong", event_url(&club, &hidden)))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let shared = format!(
        "{}?token={}",
        event_url(&club, &hidden),
        hidden.shared_access_token
    );
    pia.get(&shared).await.assert_status(StatusCode::OK);
    pia.get(&event_url(&club, &public))
        .await
        .assert_status(StatusCode::OK);
    let index = pia.get(&format!("/groups/{}/events", club.id)).await;
    assert!(index.body.contains("Open day") && !index.body.contains("Board meeting"));
    // An event shown under a group it does not belong to is not found.
    let other = app.group("Club Beta");
    pia.get(&event_url(&other, &public))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn leader_edits_and_deletes_an_event() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let e = event(&app, &club, "Old name", None);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let form = alex.get(&format!("{}/edit", event_url(&club, &e))).await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("value=\"Old name\""));
    let y = next_year();
    let saved = alex
        .post(
            &event_url(&club, &e),
            &[
                ("name", "New name"),
                ("dates[0][start_at]", &format!("{y}-06-01T10:00")),
                ("maximum_participants", "20"),
            ],
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.event(e.id).expect("read").expect("exists");
    assert_eq!(stored.name, "New name");
    assert_eq!(stored.maximum_participants, Some(20));
    let bad = alex
        .post(
            &event_url(&club, &e),
            &[("name", "X"), ("maximum_participants", "many")],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is invalid"));
    let deleted = alex
        .post(&format!("{}/delete", event_url(&club, &e)), &[])
        .await;
    deleted.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.store.event(e.id).expect("read"), None);
}

/// A breaker's finding: deleting a course deleted the applications that
/// named it first, also those whose participation the market had moved to
/// another course. Such a course is now kept until they are gone.
#[tokio::test]
async fn a_course_with_applications_is_not_deleted() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = crate::participations::event_on(&app, &club, COURSE, None, Vec::new());
    crate::participations::beta_member(&app, "Bea");
    let mut bea = app.signed_in("bea@beta.example").await;
    bea.post(&crate::participations::url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let refused = alex
        .post(&crate::participations::url(&course, "/delete"), &[])
        .await;
    refused.assert_status(StatusCode::CONFLICT);
    assert!(
        unescape(&refused.body).contains("Remove them in the application market first"),
        "{}",
        refused.body
    );
    assert!(app.store.event(course.id).expect("read").is_some(), "kept");
}

#[tokio::test]
async fn questions_are_added_and_removed_on_the_event_page() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let e = event(&app, &club, "Camp", None);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let url = event_url(&club, &e);
    let added = alex
        .post(
            &format!("{url}/questions"),
            &[("question", "Allergies?"), ("admin", "1")],
        )
        .await;
    added.assert_status(StatusCode::SEE_OTHER);
    let questions = app.store.questions(e.id).expect("questions");
    assert_eq!(questions.len(), 2);
    assert!(questions[1].admin);
    let bad = alex
        .post(
            &format!("{url}/questions"),
            &[("question", "Pick"), ("choices", "a, a")],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("lists a choice twice"));
    let removed = alex
        .post(&format!("{url}/questions/{}/delete", questions[0].id), &[])
        .await;
    removed.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.store.questions(e.id).expect("questions").len(), 1);
}

#[tokio::test]
async fn calendar_export_lists_visible_upcoming_events() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    event(&app, &club, "Party; with, commas", Some(true));
    event(&app, &club, "Secret", Some(false));
    let mut pia = member_of(&app, &app.group("Club Beta"), "member@beta.example").await;
    let ics = pia.get(&format!("/groups/{}/events.ics", club.id)).await;
    ics.assert_status(StatusCode::OK);
    assert!(
        ics.header("content-type")
            .is_some_and(|t| t.starts_with("text/calendar"))
    );
    assert!(ics.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.body.contains("SUMMARY:Party\\; with\\, commas\r\n"));
    assert!(
        ics.body
            .contains(&format!("DTSTART:{}0301T100000", next_year()))
    );
    assert!(!ics.body.contains("Secret"));
    // Links are absolute: a calendar program cannot resolve a path.
    let unfolded = ics.body.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!(
            "URL:http://127.0.0.1:3000/groups/{}/events/",
            club.id
        )),
        "{unfolded}"
    );
    assert!(unfolded.contains("@127.0.0.1\r\n"), "{unfolded}");
}

#[tokio::test]
async fn global_lists_show_what_the_viewer_may_see() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    event(&app, &club, "Open day", Some(true));
    event(&app, &club, "Board meeting", Some(false));
    let mut pia = member_of(&app, &app.group("Club Beta"), "member@beta.example").await;
    let list = pia.get("/list_events").await;
    list.assert_status(StatusCode::OK);
    assert!(list.body.contains("Open day") && !list.body.contains("Board meeting"));
    let mut alex = app.signed_in("alpha@demo.example").await;
    let own_layer = alex.get("/list_events").await;
    assert!(own_layer.body.contains("Board meeting"));
    let courses = alex.get("/list_courses?kind_id=&from=2020-01-01").await;
    courses.assert_status(StatusCode::OK);
    assert!(!courses.body.contains("Open day"));
    alex.get("/list_courses?from=yesterday")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn event_names_are_escaped() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let e = event(&app, &club, "<script>alert(1)</script>", Some(true));
    let mut alex = app.signed_in("alpha@demo.example").await;
    for url in [event_url(&club, &e), format!("/groups/{}/events", club.id)] {
        let page = alex.get(&url).await;
        assert!(!page.body.contains("<script>alert(1)"), "{url}");
        assert!(page.body.contains("&lt;script&gt;"), "{url}");
    }
}

/// Posts a file to the attachment form of `e` as `b`; `with_token` puts
/// the CSRF token first, as the form does.
async fn attach(
    app: &TestApp,
    b: &crate::support::Browser<'_>,
    url: &str,
    (name, bytes, visibility): (&str, &[u8], &str),
    with_token: bool,
) -> (StatusCode, String, poem::http::HeaderMap) {
    use poem::test::{TestForm, TestFormField};
    let file = TestFormField::bytes(bytes.to_vec())
        .name("file")
        .filename(name)
        .content_type("application/octet-stream");
    let mut form = TestForm::new();
    if with_token {
        form = form.text("csrf_token", b.csrf_token().to_owned());
    }
    let form = form.text("visibility", visibility).field(file);
    let resp = app
        .cli
        .post(format!("{url}/attachments"))
        .header(poem::http::header::COOKIE, b.cookie_header())
        .multipart(form)
        .send()
        .await;
    fetched(resp).await
}

async fn fetched(resp: poem::test::TestResponse) -> (StatusCode, String, poem::http::HeaderMap) {
    let status = resp.0.status();
    let headers = resp.0.headers().clone();
    let body = resp.0.into_body().into_string().await.expect("body");
    (status, body, headers)
}

#[tokio::test]
async fn attachments_are_served_by_their_visibility() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let e = event(&app, &club, "Open day", Some(true));
    let url = event_url(&club, &e);
    let alex = app.signed_in("alpha@demo.example").await;
    let (status, _, _) = attach(&app, &alex, &url, ("plan.pdf", b"%PDF-1", "global"), true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = attach(&app, &alex, &url, ("team.pdf", b"%PDF-2", "team"), true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let stored = app.store.attachments(e.id).expect("attachments");
    let (plan, team) = (&stored[0], &stored[1]);
    assert_eq!(
        (plan.filename.as_str(), team.filename.as_str()),
        ("plan.pdf", "team.pdf")
    );

    let mut pia = member_of(&app, &app.group("Club Beta"), "member@beta.example").await;
    let page = pia.get(&url).await;
    assert!(page.body.contains("plan.pdf") && !page.body.contains("team.pdf"));
    assert!(!page.body.contains("id=\"attachment-form\""));
    let download = pia.get(&format!("{url}/attachments/{}", plan.id)).await;
    download.assert_status(StatusCode::OK);
    assert_eq!(download.body, "%PDF-1");
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"plan.pdf\"")
    );
    pia.get(&format!("{url}/attachments/{}", team.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let (status, _, _) = attach(&app, &pia, &url, ("mine.pdf", b"x", "global"), true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mut alex = alex;
    alex.get(&format!("{url}/attachments/{}", team.id))
        .await
        .assert_status(StatusCode::OK);
    let removed = alex
        .post(&format!("{url}/attachments/{}/delete", team.id), &[])
        .await;
    removed.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.store.attachments(e.id).expect("attachments").len(), 1);
}

#[tokio::test]
async fn refused_uploads_say_why() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let e = event(&app, &club, "Open day", Some(true));
    let url = event_url(&club, &e);
    let alex = app.signed_in("alpha@demo.example").await;
    let (status, body, _) = attach(&app, &alex, &url, ("tool.exe", b"MZ", "team"), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is not an allowed file type"), "{body}");
    let (status, body, _) = attach(&app, &alex, &url, ("empty.pdf", b"", "team"), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is required"));
    // A newcomer's finding: a body declared larger than 10 MB got the
    // generic 413 page naming the 1 MiB form limit.
    let big = vec![b'%'; 11 * 1024 * 1024];
    let (status, body, _) = attach(&app, &alex, &url, ("big.pdf", &big, "team"), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is larger than 10 MB"), "{body}");
    let (status, _, _) = attach(&app, &alex, &url, ("plan.pdf", b"%PDF", "team"), false).await;
    assert_ne!(status, StatusCode::SEE_OTHER);
    assert!(app.store.attachments(e.id).expect("attachments").is_empty());
}

/// The form's ticked groups, by id, as the `group_ids` fields.
fn event_fields<'a>(name: &'a str, start: &'a str, groups: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("event_type", "Event"),
        ("name", name),
        ("dates[0][start_at]", start),
    ];
    fields.extend(groups.iter().map(|g| ("group_ids", *g)));
    fields
}

#[tokio::test]
async fn an_event_is_shared_by_groups_of_the_same_type() {
    // The clubs are layers of their own: only the root user may create
    // events on both.
    let app = TestApp::builder().with_root("admin@demo.example").build();
    let (alpha, beta) = (app.group("Club Alpha"), app.group("Club Beta"));
    let beta_id = beta.id.to_string();
    let y = next_year();
    let start = format!("{y}-06-01T10:00");

    // The club leader may create events on their own club only: no choice
    // is offered, and a forged one is refused with nothing stored.
    let mut alex = app.signed_in("alpha@demo.example").await;
    let form = alex
        .get(&format!("/groups/{}/events/new?type=Event", alpha.id))
        .await;
    assert!(!form.body.contains("id=\"event-groups\""), "{}", form.body);
    let forged = alex
        .post(
            &format!("/groups/{}/events", alpha.id),
            &event_fields("Forged", &start, &[&beta_id]),
        )
        .await;
    forged.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.body.contains("is invalid"), "{}", forged.body);
    // This test's events only: the demo federation has its own.
    let listed = |g: &Group| {
        let mut events = app
            .store
            .events_of_group(g.id, hitcore::event::EventWhen::Year(y))
            .expect("events");
        events.retain(|e| e.name.starts_with("Joint") || e.name == "Forged");
        events
    };
    assert!(listed(&alpha).is_empty() && listed(&beta).is_empty());

    // The root user puts one event on both clubs.
    let mut admin = app.signed_in("admin@demo.example").await;
    let form = admin
        .get(&format!("/groups/{}/events/new?type=Event", alpha.id))
        .await;
    assert!(form.body.contains("id=\"event-groups\""), "{}", form.body);
    assert!(form.body.contains(&format!("value=\"{beta_id}\"")));
    admin
        .post(
            &format!("/groups/{}/events", alpha.id),
            &event_fields("Joint camp", &start, &[&beta_id]),
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let shared = listed(&alpha).pop().expect("on Club Alpha");
    assert_eq!(listed(&beta), std::slice::from_ref(&shared));
    let mut both = vec![alpha.id, beta.id];
    both.sort();
    assert_eq!(shared.group_ids, both);
    admin
        .get(&event_url(&beta, &shared))
        .await
        .assert_status(StatusCode::OK);

    // The club leader edits it: Club Beta stays, shown but not changeable.
    let edit = alex
        .get(&format!("{}/edit", event_url(&alpha, &shared)))
        .await;
    edit.assert_status(StatusCode::OK);
    assert!(edit.body.contains("id=\"event-groups\""), "{}", edit.body);
    assert!(
        edit.body
            .contains(&format!("value=\"{beta_id}\" checked disabled")),
        "{}",
        edit.body
    );
    alex.post(
        &event_url(&alpha, &shared),
        &event_fields("Joint camp, renamed", &start, &[]),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let renamed = app.store.event(shared.id).expect("read").expect("exists");
    assert_eq!(renamed.name, "Joint camp, renamed");
    assert_eq!(renamed.group_ids, both);

    // The root user takes Club Beta off again.
    admin
        .post(
            &event_url(&alpha, &shared),
            &event_fields("Joint camp, renamed", &start, &[]),
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(listed(&beta).is_empty());
    assert_eq!(listed(&alpha).len(), 1);
    admin
        .get(&event_url(&beta, &shared))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// A breaker's findings: a deleted group blocked every later change of an
/// event's groups, the global list linked through it (a 404), and a
/// leader of one organising group deleted a shared event for all.
#[tokio::test]
async fn shared_events_keep_a_deleted_group_and_need_every_organiser_to_delete() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let first = app.add_group(&members, "ClubMembers", "First sub");
    let second = app.add_group(&members, "ClubMembers", "Second sub");
    let e = shared_event(&app, &[&first, &second], "Two subs", Some(true));
    app.store
        .delete_group(
            &system(hitcore::ability::DestroyGroup(first.id)),
            Utc::now(),
        )
        .expect("deleted");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let start = format!("{}-03-01T10:00", next_year());
    let members_id = members.id.to_string();
    alex.post(
        &event_url(&second, &e),
        &event_fields("Two subs", &start, &[&members_id]),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let mut expected = vec![first.id, second.id, members.id];
    expected.sort();
    let stored = app.store.event(e.id).expect("read").expect("exists");
    assert_eq!(stored.group_ids, expected, "the deleted group stays");
    let list = unescape(&alex.get("/list_events").await.body);
    assert!(!list.contains(&event_url(&first, &e)), "{list}");
    let live = [&members, &second].map(|g| format!("{}\"", event_url(g, &e)));
    assert!(live.iter().any(|url| list.contains(url)), "{list}");

    let beta_members = app.child(&app.group("Club Beta"), "ClubMembers");
    let joint = shared_event(&app, &[&members, &beta_members], "Joint", Some(true));
    alex.post(&format!("{}/delete", event_url(&members, &joint)), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(app.store.event(joint.id).expect("read").is_some());
    let own = shared_event(&app, &[&members, &second], "Own", Some(true));
    alex.post(&format!("{}/delete", event_url(&members, &own)), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.event(own.id).expect("read").is_none());
}

#[tokio::test]
async fn the_contact_is_chosen_by_address_among_people_the_editor_sees_in_full() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let beta_members = app.child(&app.group("Club Beta"), "ClubMembers");
    let bea = app.add_login(
        &beta_members,
        "ClubMembers.Active",
        "Bea",
        "bea@beta.example",
    );
    let alex_id = app
        .store
        .person_by_email("alpha@demo.example")
        .expect("read")
        .expect("alex")
        .id;
    let mut alex = app.signed_in("alpha@demo.example").await;
    let y = next_year();
    let start = format!("{y}-07-01T10:00");
    let post = |name: &'static str, contact: &'static str| {
        let mut fields = event_fields(name, &start, &[]);
        fields.push(("contact_email", contact));
        fields
    };

    // Someone the leader may not see in full, or nobody: refused.
    for contact in ["bea@beta.example", "nobody@nowhere.example"] {
        let f = post("Refused", contact);
        let refused = alex.post(&format!("/groups/{}/events", club.id), &f).await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .body
                .contains("names nobody whose full details you may see"),
            "{}",
            refused.body
        );
    }
    let f = post("With contact", "alpha@demo.example");
    alex.post(&format!("/groups/{}/events", club.id), &f)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mut events = app
        .store
        .events_of_group(club.id, hitcore::event::EventWhen::Year(y))
        .expect("events");
    events.retain(|e| e.name == "With contact" || e.name == "Refused");
    assert_eq!(events.len(), 1, "the refused ones stored nothing");
    let e = events.remove(0);
    assert_eq!(e.contact_id, Some(alex_id));

    // Editing shows the address and keeps it.
    let edit = alex.get(&format!("{}/edit", event_url(&club, &e))).await;
    assert!(
        unescape(&edit.body).contains("value=\"alpha@demo.example\""),
        "{}",
        edit.body
    );
    let f = post("With contact, renamed", "alpha@demo.example");
    alex.post(&event_url(&club, &e), &f)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.event(e.id).expect("read").expect("exists");
    assert_eq!(stored.contact_id, Some(alex_id));

    // A contact the editor may not see in full is named, not shown, and
    // stays when the field is left blank.
    let mut patch = stored.to_patch();
    patch.contact_id = Some(bea.id);
    app.store
        .update_event(
            &system(hitcore::ability::UpdateEvent(e.id)),
            &patch,
            None,
            Utc::now(),
        )
        .expect("updated");
    let edit = alex.get(&format!("{}/edit", event_url(&club, &e))).await;
    assert!(
        edit.body.contains("id=\"event-contact-kept\""),
        "{}",
        edit.body
    );
    assert!(
        !unescape(&edit.body).contains("bea@beta.example"),
        "{}",
        edit.body
    );
    let f = post("Kept contact", "");
    alex.post(&event_url(&club, &e), &f)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let kept = app.store.event(e.id).expect("read").expect("exists");
    assert_eq!(
        (kept.name.as_str(), kept.contact_id),
        ("Kept contact", Some(bea.id))
    );

    // A breaker's finding: a contact without an address, whom the editor
    // does see in full, was dropped by a blank field. They are named and
    // kept too; a request without the field keeps any contact.
    let junior = app.add_person(
        &app.child(&club, "ClubMembers"),
        "ClubMembers.Active",
        hitcore::person::PersonPatch {
            first_name: Some("Jo".into()),
            last_name: Some("Junior".into()),
            ..hitcore::person::PersonPatch::default()
        },
    );
    let mut patch = kept.to_patch();
    patch.contact_id = Some(junior.id);
    app.store
        .update_event(
            &system(hitcore::ability::UpdateEvent(e.id)),
            &patch,
            None,
            Utc::now(),
        )
        .expect("updated");
    let edit = alex.get(&format!("{}/edit", event_url(&club, &e))).await;
    assert!(
        edit.body.contains("id=\"event-contact-kept\""),
        "{}",
        edit.body
    );
    let f = post("Kept contact", "");
    alex.post(&event_url(&club, &e), &f)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let f = event_fields("Kept contact", &start, &[]);
    alex.post(&event_url(&club, &e), &f)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let kept = app.store.event(e.id).expect("read").expect("exists");
    assert_eq!(kept.contact_id, Some(junior.id));
}
