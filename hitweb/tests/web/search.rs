//! The search at `/full`: the box in the top bar, the type-ahead fragment
//! and the results page, limited to what the viewer may see.

use hitcore::person::PersonPatch;
use poem::http::StatusCode;

use crate::support::TestApp;

fn named(first: &str, last: &str, town: Option<&str>) -> PersonPatch {
    let mut patch = PersonPatch {
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        ..PersonPatch::default()
    };
    patch.address.town = town.map(str::to_owned);
    patch
}

/// The body with minijinja's escaped slashes (in URLs) back as `/`.
fn slashes(body: &str) -> String {
    body.replace("&#x2f;", "/")
}

#[tokio::test]
async fn results_page_is_a_whole_page_and_the_typeahead_a_fragment() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;

    let page = alex.get("/full?q=Alpha").await;
    page.assert_status(StatusCode::OK);
    assert!(page.is_full_page());
    assert!(page.has_vary_hx_request());
    assert!(page.body.contains("Alex Alpha"), "{}", page.body);
    assert!(page.body.contains("Club Alpha"));
    assert!(
        page.body.contains("value=\"Alpha\""),
        "the box keeps the text"
    );
    assert_eq!(page.body.matches("id=\"search-results\"").count(), 1);
    assert!(!page.body.contains("All results"));

    let fragment = alex.get_htmx("/full?q=Alpha").await;
    fragment.assert_status(StatusCode::OK);
    assert!(!fragment.is_full_page());
    assert!(fragment.has_vary_hx_request());
    assert!(
        fragment.body.starts_with("<div id=\"search-results\""),
        "{}",
        fragment.body
    );
    assert!(fragment.body.contains("Alex Alpha"));
    assert!(slashes(&fragment.body).contains("href=\"/full?q=Alpha\""));
}

#[tokio::test]
async fn every_page_has_the_search_box_in_the_top_bar() {
    let app = TestApp::new();
    let mut tina = app.signed_in("trainer@demo.example").await;
    let home = tina.get("/").await;
    home.assert_status(StatusCode::OK);
    assert!(home.body.contains("action=\"/full\""));
    assert!(home.body.contains("hx-get=\"/full\""));
    assert!(
        home.body
            .contains("hx-trigger=\"input changed delay:250ms, search\"")
    );
    assert!(home.body.contains("hx-target=\"#search-results\""));
    assert!(
        home.body
            .contains("<div id=\"search-results\" class=\"search-results\"></div>")
    );
}

#[tokio::test]
async fn hits_link_to_the_person_in_the_primary_group_and_to_the_group() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get("/full?q=Jan+Junior").await;
    let link = format!("href=\"/groups/{}/people/{}\"", members.id, jan.id);
    assert!(slashes(&page.body).contains(&link), "{}", page.body);

    let groups = alex.get_htmx("/full?q=Club+Beta").await;
    let beta = app.group("Club Beta");
    let link = format!("href=\"/groups/{}\"", beta.id);
    assert!(slashes(&groups.body).contains(&link), "{}", groups.body);
}

#[tokio::test]
async fn nora_does_not_find_jan_but_alex_does() {
    let app = TestApp::new();
    let mut nora = app.signed_in("north@demo.example").await;
    let page = nora.get_htmx("/full?q=Jan+Junior").await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("Jan Junior"), "{}", page.body);
    assert!(page.body.contains("Nothing found."));
    drop(nora);

    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get_htmx("/full?q=Jan+Junior").await;
    assert!(page.body.contains("Jan Junior"), "{}", page.body);
}

#[tokio::test]
async fn names_in_results_are_escaped() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    app.add_person(
        &members,
        "ClubMembers.Active",
        named(
            "<script>alert(1)</script>",
            "Xylo&\"Fon'",
            Some("<b>Town</b>"),
        ),
    );
    let mut alex = app.signed_in("alpha@demo.example").await;
    for page in [
        alex.get("/full?q=Xylo").await,
        alex.get_htmx("/full?q=Xylo").await,
    ] {
        assert!(
            page.body.contains("&lt;script&gt;alert(1)&lt;"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("<script>alert"));
        assert!(!page.body.contains("<b>Town</b>"));
        assert!(
            page.body.contains("Xylo&amp;&quot;Fon&#x27;"),
            "{}",
            page.body
        );
    }
    let page = alex.get("/full?q=%3Cscript%3E+Xylo").await;
    assert!(!page.body.contains("<script>"), "the query is escaped too");
}

#[tokio::test]
async fn text_shorter_than_two_characters_asks_for_more_and_queries_nothing() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let before = app.calls();
    let empty = alex.get_htmx("/full?q=").await;
    let per_request = app.calls() - before;
    assert_eq!(
        empty.body,
        "<div id=\"search-results\" class=\"search-results\"></div>"
    );

    let before = app.calls();
    let short = alex.get_htmx("/full?q=J").await;
    short.assert_status(StatusCode::OK);
    assert_eq!(app.calls() - before, per_request, "no search query ran");
    assert!(
        short.body.contains("Type at least 2 characters."),
        "{}",
        short.body
    );
    assert!(!short.body.contains("Jan Junior"));

    let page = alex.get("/full?q=%20").await;
    assert!(
        page.body
            .contains("Search people and groups by name, email or town.")
    );
    let two = alex.get_htmx("/full?q=Ja").await;
    assert!(two.body.contains("Jan Junior"));
}

#[tokio::test]
async fn umlauts_are_found_either_way() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    app.add_person(
        &members,
        "ClubMembers.Active",
        named("Jürg", "Quästli", Some("Zürich")),
    );
    app.add_person(
        &members,
        "ClubMembers.Active",
        named("Jose", "Quastli", Some("Zurich")),
    );
    let mut alex = app.signed_in("alpha@demo.example").await;
    for q in ["Quastli", "Qu%C3%A4stli", "QU%C3%84ST", "qua"] {
        let page = alex.get_htmx(&format!("/full?q={q}")).await;
        assert!(page.body.contains("Jürg Quästli"), "{q}: {}", page.body);
        assert!(page.body.contains("Jose Quastli"), "{q}: {}", page.body);
    }
    let page = alex.get_htmx("/full?q=Z%C3%BCrich+Jos").await;
    assert!(page.body.contains("Jose Quastli"), "{}", page.body);
    assert!(!page.body.contains("Jürg Quästli"));
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in() {
    let app = TestApp::new();
    let mut visitor = app.browser();
    let page = visitor.get("/full?q=Jan").await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/users/sign_in");
    let fragment = visitor.get_htmx("/full?q=Jan").await;
    assert_eq!(fragment.header("HX-Redirect"), Some("/users/sign_in"));
    assert!(!fragment.body.contains("Jan Junior"));
}

#[tokio::test]
async fn hostile_text_is_searched_as_words() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;
    for q in [
        "%22+OR+%22a",
        "Jan%2A+NEAR%28a+b%29",
        "Jan+%26+%21Junior+%7C+x",
        "%27%3B+DROP+TABLE+people%3B+--",
        "%00%00Ja",
    ] {
        let page = alex.get_htmx(&format!("/full?q={q}")).await;
        page.assert_status(StatusCode::OK);
    }
}
