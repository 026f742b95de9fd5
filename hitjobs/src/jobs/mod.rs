//! The concrete jobs of the system, and [`registry`], which registers each
//! of them with its handler and declares the recurring ones. A job only
//! does things: what should happen is decided by the `hitcore` function it
//! calls.
//!
//! Each kind is a payload struct implementing [`hitcore::jobs::JobKind`];
//! its `KIND` string is part of the schema (queued rows carry it).

mod cleanup;
mod export;
mod mail;
mod noop;

use std::sync::Arc;

use chrono::NaiveTime;
use hitcore::Organisation;
use hitcore::jobs::Schedule;
use hitcore::storage::Storage;
use hitcore::store::Store;

use crate::registry::Registry;

pub use cleanup::{JobsCleanup, KEEP_SETTLED_JOBS, NoResultFiles, ResultFiles, SessionCleanup};
pub use export::PeopleExport;
pub use mail::MailRetrieve;
pub use noop::Noop;

/// What the jobs need from the process besides the store.
#[derive(Clone)]
pub struct Services {
    /// The organisation definition.
    pub org: Arc<Organisation>,
    /// Where the files that jobs make are kept (`STORAGE_URL`).
    pub storage: Storage,
    /// The root user's email (`HIT_ROOT_EMAIL`), who may do everything.
    pub root_email: Option<String>,
}

impl Services {
    /// The services of a process without a root user.
    pub fn new(org: Arc<Organisation>, storage: Storage) -> Services {
        Services {
            org,
            storage,
            root_email: None,
        }
    }

    /// The same, with `HIT_ROOT_EMAIL`'s value.
    pub fn with_root_email(self, root_email: Option<String>) -> Services {
        Services { root_email, ..self }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("org", &self.org.name)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

/// Expired sessions go every ten minutes.
pub const SESSION_CLEANUP_EVERY: Schedule =
    Schedule::Every(std::time::Duration::from_secs(10 * 60));
/// The list mailbox is read every minute.
pub const MAIL_RETRIEVE_EVERY: Schedule = Schedule::Every(std::time::Duration::from_secs(60));

/// Old jobs go once a day, at 03:30 UTC, when nobody exports anything.
pub fn jobs_cleanup_daily() -> Schedule {
    Schedule::DailyAt(NaiveTime::from_hms_opt(3, 30, 0).unwrap_or(NaiveTime::MIN))
}

/// Every production job kind with its handler, and the recurring jobs.
pub fn registry<S>(services: &Services) -> Registry<S>
where
    S: Store + ?Sized + 'static,
{
    let mut registry = Registry::new();
    registry.register(noop::run::<S>);
    registry.register(cleanup::sessions::<S>);
    let storage = services.storage.clone();
    registry.register(move |job: JobsCleanup, ctx| cleanup::jobs(job, ctx, &storage));
    registry.register(mail::retrieve::<S>);
    let export = services.clone();
    registry.register(move |job: PeopleExport, ctx| {
        let services = export::ExportServices {
            org: &export.org,
            storage: &export.storage,
            root_email: export.root_email.as_deref(),
        };
        export::run(job, ctx, &services)
    });
    registry
        .recur::<SessionCleanup>(SESSION_CLEANUP_EVERY)
        .recur::<JobsCleanup>(jobs_cleanup_daily())
        .recur::<MailRetrieve>(MAIL_RETRIEVE_EVERY);
    registry
}
