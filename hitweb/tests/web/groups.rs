//! Group pages: show, tree, edit, create, delete, archive.

use chrono::Utc;
use hitcore::ability::{DestroyRole, system};
use hitcore::store::{GroupRepo, RoleRepo};
use poem::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn group_page_shows_details_subgroups_and_the_open_tree() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut b = app.signed_in("alpha@demo.example").await;
    let page = b.get(&format!("/groups/{}", club.id)).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("<h1>Club Alpha"));
    assert!(page.body.contains("id=\"groups-tree\""));
    // The path from the root is open: the region's clubs show as siblings.
    assert!(page.body.contains("Club Beta"));
    assert!(page.body.contains("aria-current=\"page\""));
    // Subgroups and the people link.
    let members = app.child(&club, "ClubMembers");
    assert!(
        page.body
            .contains(&format!("/groups/{}/people", club.id).replace('/', "&#x2f;"))
    );
    assert!(
        page.body
            .contains(&format!("&#x2f;groups&#x2f;{}\"", members.id))
    );
    assert!(page.has_vary_hx_request());
}

#[tokio::test]
async fn person_without_roles_may_not_see_groups() {
    let app = TestApp::new();
    let tina = app.person("Tina", "Trainer");
    for role in app.store.roles_of_person(tina.id).expect("roles") {
        app.store
            .remove_role(&system(DestroyRole(role.id)), Utc::now())
            .expect("removed");
    }
    let mut b = app.signed_in("trainer@demo.example").await;
    let page = b
        .get(&format!("/groups/{}", app.group("Club Alpha").id))
        .await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(page.body.contains("None of your roles allows this."));
    let south = app.group("Region South");
    b.get_htmx(&format!("/groups/{}/tree", south.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_and_deleted_groups_are_not_found() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let sponsors = app.child(&club, "ClubContacts");
    let mut b = app.signed_in("alpha@demo.example").await;
    b.get("/groups/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get("/groups/not-a-number")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.post(&format!("/groups/{}/delete", sponsors.id), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let gone = b.get(&format!("/groups/{}", sponsors.id)).await;
    gone.assert_status(StatusCode::NOT_FOUND);
    assert!(gone.body.contains("does not exist"));
}

#[tokio::test]
async fn tree_node_children_load_as_a_fragment() {
    let app = TestApp::new();
    let south = app.group("Region South");
    let mut b = app.signed_in("alpha@demo.example").await;
    let fragment = b.get_htmx(&format!("/groups/{}/tree", south.id)).await;
    fragment.assert_status(StatusCode::OK);
    assert!(!fragment.is_full_page());
    assert!(fragment.body.contains("Club Gamma"));
    assert!(fragment.has_vary_hx_request());
    let plain = b.get(&format!("/groups/{}/tree", south.id)).await;
    plain.assert_status(StatusCode::SEE_OTHER);
    assert!(plain.has_vary_hx_request());
}

#[tokio::test]
async fn trainer_edits_the_members_group_but_not_the_board() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let board = app.child(&club, "ClubBoard");
    let mut b = app.signed_in("trainer@demo.example").await;

    b.get(&format!("/groups/{}/edit", members.id))
        .await
        .assert_status(StatusCode::OK);
    let saved = b
        .post(
            &format!("/groups/{}", members.id),
            &[
                ("name", "Alpha members"),
                ("email", "members@alpha.example"),
            ],
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.group(members.id).expect("read").expect("exists");
    assert_eq!(stored.name, "Alpha members");
    assert_eq!(stored.email.as_deref(), Some("members@alpha.example"));

    b.get(&format!("/groups/{}/edit", board.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    b.post(&format!("/groups/{}", board.id), &[("name", "Taken over")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let patch = b
        .send(
            poem::http::Method::PATCH,
            &format!("/groups/{}", board.id),
            true,
            Some(&[("name", "Taken over")]),
            crate::support::Token::Valid,
        )
        .await;
    patch.assert_status(StatusCode::FORBIDDEN);
    let stored = app.store.group(board.id).expect("read").expect("exists");
    assert_ne!(stored.name, "Taken over");
}

#[tokio::test]
async fn group_update_accepts_patch_and_shows_messages_for_bad_input() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut b = app.signed_in("alpha@demo.example").await;
    let path = format!("/groups/{}", club.id);
    let invalid = b
        .post(&path, &[("name", "Club Alpha"), ("email", "not an email")])
        .await;
    invalid.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.body.contains("is not a valid email address"));
    assert!(invalid.body.contains("value=\"not an email\""));

    let patched = b
        .send(
            poem::http::Method::PATCH,
            &path,
            true,
            Some(&[("name", "Club Alpha"), ("town", "Winterthur")]),
            crate::support::Token::Valid,
        )
        .await;
    patched.assert_status(StatusCode::OK);
    assert_eq!(patched.header("HX-Redirect"), Some(path.as_str()));
    let stored = app.store.group(club.id).expect("read").expect("exists");
    assert_eq!(stored.address.town.as_deref(), Some("Winterthur"));
}

#[tokio::test]
async fn leader_creates_a_committee_below_the_club() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut b = app.signed_in("alpha@demo.example").await;
    let form = b
        .get(&format!("/groups/{}/groups/new?type=Committee", club.id))
        .await;
    form.assert_status(StatusCode::OK);
    b.get(&format!("/groups/new?parent_id={}&type=Committee", club.id))
        .await
        .assert_status(StatusCode::OK);

    let parent = club.id.to_string();
    let missing_name = b
        .post(
            "/groups",
            &[("parent_id", &parent), ("type", "Committee"), ("name", " ")],
        )
        .await;
    missing_name.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing_name.body.contains("is required"));

    let created = b
        .post(
            "/groups",
            &[
                ("parent_id", &parent),
                ("type", "Committee"),
                ("name", "Fest committee"),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    let committee = app.group("Fest committee");
    assert_eq!(committee.parent_id, Some(club.id));
    assert_eq!(created.location(), format!("/groups/{}", committee.id));
}

#[tokio::test]
async fn new_group_is_refused_without_permission_and_for_bad_types() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let board = app.child(&club, "ClubBoard");
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!("/groups/{}/groups/new?type=Committee", club.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let parent = club.id.to_string();
    tina.post(
        "/groups",
        &[("parent_id", &parent), ("type", "Committee"), ("name", "X")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.get(&format!("/groups/{}/groups/new?type=Region", club.id))
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    alex.get(&format!("/groups/{}/groups/new?type=Committee", board.id))
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn group_with_subgroups_or_the_root_cannot_be_deleted() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let root = app.group("Demo Federation");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let refused = alex
        .post(&format!("/groups/{}/delete", members.id), &[])
        .await;
    refused.assert_status(StatusCode::CONFLICT);
    assert!(refused.body.contains("still has subgroups"));

    let mut admin = app.signed_in("admin@demo.example").await;
    let root_refused = admin
        .post(&format!("/groups/{}/delete", root.id), &[])
        .await;
    root_refused.assert_status(StatusCode::CONFLICT);
    assert!(root_refused.body.contains("top group cannot be deleted"));

    let inline = admin.delete_htmx(&format!("/groups/{}", members.id)).await;
    inline.assert_status(StatusCode::CONFLICT);
    assert!(!inline.is_full_page());
    assert!(inline.body.contains("still has subgroups"));
}

#[tokio::test]
async fn trainer_may_not_delete_or_archive_the_sponsors() {
    let app = TestApp::new();
    let sponsors = app.child(&app.group("Club Alpha"), "ClubContacts");
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.post(&format!("/groups/{}/delete", sponsors.id), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.delete_htmx(&format!("/groups/{}", sponsors.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(&format!("/groups/{}/archive", sponsors.id), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn leader_deletes_inline_and_archives_groups() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let sponsors = app.child(&club, "ClubContacts");
    let mut alex = app.signed_in("alpha@demo.example").await;

    let archived = alex
        .post(&format!("/groups/{}/archive", sponsors.id), &[])
        .await;
    archived.assert_status(StatusCode::SEE_OTHER);
    let page = alex.get(&format!("/groups/{}", sponsors.id)).await;
    assert!(page.body.contains("archived"));
    assert!(page.body.contains("The group was archived."));
    let again = alex
        .post(&format!("/groups/{}/archive", sponsors.id), &[])
        .await;
    assert_ne!(again.status, StatusCode::SEE_OTHER);

    let deleted = alex.delete_htmx(&format!("/groups/{}", sponsors.id)).await;
    deleted.assert_status(StatusCode::OK);
    assert_eq!(
        deleted.header("HX-Redirect"),
        Some(format!("/groups/{}", club.id).as_str())
    );
    let stored = app.store.group(sponsors.id).expect("read").expect("kept");
    assert!(stored.deleted_at.is_some());
}

#[tokio::test]
async fn administrator_moves_a_club_to_another_region_with_its_subtree() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let south = app.group("Region South");
    let members = app.child(&club, "ClubMembers");
    let mut b = app.signed_in("admin@demo.example").await;

    let form = b.get(&format!("/groups/{}/move", club.id)).await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains(&format!("value=\"{}\"", south.id)));
    let fragment = b.get_htmx(&format!("/groups/{}/move", club.id)).await;
    assert!(!fragment.is_full_page());
    assert!(fragment.has_vary_hx_request());

    let moved = b
        .post(
            &format!("/groups/{}/move", club.id),
            &[("target_id", &south.id.to_string())],
        )
        .await;
    moved.assert_status(StatusCode::SEE_OTHER);
    let club = app.store.group(club.id).expect("read").expect("club");
    assert_eq!(club.parent_id, Some(south.id));
    assert!(club.path.contains(&south.id));
    let members = app.store.group(members.id).expect("read").expect("members");
    assert!(members.path.contains(&south.id));
    assert_eq!(members.layer_group_id, club.id);
}

#[tokio::test]
async fn moved_subgroup_takes_the_layer_of_its_new_parent() {
    let app = TestApp::new();
    let alpha_members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let beta = app.group("Club Beta");
    let beta_members = app.child(&beta, "ClubMembers");
    let team = app.add_group(&alpha_members, "ClubMembers", "Team Blue");
    let mut b = app.signed_in("admin@demo.example").await;
    b.post(
        &format!("/groups/{}/move", team.id),
        &[("target_id", &beta_members.id.to_string())],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let team = app.store.group(team.id).expect("read").expect("team");
    assert_eq!(team.layer_group_id, beta.id);
    assert_eq!(team.parent_id, Some(beta_members.id));
}

#[tokio::test]
async fn move_is_refused_without_write_access_or_to_a_place_outside_reach() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let south = app.group("Region South");
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!("/groups/{}/move", club.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(
        &format!("/groups/{}/move", club.id),
        &[("target_id", &south.id.to_string())],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);

    // Nora may edit Club Alpha but may not create anything in Region South.
    let mut nora = app.signed_in("north@demo.example").await;
    let form = nora.get(&format!("/groups/{}/move", club.id)).await;
    form.assert_status(StatusCode::OK);
    assert!(!form.body.contains(&format!("value=\"{}\"", south.id)));
    nora.post(
        &format!("/groups/{}/move", club.id),
        &[("target_id", &south.id.to_string())],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    let club = app.store.group(club.id).expect("read").expect("club");
    assert_ne!(club.parent_id, Some(south.id));
}

#[tokio::test]
async fn move_into_its_own_subtree_or_without_target_is_refused() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let mut b = app.signed_in("admin@demo.example").await;
    let own = b
        .post(
            &format!("/groups/{}/move", club.id),
            &[("target_id", &members.id.to_string())],
        )
        .await;
    assert!(own.status.is_client_error(), "got {}", own.status);
    let none = b
        .post(&format!("/groups/{}/move", club.id), &[("target_id", "x")])
        .await;
    none.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let club_now = app.store.group(club.id).expect("read").expect("club");
    assert_eq!(club_now.parent_id, club.parent_id);
}
