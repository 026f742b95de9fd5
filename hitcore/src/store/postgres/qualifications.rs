//! [`QualificationRepo`] on postgres: event kinds, their categories,
//! qualification kinds and qualifications.
//!
//! The statements are those of the SQLite store side by side, with `$n`
//! parameters and INTEGER and REAL columns written as `i32` and `f32`.
//! Qualifying reads the participation store's tables and writes one
//! column of them, `event_participations.qualified`, in the transaction
//! that issues the qualifications.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use postgres::{GenericClient, Row};

use super::{PostgresStore, query_all, query_opt};
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
use crate::store::row;
use crate::store::sql::{date_text, timestamp_text};
use crate::store::{QualificationRepo, StoreError};

/// An INTEGER column's value.
fn int4(v: Option<u32>) -> Option<i32> {
    v.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

/// A REAL column's value (4 bytes; training days need no more).
#[expect(
    clippy::cast_possible_truncation,
    reason = "PostgreSQL's REAL is a 4-byte float"
)]
fn float4(v: Option<f64>) -> Option<f32> {
    v.map(|d| d as f32)
}

fn find_category(
    c: &mut impl GenericClient,
    id: EventKindCategoryId,
) -> Result<EventKindCategory, StoreError> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM event_kind_categories c WHERE c.id = $1");
    query_opt(c, &sql, &[&id.0], qrows::category)?.ok_or(StoreError::NotFound)
}

fn find_kind(
    c: &mut impl GenericClient,
    id: QualificationKindId,
) -> Result<Option<QualificationKind>, StoreError> {
    let sql =
        format!("SELECT {QUALIFICATION_KIND_COLUMNS} FROM qualification_kinds k WHERE k.id = $1");
    query_opt(c, &sql, &[&id.0], qrows::qualification_kind)
}

/// Event kinds, all or the one with `id`, with their links, by label.
fn load_event_kinds(
    c: &mut impl GenericClient,
    with_deleted: bool,
    id: Option<i64>,
) -> Result<Vec<EventKind>, StoreError> {
    let filter = "($1 OR e.deleted_at IS NULL) AND ($2::bigint IS NULL OR e.id = $2)";
    let sql = format!(
        "SELECT {EVENT_KIND_COLUMNS} FROM event_kinds e WHERE {filter} ORDER BY e.label, e.id"
    );
    let mut kinds = query_all(c, &sql, &[&with_deleted, &id], qrows::event_kind)?;
    let sql = format!(
        "SELECT {LINK_COLUMNS} FROM event_kind_qualification_kinds l \
         JOIN event_kinds e ON e.id = l.event_kind_id WHERE {filter} \
         ORDER BY l.qualification_kind_id, l.category, l.role"
    );
    let links = query_all(c, &sql, &[&with_deleted, &id], qrows::link)?;
    qrows::attach_links(&mut kinds, links);
    Ok(kinds)
}

fn find_event_kind(
    c: &mut impl GenericClient,
    id: EventKindId,
) -> Result<Option<EventKind>, StoreError> {
    Ok(load_event_kinds(c, true, Some(id.0))?.pop())
}

fn write_links(
    c: &mut impl GenericClient,
    id: i64,
    patch: &EventKindPatch,
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM event_kind_qualification_kinds WHERE event_kind_id = $1",
        &[&id],
    )?;
    for l in &patch.qualifications {
        if find_kind(c, l.qualification_kind_id)?.is_none() {
            return Err(StoreError::NotFound);
        }
        c.execute(
            "INSERT INTO event_kind_qualification_kinds \
             (event_kind_id, qualification_kind_id, category, role, grouping_number, validity) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &id,
                &l.qualification_kind_id.0,
                &l.category.as_str(),
                &l.role.as_str(),
                &int4(l.grouping),
                &l.validity.as_str(),
            ],
        )?;
    }
    Ok(())
}

fn check_category(
    c: &mut impl GenericClient,
    id: Option<EventKindCategoryId>,
) -> Result<(), StoreError> {
    match id {
        Some(id) => find_category(c, id).map(|_| ()),
        None => Ok(()),
    }
}

fn role_keys_of(c: &mut impl GenericClient, participation: i64) -> Result<Vec<String>, StoreError> {
    query_all(
        c,
        "SELECT role_type FROM event_roles WHERE participation_id = $1",
        &[&participation],
        |r| Ok(r.try_get(0)?),
    )
}

/// The participation named by the permit: its person and role keys.
fn permitted_participation(
    c: &mut impl GenericClient,
    permit: &Permit<QualifyParticipation>,
) -> Result<(PersonId, Vec<String>), StoreError> {
    let target = permit.target();
    let person: i64 = query_opt(
        c,
        "SELECT person_id FROM event_participations WHERE id = $1 AND event_id = $2",
        &[&target.participation_id.0, &target.event_id.0],
        |r| Ok(r.try_get(0)?),
    )?
    .ok_or(StoreError::NotFound)?;
    let roles = role_keys_of(c, target.participation_id.0)?;
    Ok((PersonId(person), roles))
}

/// What the rules need of the course: name, kind, training days, dates.
struct Course {
    name: String,
    kind_id: Option<i64>,
    training_days: Option<f64>,
    dates: Vec<EventDate>,
}

fn course(c: &mut impl GenericClient, id: EventId) -> Result<Course, StoreError> {
    let (name, kind_id, training_days) = query_opt(
        c,
        "SELECT name, kind_id, CAST(training_days AS DOUBLE PRECISION) AS training_days \
         FROM events WHERE id = $1",
        &[&id.0],
        |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
    )?
    .ok_or(StoreError::NotFound)?;
    let rows = query_all(
        c,
        "SELECT id, start_at, finish_at FROM event_dates WHERE event_id = $1",
        &[&id.0],
        |r| {
            Ok((
                r.try_get::<_, i64>(0)?,
                r.try_get::<_, String>(1)?,
                r.try_get::<_, Option<String>>(2)?,
            ))
        },
    )?;
    let parse = |t: &str| NaiveDateTime::parse_from_str(t, DATE_TIME_FORMAT).ok();
    let dates = rows
        .into_iter()
        .filter_map(|(id, start, finish)| {
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

fn held(c: &mut impl GenericClient, person: PersonId) -> Result<Vec<Qualification>, StoreError> {
    let sql = format!(
        "SELECT {QUALIFICATION_COLUMNS} FROM qualifications q WHERE q.person_id = $1 \
         ORDER BY q.start_at DESC, q.id DESC"
    );
    query_all(c, &sql, &[&person.0], qrows::qualification)
}

/// As the SQLite store's: the person's other qualified participations in
/// courses whose kind issues or prolongs a qualification kind.
const TRAINING_SQL: &str = "SELECT DISTINCT l.qualification_kind_id AS kind_id, e.id AS event_id, \
     CAST(e.training_days AS DOUBLE PRECISION) AS days, \
     (SELECT COALESCE(d.finish_at, d.start_at) FROM event_dates d WHERE d.event_id = e.id \
      ORDER BY d.start_at DESC, d.id DESC LIMIT 1) AS last_date \
     FROM event_participations p \
     JOIN events e ON e.id = p.event_id \
     JOIN event_kind_qualification_kinds l ON l.event_kind_id = e.kind_id \
      AND l.category IN ('qualification', 'prolongation') \
     WHERE p.person_id = $1 AND p.qualified = TRUE AND p.event_id <> $2";

fn earlier_training(
    c: &mut impl GenericClient,
    person: PersonId,
    event: EventId,
) -> Result<Vec<TrainingCourse>, StoreError> {
    let rows = query_all(c, TRAINING_SQL, &[&person.0, &event.0], |r| {
        Ok((
            r.try_get::<_, i64>("kind_id")?,
            r.try_get::<_, Option<f64>>("days")?,
            r.try_get::<_, Option<String>>("last_date")?,
        ))
    })?;
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
    c: &mut impl GenericClient,
    q: &NewQualification,
    now: DateTime<Utc>,
) -> Result<Qualification, StoreError> {
    let id: i64 = c
        .query_one(
            "INSERT INTO qualifications (person_id, qualification_kind_id, start_at, finish_at, \
             qualified_at, origin, event_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &q.person_id.0,
                &q.qualification_kind_id.0,
                &date_text(q.start_at),
                &q.finish_at.map(date_text),
                &q.qualified_at.map(date_text),
                &q.origin,
                &q.event_id.map(|e| e.0),
                &timestamp_text(now),
            ],
        )
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                field: "start_at".to_owned(),
            },
            other => other,
        })?
        .try_get(0)?;
    Ok(Qualification {
        id: QualificationId(id),
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
    c: &mut impl GenericClient,
    id: ParticipationId,
    qualified: bool,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE event_participations SET qualified = $2 WHERE id = $1",
        &[&id.0, &qualified],
    )?;
    Ok(())
}

fn qualify(
    c: &mut impl GenericClient,
    permit: &Permit<QualifyParticipation>,
    now: DateTime<Utc>,
) -> Result<Vec<Qualification>, StoreError> {
    let target = *permit.target();
    let (person, role_keys) = permitted_participation(c, permit)?;
    let course = course(c, target.event_id)?;
    let kind_id = course
        .kind_id
        .ok_or_else(|| StoreError::Rule("the event has no kind".to_owned()))?;
    let kind = find_event_kind(c, EventKindId(kind_id))?.ok_or(StoreError::NotFound)?;
    let (Some(date), Some(start)) = (
        qualification_date(&course.dates),
        course_start(&course.dates),
    ) else {
        return Err(StoreError::Rule("the event has no dates".to_owned()));
    };
    let mut kinds = Vec::new();
    for l in &kind.qualifications {
        kinds.extend(find_kind(c, l.qualification_kind_id)?);
    }
    let held = held(c, person)?;
    let earlier = earlier_training(c, person, target.event_id)?;
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
        .map(|q| insert_qualification(c, q, now))
        .collect::<Result<Vec<_>, _>>()?;
    set_qualified(c, target.participation_id, true)?;
    Ok(issued)
}

fn revoke(
    c: &mut impl GenericClient,
    permit: &Permit<QualifyParticipation>,
) -> Result<u64, StoreError> {
    let target = *permit.target();
    let (person, _) = permitted_participation(c, permit)?;
    let course = course(c, target.event_id)?;
    let mut removed = 0;
    if let Some(date) = qualification_date(&course.dates) {
        for id in issued_by(&held(c, person)?, target.event_id, date) {
            removed += c.execute("DELETE FROM qualifications WHERE id = $1", &[&id.0])?;
        }
    }
    set_qualified(c, target.participation_id, false)?;
    Ok(removed)
}

/// As the SQLite store's history rows.
const HISTORY_SQL: &str = "SELECT p.id, p.event_id, e.event_type, e.name, p.active, p.qualified, \
     (SELECT g.group_id FROM events_groups g JOIN groups gr ON gr.id = g.group_id \
      WHERE g.event_id = e.id ORDER BY gr.deleted_at IS NOT NULL, g.group_id LIMIT 1) AS group_id, \
     (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id) AS start_at, \
     (SELECT MAX(COALESCE(d.finish_at, d.start_at)) FROM event_dates d WHERE d.event_id = e.id) \
       AS finish_at \
     FROM event_participations p JOIN events e ON e.id = p.event_id \
     WHERE p.person_id = $1 ORDER BY start_at DESC NULLS LAST, p.id DESC";

fn history(
    c: &mut impl GenericClient,
    person: PersonId,
) -> Result<Vec<EventHistoryEntry>, StoreError> {
    let rows = query_all(c, HISTORY_SQL, &[&person.0], |r: &Row| {
        let id: i64 = r.try_get("id")?;
        let entry = EventHistoryEntry {
            event_id: EventId(r.try_get("event_id")?),
            group_id: GroupId(r.try_get::<_, Option<i64>>("group_id")?.unwrap_or_default()),
            event_type: r.try_get("event_type")?,
            name: r.try_get("name")?,
            start_at: qrows::opt_date_time(r, "start_at")?,
            finish_at: qrows::opt_date_time(r, "finish_at")?,
            roles: Vec::new(),
            is_active: r.try_get("active")?,
            is_qualified: r.try_get("qualified")?,
        };
        Ok((id, entry))
    })?;
    rows.into_iter()
        .map(|(id, mut entry)| {
            entry.roles = qrows::role_types(&role_keys_of(c, id)?);
            Ok(entry)
        })
        .collect()
}

fn participants(
    c: &mut impl GenericClient,
    event: EventId,
) -> Result<Vec<QualificationParticipant>, StoreError> {
    let sql = format!(
        "SELECT pa.id AS participation_id, pa.qualified, {} \
         FROM event_participations pa JOIN people p ON p.id = pa.person_id \
         WHERE pa.event_id = $1 AND pa.active = TRUE \
         ORDER BY p.last_name, p.first_name, p.id",
        person_columns!()
    );
    let rows = query_all(c, &sql, &[&event.0], |r: &Row| {
        Ok((
            r.try_get::<_, i64>("participation_id")?,
            r.try_get::<_, bool>("qualified")?,
            row::person(r)?,
        ))
    })?;
    rows.into_iter()
        .map(|(id, is_qualified, person)| {
            Ok(QualificationParticipant {
                participation_id: ParticipationId(id),
                person,
                roles: qrows::role_types(&role_keys_of(c, id)?),
                is_qualified,
            })
        })
        .collect()
}

fn exists(c: &mut impl GenericClient, sql: &str, id: i64) -> Result<bool, StoreError> {
    Ok(c.query_one(sql, &[&id])?.try_get(0)?)
}

impl QualificationRepo for PostgresStore {
    #[tracing::instrument(skip_all)]
    fn event_kind_categories(&self) -> Result<Vec<EventKindCategory>, StoreError> {
        self.read(|c| {
            let sql = format!(
                "SELECT {CATEGORY_COLUMNS} FROM event_kind_categories c \
                 ORDER BY c.ord, c.label, c.id"
            );
            query_all(c, &sql, &[], qrows::category)
        })
    }

    #[tracing::instrument(skip_all)]
    fn create_event_kind_category(
        &self,
        _permit: &Permit<ManageKinds>,
        patch: &CategoryPatch,
    ) -> Result<EventKindCategory, StoreError> {
        self.write(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO event_kind_categories (label, ord) VALUES ($1, $2) RETURNING id",
                    &[&patch.label.as_deref().unwrap_or_default(), &patch.order],
                )?
                .try_get(0)?;
            find_category(tx, EventKindCategoryId(id))
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
            let changed = tx.execute(
                "UPDATE event_kind_categories SET label = $2, ord = $3 WHERE id = $1",
                &[
                    &id.0,
                    &patch.label.as_deref().unwrap_or_default(),
                    &patch.order,
                ],
            )?;
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
            tx.execute(
                "UPDATE event_kinds SET kind_category_id = NULL WHERE kind_category_id = $1",
                &[&id.0],
            )?;
            let gone = tx.execute("DELETE FROM event_kind_categories WHERE id = $1", &[&id.0])?;
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
        self.read(|c| {
            let sql = format!(
                "SELECT {QUALIFICATION_KIND_COLUMNS} FROM qualification_kinds k \
                 WHERE $1 OR k.deleted_at IS NULL ORDER BY k.label, k.id"
            );
            query_all(c, &sql, &[&with_deleted], qrows::qualification_kind)
        })
    }

    #[tracing::instrument(skip_all, fields(qualification_kind.id = %id))]
    fn qualification_kind(
        &self,
        id: QualificationKindId,
    ) -> Result<Option<QualificationKind>, StoreError> {
        self.read(|c| find_kind(c, id))
    }

    #[tracing::instrument(skip_all)]
    fn create_qualification_kind(
        &self,
        _permit: &Permit<ManageKinds>,
        patch: &QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<QualificationKind, StoreError> {
        self.write(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO qualification_kinds (label, description, validity, \
                     reactivateable, required_training_days, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                    &[
                        &patch.label.as_deref().unwrap_or_default(),
                        &patch.description,
                        &int4(patch.validity),
                        &int4(patch.reactivateable),
                        &float4(patch.required_training_days),
                        &timestamp_text(now),
                    ],
                )?
                .try_get(0)?;
            find_kind(tx, QualificationKindId(id))?.ok_or(StoreError::NotFound)
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
            let changed = tx.execute(
                "UPDATE qualification_kinds SET label = $2, description = $3, validity = $4, \
                 reactivateable = $5, required_training_days = $6, updated_at = $7 \
                 WHERE id = $1",
                &[
                    &id.0,
                    &patch.label.as_deref().unwrap_or_default(),
                    &patch.description,
                    &int4(patch.validity),
                    &int4(patch.reactivateable),
                    &float4(patch.required_training_days),
                    &timestamp_text(now),
                ],
            )?;
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
                "SELECT EXISTS (SELECT 1 FROM qualifications WHERE qualification_kind_id = $1) \
                 OR EXISTS (SELECT 1 FROM event_kind_qualification_kinds \
                            WHERE qualification_kind_id = $1)",
                id.0,
            )?;
            if in_use {
                tx.execute(
                    "UPDATE qualification_kinds SET deleted_at = $2 WHERE id = $1",
                    &[&id.0, &timestamp_text(now)],
                )?;
                Ok(Removal::SoftDeleted)
            } else {
                tx.execute("DELETE FROM qualification_kinds WHERE id = $1", &[&id.0])?;
                Ok(Removal::Deleted)
            }
        })
    }

    #[tracing::instrument(skip_all)]
    fn event_kinds(&self, with_deleted: bool) -> Result<Vec<EventKind>, StoreError> {
        self.snapshot(|tx| load_event_kinds(tx, with_deleted, None))
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
            let id: i64 = tx
                .query_one(
                    "INSERT INTO event_kinds (label, short_name, general_information, \
                     application_conditions, minimum_age, kind_category_id, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    &[
                        &patch.label.as_deref().unwrap_or_default(),
                        &patch.short_name,
                        &patch.general_information,
                        &patch.application_conditions,
                        &int4(patch.minimum_age),
                        &patch.kind_category_id.map(|c| c.0),
                        &timestamp_text(now),
                    ],
                )?
                .try_get(0)?;
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
            let changed = tx.execute(
                "UPDATE event_kinds SET label = $2, short_name = $3, general_information = $4, \
                 application_conditions = $5, minimum_age = $6, kind_category_id = $7, \
                 updated_at = $8 WHERE id = $1",
                &[
                    &id.0,
                    &patch.label.as_deref().unwrap_or_default(),
                    &patch.short_name,
                    &patch.general_information,
                    &patch.application_conditions,
                    &int4(patch.minimum_age),
                    &patch.kind_category_id.map(|c| c.0),
                    &timestamp_text(now),
                ],
            )?;
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
                "SELECT EXISTS (SELECT 1 FROM events WHERE kind_id = $1)",
                id.0,
            )? {
                tx.execute(
                    "UPDATE event_kinds SET deleted_at = $2 WHERE id = $1",
                    &[&id.0, &timestamp_text(now)],
                )?;
                Ok(Removal::SoftDeleted)
            } else {
                tx.execute("DELETE FROM event_kinds WHERE id = $1", &[&id.0])?;
                Ok(Removal::Deleted)
            }
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %person))]
    fn qualifications_of_person(&self, person: PersonId) -> Result<Vec<Qualification>, StoreError> {
        self.read(|c| held(c, person))
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
            let gone = tx.execute(
                "DELETE FROM qualifications WHERE id = $1 AND person_id = $2",
                &[&id.0, &permit.target().0.0],
            )?;
            if gone == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }
}
