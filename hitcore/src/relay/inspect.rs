//! Reading one raw message from the list mailbox into the facts the
//! decisions need: which lists it names, who sent it, whether a machine
//! sent it, and whether it is our own mail coming back.
//!
//! Nothing here decides what happens to the message; see `decide`.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::RelaySettings;
use super::header::{HeaderBlock, angle_addr, clean_text, decode_unstructured, truncate_chars};

/// The header the relay writes on every list mail, and looks for in
/// bounces to find the list message they belong to.
pub const LIST_MESSAGE_HEADER: &str = "X-Hit-List-Message";

/// Longest subject kept, in characters (as hitobito's message log).
const SUBJECT_CHARS: usize = 256;

/// A message that cannot be acted on at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unreadable {
    /// Zero bytes.
    #[error("the message is empty")]
    Empty,
    /// Not a single well-formed header field before the body.
    #[error("the message has no header fields")]
    NoHeaders,
}

/// What was read from one raw message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    /// Duplicate key: the Message-ID (without `<>`) with a digest of the
    /// Date and Subject fields, the same for every copy the mail server
    /// delivers of one message (see [`message_key`]); else the message's
    /// [`arrival_key`], so that a message without Message-ID sent twice
    /// is relayed twice, each time with a Message-ID of its own (case 16).
    pub message_key: String,
    /// The Message-ID without `<>`, when present and printable.
    pub message_id: Option<String>,
    /// Local parts (lowercase, deduplicated, in order) of the addresses in
    /// the list domain that the message was delivered to: from every
    /// X-Original-To; when there is none at all, from Delivered-To, To
    /// and Cc together.
    pub list_names: Vec<String>,
    /// From (else Sender), address lowercased.
    pub sender: Option<Sender>,
    /// The first Return-Path, lowercased; `Some("")` for the null sender.
    pub return_path: Option<String>,
    /// The subject decoded, control characters replaced, at most 256
    /// characters.
    pub subject: String,
    /// Size of the raw message in bytes.
    pub size_bytes: usize,
    /// Whether `size_bytes` is above `RelaySettings::max_message_bytes`.
    pub is_too_large: bool,
    /// Why this is an automatic message, if it is one.
    pub automated: Option<Automated>,
    /// The list id (inside `<>`, lowercase) when the message carries a
    /// List-Id of our list domain: our own list mail coming back.
    pub our_list_id: Option<String>,
    /// For an automatic message: the token of our `X-Hit-List-Message`
    /// header found in the message or headers it returns.
    pub bounced_list_message: Option<String>,
}

/// The author of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    /// Lowercase.
    pub email: String,
    /// The decoded display name, if any, as the sender wrote it: it may
    /// hold control characters, so it goes into a header only through
    /// the relay's encoding (as `forward` does).
    pub name: Option<String>,
}

/// Why a message counts as sent by a machine ([RFC 3834]).
///
/// [RFC 3834]: https://www.rfc-editor.org/rfc/rfc3834
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Automated {
    /// A delivery status or disposition report (`multipart/report`,
    /// `message/delivery-status`, X-Failed-Recipients).
    DeliveryReport,
    /// The null envelope sender `<>`.
    NullReturnPath,
    /// From MAILER-DAEMON or postmaster.
    DaemonSender,
    /// Auto-Submitted with a value other than `no`.
    AutoSubmitted,
    /// Precedence bulk, junk, list or auto_reply.
    Precedence,
    /// X-Autoreply, X-Autorespond or X-Auto-Response-Suppress (OOF, All).
    AutoReplyHeader,
    /// No header marker, but the subject of an out-of-office reply.
    AutoReplySubject,
}

impl std::fmt::Display for Automated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Automated::DeliveryReport => "a delivery report",
            Automated::NullReturnPath => "null return path",
            Automated::DaemonSender => "from a mailer daemon",
            Automated::AutoSubmitted => "Auto-Submitted",
            Automated::Precedence => "Precedence bulk, junk, list or auto_reply",
            Automated::AutoReplyHeader => "an auto-reply header",
            Automated::AutoReplySubject => "an out-of-office subject",
        })
    }
}

/// The key of one arrival in the list mailbox: SHA-256 (hex) of the
/// mailbox's id for the message (IMAP UIDVALIDITY and UID, POP3 UIDL,
/// folder file name) and its bytes.
///
/// The same message fetched again (after a crash between recording and
/// deleting it) has the same key; the same bytes arriving twice have two.
pub fn arrival_key(mailbox_id: &str, raw: &[u8]) -> String {
    super::sha256_hex(&[mailbox_id.as_bytes(), raw])
}

/// The duplicate key of a message with Message-ID `id`: the id, a space
/// (which no printable id holds) and a digest of its `date` and decoded
/// `subject`.
///
/// The copies a mail server delivers of one message, one per list address,
/// and a forward of it carry all three; a forwarder may fold or encode
/// the Subject anew, or drop a comment from the Date, which the decoded
/// subject and the date as an instant do not see. A sender that gives
/// every message the same Message-ID (an alarm system, a broken script)
/// writes a new Date or Subject each time, so its next message is not
/// taken for one the list has already (case 16: reused Message-IDs).
fn message_key(id: &str, date: &str, subject: &str) -> String {
    let digest = super::sha256_hex(&[date.as_bytes(), subject.as_bytes()]);
    format!("{id} {}", &digest[..16])
}

/// The Date field as the instant it names (seconds since the epoch), or
/// its text with the whitespace collapsed when it names none.
fn date_of(block: &HeaderBlock<'_>, parsed: Option<&Message<'_>>) -> String {
    match parsed.and_then(|m| m.date()).filter(|d| d.is_valid()) {
        Some(date) => date.to_timestamp().to_string(),
        None => block
            .first("Date")
            .map(|f| clean_text(&f.text()))
            .unwrap_or_default(),
    }
}

/// Reads one raw message that arrived as `arrival` (its [`arrival_key`]).
///
/// # Errors
/// Only when there is nothing to act on: an empty input, or one without
/// a single header field. Everything else, however broken, gives an
/// `Inspection` (with the parts that could be read) so that the caller
/// can record it and move on.
pub fn inspect(
    raw: &[u8],
    arrival: &str,
    settings: &RelaySettings,
) -> Result<Inspection, Unreadable> {
    if raw.is_empty() {
        return Err(Unreadable::Empty);
    }
    let block = HeaderBlock::split(raw);
    if block.fields.is_empty() {
        return Err(Unreadable::NoHeaders);
    }

    let clean = clean_copy(raw, &block);
    let parsed = MessageParser::default().parse(&clean);
    let parsed = parsed.as_ref();
    let domain = settings
        .list_domain
        .trim_end_matches('.')
        .to_ascii_lowercase();

    let message_id = parsed.and_then(|m| m.message_id()).and_then(printable_id);
    let sender = parsed.and_then(sender_of);
    let return_path = block.first("Return-Path").map(|f| angle_addr(&f.text()));
    let subject = block
        .first("Subject")
        .map(|f| truncate_chars(&clean_text(&decode_unstructured(&f.text())), SUBJECT_CHARS))
        .unwrap_or_default();
    let automated = automated(
        &block,
        parsed,
        sender.as_ref(),
        return_path.as_deref(),
        &subject,
    );
    let bounced_list_message = automated.and_then(|_| find_list_message(&block, raw, parsed));

    Ok(Inspection {
        message_key: message_id.as_deref().map_or_else(
            || arrival.to_owned(),
            |id| message_key(id, &date_of(&block, parsed), &subject),
        ),
        message_id,
        list_names: list_names(&block, parsed, &domain),
        sender,
        return_path,
        subject,
        size_bytes: raw.len(),
        is_too_large: raw.len() > settings.max_message_bytes,
        automated,
        our_list_id: our_list_id(&block, &domain),
        bounced_list_message,
    })
}

/// The message as `mail-parser` should see it: only the well-formed
/// fields, CRLF line ends, then the body as received.
fn clean_copy(raw: &[u8], block: &HeaderBlock<'_>) -> Vec<u8> {
    let body = &raw[block.body_offset..];
    let mut out = Vec::with_capacity(raw.len() + 64);
    for field in &block.fields {
        super::header::push_crlf_normalised(&mut out, field.raw);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn printable_id(id: &str) -> Option<String> {
    let id = id.trim();
    let is_printable = id
        .bytes()
        .all(|b| (33..127).contains(&b) && b != b'<' && b != b'>');
    (!id.is_empty() && id.len() <= 900 && is_printable).then(|| id.to_owned())
}

fn sender_of(message: &Message<'_>) -> Option<Sender> {
    let addresses = [message.from(), message.sender()];
    let addr = addresses
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .find(|a| a.address().is_some_and(|e| e.contains('@')))?;
    let email = addr.address()?.trim().to_ascii_lowercase();
    let name = addr
        .name()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Some(Sender { email, name })
}

/// The local parts of the list-domain addresses a message names (see
/// `Inspection::list_names`).
fn list_names(block: &HeaderBlock<'_>, parsed: Option<&Message<'_>>, domain: &str) -> Vec<String> {
    let mut addresses: Vec<String> = Vec::new();
    if block.first("X-Original-To").is_some() {
        for field in block.all("X-Original-To") {
            addresses.extend(field.text().split(',').map(angle_addr));
        }
    } else {
        for field in block.all("Delivered-To") {
            addresses.extend(field.text().split(',').map(angle_addr));
        }
        let recipients = parsed
            .into_iter()
            .flat_map(|m| m.all_to().chain(m.all_cc()));
        for address in recipients.flat_map(|a| a.iter()) {
            addresses.extend(address.address().map(str::to_ascii_lowercase));
        }
    }
    let mut names: Vec<String> = Vec::new();
    for address in addresses {
        let Some((local, host)) = address.rsplit_once('@') else {
            continue;
        };
        let is_ours = host.trim_end_matches('.') == domain;
        if is_ours && !local.is_empty() && !names.iter().any(|n| n == local) {
            names.push(local.to_owned());
        }
    }
    names
}

fn our_list_id(block: &HeaderBlock<'_>, domain: &str) -> Option<String> {
    let suffix = format!(".{domain}");
    block
        .all("List-Id")
        .map(|f| angle_addr(&f.text()))
        .find(|id| id.ends_with(&suffix))
}

/// The first reason found for treating the message as automatic.
fn automated(
    block: &HeaderBlock<'_>,
    parsed: Option<&Message<'_>>,
    sender: Option<&Sender>,
    return_path: Option<&str>,
    subject: &str,
) -> Option<Automated> {
    if is_delivery_report(block, parsed) {
        return Some(Automated::DeliveryReport);
    }
    if return_path == Some("") {
        return Some(Automated::NullReturnPath);
    }
    if sender.is_some_and(|s| is_daemon(&s.email)) || return_path.is_some_and(is_daemon) {
        return Some(Automated::DaemonSender);
    }
    if block
        .all("Auto-Submitted")
        .any(|f| !first_token(&f.text()).eq_ignore_ascii_case("no"))
    {
        return Some(Automated::AutoSubmitted);
    }
    let bulk = ["bulk", "junk", "list", "auto_reply"];
    let precedence = |f: &super::header::Field<'_>| {
        bulk.iter()
            .any(|p| first_token(&f.text()).eq_ignore_ascii_case(p))
    };
    if block.all("Precedence").any(precedence) {
        return Some(Automated::Precedence);
    }
    if is_auto_reply_header(block) {
        return Some(Automated::AutoReplyHeader);
    }
    is_auto_reply_subject(subject).then_some(Automated::AutoReplySubject)
}

fn first_token(value: &str) -> &str {
    value
        .split([';', ' ', '\t', '('])
        .next()
        .unwrap_or("")
        .trim()
}

fn is_daemon(email: &str) -> bool {
    let local = email.split('@').next().unwrap_or("");
    local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
}

fn is_delivery_report(block: &HeaderBlock<'_>, parsed: Option<&Message<'_>>) -> bool {
    if block.first("X-Failed-Recipients").is_some() {
        return true;
    }
    let Some(message) = parsed else {
        return false;
    };
    message.is_content_type("multipart", "report")
        || message.parts.iter().any(|p| {
            p.is_content_type("message", "delivery-status")
                || p.is_content_type("message", "disposition-notification")
        })
}

fn is_auto_reply_header(block: &HeaderBlock<'_>) -> bool {
    if block.first("X-Autoreply").is_some() || block.first("X-Autorespond").is_some() {
        return true;
    }
    block.all("X-Auto-Response-Suppress").any(|f| {
        f.text()
            .split(',')
            .any(|v| v.trim().eq_ignore_ascii_case("oof") || v.trim().eq_ignore_ascii_case("all"))
    })
}

/// Subject prefixes of out-of-office replies from clients that set no
/// header at all.
///
/// Limitations: a person who posts "Out of Office: ..." by hand is
/// dropped as well; the prefix must be followed by a colon to keep such
/// false matches rare.
const AUTO_REPLY_SUBJECTS: [&str; 8] = [
    "out of office:",
    "automatic reply:",
    "auto-reply:",
    "autoreply:",
    "abwesenheitsnotiz:",
    "automatische antwort:",
    "réponse automatique:",
    "risposta automatica:",
];

fn is_auto_reply_subject(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    AUTO_REPLY_SUBJECTS.iter().any(|p| lower.starts_with(p))
}

/// Our list-message token in whatever a bounce returns: the raw body (a
/// plain quote, text/rfc822-headers), a decoded text part, or the headers
/// of an attached message/rfc822.
fn find_list_message(
    block: &HeaderBlock<'_>,
    raw: &[u8],
    parsed: Option<&Message<'_>>,
) -> Option<String> {
    let body = String::from_utf8_lossy(&raw[block.body_offset..]);
    if let Some(token) = token_after_marker(&body) {
        return Some(token);
    }
    let message = parsed?;
    message
        .parts
        .iter()
        .skip(1)
        .find_map(|part| match &part.body {
            PartType::Message(inner) => inner
                .header_raw(LIST_MESSAGE_HEADER)
                .and_then(|v| token_after_marker(&format!("{LIST_MESSAGE_HEADER}:{v}"))),
            PartType::Text(text) => token_after_marker(text),
            _ => None,
        })
}

/// The token after the first `X-Hit-List-Message:` (any case) in `text`.
fn token_after_marker(text: &str) -> Option<String> {
    let marker = format!("{}:", LIST_MESSAGE_HEADER.to_ascii_lowercase());
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(&marker) {
        let start = from + found + marker.len();
        let token: String = text[start..]
            .trim_start_matches([' ', '\t'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(*c))
            .take(128)
            .collect();
        if !token.is_empty() {
            return Some(token);
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn settings() -> RelaySettings {
        RelaySettings::new("db.example.ch", "noreply@example.ch")
    }

    fn read(raw: &str) -> Inspection {
        inspect(raw.as_bytes(), "arrival", &settings()).expect("readable")
    }

    const PLAIN: &str = "From: Reto <reto@example.org>\r\nTo: eltern@db.example.ch\r\n\
        Subject: Hallo\r\nMessage-ID: <m1@example.org>\r\n\r\nText.\r\n";

    #[rstest]
    #[case::null_return_path("Return-Path: <>\r\n", Automated::NullReturnPath)]
    #[case::auto_replied("Auto-Submitted: auto-replied\r\n", Automated::AutoSubmitted)]
    #[case::auto_generated("Auto-Submitted: auto-generated\r\n", Automated::AutoSubmitted)]
    #[case::auto_with_params("Auto-Submitted: Auto-Replied; owner=x\r\n", Automated::AutoSubmitted)]
    #[case::bulk("Precedence: bulk\r\n", Automated::Precedence)]
    #[case::junk("Precedence: junk\r\n", Automated::Precedence)]
    #[case::list("Precedence: list\r\n", Automated::Precedence)]
    #[case::auto_reply("Precedence: auto_reply\r\n", Automated::Precedence)]
    #[case::x_autoreply("X-Autoreply: yes\r\n", Automated::AutoReplyHeader)]
    #[case::x_autorespond("X-Autorespond: 1\r\n", Automated::AutoReplyHeader)]
    #[case::suppress_all("X-Auto-Response-Suppress: All\r\n", Automated::AutoReplyHeader)]
    #[case::suppress_oof("X-Auto-Response-Suppress: DR, OOF\r\n", Automated::AutoReplyHeader)]
    #[case::failed_recipients("X-Failed-Recipients: a@b.c\r\n", Automated::DeliveryReport)]
    #[case::daemon_return_path(
        "Return-Path: <MAILER-DAEMON@mx.example>\r\n",
        Automated::DaemonSender
    )]
    #[case::report(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
        Automated::DeliveryReport
    )]
    fn automatic_markers_are_recognised(#[case] extra: &str, #[case] expected: Automated) {
        let inspection = read(&format!("{extra}{PLAIN}"));
        assert_eq!(inspection.automated, Some(expected));
    }

    #[rstest]
    #[case::auto_submitted_no("Auto-Submitted: no\r\n")]
    #[case::precedence_first_class("Precedence: first-class\r\n")]
    #[case::suppress_dr("X-Auto-Response-Suppress: DR\r\n")]
    #[case::real_return_path("Return-Path: <reto@example.org>\r\n")]
    fn ordinary_markers_do_not_count_as_automatic(#[case] extra: &str) {
        assert_eq!(read(&format!("{extra}{PLAIN}")).automated, None);
    }

    #[rstest]
    #[case("Out of Office: Elternabend", true)]
    #[case("Abwesenheitsnotiz: Elternabend", true)]
    #[case("Automatische Antwort: Elternabend", true)]
    #[case("Re: Out of office plans", false)]
    #[case("Elternabend", false)]
    fn out_of_office_subjects_are_automatic(#[case] subject: &str, #[case] expected: bool) {
        let raw = PLAIN.replace("Subject: Hallo", &format!("Subject: {subject}"));
        let automated = read(&raw).automated;
        assert_eq!(
            automated == Some(Automated::AutoReplySubject),
            expected,
            "{automated:?}"
        );
    }

    #[test]
    fn mailer_daemon_sender_is_automatic() {
        let raw = PLAIN.replace(
            "Reto <reto@example.org>",
            "Mail Delivery <MAILER-DAEMON@mx.test>",
        );
        assert_eq!(read(&raw).automated, Some(Automated::DaemonSender));
    }

    #[rstest]
    #[case::two_lists(
        "X-Original-To: leitung@db.example.ch\r\nX-Original-To: eltern@db.example.ch\r\n",
        &["leitung", "eltern"]
    )]
    #[case::upper_case("X-ORIGINAL-TO: Leitung@DB.Example.CH\r\n", &["leitung"])]
    #[case::other_domain_ignored(
        "X-Original-To: leitung.zh@db.example.ch\r\nX-Original-To: leitung@pfadi-example.ch\r\n",
        &["leitung.zh"]
    )]
    #[case::angle_brackets("X-Original-To: <eltern@db.example.ch>\r\n", &["eltern"])]
    #[case::duplicates(
        "X-Original-To: eltern@db.example.ch\r\nX-Original-To: ELTERN@db.example.ch\r\n",
        &["eltern"]
    )]
    #[case::x_original_to_wins_over_to("X-Original-To: leitung@db.example.ch\r\n", &["leitung"])]
    #[case::none_in_our_domain("X-Original-To: a@elsewhere.example\r\n", &[])]
    #[case::no_x_original_to_uses_to("", &["eltern"])]
    #[case::delivered_to_and_to("Delivered-To: technik@db.example.ch\r\n", &["technik", "eltern"])]
    fn list_names_come_from_our_domain_only(#[case] extra: &str, #[case] expected: &[&str]) {
        assert_eq!(read(&format!("{extra}{PLAIN}")).list_names, expected);
    }

    #[test]
    fn cc_names_a_list_when_there_is_no_x_original_to() {
        let raw = PLAIN.replace(
            "To: eltern@",
            "To: a@elsewhere.test\r\nCc: Leitung <leitung@",
        );
        assert_eq!(read(&raw).list_names, ["leitung"]);
    }

    #[test]
    fn message_key_is_the_message_id_without_brackets_and_a_digest() {
        let inspection = read(PLAIN);
        let (id, digest) = inspection.message_key.split_once(' ').expect("two parts");
        assert_eq!(id, "m1@example.org");
        assert_eq!(digest.len(), 16);
        assert_eq!(inspection.message_id.as_deref(), Some("m1@example.org"));
    }

    #[test]
    fn message_key_tells_a_new_message_under_a_reused_message_id() {
        let first = read(&PLAIN.replace(
            "\r\n\r\n",
            "\r\nDate: Mon, 3 Mar 2025 06:00:00 +0100\r\n\r\n",
        ));
        let later = read(&PLAIN.replace(
            "\r\n\r\n",
            "\r\nDate: Mon, 3 Mar 2025 07:30:00 +0100\r\n\r\n",
        ));
        let retitled = read(&PLAIN.replace("Subject: ", "Subject: Re: "));
        assert_ne!(first.message_key, later.message_key);
        assert_ne!(read(PLAIN).message_key, retitled.message_key);
    }

    #[rstest]
    #[case::folded_with_a_tab("Subject: Hallo\r\n\tWelt", "Subject: Hallo Welt")]
    #[case::q_or_b_encoding(
        "Subject: =?UTF-8?Q?Gr=C3=BCezi_mitenand?=",
        "Subject: =?UTF-8?B?R3LDvGV6aSBtaXRlbmFuZA==?="
    )]
    #[case::date_comment(
        "Subject: Hallo\r\nDate: Mon, 3 Mar 2025 06:00:00 +0100 (CET)",
        "Subject: Hallo\r\nDate: Mon, 3 Mar 2025 06:00:00 +0100"
    )]
    #[case::date_zone(
        "Subject: Hallo\r\nDate: Mon, 3 Mar 2025 06:00:00 +0100",
        "Subject: Hallo\r\nDate: Mon, 3 Mar 2025 05:00:00 +0000"
    )]
    fn message_key_sees_through_a_forwarder_s_rewriting(#[case] one: &str, #[case] other: &str) {
        let key = |header: &str| read(&PLAIN.replace("Subject: Hallo", header)).message_key;
        assert_eq!(key(one), key(other));
    }

    #[test]
    fn message_key_is_the_same_for_the_copies_of_one_message() {
        let copy = PLAIN
            .replace("eltern@", "leitung@")
            .replace(
                "Subject:",
                "Delivered-To: leitung@db.example.ch\r\nSubject:",
            )
            .replace("\r\n", "\n");
        assert_eq!(read(PLAIN).message_key, read(&copy).message_key);
    }

    #[test]
    fn message_key_without_message_id_is_the_arrival() {
        let raw = PLAIN.replace("Message-ID: <m1@example.org>\r\n", "");
        let first = arrival_key("1:7", raw.as_bytes());
        let second = arrival_key("1:8", raw.as_bytes());
        assert_ne!(first, second, "the same bytes twice are two arrivals");
        assert_eq!(first, arrival_key("1:7", raw.as_bytes()));
        assert_eq!(first.len(), 64);

        let inspection = inspect(raw.as_bytes(), &first, &settings()).expect("readable");
        assert_eq!(inspection.message_id, None);
        assert_eq!(inspection.message_key, first);
    }

    #[test]
    fn message_key_with_message_id_is_the_same_for_every_arrival() {
        let one = inspect(PLAIN.as_bytes(), "a", &settings()).expect("readable");
        let two = inspect(PLAIN.as_bytes(), "b", &settings()).expect("readable");
        assert_eq!(one.message_key, two.message_key);
    }

    #[test]
    fn sender_falls_back_to_the_sender_header_and_is_lowercased() {
        let raw = PLAIN.replace("From: Reto <reto@example.org>", "Sender: Reto@Example.ORG");
        let sender = read(&raw).sender.expect("sender");
        assert_eq!(sender.email, "reto@example.org");
        assert_eq!(sender.name, None);
    }

    #[test]
    fn null_return_path_is_an_empty_string() {
        assert_eq!(
            read(&format!("Return-Path: <>\r\n{PLAIN}"))
                .return_path
                .as_deref(),
            Some("")
        );
    }

    #[test]
    fn subject_is_decoded_cleaned_and_cut_to_256_characters() {
        let long = format!("=?utf-8?q?a=0Ab?= {}", "ü".repeat(300));
        let subject = read(&PLAIN.replace("Subject: Hallo", &format!("Subject: {long}"))).subject;
        assert!(subject.starts_with("a b üü"));
        assert_eq!(subject.chars().count(), 256);
    }

    #[test]
    fn our_list_id_is_found_only_for_our_domain() {
        let ours = read(&format!(
            "List-Id: \"Eltern\" <eltern.db.example.ch>\r\n{PLAIN}"
        ));
        let theirs = read(&format!("List-Id: <eltern.other.example>\r\n{PLAIN}"));
        assert_eq!(ours.our_list_id.as_deref(), Some("eltern.db.example.ch"));
        assert_eq!(theirs.our_list_id, None);
    }

    #[test]
    fn list_message_token_counts_only_in_automatic_messages() {
        let quote = "\r\n> X-Hit-List-Message: abc123\r\n";
        let human = read(&format!("{PLAIN}{quote}"));
        let bounce = read(&format!("Return-Path: <>\r\n{PLAIN}{quote}"));
        assert_eq!(human.bounced_list_message, None);
        assert_eq!(bounce.bounced_list_message.as_deref(), Some("abc123"));
    }

    #[rstest]
    #[case::empty(b"" as &[u8], Unreadable::Empty)]
    #[case::no_fields(b"just some words\r\nand more\r\n", Unreadable::NoHeaders)]
    #[case::body_only(b"\r\n\r\nbody", Unreadable::NoHeaders)]
    fn inputs_without_headers_are_unreadable(#[case] raw: &[u8], #[case] expected: Unreadable) {
        assert_eq!(inspect(raw, "arrival", &settings()), Err(expected));
    }

    #[test]
    fn size_above_the_limit_is_too_large() {
        let small = RelaySettings {
            max_message_bytes: 10,
            ..settings()
        };
        assert!(
            inspect(PLAIN.as_bytes(), "arrival", &small)
                .expect("readable")
                .is_too_large
        );
        assert!(!read(PLAIN).is_too_large);
    }
}
