//! Messages on the person form's first role and on the contact forms:
//! each refusal shows at the field it is about.

use hitcore::ability::{UpdatePerson, system};
use hitcore::person::ContactInput;
use hitcore::store::PersonRepo;
use poem::http::StatusCode;

use crate::support::{Page, TestApp, unescape};

/// The message shown for `field` (`<p class="field-error" id="<field>-error">`).
fn field_error(page: &Page, field: &str) -> Option<String> {
    let marker = format!("id=\"{field}-error\">");
    let start = page.body.find(&marker)? + marker.len();
    let end = page.body[start..].find("</p>")? + start;
    Some(unescape(&page.body[start..end]))
}

#[tokio::test]
async fn invalid_first_role_label_shows_at_the_role_label_field() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let path = format!("/groups/{}/people", members.id);
    let long = "L".repeat(300);
    for (label, message) in [
        (long.as_str(), "is too long"),
        ("Goal\r\nkeeper", "must be one line only"),
    ] {
        let page = alex
            .post(
                &path,
                &[
                    ("first_name", "Rolf"),
                    ("role_type", "ClubMembers.Active"),
                    ("role_label", label),
                ],
            )
            .await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_error(&page, "role_label").as_deref(), Some(message));
        assert!(page.body.contains("value=\"Rolf\""));
    }
}

#[tokio::test]
async fn contact_label_over_100_characters_is_too_long() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let base = format!("/groups/{}/people/{}", members.id, jan.id);
    let mut alex = app.signed_in("alpha@demo.example").await;

    let label = "x".repeat(101);
    let email = alex
        .post_htmx(
            &format!("{base}/additional_emails"),
            &[("additional_email", "jan@long.example"), ("label", &label)],
        )
        .await;
    email.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_error(&email, "additional_email_label").as_deref(),
        Some("is too long (at most 100 characters)")
    );
    assert!(field_error(&email, "additional_email").is_none());
    // The form keeps what was typed.
    assert!(email.body.contains("value=\"jan@long.example\""));

    let phone = alex
        .post_htmx(
            &format!("{base}/phone_numbers"),
            &[("phone_number", "+41 52 222 22 22"), ("label", &label)],
        )
        .await;
    phone.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_error(&phone, "phone_number_label").as_deref(),
        Some("is too long (at most 100 characters)")
    );
    assert!(
        app.store
            .additional_emails(jan.id)
            .expect("emails")
            .is_empty()
    );
    assert!(app.store.phone_numbers(jan.id).expect("phones").is_empty());

    let fits = alex
        .post_htmx(
            &format!("{base}/phone_numbers"),
            &[
                ("phone_number", "+41 52 222 22 22"),
                ("label", &"x".repeat(100)),
            ],
        )
        .await;
    fits.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn contact_label_with_a_line_break_asks_for_one_line() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    let base = format!("/groups/{}/people/{}", members.id, jan.id);
    let mut alex = app.signed_in("alpha@demo.example").await;
    for (path, value_field, value) in [
        ("additional_emails", "additional_email", "jan@lines.example"),
        ("phone_numbers", "phone_number", "+41 52 333 33 33"),
    ] {
        let page = alex
            .post_htmx(
                &format!("{base}/{path}"),
                &[(value_field, value), ("label", "Pri\r\nvat")],
            )
            .await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let label_field = format!("{value_field}_label");
        assert_eq!(
            field_error(&page, &label_field).as_deref(),
            Some("must be one line only")
        );
        assert!(!page.body.contains("full stop"), "{path}");
        assert!(field_error(&page, value_field).is_none(), "{path}");
    }
    // A full stop at the end still has its own message, at the label.
    let dotted = alex
        .post_htmx(
            &format!("{base}/phone_numbers"),
            &[("phone_number", "+41 52 333 33 33"), ("label", "Priv.")],
        )
        .await;
    dotted.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = field_error(&dotted, "phone_number_label").unwrap_or_default();
    assert!(message.contains("full stop"), "{message}");
}

#[tokio::test]
async fn the_same_additional_email_in_other_case_is_refused() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let jan = app.person("Jan", "Junior");
    app.store
        .add_additional_email(
            &system(UpdatePerson(jan.id)),
            &ContactInput {
                value: "jan@parents.example".to_owned(),
                label: "Mutter".to_owned(),
                is_public: true,
                is_mailing: true,
            },
        )
        .expect("email");
    let base = format!("/groups/{}/people/{}", members.id, jan.id);
    let mut alex = app.signed_in("alpha@demo.example").await;

    let again = alex
        .post_htmx(
            &format!("{base}/additional_emails"),
            &[
                ("additional_email", "Jan@Parents.EXAMPLE"),
                ("label", "Vater"),
            ],
        )
        .await;
    again.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_error(&again, "additional_email").as_deref(),
        Some("is already one of this person's email addresses")
    );
    assert_eq!(
        app.store.additional_emails(jan.id).expect("emails").len(),
        1
    );
}

#[tokio::test]
async fn the_main_email_is_refused_as_additional_email() {
    let app = TestApp::new();
    let members = app.child(&app.group("Club Alpha"), "ClubMembers");
    let tina = app.person("Tina", "Trainer");
    let main = tina.email.clone().expect("Tina has an email");
    let before = app.store.additional_emails(tina.id).expect("emails").len();
    let mut alex = app.signed_in("alpha@demo.example").await;

    let page = alex
        .post_htmx(
            &format!(
                "/groups/{}/people/{}/additional_emails",
                members.id, tina.id
            ),
            &[
                ("additional_email", &main.to_uppercase()),
                ("label", "Arbeit"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_error(&page, "additional_email").as_deref(),
        Some("is this person's main email address already")
    );
    assert_eq!(
        app.store.additional_emails(tina.id).expect("emails").len(),
        before
    );
}
