//! "Forgot password?", the set-password page a mailed link leads to, and
//! "Send login": the whole way from the form through the job and the mail
//! to signing in with the new password, and what a used, expired or
//! mangled link, an unknown address, someone without the right and a
//! missing CSRF token each get.

use chrono::{Duration, Utc};
use hitcore::login_token::{NewLoginToken, RawToken, TokenPurpose};
use hitcore::store::{JobQueue, TokenRepo};
use poem::http::{Method, StatusCode};

use crate::support::{DEMO_PASSWORD, TestApp, Token};

const NEW_PASSWORD: &str = "a brand new password";

/// The messages the jobs sent, as text with quoted-printable soft breaks
/// and `=3D` undone (enough to read links and headers).
fn sent_mails(app: &TestApp) -> Vec<String> {
    app.mailer
        .take()
        .into_iter()
        .map(|m| {
            String::from_utf8_lossy(&m.message)
                .replace("=\r\n", "")
                .replace("=3D", "=")
        })
        .collect()
}

/// The path and query of the set-password link in a mail.
fn link_path(mail: &str) -> String {
    let start = mail
        .find("http://127.0.0.1:3000/users/password/edit?token=")
        .expect("a set-password link");
    let link: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_:/.?=".contains(*c))
        .collect();
    link.trim_start_matches("http://127.0.0.1:3000").to_owned()
}

/// Asks for a reset of `email`, runs the jobs and returns the mails sent.
async fn request_reset(app: &TestApp, email: &str) -> (crate::support::Page, Vec<String>) {
    let mut b = app.browser();
    b.get("/users/password/new")
        .await
        .assert_status(StatusCode::OK);
    let page = b.post("/users/password", &[("email", email)]).await;
    app.run_jobs();
    (page, sent_mails(app))
}

async fn sign_in_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    let mut b = app.browser();
    b.get("/users/sign_in").await;
    b.post(
        "/users/sign_in",
        &[("email", email), ("password", password)],
    )
    .await
    .status
}

#[tokio::test]
async fn the_sign_in_page_links_to_forgot_password() {
    let app = TestApp::new();
    let page = app.browser().get("/users/sign_in").await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("href=\"/users/password/new\""));
    assert!(page.body.contains("Forgot password?"));
}

#[tokio::test]
async fn a_reset_mail_leads_to_a_new_password_that_signs_in() {
    let app = TestApp::new();
    let (answer, mails) = request_reset(&app, "Trainer@demo.example").await;
    answer.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/users/sign_in");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.contains("To: \"Tina Trainer\" <trainer@demo.example>"),
        "{mail}"
    );
    assert!(mail.contains("Subject: Set a new password"), "{mail}");
    assert!(mail.contains("multipart/alternative"), "{mail}");

    let mut b = app.browser();
    let path = link_path(mail);
    let form = b.get(&path).await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("name=\"password_confirmation\""));
    // Showing the form does not use the link up.
    b.get(&path).await.assert_status(StatusCode::OK);

    let token = path.split("token=").nth(1).expect("a token").to_owned();
    let done = b
        .post(
            "/users/password/edit",
            &[
                ("token", &token),
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    done.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/users/sign_in");
    let signed_out = b.get("/users/sign_in").await;
    assert!(
        signed_out.body.contains("Your password is set"),
        "{}",
        signed_out.body
    );

    assert_eq!(
        sign_in_status(&app, "trainer@demo.example", NEW_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in_status(&app, "trainer@demo.example", DEMO_PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old password no longer works"
    );

    // The link works once.
    let again = b.get(&path).await;
    again.assert_status(StatusCode::GONE);
    assert!(again.body.contains("href=\"/users/password/new\""));
    let reuse = b
        .post(
            "/users/password/edit",
            &[
                ("token", &token),
                ("password", "yet another password"),
                ("password_confirmation", "yet another password"),
            ],
        )
        .await;
    reuse.assert_status(StatusCode::GONE);
    assert_eq!(
        sign_in_status(&app, "trainer@demo.example", NEW_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_reset_ends_the_persons_sessions() {
    let app = TestApp::new();
    let mut tina = app.signed_in("trainer@demo.example").await;
    let (_, mails) = request_reset(&app, "trainer@demo.example").await;
    let path = link_path(&mails[0]);
    let token = path.split("token=").nth(1).expect("a token").to_owned();
    let mut b = app.browser();
    b.get(&path).await;
    b.post(
        "/users/password/edit",
        &[
            ("token", &token),
            ("password", NEW_PASSWORD),
            ("password_confirmation", NEW_PASSWORD),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let after = tina.get("/users/edit").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the old session ended");
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_answer_and_no_mail() {
    let app = TestApp::new();
    let (known, known_mails) = request_reset(&app, "trainer@demo.example").await;
    let (unknown, unknown_mails) = request_reset(&app, "nobody@nowhere.example").await;
    assert_eq!(known_mails.len(), 1);
    assert!(unknown_mails.is_empty());
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.location(), unknown.location());
    assert_eq!(
        known.header("set-cookie").is_some(),
        unknown.header("set-cookie").is_some()
    );
}

#[tokio::test]
async fn a_second_request_within_minutes_sends_no_second_mail() {
    let app = TestApp::new();
    let (_, first) = request_reset(&app, "trainer@demo.example").await;
    let (second_answer, second) = request_reset(&app, "trainer@demo.example").await;
    assert_eq!(first.len(), 1);
    assert!(second.is_empty(), "no flood of reset mails");
    second_answer.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(second_answer.location(), "/users/sign_in");
}

#[tokio::test]
async fn an_expired_link_is_refused_with_a_way_to_ask_again() {
    let app = TestApp::new();
    let tina = app.person("Tina", "Trainer");
    let made = Utc::now() - Duration::hours(49);
    let (raw, record) = NewLoginToken::issue(tina.id, TokenPurpose::PasswordReset, made);
    app.store.create_login_token(&record).expect("stored");

    let mut b = app.browser();
    let path = format!("/users/password/edit?token={}", raw.as_str());
    let page = b.get(&path).await;
    page.assert_status(StatusCode::GONE);
    assert!(
        page.body.contains("This link no longer works"),
        "{}",
        page.body
    );
    b.get("/users/sign_in").await;
    let post = b
        .post(
            "/users/password/edit",
            &[
                ("token", raw.as_str()),
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    post.assert_status(StatusCode::GONE);
    assert_eq!(
        sign_in_status(&app, "trainer@demo.example", DEMO_PASSWORD).await,
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
}

#[tokio::test]
async fn mangled_and_unknown_links_are_refused() {
    let app = TestApp::new();
    let mut b = app.browser();
    let unknown = RawToken::generate();
    for path in [
        "/users/password/edit".to_owned(),
        "/users/password/edit?token=".to_owned(),
        "/users/password/edit?token=%3Cscript%3E".to_owned(),
        format!("/users/password/edit?token={}", unknown.as_str()),
    ] {
        b.get(&path).await.assert_status(StatusCode::GONE);
    }
}

#[tokio::test]
async fn a_short_password_re_renders_the_form_and_keeps_the_link() {
    let app = TestApp::new();
    let (_, mails) = request_reset(&app, "trainer@demo.example").await;
    let path = link_path(&mails[0]);
    let token = path.split("token=").nth(1).expect("a token").to_owned();
    let mut b = app.browser();
    b.get(&path).await;
    let page = b
        .post(
            "/users/password/edit",
            &[
                ("token", &token),
                ("password", "short"),
                ("password_confirmation", "short"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("12 to 128"), "{}", page.body);
    b.get(&path).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_leader_sends_a_login_that_sets_a_first_password() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let page_path = format!("/groups/{}/people/{}", members.id, tina.id);

    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&page_path).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Send login"), "{}", page.body);
    let sent = alex.post(&format!("{page_path}/send_login"), &[]).await;
    sent.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(sent.location(), page_path);

    app.run_jobs();
    let mails = sent_mails(&app);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Your login to"), "{}", mails[0]);
    assert!(mails[0].contains("Alex Alpha invites you"), "{}", mails[0]);

    let path = link_path(&mails[0]);
    let token = path.split("token=").nth(1).expect("a token").to_owned();
    let mut b = app.browser();
    b.get(&path).await.assert_status(StatusCode::OK);
    b.post(
        "/users/password/edit",
        &[
            ("token", &token),
            ("password", NEW_PASSWORD),
            ("password_confirmation", NEW_PASSWORD),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        sign_in_status(&app, "trainer@demo.example", NEW_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn someone_without_the_right_gets_403_and_no_button() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let alex = app.person("Alex", "Alpha");
    let page_path = format!("/groups/{}/people/{}", club.id, alex.id);

    let mut tina = app.signed_in("trainer@demo.example").await;
    let page = tina.get(&page_path).await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("Send login"), "{}", page.body);
    tina.post(&format!("{page_path}/send_login"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // Nor on oneself: that is what "Forgot password?" is for.
    let members = app.child(&club, "ClubMembers");
    let own = format!(
        "/groups/{}/people/{}",
        members.id,
        app.person("Tina", "Trainer").id
    );
    assert!(!tina.get(&own).await.body.contains("Send login"));
    tina.post(&format!("{own}/send_login"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);

    assert_eq!(app.store.open_job_count().expect("count"), 0);
    app.run_jobs();
    assert!(sent_mails(&app).is_empty());
}

#[tokio::test]
async fn the_password_forms_need_a_csrf_token() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let send_login = format!("/groups/{}/people/{}/send_login", members.id, tina.id);
    let token = RawToken::generate();
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        ("/users/password", vec![("email", "trainer@demo.example")]),
        (
            "/users/password/edit",
            vec![
                ("token", token.as_str()),
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        ),
        (send_login.as_str(), vec![]),
    ];
    for (path, fields) in &cases {
        for how in [Token::Missing, Token::Forged] {
            let page = alex
                .send(Method::POST, path, false, Some(fields), how)
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        }
    }
    assert_eq!(
        app.store.open_job_count().expect("count"),
        0,
        "nothing queued"
    );
}
