//! The language switcher (`POST /language`): a visitor's choice is a
//! cookie that wins over `Accept-Language`, a signed-in person's is saved
//! as their language; only the organisation's languages, only with a CSRF
//! token, and back only to our own pages.

use poem::http::{Method, StatusCode, header};

use crate::support::{Page, TestApp, Token};

/// The `Set-Cookie` header that sets the language cookie, if any.
fn language_cookie(page: &Page) -> Option<String> {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hit_lang="))
        .map(str::to_owned)
}

#[tokio::test]
async fn layout_offers_the_organisations_languages_each_in_itself() {
    let app = TestApp::new();
    let page = app.browser().get("/users/sign_in").await;
    page.assert_status(StatusCode::OK);
    let body = &page.body;
    let form = body
        .find("<form class=\"language-form\" method=\"post\" action=\"/language\">")
        .expect("the switcher");
    let form = &body[form..];
    let form = &form[..form.find("</form>").expect("its end")];
    assert!(form.contains("name=\"csrf_token\""), "{form}");
    assert!(
        form.contains("<option value=\"en\" lang=\"en\" selected>English</option>"),
        "{form}"
    );
    assert!(
        form.contains("<option value=\"de\" lang=\"de\">Deutsch</option>"),
        "{form}"
    );
    assert!(form.contains("<label for=\"language-select\">Language</label>"));
}

#[tokio::test]
async fn visitor_choice_is_a_cookie_that_wins_over_accept_language() {
    let app = TestApp::new();
    let mut visitor = app.browser();
    let page = visitor.get("/users/sign_in").await;
    assert!(page.body.contains("<html lang=\"en\">"));

    let page = visitor.post("/language", &[("language", "de")]).await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/");
    let cookie = language_cookie(&page).expect("the language cookie");
    let lower = cookie.to_ascii_lowercase();
    assert!(cookie.starts_with("hit_lang=de;"), "{cookie}");
    assert!(lower.contains("httponly"), "{cookie}");
    assert!(lower.contains("samesite=lax"), "{cookie}");

    let page = visitor.get("/users/sign_in").await;
    assert!(page.body.contains("<html lang=\"de\">"), "{}", page.body);
    assert!(page.body.contains("<h1>Anmelden</h1>"));
    assert!(
        page.body
            .contains("<option value=\"de\" lang=\"de\" selected>")
    );

    // The browser asks for English, the cookie says German: German.
    let resp = app
        .cli
        .get("/users/sign_in")
        .header(header::COOKIE, visitor.cookie_header())
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .send()
        .await;
    let body = resp.0.into_body().into_string().await.expect("body");
    assert!(body.contains("<html lang=\"de\">"), "{body}");

    // And back to English.
    visitor.post("/language", &[("language", "en")]).await;
    let page = visitor.get("/users/sign_in").await;
    assert!(page.body.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn signed_in_switch_saves_the_persons_own_language() {
    let app = TestApp::new();
    let before = app.person("Alex", "Alpha");
    assert_eq!(before.language, "en");
    let mut alex = app.signed_in("alpha@demo.example").await;

    let page = alex.post("/language", &[("language", "de")]).await;
    page.assert_status(StatusCode::SEE_OTHER);
    let after = app.person("Alex", "Alpha");
    assert_eq!(after.language, "de");
    // Nothing else of the person changed.
    assert_eq!(after.email, before.email);
    assert_eq!(after.address, before.address);
    assert_eq!(after.birthday, before.birthday);
    assert_eq!(after.gender, before.gender);

    let home = alex.get("/").await;
    home.assert_status(StatusCode::OK);
    assert!(home.body.contains("<html lang=\"de\">"));
    assert!(
        home.body.contains("Willkommen, Alex Alpha"),
        "{}",
        home.body
    );

    // After signing out the sign-in page stays German (the cookie).
    alex.post("/users/sign_out", &[]).await;
    let page = alex.get("/users/sign_in").await;
    assert!(page.body.contains("<h1>Anmelden</h1>"));
}

#[tokio::test]
async fn a_language_the_organisation_does_not_offer_is_refused() {
    let app = TestApp::new();
    let mut visitor = app.browser();
    visitor.get("/users/sign_in").await;
    let mut alex = app.signed_in("alpha@demo.example").await;
    for fields in [
        vec![("language", "fr")],
        vec![("language", "xx")],
        vec![("language", "")],
        vec![("language", "de; Path=/")],
        vec![],
    ] {
        for b in [&mut visitor, &mut alex] {
            let page = b.post("/language", &fields).await;
            page.assert_status(StatusCode::BAD_REQUEST);
            assert_eq!(language_cookie(&page), None, "{fields:?}");
        }
    }
    assert_eq!(app.person("Alex", "Alpha").language, "en");
}

#[tokio::test]
async fn switching_language_needs_a_csrf_token() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;
    for is_htmx in [false, true] {
        for token in [Token::Missing, Token::Forged] {
            let page = alex
                .send(
                    Method::POST,
                    "/language",
                    is_htmx,
                    Some(&[("language", "de")]),
                    token,
                )
                .await;
            page.assert_status(StatusCode::FORBIDDEN);
            assert_eq!(language_cookie(&page), None);
        }
    }
    assert_eq!(app.person("Alex", "Alpha").language, "en");
}

#[tokio::test]
async fn switching_goes_back_to_our_own_page_only() {
    let app = TestApp::new();
    let mut visitor = app.browser();
    visitor.get("/users/sign_in").await;
    for (referer, back) in [
        (
            "http://hit.test/users/password/new?x=1",
            "/users/password/new?x=1",
        ),
        ("http://hit.test/language", "/"),
        ("https://elsewhere.test/users/sign_in", "/"),
        ("http://hit.test.elsewhere.test/", "/"),
        // Browsers read `/\\host` as `//host`, another site.
        ("http://hit.test/\\elsewhere.test", "/"),
        ("http://hit.test//elsewhere.test", "/"),
        ("not a url", "/"),
    ] {
        let resp = app
            .cli
            .post("/language")
            .header(header::HOST, "hit.test")
            .header(header::REFERER, referer)
            .header(header::COOKIE, visitor.cookie_header())
            .form(&[("language", "de"), ("csrf_token", visitor.csrf_token())])
            .send()
            .await;
        resp.assert_status(StatusCode::SEE_OTHER);
        resp.assert_header(header::LOCATION, back);
    }
}
