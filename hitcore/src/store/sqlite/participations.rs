//! [`ParticipationRepo`] on sqlite: participations, event roles, answers
//! and applications, with the counters of 5.3 recomputed in the
//! transaction of every change.
//!
//! The rules come from `crate::event::application`; this module only
//! reads what they need inside the write transaction and applies the
//! outcome, so a full course cannot be overbooked by two requests at once
//! (SQLite lets one writer in at a time).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::jobs::enqueue_in;
use super::{Day, SqliteStore, Ts, id_list, rule};
use crate::ability::{
    ApproveApplication, CreateEventRole, CreateParticipation, DestroyEventRole,
    DestroyParticipation, Permit, UseApplicationMarket,
};
use crate::event::Event;
use crate::event::application::{self, MarketFilter, MarketRefusal, WAITING_LIST_COMMENT};
use crate::event::participation::{
    Answer, EventRole, EventRoleType, Market, MarketApplication, NewParticipation, Participation,
    ParticipationEntry, PersonParticipation,
};
use crate::id::{
    ApplicationId, EventId, EventRoleId, GroupId, ParticipationId, PersonId, QuestionId,
};
use crate::jobs::NewJob;
use crate::store::participation_row::{
    self as prow, APPLICATION_COLUMNS, EVENT_COLUMNS, NAME_COLUMNS, PARTICIPATION_COLUMNS,
};
use crate::store::{ParticipationRepo, StoreError};

fn event_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    prow::event(r)
}

fn participation_row(r: &Row<'_>) -> rusqlite::Result<Participation> {
    prow::participation(r)
}

fn entry_row(r: &Row<'_>) -> rusqlite::Result<ParticipationEntry> {
    Ok(ParticipationEntry {
        participation: prow::participation(r)?,
        person_name: prow::name(r)?,
        application: prow::application(r)?,
    })
}

fn role_row(r: &Row<'_>) -> rusqlite::Result<(ParticipationId, EventRole)> {
    prow::event_role(r)
}

fn load_event(c: &Connection, id: EventId) -> Result<Event, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = ?1");
    c.prepare_cached(&sql)?
        .query_row([id.0], event_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

fn roles_of(
    c: &Connection,
    ids: &[ParticipationId],
) -> Result<Vec<(ParticipationId, EventRole)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT r.id, r.participation_id, r.role_type, r.label FROM event_roles r \
         WHERE r.participation_id IN (SELECT value FROM json_each(?1)) ORDER BY r.id",
    )?;
    let rows = stmt.query_map([id_list(ids.iter().map(|p| p.0))], role_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn with_roles(
    c: &Connection,
    mut ps: Vec<Participation>,
) -> Result<Vec<Participation>, StoreError> {
    let ids: Vec<ParticipationId> = ps.iter().map(|p| p.id).collect();
    prow::attach_roles(&mut ps, roles_of(c, &ids)?);
    Ok(ps)
}

fn entries_with_roles(
    c: &Connection,
    mut es: Vec<ParticipationEntry>,
) -> Result<Vec<ParticipationEntry>, StoreError> {
    let ids: Vec<ParticipationId> = es.iter().map(|e| e.participation.id).collect();
    let roles = roles_of(c, &ids)?;
    for e in &mut es {
        let id = e.participation.id;
        let own = roles.iter().filter(|(p, _)| *p == id).cloned().collect();
        prow::attach_roles(std::slice::from_mut(&mut e.participation), own);
    }
    Ok(es)
}

fn load_participation(c: &Connection, id: ParticipationId) -> Result<Participation, StoreError> {
    let sql =
        format!("SELECT {PARTICIPATION_COLUMNS} FROM event_participations pa WHERE pa.id = ?1");
    let p = c
        .prepare_cached(&sql)?
        .query_row([id.0], participation_row)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok(with_roles(c, vec![p])?.remove(0))
}

fn entries_sql(condition: &str) -> String {
    format!(
        "SELECT {PARTICIPATION_COLUMNS}, {NAME_COLUMNS}, {APPLICATION_COLUMNS} \
         FROM event_participations pa JOIN people p ON p.id = pa.person_id \
         LEFT JOIN event_applications a ON a.id = pa.application_id \
         WHERE {condition} ORDER BY hit_fold(p.last_name), hit_fold(p.first_name), pa.id"
    )
}

/// Recomputes the counters of 5.3 from the event's participations.
fn refresh_counts(c: &Connection, event: EventId) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {PARTICIPATION_COLUMNS} FROM event_participations pa WHERE pa.event_id = ?1"
    );
    let ps = c
        .prepare_cached(&sql)?
        .query_map([event.0], participation_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let counts = application::counts(&with_roles(c, ps)?);
    c.prepare_cached(
        "UPDATE events SET participant_count = ?2, teamer_count = ?3, applicant_count = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![
        event.0,
        counts.participant_count,
        counts.teamer_count,
        counts.applicant_count
    ])?;
    Ok(())
}

fn insert_role(
    c: &Connection,
    participation: ParticipationId,
    role_type: EventRoleType,
    label: Option<&str>,
) -> Result<EventRoleId, StoreError> {
    c.prepare_cached(
        "INSERT INTO event_roles (participation_id, role_type, label) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![participation.0, role_type.key(), label])
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "role_type".to_owned(),
        },
        other => other,
    })?;
    Ok(EventRoleId(c.last_insert_rowid()))
}

/// Whether application `app`, whose participation is now in `current`,
/// is one the market of `event` may assign: `event` is one of its
/// priorities, or it waits for a place in any course of the same kind.
fn applies_for(
    c: &Connection,
    app: ApplicationId,
    current: EventId,
    event: EventId,
) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM event_applications a \
         JOIN events ce ON ce.id = ?2 JOIN events me ON me.id = ?3 \
         WHERE a.id = ?1 AND (?3 IN (a.priority_1_id, a.priority_2_id, a.priority_3_id) \
           OR (a.waiting_list AND ce.kind_id = me.kind_id)))",
    )?
    .query_row(params![app.0, current.0, event.0], |r| r.get(0))?)
}

/// Whether the person has a participation in `event` other than `except`.
fn has_other_participation(
    c: &Connection,
    event: EventId,
    person: PersonId,
    except: Option<ParticipationId>,
) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM event_participations \
         WHERE event_id = ?1 AND person_id = ?2 AND id IS NOT ?3)",
    )?
    .query_row(params![event.0, person.0, except.map(|p| p.0)], |r| {
        r.get(0)
    })?)
}

fn insert_answers(
    c: &Connection,
    participation: ParticipationId,
    event: EventId,
    answers: &[Answer],
) -> Result<(), StoreError> {
    let questions: Vec<i64> = c
        .prepare_cached("SELECT id FROM event_questions WHERE event_id = ?1 ORDER BY ord, id")?
        .query_map([event.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut insert = c.prepare_cached(
        "INSERT INTO event_answers (participation_id, question_id, answer) VALUES (?1, ?2, ?3)",
    )?;
    for q in questions {
        let answer = answers
            .iter()
            .find(|a| a.question_id == QuestionId(q))
            .and_then(|a| a.answer.as_deref());
        insert.execute(params![participation.0, q, answer])?;
    }
    Ok(())
}

/// Moves a participation to `to` (5.4, 6): answers follow questions of
/// the same text, answers to questions `to` does not ask are dropped, and
/// `to`'s other questions get empty answers.
fn move_participation(
    c: &Connection,
    p: &Participation,
    to: EventId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if p.event_id == to {
        return Ok(());
    }
    c.prepare_cached(
        "UPDATE event_answers SET question_id = ( \
             SELECT q2.id FROM event_questions q1 JOIN event_questions q2 \
             ON q2.question = q1.question AND q2.event_id = ?2 \
             WHERE q1.id = event_answers.question_id ORDER BY q2.ord, q2.id LIMIT 1) \
         WHERE participation_id = ?1 AND EXISTS ( \
             SELECT 1 FROM event_questions q1 JOIN event_questions q2 \
             ON q2.question = q1.question AND q2.event_id = ?2 \
             WHERE q1.id = event_answers.question_id)",
    )?
    .execute(params![p.id.0, to.0])?;
    c.prepare_cached(
        "DELETE FROM event_answers WHERE participation_id = ?1 AND question_id NOT IN \
         (SELECT id FROM event_questions WHERE event_id = ?2)",
    )?
    .execute(params![p.id.0, to.0])?;
    c.prepare_cached(
        "INSERT INTO event_answers (participation_id, question_id, answer) \
         SELECT ?1, q.id, NULL FROM event_questions q WHERE q.event_id = ?2 \
         AND q.id NOT IN (SELECT question_id FROM event_answers WHERE participation_id = ?1)",
    )?
    .execute(params![p.id.0, to.0])?;
    c.prepare_cached(
        "UPDATE event_participations SET event_id = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![p.id.0, to.0, Ts(now)])?;
    Ok(())
}

fn set_active(
    c: &Connection,
    p: ParticipationId,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE event_participations SET active = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![p.0, active, Ts(now)])?;
    Ok(())
}

fn first_choice(c: &Connection, p: &Participation) -> Result<Option<EventId>, StoreError> {
    let Some(app) = p.application_id else {
        return Ok(None);
    };
    Ok(
        c.prepare_cached("SELECT priority_1_id FROM event_applications WHERE id = ?1")?
            .query_row([app.0], |r| r.get::<_, i64>(0))
            .optional()?
            .map(EventId),
    )
}

fn register_in(
    tx: &Connection,
    target: &CreateParticipation,
    new: &NewParticipation,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Participation, StoreError> {
    let event = load_event(tx, new.event_id)?;
    if has_other_participation(tx, event.id, new.person_id, None)? {
        return Err(StoreError::Conflict {
            field: "person".to_owned(),
        });
    }
    let placement = application::placement(&event, target.by_self, today).map_err(rule)?;
    tx.prepare_cached(
        "INSERT INTO event_participations (event_id, person_id, additional_information, active, \
         qualified, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, FALSE, ?5, ?5)",
    )?
    .execute(params![
        event.id.0,
        new.person_id.0,
        new.additional_information,
        placement.active,
        Ts(now)
    ])?;
    let id = ParticipationId(tx.last_insert_rowid());
    insert_role(tx, id, EventRoleType::Participant, None)?;
    insert_answers(tx, id, event.id, &new.answers)?;
    if application::supports_applications(&event.event_type) {
        let (p2, p3) = if event.priorization {
            (new.priority_2_id, new.priority_3_id)
        } else {
            (None, None)
        };
        tx.prepare_cached(
            "INSERT INTO event_applications (priority_1_id, priority_2_id, priority_3_id, \
             waiting_list, waiting_list_comment) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            event.id.0,
            p2.map(|e| e.0),
            p3.map(|e| e.0),
            placement.waiting_list,
            placement.waiting_list.then_some(WAITING_LIST_COMMENT)
        ])?;
        let app = tx.last_insert_rowid();
        tx.prepare_cached("UPDATE event_participations SET application_id = ?2 WHERE id = ?1")?
            .execute(params![id.0, app])?;
    }
    refresh_counts(tx, event.id)?;
    load_participation(tx, id)
}

fn person_participation_row(r: &Row<'_>) -> rusqlite::Result<PersonParticipation> {
    let start: Option<String> = r.get("start_at")?;
    Ok(PersonParticipation {
        participation_id: ParticipationId(r.get("id")?),
        event_id: EventId(r.get("event_id")?),
        event_name: r.get("name")?,
        event_type: r.get("event_type")?,
        group_id: GroupId(r.get::<_, Option<i64>>("group_id")?.unwrap_or(0)),
        start_at: start.and_then(|s| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S").ok()),
        active: r.get("active")?,
        qualified: r.get("qualified")?,
        roles: Vec::new(),
    })
}

impl ParticipationRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(participation.id = %id))]
    fn participation(&self, id: ParticipationId) -> Result<Option<ParticipationEntry>, StoreError> {
        self.snapshot(|tx| {
            let e = tx
                .prepare_cached(&entries_sql("pa.id = ?1"))?
                .query_row([id.0], entry_row)
                .optional()?;
            Ok(entries_with_roles(tx, e.into_iter().collect())?.pop())
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %event, person.id = %person))]
    fn participation_of(
        &self,
        event: EventId,
        person: PersonId,
    ) -> Result<Option<Participation>, StoreError> {
        let sql = format!(
            "SELECT {PARTICIPATION_COLUMNS} FROM event_participations pa \
             WHERE pa.event_id = ?1 AND pa.person_id = ?2"
        );
        self.snapshot(|tx| {
            let p = tx
                .prepare_cached(&sql)?
                .query_row([event.0, person.0], participation_row)
                .optional()?;
            Ok(with_roles(tx, p.into_iter().collect())?.pop())
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %event))]
    fn participations(
        &self,
        event: EventId,
        active: bool,
    ) -> Result<Vec<ParticipationEntry>, StoreError> {
        self.snapshot(|tx| {
            let es = tx
                .prepare_cached(&entries_sql("pa.event_id = ?1 AND pa.active = ?2"))?
                .query_map(params![event.0, active], entry_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            entries_with_roles(tx, es)
        })
    }

    #[tracing::instrument(skip_all, fields(participation.id = %participation))]
    fn answers(&self, participation: ParticipationId) -> Result<Vec<Answer>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT a.question_id, a.answer FROM event_answers a \
                 JOIN event_questions q ON q.id = a.question_id \
                 WHERE a.participation_id = ?1 ORDER BY q.ord, q.id",
            )?
            .query_map([participation.0], |r| {
                Ok(Answer {
                    question_id: QuestionId(r.get(0)?),
                    answer: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %new.event_id, person.id = %new.person_id))]
    fn register(
        &self,
        permit: &Permit<CreateParticipation>,
        new: &NewParticipation,
        jobs: &(dyn Fn(ParticipationId) -> Vec<NewJob> + Sync),
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Participation, StoreError> {
        let target = permit.target();
        if target.event != new.event_id || target.person != new.person_id {
            return Err(rule("the permit is for another registration"));
        }
        let p = self.write(|tx| {
            let p = register_in(tx, target, new, today, now)?;
            for job in jobs(p.id) {
                enqueue_in(tx, &job, now)?;
            }
            Ok(p)
        })?;
        self.wake_workers();
        Ok(p)
    }

    #[tracing::instrument(skip_all, fields(participation.id = %permit.target().0))]
    fn cancel_participation(
        &self,
        permit: &Permit<DestroyParticipation>,
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let p = load_participation(tx, id)?;
            tx.prepare_cached("DELETE FROM event_participations WHERE id = ?1")?
                .execute([id.0])?;
            if let Some(app) = p.application_id {
                tx.prepare_cached("DELETE FROM event_applications WHERE id = ?1")?
                    .execute([app.0])?;
            }
            refresh_counts(tx, p.event_id)?;
            for job in jobs {
                enqueue_in(tx, job, now)?;
            }
            Ok(())
        })?;
        self.wake_workers();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(participation.id = %permit.target().0))]
    fn set_approval(
        &self,
        permit: &Permit<ApproveApplication>,
        approved: bool,
    ) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE event_applications SET approved = ?2, rejected = NOT ?2 WHERE id = \
                     (SELECT application_id FROM event_participations WHERE id = ?1)",
                )?
                .execute(params![id.0, approved])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(participation.id = %permit.target().participation))]
    fn add_event_role(
        &self,
        permit: &Permit<CreateEventRole>,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<EventRole, StoreError> {
        let target = permit.target();
        self.write(|tx| {
            let p = load_participation(tx, target.participation)?;
            let id = insert_role(tx, p.id, target.role_type, label)?;
            if p.application_id.is_none() {
                set_active(tx, p.id, true, now)?;
            }
            refresh_counts(tx, p.event_id)?;
            Ok(EventRole {
                id,
                role_type: target.role_type,
                label: label.map(str::to_owned),
            })
        })
    }

    #[tracing::instrument(skip_all, fields(event_role.id = %permit.target().0))]
    fn remove_event_role(
        &self,
        permit: &Permit<DestroyEventRole>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let role = permit.target().0;
        self.write(|tx| {
            let pid: i64 = tx
                .prepare_cached("SELECT participation_id FROM event_roles WHERE id = ?1")?
                .query_row([role.0], |r| r.get(0))
                .optional()?
                .ok_or(StoreError::NotFound)?;
            tx.prepare_cached("DELETE FROM event_roles WHERE id = ?1")?
                .execute([role.0])?;
            let p = load_participation(tx, ParticipationId(pid))?;
            let has_participant_role = p
                .roles
                .iter()
                .any(|r| r.role_type == EventRoleType::Participant);
            if p.roles.is_empty() && p.application_id.is_none() {
                tx.prepare_cached("DELETE FROM event_participations WHERE id = ?1")?
                    .execute([pid])?;
            } else if p.application_id.is_some() && !has_participant_role {
                set_active(tx, p.id, false, now)?;
            }
            refresh_counts(tx, p.event_id)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %event))]
    fn market(&self, event: EventId, filter: &MarketFilter) -> Result<Market, StoreError> {
        self.snapshot(|tx| {
            let participants = tx
                .prepare_cached(&entries_sql(
                    "pa.event_id = ?1 AND pa.active = TRUE AND EXISTS (SELECT 1 FROM event_roles r \
                     WHERE r.participation_id = pa.id AND r.role_type = 'participant')",
                ))?
                .query_map([event.0], entry_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let participants = entries_with_roles(tx, participants)?;
            let sql = format!(
                "SELECT {PARTICIPATION_COLUMNS}, {NAME_COLUMNS}, {APPLICATION_COLUMNS}, \
                 ce.name AS current_event_name \
                 FROM event_participations pa JOIN people p ON p.id = pa.person_id \
                 JOIN event_applications a ON a.id = pa.application_id \
                 JOIN events ce ON ce.id = pa.event_id \
                 JOIN events me ON me.id = ?1 \
                 WHERE pa.active = FALSE AND ( \
                   (?2 AND a.priority_1_id = ?1) OR (?3 AND a.priority_2_id = ?1) \
                   OR (?4 AND a.priority_3_id = ?1) \
                   OR (?5 AND a.waiting_list AND ce.kind_id = me.kind_id)) \
                 ORDER BY hit_fold(p.last_name), hit_fold(p.first_name), pa.id"
            );
            let rows = tx
                .prepare_cached(&sql)?
                .query_map(
                    params![
                        event.0,
                        filter.prio_1,
                        filter.prio_2,
                        filter.prio_3,
                        filter.waiting_list
                    ],
                    |r| Ok((entry_row(r)?, r.get::<_, String>("current_event_name")?)),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let (entries, names): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
            let entries = entries_with_roles(tx, entries)?;
            let mut applications: Vec<MarketApplication> = entries
                .into_iter()
                .zip(names)
                .map(|(entry, event_name)| MarketApplication {
                    priority: entry
                        .application
                        .as_ref()
                        .and_then(|a| application::priority_of(event, a)),
                    entry,
                    event_name,
                })
                .collect();
            applications.sort_by_key(|a| a.priority.unwrap_or(4));
            Ok(Market {
                participants,
                applications,
            })
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0, participation.id = %participation))]
    fn market_add(
        &self,
        permit: &Permit<UseApplicationMarket>,
        participation: ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let event_id = permit.target().0;
        self.write(|tx| {
            let event = load_event(tx, event_id)?;
            let p = load_participation(tx, participation)?;
            let Some(app) = p.application_id else {
                return Err(rule(MarketRefusal::NotAnApplication));
            };
            // Only a pending application that names this course, or waits
            // for any course of its kind, may be given a place here: the
            // market must not take participants from other events.
            if p.active || !applies_for(tx, app, p.event_id, event.id)? {
                return Err(rule(MarketRefusal::NotAnApplication));
            }
            let other = has_other_participation(tx, event.id, p.person_id, Some(p.id))?;
            application::check_market_add(&event, other).map_err(rule)?;
            move_participation(tx, &p, event.id, now)?;
            set_active(tx, p.id, true, now)?;
            tx.prepare_cached("UPDATE event_applications SET waiting_list = FALSE WHERE id = ?1")?
                .execute([app.0])?;
            if !p
                .roles
                .iter()
                .any(|r| r.role_type == EventRoleType::Participant)
            {
                insert_role(tx, p.id, EventRoleType::Participant, None)?;
            }
            refresh_counts(tx, event.id)?;
            refresh_counts(tx, p.event_id)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0, participation.id = %participation))]
    fn market_remove(
        &self,
        permit: &Permit<UseApplicationMarket>,
        participation: ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let event_id = permit.target().0;
        self.write(|tx| {
            let p = load_participation(tx, participation)?;
            if p.event_id != event_id {
                return Err(StoreError::NotFound);
            }
            // The market gives and takes places of applications only; a
            // leader's or helper's participation is not its to change.
            if p.application_id.is_none() || !p.active {
                return Err(rule(MarketRefusal::NotAnApplication));
            }
            tx.prepare_cached(
                "DELETE FROM event_roles WHERE participation_id = ?1 AND role_type <> 'participant'",
            )?
            .execute([p.id.0])?;
            set_active(tx, p.id, false, now)?;
            let home = first_choice(tx, &p)?.unwrap_or(p.event_id);
            move_participation(tx, &p, home, now)?;
            refresh_counts(tx, event_id)?;
            refresh_counts(tx, home)
        })
    }

    #[tracing::instrument(skip_all, fields(event.id = %permit.target().0, participation.id = %participation))]
    fn set_waiting_list(
        &self,
        permit: &Permit<UseApplicationMarket>,
        participation: ParticipationId,
        on: bool,
        comment: Option<&str>,
    ) -> Result<(), StoreError> {
        let event = permit.target().0;
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE event_applications SET waiting_list = ?3, waiting_list_comment = ?4 \
                     WHERE id = (SELECT application_id FROM event_participations WHERE id = ?1) \
                     AND ?2 IN (priority_1_id, priority_2_id, priority_3_id)",
                )?
                .execute(params![participation.0, event.0, on, comment])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %person))]
    fn participations_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<PersonParticipation>, StoreError> {
        self.snapshot(|tx| {
            let mut out = tx
                .prepare_cached(
                    "SELECT pa.id, pa.event_id, e.name, e.event_type, pa.active, pa.qualified, \
                     (SELECT g.group_id FROM events_groups g JOIN groups gr ON gr.id = g.group_id \
      WHERE g.event_id = e.id ORDER BY gr.deleted_at IS NOT NULL, g.group_id LIMIT 1) AS group_id, \
                     (SELECT MIN(d.start_at) FROM event_dates d WHERE d.event_id = e.id) AS start_at \
                     FROM event_participations pa JOIN events e ON e.id = pa.event_id \
                     WHERE pa.person_id = ?1 ORDER BY start_at DESC, pa.id DESC",
                )?
                .query_map([person.0], person_participation_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let ids: Vec<ParticipationId> = out.iter().map(|p| p.participation_id).collect();
            for (pid, role) in roles_of(tx, &ids)? {
                if let Some(p) = out.iter_mut().find(|p| p.participation_id == pid) {
                    p.roles.push(role.role_type);
                }
            }
            Ok(out)
        })
    }

    #[tracing::instrument(skip_all)]
    fn people_with_roles_in_layers(
        &self,
        layers: &[GroupId],
        role_types: &[String],
        today: NaiveDate,
    ) -> Result<Vec<PersonId>, StoreError> {
        let types = serde_json::Value::from(role_types.to_vec()).to_string();
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT DISTINCT r.person_id FROM roles r JOIN groups g ON g.id = r.group_id \
                 WHERE g.layer_group_id IN (SELECT value FROM json_each(?1)) \
                 AND r.type IN (SELECT value FROM json_each(?2)) \
                 AND g.deleted_at IS NULL AND r.archived_at IS NULL \
                 AND (r.start_on IS NULL OR r.start_on <= ?3) \
                 AND (r.end_on IS NULL OR r.end_on >= ?3) ORDER BY r.person_id",
            )?
            .query_map(
                params![id_list(layers.iter().map(|g| g.0)), types, Day(today)],
                |r| Ok(PersonId(r.get(0)?)),
            )?
            .collect::<rusqlite::Result<_>>()?)
        })
    }
}
