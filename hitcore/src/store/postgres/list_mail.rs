//! [`ListMailRepo`] on PostgreSQL: inbound list mail, each list's copy and
//! the delivery state of its batches.

use chrono::{DateTime, NaiveDate, Utc};
use postgres::types::Type;
use postgres::{Row, Transaction};

use super::PostgresStore;
use super::jobs::enqueue_in;
use super::mailing_lists::RECIPIENTS_SQL;
use crate::id::{InboundMailId, ListMessageId, MailingListId};
use crate::jobs::NewJob;
use crate::list_mail::{
    Batch, BatchOutcome, ListMessage, ListMessageState, ListMessageSummary, NewInboundMail,
    NewListMessage, Recorded, batch_recipients,
};
use crate::store::jobs::count_enqueued;
use crate::store::sql::{LIST_MESSAGE_COUNTS, date_text, parse_timestamp, timestamp_text};
use crate::store::{ListMailRepo, StoreError};

const LIST_MESSAGE_COLUMNS: &str = "id, inbound_mail_id, mailing_list_id, token, state, sender, \
     is_reply_due, planned_at IS NOT NULL, finished_at IS NOT NULL, subject, received_at, \
     message_key";

// Every write here runs `READ COMMITTED` (`queue_write`, or one statement
// on its own), like the job queue's: the batches of one message are
// recorded from several threads at once, and a deferred batch takes its
// number from the message's row, which `SERIALIZABLE` would turn into
// serialization failures; each statement's own row locks and conditions
// (`state IN ('pending', 'handed')`, `ON CONFLICT`) keep them correct.
impl ListMailRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(mail.copies = copies.len()))]
    fn record_inbound(
        &self,
        mail: &NewInboundMail<'_>,
        copies: &[NewListMessage],
        job_for: &(dyn Fn(ListMessageId) -> NewJob + Sync),
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let mut jobs = Vec::new();
        let recorded = self.queue_write(|tx| {
            let known = tx.query_opt(
                "SELECT id FROM inbound_mails WHERE arrival_key = $1",
                &[&mail.arrival_key],
            )?;
            if let Some(row) = known {
                return Ok(Recorded::Known(InboundMailId(row.try_get(0)?)));
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
        Ok(recorded)
    }

    fn list_message(&self, id: ListMessageId) -> Result<Option<ListMessage>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {LIST_MESSAGE_COLUMNS} FROM list_messages WHERE id = $1");
            c.query_opt(&sql, &[&id.0])?
                .map(|r| list_message_row(&r))
                .transpose()
        })
    }

    fn inbound_raw(&self, id: InboundMailId) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            let row = c.query_opt("SELECT raw FROM inbound_mails WHERE id = $1", &[&id.0])?;
            Ok(row
                .map(|r| r.try_get::<_, Option<Vec<u8>>>(0))
                .transpose()?
                .flatten())
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
        self.queue_write(|tx| {
            let row = tx.query_opt(
                "SELECT mailing_list_id, planned_at IS NOT NULL FROM list_messages \
                 WHERE id = $1 FOR UPDATE",
                &[&id.0],
            )?;
            let Some(row) = row else {
                return Err(StoreError::NotFound);
            };
            let list: i64 = row.try_get(0)?;
            let is_planned: bool = row.try_get(1)?;
            if !is_planned {
                super::mailing_lists::without_jit(tx)?;
                // The query yields each address once; numbered in address
                // order, `batch_size` addresses make a batch. One
                // statement writes the batches and their counts.
                let sql = format!(
                    "WITH numbered AS ( \
                         SELECT r.email, (row_number() OVER (ORDER BY r.email COLLATE \"C\") - 1) / $4 \
                                AS batch \
                         FROM ({RECIPIENTS_SQL}) r WHERE r.email IS NOT NULL), \
                     planned AS ( \
                         INSERT INTO list_batches (list_message_id, batch, state, recipients, size) \
                         SELECT $3, batch, 'pending', \
                                string_agg(email, chr(10) ORDER BY email COLLATE \"C\"), count(*) \
                         FROM numbered GROUP BY batch \
                         RETURNING size) \
                     UPDATE list_messages SET planned_at = $5, \
                         batches = (SELECT count(*) FROM planned), \
                         recipients = (SELECT coalesce(sum(size), 0) FROM planned) \
                     WHERE id = $3"
                );
                tx.execute(
                    &sql,
                    &[
                        &list,
                        &date_text(today),
                        &id.0,
                        &i64::from(batch_size.max(1)),
                        &timestamp_text(now),
                    ],
                )?;
            }
            let n: i64 = tx
                .query_one(
                    "SELECT recipients FROM list_messages WHERE id = $1",
                    &[&id.0],
                )?
                .try_get(0)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id))]
    fn resume_deliveries(&self, id: ListMessageId) -> Result<u64, StoreError> {
        self.queue_write(|tx| {
            let row = tx.query_one(
                "WITH cut_off AS ( \
                     UPDATE list_batches SET state = 'uncertain' \
                     WHERE list_message_id = $1 AND state = 'handed' RETURNING size), \
                 resumed AS ( \
                     UPDATE list_batches SET state = 'pending' \
                     WHERE list_message_id = $1 AND state = 'deferred' RETURNING 1) \
                 SELECT coalesce(sum(size), 0)::BIGINT FROM cut_off",
                &[&id.0],
            )?;
            Ok(count(row.try_get(0)?))
        })
    }

    #[tracing::instrument(skip_all, fields(list_message.id = %id))]
    fn mark_uncertain(&self, id: ListMessageId, batches: &[u64]) -> Result<u64, StoreError> {
        let batches: Vec<i64> = batches.iter().map(|&b| batch_number(b)).collect();
        self.read(|c| {
            let row = c.query_one(
                "WITH cut_off AS ( \
                     UPDATE list_batches SET state = 'uncertain' \
                     WHERE list_message_id = $1 AND batch = ANY($2) AND state = 'handed' \
                     RETURNING size) \
                 SELECT coalesce(sum(size), 0)::BIGINT FROM cut_off",
                &[&id.0, &batches],
            )?;
            Ok(count(row.try_get(0)?))
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
            let rows = c.query(
                "SELECT batch, recipients FROM list_batches \
                 WHERE list_message_id = $1 AND batch > $2 AND state = 'pending' \
                 ORDER BY batch LIMIT $3",
                &[&id.0, &after, &i64::from(limit)],
            )?;
            rows.iter()
                .map(|row| {
                    Ok(Batch {
                        number: count(row.try_get(0)?),
                        recipients: batch_recipients(row.try_get(1)?),
                    })
                })
                .collect()
        })
    }

    // The two writes of every batch are single statements outside a
    // transaction, prepared once per connection: one round trip each,
    // with neither a parse nor a plan, where a transaction around a fresh
    // statement takes five (begin, prepare, execute, commit) and more.
    fn mark_handed(&self, id: ListMessageId, batch: u64) -> Result<bool, StoreError> {
        self.pooled(|c| {
            let changed = c.execute_prepared(
                "UPDATE list_batches SET state = 'handed' \
                 WHERE list_message_id = $1 AND batch = $2 AND state = 'pending'",
                &[Type::INT8, Type::INT8],
                &[&id.0, &batch_number(batch)],
            )?;
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
        let batch = batch_number(batch);
        // The record commits without waiting for the disk
        // (`synchronous_commit` off for its own transaction, set from
        // RETURNING of the batch's update): lost in a crash of the
        // database, it leaves the batch handed over, so uncertain and
        // never sent again; the next handover's commit, which does wait,
        // writes it to disk with its own. That saves one disk flush per
        // batch. Most batches are accepted whole: one plain update.
        if outcome.failed.is_empty() && outcome.retry.is_empty() {
            return self.pooled(|c| {
                c.execute_prepared(
                    "UPDATE list_batches SET state = 'sent' \
                     WHERE list_message_id = $1 AND batch = $2 \
                       AND state IN ('pending', 'handed') \
                     RETURNING set_config('synchronous_commit', 'off', true)",
                    &[Type::INT8, Type::INT8],
                    &[&id.0, &batch],
                )?;
                Ok(())
            });
        }
        let stored = outcome.stored();
        let (failed, errors): (Vec<&str>, Vec<&str>) = outcome
            .failed
            .iter()
            .map(|(email, error)| (email.as_str(), error.as_str()))
            .unzip();
        let moved = stored.moved.as_ref().map(|m| m.join("\n"));
        let moved_size = stored.moved.as_ref().map_or(0, |m| m.len() as i64);
        // PostgreSQL runs every data-modifying WITH part to completion;
        // the others act only when the first changed the batch, so a
        // batch recorded already stays as it is. A new deferred batch
        // takes the message's next number, under the row lock of the
        // counter's update.
        let recipients = stored.recipients.join("\n");
        let size = stored.recipients.len() as i64;
        self.pooled(|c| {
            c.execute_prepared(
                "WITH recorded AS ( \
                     UPDATE list_batches SET state = $3, recipients = $4, size = $5 \
                     WHERE list_message_id = $1 AND batch = $2 \
                       AND state IN ('pending', 'handed') \
                     RETURNING set_config('synchronous_commit', 'off', true)), \
                 refused AS ( \
                     INSERT INTO list_refusals (list_message_id, email, error) \
                     SELECT $1, f.email, f.error \
                     FROM unnest($6::text[], $7::text[]) AS f (email, error) \
                     WHERE EXISTS (SELECT 1 FROM recorded) \
                     ON CONFLICT (list_message_id, email) DO UPDATE SET error = excluded.error), \
                 numbered AS ( \
                     UPDATE list_messages SET batches = batches + 1 \
                     WHERE id = $1 AND $8::text IS NOT NULL AND EXISTS (SELECT 1 FROM recorded) \
                     RETURNING batches - 1 AS number) \
                 INSERT INTO list_batches (list_message_id, batch, state, recipients, size) \
                 SELECT $1, number, 'deferred', $8, $9 FROM numbered",
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT8,
                    Type::TEXT_ARRAY,
                    Type::TEXT_ARRAY,
                    Type::TEXT,
                    Type::INT8,
                ],
                &[
                    &id.0,
                    &batch,
                    &stored.state,
                    &recipients,
                    &size,
                    &failed,
                    &errors,
                    &moved,
                    &moved_size,
                ],
            )?;
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
        self.queue_write(|tx| {
            let row = tx
                .query_opt(
                    "UPDATE list_messages SET state = $2, \
                         finished_at = coalesce(finished_at, $3) \
                     WHERE id = $1 RETURNING inbound_mail_id",
                    &[&id.0, &state.as_str(), &timestamp_text(now)],
                )?
                .ok_or(StoreError::NotFound)?;
            let inbound: i64 = row.try_get(0)?;
            // The raw message holds personal data (addresses, the body):
            // it goes once no copy needs it any more.
            tx.execute(
                "UPDATE inbound_mails SET raw = NULL WHERE id = $1 AND NOT EXISTS ( \
                     SELECT 1 FROM list_messages \
                     WHERE inbound_mail_id = $1 AND finished_at IS NULL)",
                &[&inbound],
            )?;
            Ok(())
        })
    }

    fn list_message_by_token(&self, token: &str) -> Result<Option<ListMessage>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {LIST_MESSAGE_COLUMNS} FROM list_messages WHERE token = $1");
            c.query_opt(&sql, &[&token])?
                .map(|r| list_message_row(&r))
                .transpose()
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
                 FROM list_messages WHERE mailing_list_id = $1 ORDER BY id DESC LIMIT $2"
            );
            let rows = c.query(&sql, &[&list.0, &i64::from(limit)])?;
            rows.iter()
                .map(|r| {
                    let state: String = r.try_get(5)?;
                    let received: String = r.try_get(4)?;
                    Ok(ListMessageSummary {
                        id: ListMessageId(r.try_get(0)?),
                        mailing_list_id: MailingListId(r.try_get(1)?),
                        subject: r.try_get(2)?,
                        sender: r.try_get(3)?,
                        received_at: parse_timestamp(&received)
                            .map_err(|e| StoreError::Backend(Box::new(e)))?,
                        state: ListMessageState::parse(&state)
                            .unwrap_or(ListMessageState::Delivering),
                        recipients: count(r.try_get(6)?),
                        sent: count(r.try_get(7)?),
                        failed: count(r.try_get(8)?),
                        uncertain: count(r.try_get(9)?),
                    })
                })
                .collect()
        })
    }
}

fn insert_inbound(
    tx: &mut Transaction<'_>,
    mail: &NewInboundMail<'_>,
    now: DateTime<Utc>,
) -> Result<InboundMailId, StoreError> {
    let row = tx.query_one(
        "INSERT INTO inbound_mails (arrival_key, message_key, sender, subject, size_bytes, \
             outcome, note, received_at, raw) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        &[
            &mail.arrival_key,
            &mail.message_key,
            &mail.sender,
            &mail.subject,
            &i64::try_from(mail.raw.len()).unwrap_or(i64::MAX),
            &mail.outcome.as_str(),
            &mail.note,
            &timestamp_text(now),
            &mail.raw,
        ],
    )?;
    Ok(InboundMailId(row.try_get(0)?))
}

/// Inserts one list's copy; `None` when that list has the message already.
fn insert_copy(
    tx: &mut Transaction<'_>,
    inbound: InboundMailId,
    mail: &NewInboundMail<'_>,
    copy: &NewListMessage,
    now: DateTime<Utc>,
) -> Result<Option<ListMessageId>, StoreError> {
    let is_finished = copy.state != ListMessageState::Delivering && !copy.is_reply_due;
    let row = tx.query_opt(
        "INSERT INTO list_messages (inbound_mail_id, mailing_list_id, message_key, token, \
             state, subject, sender, is_reply_due, received_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (mailing_list_id, message_key) DO NOTHING RETURNING id",
        &[
            &inbound.0,
            &copy.mailing_list_id.0,
            &mail.message_key,
            &crate::list_mail::new_token(),
            &copy.state.as_str(),
            &mail.subject,
            &mail.sender.as_deref().unwrap_or(""),
            &copy.is_reply_due,
            &timestamp_text(now),
            &is_finished.then(|| timestamp_text(now)),
        ],
    )?;
    row.map(|r| r.try_get(0).map(ListMessageId))
        .transpose()
        .map_err(StoreError::from)
}

fn list_message_row(r: &Row) -> Result<ListMessage, StoreError> {
    let state: String = r.try_get(4)?;
    Ok(ListMessage {
        id: ListMessageId(r.try_get(0)?),
        inbound_mail_id: InboundMailId(r.try_get(1)?),
        mailing_list_id: MailingListId(r.try_get(2)?),
        token: r.try_get(3)?,
        state: ListMessageState::parse(&state).unwrap_or(ListMessageState::Delivering),
        sender: r.try_get(5)?,
        is_reply_due: r.try_get(6)?,
        is_planned: r.try_get(7)?,
        is_finished: r.try_get(8)?,
        subject: r.try_get(9)?,
        received_at: parse_timestamp(r.try_get(10)?)
            .map_err(|e| StoreError::Backend(Box::new(e)))?,
        message_key: r.try_get(11)?,
    })
}

fn batch_number(batch: u64) -> i64 {
    i64::try_from(batch).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
