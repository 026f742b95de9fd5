//! Mail in and out of the workers: the transports that hand a finished
//! message to a mail server ([`Mailer`]: SMTP, a sendmail binary, a folder
//! for development, memory for tests) and the list mailbox the relay reads
//! ([`Mailbox`]: IMAP, POP3, a folder).
//!
//! What goes into a message and who receives it is decided in hitcore
//! (`hitcore::mail`, `hitcore::relay`); this module only moves bytes and
//! reports what the server said, so that a job can retry a temporary
//! failure and record a permanent one.

mod folder;
mod imap;
mod mailbox;
mod memory;
mod net;
mod pop3;
mod sendmail;
mod smtp;

use std::fmt;

pub use folder::{FolderMailer, StoredMail, list_folder_mails, read_folder_mail};
pub use hitcore::mail::{Envelope, OutgoingMail};
pub(crate) use mailbox::folder_of;
pub use mailbox::{Mailbox, MessageRef, open_mailbox};
pub use memory::MemoryMailer;
pub use sendmail::SendmailMailer;
pub use smtp::{SmtpMailer, SmtpSecurity, SmtpUrl};

/// A way to hand messages to a mail server.
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Sends one message in one transaction (one SMTP transaction, one
    /// sendmail run, one file).
    ///
    /// When every recipient is refused the result is `Ok` with `accepted`
    /// empty, and no message data was sent.
    ///
    /// # Errors
    /// [`SendError::Temporary`] or [`SendError::Permanent`] for a failure
    /// of the whole message.
    fn send(&self, mail: &OutgoingMail) -> Result<Delivery, SendError> {
        self.send_with_handover(mail, &mut |_| Ok(()))
    }

    /// The same, but calls `handing_over(&delivery_so_far)` once the server
    /// has answered every `RCPT TO` and `DATA` with 354, right before the
    /// message bytes go out (sendmail, folder: right before writing). If it
    /// returns `Err`, the transaction is abandoned without sending and that
    /// error comes back as [`SendError::Aborted`]. The relay marks a batch
    /// as handed over in the database here, in the smallest window SMTP
    /// allows.
    ///
    /// It is not called when every recipient was refused.
    ///
    /// # Errors
    /// As for [`Mailer::send`], plus [`SendError::Aborted`].
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError>;
}

/// What the server did with the envelope recipients of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The envelope recipients the server took, in the envelope's order.
    pub accepted: Vec<String>,
    /// The ones it refused at `RCPT TO` (or that are not valid addresses
    /// at all).
    pub refused: Vec<RefusedRecipient>,
}

/// One recipient the server would not take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedRecipient {
    /// The address as it was in the envelope.
    pub address: String,
    /// The SMTP reply code, e.g. 550 or 451. An address that is not valid
    /// for SMTP at all is refused here without asking, as 553.
    pub code: u16,
    /// Whether retrying is pointless (a 5xx code).
    pub is_permanent: bool,
    /// The server's reply text. It usually names the address: personal
    /// data, not for the log.
    pub reply: String,
}

/// Why a whole message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A 4xx reply, a refused or lost connection, a timeout, all before
    /// the message was handed over or answered by the server: nothing was
    /// accepted, retry later.
    #[error("temporary mail failure: {0}")]
    Temporary(String),
    /// The connection failed after the message bytes went out and before
    /// the server answered: the server may have accepted the message (the
    /// one window SMTP leaves open). Sending it again risks a duplicate.
    #[error("mail handed over without an answer: {0}")]
    Unconfirmed(String),
    /// A 5xx reply for the whole message: retrying will not help.
    #[error("permanent mail failure: {0}")]
    Permanent(String),
    /// The handover callback refused; nothing was sent.
    #[error("mail handover aborted")]
    Aborted(#[source] anyhow::Error),
}

impl SendError {
    /// Whether a later attempt may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(self, SendError::Temporary(_) | SendError::Unconfirmed(_))
    }
}

/// The mail settings the jobs share, from [`crate::config::MailConfig`].
#[derive(Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The domain of the list addresses (`MAIL_LIST_DOMAIN`), lower case.
    pub list_domain: String,
    /// The address notifications and rejections come from (`MAIL_FROM`).
    pub from: String,
    /// Envelope recipients per SMTP transaction (`MAIL_BATCH_SIZE`).
    pub batch_size: usize,
    /// Where the list mailbox is read (`MAIL_RETRIEVER_URL`); may hold a
    /// password.
    pub retriever_url: Option<SecretUrl>,
    /// The address of the web site as people reach it (`HIT_BASE_URL`,
    /// default `http://127.0.0.1:3000`, hitweb's default address), without
    /// a trailing slash: the links in mails start with it.
    pub base_url: String,
    /// SMTP transactions one list message is sent in at once
    /// (`MAIL_SMTP_SESSIONS`, default 4).
    pub smtp_sessions: usize,
    /// How often the list mailbox is read (`MAIL_RETRIEVE_SECS`, default
    /// 60 s).
    pub retrieve_every: std::time::Duration,
}

impl Default for MailSettings {
    fn default() -> MailSettings {
        MailSettings {
            list_domain: "lists.localhost".to_owned(),
            from: "noreply@localhost".to_owned(),
            batch_size: 50,
            retriever_url: None,
            base_url: "http://127.0.0.1:3000".to_owned(),
            smtp_sessions: 4,
            retrieve_every: std::time::Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("list_domain", &self.list_domain)
            .field("from", &self.from)
            .field("batch_size", &self.batch_size)
            .field("retriever_url", &self.retriever_url)
            .field("base_url", &self.base_url)
            .field("smtp_sessions", &self.smtp_sessions)
            .field("retrieve_every", &self.retrieve_every)
            .finish()
    }
}

/// A URL that may carry a password; `Debug` and `Display` mask it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The URL with its password, for the one place that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hitcore::store::redacted_url(&self.0))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({self})")
    }
}

/// Whether an IMAP or POP3 URL is usable, without connecting.
pub(crate) fn check_server_url(url: &str) -> Result<(), String> {
    mailbox::parse_server_url(url).map(|_| ())
}

/// A server reply made fit for an error message that ends up in the log
/// and the job table: anything between `<` and `>` (where servers quote
/// addresses) and every word with an `@` (sendmail's `ann@example.org...
/// User unknown`) is left out, line breaks become spaces, and it is cut at
/// 200 characters.
///
/// Limitations: a name in the reply's prose ("Mailbox of Ann Muster
/// full") stays; nothing tells it from the server's own words.
pub(crate) fn scrub_reply(reply: &str) -> String {
    let mut unquoted = String::with_capacity(reply.len());
    let mut in_brackets = false;
    for c in reply.chars() {
        match c {
            '<' => {
                in_brackets = true;
                unquoted.push_str("<…");
            }
            '>' => {
                in_brackets = false;
                unquoted.push('>');
            }
            c if !in_brackets => unquoted.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = unquoted
        .split_whitespace()
        .map(|w| if w.contains('@') { "…" } else { w })
        .collect();
    words.join(" ").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbed_replies_leave_out_quoted_addresses() {
        assert_eq!(
            scrub_reply("554 5.7.1 <ann@example.org>: Relay access denied"),
            "554 5.7.1 <…>: Relay access denied"
        );
    }

    #[test]
    fn scrubbed_replies_leave_out_bare_addresses() {
        assert_eq!(
            scrub_reply("550 5.1.1 ann.muster@example.org... User unknown\r\n"),
            "550 5.1.1 … User unknown"
        );
        assert_eq!(
            scrub_reply("451 4.3.0 Mailbox (ann@example.org) full"),
            "451 4.3.0 Mailbox … full"
        );
    }

    #[test]
    fn secret_urls_hide_the_password() {
        let url = SecretUrl::new("imap://ann:s3cret@mail.example.org/INBOX");
        assert!(!format!("{url:?} {url}").contains("s3cret"));
        assert_eq!(url.expose(), "imap://ann:s3cret@mail.example.org/INBOX");
    }
}
