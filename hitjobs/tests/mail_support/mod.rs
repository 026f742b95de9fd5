//! What the mail tests share: the real servers' URLs from the environment
//! (`.ci/run` sets them after `.ci/mail-servers.sh`), unique names per
//! run, test messages, and polling a mailbox until delivery has happened.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hitjobs::mail::{Envelope, OutgoingMail, SmtpMailer, SmtpUrl, open_mailbox};

/// How long delivery through Postfix into a Maildir may take.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(20);

/// The variable's value, or `None` after printing that the test is skipped.
pub fn server_var(name: &str) -> Option<String> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        Some(v) => Some(v),
        None => {
            println!(
                "skipped: {name} is not set (run .ci/mail-servers.sh and set it, as .ci/run does)"
            );
            None
        }
    }
}

/// A lower-case name no earlier run used: mailboxes and subjects of one
/// test are its own.
pub fn unique_tag() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "t{}x{}x{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A small message with CRLF line ends, its subject and body naming `tag`.
pub fn message(tag: &str, to_header: &str) -> Vec<u8> {
    format!(
        "From: Sender <sender@people.example.test>\r\n\
         To: {to_header}\r\n\
         Subject: hit test {tag}\r\n\
         Message-ID: <{tag}@hit.test>\r\n\
         Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello from {tag}.\r\n\
         .a line that starts with a dot\r\n"
    )
    .into_bytes()
}

/// A message from `sender@people.example.test` to `to`.
pub fn outgoing(tag: &str, to: &[String]) -> OutgoingMail {
    OutgoingMail {
        envelope: Envelope {
            from: Some("sender@people.example.test".to_owned()),
            to: to.to_vec(),
        },
        message: message(tag, &to.join(", ")),
    }
}

/// The SMTP URL in `smtp_var` and `HIT_TEST_IMAP_URL`, or `None` after
/// saying the test is skipped.
pub fn smtp_and_imap(smtp_var: &str) -> Option<(String, String)> {
    Some((server_var(smtp_var)?, server_var("HIT_TEST_IMAP_URL")?))
}

/// The messages containing `needle` in `address`'s INBOX on the server of
/// `imap_url`, polled as [`wait_for_messages`] does.
pub fn inbox_messages(imap_url: &str, address: &str, needle: &str, want: usize) -> Vec<Vec<u8>> {
    wait_for_messages(&imap_url_for(imap_url, address, "INBOX"), needle, want)
}

/// The SMTP mailer of `HIT_TEST_SMTP_URL`.
pub fn smtp_mailer(url: &str) -> SmtpMailer {
    SmtpMailer::new(SmtpUrl::parse(url).expect("HIT_TEST_SMTP_URL is a valid SMTP URL"))
}

/// The IMAP URL of `address`'s mailbox on the server of `imap_url`
/// (`HIT_TEST_IMAP_URL`), mailbox `folder`.
pub fn imap_url_for(imap_url: &str, address: &str, folder: &str) -> String {
    let mut url = url::Url::parse(imap_url).expect("HIT_TEST_IMAP_URL is a URL");
    url.set_username(&address.replace('@', "%40"))
        .expect("the URL takes a user");
    url.set_path(folder);
    url.to_string()
}

/// The raw messages in the mailbox at `url` that contain `needle`, polled
/// until there are `want` of them or the deadline passes.
pub fn wait_for_messages(url: &str, needle: &str, want: usize) -> Vec<Vec<u8>> {
    let start = Instant::now();
    loop {
        let found = messages_containing(url, needle);
        if found.len() >= want || start.elapsed() > DELIVERY_DEADLINE {
            return found;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The raw messages in the mailbox at `url` that contain `needle`, now.
pub fn messages_containing(url: &str, needle: &str) -> Vec<Vec<u8>> {
    let mut mailbox = open_mailbox(url).expect("the mailbox opens");
    let mut found = Vec::new();
    for message in mailbox.list().expect("the mailbox lists") {
        let raw = mailbox.fetch(&message).expect("the message fetches");
        if contains(&raw, needle) {
            found.push(raw);
        }
    }
    mailbox.close().expect("the session closes");
    found
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
