//! Event kinds, qualification kinds and categories: everybody signed in
//! reads the lists, only administrators change them ("Other subjects" of
//! section 4.3); the forms' messages, soft deletion of kinds in use, and
//! escaping.

use chrono::Utc;
use hitcore::ability::{ManageKinds, system};
use hitcore::event::kind::{
    EventKindPatch, KindQualification, LinkCategory, LinkRole, LinkValidity, QualificationKind,
    QualificationKindPatch,
};
use hitcore::store::QualificationRepo;
use poem::http::StatusCode;

use crate::support::{TestApp, unescape};

const ADMIN: &str = "admin@demo.example";
const LEADER: &str = "alpha@demo.example";

fn qualification_kind(app: &TestApp, label: &str) -> QualificationKind {
    let patch = QualificationKindPatch {
        label: Some(label.to_owned()),
        validity: Some(2),
        ..QualificationKindPatch::default()
    };
    app.store
        .create_qualification_kind(&system(ManageKinds), &patch, Utc::now())
        .expect("kind created")
}

#[tokio::test]
async fn admin_creates_a_qualification_kind_and_an_event_kind_with_links() {
    let app = TestApp::new();
    let mut ada = app.signed_in(ADMIN).await;
    let form = ada.get("/qualification_kinds/new").await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("id=\"qualification-kind-form\""));
    assert!(form.body.contains("name=\"csrf_token\""));
    ada.post(
        "/qualification_kinds",
        &[
            ("label", "Test rescue"),
            ("validity", "3"),
            ("reactivateable", "2"),
            ("required_training_days", "1,5"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let kind = app
        .store
        .qualification_kinds(false)
        .expect("kinds")
        .into_iter()
        .find(|k| k.label == "Test rescue")
        .expect("created");
    assert_eq!(kind.required_training_days, Some(1.5));

    let form = ada.get("/event_kinds/new").await;
    form.assert_status(StatusCode::OK);
    let qualification_box = format!("link_{}_qualification_participant", kind.id);
    assert!(form.body.contains(&qualification_box), "{}", form.body);
    let precondition_box = format!("link_{}_precondition_participant", kind.id);
    let grouping = format!("grouping_{}", kind.id);
    let validity = format!("validity_{}", kind.id);
    ada.post(
        "/event_kinds",
        &[
            ("label", "Test course"),
            ("short_name", "TC"),
            ("minimum_age", "16"),
            (&qualification_box, "1"),
            (&precondition_box, "1"),
            (&grouping, "1"),
            (&validity, "valid"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let created = app
        .store
        .event_kinds(false)
        .expect("kinds")
        .into_iter()
        .find(|k| k.label == "Test course")
        .expect("created");
    assert_eq!(created.minimum_age, Some(16));
    assert_eq!(created.qualifications.len(), 2);
    assert!(
        created
            .qualifications
            .iter()
            .any(|l| l.category == LinkCategory::Precondition
                && l.grouping == Some(1)
                && l.validity == LinkValidity::Valid)
    );

    let index = ada.get("/event_kinds").await;
    index.assert_status(StatusCode::OK);
    assert!(index.body.contains("Test course"));
    assert!(index.body.contains("Test rescue"));

    let edit = ada.get(&format!("/event_kinds/{}/edit", created.id)).await;
    edit.assert_status(StatusCode::OK);
    assert!(
        edit.body
            .contains(&format!("name=\"{qualification_box}\" value=\"1\""))
    );
    assert!(edit.body.contains("checked"));
}

#[tokio::test]
async fn everybody_reads_the_lists_but_only_admins_change_them() {
    let app = TestApp::new();
    let kind = qualification_kind(&app, "Test aid");
    let mut alex = app.signed_in(LEADER).await;
    for path in [
        "/event_kinds",
        "/qualification_kinds",
        "/event_kind_categories",
    ] {
        let page = alex.get(path).await;
        page.assert_status(StatusCode::OK);
        assert!(
            !page.body.contains("/delete\""),
            "no delete buttons on {path}"
        );
    }
    assert!(
        alex.get("/qualification_kinds")
            .await
            .body
            .contains("Test aid")
    );
    for path in [
        "/event_kinds/new".to_owned(),
        "/qualification_kinds/new".to_owned(),
        "/event_kind_categories/new".to_owned(),
        format!("/qualification_kinds/{}/edit", kind.id),
    ] {
        alex.get(&path).await.assert_status(StatusCode::FORBIDDEN);
    }
    alex.post("/qualification_kinds", &[("label", "Sneaky")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    alex.post(&format!("/qualification_kinds/{}/delete", kind.id), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    alex.post("/event_kind_categories", &[("label", "Sneaky")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let labels: Vec<String> = app
        .store
        .qualification_kinds(true)
        .expect("kinds")
        .into_iter()
        .map(|k| k.label)
        .collect();
    assert!(!labels.contains(&"Sneaky".to_owned()));
    assert!(
        app.store
            .event_kind_categories()
            .expect("c")
            .iter()
            .all(|c| c.label != "Sneaky")
    );

    app.browser()
        .get("/event_kinds")
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn invalid_input_shows_the_messages_in_the_form() {
    let app = TestApp::new();
    let mut ada = app.signed_in(ADMIN).await;
    let page = ada
        .post(
            "/qualification_kinds",
            &[("label", ""), ("reactivateable", "2"), ("validity", "x")],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"label-error\""), "{}", page.body);
    assert!(page.body.contains("id=\"validity-error\""));
    let htmx = ada.post_htmx("/event_kinds", &[("label", " ")]).await;
    htmx.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(htmx.body.contains("id=\"event-kind-form\""));
    assert!(!htmx.is_full_page());

    qualification_kind(&app, "Test aid");
    let taken = ada
        .post("/qualification_kinds", &[("label", "Test aid")])
        .await;
    taken.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("id=\"label-error\""));
}

#[tokio::test]
async fn kinds_in_use_are_hidden_instead_of_deleted() {
    let app = TestApp::new();
    let used = qualification_kind(&app, "Test used");
    let unused = qualification_kind(&app, "Test unused");
    let patch = EventKindPatch {
        label: Some("Test linking".into()),
        qualifications: vec![KindQualification {
            qualification_kind_id: used.id,
            category: LinkCategory::Qualification,
            role: LinkRole::Participant,
            grouping: None,
            validity: LinkValidity::ValidOrExpired,
        }],
        ..EventKindPatch::default()
    };
    app.store
        .create_event_kind(&system(ManageKinds), &patch, Utc::now())
        .expect("event kind");
    let mut ada = app.signed_in(ADMIN).await;
    for k in [&used, &unused] {
        ada.post(&format!("/qualification_kinds/{}/delete", k.id), &[])
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    let page = ada.get("/qualification_kinds").await;
    assert!(!page.body.contains("Test used"));
    assert!(!page.body.contains("Test unused"));
    let kept = app.store.qualification_kind(used.id).expect("read");
    assert!(kept.is_some_and(|k| k.deleted_at.is_some()), "soft-deleted");
    assert!(
        app.store
            .qualification_kind(unused.id)
            .expect("read")
            .is_none()
    );
    ada.get(&format!("/qualification_kinds/{}/edit", used.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn categories_are_managed_and_kind_labels_are_escaped() {
    let app = TestApp::new();
    let mut ada = app.signed_in(ADMIN).await;
    ada.post(
        "/event_kind_categories",
        &[("label", "<b>Training</b>"), ("order", "2")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let page = ada.get("/event_kind_categories").await;
    assert!(page.body.contains("&lt;b&gt;Training"), "{}", page.body);
    assert!(!page.body.contains("<b>Training"));
    let category = app
        .store
        .event_kind_categories()
        .expect("categories")
        .into_iter()
        .find(|c| c.label == "<b>Training</b>")
        .expect("created");
    ada.post(
        &format!("/event_kind_categories/{}", category.id),
        &[("label", "Training"), ("order", "x")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    ada.post(
        &format!("/event_kind_categories/{}/delete", category.id),
        &[],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let page = ada.get("/event_kind_categories").await;
    assert!(!unescape(&page.body).contains("<b>Training</b>"));
}
