//! The two messages the relay itself writes: the one answer to a sender
//! who may not post, and a bounce of list mail passed back to the person
//! who posted it.
//!
//! Both leave with the null envelope sender and `Auto-Submitted`, so that
//! nothing can answer them and no loop can start. Their text is rendered
//! by the caller from templates; this module only builds the messages,
//! with ids derived from their input instead of a random generator.

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use super::RelaySettings;
use super::header::{clean_text, is_plain_address, push_line_breaks_as_crlf};
use super::inspect::Inspection;
use crate::mail::{Envelope, OutgoingMail};

/// `Auto-Submitted` ([RFC 3834]), so that responders stay quiet.
///
/// [RFC 3834]: https://www.rfc-editor.org/rfc/rfc3834#section-5
#[derive(Clone, Debug)]
struct AutoSubmitted(&'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        match s.trim() {
            "auto-replied" => Ok(Self("auto-replied")),
            "auto-generated" => Ok(Self("auto-generated")),
            _ => Err("unsupported Auto-Submitted value".into()),
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

/// `X-Auto-Response-Suppress: All`, which Exchange honours instead of
/// `Auto-Submitted`.
#[derive(Clone, Debug)]
struct SuppressAutoResponse;

impl Header for SuppressAutoResponse {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".to_owned())
    }
}

/// The one reply to a sender who may not post, or whose message is too
/// large.
///
/// From the noreply address to the sender, In-Reply-To and References
/// the original Message-ID, `Auto-Submitted: auto-replied`, null envelope
/// sender. `now` is its Date; its Message-ID is derived from the original
/// message's key and the text, so a retried run writes the same message.
///
/// `None` when nobody may be answered: no usable sender address, an
/// automatic message or null return path (never answer a machine, case
/// 6), a sender in the list domain or the noreply address itself (our own
/// mail), or a noreply address that is not an address.
pub fn rejection_reply(
    inspection: &Inspection,
    settings: &RelaySettings,
    subject: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Option<OutgoingMail> {
    if inspection.automated.is_some() || inspection.return_path.as_deref() == Some("") {
        return None;
    }
    let sender = inspection.sender.as_ref()?;
    let to = recipient(&sender.email, settings)?;

    let mut builder = base(
        settings,
        to,
        subject,
        now,
        // The same for a retried run; different for each text about the
        // message (a rejection, each list's delivery report).
        &id_from(
            b"reject",
            [&inspection.message_key, subject, text]
                .join("\0")
                .as_bytes(),
        ),
    )?
    .header(AutoSubmitted("auto-replied"));
    if let Some(id) = &inspection.message_id {
        builder = builder
            .in_reply_to(format!("<{id}>"))
            .references(format!("<{id}>"));
    }
    // `singlepart` (not `body`) so that the message says MIME-Version
    // along with its encoding.
    let message = builder
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(without_final_line_breaks(text)),
        )
        .ok()?;
    Some(outgoing(message, &sender.email))
}

/// A bounce of our list mail, passed to the list message's original
/// sender: a new message from the noreply address with the bounce
/// attached whole as `message/rfc822`, `Auto-Submitted: auto-generated`,
/// null envelope sender. `now` is its Date.
///
/// `None` when `original_sender` is not an address we may write to (see
/// `rejection_reply`) or the noreply address is invalid.
pub fn returned_bounce(
    raw: &[u8],
    original_sender: &str,
    settings: &RelaySettings,
    subject: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Option<OutgoingMail> {
    let email = original_sender.trim().to_ascii_lowercase();
    let to = recipient(&email, settings)?;
    let id = id_from(b"bounce", raw);
    let boundary = format!("hit-{}", &id[..32]);
    let mixed = ContentType::parse(&format!("multipart/mixed; boundary=\"{boundary}\"")).ok()?;

    let parts = MultiPart::builder()
        .header(mixed)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(without_final_line_breaks(text)),
        )
        .singlepart(attached_message(raw)?);
    let message = base(settings, to, subject, now, &id)?
        .header(AutoSubmitted("auto-generated"))
        .multipart(parts)
        .ok()?;
    Some(outgoing(message, &email))
}

/// The returned message as a `message/rfc822` part. RFC 2046 allows only
/// 7bit or 8bit there, so the message goes in as it is, its line breaks
/// made CRLF, whenever it qualifies: no NUL and no line over 998 octets.
/// Lettre would choose quoted-printable for any line of 76 or more, which
/// most bounces have.
fn attached_message(raw: &[u8]) -> Option<SinglePart> {
    use lettre::message::header::ContentTransferEncoding;

    let rfc822 = ContentType::parse("message/rfc822").ok()?;
    let mut crlf = Vec::with_capacity(raw.len() + raw.len() / 32);
    push_line_breaks_as_crlf(&mut crlf, raw, b"\r\n");
    let body = if fits_8bit(&crlf) {
        let encoding = if crlf.is_ascii() {
            ContentTransferEncoding::SevenBit
        } else {
            ContentTransferEncoding::EightBit
        };
        Body::dangerous_pre_encoded(crlf, encoding)
    } else {
        // TODO: a returned message with a NUL or a line over 998 octets
        // goes out base64-encoded, which RFC 2046 does not allow for
        // message/rfc822 (most clients read it anyway); sending it as
        // `binary` would need BINARYMIME support from the outgoing server.
        Body::new_with_encoding(raw.to_vec(), ContentTransferEncoding::Base64)
            .unwrap_or_else(Body::new)
    };
    Some(SinglePart::builder().header(rfc822).body(body))
}

/// Whether CRLF-broken `bytes` may go as 7bit or 8bit (RFC 2045 2.7,
/// 2.8): no NUL, and at most 998 octets between line breaks.
fn fits_8bit(bytes: &[u8]) -> bool {
    !bytes.contains(&0)
        && bytes
            .split(|&b| b == b'\n')
            .all(|line| line.strip_suffix(b"\r").unwrap_or(line).len() <= 998)
}

/// `text` without the line breaks it ends in: the part ends the body
/// with exactly one.
fn without_final_line_breaks(text: &str) -> String {
    text.trim_end_matches(['\r', '\n']).to_owned()
}

/// The builder every relay message starts from.
fn base(
    settings: &RelaySettings,
    to: Mailbox,
    subject: &str,
    now: DateTime<Utc>,
    id: &str,
) -> Option<lettre::message::MessageBuilder> {
    let from: Address = settings.noreply_address.trim().parse().ok()?;
    let domain = from.domain().to_owned();
    Some(
        Message::builder()
            .from(Mailbox::new(None, from))
            .to(to)
            .subject(clean_text(subject))
            .date(now.into())
            .message_id(Some(format!("<{}@{domain}>", &id[..40])))
            .header(SuppressAutoResponse),
    )
}

/// The mailbox to write to, unless it is our own or not an address.
fn recipient(email: &str, settings: &RelaySettings) -> Option<Mailbox> {
    let domain = settings
        .list_domain
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let is_ours = email
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.trim_end_matches('.') == domain)
        || email.eq_ignore_ascii_case(settings.noreply_address.trim());
    if is_ours || !is_plain_address(email) {
        return None;
    }
    Some(Mailbox::new(None, email.parse().ok()?))
}

/// A hex id that is the same for the same input, so that a retried run
/// writes the same message and receivers can drop the copy.
fn id_from(kind: &[u8], input: &[u8]) -> String {
    super::sha256_hex(&[kind, input])
}

fn outgoing(message: Message, to: &str) -> OutgoingMail {
    OutgoingMail {
        envelope: Envelope {
            from: None,
            to: vec![to.to_owned()],
        },
        message: message.formatted(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mail_parser::{MessageParser, MimeHeaders};
    use rstest::rstest;

    use super::*;
    use crate::relay::inspect;
    use crate::relay::inspect::Automated;

    fn settings() -> RelaySettings {
        RelaySettings::new("db.example.ch", "noreply@example.ch")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 4, 18, 0, 0)
            .single()
            .expect("valid date")
    }

    const RAW: &str = "From: Reto <reto@example.org>\r\nTo: eltern@db.example.ch\r\n\
        Subject: Hallo\r\nMessage-ID: <m1@example.org>\r\n\r\nText.\r\n";

    fn reply_to(raw: &str) -> Option<OutgoingMail> {
        let inspection = inspect(raw.as_bytes(), "arrival", &settings()).expect("readable");
        rejection_reply(
            &inspection,
            &settings(),
            "Nicht zugelassen",
            "Leider nicht.",
            now(),
        )
    }

    #[test]
    fn rejection_reply_answers_the_sender_from_noreply_with_a_null_envelope() {
        let mail = reply_to(RAW).expect("a reply");
        assert_eq!(
            mail.envelope,
            Envelope {
                from: None,
                to: vec!["reto@example.org".into()]
            }
        );
        let message = MessageParser::default()
            .parse(&mail.message)
            .expect("parses");
        assert_eq!(
            message.from().and_then(|a| a.first()?.address()),
            Some("noreply@example.ch")
        );
        assert_eq!(
            message.to().and_then(|a| a.first()?.address()),
            Some("reto@example.org")
        );
        assert_eq!(message.in_reply_to().as_text(), Some("m1@example.org"));
        assert_eq!(message.references().as_text(), Some("m1@example.org"));
        assert_eq!(
            message.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-replied")
        );
        assert_eq!(message.subject(), Some("Nicht zugelassen"));
        assert_eq!(
            message.body_text(0).as_deref().map(str::trim),
            Some("Leider nicht.")
        );
        assert_eq!(
            message.header_raw("MIME-Version").map(str::trim),
            Some("1.0")
        );
        assert!(
            mail.message.ends_with(b"nicht.\r\n"),
            "one final line break"
        );
    }

    #[test]
    fn rejection_reply_is_the_same_message_when_written_twice() {
        assert_eq!(reply_to(RAW), reply_to(RAW));
    }

    #[test]
    fn replies_with_different_texts_have_different_ids() {
        let inspection = inspect(RAW.as_bytes(), "arrival", &settings()).expect("readable");
        let id = |text: &str| {
            let mail =
                rejection_reply(&inspection, &settings(), "s", text, now()).expect("a reply");
            let message = MessageParser::default()
                .parse(&mail.message)
                .expect("parses")
                .message_id()
                .map(str::to_owned);
            message.expect("a Message-ID")
        };
        assert_ne!(id("Report for list a"), id("Report for list b"));
    }

    #[rstest]
    #[case::null_return_path(format!("Return-Path: <>\r\n{RAW}"))]
    #[case::auto_submitted(format!("Auto-Submitted: auto-replied\r\n{RAW}"))]
    #[case::no_from(RAW.replace("From: Reto <reto@example.org>\r\n", ""))]
    #[case::own_list_domain(RAW.replace("reto@example.org", "eltern@db.example.ch"))]
    #[case::noreply(RAW.replace("reto@example.org", "noreply@example.ch"))]
    fn rejection_reply_never_answers_machines_or_ourselves(#[case] raw: String) {
        assert_eq!(reply_to(&raw), None);
    }

    #[test]
    fn rejection_reply_skips_an_inspection_marked_automatic() {
        let mut inspection = inspect(RAW.as_bytes(), "arrival", &settings()).expect("readable");
        inspection.automated = Some(Automated::Precedence);
        assert_eq!(
            rejection_reply(&inspection, &settings(), "s", "t", now()),
            None
        );
    }

    #[test]
    fn subject_with_line_breaks_stays_one_header() {
        let inspection = inspect(RAW.as_bytes(), "arrival", &settings()).expect("readable");
        let mail = rejection_reply(
            &inspection,
            &settings(),
            "a\r\nBcc: x@evil.test",
            "t",
            now(),
        )
        .expect("a reply");
        let text = String::from_utf8_lossy(&mail.message);
        assert!(!text.contains("\r\nBcc:"), "{text}");
    }

    #[test]
    fn returned_bounce_attaches_the_bounce_whole() {
        let bounce = "From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered\r\n\r\nSorry.\r\n";
        let mail = returned_bounce(
            bounce.as_bytes(),
            "Reto@Example.org",
            &settings(),
            "Nicht zustellbar",
            "Ihre Nachricht kam zurück.",
            now(),
        )
        .expect("a message");
        assert_eq!(
            mail.envelope,
            Envelope {
                from: None,
                to: vec!["reto@example.org".into()]
            }
        );
        let message = MessageParser::default()
            .parse(&mail.message)
            .expect("parses");
        assert_eq!(
            message.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        let attached = message
            .parts
            .iter()
            .find(|p| p.is_content_type("message", "rfc822"))
            .and_then(|p| p.message())
            .expect("attached message");
        assert_eq!(attached.subject(), Some("Undelivered"));
        assert_eq!(
            message.header_raw("MIME-Version").map(str::trim),
            Some("1.0")
        );
    }

    /// The attached bounce's `Content-Transfer-Encoding` and its bytes as
    /// they stand in the returned message.
    fn attached_as_sent(bounce: &[u8]) -> (String, Vec<u8>) {
        let mail = returned_bounce(bounce, "reto@example.org", &settings(), "S", "T", now())
            .expect("a message");
        let message = MessageParser::default()
            .parse(&mail.message)
            .expect("parses");
        let part = message
            .parts
            .iter()
            .find(|p| p.is_content_type("message", "rfc822"))
            .expect("the attached part");
        let encoding = part
            .content_transfer_encoding()
            .unwrap_or("7bit")
            .to_owned();
        let raw =
            mail.message[part.raw_body_offset() as usize..part.raw_end_offset() as usize].to_vec();
        (encoding, raw)
    }

    #[rstest]
    #[case::ascii_with_long_lines(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"",
        "7bit"
    )]
    #[case::utf8("Final-Recipient: rfc822; r\u{fc}edi@post.example", "8bit")]
    fn returned_bounce_attaches_the_bounce_unencoded_as_rfc_2046_asks(
        #[case] line: &str,
        #[case] expected: &str,
    ) {
        let bounce = format!(
            "From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered\r\n\r\n{line}\n\
             Your message could not be delivered to one or more recipients, sorry.\r\n"
        );
        let (encoding, raw) = attached_as_sent(bounce.as_bytes());
        assert_eq!(encoding, expected);
        let text = String::from_utf8(raw).expect("utf-8");
        assert!(text.contains(&format!("{line}\r\n")), "{text}");
    }

    #[test]
    fn returned_bounce_attaches_a_legacy_charset_bounce_as_8bit() {
        let bounce = b"From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered\r\n\r\nM\xfcller\r\n";
        let (encoding, raw) = attached_as_sent(bounce);
        assert_eq!(encoding, "8bit");
        assert!(raw.windows(8).any(|w| w == b"M\xfcller\r\n"));
    }

    #[test]
    fn returned_bounce_encodes_a_bounce_with_nul_or_an_overlong_line() {
        for body in ["a\0b".to_owned(), "x".repeat(999)] {
            let bounce = format!("From: MAILER-DAEMON@mx.test\r\nSubject: U\r\n\r\n{body}\r\n");
            let (encoding, _) = attached_as_sent(bounce.as_bytes());
            assert_eq!(encoding, "base64");
        }
    }

    #[rstest]
    #[case::not_an_address("nobody")]
    #[case::injection("a@b.test\r\nBcc: x@y.test")]
    #[case::list_domain("eltern@db.example.ch")]
    fn returned_bounce_refuses_unusable_senders(#[case] sender: &str) {
        let mail = returned_bounce(b"Subject: x\r\n\r\ny", sender, &settings(), "s", "t", now());
        assert!(mail.is_none());
    }
}
