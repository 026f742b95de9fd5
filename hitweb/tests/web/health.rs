//! `/healthz` and `/readyz`: alive without asking the store, ready only
//! when the database answers at the current schema and the storage takes
//! a file, 503 naming the failed check otherwise, and never a cookie or a
//! session.

use std::sync::atomic::Ordering;

use hitcore::storage::StorageLocation;
use poem::http::{StatusCode, header};

use crate::support::{Page, TestApp};

fn checks(page: &Page) -> serde_json::Value {
    assert_eq!(page.header("content-type"), Some("application/json"));
    serde_json::from_str(&page.body).expect("the body is JSON")
}

fn assert_no_cookie(page: &Page) {
    assert!(
        page.headers.get(header::SET_COOKIE).is_none(),
        "no cookie is set: {:?}",
        page.headers
    );
}

#[tokio::test]
async fn healthz_answers_ok_without_asking_the_store() {
    let app = TestApp::new();
    let before = app.calls();

    let page = app.browser().get("/healthz").await;

    page.assert_status(StatusCode::OK);
    assert_eq!(page.body, "ok\n");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_no_cookie(&page);
    assert_eq!(app.calls(), before, "no store call");
}

#[tokio::test]
async fn healthz_stays_ok_while_the_database_is_down() {
    let app = TestApp::new();
    app.store.is_unavailable.store(true, Ordering::SeqCst);

    let page = app.browser().get("/healthz").await;

    page.assert_status(StatusCode::OK);
    assert_eq!(page.body, "ok\n");
}

#[tokio::test]
async fn readyz_is_200_with_every_check_ok_on_a_healthy_store() {
    let app = TestApp::new();
    let before = app.calls();

    let page = app.browser().get("/readyz").await;

    page.assert_status(StatusCode::OK);
    assert_no_cookie(&page);
    let body = checks(&page);
    assert_eq!(
        body,
        serde_json::json!({
            "status": "ready",
            "database": "ok",
            "schema": "ok",
            "storage": "ok",
        })
    );
    assert_eq!(app.calls(), before + 1, "one store call");
}

#[tokio::test]
async fn readyz_is_503_naming_the_database_when_it_is_unreachable() {
    let app = TestApp::new();
    app.store.is_unavailable.store(true, Ordering::SeqCst);

    let page = app.browser().get("/readyz").await;

    page.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_no_cookie(&page);
    let body = checks(&page);
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["database"], "unreachable");
    assert_eq!(body["schema"], "unknown");
    assert_eq!(body["storage"], "ok");
    assert!(!page.body.contains("secret detail"), "{}", page.body);
    assert!(!page.body.contains("refused"), "{}", page.body);

    app.store.is_unavailable.store(false, Ordering::SeqCst);
    app.browser()
        .get("/readyz")
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_503_naming_the_storage_when_it_cannot_take_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("storage");
    let app = TestApp::builder()
        .with_storage(StorageLocation::Folder(root.clone()))
        .build();
    app.browser()
        .get("/readyz")
        .await
        .assert_status(StatusCode::OK);

    // A plain file where the folder should be: no write succeeds there,
    // even for root, who ignores permission bits.
    std::fs::remove_dir_all(&root).expect("folder removed");
    std::fs::write(&root, b"in the way").expect("file in its place");
    // Right after a good probe its answer is reused: an anonymous caller
    // cannot make the process write to the storage on every request.
    app.browser()
        .get("/readyz")
        .await
        .assert_status(StatusCode::OK);
    app.probes.forget_storage();
    let page = app.browser().get("/readyz").await;

    page.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    let body = checks(&page);
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["schema"], "ok");
    // The folder backend reports a file in its way as passing trouble
    // (`unreachable`), a refused bucket as `refused`: either names it.
    assert!(
        ["refused", "unreachable"].contains(&body["storage"].as_str().unwrap_or_default()),
        "{body}"
    );
    let folder = root.display().to_string();
    assert!(!page.body.contains(&folder), "no path: {}", page.body);
}

#[tokio::test]
async fn health_endpoints_leave_a_session_alone_and_need_none() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let cookies = alex.cookie_header();

    for path in ["/healthz", "/readyz"] {
        let page = alex.get(path).await;
        page.assert_status(StatusCode::OK);
        assert_no_cookie(&page);
        assert!(!page.is_full_page(), "{path}: no page around it");
    }
    assert_eq!(alex.cookie_header(), cookies);
    // Still signed in: the probes did not touch the session.
    let home = alex.get("/").await;
    home.assert_status(StatusCode::OK);
    assert!(home.body.contains("sign_out"), "{}", home.body);
}
