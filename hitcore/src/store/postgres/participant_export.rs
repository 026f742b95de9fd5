//! [`ParticipantExportRepo`] on postgres: the statements of the SQLite
//! store side by side, with `= ANY($1)` for the id lists.

use std::collections::HashMap;

use postgres::GenericClient;

use super::{PostgresStore, query_all, query_count};
use crate::event::participation::{Answer, Participation};
use crate::export::participants::ExportedParticipant;
use crate::id::{EventId, ParticipationId, PersonId, QuestionId};
use crate::person::Person;
use crate::store::participation_row::{self as prow, PARTICIPATION_COLUMNS};
use crate::store::sql::page_offset;
use crate::store::{Page, ParticipantExportRepo, StoreError, row};

fn participations(
    c: &mut impl GenericClient,
    event: EventId,
    active: bool,
    page: u32,
    per_page: u32,
) -> Result<Vec<Participation>, StoreError> {
    let sql = format!(
        "SELECT {PARTICIPATION_COLUMNS} FROM event_participations pa \
         JOIN people p ON p.id = pa.person_id \
         WHERE pa.event_id = $1 AND pa.active = $2 \
         ORDER BY hit_fold(p.last_name), hit_fold(p.first_name), pa.id LIMIT $3 OFFSET $4"
    );
    query_all(
        c,
        &sql,
        &[
            &event.0,
            &active,
            &i64::from(per_page),
            &page_offset(page, per_page),
        ],
        prow::participation,
    )
}

fn people(
    c: &mut impl GenericClient,
    ids: &[PersonId],
) -> Result<HashMap<PersonId, Person>, StoreError> {
    let sql = concat!(
        "SELECT ",
        person_columns!(),
        " FROM people p WHERE p.id = ANY($1::bigint[])"
    );
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let people = query_all(c, sql, &[&ids], row::person)?;
    Ok(people.into_iter().map(|p| (p.id, p)).collect())
}

fn roles(
    c: &mut impl GenericClient,
    ids: &[i64],
    page: &mut [Participation],
) -> Result<(), StoreError> {
    let roles = query_all(
        c,
        "SELECT r.id, r.participation_id, r.role_type, r.label FROM event_roles r \
         WHERE r.participation_id = ANY($1) ORDER BY r.id",
        &[&ids],
        prow::event_role,
    )?;
    prow::attach_roles(page, roles);
    Ok(())
}

fn answers(
    c: &mut impl GenericClient,
    ids: &[i64],
) -> Result<HashMap<ParticipationId, Vec<Answer>>, StoreError> {
    let rows = query_all(
        c,
        "SELECT a.participation_id, a.question_id, a.answer FROM event_answers a \
         WHERE a.participation_id = ANY($1) ORDER BY a.participation_id, a.question_id",
        &[&ids],
        |r| {
            Ok((
                ParticipationId(r.try_get(0)?),
                Answer {
                    question_id: QuestionId(r.try_get(1)?),
                    answer: r.try_get(2)?,
                },
            ))
        },
    )?;
    let mut out: HashMap<ParticipationId, Vec<Answer>> = HashMap::new();
    for (id, answer) in rows {
        out.entry(id).or_default().push(answer);
    }
    Ok(out)
}

impl ParticipantExportRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(event.id = %event, page = page))]
    fn participants_for_export(
        &self,
        event: EventId,
        active: bool,
        page: u32,
        per_page: u32,
    ) -> Result<Page<ExportedParticipant>, StoreError> {
        self.snapshot(|tx| {
            let total = query_count(
                tx,
                "SELECT COUNT(*) FROM event_participations WHERE event_id = $1 AND active = $2",
                &[&event.0, &active],
            )?;
            let mut page_of = participations(tx, event, active, page, per_page)?;
            let ids: Vec<i64> = page_of.iter().map(|p| p.id.0).collect();
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
