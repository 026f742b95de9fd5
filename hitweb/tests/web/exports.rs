//! People exports as jobs, end to end: the form under a list starts a job,
//! the job page shows it and polls it while it runs, a worker writes the
//! file into storage, and only the person who asked downloads it, with
//! only the people and columns they may see.

use chrono::Utc;
use hitcore::GroupId;
use hitcore::ability::ListRange;
use hitcore::export::ExportFormat;
use hitcore::jobs::{JobState, NewJob};
use hitcore::org::RoleKind;
use hitcore::store::JobQueue;
use hitjobs::jobs::PeopleExport;
use poem::http::StatusCode;

use crate::support::{Browser, TestApp, unescape};

/// Starts an export of `group`'s list and runs it; returns the job page's
/// download link.
async fn export(
    app: &TestApp,
    who: &mut Browser<'_>,
    group: GroupId,
    range: &str,
    format: &str,
) -> String {
    let page = who
        .post(
            &format!("/groups/{group}/people/export"),
            &[("range", range), ("kind", "member"), ("format", format)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/job_observations");
    let run = app.run_jobs();
    assert_eq!((run.succeeded, run.failed), (1, 0), "the export ran");
    let jobs = who.get("/job_observations").await;
    jobs.assert_status(StatusCode::OK);
    let body = unescape(&jobs.body);
    let start = body.find("/job_observations/").expect("a job link");
    let link: String = body[start..].chars().take_while(|c| *c != '"').collect();
    assert!(link.ends_with("/download"), "{link}");
    link
}

#[tokio::test]
async fn a_club_leader_exports_the_club_with_juniors_and_nobody_else_downloads_it() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;

    let list = alex
        .get(&format!("/groups/{}/people?range=layer", club.id))
        .await;
    assert!(
        unescape(&list.body).contains("people/export"),
        "the list offers an export"
    );

    let link = export(&app, &mut alex, club.id, "layer", "csv_plain").await;
    let file = alex.get(&link).await;
    file.assert_status(StatusCode::OK);
    assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        file.header("content-disposition")
            .is_some_and(|d| d.contains("attachment"))
    );
    assert!(
        !file.body.starts_with('\u{feff}'),
        "the plain CSV has no BOM"
    );
    assert!(file.body.contains("Jan"), "{}", file.body);
    assert!(
        file.body.contains("Junior"),
        "juniors are the leader's to see"
    );

    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&link).await.assert_status(StatusCode::NOT_FOUND);
    let mut admin = app.signed_in("admin@demo.example").await;
    admin.get(&link).await.assert_status(StatusCode::NOT_FOUND);
    let job_row = link.trim_end_matches("/download");
    tina.get_htmx(job_row)
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_export_from_above_leaves_out_who_is_invisible_from_above() {
    let app = TestApp::new();
    let region = app.group("Region North");
    let mut north = app.signed_in("north@demo.example").await;
    let link = export(&app, &mut north, region.id, "deep", "csv").await;
    let file = north.get(&link).await;
    file.assert_status(StatusCode::OK);
    assert!(
        file.body.starts_with('\u{feff}'),
        "the Excel CSV starts with a BOM"
    );
    assert!(file.body.lines().next().is_some_and(|h| h.contains(';')));
    assert!(
        file.body.contains("Alex"),
        "the club leader is visible from above"
    );
    assert!(!file.body.contains("Junior"), "{}", file.body);
}

/// A board member of the region sees the club's people only through their
/// contact-data permission: the export has those people, with the address
/// columns only.
#[tokio::test]
async fn a_contact_data_viewer_gets_the_address_columns_only() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let board = app.child(&app.group("Region North"), "RegionBoard");
    app.add_login(
        &board,
        "RegionBoard.BoardMember",
        "Rita",
        "reader@demo.example",
    );
    let mut rita = app.signed_in("reader@demo.example").await;
    let link = export(&app, &mut rita, club.id, "group", "csv_plain").await;
    let file = rita.get(&link).await;
    file.assert_status(StatusCode::OK);
    let header = file.body.lines().next().unwrap_or_default().to_lowercase();
    assert!(
        header.contains("town") || header.contains("ort"),
        "{header}"
    );
    for private in [
        "birthday",
        "geburtstag",
        "gender",
        "geschlecht",
        "language",
        "sprache",
    ] {
        assert!(!header.contains(private), "{header}");
    }
    assert!(!file.body.contains("Junior"), "{}", file.body);

    let link = export(&app, &mut rita, club.id, "group", "xlsx").await;
    let file = rita.get(&link).await;
    file.assert_status(StatusCode::OK);
    assert!(file.raw.starts_with(b"PK"), "an xlsx is a zip");
}

#[tokio::test]
async fn the_job_row_polls_while_the_job_waits_and_stops_when_it_is_done() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .post(
            &format!("/groups/{}/people/export", club.id),
            &[("range", "group"), ("format", "vcard")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let jobs = alex.get("/job_observations").await;
    assert!(jobs.is_full_page());
    let body = unescape(&jobs.body);
    let start = body
        .find("hx-get=\"/job_observations/")
        .expect("a polling row")
        + 8;
    let row_url: String = body[start..].chars().take_while(|c| *c != '"').collect();
    let row = alex.get_htmx(&row_url).await;
    row.assert_status(StatusCode::OK);
    assert!(row.body.contains("hx-trigger=\"every"), "{}", row.body);
    assert!(!row.body.contains("/download"));

    app.run_jobs();
    let row = alex.get_htmx(&row_url).await;
    assert!(!row.body.contains("hx-trigger"), "{}", row.body);
    assert!(unescape(&row.body).contains("/download"));
    let file = alex.get(&format!("{row_url}/download")).await;
    file.assert_status(StatusCode::OK);
    assert!(file.body.starts_with("BEGIN:VCARD"), "{}", file.body);
}

#[tokio::test]
async fn exports_are_refused_for_lists_the_person_may_not_see_and_bad_formats() {
    let app = TestApp::new();
    let beta = app.group("Club Beta");
    let alpha = app.group("Club Alpha");
    let board = app.child(&beta, "ClubBoard");
    app.add_login(
        &board,
        "ClubBoard.BoardMember",
        "Bruno",
        "bruno@demo.example",
    );
    let mut bruno = app.signed_in("bruno@demo.example").await;
    let refused = bruno
        .post(
            &format!("/groups/{}/people/export", alpha.id),
            &[("format", "csv")],
        )
        .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let bad = alex
        .post(
            &format!("/groups/{}/people/export", alpha.id),
            &[("format", "pdf")],
        )
        .await;
    bad.assert_status(StatusCode::BAD_REQUEST);
    let count = app.store.open_job_count().expect("count");
    assert_eq!(count, 0, "nothing was enqueued");
}

#[tokio::test]
async fn administrators_see_failed_jobs_of_others_and_retry_them() {
    let app = TestApp::new();
    let alex = app.person("Alex", "Alpha");
    let payload = PeopleExport {
        group_id: GroupId(999_999),
        range: ListRange::Group,
        kind: RoleKind::Member,
        role_type: None,
        text: None,
        format: ExportFormat::Csv,
        lang: "en".to_owned(),
    };
    let now = Utc::now();
    let mut job = NewJob::of(&payload, now).expect("payload").by(alex.id);
    job.max_attempts = 1;
    let id = app
        .store
        .enqueue(&job, now)
        .expect("enqueued")
        .expect("a job");
    let run = app.run_jobs();
    assert_eq!(run.failed, 1);

    let mut admin = app.signed_in("admin@demo.example").await;
    let page = admin.get("/job_observations").await;
    page.assert_status(StatusCode::OK);
    let body = unescape(&page.body);
    assert!(body.contains("/retry"), "{body}");
    let start = body.find("action=\"/job_observations/").expect("a form") + 8;
    let action: String = body[start..].chars().take_while(|c| *c != '"').collect();
    let retried = admin.post(&action, &[]).await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let state = app.store.job(id).expect("read").expect("the job").state();
    assert_eq!(state, JobState::Pending, "it runs again");

    let mut tina = app.signed_in("trainer@demo.example").await;
    let page = tina.get("/job_observations").await;
    assert!(!unescape(&page.body).contains("/retry"));
    tina.post(&action, &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
