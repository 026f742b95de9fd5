//! The automatic notices of the list mail pipeline: the reply to a sender
//! who may not post (or whose message is too large), the cover note of a
//! bounce returned to the sender of the original, and the delivery report
//! of lists that send one.
//!
//! The sender is often no user of ours, so there is no language of theirs
//! to use: notices are written in the organisation's first language.

use hitcore::list_mail::ListMessageSummary;
use hitcore::relay::{Inspection, RelaySettings};
use minijinja::context;

use crate::mail_text::{MailText, render};

/// The reply to a rejected sender: too large, or not allowed to post.
pub(super) fn list_rejection(
    inspection: &Inspection,
    is_too_large: bool,
    list_address: &str,
    settings: &RelaySettings,
    lang: &str,
) -> anyhow::Result<MailText> {
    let reason = if is_too_large { "too_large" } else { "sender" };
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

/// The delivery report to the sender.
pub(super) fn delivery_report(
    summary: &ListMessageSummary,
    list_address: &str,
    lang: &str,
) -> anyhow::Result<MailText> {
    render(
        "list_delivery_report",
        lang,
        &context! {
            list_address,
            subject => summary.subject,
            recipients => summary.recipients,
            sent => summary.sent,
            failed => summary.failed,
            uncertain => summary.uncertain,
        },
    )
}
