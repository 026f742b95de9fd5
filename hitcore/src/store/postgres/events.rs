//! [`EventRepo`] on postgres: events, their dates, questions and attachments.
//!
//! The statements are those of the SQLite store with `$n` parameters,
//! typed where a parameter is only compared with NULL, and arrays instead
//! of JSON for lists of ids.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::{PostgresStore, groups, query_all, query_count, query_opt, rule};
use crate::ability::{
    CreateEvent, DestroyEvent, ManageAttachments, Permit, SetEventGroups, UpdateEvent,
};
use crate::event::question::{NewQuestion, Question};
use crate::event::{
    Attachment, DeleteRefusal, Event, EventPatch, EventQuery, EventWhen, NewAttachment, NewEvent,
};
use crate::id::{AttachmentId, EventId, GroupId, QuestionId};
use crate::store::event_rows::{
    self, ATTACHMENT_COLUMNS, DATE_COLUMNS, EVENT_COLUMNS, QUESTION_COLUMNS, date_time_text,
    day_end_text, json_list,
};
use crate::store::sql::{date_text, timestamp_text};
use crate::store::{EventRepo, Page, StoreError};

fn event_row(r: &Row) -> Result<Event, StoreError> {
    let training_days: Option<f64> = r.try_get("training_days")?;
    event_rows::event(r, training_days)
}

/// The events with these ids, with groups and dates, in the given order.
fn load_events(c: &mut impl GenericClient, ids: &[i64]) -> Result<Vec<Event>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.to_vec();
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = ANY($1)");
    let mut by_id: HashMap<i64, Event> = query_all(c, &sql, &[&list], event_row)?
        .into_iter()
        .map(|e| (e.id.0, e))
        .collect();
    let links = c.query(
        "SELECT event_id, group_id FROM events_groups WHERE event_id = ANY($1) ORDER BY group_id",
        &[&list],
    )?;
    for row in links {
        let (event, group): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        if let Some(e) = by_id.get_mut(&event) {
            e.group_ids.push(GroupId(group));
        }
    }
    let sql = format!(
        "SELECT {DATE_COLUMNS} FROM event_dates d WHERE d.event_id = ANY($1) \
         ORDER BY d.start_at, d.id"
    );
    for (event, date) in query_all(c, &sql, &[&list], event_rows::date)? {
        if let Some(e) = by_id.get_mut(&event.0) {
            e.dates.push(date);
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn find_event(c: &mut impl GenericClient, id: EventId) -> Result<Option<Event>, StoreError> {
    Ok(load_events(c, &[id.0])?.into_iter().next())
}

fn require_event(c: &mut impl GenericClient, id: EventId) -> Result<Event, StoreError> {
    find_event(c, id)?.ok_or(StoreError::NotFound)
}

/// The field values of `f` as `$2` to `$25` of the statements below.
fn field_values(f: &EventPatch) -> Vec<Box<dyn ToSql + Sync>> {
    let count = |n: Option<u32>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    vec![
        Box::new(f.name.clone().unwrap_or_default()),
        Box::new(f.description.clone()),
        Box::new(f.application_conditions.clone()),
        Box::new(f.number.clone()),
        Box::new(f.motto.clone()),
        Box::new(f.cost.clone()),
        Box::new(f.location.clone()),
        Box::new(f.kind_id.map(|k| k.0)),
        Box::new(f.state.clone()),
        Box::new(count(f.maximum_participants)),
        Box::new(count(f.minimum_participants)),
        Box::new(f.application_opening_at.map(date_text)),
        Box::new(f.application_closing_at.map(date_text)),
        Box::new(f.applications_cancelable),
        Box::new(f.external_applications),
        Box::new(f.globally_visible),
        Box::new(f.participations_visible),
        Box::new(f.priorization),
        Box::new(f.requires_approval),
        Box::new(f.automatic_assignment),
        Box::new(f.waiting_list),
        Box::new(f.notify_contact_on_participations),
        Box::new(f.contact_id.map(|p| p.0)),
        Box::new(f.training_days),
    ]
}

fn write_dates(
    c: &mut impl GenericClient,
    event: EventId,
    f: &EventPatch,
) -> Result<(), StoreError> {
    c.execute("DELETE FROM event_dates WHERE event_id = $1", &[&event.0])?;
    for d in &f.dates {
        c.execute(
            "INSERT INTO event_dates (event_id, label, start_at, finish_at, location) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &event.0,
                &d.label,
                &date_time_text(d.start_at),
                &d.finish_at.map(date_time_text),
                &d.location,
            ],
        )?;
    }
    Ok(())
}

fn insert_question(
    c: &mut impl GenericClient,
    event: EventId,
    q: &NewQuestion,
) -> Result<QuestionId, StoreError> {
    let types: Vec<&str> = q.visible_role_types.iter().map(|t| t.key()).collect();
    let row = c.query_one(
        "INSERT INTO event_questions (event_id, question, choices, multiple_choices, required, \
         admin, visible_role_types, ord) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         (SELECT COALESCE(MAX(ord), 0) + 1 FROM event_questions WHERE event_id = $1)) \
         RETURNING id",
        &[
            &event.0,
            &q.question,
            &json_list(&q.choices),
            &q.multiple_choices,
            &q.required,
            &q.admin,
            &json_list(&types),
        ],
    )?;
    Ok(QuestionId(row.try_get(0)?))
}

fn read_questions(c: &mut impl GenericClient, event: EventId) -> Result<Vec<Question>, StoreError> {
    let sql = format!(
        "SELECT {QUESTION_COLUMNS} FROM event_questions q WHERE q.event_id = $1 \
         ORDER BY q.ord, q.id"
    );
    query_all(c, &sql, &[&event.0], event_rows::question)
}

fn find_attachment(
    c: &mut impl GenericClient,
    id: AttachmentId,
) -> Result<Option<Attachment>, StoreError> {
    let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM event_attachments a WHERE a.id = $1");
    query_opt(c, &sql, &[&id.0], event_rows::attachment)
}

const INSERT_EVENT_SQL: &str = "INSERT INTO events (event_type, name, description, \
     application_conditions, number, motto, cost, location, kind_id, state, \
     maximum_participants, minimum_participants, application_opening_at, \
     application_closing_at, applications_cancelable, external_applications, globally_visible, \
     participations_visible, priorization, requires_approval, automatic_assignment, \
     waiting_list, notify_contact_on_participations, contact_id, training_days, created_at, \
     updated_at, shared_access_token, creator_id, updater_id) VALUES ($1, $2, $3, $4, $5, $6, \
     $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
     $25, $26, $26, $27, $28, $28) RETURNING id";

const UPDATE_EVENT_SQL: &str = "UPDATE events SET name = $2, description = $3, \
     application_conditions = $4, number = $5, motto = $6, cost = $7, location = $8, \
     kind_id = $9, state = $10, maximum_participants = $11, minimum_participants = $12, \
     application_opening_at = $13, application_closing_at = $14, \
     applications_cancelable = $15, external_applications = $16, globally_visible = $17, \
     participations_visible = $18, priorization = $19, requires_approval = $20, \
     automatic_assignment = $21, waiting_list = $22, notify_contact_on_participations = $23, \
     contact_id = $24, training_days = $25, updated_at = $26 WHERE id = $1";

/// The scope and filter conditions of a list query, `$1` to `$9`.
const LIST_WHERE: &str = "
WHERE ($1::boolean OR ($2::boolean AND (e.globally_visible = TRUE OR e.external_applications = TRUE))
   OR EXISTS (SELECT 1 FROM event_participations p
              WHERE p.event_id = e.id AND p.person_id = $3::bigint)
   OR EXISTS (
       SELECT 1 FROM events_groups eg JOIN groups g ON g.id = eg.group_id
       WHERE eg.event_id = e.id AND g.deleted_at IS NULL AND (
           g.layer_group_id = ANY($4::bigint[])
           OR EXISTS (
               SELECT 1 FROM groups l WHERE l.id = ANY($5::bigint[])
                 AND g.path >= l.path AND g.path < substr(l.path, 1, length(l.path) - 1) || '0'
           ))))
  AND ($6::text IS NULL OR e.event_type = $6::text)
  AND ($7::bigint IS NULL OR e.kind_id = $7::bigint)
  AND EXISTS (
      SELECT 1 FROM event_dates d WHERE d.event_id = e.id
        AND ($8::text IS NULL OR COALESCE(d.finish_at, d.start_at) >= $8::text)
        AND ($9::text IS NULL OR d.start_at <= $9::text))";

fn refs(values: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref()).collect()
}

impl EventRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(event.id = %id))]
    fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        self.read(|c| find_event(c, id))
    }

    #[tracing::instrument(skip_all, fields(event.id = %event))]
    fn questions(&self, event: EventId) -> Result<Vec<Question>, StoreError> {
        self.read(|c| read_questions(c, event))
    }

    #[tracing::instrument(skip_all)]
    fn create_event(
        &self,
        permit: &Permit<CreateEvent>,
        event: &NewEvent,
        now: DateTime<Utc>,
    ) -> Result<Event, StoreError> {
        let mut wanted = event.group_ids.clone();
        wanted.sort();
        wanted.dedup();
        if permit.target().0 != wanted {
            return Err(rule("the permit is for other groups"));
        }
        let token = event_rows::new_token();
        self.write(|tx| {
            for id in &wanted {
                if groups::require_group(tx, *id)?.is_deleted() {
                    return Err(rule(format!("group {id} is deleted")));
                }
            }
            let f = &event.fields;
            let mut values: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(event.event_type.clone())];
            values.extend(field_values(f));
            values.push(Box::new(timestamp_text(now)));
            values.push(Box::new(token.clone()));
            values.push(Box::new(event.creator_id.map(|p| p.0)));
            let row = tx.query_one(INSERT_EVENT_SQL, &refs(&values))?;
            let id = EventId(row.try_get(0)?);
            for g in &wanted {
                tx.execute(
                    "INSERT INTO events_groups (event_id, group_id) VALUES ($1, $2)",
                    &[&id.0, &g.0],
                )?;
            }
            write_dates(tx, id, f)?;
            for q in &event.questions {
                insert_question(tx, id, q)?;
            }
            require_event(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn update_event(
        &self,
        permit: &Permit<UpdateEvent>,
        patch: &EventPatch,
        groups: Option<&Permit<SetEventGroups>>,
        now: DateTime<Utc>,
    ) -> Result<Event, StoreError> {
        let id = permit.target().0;
        let groups = groups
            .map(|p| event_rows::check_group_permit(p, id))
            .transpose()?;
        self.write(|tx| {
            let attached = require_event(tx, id)?.group_ids;
            if let Some(wanted) = groups {
                // A deleted group may stay; it may not be added.
                for g in wanted.iter().filter(|g| !attached.contains(g)) {
                    if groups::require_group(tx, *g)?.is_deleted() {
                        return Err(rule(format!("group {g} is deleted")));
                    }
                }
                tx.execute("DELETE FROM events_groups WHERE event_id = $1", &[&id.0])?;
                for g in wanted {
                    tx.execute(
                        "INSERT INTO events_groups (event_id, group_id) VALUES ($1, $2)",
                        &[&id.0, &g.0],
                    )?;
                }
            }
            let mut values: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(id.0)];
            values.extend(field_values(patch));
            values.push(Box::new(timestamp_text(now)));
            tx.execute(UPDATE_EVENT_SQL, &refs(&values))?;
            write_dates(tx, id, patch)?;
            require_event(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn delete_event(&self, permit: &Permit<DestroyEvent>) -> Result<Vec<String>, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let keys = tx
                .query(
                    "SELECT storage_key FROM event_attachments WHERE event_id = $1",
                    &[&id.0],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<String>, _>>()?;
            let has_applications: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM event_participations \
                       WHERE event_id = $1 AND application_id IS NOT NULL) \
                     OR EXISTS (SELECT 1 FROM event_applications WHERE priority_1_id = $1)",
                    &[&id.0],
                )?
                .try_get(0)?;
            if has_applications {
                return Err(rule(DeleteRefusal::HasApplications));
            }
            if tx.execute("DELETE FROM events WHERE id = $1", &[&id.0])? == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(keys)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn add_question(
        &self,
        permit: &Permit<UpdateEvent>,
        question: &NewQuestion,
    ) -> Result<Question, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            require_event(tx, id)?;
            let qid = insert_question(tx, id, question)?;
            read_questions(tx, id)?
                .into_iter()
                .find(|q| q.id == qid)
                .ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn remove_question(
        &self,
        permit: &Permit<UpdateEvent>,
        id: QuestionId,
    ) -> Result<(), StoreError> {
        let event = permit.target().0;
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM event_questions WHERE id = $1 AND event_id = $2",
                &[&id.0, &event.0],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %group))]
    fn events_of_group(&self, group: GroupId, when: EventWhen) -> Result<Vec<Event>, StoreError> {
        let (upcoming, year) = match when {
            EventWhen::Upcoming(today) => (Some(date_text(today)), None),
            EventWhen::Year(y) => (None, Some(format!("{y:04}"))),
        };
        self.snapshot(|c| {
            let ids = c
                .query(
                    "SELECT e.id FROM events e JOIN events_groups eg ON eg.event_id = e.id \
                     WHERE eg.group_id = $1 AND EXISTS (
                         SELECT 1 FROM event_dates d WHERE d.event_id = e.id AND (
                             ($2::text IS NOT NULL AND COALESCE(d.finish_at, d.start_at) >= $2::text)
                             OR ($3::text IS NOT NULL AND (substr(d.start_at, 1, 4) = $3::text
                                 OR substr(d.finish_at, 1, 4) = $3::text))))
                     ORDER BY (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id),
                              e.id",
                    &[&group.0, &upcoming, &year],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<i64>, _>>()?;
            load_events(c, &ids)
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %group))]
    fn event_years(&self, group: GroupId) -> Result<Vec<i32>, StoreError> {
        self.read(|c| {
            let years = c
                .query(
                    "SELECT DISTINCT CAST(substr(d.start_at, 1, 4) AS INTEGER) AS y \
                     FROM event_dates d JOIN events_groups eg ON eg.event_id = d.event_id \
                     WHERE eg.group_id = $1 ORDER BY y",
                    &[&group.0],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<i32>, _>>()?;
            Ok(years)
        })
    }

    #[tracing::instrument(skip_all)]
    fn events_list(&self, query: &EventQuery) -> Result<Page<Event>, StoreError> {
        let s = &query.scope;
        let layers: Vec<i64> = s.layer_ids.iter().map(|g| g.0).collect();
        let below: Vec<i64> = s.below_layer_ids.iter().map(|g| g.0).collect();
        let participant = s.participant.map(|p| p.0);
        let kind = query.kind_id.map(|k| k.0);
        let from = query.from.map(date_text);
        let to = query.to.map(day_end_text);
        let per_page = query.per_page.max(1);
        let offset = i64::from(query.page.max(1) - 1) * i64::from(per_page);
        let limit = i64::from(per_page);
        let count_sql = format!("SELECT COUNT(*) FROM events e {LIST_WHERE}");
        let page_sql = format!(
            "SELECT e.id FROM events e {LIST_WHERE} ORDER BY \
             (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id), e.id \
             LIMIT $10 OFFSET $11"
        );
        self.snapshot(|c| {
            let args: [&(dyn ToSql + Sync); 9] = [
                &s.all,
                &s.public,
                &participant,
                &layers,
                &below,
                &query.event_type,
                &kind,
                &from,
                &to,
            ];
            let total = query_count(c, &count_sql, &args)?;
            let mut page_args = args.to_vec();
            page_args.push(&limit);
            page_args.push(&offset);
            let ids = c
                .query(&page_sql, &page_args)?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(Page {
                items: load_events(c, &ids)?,
                total,
                page: query.page.max(1),
                per_page,
            })
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %event))]
    fn attachments(&self, event: EventId) -> Result<Vec<Attachment>, StoreError> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM event_attachments a WHERE a.event_id = $1 \
             ORDER BY hit_fold(a.filename), a.id"
        );
        self.read(|c| query_all(c, &sql, &[&event.0], event_rows::attachment))
    }

    #[tracing::instrument(skip_all, fields(attachment.id = %id))]
    fn attachment(&self, id: AttachmentId) -> Result<Option<Attachment>, StoreError> {
        self.read(|c| find_attachment(c, id))
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn add_attachment(
        &self,
        permit: &Permit<ManageAttachments>,
        attachment: &NewAttachment,
        storage_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Attachment, StoreError> {
        let event = permit.target().0;
        self.write(|tx| {
            require_event(tx, event)?;
            let row = tx.query_one(
                "INSERT INTO event_attachments (event_id, storage_key, filename, content_type, \
                 byte_size, visibility, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 RETURNING id",
                &[
                    &event.0,
                    &storage_key,
                    &attachment.filename,
                    &attachment.content_type,
                    &i64::try_from(attachment.byte_size).unwrap_or(i64::MAX),
                    &attachment.visibility.as_str(),
                    &timestamp_text(now),
                ],
            )?;
            find_attachment(tx, AttachmentId(row.try_get(0)?))?.ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn remove_attachment(
        &self,
        permit: &Permit<ManageAttachments>,
        id: AttachmentId,
    ) -> Result<Attachment, StoreError> {
        let event = permit.target().0;
        self.write(|tx| {
            let found = find_attachment(tx, id)?
                .filter(|a| a.event_id == event)
                .ok_or(StoreError::NotFound)?;
            tx.execute("DELETE FROM event_attachments WHERE id = $1", &[&id.0])?;
            Ok(found)
        })
    }
}
