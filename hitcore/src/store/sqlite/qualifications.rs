//! [`QualificationRepo`] on sqlite: event kinds, their categories,
//! qualification kinds and qualifications.
//!
//! Qualifying reads the participation store's tables (participations,
//! event roles, events and their dates) and writes one column of them,
//! `event_participations.qualified`, in the transaction that issues the
//! qualifications; the rules are [`plan_qualify`] and [`issued_by`].

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, Ts, rows};
use crate::ability::{ManageKinds, ManageQualifications, Permit, QualifyParticipation};
use crate::event::EventDate;
use crate::event::kind::{
    CategoryPatch, EventKind, EventKindCategory, EventKindPatch, QualificationKind,
    QualificationKindPatch,
};
use crate::event::qualification::{
    EventHistoryEntry, NewQualification, Qualification, QualificationParticipant, QualifyInput,
    Removal, TrainingCourse, course_start, finish_date, issued_by, plan_qualify,
    qualification_date, qualifier_role,
};
use crate::id::{
    EventDateId, EventId, EventKindCategoryId, EventKindId, GroupId, ParticipationId, PersonId,
    QualificationId, QualificationKindId,
};
use crate::store::event_rows::DATE_TIME_FORMAT;
use crate::store::qualification_rows::{
    self as qrows, CATEGORY_COLUMNS, EVENT_KIND_COLUMNS, LINK_COLUMNS, QUALIFICATION_COLUMNS,
    QUALIFICATION_KIND_COLUMNS,
};
use crate::store::sql::date_text;
use crate::store::{QualificationRepo, StoreError};

fn category_row(r: &Row<'_>) -> rusqlite::Result<EventKindCategory> {
    qrows::category(r)
}

fn kind_row(r: &Row<'_>) -> rusqlite::Result<QualificationKind> {
    qrows::qualification_kind(r)
}

fn qualification_row(r: &Row<'_>) -> rusqlite::Result<Qualification> {
    qrows::qualification(r)
}

fn find_category(
    conn: &Connection,
    id: EventKindCategoryId,
) -> Result<EventKindCategory, StoreError> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM event_kind_categories c WHERE c.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id.0], category_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

fn find_kind(
    conn: &Connection,
    id: QualificationKindId,
) -> Result<Option<QualificationKind>, StoreError> {
    let sql =
        format!("SELECT {QUALIFICATION_KIND_COLUMNS} FROM qualification_kinds k WHERE k.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.0], kind_row)
        .optional()?)
}

/// Event kinds matching `filter` (a condition on `e`, constant SQL) with
/// their links, by label.
fn load_event_kinds(
    conn: &Connection,
    filter: &str,
    param: Option<i64>,
) -> Result<Vec<EventKind>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_KIND_COLUMNS} FROM event_kinds e WHERE {filter} ORDER BY e.label, e.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut kinds: Vec<EventKind> = match param {
        Some(p) => stmt
            .query_map([p], |r| qrows::event_kind(r))?
            .collect::<Result<_, _>>()?,
        None => stmt
            .query_map([], |r| qrows::event_kind(r))?
            .collect::<Result<_, _>>()?,
    };
    let sql = format!(
        "SELECT {LINK_COLUMNS} FROM event_kind_qualification_kinds l \
         JOIN event_kinds e ON e.id = l.event_kind_id WHERE {filter} \
         ORDER BY l.qualification_kind_id, l.category, l.role"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let links = match param {
        Some(p) => stmt
            .query_map([p], |r| qrows::link(r))?
            .collect::<Result<Vec<_>, _>>()?,
        None => stmt
            .query_map([], |r| qrows::link(r))?
            .collect::<Result<Vec<_>, _>>()?,
    };
    qrows::attach_links(&mut kinds, links);
    Ok(kinds)
}

fn find_event_kind(conn: &Connection, id: EventKindId) -> Result<Option<EventKind>, StoreError> {
    Ok(load_event_kinds(conn, "e.id = ?1", Some(id.0))?.pop())
}

fn write_links(conn: &Connection, id: i64, patch: &EventKindPatch) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM event_kind_qualification_kinds WHERE event_kind_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO event_kind_qualification_kinds \
         (event_kind_id, qualification_kind_id, category, role, grouping_number, validity) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for l in &patch.qualifications {
        if find_kind(conn, l.qualification_kind_id)?.is_none() {
            return Err(StoreError::NotFound);
        }
        insert.execute(params![
            id,
            l.qualification_kind_id.0,
            l.category.as_str(),
            l.role.as_str(),
            l.grouping,
            l.validity.as_str(),
        ])?;
    }
    Ok(())
}

fn check_category(conn: &Connection, id: Option<EventKindCategoryId>) -> Result<(), StoreError> {
    match id {
        Some(id) => find_category(conn, id).map(|_| ()),
        None => Ok(()),
    }
}

/// The participation named by the permit: its person and role keys.
fn permitted_participation(
    conn: &Connection,
    permit: &Permit<QualifyParticipation>,
) -> Result<(PersonId, Vec<String>), StoreError> {
    let target = permit.target();
    let person: i64 = conn
        .prepare_cached(
            "SELECT person_id FROM event_participations WHERE id = ?1 AND event_id = ?2",
        )?
        .query_row([target.participation_id.0, target.event_id.0], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let roles = conn
        .prepare_cached("SELECT role_type FROM event_roles WHERE participation_id = ?1")?
        .query_map([target.participation_id.0], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((PersonId(person), roles))
}

/// What the rules need of the course: name, kind, training days, dates.
struct Course {
    name: String,
    kind_id: Option<i64>,
    training_days: Option<f64>,
    dates: Vec<EventDate>,
}

fn course(conn: &Connection, id: EventId) -> Result<Course, StoreError> {
    let (name, kind_id, training_days) = conn
        .prepare_cached("SELECT name, kind_id, training_days FROM events WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let dates = conn
        .prepare_cached("SELECT id, start_at, finish_at FROM event_dates WHERE event_id = ?1")?
        .query_map([id.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter_map(|(id, start, finish)| {
            let parse = |t: &str| chrono::NaiveDateTime::parse_from_str(t, DATE_TIME_FORMAT).ok();
            Some(EventDate {
                id: EventDateId(id),
                label: None,
                start_at: parse(&start)?,
                finish_at: finish.as_deref().and_then(parse),
                location: None,
            })
        })
        .collect();
    Ok(Course {
        name,
        kind_id,
        training_days,
        dates,
    })
}

fn held(conn: &Connection, person: PersonId) -> Result<Vec<Qualification>, StoreError> {
    let sql = format!(
        "SELECT {QUALIFICATION_COLUMNS} FROM qualifications q WHERE q.person_id = ?1 \
         ORDER BY q.start_at DESC, q.id DESC"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([person.0], qualification_row)?
        .collect::<Result<_, _>>()?)
}

/// The person's other qualified participations in courses whose kind
/// issues or prolongs a qualification kind, with their qualification
/// date and training days.
const TRAINING_SQL: &str = "SELECT DISTINCT l.qualification_kind_id AS kind_id, e.id AS event_id, \
     e.training_days AS days, \
     (SELECT COALESCE(d.finish_at, d.start_at) FROM event_dates d WHERE d.event_id = e.id \
      ORDER BY d.start_at DESC, d.id DESC LIMIT 1) AS last_date \
     FROM event_participations p \
     JOIN events e ON e.id = p.event_id \
     JOIN event_kind_qualification_kinds l ON l.event_kind_id = e.kind_id \
      AND l.category IN ('qualification', 'prolongation') \
     WHERE p.person_id = ?1 AND p.qualified = TRUE AND p.event_id <> ?2";

fn earlier_training(
    conn: &Connection,
    person: PersonId,
    event: EventId,
) -> Result<Vec<TrainingCourse>, StoreError> {
    let rows = conn
        .prepare_cached(TRAINING_SQL)?
        .query_map([person.0, event.0], |r| {
            Ok((
                r.get::<_, i64>("kind_id")?,
                r.get::<_, Option<f64>>("days")?,
                r.get::<_, Option<String>>("last_date")?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, days, last)| {
            let date = NaiveDate::parse_from_str(last.as_deref()?.get(..10)?, "%Y-%m-%d").ok()?;
            Some(TrainingCourse {
                qualification_kind_id: QualificationKindId(kind),
                date,
                days: days.unwrap_or(0.0),
            })
        })
        .collect())
}

fn insert_qualification(
    conn: &Connection,
    q: &NewQualification,
    now: DateTime<Utc>,
) -> Result<Qualification, StoreError> {
    conn.prepare_cached(
        "INSERT INTO qualifications (person_id, qualification_kind_id, start_at, finish_at, \
         qualified_at, origin, event_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        q.person_id.0,
        q.qualification_kind_id.0,
        date_text(q.start_at),
        q.finish_at.map(date_text),
        q.qualified_at.map(date_text),
        q.origin,
        q.event_id.map(|e| e.0),
        Ts(now),
    ])
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "start_at".to_owned(),
        },
        other => other,
    })?;
    Ok(Qualification {
        id: QualificationId(conn.last_insert_rowid()),
        person_id: q.person_id,
        qualification_kind_id: q.qualification_kind_id,
        start_at: q.start_at,
        finish_at: q.finish_at,
        qualified_at: q.qualified_at,
        origin: q.origin.clone(),
        event_id: q.event_id,
    })
}

fn set_qualified(
    conn: &Connection,
    id: ParticipationId,
    qualified: bool,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE event_participations SET qualified = ?2 WHERE id = ?1")?
        .execute(params![id.0, qualified])?;
    Ok(())
}

fn qualify(
    conn: &Connection,
    permit: &Permit<QualifyParticipation>,
    now: DateTime<Utc>,
) -> Result<Vec<Qualification>, StoreError> {
    let target = *permit.target();
    let (person, role_keys) = permitted_participation(conn, permit)?;
    let course = course(conn, target.event_id)?;
    let kind_id = course
        .kind_id
        .ok_or_else(|| StoreError::Rule("the event has no kind".to_owned()))?;
    let kind = find_event_kind(conn, EventKindId(kind_id))?.ok_or(StoreError::NotFound)?;
    let (Some(date), Some(start)) = (
        qualification_date(&course.dates),
        course_start(&course.dates),
    ) else {
        return Err(StoreError::Rule("the event has no dates".to_owned()));
    };
    let mut kinds = Vec::new();
    for l in &kind.qualifications {
        kinds.extend(find_kind(conn, l.qualification_kind_id)?);
    }
    let held = held(conn, person)?;
    let earlier = earlier_training(conn, person, target.event_id)?;
    let plan = plan_qualify(&QualifyInput {
        person_id: person,
        event_id: target.event_id,
        origin: &course.name,
        links: &kind.qualifications,
        kinds: &kinds,
        role: qualifier_role(&qrows::role_types(&role_keys)),
        held: &held,
        qualification_date: date,
        course_start: start,
        training_days: course.training_days,
        earlier: &earlier,
    });
    let issued = plan
        .iter()
        .map(|q| insert_qualification(conn, q, now))
        .collect::<Result<Vec<_>, _>>()?;
    set_qualified(conn, target.participation_id, true)?;
    Ok(issued)
}

fn revoke(conn: &Connection, permit: &Permit<QualifyParticipation>) -> Result<u64, StoreError> {
    let target = *permit.target();
    let (person, _) = permitted_participation(conn, permit)?;
    let course = course(conn, target.event_id)?;
    let mut removed = 0;
    if let Some(date) = qualification_date(&course.dates) {
        let mut delete = conn.prepare_cached("DELETE FROM qualifications WHERE id = ?1")?;
        for id in issued_by(&held(conn, person)?, target.event_id, date) {
            removed += delete.execute([id.0])? as u64;
        }
    }
    set_qualified(conn, target.participation_id, false)?;
    Ok(removed)
}

/// The history rows: one per participation, with the first group, the
/// first and last date of the event and the role keys.
const HISTORY_SQL: &str = "SELECT p.id, p.event_id, e.event_type, e.name, p.active, p.qualified, \
     (SELECT g.group_id FROM events_groups g JOIN groups gr ON gr.id = g.group_id \
      WHERE g.event_id = e.id ORDER BY gr.deleted_at IS NOT NULL, g.group_id LIMIT 1) AS group_id, \
     (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id) AS start_at, \
     (SELECT MAX(COALESCE(d.finish_at, d.start_at)) FROM event_dates d WHERE d.event_id = e.id) \
       AS finish_at \
     FROM event_participations p JOIN events e ON e.id = p.event_id \
     WHERE p.person_id = ?1 ORDER BY start_at DESC, p.id DESC";

fn role_keys_of(conn: &Connection, participation: i64) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT role_type FROM event_roles WHERE participation_id = ?1")?
        .query_map([participation], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?)
}

fn history(conn: &Connection, person: PersonId) -> Result<Vec<EventHistoryEntry>, StoreError> {
    let rows = conn
        .prepare_cached(HISTORY_SQL)?
        .query_map([person.0], |r| {
            let id: i64 = r.get("id")?;
            let entry = EventHistoryEntry {
                event_id: EventId(r.get("event_id")?),
                group_id: GroupId(r.get::<_, Option<i64>>("group_id")?.unwrap_or_default()),
                event_type: r.get("event_type")?,
                name: r.get("name")?,
                start_at: qrows::opt_date_time(r, "start_at")?,
                finish_at: qrows::opt_date_time(r, "finish_at")?,
                roles: Vec::new(),
                is_active: r.get("active")?,
                is_qualified: r.get("qualified")?,
            };
            Ok((id, entry))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, mut entry)| {
            entry.roles = qrows::role_types(&role_keys_of(conn, id)?);
            Ok(entry)
        })
        .collect()
}

fn participants(
    conn: &Connection,
    event: EventId,
) -> Result<Vec<QualificationParticipant>, StoreError> {
    let sql = format!(
        "SELECT pa.id AS participation_id, pa.qualified, {} \
         FROM event_participations pa JOIN people p ON p.id = pa.person_id \
         WHERE pa.event_id = ?1 AND pa.active = TRUE \
         ORDER BY p.last_name, p.first_name, p.id",
        person_columns!()
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([event.0], |r| {
            Ok((
                r.get::<_, i64>("participation_id")?,
                r.get::<_, bool>("qualified")?,
                rows::person(r)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, is_qualified, person)| {
            Ok(QualificationParticipant {
                participation_id: ParticipationId(id),
                person,
                roles: qrows::role_types(&role_keys_of(conn, id)?),
                is_qualified,
            })
        })
        .collect()
}

/// Whether `sql` (one `?1` parameter) finds any row.
fn exists(conn: &Connection, sql: &str, id: i64) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached(sql)?.query_row([id], |r| r.get(0))?)
}

impl QualificationRepo for SqliteStore {
    #[tracing::instrument(skip_all)]
    fn event_kind_categories(&self) -> Result<Vec<EventKindCategory>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {CATEGORY_COLUMNS} FROM event_kind_categories c ORDER BY c.ord, c.label, c.id"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_map([], category_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    #[tracing::instrument(skip_all)]
    fn create_event_kind_category(
        &self,
        _permit: &Permit<ManageKinds>,
        patch: &CategoryPatch,
    ) -> Result<EventKindCategory, StoreError> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO event_kind_categories (label, ord) VALUES (?1, ?2)")?
                .execute(params![
                    patch.label.as_deref().unwrap_or_default(),
                    patch.order
                ])?;
            find_category(tx, EventKindCategoryId(tx.last_insert_rowid()))
        })
    }

    #[tracing::instrument(skip_all, fields(event_kind_category.id = %id))]
    fn update_event_kind_category(
        &self,
        _permit: &Permit<ManageKinds>,
        id: EventKindCategoryId,
        patch: &CategoryPatch,
    ) -> Result<EventKindCategory, StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE event_kind_categories SET label = ?2, ord = ?3 WHERE id = ?1",
                )?
                .execute(params![
                    id.0,
                    patch.label.as_deref().unwrap_or_default(),
                    patch.order
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            find_category(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(event_kind_category.id = %id))]
    fn delete_event_kind_category(
        &self,
        _permit: &Permit<ManageKinds>,
        id: EventKindCategoryId,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE event_kinds SET kind_category_id = NULL WHERE kind_category_id = ?1",
            )?
            .execute([id.0])?;
            let gone = tx
                .prepare_cached("DELETE FROM event_kind_categories WHERE id = ?1")?
                .execute([id.0])?;
            if gone == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn qualification_kinds(
        &self,
        with_deleted: bool,
    ) -> Result<Vec<QualificationKind>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {QUALIFICATION_KIND_COLUMNS} FROM qualification_kinds k \
                 WHERE ?1 OR k.deleted_at IS NULL ORDER BY k.label, k.id"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_map([with_deleted], kind_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    #[tracing::instrument(skip_all, fields(qualification_kind.id = %id))]
    fn qualification_kind(
        &self,
        id: QualificationKindId,
    ) -> Result<Option<QualificationKind>, StoreError> {
        self.read(|conn| find_kind(conn, id))
    }

    #[tracing::instrument(skip_all)]
    fn create_qualification_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        patch: &QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<QualificationKind, StoreError> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO qualification_kinds (label, description, validity, reactivateable, \
                 required_training_days, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?
            .execute(params![
                patch.label.as_deref().unwrap_or_default(),
                patch.description,
                patch.validity,
                patch.reactivateable,
                patch.required_training_days,
                Ts(now),
            ])?;
            find_kind(tx, QualificationKindId(tx.last_insert_rowid()))?.ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(qualification_kind.id = %id))]
    fn update_qualification_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        id: QualificationKindId,
        patch: &QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<QualificationKind, StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE qualification_kinds SET label = ?2, description = ?3, validity = ?4, \
                     reactivateable = ?5, required_training_days = ?6, updated_at = ?7 \
                     WHERE id = ?1",
                )?
                .execute(params![
                    id.0,
                    patch.label.as_deref().unwrap_or_default(),
                    patch.description,
                    patch.validity,
                    patch.reactivateable,
                    patch.required_training_days,
                    Ts(now),
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            find_kind(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(qualification_kind.id = %id))]
    fn delete_qualification_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        id: QualificationKindId,
        now: DateTime<Utc>,
    ) -> Result<Removal, StoreError> {
        self.write(|tx| {
            find_kind(tx, id)?.ok_or(StoreError::NotFound)?;
            let in_use = exists(
                tx,
                "SELECT EXISTS (SELECT 1 FROM qualifications WHERE qualification_kind_id = ?1) \
                 OR EXISTS (SELECT 1 FROM event_kind_qualification_kinds \
                            WHERE qualification_kind_id = ?1)",
                id.0,
            )?;
            if in_use {
                tx.prepare_cached("UPDATE qualification_kinds SET deleted_at = ?2 WHERE id = ?1")?
                    .execute(params![id.0, Ts(now)])?;
                Ok(Removal::SoftDeleted)
            } else {
                tx.prepare_cached("DELETE FROM qualification_kinds WHERE id = ?1")?
                    .execute([id.0])?;
                Ok(Removal::Deleted)
            }
        })
    }

    #[tracing::instrument(skip_all)]
    fn event_kinds(&self, with_deleted: bool) -> Result<Vec<EventKind>, StoreError> {
        self.snapshot(|tx| {
            let filter = if with_deleted {
                "TRUE"
            } else {
                "e.deleted_at IS NULL"
            };
            load_event_kinds(tx, filter, None)
        })
    }

    #[tracing::instrument(skip_all, fields(event_kind.id = %id))]
    fn event_kind(&self, id: EventKindId) -> Result<Option<EventKind>, StoreError> {
        self.snapshot(|tx| find_event_kind(tx, id))
    }

    #[tracing::instrument(skip_all)]
    fn create_event_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        patch: &EventKindPatch,
        now: DateTime<Utc>,
    ) -> Result<EventKind, StoreError> {
        self.write(|tx| {
            check_category(tx, patch.kind_category_id)?;
            tx.prepare_cached(
                "INSERT INTO event_kinds (label, short_name, general_information, \
                 application_conditions, minimum_age, kind_category_id, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                patch.label.as_deref().unwrap_or_default(),
                patch.short_name,
                patch.general_information,
                patch.application_conditions,
                patch.minimum_age,
                patch.kind_category_id.map(|c| c.0),
                Ts(now),
            ])?;
            let id = tx.last_insert_rowid();
            write_links(tx, id, patch)?;
            find_event_kind(tx, EventKindId(id))?.ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(event_kind.id = %id))]
    fn update_event_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        id: EventKindId,
        patch: &EventKindPatch,
        now: DateTime<Utc>,
    ) -> Result<EventKind, StoreError> {
        self.write(|tx| {
            check_category(tx, patch.kind_category_id)?;
            let changed = tx
                .prepare_cached(
                    "UPDATE event_kinds SET label = ?2, short_name = ?3, general_information = ?4, \
                     application_conditions = ?5, minimum_age = ?6, kind_category_id = ?7, \
                     updated_at = ?8 WHERE id = ?1",
                )?
                .execute(params![
                    id.0,
                    patch.label.as_deref().unwrap_or_default(),
                    patch.short_name,
                    patch.general_information,
                    patch.application_conditions,
                    patch.minimum_age,
                    patch.kind_category_id.map(|c| c.0),
                    Ts(now),
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            write_links(tx, id.0, patch)?;
            find_event_kind(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(event_kind.id = %id))]
    fn delete_event_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        id: EventKindId,
        now: DateTime<Utc>,
    ) -> Result<Removal, StoreError> {
        self.write(|tx| {
            find_event_kind(tx, id)?.ok_or(StoreError::NotFound)?;
            if exists(
                tx,
                "SELECT EXISTS (SELECT 1 FROM events WHERE kind_id = ?1)",
                id.0,
            )? {
                tx.prepare_cached("UPDATE event_kinds SET deleted_at = ?2 WHERE id = ?1")?
                    .execute(params![id.0, Ts(now)])?;
                Ok(Removal::SoftDeleted)
            } else {
                tx.prepare_cached("DELETE FROM event_kinds WHERE id = ?1")?
                    .execute([id.0])?;
                Ok(Removal::Deleted)
            }
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %person))]
    fn qualifications_of_person(&self, person: PersonId) -> Result<Vec<Qualification>, StoreError> {
        self.read(|conn| held(conn, person))
    }

    #[tracing::instrument(skip_all, fields(person.id = %person))]
    fn event_history(&self, person: PersonId) -> Result<Vec<EventHistoryEntry>, StoreError> {
        self.snapshot(|tx| history(tx, person))
    }

    #[tracing::instrument(skip_all, fields(event.id = %event))]
    fn qualification_participants(
        &self,
        event: EventId,
    ) -> Result<Vec<QualificationParticipant>, StoreError> {
        self.snapshot(|tx| participants(tx, event))
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().event_id))]
    fn qualify(
        &self,
        permit: &Permit<QualifyParticipation>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Qualification>, StoreError> {
        self.write(|tx| qualify(tx, permit, now))
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().event_id))]
    fn revoke_qualification(
        &self,
        permit: &Permit<QualifyParticipation>,
    ) -> Result<u64, StoreError> {
        self.write(|tx| revoke(tx, permit))
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn add_qualification(
        &self,
        permit: &Permit<ManageQualifications>,
        kind: QualificationKindId,
        start_at: NaiveDate,
        origin: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Qualification, StoreError> {
        self.write(|tx| {
            let k = find_kind(tx, kind)?.ok_or(StoreError::NotFound)?;
            let new = NewQualification {
                person_id: permit.target().0,
                qualification_kind_id: kind,
                start_at,
                finish_at: finish_date(start_at, k.validity),
                qualified_at: Some(start_at),
                origin: origin.map(str::to_owned),
                event_id: None,
            };
            insert_qualification(tx, &new, now)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn remove_qualification(
        &self,
        permit: &Permit<ManageQualifications>,
        id: QualificationId,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let gone = tx
                .prepare_cached("DELETE FROM qualifications WHERE id = ?1 AND person_id = ?2")?
                .execute([id.0, permit.target().0.0])?;
            if gone == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }
}
