//! What happens to a message that arrived in the list mailbox: which lists
//! it is for, whether it is forwarded, rejected, returned or dropped, and
//! the exact bytes that go out (sections 7.1 and 7.3 of the domain
//! description, without their faults).
//!
//! Pure: the decisions take the parsed message and what the store knows,
//! and never touch the network, the database or the clock.
//!
//! The steps, for the pipeline: [`inspect`] the raw message once; for each
//! of its [`Inspection::list_names`], look the list and the sender's
//! [`SenderStanding`] up and [`decide`]; then [`forward`] it, answer with
//! [`rejection_reply`], pass a bounce on with [`returned_bounce`], or
//! drop it. Duplicates are keyed on ([`Inspection::message_key`], list),
//! never on the message alone, so one message for two lists reaches both
//! (case 1); with its Date and Subject, so a reused Message-ID does not
//! hide a new message (case 16). A message without Message-ID is keyed
//! on its arrival in the
//! mailbox ([`arrival_key`]): sent twice, it is relayed twice, each time
//! with a Message-ID of its own in the list domain (case 16).

mod decide;
mod header;
mod inspect;
mod reply;
mod rewrite;

pub use decide::{SenderStanding, Verdict, decide, sender_may_post};
pub use inspect::{
    Automated, Inspection, LIST_MESSAGE_HEADER, Sender, Unreadable, arrival_key, inspect,
};
pub use reply::{rejection_reply, returned_bounce};
pub use rewrite::{ListHeaders, forward, list_address};

/// Default for [`RelaySettings::max_message_bytes`]: 10 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// What the relay needs to know about the instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelaySettings {
    /// The domain of the list addresses, lowercase
    /// (`lists.example.test`).
    pub list_domain: String,
    /// Sender of the relay's own messages (`noreply@example.test`).
    pub noreply_address: String,
    /// Largest message relayed, in bytes; larger ones are refused.
    pub max_message_bytes: usize,
}

impl RelaySettings {
    /// Settings with the default size limit; the domain is lowercased.
    pub fn new(list_domain: &str, noreply_address: &str) -> Self {
        RelaySettings {
            list_domain: list_domain.trim().to_ascii_lowercase(),
            noreply_address: noreply_address.trim().to_owned(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// The SHA-256 of `parts` joined by NUL bytes, in lower-case hex: the
/// relay's keys and generated ids.
fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};

    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b"\0");
        }
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
