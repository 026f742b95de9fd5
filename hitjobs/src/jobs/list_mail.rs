//! `list_mail.deliver`: one list's copy of a message, delivered. Forwards
//! an accepted message to every recipient in batches (one SMTP
//! transaction each, several sessions at once), or sends the one reply a
//! rejected sender gets, or returns a bounce of our own list mail to the
//! sender of the original.
//!
//! Crash safety (ARCHITECTURE.md, "List mail"): the recipients are written
//! once, in batches, before anything is sent. Each batch is marked as
//! handed over (committed) after the server accepted the envelope and
//! right before the message bytes go out, and settled with the server's
//! answer. A batch still marked handed when an attempt starts was cut off
//! by a crash between those two points: the server may have taken it, so
//! it is recorded as uncertain and never sent again. A crash anywhere
//! else re-runs the job, which continues with the batches still pending.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use hitcore::ListMessageId;
use hitcore::jobs::JobKind;
use hitcore::list_mail::{Batch, BatchOutcome, ListMessage, ListMessageState};
use hitcore::mail::{Envelope, OutgoingMail};
use hitcore::mailing_list::MailingList;
use hitcore::relay::{self, Inspection, ListHeaders, RelaySettings};
use hitcore::store::Store;
use serde::{Deserialize, Serialize};

use super::notice;
use crate::crash;
use crate::mail::{Delivery, Mailer, SendError};
use crate::registry::{JobContext, PermanentFailure};
use crate::telemetry::metrics::{self as telemetry, RELAY_FORWARDED};

/// Batches read from the store at a time.
const BATCHES_PER_READ: u32 = 64;

/// Deliver one list's copy of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMailDeliver {
    pub list_message_id: ListMessageId,
}

impl JobKind for ListMailDeliver {
    const KIND: &'static str = "list_mail.deliver";
    /// 10,000 recipients take seconds; an hour means the worker is gone.
    const MAX_RUN: Duration = Duration::from_secs(60 * 60);
    /// Recipients refused for now (a full mailbox, a 421) are tried again
    /// with the job's back-off, up to about a day.
    const MAX_ATTEMPTS: u32 = 12;
}

/// What the delivery needs besides the store.
pub(super) struct DeliverServices<'a> {
    pub mailer: &'a Arc<dyn Mailer>,
    pub relay: RelaySettings,
    /// Envelope recipients per SMTP transaction.
    pub batch_size: u32,
    /// SMTP transactions at once.
    pub sessions: usize,
    /// The web address pages are linked from (List-Unsubscribe).
    pub base_url: &'a str,
    /// The language of the notices (the organisation's first).
    pub lang: &'a str,
}

pub(super) fn deliver<S: Store + ?Sized>(
    job: ListMailDeliver,
    ctx: &JobContext<'_, S>,
    services: &DeliverServices<'_>,
) -> anyhow::Result<()> {
    let store = ctx.store();
    let Some(message) = store.list_message(job.list_message_id)? else {
        tracing::info!(
            "List message {} is gone; nothing to deliver",
            job.list_message_id
        );
        return Ok(());
    };
    if message.is_finished {
        return Ok(());
    }
    let raw = store
        .inbound_raw(message.inbound_mail_id)?
        .with_context(|| format!("the raw bytes of list message {} are gone", message.id))?;
    // The copy's key is its Message-ID, else the arrival key it was
    // recorded under: the arrival to read it as again.
    let inspection = relay::inspect(&raw, &message.message_key, &services.relay)
        .map_err(|e| anyhow!("a recorded message no longer reads: {e}"))?;
    let list = store.mailing_list(message.mailing_list_id)?;
    let state = match (message.state, list) {
        (ListMessageState::Delivering, Some(list)) => {
            forward(ctx, services, &message, &list, &raw, &inspection)?;
            telemetry::count(RELAY_FORWARDED);
            if list.delivery_report {
                report_delivery(ctx, services, &message, &list, &inspection)?;
            }
            ListMessageState::Finished
        }
        (state @ (ListMessageState::SenderRejected | ListMessageState::TooLarge), list)
            if message.is_reply_due =>
        {
            let address = list
                .as_ref()
                .and_then(|l| relay::list_address(l, &services.relay))
                .unwrap_or_default();
            let is_too_large = state == ListMessageState::TooLarge;
            reply_rejected(services, &inspection, is_too_large, &address, ctx.now())?;
            state
        }
        (ListMessageState::BounceReturned, _) => {
            return_bounce(ctx, services, &raw, &inspection)?;
            ListMessageState::BounceReturned
        }
        (state, _) => state,
    };
    store.finish_list_message(message.id, state, ctx.now())?;
    crash::point("deliver.after_finish");
    Ok(())
}

/// Sends the list's copy to every recipient not yet served.
fn forward<S: Store + ?Sized>(
    ctx: &JobContext<'_, S>,
    services: &DeliverServices<'_>,
    message: &ListMessage,
    list: &MailingList,
    raw: &[u8],
    inspection: &Inspection,
) -> anyhow::Result<()> {
    let store = ctx.store();
    let uncertain = store.resume_deliveries(message.id)?;
    if uncertain > 0 {
        tracing::warn!(
            list_message.id = %message.id,
            mail.uncertain = uncertain,
            "{uncertain} recipients of list message {} were being handed over when a worker \
             stopped; they are not sent again",
            message.id
        );
    }
    let total = store.plan_deliveries(
        message.id,
        ctx.now().date_naive(),
        services.batch_size,
        ctx.now(),
    )?;
    crash::point("deliver.after_plan");

    let list_address = relay::list_address(list, &services.relay)
        .context("a list without a mail name has no list mail")?;
    let unsubscribe = format!(
        "{}/mailing_lists/{}",
        services.base_url.trim_end_matches('/'),
        list.id
    );
    let headers = ListHeaders {
        list,
        list_message: &message.token,
        unsubscribe_url: Some(&unsubscribe),
        archive_url: None,
        subject_tag: None,
        received_at: message.received_at,
    };
    let bytes = relay::forward(raw, inspection, &headers, &services.relay);
    let sending = Sending {
        store,
        mailer: services.mailer.as_ref(),
        id: message.id,
        from: list_address,
        bytes,
        handed: Mutex::new(Vec::new()),
        failed: AtomicBool::new(false),
    };
    let retry_later = sending.all_batches(services.sessions.max(1))?;
    if retry_later > 0 {
        return Err(anyhow!(
            "{retry_later} of {total} recipients of list message {} were refused for now; \
             trying again later",
            message.id
        ));
    }
    // Every batch this attempt handed over was recorded, unless a record
    // was lost: on PostgreSQL it commits without waiting for the disk,
    // and the pool reconnects after a database restart without this
    // attempt noticing. Those become uncertain before the copy is
    // finished, as the next attempt would make them; only this attempt's
    // own, as another attempt of the job may be sending others.
    let handed = sending
        .handed
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let lost = store.mark_uncertain(message.id, &handed)?;
    if lost > 0 {
        tracing::warn!(
            list_message.id = %message.id,
            mail.uncertain = lost,
            "the records of {lost} recipients of list message {} handed over were lost; \
             they are not sent again",
            message.id
        );
    }
    if !store.pending_batches(message.id, None, 1)?.is_empty() {
        return Err(anyhow!(
            "batches of list message {} lost their records before they were sent; \
             trying again later",
            message.id
        ));
    }
    Ok(())
}

/// One list message's batches going out.
struct Sending<'a, S: ?Sized> {
    store: &'a S,
    mailer: &'a dyn Mailer,
    id: ListMessageId,
    from: String,
    bytes: Vec<u8>,
    /// The batches this attempt marked handed over.
    handed: Mutex<Vec<u64>>,
    /// Set by the first sending thread that fails: the others stop.
    failed: AtomicBool,
}

impl<S: Store + ?Sized> Sending<'_, S> {
    /// Sends every pending batch, `sessions` at once; returns the number
    /// of recipients to try again later.
    fn all_batches(&self, sessions: usize) -> anyhow::Result<u64> {
        let mut retry_later = 0;
        let mut after = None;
        loop {
            let batches = self
                .store
                .pending_batches(self.id, after, BATCHES_PER_READ)?;
            let Some(last) = batches.last() else {
                return Ok(retry_later);
            };
            after = Some(last.number);
            retry_later += self.run_parallel(batches, sessions)?;
        }
    }

    /// Sends `batches` from `sessions` threads; the first error stops
    /// every thread after its current batch.
    fn run_parallel(&self, batches: Vec<Batch>, sessions: usize) -> anyhow::Result<u64> {
        let queue = Mutex::new(VecDeque::from(batches));
        let next = || {
            if self.failed.load(Ordering::SeqCst) {
                return None;
            }
            queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front()
        };
        let results: Vec<anyhow::Result<u64>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..sessions)
                .map(|_| {
                    scope.spawn(|| {
                        let mut retry = 0;
                        while let Some(batch) = next() {
                            match self.one_batch(&batch) {
                                Ok(n) => retry += n,
                                Err(e) => {
                                    self.failed.store(true, Ordering::SeqCst);
                                    return Err(e);
                                }
                            }
                        }
                        Ok(retry)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|_| Err(anyhow!("a sending thread panicked")))
                })
                .collect()
        });
        results.into_iter().sum()
    }

    /// One SMTP transaction; returns the number of recipients to try
    /// again later.
    fn one_batch(&self, batch: &Batch) -> anyhow::Result<u64> {
        let mail = OutgoingMail {
            envelope: Envelope {
                from: Some(self.from.clone()),
                to: batch.recipients.clone(),
            },
            message: self.bytes.clone(),
        };
        let sent = self.mailer.send_with_handover(&mail, &mut |_| {
            if !self.store.mark_handed(self.id, batch.number)? {
                return Err(anyhow!(
                    "batch {} of list message {} is no longer pending: another attempt has it",
                    batch.number,
                    self.id
                ));
            }
            self.handed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(batch.number);
            crash::point("deliver.after_handover");
            Ok(())
        });
        crash::point("deliver.after_accept");
        let outcome = match sent {
            Ok(delivery) => outcome_of(&delivery),
            // Refused before or at the end of the message (a 4xx), or the
            // connection failed before the handover: nothing was accepted.
            Err(SendError::Temporary(why)) => {
                tracing::warn!(
                    list_message.id = %self.id,
                    mail.batch = batch.number,
                    "Batch {} of list message {} was not sent, tried again later: {why}",
                    batch.number,
                    self.id
                );
                BatchOutcome {
                    retry: mail.envelope.to.clone(),
                    ..BatchOutcome::default()
                }
            }
            Err(SendError::Permanent(why)) => BatchOutcome {
                failed: mail
                    .envelope
                    .to
                    .iter()
                    .map(|e| (e.clone(), why.clone()))
                    .collect(),
                ..BatchOutcome::default()
            },
            // The message may have reached the server: the batch stays
            // handed over and becomes uncertain on the next attempt.
            Err(SendError::Unconfirmed(why)) => {
                return Err(anyhow!(
                    "the connection failed while batch {} was handed over: {why}",
                    batch.number
                ));
            }
            Err(SendError::Aborted(e)) => {
                return Err(e.context("while marking a batch handed over"));
            }
        };
        self.store.record_batch(self.id, batch.number, &outcome)?;
        crash::point("deliver.after_batch");
        Ok(outcome.retry.len() as u64)
    }
}

/// The batch's recipients by what the server said.
fn outcome_of(delivery: &Delivery) -> BatchOutcome {
    let mut outcome = BatchOutcome {
        sent: delivery.accepted.clone(),
        ..BatchOutcome::default()
    };
    for refused in &delivery.refused {
        if refused.is_permanent {
            outcome
                .failed
                .push((refused.address.clone(), refused.reply.clone()));
        } else {
            outcome.retry.push(refused.address.clone());
        }
    }
    outcome
}

/// The sender's delivery report, for lists that send one: how many
/// recipients the message reached and how many refused it.
///
/// A crash after the report went out and before the message is marked
/// finished sends it again; a report twice is the lesser harm.
// TODO: list the refused addresses, as hitobito does; needs a store query
// of the failed deliveries of a message.
fn report_delivery<S: Store + ?Sized>(
    ctx: &JobContext<'_, S>,
    services: &DeliverServices<'_>,
    message: &ListMessage,
    list: &MailingList,
    inspection: &Inspection,
) -> anyhow::Result<()> {
    let Some(summary) = ctx
        .store()
        .list_messages(list.id, 50)?
        .into_iter()
        .find(|m| m.id == message.id)
    else {
        return Ok(());
    };
    let address = relay::list_address(list, &services.relay).unwrap_or_default();
    let text = notice::delivery_report(&summary, &address, services.lang)?;
    match relay::rejection_reply(
        inspection,
        &services.relay,
        &text.subject,
        &text.body,
        ctx.now(),
    ) {
        Some(mail) => send_single(services, &mail),
        None => Ok(()),
    }
}

/// The one reply to a sender who may not post, or whose message is too
/// large: as recorded, since the limit may have changed since.
fn reply_rejected(
    services: &DeliverServices<'_>,
    inspection: &Inspection,
    is_too_large: bool,
    list_address: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let text = notice::list_rejection(
        inspection,
        is_too_large,
        list_address,
        &services.relay,
        services.lang,
    )?;
    let Some(mail) =
        relay::rejection_reply(inspection, &services.relay, &text.subject, &text.body, now)
    else {
        return Ok(());
    };
    send_single(services, &mail)
}

/// A bounce of our list mail, to the sender of the original.
fn return_bounce<S: Store + ?Sized>(
    ctx: &JobContext<'_, S>,
    services: &DeliverServices<'_>,
    raw: &[u8],
    inspection: &Inspection,
) -> anyhow::Result<()> {
    let Some(token) = &inspection.bounced_list_message else {
        return Ok(());
    };
    let Some(original) = ctx.store().list_message_by_token(token)? else {
        tracing::info!("A bounce names a list message we do not know; dropped");
        return Ok(());
    };
    if original.sender.is_empty() {
        return Ok(());
    }
    let list = ctx.store().mailing_list(original.mailing_list_id)?;
    let address = list
        .as_ref()
        .and_then(|l| relay::list_address(l, &services.relay))
        .unwrap_or_default();
    let text = notice::returned_bounce(&original.subject, &address, services.lang)?;
    let mail = relay::returned_bounce(
        raw,
        &original.sender,
        &services.relay,
        &text.subject,
        &text.body,
        ctx.now(),
    );
    match mail {
        Some(mail) => send_single(services, &mail),
        None => Ok(()),
    }
}

/// Sends one notice; a refusal for good is recorded and not retried.
fn send_single(services: &DeliverServices<'_>, mail: &OutgoingMail) -> anyhow::Result<()> {
    match services.mailer.send(mail) {
        Ok(_) => Ok(()),
        Err(SendError::Permanent(why)) => Err(anyhow::Error::new(PermanentFailure(why))),
        Err(e) => Err(e.into()),
    }
}
