//! Each HTMX route answers with the whole page or only its fragment, and
//! always says `Vary: HX-Request`.

use hitcore::store::RoleRepo;
use poem::http::{Method, StatusCode};

use crate::support::{TestApp, Token};

#[tokio::test]
async fn htmx_routes_answer_with_page_or_fragment() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let role = app.store.roles_of_person(jan.id).expect("roles")[0].clone();
    let (m, j) = (members.id, jan.id);
    // (path, the fragment's root id)
    let routes = [
        (format!("/groups/{m}/people"), "id=\"people-table\""),
        (format!("/groups/{m}/people?q=jan"), "id=\"people-table\""),
        (format!("/groups/{m}/edit"), "id=\"group-form\""),
        (
            format!("/groups/{}/groups/new?type=Committee", club.id),
            "id=\"group-form\"",
        ),
        (
            format!("/groups/new?parent_id={}&type=Committee", club.id),
            "id=\"group-form\"",
        ),
        (format!("/groups/{m}/people/new"), "id=\"person-form\""),
        (format!("/groups/{m}/people/{j}/edit"), "id=\"person-form\""),
        (
            format!("/groups/{m}/roles/new?person_id={j}"),
            "id=\"role-form\"",
        ),
        (
            format!("/groups/{m}/roles/{}/edit", role.id),
            "id=\"role-form\"",
        ),
    ];
    let mut alex = app.signed_in("alpha@demo.example").await;
    for (path, root) in &routes {
        let page = alex.get(path).await;
        page.assert_status(StatusCode::OK);
        assert!(page.is_full_page(), "{path} as a page");
        assert!(page.body.contains(root), "{path} page includes {root}");
        assert!(page.has_vary_hx_request(), "{path} page");

        let fragment = alex.get_htmx(path).await;
        fragment.assert_status(StatusCode::OK);
        assert!(!fragment.is_full_page(), "{path} as a fragment");
        assert!(fragment.body.trim_start().starts_with('<'));
        assert!(fragment.body.contains(root), "{path} fragment is {root}");
        assert!(fragment.has_vary_hx_request(), "{path} fragment");
    }
}

#[tokio::test]
async fn boosted_and_history_restore_requests_get_the_whole_page() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let path = format!("/groups/{}/people", members.id);
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.get("/").await;
    for extra in ["HX-Boosted", "HX-History-Restore-Request"] {
        let resp = app
            .cli
            .get(&path)
            .header("HX-Request", "true")
            .header(extra, "true")
            .header("Cookie", session_cookie(&mut alex).await)
            .send()
            .await;
        let body = resp.0.into_body().into_string().await.expect("body");
        assert!(body.contains("<!doctype html>"), "{extra}");
    }
}

async fn session_cookie(b: &mut crate::support::Browser<'_>) -> String {
    // Signing in again gives a fresh cookie we can copy by hand.
    let page = b.send(Method::GET, "/", false, None, Token::Missing).await;
    assert_eq!(page.status, StatusCode::OK);
    b.cookie_header()
}

#[tokio::test]
async fn layout_sends_the_csrf_token_to_htmx_and_configures_swaps() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get("/").await;
    assert!(page.body.contains("hx-headers='{\"X-CSRF-Token\": \""));
    assert!(page.body.contains("name=\"htmx-config\""));
    assert!(page.body.contains("\"code\":\"422\",\"swap\":true"));
    assert!(page.has_vary_hx_request());
}

#[tokio::test]
async fn errors_of_htmx_requests_are_inline_fragments() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut nora = app.signed_in("north@demo.example").await;
    let jan = app.person("Jan", "Junior");
    let page = nora
        .get_htmx(&format!("/groups/{}/people/{}/edit", members.id, jan.id))
        .await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(!page.is_full_page());
    assert!(page.body.contains("id=\"error-inline\""));
    assert!(page.has_vary_hx_request());
    let missing = nora.get_htmx("/groups/999999/people").await;
    missing.assert_status(StatusCode::NOT_FOUND);
    assert!(missing.body.contains("id=\"error-inline\""));
}
