//! People lists, person pages, person forms and contact accounts.

use std::sync::atomic::Ordering;

use chrono::{NaiveDate, Utc};
use hitcore::ability::{UpdatePerson, system};
use hitcore::group::Address;
use hitcore::person::{ContactInput, PersonPatch};
use hitcore::store::{PersonRepo, RoleRepo};
use poem::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn leader_sees_jan_in_the_list_and_coordinator_does_not() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let path = format!("/groups/{}/people?q=junior", members.id);

    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&path).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Jan Junior"));

    let mut nora = app.signed_in("north@demo.example").await;
    let page = nora.get(&format!("/groups/{}/people", members.id)).await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("Jan Junior"));
    assert!(page.body.contains("Tina Trainer"));
}

#[tokio::test]
async fn people_list_is_refused_to_a_plain_member_of_another_club() {
    let app = TestApp::new();
    let beta_members = app.child(&app.group("Club Beta"), "ClubMembers");
    app.add_login(
        &beta_members,
        "ClubMembers.Active",
        "Bea",
        "bea@beta.example",
    );
    let alpha_members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut bea = app.signed_in("bea@beta.example").await;
    bea.get(&format!("/groups/{}/people", alpha_members.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn people_list_filters_by_text_role_type_and_kind() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let base = format!("/groups/{}/people", members.id);
    let mut alex = app.signed_in("alpha@demo.example").await;

    let trainers = alex
        .get_htmx(&format!("{base}?role_type=ClubMembers.Trainer"))
        .await;
    trainers.assert_status(StatusCode::OK);
    assert!(trainers.body.contains("Tina Trainer"));
    assert!(!trainers.body.contains("Jan Junior"));

    let text = alex.get_htmx(&format!("{base}?q=tina")).await;
    assert!(text.body.contains("Tina Trainer"));
    assert!(!text.body.contains("Jan Junior"));

    let passive = alex.get_htmx(&format!("{base}?kind=passive")).await;
    passive.assert_status(StatusCode::OK);
    assert!(!passive.body.contains("Tina Trainer"));
    assert!(passive.body.contains("Passive member"));

    alex.get(&format!("{base}?kind=bogus"))
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deep_range_is_for_those_allowed() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let deep = alex
        .get(&format!("/groups/{}/people?range=deep", club.id))
        .await;
    deep.assert_status(StatusCode::OK);
    assert!(deep.body.contains("Tina Trainer"));
    assert!(deep.body.contains("Jan Junior"));

    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!("/groups/{}/people?range=deep", members.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn people_list_paginates_by_fifty() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    for i in 0..60 {
        app.add_person(
            &members,
            "ClubMembers.Active",
            PersonPatch {
                first_name: Some(format!("Zed{i:02}")),
                last_name: Some("Zulu".to_owned()),
                ..PersonPatch::default()
            },
        );
    }
    let mut alex = app.signed_in("alpha@demo.example").await;
    let first = alex
        .get(&format!("/groups/{}/people?q=zulu", members.id))
        .await;
    assert_eq!(first.body.matches("id=\"person-row-").count(), 50);
    assert!(first.body.contains("Page 1 of 2"));
    let second = alex
        .get_htmx(&format!("/groups/{}/people?q=zulu&page=2", members.id))
        .await;
    assert_eq!(second.body.matches("id=\"person-row-").count(), 10);
}

#[tokio::test]
async fn people_page_makes_the_same_store_calls_for_5_and_60_people() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let fresh = app.add_group(&club, "Committee", "Counting committee");
    let add = |n: usize| {
        for i in 0..n {
            app.add_person(
                &fresh,
                "Committee.CommitteeMember",
                PersonPatch {
                    first_name: Some(format!("Contact{i}")),
                    last_name: Some("Sponsor".to_owned()),
                    ..PersonPatch::default()
                },
            );
        }
    };
    let mut alex = app.signed_in("alpha@demo.example").await;
    let count = |before: usize, after: usize| after - before;
    let path = format!("/groups/{}/people", fresh.id);

    add(5);
    let before = app.calls();
    let small = alex.get(&path).await;
    let small_calls = count(before, app.calls());
    assert_eq!(small.body.matches("id=\"person-row-").count(), 5);

    add(55);
    let before = app.calls();
    let large = alex.get(&path).await;
    let large_calls = count(before, app.calls());
    assert_eq!(large.body.matches("id=\"person-row-").count(), 50);
    assert_eq!(small_calls, large_calls);
    // One call for the viewer (session, person and stamps; roles and tree
    // come from the cache), the rest for the list.
    assert!(large_calls <= 3, "{large_calls} store calls");

    let before = app.calls();
    alex.get(&format!("/groups/{}", fresh.id)).await;
    assert!(count(before, app.calls()) <= 2);
}

#[tokio::test]
async fn store_failure_shows_a_generic_500_with_a_request_id() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    app.store.fails_people_list.store(true, Ordering::SeqCst);
    let page = alex.get(&format!("/groups/{}/people", members.id)).await;
    page.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.body.contains("Request id"));
    assert!(!page.body.contains("disk on fire"));
    let inline = alex
        .get_htmx(&format!("/groups/{}/people", members.id))
        .await;
    inline.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!inline.is_full_page());
    assert!(!inline.body.contains("disk on fire"));
}

#[tokio::test]
async fn jan_is_hidden_from_the_coordinator_but_shown_to_club_people() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let path = format!("/groups/{}/people/{}", members.id, jan.id);

    let mut nora = app.signed_in("north@demo.example").await;
    nora.get(&path).await.assert_status(StatusCode::FORBIDDEN);
    nora.get(&format!("{path}/edit"))
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&path).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Jan Junior"));
    assert!(
        page.body.contains("2012"),
        "birthday shown with show_details"
    );
    alex.get(&format!("{path}/edit"))
        .await
        .assert_status(StatusCode::OK);
    let saved = alex
        .post(
            &path,
            &[
                ("first_name", "Jan"),
                ("last_name", "Junior"),
                ("nickname", "Jj"),
            ],
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.person(jan.id).expect("read").expect("exists");
    assert_eq!(stored.nickname.as_deref(), Some("Jj"));

    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&path).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn contact_data_viewer_sees_only_public_fields() {
    let app = TestApp::new();
    let gamma = app.group("Club Gamma");
    let leader = app.add_person(
        &gamma,
        "Club.ClubLeader",
        PersonPatch {
            first_name: Some("Gabi".to_owned()),
            last_name: Some("Gamma".to_owned()),
            email: Some("gabi@gamma.example".to_owned()),
            birthday: NaiveDate::from_ymd_opt(1980, 4, 2),
            address: Address {
                street: Some("Hiddenstreet".to_owned()),
                ..Address::default()
            },
            ..PersonPatch::default()
        },
    );
    let permit = system(UpdatePerson(leader.id));
    let phone = |number: &str, is_public| ContactInput {
        value: number.to_owned(),
        label: "Mobil".to_owned(),
        is_public,
        is_mailing: false,
    };
    app.store
        .add_phone_number(&permit, &phone("+41 79 111 11 11", true))
        .expect("public phone");
    app.store
        .add_phone_number(&permit, &phone("+41 79 222 22 22", false))
        .expect("private phone");

    let path = format!("/groups/{}/people/{}", gamma.id, leader.id);
    let mut nora = app.signed_in("north@demo.example").await;
    let page = nora.get(&path).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("gabi@gamma.example"));
    assert!(page.body.contains("+41 79 111 11 11"));
    assert!(!page.body.contains("+41 79 222 22 22"));
    assert!(!page.body.contains("Hiddenstreet"));
    assert!(!page.body.contains("1980"));

    let mut admin = app.signed_in("admin@demo.example").await;
    let full = admin.get(&path).await;
    assert!(full.body.contains("+41 79 222 22 22"));
    assert!(full.body.contains("Hiddenstreet"));
}

#[tokio::test]
async fn person_link_leads_to_the_primary_group() {
    let app = TestApp::new();
    let tina = app.person("Tina", "Trainer");
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/people/{}", tina.id)).await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        format!("/groups/{}/people/{}", members.id, tina.id)
    );
    alex.get("/people/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trainer_creates_members_but_not_board_members() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let board = app.child(&club, "ClubBoard");
    let mut tina = app.signed_in("trainer@demo.example").await;

    tina.get(&format!("/groups/{}/people/new", members.id))
        .await
        .assert_status(StatusCode::OK);
    let created = tina
        .post(
            &format!("/groups/{}/people", members.id),
            &[
                ("first_name", "Nina"),
                ("last_name", "Neu"),
                ("email", "nina@neu.example"),
                ("role_type", "ClubMembers.Active"),
                ("role_label", "Goalkeeper"),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    let nina = app.person("Nina", "Neu");
    let roles = app.store.roles_of_person(nina.id).expect("roles");
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].label.as_deref(), Some("Goalkeeper"));
    assert_eq!(
        created.location(),
        format!("/groups/{}/people/{}", members.id, nina.id)
    );

    tina.get(&format!("/groups/{}/people/new", board.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(
        &format!("/groups/{}/people", board.id),
        &[("first_name", "Eve"), ("role_type", "ClubBoard.President")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn duplicate_email_and_missing_name_show_on_the_form() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let path = format!("/groups/{}/people", members.id);
    let taken = alex
        .post(
            &path,
            &[
                ("first_name", "Copy"),
                ("email", "Trainer@demo.example"),
                ("role_type", "ClubMembers.Active"),
            ],
        )
        .await;
    taken.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("is already taken"));
    assert!(taken.body.contains("value=\"Copy\""));

    let nameless = alex
        .post(
            &path,
            &[
                ("email", "x@y.example"),
                ("role_type", "ClubMembers.Active"),
            ],
        )
        .await;
    nameless.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nameless.body.contains("Enter a first name"));

    let jan = app.person("Jan", "Junior");
    let edit_taken = alex
        .post(
            &format!("{path}/{}", jan.id),
            &[("first_name", "Jan"), ("email", "alpha@demo.example")],
        )
        .await;
    edit_taken.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(edit_taken.body.contains("is already taken"));
}

#[tokio::test]
async fn trainer_edits_members_but_not_board_members() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let board = app.child(&club, "ClubBoard");
    let president = app
        .people_in(&board)
        .into_iter()
        .find(|p| p.roles.iter().any(|r| r.role_type == "ClubBoard.President"))
        .expect("a president")
        .person;
    let mut tina = app.signed_in("trainer@demo.example").await;
    let path = format!("/groups/{}/people/{}", board.id, president.id);
    tina.get(&format!("{path}/edit"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(&path, &[("first_name", "Hacked")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn email_is_read_only_without_update_email() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let board = app.child(&club, "ClubBoard");
    let both = app.add_person(
        &members,
        "ClubMembers.Active",
        PersonPatch {
            first_name: Some("Bo".to_owned()),
            last_name: Some("Both".to_owned()),
            email: Some("bo@both.example".to_owned()),
            ..PersonPatch::default()
        },
    );
    app.add_role(&both, &board, "ClubBoard.BoardMember");
    let path = format!("/groups/{}/people/{}", members.id, both.id);

    let mut tina = app.signed_in("trainer@demo.example").await;
    let form = tina.get(&format!("{path}/edit")).await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("readonly"));
    let saved = tina
        .post(
            &path,
            &[("first_name", "Bo"), ("email", "new@both.example")],
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.person(both.id).expect("read").expect("exists");
    assert_eq!(stored.email.as_deref(), Some("bo@both.example"));

    let mut alex = app.signed_in("alpha@demo.example").await;
    let form = alex.get(&format!("{path}/edit")).await;
    assert!(!form.body.contains(" readonly"));
    alex.post(
        &path,
        &[("first_name", "Bo"), ("email", "new@both.example")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let stored = app.store.person(both.id).expect("read").expect("exists");
    assert_eq!(stored.email.as_deref(), Some("new@both.example"));
}

#[tokio::test]
async fn contacts_are_added_and_removed_inline() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let base = format!("/groups/{}/people/{}", members.id, jan.id);
    let mut tina = app.signed_in("trainer@demo.example").await;

    let added = tina
        .post_htmx(
            &format!("{base}/additional_emails"),
            &[
                ("additional_email", "jan@parents.example"),
                ("label", "Mutter"),
                ("is_public", "1"),
            ],
        )
        .await;
    added.assert_status(StatusCode::OK);
    assert!(!added.is_full_page());
    assert!(added.body.contains("id=\"person-contacts\""));
    assert!(added.body.contains("jan@parents.example"));

    let phone = tina
        .post_htmx(
            &format!("{base}/phone_numbers"),
            &[("phone_number", "+41 52 000 00 00"), ("label", "Privat")],
        )
        .await;
    assert!(phone.body.contains("+41 52 000 00 00"));
    let bad = tina
        .post_htmx(
            &format!("{base}/phone_numbers"),
            &[("phone_number", "call me"), ("label", "X")],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("not a valid phone number"));

    let emails = app.store.additional_emails(jan.id).expect("emails");
    let removed = tina
        .delete_htmx(&format!("{base}/contacts/{}", emails[0].id))
        .await;
    removed.assert_status(StatusCode::OK);
    assert!(!removed.body.contains("jan@parents.example"));

    let phones = app.store.phone_numbers(jan.id).expect("phones");
    let plain = tina
        .post(&format!("{base}/contacts/{}/delete", phones[0].id), &[])
        .await;
    plain.assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.phone_numbers(jan.id).expect("phones").is_empty());

    let kept = app
        .store
        .add_phone_number(
            &system(UpdatePerson(jan.id)),
            &ContactInput {
                value: "+41 52 111 11 11".to_owned(),
                label: "Privat".to_owned(),
                is_public: true,
                is_mailing: false,
            },
        )
        .expect("phone");
    let mut nora = app.signed_in("north@demo.example").await;
    nora.post_htmx(
        &format!("{base}/additional_emails"),
        &[("additional_email", "x@y.example"), ("label", "Privat")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    nora.post_htmx(
        &format!("{base}/phone_numbers"),
        &[("phone_number", "+41 52 000 00 01"), ("label", "Privat")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    nora.delete_htmx(&format!("{base}/contacts/{}", kept.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    nora.post(&format!("{base}/contacts/{}/delete", kept.id), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.store.phone_numbers(jan.id).expect("phones").len(), 1);
}

#[tokio::test]
async fn unknown_people_are_not_found() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    for path in [
        format!("/groups/{}/people/999999", members.id),
        format!("/groups/{}/people/999999/edit", members.id),
        "/groups/999999/people".to_owned(),
        "/groups/999999/people/new".to_owned(),
    ] {
        alex.get(&path).await.assert_status(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn person_language_decides_the_page_language() {
    let app = TestApp::new();
    let tina = app.person("Tina", "Trainer");
    let permit = system(UpdatePerson(tina.id));
    let patch = PersonPatch {
        first_name: tina.first_name.clone(),
        last_name: tina.last_name.clone(),
        email: tina.email.clone(),
        language: Some("de".to_owned()),
        ..PersonPatch::default()
    };
    app.store
        .update_person(&permit, None, &patch, Utc::now())
        .expect("saved");
    let mut b = app.signed_in("trainer@demo.example").await;
    let page = b.get("/").await;
    assert!(page.body.contains("Meine Gruppen und Rollen"));
}

#[tokio::test]
async fn root_user_sees_people_hidden_from_above() {
    let app = TestApp::builder().with_root("north@demo.example").build();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut nora = app.signed_in("north@demo.example").await;
    nora.get(&format!("/groups/{}/people/{}", members.id, jan.id))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn invalid_contact_from_a_plain_form_shows_the_edit_page_with_messages() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .post(
            &format!("/groups/{}/people/{}/additional_emails", members.id, jan.id),
            &[("additional_email", "not-an-email"), ("label", "Privat")],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.is_full_page());
    assert!(page.body.contains("id=\"person-form\""));
    assert!(page.body.contains("is not a valid email address"));
}
