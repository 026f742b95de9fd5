//! [`FolderMailer`]: the development transport. Each message becomes one
//! `.eml` file in `MAIL_FOLDER`, with its envelope beside it in a
//! `.envelope.json` file; the development page `/dev/mails` lists them
//! ([`list_folder_mails`], [`read_folder_mail`]).
//!
//! A message appears at once or not at all: both files are written under a
//! temporary name and renamed, the `.eml` last.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use chrono::Utc;
use mail_parser::MessageParser;
use serde::Serialize;
use tracing::instrument;

use super::sendmail::split_valid;
use super::{Delivery, Envelope, Mailer, OutgoingMail, SendError};

const MESSAGE_SUFFIX: &str = ".eml";
const ENVELOPE_SUFFIX: &str = ".envelope.json";

/// Writes every message into a folder instead of sending it.
#[derive(Debug)]
pub struct FolderMailer {
    dir: PathBuf,
    sequence: AtomicU64,
}

impl FolderMailer {
    /// A mailer writing into `dir`, which is created on the first message.
    pub fn new(dir: impl Into<PathBuf>) -> FolderMailer {
        FolderMailer {
            dir: dir.into(),
            sequence: AtomicU64::new(0),
        }
    }

    /// The folder it writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file name that sorts by time and is unique across the processes
    /// writing into one folder (the web server's embedded worker and a
    /// `hitjobs` process may both).
    fn next_name(&self) -> String {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}-{}-{n:06}",
            Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            std::process::id()
        )
    }

    fn write(&self, name: &str, envelope: &Envelope, message: &[u8]) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec_pretty(envelope).map_err(io::Error::other)?;
        write_atomically(&self.dir, &format!("{name}{ENVELOPE_SUFFIX}"), &json)?;
        write_atomically(&self.dir, &format!("{name}{MESSAGE_SUFFIX}"), message)
    }
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(name))
}

impl Mailer for FolderMailer {
    #[instrument(skip_all, fields(mail.recipients = mail.envelope.to.len()))]
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        let (delivery, _) = split_valid(&mail.envelope.to);
        if delivery.accepted.is_empty() {
            return Ok(delivery);
        }
        handing_over(&delivery).map_err(SendError::Aborted)?;
        let envelope = Envelope {
            from: mail.envelope.from.clone(),
            to: delivery.accepted.clone(),
        };
        let name = self.next_name();
        self.write(&name, &envelope, &mail.message).map_err(|e| {
            SendError::Temporary(format!("writing into {}: {e}", self.dir.display()))
        })?;
        tracing::debug!(mail.file = %name, "Wrote a message into the mail folder");
        Ok(delivery)
    }
}

/// One message of the mail folder, for the development page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredMail {
    /// The file name, which [`read_folder_mail`] takes.
    pub id: String,
    /// The `Date:` header in RFC 3339, if it has one that parses.
    pub date: Option<String>,
    /// The envelope recipients (the `To:` header when the envelope file is
    /// missing).
    pub to: Vec<String>,
    /// The decoded `Subject:` header.
    pub subject: Option<String>,
}

/// The messages in `dir`, newest first. A folder that does not exist yet
/// holds no messages.
///
/// # Errors
/// The folder or a message in it cannot be read.
pub fn list_folder_mails(dir: &Path) -> anyhow::Result<Vec<StoredMail>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("while listing {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if is_message_name(&name) {
            names.push(name);
        }
    }
    names.sort_unstable_by(|a, b| b.cmp(a));
    names
        .into_iter()
        .map(|name| stored_mail(dir, name))
        .collect()
}

fn stored_mail(dir: &Path, id: String) -> anyhow::Result<StoredMail> {
    let raw = fs::read(dir.join(&id)).with_context(|| format!("while reading {id}"))?;
    let headers = MessageParser::default().parse_headers(&raw[..]);
    let stem = id.trim_end_matches(MESSAGE_SUFFIX);
    let envelope = fs::read(dir.join(format!("{stem}{ENVELOPE_SUFFIX}")))
        .ok()
        .and_then(|json| serde_json::from_slice::<Envelope>(&json).ok());
    let to = match (&envelope, &headers) {
        (Some(envelope), _) => envelope.to.clone(),
        (None, Some(h)) => h
            .to()
            .map(|a| {
                a.iter()
                    .filter_map(|a| a.address.as_deref().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    Ok(StoredMail {
        date: headers
            .as_ref()
            .and_then(|h| h.date())
            .map(|d| d.to_rfc3339()),
        subject: headers
            .as_ref()
            .and_then(|h| h.subject())
            .map(str::to_owned),
        to,
        id,
    })
}

/// The raw bytes of message `id` in `dir`; `None` when there is no such
/// message or `id` is not a message file name (no paths).
///
/// # Errors
/// The file exists but cannot be read.
pub fn read_folder_mail(dir: &Path, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
    if !is_message_name(id) {
        return Ok(None);
    }
    match fs::read(dir.join(id)) {
        Ok(raw) => Ok(Some(raw)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("while reading {id}")),
    }
}

/// A message file name: ends in `.eml` (any case), no path separators,
/// not hidden (the temporary files start with a dot).
pub(super) fn is_message_name(name: &str) -> bool {
    let suffix_at = name.len().saturating_sub(MESSAGE_SUFFIX.len());
    name.as_bytes()[suffix_at..].eq_ignore_ascii_case(MESSAGE_SUFFIX.as_bytes())
        && name.len() > MESSAGE_SUFFIX.len()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_eml_names_are_messages() {
        assert!(is_message_name("20250101T000000Z-1-000001.eml"));
        assert!(is_message_name("Saved From Outlook.EML"));
        for name in [
            "../x.eml",
            ".x.eml.tmp",
            ".eml",
            "a/b.eml",
            "x.envelope.json",
            ".hidden.eml",
            "ü.em",
        ] {
            assert!(!is_message_name(name), "{name}");
        }
    }

    #[test]
    fn a_refused_handover_writes_no_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mailer = FolderMailer::new(dir.path().join("outbox"));
        let mail = OutgoingMail {
            envelope: Envelope {
                from: None,
                to: vec!["ann@example.test".to_owned()],
            },
            message: b"Subject: x\r\n\r\nx\r\n".to_vec(),
        };
        let result = mailer.send_with_handover(&mail, &mut |_| Err(anyhow::anyhow!("no")));
        assert!(matches!(result, Err(SendError::Aborted(_))));
        assert!(list_folder_mails(mailer.dir()).expect("listed").is_empty());
    }
}
