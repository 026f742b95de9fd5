//! Protections every response or request gets: the body size limit, the
//! security headers with a Content-Security-Policy the templates keep to,
//! and no hints about people the viewer may not see.

use poem::Body;
use poem::http::StatusCode;

use crate::support::{TestApp, unescape};

#[tokio::test]
async fn oversized_form_is_refused_with_413_and_not_echoed() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let huge = "A".repeat(2 * 1024 * 1024);
    let path = format!("/groups/{}/people", members.id);

    let page = alex
        .post(
            &path,
            &[("first_name", &huge), ("role_type", "ClubMembers.Active")],
        )
        .await;
    page.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.len() < 20_000, "{} bytes", page.body.len());
    assert!(page.body.contains("at most 1 MiB"));

    let fragment = alex
        .post_htmx(
            &path,
            &[("first_name", &huge), ("role_type", "ClubMembers.Active")],
        )
        .await;
    fragment.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!fragment.is_full_page());
    assert!(fragment.body.contains("id=\"error-inline\""));
}

#[tokio::test]
async fn declared_oversized_body_is_refused_before_it_is_read() {
    let app = TestApp::new();
    let resp = app
        .cli
        .post("/users/sign_in")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", (50 * 1024 * 1024).to_string())
        .body(Body::from_string("email=a".to_owned()))
        .send()
        .await;
    resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn form_of_normal_size_still_works() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let long_text = "note ".repeat(10_000);
    let page = alex
        .post(
            &format!("/groups/{}/people", members.id),
            &[
                ("first_name", "Sized"),
                ("last_name", "Fine"),
                ("additional_information", &long_text),
                ("role_type", "ClubMembers.Active"),
            ],
        )
        .await;
    page.assert_status(StatusCode::SEE_OTHER);
}

const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut anonymous = app.browser();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let pages = [
        anonymous.get("/users/sign_in").await,
        anonymous.get("/").await,
        alex.get(&format!("/groups/{}", club.id)).await,
        alex.get_htmx(&format!("/groups/{}/people", club.id)).await,
        alex.get("/no/such/page").await,
        alex.get("/assets/app.css").await,
        alex.get("/assets/nothing.js").await,
    ];
    for page in &pages {
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(page.header(name), Some(value), "{name} ({})", page.status);
        }
        let csp = page.header("content-security-policy").unwrap_or("");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains("unsafe-eval"), "{csp}");
    }
}

/// The policy allows no inline code, so no template may rely on any: no
/// `<script>` without `src`, no `<style>`, no `style=` and no `on...=`
/// event handler attributes.
#[test]
fn templates_have_no_inline_scripts_styles_or_handlers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut found = Vec::new();
    scan(&dir, &mut found);
    assert!(
        found.is_empty(),
        "inline code the CSP would block: {found:#?}"
    );
}

fn scan(dir: &std::path::Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("templates dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            scan(&path, found);
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("template");
        let lower = text.to_lowercase();
        for (i, _) in lower.match_indices("<script") {
            let tag = &lower[i..lower[i..].find('>').map_or(lower.len(), |e| i + e)];
            if !tag.contains(" src=") {
                found.push(format!("{}: {tag}", path.display()));
            }
        }
        if lower.contains("<style") || lower.contains(" style=") {
            found.push(format!("{}: inline style", path.display()));
        }
        for (i, _) in lower.match_indices(" on") {
            let name: String = lower[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if name.len() > 2 && lower[i + 1 + name.len()..].starts_with('=') {
                found.push(format!("{}: {name}=", path.display()));
            }
        }
    }
}

#[tokio::test]
async fn archive_asks_for_confirmation_through_htmx() {
    let app = TestApp::new();
    let sponsors = app.child(&app.group("Club Alpha"), "ClubContacts");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/groups/{}", sponsors.id)).await;
    page.assert_status(StatusCode::OK);
    let body = unescape(&page.body);
    let archive = format!("hx-post=\"/groups/{}/archive\"", sponsors.id);
    assert!(body.contains(&archive), "{body}");
    assert!(body.contains("hx-confirm=\"Archive this group?"), "{body}");

    let archived = alex
        .post_htmx(&format!("/groups/{}/archive", sponsors.id), &[])
        .await;
    archived.assert_status(StatusCode::OK);
    assert_eq!(
        archived.header("hx-redirect"),
        Some(format!("/groups/{}", sponsors.id).as_str())
    );
}

#[tokio::test]
async fn layout_keeps_htmx_from_injecting_styles_or_evaluating_code() {
    let app = TestApp::new();
    let page = app.browser().get("/users/sign_in").await;
    assert!(page.body.contains("\"includeIndicatorStyles\":false"));
    assert!(page.body.contains("\"allowEval\":false"));
}

#[tokio::test]
async fn person_link_is_refused_to_those_who_may_not_see_the_person() {
    let app = TestApp::new();
    let beta_members = app.child(&app.group("Club Beta"), "ClubMembers");
    app.add_login(
        &beta_members,
        "ClubMembers.Active",
        "Bea",
        "bea@beta.example",
    );
    let jan = app.person("Jan", "Junior");
    let mut bea = app.signed_in("bea@beta.example").await;

    let refused = bea.get(&format!("/people/{}", jan.id)).await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(refused.header("location").is_none());
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    assert!(!refused.body.contains(&format!("/groups/{}", members.id)));

    bea.get("/people/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let own = bea
        .get(&format!("/people/{}", app.person("Bea", "Tester").id))
        .await;
    own.assert_status(StatusCode::SEE_OTHER);
}
