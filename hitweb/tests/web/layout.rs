//! How pages place and name things: the group page on narrow screens, the
//! tree's alignment, and group names with their layer where many layers
//! have a group of the same name.

use poem::http::StatusCode;

use crate::support::{TestApp, unescape};

#[tokio::test]
async fn group_page_puts_the_content_before_the_tree() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/groups/{}", club.id)).await;
    page.assert_status(StatusCode::OK);
    let heading = page.body.find("<h1>Club Alpha").expect("the group heading");
    let tree = page.body.find("id=\"groups-tree\"").expect("the tree");
    assert!(heading < tree, "the tree comes first");
}

#[tokio::test]
async fn tree_leaves_and_toggled_nodes_share_one_gutter() {
    let app = TestApp::new();
    let css = app.browser().get("/assets/app.css").await.body;
    let rule = |selector: &str| -> String {
        let start = css
            .find(&format!("{selector} {{"))
            .unwrap_or_else(|| panic!("no rule for {selector}"));
        let end = css[start..].find('}').map_or(css.len(), |e| start + e);
        css[start..end].to_owned()
    };
    // The toggle takes the gutter's width, and a leaf starts after it.
    assert!(rule(".tree summary::before").contains("width: var(--tree-gutter)"));
    assert!(rule(".tree-leaf").contains("margin-left: var(--tree-gutter)"));
    assert!(!css.contains("list-style-position: outside"));
    // On wide screens the tree moves back into the left column.
    assert!(rule("  .with-sidebar .sidebar").contains("grid-column: 1"));
}

#[tokio::test]
async fn people_list_names_the_group_with_its_layer() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/groups/{}/people", members.id)).await;
    page.assert_status(StatusCode::OK);
    let body = unescape(&page.body);
    let name = format!("{} · Club Alpha", members.name);
    assert!(
        body.contains(&format!("<title>People · {name} · ")),
        "{body}"
    );
    assert!(body.contains(&format!("<a href=\"/groups/{}\">Club Alpha</a>", club.id)));

    // The layer itself is not repeated.
    let layer = unescape(&alex.get(&format!("/groups/{}/people", club.id)).await.body);
    assert!(layer.contains("<title>People · Club Alpha · "), "{layer}");
}

#[tokio::test]
async fn person_page_and_role_rows_name_the_group_with_its_layer() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .get(&format!("/groups/{}/people/{}", members.id, tina.id))
        .await;
    page.assert_status(StatusCode::OK);
    let body = unescape(&page.body);
    let name = format!("{} · Club Alpha", members.name);
    assert!(
        body.contains(&format!("<title>Tina Trainer · {name} · ")),
        "{body}"
    );
    assert!(body.contains(&format!(
        "class=\"role-group\" href=\"/groups/{}\">{name}</a>",
        members.id
    )));

    let mut tina_b = app.signed_in("trainer@demo.example").await;
    let home = unescape(&tina_b.get("/").await.body);
    assert!(home.contains(&format!(">{name}</a>")), "{home}");
}
