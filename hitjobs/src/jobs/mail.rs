//! `mail.retrieve`: reading the list mailbox. A placeholder that the mail
//! issue fills; it is scheduled already so that the schedule, its single
//! pending instance and its clean-up are in place.

use std::time::Duration;

use hitcore::jobs::JobKind;
use serde::{Deserialize, Serialize};

use crate::registry::JobContext;

/// Fetches new mail for the mailing lists (not yet: see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRetrieve {}

impl JobKind for MailRetrieve {
    const KIND: &'static str = "mail.retrieve";
    const MAX_RUN: Duration = Duration::from_secs(5 * 60);
    /// A missed minute is made up by the next instance; retrying an old
    /// one only piles up work.
    const MAX_ATTEMPTS: u32 = 1;
}

// TODO: connect to the list mailbox (IMAP or POP3), fetch new messages and
// hand each to a `mailing_list.deliver` job; the mail issue brings the
// transports and the relay rules in hitcore.
pub(super) fn retrieve<S: ?Sized>(
    _job: MailRetrieve,
    ctx: &JobContext<'_, S>,
) -> anyhow::Result<()> {
    tracing::debug!(job.id = %ctx.job().id, "Mail retrieval is not built yet; nothing to fetch");
    Ok(())
}
