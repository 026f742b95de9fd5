//! Outgoing mail as the domain hands it to a transport: the SMTP envelope
//! and the finished RFC 5322 message. Building messages (templates, list
//! rewriting) happens before; sending (SMTP, sendmail, a folder) happens in
//! `hitjobs`.

use serde::{Deserialize, Serialize};

/// The SMTP envelope of a message: who it comes from (`MAIL FROM`, empty
/// for the null sender `<>` of bounces and automatic replies) and the
/// addresses it goes to (`RCPT TO`), which need not appear in its headers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: Option<String>,
    pub to: Vec<String>,
}

/// A message ready for a transport: its envelope and its bytes, headers
/// and body, lines ending in CRLF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub envelope: Envelope,
    pub message: Vec<u8>,
}
