//! Switching the language with the form at the foot of every page: as a
//! visitor (a cookie, stronger than the browser's English
//! `Accept-Language`) and as a signed-in person (saved with the person, so
//! it holds on the next sign-in).

use crate::harness::{DEMO_PASSWORD, Session};

/// Picks `language` in the switcher and submits it.
async fn switch_to(s: &Session, language: &str) {
    s.find("#language-select")
        .await
        .select_by_value(language)
        .await
        .expect("a language of the switcher");
    s.find(".language-form button[type=submit]")
        .await
        .click()
        .await
        .expect("the switch button");
}

/// The `lang` of the page shown.
async fn page_lang(s: &Session) -> String {
    let lang = s.js("return document.documentElement.lang;").await;
    lang.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn visitor_and_person_switch_language() {
    let Some(s) = Session::start().await else {
        return;
    };
    // A visitor whose browser asks for English switches to German and
    // stays on the page.
    s.goto("/users/password/new").await;
    assert_eq!(page_lang(&s).await, "en");
    switch_to(&s, "de").await;
    s.wait_until("a German page", async |c| {
        c.execute("return document.documentElement.lang;", Vec::new())
            .await
            .is_ok_and(|v| v == "de")
    })
    .await;
    assert_eq!(s.path().await, "/users/password/new");
    s.goto("/users/sign_in").await;
    assert_eq!(s.text("main h1").await, "Anmelden");
    assert_eq!(s.text("label[for=language-select]").await, "Sprache");
    s.screenshot("sign-in-de-1280").await;

    // Signed in, the person's own language counts (Alex's is English) ...
    s.sign_in("alpha@demo.example", DEMO_PASSWORD).await;
    assert_eq!(s.text("main h1").await, "Welcome, Alex Alpha");

    // ... until they switch: then it is saved with them.
    switch_to(&s, "de").await;
    s.wait_for_text("main h1", "Willkommen, Alex Alpha").await;
    s.find("form[action='/users/sign_out'] button")
        .await
        .click()
        .await
        .expect("signing out");
    s.wait_for_path("/users/sign_in").await;
    s.client
        .delete_all_cookies()
        .await
        .expect("a browser without cookies");
    s.sign_in("alpha@demo.example", DEMO_PASSWORD).await;
    assert_eq!(s.text("main h1").await, "Willkommen, Alex Alpha");
    assert_eq!(page_lang(&s).await, "de");

    // And back.
    switch_to(&s, "en").await;
    s.wait_for_text("main h1", "Welcome, Alex Alpha").await;
    s.finish().await;
}
