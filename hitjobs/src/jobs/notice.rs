//! The automatic notices of the list mail pipeline: the reply to a sender
//! who may not post (or whose message is too large), and the cover note
//! of a bounce returned to the sender of the original.
//!
//! The sender is often no user of ours, so there is no language of theirs
//! to use: notices are written in the organisation's first language.

use hitcore::relay::{Inspection, RelaySettings};
use minijinja::context;

use crate::mail_text::{MailText, render};

/// The reply to a rejected sender.
pub(super) fn list_rejection(
    inspection: &Inspection,
    list_address: &str,
    settings: &RelaySettings,
    lang: &str,
) -> anyhow::Result<MailText> {
    let reason = if inspection.is_too_large {
        "too_large"
    } else {
        "sender"
    };
    render(
        "list_rejected",
        lang,
        &context! {
            list_address,
            reason,
            subject => inspection.subject,
            max_mib => settings.max_message_bytes / (1024 * 1024),
        },
    )
}

/// The cover note of a returned bounce.
pub(super) fn returned_bounce(
    original_subject: &str,
    list_address: &str,
    lang: &str,
) -> anyhow::Result<MailText> {
    render(
        "list_bounce",
        lang,
        &context! { list_address, subject => original_subject },
    )
}
