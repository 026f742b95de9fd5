//! `/dev/mails`: the folder transport's messages, for root only, and only
//! while the folder transport is the one configured.

use std::path::Path;

use hitjobs::config::MailConfig;
use hitjobs::mail::{Envelope, FolderMailer, Mailer, OutgoingMail};
use poem::http::StatusCode;

use crate::support::TestApp;

const ROOT: &str = "north@demo.example";

fn mail_config(vars: &[(&str, String)]) -> MailConfig {
    MailConfig::from_lookup(
        |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        },
        "sqlite::memory:",
    )
    .expect("valid mail settings")
}

fn write_mail(dir: &Path, subject: &str, body: &str) {
    let mail = OutgoingMail {
        envelope: Envelope {
            from: Some("noreply@example.test".to_owned()),
            to: vec!["ann@people.example.test".to_owned()],
        },
        message: format!(
            "From: noreply@example.test\r\nTo: ann@people.example.test\r\n\
             Subject: {subject}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n{body}\r\n"
        )
        .into_bytes(),
    };
    FolderMailer::new(dir).send(&mail).expect("written");
}

#[tokio::test]
async fn root_sees_the_folder_mails_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_mail(
        dir.path(),
        "Reset <b>now</b>",
        "Follow <script>alert(1)</script>",
    );
    let app = TestApp::builder()
        .with_root(ROOT)
        .with_mail(mail_config(&[(
            "MAIL_FOLDER",
            dir.path().display().to_string(),
        )]))
        .build();
    let mut root = app.signed_in(ROOT).await;

    let page = root.get("/dev/mails").await;
    page.assert_status(StatusCode::OK);
    // minijinja escapes `/` as well.
    assert!(
        page.body.contains("Reset &lt;b&gt;now&lt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<b>now"), "{}", page.body);
    assert!(page.body.contains("ann@people.example.test"));
    let id = std::fs::read_dir(dir.path())
        .expect("listed")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with(".eml"))
        .expect("a message file");

    let page = root.get(&format!("/dev/mails/{id}")).await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.body.contains("Follow &lt;script&gt;alert(1)&lt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
    root.get("/dev/mails/..%2Fsecret.eml")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_root_may_read_the_dev_mails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::builder()
        .with_root(ROOT)
        .with_mail(mail_config(&[(
            "MAIL_FOLDER",
            dir.path().display().to_string(),
        )]))
        .build();
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.get("/dev/mails")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_the_folder_transport_there_is_no_dev_mails_page() {
    let app = TestApp::builder()
        .with_root(ROOT)
        .with_mail(mail_config(&[(
            "SMTP_URL",
            "smtp://127.0.0.1:25".to_owned(),
        )]))
        .build();
    let mut root = app.signed_in(ROOT).await;
    root.get("/dev/mails")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
