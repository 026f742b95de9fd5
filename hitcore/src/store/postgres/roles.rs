//! [`RoleRepo`] on PostgreSQL, and the refresh of a person's derived state
//! (primary group, contact-data visibility) that every role change runs in
//! its own transaction, as in the SQLite store.

use chrono::{DateTime, Utc};
use postgres::GenericClient;

use super::{PostgresStore, groups, query_all, query_opt, rule};
use crate::ability::{CreateRole, DestroyRole, Permit, UpdateRole};
use crate::group::GroupRuleError;
use crate::id::{GroupId, PersonId, RoleId};
use crate::org::Organisation;
use crate::person::{contact_data_visible, primary_group_after};
use crate::role::{NewRole, RemoveOutcome, Role, RolePatch, remove_outcome};
use crate::store::sql::{date_text, timestamp_text};
use crate::store::{RoleRepo, StoreError, row};

pub(super) fn find_role(
    c: &mut impl GenericClient,
    id: RoleId,
) -> Result<Option<Role>, StoreError> {
    let sql = concat!("SELECT ", role_columns!(), " FROM roles r WHERE r.id = $1");
    query_opt(c, sql, &[&id.0], row::role)
}

fn require_role(c: &mut impl GenericClient, id: RoleId) -> Result<Role, StoreError> {
    find_role(c, id)?.ok_or(StoreError::NotFound)
}

/// Inserts a role for `person` after checking that its group is active.
pub(super) fn insert_role(
    c: &mut impl GenericClient,
    person: PersonId,
    role: &NewRole,
    now: DateTime<Utc>,
) -> Result<RoleId, StoreError> {
    let group = groups::require_group(c, role.group_id)?;
    if !group.is_active() {
        return Err(rule(GroupRuleError::Inactive(group.id)));
    }
    let inserted = c.query_one(
        "INSERT INTO roles (person_id, group_id, type, label, start_on, end_on, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        &[
            &person.0,
            &role.group_id.0,
            &role.role_type,
            &role.label,
            &role.start_on.map(date_text),
            &role.end_on.map(date_text),
            &timestamp_text(now),
        ],
    )?;
    Ok(RoleId(inserted.try_get(0)?))
}

/// Carries out what [`remove_outcome`] decided for one role.
pub(super) fn apply_outcome(
    c: &mut impl GenericClient,
    id: RoleId,
    outcome: RemoveOutcome,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match outcome {
        RemoveOutcome::Delete => {
            c.execute("DELETE FROM roles WHERE id = $1", &[&id.0])?;
        }
        RemoveOutcome::End(on) => {
            c.execute(
                "UPDATE roles SET end_on = $1, updated_at = $2 WHERE id = $3",
                &[&date_text(on), &timestamp_text(now), &id.0],
            )?;
        }
        RemoveOutcome::AlreadyEnded => {}
    }
    Ok(())
}

/// Recomputes a person's primary group and contact-data visibility from
/// their roles in non-deleted groups (section 2.4).
pub(super) fn refresh_person(
    c: &mut impl GenericClient,
    org: &Organisation,
    id: PersonId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let today = now.date_naive();
    let sql = concat!(
        "SELECT ",
        role_columns!(),
        " FROM roles r JOIN groups g ON g.id = r.group_id \
         WHERE r.person_id = $1 AND g.deleted_at IS NULL"
    );
    let roles = query_all(c, sql, &[&id.0], row::role)?;
    let current: Option<i64> = c
        .query_opt(
            "SELECT primary_group_id FROM people WHERE id = $1",
            &[&id.0],
        )?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?;
    let primary = primary_group_after(current.map(GroupId), &roles, today);
    c.execute(
        "UPDATE people SET primary_group_id = $1, contact_data_visible = $2 WHERE id = $3",
        &[
            &primary.map(|g| g.0),
            &contact_data_visible(org, &roles, today),
            &id.0,
        ],
    )?;
    Ok(())
}

impl RoleRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(role.id = %id))]
    fn role(&self, id: RoleId) -> Result<Option<Role>, StoreError> {
        self.read(|c| find_role(c, id))
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn roles_of_person(&self, id: PersonId) -> Result<Vec<Role>, StoreError> {
        let sql = concat!(
            "SELECT ",
            role_columns!(),
            " FROM roles r WHERE r.person_id = $1 AND r.archived_at IS NULL ORDER BY r.id"
        );
        self.read(|c| query_all(c, sql, &[&id.0], row::role))
    }

    #[tracing::instrument(skip_all, fields(people.count = ids.len()))]
    fn roles_of_people(&self, ids: &[PersonId]) -> Result<Vec<Role>, StoreError> {
        let sql = concat!(
            "SELECT ",
            role_columns!(),
            " FROM roles r WHERE r.person_id = ANY($1::bigint[]) \
             AND r.archived_at IS NULL ORDER BY r.person_id, r.id"
        );
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.read(|c| query_all(c, sql, &[&ids], row::role))
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
            let exists =
                tx.query_opt("SELECT id FROM people WHERE id = $1", &[&role.person_id.0])?;
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
            tx.execute(
                "UPDATE roles SET label = $1, start_on = $2, end_on = $3, updated_at = $4 \
                 WHERE id = $5",
                &[
                    &patch.label,
                    &patch.start_on.map(date_text),
                    &patch.end_on.map(date_text),
                    &timestamp_text(now),
                    &id.0,
                ],
            )?;
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
