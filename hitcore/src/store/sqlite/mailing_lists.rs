//! [`MailingListRepo`] on sqlite: mailing lists, subscriptions and the
//! recipient query.
//!
//! Who a list reaches is one statement, [`RECIPIENTS_SQL`], built from the
//! CTEs below so that the count, the subscription check and the sender
//! check ask exactly the same question.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Day, SqliteStore, Ts, groups, rule};
use crate::ability::{
    CreateMailingList, DestroyMailingList, ManageSubscriptions, Permit, SubscribeSelf,
    UpdateMailingList,
};
use crate::id::{EventId, EventSubscriptionId, GroupId, MailingListId, PersonId, SubscriptionId};
use crate::mailing_list::{
    EventSubscription, MailingList, MailingListPatch, NewMailingList, Recipient, SubscribableFor,
    SubscribableMode, Subscriber, Subscription, check_event_subscription, check_group_subscription,
    earliest_subscribable_start,
};
use crate::store::event_rows::DATE_TIME_FORMAT;
use crate::store::row::Columns;
use crate::store::sql::parse_timestamp;
use crate::store::{MailingListRepo, StoreError};

/// The people a list reaches today, as the CTE `reached (person_id)`
/// (section 6.3): people holding a subscribed role type, active today, in
/// a non-deleted group of a subscribed group's subtree ("covered"), and
/// people included directly unless the list is opt-in, where the covered
/// must also be included; minus the excluded. `?1` is the list, `?2`
/// today as stored (`YYYY-MM-DD`).
///
/// The active participants of subscribed events are covered too (the
/// second branch of `covered`), whatever their event roles.
///
/// TODO: people managers (the managers of recipients receive the mail
/// too), tag rules of group subscriptions and the list's person filter
/// are not in this schema yet; each would be one more branch of `covered`
/// or one more condition of `reached`.
macro_rules! reached_cte {
    () => {
        "WITH list AS (
    SELECT l.id, l.preferred_labels, l.main_email,
           COALESCE(l.subscribable_for = 'configured' AND l.subscribable_mode = 'opt_in', FALSE)
               AS is_opt_in
    FROM mailing_lists l WHERE l.id = ?1
),
covered AS (
    SELECT r.person_id
    FROM subscriptions s
    JOIN groups sg ON sg.id = s.group_id
    JOIN groups g ON g.path >= sg.path
                 AND g.path < substr(sg.path, 1, length(sg.path) - 1) || '0'
    JOIN subscription_role_types t ON t.subscription_id = s.id
    JOIN roles r ON r.group_id = g.id AND r.type = t.role_type
    WHERE s.mailing_list_id = ?1 AND s.subscriber_type = 'group'
      AND s.group_id IS NOT NULL
      AND g.deleted_at IS NULL
      AND r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= ?2)
      AND (r.end_on IS NULL OR r.end_on >= ?2)
    UNION ALL
    SELECT ep.person_id
    FROM event_subscriptions es
    JOIN event_participations ep ON ep.event_id = es.event_id
    WHERE es.mailing_list_id = ?1 AND ep.active = TRUE
),
direct AS (
    SELECT s.person_id FROM subscriptions s
    WHERE s.mailing_list_id = ?1 AND s.subscriber_type = 'person'
      AND s.person_id IS NOT NULL AND s.is_excluded = FALSE
),
reached AS (
    SELECT person_id FROM covered WHERE (SELECT NOT is_opt_in FROM list)
    UNION
    SELECT person_id FROM direct WHERE (SELECT NOT is_opt_in FROM list)
    UNION
    SELECT person_id FROM direct
    WHERE (SELECT is_opt_in FROM list) AND person_id IN (SELECT person_id FROM covered)
    EXCEPT
    SELECT s.person_id FROM subscriptions s
    WHERE s.mailing_list_id = ?1 AND s.subscriber_type = 'person'
      AND s.person_id IS NOT NULL AND s.is_excluded = TRUE
)"
    };
}

/// After [`reached_cte`]: every address of the reached people with its
/// pass, as the CTE `usable (person_id, email, pass, best)`. Pass 1 holds
/// the addresses the list prefers (additional emails whose label matches
/// a preferred label, ignoring case, and the main email when `main_email`
/// is set); pass 2 the fallback (main email and the additional emails
/// with `mailings`). Each address gets the first pass it belongs to (see
/// the PostgreSQL store). `CROSS JOIN` keeps SQLite's planner from scanning
/// every additional email: the reached people are the outer loop, and
/// each is looked up by index. Blanks are dropped first, so a person whose
/// preferred addresses are all blank falls back; each person keeps the
/// addresses of their best pass. An address with a line break is never
/// used (see the PostgreSQL store).
macro_rules! usable_cte {
    () => {
        ",
preferred AS (
    SELECT hit_fold(j.value) AS label FROM list, json_each(list.preferred_labels) j
),
addresses AS (
    SELECT c.person_id, p.email AS email,
           CASE WHEN (SELECT main_email FROM list) THEN 1 ELSE 2 END AS pass
    FROM reached c CROSS JOIN people p ON p.id = c.person_id
    UNION ALL
    SELECT c.person_id, e.email,
           CASE WHEN hit_fold(e.label) IN (SELECT label FROM preferred) THEN 1
                WHEN e.mailings = TRUE THEN 2 END
    FROM reached c CROSS JOIN additional_emails e ON e.person_id = c.person_id
),
usable AS (
    SELECT person_id, lower(trim(email)) AS email, pass,
           MIN(pass) OVER (PARTITION BY person_id) AS best
    FROM addresses
    WHERE pass IS NOT NULL AND email IS NOT NULL AND trim(email) <> ''
      AND instr(email, char(10)) = 0 AND instr(email, char(13)) = 0
)
"
    };
}

/// The addresses a list's mail goes to today: columns `person_id, email`,
/// one row per address (an address two people share goes to the lower
/// id), unordered. `?1` is the list id, `?2` today as `YYYY-MM-DD`, the
/// form the roles' dates are stored in. One statement, so that a caller
/// can embed it (`INSERT INTO ... SELECT person_id, email FROM (...)`).
pub(super) const RECIPIENTS_SQL: &str = concat!(
    reached_cte!(),
    usable_cte!(),
    "SELECT MIN(person_id) AS person_id, email FROM usable WHERE pass = best GROUP BY email"
);

const RECIPIENT_COUNT_SQL: &str = concat!(
    reached_cte!(),
    usable_cte!(),
    "SELECT COUNT(DISTINCT person_id) FROM usable WHERE pass = best"
);

const IS_SUBSCRIBED_SQL: &str = concat!(
    reached_cte!(),
    " SELECT EXISTS (SELECT 1 FROM reached WHERE person_id = ?3)"
);

const IS_RECIPIENT_EMAIL_SQL: &str = concat!(
    reached_cte!(),
    " SELECT EXISTS (
    SELECT 1 FROM people p
    WHERE lower(p.email) = ?3 AND p.id IN (SELECT person_id FROM reached)
    UNION ALL
    SELECT 1 FROM additional_emails e
    WHERE lower(e.email) = ?3 AND e.person_id IN (SELECT person_id FROM reached)
)"
);

/// The columns of `mailing_lists`, with the alias `l`.
const LIST_COLUMNS: &str = "l.id, l.group_id, l.name, l.description, l.publisher, l.mail_name, \
     l.additional_senders, l.subscribers_may_post, l.anyone_may_post, l.preferred_labels, \
     l.main_email, l.delivery_report, l.subscribable_for, l.subscribable_mode, l.created_at, \
     l.updated_at";

/// A row of [`LIST_COLUMNS`].
fn list_row(r: &Row<'_>) -> rusqlite::Result<MailingList> {
    read_list(r)
}

/// Reads a list through the store-neutral [`Columns`] (the PostgreSQL
/// store has the same function).
fn read_list<R: Columns>(r: &R) -> Result<MailingList, R::Error> {
    let strings = |name: &str| -> Result<Vec<String>, R::Error> {
        serde_json::from_str(&r.text(name)?).map_err(|e| r.invalid(name, Box::new(e)))
    };
    let timestamp = |name: &str| -> Result<DateTime<Utc>, R::Error> {
        parse_timestamp(&r.text(name)?).map_err(|e| r.invalid(name, Box::new(e)))
    };
    let subscribable_for = r.text("subscribable_for")?;
    let subscribable_mode = r.opt_text("subscribable_mode")?;
    Ok(MailingList {
        id: MailingListId(r.int("id")?),
        group_id: GroupId(r.int("group_id")?),
        name: r.text("name")?,
        description: r.opt_text("description")?,
        publisher: r.opt_text("publisher")?,
        mail_name: r.opt_text("mail_name")?,
        additional_senders: strings("additional_senders")?,
        subscribers_may_post: r.flag("subscribers_may_post")?,
        anyone_may_post: r.flag("anyone_may_post")?,
        preferred_labels: strings("preferred_labels")?,
        main_email: r.flag("main_email")?,
        delivery_report: r.flag("delivery_report")?,
        subscribable_for: SubscribableFor::parse(&subscribable_for)
            .ok_or_else(|| r.invalid("subscribable_for", subscribable_for.into()))?,
        subscribable_mode: match subscribable_mode {
            None => None,
            Some(m) => Some(
                SubscribableMode::parse(&m)
                    .ok_or_else(|| r.invalid("subscribable_mode", m.into()))?,
            ),
        },
        created_at: timestamp("created_at")?,
        updated_at: timestamp("updated_at")?,
    })
}

/// A list of strings as stored: a JSON array.
fn text_list(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// A unique violation on `mailing_lists` can only be the mail name; the
/// driver names the expression index instead.
fn mail_name_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "mail_name".to_owned(),
        },
        other => other,
    }
}

fn find_list(conn: &Connection, id: MailingListId) -> Result<Option<MailingList>, StoreError> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM mailing_lists l WHERE l.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.0], list_row)
        .optional()?)
}

fn require_list(conn: &Connection, id: MailingListId) -> Result<MailingList, StoreError> {
    find_list(conn, id)?.ok_or(StoreError::NotFound)
}

/// The field values of [`LIST_COLUMNS`] from `name` to
/// `subscribable_mode`, as `?2` to `?13` of the statements below.
fn write_list(
    conn: &Connection,
    sql: &str,
    first: i64,
    f: &MailingListPatch,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let changed = conn
        .prepare_cached(sql)?
        .execute(params![
            first,
            f.name.as_deref().unwrap_or_default(),
            f.description,
            f.publisher,
            f.mail_name,
            text_list(&f.additional_senders),
            f.subscribers_may_post,
            f.anyone_may_post,
            text_list(&f.preferred_labels),
            f.main_email,
            f.delivery_report,
            f.subscribable_for.as_str(),
            f.subscribable_mode.map(SubscribableMode::as_str),
            Ts(now),
        ])
        .map_err(|e| mail_name_conflict(e.into()))?;
    Ok(i64::try_from(changed).unwrap_or(i64::MAX))
}

fn read_subscriptions(
    conn: &Connection,
    list: MailingListId,
) -> Result<Vec<Subscription>, StoreError> {
    let mut types: std::collections::HashMap<i64, Vec<String>> = Default::default();
    let mut stmt = conn.prepare_cached(
        "SELECT t.subscription_id, t.role_type FROM subscription_role_types t \
         JOIN subscriptions s ON s.id = t.subscription_id \
         WHERE s.mailing_list_id = ?1 ORDER BY t.role_type",
    )?;
    let rows = stmt.query_map([list.0], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?)))?;
    for row in rows {
        let (id, role_type) = row?;
        types.entry(id).or_default().push(role_type);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.subscriber_type, s.person_id, s.group_id, s.is_excluded \
         FROM subscriptions s WHERE s.mailing_list_id = ?1 \
         ORDER BY s.subscriber_type DESC, s.id",
    )?;
    let rows = stmt.query_map([list.0], |r| {
        let id: i64 = r.get(0)?;
        let kind: String = r.get(1)?;
        let person: Option<i64> = r.get(2)?;
        let group: Option<i64> = r.get(3)?;
        let is_excluded: bool = r.get(4)?;
        Ok((id, kind, person, group, is_excluded))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, kind, person, group, is_excluded) = row?;
        let subscriber = match (kind.as_str(), person, group) {
            ("person", Some(p), _) => Subscriber::Person {
                person_id: PersonId(p),
                is_excluded,
            },
            ("group", _, Some(g)) => Subscriber::Group {
                group_id: GroupId(g),
                role_types: types.remove(&id).unwrap_or_default(),
            },
            _ => return Err(rule(format!("subscription {id} has no subscriber"))),
        };
        out.push(Subscription {
            id: SubscriptionId(id),
            mailing_list_id: list,
            subscriber,
        });
    }
    Ok(out)
}

fn insert_person_subscription(
    conn: &Connection,
    list: MailingListId,
    person: PersonId,
    is_excluded: bool,
) -> Result<SubscriptionId, StoreError> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (mailing_list_id, subscriber_type, person_id, is_excluded) \
         VALUES (?1, 'person', ?2, ?3)",
    )?
    .execute(params![list.0, person.0, is_excluded])
    .map_err(|e| subscriber_conflict(e.into()))?;
    Ok(SubscriptionId(conn.last_insert_rowid()))
}

/// A unique violation on `subscriptions` means the same subscriber is
/// there already.
fn subscriber_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "subscriber".to_owned(),
        },
        other => other,
    }
}

fn delete_person_subscription(
    conn: &Connection,
    list: MailingListId,
    person: PersonId,
    is_excluded: bool,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM subscriptions WHERE mailing_list_id = ?1 AND subscriber_type = 'person' \
         AND person_id = ?2 AND is_excluded = ?3",
    )?
    .execute(params![list.0, person.0, is_excluded])?;
    Ok(())
}

fn is_subscribed_in(
    conn: &Connection,
    list: MailingListId,
    person: PersonId,
    today: NaiveDate,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(IS_SUBSCRIBED_SQL)?
        .query_row(params![list.0, Day(today), person.0], |r| r.get(0))?)
}

fn add_group_subscription(
    store: &SqliteStore,
    conn: &Connection,
    list: &MailingList,
    group_id: GroupId,
    role_types: &[String],
) -> Result<SubscriptionId, StoreError> {
    let list_group = groups::require_group(conn, list.group_id)?;
    let group = groups::require_group(conn, group_id)?;
    let types =
        check_group_subscription(&store.org, &list_group, &group, role_types).map_err(rule)?;
    conn.prepare_cached(
        "INSERT INTO subscriptions (mailing_list_id, subscriber_type, group_id, is_excluded) \
         VALUES (?1, 'group', ?2, FALSE)",
    )?
    .execute(params![list.id.0, group_id.0])
    .map_err(|e| subscriber_conflict(e.into()))?;
    let id = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO subscription_role_types (subscription_id, role_type) VALUES (?1, ?2)",
    )?;
    for t in &types {
        insert.execute(params![id, t])?;
    }
    Ok(SubscriptionId(id))
}

/// The events a list could subscribe (section 6.2): on the list's group
/// or below it, with a date starting on or after `?2`, not subscribed
/// yet; latest start first. `?1` is the list, `?3` the limit.
const SUBSCRIBABLE_EVENTS_SQL: &str = "SELECT e.id, MAX(d.start_at) AS latest
FROM mailing_lists l
JOIN groups lg ON lg.id = l.group_id
JOIN groups g ON g.path >= lg.path AND g.path < substr(lg.path, 1, length(lg.path) - 1) || '0'
JOIN events_groups eg ON eg.group_id = g.id
JOIN events e ON e.id = eg.event_id
JOIN event_dates d ON d.event_id = e.id
WHERE l.id = ?1 AND g.deleted_at IS NULL AND d.start_at >= ?2
  AND NOT EXISTS (
      SELECT 1 FROM event_subscriptions es WHERE es.mailing_list_id = l.id AND es.event_id = e.id
  )
GROUP BY e.id
ORDER BY latest DESC, e.id DESC
LIMIT ?3";

fn read_event_subscriptions(
    conn: &Connection,
    list: MailingListId,
) -> Result<Vec<EventSubscription>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT id, event_id FROM event_subscriptions WHERE mailing_list_id = ?1 \
             ORDER BY event_id",
        )?
        .query_map([list.0], |r| {
            Ok(EventSubscription {
                id: EventSubscriptionId(r.get(0)?),
                mailing_list_id: list,
                event_id: EventId(r.get(1)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Checks the rules of section 6.2 for subscribing `event` to `list`.
fn check_event(
    conn: &Connection,
    list: &MailingList,
    event: EventId,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT id FROM events WHERE id = ?1")?
        .query_row([event.0], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let group_ids: Vec<i64> = conn
        .prepare_cached("SELECT group_id FROM events_groups WHERE event_id = ?1")?
        .query_map([event.0], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let event_groups = group_ids
        .into_iter()
        .map(|id| groups::require_group(conn, GroupId(id)))
        .collect::<Result<Vec<_>, _>>()?;
    let latest: Option<String> = conn
        .prepare_cached("SELECT MAX(start_at) FROM event_dates WHERE event_id = ?1")?
        .query_row([event.0], |r| r.get(0))?;
    let latest = latest
        .map(|t| chrono::NaiveDateTime::parse_from_str(&t, DATE_TIME_FORMAT))
        .transpose()
        .map_err(|e| rule(format!("event {event} has an unreadable date: {e}")))?;
    let list_group = groups::require_group(conn, list.group_id)?;
    check_event_subscription(&list_group, event, &event_groups, latest, today).map_err(rule)
}

/// A unique violation on `event_subscriptions` means the list has the
/// event already.
fn event_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "event".to_owned(),
        },
        other => other,
    }
}

impl MailingListRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(mailing_list.id = %id))]
    fn mailing_list(&self, id: MailingListId) -> Result<Option<MailingList>, StoreError> {
        self.read(|c| find_list(c, id))
    }

    #[tracing::instrument(skip_all)]
    fn mailing_list_by_mail_name(
        &self,
        mail_name: &str,
    ) -> Result<Option<MailingList>, StoreError> {
        let sql = format!(
            "SELECT {LIST_COLUMNS} FROM mailing_lists l JOIN groups g ON g.id = l.group_id \
             WHERE lower(l.mail_name) = ?1 AND g.deleted_at IS NULL AND g.archived_at IS NULL"
        );
        let name = mail_name.trim().to_ascii_lowercase();
        self.read(|c| {
            Ok(c.prepare_cached(&sql)?
                .query_row([name], list_row)
                .optional()?)
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %group))]
    fn mailing_lists_of_group(&self, group: GroupId) -> Result<Vec<MailingList>, StoreError> {
        let sql = format!(
            "SELECT {LIST_COLUMNS} FROM mailing_lists l WHERE l.group_id = ?1 \
             ORDER BY hit_fold(l.name), l.id"
        );
        self.read(|c| {
            let lists = c
                .prepare_cached(&sql)?
                .query_map([group.0], list_row)?
                .collect::<Result<_, _>>()?;
            Ok(lists)
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %list.group_id))]
    fn create_mailing_list(
        &self,
        permit: &Permit<CreateMailingList>,
        list: &NewMailingList,
        now: DateTime<Utc>,
    ) -> Result<MailingList, StoreError> {
        if permit.target().0 != list.group_id {
            return Err(rule("the permit is for another group"));
        }
        self.write(|tx| {
            let group = groups::require_group(tx, list.group_id)?;
            if !group.is_active() {
                return Err(rule(format!("group {} is deleted or archived", group.id)));
            }
            // The id comes from a counter that only grows (migration 14):
            // SQLite hands the highest id out again once its row is gone,
            // and the messages a deleted list keeps (they have no foreign
            // key) would then show on, and count as seen by, the new list.
            // PostgreSQL's sequence never repeats an id.
            let counted = tx
                .prepare_cached(
                    "UPDATE id_sequences SET last_id = last_id + 1 WHERE name = 'mailing_lists'",
                )?
                .execute([])?;
            if counted != 1 {
                return Err(rule(
                    "the mailing list id counter of migration 14 is missing",
                ));
            }
            write_list(
                tx,
                "INSERT INTO mailing_lists (id, group_id, name, description, publisher, \
                 mail_name, additional_senders, subscribers_may_post, anyone_may_post, \
                 preferred_labels, main_email, delivery_report, subscribable_for, \
                 subscribable_mode, created_at, updated_at) VALUES (\
                 (SELECT last_id FROM id_sequences WHERE name = 'mailing_lists'), \
                 ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
                list.group_id.0,
                &list.fields,
                now,
            )?;
            require_list(tx, MailingListId(tx.last_insert_rowid()))
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().0))]
    fn update_mailing_list(
        &self,
        permit: &Permit<UpdateMailingList>,
        patch: &MailingListPatch,
        now: DateTime<Utc>,
    ) -> Result<MailingList, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let changed = write_list(
                tx,
                "UPDATE mailing_lists SET name = ?2, description = ?3, publisher = ?4, \
                 mail_name = ?5, additional_senders = ?6, subscribers_may_post = ?7, \
                 anyone_may_post = ?8, preferred_labels = ?9, main_email = ?10, \
                 delivery_report = ?11, subscribable_for = ?12, subscribable_mode = ?13, \
                 updated_at = ?14 WHERE id = ?1",
                id.0,
                patch,
                now,
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            // TODO: switching a list to `configured` should enqueue the
            // clean-up of section 6.1 (removing person subscriptions of
            // people no group subscription covers); that needs a job kind
            // in hitjobs, enqueued here in the same transaction.
            require_list(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().0))]
    fn delete_mailing_list(&self, permit: &Permit<DestroyMailingList>) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            // Explicitly, although the foreign keys cascade: a database
            // opened without `foreign_keys = ON` must not keep orphans.
            tx.prepare_cached("DELETE FROM subscriptions WHERE mailing_list_id = ?1")?
                .execute([id.0])?;
            tx.prepare_cached("DELETE FROM event_subscriptions WHERE mailing_list_id = ?1")?
                .execute([id.0])?;
            let n = tx
                .prepare_cached("DELETE FROM mailing_lists WHERE id = ?1")?
                .execute([id.0])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list))]
    fn subscriptions(&self, list: MailingListId) -> Result<Vec<Subscription>, StoreError> {
        self.snapshot(|tx| read_subscriptions(tx, list))
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().0))]
    fn add_subscription(
        &self,
        permit: &Permit<ManageSubscriptions>,
        subscriber: &Subscriber,
    ) -> Result<Subscription, StoreError> {
        let list_id = permit.target().0;
        self.write(|tx| {
            let list = require_list(tx, list_id)?;
            let id = match subscriber {
                Subscriber::Person {
                    person_id,
                    is_excluded,
                } => {
                    let exists: Option<i64> = tx
                        .prepare_cached("SELECT id FROM people WHERE id = ?1")?
                        .query_row([person_id.0], |r| r.get(0))
                        .optional()?;
                    if exists.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    insert_person_subscription(tx, list.id, *person_id, *is_excluded)?
                }
                Subscriber::Group {
                    group_id,
                    role_types,
                } => add_group_subscription(self, tx, &list, *group_id, role_types)?,
            };
            read_subscriptions(tx, list.id)?
                .into_iter()
                .find(|s| s.id == id)
                .ok_or(StoreError::NotFound)
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().0))]
    fn remove_subscription(
        &self,
        permit: &Permit<ManageSubscriptions>,
        id: SubscriptionId,
    ) -> Result<(), StoreError> {
        let list = permit.target().0;
        self.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM subscriptions WHERE id = ?1 AND mailing_list_id = ?2")?
                .execute(params![id.0, list.0])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().list))]
    fn subscribe(
        &self,
        permit: &Permit<SubscribeSelf>,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        let SubscribeSelf { list, person } = *permit.target();
        self.write(|tx| {
            require_list(tx, list)?;
            delete_person_subscription(tx, list, person, true)?;
            if !is_subscribed_in(tx, list, person, today)? {
                insert_person_subscription(tx, list, person, false)?;
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().list))]
    fn unsubscribe(
        &self,
        permit: &Permit<SubscribeSelf>,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        let SubscribeSelf { list, person } = *permit.target();
        self.write(|tx| {
            require_list(tx, list)?;
            delete_person_subscription(tx, list, person, false)?;
            if is_subscribed_in(tx, list, person, today)? {
                insert_person_subscription(tx, list, person, true)?;
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list))]
    fn recipients(
        &self,
        list: MailingListId,
        today: NaiveDate,
    ) -> Result<Vec<Recipient>, StoreError> {
        let sql = format!("SELECT person_id, email FROM ({RECIPIENTS_SQL}) ORDER BY email");
        self.read(|c| {
            let rows = c
                .prepare_cached(&sql)?
                .query_map(params![list.0, Day(today)], |r| {
                    Ok(Recipient {
                        person_id: PersonId(r.get(0)?),
                        email: r.get(1)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list))]
    fn recipient_count(&self, list: MailingListId, today: NaiveDate) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c
                .prepare_cached(RECIPIENT_COUNT_SQL)?
                .query_row(params![list.0, Day(today)], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list, person.id = %person))]
    fn is_subscribed(
        &self,
        list: MailingListId,
        person: PersonId,
        today: NaiveDate,
    ) -> Result<bool, StoreError> {
        self.read(|c| is_subscribed_in(c, list, person, today))
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list))]
    fn is_recipient_email(
        &self,
        list: MailingListId,
        email: &str,
        today: NaiveDate,
    ) -> Result<bool, StoreError> {
        let email = email.trim().to_lowercase();
        self.read(|c| {
            Ok(c.prepare_cached(IS_RECIPIENT_EMAIL_SQL)?
                .query_row(params![list.0, Day(today), email], |r| r.get(0))?)
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list))]
    fn event_subscriptions(
        &self,
        list: MailingListId,
    ) -> Result<Vec<EventSubscription>, StoreError> {
        self.read(|c| read_event_subscriptions(c, list))
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().0, event.id = %event))]
    fn add_event_subscription(
        &self,
        permit: &Permit<ManageSubscriptions>,
        event: EventId,
        today: NaiveDate,
    ) -> Result<EventSubscription, StoreError> {
        let list_id = permit.target().0;
        self.write(|tx| {
            let list = require_list(tx, list_id)?;
            check_event(tx, &list, event, today)?;
            tx.prepare_cached(
                "INSERT INTO event_subscriptions (mailing_list_id, event_id) VALUES (?1, ?2)",
            )?
            .execute(params![list.id.0, event.0])
            .map_err(|e| event_conflict(e.into()))?;
            Ok(EventSubscription {
                id: EventSubscriptionId(tx.last_insert_rowid()),
                mailing_list_id: list.id,
                event_id: event,
            })
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %permit.target().0))]
    fn remove_event_subscription(
        &self,
        permit: &Permit<ManageSubscriptions>,
        id: EventSubscriptionId,
    ) -> Result<(), StoreError> {
        let list = permit.target().0;
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "DELETE FROM event_subscriptions WHERE id = ?1 AND mailing_list_id = ?2",
                )?
                .execute(params![id.0, list.0])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(mailing_list.id = %list))]
    fn subscribable_events(
        &self,
        list: MailingListId,
        today: NaiveDate,
        limit: u32,
    ) -> Result<Vec<EventId>, StoreError> {
        let from = earliest_subscribable_start(today)
            .format(DATE_TIME_FORMAT)
            .to_string();
        self.read(|c| {
            let ids = c
                .prepare_cached(SUBSCRIBABLE_EVENTS_SQL)?
                .query_map(params![list.0, from, limit], |r| Ok(EventId(r.get(0)?)))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of the recipient query, one detail per line.
    fn plan(conn: &Connection) -> String {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {RECIPIENTS_SQL}"))
            .expect("explain");
        let rows = stmt
            .query_map(params![1, "2025-01-01"], |r| r.get::<_, String>(3))
            .expect("plan rows");
        rows.map(|r| r.expect("detail"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn recipient_query_can_be_embedded_in_an_insert() {
        let store = SqliteStore::in_memory(test_org()).expect("store");
        let conn = store.pool.get().expect("connection");
        conn.execute_batch("CREATE TEMP TABLE planned (person_id BIGINT, email TEXT)")
            .expect("table");
        let sql = format!(
            "INSERT INTO planned (person_id, email) SELECT person_id, email FROM ({RECIPIENTS_SQL})"
        );
        let n = conn
            .execute(&sql, params![1, "2025-01-01"])
            .expect("insert from the query");
        assert_eq!(n, 0);
    }

    fn test_org() -> std::sync::Arc<crate::Organisation> {
        std::sync::Arc::new(
            crate::Organisation::from_toml(
                "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n",
                "t.toml",
            )
            .expect("org"),
        )
    }

    #[test]
    fn recipient_query_reads_roles_people_and_emails_through_indexes() {
        let store = SqliteStore::in_memory(test_org()).expect("store");
        let conn = store.pool.get().expect("connection");
        let plan = plan(&conn);
        for needle in [
            "roles_group_id_person_id_idx",
            "groups_path_idx",
            "additional_emails_person_id_idx",
            "INTEGER PRIMARY KEY",
        ] {
            assert!(plan.contains(needle), "{needle} not used:\n{plan}");
        }
        // The aliases of subscriptions, groups, roles, people and
        // additional emails: none of them is read whole.
        for alias in ["s", "sg", "g", "r", "t", "p", "e"] {
            assert!(
                !plan
                    .lines()
                    .any(|l| l.trim().starts_with(&format!("SCAN {alias} "))
                        || l.trim() == format!("SCAN {alias}")),
                "full scan of {alias}:\n{plan}"
            );
        }
    }
}
