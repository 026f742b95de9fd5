//! The application market: who may open it (the event row's
//! `application_market` cell), the two tables side by side, assigning
//! and removing with an in-place HTMX swap, and the refusal past the
//! maximum.

use hitcore::event::COURSE;
use hitcore::store::{EventRepo, ParticipationRepo};
use poem::http::StatusCode;

use crate::participations::{beta_member, event_on, url};
use crate::support::TestApp;

#[tokio::test]
async fn leader_assigns_an_application_in_place_and_is_refused_past_the_maximum() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, Some(1), Vec::new());
    let bea = beta_member(&app, "Bea");
    let ben = beta_member(&app, "Ben");
    for email in ["bea@beta.example", "ben@beta.example"] {
        let mut b = app.signed_in(email).await;
        b.post(&url(&course, "/participations"), &[])
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    let bea_p = app
        .store
        .participation_of(course.id, bea.id)
        .expect("read")
        .expect("bea");
    let ben_p = app
        .store
        .participation_of(course.id, ben.id)
        .expect("read")
        .expect("ben");

    let mut alex = app.signed_in("alpha@demo.example").await;
    let market = alex.get(&url(&course, "/application_market")).await;
    market.assert_status(StatusCode::OK);
    assert!(market.is_full_page() && market.has_vary_hx_request());
    assert!(market.body.contains("id=\"market-participants\""));
    assert!(market.body.contains("id=\"market-pending\""));
    assert!(
        market
            .body
            .contains(&format!("id=\"market-application-{}\"", bea_p.id))
    );

    let added = alex
        .post_htmx(
            &url(&course, &format!("/application_market/{}/add", bea_p.id)),
            &[("prio", "1")],
        )
        .await;
    added.assert_status(StatusCode::OK);
    assert!(!added.is_full_page());
    assert!(added.body.contains("id=\"application-market\""));
    assert!(
        added
            .body
            .contains(&format!("id=\"market-participant-{}\"", bea_p.id)),
        "{}",
        added.body
    );
    assert!(
        added
            .body
            .contains(&format!("id=\"market-application-{}\"", ben_p.id))
    );
    let stored = app.store.event(course.id).expect("read").expect("event");
    assert_eq!(stored.participant_count, 1);

    let refused = alex
        .post_htmx(
            &url(&course, &format!("/application_market/{}/add", ben_p.id)),
            &[("prio", "1")],
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"market-error\""));
    assert!(
        refused.body.contains("maximum number of participants"),
        "{}",
        refused.body
    );
    // Without HTMX the refusal is a page that says why, not a silent
    // redirect back to the market.
    let plain = alex
        .post(
            &url(&course, &format!("/application_market/{}/add", ben_p.id)),
            &[("prio", "1")],
        )
        .await;
    plain.assert_status(StatusCode::CONFLICT);
    assert!(
        plain.body.contains("maximum number of participants"),
        "{}",
        plain.body
    );
    assert!(
        !app.store
            .participation(ben_p.id)
            .expect("read")
            .expect("ben")
            .participation
            .active
    );

    let removed = alex
        .post(
            &url(&course, &format!("/application_market/{}/remove", bea_p.id)),
            &[("prio", "1")],
        )
        .await;
    removed.assert_status(StatusCode::SEE_OTHER);
    assert!(
        !app.store
            .participation(bea_p.id)
            .expect("read")
            .expect("bea")
            .participation
            .active
    );
    app.run_jobs();
}

#[tokio::test]
async fn market_is_for_layer_writers_only() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    // Tina has group_and_below_full on the club's members, not layer_full.
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&url(&course, "/application_market"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // The region coordinator's layer_and_below_full reaches only her own
    // layer for the market.
    let mut nora = app.signed_in("north@demo.example").await;
    nora.get(&url(&course, "/application_market"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let bea = beta_member(&app, "Bea");
    let mut b = app.signed_in("bea@beta.example").await;
    b.post(&url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let p = app
        .store
        .participation_of(course.id, bea.id)
        .expect("read")
        .expect("bea");
    b.post(
        &url(&course, &format!("/application_market/{}/add", p.id)),
        &[],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    app.run_jobs();
}

#[tokio::test]
async fn market_filter_shows_other_priorities_and_the_waiting_list_on_request() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let course = event_on(&app, &club, COURSE, None, Vec::new());
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .get(&url(&course, "/application_market?prio=1,2&waiting_list=1"))
        .await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.body.contains("name=\"prio\" value=\"2\" checked"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("name=\"waiting_list\" value=\"1\" checked")
    );
    assert!(!page.body.contains("name=\"prio\" value=\"3\" checked"));
    let fragment = alex.get_htmx(&url(&course, "/application_market")).await;
    assert!(!fragment.is_full_page());
    assert!(fragment.body.contains("id=\"application-market\""));
}
