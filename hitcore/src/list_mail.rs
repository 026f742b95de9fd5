//! The records of the list mail pipeline, as pages and jobs read them: a
//! message fetched from the list mailbox, each list's copy of it and the
//! state of its delivery.
//!
//! What happens to a message is decided in [`crate::relay`]; the stores
//! keep these records so that a crash at any step loses nothing and sends
//! nothing twice (ARCHITECTURE.md, "List mail").

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::id::{InboundMailId, ListMessageId, MailingListId};

/// What became of a message fetched from the list mailbox, as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundOutcome {
    /// At least one list took a copy (see its [`ListMessageState`]).
    Accepted,
    /// Not a readable mail; moved aside in the mailbox, kept here.
    Unreadable,
    /// None of the addresses it was sent to names one of our lists.
    UnknownList,
    /// An automatic message for no list we have: dropped.
    Dropped,
    /// Every list it names already has this message (another copy of it).
    Duplicate,
}

impl InboundOutcome {
    /// The name stored in `inbound_mails.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            InboundOutcome::Accepted => "accepted",
            InboundOutcome::Unreadable => "unreadable",
            InboundOutcome::UnknownList => "unknown_list",
            InboundOutcome::Dropped => "dropped",
            InboundOutcome::Duplicate => "duplicate",
        }
    }
}

/// A message fetched from the list mailbox, to be recorded.
#[derive(Clone, Debug)]
pub struct NewInboundMail<'a> {
    pub raw: &'a [u8],
    /// `relay::arrival_key`: a message fetched again after a crash is
    /// recognised by it.
    pub arrival_key: String,
    /// The duplicate key (`relay::Inspection::message_key`).
    pub message_key: String,
    pub sender: Option<String>,
    pub subject: String,
    pub outcome: InboundOutcome,
    /// Why, for outcomes other than `Accepted`.
    pub note: Option<String>,
}

/// One list's copy of a recorded message.
#[derive(Clone, Debug)]
pub struct NewListMessage {
    pub mailing_list_id: MailingListId,
    pub state: ListMessageState,
    /// For a rejection: whether the sender is to be told.
    pub is_reply_due: bool,
}

/// What recording a fetched message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored now, with the copies that were new (a copy a list already
    /// had is skipped).
    New {
        inbound: InboundMailId,
        copies: Vec<ListMessageId>,
    },
    /// The same arrival was recorded before (fetched again after a crash
    /// before the mailbox deletion): nothing changed.
    Known(InboundMailId),
}

/// One list's copy of a message, as the delivery job reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListMessage {
    pub id: ListMessageId,
    pub inbound_mail_id: InboundMailId,
    pub mailing_list_id: MailingListId,
    pub token: String,
    pub state: ListMessageState,
    pub sender: String,
    pub subject: String,
    pub is_reply_due: bool,
    pub is_planned: bool,
    pub is_finished: bool,
    /// When the message was fetched from the list mailbox.
    pub received_at: DateTime<Utc>,
    /// The duplicate key it was recorded with
    /// (`relay::Inspection::message_key`).
    pub message_key: String,
}

/// The addresses of one SMTP transaction of a list message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub number: u64,
    /// The envelope recipients, in address order.
    pub recipients: Vec<String>,
}

/// What the mail server said about a batch's recipients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Accepted: the server has the message for these.
    pub sent: Vec<String>,
    /// Refused for good, with the server's reply.
    pub failed: Vec<(String, String)>,
    /// Refused for now (4xx at RCPT, or the transaction failed before the
    /// message went out): deferred to the job's next attempt.
    pub retry: Vec<String>,
}

impl BatchOutcome {
    /// The rows a store writes for this outcome: the batch keeps the
    /// addresses the server answered for good and is `sent`, and those
    /// refused for now move to a new `deferred` batch; when the server
    /// answered none for good, the batch itself is `deferred`.
    pub(crate) fn stored(&self) -> StoredOutcome<'_> {
        let mut kept: Vec<&str> = self.sent.iter().map(String::as_str).collect();
        kept.extend(self.failed.iter().map(|(email, _)| email.as_str()));
        kept.sort_unstable();
        let mut retry: Vec<&str> = self.retry.iter().map(String::as_str).collect();
        retry.sort_unstable();
        if kept.is_empty() {
            return StoredOutcome {
                state: "deferred",
                recipients: retry,
                moved: None,
            };
        }
        StoredOutcome {
            state: "sent",
            recipients: kept,
            moved: (!retry.is_empty()).then_some(retry),
        }
    }
}

/// A recorded batch as stored, see [`BatchOutcome::stored`].
pub(crate) struct StoredOutcome<'a> {
    /// The batch's new state.
    pub state: &'static str,
    /// The addresses the batch keeps.
    pub recipients: Vec<&'a str>,
    /// The addresses of the new deferred batch.
    pub moved: Option<Vec<&'a str>>,
}

/// The addresses of a stored batch (`list_batches.recipients`: one per
/// line, as no SMTP address holds a line break).
pub(crate) fn batch_recipients(stored: &str) -> Vec<String> {
    stored
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What became of one list's copy of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListMessageState {
    /// Accepted; recipients are being planned or sent to.
    Delivering,
    /// Every recipient was handed to the mail server or failed for good.
    Finished,
    /// The sender may not post to the list; they were told (unless the
    /// sender is automated).
    SenderRejected,
    /// An automatic reply (out of office, a bounce of someone else's
    /// mail), never fanned out.
    AutoReplyDropped,
    /// Mail carrying one of our own List-Ids coming back to a list: a
    /// loop, dropped.
    LoopDropped,
    /// Above the size limit; the sender was told (unless automated).
    TooLarge,
    /// A bounce of this list's own mail, returned to the original sender.
    BounceReturned,
}

impl ListMessageState {
    /// The name stored in `list_messages.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListMessageState::Delivering => "delivering",
            ListMessageState::Finished => "finished",
            ListMessageState::SenderRejected => "sender_rejected",
            ListMessageState::AutoReplyDropped => "auto_reply_dropped",
            ListMessageState::LoopDropped => "loop_dropped",
            ListMessageState::TooLarge => "too_large",
            ListMessageState::BounceReturned => "bounce_returned",
        }
    }

    /// The state stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<ListMessageState> {
        [
            ListMessageState::Delivering,
            ListMessageState::Finished,
            ListMessageState::SenderRejected,
            ListMessageState::AutoReplyDropped,
            ListMessageState::LoopDropped,
            ListMessageState::TooLarge,
            ListMessageState::BounceReturned,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One list's copy of a message with its delivery counts, as the list page
/// shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListMessageSummary {
    pub id: ListMessageId,
    pub mailing_list_id: MailingListId,
    /// The subject as received (decoded), cut to 256 characters.
    pub subject: String,
    /// The sender's address.
    pub sender: String,
    pub received_at: DateTime<Utc>,
    pub state: ListMessageState,
    /// Addresses planned for delivery.
    pub recipients: u64,
    /// Accepted by the mail server.
    pub sent: u64,
    /// Refused for good.
    pub failed: u64,
    /// Handed to the mail server when the worker died, before it replied:
    /// these are not sent again (see ARCHITECTURE.md, "List mail").
    pub uncertain: u64,
}

/// A new random token for a list message's `X-Hit-List-Message` header:
/// 16 bytes as hex, so a bounce naming it cannot be guessed.
pub fn new_token() -> String {
    use rand::RngCore as _;

    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
