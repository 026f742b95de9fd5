//! Rows to domain values, once for every SQL store: each store implements
//! [`Columns`] for its driver's row type, and the functions here read a row
//! selected with the column lists of `schema.sql`'s tables, by column name.
//!
//! The column lists are macros, so that they can be spliced into SQL text
//! with `concat!` at compile time; each store's statements select with
//! them and the aliases they name.

use std::error::Error;

/// The column list of `groups`, selected with the alias `g`.
macro_rules! group_columns {
    () => {
        "g.id, g.parent_id, g.path, g.layer_group_id, g.type, g.name, g.short_name, \
         g.email, g.description, g.address_care_of, g.street, g.housenumber, g.postbox, \
         g.zip_code, g.town, g.country, g.created_at, g.updated_at, g.deleted_at, \
         g.archived_at"
    };
}

/// The public columns of `people` (no login data), with the alias `p`.
macro_rules! person_columns {
    () => {
        "p.id, p.first_name, p.last_name, p.nickname, p.company_name, p.company, \
         p.email, p.address_care_of, p.street, p.housenumber, p.postbox, p.zip_code, \
         p.town, p.country, p.gender, p.birthday, p.language, p.additional_information, \
         p.primary_group_id, p.contact_data_visible, p.created_at, p.updated_at"
    };
}

/// The column list of `roles`, selected with the alias `r`.
macro_rules! role_columns {
    () => {
        "r.id, r.person_id, r.group_id, r.type, r.label, r.start_on, r.end_on, \
         r.archived_at, r.terminated, r.created_at, r.updated_at"
    };
}

/// The login columns of `people`, read by [`login`].
pub(crate) const LOGIN_COLUMNS: &str = "id, encrypted_password, failed_attempts, locked_at";

use chrono::{DateTime, NaiveDate, Utc};

use super::sql::{parse_date, parse_path, parse_timestamp};
use crate::group::{Address, Group};
use crate::id::{ContactId, GroupId, PersonId, RoleId};
use crate::person::{AdditionalEmail, Person, PhoneNumber};
use crate::role::Role;
use crate::store::Login;

/// Typed access to the named columns of one result row.
pub(crate) trait Columns {
    /// The driver's error for a missing column or a value of another type.
    type Error;

    /// A BIGINT column.
    fn int(&self, name: &str) -> Result<i64, Self::Error>;
    /// A nullable BIGINT column.
    fn opt_int(&self, name: &str) -> Result<Option<i64>, Self::Error>;
    /// A small non-negative INTEGER column (a count).
    fn count(&self, name: &str) -> Result<u32, Self::Error>;
    /// A TEXT column.
    fn text(&self, name: &str) -> Result<String, Self::Error>;
    /// A nullable TEXT column.
    fn opt_text(&self, name: &str) -> Result<Option<String>, Self::Error>;
    /// A BOOLEAN column.
    fn flag(&self, name: &str) -> Result<bool, Self::Error>;
    /// The error for a column whose stored text does not parse.
    fn invalid(&self, name: &str, cause: Box<dyn Error + Send + Sync>) -> Self::Error;
}

fn timestamp<R: Columns>(row: &R, name: &str) -> Result<DateTime<Utc>, R::Error> {
    let text = row.text(name)?;
    parse_timestamp(&text).map_err(|e| row.invalid(name, Box::new(e)))
}

fn opt_timestamp<R: Columns>(row: &R, name: &str) -> Result<Option<DateTime<Utc>>, R::Error> {
    match row.opt_text(name)? {
        None => Ok(None),
        Some(text) => parse_timestamp(&text)
            .map(Some)
            .map_err(|e| row.invalid(name, Box::new(e))),
    }
}

fn opt_date<R: Columns>(row: &R, name: &str) -> Result<Option<NaiveDate>, R::Error> {
    match row.opt_text(name)? {
        None => Ok(None),
        Some(text) => parse_date(&text)
            .map(Some)
            .map_err(|e| row.invalid(name, Box::new(e))),
    }
}

fn address<R: Columns>(row: &R) -> Result<Address, R::Error> {
    Ok(Address {
        address_care_of: row.opt_text("address_care_of")?,
        street: row.opt_text("street")?,
        housenumber: row.opt_text("housenumber")?,
        postbox: row.opt_text("postbox")?,
        zip_code: row.opt_text("zip_code")?,
        town: row.opt_text("town")?,
        country: row.opt_text("country")?,
    })
}

/// A row of the `groups` columns.
pub(crate) fn group<R: Columns>(row: &R) -> Result<Group, R::Error> {
    let id = GroupId(row.int("id")?);
    let path = row.text("path")?;
    Ok(Group {
        id,
        parent_id: row.opt_int("parent_id")?.map(GroupId),
        path: parse_path(&path).map_err(|e| row.invalid("path", Box::new(e)))?,
        // Only unset between the insert and the update that follows it in
        // the same transaction.
        layer_group_id: row.opt_int("layer_group_id")?.map_or(id, GroupId),
        group_type: row.text("type")?,
        name: row.text("name")?,
        short_name: row.opt_text("short_name")?,
        email: row.opt_text("email")?,
        description: row.opt_text("description")?,
        address: address(row)?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
        deleted_at: opt_timestamp(row, "deleted_at")?,
        archived_at: opt_timestamp(row, "archived_at")?,
    })
}

/// A row of the public `people` columns (no login data).
pub(crate) fn person<R: Columns>(row: &R) -> Result<Person, R::Error> {
    Ok(Person {
        id: PersonId(row.int("id")?),
        first_name: row.opt_text("first_name")?,
        last_name: row.opt_text("last_name")?,
        nickname: row.opt_text("nickname")?,
        company_name: row.opt_text("company_name")?,
        is_company: row.flag("company")?,
        email: row.opt_text("email")?,
        address: address(row)?,
        gender: row.opt_text("gender")?,
        birthday: opt_date(row, "birthday")?,
        language: row.text("language")?,
        additional_information: row.opt_text("additional_information")?,
        primary_group_id: row.opt_int("primary_group_id")?.map(GroupId),
        contact_data_visible: row.flag("contact_data_visible")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

/// A row of the `roles` columns.
pub(crate) fn role<R: Columns>(row: &R) -> Result<Role, R::Error> {
    Ok(Role {
        id: RoleId(row.int("id")?),
        person_id: PersonId(row.int("person_id")?),
        group_id: GroupId(row.int("group_id")?),
        role_type: row.text("type")?,
        label: row.opt_text("label")?,
        start_on: opt_date(row, "start_on")?,
        end_on: opt_date(row, "end_on")?,
        archived_at: opt_timestamp(row, "archived_at")?,
        is_terminated: row.flag("terminated")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

/// A row of `id, encrypted_password, failed_attempts, locked_at`.
pub(crate) fn login<R: Columns>(row: &R) -> Result<Login, R::Error> {
    Ok(Login {
        person_id: PersonId(row.int("id")?),
        password_hash: row.opt_text("encrypted_password")?,
        failed_attempts: row.count("failed_attempts")?,
        locked_at: opt_timestamp(row, "locked_at")?,
    })
}

/// A row of `additional_emails`.
pub(crate) fn additional_email<R: Columns>(row: &R) -> Result<AdditionalEmail, R::Error> {
    Ok(AdditionalEmail {
        id: ContactId(row.int("id")?),
        person_id: PersonId(row.int("person_id")?),
        email: row.text("email")?,
        label: row.text("label")?,
        is_public: row.flag("public")?,
        is_mailing: row.flag("mailings")?,
    })
}

/// A row of `phone_numbers`.
pub(crate) fn phone_number<R: Columns>(row: &R) -> Result<PhoneNumber, R::Error> {
    Ok(PhoneNumber {
        id: ContactId(row.int("id")?),
        person_id: PersonId(row.int("person_id")?),
        number: row.text("number")?,
        label: row.text("label")?,
        is_public: row.flag("public")?,
    })
}

/// A row of `person_id, created_at, expires_at` of `sessions`.
pub(crate) fn session<R: Columns>(row: &R) -> Result<crate::store::Session, R::Error> {
    Ok(crate::store::Session {
        person_id: PersonId(row.int("person_id")?),
        created_at: timestamp(row, "created_at")?,
        expires_at: timestamp(row, "expires_at")?,
    })
}

/// The session columns of [`signed_in`], with these aliases, after the
/// person columns (whose names they would otherwise repeat). The stores
/// add `groups_stamp` and `memberships_stamp`, which they keep differently.
pub(crate) const SIGNED_IN_COLUMNS: &str = "s.created_at AS session_created_at, \
     s.expires_at AS session_expires_at, a.stamp AS access_stamp";

/// A row of `person_columns!()` and [`SIGNED_IN_COLUMNS`], the person and
/// the stamps left-joined (a missing stamp is an error, not a zero: a
/// constant stamp would keep a cached value forever).
pub(crate) fn signed_in<R: Columns>(row: &R) -> Result<crate::store::SignedIn, R::Error> {
    let person = person(row)?;
    let stamp = |name: &str| -> Result<i64, R::Error> {
        row.opt_int(name)?.ok_or_else(|| {
            row.invalid(
                name,
                "no cache stamp: the rows of migration 10 are missing".into(),
            )
        })
    };
    Ok(crate::store::SignedIn {
        session: crate::store::Session {
            person_id: person.id,
            created_at: timestamp(row, "session_created_at")?,
            expires_at: timestamp(row, "session_expires_at")?,
        },
        stamps: crate::store::Stamps {
            access: stamp("access_stamp")?,
            groups: stamp("groups_stamp")?,
            memberships: stamp("memberships_stamp")?,
        },
        person,
    })
}
