//! While the database cannot be reached, every request that needs it gets
//! a 503 that says so (page or fragment, with `Retry-After` and the request
//! id), and the same pages work again as soon as it is back.

use std::sync::atomic::Ordering;

use poem::http::StatusCode;

use crate::support::TestApp;

const MESSAGE: &str = "The database is not reachable right now, try again in a moment.";

#[tokio::test]
async fn unreachable_database_is_a_503_page_with_retry_after_and_request_id() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    app.store.is_unavailable.store(true, Ordering::SeqCst);

    let page = alex.get(&format!("/groups/{}", club.id)).await;
    page.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.header("retry-after"), Some("5"));
    assert!(page.is_full_page());
    assert!(page.body.contains(MESSAGE), "{}", page.body);
    assert!(page.body.contains("Request id"), "{}", page.body);
    assert!(!page.body.contains("secret detail"));
    assert!(!page.body.contains("unexpected error"));
}

#[tokio::test]
async fn unreachable_database_is_a_503_fragment_for_htmx() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    app.store.is_unavailable.store(true, Ordering::SeqCst);

    let inline = alex
        .get_htmx(&format!("/groups/{}/people", members.id))
        .await;
    inline.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(inline.header("retry-after"), Some("5"));
    assert!(!inline.is_full_page());
    assert!(inline.body.contains(MESSAGE), "{}", inline.body);
    assert!(inline.body.contains("Request id"), "{}", inline.body);
    assert!(!inline.body.contains("secret detail"));
}

#[tokio::test]
async fn sign_in_during_an_outage_is_a_503_not_a_wrong_password() {
    let app = TestApp::new();
    let mut visitor = app.browser();
    visitor
        .get("/users/sign_in")
        .await
        .assert_status(StatusCode::OK);
    app.store.is_unavailable.store(true, Ordering::SeqCst);

    let page = visitor
        .post(
            "/users/sign_in",
            &[
                ("email", "alpha@demo.example"),
                ("password", crate::support::DEMO_PASSWORD),
            ],
        )
        .await;
    page.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains(MESSAGE), "{}", page.body);
}

#[tokio::test]
async fn pages_work_again_once_the_database_is_back() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let path = format!("/groups/{}", club.id);
    let mut alex = app.signed_in("alpha@demo.example").await;

    app.store.is_unavailable.store(true, Ordering::SeqCst);
    alex.get(&path)
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    app.store.is_unavailable.store(false, Ordering::SeqCst);

    let page = alex.get(&path).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Club Alpha"));
    assert_eq!(page.header("retry-after"), None);
}
