//! `person.invitation` and `person.password_reset`: the mails that carry a
//! set-password link (issue 5, item 2).
//!
//! The job makes the token itself when it runs, so no secret ever sits in
//! the jobs table; the store keeps only its hash and the mail carries the
//! token. The mail is written in the person's language (the
//! organisation's first language when there is no template in theirs),
//! from `templates/mail/<kind>.<language>.txt` (a `Subject: ` line, a
//! blank line, the text) and `.html` beside it, and goes out as
//! multipart/alternative through the configured [`crate::mail::Mailer`].
//! A temporary failure (4xx, no connection) fails the attempt, which the
//! runner retries with back-off; a permanent one (5xx, an address the
//! server refuses for good) is kept as failed at once.
//!
//! Who may ask for which mail is decided before the job is enqueued
//! (`hitcore::ability::permit_send_login`, the reset form); the job checks
//! again only what may have changed since: the person is still there and
//! has an email, and no other reset mail went out in the last minutes.

use std::time::{Duration, SystemTime};

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use hitcore::jobs::JobKind;
use hitcore::login_token::{self, NewLoginToken, TokenPurpose};
use hitcore::mail::{Envelope, OutgoingMail};
use hitcore::person::Person;
use hitcore::store::Store;
use hitcore::{Organisation, PersonId};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use serde::{Deserialize, Serialize};

use super::Services;
use crate::mail::{Mailer, SendError};
use crate::mail_text;
use crate::registry::{JobContext, PermanentFailure};

/// Mail a person a link to set their first password ("Send login").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInvitation {
    pub person_id: PersonId,
}

impl JobKind for PersonInvitation {
    const KIND: &'static str = "person.invitation";
    /// Rendering and one SMTP transaction take seconds.
    const MAX_RUN: Duration = Duration::from_secs(2 * 60);
    /// With the default back-off, about an hour of retries: a mail server
    /// down for longer than that is an incident, and the person can ask
    /// again.
    const MAX_ATTEMPTS: u32 = 8;
}

/// Mail a person a link to set a new password ("Forgot password?").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub person_id: PersonId,
}

impl JobKind for PasswordReset {
    const KIND: &'static str = "person.password_reset";
    const MAX_RUN: Duration = Duration::from_secs(2 * 60);
    const MAX_ATTEMPTS: u32 = 8;
}

/// Runs a `person.invitation` job.
pub(super) fn invitation<S: Store + ?Sized>(
    job: PersonInvitation,
    ctx: &JobContext<'_, S>,
    services: &Services,
) -> anyhow::Result<()> {
    send_login_mail(job.person_id, TokenPurpose::Invitation, ctx, services)
}

/// Runs a `person.password_reset` job.
pub(super) fn password_reset<S: Store + ?Sized>(
    job: PasswordReset,
    ctx: &JobContext<'_, S>,
    services: &Services,
) -> anyhow::Result<()> {
    send_login_mail(job.person_id, TokenPurpose::PasswordReset, ctx, services)
}

#[tracing::instrument(skip_all, fields(person.id = %id, token.purpose = %purpose))]
fn send_login_mail<S: Store + ?Sized>(
    id: PersonId,
    purpose: TokenPurpose,
    ctx: &JobContext<'_, S>,
    services: &Services,
) -> anyhow::Result<()> {
    let store = ctx.store();
    let now = ctx.now();
    let person = store.person(id).context("while reading the person")?;
    let Some((person, email)) = person.and_then(|p| p.email.clone().map(|e| (p, e))) else {
        tracing::info!(person.id = %id, "Person {id} is gone or has no email; no {purpose} mail");
        return Ok(());
    };
    // The resend limit applies to the request, not to the retries of its
    // own job, whose first attempt may have made a token already.
    if purpose == TokenPurpose::PasswordReset && ctx.job().attempts <= 1 {
        let newest = store
            .newest_open_login_token(id, purpose, now)
            .context("while reading the person's open tokens")?;
        if !login_token::may_send_reset(newest, now) {
            tracing::info!(person.id = %id, "A reset mail went to person {id} minutes ago; not sending another");
            return Ok(());
        }
    }
    let sender = match (purpose, ctx.job().enqueued_by) {
        (TokenPurpose::Invitation, Some(by)) => store
            .person(by)
            .context("while reading who asked for the invitation")?
            .map(|p| p.display_name()),
        _ => None,
    };

    let (raw, record) = NewLoginToken::issue(id, purpose, now);
    store
        .create_login_token(&record)
        .context("while storing the token")?;
    let view = LoginMailView {
        name: person.greeting_name().to_owned(),
        email: email.clone(),
        organisation: services.org.name.clone(),
        sender: sender.unwrap_or_else(|| services.org.name.clone()),
        link: format!(
            "{}/users/password/edit?token={}",
            services.mail.base_url,
            raw.as_str()
        ),
        valid_hours: purpose.validity().num_hours(),
        valid_days: purpose.validity().num_days(),
    };
    let lang = mail_language(&person, &services.org, purpose);
    let rendered = render_login_mail(purpose, lang, &view)?;
    let (mail, message_id) = build_message(&rendered, &services.mail.from, &person, &email, now)?;
    deliver(services.mailer.as_ref(), &mail)?;
    tracing::info!(
        person.id = %id,
        mail.message_id = %message_id,
        "Sent a {purpose} mail to person {id}"
    );
    Ok(())
}

/// What the login mail templates see.
#[derive(Clone, Debug, Serialize)]
struct LoginMailView {
    /// The greeting name of the person.
    name: String,
    /// Their login.
    email: String,
    organisation: String,
    /// Who sent the invitation (the organisation when nobody did).
    sender: String,
    link: String,
    valid_hours: i64,
    valid_days: i64,
}

/// A rendered mail: the subject, the plain text and the HTML body.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RenderedMail {
    subject: String,
    text: String,
    html: String,
}

/// The first of the person's language, the organisation's first language
/// and English that has a template for `purpose`.
fn mail_language<'a>(person: &'a Person, org: &'a Organisation, purpose: TokenPurpose) -> &'a str {
    [person.language.as_str(), org.default_language()]
        .into_iter()
        .find(|lang| mail_text::has_language(&purpose.to_string(), lang))
        .unwrap_or("en")
}

/// Renders `<purpose>.<lang>.txt` and `.html`.
fn render_login_mail(
    purpose: TokenPurpose,
    lang: &str,
    view: &LoginMailView,
) -> anyhow::Result<RenderedMail> {
    let name = purpose.to_string();
    let text = mail_text::render(&name, lang, view)?;
    let html = mail_text::render_html(&name, lang, view)?;
    Ok(RenderedMail {
        subject: text.subject,
        text: text.body,
        html,
    })
}

/// The message with its envelope, and its Message-ID (for the log).
///
/// # Errors
/// A [`PermanentFailure`] when the sender or the person's address is not
/// one lettre accepts: another attempt would not change that.
fn build_message(
    rendered: &RenderedMail,
    from: &str,
    person: &Person,
    email: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(OutgoingMail, String)> {
    let permanent = |what: &str| anyhow::Error::new(PermanentFailure(what.to_owned()));
    let from_address: lettre::Address = from
        .parse()
        .map_err(|_| permanent("the sender address (MAIL_FROM) is not valid"))?;
    let to_address: lettre::Address = email
        .parse()
        .map_err(|_| permanent("the person's email is not a valid address"))?;
    let message_id = format!(
        "<{}@{}>",
        &hitcore::auth::new_token()[..32],
        from_address.domain()
    );
    let name = Some(person.display_name()).filter(|n| !n.is_empty());
    let message = Message::builder()
        .message_id(Some(message_id.clone()))
        .date(SystemTime::from(now))
        .from(Mailbox::new(None, from_address))
        .to(Mailbox::new(name, to_address))
        .subject(rendered.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .context("while building the message")?;
    let mail = OutgoingMail {
        envelope: Envelope {
            from: Some(from.to_owned()),
            to: vec![email.to_owned()],
        },
        message: message.formatted(),
    };
    Ok((mail, message_id))
}

/// Hands the mail over; temporary failures come back as plain errors
/// (retried), permanent ones as [`PermanentFailure`].
fn deliver(mailer: &dyn Mailer, mail: &OutgoingMail) -> anyhow::Result<()> {
    let delivery = match mailer.send(mail) {
        Ok(delivery) => delivery,
        Err(SendError::Permanent(reason)) => {
            return Err(anyhow::Error::new(PermanentFailure(reason)));
        }
        Err(e) => return Err(anyhow::Error::new(e)),
    };
    if !delivery.accepted.is_empty() {
        return Ok(());
    }
    // The one recipient was refused at RCPT TO. Its reply names the
    // address, so only the code goes into the error (and the log).
    match delivery.refused.first() {
        Some(r) if r.is_permanent => Err(anyhow::Error::new(PermanentFailure(format!(
            "the mail server refused the recipient ({})",
            r.code
        )))),
        Some(r) => Err(anyhow!(
            "the mail server refused the recipient for now ({})",
            r.code
        )),
        None => Err(anyhow!("the mail server accepted no recipient")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;

    fn view(name: &str) -> LoginMailView {
        LoginMailView {
            name: name.to_owned(),
            email: "ann@example.test".to_owned(),
            organisation: "Demo & Co".to_owned(),
            sender: "Alex <Alpha>".to_owned(),
            link: "http://127.0.0.1:3000/users/password/edit?token=abc_-1".to_owned(),
            valid_hours: 48,
            valid_days: 7,
        }
    }

    #[rstest]
    #[case(
        TokenPurpose::PasswordReset,
        "en",
        "Set a new password for Demo & Co",
        "48 hours"
    )]
    #[case(
        TokenPurpose::PasswordReset,
        "de",
        "Neues Passwort für Demo & Co",
        "48 Stunden"
    )]
    #[case(TokenPurpose::Invitation, "en", "Your login to Demo & Co", "7 days")]
    #[case(TokenPurpose::Invitation, "de", "Dein Login für Demo & Co", "7 Tage")]
    fn login_mails_render_in_both_languages_with_the_link(
        #[case] purpose: TokenPurpose,
        #[case] lang: &str,
        #[case] subject: &str,
        #[case] validity: &str,
    ) {
        let mail = render_login_mail(purpose, lang, &view("Ann")).expect("renders");
        assert_eq!(mail.subject, subject);
        let link = "http://127.0.0.1:3000/users/password/edit?token=abc_-1";
        assert!(mail.text.contains(link), "{}", mail.text);
        assert!(mail.text.contains(validity), "{}", mail.text);
        let escaped_link = link.replace('/', "&#x2f;");
        assert!(
            mail.html.contains(&format!("href=\"{escaped_link}\"")),
            "{}",
            mail.html
        );
        assert!(mail.text.starts_with(if lang == "de" {
            "Hallo Ann"
        } else {
            "Hello Ann"
        }));
    }

    #[rstest]
    #[case(TokenPurpose::PasswordReset)]
    #[case(TokenPurpose::Invitation)]
    fn names_are_escaped_in_html_and_left_alone_in_text(#[case] purpose: TokenPurpose) {
        let mail = render_login_mail(purpose, "en", &view("<b>Ann</b>")).expect("renders");
        assert!(
            mail.html.contains("&lt;b&gt;Ann&lt;&#x2f;b&gt;"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<b>Ann"), "{}", mail.html);
        assert!(mail.text.contains("Hello <b>Ann</b>,"), "{}", mail.text);
        assert!(mail.html.contains("Demo &amp; Co"), "{}", mail.html);
    }

    fn person(language: &str) -> Person {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        Person {
            id: PersonId(4),
            first_name: Some("Änne".to_owned()),
            last_name: Some("Müller".to_owned()),
            nickname: None,
            company_name: None,
            is_company: false,
            email: Some("anne@example.test".to_owned()),
            address: Default::default(),
            gender: None,
            birthday: None,
            language: language.to_owned(),
            additional_information: None,
            primary_group_id: None,
            contact_data_visible: false,
            created_at: t,
            updated_at: t,
        }
    }

    fn org(languages: &str) -> Organisation {
        let toml = format!(
            "[organisation]\nname = \"Mail test\"\nroot = \"Root\"\nlanguages = {languages}\n\n\
             [group_types.Root]\nlayer = true\n"
        );
        Organisation::from_toml(&toml, "mail-test.toml").expect("a valid definition")
    }

    #[rstest]
    #[case("de", r#"["en", "de"]"#, "de")]
    #[case("en", r#"["de", "en"]"#, "en")]
    #[case("fr", r#"["de", "fr"]"#, "de")]
    #[case("fr", r#"["it", "fr"]"#, "en")]
    fn the_mail_is_in_the_persons_language_else_the_organisations(
        #[case] language: &str,
        #[case] languages: &str,
        #[case] expected: &str,
    ) {
        let org = org(languages);
        let p = person(language);
        assert_eq!(
            mail_language(&p, &org, TokenPurpose::PasswordReset),
            expected
        );
    }

    #[test]
    fn the_message_is_multipart_alternative_with_the_headers_a_server_needs() {
        let rendered =
            render_login_mail(TokenPurpose::PasswordReset, "de", &view("Änne")).expect("renders");
        let now = Utc
            .with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
            .single()
            .expect("valid");
        let (mail, message_id) = build_message(
            &rendered,
            "noreply@example.test",
            &person("de"),
            "anne@example.test",
            now,
        )
        .expect("built");
        assert_eq!(mail.envelope.from.as_deref(), Some("noreply@example.test"));
        assert_eq!(mail.envelope.to, vec!["anne@example.test"]);
        let text = String::from_utf8_lossy(&mail.message);
        assert!(
            text.contains(&format!("Message-ID: {message_id}")),
            "{text}"
        );
        assert!(message_id.ends_with("@example.test>"), "{message_id}");
        assert!(
            text.contains("Date: Fri, 01 May 2026 09:00:00 +0000"),
            "{text}"
        );
        assert!(text.contains("From: noreply@example.test"), "{text}");
        assert!(text.contains("anne@example.test"), "{text}");
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/plain"), "{text}");
        assert!(text.contains("text/html"), "{text}");
        assert!(text.contains("\r\n"), "lines end in CRLF");
        // Non-ASCII headers are encoded, never sent raw.
        let headers = text.split("\r\n\r\n").next().unwrap_or("");
        assert!(headers.is_ascii(), "{headers}");
    }

    #[test]
    fn an_address_lettre_refuses_is_a_permanent_failure() {
        let rendered =
            render_login_mail(TokenPurpose::Invitation, "en", &view("Ann")).expect("renders");
        let now = Utc
            .with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
            .single()
            .expect("valid");
        let e = build_message(
            &rendered,
            "noreply@example.test",
            &person("en"),
            "not an address",
            now,
        )
        .expect_err("refused");
        assert!(e.downcast_ref::<PermanentFailure>().is_some(), "{e:#}");
    }
}
