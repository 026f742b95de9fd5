//! [`BulkLoad`] on SQLite: prepared statements in one transaction per
//! call, on a connection that skips the disk syncs and holds a larger page
//! cache while it loads.
//!
//! Losing a half-written load to a power cut is harmless (the generator
//! starts from an empty database anyway), which is what makes
//! `synchronous = OFF` acceptable here and nowhere else. The connection
//! gets the settings of [`super::configure`] back before it returns to the
//! pool.

use rusqlite::{Connection, params};
use tracing::instrument;

use super::{SqliteStore, Ts, day};
use crate::ability::Permit;
use crate::group::Group;
use crate::person::Person;
use crate::role::Role;
use crate::store::StoreError;
use crate::store::bulk::{BulkLoad, LoadBulk};
use crate::store::sql::path_text;

/// The settings of a loading connection: no fsync, a 256 MiB page cache so
/// the indexes being filled stay in memory.
const LOADING: &str = "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;";
/// The settings [`super::configure`] gives every connection.
const ORDINARY: &str = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;";

impl BulkLoad for SqliteStore {
    #[instrument(skip_all, fields(groups = groups.len(), people = people.len(), roles = roles.len()))]
    fn bulk_insert(
        &self,
        _permit: &Permit<LoadBulk>,
        groups: &[Group],
        people: &[Person],
        roles: &[Role],
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        conn.execute_batch(LOADING)?;
        let written = insert_all(&mut conn, groups, people, roles);
        let restored = conn.execute_batch(ORDINARY);
        written?;
        Ok(restored?)
    }

    #[instrument(skip_all)]
    fn bulk_finish(&self, _permit: &Permit<LoadBulk>) -> Result<(), StoreError> {
        // Rowids continue after the highest id by themselves; only the
        // statistics and the write-ahead log need attention.
        let conn = self.pool.get()?;
        conn.execute_batch("ANALYZE;")?;
        let _checkpoint: (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        Ok(())
    }
}

fn insert_all(
    conn: &mut Connection,
    groups: &[Group],
    people: &[Person],
    roles: &[Role],
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    insert_groups(&tx, groups)?;
    insert_people(&tx, people)?;
    insert_roles(&tx, roles)?;
    tx.commit()?;
    Ok(())
}

fn insert_groups(conn: &Connection, groups: &[Group]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO groups (id, parent_id, path, layer_group_id, type, name, short_name, \
         email, description, address_care_of, street, housenumber, postbox, zip_code, town, \
         country, created_at, updated_at, deleted_at, archived_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20)",
    )?;
    for g in groups {
        let a = &g.address;
        stmt.execute(params![
            g.id.0,
            g.parent_id.map(|p| p.0),
            path_text(&g.path),
            g.layer_group_id.0,
            g.group_type,
            g.name,
            g.short_name,
            g.email,
            g.description,
            a.address_care_of,
            a.street,
            a.housenumber,
            a.postbox,
            a.zip_code,
            a.town,
            a.country,
            Ts(g.created_at),
            Ts(g.updated_at),
            g.deleted_at.map(Ts),
            g.archived_at.map(Ts),
        ])?;
    }
    Ok(())
}

fn insert_people(conn: &Connection, people: &[Person]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO people (id, first_name, last_name, nickname, company_name, company, email, \
         address_care_of, street, housenumber, postbox, zip_code, town, country, gender, \
         birthday, language, additional_information, primary_group_id, contact_data_visible, \
         created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22)",
    )?;
    for p in people {
        let a = &p.address;
        stmt.execute(params![
            p.id.0,
            p.first_name,
            p.last_name,
            p.nickname,
            p.company_name,
            p.is_company,
            p.email,
            a.address_care_of,
            a.street,
            a.housenumber,
            a.postbox,
            a.zip_code,
            a.town,
            a.country,
            p.gender,
            day(p.birthday),
            p.language,
            p.additional_information,
            p.primary_group_id.map(|g| g.0),
            p.contact_data_visible,
            Ts(p.created_at),
            Ts(p.updated_at),
        ])?;
    }
    Ok(())
}

fn insert_roles(conn: &Connection, roles: &[Role]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO roles (id, person_id, group_id, type, label, start_on, end_on, \
         archived_at, terminated, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in roles {
        stmt.execute(params![
            r.id.0,
            r.person_id.0,
            r.group_id.0,
            r.role_type,
            r.label,
            day(r.start_on),
            day(r.end_on),
            r.archived_at.map(Ts),
            r.is_terminated,
            Ts(r.created_at),
            Ts(r.updated_at),
        ])?;
    }
    Ok(())
}
