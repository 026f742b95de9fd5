//! Participant exports as jobs, end to end: the form under a participant
//! list starts a `participants.export` job, a worker writes the file, and
//! it holds the people columns, event roles and answers the requester may
//! see (section 9.1 with the `index_participations` and
//! `index_full_participations` rows of the event table).

use chrono::Utc;
use hitcore::ability::{CreateParticipation, system};
use hitcore::event::participation::{Answer, NewParticipation};
use hitcore::event::question::NewQuestion;
use hitcore::event::{COURSE, Event};
use hitcore::person::Person;
use hitcore::store::{EventRepo, ParticipationRepo};
use poem::http::StatusCode;

use crate::participations::{beta_member, event_on, url};
use crate::support::{Browser, TestApp, unescape};

fn question(text: &str, admin: bool) -> NewQuestion {
    NewQuestion {
        question: text.to_owned(),
        choices: Vec::new(),
        multiple_choices: false,
        required: false,
        admin,
        visible_role_types: Vec::new(),
    }
}

/// A course in Club Alpha asking "Diet?" (an application question) and
/// "Team notes" (for the organisers only).
fn course(app: &TestApp) -> Event {
    let club = app.group("Club Alpha");
    event_on(
        app,
        &club,
        COURSE,
        None,
        vec![question("Diet?", false), question("Team notes", true)],
    )
}

/// Registers `person` for `event` with an answer to every question:
/// active when `by_self` is false (someone else registered them),
/// pending otherwise.
fn register(app: &TestApp, event: &Event, person: &Person, by_self: bool, answer: &str) {
    let answers = app
        .store
        .questions(event.id)
        .expect("questions")
        .iter()
        .map(|q| Answer {
            question_id: q.id,
            answer: Some(format!("{answer} ({})", q.question)),
        })
        .collect();
    app.store
        .register(
            &system(CreateParticipation {
                event: event.id,
                person: person.id,
                by_self,
            }),
            &NewParticipation {
                event_id: event.id,
                person_id: person.id,
                additional_information: Some("Arrives late".to_owned()),
                answers,
                priority_2_id: None,
                priority_3_id: None,
                by_self,
            },
            &|_| Vec::new(),
            Utc::now().date_naive(),
            Utc::now(),
        )
        .expect("registered");
}

/// Starts the export with `fields`, runs the job and downloads the file.
async fn export(
    app: &TestApp,
    who: &mut Browser<'_>,
    event: &Event,
    fields: &[(&str, &str)],
) -> String {
    let started = who
        .post(&url(event, "/participations/export"), fields)
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(started.location(), "/job_observations");
    let run = app.run_jobs();
    assert_eq!((run.succeeded, run.failed), (1, 0), "the export ran");
    let jobs = unescape(&who.get("/job_observations").await.body);
    let start = jobs.find("/job_observations/").expect("a job link");
    let link: String = jobs[start..].chars().take_while(|c| *c != '"').collect();
    assert!(link.ends_with("/download"), "{link}");
    let file = who.get(&link).await;
    file.assert_status(StatusCode::OK);
    file.body
}

fn header(file: &str) -> Vec<String> {
    file.lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_club_leader_exports_everything_with_roles_and_every_answer() {
    let app = TestApp::new();
    let e = course(&app);
    let bea = beta_member(&app, "Bea");
    register(&app, &e, &bea, false, "Veggie");
    let mut alex = app.signed_in("alpha@demo.example").await;

    let list = alex.get(&url(&e, "/participations")).await;
    list.assert_status(StatusCode::OK);
    assert!(
        list.body.contains("id=\"participant-export\""),
        "the list offers an export"
    );

    let file = export(&app, &mut alex, &e, &[("format", "csv_plain")]).await;
    let header = header(&file);
    for column in [
        "First name",
        "Birthday",
        "Event roles",
        "Diet?",
        "Team notes",
        "Remarks",
        "Registered on",
    ] {
        assert!(
            header.contains(&column.to_owned()),
            "{column} in {header:?}"
        );
    }
    assert!(
        !header.contains(&"Roles".to_owned()),
        "no group roles: {header:?}"
    );
    assert!(file.contains("Bea"), "{file}");
    assert!(file.contains("Participant"), "the event role: {file}");
    assert!(file.contains("Veggie (Diet?)"), "{file}");
    assert!(file.contains("Veggie (Team notes)"), "{file}");
    assert!(file.contains("Arrives late"), "{file}");
}

/// A fellow participant of a course whose list is visible exports the
/// active participants with the address columns, and no answers: no
/// question is visible to their (participant) role.
#[tokio::test]
async fn a_fellow_participant_gets_the_address_columns_without_answers() {
    let app = TestApp::new();
    let e = course(&app);
    let bea = beta_member(&app, "Bea");
    let ben = beta_member(&app, "Ben");
    register(&app, &e, &bea, false, "Veggie");
    register(&app, &e, &ben, false, "Meat");
    let mut b = app.signed_in("bea@beta.example").await;

    let file = export(&app, &mut b, &e, &[("format", "csv_plain")]).await;
    let header = header(&file);
    assert!(header.contains(&"Event roles".to_owned()), "{header:?}");
    assert!(
        !header.contains(&"Birthday".to_owned()),
        "address columns only: {header:?}"
    );
    assert!(!header.contains(&"Diet?".to_owned()), "{header:?}");
    assert!(file.contains("Ben") && file.contains("Bea"), "{file}");
    assert!(!file.contains("Meat"), "no answers: {file}");

    // The pending applications are for the organisers only.
    b.post(&url(&e, "/participations/export"), &[("filter", "pending")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pending_applications_export_for_the_organisers() {
    let app = TestApp::new();
    let e = course(&app);
    let bea = beta_member(&app, "Bea");
    let ben = beta_member(&app, "Ben");
    register(&app, &e, &bea, true, "Veggie");
    register(&app, &e, &ben, false, "Meat");
    let mut alex = app.signed_in("alpha@demo.example").await;

    let pending = export(
        &app,
        &mut alex,
        &e,
        &[("filter", "pending"), ("format", "csv_plain")],
    )
    .await;
    assert!(pending.contains("Bea"), "{pending}");
    assert!(
        !pending.contains("Ben"),
        "the active one is not pending: {pending}"
    );
}

#[tokio::test]
async fn those_who_may_not_list_the_participants_cannot_export_them() {
    let app = TestApp::new();
    let e = course(&app);
    // Tina's group_and_below_full reaches the club's members, not the
    // club itself, where the course is: she sees it, not its list.
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&url(&e, "")).await.assert_status(StatusCode::OK);
    tina.post(&url(&e, "/participations/export"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let mut anonymous = app.browser();
    let page = anonymous
        .post(&url(&e, "/participations/export"), &[])
        .await;
    assert_ne!(page.status, StatusCode::OK);
    assert_eq!(app.run_jobs().succeeded, 0, "no job was queued");
}

#[tokio::test]
async fn only_tabular_formats_are_offered() {
    let app = TestApp::new();
    let e = course(&app);
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.post(&url(&e, "/participations/export"), &[("format", "vcard")])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    let xlsx = alex
        .post(&url(&e, "/participations/export"), &[("format", "xlsx")])
        .await;
    assert_eq!(xlsx.status, StatusCode::SEE_OTHER);
    assert_eq!(app.run_jobs().succeeded, 1);
}
