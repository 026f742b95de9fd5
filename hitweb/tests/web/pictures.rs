//! Person pictures: uploading (as the person, as a leader, refused for
//! those who may not edit), serving exactly to those who may see the
//! person, removing, and the refusals of the form (CSRF, bad files).

use std::io::Cursor;

use hitcore::person::Person;
use hitcore::store::PersonRepo;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use poem::http::{StatusCode, header};
use poem::test::{TestForm, TestFormField, TestRequestBuilder};

use crate::support::{Browser, TestApp};

/// A 400 × 300 JPEG photo.
fn photo() -> Vec<u8> {
    let picture = RgbImage::from_fn(400, 300, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, ImageFormat::Jpeg)
        .expect("encoded");
    out.into_inner()
}

/// How an upload carries its CSRF token.
#[derive(Clone, Copy, PartialEq)]
enum Token {
    /// The first form field, as the page's form sends it.
    Field,
    /// The `X-CSRF-Token` header, as htmx sends it.
    Header,
    /// A field after the file.
    AfterFile,
    Missing,
    Forged,
}

/// A response, with the body kept as bytes.
struct Reply {
    status: StatusCode,
    headers: poem::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn reply(resp: poem::test::TestResponse) -> Reply {
    let status = resp.0.status();
    let headers = resp.0.headers().clone();
    let body = resp.0.into_body().into_vec().await.expect("body");
    Reply {
        status,
        headers,
        body,
    }
}

/// Posts `file` (named `photo.jpg`, declared a JPEG, whatever it holds) to
/// the picture form of `person` in `group`.
async fn upload(
    app: &TestApp,
    b: &Browser<'_>,
    group: i64,
    person: &Person,
    file: Vec<u8>,
    token: Token,
) -> Reply {
    let file = TestFormField::bytes(file)
        .name("picture")
        .filename("photo.jpg")
        .content_type("image/jpeg");
    let csrf = match token {
        Token::Forged => "Zm9yZ2VkIHRva2Vu".to_owned(),
        _ => b.csrf_token().to_owned(),
    };
    let form = match token {
        Token::Field | Token::Forged => {
            TestForm::new().text("csrf_token", csrf.clone()).field(file)
        }
        Token::AfterFile => TestForm::new().field(file).text("csrf_token", csrf.clone()),
        Token::Header | Token::Missing => TestForm::new().field(file),
    };
    let mut req = app
        .cli
        .post(format!("/groups/{group}/people/{}/picture", person.id))
        .multipart(form);
    req = with_cookies(req, b);
    if token == Token::Header {
        req = req.header("X-CSRF-Token", csrf);
    }
    reply(req.send().await).await
}

/// `req` with the cookies of `b`.
fn with_cookies<'a, E: poem::Endpoint>(
    req: TestRequestBuilder<'a, E>,
    b: &Browser<'_>,
) -> TestRequestBuilder<'a, E> {
    let cookies = b.cookie_header();
    if cookies.is_empty() {
        req
    } else {
        req.header(header::COOKIE, cookies)
    }
}

/// Gets a picture URL as `b`.
async fn fetch(app: &TestApp, b: &Browser<'_>, path: &str) -> Reply {
    let mut req = app.cli.get(path.to_owned());
    req = with_cookies(req, b);
    reply(req.send().await).await
}

/// `text` as the templates write it into attributes (`/` escaped).
fn html(text: &str) -> String {
    text.replace('/', "&#x2f;")
}

fn picture_url(person: &Person) -> String {
    format!("/people/{}/picture", person.id)
}

fn assert_square_jpeg(r: &Reply, side: u32) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header(header::CONTENT_TYPE), Some("image/jpeg"));
    let picture = image::load_from_memory(&r.body).expect("a picture");
    assert_eq!((picture.width(), picture.height()), (side, side));
}

#[tokio::test]
async fn a_person_uploads_their_own_picture_and_sees_it() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut b = app.signed_in("trainer@demo.example").await;
    let page_path = format!("/groups/{}/people/{}", members.id, tina.id);
    b.get(&page_path).await.assert_status(StatusCode::OK);

    let sent = upload(&app, &b, members.id.0, &tina, photo(), Token::Field).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert_eq!(sent.header(header::LOCATION), Some(page_path.as_str()));

    let stored = app
        .store
        .person_picture(tina.id)
        .expect("read")
        .expect("a picture");
    let page = b.get(&page_path).await;
    page.assert_status(StatusCode::OK);
    let src = format!("src=\"/people/{}/picture?v={}\"", tina.id, stored.version());
    assert!(page.body.contains(&html(&src)), "{}", page.body);

    let thumb = fetch(&app, &b, &picture_url(&tina)).await;
    assert_square_jpeg(&thumb, 256);
    assert_eq!(
        thumb.header(header::CACHE_CONTROL),
        Some("private, no-cache")
    );
    let small = fetch(&app, &b, &format!("{}?size=small", picture_url(&tina))).await;
    assert_square_jpeg(&small, 32);
    let bad = fetch(&app, &b, &format!("{}?size=huge", picture_url(&tina))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_new_picture_replaces_the_old_one_and_revalidates() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut b = app.signed_in("trainer@demo.example").await;
    b.get(&format!("/groups/{}/people/{}", members.id, tina.id))
        .await;

    upload(&app, &b, members.id.0, &tina, photo(), Token::Field).await;
    let first = app
        .store
        .person_picture(tina.id)
        .expect("read")
        .expect("set");
    let etag = fetch(&app, &b, &picture_url(&tina))
        .await
        .header(header::ETAG)
        .expect("an ETag")
        .to_owned();
    let mut req = app
        .cli
        .get(picture_url(&tina))
        .header(header::IF_NONE_MATCH, etag.clone());
    req = with_cookies(req, &b);
    assert_eq!(
        reply(req.send().await).await.status,
        StatusCode::NOT_MODIFIED
    );

    upload(&app, &b, members.id.0, &tina, photo(), Token::Field).await;
    let second = app
        .store
        .person_picture(tina.id)
        .expect("read")
        .expect("set");
    assert_ne!(first.version(), second.version());
    let again = fetch(&app, &b, &picture_url(&tina)).await;
    assert_ne!(again.header(header::ETAG), Some(etag.as_str()));
}

#[tokio::test]
async fn a_leader_uploads_the_picture_of_a_member() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let edit = alex
        .get(&format!("/groups/{}/people/{}/edit", members.id, jan.id))
        .await;
    edit.assert_status(StatusCode::OK);
    assert!(edit.body.contains("enctype=\"multipart/form-data\""));

    let sent = upload(&app, &alex, members.id.0, &jan, photo(), Token::Field).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert!(app.store.person_picture(jan.id).expect("read").is_some());
    assert_square_jpeg(&fetch(&app, &alex, &picture_url(&jan)).await, 256);
}

#[tokio::test]
async fn someone_who_may_not_edit_cannot_upload_or_remove() {
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
    let page = tina
        .get(&format!("/groups/{}/people/{}", board.id, president.id))
        .await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("multipart/form-data"), "no upload form");

    let sent = upload(&app, &tina, board.id.0, &president, photo(), Token::Field).await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.person_picture(president.id).expect("read"), None);
    tina.post(
        &format!(
            "/groups/{}/people/{}/picture/delete",
            board.id, president.id
        ),
        &[],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_picture_is_served_exactly_to_those_who_may_see_the_person() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let beta_members = app.child(&app.group("Club Beta"), "ClubMembers");
    app.add_login(
        &beta_members,
        "ClubMembers.Active",
        "Bea",
        "bea@beta.example",
    );
    let tina = app.person("Tina", "Trainer");
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.get(&format!("/groups/{}/people/{}", members.id, jan.id))
        .await;
    for person in [&tina, &jan] {
        let sent = upload(&app, &alex, members.id.0, person, photo(), Token::Field).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    }

    let mut seen = 0;
    for email in [
        "alpha@demo.example",
        "trainer@demo.example",
        "north@demo.example",
        "bea@beta.example",
    ] {
        let mut viewer = app.signed_in(email).await;
        for person in [&tina, &jan] {
            let page = viewer
                .get(&format!("/groups/{}/people/{}", members.id, person.id))
                .await;
            let picture = fetch(&app, &viewer, &picture_url(person)).await;
            if page.status == StatusCode::OK {
                assert_eq!(picture.status, StatusCode::OK, "{email} sees {}", person.id);
                seen += 1;
            } else {
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
                assert_eq!(
                    picture.status,
                    StatusCode::FORBIDDEN,
                    "{email}: {}",
                    person.id
                );
                assert!(
                    !picture.body.starts_with(&[0xFF, 0xD8]),
                    "no JPEG for {email}"
                );
            }
        }
    }
    // Alex and Tina see both, Nora only Tina, Bea neither.
    assert_eq!(seen, 5);

    let anonymous = app.browser();
    let picture = fetch(&app, &anonymous, &picture_url(&tina)).await;
    assert_eq!(picture.status, StatusCode::SEE_OTHER, "sign in first");
}

#[tokio::test]
async fn a_person_without_a_picture_is_a_private_404() {
    let app = TestApp::new();
    let tina = app.person("Tina", "Trainer");
    let b = app.signed_in("trainer@demo.example").await;
    let missing = fetch(&app, &b, &picture_url(&tina)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.header(header::CACHE_CONTROL),
        Some("private, no-cache")
    );
    let nobody = fetch(&app, &b, "/people/987654/picture").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_picture_can_be_removed() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut b = app.signed_in("trainer@demo.example").await;
    let page_path = format!("/groups/{}/people/{}", members.id, tina.id);
    b.get(&page_path).await;
    upload(&app, &b, members.id.0, &tina, photo(), Token::Field).await;
    let page = b.get(&page_path).await;
    assert!(
        page.body
            .contains(&html(&format!("{page_path}/picture/delete")))
    );

    let removed = b.post(&format!("{page_path}/picture/delete"), &[]).await;
    removed.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(removed.location(), page_path);
    assert_eq!(app.store.person_picture(tina.id).expect("read"), None);
    assert_eq!(
        fetch(&app, &b, &picture_url(&tina)).await.status,
        StatusCode::NOT_FOUND
    );
    let page = b.get(&page_path).await;
    assert!(!page.body.contains(&html("/picture?v=")));
}

#[tokio::test]
async fn an_upload_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut b = app.signed_in("trainer@demo.example").await;
    b.get(&format!("/groups/{}/people/{}", members.id, tina.id))
        .await;
    for token in [Token::Missing, Token::Forged, Token::AfterFile] {
        let sent = upload(&app, &b, members.id.0, &tina, photo(), token).await;
        assert_eq!(sent.status, StatusCode::FORBIDDEN);
        assert_eq!(app.store.person_picture(tina.id).expect("read"), None);
    }
    b.send(
        poem::http::Method::POST,
        &format!("/groups/{}/people/{}/picture/delete", members.id, tina.id),
        false,
        Some(&[]),
        crate::support::Token::Missing,
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);

    let sent = upload(&app, &b, members.id.0, &tina, photo(), Token::Header).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "htmx's header works");
}

/// A JPEG whose header claims 60,000 × 60,000 pixels.
fn bomb() -> Vec<u8> {
    let mut bytes = photo();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a frame header");
    bytes[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    bytes
}

#[tokio::test]
async fn a_bad_file_shows_the_form_with_its_message() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut b = app.signed_in("trainer@demo.example").await;
    b.get(&format!("/groups/{}/people/{}", members.id, tina.id))
        .await;
    let mut too_big = photo();
    too_big.resize(hitcore::picture::MAX_BYTES + 1, 0);
    let mut truncated = photo();
    truncated.truncate(200);
    for (file, message) in [
        (
            b"GIF? no, a text file".to_vec(),
            "is not a JPEG, PNG, GIF or WebP picture",
        ),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            "is not a JPEG",
        ),
        (Vec::new(), "Choose a picture file first"),
        (too_big, "larger than 10 MiB"),
        (bomb(), "more than 40 megapixels"),
        (truncated, "cannot be read"),
    ] {
        let sent = upload(&app, &b, members.id.0, &tina, file, Token::Field).await;
        assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let body = sent.text();
        assert!(body.contains(message), "{message}: {body}");
        assert!(body.contains("id=\"picture-error\""), "{message}");
        assert!(body.contains("<!doctype html>"), "the whole edit page");
        // A regression: the message sat far below the top of the page,
        // out of sight; it also comes first now.
        let alert = body.find("role=\"alert\"").expect("an alert on top");
        assert!(alert < body.find("<h1>").expect("the heading"), "{message}");
        assert!(body[alert..].contains(message), "{message}");
        assert_eq!(app.store.person_picture(tina.id).expect("read"), None);
    }
}

#[tokio::test]
async fn a_body_declared_larger_than_any_upload_is_refused_unread() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let b = app.signed_in("trainer@demo.example").await;
    let mut req = app
        .cli
        .post(format!("/groups/{}/people/{}/picture", members.id, tina.id))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .header(header::CONTENT_LENGTH, "20000000")
        .body("--x--");
    req = with_cookies(req, &b);
    assert_eq!(
        reply(req.send().await).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn other_forms_keep_their_one_mebibyte_limit() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let mut b = app.signed_in("trainer@demo.example").await;
    b.get(&format!("/groups/{}/people/{}", members.id, tina.id))
        .await;
    let big = "x".repeat(2 * 1024 * 1024);
    b.post(
        &format!("/groups/{}/people/{}/picture/delete", members.id, tina.id),
        &[("padding", big.as_str())],
    )
    .await
    .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_name_in_the_pictures_alt_text_is_escaped() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let evil = app.add_person(
        &members,
        "ClubMembers.Active",
        hitcore::person::PersonPatch {
            first_name: Some("\"><script>alert(1)</script>".to_owned()),
            last_name: Some("Evil".to_owned()),
            ..hitcore::person::PersonPatch::default()
        },
    );
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page_path = format!("/groups/{}/people/{}", members.id, evil.id);
    alex.get(&page_path).await;
    let sent = upload(&app, &alex, members.id.0, &evil, photo(), Token::Field).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let page = alex.get(&page_path).await;
    assert!(
        page.body
            .contains("alt=\"Picture of &quot;&gt;&lt;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
}
