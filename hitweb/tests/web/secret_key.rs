//! `HIT_SECRET_KEY`: web processes that share it accept each other's CSRF
//! tokens (a form served by one, submitted through the proxy to another);
//! with keys of their own they refuse them.

use hitweb::config::SecretKey;
use poem::http::StatusCode;

use crate::support::{DEMO_PASSWORD, TestApp};

fn key(digit: &str) -> SecretKey {
    SecretKey::from_hex(&digit.repeat(64)).expect("a valid key")
}

#[tokio::test]
async fn a_form_token_from_one_process_is_accepted_by_another_with_the_same_key() {
    let a = TestApp::builder().with_secret_key(key("a")).build();
    let b = TestApp::builder().with_secret_key(key("a")).build();
    let mut on_a = a.browser();
    on_a.get("/users/sign_in")
        .await
        .assert_status(StatusCode::OK);

    let mut on_b = on_a.on(&b);
    let page = on_b
        .post(
            "/users/sign_in",
            &[("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)],
        )
        .await;

    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    on_b.get("/").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_form_token_from_a_process_with_another_key_is_refused() {
    let a = TestApp::builder().with_secret_key(key("a")).build();
    let b = TestApp::builder().with_secret_key(key("b")).build();
    let mut on_a = a.browser();
    on_a.get("/users/sign_in")
        .await
        .assert_status(StatusCode::OK);

    let page = on_a
        .on(&b)
        .post(
            "/users/sign_in",
            &[("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)],
        )
        .await;

    page.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_a_key_each_process_refuses_the_tokens_of_the_others() {
    let a = TestApp::new();
    let b = TestApp::new();
    let mut on_a = a.browser();
    on_a.get("/users/sign_in")
        .await
        .assert_status(StatusCode::OK);

    let page = on_a
        .on(&b)
        .post(
            "/users/sign_in",
            &[("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)],
        )
        .await;

    page.assert_status(StatusCode::FORBIDDEN);
}
