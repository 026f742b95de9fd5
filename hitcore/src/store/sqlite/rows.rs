//! Rows to domain values. Each function reads a row selected with the
//! matching column macro of the parent module, by column name.

use rusqlite::Row;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};

use super::{Day, Ts};
use crate::group::{Address, Group};
use crate::id::{ContactId, GroupId, PersonId, RoleId};
use crate::person::{AdditionalEmail, Person, PhoneNumber};
use crate::role::Role;
use crate::store::Login;

/// A stored group path, "1/5/23/", read as its ids.
struct PathIds(Vec<GroupId>);

impl FromSql for PathIds {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<PathIds> {
        value
            .as_str()?
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map(GroupId))
            .collect::<Result<Vec<_>, _>>()
            .map(PathIds)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

fn address(row: &Row<'_>) -> rusqlite::Result<Address> {
    Ok(Address {
        address_care_of: row.get("address_care_of")?,
        street: row.get("street")?,
        housenumber: row.get("housenumber")?,
        postbox: row.get("postbox")?,
        zip_code: row.get("zip_code")?,
        town: row.get("town")?,
        country: row.get("country")?,
    })
}

/// A row of `group_columns!()`.
pub(super) fn group(row: &Row<'_>) -> rusqlite::Result<Group> {
    let id = GroupId(row.get("id")?);
    let layer: Option<i64> = row.get("layer_group_id")?;
    Ok(Group {
        id,
        parent_id: row.get::<_, Option<i64>>("parent_id")?.map(GroupId),
        path: row.get::<_, PathIds>("path")?.0,
        // Only unset between the insert and the update that follows it in
        // the same transaction.
        layer_group_id: layer.map_or(id, GroupId),
        group_type: row.get("type")?,
        name: row.get("name")?,
        short_name: row.get("short_name")?,
        email: row.get("email")?,
        description: row.get("description")?,
        address: address(row)?,
        created_at: row.get::<_, Ts>("created_at")?.0,
        updated_at: row.get::<_, Ts>("updated_at")?.0,
        deleted_at: row.get::<_, Option<Ts>>("deleted_at")?.map(|t| t.0),
        archived_at: row.get::<_, Option<Ts>>("archived_at")?.map(|t| t.0),
    })
}

/// A row of `person_columns!()`.
pub(super) fn person(row: &Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: PersonId(row.get("id")?),
        first_name: row.get("first_name")?,
        last_name: row.get("last_name")?,
        nickname: row.get("nickname")?,
        company_name: row.get("company_name")?,
        is_company: row.get("company")?,
        email: row.get("email")?,
        address: address(row)?,
        gender: row.get("gender")?,
        birthday: row.get::<_, Option<Day>>("birthday")?.map(|d| d.0),
        language: row.get("language")?,
        additional_information: row.get("additional_information")?,
        primary_group_id: row.get::<_, Option<i64>>("primary_group_id")?.map(GroupId),
        contact_data_visible: row.get("contact_data_visible")?,
        created_at: row.get::<_, Ts>("created_at")?.0,
        updated_at: row.get::<_, Ts>("updated_at")?.0,
    })
}

/// A row of `role_columns!()`.
pub(super) fn role(row: &Row<'_>) -> rusqlite::Result<Role> {
    Ok(Role {
        id: RoleId(row.get("id")?),
        person_id: PersonId(row.get("person_id")?),
        group_id: GroupId(row.get("group_id")?),
        role_type: row.get("type")?,
        label: row.get("label")?,
        start_on: row.get::<_, Option<Day>>("start_on")?.map(|d| d.0),
        end_on: row.get::<_, Option<Day>>("end_on")?.map(|d| d.0),
        archived_at: row.get::<_, Option<Ts>>("archived_at")?.map(|t| t.0),
        is_terminated: row.get("terminated")?,
        created_at: row.get::<_, Ts>("created_at")?.0,
        updated_at: row.get::<_, Ts>("updated_at")?.0,
    })
}

/// A row of `id, encrypted_password, failed_attempts, locked_at`.
pub(super) fn login(row: &Row<'_>) -> rusqlite::Result<Login> {
    Ok(Login {
        person_id: PersonId(row.get("id")?),
        password_hash: row.get("encrypted_password")?,
        failed_attempts: row.get("failed_attempts")?,
        locked_at: row.get::<_, Option<Ts>>("locked_at")?.map(|t| t.0),
    })
}

/// A row of `additional_emails`.
pub(super) fn additional_email(row: &Row<'_>) -> rusqlite::Result<AdditionalEmail> {
    Ok(AdditionalEmail {
        id: ContactId(row.get("id")?),
        person_id: PersonId(row.get("person_id")?),
        email: row.get("email")?,
        label: row.get("label")?,
        is_public: row.get("public")?,
        is_mailing: row.get("mailings")?,
    })
}

/// A row of `phone_numbers`.
pub(super) fn phone_number(row: &Row<'_>) -> rusqlite::Result<PhoneNumber> {
    Ok(PhoneNumber {
        id: ContactId(row.get("id")?),
        person_id: PersonId(row.get("person_id")?),
        number: row.get("number")?,
        label: row.get("label")?,
        is_public: row.get("public")?,
    })
}
