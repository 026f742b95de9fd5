//! [`ParticipantExportRepo`] on sqlite: an event's participants a page at
//! a time, with their people, event roles and answers.
//!
//! Five statements a page in one snapshot: the count, the page of
//! participations, and the people, roles and answers of that page by id
//! list, so that a page of any length costs the same.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::{SqliteStore, id_list, rows};
use crate::event::participation::{Answer, Participation};
use crate::export::participants::ExportedParticipant;
use crate::id::{EventId, ParticipationId, PersonId, QuestionId};
use crate::person::Person;
use crate::store::participation_row::{self as prow, PARTICIPATION_COLUMNS};
use crate::store::sql::page_offset;
use crate::store::{Page, ParticipantExportRepo, StoreError};

fn count(c: &Connection, event: EventId, active: bool) -> Result<u64, StoreError> {
    let n: i64 = c
        .prepare_cached(
            "SELECT COUNT(*) FROM event_participations WHERE event_id = ?1 AND active = ?2",
        )?
        .query_row(params![event.0, active], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn participations(
    c: &Connection,
    event: EventId,
    active: bool,
    page: u32,
    per_page: u32,
) -> Result<Vec<Participation>, StoreError> {
    let sql = format!(
        "SELECT {PARTICIPATION_COLUMNS} FROM event_participations pa \
         JOIN people p ON p.id = pa.person_id \
         WHERE pa.event_id = ?1 AND pa.active = ?2 \
         ORDER BY hit_fold(p.last_name), hit_fold(p.first_name), pa.id LIMIT ?3 OFFSET ?4"
    );
    let rows = c
        .prepare_cached(&sql)?
        .query_map(
            params![event.0, active, per_page, page_offset(page, per_page)],
            |r| prow::participation(r),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn people(c: &Connection, ids: &[PersonId]) -> Result<HashMap<PersonId, Person>, StoreError> {
    let sql = concat!(
        "SELECT ",
        person_columns!(),
        " FROM people p WHERE p.id IN (SELECT value FROM json_each(?1))"
    );
    let people = c
        .prepare_cached(sql)?
        .query_map([id_list(ids.iter().map(|i| i.0))], rows::person)?
        .map(|p| p.map(|p| (p.id, p)))
        .collect::<rusqlite::Result<_>>()?;
    Ok(people)
}

fn roles(c: &Connection, ids: &str, page: &mut [Participation]) -> Result<(), StoreError> {
    let roles = c
        .prepare_cached(
            "SELECT r.id, r.participation_id, r.role_type, r.label FROM event_roles r \
             WHERE r.participation_id IN (SELECT value FROM json_each(?1)) ORDER BY r.id",
        )?
        .query_map([ids], |r| prow::event_role(r))?
        .collect::<rusqlite::Result<_>>()?;
    prow::attach_roles(page, roles);
    Ok(())
}

fn answers(c: &Connection, ids: &str) -> Result<HashMap<ParticipationId, Vec<Answer>>, StoreError> {
    let mut out: HashMap<ParticipationId, Vec<Answer>> = HashMap::new();
    let mut stmt = c.prepare_cached(
        "SELECT a.participation_id, a.question_id, a.answer FROM event_answers a \
         WHERE a.participation_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY a.participation_id, a.question_id",
    )?;
    let rows = stmt.query_map([ids], |r| {
        Ok((
            ParticipationId(r.get(0)?),
            Answer {
                question_id: QuestionId(r.get(1)?),
                answer: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (id, answer) = row?;
        out.entry(id).or_default().push(answer);
    }
    Ok(out)
}

impl ParticipantExportRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(event.id = %event, page = page))]
    fn participants_for_export(
        &self,
        event: EventId,
        active: bool,
        page: u32,
        per_page: u32,
    ) -> Result<Page<ExportedParticipant>, StoreError> {
        self.snapshot(|tx| {
            let total = count(tx, event, active)?;
            let mut page_of = participations(tx, event, active, page, per_page)?;
            let ids = id_list(page_of.iter().map(|p| p.id.0));
            roles(tx, &ids, &mut page_of)?;
            let mut answers = answers(tx, &ids)?;
            let person_ids: Vec<PersonId> = page_of.iter().map(|p| p.person_id).collect();
            let mut people = people(tx, &person_ids)?;
            let items = page_of
                .into_iter()
                .filter_map(|participation| {
                    // The person cannot be gone inside this snapshot (the
                    // participation cascades with them).
                    let person = people.remove(&participation.person_id)?;
                    Some(ExportedParticipant {
                        person,
                        answers: answers.remove(&participation.id).unwrap_or_default(),
                        participation,
                    })
                })
                .collect();
            Ok(Page {
                items,
                total,
                page,
                per_page,
            })
        })
    }
}
