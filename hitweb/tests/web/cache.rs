//! The cache across processes: two apps (two `AppState`s, as two web
//! processes) on one database, sharing the memcached of
//! `HIT_TEST_MEMCACHE_SERVERS` when that is set and each caching in its own
//! memory otherwise. What one process changes, the other serves at once,
//! however warm its cache: a permission taken away is refused on the very
//! next request.

use chrono::{Days, Utc};
use hitcore::auth::token_hash;
use hitcore::cache::read;
use hitcore::person::Person;
use hitcore::store::{AuthRepo, RoleRepo, Stamps};
use poem::http::StatusCode;

use crate::support::{Browser, TestApp};

/// The memcached servers of the test run, if any. Unset is fine locally
/// (each app then has a memory cache of its own), but not on CI, where
/// the shared cache is what these tests are for.
fn memcache_servers() -> Option<String> {
    let servers = std::env::var("HIT_TEST_MEMCACHE_SERVERS")
        .ok()
        .filter(|s| !s.trim().is_empty());
    if servers.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "HIT_TEST_MEMCACHE_SERVERS is not set, but CI=true needs the shared cache tested"
        );
        eprintln!("note: HIT_TEST_MEMCACHE_SERVERS is not set: each app caches in memory");
    }
    servers
}

/// Two apps on one database and, when there is one, one memcached.
fn two_processes() -> (TestApp, TestApp) {
    let servers = memcache_servers();
    let with_cache = |builder: crate::support::TestAppBuilder| match &servers {
        Some(s) => builder.with_memcache(s),
        None => builder,
    };
    let a = with_cache(TestApp::builder()).build();
    let b = with_cache(TestApp::builder().on_database_of(&a)).build();
    (a, b)
}

/// The stamps `browser`'s session reads now.
fn stamps_of(app: &TestApp, browser: &Browser<'_>) -> Stamps {
    let cookie = browser.cookie_header();
    let token = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("hit_session="))
        .expect("a session cookie");
    app.store
        .signed_in(&token_hash(token), Utc::now())
        .expect("query")
        .expect("signed in")
        .stamps
}

/// Bruno, a board member of Club Alpha who may read its people list.
fn bruno(app: &TestApp) -> Person {
    let board = app.child(&app.group("Club Alpha"), "ClubBoard");
    app.add_login(
        &board,
        "ClubBoard.BoardMember",
        "Bruno",
        "bruno@demo.example",
    )
}

#[tokio::test]
async fn role_ended_in_one_process_is_refused_on_the_next_request_in_another() {
    let (a, b) = two_processes();
    let bruno = bruno(&a);
    let club = a.group("Club Alpha");
    let people = format!("/groups/{}/people", club.id);
    let mut on_a = a.signed_in("bruno@demo.example").await;
    on_a.get(&people).await.assert_status(StatusCode::OK);
    let warm = stamps_of(&a, &on_a);
    let warm_key = read::roles_key(bruno.id, &warm);
    assert!(
        a.cache.get(&warm_key).is_some(),
        "A has Bruno's roles cached"
    );

    let role = a.store.roles_of_person(bruno.id).expect("roles").remove(0);
    let today = Utc::now().date_naive();
    let (week_ago, yesterday) = (
        today - Days::new(7),
        today.pred_opt().expect("a day before today"),
    );
    let mut admin_b = b.signed_in("admin@demo.example").await;
    admin_b
        .post(
            &format!("/groups/{}/roles/{}", role.group_id, role.id),
            &[
                ("label", ""),
                ("start_on", &week_ago.to_string()),
                ("end_on", &yesterday.to_string()),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);

    on_a.get(&people).await.assert_status(StatusCode::FORBIDDEN);
    assert_ne!(stamps_of(&a, &on_a).access, warm.access);
    if memcache_servers().is_none() {
        // Nobody deleted A's entry: the new stamp alone keeps it unread.
        assert!(
            a.cache.get(&warm_key).is_some(),
            "the old entry is still there"
        );
    }
}

#[tokio::test]
async fn role_given_in_one_process_is_granted_on_the_next_request_in_another() {
    let (a, b) = two_processes();
    let bruno = bruno(&a);
    let club = a.group("Club Alpha");
    let members = a.child(&club, "ClubMembers");
    let members_people = format!("/groups/{}/people", members.id);
    let mut on_a = a.signed_in("bruno@demo.example").await;
    // A board member reads the list, but may not give roles in it.
    on_a.get(&members_people)
        .await
        .assert_status(StatusCode::OK);
    let new_role = format!("/groups/{}/roles/new?person_id={}", members.id, bruno.id);
    on_a.get(&new_role)
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let mut admin_b = b.signed_in("admin@demo.example").await;
    let person_id = bruno.id.to_string();
    admin_b
        .post(
            &format!("/groups/{}/roles", members.id),
            &[
                ("person_id", &person_id),
                ("role_type", "ClubMembers.Trainer"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);

    on_a.get(&new_role).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn group_renamed_in_one_process_shows_renamed_in_the_other_at_once() {
    let (a, b) = two_processes();
    let club = a.group("Club Alpha");
    let mut alex_a = a.signed_in("alpha@demo.example").await;
    let page = format!("/groups/{}", club.id);
    let before = alex_a.get(&page).await;
    before.assert_status(StatusCode::OK);
    assert!(!before.body.contains("Club Omega"));

    let mut admin_b = b.signed_in("admin@demo.example").await;
    admin_b
        .post(&page, &[("name", "Club Omega")])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let after = alex_a.get(&page).await;
    after.assert_status(StatusCode::OK);
    assert!(after.body.contains("Club Omega"), "{}", after.body);
}

#[tokio::test]
async fn warm_requests_read_only_the_session_from_the_store() {
    let (a, _b) = two_processes();
    let club = a.group("Club Alpha");
    let mut alex = a.signed_in("alpha@demo.example").await;
    let page = format!("/groups/{}", club.id);
    alex.get(&page).await.assert_status(StatusCode::OK);
    let before = a.calls();
    alex.get(&page).await.assert_status(StatusCode::OK);
    let warm = a.calls() - before;
    // The group page itself reads nothing beyond the viewer: one call.
    assert_eq!(warm, 1, "{warm} store calls for a warm group page");
}
