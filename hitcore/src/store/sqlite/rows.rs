//! Rows to domain values: rusqlite's rows read through the store-neutral
//! functions of `store::row`, which the PostgreSQL store uses too.

use std::error::Error;

use rusqlite::Row;
use rusqlite::types::Type;

use crate::group::Group;
use crate::person::{AdditionalEmail, Person, PhoneNumber};
use crate::role::Role;
use crate::store::row::{self, Columns};
use crate::store::{Login, Session};

// One wrapper per shared function: rusqlite's `query_map` wants a function
// of a row of any lifetime, which a generic function named at one row type
// is not.

/// A row of `group_columns!()`.
pub(super) fn group(r: &Row<'_>) -> rusqlite::Result<Group> {
    row::group(r)
}

/// A row of `person_columns!()`.
pub(super) fn person(r: &Row<'_>) -> rusqlite::Result<Person> {
    row::person(r)
}

/// A row of `role_columns!()`.
pub(super) fn role(r: &Row<'_>) -> rusqlite::Result<Role> {
    row::role(r)
}

/// A row of `LOGIN_COLUMNS`.
pub(super) fn login(r: &Row<'_>) -> rusqlite::Result<Login> {
    row::login(r)
}

/// A row of `person_id, created_at, expires_at` of `sessions`.
pub(super) fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    row::session(r)
}

/// A row of `additional_emails`.
pub(super) fn additional_email(r: &Row<'_>) -> rusqlite::Result<AdditionalEmail> {
    row::additional_email(r)
}

/// A row of `phone_numbers`.
pub(super) fn phone_number(r: &Row<'_>) -> rusqlite::Result<PhoneNumber> {
    row::phone_number(r)
}

impl Columns for Row<'_> {
    type Error = rusqlite::Error;

    fn int(&self, name: &str) -> rusqlite::Result<i64> {
        self.get(name)
    }

    fn opt_int(&self, name: &str) -> rusqlite::Result<Option<i64>> {
        self.get(name)
    }

    fn count(&self, name: &str) -> rusqlite::Result<u32> {
        self.get(name)
    }

    fn text(&self, name: &str) -> rusqlite::Result<String> {
        self.get(name)
    }

    fn opt_text(&self, name: &str) -> rusqlite::Result<Option<String>> {
        self.get(name)
    }

    fn flag(&self, name: &str) -> rusqlite::Result<bool> {
        self.get(name)
    }

    fn invalid(&self, name: &str, cause: Box<dyn Error + Send + Sync>) -> rusqlite::Error {
        let index = self.as_ref().column_index(name).unwrap_or_default();
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, cause)
    }
}
