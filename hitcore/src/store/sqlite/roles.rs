//! [`RoleRepo`] on SQLite, and the refresh of a person's derived state
//! (primary group, contact-data visibility) that every role change runs in
//! its own transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Day, SqliteStore, Ts, day, groups, id_list, rows, rule};
use crate::ability::{CreateRole, DestroyRole, Permit, UpdateRole};
use crate::group::GroupRuleError;
use crate::id::{PersonId, RoleId};
use crate::org::Organisation;
use crate::person::{contact_data_visible, primary_group_after};
use crate::role::{NewRole, RemoveOutcome, Role, RolePatch, remove_outcome};
use crate::store::{RoleRepo, StoreError};

pub(super) fn find_role(conn: &Connection, id: RoleId) -> Result<Option<Role>, StoreError> {
    let sql = concat!("SELECT ", role_columns!(), " FROM roles r WHERE r.id = ?1");
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id.0], rows::role)
        .optional()?)
}

fn require_role(conn: &Connection, id: RoleId) -> Result<Role, StoreError> {
    find_role(conn, id)?.ok_or(StoreError::NotFound)
}

/// Inserts a role for `person` after checking that its group is active.
pub(super) fn insert_role(
    conn: &Connection,
    person: PersonId,
    role: &NewRole,
    now: DateTime<Utc>,
) -> Result<RoleId, StoreError> {
    let group = groups::require_group(conn, role.group_id)?;
    if !group.is_active() {
        return Err(rule(GroupRuleError::Inactive(group.id)));
    }
    conn.prepare_cached(
        "INSERT INTO roles (person_id, group_id, type, label, start_on, end_on, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![
        person.0,
        role.group_id.0,
        role.role_type,
        role.label,
        day(role.start_on),
        day(role.end_on),
        Ts(now),
    ])?;
    Ok(RoleId(conn.last_insert_rowid()))
}

/// Carries out what [`remove_outcome`] decided for one role.
pub(super) fn apply_outcome(
    conn: &Connection,
    id: RoleId,
    outcome: RemoveOutcome,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match outcome {
        RemoveOutcome::Delete => {
            conn.prepare_cached("DELETE FROM roles WHERE id = ?1")?
                .execute([id.0])?;
        }
        RemoveOutcome::End(on) => {
            conn.prepare_cached("UPDATE roles SET end_on = ?1, updated_at = ?2 WHERE id = ?3")?
                .execute(params![Day(on), Ts(now), id.0])?;
        }
        RemoveOutcome::AlreadyEnded => {}
    }
    Ok(())
}

/// Recomputes a person's primary group and contact-data visibility from
/// their roles in non-deleted groups (section 2.4).
pub(super) fn refresh_person(
    conn: &Connection,
    org: &Organisation,
    id: PersonId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let today = now.date_naive();
    let sql = concat!(
        "SELECT ",
        role_columns!(),
        " FROM roles r JOIN groups g ON g.id = r.group_id \
         WHERE r.person_id = ?1 AND g.deleted_at IS NULL"
    );
    let roles: Vec<Role> = conn
        .prepare_cached(sql)?
        .query_map([id.0], rows::role)?
        .collect::<Result<_, _>>()?;
    let current: Option<i64> = conn
        .prepare_cached("SELECT primary_group_id FROM people WHERE id = ?1")?
        .query_row([id.0], |r| r.get(0))?;
    let primary = primary_group_after(current.map(crate::id::GroupId), &roles, today);
    conn.prepare_cached(
        "UPDATE people SET primary_group_id = ?1, contact_data_visible = ?2 WHERE id = ?3",
    )?
    .execute(params![
        primary.map(|g| g.0),
        contact_data_visible(org, &roles, today),
        id.0
    ])?;
    Ok(())
}

fn query_roles(
    conn: &Connection,
    sql: &str,
    param: impl rusqlite::ToSql,
) -> Result<Vec<Role>, StoreError> {
    let roles = conn
        .prepare_cached(sql)?
        .query_map([param], rows::role)?
        .collect::<Result<_, _>>()?;
    Ok(roles)
}

impl RoleRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(role.id = %id))]
    fn role(&self, id: RoleId) -> Result<Option<Role>, StoreError> {
        self.read(|c| find_role(c, id))
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn roles_of_person(&self, id: PersonId) -> Result<Vec<Role>, StoreError> {
        let sql = concat!(
            "SELECT ",
            role_columns!(),
            " FROM roles r WHERE r.person_id = ?1 AND r.archived_at IS NULL ORDER BY r.id"
        );
        self.read(|c| query_roles(c, sql, id.0))
    }

    #[tracing::instrument(skip_all, fields(people.count = ids.len()))]
    fn roles_of_people(&self, ids: &[PersonId]) -> Result<Vec<Role>, StoreError> {
        let sql = concat!(
            "SELECT ",
            role_columns!(),
            " FROM roles r WHERE r.person_id IN (SELECT value FROM json_each(?1)) \
             AND r.archived_at IS NULL ORDER BY r.person_id, r.id"
        );
        let ids = id_list(ids.iter().map(|i| i.0));
        self.read(|c| query_roles(c, sql, ids))
    }

    #[tracing::instrument(skip_all, fields(person.id = %role.person_id, group.id = %role.group_id))]
    fn create_role(
        &self,
        permit: &Permit<CreateRole>,
        role: &NewRole,
        now: DateTime<Utc>,
    ) -> Result<Role, StoreError> {
        let t = permit.target();
        if (t.person_id, t.group_id, t.role_type.as_str())
            != (role.person_id, role.group_id, role.role_type.as_str())
        {
            return Err(rule("the permit does not cover this role"));
        }
        self.write(|tx| {
            let exists: Option<i64> = tx
                .prepare_cached("SELECT id FROM people WHERE id = ?1")?
                .query_row([role.person_id.0], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            let id = insert_role(tx, role.person_id, role, now)?;
            refresh_person(tx, &self.org, role.person_id, now)?;
            require_role(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(role.id = %permit.target().0))]
    fn update_role(
        &self,
        permit: &Permit<UpdateRole>,
        patch: &RolePatch,
        now: DateTime<Utc>,
    ) -> Result<Role, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let role = require_role(tx, id)?;
            if role.archived_at.is_some() {
                return Err(rule(format!("role {id} is archived and read-only")));
            }
            tx.prepare_cached(
                "UPDATE roles SET label = ?1, start_on = ?2, end_on = ?3, updated_at = ?4 \
                 WHERE id = ?5",
            )?
            .execute(params![
                patch.label,
                day(patch.start_on),
                day(patch.end_on),
                Ts(now),
                id.0
            ])?;
            refresh_person(tx, &self.org, role.person_id, now)?;
            require_role(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(role.id = %permit.target().0))]
    fn remove_role(
        &self,
        permit: &Permit<DestroyRole>,
        now: DateTime<Utc>,
    ) -> Result<RemoveOutcome, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let role = require_role(tx, id)?;
            if role.archived_at.is_some() {
                // Archived roles are read-only (section 3.2), as in update_role.
                return Err(rule(format!("role {id} is archived and read-only")));
            }
            let outcome = remove_outcome(&role, now);
            apply_outcome(tx, id, outcome, now)?;
            refresh_person(tx, &self.org, role.person_id, now)?;
            Ok(outcome)
        })
    }
}
