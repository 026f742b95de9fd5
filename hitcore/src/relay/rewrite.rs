//! The bytes a relayed message goes out with: the original header block
//! rewritten for the list (From "... via list", Reply-To, the RFC 2369 and
//! RFC 2919 list headers) and the body as received, its line breaks
//! made CRLF.
//!
//! Envelope and recipients are the caller's; this module only writes the
//! message.

use chrono::{DateTime, Utc};

use super::RelaySettings;
use super::header::{
    Field, HeaderBlock, clean_text, decode_unstructured, encode_phrase, encode_unstructured,
    is_plain_address, push_crlf_normalised, push_line_breaks_as_crlf,
};
use super::inspect::{Inspection, LIST_MESSAGE_HEADER};
use crate::mailing_list::{MailingList, is_valid_mail_name};

/// The list-specific values `forward` writes into a relayed message.
#[derive(Clone, Copy, Debug)]
pub struct ListHeaders<'a> {
    /// The list; its `mail_name` is set for a relayed list.
    pub list: &'a MailingList,
    /// Our token for this list message, written as `X-Hit-List-Message`
    /// (characters other than letters, digits and `-_.@+` are left out).
    pub list_message: &'a str,
    /// Written as List-Unsubscribe when given.
    pub unsubscribe_url: Option<&'a str>,
    /// Written as List-Archive when given.
    pub archive_url: Option<&'a str>,
    /// A tag such as `eltern`: the subject becomes `[eltern] <subject>`
    /// unless it already carries `[eltern]` (replies).
    pub subject_tag: Option<&'a str>,
    /// Written as Date when the original has none (RFC 5322 requires
    /// one): when the message reached us, so every attempt writes the same.
    pub received_at: DateTime<Utc>,
}

/// The list address of a list: `mail_name@list_domain`, when the list has
/// a valid mail name.
pub fn list_address(list: &MailingList, settings: &RelaySettings) -> Option<String> {
    let name = list
        .mail_name
        .as_deref()
        .filter(|n| is_valid_mail_name(n))?;
    Some(format!("{name}@{}", clean_domain(&settings.list_domain)))
}

/// The list domain reduced to the characters a domain may have.
fn clean_domain(domain: &str) -> String {
    domain
        .trim_end_matches('.')
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Fields removed from the original: delivery trace of the list mailbox,
/// list headers of an earlier hop (ours are written fresh), and fields
/// that would be wrong or leak once the list sends the message.
///
/// - DKIM-Signature: the signature covers From, which we replace, so it
///   can only fail; a failing signature helps nobody and some receivers
///   score it worse than none. The outgoing server should sign with the
///   list domain's key instead.
/// - Sender: it named who sent the original on behalf of its From, which
///   is no longer the From.
/// - Read-receipt requests: each recipient's client would report to the
///   sender that they read a list mail.
/// - Content-Length and Lines, which an mbox writes: they counted the
///   body before its line breaks became CRLF.
const DROPPED: [&str; 13] = [
    "X-Original-To",
    "Delivered-To",
    "Return-Path",
    "Precedence",
    LIST_MESSAGE_HEADER,
    "DKIM-Signature",
    "Sender",
    "Bcc",
    "Disposition-Notification-To",
    "Return-Receipt-To",
    "X-Confirm-Reading-To",
    "Content-Length",
    "Lines",
];

/// The message as it goes to the list's recipients.
///
/// The original header block is kept in order with these changes:
/// - From becomes `"<sender name or address> via <list name>"
///   <list@domain>`; Reply-To is the original From unless the message
///   already had a Reply-To.
/// - An empty or missing To becomes `undisclosed-recipients:;` (case 3);
///   an empty Cc is removed.
/// - With a `subject_tag`, the subject is re-encoded whole with the tag
///   in front, never half encoded (case 14).
/// - Without a Date (or with an empty one), the time the message reached
///   us is written; a second Date is removed.
/// - Without a usable Message-ID, one is made from the list-message
///   token in the list domain. An existing Message-ID is kept, so replies
///   thread; Gmail then shows its sender only their sent copy, not the
///   list copy.
/// - List-Id, List-Post, List-Unsubscribe, List-Archive, Precedence:
///   list and X-Hit-List-Message are added; see `DROPPED` for what goes.
///
/// Every value written is either kept from the original field (its line
/// breaks normalised, so it cannot end early) or built here from cleaned
/// text and encoded words, so no input can add a header line (case 18).
/// The body and attachments are the bytes after the original header
/// block, unchanged but for their line breaks: each is CRLF, in the header
/// and in the body (see [`push_body`]).
///
/// Limitations: a list without a valid mail name (which `decide` never
/// forwards) is written with the noreply address in From and List-Post.
pub fn forward(
    raw: &[u8],
    inspection: &Inspection,
    headers: &ListHeaders<'_>,
    settings: &RelaySettings,
) -> Vec<u8> {
    let block = HeaderBlock::split(raw);
    let domain = clean_domain(&settings.list_domain);
    let address = list_address(headers.list, settings).unwrap_or_else(|| {
        let noreply = settings.noreply_address.trim().to_ascii_lowercase();
        if is_plain_address(&noreply) {
            noreply
        } else {
            format!("noreply@{domain}")
        }
    });
    let mut out = Vec::with_capacity(raw.len() + 1024);

    let mut rewriter = Rewriter {
        inspection,
        headers,
        address: &address,
        seen: Seen::default(),
    };
    for field in &block.fields {
        rewriter.rewrite(field, &mut out);
    }
    let seen = rewriter.seen;
    if !seen.to {
        push_line(&mut out, "To: undisclosed-recipients:;");
    }
    if let Some(reply_to) = reply_to(inspection).filter(|_| !seen.reply_to) {
        push_line(&mut out, &reply_to);
    }
    if inspection.message_id.is_none() {
        let token = clean_token(headers.list_message);
        push_line(&mut out, &format!("Message-ID: <{token}.list@{domain}>"));
    }
    if !seen.date {
        push_line(
            &mut out,
            &format!("Date: {}", headers.received_at.to_rfc2822()),
        );
    }
    push_list_headers(&mut out, headers, &address, &domain);

    out.extend_from_slice(b"\r\n");
    push_body(&mut out, &raw[block.body_offset..]);
    out
}

/// Writes the body with every line break as CRLF, the only one SMTP
/// knows, and nothing else changed.
///
/// Mail from a folder or a Maildir often ends its lines in a bare LF.
/// Sent as it is, a line holding just a dot between two bare LFs is not
/// escaped by the SMTP client (which escapes dots after CRLF only), and a
/// lenient server takes it for the end of the message: whatever follows
/// would run as SMTP commands in the list's session (SMTP smuggling). A
/// bare CR counts as a line ending for the same reason.
fn push_body(out: &mut Vec<u8>, body: &[u8]) {
    push_line_breaks_as_crlf(out, body, b"\r\n");
}

/// Which of the fields that must appear once were written.
#[derive(Default)]
struct Seen {
    from: bool,
    to: bool,
    reply_to: bool,
    date: bool,
}

struct Rewriter<'r> {
    inspection: &'r Inspection,
    headers: &'r ListHeaders<'r>,
    address: &'r str,
    seen: Seen,
}

impl Rewriter<'_> {
    /// Writes one original field as it goes out (or not at all).
    fn rewrite(&mut self, field: &Field<'_>, out: &mut Vec<u8>) {
        let is_empty = field.text().is_empty();
        let is_dropped = DROPPED.iter().any(|d| field.is(d))
            || field.name.to_ascii_lowercase().starts_with("list-")
            || (field.is("Message-ID") && self.inspection.message_id.is_none())
            || ((field.is("Cc") || field.is("Reply-To")) && is_empty)
            || (field.is("Date") && (is_empty || self.seen.date));
        if is_dropped {
            return;
        }
        if field.is("From") {
            if !self.seen.from {
                push_line(out, &self.list_from());
            }
            self.seen.from = true;
        } else if field.is("To") {
            if !self.seen.to {
                push_kept_or(out, field, is_empty, "To: undisclosed-recipients:;");
            } else if !is_empty {
                push_field(out, field);
            }
            self.seen.to = true;
        } else if field.is("Subject") {
            self.push_subject(field, out);
        } else {
            self.seen.reply_to |= field.is("Reply-To");
            self.seen.date |= field.is("Date");
            push_field(out, field);
        }
    }

    fn list_from(&self) -> String {
        let list_name = &self.headers.list.name;
        let display = match &self.inspection.sender {
            Some(sender) => {
                let who = sender.name.as_deref().unwrap_or(&sender.email);
                format!("{who} via {list_name}")
            }
            None => list_name.clone(),
        };
        format!("From: {} <{}>", encode_phrase(&display), self.address)
    }

    fn push_subject(&self, field: &Field<'_>, out: &mut Vec<u8>) {
        let Some(raw_tag) = self.headers.subject_tag else {
            push_field(out, field);
            return;
        };
        let tag = clean_text(raw_tag);
        let subject = decode_unstructured(&field.text());
        let bracketed = format!("[{tag}]").to_lowercase();
        if tag.is_empty() || subject.to_lowercase().contains(&bracketed) {
            push_field(out, field);
            return;
        }
        // Built from the raw tag so that control characters in it still
        // make the encoder choose encoded words.
        let tagged = format!("[{raw_tag}] {subject}");
        let value = encode_unstructured(tagged.trim_end());
        push_line(out, &format!("Subject: {value}"));
    }
}

fn push_kept_or(out: &mut Vec<u8>, field: &Field<'_>, is_empty: bool, replacement: &str) {
    if is_empty {
        push_line(out, replacement);
    } else {
        push_field(out, field);
    }
}

/// Reply-To from the parsed original From, rebuilt from clean parts.
fn reply_to(inspection: &Inspection) -> Option<String> {
    let sender = inspection
        .sender
        .as_ref()
        .filter(|s| is_plain_address(&s.email))?;
    Some(match &sender.name {
        Some(name) => format!("Reply-To: {} <{}>", encode_phrase(name), sender.email),
        None => format!("Reply-To: <{}>", sender.email),
    })
}

fn push_list_headers(out: &mut Vec<u8>, headers: &ListHeaders<'_>, address: &str, domain: &str) {
    let list = headers.list;
    let list_id = match list.mail_name.as_deref().filter(|n| is_valid_mail_name(n)) {
        Some(name) => format!("{name}.{domain}"),
        None => format!("list.{domain}"),
    };
    if list.name.trim().is_empty() {
        push_line(out, &format!("List-Id: <{list_id}>"));
    } else {
        push_line(
            out,
            &format!("List-Id: {} <{list_id}>", encode_phrase(&list.name)),
        );
    }
    push_line(out, &format!("List-Post: <mailto:{address}>"));
    if let Some(url) = headers.unsubscribe_url {
        push_line(out, &format!("List-Unsubscribe: <{}>", clean_uri(url)));
    }
    if let Some(url) = headers.archive_url {
        push_line(out, &format!("List-Archive: <{}>", clean_uri(url)));
    }
    push_line(out, "Precedence: list");
    let token = clean_token(headers.list_message);
    push_line(out, &format!("{LIST_MESSAGE_HEADER}: {token}"));
}

/// A URI fit for `<...>`: bytes outside visible ASCII, spaces, angle
/// brackets and quotes are percent-encoded.
fn clean_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    for b in uri.trim().bytes() {
        if (0x21..0x7f).contains(&b) && !b"<>\"".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn clean_token(token: &str) -> String {
    token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(*c))
        .take(128)
        .collect()
}

fn push_line(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes a kept field. The name is written again right before the colon,
/// so the obsolete `Name :` form (RFC 5322 section 4.5.8) leaves as
/// `Name:`, which every reader understands.
fn push_field(out: &mut Vec<u8>, field: &Field<'_>) {
    out.extend_from_slice(field.name.as_bytes());
    out.push(b':');
    push_crlf_normalised(out, field.value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::relay::decide::tests::list;
    use crate::relay::inspect;

    fn settings() -> RelaySettings {
        RelaySettings::new("db.example.ch", "noreply@example.ch")
    }

    fn relay(raw: &str, list: &MailingList, tag: Option<&str>) -> String {
        let inspection = inspect(raw.as_bytes(), "arrival", &settings()).expect("readable");
        let headers = ListHeaders {
            list,
            list_message: "tok123",
            unsubscribe_url: Some("https://db.example.ch/lists/1/unsubscribe"),
            archive_url: None,
            subject_tag: tag,
            received_at: received_at(),
        };
        String::from_utf8(forward(raw.as_bytes(), &inspection, &headers, &settings()))
            .expect("utf-8 output")
    }

    fn received_at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-03T09:30:00Z")
            .expect("a time")
            .to_utc()
    }

    fn header_block(out: &str) -> &str {
        out.split("\r\n\r\n").next().unwrap_or_default()
    }

    /// The unfolded header lines whose name is `name`.
    fn values(out: &str, name: &str) -> Vec<String> {
        let unfolded = header_block(out)
            .replace("\r\n ", " ")
            .replace("\r\n\t", "\t");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        unfolded
            .split("\r\n")
            .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
            .collect()
    }

    const RAW: &str = "Return-Path: <reto@example.org>\r\nX-Original-To: eltern@db.example.ch\r\n\
        Delivered-To: eltern@db.example.ch\r\nDKIM-Signature: v=1; d=example.org;\r\n b=abc\r\n\
        From: Reto Beispiel <reto@example.org>\r\nTo: eltern@db.example.ch\r\n\
        Subject: Elternabend\r\nMessage-ID: <m1@example.org>\r\nList-Id: <other.example>\r\n\
        Precedence: bulk\r\nX-Hit-List-Message: forged\r\n\r\nBody\r\n";

    #[test]
    fn forward_rewrites_from_and_adds_list_headers() {
        let out = relay(RAW, &list(), None);
        assert_eq!(
            values(&out, "From"),
            ["\"Reto Beispiel via Eltern\" <eltern@db.example.ch>"]
        );
        assert_eq!(
            values(&out, "Reply-To"),
            ["\"Reto Beispiel\" <reto@example.org>"]
        );
        assert_eq!(
            values(&out, "List-Id"),
            ["\"Eltern\" <eltern.db.example.ch>"]
        );
        assert_eq!(values(&out, "List-Post"), ["<mailto:eltern@db.example.ch>"]);
        assert_eq!(
            values(&out, "List-Unsubscribe"),
            ["<https://db.example.ch/lists/1/unsubscribe>"]
        );
        assert_eq!(values(&out, "Precedence"), ["list"]);
        assert_eq!(values(&out, "X-Hit-List-Message"), ["tok123"]);
        assert_eq!(values(&out, "Message-ID"), ["<m1@example.org>"]);
        assert_eq!(values(&out, "To"), ["eltern@db.example.ch"]);
        assert_eq!(values(&out, "Subject"), ["Elternabend"]);
        for gone in [
            "Return-Path",
            "X-Original-To",
            "Delivered-To",
            "DKIM-Signature",
        ] {
            assert!(values(&out, gone).is_empty(), "{gone} kept");
        }
        assert!(out.ends_with("\r\n\r\nBody\r\n"));
    }

    #[test]
    fn forward_dates_a_message_without_date_by_its_arrival() {
        let out = relay(RAW, &list(), None);
        assert_eq!(values(&out, "Date"), ["Thu, 3 Dec 2026 09:30:00 +0000"]);
    }

    #[test]
    fn forward_keeps_the_date_of_the_original() {
        let raw = RAW.replace(
            "Subject: Elternabend",
            "Date: Tue, 1 Dec 2026 18:00:00 +0100\r\nSubject: Elternabend",
        );
        let out = relay(&raw, &list(), None);
        assert_eq!(values(&out, "Date"), ["Tue, 1 Dec 2026 18:00:00 +0100"]);
    }

    #[rstest]
    #[case::empty("Date:\r\n")]
    #[case::blank("Date:   \r\n")]
    fn forward_dates_a_message_with_an_empty_date_by_its_arrival(#[case] date: &str) {
        let raw = RAW.replace(
            "Subject: Elternabend",
            &format!("{date}Subject: Elternabend"),
        );
        let out = relay(&raw, &list(), None);
        assert_eq!(values(&out, "Date"), ["Thu, 3 Dec 2026 09:30:00 +0000"]);
    }

    #[test]
    fn forward_keeps_only_the_first_of_two_dates() {
        let raw = RAW.replace(
            "Subject: Elternabend",
            "Date: Tue, 1 Dec 2026 18:00:00 +0100\r\nDate: Wed, 2 Dec 2026 08:00:00 +0100\r\n\
             Subject: Elternabend",
        );
        let out = relay(&raw, &list(), None);
        assert_eq!(values(&out, "Date"), ["Tue, 1 Dec 2026 18:00:00 +0100"]);
    }

    #[test]
    fn forward_drops_the_mbox_counts_of_the_body() {
        let raw = RAW.replace(
            "Subject: Elternabend",
            "Content-Length: 5\r\nLines: 1\r\nSubject: Elternabend",
        );
        let out = relay(&raw, &list(), None);
        assert!(values(&out, "Content-Length").is_empty(), "{out}");
        assert!(values(&out, "Lines").is_empty(), "{out}");
    }

    #[test]
    fn forward_ends_every_body_line_in_crlf_so_no_dot_line_hides_in_it() {
        let raw = "From: reto@example.org\nTo: eltern@db.example.ch\nSubject: Hi\n\n\
                   Line one\n.\nMAIL FROM:<x@evil.test>\rmore\r\nlast\n";
        let out = relay(raw, &list(), None);
        let body = out.split_once("\r\n\r\n").expect("a body").1;
        assert_eq!(
            body,
            "Line one\r\n.\r\nMAIL FROM:<x@evil.test>\r\nmore\r\nlast\r\n"
        );
        assert!(
            !out.replace("\r\n", "").contains(['\r', '\n']),
            "a bare CR or LF is left"
        );
    }

    #[test]
    fn forward_keeps_an_existing_reply_to() {
        let raw = RAW.replace(
            "To: eltern@",
            "Reply-To: Team <team@example.org>\r\nTo: eltern@",
        );
        let out = relay(&raw, &list(), None);
        assert_eq!(values(&out, "Reply-To"), ["Team <team@example.org>"]);
    }

    #[test]
    fn forward_uses_the_address_when_the_sender_has_no_name() {
        let raw = RAW.replace(
            "From: Reto Beispiel <reto@example.org>",
            "From: reto@example.org",
        );
        let out = relay(&raw, &list(), None);
        assert_eq!(
            values(&out, "From"),
            ["\"reto@example.org via Eltern\" <eltern@db.example.ch>"]
        );
        assert_eq!(values(&out, "Reply-To"), ["<reto@example.org>"]);
    }

    #[rstest]
    #[case::empty_to("To:\r\n", "undisclosed-recipients:;")]
    #[case::blank_to("To:   \r\n", "undisclosed-recipients:;")]
    #[case::group_kept("To: undisclosed-recipients:;\r\n", "undisclosed-recipients:;")]
    #[case::missing_to("", "undisclosed-recipients:;")]
    fn forward_never_writes_an_empty_to(#[case] to: &str, #[case] expected: &str) {
        let raw = RAW.replace("To: eltern@db.example.ch\r\n", to);
        let out = relay(&raw, &list(), None);
        assert_eq!(values(&out, "To"), [expected]);
    }

    #[test]
    fn forward_gives_a_message_without_id_one_in_the_list_domain() {
        let raw = RAW.replace("Message-ID: <m1@example.org>\r\n", "");
        assert_eq!(
            values(&relay(&raw, &list(), None), "Message-ID"),
            ["<tok123.list@db.example.ch>"]
        );
    }

    #[rstest]
    #[case::plain("Elternabend", "[eltern] Elternabend")]
    #[case::encoded("=?utf-8?Q?Gr=C3=BCezi_mitenand?=", "[eltern] Grüezi mitenand")]
    #[case::reply_keeps_one_tag("Re: [eltern] Elternabend", "Re: [eltern] Elternabend")]
    #[case::reply_encoded(
        "Re: [eltern] =?iso-8859-1?Q?Anmeldeschluss_M=E4rz?=",
        "Re: [eltern] Anmeldeschluss März"
    )]
    fn subject_tag_is_added_once(#[case] subject: &str, #[case] expected: &str) {
        let raw = RAW.replace("Subject: Elternabend", &format!("Subject: {subject}"));
        let out = relay(&raw, &list(), Some("eltern"));
        let written = values(&out, "Subject");
        assert_eq!(written.len(), 1);
        assert_eq!(decode_unstructured(&written[0]), expected);
    }

    #[test]
    fn injection_through_list_name_and_sender_name_adds_no_header() {
        let list = MailingList {
            name: "Eltern\r\nBcc: leak@evil.example".into(),
            ..list()
        };
        let raw = RAW.replace(
            "From: Reto Beispiel <reto@example.org>",
            "From: =?utf-8?q?Reto=0AX-Injected=3A_yes?= <reto@example.org>",
        );
        let out = relay(&raw, &list, Some("x\r\nBcc: a@b"));
        assert!(
            !out.contains("Bcc:") && !out.contains("X-Injected:"),
            "{out}"
        );
        for line in header_block(&out).split("\r\n") {
            let is_field = line.split_once(':').is_some_and(|(n, _)| !n.contains(' '));
            assert!(line.starts_with(' ') || is_field, "stray line {line:?}");
        }
    }

    #[rstest]
    #[case("https://x.test/u?a=1", "https://x.test/u?a=1")]
    #[case("https://x.test/u\r\nBcc: a@b", "https://x.test/u%0D%0ABcc:%20a@b")]
    #[case("https://x.test/<x>", "https://x.test/%3Cx%3E")]
    fn clean_uri_keeps_a_uri_on_its_line(#[case] uri: &str, #[case] expected: &str) {
        assert_eq!(clean_uri(uri), expected);
    }

    #[test]
    fn list_address_needs_a_valid_mail_name() {
        assert_eq!(
            list_address(&list(), &settings()).as_deref(),
            Some("eltern@db.example.ch")
        );
        let bad = MailingList {
            mail_name: Some("a b\r\n".into()),
            ..list()
        };
        assert_eq!(list_address(&bad, &settings()), None);
    }
}
