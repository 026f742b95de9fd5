//! The main flows as a person at a browser does them: sign in, walk the
//! group tree, filter a people list as one types, add and end roles,
//! search, export a list and download the file, subscribe to a list.
//!
//! The demo federation is generated afresh on every start (names change
//! from day to day), so the flows pick people by their place on the page,
//! not by generated names; the named demo people (Alex Alpha, Tina
//! Trainer) are fixed.

use fantoccini::Locator;
use fantoccini::key::Key;

use crate::harness::{DEMO_PASSWORD, Session};

const ALPHA: &str = "alpha@demo.example";

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

/// Opens Club Alpha, Alex Alpha's club, from his role on the start page.
async fn to_club(s: &Session) {
    s.goto("/").await;
    follow(s, "main .roles", "Club Alpha").await;
    s.wait_for_text("main h1", "Club Alpha").await;
}

/// Opens the sub-group `name` from the sidebar of the group shown.
async fn to_subgroup(s: &Session, name: &str) {
    follow(s, ".with-sidebar .link-list", name).await;
    s.wait_for_text("main h1", name).await;
}

/// Opens the people list of the group shown.
async fn to_people(s: &Session) {
    follow(s, "main .card-header .actions", "People").await;
}

/// The texts of every element matching `css`.
async fn texts(s: &Session, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in s.client.find_all(Locator::Css(css)).await.expect("a query") {
        out.push(e.text().await.expect("a text"));
    }
    out
}

#[tokio::test]
async fn sign_in_and_walk_the_group_tree() {
    let Some(s) = Session::start().await else {
        return;
    };
    // Signed out, every page leads to the sign-in form.
    s.goto("/groups/1").await;
    s.wait_for_path("/users/sign_in").await;

    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    assert_eq!(s.text("main h1").await, "Welcome, Alex Alpha");

    // From the role on the start page to the club, then down the tree.
    follow(&s, "main .roles", "Club Alpha").await;
    s.wait_for_text("main h1", "Club Alpha").await;
    let crumbs = texts(&s, ".breadcrumbs a").await;
    assert_eq!(crumbs.last().map(String::as_str), Some("Club Alpha"));
    assert!(crumbs.contains(&"Region North".to_owned()), "{crumbs:?}");

    // The members node has children the page did not load: opening it
    // fetches them (HTMX), without a page load.
    s.mark_page().await;
    let members = "#groups-tree details[hx-get]";
    let summary = s.find(&format!("{members} > summary")).await;
    assert_eq!(summary.text().await.expect("a name"), "Members");
    assert_eq!(s.count(&format!("{members} .tree-children a")).await, 0);
    s.click_left_edge(&summary).await;
    s.wait_for_text(&format!("{members} .tree-children"), "Seniors")
        .await;
    assert!(s.is_same_page().await, "opening the node loaded a page");

    follow(&s, &format!("{members} .tree-children"), "Seniors").await;
    s.wait_for_text("main h1", "Seniors").await;
    let crumbs = texts(&s, ".breadcrumbs a").await;
    assert_eq!(
        &crumbs[crumbs.len() - 3..],
        ["Club Alpha", "Members", "Seniors"]
    );
    let current = s.text("#groups-tree a[aria-current=page]").await;
    assert_eq!(current, "Seniors");

    // Up again through the breadcrumbs.
    follow(&s, ".breadcrumbs", "Members").await;
    s.wait_for_text("main h1", "Members").await;
    s.finish().await;
}

#[tokio::test]
async fn people_list_narrows_as_one_types() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    to_club(&s).await;
    to_subgroup(&s, "Members").await;
    to_people(&s).await;
    s.find("#people-table").await;
    let all = s.count("#people-table tbody tr").await;
    assert!(all > 5, "only {all} members");
    let members_path = s.path().await;

    s.mark_page().await;
    s.fill("#filter-q", "Trainer").await;
    s.wait_until("the list to narrow", async |c| {
        c.find_all(Locator::Css("#people-table tbody tr"))
            .await
            .is_ok_and(|rows| !rows.is_empty() && rows.len() < all)
    })
    .await;
    let names = texts(&s, "#people-table tbody tr td:first-child").await;
    assert!(names.contains(&"Tina Trainer".to_owned()), "{names:?}");
    let count = s.text("#people-table .list-head .muted").await;
    assert_eq!(count, format!("{} people", names.len()));
    // An HTMX swap, not a page load, and the address follows the filter.
    assert!(s.is_same_page().await, "filtering loaded a page");
    let path = s.path().await;
    assert!(
        path.starts_with(&format!("{members_path}?q=Trainer&")),
        "{path}"
    );

    // Deleting the text again brings everyone back.
    s.find("#filter-q")
        .await
        .send_keys(&Key::Backspace.repeat("Trainer".len()))
        .await
        .expect("deleting");
    s.wait_until("the whole list again", async |c| {
        c.find_all(Locator::Css("#people-table tbody tr"))
            .await
            .is_ok_and(|rows| rows.len() == all)
    })
    .await;
    assert!(s.is_same_page().await);
    s.finish().await;
}

#[tokio::test]
async fn adding_and_ending_roles_changes_the_group_list() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    to_club(&s).await;
    to_subgroup(&s, "Members").await;
    to_subgroup(&s, "Seniors").await;
    to_people(&s).await;
    let list_path = s.path().await;
    let before = s.count("#people-table tbody tr").await;
    assert!(before > 0, "nobody in Seniors");

    // The first senior gets a second role, from their page.
    let first = s.find("#people-table tbody tr").await;
    let row_id = first.attr("id").await.expect("an attribute");
    let row = format!("#{}", row_id.expect("the row's id"));
    let link = s.find(&format!("{row} td:first-child a")).await;
    let name = link.text().await.expect("a name");
    link.click().await.expect("opening the person");
    s.wait_for_text("main h1", &name).await;
    let roles_before = s.count("#person-roles .role-row").await;
    s.mark_page().await;
    s.find("#role-type")
        .await
        .select_by_label("Trainer")
        .await
        .expect("the Trainer role type");
    s.fill("#role-label", "Browser test").await;
    s.find("#role-form button[type=submit]")
        .await
        .click()
        .await
        .expect("adding the role");
    s.wait_for_text("#person-roles", "(Browser test)").await;
    assert_eq!(s.count("#person-roles .role-row").await, roles_before + 1);
    assert!(s.is_same_page().await, "adding a role loaded a page");

    // In the list the person now shows both roles; ending both (each
    // after the confirmation) takes them off the list.
    s.goto(&list_path).await;
    let buttons = format!("{row} .role-row button.btn-danger");
    assert_eq!(s.count(&format!("{row} .role-row")).await, 2);
    assert_eq!(s.count(&buttons).await, 2);
    s.mark_page().await;
    for remaining in [1, 0] {
        s.find(&buttons)
            .await
            .click()
            .await
            .expect("ending the role");
        let question = s.client.get_alert_text().await.expect("a confirmation");
        assert_eq!(question, "End this role?");
        s.client.accept_alert().await.expect("confirming");
        s.wait_until("the role to end", async |c| {
            c.find_all(Locator::Css(&buttons))
                .await
                .is_ok_and(|b| b.len() == remaining)
        })
        .await;
    }
    assert!(s.is_same_page().await, "ending a role loaded a page");

    s.goto(&list_path).await;
    s.find("#people-table").await;
    let names = texts(&s, "#people-table tbody tr td:first-child").await;
    assert!(!names.contains(&name), "{name} is still listed: {names:?}");
    assert_eq!(names.len(), before - 1);
    s.finish().await;
}

#[tokio::test]
async fn search_shows_results_as_one_types_and_enter_opens_them() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    s.mark_page().await;
    s.fill("#search-q", "Tina").await;
    s.wait_for_text("#search-results", "Tina Trainer").await;
    assert!(s.is_same_page().await, "the type-ahead loaded a page");

    s.find("#search-q")
        .await
        .send_keys(&Key::Enter)
        .await
        .expect("Enter");
    s.wait_for_path("/full?q=Tina").await;
    s.wait_for_text("main", "Tina Trainer").await;
    follow(&s, "main #search-results", "Tina Trainer").await;
    s.wait_for_text("main h1", "Tina Trainer").await;
    s.finish().await;
}

#[tokio::test]
async fn export_of_a_group_list_arrives_as_a_file_with_its_people() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    to_club(&s).await;
    to_subgroup(&s, "Board").await;
    to_people(&s).await;
    let names = texts(&s, "#people-table tbody tr td:first-child").await;
    assert!(!names.is_empty());

    s.find("#export-format")
        .await
        .select_by_value("csv")
        .await
        .expect("the CSV format");
    s.find(".export-form button[type=submit]")
        .await
        .click()
        .await
        .expect("starting the export");
    s.wait_for_path("/job_observations").await;
    // The row refreshes itself until the job is done; then the download
    // link shows.
    let link = s.find("a[download]").await;
    link.click().await.expect("downloading");
    let file = s.downloaded_file().await;
    assert!(
        file.extension().is_some_and(|x| x == "csv"),
        "{}",
        file.display()
    );
    let text = std::fs::read_to_string(&file).expect("a UTF-8 file");
    let header = text.lines().next().unwrap_or_default().to_lowercase();
    assert!(header.contains("first name"), "{header}");
    for name in &names {
        for part in name.split(' ') {
            assert!(text.contains(part), "{part} is missing:\n{text}");
        }
    }
    // Only the board: nobody of the members group.
    assert!(!text.contains("Trainer"), "{text}");
    s.finish().await;
}

#[tokio::test]
async fn a_person_subscribes_to_a_new_list() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.sign_in(ALPHA, DEMO_PASSWORD).await;
    to_club(&s).await;
    follow(&s, "main .card-header .actions", "Mailing lists").await;
    follow(&s, "main .card-header .actions", "New mailing list").await;
    s.fill("#list-name", "Browser news").await;
    s.fill("#list-mail_name", "browser-news").await;
    s.find("#list-subscribable_for")
        .await
        .select_by_value("anyone")
        .await
        .expect("subscribable for anyone");
    s.find("#mailing-list-form button[type=submit]")
        .await
        .click()
        .await
        .expect("saving the list");
    s.wait_for_text("main h1", "Browser news").await;

    let count = s.text(".recipient-count").await;
    s.mark_page().await;
    s.find("#mailing-list-subscription button[type=submit]")
        .await
        .click()
        .await
        .expect("subscribing");
    s.wait_for_text("#mailing-list-subscription", "Subscribed")
        .await;
    let after = s.text(".recipient-count").await;
    let parse = |c: &str| c.trim().parse::<u64>().expect("a count");
    assert_eq!(parse(&after), parse(&count) + 1);
    assert!(s.is_same_page().await, "subscribing loaded a page");

    // It holds after a reload, and unsubscribing undoes it.
    s.client.refresh().await.expect("a reload");
    s.wait_for_text("#mailing-list-subscription", "Subscribed")
        .await;
    s.find("#mailing-list-subscription button[type=submit]")
        .await
        .click()
        .await
        .expect("unsubscribing");
    s.wait_until("the Subscribe button", async |c| {
        match c.find(Locator::Css("#mailing-list-subscription")).await {
            Ok(e) => e.text().await.is_ok_and(|t| !t.contains("Subscribed")),
            Err(_) => false,
        }
    })
    .await;
    assert_eq!(s.text(".recipient-count").await, count);
    s.finish().await;
}
