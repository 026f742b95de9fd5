//! [`GroupRepo`] on PostgreSQL: the tree as materialised paths, as in the
//! SQLite store.

use chrono::{DateTime, Utc};
use postgres::GenericClient;

use super::{PostgresStore, query_all, query_count, query_opt, rule};
use crate::ability::{ArchiveGroup, CreateGroup, DestroyGroup, MoveGroup, Permit, UpdateGroup};
use crate::group::{Group, GroupPatch, GroupRuleError, NewGroup, PlanParent};
use crate::id::{GroupId, PersonId};
use crate::org::Organisation;
use crate::role::{Role, remove_outcome};
use crate::store::sql::{date_text, distinct_people, path_text, path_upper, timestamp_text};
use crate::store::{GroupRepo, StoreError, row};

/// The group with this id, deleted or not.
pub(super) fn find_group(
    c: &mut impl GenericClient,
    id: GroupId,
) -> Result<Option<Group>, StoreError> {
    let sql = concat!(
        "SELECT ",
        group_columns!(),
        " FROM groups g WHERE g.id = $1"
    );
    query_opt(c, sql, &[&id.0], row::group)
}

/// The group with this id; [`StoreError::NotFound`] if there is none.
pub(super) fn require_group(c: &mut impl GenericClient, id: GroupId) -> Result<Group, StoreError> {
    find_group(c, id)?.ok_or(StoreError::NotFound)
}

fn count_children(c: &mut impl GenericClient, id: GroupId) -> Result<u64, StoreError> {
    query_count(
        c,
        "SELECT COUNT(*) FROM groups WHERE parent_id = $1 AND deleted_at IS NULL",
        &[&id.0],
    )
}

/// Refuses a second non-deleted child of a static-name type below
/// `parent` (section 1.4), inside the writing transaction as in SQLite.
fn check_static_name_free(
    c: &mut impl GenericClient,
    org: &Organisation,
    parent: GroupId,
    group_type: &str,
) -> Result<(), StoreError> {
    if !org.group_type(group_type).is_some_and(|t| t.is_static_name) {
        return Ok(());
    }
    let taken = query_count(
        c,
        "SELECT COUNT(*) FROM groups WHERE parent_id = $1 AND type = $2 AND deleted_at IS NULL",
        &[&parent.0, &group_type],
    )?;
    if taken > 0 {
        return Err(rule(GroupRuleError::StaticNameTaken {
            group_type: group_type.to_owned(),
        }));
    }
    Ok(())
}

/// Where a planned group goes: its parent's id, path text and layer.
struct Placement {
    parent_id: Option<GroupId>,
    parent_path: String,
    parent_layer: Option<GroupId>,
}

/// A group inserted earlier in the same plan.
struct Placed {
    id: GroupId,
    path: String,
    layer: GroupId,
}

/// Resolves the parent of plan entry `index` and checks that the permit
/// covers it: an existing parent must be the permitted one, the root only
/// with a root permit, and a planned parent must come earlier.
fn placement(
    c: &mut impl GenericClient,
    permit: &Permit<CreateGroup>,
    index: usize,
    entry: &NewGroup,
    placed: &[Placed],
) -> Result<Placement, StoreError> {
    match entry.parent {
        PlanParent::Existing(id) => {
            if permit.target().0 != Some(id) {
                return Err(rule(format!("the permit does not cover groups below {id}")));
            }
            let parent = require_group(c, id)?;
            if !parent.is_active() {
                return Err(rule(GroupRuleError::Inactive(id)));
            }
            Ok(Placement {
                parent_id: Some(id),
                parent_path: path_text(&parent.path),
                parent_layer: Some(parent.layer_group_id),
            })
        }
        PlanParent::Planned(usize::MAX) => {
            if permit.target().0.is_some() || index != 0 {
                return Err(rule("only a root permit may create the root group"));
            }
            let roots = query_count(
                c,
                "SELECT COUNT(*) FROM groups WHERE parent_id IS NULL AND deleted_at IS NULL",
                &[],
            )?;
            if roots > 0 {
                return Err(rule("the root group exists already"));
            }
            Ok(Placement {
                parent_id: None,
                parent_path: String::new(),
                parent_layer: None,
            })
        }
        PlanParent::Planned(i) => {
            let p = placed
                .get(i)
                .ok_or_else(|| rule(format!("plan entry {index} refers to a later entry {i}")))?;
            Ok(Placement {
                parent_id: Some(p.id),
                parent_path: p.path.clone(),
                parent_layer: Some(p.layer),
            })
        }
    }
}

/// Inserts one group, then sets its path and layer, which need its id.
fn insert_group(
    c: &mut impl GenericClient,
    at: &Placement,
    entry: &NewGroup,
    now: DateTime<Utc>,
) -> Result<Placed, StoreError> {
    let f = &entry.fields;
    let a = &f.address;
    let inserted = c.query_one(
        "INSERT INTO groups (parent_id, path, layer_group_id, type, name, short_name, email, \
         description, address_care_of, street, housenumber, postbox, zip_code, town, country, \
         created_at, updated_at) \
         VALUES ($1, '', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
         RETURNING id",
        &[
            &at.parent_id.map(|p| p.0),
            &at.parent_layer.map(|l| l.0),
            &entry.group_type,
            &f.name.clone().unwrap_or_default(),
            &f.short_name,
            &f.email,
            &f.description,
            &a.address_care_of,
            &a.street,
            &a.housenumber,
            &a.postbox,
            &a.zip_code,
            &a.town,
            &a.country,
            &timestamp_text(now),
        ],
    )?;
    let id = GroupId(inserted.try_get(0)?);
    let path = format!("{}{id}/", at.parent_path);
    // A root that is not a layer still needs a layer: itself.
    let layer = match at.parent_layer {
        Some(l) if !entry.is_layer => l,
        _ => id,
    };
    c.execute(
        "UPDATE groups SET path = $1, layer_group_id = $2 WHERE id = $3",
        &[&path, &layer.0, &id.0],
    )?;
    Ok(Placed { id, path, layer })
}

/// The roles of a group that are not archived.
fn live_roles_of_group(c: &mut impl GenericClient, id: GroupId) -> Result<Vec<Role>, StoreError> {
    let sql = concat!(
        "SELECT ",
        role_columns!(),
        " FROM roles r WHERE r.group_id = $1 AND r.archived_at IS NULL"
    );
    query_all(c, sql, &[&id.0], row::role)
}

/// Applies the role-remove semantics to every live role of a group.
fn remove_roles_of_group(
    c: &mut impl GenericClient,
    id: GroupId,
    now: DateTime<Utc>,
) -> Result<Vec<PersonId>, StoreError> {
    let roles = live_roles_of_group(c, id)?;
    for r in &roles {
        super::roles::apply_outcome(c, r.id, remove_outcome(r, now), now)?;
    }
    Ok(distinct_people(&roles))
}

impl GroupRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(group.id = %id))]
    fn group(&self, id: GroupId) -> Result<Option<Group>, StoreError> {
        self.read(|c| find_group(c, id))
    }

    #[tracing::instrument(skip_all)]
    fn all_groups(&self) -> Result<Vec<Group>, StoreError> {
        let sql = concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups g ORDER BY g.path"
        );
        self.read(|c| query_all(c, sql, &[], row::group))
    }

    #[tracing::instrument(skip_all, fields(group.parent_id = ?permit.target().0, plan.len = plan.len()))]
    fn create_groups(
        &self,
        permit: &Permit<CreateGroup>,
        plan: &[NewGroup],
        now: DateTime<Utc>,
    ) -> Result<Vec<Group>, StoreError> {
        self.write(|tx| {
            let mut placed: Vec<Placed> = Vec::with_capacity(plan.len());
            for (index, entry) in plan.iter().enumerate() {
                let at = placement(tx, permit, index, entry, &placed)?;
                if let Some(parent) = at.parent_id {
                    check_static_name_free(tx, &self.org, parent, &entry.group_type)?;
                }
                placed.push(insert_group(tx, &at, entry, now)?);
            }
            placed.iter().map(|p| require_group(tx, p.id)).collect()
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %permit.target().0))]
    fn update_group(
        &self,
        permit: &Permit<UpdateGroup>,
        patch: &GroupPatch,
        now: DateTime<Utc>,
    ) -> Result<Group, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let group = require_group(tx, id)?;
            if !group.is_active() {
                return Err(rule(GroupRuleError::Inactive(id)));
            }
            // A static-name type keeps its label as name and no short name.
            let is_static = self
                .org
                .group_type(&group.group_type)
                .is_some_and(|t| t.is_static_name);
            let (name, short_name) = if is_static {
                (group.name.clone(), group.short_name.clone())
            } else {
                (
                    patch.name.clone().unwrap_or(group.name.clone()),
                    patch.short_name.clone(),
                )
            };
            let a = &patch.address;
            tx.execute(
                "UPDATE groups SET name = $1, short_name = $2, email = $3, description = $4, \
                 address_care_of = $5, street = $6, housenumber = $7, postbox = $8, \
                 zip_code = $9, town = $10, country = $11, updated_at = $12 WHERE id = $13",
                &[
                    &name,
                    &short_name,
                    &patch.email,
                    &patch.description,
                    &a.address_care_of,
                    &a.street,
                    &a.housenumber,
                    &a.postbox,
                    &a.zip_code,
                    &a.town,
                    &a.country,
                    &timestamp_text(now),
                    &id.0,
                ],
            )?;
            require_group(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %permit.target().group, group.new_parent_id = %permit.target().new_parent))]
    fn move_group(
        &self,
        permit: &Permit<MoveGroup>,
        now: DateTime<Utc>,
    ) -> Result<Group, StoreError> {
        let MoveGroup { group, new_parent } = *permit.target();
        self.write(|tx| {
            let g = require_group(tx, group)?;
            let target = require_group(tx, new_parent)?;
            crate::group::check_move(&self.org, &g, &target).map_err(rule)?;
            check_static_name_free(tx, &self.org, target.id, &g.group_type)?;
            move_subtree(tx, &g, &target, now)?;
            require_group(tx, group)
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %permit.target().0))]
    fn delete_group(
        &self,
        permit: &Permit<DestroyGroup>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let group = require_group(tx, id)?;
            if group.is_deleted() {
                return Err(StoreError::NotFound);
            }
            crate::group::check_destroy(&group, count_children(tx, id)? > 0).map_err(rule)?;
            let people = remove_roles_of_group(tx, id, now)?;
            tx.execute(
                "UPDATE groups SET deleted_at = $1, updated_at = $1 WHERE id = $2",
                &[&timestamp_text(now), &id.0],
            )?;
            for person in people {
                super::roles::refresh_person(tx, &self.org, person, now)?;
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %permit.target().0))]
    fn archive_group(
        &self,
        permit: &Permit<ArchiveGroup>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            let group = require_group(tx, id)?;
            if group.is_deleted() {
                return Err(rule(GroupRuleError::Inactive(id)));
            }
            crate::group::check_archive(&group, count_children(tx, id)? > 0).map_err(rule)?;
            let people = distinct_people(&live_roles_of_group(tx, id)?);
            archive_roles(tx, id, now)?;
            tx.execute(
                "UPDATE groups SET archived_at = $1, updated_at = $1 WHERE id = $2",
                &[&timestamp_text(now), &id.0],
            )?;
            for person in people {
                super::roles::refresh_person(tx, &self.org, person, now)?;
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(group.id = %id))]
    fn child_count(&self, id: GroupId) -> Result<u64, StoreError> {
        self.read(|c| count_children(c, id))
    }
}

/// Deletes the future roles of a group and stamps the others archived.
fn archive_roles(
    c: &mut impl GenericClient,
    id: GroupId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM roles WHERE group_id = $1 AND archived_at IS NULL AND start_on > $2",
        &[&id.0, &date_text(now.date_naive())],
    )?;
    c.execute(
        "UPDATE roles SET archived_at = $1, updated_at = $1 \
         WHERE group_id = $2 AND archived_at IS NULL",
        &[&timestamp_text(now), &id.0],
    )?;
    Ok(())
}

/// Moves `g` below `target`: one update rewrites the paths of the whole
/// subtree, a second one the layer of every member of the subtree that
/// shared the old layer (unless `g` is a layer itself, whose subtree keeps
/// its layers).
fn move_subtree(
    c: &mut impl GenericClient,
    g: &Group,
    target: &Group,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let old = path_text(&g.path);
    let new = format!("{}{}/", path_text(&target.path), g.id);
    let kept_from = i32::try_from(old.len() + 1).map_err(rule)?;
    c.execute(
        "UPDATE groups SET path = $1::text || substr(path, $2::integer) \
         WHERE path >= $3 AND path < $4",
        &[&new, &kept_from, &old, &path_upper(&old)],
    )?;
    c.execute(
        "UPDATE groups SET parent_id = $1, updated_at = $2 WHERE id = $3",
        &[&target.id.0, &timestamp_text(now), &g.id.0],
    )?;
    if !g.is_layer() {
        c.execute(
            "UPDATE groups SET layer_group_id = $1 \
             WHERE path >= $2 AND path < $3 AND layer_group_id = $4",
            &[
                &target.layer_group_id.0,
                &new,
                &path_upper(&new),
                &g.layer_group_id.0,
            ],
        )?;
    }
    Ok(())
}
