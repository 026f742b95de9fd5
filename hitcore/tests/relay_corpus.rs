//! Robustness of the relay on messages it was not written for: every test
//! message that ships with `mail-parser` (read from the crate's own folder,
//! never copied here), cut at every header line, and garbage. Each must
//! give a clear outcome without a panic, and `forward` must keep the body
//! bytes exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use hitcore::mailing_list::{MailingList, SubscribableFor};
use hitcore::relay::{
    ListHeaders, RelaySettings, SenderStanding, decide, forward, inspect, rejection_reply,
    returned_bounce,
};
use hitcore::{GroupId, MailingListId};

fn settings() -> RelaySettings {
    RelaySettings::new("db.example.ch", "noreply@db-mail.example.ch")
}

fn list() -> MailingList {
    let at = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    MailingList {
        id: MailingListId(1),
        group_id: GroupId(1),
        name: "Eltern \"Süd\"".into(),
        description: None,
        publisher: None,
        mail_name: Some("eltern".into()),
        additional_senders: vec!["*@example.com".into()],
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

/// mail-parser's `resources/eml` folder, found through `cargo metadata`.
fn corpus_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    // Only the host's packages, so that no other platform's crates have
    // to be downloaded.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc).arg("-vV").output().expect("rustc runs");
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("host triple");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            host,
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let packages = metadata["packages"].as_array().expect("packages");
    let package = packages
        .iter()
        .find(|p| {
            p["name"] == "mail-parser"
                && p["version"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("0.11."))
        })
        .expect("mail-parser 0.11 is a dependency");
    let manifest_path = package["manifest_path"].as_str().expect("manifest path");
    Path::new(manifest_path)
        .parent()
        .expect("crate folder")
        .join("resources/eml")
}

fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            eml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

/// The body as an independent reading of RFC 5322 finds it: after the
/// first empty line (CRLF or LF), or nothing.
fn body_of(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"\r\n") {
        return &raw[2..];
    }
    if raw.starts_with(b"\n") {
        return &raw[1..];
    }
    for i in 0..raw.len() {
        if raw[i] != b'\n' {
            continue;
        }
        if raw[i + 1..].starts_with(b"\r\n") {
            return &raw[i + 3..];
        }
        if raw[i + 1..].starts_with(b"\n") {
            return &raw[i + 2..];
        }
    }
    &[]
}

/// `body` as SMTP carries it: every line ending (CRLF, a bare LF or a
/// bare CR) as CRLF, nothing else changed.
fn with_crlf(body: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = body.to_vec();
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut rest: &[u8] = &text;
    while let Some(end) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
        lines.push(&rest[..end]);
        let skip = if rest[end..].starts_with(b"\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
    }
    let mut out = lines.join(&b"\r\n"[..]);
    if !lines.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(rest);
    out
}

/// Runs every relay step on `raw`; returns whether it was readable.
fn exercise(raw: &[u8], name: &str) -> bool {
    let settings = settings();
    let Ok(inspection) = inspect(raw, name, &settings) else {
        return false;
    };
    let list = list();
    let standings = [
        SenderStanding::default(),
        SenderStanding {
            is_recipient: true,
            ..Default::default()
        },
    ];
    for standing in &standings {
        let _verdict = decide(&inspection, Some(&list), standing);
        let _unknown = decide(&inspection, None, standing);
    }
    let headers = ListHeaders {
        list: &list,
        list_message: "0123456789abcdef",
        unsubscribe_url: Some("https://db.example.ch/u"),
        archive_url: Some("https://db.example.ch/a"),
        subject_tag: Some("eltern"),
        received_at: Utc
            .with_ymd_and_hms(2025, 3, 5, 11, 0, 0)
            .single()
            .expect("valid date"),
    };
    let out = forward(raw, &inspection, &headers, &settings);
    let body = with_crlf(body_of(raw));
    assert!(out.ends_with(&body), "{name}: body changed");
    assert_eq!(
        body_of(&out),
        body.as_slice(),
        "{name}: body not where a reader finds it"
    );
    let head = &out[..out.len() - body.len()];
    for line in head
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && *l != b"\r")
    {
        assert!(line.ends_with(b"\r"), "{name}: header line without CRLF");
        let is_field = line
            .iter()
            .position(|&b| b == b':')
            .is_some_and(|c| c > 0 && line[..c].iter().all(|&b| (33..127).contains(&b)));
        assert!(
            line[0] == b' ' || line[0] == b'\t' || is_field,
            "{name}: stray line {:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert!(
        inspect(&out, name, &settings).is_ok(),
        "{name}: output unreadable"
    );
    let now = Utc
        .with_ymd_and_hms(2025, 3, 5, 12, 0, 0)
        .single()
        .expect("valid date");
    let _reply = rejection_reply(&inspection, &settings, "Nicht zugelassen", "Text", now);
    let _bounce = returned_bounce(raw, "reto@example.org", &settings, "Zurück", "Text", now);
    true
}

#[test]
fn every_mail_parser_test_message_gets_an_outcome_and_keeps_its_body() {
    let mut files = Vec::new();
    eml_files(&corpus_dir(), &mut files);
    assert!(files.len() > 100, "found only {} messages", files.len());
    let mut readable = 0;
    for path in &files {
        let raw = std::fs::read(path).expect("readable file");
        readable += usize::from(exercise(&raw, &path.display().to_string()));
    }
    assert!(
        readable * 10 >= files.len() * 9,
        "only {readable} of {} readable",
        files.len()
    );
}

#[test]
fn every_truncation_of_the_corpus_headers_is_handled() {
    let mut files = Vec::new();
    eml_files(&corpus_dir(), &mut files);
    for path in files.iter().take(60) {
        let raw = std::fs::read(path).expect("readable file");
        let cuts: Vec<usize> = raw
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .take(40)
            .collect();
        for cut in cuts {
            for end in [cut, cut + 1, (cut + 3).min(raw.len())] {
                exercise(&raw[..end], &format!("{} cut at {end}", path.display()));
            }
        }
    }
}

#[test]
fn garbage_inputs_never_panic() {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\r\n".to_vec(),
        b"\n\n\n".to_vec(),
        b":".to_vec(),
        b": \r\n: \r\n\r\n".to_vec(),
        b"From:".to_vec(),
        b"From: <>\r\nTo: <\r\nSubject: =?\r\n\r\n".to_vec(),
        b"Subject: =?utf-8?B?\xff\xfe?=\r\n\r\n".to_vec(),
        b"X-Original-To: @db.example.ch\r\nX-Original-To: <>\r\n\r\n".to_vec(),
        b"Content-Type: multipart/report; boundary=\"\"\r\n\r\n--\r\n--\r\n".to_vec(),
        b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n".to_vec(),
        vec![0xff; 4096],
        [b"Subject: ".as_slice(), &[b'a'; 100_000], b"\r\n\r\nx"].concat(),
        b"A: b\rC: d\r\r\n\r\n".to_vec(),
    ];
    // A pseudo-random mix of header-ish bytes, the same on every run.
    let alphabet = b"\r\n:;<>@=?\" \tFromTSubject-X";
    let mut state: u32 = 0x2545_f491;
    for _ in 0..300 {
        let mut bytes = Vec::with_capacity(200);
        for _ in 0..200 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes.push(alphabet[state as usize % alphabet.len()]);
        }
        inputs.push(bytes);
    }
    for (i, raw) in inputs.iter().enumerate() {
        exercise(raw, &format!("garbage #{i}"));
    }
}
