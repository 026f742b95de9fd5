//! What the web server reports: a 5xx answer and a panic while handling a
//! request reach Sentry (the real client, sending to an endpoint this test
//! binary starts) with the route template and the request id, and without
//! the people's data, the query string, cookies or the error text; the
//! request metrics carry route templates, never paths, and pass
//! `promtool check metrics`.
//!
//! Sentry's hub and the metrics recorder are global: the first test here
//! sets them up for the whole binary, so other tests' 5xx answers reach
//! the endpoint too, and are held to the same rules.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use hitjobs::telemetry::testing::{
    TEST_ENVIRONMENT, TestSentry, promtool, promtool_check, tag, test_recorder, test_sentry,
};
use poem::http::StatusCode;
use serde_json::Value;

use crate::support::{Page, TestApp};

/// The request id the 500 page shows.
fn request_id(page: &Page) -> String {
    let start = page.body.find("<code>").expect("the request id is shown") + "<code>".len();
    let len = page.body[start..].find("</code>").expect("closed");
    page.body[start..start + len].to_owned()
}

/// Waits, off the runtime, for the event of `request` that `wanted` takes.
async fn event_of(sentry: &'static TestSentry, request: &str, wanted: fn(&Value) -> bool) -> Value {
    let request = request.to_owned();
    tokio::task::spawn_blocking(move || {
        sentry.wait_for_event(&format!("for request {request}"), |e| {
            tag(e, "request.id") == Some(request.as_str()) && wanted(e)
        })
    })
    .await
    .expect("the wait ran")
}

/// Every name, nickname and email of the seeded people.
fn personal_data(app: &TestApp) -> Vec<String> {
    use hitcore::store::PersonRepo;
    let count = app.store.person_count().expect("a count");
    let ids: Vec<hitcore::PersonId> = (1..=i64::try_from(count).expect("few") + 10)
        .map(hitcore::PersonId)
        .collect();
    let people = app.store.people(&ids).expect("the people");
    assert!(people.len() >= 5, "the demo has people: {}", people.len());
    people
        .into_iter()
        .flat_map(|p| [p.first_name, p.last_name, p.nickname, p.email])
        .flatten()
        .filter(|v| v.len() >= 3)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Fails the test if anything the endpoint received holds one of
/// `secrets`.
fn assert_nothing_leaked(sentry: &TestSentry, secrets: &[String]) {
    let raw: Vec<u8> = sentry.raw_requests().concat();
    let raw = String::from_utf8_lossy(&raw);
    // The host name says where the process runs.
    assert!(
        !raw.contains("\"server_name\""),
        "the host name was sent: {raw}"
    );
    for secret in secrets {
        assert!(
            !raw.contains(secret.as_str()),
            "`{secret}` was sent to Sentry"
        );
    }
}

#[tokio::test]
async fn a_500_reaches_sentry_with_route_and_request_id_and_nothing_personal() {
    let sentry = test_sentry("hitweb");
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    app.store.fails_people_list.store(true, Ordering::SeqCst);

    let page = alex
        .get(&format!("/groups/{}/people?q=Sommerfest", members.id))
        .await;

    page.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let id = request_id(&page);
    let event = event_of(sentry, &id, |e| e.get("exception").is_none()).await;
    assert_eq!(tag(&event, "http.route"), Some("/groups/:group_id/people"));
    assert_eq!(tag(&event, "http.method"), Some("GET"));
    assert_eq!(tag(&event, "http.status"), Some("500"));
    assert_eq!(tag(&event, "service"), Some("hitweb"));
    assert_eq!(
        event["message"],
        "GET /groups/:group_id/people answered 500"
    );
    assert_eq!(event["release"], hitjobs::telemetry::RELEASE);
    assert_eq!(event["environment"], TEST_ENVIRONMENT);
    let mut secrets = personal_data(&app);
    secrets.extend(
        [
            "disk on fire",
            "secret detail",
            "Sommerfest",
            "hit_session",
            "hit_csrf",
        ]
        .map(String::from),
    );
    secrets.push(format!("/groups/{}/people", members.id));
    assert_nothing_leaked(sentry, &secrets);
}

#[tokio::test]
async fn a_panic_answers_500_and_reaches_sentry_once_with_route_and_request_id() {
    let sentry = test_sentry("hitweb");
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    app.store.panics_people_list.store(true, Ordering::SeqCst);

    let page = alex.get(&format!("/groups/{}/people", members.id)).await;

    page.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.body.contains("Request id"), "{}", page.body);
    assert!(!page.body.contains("list of people broke"), "{}", page.body);
    let id = request_id(&page);
    let event = event_of(sentry, &id, |e| e.get("exception").is_some()).await;
    assert_eq!(tag(&event, "http.route"), Some("/groups/:group_id/people"));
    assert_eq!(tag(&event, "http.method"), Some("GET"));
    let exception = &event["exception"]["values"][0];
    assert_eq!(exception["type"], "panic");
    assert_eq!(exception["value"], "the list of people broke");
    // The panic is the report; the 500 it became is not sent again.
    let of_request: Vec<Value> = sentry
        .events()
        .into_iter()
        .filter(|e| tag(e, "request.id") == Some(id.as_str()))
        .collect();
    assert_eq!(of_request.len(), 1, "{of_request:#?}");
    assert_nothing_leaked(sentry, &personal_data(&app));

    // The server goes on serving.
    app.store.panics_people_list.store(false, Ordering::SeqCst);
    alex.get(&format!("/groups/{}/people", members.id))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn request_metrics_carry_route_templates_and_pass_promtool() {
    let handle = test_recorder();
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;

    alex.get(&format!("/groups/{}", club.id))
        .await
        .assert_status(StatusCode::OK);
    alex.get("/no/such/page")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Any token is a method to Poem: a made-up one must not add series.
    let made_up = poem::http::Method::from_bytes(b"XMETH12345").expect("a token");
    alex.send(
        made_up,
        "/healthz",
        false,
        None,
        crate::support::Token::Missing,
    )
    .await;
    let text = handle.render();
    assert!(!text.contains("XMETH12345"), "{text}");
    assert!(text.contains(r#"method="OTHER""#), "{text}");

    let group_page = text
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                r#"hit_http_requests_total{method="GET",route="/groups/:group_id",status="200"} "#,
            )
        })
        .unwrap_or_else(|| panic!("no count of the group page in\n{text}"));
    assert!(group_page.parse::<f64>().expect("a number") >= 1.0);
    assert!(
        text.contains(r#"hit_http_request_duration_seconds_bucket{method="GET",route="/groups/:group_id",le="0.005"}"#),
        "{text}"
    );
    assert!(text.contains(r#"route="-",status="404""#), "{text}");
    assert!(!text.contains(&format!("/groups/{}", club.id)), "{text}");
    assert!(!text.contains("/no/such/page"), "{text}");
    assert!(
        text.contains("# TYPE hit_http_request_duration_seconds histogram"),
        "{text}"
    );

    if let Some(promtool) = promtool() {
        let out = promtool_check(&promtool, &text);
        assert!(
            out.status.success(),
            "promtool check metrics: {}\n{}{}\n{text}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
