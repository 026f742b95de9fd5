//! User input is escaped in every template that prints it.

use hitcore::person::PersonPatch;
use hitcore::store::RoleRepo;
use poem::http::StatusCode;

use crate::support::TestApp;

const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;";

#[tokio::test]
async fn script_in_names_and_labels_is_shown_as_text() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let evil = app.add_person(
        &members,
        "ClubMembers.Active",
        PersonPatch {
            first_name: Some(SCRIPT.to_owned()),
            last_name: Some("Evil".to_owned()),
            additional_information: Some(SCRIPT.to_owned()),
            ..PersonPatch::default()
        },
    );
    let mut alex = app.signed_in("alpha@demo.example").await;
    let pid = evil.id.to_string();
    let row = alex
        .post_htmx(
            &format!("/groups/{}/roles", members.id),
            &[
                ("person_id", &pid),
                ("role_type", "ClubMembers.Active"),
                ("label", SCRIPT),
                ("inline", "1"),
            ],
        )
        .await;
    row.assert_status(StatusCode::OK);
    let role = app
        .store
        .roles_of_person(evil.id)
        .expect("roles")
        .into_iter()
        .find(|r| r.label.is_some())
        .expect("labelled role");

    let pages = [
        format!("/groups/{}/people", members.id),
        format!("/groups/{}/people?q=evil", members.id),
        format!("/groups/{}/people/{}", members.id, evil.id),
        format!("/groups/{}/people/{}/edit", members.id, evil.id),
        format!("/groups/{}/roles/{}/edit", members.id, role.id),
    ];
    for path in &pages {
        let page = alex.get(path).await;
        page.assert_status(StatusCode::OK);
        assert!(!page.body.contains(SCRIPT), "{path} prints raw input");
        assert!(page.body.contains(ESCAPED), "{path} shows the escaped text");
    }
    assert!(!row.body.contains(SCRIPT));
    assert!(row.body.contains(ESCAPED));

    let invalid = alex
        .post(
            &format!("/groups/{}/people", members.id),
            &[
                ("first_name", SCRIPT),
                ("email", "broken"),
                ("role_type", "ClubMembers.Active"),
            ],
        )
        .await;
    invalid.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!invalid.body.contains(SCRIPT));
    assert!(invalid.body.contains(ESCAPED));
}

#[tokio::test]
async fn script_in_group_fields_is_shown_as_text() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.post(
        &format!("/groups/{}", club.id),
        &[("name", SCRIPT), ("description", SCRIPT), ("town", SCRIPT)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    for path in [
        format!("/groups/{}", club.id),
        format!("/groups/{}/edit", club.id),
        format!("/groups/{}/people", club.id),
        "/".to_owned(),
    ] {
        let page = alex.get(&path).await;
        assert!(!page.body.contains(SCRIPT), "{path} prints raw input");
        assert!(page.body.contains(ESCAPED), "{path} shows the escaped text");
    }
}

#[tokio::test]
async fn script_in_the_sign_in_email_is_shown_as_text() {
    let app = TestApp::new();
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    let page = b
        .post(
            "/users/sign_in",
            &[("email", SCRIPT), ("password", "whatever-password")],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains(SCRIPT));
    assert!(page.body.contains(ESCAPED));
}
