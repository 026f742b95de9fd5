//! Screenshots of the main pages at a desktop width (1280 px) and a phone
//! width (375 px), written to the screenshot folder for people to look
//! at. What a test can check, it checks: the page is the one asked for,
//! and at phone width nothing is wider than the screen (no sideways
//! scrolling).

use crate::harness::{DEMO_PASSWORD, Session, screenshot_dir};

/// The widths of the screenshots, in CSS pixels.
const WIDTHS: [i64; 2] = [1280, 375];

/// Takes the screenshots of the page shown at both widths, after checking
/// that `heading` is on it.
async fn shoot(s: &Session, name: &str, heading: &str) {
    s.wait_for_text("main", heading).await;
    for width in WIDTHS {
        s.set_width(width).await;
        let overflow = s
            .js("return document.documentElement.scrollWidth - window.innerWidth;")
            .await
            .as_i64()
            .unwrap_or_default();
        assert!(
            overflow <= 0,
            "{name} is {overflow} px wider than a {width} px screen"
        );
        let shot = s.screenshot(&format!("{name}-{width}")).await;
        assert_eq!(i64::from(shot), width, "{name} at {width} px");
    }
    s.set_width(WIDTHS[0]).await;
}

#[tokio::test]
async fn main_pages_at_desktop_and_phone_width() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.goto("/users/sign_in").await;
    shoot(&s, "sign-in", "Sign in").await;

    s.sign_in("alpha@demo.example", DEMO_PASSWORD).await;
    shoot(&s, "home", "Welcome, Alex Alpha").await;

    let club = s.find("main .roles a.role-group").await;
    let club_url = club.attr("href").await.expect("an attribute");
    let club_url = club_url.expect("the club's address");
    s.goto(&club_url).await;
    shoot(&s, "group", "Club Alpha").await;

    s.goto(&format!("{club_url}/people")).await;
    shoot(&s, "people", "People").await;

    s.goto("/full?q=Tina").await;
    shoot(&s, "search", "Tina Trainer").await;
    s.find("#search-results a")
        .await
        .click()
        .await
        .expect("Tina");
    shoot(&s, "person", "Tina Trainer").await;

    s.goto(&format!("{club_url}/mailing_lists")).await;
    shoot(&s, "mailing-lists", "Mailing lists").await;

    s.goto("/job_observations").await;
    shoot(&s, "jobs", "Jobs").await;

    let dir = screenshot_dir();
    let written = std::fs::read_dir(dir)
        .expect("the screenshot folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".png"))
        .count();
    assert!(
        written >= 16,
        "only {written} screenshots in {}",
        dir.display()
    );
    println!("{written} screenshots in {}", dir.display());
    s.finish().await;
}
