//! The real-world relay cases of `shared/cases/README.md` (1-3, 5, 6, 8,
//! 14, 16, 18) as tests of the relay decisions and the rewritten message,
//! one fixture per case under `tests/relay/`.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use hitcore::mailing_list::{MailingList, SubscribableFor};
use hitcore::relay::{
    Automated, Inspection, ListHeaders, RelaySettings, SenderStanding, Unreadable, Verdict,
    arrival_key, decide, forward, inspect, list_address, rejection_reply, returned_bounce,
};
use hitcore::{GroupId, MailingListId};
use mail_parser::MessageParser;

fn settings() -> RelaySettings {
    RelaySettings::new("db.example.ch", "noreply@db-mail.example.ch")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 5, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/relay")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn list(id: i64, mail_name: &str, name: &str) -> MailingList {
    let at = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    MailingList {
        id: MailingListId(id),
        group_id: GroupId(1),
        name: name.into(),
        description: None,
        publisher: None,
        mail_name: Some(mail_name.into()),
        additional_senders: vec![],
        subscribers_may_post: true,
        anyone_may_post: false,
        preferred_labels: vec![],
        main_email: false,
        delivery_report: false,
        subscribable_for: SubscribableFor::Nobody,
        subscribable_mode: None,
        created_at: at,
        updated_at: at,
    }
}

/// The lists of the test instance, found by mail name like the store does.
fn lists() -> Vec<MailingList> {
    vec![
        list(1, "eltern", "Eltern"),
        list(2, "leitung", "Leitung"),
        list(3, "leitung.zh", "Leitung Zürich"),
        list(4, "technik", "Technik"),
    ]
}

fn find<'a>(lists: &'a [MailingList], name: &str) -> Option<&'a MailingList> {
    lists.iter().find(|l| l.mail_name.as_deref() == Some(name))
}

const SUBSCRIBER: SenderStanding = SenderStanding {
    is_recipient: true,
    is_list_manager: false,
    is_group_address: false,
};
const STRANGER: SenderStanding = SenderStanding {
    is_recipient: false,
    is_list_manager: false,
    is_group_address: false,
};

fn read(raw: &[u8]) -> Inspection {
    read_as(raw, "1:1")
}

/// `raw` as it arrived under the mailbox id `mailbox_id`.
fn read_as(raw: &[u8], mailbox_id: &str) -> Inspection {
    inspect(raw, &arrival_key(mailbox_id, raw), &settings()).expect("readable")
}

/// Every (list name, verdict) for one message, as the pipeline runs it.
fn verdicts(raw: &[u8], standing: &SenderStanding) -> Vec<(String, Verdict)> {
    let lists = lists();
    let inspection = read(raw);
    if inspection.list_names.is_empty() {
        return vec![(String::new(), decide(&inspection, None, standing))];
    }
    inspection
        .list_names
        .iter()
        .map(|name| {
            (
                name.clone(),
                decide(&inspection, find(&lists, name), standing),
            )
        })
        .collect()
}

fn relay(raw: &[u8], list: &MailingList, tag: Option<&str>) -> String {
    let inspection = read(raw);
    let headers = ListHeaders {
        list,
        list_message: "4f2a9c01d3e5b7a8",
        unsubscribe_url: Some("https://db.example.ch/mailing_lists/1/unsubscribe"),
        archive_url: None,
        subject_tag: tag,
        received_at: Utc
            .with_ymd_and_hms(2026, 3, 14, 8, 0, 0)
            .single()
            .expect("valid date"),
    };
    let out = forward(raw, &inspection, &headers, &settings());
    String::from_utf8(out).expect("fixtures are UTF-8")
}

fn header_block(message: &str) -> &str {
    message.split("\r\n\r\n").next().unwrap_or_default()
}

/// Unfolded values of the header fields called `name`.
fn values(message: &str, name: &str) -> Vec<String> {
    let unfolded = header_block(message)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_ascii_lowercase());
    unfolded
        .split("\r\n")
        .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_owned())
        .collect()
}

fn body_of(raw: &[u8]) -> &[u8] {
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    &raw[at..]
}

// Case 1: one message addressed to two lists.

#[test]
fn case_01_two_copies_reach_each_list_exactly_once() {
    let copies = [
        fixture("case01_copy_leitung.eml"),
        fixture("case01_copy_eltern.eml"),
    ];
    let mut relayed: HashSet<(String, String)> = HashSet::new();
    let mut sends = Vec::new();
    // Postfix may also deliver a copy twice (a retry): the key is the
    // same, so the second delivery changes nothing.
    for raw in copies.iter().chain(copies.iter()) {
        let inspection = read(raw);
        for (name, verdict) in verdicts(raw, &SUBSCRIBER) {
            assert_eq!(verdict, Verdict::Forward);
            if relayed.insert((inspection.message_key.clone(), name.clone())) {
                sends.push(name);
            }
        }
    }
    assert_eq!(read(&copies[0]).message_key, read(&copies[1]).message_key);
    sends.sort();
    assert_eq!(sends, ["eltern", "leitung"]);
}

#[test]
fn case_01_byte_identical_copies_without_trace_name_both_lists_once() {
    // A mailbox that writes no X-Original-To: both copies name both lists
    // (To and Cc), and only the Message-ID tells that they are one
    // message.
    let raw = fixture("case01_identical_no_trace.eml");
    let mut relayed: HashSet<(String, String)> = HashSet::new();
    let mut sends = Vec::new();
    for mailbox_id in ["1:1", "1:2"] {
        let inspection = read_as(&raw, mailbox_id);
        assert_eq!(inspection.list_names, ["leitung", "eltern"]);
        for name in &inspection.list_names {
            if relayed.insert((inspection.message_key.clone(), name.clone())) {
                sends.push(name.clone());
            }
        }
    }
    assert_eq!(sends, ["leitung", "eltern"]);
}

// Case 2: two X-Original-To headers after a forward.

#[test]
fn case_02_forwarded_mail_picks_the_list_domain_value() {
    let raw = fixture("case02_forwarded.eml");
    assert_eq!(
        verdicts(&raw, &SUBSCRIBER),
        [("leitung.zh".into(), Verdict::Forward)]
    );
}

#[test]
fn case_02_variants_find_the_same_list() {
    let base = String::from_utf8(fixture("case02_forwarded.eml")).expect("utf-8");
    let ours =
        "X-Original-To: leitung.zh@db.example.ch\r\nDelivered-To: leitung.zh@db.example.ch\r\n";
    let theirs =
        "X-Original-To: leitung@pfadi-example.ch\r\nDelivered-To: leitung@pfadi-example.ch\r\n";
    let reversed = base.replace(&format!("{ours}{theirs}"), &format!("{theirs}{ours}"));
    let delivered_only = base
        .replace("X-Original-To: leitung.zh@db.example.ch\r\n", "")
        .replace("X-Original-To: leitung@pfadi-example.ch\r\n", "");
    let upper = base.replace("X-Original-To:", "X-ORIGINAL-TO:");
    for variant in [reversed, delivered_only, upper] {
        assert_eq!(
            read(variant.as_bytes()).list_names,
            ["leitung.zh"],
            "{variant}"
        );
    }
}

#[test]
fn case_02_two_values_in_our_domain_name_two_lists() {
    let base = String::from_utf8(fixture("case02_forwarded.eml")).expect("utf-8");
    let both = base.replace("leitung@pfadi-example.ch", "eltern@db.example.ch");
    let names: Vec<String> = verdicts(both.as_bytes(), &SUBSCRIBER)
        .into_iter()
        .map(|v| v.0)
        .collect();
    assert_eq!(names, ["leitung.zh", "eltern"]);
}

#[test]
fn case_02_no_value_in_our_domain_is_an_unknown_list() {
    let base = String::from_utf8(fixture("case02_forwarded.eml")).expect("utf-8");
    let foreign = base.replace("leitung.zh@db.example.ch", "leitung@other.example");
    assert_eq!(
        verdicts(foreign.as_bytes(), &SUBSCRIBER),
        [(String::new(), Verdict::UnknownList)]
    );
    let unknown = base.replace("leitung.zh@", "nobody@");
    assert_eq!(
        verdicts(unknown.as_bytes(), &SUBSCRIBER),
        [("nobody".into(), Verdict::UnknownList)]
    );
}

// Case 3: list address only in Bcc.

#[test]
fn case_03_bcc_only_mail_maps_to_the_list_and_gets_a_valid_to() {
    for name in ["case03_bcc_undisclosed.eml", "case03_bcc_no_to.eml"] {
        let raw = fixture(name);
        assert_eq!(
            verdicts(&raw, &SUBSCRIBER),
            [("eltern".into(), Verdict::Forward)],
            "{name}"
        );
        let out = relay(&raw, &list(1, "eltern", "Eltern"), None);
        assert_eq!(values(&out, "To"), ["undisclosed-recipients:;"], "{name}");
    }
}

// Case 5: one unprocessable mail must not block the queue.

#[test]
fn case_05_broken_mail_gets_a_clear_outcome_and_the_others_are_relayed() {
    let inbox = [
        "case05_a_valid.eml",
        "case05_b_broken.eml",
        "case05_c_valid.eml",
    ];
    let outcomes: Vec<Vec<(String, Verdict)>> = inbox
        .iter()
        .map(|name| verdicts(&fixture(name), &SUBSCRIBER))
        .collect();
    assert_eq!(outcomes[0], [("eltern".into(), Verdict::Forward)]);
    assert_eq!(outcomes[1], [(String::new(), Verdict::AutoReply)]);
    assert_eq!(outcomes[2], [("leitung".into(), Verdict::Forward)]);

    let broken = read(&fixture("case05_b_broken.eml"));
    assert_eq!(broken.automated, Some(Automated::NullReturnPath));
    assert_eq!(broken.message_id, None);
    assert_eq!(broken.sender, None);
    assert_eq!(broken.subject, "=?UTF-8?B?broken-base64*?=");
}

#[test]
fn case_05_broken_mail_without_return_path_is_an_unknown_list() {
    let raw = String::from_utf8(fixture("case05_b_broken.eml")).expect("utf-8");
    let raw = raw.replace("Return-Path: <>\r\n", "");
    assert_eq!(
        verdicts(raw.as_bytes(), &SUBSCRIBER),
        [(String::new(), Verdict::UnknownList)]
    );
}

#[test]
fn case_05_forward_of_the_broken_mail_drops_the_nameless_line() {
    let raw = fixture("case05_b_broken.eml");
    let out = relay(&raw, &list(1, "eltern", "Eltern"), None);
    assert!(
        header_block(&out)
            .split("\r\n")
            .all(|l| !l.starts_with(':'))
    );
    assert!(out.as_bytes().ends_with(body_of(&raw)));
}

#[test]
fn case_05_input_without_headers_is_unreadable_not_a_panic() {
    assert_eq!(inspect(b"", "1:1", &settings()), Err(Unreadable::Empty));
    assert_eq!(
        inspect(b"\x00\x01\x02 binary junk", "1:2", &settings()),
        Err(Unreadable::NoHeaders)
    );
}

// Case 6: out-of-office replies must never reach the list.

#[test]
fn case_06_out_of_office_reply_is_dropped_and_never_answered() {
    let raw = String::from_utf8(fixture("case06_out_of_office.eml")).expect("utf-8");
    let header_only = raw
        .replace("Return-Path: <>", "Return-Path: <sara.probst@example.net>")
        .replace("Auto-Submitted: auto-replied\r\n", "")
        .replace("X-Auto-Response-Suppress: All\r\n", "")
        .replace("Automatische Antwort: ", "");
    let marker = |m: &str| header_only.replace("Subject:", &format!("{m}\r\nSubject:"));
    let variants = [
        raw.clone(),
        marker("Auto-Submitted: auto-generated"),
        marker("Precedence: auto_reply"),
        marker("X-Autoreply: yes"),
        marker("X-Autorespond: 1"),
        header_only.replace("Return-Path: <sara.probst@example.net>", "Return-Path: <>"),
        header_only.replace(
            "Subject: Elternabend",
            "Subject: Out of Office: Elternabend",
        ),
        header_only.replace(
            "Subject: Elternabend",
            "Subject: Abwesenheitsnotiz: Elternabend",
        ),
    ];
    for variant in &variants {
        let inspection = read(variant.as_bytes());
        assert!(inspection.automated.is_some(), "{variant}");
        // Even a stranger's auto-reply to a closed list gets no answer.
        for standing in [SUBSCRIBER, STRANGER] {
            let verdict = decide(&inspection, Some(&list(1, "eltern", "Eltern")), &standing);
            assert_eq!(verdict, Verdict::AutoReply, "{variant}");
        }
        assert_eq!(
            rejection_reply(&inspection, &settings(), "s", "t", now()),
            None
        );
    }
    assert_eq!(
        read(header_only.as_bytes()).automated,
        None,
        "the base without markers is human"
    );
}

#[test]
fn case_06_relayed_mail_carries_the_headers_responders_respect() {
    let raw = fixture("case06_plain_reply.eml");
    let out = relay(&raw, &list(1, "eltern", "Eltern"), None);
    assert_eq!(
        values(&out, "List-Id"),
        ["\"Eltern\" <eltern.db.example.ch>"]
    );
    assert_eq!(
        values(&out, "List-Unsubscribe"),
        ["<https://db.example.ch/mailing_lists/1/unsubscribe>"]
    );
    assert_eq!(values(&out, "Precedence"), ["list"]);
    // A copy of our own mail that comes back is a loop.
    let inspection = read(out.as_bytes());
    assert_eq!(
        decide(&inspection, Some(&list(1, "eltern", "Eltern")), &SUBSCRIBER),
        Verdict::Loop
    );
}

#[test]
fn case_06_bounce_of_list_mail_goes_back_to_the_sender_only() {
    let raw = fixture("case06_bounce_of_list_mail.eml");
    let inspection = read(&raw);
    assert_eq!(inspection.automated, Some(Automated::DeliveryReport));
    assert_eq!(
        verdicts(&raw, &SUBSCRIBER),
        [(
            "eltern".into(),
            Verdict::ReturnBounce {
                list_message: "4f2a9c01d3e5b7a8".into()
            }
        )]
    );
    let mail = returned_bounce(
        &raw,
        "reto.beispiel@example.org",
        &settings(),
        "s",
        "t",
        now(),
    )
    .expect("a message to the sender");
    assert_eq!(mail.envelope.from, None);
    assert_eq!(mail.envelope.to, ["reto.beispiel@example.org"]);
}

// Case 8: a large list is sent in batches; the relayed message must be
// the same bytes for every batch and every retry of one.

#[test]
fn case_08_relayed_message_is_the_same_for_every_batch_and_retry() {
    let raw = fixture("case05_a_valid.eml");
    let list = list(1, "eltern", "Eltern");
    let first = relay(&raw, &list, None);
    assert_eq!(first, relay(&raw, &list, None));
    for recipient in ["lea@example.org", "tim@example.org"] {
        assert!(!first.contains(recipient), "no per-recipient header");
    }
    assert_eq!(
        list_address(&list, &settings()).as_deref(),
        Some("eltern@db.example.ch")
    );
}

// Case 14: subject tag and RFC 2047 encoded words.

#[test]
fn case_14_subjects_are_decoded() {
    let expected = [
        ("case14_subject_q.eml", "Grüezi mitenand"),
        (
            "case14_subject_split.eml",
            "Einladung zum Elternabend für alle",
        ),
        (
            "case14_subject_reply_tagged.eml",
            "Re: [eltern] Anmeldeschluss März",
        ),
    ];
    for (name, subject) in expected {
        assert_eq!(read(&fixture(name)).subject, subject, "{name}");
    }
}

#[test]
fn case_14_subject_tag_is_added_once_and_encoded_whole() {
    let list = list(1, "eltern", "Eltern");
    let tagged = [
        ("case14_subject_q.eml", "[eltern] Grüezi mitenand"),
        (
            "case14_subject_split.eml",
            "[eltern] Einladung zum Elternabend für alle",
        ),
        (
            "case14_subject_reply_tagged.eml",
            "Re: [eltern] Anmeldeschluss März",
        ),
    ];
    for (name, subject) in tagged {
        let out = relay(&fixture(name), &list, Some("eltern"));
        let parsed = MessageParser::default()
            .parse(out.as_bytes())
            .expect("parses");
        assert_eq!(parsed.subject(), Some(subject), "{name}");
        assert_eq!(read(out.as_bytes()).subject, subject, "{name}");
    }
}

// Case 16: missing Message-ID.

#[test]
fn case_16_mail_without_message_id_is_accepted_with_a_list_domain_id() {
    let raw = fixture("case16_no_message_id.eml");
    let first = read(&raw);
    assert_eq!(first.message_id, None);
    assert_eq!(
        verdicts(&raw, &SUBSCRIBER),
        [("technik".into(), Verdict::Forward)]
    );

    let list = list(4, "technik", "Technik");
    let out = relay(&raw, &list, None);
    assert_eq!(
        values(&out, "Message-ID"),
        ["<4f2a9c01d3e5b7a8.list@db.example.ch>"]
    );
}

#[test]
fn case_16_byte_identical_arrivals_are_two_messages() {
    // The documented policy (README, "List mail"): without a Message-ID
    // each arrival in the mailbox is a message of its own, relayed with a
    // Message-ID of its own; fetching the same arrival again (after a
    // crash) is still recognised.
    let raw = fixture("case16_no_message_id.eml");
    let first = read_as(&raw, "1:41");
    let second = read_as(&raw, "1:42");
    assert_ne!(first.message_key, second.message_key);
    assert_eq!(first.message_key, read_as(&raw, "1:41").message_key);

    let original = relay(
        &fixture("case05_a_valid.eml"),
        &list(1, "eltern", "Eltern"),
        None,
    );
    assert_eq!(
        values(&original, "Message-ID"),
        ["<inbox-a@example.org>"],
        "an existing id is kept"
    );
}

#[test]
fn case_16_a_reused_message_id_on_a_new_message_is_a_new_message() {
    // An alarm system that gives every message the same Message-ID: the
    // next alarm has another Date and Subject, so a list that relayed the
    // first still takes it; a copy of the first is still the first.
    let first = "X-Original-To: technik@db.example.ch\r\nFrom: Alarmzentrale <alarm@example.org>\r\n\
                 To: technik@db.example.ch\r\nSubject: Testalarm\r\n\
                 Message-ID: <alarm@example.org>\r\nDate: Wed, 5 Mar 2025 06:00:00 +0100\r\n\r\n\
                 Test.\r\n";
    let next = first
        .replace("Subject: Testalarm", "Subject: Ernstfall Brand")
        .replace("06:00:00", "21:14:09")
        .replace("Test.", "Brand in der Halle.");
    let copy = first.replacen(
        "X-Original-To",
        "Delivered-To: technik@db.example.ch\r\nX-Original-To",
        1,
    );
    let key = |raw: &str| read_as(raw.as_bytes(), "arrival").message_key;

    assert_ne!(key(first), key(&next));
    assert_eq!(key(first), key(&copy));
    assert!(key(first).starts_with("alarm@example.org "));
}

// Case 18: header injection through list metadata or display names.

#[test]
fn case_18_injection_attempts_add_no_header_line() {
    let raw = fixture("case18_injected_name.eml");
    let list = list(1, "eltern", "Eltern\r\nBcc: leak@evil.example");
    let out = relay(&raw, &list, Some("eltern\nX-Injected: yes"));
    let head = header_block(&out);
    assert!(
        !head.contains("Bcc:") && !head.contains("X-Injected:"),
        "{head}"
    );
    for line in head.split("\r\n") {
        let is_field = line
            .split_once(':')
            .is_some_and(|(n, _)| !n.is_empty() && !n.contains(' '));
        assert!(
            line.starts_with([' ', '\t']) || is_field,
            "stray line {line:?}"
        );
    }
    let parsed = MessageParser::default()
        .parse(out.as_bytes())
        .expect("parses");
    let from = parsed.from().and_then(|a| a.first()).expect("from");
    assert_eq!(from.address(), Some("eltern@db.example.ch"));
    assert_eq!(
        from.name(),
        Some("Reto X-Injected: yes via Eltern Bcc: leak@evil.example")
    );
    assert!(parsed.header_raw("Bcc").is_none() && parsed.header_raw("X-Injected").is_none());
    assert!(out.as_bytes().ends_with(body_of(&raw)));
}
