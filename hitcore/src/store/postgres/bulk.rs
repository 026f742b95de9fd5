//! [`BulkLoad`] on PostgreSQL: `COPY ... FROM STDIN` in the binary format,
//! one transaction per call, and the identity sequences, visibility map
//! and statistics brought up to date at the end.
//!
//! COPY sends every row in one stream instead of one round trip per
//! statement; the binary format needs no escaping. The columns are the
//! portable types of `schema.sql`: BIGINT, TEXT (timestamps and dates in
//! their text forms) and BOOLEAN.

use postgres::Transaction;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use tracing::instrument;

use super::{PostgresStore, backend};
use crate::ability::Permit;
use crate::group::Group;
use crate::person::Person;
use crate::role::Role;
use crate::store::StoreError;
use crate::store::bulk::{BulkLoad, LoadBulk};
use crate::store::sql::{date_text, path_text, timestamp_text};

/// The tables a load writes: their identity sequences must move past the
/// ids it supplied, and they are vacuumed. Constants, spliced into
/// statements as names.
const LOADED_TABLES: [&str; 3] = ["groups", "people", "roles"];

impl BulkLoad for PostgresStore {
    #[instrument(skip_all, fields(groups = groups.len(), people = people.len(), roles = roles.len()))]
    fn bulk_insert(
        &self,
        _permit: &Permit<LoadBulk>,
        groups: &[Group],
        people: &[Person],
        roles: &[Role],
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().get().map_err(backend)?;
        let mut tx = conn.transaction()?;
        // The load is repeated from an empty database if it fails, so a
        // commit need not wait for the disk.
        tx.batch_execute("SET LOCAL synchronous_commit = off")?;
        if !groups.is_empty() {
            copy_groups(&mut tx, groups)?;
        }
        if !people.is_empty() {
            copy_people(&mut tx, people)?;
        }
        if !roles.is_empty() {
            copy_roles(&mut tx, roles)?;
        }
        tx.commit()?;
        Ok(())
    }

    #[instrument(skip_all)]
    fn bulk_finish(&self, _permit: &Permit<LoadBulk>) -> Result<(), StoreError> {
        let mut conn = self.pool().get().map_err(backend)?;
        for table in LOADED_TABLES {
            conn.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), m) \
                 FROM (SELECT MAX(id) AS m FROM {table}) AS highest WHERE m IS NOT NULL"
            ))?;
        }
        // VACUUM as well: it marks the new pages all-visible, so that the
        // index-only scans of the people lists need not visit the heap
        // (autovacuum would get there too, minutes later). It cannot run
        // in a transaction; the client is in autocommit here.
        conn.batch_execute(&format!("VACUUM (ANALYZE) {}", LOADED_TABLES.join(", ")))?;
        Ok(())
    }
}

/// Streams `rows` into `COPY table (columns) FROM STDIN` in the binary
/// format; `row` gives each row's values in the order of `types`.
fn copy_rows<T>(
    tx: &mut Transaction<'_>,
    table: &str,
    columns: &str,
    types: &[Type],
    rows: &[T],
    row: impl Fn(
        &T,
        &mut dyn FnMut(&[&(dyn ToSql + Sync)]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let sink = tx.copy_in(&format!(
        "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
    ))?;
    let mut writer = BinaryCopyInWriter::new(sink, types);
    for r in rows {
        row(r, &mut |values| Ok(writer.write(values)?))?;
    }
    writer.finish()?;
    Ok(())
}

fn copy_groups(tx: &mut Transaction<'_>, groups: &[Group]) -> Result<(), StoreError> {
    use Type as T;
    let types = [
        T::INT8,
        T::INT8,
        T::TEXT,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
    ];
    copy_rows(
        tx,
        "groups",
        "id, parent_id, path, layer_group_id, type, name, short_name, email, description, \
         address_care_of, street, housenumber, postbox, zip_code, town, country, created_at, \
         updated_at, deleted_at, archived_at",
        &types,
        groups,
        |g, write| {
            let a = &g.address;
            write(&[
                &g.id.0,
                &g.parent_id.map(|p| p.0),
                &path_text(&g.path),
                &g.layer_group_id.0,
                &g.group_type,
                &g.name,
                &g.short_name,
                &g.email,
                &g.description,
                &a.address_care_of,
                &a.street,
                &a.housenumber,
                &a.postbox,
                &a.zip_code,
                &a.town,
                &a.country,
                &timestamp_text(g.created_at),
                &timestamp_text(g.updated_at),
                &g.deleted_at.map(timestamp_text),
                &g.archived_at.map(timestamp_text),
            ])
        },
    )
}

fn copy_people(tx: &mut Transaction<'_>, people: &[Person]) -> Result<(), StoreError> {
    use Type as T;
    let types = [
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::BOOL,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::BOOL,
        T::TEXT,
        T::TEXT,
    ];
    copy_rows(
        tx,
        "people",
        "id, first_name, last_name, nickname, company_name, company, email, address_care_of, \
         street, housenumber, postbox, zip_code, town, country, gender, birthday, language, \
         additional_information, primary_group_id, contact_data_visible, created_at, updated_at",
        &types,
        people,
        |p, write| {
            let a = &p.address;
            write(&[
                &p.id.0,
                &p.first_name,
                &p.last_name,
                &p.nickname,
                &p.company_name,
                &p.is_company,
                &p.email,
                &a.address_care_of,
                &a.street,
                &a.housenumber,
                &a.postbox,
                &a.zip_code,
                &a.town,
                &a.country,
                &p.gender,
                &p.birthday.map(date_text),
                &p.language,
                &p.additional_information,
                &p.primary_group_id.map(|g| g.0),
                &p.contact_data_visible,
                &timestamp_text(p.created_at),
                &timestamp_text(p.updated_at),
            ])
        },
    )
}

fn copy_roles(tx: &mut Transaction<'_>, roles: &[Role]) -> Result<(), StoreError> {
    use Type as T;
    let types = [
        T::INT8,
        T::INT8,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::BOOL,
        T::TEXT,
        T::TEXT,
    ];
    copy_rows(
        tx,
        "roles",
        "id, person_id, group_id, type, label, start_on, end_on, archived_at, terminated, \
         created_at, updated_at",
        &types,
        roles,
        |r, write| {
            write(&[
                &r.id.0,
                &r.person_id.0,
                &r.group_id.0,
                &r.role_type,
                &r.label,
                &r.start_on.map(date_text),
                &r.end_on.map(date_text),
                &r.archived_at.map(timestamp_text),
                &r.is_terminated,
                &timestamp_text(r.created_at),
                &timestamp_text(r.updated_at),
            ])
        },
    )
}
