//! [`EventRepo`] on sqlite: events, their dates, questions and attachments.
//!
//! An event is read in three statements (the row, its groups, its dates);
//! lists read the rows of a page first and then the groups and dates of
//! all of them at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, Ts, day, groups, id_list, rule};
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
use crate::store::{EventRepo, Page, StoreError};

fn event_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    let training_days: Option<f64> = r.get("training_days")?;
    event_rows::event(r, training_days)
}

/// The events with these ids, with groups and dates, in the given order.
fn load_events(conn: &Connection, ids: &[i64]) -> Result<Vec<Event>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = id_list(ids.iter().copied());
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e WHERE e.id IN (SELECT value FROM json_each(?1))"
    );
    let mut by_id: HashMap<i64, Event> = conn
        .prepare_cached(&sql)?
        .query_map([&list], event_row)?
        .map(|e| e.map(|e| (e.id.0, e)))
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, group_id FROM events_groups \
         WHERE event_id IN (SELECT value FROM json_each(?1)) ORDER BY group_id",
    )?;
    for row in stmt.query_map([&list], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (event, group) = row?;
        if let Some(e) = by_id.get_mut(&event) {
            e.group_ids.push(GroupId(group));
        }
    }
    let sql = format!(
        "SELECT {DATE_COLUMNS} FROM event_dates d \
         WHERE d.event_id IN (SELECT value FROM json_each(?1)) ORDER BY d.start_at, d.id"
    );
    for row in conn
        .prepare_cached(&sql)?
        .query_map([&list], |r| event_rows::date(r))?
    {
        let (event, date) = row?;
        if let Some(e) = by_id.get_mut(&event.0) {
            e.dates.push(date);
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn find_event(conn: &Connection, id: EventId) -> Result<Option<Event>, StoreError> {
    Ok(load_events(conn, &[id.0])?.into_iter().next())
}

fn require_event(conn: &Connection, id: EventId) -> Result<Event, StoreError> {
    find_event(conn, id)?.ok_or(StoreError::NotFound)
}

/// Writes the fields of `f` with the statement `sql`, whose `?1` is
/// `first` and `?2` to `?24` the fields in the order below; `?25` is
/// `now`.
fn write_fields(
    conn: &Connection,
    sql: &str,
    first: &dyn rusqlite::ToSql,
    f: &EventPatch,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute(params![
        first,
        f.name.as_deref().unwrap_or_default(),
        f.description,
        f.application_conditions,
        f.number,
        f.motto,
        f.cost,
        f.location,
        f.kind_id.map(|k| k.0),
        f.state,
        f.maximum_participants,
        f.minimum_participants,
        day(f.application_opening_at),
        day(f.application_closing_at),
        f.applications_cancelable,
        f.external_applications,
        f.globally_visible,
        f.participations_visible,
        f.priorization,
        f.requires_approval,
        f.automatic_assignment,
        f.waiting_list,
        f.notify_contact_on_participations,
        f.contact_id.map(|p| p.0),
        f.training_days,
        Ts(now),
    ])?;
    Ok(())
}

/// Replaces the event's dates with `f`'s.
fn write_dates(conn: &Connection, event: EventId, f: &EventPatch) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM event_dates WHERE event_id = ?1")?
        .execute([event.0])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO event_dates (event_id, label, start_at, finish_at, location) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for d in &f.dates {
        insert.execute(params![
            event.0,
            d.label,
            date_time_text(d.start_at),
            d.finish_at.map(date_time_text),
            d.location,
        ])?;
    }
    Ok(())
}

fn insert_question(
    conn: &Connection,
    event: EventId,
    q: &NewQuestion,
) -> Result<QuestionId, StoreError> {
    let types: Vec<&str> = q.visible_role_types.iter().map(|t| t.key()).collect();
    conn.prepare_cached(
        "INSERT INTO event_questions (event_id, question, choices, multiple_choices, required, \
         admin, visible_role_types, ord) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
         (SELECT COALESCE(MAX(ord), 0) + 1 FROM event_questions WHERE event_id = ?1))",
    )?
    .execute(params![
        event.0,
        q.question,
        json_list(&q.choices),
        q.multiple_choices,
        q.required,
        q.admin,
        json_list(&types),
    ])?;
    Ok(QuestionId(conn.last_insert_rowid()))
}

fn read_questions(conn: &Connection, event: EventId) -> Result<Vec<Question>, StoreError> {
    let sql = format!(
        "SELECT {QUESTION_COLUMNS} FROM event_questions q WHERE q.event_id = ?1 \
         ORDER BY q.ord, q.id"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([event.0], |r| event_rows::question(r))?
        .collect::<Result<_, _>>()?)
}

const INSERT_EVENT_SQL: &str = "INSERT INTO events (event_type, name, description, \
     application_conditions, number, motto, cost, location, kind_id, state, \
     maximum_participants, minimum_participants, application_opening_at, \
     application_closing_at, applications_cancelable, external_applications, globally_visible, \
     participations_visible, priorization, requires_approval, automatic_assignment, \
     waiting_list, notify_contact_on_participations, contact_id, training_days, created_at, \
     updated_at, shared_access_token, creator_id, updater_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
     ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, \
     ?25, ?26, ?26, ?27, ?28, ?28)";

const UPDATE_EVENT_SQL: &str = "UPDATE events SET name = ?2, description = ?3, \
     application_conditions = ?4, number = ?5, motto = ?6, cost = ?7, location = ?8, \
     kind_id = ?9, state = ?10, maximum_participants = ?11, minimum_participants = ?12, \
     application_opening_at = ?13, application_closing_at = ?14, \
     applications_cancelable = ?15, external_applications = ?16, globally_visible = ?17, \
     participations_visible = ?18, priorization = ?19, requires_approval = ?20, \
     automatic_assignment = ?21, waiting_list = ?22, notify_contact_on_participations = ?23, \
     contact_id = ?24, training_days = ?25, updated_at = ?26 WHERE id = ?1";

/// The scope and filter conditions of a list query, `?1` to `?10`.
const LIST_WHERE: &str = "
WHERE (?1 OR (?2 AND (e.globally_visible = TRUE OR e.external_applications = TRUE))
   OR EXISTS (SELECT 1 FROM event_participations p WHERE p.event_id = e.id AND p.person_id = ?3)
   OR EXISTS (
       SELECT 1 FROM events_groups eg JOIN groups g ON g.id = eg.group_id
       WHERE eg.event_id = e.id AND g.deleted_at IS NULL AND (
           g.layer_group_id IN (SELECT value FROM json_each(?4))
           OR EXISTS (
               SELECT 1 FROM groups l WHERE l.id IN (SELECT value FROM json_each(?5))
                 AND g.path >= l.path AND g.path < substr(l.path, 1, length(l.path) - 1) || '0'
           ))))
  AND (?6 IS NULL OR e.event_type = ?6)
  AND (?7 IS NULL OR e.kind_id = ?7)
  AND EXISTS (
      SELECT 1 FROM event_dates d WHERE d.event_id = e.id
        AND (?8 IS NULL OR COALESCE(d.finish_at, d.start_at) >= ?8)
        AND (?9 IS NULL OR d.start_at <= ?9))";

impl EventRepo for SqliteStore {
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
        self.write(|tx| {
            for id in &wanted {
                if groups::require_group(tx, *id)?.is_deleted() {
                    return Err(rule(format!("group {id} is deleted")));
                }
            }
            let f = &event.fields;
            tx.prepare_cached(INSERT_EVENT_SQL)?.execute(params![
                event.event_type,
                f.name.as_deref().unwrap_or_default(),
                f.description,
                f.application_conditions,
                f.number,
                f.motto,
                f.cost,
                f.location,
                f.kind_id.map(|k| k.0),
                f.state,
                f.maximum_participants,
                f.minimum_participants,
                day(f.application_opening_at),
                day(f.application_closing_at),
                f.applications_cancelable,
                f.external_applications,
                f.globally_visible,
                f.participations_visible,
                f.priorization,
                f.requires_approval,
                f.automatic_assignment,
                f.waiting_list,
                f.notify_contact_on_participations,
                f.contact_id.map(|p| p.0),
                f.training_days,
                Ts(now),
                event_rows::new_token(),
                event.creator_id.map(|p| p.0),
            ])?;
            let id = EventId(tx.last_insert_rowid());
            let mut link = tx
                .prepare_cached("INSERT INTO events_groups (event_id, group_id) VALUES (?1, ?2)")?;
            for g in &wanted {
                link.execute([id.0, g.0])?;
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
                tx.prepare_cached("DELETE FROM events_groups WHERE event_id = ?1")?
                    .execute([id.0])?;
                let mut link = tx.prepare_cached(
                    "INSERT INTO events_groups (event_id, group_id) VALUES (?1, ?2)",
                )?;
                for g in wanted {
                    link.execute([id.0, g.0])?;
                }
            }
            write_fields(tx, UPDATE_EVENT_SQL, &id.0, patch, now)?;
            write_dates(tx, id, patch)?;
            require_event(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0))]
    fn delete_event(&self, permit: &Permit<DestroyEvent>) -> Result<Vec<String>, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let keys = tx
                .prepare_cached("SELECT storage_key FROM event_attachments WHERE event_id = ?1")?
                .query_map([id.0], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            let has_applications: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM event_participations \
                       WHERE event_id = ?1 AND application_id IS NOT NULL) \
                     OR EXISTS (SELECT 1 FROM event_applications WHERE priority_1_id = ?1)",
                )?
                .query_row([id.0], |r| r.get(0))?;
            if has_applications {
                return Err(rule(DeleteRefusal::HasApplications));
            }
            let deleted = tx
                .prepare_cached("DELETE FROM events WHERE id = ?1")?
                .execute([id.0])?;
            if deleted == 0 {
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
            let n = tx
                .prepare_cached("DELETE FROM event_questions WHERE id = ?1 AND event_id = ?2")?
                .execute([id.0, event.0])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %group))]
    fn events_of_group(&self, group: GroupId, when: EventWhen) -> Result<Vec<Event>, StoreError> {
        let (upcoming, year) = match when {
            EventWhen::Upcoming(today) => (Some(crate::store::sql::date_text(today)), None),
            EventWhen::Year(y) => (None, Some(format!("{y:04}"))),
        };
        self.read(|c| {
            let ids = c
                .prepare_cached(
                    "SELECT e.id FROM events e JOIN events_groups eg ON eg.event_id = e.id \
                     WHERE eg.group_id = ?1 AND EXISTS (
                         SELECT 1 FROM event_dates d WHERE d.event_id = e.id AND (
                             (?2 IS NOT NULL AND COALESCE(d.finish_at, d.start_at) >= ?2)
                             OR (?3 IS NOT NULL AND (substr(d.start_at, 1, 4) = ?3
                                 OR substr(d.finish_at, 1, 4) = ?3))))
                     ORDER BY (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id),
                              e.id",
                )?
                .query_map(params![group.0, upcoming, year], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            load_events(c, &ids)
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %group))]
    fn event_years(&self, group: GroupId) -> Result<Vec<i32>, StoreError> {
        self.read(|c| {
            let years = c
                .prepare_cached(
                    "SELECT DISTINCT CAST(substr(d.start_at, 1, 4) AS INTEGER) AS y \
                     FROM event_dates d JOIN events_groups eg ON eg.event_id = d.event_id \
                     WHERE eg.group_id = ?1 ORDER BY y",
                )?
                .query_map([group.0], |r| r.get(0))?
                .collect::<Result<Vec<i32>, _>>()?;
            Ok(years)
        })
    }

    #[tracing::instrument(skip_all)]
    fn events_list(&self, query: &EventQuery) -> Result<Page<Event>, StoreError> {
        let s = &query.scope;
        let layers = id_list(s.layer_ids.iter().map(|g| g.0));
        let below = id_list(s.below_layer_ids.iter().map(|g| g.0));
        let from = query.from.map(crate::store::sql::date_text);
        let to = query.to.map(day_end_text);
        let per_page = query.per_page.max(1);
        let offset = i64::from(query.page.max(1) - 1) * i64::from(per_page);
        let count_sql = format!("SELECT COUNT(*) FROM events e {LIST_WHERE}");
        let page_sql = format!(
            "SELECT e.id FROM events e {LIST_WHERE} ORDER BY \
             (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id), e.id \
             LIMIT ?10 OFFSET ?11"
        );
        self.snapshot(|c| {
            let args = params![
                s.all,
                s.public,
                s.participant.map(|p| p.0),
                layers,
                below,
                query.event_type,
                query.kind_id.map(|k| k.0),
                from,
                to,
            ];
            let total: i64 = c
                .prepare_cached(&count_sql)?
                .query_row(args, |r| r.get(0))?;
            let ids = c
                .prepare_cached(&page_sql)?
                .query_map(
                    params![
                        s.all,
                        s.public,
                        s.participant.map(|p| p.0),
                        layers,
                        below,
                        query.event_type,
                        query.kind_id.map(|k| k.0),
                        from,
                        to,
                        per_page,
                        offset,
                    ],
                    |r| r.get(0),
                )?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(Page {
                items: load_events(c, &ids)?,
                total: u64::try_from(total).unwrap_or(0),
                page: query.page.max(1),
                per_page,
            })
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %event))]
    fn attachments(&self, event: EventId) -> Result<Vec<Attachment>, StoreError> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM event_attachments a WHERE a.event_id = ?1 \
             ORDER BY hit_fold(a.filename), a.id"
        );
        self.read(|c| {
            Ok(c.prepare_cached(&sql)?
                .query_map([event.0], |r| event_rows::attachment(r))?
                .collect::<Result<_, _>>()?)
        })
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
            tx.prepare_cached(
                "INSERT INTO event_attachments (event_id, storage_key, filename, content_type, \
                 byte_size, visibility, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                event.0,
                storage_key,
                attachment.filename,
                attachment.content_type,
                i64::try_from(attachment.byte_size).unwrap_or(i64::MAX),
                attachment.visibility.as_str(),
                Ts(now),
            ])?;
            find_attachment(tx, AttachmentId(tx.last_insert_rowid()))?.ok_or(StoreError::NotFound)
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
            tx.prepare_cached("DELETE FROM event_attachments WHERE id = ?1")?
                .execute([id.0])?;
            Ok(found)
        })
    }
}

fn find_attachment(conn: &Connection, id: AttachmentId) -> Result<Option<Attachment>, StoreError> {
    let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM event_attachments a WHERE a.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.0], |r| event_rows::attachment(r))
        .optional()?)
}
