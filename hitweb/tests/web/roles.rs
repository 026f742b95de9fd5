//! Roles: the inline add and end on the person page, the role forms.

use hitcore::store::RoleRepo;
use poem::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn role_is_added_inline_as_one_row() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let person_page = alex
        .get(&format!("/groups/{}/people/{}", members.id, jan.id))
        .await;
    assert!(person_page.body.contains("id=\"role-form\""));
    assert!(person_page.body.contains("hx-post"));

    let pid = jan.id.to_string();
    let row = alex
        .post_htmx(
            &format!("/groups/{}/roles", members.id),
            &[
                ("person_id", &pid),
                ("role_type", "ClubMembers.Active"),
                ("label", "Striker"),
                ("inline", "1"),
            ],
        )
        .await;
    row.assert_status(StatusCode::OK);
    assert!(!row.is_full_page());
    assert!(row.body.trim_start().starts_with("<li"));
    assert!(row.body.contains("Striker"));
    let roles = app.store.roles_of_person(jan.id).expect("roles");
    let added = roles
        .iter()
        .find(|r| r.label.as_deref() == Some("Striker"))
        .expect("added");
    assert!(row.body.contains(&format!("id=\"role-row-{}\"", added.id)));
}

#[tokio::test]
async fn invalid_inline_role_replaces_the_form_with_messages() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let pid = jan.id.to_string();
    let page = alex
        .post_htmx(
            &format!("/groups/{}/roles", members.id),
            &[
                ("person_id", &pid),
                ("role_type", "Nope.Nothing"),
                ("inline", "1"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.header("HX-Retarget"), Some("#role-form"));
    assert_eq!(page.header("HX-Reswap"), Some("outerHTML"));
    assert!(page.body.contains("is not a role of this group"));
}

#[tokio::test]
async fn role_forms_and_plain_create_work_for_the_leader() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let form = alex
        .get(&format!(
            "/groups/{}/roles/new?person_id={}",
            members.id, jan.id
        ))
        .await;
    form.assert_status(StatusCode::OK);
    assert!(form.is_full_page());

    let pid = jan.id.to_string();
    let bad_dates = alex
        .post(
            &format!("/groups/{}/roles", members.id),
            &[
                ("person_id", &pid),
                ("role_type", "ClubMembers.Active"),
                ("start_on", "2025-05-01"),
                ("end_on", "2025-04-01"),
            ],
        )
        .await;
    bad_dates.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_dates.body.contains("must not be before the start"));

    let created = alex
        .post(
            &format!("/groups/{}/roles", members.id),
            &[("person_id", &pid), ("role_type", "ClubMembers.Active")],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        created.location(),
        format!("/groups/{}/people/{}", members.id, jan.id)
    );
}

#[tokio::test]
async fn trainer_may_not_hand_out_board_roles() {
    let app = TestApp::new();
    let board = app.child(&app.group("Club Alpha"), "ClubBoard");
    let jan = app.person("Jan", "Junior");
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!(
        "/groups/{}/roles/new?person_id={}",
        board.id, jan.id
    ))
    .await
    .assert_status(StatusCode::FORBIDDEN);
    let pid = jan.id.to_string();
    tina.post(
        &format!("/groups/{}/roles", board.id),
        &[("person_id", &pid), ("role_type", "ClubBoard.President")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn role_label_is_edited_by_the_leader_but_not_by_the_trainer_on_the_board() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let board = app.child(&club, "ClubBoard");
    let jan = app.person("Jan", "Junior");
    let jan_role = app.store.roles_of_person(jan.id).expect("roles")[0].clone();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let path = format!("/groups/{}/roles/{}", members.id, jan_role.id);
    alex.get(&format!("{path}/edit"))
        .await
        .assert_status(StatusCode::OK);
    alex.post(&path, &[("label", "Captain"), ("start_on", "2024-01-01")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.role(jan_role.id).expect("read").expect("exists");
    assert_eq!(stored.label.as_deref(), Some("Captain"));

    let board_role = app.people_in(&board)[0].roles[0].clone();
    let board_path = format!("/groups/{}/roles/{}", board.id, board_role.id);
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!("{board_path}/edit"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(&board_path, &[("label", "Boss")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // The role is in another group than the URL says: not found.
    alex.get(&format!(
        "/groups/{}/roles/{}/edit",
        members.id, board_role.id
    ))
    .await
    .assert_status(StatusCode::NOT_FOUND);
    alex.get(&format!("/groups/{}/roles/999999/edit", members.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn role_is_ended_inline_and_the_row_swaps() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let role = app.store.roles_of_person(jan.id).expect("roles")[0].clone();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .get(&format!("/groups/{}/people/{}", members.id, jan.id))
        .await;
    assert!(page.body.contains(&format!(
        "hx-delete=\"&#x2f;groups&#x2f;{}&#x2f;roles&#x2f;{}\"",
        members.id, role.id
    )));

    let row = alex
        .delete_htmx(&format!("/groups/{}/roles/{}", members.id, role.id))
        .await;
    row.assert_status(StatusCode::OK);
    match app.store.role(role.id).expect("read") {
        None => assert!(row.body.trim().is_empty(), "a deleted role leaves no row"),
        Some(ended) => {
            assert!(ended.end_on.is_some());
            assert!(row.body.contains(&format!("id=\"role-row-{}\"", role.id)));
            assert!(row.body.contains("role-ended"));
            assert!(!row.body.contains("hx-delete"));
        }
    }
}

#[tokio::test]
async fn role_removal_by_plain_form_redirects() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let role = app.store.roles_of_person(jan.id).expect("roles")[0].clone();
    let mut tina = app.signed_in("trainer@demo.example").await;
    let page = tina
        .post(
            &format!("/groups/{}/roles/{}/delete", members.id, role.id),
            &[],
        )
        .await;
    page.assert_status(StatusCode::SEE_OTHER);
    let role_now = app.store.role(role.id).expect("read");
    assert!(role_now.is_none_or(|r| r.end_on.is_some()));
}

#[tokio::test]
async fn own_leader_role_and_board_roles_cannot_be_ended_by_the_wrong_people() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let board = app.child(&club, "ClubBoard");
    let alex = app.person("Alex", "Alpha");
    let own = app.store.roles_of_person(alex.id).expect("roles")[0].clone();
    let mut alex_b = app.signed_in("alpha@demo.example").await;
    let refused = alex_b
        .delete_htmx(&format!("/groups/{}/roles/{}", club.id, own.id))
        .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(refused.body.contains("your own role"));

    let board_role = app.people_in(&board)[0].roles[0].clone();
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.delete_htmx(&format!("/groups/{}/roles/{}", board.id, board_role.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(
        &format!("/groups/{}/roles/{}/delete", board.id, board_role.id),
        &[],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
}

// Regression: Nora (layer_and_below_full in Region North) could give Jan, who
// is invisible to her, a role in her own layer and then see and edit him.
#[tokio::test]
async fn role_for_a_person_one_may_not_see_is_refused() {
    let app = TestApp::new();
    let region_members = app.child(&app.group("Region North"), "RegionMembers");
    let jan = app.person("Jan", "Junior");
    let before = app.store.roles_of_person(jan.id).expect("roles").len();
    let mut nora = app.signed_in("north@demo.example").await;
    let pid = jan.id.to_string();
    nora.post(
        &format!("/groups/{}/roles", region_members.id),
        &[("person_id", &pid), ("role_type", "RegionMembers.Member")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    nora.get(&format!(
        "/groups/{}/roles/new?person_id={pid}",
        region_members.id
    ))
    .await
    .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.roles_of_person(jan.id).expect("roles").len(),
        before
    );
    nora.get(&format!("/groups/{}/people/{}", region_members.id, jan.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn inline_role_form_preselects_the_standard_role() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .get(&format!("/groups/{}/people/{}", members.id, jan.id))
        .await;
    assert!(
        page.body.contains("value=\"ClubMembers.Active\" selected"),
        "the standard role is preselected"
    );
    assert!(!page.body.contains("value=\"ClubMembers.Trainer\" selected"));
}
