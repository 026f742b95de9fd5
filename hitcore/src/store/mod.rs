//! The repository traits the web tier and the workers talk to, one per
//! aggregate, gathered under [`Store`]; and [`StoreError`].
//!
//! Implementations live in submodules behind cargo features (`sqlite` and
//! `postgres`, both on by default); [`open`] picks one from a database URL.
//! They execute what the domain modules decide; a rule that can be stated
//! without the database belongs in the domain module, not here. What the
//! SQL stores share sits in the private `sql` (text forms, list
//! parameters) and `row` (reading rows) modules; [`migration`] holds the
//! numbered schema changes and the runner both apply them with.
//! Every mutating method takes a [`Permit`], so no caller reaches it without
//! having asked [`crate::ability`].

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::ability::{
    ArchiveGroup, CreateGroup, CreatePerson, CreateRole, DestroyGroup, DestroyRole, ManageJob,
    MoveGroup, Permit, SearchScope, SetPassword, UpdateEmail, UpdateGroup, UpdatePerson,
    UpdateRole,
};
use crate::group::{Group, GroupPatch, NewGroup};
use crate::id::{ContactId, GroupId, JobId, PersonId, RoleId, WorkerId};
use crate::jobs::{Job, NewJob, Progress};
use crate::person::{AdditionalEmail, ContactInput, Person, PersonPatch, PhoneNumber};
use crate::picture::PictureRef;
use crate::role::{NewRole, RemoveOutcome, Role, RolePatch};

// `row` first: its column-list macros are used by the stores below.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[macro_use]
mod row;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod event_rows;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod jobs;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod participation_row;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod qualification_rows;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod search;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

// Numbered migrations after `schema.sql`, and the runner both stores share.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod migration;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

// Bulk loads for generated data sets (the scale generator).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod bulk;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use bulk::{BulkLoad, LoadBulk, open_bulk};

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist (or is deleted where that matters).
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the change; `field` names the column.
    #[error("{field} is already taken")]
    Conflict { field: String },
    /// The change breaks a domain rule the store enforces atomically.
    #[error("refused: {0}")]
    Rule(String),
    /// The database failed; the driver's error is the source.
    #[error("database error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database cannot be reached right now: the connection was lost
    /// or refused, the server is shutting down, or no connection became
    /// free in time. The same call may succeed in a moment: the pool drops
    /// dead connections and reconnects by itself. The driver's error is
    /// the source.
    #[error("the database is not reachable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Which groups a people list covers (hitobito's `range`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupScope {
    /// Roles in this group only.
    Group(GroupId),
    /// Roles in any group of this group's layer.
    Layer(GroupId),
    /// Roles in this group's whole subtree.
    Deep(GroupId),
}

/// Which role holders a viewer may see in a list (section 4.4); decided by
/// [`crate::ability::people_list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListFilter {
    /// Every holder of the listed roles.
    All,
    /// Only holders of these role types (those visible from above).
    RoleTypes(Vec<String>),
    /// Only people whose contact data is visible.
    ContactDataOnly,
}

/// A people-list query: the groups, who may be seen, optional filters, a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeopleQuery {
    pub scope: GroupScope,
    pub filter: ListFilter,
    /// Only roles of these types count (e.g. the member kinds by default).
    pub role_types: Option<Vec<String>>,
    /// Matches first name, last name, nickname, company name, email or town
    /// by prefix of a word, ignoring case.
    pub text: Option<String>,
    /// Roles active on this day count.
    pub today: NaiveDate,
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

/// One page of results and the total over all pages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    /// The number of pages, at least one.
    pub fn pages(&self) -> u32 {
        let per = u64::from(self.per_page.max(1));
        u32::try_from(self.total.div_ceil(per).max(1)).unwrap_or(u32::MAX)
    }
}

/// A person in a list, with their roles in the listed groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListedPerson {
    pub person: Person,
    pub roles: Vec<Role>,
}

/// Login data of a person (never part of [`Person`], so it is never
/// rendered or exported by accident).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub person_id: PersonId,
    /// The PHC string of an argon2id hash; none until a password is set.
    pub password_hash: Option<String>,
    pub failed_attempts: u32,
    pub locked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("person_id", &self.person_id)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("failed_attempts", &self.failed_attempts)
            .field("locked_at", &self.locked_at)
            .finish()
    }
}

/// A browser session, found by the hash of its cookie token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub person_id: PersonId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The version stamps of what the caches hold (see [`crate::cache`]).
///
/// The database gives a stamp a new random value in the transaction of
/// every write to what it covers (triggers of migration 10), so a value
/// cached under a key that embeds the stamps it was computed from is
/// never read again once it is out of date, whichever process wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamps {
    /// The person's roles: new with every write to one of them.
    pub access: i64,
    /// The group tree: new with every write to `groups`.
    pub groups: i64,
    /// Who the mailing lists reach: new with every write to roles, people
    /// (insert, delete, email), additional emails, lists and subscriptions.
    pub memberships: i64,
}

/// A valid session with its person and the [`Stamps`], read together by
/// [`AuthRepo::signed_in`].
#[derive(Clone, Debug, PartialEq)]
pub struct SignedIn {
    pub session: Session,
    pub person: Person,
    pub stamps: Stamps,
}

/// Reading and changing the group tree.
pub trait GroupRepo {
    /// The group with this id, deleted or not.
    fn group(&self, id: GroupId) -> Result<Option<Group>, StoreError>;
    /// Every group, deleted ones included; small enough to load whole.
    fn all_groups(&self) -> Result<Vec<Group>, StoreError>;
    /// Inserts a plan from [`crate::group::plan_create`] (or `plan_root`)
    /// in one transaction; returns the groups in plan order.
    ///
    /// # Errors
    /// [`StoreError::Rule`], with nothing written, when the permit does not
    /// cover the parent, the parent is deleted or archived, or a parent
    /// would get a second child of a static-name type.
    fn create_groups(
        &self,
        permit: &Permit<CreateGroup>,
        plan: &[NewGroup],
        now: DateTime<Utc>,
    ) -> Result<Vec<Group>, StoreError>;
    /// Saves validated fields.
    fn update_group(
        &self,
        permit: &Permit<UpdateGroup>,
        patch: &GroupPatch,
        now: DateTime<Utc>,
    ) -> Result<Group, StoreError>;
    /// Moves a group and its subtree below a new parent, rewriting paths and
    /// the layer of every descendant that shared the old layer.
    ///
    /// # Errors
    /// [`StoreError::Rule`] for what [`crate::group::check_move`] refuses,
    /// and when the new parent has a child of the group's static-name type.
    fn move_group(
        &self,
        permit: &Permit<MoveGroup>,
        now: DateTime<Utc>,
    ) -> Result<Group, StoreError>;
    /// Soft-deletes a group without subgroups; its roles are removed with
    /// the role-remove semantics (young ones deleted, older ones ended).
    fn delete_group(
        &self,
        permit: &Permit<DestroyGroup>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Archives a group: future roles deleted, the rest stamped archived.
    fn archive_group(
        &self,
        permit: &Permit<ArchiveGroup>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The number of non-deleted subgroups of a group.
    fn child_count(&self, id: GroupId) -> Result<u64, StoreError>;
}

/// Reading and changing people and their contact accounts.
pub trait PersonRepo {
    /// The person with this id.
    fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError>;
    /// The people with these ids, in no particular order.
    fn people(&self, ids: &[PersonId]) -> Result<Vec<Person>, StoreError>;
    /// The person with this email, compared case-insensitively.
    fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError>;
    /// One page of a group's people list (two or three queries, never one
    /// per person).
    fn people_list(&self, query: &PeopleQuery) -> Result<Page<ListedPerson>, StoreError>;
    /// Creates a person together with their first role, atomically.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] with field `email` when the email is taken.
    fn create_person(
        &self,
        permit: &Permit<CreatePerson>,
        patch: &PersonPatch,
        role: &NewRole,
        now: DateTime<Utc>,
    ) -> Result<(Person, Role), StoreError>;
    /// Saves validated fields. The email changes only when `email` is given.
    fn update_person(
        &self,
        permit: &Permit<UpdatePerson>,
        email: Option<&Permit<UpdateEmail>>,
        patch: &PersonPatch,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError>;
    /// The additional emails of a person.
    fn additional_emails(&self, id: PersonId) -> Result<Vec<AdditionalEmail>, StoreError>;
    /// The phone numbers of a person.
    fn phone_numbers(&self, id: PersonId) -> Result<Vec<PhoneNumber>, StoreError>;
    /// The additional emails and phone numbers of many people, in two
    /// queries however many people there are (exports read them a page at
    /// a time); each list is ordered by person, then id.
    fn contacts_of_people(
        &self,
        ids: &[PersonId],
    ) -> Result<(Vec<AdditionalEmail>, Vec<PhoneNumber>), StoreError>;
    /// Adds a validated additional email.
    fn add_additional_email(
        &self,
        permit: &Permit<UpdatePerson>,
        input: &ContactInput,
    ) -> Result<AdditionalEmail, StoreError>;
    /// Adds a validated phone number.
    fn add_phone_number(
        &self,
        permit: &Permit<UpdatePerson>,
        input: &ContactInput,
    ) -> Result<PhoneNumber, StoreError>;
    /// Removes an additional email or phone number of the permitted person.
    fn remove_contact(
        &self,
        permit: &Permit<UpdatePerson>,
        id: ContactId,
    ) -> Result<(), StoreError>;
    /// The number of people stored.
    fn person_count(&self) -> Result<u64, StoreError>;
    /// The picture of a person, if one was uploaded (see
    /// [`crate::picture`]); none for an unknown person too.
    fn person_picture(&self, id: PersonId) -> Result<Option<PictureRef>, StoreError>;
    /// Records the permitted person's picture, or that they have none, and
    /// returns the picture it replaces, whose files the caller then
    /// deletes from the storage. Read and change are one transaction, so
    /// of two uploads at once each learns the picture it replaced.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a person that does not exist.
    fn set_person_picture(
        &self,
        permit: &Permit<UpdatePerson>,
        picture: Option<&PictureRef>,
        now: DateTime<Utc>,
    ) -> Result<Option<PictureRef>, StoreError>;
}

/// Reading and changing roles. Each change also refreshes the person's
/// primary group and contact-data visibility in the same transaction.
pub trait RoleRepo {
    /// The role with this id.
    fn role(&self, id: RoleId) -> Result<Option<Role>, StoreError>;
    /// All roles of a person that are not archived: ended, active and future.
    fn roles_of_person(&self, id: PersonId) -> Result<Vec<Role>, StoreError>;
    /// The same for many people in one query.
    fn roles_of_people(&self, ids: &[PersonId]) -> Result<Vec<Role>, StoreError>;
    /// Adds a validated role.
    fn create_role(
        &self,
        permit: &Permit<CreateRole>,
        role: &NewRole,
        now: DateTime<Utc>,
    ) -> Result<Role, StoreError>;
    /// Saves a validated label and dates.
    fn update_role(
        &self,
        permit: &Permit<UpdateRole>,
        patch: &RolePatch,
        now: DateTime<Utc>,
    ) -> Result<Role, StoreError>;
    /// Removes a role per [`crate::role::remove_outcome`] and says what it did.
    ///
    /// # Errors
    /// [`StoreError::Rule`] for an archived role, which is read-only.
    fn remove_role(
        &self,
        permit: &Permit<DestroyRole>,
        now: DateTime<Utc>,
    ) -> Result<RemoveOutcome, StoreError>;
}

/// Logins and browser sessions.
pub trait AuthRepo {
    /// The login data of the person with this email (case-insensitive).
    fn login_by_email(&self, email: &str) -> Result<Option<Login>, StoreError>;
    /// Counts a failed login; the fifth in a row locks the account.
    fn record_failed_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<Login, StoreError>;
    /// Clears the failed-login count and any lock after a good login.
    fn record_good_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Stores a new argon2id hash (a PHC string).
    fn set_password_hash(
        &self,
        permit: &Permit<SetPassword>,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores a session under the SHA-256 hash of its cookie token.
    fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError>;
    /// The unexpired session with this token hash.
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError>;
    /// The unexpired session with this token hash, its person and the
    /// cache [`Stamps`] (the person's and the global ones), in one query:
    /// what every signed-in request starts with.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database holds no stamps for the
    /// person or none at all (rows that only a hand edit removes).
    fn signed_in(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedIn>, StoreError>;
    /// Ends a session (logout).
    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Removes expired sessions and says how many.
    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Ends every session of a person except the one with `keep` (the
    /// browser that changed the password), and says how many ended.
    fn end_other_sessions(&self, id: PersonId, keep: Option<&str>) -> Result<u64, StoreError>;
}

/// A search needs a word of at least this many characters; shorter text
/// finds nothing, without a query.
pub const SEARCH_MIN_CHARS: usize = 2;

/// Whether `text` has a word (a run of letters and digits) of at least
/// [`SEARCH_MIN_CHARS`] characters, so that a search for it runs at all.
pub fn is_searchable(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|word| word.chars().count() >= SEARCH_MIN_CHARS)
}

/// A full-text search: the text as typed, what the viewer may find, and
/// how many hits to return per kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Each word (a run of letters and digits) must start a word of some
    /// searched field; case and accents do not matter. At most five words
    /// count.
    pub text: String,
    /// From [`crate::ability::search_scope`].
    pub scope: SearchScope,
    /// Roles active on this day make their holders visible.
    pub today: NaiveDate,
    /// The most hits to return, between 1 and 100.
    pub limit: u32,
}

/// Full-text search over people and groups, limited to what the viewer
/// may see.
///
/// Hits come best first: those whose name fields are the words, then
/// those whose name fields start with them, then the rest; by name within
/// each tier. When a tier has more matches than fit, those taken are the
/// ones stored first (lowest ids): the indexes hand them out in that order
/// without reading every match, which keeps a two-letter search quick at
/// any size.
pub trait SearchRepo {
    /// The people whose first name, last name, nickname, company name,
    /// email or town match, among those the query's scope lets the viewer
    /// see. Empty, without a query, for text without a word of
    /// [`SEARCH_MIN_CHARS`] characters.
    fn search_people(&self, query: &SearchQuery) -> Result<Vec<Person>, StoreError>;
    /// The non-deleted groups whose name, short name, email or town match;
    /// none when the scope sees no groups, or the text is too short.
    fn search_groups(&self, query: &SearchQuery) -> Result<Vec<Group>, StoreError>;
}

/// The job queue (see [`crate::jobs`]): what the web tier enqueues and
/// the workers claim, run and settle, safe for any number of processes.
///
/// Every change a worker makes to a claimed job names the worker, and
/// applies only while that worker still holds the job: a worker that was
/// presumed dead and comes back cannot settle a job another worker took
/// over.
pub trait JobQueue {
    /// Adds a job; returns its id. A job with a `singleton_key` is not
    /// added (`None`) while another with the same key is pending or
    /// running. A job due at `now` wakes the workers waiting in
    /// [`JobQueue::wait_for_jobs`].
    fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<JobId>, StoreError>;
    /// Adds many jobs in one transaction (no singletons among them);
    /// returns their ids in the order of `jobs`.
    ///
    /// # Errors
    /// [`StoreError::Rule`], with nothing added, when a job has a
    /// `singleton_key`.
    fn enqueue_many(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<Vec<JobId>, StoreError>;
    /// Moves the pending job with this singleton key to `run_at` when it
    /// is due later and has never been tried (a retry keeps its back-off);
    /// returns whether it moved. A recurring job that an earlier start
    /// scheduled on a longer interval so runs on the new one at once.
    fn bring_forward(&self, singleton_key: &str, run_at: DateTime<Utc>)
    -> Result<bool, StoreError>;
    /// Records a worker process starting; its heartbeat starts at `now`.
    fn register_worker(
        &self,
        host: &str,
        pid: u32,
        now: DateTime<Utc>,
    ) -> Result<WorkerId, StoreError>;
    /// A live worker's heartbeat.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or stopped worker.
    fn heartbeat(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Records a worker stopping; the jobs it still holds go back to the
    /// queue (their attempt not counted) and their number is returned.
    /// Stopping a stopped worker again changes nothing.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown worker.
    fn stop_worker(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Locks up to `limit` due jobs of `queues` for `worker`, best first
    /// (lowest priority, then earliest `run_at`, then lowest id), counting
    /// an attempt on each. No job is ever held by two workers.
    fn claim(
        &self,
        worker: WorkerId,
        queues: &[String],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    /// Marks jobs the worker holds as done; returns how many it still held.
    /// `locked_at` keeps the start of the attempt.
    fn succeed(
        &self,
        worker: WorkerId,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Records a failed attempt of a job the worker holds: back to the
    /// queue for `retry_at`, or kept as failed when that is `None`.
    /// Returns whether the worker still held it.
    fn fail(
        &self,
        worker: WorkerId,
        id: JobId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Puts jobs the worker holds back in the queue without counting the
    /// attempt (a graceful stop); returns how many it still held.
    fn release(&self, worker: WorkerId, ids: &[JobId]) -> Result<u64, StoreError>;
    /// Saves a running job's progress.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the worker does not hold the job (any
    /// longer): it was taken back, and its attempt should stop.
    fn set_progress(
        &self,
        worker: WorkerId,
        id: JobId,
        progress: Progress,
    ) -> Result<(), StoreError>;
    /// Saves the storage key of the file a running job made.
    ///
    /// # Errors
    /// As for [`JobQueue::set_progress`].
    fn set_result_file(&self, worker: WorkerId, id: JobId, key: &str) -> Result<(), StoreError>;
    /// Takes back the jobs held longer than their `max_run_secs` and those
    /// of workers whose last heartbeat is older than `dead_after`: each
    /// returns to the queue, or is kept as failed when it has used up its
    /// attempts, with `last_error` saying why ("taken back: worker 7 did
    /// not finish within 60 s", "taken back: worker 7 stopped beating").
    /// Returns how many were taken back.
    fn recover(
        &self,
        now: DateTime<Utc>,
        dead_after: std::time::Duration,
    ) -> Result<u64, StoreError>;
    /// Blocks until a job may have become due (another process or thread
    /// enqueued one) or `timeout` has passed; never longer. Returns at once
    /// when a job came since the calling thread's previous wait returned,
    /// so that one enqueued between a thread's empty claim and its wait is
    /// not missed. A zero timeout only looks.
    ///
    /// How far the news reaches differs: PostgreSQL wakes the waiters of
    /// every process; SQLite only those of the enqueuing process (others
    /// find the job when their wait times out). Waking early is allowed:
    /// the caller claims and finds out.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when PostgreSQL's listening connection
    /// cannot be opened or was lost (the next wait opens it again).
    fn wait_for_jobs(&self, timeout: std::time::Duration) -> Result<(), StoreError>;
    /// The job with this id.
    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError>;
    /// The newest `limit` jobs a person enqueued (by `created_at`, then
    /// id).
    fn jobs_of_person(&self, person: PersonId, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// The newest `limit` failed jobs of everyone (by `failed_at`, then
    /// id).
    fn failed_jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// The number of jobs that are pending or running.
    fn open_job_count(&self) -> Result<u64, StoreError>;
    /// Every queue with open jobs (waiting, scheduled, running, and since
    /// when the oldest due job waits) and the number of live workers (not
    /// stopped, heartbeat no older than `dead_after`), at `now`, in one
    /// statement: the gauges of the metrics.
    fn queue_stats(
        &self,
        now: DateTime<Utc>,
        dead_after: std::time::Duration,
    ) -> Result<crate::jobs::QueueStats, StoreError>;
    /// Gives a failed job a fresh set of attempts, due at `now`;
    /// `last_error` keeps why it failed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the job is gone or has not failed;
    /// [`StoreError::Conflict`] on `singleton_key` while another job with
    /// its key is pending or running.
    fn retry_job(&self, permit: &Permit<ManageJob>, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Deletes a failed job.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the job is gone or has not failed.
    fn delete_job(&self, permit: &Permit<ManageJob>) -> Result<(), StoreError>;
    /// Deletes the jobs that succeeded or failed before `cutoff` and
    /// returns them, so that the caller can delete their files.
    fn delete_settled_before(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError>;
}

/// The file of a `sqlite://` or `sqlite:` database URL, if it names one
/// (not for PostgreSQL URLs or in-memory databases).
pub fn sqlite_file(url: &str) -> Option<&std::path::Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let rest = rest.split('?').next().unwrap_or(rest);
    (!rest.is_empty() && !rest.contains(":memory:")).then(|| std::path::Path::new(rest))
}

/// Mailing lists and their subscriptions (sections 6.1-6.3 of the domain
/// description), and the recipients they resolve to.
pub trait MailingListRepo {
    /// The list with this id.
    fn mailing_list(
        &self,
        id: crate::id::MailingListId,
    ) -> Result<Option<crate::mailing_list::MailingList>, StoreError>;
    /// The list with this mail name. Case-insensitive; only lists of groups
    /// neither deleted nor archived.
    fn mailing_list_by_mail_name(
        &self,
        mail_name: &str,
    ) -> Result<Option<crate::mailing_list::MailingList>, StoreError>;
    /// The lists of one group, by name.
    fn mailing_lists_of_group(
        &self,
        group: GroupId,
    ) -> Result<Vec<crate::mailing_list::MailingList>, StoreError>;
    /// Creates a list from validated fields in the permitted group.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `mail_name` when another list has it
    /// (in any case); [`StoreError::NotFound`] for an unknown group;
    /// [`StoreError::Rule`] for an inactive group or a permit for another
    /// group.
    fn create_mailing_list(
        &self,
        permit: &Permit<crate::ability::CreateMailingList>,
        list: &crate::mailing_list::NewMailingList,
        now: DateTime<Utc>,
    ) -> Result<crate::mailing_list::MailingList, StoreError>;
    /// Replaces the permitted list's fields with validated ones.
    ///
    /// # Errors
    /// As for [`MailingListRepo::create_mailing_list`]; `NotFound` for an
    /// unknown list.
    fn update_mailing_list(
        &self,
        permit: &Permit<crate::ability::UpdateMailingList>,
        patch: &crate::mailing_list::MailingListPatch,
        now: DateTime<Utc>,
    ) -> Result<crate::mailing_list::MailingList, StoreError>;
    /// Deletes the permitted list and its subscriptions.
    fn delete_mailing_list(
        &self,
        permit: &Permit<crate::ability::DestroyMailingList>,
    ) -> Result<(), StoreError>;
    /// The list's subscriptions: people first (by id), then groups.
    fn subscriptions(
        &self,
        list: crate::id::MailingListId,
    ) -> Result<Vec<crate::mailing_list::Subscription>, StoreError>;
    /// Adds a subscription to the permitted list.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `subscriber` when the same one exists;
    /// [`StoreError::NotFound`] for an unknown list, person or group;
    /// [`StoreError::Rule`] when a group subscription breaks
    /// [`crate::mailing_list::check_group_subscription`].
    fn add_subscription(
        &self,
        permit: &Permit<crate::ability::ManageSubscriptions>,
        subscriber: &crate::mailing_list::Subscriber,
    ) -> Result<crate::mailing_list::Subscription, StoreError>;
    /// Removes one subscription of the permitted list.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the list has no such subscription.
    fn remove_subscription(
        &self,
        permit: &Permit<crate::ability::ManageSubscriptions>,
        id: crate::id::SubscriptionId,
    ) -> Result<(), StoreError>;
    /// Self-service per 6.3 (delete contradicting exclusion, then include
    /// if not yet subscribed / delete inclusion, then exclude if still
    /// subscribed), in one transaction.
    fn subscribe(
        &self,
        permit: &Permit<crate::ability::SubscribeSelf>,
        today: NaiveDate,
    ) -> Result<(), StoreError>;
    /// The other half of [`MailingListRepo::subscribe`].
    fn unsubscribe(
        &self,
        permit: &Permit<crate::ability::SubscribeSelf>,
        today: NaiveDate,
    ) -> Result<(), StoreError>;
    /// The addresses a list's mail goes to today (6.3: active roles only,
    /// exclusions win, opt-in/opt-out, preferred labels with `main_email`,
    /// fallback to main email + additional emails with mailings=true,
    /// blanks dropped, each address once), ordered by email.
    fn recipients(
        &self,
        list: crate::id::MailingListId,
        today: NaiveDate,
    ) -> Result<Vec<crate::mailing_list::Recipient>, StoreError>;
    /// Number of distinct people who receive the list's mail today.
    fn recipient_count(
        &self,
        list: crate::id::MailingListId,
        today: NaiveDate,
    ) -> Result<u64, StoreError>;
    /// Whether the list reaches `person` today (6.3's `people`), whether
    /// or not they have an address to receive it at.
    fn is_subscribed(
        &self,
        list: crate::id::MailingListId,
        person: PersonId,
        today: NaiveDate,
    ) -> Result<bool, StoreError>;
    /// Whether `email` (any case) is the main or an additional email of a
    /// person who receives the list's mail today (the sender check).
    ///
    /// "Receives" means the list reaches the person
    /// ([`MailingListRepo::is_subscribed`]), as hitobito's sender check
    /// asks; `email` need not be one the mail is delivered to.
    fn is_recipient_email(
        &self,
        list: crate::id::MailingListId,
        email: &str,
        today: NaiveDate,
    ) -> Result<bool, StoreError>;
    /// The list's event subscriptions (section 6.2), by event id.
    fn event_subscriptions(
        &self,
        list: crate::id::MailingListId,
    ) -> Result<Vec<crate::mailing_list::EventSubscription>, StoreError>;
    /// Subscribes the active participants of `event` to the permitted
    /// list. Whether the manager may see the event is the caller's
    /// question for `crate::ability`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `event` when the list has it already;
    /// [`StoreError::NotFound`] for an unknown list or event;
    /// [`StoreError::Rule`] when
    /// [`crate::mailing_list::check_event_subscription`] refuses it on
    /// `today`.
    fn add_event_subscription(
        &self,
        permit: &Permit<crate::ability::ManageSubscriptions>,
        event: crate::id::EventId,
        today: NaiveDate,
    ) -> Result<crate::mailing_list::EventSubscription, StoreError>;
    /// Removes one event subscription of the permitted list.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the list has no such subscription.
    fn remove_event_subscription(
        &self,
        permit: &Permit<crate::ability::ManageSubscriptions>,
        id: crate::id::EventSubscriptionId,
    ) -> Result<(), StoreError>;
    /// The events the list could subscribe on `today`, latest start
    /// first, at most `limit`: those on the list's group or below it with
    /// a date from [`crate::mailing_list::earliest_subscribable_start`]
    /// on, not subscribed yet. Which of them a manager may see is for
    /// `crate::ability`.
    fn subscribable_events(
        &self,
        list: crate::id::MailingListId,
        today: NaiveDate,
        limit: u32,
    ) -> Result<Vec<crate::id::EventId>, StoreError>;
}

/// The list mail pipeline's records: every message fetched from the list
/// mailbox, each list's copy of it, and the delivery state of every
/// recipient, so that a crash at any step loses nothing and sends nothing
/// twice.
pub trait ListMailRepo {
    /// Records a fetched message and the copies of it for lists, in one
    /// transaction with one job per new copy (`job_for` makes it). A
    /// message whose arrival key is known already changes nothing; a copy
    /// a list already has (same list and message key) is skipped.
    fn record_inbound(
        &self,
        mail: &crate::list_mail::NewInboundMail<'_>,
        copies: &[crate::list_mail::NewListMessage],
        job_for: &(dyn Fn(crate::id::ListMessageId) -> NewJob + Sync),
        now: DateTime<Utc>,
    ) -> Result<crate::list_mail::Recorded, StoreError>;

    /// One list's copy of a message.
    fn list_message(
        &self,
        id: crate::id::ListMessageId,
    ) -> Result<Option<crate::list_mail::ListMessage>, StoreError>;

    /// The raw bytes of an inbound message, while they are kept (until
    /// every list's copy is finished).
    fn inbound_raw(&self, id: crate::id::InboundMailId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes the addresses the list's mail goes to `today` as pending
    /// batches of `batch_size` (one SMTP transaction each), unless they
    /// are written already. Returns the number of addresses.
    fn plan_deliveries(
        &self,
        id: crate::id::ListMessageId,
        today: NaiveDate,
        batch_size: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Readies a message's batches for a new attempt: those still marked
    /// as handed over by an earlier attempt that ended without a reply
    /// (the worker died) become uncertain, never sent again; those
    /// deferred by a temporary refusal are pending again. Returns the
    /// number of recipients that became uncertain.
    fn resume_deliveries(&self, id: crate::id::ListMessageId) -> Result<u64, StoreError>;

    /// Those of `batches` still marked as handed over become uncertain,
    /// never sent again: at the end of an attempt that handed them over
    /// and recorded them, their records were lost. Returns the number of
    /// recipients that became uncertain.
    fn mark_uncertain(
        &self,
        id: crate::id::ListMessageId,
        batches: &[u64],
    ) -> Result<u64, StoreError>;

    /// The pending batches numbered above `after` (all when `None`), up
    /// to `limit` of them, in batch order.
    fn pending_batches(
        &self,
        id: crate::id::ListMessageId,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<crate::list_mail::Batch>, StoreError>;

    /// Marks a pending batch as handed over to the mail server;
    /// committed before the message bytes go out. `false` when the batch
    /// was no longer pending (another attempt of the job has it): its
    /// bytes must not go out.
    fn mark_handed(&self, id: crate::id::ListMessageId, batch: u64) -> Result<bool, StoreError>;

    /// Records what the server said about a batch handed over or pending,
    /// and updates the message's counts; the recipients to retry move to
    /// a new batch, deferred to the next attempt. A batch recorded
    /// already is left as it is.
    fn record_batch(
        &self,
        id: crate::id::ListMessageId,
        batch: u64,
        outcome: &crate::list_mail::BatchOutcome,
    ) -> Result<(), StoreError>;

    /// Marks a copy finished (as `state`); once every copy of its inbound
    /// message is finished, the raw bytes are cleared.
    fn finish_list_message(
        &self,
        id: crate::id::ListMessageId,
        state: crate::list_mail::ListMessageState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The copy whose forwarded message carried `token` (for bounces).
    fn list_message_by_token(
        &self,
        token: &str,
    ) -> Result<Option<crate::list_mail::ListMessage>, StoreError>;

    /// The newest copies of messages to `list`, newest first, with their
    /// delivery counts.
    fn list_messages(
        &self,
        list: crate::id::MailingListId,
        limit: u32,
    ) -> Result<Vec<crate::list_mail::ListMessageSummary>, StoreError>;
}

/// Single-use tokens mailed to people: login invitations and password
/// resets (see [`crate::login_token`]). Tokens are found by their hash;
/// the stores never see a token itself.
pub trait TokenRepo {
    /// Stores a new token.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `token_hash` for a hash that is stored
    /// already; [`StoreError::NotFound`] for a person who does not exist.
    fn create_login_token(
        &self,
        token: &crate::login_token::NewLoginToken,
    ) -> Result<(), StoreError>;
    /// The token of `purpose` with this hash if it is open at `now` (not
    /// used, not expired), without using it up: for showing the form the
    /// link leads to.
    fn open_login_token(
        &self,
        token_hash: &str,
        purpose: crate::login_token::TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::login_token::LoginToken>, StoreError>;
    /// Uses up the token of `purpose` with this hash if it is open at
    /// `now`, and returns it (used at `now`); none for an unknown,
    /// expired or used one. Check and change are one statement, so of two
    /// calls at once only one gets the token. In the same transaction
    /// every other open token of the person, of either purpose, is made
    /// void: once a password was set through one link, older links would
    /// only let a reader of the mailbox set it again.
    fn consume_login_token(
        &self,
        token_hash: &str,
        purpose: crate::login_token::TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::login_token::LoginToken>, StoreError>;
    /// When the newest token of `purpose` that is open at `now` was made
    /// for the person; none when they have no open token of it (the
    /// resend limit, [`crate::login_token::may_send_reset`]).
    fn newest_open_login_token(
        &self,
        person: PersonId,
        purpose: crate::login_token::TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// What [`HealthRepo::schema_check`] found: the schema version of the
/// database and the one this build needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaCheck {
    /// The highest entry of `schema_migrations`.
    pub found: i64,
    /// The version this build works with (`migration::LATEST_VERSION`).
    pub expected: i64,
}

impl SchemaCheck {
    /// Whether the database is at exactly the version this build needs:
    /// one behind needs `hitweb migrate`, one ahead a newer build.
    pub fn is_current(&self) -> bool {
        self.found == self.expected
    }
}

/// Events and courses with their dates, questions and attachments
/// (sections 5.1 and 5.2), and the lists of them.
///
/// Counters (`participant_count` ...) are read here and written only by
/// [`ParticipationRepo`]. Adding a question does not create answers for
/// existing participations: whoever reads answers treats a missing row
/// as an empty answer (5.2's back-fill is the participation store's).
pub trait EventRepo {
    /// The event with its groups and dates.
    fn event(&self, id: crate::id::EventId) -> Result<Option<crate::event::Event>, StoreError>;
    /// The event's questions, in their order.
    fn questions(
        &self,
        event: crate::id::EventId,
    ) -> Result<Vec<crate::event::question::Question>, StoreError>;
    /// Creates the event with its groups, dates and questions and a new
    /// random shared access token, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Rule`] when the permit names other groups, or a group
    /// is unknown or deleted; fields must be validated
    /// ([`crate::event::EventPatch::validated`],
    /// [`crate::event::check_groups`]).
    fn create_event(
        &self,
        permit: &Permit<crate::ability::CreateEvent>,
        event: &crate::event::NewEvent,
        now: DateTime<Utc>,
    ) -> Result<crate::event::Event, StoreError>;
    /// Replaces the permitted event's fields and dates (counters, type and
    /// token stay), and with `groups` its groups, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown event or group;
    /// [`StoreError::Rule`] when `groups` is for another event, is empty,
    /// or adds a deleted group. Whether the groups fit the event's type is
    /// [`crate::event::check_groups`]'s question.
    fn update_event(
        &self,
        permit: &Permit<crate::ability::UpdateEvent>,
        patch: &crate::event::EventPatch,
        groups: Option<&Permit<crate::ability::SetEventGroups>>,
        now: DateTime<Utc>,
    ) -> Result<crate::event::Event, StoreError>;
    /// Deletes the permitted event with everything that belongs to it
    /// (dates, questions, participations, answers, attachments' rows).
    /// Returns the storage keys of its attachments, for the caller to
    /// remove.
    ///
    /// # Errors
    /// [`StoreError::Rule`] with [`crate::event::DeleteRefusal`] while
    /// course applications take part in it or name it first.
    fn delete_event(
        &self,
        permit: &Permit<crate::ability::DestroyEvent>,
    ) -> Result<Vec<String>, StoreError>;
    /// Adds a question (validated) at the end of the event's list.
    fn add_question(
        &self,
        permit: &Permit<crate::ability::UpdateEvent>,
        question: &crate::event::question::NewQuestion,
    ) -> Result<crate::event::question::Question, StoreError>;
    /// Removes a question of the permitted event, with its answers.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the event has no such question.
    fn remove_question(
        &self,
        permit: &Permit<crate::ability::UpdateEvent>,
        id: crate::id::QuestionId,
    ) -> Result<(), StoreError>;
    /// The events that have `group` among their groups, upcoming on a day
    /// or in a year, by first date.
    fn events_of_group(
        &self,
        group: GroupId,
        when: crate::event::EventWhen,
    ) -> Result<Vec<crate::event::Event>, StoreError>;
    /// The years in which the group's events have dates, ascending.
    fn event_years(&self, group: GroupId) -> Result<Vec<i32>, StoreError>;
    /// One page of the events a viewer may see ([`crate::ability::EventScope`]),
    /// filtered by type, kind and dates, by first date.
    fn events_list(
        &self,
        query: &crate::event::EventQuery,
    ) -> Result<Page<crate::event::Event>, StoreError>;
    /// The event's attachments, by file name.
    fn attachments(
        &self,
        event: crate::id::EventId,
    ) -> Result<Vec<crate::event::Attachment>, StoreError>;
    /// One attachment.
    fn attachment(
        &self,
        id: crate::id::AttachmentId,
    ) -> Result<Option<crate::event::Attachment>, StoreError>;
    /// Records an attachment whose file is already stored under
    /// `storage_key`.
    fn add_attachment(
        &self,
        permit: &Permit<crate::ability::ManageAttachments>,
        attachment: &crate::event::NewAttachment,
        storage_key: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::event::Attachment, StoreError>;
    /// Removes an attachment of the permitted event and returns it, so the
    /// caller can delete its file.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the event has no such attachment.
    fn remove_attachment(
        &self,
        permit: &Permit<crate::ability::ManageAttachments>,
        id: crate::id::AttachmentId,
    ) -> Result<crate::event::Attachment, StoreError>;
}

/// Participations, event roles, answers and course applications
/// (sections 5.3 and 5.4), with the counters they keep.
///
/// Every change recomputes the event's counters
/// ([`crate::event::application::counts`]) in its own transaction, and
/// the mail jobs a change needs are written in that transaction too.
pub trait ParticipationRepo {
    /// One participation with its roles, the person's name and the
    /// application.
    fn participation(
        &self,
        id: crate::id::ParticipationId,
    ) -> Result<Option<crate::event::participation::ParticipationEntry>, StoreError>;
    /// The person's participation in the event, if any.
    fn participation_of(
        &self,
        event: crate::id::EventId,
        person: PersonId,
    ) -> Result<Option<crate::event::participation::Participation>, StoreError>;
    /// The event's active (or pending) participations, by last name.
    fn participations(
        &self,
        event: crate::id::EventId,
        active: bool,
    ) -> Result<Vec<crate::event::participation::ParticipationEntry>, StoreError>;
    /// The answers of a participation, by question order; questions added
    /// after it was created have no row (an empty answer).
    fn answers(
        &self,
        participation: crate::id::ParticipationId,
    ) -> Result<Vec<crate::event::participation::Answer>, StoreError>;
    /// Registers the permitted person (5.4, 2): the participation, a
    /// participant role, an answer for every question of the event, for
    /// courses the application (first choice this event, the other
    /// priorities, the waiting list when no place is left), the counters,
    /// and the jobs `jobs` makes for the new participation, in one
    /// transaction. Pending for self-applications unless the event assigns
    /// places automatically.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] `{ field: "person" }` when the person is
    /// registered already; [`StoreError::Rule`] with the
    /// [`crate::event::application::ApplyRefusal`] for a self-application
    /// outside the period or without places; [`StoreError::NotFound`] for
    /// an unknown event.
    fn register(
        &self,
        permit: &Permit<crate::ability::CreateParticipation>,
        new: &crate::event::participation::NewParticipation,
        jobs: &(dyn Fn(crate::id::ParticipationId) -> Vec<crate::jobs::NewJob> + Sync),
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<crate::event::participation::Participation, StoreError>;
    /// Deletes the permitted participation with its roles, answers and
    /// application, recomputes the counters and writes `jobs` (the
    /// cancellation mail) in the same transaction.
    fn cancel_participation(
        &self,
        permit: &Permit<crate::ability::DestroyParticipation>,
        jobs: &[crate::jobs::NewJob],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Approves (or rejects) the permitted participation's application;
    /// the two exclude each other.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the participation has no application.
    fn set_approval(
        &self,
        permit: &Permit<crate::ability::ApproveApplication>,
        approved: bool,
    ) -> Result<(), StoreError>;
    /// Gives the participation an event role (5.3): a participation
    /// without application becomes active.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] `{ field: "role_type" }` when it has one.
    fn add_event_role(
        &self,
        permit: &Permit<crate::ability::CreateEventRole>,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<crate::event::participation::EventRole, StoreError>;
    /// Removes an event role (5.3): removing the last role deletes a
    /// participation without application; removing the only participant
    /// role of an application makes it pending instead.
    fn remove_event_role(
        &self,
        permit: &Permit<crate::ability::DestroyEventRole>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The market of the permitted course (5.4, 6): its active
    /// participants, and the pending applications the filter selects, by
    /// priority and name.
    fn market(
        &self,
        event: crate::id::EventId,
        filter: &crate::event::application::MarketFilter,
    ) -> Result<crate::event::participation::Market, StoreError>;
    /// Assigns the pending application to the permitted event: moves it
    /// there (answers re-mapped by identical question text), activates
    /// it, takes it off the waiting list, gives it a participant role if
    /// it has none, and recomputes the counters of both events.
    ///
    /// # Errors
    /// [`StoreError::Rule`] with the
    /// [`crate::event::application::MarketRefusal`].
    fn market_add(
        &self,
        permit: &Permit<crate::ability::UseApplicationMarket>,
        participation: crate::id::ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Takes an assigned participant of the permitted event back to the
    /// applications: pending, other roles removed, moved back to its first
    /// choice, counters of both events recomputed.
    fn market_remove(
        &self,
        permit: &Permit<crate::ability::UseApplicationMarket>,
        participation: crate::id::ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Puts a pending application of the permitted event on (or takes it
    /// off) the waiting list, with a comment.
    fn set_waiting_list(
        &self,
        permit: &Permit<crate::ability::UseApplicationMarket>,
        participation: crate::id::ParticipationId,
        on: bool,
        comment: Option<&str>,
    ) -> Result<(), StoreError>;
    /// The person's participations with their events, newest first (the
    /// person page's event history).
    fn participations_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<crate::event::participation::PersonParticipation>, StoreError>;
    /// The people holding a role of one of `role_types`, active on
    /// `today`, in a non-deleted group of one of `layers` (the approvers
    /// an approval request goes to), ascending.
    fn people_with_roles_in_layers(
        &self,
        layers: &[GroupId],
        role_types: &[String],
        today: NaiveDate,
    ) -> Result<Vec<PersonId>, StoreError>;
}

/// Event kinds, qualification kinds and people's qualifications
/// (section 5.5).
///
/// Qualifying writes `event_participations.qualified` of the
/// participation store's tables, and only that column, in the same
/// transaction as the qualifications it issues.
pub trait QualificationRepo {
    /// Every event kind category, by order and label.
    fn event_kind_categories(
        &self,
    ) -> Result<Vec<crate::event::kind::EventKindCategory>, StoreError>;
    /// Creates a category from a validated patch.
    fn create_event_kind_category(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        patch: &crate::event::kind::CategoryPatch,
    ) -> Result<crate::event::kind::EventKindCategory, StoreError>;
    /// Replaces a category's fields.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown category.
    fn update_event_kind_category(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        id: crate::id::EventKindCategoryId,
        patch: &crate::event::kind::CategoryPatch,
    ) -> Result<crate::event::kind::EventKindCategory, StoreError>;
    /// Deletes a category; its event kinds keep existing without one.
    fn delete_event_kind_category(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        id: crate::id::EventKindCategoryId,
    ) -> Result<(), StoreError>;
    /// The qualification kinds by label; soft-deleted ones only when
    /// `with_deleted`.
    fn qualification_kinds(
        &self,
        with_deleted: bool,
    ) -> Result<Vec<crate::event::kind::QualificationKind>, StoreError>;
    /// One qualification kind, soft-deleted or not.
    fn qualification_kind(
        &self,
        id: crate::id::QualificationKindId,
    ) -> Result<Option<crate::event::kind::QualificationKind>, StoreError>;
    /// Creates a qualification kind from a validated patch.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `label` when a live kind has it.
    fn create_qualification_kind(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        patch: &crate::event::kind::QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<crate::event::kind::QualificationKind, StoreError>;
    /// Replaces a qualification kind's fields.
    ///
    /// # Errors
    /// As for create; [`StoreError::NotFound`] for an unknown kind.
    fn update_qualification_kind(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        id: crate::id::QualificationKindId,
        patch: &crate::event::kind::QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<crate::event::kind::QualificationKind, StoreError>;
    /// Deletes a qualification kind, or marks it deleted when
    /// qualifications or event kinds use it.
    fn delete_qualification_kind(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        id: crate::id::QualificationKindId,
        now: DateTime<Utc>,
    ) -> Result<crate::event::qualification::Removal, StoreError>;
    /// The event kinds with their links, by label; soft-deleted ones
    /// only when `with_deleted`.
    fn event_kinds(
        &self,
        with_deleted: bool,
    ) -> Result<Vec<crate::event::kind::EventKind>, StoreError>;
    /// One event kind with its links, soft-deleted or not.
    fn event_kind(
        &self,
        id: crate::id::EventKindId,
    ) -> Result<Option<crate::event::kind::EventKind>, StoreError>;
    /// Creates an event kind with its links from a validated patch.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown category or qualification
    /// kind.
    fn create_event_kind(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        patch: &crate::event::kind::EventKindPatch,
        now: DateTime<Utc>,
    ) -> Result<crate::event::kind::EventKind, StoreError>;
    /// Replaces an event kind's fields and links.
    ///
    /// # Errors
    /// As for create; [`StoreError::NotFound`] for an unknown kind.
    fn update_event_kind(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        id: crate::id::EventKindId,
        patch: &crate::event::kind::EventKindPatch,
        now: DateTime<Utc>,
    ) -> Result<crate::event::kind::EventKind, StoreError>;
    /// Deletes an event kind with its links, or marks it deleted when
    /// events use it.
    fn delete_event_kind(
        &self,
        permit: &Permit<crate::ability::ManageKinds>,
        id: crate::id::EventKindId,
        now: DateTime<Utc>,
    ) -> Result<crate::event::qualification::Removal, StoreError>;
    /// The person's qualifications, newest start first.
    fn qualifications_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<crate::event::qualification::Qualification>, StoreError>;
    /// The events the person took part in or applied to, with their
    /// roles and dates, latest first (the person page's history).
    fn event_history(
        &self,
        person: PersonId,
    ) -> Result<Vec<crate::event::qualification::EventHistoryEntry>, StoreError>;
    /// The event's active participations, by last and first name, as its
    /// qualification page lists them.
    fn qualification_participants(
        &self,
        event: crate::id::EventId,
    ) -> Result<Vec<crate::event::qualification::QualificationParticipant>, StoreError>;
    /// Marks the permitted participation qualified and issues what
    /// [`crate::event::qualification::plan_qualify`] plans, in one
    /// transaction; returns what was issued (nothing new when qualified
    /// already).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the participation is not one of the
    /// event's; [`StoreError::Rule`] for an event without kind or dates.
    fn qualify(
        &self,
        permit: &Permit<crate::ability::QualifyParticipation>,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::event::qualification::Qualification>, StoreError>;
    /// Marks the permitted participation not qualified and removes what
    /// the course issued to the person on its qualification date, in one
    /// transaction; returns how many qualifications went.
    ///
    /// # Errors
    /// As for [`QualificationRepo::qualify`].
    fn revoke_qualification(
        &self,
        permit: &Permit<crate::ability::QualifyParticipation>,
    ) -> Result<u64, StoreError>;
    /// Adds a qualification by hand (its finish date computed from the
    /// kind).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `start_at` when the person has the same
    /// one; [`StoreError::NotFound`] for an unknown kind.
    fn add_qualification(
        &self,
        permit: &Permit<crate::ability::ManageQualifications>,
        kind: crate::id::QualificationKindId,
        start_at: NaiveDate,
        origin: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<crate::event::qualification::Qualification, StoreError>;
    /// Removes one qualification of the permitted person.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the person has no such qualification.
    fn remove_qualification(
        &self,
        permit: &Permit<crate::ability::ManageQualifications>,
        id: crate::id::QualificationId,
    ) -> Result<(), StoreError>;
}

/// What a participant export reads (section 9.1, participation
/// exports): an event's participants a page at a time, each with what a
/// row of the file shows. Who may export, and which columns, is
/// `crate::ability`'s question.
pub trait ParticipantExportRepo {
    /// One page of the event's active (`active`) or pending participants,
    /// by last name, first name and participation id, each with the
    /// person, the participation with its event roles, and its answers
    /// (five queries a page, however long the page).
    fn participants_for_export(
        &self,
        event: crate::id::EventId,
        active: bool,
        page: u32,
        per_page: u32,
    ) -> Result<Page<crate::export::participants::ExportedParticipant>, StoreError>;
}

/// The readiness probe (`/readyz`, `hitjobs --check`): does the database
/// answer, and is its schema the one this build needs?
pub trait HealthRepo {
    /// Reads the schema version in one round trip to the server.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] while the server cannot be reached;
    /// [`StoreError::Backend`] when the query fails (no
    /// `schema_migrations` table, say).
    fn schema_check(&self) -> Result<SchemaCheck, StoreError>;
}

/// Everything a process needs from the database.
pub trait Store:
    GroupRepo
    + PersonRepo
    + RoleRepo
    + AuthRepo
    + SearchRepo
    + JobQueue
    + MailingListRepo
    + ListMailRepo
    + TokenRepo
    + HealthRepo
    + EventRepo
    + ParticipationRepo
    + QualificationRepo
    + ParticipantExportRepo
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: GroupRepo
        + PersonRepo
        + RoleRepo
        + AuthRepo
        + SearchRepo
        + JobQueue
        + MailingListRepo
        + ListMailRepo
        + TokenRepo
        + HealthRepo
        + EventRepo
        + ParticipationRepo
        + QualificationRepo
        + ParticipantExportRepo
        + Send
        + Sync
{
}

/// The backend a database URL names.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The backend of `url`: PostgreSQL for `postgres://` and `postgresql://`,
/// SQLite for `sqlite:` and for a plain path (no scheme at all).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn backend_of(url: &str) -> Result<Backend, StoreError> {
    let scheme = url.split_once("://").map(|(s, _)| s).or_else(|| {
        url.split_once(':')
            .map(|(s, _)| s)
            .filter(|s| *s == "sqlite")
    });
    match scheme {
        Some("postgres" | "postgresql") => Ok(Backend::Postgres),
        Some("sqlite") | None => Ok(Backend::Sqlite),
        Some(other) => Err(StoreError::Rule(format!(
            "the database URL has the scheme `{other}`; expected sqlite: (or a file path), \
             postgres:// or postgresql://"
        ))),
    }
}

/// Opens the store a database URL names: SQLite for `sqlite://path`,
/// `sqlite:path`, `sqlite::memory:` or a plain path, PostgreSQL for
/// `postgres://...` and `postgresql://...`. An empty database gets the
/// schema; see the backends' `open`.
///
/// Every call on the store blocks; run them off the async executor.
///
/// # Errors
/// [`StoreError::Rule`] for another scheme, or one whose backend this build
/// leaves out; otherwise what the backend's `open` returns.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub fn open(url: &str, org: Arc<crate::Organisation>) -> Result<Arc<dyn Store>, StoreError> {
    match backend_of(url)? {
        Backend::Sqlite => open_sqlite(url, org),
        Backend::Postgres => open_postgres(url, org),
    }
}

/// Brings the schema of the database a URL names (as for [`open`]) up to
/// [`migration::LATEST_VERSION`]: an empty database gets `schema.sql` and
/// every migration, an older one the migrations it lacks, each in a
/// transaction of its own. Runs started at once by several processes apply
/// each migration once: on PostgreSQL the run holds an advisory lock, on
/// SQLite every step is a `BEGIN IMMEDIATE` transaction.
///
/// # Errors
/// [`StoreError::Rule`] for a database that is ahead of this build or was
/// not made by it, or for a URL [`open`] refuses; the driver's errors
/// otherwise ([`StoreError::Unavailable`] when the server cannot be
/// reached), with the failed migration rolled back.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub fn migrate(url: &str) -> Result<migration::Report, StoreError> {
    migrate_to(url, migration::LATEST_VERSION)
}

/// As [`migrate`], but stops at schema `version` (for tests of upgrades
/// and for staged roll-outs); a database already past it is left as it is.
///
/// # Errors
/// As for [`migrate`], and [`StoreError::Rule`] for a version this build
/// does not know.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub fn migrate_to(url: &str, version: i64) -> Result<migration::Report, StoreError> {
    match backend_of(url)? {
        Backend::Sqlite => migrate_sqlite(url, version),
        Backend::Postgres => migrate_postgres(url, version),
    }
}

#[cfg(feature = "sqlite")]
fn migrate_sqlite(url: &str, version: i64) -> Result<migration::Report, StoreError> {
    sqlite::SqliteStore::migrate(url, version)
}

#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
fn migrate_sqlite(_url: &str, _version: i64) -> Result<migration::Report, StoreError> {
    Err(not_built("sqlite"))
}

#[cfg(feature = "postgres")]
fn migrate_postgres(url: &str, version: i64) -> Result<migration::Report, StoreError> {
    postgres::PostgresStore::migrate(url, version)
}

#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
fn migrate_postgres(_url: &str, _version: i64) -> Result<migration::Report, StoreError> {
    Err(not_built("postgres"))
}

#[cfg(feature = "sqlite")]
fn open_sqlite(url: &str, org: Arc<crate::Organisation>) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(sqlite::SqliteStore::open(url, org)?))
}

#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
fn open_sqlite(_url: &str, _org: Arc<crate::Organisation>) -> Result<Arc<dyn Store>, StoreError> {
    Err(not_built("sqlite"))
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, org: Arc<crate::Organisation>) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(postgres::PostgresStore::open(url, org)?))
}

#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
fn open_postgres(_url: &str, _org: Arc<crate::Organisation>) -> Result<Arc<dyn Store>, StoreError> {
    Err(not_built("postgres"))
}

#[cfg(any(
    all(feature = "sqlite", not(feature = "postgres")),
    all(feature = "postgres", not(feature = "sqlite"))
))]
fn not_built(feature: &str) -> StoreError {
    StoreError::Rule(format!(
        "this build has no {feature} store; build hitcore with its `{feature}` feature"
    ))
}

/// `url` with any password replaced by `***`, for logs and messages.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail: Vec<String> = tail
        .split('&')
        .map(|part| match part.split_once("password=") {
            Some((before, _)) if before.is_empty() || before.ends_with('?') => {
                format!("{before}password=***")
            }
            _ => part.to_owned(),
        })
        .collect();
    format!("{scheme}://{authority}{}", tail.join("&"))
}

#[cfg(all(test, any(feature = "sqlite", feature = "postgres")))]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_choose_the_backend() {
        for (url, backend) in [
            ("sqlite://data/hit.db", Backend::Sqlite),
            ("sqlite::memory:", Backend::Sqlite),
            ("sqlite:hit.db", Backend::Sqlite),
            ("data/hit.db", Backend::Sqlite),
            ("postgres://u@127.0.0.1:5432/hit", Backend::Postgres),
            ("postgresql://u@127.0.0.1/hit", Backend::Postgres),
        ] {
            assert_eq!(backend_of(url).expect(url), backend, "{url}");
        }
        let e = backend_of("mysql://u@h/db").expect_err("refused");
        assert!(e.to_string().contains("`mysql`"), "{e}");
    }

    #[test]
    fn passwords_are_masked_in_urls() {
        assert_eq!(
            redacted_url("postgres://hit:s3cret@db:5432/hit?sslmode=disable"),
            "postgres://hit:***@db:5432/hit?sslmode=disable"
        );
        assert_eq!(
            redacted_url("postgres://hit@db/hit?password=s3cret&x=1"),
            "postgres://hit@db/hit?password=***&x=1"
        );
        assert_eq!(redacted_url("sqlite://data/hit.db"), "sqlite://data/hit.db");
        assert_eq!(redacted_url("hit.db"), "hit.db");
    }
}
