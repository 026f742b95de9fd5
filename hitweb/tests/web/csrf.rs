//! Every unsafe request needs a CSRF token that verifies.

use poem::http::{Method, StatusCode};

use crate::support::{TestApp, Token};

#[tokio::test]
async fn every_kind_of_post_and_delete_is_refused_without_a_valid_token() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let m = members.id;
    let j = jan.id;
    let cases: Vec<(Method, String, bool)> = vec![
        (Method::POST, "/users/sign_out".into(), false),
        (Method::POST, "/users/edit".into(), false),
        (Method::POST, "/groups".into(), false),
        (Method::POST, format!("/groups/{m}"), false),
        (Method::PATCH, format!("/groups/{m}"), true),
        (Method::DELETE, format!("/groups/{m}"), true),
        (Method::POST, format!("/groups/{m}/delete"), false),
        (Method::POST, format!("/groups/{m}/archive"), false),
        (Method::POST, format!("/groups/{m}/move"), false),
        (Method::POST, format!("/groups/{m}/people"), false),
        (Method::POST, format!("/groups/{m}/people/{j}"), false),
        (Method::PATCH, format!("/groups/{m}/people/{j}"), true),
        (
            Method::POST,
            format!("/groups/{m}/people/{j}/additional_emails"),
            true,
        ),
        (
            Method::POST,
            format!("/groups/{m}/people/{j}/phone_numbers"),
            true,
        ),
        (
            Method::DELETE,
            format!("/groups/{m}/people/{j}/contacts/1"),
            true,
        ),
        (
            Method::POST,
            format!("/groups/{m}/people/{j}/contacts/1/delete"),
            false,
        ),
        (Method::POST, format!("/groups/{m}/roles"), true),
        (Method::POST, format!("/groups/{m}/roles/1"), false),
        (Method::DELETE, format!("/groups/{m}/roles/1"), true),
        (Method::POST, format!("/groups/{m}/roles/1/delete"), false),
    ];
    let mut alex = app.signed_in("alpha@demo.example").await;
    for (method, path, is_htmx) in &cases {
        for token in [Token::Missing, Token::Forged] {
            let page = alex
                .send(
                    method.clone(),
                    path,
                    *is_htmx,
                    Some(&[("name", "x")]),
                    token,
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{method} {path}");
        }
    }
    // The session survived all that and a valid token still works.
    alex.post("/users/sign_out", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_is_refused_without_a_token() {
    let app = TestApp::new();
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    let fields = [
        ("email", "alpha@demo.example"),
        ("password", crate::support::DEMO_PASSWORD),
    ];
    let page = b
        .send(
            Method::POST,
            "/users/sign_in",
            false,
            Some(&fields),
            Token::Missing,
        )
        .await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(page.body.contains("form has expired"));
}

#[tokio::test]
async fn token_in_the_htmx_header_is_accepted() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .send(
            Method::PATCH,
            &format!("/groups/{}", members.id),
            true,
            Some(&[("name", "Members")]),
            Token::Valid,
        )
        .await;
    page.assert_status(StatusCode::OK);
}
