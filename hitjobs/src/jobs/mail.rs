//! `mail.retrieve`: reads the list mailbox (`MAIL_RETRIEVER_URL`) and
//! records every message with what becomes of it, one list's copy at a
//! time, before the message leaves the mailbox.
//!
//! The order of the steps is what makes a crash harmless:
//! 1. fetch a message;
//! 2. record it (raw bytes, each list's copy, one `list_mail.deliver` job
//!    per copy that needs sending) in one transaction;
//! 3. delete it from the mailbox (or move it aside when unreadable).
//!
//! A crash before 2 leaves the message in the mailbox, untouched. A crash
//! between 2 and 3 fetches it again next time; its arrival (the
//! mailbox's id for it and its bytes, `relay::arrival_key`) is known, so
//! it is only deleted. What should happen to a message is decided by
//! `hitcore::relay`; this job only asks the store what the decision
//! needs and carries it out.

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use hitcore::ability::{Actor, ListSubject, may_update_list};
use hitcore::group::GroupTree;
use hitcore::jobs::{JobKind, NewJob};
use hitcore::list_mail::{
    InboundOutcome, ListMessageState, NewInboundMail, NewListMessage, Recorded,
};
use hitcore::mailing_list::MailingList;
use hitcore::relay::{self, Inspection, RelaySettings, SenderStanding, Verdict};
use hitcore::store::Store;
use hitcore::{ListMessageId, Organisation};
use serde::{Deserialize, Serialize};

use super::list_mail::ListMailDeliver;
use crate::crash;
use crate::mail::{Mailbox, MessageRef, open_mailbox};
use crate::registry::JobContext;
use crate::telemetry::metrics::{self as telemetry, RELAY_BOUNCED, RELAY_FETCHED, RELAY_REJECTED};

/// Messages handled per run at most; the next run (a minute later, or at
/// once when this one found a full batch) takes the rest.
const MAX_PER_RUN: usize = 200;

/// Fetches new mail for the mailing lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRetrieve {}

impl JobKind for MailRetrieve {
    const KIND: &'static str = "mail.retrieve";
    const MAX_RUN: Duration = Duration::from_secs(5 * 60);
    /// A missed minute is made up by the next instance; retrying an old
    /// one only piles up work.
    const MAX_ATTEMPTS: u32 = 1;
}

/// What the retrieval needs besides the store.
pub(super) struct RetrieveServices<'a> {
    pub org: &'a Organisation,
    pub relay: RelaySettings,
    pub retriever_url: Option<&'a str>,
    pub root_email: Option<&'a str>,
}

/// What became of one fetched message, for the run's summary line.
#[derive(Debug, Default)]
struct Tally {
    fetched: u64,
    accepted: u64,
    known: u64,
    /// Every list it was for had it already: another copy.
    duplicates: u64,
    unreadable: u64,
    dropped: u64,
    failed: u64,
}

pub(super) fn retrieve<S: Store + ?Sized>(
    _job: MailRetrieve,
    ctx: &JobContext<'_, S>,
    services: &RetrieveServices<'_>,
) -> anyhow::Result<()> {
    let Some(url) = services.retriever_url else {
        tracing::debug!("No MAIL_RETRIEVER_URL; no list mail to fetch");
        return Ok(());
    };
    let mut mailbox = open_mailbox(url).context("while opening the list mailbox")?;
    let waiting = mailbox.list().context("while listing the list mailbox")?;
    let mut tally = Tally::default();
    for message in waiting.iter().take(MAX_PER_RUN) {
        // One message that fails is left where it is and logged; it must
        // not keep the ones after it from being relayed.
        if let Err(e) = take_one(&mut *mailbox, message, ctx, services, &mut tally) {
            tally.failed += 1;
            tracing::warn!(
                mail.mailbox_id = %message.id,
                "Could not take message {} from the list mailbox, left there: {e:#}",
                message.id
            );
        }
    }
    mailbox.close().context("while closing the list mailbox")?;
    if tally.fetched > 0 || tally.failed > 0 {
        tracing::info!(
            mail.fetched = tally.fetched,
            mail.accepted = tally.accepted,
            mail.known = tally.known,
            mail.duplicates = tally.duplicates,
            mail.unreadable = tally.unreadable,
            mail.dropped = tally.dropped,
            mail.failed = tally.failed,
            "Fetched {} messages from the list mailbox",
            tally.fetched
        );
    }
    Ok(())
}

/// Fetch, record, then delete one message (see the module doc).
fn take_one<S: Store + ?Sized>(
    mailbox: &mut dyn Mailbox,
    message: &MessageRef,
    ctx: &JobContext<'_, S>,
    services: &RetrieveServices<'_>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let raw = mailbox.fetch(message)?;
    tally.fetched += 1;
    telemetry::count(RELAY_FETCHED);
    crash::point("retrieve.after_fetch");

    let (mail, copies, log_note) = decide(&message.id, &raw, ctx, services)?;
    let now = ctx.now();
    let job_for = |id: ListMessageId| deliver_job(id, now);
    let recorded = ctx.store().record_inbound(&mail, &copies, &job_for, now)?;
    crash::point("retrieve.after_record");
    count_decisions(ctx, &copies, &recorded)?;

    match (&recorded, mail.outcome) {
        (Recorded::Known(inbound), _) => {
            tally.known += 1;
            tracing::info!(
                mail.mailbox_id = %message.id,
                mail.inbound_id = %inbound,
                "Message {} of the list mailbox was recorded before as list mail {inbound}; \
                 deleting it only",
                message.id
            );
        }
        (_, InboundOutcome::Unreadable) => tally.unreadable += 1,
        (Recorded::New { copies, .. }, InboundOutcome::Accepted) if copies.is_empty() => {
            tally.duplicates += 1;
        }
        (_, InboundOutcome::Accepted) => tally.accepted += 1,
        _ => tally.dropped += 1,
    }
    if mail.outcome == InboundOutcome::Unreadable {
        mailbox.move_aside(message)?;
    } else {
        mailbox.delete(message)?;
    }
    crash::point("retrieve.after_delete");
    if let Recorded::New {
        inbound,
        copies: created,
    } = &recorded
    {
        // "accepted" says only that a list took a copy; what each copy
        // became (forwarded, or an auto-reply dropped) is in its state.
        // A copy a list had already was skipped; the others are in order.
        let states = if created.len() == copies.len() {
            copies
                .iter()
                .map(|c| format!("{} for list {}", c.state.as_str(), c.mailing_list_id))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            match copies.len() - created.len() {
                1 => "one list had it already".to_owned(),
                n => format!("{n} lists had it already"),
            }
        };
        let note = log_note.as_deref().unwrap_or_default();
        tracing::info!(
            mail.inbound_id = %inbound,
            mail.mailbox_id = %message.id,
            mail.outcome = mail.outcome.as_str(),
            mail.copies = created.len(),
            mail.states = %states,
            mail.note = log_note.as_deref(),
            "Recorded list mail {inbound}: {}{}{states}{}{note}",
            mail.outcome.as_str(),
            if states.is_empty() { "" } else { ", " },
            if note.is_empty() { "" } else { ": " },
        );
    }
    Ok(())
}

/// Counts the copies a new message got that were rejected or are bounces
/// to return (forwarded ones are counted once delivered).
///
/// Normally every copy was created, in order; a copy that existed already
/// (the same message again, for the same list) was skipped by the store,
/// and then the created ones are read back to know which.
fn count_decisions<S: Store + ?Sized>(
    ctx: &JobContext<'_, S>,
    copies: &[NewListMessage],
    recorded: &Recorded,
) -> anyhow::Result<()> {
    let Recorded::New {
        copies: created, ..
    } = recorded
    else {
        return Ok(());
    };
    let states: Vec<ListMessageState> = if created.len() == copies.len() {
        copies.iter().map(|c| c.state).collect()
    } else {
        let mut states = Vec::with_capacity(created.len());
        for id in created {
            states.extend(ctx.store().list_message(*id)?.map(|m| m.state));
        }
        states
    };
    for state in states {
        match state {
            ListMessageState::SenderRejected | ListMessageState::TooLarge => {
                telemetry::count(RELAY_REJECTED);
            }
            ListMessageState::BounceReturned => telemetry::count(RELAY_BOUNCED),
            _ => {}
        }
    }
    Ok(())
}

/// The job that delivers one list's copy.
fn deliver_job(id: ListMessageId, now: DateTime<Utc>) -> NewJob {
    NewJob::of(
        &ListMailDeliver {
            list_message_id: id,
        },
        now,
    )
    .expect("a payload of one id always serialises")
}

/// The record of a message and each list's copy, as `hitcore::relay`
/// decides them, and the record's note as the log may show it.
fn decide<'r, S: Store + ?Sized>(
    mailbox_id: &str,
    raw: &'r [u8],
    ctx: &JobContext<'_, S>,
    services: &RetrieveServices<'_>,
) -> anyhow::Result<(NewInboundMail<'r>, Vec<NewListMessage>, Option<String>)> {
    let arrival_key = relay::arrival_key(mailbox_id, raw);
    let inspection = match relay::inspect(raw, &arrival_key, &services.relay) {
        Ok(i) => i,
        Err(why) => {
            let mail = NewInboundMail {
                raw,
                message_key: arrival_key.clone(),
                arrival_key,
                sender: None,
                subject: String::new(),
                outcome: InboundOutcome::Unreadable,
                note: Some(why.to_string()),
            };
            let log_note = mail.note.clone();
            return Ok((mail, Vec::new(), log_note));
        }
    };
    let mut copies = Vec::new();
    let mut unknown = Vec::new();
    for name in &inspection.list_names {
        let Some(list) = ctx.store().mailing_list_by_mail_name(name)? else {
            unknown.push(name.as_str());
            continue;
        };
        let standing = standing(ctx, services, &inspection, &list)?;
        let verdict = relay::decide(&inspection, Some(&list), &standing);
        if let Some(copy) = copy_for(&list, &verdict, &inspection) {
            copies.push(copy);
        }
    }
    let outcome = match (copies.is_empty(), inspection.automated.is_some()) {
        (false, _) => InboundOutcome::Accepted,
        (true, true) => InboundOutcome::Dropped,
        (true, false) => InboundOutcome::UnknownList,
    };
    let note_of = |is_named| {
        let why_none = why_no_list(&inspection, &unknown, &services.relay, is_named);
        match (why_none, inspection.automated) {
            (Some(note), Some(why)) if copies.is_empty() => {
                Some(format!("an automatic message ({why}); {note}"))
            }
            (note, _) => note,
        }
    };
    let log_note = note_of(false);
    let mail = NewInboundMail {
        raw,
        arrival_key,
        message_key: inspection.message_key.clone(),
        sender: inspection.sender.as_ref().map(|s| s.email.clone()),
        subject: inspection.subject.clone(),
        outcome,
        note: note_of(true),
    };
    Ok((mail, copies, log_note))
}

/// Why a message reached none of the addressed lists, if that is so:
/// no address in the list domain, or lists of these names do not exist.
/// With `is_named` the unknown addresses are spelled out (for the record);
/// without, only counted, since a mistyped personal address may be among
/// them and the log never names a person's address.
fn why_no_list(
    inspection: &Inspection,
    unknown: &[&str],
    settings: &RelaySettings,
    is_named: bool,
) -> Option<String> {
    let domain = &settings.list_domain;
    if inspection.list_names.is_empty() {
        Some(format!(
            "no address of {domain} in X-Original-To (or Delivered-To, To, Cc)"
        ))
    } else if unknown.is_empty() {
        None
    } else if is_named {
        let addresses: Vec<String> = unknown.iter().map(|n| format!("{n}@{domain}")).collect();
        Some(format!("no list named {}", addresses.join(", ")))
    } else {
        Some(match unknown.len() {
            1 => format!("no list has the address in {domain} it was sent to"),
            n => format!("no list has any of the {n} addresses in {domain} it was sent to"),
        })
    }
}

/// A list's copy for a verdict; none when the list has nothing to do with
/// the message.
fn copy_for(
    list: &MailingList,
    verdict: &Verdict,
    inspection: &Inspection,
) -> Option<NewListMessage> {
    let (state, is_reply_due) = match verdict {
        Verdict::Forward => (ListMessageState::Delivering, false),
        Verdict::UnknownList => return None,
        Verdict::Loop => (ListMessageState::LoopDropped, false),
        Verdict::AutoReply => (ListMessageState::AutoReplyDropped, false),
        Verdict::ReturnBounce { .. } => (ListMessageState::BounceReturned, true),
        Verdict::SenderRejected { notify } => (ListMessageState::SenderRejected, *notify),
        // The sender is told why, unless a machine sent it.
        Verdict::TooLarge => (
            ListMessageState::TooLarge,
            inspection.automated.is_none() && inspection.sender.is_some(),
        ),
        // A verdict this build does not know yet: keep the message out of
        // every list, recorded.
        _ => return None,
    };
    Some(NewListMessage {
        mailing_list_id: list.id,
        state,
        is_reply_due,
    })
}

/// What the sender check needs to know about the sender and the list.
fn standing<S: Store + ?Sized>(
    ctx: &JobContext<'_, S>,
    services: &RetrieveServices<'_>,
    inspection: &Inspection,
    list: &MailingList,
) -> anyhow::Result<SenderStanding> {
    let Some(sender) = &inspection.sender else {
        return Ok(SenderStanding::default());
    };
    let store = ctx.store();
    let today = ctx.now().date_naive();
    let group = store.group(list.group_id)?;
    let is_group_address = group
        .as_ref()
        .and_then(|g| g.email.as_deref())
        .is_some_and(|e| e.eq_ignore_ascii_case(&sender.email));
    Ok(SenderStanding {
        is_recipient: store.is_recipient_email(list.id, &sender.email, today)?,
        is_list_manager: is_list_manager(ctx, services, &sender.email, list)?,
        is_group_address,
    })
}

/// Whether a person whose main email is `email` may change the list (its
/// managers may always post).
fn is_list_manager<S: Store + ?Sized>(
    ctx: &JobContext<'_, S>,
    services: &RetrieveServices<'_>,
    email: &str,
    list: &MailingList,
) -> anyhow::Result<bool> {
    let store = ctx.store();
    let Some(person) = store.person_by_email(email)? else {
        return Ok(false);
    };
    let tree = GroupTree::new(store.all_groups()?);
    let Some(group) = tree.get(list.group_id) else {
        return Ok(false);
    };
    let is_root = services
        .root_email
        .is_some_and(|root| root.eq_ignore_ascii_case(email));
    let roles = store.roles_of_person(person.id)?;
    let today = ctx.now().date_naive();
    let actor = Actor::new(person.id, is_root, &roles, &tree, services.org, today);
    let subject = ListSubject {
        list,
        group,
        is_actor_covered: false,
    };
    Ok(may_update_list(&actor, &subject).is_allowed())
}
