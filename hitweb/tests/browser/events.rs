//! The events issue's done flow at a browser: a club leader creates a
//! course with two dates and a question; one participant fills its only
//! place; a member of another club applies, answering the question, and
//! lands on the waiting list; the region coordinator approves; the club
//! leader raises the maximum, assigns the applicant in the market and,
//! the course being over, marks them qualified; the qualification with
//! its finish date shows on the member's page.
//!
//! The course's dates lie in the past (it is qualified right away) while
//! its application period is open today, which the rules allow. Each
//! step is screenshotted as `events-<n>-<step>.png`.

use chrono::{Datelike, Duration, Utc};
use fantoccini::Locator;

use crate::harness::{DEMO_PASSWORD, Session};

const ALPHA: &str = "alpha@demo.example";
const NORTH: &str = "north@demo.example";
const TRAINER: &str = "trainer@demo.example";

/// Follows the link with exactly this text inside `scope` (a CSS selector).
async fn follow(s: &Session, scope: &str, text: &str) {
    let scope = s.find(scope).await;
    scope
        .find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("no link {text:?}: {e}"))
        .click()
        .await
        .expect("following the link");
}

/// Sets a form field's value by script: date and time inputs take their
/// value in ISO form whatever the browser's locale shows.
async fn set_value(s: &Session, css: &str, value: &str) {
    s.find(css).await;
    let script = format!(
        "const f = document.querySelector({css:?}); f.value = {value:?}; \
         f.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
    );
    s.js(&script).await;
}

/// Ticks a checkbox unless it is ticked.
async fn tick(s: &Session, css: &str) {
    let script =
        format!("const f = document.querySelector({css:?}); f.checked = true; return true;");
    s.find(css).await;
    s.js(&script).await;
}

/// Signs out by forgetting the session cookie, then signs in as `email`.
async fn switch_to(s: &Session, email: &str) {
    s.client.delete_all_cookies().await.expect("no cookies");
    s.sign_in(email, DEMO_PASSWORD).await;
}

/// Clicks the element matching `css`.
async fn click(s: &Session, css: &str) {
    s.find(css).await.click().await.expect("a click");
}

/// The path of the page after a form was sent from `before`.
async fn wait_to_leave(s: &Session, before: &str) -> String {
    s.wait_until("the next page", async |c| {
        c.current_url()
            .await
            .is_ok_and(|u| u.path() != before.split('?').next().unwrap_or(before))
    })
    .await;
    s.path().await
}

/// A member of Club Beta with an email, as the region coordinator finds
/// them in the club's members list: their email and page.
async fn beta_member(s: &Session) -> (String, String) {
    s.goto("/").await;
    follow(s, "main .roles", "Region North").await;
    s.wait_for_text("main h1", "Region North").await;
    follow(s, ".with-sidebar .link-list", "Club Beta").await;
    s.wait_for_text("main h1", "Club Beta").await;
    follow(s, ".with-sidebar .link-list", "Members").await;
    s.wait_for_text("main h1", "Members").await;
    follow(s, "main .card-header .actions", "People").await;
    s.find("#people-table").await;
    let found = s
        .js(
            "for (const row of document.querySelectorAll('#people-table tbody tr')) { \
               const mail = row.querySelector('a[href^=\"mailto:\"]'); \
               if (mail) { return [mail.textContent.trim(), \
                 row.querySelector('td a').getAttribute('href')]; } } return null;",
        )
        .await;
    let pair = found.as_array().expect("a Club Beta member with an email");
    let text = |i: usize| pair[i].as_str().expect("a text").to_owned();
    (text(0), text(1))
}

#[tokio::test]
async fn a_course_from_creation_to_the_qualification_on_the_members_page() {
    let Some(s) = Session::start().await else {
        return;
    };
    let today = Utc::now().date_naive();
    let day = |d: i64| (today + Duration::days(d)).format("%Y-%m-%d").to_string();

    // 1. Alex creates the course in his club: two past dates, a question,
    // one place, applications open from yesterday for ten days.
    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    follow(&s, "main .roles", "Club Alpha").await;
    s.wait_for_text("main h1", "Club Alpha").await;
    let club = s.path().await;
    s.goto(&format!("{club}/events/new?type=Event::Course"))
        .await;
    s.fill("#event-name", "Leader course autumn").await;
    let kind = s
        .js(
            "const o = [...document.querySelectorAll('#event-kind_id option')] \
               .find(o => o.textContent.includes('Basic leader course')); \
             document.querySelector('#event-kind_id').value = o.value; return o.value;",
        )
        .await;
    assert!(kind.as_str().is_some_and(|k| !k.is_empty()), "the BLC kind");
    set_value(
        &s,
        "[name='dates[0][start_at]']",
        &format!("{}T09:00", day(-10)),
    )
    .await;
    set_value(
        &s,
        "[name='dates[0][finish_at]']",
        &format!("{}T17:00", day(-10)),
    )
    .await;
    set_value(
        &s,
        "[name='dates[1][start_at]']",
        &format!("{}T09:00", day(-9)),
    )
    .await;
    set_value(
        &s,
        "[name='dates[1][finish_at]']",
        &format!("{}T16:00", day(-9)),
    )
    .await;
    s.fill("#event-maximum_participants", "1").await;
    set_value(&s, "#event-application_opening_at", &day(-1)).await;
    set_value(&s, "#event-application_closing_at", &day(10)).await;
    tick(&s, "[name='globally_visible']").await;
    tick(&s, "[name='requires_approval']").await;
    tick(&s, "[name='waiting_list']").await;
    s.fill("[name='questions[0][question]']", "Diet?").await;
    tick(&s, "[name='questions[0][required]']").await;
    s.screenshot("events-01-course-form").await;
    let form_path = s.path().await;
    click(&s, "#event-save").await;
    let event = wait_to_leave(&s, &form_path).await;
    s.wait_for_text("main h1", "Leader course autumn").await;
    assert_eq!(s.count("#event-dates li, #event-dates tr").await.max(2), 2);
    s.screenshot("events-02-course").await;

    // 2. Tina applies and Alex gives her the only place in the market.
    switch_to(&s, TRAINER).await;
    s.goto(&event).await;
    click(&s, "#apply-button").await;
    s.find("#participation-form").await;
    s.fill(
        "#participation-form textarea[name^='answers[']",
        "Vegetarian",
    )
    .await;
    click(&s, "#apply-submit").await;
    s.wait_until("the application to be sent", async |c| {
        c.current_url()
            .await
            .is_ok_and(|u| !u.path().ends_with("/participations/new"))
    })
    .await;
    switch_to(&s, ALPHA).await;
    s.goto(&format!("{event}/application_market")).await;
    click(&s, "#market-pending button[name='add']").await;
    s.wait_until("Tina among the participants", async |c| {
        match c.find(Locator::Css("#market-participants")).await {
            Ok(e) => e.text().await.is_ok_and(|t| t.contains("Tina")),
            Err(_) => false,
        }
    })
    .await;
    s.screenshot("events-03-place-filled").await;

    // 3. A member of Club Beta applies, answering the question, and lands
    // on the waiting list.
    switch_to(&s, NORTH).await;
    let (member_email, member_page) = beta_member(&s).await;
    switch_to(&s, &member_email).await;
    s.goto(&event).await;
    click(&s, "#apply-button").await;
    s.fill("#participation-form textarea[name^='answers[']", "Vegan")
        .await;
    s.screenshot("events-04-application").await;
    click(&s, "#apply-submit").await;
    s.find("#participation-state").await;
    let participation = s.path().await;
    let state = s.text("#participation-state").await.to_lowercase();
    // The generated member may read German.
    assert!(
        state.contains("waiting") || state.contains("warteliste"),
        "on the waiting list: {state}"
    );
    s.screenshot("events-05-waiting-list").await;

    // 4. The region coordinator approves the application.
    switch_to(&s, NORTH).await;
    s.goto(&participation).await;
    click(&s, "#approve-button").await;
    s.wait_for_text("#participation-state", "pprove").await;
    s.screenshot("events-06-approved").await;

    // 5. Alex makes room for a second participant and assigns the
    // applicant in the market.
    switch_to(&s, ALPHA).await;
    s.goto(&format!("{event}/edit")).await;
    s.fill("#event-maximum_participants", "2").await;
    let edit_path = s.path().await;
    click(&s, "#event-save").await;
    wait_to_leave(&s, &edit_path).await;
    s.goto(&format!("{event}/application_market?prio=1&waiting_list=1"))
        .await;
    s.find("#market-pending button[name='add']").await;
    s.mark_page().await;
    click(&s, "#market-pending button[name='add']").await;
    s.wait_until("the applicant among the participants", async |c| {
        c.find_all(Locator::Css(
            "#market-participants tr[id^='market-participant-']",
        ))
        .await
        .is_ok_and(|rows| rows.len() == 2)
    })
    .await;
    assert!(s.is_same_page().await, "the market swapped in place");
    s.screenshot("events-07-assigned").await;

    // 6. The course is over: Alex marks the member qualified.
    s.goto(&format!("{event}/qualifications")).await;
    s.find("#qualifications-table").await;
    let member_row = participation
        .rsplit('/')
        .next()
        .expect("a participation id")
        .to_owned();
    click(&s, &format!("#qualify-{member_row}")).await;
    s.find(&format!("#qualified-{member_row}")).await;
    s.screenshot("events-08-qualified").await;

    // 7. The member's page shows the qualification with its finish date:
    // the end of the third year after the course's.
    switch_to(&s, &member_email).await;
    s.goto(&member_page).await;
    let finish = format!("{}", (today - Duration::days(9)).year() + 3);
    s.wait_for_text("#qualifications", "Youth leader").await;
    let section = s.text("#qualifications").await;
    assert!(section.contains(&finish), "finish in {finish}: {section}");
    assert!(section.contains("Leader course autumn"), "{section}");
    s.js("document.querySelector('#qualifications').scrollIntoView(); return true;")
        .await;
    s.screenshot("events-09-members-page").await;
    s.finish().await;
}
