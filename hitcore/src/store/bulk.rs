//! Writing a generated data set in bulk: groups, people and roles whose
//! ids, paths, layers and derived person state the caller computed already,
//! written with one transaction per call instead of one per row.
//!
//! This is for tools that fill an empty database, such as the scale
//! generator in [`crate::scale`]; the web tier and the workers never use it.
//! The rules the repository traits enforce on each change (active groups,
//! the primary group, contact-data visibility) are the caller's to keep:
//! the stores write what they are given.

use std::sync::Arc;

use crate::ability::Permit;
use crate::group::Group;
use crate::person::Person;
use crate::role::Role;
use crate::store::{Backend, Store, StoreError, backend_of};

/// Permit target: write generated data straight into the tables. Only
/// [`crate::ability::system`] hands it out, to command-line tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadBulk;

/// A store that can take a generated data set in bulk.
///
/// A load is any number of [`BulkLoad::bulk_insert`] calls followed by one
/// [`BulkLoad::bulk_finish`]; the other methods of [`Store`] work on the
/// data as soon as a call returned.
pub trait BulkLoad: Store {
    /// Inserts the rows as given, ids included, in one transaction: groups
    /// first (parents before their children), then people, then roles.
    ///
    /// Each group's `path` and `layer_group_id`, and each person's
    /// `primary_group_id` and `contact_data_visible`, must be what the
    /// repository methods would have stored (see [`crate::group`] and
    /// [`crate::person::primary_group_after`]).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for an id or email that exists already,
    /// with nothing of the call written; [`StoreError::Backend`] when the
    /// database fails.
    fn bulk_insert(
        &self,
        permit: &Permit<LoadBulk>,
        groups: &[Group],
        people: &[Person],
        roles: &[Role],
    ) -> Result<(), StoreError>;

    /// Ends a load: moves the id generators past the inserted ids, so that
    /// the next group, person or role created the ordinary way gets a new
    /// one, and refreshes the query planner's statistics.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn bulk_finish(&self, permit: &Permit<LoadBulk>) -> Result<(), StoreError>;
}

/// Opens the store `url` names, as [`super::open`] does, for a bulk load.
///
/// # Errors
/// What [`super::open`] returns.
pub fn open_bulk(
    url: &str,
    org: Arc<crate::Organisation>,
) -> Result<Box<dyn BulkLoad>, StoreError> {
    match backend_of(url)? {
        Backend::Sqlite => open_sqlite(url, org),
        Backend::Postgres => open_postgres(url, org),
    }
}

#[cfg(feature = "sqlite")]
fn open_sqlite(url: &str, org: Arc<crate::Organisation>) -> Result<Box<dyn BulkLoad>, StoreError> {
    Ok(Box::new(super::sqlite::SqliteStore::open(url, org)?))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(
    _url: &str,
    _org: Arc<crate::Organisation>,
) -> Result<Box<dyn BulkLoad>, StoreError> {
    Err(StoreError::Rule(
        "this build has no sqlite store; build hitcore with its `sqlite` feature".to_owned(),
    ))
}

#[cfg(feature = "postgres")]
fn open_postgres(
    url: &str,
    org: Arc<crate::Organisation>,
) -> Result<Box<dyn BulkLoad>, StoreError> {
    Ok(Box::new(super::postgres::PostgresStore::open(url, org)?))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(
    _url: &str,
    _org: Arc<crate::Organisation>,
) -> Result<Box<dyn BulkLoad>, StoreError> {
    Err(StoreError::Rule(
        "this build has no postgres store; build hitcore with its `postgres` feature".to_owned(),
    ))
}
