//! [`ListMailRepo`] on SQLite: inbound list mail, each list's copy and the
//! delivery state of its batches.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::id::{InboundMailId, ListMessageId, MailingListId};
use crate::jobs::NewJob;
use crate::list_mail::{
    Batch, BatchOutcome, ListMessage, ListMessageState, ListMessageSummary, NewInboundMail,
    NewListMessage, Recorded, batch_recipients,
};
use crate::store::jobs::count_enqueued;
use crate::store::sql::LIST_MESSAGE_COUNTS;
use crate::store::{ListMailRepo, StoreError};

use super::jobs::enqueue_in;
use super::mailing_lists::RECIPIENTS_SQL;
use super::{Day, SqliteStore, Ts};

const LIST_MESSAGE_COLUMNS: &str = "id, inbound_mail_id, mailing_list_id, token, state, sender, \
     is_reply_due, planned_at IS NOT NULL, finished_at IS NOT NULL, subject, received_at, \
     message_key";

impl ListMailRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(mail.copies = copies.len()))]
    fn record_inbound(
        &self,
        mail: &NewInboundMail<'_>,
        copies: &[NewListMessage],
        job_for: &(dyn Fn(ListMessageId) -> NewJob + Sync),
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let mut jobs = Vec::new();
        let recorded = self.write(|tx| {
            if let Some(id) = known_inbound(tx, &mail.arrival_key)? {
                return Ok(Recorded::Known(id));
            }
            let inbound = insert_inbound(tx, mail, now)?;
            let mut created = Vec::new();
            for copy in copies {
                if let Some(id) = insert_copy(tx, inbound, mail, copy, now)? {
                    if copy.state == ListMessageState::Delivering || copy.is_reply_due {
                        let job = job_for(id);
                        if enqueue_in(tx, &job, now)?.is_some() {
                            jobs.push(job);
                        }
                    }
                    created.push(id);
                }
            }
            Ok(Recorded::New {
                inbound,
                copies: created,
            })
        })?;
        count_enqueued(&jobs);
        if matches!(&recorded, Recorded::New { copies, .. } if !copies.is_empty()) {
            self.wake_workers();
        }
        Ok(recorded)
    }

    fn list_message(&self, id: ListMessageId) -> Result<Option<ListMessage>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {LIST_MESSAGE_COLUMNS} FROM list_messages WHERE id = ?1");
            Ok(c.prepare_cached(&sql)?
                .query_row([id.0], list_message_row)
                .optional()?)
        })
    }

    fn inbound_raw(&self, id: InboundMailId) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            let raw: Option<Option<Vec<u8>>> = c
                .prepare_cached("SELECT raw FROM inbound_mails WHERE id = ?1")?
                .query_row([id.0], |r| r.get(0))
                .optional()?;
            Ok(raw.flatten())
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id))]
    fn plan_deliveries(
        &self,
        id: ListMessageId,
        today: NaiveDate,
        batch_size: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write(|tx| {
            let row: Option<(i64, bool)> = tx
                .prepare_cached(
                    "SELECT mailing_list_id, planned_at IS NOT NULL FROM list_messages WHERE id = ?1",
                )?
                .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((list, is_planned)) = row else {
                return Err(StoreError::NotFound);
            };
            if !is_planned {
                // The query yields each address once; numbered in address
                // order, `batch_size` addresses make a batch.
                let sql = format!(
                    "INSERT INTO list_batches (list_message_id, batch, state, recipients, size) \
                     SELECT ?3, n / ?4, 'pending', group_concat(email, char(10) ORDER BY email), \
                            count(*) \
                     FROM (SELECT email, row_number() OVER (ORDER BY email) - 1 AS n \
                           FROM ({RECIPIENTS_SQL}) WHERE email IS NOT NULL) \
                     GROUP BY n / ?4"
                );
                tx.prepare_cached(&sql)?
                    .execute(params![list, Day(today), id.0, i64::from(batch_size.max(1))])?;
                tx.prepare_cached(
                    "UPDATE list_messages SET planned_at = ?2, \
                         (batches, recipients) = (SELECT count(*), coalesce(sum(size), 0) \
                                                  FROM list_batches WHERE list_message_id = ?1) \
                     WHERE id = ?1",
                )?
                .execute(params![id.0, Ts(now)])?;
            }
            let n: i64 = tx
                .prepare_cached("SELECT recipients FROM list_messages WHERE id = ?1")?
                .query_row([id.0], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id))]
    fn resume_deliveries(&self, id: ListMessageId) -> Result<u64, StoreError> {
        self.write(|tx| {
            let uncertain: i64 = tx
                .prepare_cached(
                    "UPDATE list_batches SET state = 'uncertain' \
                     WHERE list_message_id = ?1 AND state = 'handed' RETURNING size",
                )?
                .query_map([id.0], |r| r.get::<_, i64>(0))?
                .sum::<Result<_, _>>()?;
            tx.prepare_cached(
                "UPDATE list_batches SET state = 'pending' \
                 WHERE list_message_id = ?1 AND state = 'deferred'",
            )?
            .execute([id.0])?;
            Ok(count(uncertain))
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id))]
    fn mark_uncertain(&self, id: ListMessageId, batches: &[u64]) -> Result<u64, StoreError> {
        self.write(|tx| {
            let mut cut_off = tx.prepare_cached(
                "UPDATE list_batches SET state = 'uncertain' \
                 WHERE list_message_id = ?1 AND batch = ?2 AND state = 'handed' RETURNING size",
            )?;
            let mut uncertain = 0;
            for &batch in batches {
                uncertain += cut_off
                    .query_map(params![id.0, batch_number(batch)], |r| r.get::<_, i64>(0))?
                    .sum::<Result<i64, _>>()?;
            }
            Ok(count(uncertain))
        })
    }

    fn pending_batches(
        &self,
        id: ListMessageId,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Batch>, StoreError> {
        self.read(|c| {
            let after = after.map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX));
            let mut stmt = c.prepare_cached(
                "SELECT batch, recipients FROM list_batches \
                 WHERE list_message_id = ?1 AND batch > ?2 AND state = 'pending' \
                 ORDER BY batch LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![id.0, after, i64::from(limit)], |r| {
                Ok(Batch {
                    number: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    recipients: batch_recipients(&r.get::<_, String>(1)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn mark_handed(&self, id: ListMessageId, batch: u64) -> Result<bool, StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE list_batches SET state = 'handed' \
                     WHERE list_message_id = ?1 AND batch = ?2 AND state = 'pending'",
                )?
                .execute(params![id.0, batch_number(batch)])?;
            Ok(changed == 1)
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id, batch))]
    fn record_batch(
        &self,
        id: ListMessageId,
        batch: u64,
        outcome: &BatchOutcome,
    ) -> Result<(), StoreError> {
        let stored = outcome.stored();
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE list_batches SET state = ?3, recipients = ?4, size = ?5 \
                     WHERE list_message_id = ?1 AND batch = ?2 \
                       AND state IN ('pending', 'handed')",
                )?
                .execute(params![
                    id.0,
                    batch_number(batch),
                    stored.state,
                    stored.recipients.join("\n"),
                    stored.recipients.len() as i64
                ])?;
            if changed == 0 {
                return Ok(());
            }
            let mut refuse = tx.prepare_cached(
                "INSERT INTO list_refusals (list_message_id, email, error) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO UPDATE SET error = excluded.error",
            )?;
            for (email, error) in &outcome.failed {
                refuse.execute(params![id.0, email, error])?;
            }
            drop(refuse);
            if let Some(moved) = &stored.moved {
                tx.prepare_cached("UPDATE list_messages SET batches = batches + 1 WHERE id = ?1")?
                    .execute([id.0])?;
                tx.prepare_cached(
                    "INSERT INTO list_batches (list_message_id, batch, state, recipients, size) \
                     SELECT id, batches - 1, 'deferred', ?2, ?3 FROM list_messages WHERE id = ?1",
                )?
                .execute(params![id.0, moved.join("\n"), moved.len() as i64])?;
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id))]
    fn finish_list_message(
        &self,
        id: ListMessageId,
        state: ListMessageState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let inbound: i64 = tx
                .prepare_cached(
                    "UPDATE list_messages SET state = ?2, finished_at = coalesce(finished_at, ?3) \
                     WHERE id = ?1 RETURNING inbound_mail_id",
                )?
                .query_row(params![id.0, state.as_str(), Ts(now)], |r| r.get(0))
                .optional()?
                .ok_or(StoreError::NotFound)?;
            // The raw message holds personal data (addresses, the body):
            // it goes once no copy needs it any more.
            tx.prepare_cached(
                "UPDATE inbound_mails SET raw = NULL WHERE id = ?1 AND NOT EXISTS ( \
                     SELECT 1 FROM list_messages \
                     WHERE inbound_mail_id = ?1 AND finished_at IS NULL)",
            )?
            .execute([inbound])?;
            Ok(())
        })
    }

    fn list_message_by_token(&self, token: &str) -> Result<Option<ListMessage>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {LIST_MESSAGE_COLUMNS} FROM list_messages WHERE token = ?1");
            Ok(c.prepare_cached(&sql)?
                .query_row([token], list_message_row)
                .optional()?)
        })
    }

    fn list_messages(
        &self,
        list: MailingListId,
        limit: u32,
    ) -> Result<Vec<ListMessageSummary>, StoreError> {
        self.read(|c| {
            let sql = format!(
                "SELECT id, mailing_list_id, subject, sender, received_at, state, recipients, \
                        {LIST_MESSAGE_COUNTS} \
                 FROM list_messages WHERE mailing_list_id = ?1 ORDER BY id DESC LIMIT ?2"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![list.0, i64::from(limit)], |r| {
                let state: String = r.get(5)?;
                Ok(ListMessageSummary {
                    id: ListMessageId(r.get(0)?),
                    mailing_list_id: MailingListId(r.get(1)?),
                    subject: r.get(2)?,
                    sender: r.get(3)?,
                    received_at: r.get::<_, Ts>(4)?.0,
                    state: ListMessageState::parse(&state).unwrap_or(ListMessageState::Delivering),
                    recipients: count(r.get(6)?),
                    sent: count(r.get(7)?),
                    failed: count(r.get(8)?),
                    uncertain: count(r.get(9)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

fn known_inbound(
    tx: &Transaction<'_>,
    arrival_key: &str,
) -> Result<Option<InboundMailId>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT id FROM inbound_mails WHERE arrival_key = ?1")?
        .query_row([arrival_key], |r| r.get(0).map(InboundMailId))
        .optional()?)
}

fn insert_inbound(
    tx: &Transaction<'_>,
    mail: &NewInboundMail<'_>,
    now: DateTime<Utc>,
) -> Result<InboundMailId, StoreError> {
    let id = tx
        .prepare_cached(
            "INSERT INTO inbound_mails (arrival_key, message_key, sender, subject, size_bytes, \
                 outcome, note, received_at, raw) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        )?
        .query_row(
            params![
                mail.arrival_key,
                mail.message_key,
                mail.sender,
                mail.subject,
                i64::try_from(mail.raw.len()).unwrap_or(i64::MAX),
                mail.outcome.as_str(),
                mail.note,
                Ts(now),
                mail.raw,
            ],
            |r| r.get(0),
        )?;
    Ok(InboundMailId(id))
}

/// Inserts one list's copy; `None` when that list has the message already.
fn insert_copy(
    tx: &Transaction<'_>,
    inbound: InboundMailId,
    mail: &NewInboundMail<'_>,
    copy: &NewListMessage,
    now: DateTime<Utc>,
) -> Result<Option<ListMessageId>, StoreError> {
    let is_finished = copy.state != ListMessageState::Delivering && !copy.is_reply_due;
    let id = tx
        .prepare_cached(
            "INSERT INTO list_messages (inbound_mail_id, mailing_list_id, message_key, token, \
                 state, subject, sender, is_reply_due, received_at, finished_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (mailing_list_id, message_key) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                inbound.0,
                copy.mailing_list_id.0,
                mail.message_key,
                crate::list_mail::new_token(),
                copy.state.as_str(),
                mail.subject,
                mail.sender.as_deref().unwrap_or(""),
                copy.is_reply_due,
                Ts(now),
                is_finished.then_some(Ts(now)),
            ],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.map(ListMessageId))
}

fn list_message_row(r: &Row<'_>) -> rusqlite::Result<ListMessage> {
    let state: String = r.get(4)?;
    Ok(ListMessage {
        id: ListMessageId(r.get(0)?),
        inbound_mail_id: InboundMailId(r.get(1)?),
        mailing_list_id: MailingListId(r.get(2)?),
        token: r.get(3)?,
        state: ListMessageState::parse(&state).unwrap_or(ListMessageState::Delivering),
        sender: r.get(5)?,
        is_reply_due: r.get(6)?,
        is_planned: r.get(7)?,
        is_finished: r.get(8)?,
        subject: r.get(9)?,
        received_at: r.get::<_, Ts>(10)?.0,
        message_key: r.get(11)?,
    })
}

fn batch_number(batch: u64) -> i64 {
    i64::try_from(batch).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
