//! Signing in and out, lock-out, own password.

use poem::http::StatusCode;

use crate::support::{DEMO_PASSWORD, TestApp};

#[tokio::test]
async fn anonymous_page_request_redirects_to_sign_in() {
    let app = TestApp::new();
    let mut b = app.browser();
    for path in ["/", "/groups/1", "/users/edit", "/people/1"] {
        let page = b.get(path).await;
        page.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/users/sign_in", "{path}");
    }
    let page = b.get_htmx("/groups/1").await;
    assert_eq!(page.header("HX-Redirect"), Some("/users/sign_in"));
}

#[tokio::test]
async fn sign_in_sets_a_safe_session_cookie() {
    let app = TestApp::new();
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    let page = b
        .post(
            "/users/sign_in",
            &[("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)],
        )
        .await;
    page.assert_status(StatusCode::SEE_OTHER);
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hit_session="))
        .expect("session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"));
    let home = b.get("/").await;
    home.assert_status(StatusCode::OK);
    assert!(home.body.contains("Alex Alpha"));
}

#[tokio::test]
async fn failed_sign_in_does_not_tell_whether_the_email_exists() {
    let app = TestApp::new();
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    let unknown = b
        .post(
            "/users/sign_in",
            &[
                ("email", "nobody@demo.example"),
                ("password", "whatever-password"),
            ],
        )
        .await;
    let wrong = b
        .post(
            "/users/sign_in",
            &[
                ("email", "alpha@demo.example"),
                ("password", "whatever-password"),
            ],
        )
        .await;
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = |body: &str| {
        body.split("role=\"alert\">")
            .nth(1)
            .map(|s| s[..60].to_owned())
    };
    assert_eq!(message(&unknown.body), message(&wrong.body));
    assert!(message(&wrong.body).is_some());
}

#[tokio::test]
async fn five_failed_sign_ins_lock_the_account() {
    let app = TestApp::new();
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    let wrong = [
        ("email", "alpha@demo.example"),
        ("password", "not-the-password"),
    ];
    for _ in 0..5 {
        b.post("/users/sign_in", &wrong)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let right = [("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)];
    let page = b.post("/users/sign_in", &right).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b.get("/").await.status == StatusCode::SEE_OTHER);

    // Another account is not affected.
    let other = [
        ("email", "trainer@demo.example"),
        ("password", DEMO_PASSWORD),
    ];
    b.post("/users/sign_in", &other)
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn four_failures_then_the_right_password_signs_in() {
    let app = TestApp::new();
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    let wrong = [
        ("email", "alpha@demo.example"),
        ("password", "not-the-password"),
    ];
    for _ in 0..4 {
        b.post("/users/sign_in", &wrong).await;
    }
    let right = [("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)];
    b.post("/users/sign_in", &right)
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_out_ends_the_session_in_the_database() {
    let app = TestApp::new();
    let mut b = app.signed_in("alpha@demo.example").await;
    let page = b.post("/users/sign_out", &[]).await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/users/sign_in");
    let signed_out = b.get("/").await;
    signed_out.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn old_session_cookie_stops_working_after_sign_out() {
    let app = TestApp::new();
    let mut b = app.signed_in("alpha@demo.example").await;
    let mut copy = b.twin();
    copy.get("/").await.assert_status(StatusCode::OK);
    b.post("/users/sign_out", &[]).await;
    copy.get("/").await.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signed_in_person_skips_the_sign_in_page() {
    let app = TestApp::new();
    let mut b = app.signed_in("alpha@demo.example").await;
    let page = b.get("/users/sign_in").await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/");
}

#[tokio::test]
async fn own_password_change_needs_the_current_password() {
    let app = TestApp::new();
    let mut b = app.signed_in("trainer@demo.example").await;
    b.get("/users/edit").await.assert_status(StatusCode::OK);

    let wrong_current = b
        .post(
            "/users/edit",
            &[
                ("current_password", "not-the-password"),
                ("password", "a brand new password"),
                ("password_confirmation", "a brand new password"),
            ],
        )
        .await;
    wrong_current.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_current.body.contains("current password is wrong"));

    let too_short = b
        .post(
            "/users/edit",
            &[
                ("current_password", DEMO_PASSWORD),
                ("password", "short"),
                ("password_confirmation", "short"),
            ],
        )
        .await;
    too_short.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_short.body.contains("12 to 128"));

    let ok = b
        .post(
            "/users/edit",
            &[
                ("current_password", DEMO_PASSWORD),
                ("password", "a brand new password"),
                ("password_confirmation", "a brand new password"),
            ],
        )
        .await;
    ok.assert_status(StatusCode::SEE_OTHER);

    let mut again = app.browser();
    again.get("/users/sign_in").await;
    again
        .post(
            "/users/sign_in",
            &[
                ("email", "trainer@demo.example"),
                ("password", "a brand new password"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn german_visitors_get_the_german_sign_in_page() {
    let app = TestApp::new();
    let page = app
        .cli
        .get("/users/sign_in")
        .header("Accept-Language", "de-CH, de;q=0.9, en;q=0.5")
        .send()
        .await;
    let body = page.0.into_body().into_string().await.expect("body");
    assert!(body.contains("Anmelden"), "{body}");
    assert!(body.contains("lang=\"de\""));
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let app = TestApp::builder().with_secure_cookies().build();
    let mut b = app.browser();
    let page = b.get("/users/sign_in").await;
    let csrf = page.header("set-cookie").unwrap_or("").to_owned();
    assert!(csrf.contains("Secure"), "{csrf}");
    let page = b
        .post(
            "/users/sign_in",
            &[("email", "alpha@demo.example"), ("password", DEMO_PASSWORD)],
        )
        .await;
    let session = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hit_session="))
        .expect("session cookie")
        .to_owned();
    assert!(session.contains("Secure"));
    assert!(session.contains("HttpOnly"));
}

// Regression: a changed password left every other session signed in, so a
// stolen session survived the victim's password change.
#[tokio::test]
async fn password_change_ends_the_other_sessions_but_not_this_one() {
    let app = TestApp::new();
    let mut here = app.signed_in("trainer@demo.example").await;
    let mut elsewhere = app.signed_in("trainer@demo.example").await;
    elsewhere.get("/").await.assert_status(StatusCode::OK);
    here.post(
        "/users/edit",
        &[
            ("current_password", DEMO_PASSWORD),
            ("password", "a brand new password"),
            ("password_confirmation", "a brand new password"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    here.get("/").await.assert_status(StatusCode::OK);
    let gone = elsewhere.get("/").await;
    gone.assert_status(StatusCode::SEE_OTHER);
    assert!(gone.location().contains("/users/sign_in"));
}
