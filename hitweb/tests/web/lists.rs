//! The people list's parameters: filters that combine, and page numbers
//! that are blank, invalid or past the end.

use hitcore::person::PersonPatch;
use poem::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn kind_and_role_type_filters_intersect() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let base = format!("/groups/{}/people", members.id);
    let mut alex = app.signed_in("alpha@demo.example").await;

    let passive_juniors = alex
        .get_htmx(&format!("{base}?kind=passive&role_type=ClubMembers.Junior"))
        .await;
    passive_juniors.assert_status(StatusCode::OK);
    assert!(!passive_juniors.body.contains("Jan Junior"));
    assert!(passive_juniors.body.contains("No people match"));

    let member_juniors = alex
        .get_htmx(&format!("{base}?kind=member&role_type=ClubMembers.Junior"))
        .await;
    assert!(member_juniors.body.contains("Jan Junior"));
    assert!(!member_juniors.body.contains("Tina Trainer"));

    // Without a kind, the role type stands alone, whatever its kind.
    let passive = alex
        .get(&format!("{base}?role_type=ClubMembers.Passive"))
        .await;
    passive.assert_status(StatusCode::OK);
    assert!(passive.body.contains("Passive member"));
    assert!(!passive.body.contains("Jan Junior"));
    assert!(passive.body.contains("<option value=\"passive\" selected>"));
}

fn add_zulus(app: &TestApp, group: &hitcore::group::Group, n: usize) {
    for i in 0..n {
        app.add_person(
            group,
            "ClubMembers.Active",
            PersonPatch {
                first_name: Some(format!("Zed{i:02}")),
                last_name: Some("Zulu".to_owned()),
                ..PersonPatch::default()
            },
        );
    }
}

#[tokio::test]
async fn page_past_the_end_shows_the_last_page() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    add_zulus(&app, &members, 60);
    let mut alex = app.signed_in("alpha@demo.example").await;
    for page in ["3", "4294967295", "99999999999999999999999"] {
        let resp = alex
            .get(&format!("/groups/{}/people?q=zulu&page={page}", members.id))
            .await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(resp.body.matches("id=\"person-row-").count(), 10, "{page}");
        assert!(resp.body.contains("Page 2 of 2"), "{page}");
        assert!(!resp.body.contains("No people match"), "{page}");
    }
}

#[tokio::test]
async fn blank_or_invalid_page_is_the_first_page() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    add_zulus(&app, &members, 60);
    let mut alex = app.signed_in("alpha@demo.example").await;
    for page in ["", "0", "-3", "two", "%20"] {
        let resp = alex
            .get_htmx(&format!("/groups/{}/people?q=zulu&page={page}", members.id))
            .await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(
            resp.body.matches("id=\"person-row-").count(),
            50,
            "{page:?}"
        );
        assert!(resp.body.contains("Page 1 of 2"), "{page:?}");
    }
}
