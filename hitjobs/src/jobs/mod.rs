//! The concrete jobs of the system, and [`registry`], which registers each
//! of them with its handler and declares the recurring ones. A job only
//! does things: what should happen is decided by the `hitcore` function it
//! calls.
//!
//! Each kind is a payload struct implementing [`hitcore::jobs::JobKind`];
//! its `KIND` string is part of the schema (queued rows carry it).

mod cleanup;
mod event_mails;
mod export;
mod list_mail;
mod mail;
mod noop;
mod notice;
mod notify;
mod participant_export;

use std::sync::Arc;

use chrono::NaiveTime;
use hitcore::Organisation;
use hitcore::jobs::Schedule;
use hitcore::storage::Storage;
use hitcore::store::Store;

use crate::mail::{MailSettings, Mailer, MemoryMailer};
use crate::registry::Registry;

pub use cleanup::{JobsCleanup, KEEP_SETTLED_JOBS, NoResultFiles, ResultFiles, SessionCleanup};
pub use event_mails::EventParticipationMail;
pub use export::PeopleExport;
pub use list_mail::ListMailDeliver;
pub use mail::MailRetrieve;
pub use noop::Noop;
pub use notify::{PasswordReset, PersonInvitation};
pub use participant_export::ParticipantExport;

/// What the jobs need from the process besides the store.
#[derive(Clone)]
pub struct Services {
    /// The organisation definition.
    pub org: Arc<Organisation>,
    /// Where the files that jobs make are kept (`STORAGE_URL`).
    pub storage: Storage,
    /// The root user's email (`HIT_ROOT_EMAIL`), who may do everything.
    pub root_email: Option<String>,
    /// Where outgoing mail goes (`SMTP_URL`, `SENDMAIL`, `MAIL_FOLDER`).
    pub mailer: Arc<dyn Mailer>,
    /// The list domain, the sender of notifications, the batch size and
    /// the list mailbox.
    pub mail: MailSettings,
}

impl Services {
    /// The services of a process without a root user.
    pub fn new(org: Arc<Organisation>, storage: Storage) -> Services {
        Services {
            org,
            storage,
            root_email: None,
            mailer: Arc::new(MemoryMailer::new()),
            mail: MailSettings::default(),
        }
    }

    /// The same, sending through `mailer` (an in-memory one by default).
    pub fn with_mailer(self, mailer: Arc<dyn Mailer>) -> Services {
        Services { mailer, ..self }
    }

    /// The same, with these mail settings (the defaults otherwise).
    pub fn with_mail_settings(self, mail: MailSettings) -> Services {
        Services { mail, ..self }
    }

    /// The same, with `HIT_ROOT_EMAIL`'s value.
    pub fn with_root_email(self, root_email: Option<String>) -> Services {
        Services { root_email, ..self }
    }

    /// What `hitcore::relay` needs from the mail settings.
    pub fn relay_settings(&self) -> hitcore::relay::RelaySettings {
        hitcore::relay::RelaySettings {
            list_domain: self.mail.list_domain.to_lowercase(),
            noreply_address: self.mail.from.clone(),
            max_message_bytes: hitcore::relay::DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("org", &self.org.name)
            .field("storage", &self.storage)
            .field("mailer", &self.mailer)
            .field("mail", &self.mail)
            .finish_non_exhaustive()
    }
}

/// Expired sessions go every ten minutes.
pub const SESSION_CLEANUP_EVERY: Schedule =
    Schedule::Every(std::time::Duration::from_secs(10 * 60));

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
    let retrieve = services.clone();
    registry.register(move |job: MailRetrieve, ctx| {
        let services = mail::RetrieveServices {
            org: &retrieve.org,
            relay: retrieve.relay_settings(),
            retriever_url: retrieve.mail.retriever_url.as_ref().map(|u| u.expose()),
            root_email: retrieve.root_email.as_deref(),
        };
        mail::retrieve(job, ctx, &services)
    });
    let deliver = services.clone();
    registry.register(move |job: ListMailDeliver, ctx| {
        let services = list_mail::DeliverServices {
            mailer: &deliver.mailer,
            relay: deliver.relay_settings(),
            batch_size: u32::try_from(deliver.mail.batch_size).unwrap_or(u32::MAX),
            sessions: deliver.mail.smtp_sessions,
            base_url: &deliver.mail.base_url,
            lang: deliver.org.languages.first().map_or("en", String::as_str),
        };
        list_mail::deliver(job, ctx, &services)
    });
    let export = services.clone();
    registry.register(move |job: PeopleExport, ctx| {
        let services = export::ExportServices {
            org: &export.org,
            storage: &export.storage,
            root_email: export.root_email.as_deref(),
        };
        export::run(job, ctx, &services)
    });
    let participants = services.clone();
    registry.register(move |job: ParticipantExport, ctx| {
        let services = export::ExportServices {
            org: &participants.org,
            storage: &participants.storage,
            root_email: participants.root_email.as_deref(),
        };
        participant_export::run(job, ctx, &services)
    });
    let notify = services.clone();
    registry.register(move |job: PersonInvitation, ctx| notify::invitation(job, ctx, &notify));
    let notify = services.clone();
    registry.register(move |job: PasswordReset, ctx| notify::password_reset(job, ctx, &notify));
    let event_mail = services.clone();
    registry
        .register(move |job: EventParticipationMail, ctx| event_mails::run(job, ctx, &event_mail));
    registry
        .recur::<SessionCleanup>(SESSION_CLEANUP_EVERY)
        .recur::<JobsCleanup>(jobs_cleanup_daily())
        .recur::<MailRetrieve>(Schedule::Every(services.mail.retrieve_every));
    registry
}
