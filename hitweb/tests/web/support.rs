//! The test harness: a `TestApp` over a seeded database, a counting store
//! decorator, and a `Browser` that keeps cookies and the CSRF token.
//!
//! The database is a SQLite file, or a fresh schema of the PostgreSQL
//! database that `HIT_TEST_POSTGRES_URL` names when that is set (`.ci/run`
//! runs the web tests once each way).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use hitcore::ability::{
    ArchiveGroup, CreateGroup, CreatePerson, CreateRole, DestroyGroup, DestroyRole, ManageJob,
    MoveGroup, Permit, SetPassword, UpdateEmail, UpdateGroup, UpdatePerson, UpdateRole, system,
};
use hitcore::group::{Group, GroupPatch, NewGroup};
use hitcore::jobs::{Job, NewJob, Progress};
use hitcore::person::{AdditionalEmail, ContactInput, Person, PersonPatch, PhoneNumber};
use hitcore::picture::PictureRef;
use hitcore::role::{NewRole, RemoveOutcome, Role, RolePatch};
use hitcore::seed::{self, SeedOptions};
use hitcore::store::postgres::TestSchema;
use hitcore::store::{
    AuthRepo, GroupRepo, GroupScope, JobQueue, ListFilter, ListMailRepo, ListedPerson, Login,
    MailingListRepo, Page as ListPage, PeopleQuery, PersonRepo, RoleRepo, SchemaCheck, SearchQuery,
    SearchRepo, Session, Store, StoreError, TokenRepo,
};
use hitcore::{ContactId, GroupId, JobId, Organisation, PersonId, RoleId, WorkerId};
use hitweb::{AppState, Config};
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode, header};
use poem::test::TestClient;
use poem::{EndpointExt, Response};

/// The password of every demo person in the tests.
pub const DEMO_PASSWORD: &str = "demo-password-for-tests";
/// The administrator's password in the tests.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub fn init_test_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
}

/// A store that counts every call before passing it on.
///
/// Each call runs on a thread of its own: the tests call the store from
/// async test functions, where the PostgreSQL driver would panic.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    calls: AtomicUsize,
    /// When set, `people_list` fails as if the database were gone.
    pub fails_people_list: AtomicBool,
    /// When set, `people_list` panics, with personal data in the message.
    pub panics_people_list: AtomicBool,
    /// When set, every call fails as a store does while the database
    /// server is down ([`StoreError::Unavailable`]).
    pub is_unavailable: AtomicBool,
}

impl CountingStore {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn call<T: Send>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.is_unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "connection refused: secret detail".into(),
            ));
        }
        let inner: &dyn Store = &*self.inner;
        off_the_executor(|| f(inner))
    }
}

/// Runs `f` on a scoped thread, which drives no async tasks, and hands
/// back its result (or its panic).
pub fn off_the_executor<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
}

impl MailingListRepo for CountingStore {
    fn mailing_list(
        &self,
        id: hitcore::MailingListId,
    ) -> Result<Option<hitcore::mailing_list::MailingList>, StoreError> {
        self.call(|s| s.mailing_list(id))
    }

    fn mailing_list_by_mail_name(
        &self,
        mail_name: &str,
    ) -> Result<Option<hitcore::mailing_list::MailingList>, StoreError> {
        self.call(|s| s.mailing_list_by_mail_name(mail_name))
    }

    fn mailing_lists_of_group(
        &self,
        group: GroupId,
    ) -> Result<Vec<hitcore::mailing_list::MailingList>, StoreError> {
        self.call(|s| s.mailing_lists_of_group(group))
    }

    fn create_mailing_list(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::CreateMailingList>,
        list: &hitcore::mailing_list::NewMailingList,
        now: DateTime<Utc>,
    ) -> Result<hitcore::mailing_list::MailingList, StoreError> {
        self.call(|s| s.create_mailing_list(permit, list, now))
    }

    fn update_mailing_list(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::UpdateMailingList>,
        patch: &hitcore::mailing_list::MailingListPatch,
        now: DateTime<Utc>,
    ) -> Result<hitcore::mailing_list::MailingList, StoreError> {
        self.call(|s| s.update_mailing_list(permit, patch, now))
    }

    fn delete_mailing_list(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::DestroyMailingList>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.delete_mailing_list(permit))
    }

    fn subscriptions(
        &self,
        list: hitcore::MailingListId,
    ) -> Result<Vec<hitcore::mailing_list::Subscription>, StoreError> {
        self.call(|s| s.subscriptions(list))
    }

    fn add_subscription(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::ManageSubscriptions>,
        subscriber: &hitcore::mailing_list::Subscriber,
    ) -> Result<hitcore::mailing_list::Subscription, StoreError> {
        self.call(|s| s.add_subscription(permit, subscriber))
    }

    fn remove_subscription(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::ManageSubscriptions>,
        id: hitcore::SubscriptionId,
    ) -> Result<(), StoreError> {
        self.call(|s| s.remove_subscription(permit, id))
    }

    fn subscribe(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::SubscribeSelf>,
        today: chrono::NaiveDate,
    ) -> Result<(), StoreError> {
        self.call(|s| s.subscribe(permit, today))
    }

    fn unsubscribe(
        &self,
        permit: &hitcore::ability::Permit<hitcore::ability::SubscribeSelf>,
        today: chrono::NaiveDate,
    ) -> Result<(), StoreError> {
        self.call(|s| s.unsubscribe(permit, today))
    }

    fn recipients(
        &self,
        list: hitcore::MailingListId,
        today: chrono::NaiveDate,
    ) -> Result<Vec<hitcore::mailing_list::Recipient>, StoreError> {
        self.call(|s| s.recipients(list, today))
    }

    fn recipient_count(
        &self,
        list: hitcore::MailingListId,
        today: chrono::NaiveDate,
    ) -> Result<u64, StoreError> {
        self.call(|s| s.recipient_count(list, today))
    }

    fn is_subscribed(
        &self,
        list: hitcore::MailingListId,
        person: PersonId,
        today: chrono::NaiveDate,
    ) -> Result<bool, StoreError> {
        self.call(|s| s.is_subscribed(list, person, today))
    }

    fn is_recipient_email(
        &self,
        list: hitcore::MailingListId,
        email: &str,
        today: chrono::NaiveDate,
    ) -> Result<bool, StoreError> {
        self.call(|s| s.is_recipient_email(list, email, today))
    }

    fn event_subscriptions(
        &self,
        list: hitcore::MailingListId,
    ) -> Result<Vec<hitcore::mailing_list::EventSubscription>, StoreError> {
        self.call(|s| s.event_subscriptions(list))
    }

    fn add_event_subscription(
        &self,
        permit: &Permit<hitcore::ability::ManageSubscriptions>,
        event: hitcore::id::EventId,
        today: chrono::NaiveDate,
    ) -> Result<hitcore::mailing_list::EventSubscription, StoreError> {
        self.call(|s| s.add_event_subscription(permit, event, today))
    }

    fn remove_event_subscription(
        &self,
        permit: &Permit<hitcore::ability::ManageSubscriptions>,
        id: hitcore::id::EventSubscriptionId,
    ) -> Result<(), StoreError> {
        self.call(|s| s.remove_event_subscription(permit, id))
    }

    fn subscribable_events(
        &self,
        list: hitcore::MailingListId,
        today: chrono::NaiveDate,
        limit: u32,
    ) -> Result<Vec<hitcore::id::EventId>, StoreError> {
        self.call(|s| s.subscribable_events(list, today, limit))
    }
}

impl ListMailRepo for CountingStore {
    fn record_inbound(
        &self,
        mail: &hitcore::list_mail::NewInboundMail<'_>,
        copies: &[hitcore::list_mail::NewListMessage],
        job_for: &(dyn Fn(hitcore::ListMessageId) -> NewJob + Sync),
        now: DateTime<Utc>,
    ) -> Result<hitcore::list_mail::Recorded, StoreError> {
        self.call(|s| s.record_inbound(mail, copies, job_for, now))
    }
    fn list_message(
        &self,
        id: hitcore::ListMessageId,
    ) -> Result<Option<hitcore::list_mail::ListMessage>, StoreError> {
        self.call(|s| s.list_message(id))
    }
    fn inbound_raw(&self, id: hitcore::InboundMailId) -> Result<Option<Vec<u8>>, StoreError> {
        self.call(|s| s.inbound_raw(id))
    }
    fn plan_deliveries(
        &self,
        id: hitcore::ListMessageId,
        today: chrono::NaiveDate,
        batch_size: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.call(|s| s.plan_deliveries(id, today, batch_size, now))
    }
    fn resume_deliveries(&self, id: hitcore::ListMessageId) -> Result<u64, StoreError> {
        self.call(|s| s.resume_deliveries(id))
    }

    fn mark_uncertain(
        &self,
        id: hitcore::ListMessageId,
        batches: &[u64],
    ) -> Result<u64, StoreError> {
        self.call(|s| s.mark_uncertain(id, batches))
    }
    fn pending_batches(
        &self,
        id: hitcore::ListMessageId,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<hitcore::list_mail::Batch>, StoreError> {
        self.call(|s| s.pending_batches(id, after, limit))
    }
    fn mark_handed(&self, id: hitcore::ListMessageId, batch: u64) -> Result<bool, StoreError> {
        self.call(|s| s.mark_handed(id, batch))
    }
    fn record_batch(
        &self,
        id: hitcore::ListMessageId,
        batch: u64,
        outcome: &hitcore::list_mail::BatchOutcome,
    ) -> Result<(), StoreError> {
        self.call(|s| s.record_batch(id, batch, outcome))
    }
    fn finish_list_message(
        &self,
        id: hitcore::ListMessageId,
        state: hitcore::list_mail::ListMessageState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.finish_list_message(id, state, now))
    }
    fn list_message_by_token(
        &self,
        token: &str,
    ) -> Result<Option<hitcore::list_mail::ListMessage>, StoreError> {
        self.call(|s| s.list_message_by_token(token))
    }
    fn list_messages(
        &self,
        list: hitcore::MailingListId,
        limit: u32,
    ) -> Result<Vec<hitcore::list_mail::ListMessageSummary>, StoreError> {
        self.call(|s| s.list_messages(list, limit))
    }
}

impl TokenRepo for CountingStore {
    fn create_login_token(
        &self,
        token: &hitcore::login_token::NewLoginToken,
    ) -> Result<(), StoreError> {
        self.call(|s| s.create_login_token(token))
    }
    fn open_login_token(
        &self,
        token_hash: &str,
        purpose: hitcore::login_token::TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<hitcore::login_token::LoginToken>, StoreError> {
        self.call(|s| s.open_login_token(token_hash, purpose, now))
    }
    fn consume_login_token(
        &self,
        token_hash: &str,
        purpose: hitcore::login_token::TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<hitcore::login_token::LoginToken>, StoreError> {
        self.call(|s| s.consume_login_token(token_hash, purpose, now))
    }
    fn newest_open_login_token(
        &self,
        person: PersonId,
        purpose: hitcore::login_token::TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.call(|s| s.newest_open_login_token(person, purpose, now))
    }
}

impl GroupRepo for CountingStore {
    fn group(&self, id: GroupId) -> Result<Option<Group>, StoreError> {
        self.call(|s| s.group(id))
    }
    fn all_groups(&self) -> Result<Vec<Group>, StoreError> {
        self.call(|s| s.all_groups())
    }
    fn create_groups(
        &self,
        permit: &Permit<CreateGroup>,
        plan: &[NewGroup],
        now: DateTime<Utc>,
    ) -> Result<Vec<Group>, StoreError> {
        self.call(|s| s.create_groups(permit, plan, now))
    }
    fn update_group(
        &self,
        permit: &Permit<UpdateGroup>,
        patch: &GroupPatch,
        now: DateTime<Utc>,
    ) -> Result<Group, StoreError> {
        self.call(|s| s.update_group(permit, patch, now))
    }
    fn move_group(
        &self,
        permit: &Permit<MoveGroup>,
        now: DateTime<Utc>,
    ) -> Result<Group, StoreError> {
        self.call(|s| s.move_group(permit, now))
    }
    fn delete_group(
        &self,
        permit: &Permit<DestroyGroup>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.delete_group(permit, now))
    }
    fn archive_group(
        &self,
        permit: &Permit<ArchiveGroup>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.archive_group(permit, now))
    }
    fn child_count(&self, id: GroupId) -> Result<u64, StoreError> {
        self.call(|s| s.child_count(id))
    }
}

impl PersonRepo for CountingStore {
    fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        self.call(|s| s.person(id))
    }
    fn people(&self, ids: &[PersonId]) -> Result<Vec<Person>, StoreError> {
        self.call(|s| s.people(ids))
    }
    fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        self.call(|s| s.person_by_email(email))
    }
    fn people_list(&self, query: &PeopleQuery) -> Result<ListPage<ListedPerson>, StoreError> {
        if self.fails_people_list.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("disk on fire: secret detail".into()));
        }
        if self.panics_people_list.load(Ordering::SeqCst) {
            panic!("the list of people broke: Alex Alpha <alpha@demo.example>");
        }
        self.call(|s| s.people_list(query))
    }
    fn create_person(
        &self,
        permit: &Permit<CreatePerson>,
        patch: &PersonPatch,
        role: &NewRole,
        now: DateTime<Utc>,
    ) -> Result<(Person, Role), StoreError> {
        self.call(|s| s.create_person(permit, patch, role, now))
    }
    fn update_person(
        &self,
        permit: &Permit<UpdatePerson>,
        email: Option<&Permit<UpdateEmail>>,
        patch: &PersonPatch,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError> {
        self.call(|s| s.update_person(permit, email, patch, now))
    }
    fn additional_emails(&self, id: PersonId) -> Result<Vec<AdditionalEmail>, StoreError> {
        self.call(|s| s.additional_emails(id))
    }
    fn phone_numbers(&self, id: PersonId) -> Result<Vec<PhoneNumber>, StoreError> {
        self.call(|s| s.phone_numbers(id))
    }
    fn contacts_of_people(
        &self,
        ids: &[PersonId],
    ) -> Result<(Vec<AdditionalEmail>, Vec<PhoneNumber>), StoreError> {
        self.call(|s| s.contacts_of_people(ids))
    }
    fn add_additional_email(
        &self,
        permit: &Permit<UpdatePerson>,
        input: &ContactInput,
    ) -> Result<AdditionalEmail, StoreError> {
        self.call(|s| s.add_additional_email(permit, input))
    }
    fn add_phone_number(
        &self,
        permit: &Permit<UpdatePerson>,
        input: &ContactInput,
    ) -> Result<PhoneNumber, StoreError> {
        self.call(|s| s.add_phone_number(permit, input))
    }
    fn remove_contact(
        &self,
        permit: &Permit<UpdatePerson>,
        id: ContactId,
    ) -> Result<(), StoreError> {
        self.call(|s| s.remove_contact(permit, id))
    }
    fn person_count(&self) -> Result<u64, StoreError> {
        self.call(|s| s.person_count())
    }
    fn person_picture(&self, id: PersonId) -> Result<Option<PictureRef>, StoreError> {
        self.call(|s| s.person_picture(id))
    }
    fn set_person_picture(
        &self,
        permit: &Permit<UpdatePerson>,
        picture: Option<&PictureRef>,
        now: DateTime<Utc>,
    ) -> Result<Option<PictureRef>, StoreError> {
        self.call(|s| s.set_person_picture(permit, picture, now))
    }
}

impl RoleRepo for CountingStore {
    fn role(&self, id: RoleId) -> Result<Option<Role>, StoreError> {
        self.call(|s| s.role(id))
    }
    fn roles_of_person(&self, id: PersonId) -> Result<Vec<Role>, StoreError> {
        self.call(|s| s.roles_of_person(id))
    }
    fn roles_of_people(&self, ids: &[PersonId]) -> Result<Vec<Role>, StoreError> {
        self.call(|s| s.roles_of_people(ids))
    }
    fn create_role(
        &self,
        permit: &Permit<CreateRole>,
        role: &NewRole,
        now: DateTime<Utc>,
    ) -> Result<Role, StoreError> {
        self.call(|s| s.create_role(permit, role, now))
    }
    fn update_role(
        &self,
        permit: &Permit<UpdateRole>,
        patch: &RolePatch,
        now: DateTime<Utc>,
    ) -> Result<Role, StoreError> {
        self.call(|s| s.update_role(permit, patch, now))
    }
    fn remove_role(
        &self,
        permit: &Permit<DestroyRole>,
        now: DateTime<Utc>,
    ) -> Result<RemoveOutcome, StoreError> {
        self.call(|s| s.remove_role(permit, now))
    }
}

impl AuthRepo for CountingStore {
    fn login_by_email(&self, email: &str) -> Result<Option<Login>, StoreError> {
        self.call(|s| s.login_by_email(email))
    }
    fn record_failed_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<Login, StoreError> {
        self.call(|s| s.record_failed_login(id, now))
    }
    fn record_good_login(&self, id: PersonId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.call(|s| s.record_good_login(id, now))
    }
    fn set_password_hash(
        &self,
        permit: &Permit<SetPassword>,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.set_password_hash(permit, hash, now))
    }
    fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError> {
        self.call(|s| s.create_session(token_hash, session))
    }
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        self.call(|s| s.session(token_hash, now))
    }
    fn signed_in(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<hitcore::store::SignedIn>, StoreError> {
        self.call(|s| s.signed_in(token_hash, now))
    }
    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.call(|s| s.delete_session(token_hash))
    }
    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.call(|s| s.delete_expired_sessions(now))
    }
    fn end_other_sessions(&self, id: PersonId, keep: Option<&str>) -> Result<u64, StoreError> {
        self.call(|s| s.end_other_sessions(id, keep))
    }
}

impl SearchRepo for CountingStore {
    fn search_people(&self, query: &SearchQuery) -> Result<Vec<Person>, StoreError> {
        self.call(|s| s.search_people(query))
    }
    fn search_groups(&self, query: &SearchQuery) -> Result<Vec<Group>, StoreError> {
        self.call(|s| s.search_groups(query))
    }
}

impl JobQueue for CountingStore {
    fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<JobId>, StoreError> {
        self.call(|s| s.enqueue(job, now))
    }
    fn enqueue_many(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<Vec<JobId>, StoreError> {
        self.call(|s| s.enqueue_many(jobs, now))
    }
    fn bring_forward(
        &self,
        singleton_key: &str,
        run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.call(|s| s.bring_forward(singleton_key, run_at))
    }
    fn register_worker(
        &self,
        host: &str,
        pid: u32,
        now: DateTime<Utc>,
    ) -> Result<WorkerId, StoreError> {
        self.call(|s| s.register_worker(host, pid, now))
    }
    fn heartbeat(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.call(|s| s.heartbeat(worker, now))
    }
    fn stop_worker(&self, worker: WorkerId, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.call(|s| s.stop_worker(worker, now))
    }
    fn claim(
        &self,
        worker: WorkerId,
        queues: &[String],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        self.call(|s| s.claim(worker, queues, limit, now))
    }
    fn succeed(
        &self,
        worker: WorkerId,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.call(|s| s.succeed(worker, ids, now))
    }
    fn fail(
        &self,
        worker: WorkerId,
        id: JobId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.call(|s| s.fail(worker, id, error, retry_at, now))
    }
    fn release(&self, worker: WorkerId, ids: &[JobId]) -> Result<u64, StoreError> {
        self.call(|s| s.release(worker, ids))
    }
    fn set_progress(
        &self,
        worker: WorkerId,
        id: JobId,
        progress: Progress,
    ) -> Result<(), StoreError> {
        self.call(|s| s.set_progress(worker, id, progress))
    }
    fn set_result_file(&self, worker: WorkerId, id: JobId, key: &str) -> Result<(), StoreError> {
        self.call(|s| s.set_result_file(worker, id, key))
    }
    fn recover(
        &self,
        now: DateTime<Utc>,
        dead_after: std::time::Duration,
    ) -> Result<u64, StoreError> {
        self.call(|s| s.recover(now, dead_after))
    }
    fn wait_for_jobs(&self, timeout: std::time::Duration) -> Result<(), StoreError> {
        self.call(|s| s.wait_for_jobs(timeout))
    }
    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.call(|s| s.job(id))
    }
    fn jobs_of_person(&self, person: PersonId, limit: u32) -> Result<Vec<Job>, StoreError> {
        self.call(|s| s.jobs_of_person(person, limit))
    }
    fn failed_jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        self.call(|s| s.failed_jobs(limit))
    }
    fn open_job_count(&self) -> Result<u64, StoreError> {
        self.call(|s| s.open_job_count())
    }
    fn queue_stats(
        &self,
        now: DateTime<Utc>,
        dead_after: std::time::Duration,
    ) -> Result<hitcore::jobs::QueueStats, StoreError> {
        self.call(|s| s.queue_stats(now, dead_after))
    }
    fn retry_job(&self, permit: &Permit<ManageJob>, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.call(|s| s.retry_job(permit, now))
    }
    fn delete_job(&self, permit: &Permit<ManageJob>) -> Result<(), StoreError> {
        self.call(|s| s.delete_job(permit))
    }
    fn delete_settled_before(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError> {
        self.call(|s| s.delete_settled_before(cutoff))
    }
}

// Events (issue 7): each trait's methods forwarded in its own block.
impl hitcore::store::EventRepo for CountingStore {
    fn event(&self, id: hitcore::id::EventId) -> Result<Option<hitcore::event::Event>, StoreError> {
        self.call(|s| s.event(id))
    }
    fn questions(
        &self,
        event: hitcore::id::EventId,
    ) -> Result<Vec<hitcore::event::question::Question>, StoreError> {
        self.call(|s| s.questions(event))
    }
    fn create_event(
        &self,
        permit: &Permit<hitcore::ability::CreateEvent>,
        event: &hitcore::event::NewEvent,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::Event, StoreError> {
        self.call(|s| s.create_event(permit, event, now))
    }
    fn update_event(
        &self,
        permit: &Permit<hitcore::ability::UpdateEvent>,
        patch: &hitcore::event::EventPatch,
        groups: Option<&Permit<hitcore::ability::SetEventGroups>>,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::Event, StoreError> {
        self.call(|s| s.update_event(permit, patch, groups, now))
    }
    fn delete_event(
        &self,
        permit: &Permit<hitcore::ability::DestroyEvent>,
    ) -> Result<Vec<String>, StoreError> {
        self.call(|s| s.delete_event(permit))
    }
    fn add_question(
        &self,
        permit: &Permit<hitcore::ability::UpdateEvent>,
        question: &hitcore::event::question::NewQuestion,
    ) -> Result<hitcore::event::question::Question, StoreError> {
        self.call(|s| s.add_question(permit, question))
    }
    fn remove_question(
        &self,
        permit: &Permit<hitcore::ability::UpdateEvent>,
        id: hitcore::id::QuestionId,
    ) -> Result<(), StoreError> {
        self.call(|s| s.remove_question(permit, id))
    }
    fn events_of_group(
        &self,
        group: GroupId,
        when: hitcore::event::EventWhen,
    ) -> Result<Vec<hitcore::event::Event>, StoreError> {
        self.call(|s| s.events_of_group(group, when))
    }
    fn event_years(&self, group: GroupId) -> Result<Vec<i32>, StoreError> {
        self.call(|s| s.event_years(group))
    }
    fn events_list(
        &self,
        query: &hitcore::event::EventQuery,
    ) -> Result<ListPage<hitcore::event::Event>, StoreError> {
        self.call(|s| s.events_list(query))
    }
    fn attachments(
        &self,
        event: hitcore::id::EventId,
    ) -> Result<Vec<hitcore::event::Attachment>, StoreError> {
        self.call(|s| s.attachments(event))
    }
    fn attachment(
        &self,
        id: hitcore::id::AttachmentId,
    ) -> Result<Option<hitcore::event::Attachment>, StoreError> {
        self.call(|s| s.attachment(id))
    }
    fn add_attachment(
        &self,
        permit: &Permit<hitcore::ability::ManageAttachments>,
        attachment: &hitcore::event::NewAttachment,
        storage_key: &str,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::Attachment, StoreError> {
        self.call(|s| s.add_attachment(permit, attachment, storage_key, now))
    }
    fn remove_attachment(
        &self,
        permit: &Permit<hitcore::ability::ManageAttachments>,
        id: hitcore::id::AttachmentId,
    ) -> Result<hitcore::event::Attachment, StoreError> {
        self.call(|s| s.remove_attachment(permit, id))
    }
}

impl hitcore::store::ParticipationRepo for CountingStore {
    fn participation(
        &self,
        id: hitcore::id::ParticipationId,
    ) -> Result<Option<hitcore::event::participation::ParticipationEntry>, StoreError> {
        self.call(|s| s.participation(id))
    }
    fn participation_of(
        &self,
        event: hitcore::id::EventId,
        person: PersonId,
    ) -> Result<Option<hitcore::event::participation::Participation>, StoreError> {
        self.call(|s| s.participation_of(event, person))
    }
    fn participations(
        &self,
        event: hitcore::id::EventId,
        active: bool,
    ) -> Result<Vec<hitcore::event::participation::ParticipationEntry>, StoreError> {
        self.call(|s| s.participations(event, active))
    }
    fn answers(
        &self,
        participation: hitcore::id::ParticipationId,
    ) -> Result<Vec<hitcore::event::participation::Answer>, StoreError> {
        self.call(|s| s.answers(participation))
    }
    fn register(
        &self,
        permit: &Permit<hitcore::ability::CreateParticipation>,
        new: &hitcore::event::participation::NewParticipation,
        jobs: &(dyn Fn(hitcore::id::ParticipationId) -> Vec<hitcore::jobs::NewJob> + Sync),
        today: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::participation::Participation, StoreError> {
        self.call(|s| s.register(permit, new, jobs, today, now))
    }
    fn cancel_participation(
        &self,
        permit: &Permit<hitcore::ability::DestroyParticipation>,
        jobs: &[hitcore::jobs::NewJob],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.cancel_participation(permit, jobs, now))
    }
    fn set_approval(
        &self,
        permit: &Permit<hitcore::ability::ApproveApplication>,
        approved: bool,
    ) -> Result<(), StoreError> {
        self.call(|s| s.set_approval(permit, approved))
    }
    fn add_event_role(
        &self,
        permit: &Permit<hitcore::ability::CreateEventRole>,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::participation::EventRole, StoreError> {
        self.call(|s| s.add_event_role(permit, label, now))
    }
    fn remove_event_role(
        &self,
        permit: &Permit<hitcore::ability::DestroyEventRole>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.remove_event_role(permit, now))
    }
    fn market(
        &self,
        event: hitcore::id::EventId,
        filter: &hitcore::event::application::MarketFilter,
    ) -> Result<hitcore::event::participation::Market, StoreError> {
        self.call(|s| s.market(event, filter))
    }
    fn market_add(
        &self,
        permit: &Permit<hitcore::ability::UseApplicationMarket>,
        participation: hitcore::id::ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.market_add(permit, participation, now))
    }
    fn market_remove(
        &self,
        permit: &Permit<hitcore::ability::UseApplicationMarket>,
        participation: hitcore::id::ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.market_remove(permit, participation, now))
    }
    fn set_waiting_list(
        &self,
        permit: &Permit<hitcore::ability::UseApplicationMarket>,
        participation: hitcore::id::ParticipationId,
        on: bool,
        comment: Option<&str>,
    ) -> Result<(), StoreError> {
        self.call(|s| s.set_waiting_list(permit, participation, on, comment))
    }
    fn participations_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<hitcore::event::participation::PersonParticipation>, StoreError> {
        self.call(|s| s.participations_of_person(person))
    }
    fn people_with_roles_in_layers(
        &self,
        layers: &[GroupId],
        role_types: &[String],
        today: chrono::NaiveDate,
    ) -> Result<Vec<PersonId>, StoreError> {
        self.call(|s| s.people_with_roles_in_layers(layers, role_types, today))
    }
}

impl hitcore::store::QualificationRepo for CountingStore {
    fn event_kind_categories(
        &self,
    ) -> Result<Vec<hitcore::event::kind::EventKindCategory>, StoreError> {
        self.call(|s| s.event_kind_categories())
    }
    fn create_event_kind_category(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        patch: &hitcore::event::kind::CategoryPatch,
    ) -> Result<hitcore::event::kind::EventKindCategory, StoreError> {
        self.call(|s| s.create_event_kind_category(permit, patch))
    }
    fn update_event_kind_category(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        id: hitcore::id::EventKindCategoryId,
        patch: &hitcore::event::kind::CategoryPatch,
    ) -> Result<hitcore::event::kind::EventKindCategory, StoreError> {
        self.call(|s| s.update_event_kind_category(permit, id, patch))
    }
    fn delete_event_kind_category(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        id: hitcore::id::EventKindCategoryId,
    ) -> Result<(), StoreError> {
        self.call(|s| s.delete_event_kind_category(permit, id))
    }
    fn qualification_kinds(
        &self,
        with_deleted: bool,
    ) -> Result<Vec<hitcore::event::kind::QualificationKind>, StoreError> {
        self.call(|s| s.qualification_kinds(with_deleted))
    }
    fn qualification_kind(
        &self,
        id: hitcore::id::QualificationKindId,
    ) -> Result<Option<hitcore::event::kind::QualificationKind>, StoreError> {
        self.call(|s| s.qualification_kind(id))
    }
    fn create_qualification_kind(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        patch: &hitcore::event::kind::QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::kind::QualificationKind, StoreError> {
        self.call(|s| s.create_qualification_kind(permit, patch, now))
    }
    fn update_qualification_kind(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        id: hitcore::id::QualificationKindId,
        patch: &hitcore::event::kind::QualificationKindPatch,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::kind::QualificationKind, StoreError> {
        self.call(|s| s.update_qualification_kind(permit, id, patch, now))
    }
    fn delete_qualification_kind(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        id: hitcore::id::QualificationKindId,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::qualification::Removal, StoreError> {
        self.call(|s| s.delete_qualification_kind(permit, id, now))
    }
    fn event_kinds(
        &self,
        with_deleted: bool,
    ) -> Result<Vec<hitcore::event::kind::EventKind>, StoreError> {
        self.call(|s| s.event_kinds(with_deleted))
    }
    fn event_kind(
        &self,
        id: hitcore::id::EventKindId,
    ) -> Result<Option<hitcore::event::kind::EventKind>, StoreError> {
        self.call(|s| s.event_kind(id))
    }
    fn create_event_kind(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        patch: &hitcore::event::kind::EventKindPatch,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::kind::EventKind, StoreError> {
        self.call(|s| s.create_event_kind(permit, patch, now))
    }
    fn update_event_kind(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        id: hitcore::id::EventKindId,
        patch: &hitcore::event::kind::EventKindPatch,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::kind::EventKind, StoreError> {
        self.call(|s| s.update_event_kind(permit, id, patch, now))
    }
    fn delete_event_kind(
        &self,
        permit: &Permit<hitcore::ability::ManageKinds>,
        id: hitcore::id::EventKindId,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::qualification::Removal, StoreError> {
        self.call(|s| s.delete_event_kind(permit, id, now))
    }
    fn qualifications_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<hitcore::event::qualification::Qualification>, StoreError> {
        self.call(|s| s.qualifications_of_person(person))
    }
    fn event_history(
        &self,
        person: PersonId,
    ) -> Result<Vec<hitcore::event::qualification::EventHistoryEntry>, StoreError> {
        self.call(|s| s.event_history(person))
    }
    fn qualification_participants(
        &self,
        event: hitcore::id::EventId,
    ) -> Result<Vec<hitcore::event::qualification::QualificationParticipant>, StoreError> {
        self.call(|s| s.qualification_participants(event))
    }
    fn qualify(
        &self,
        permit: &Permit<hitcore::ability::QualifyParticipation>,
        now: DateTime<Utc>,
    ) -> Result<Vec<hitcore::event::qualification::Qualification>, StoreError> {
        self.call(|s| s.qualify(permit, now))
    }
    fn revoke_qualification(
        &self,
        permit: &Permit<hitcore::ability::QualifyParticipation>,
    ) -> Result<u64, StoreError> {
        self.call(|s| s.revoke_qualification(permit))
    }
    fn add_qualification(
        &self,
        permit: &Permit<hitcore::ability::ManageQualifications>,
        kind: hitcore::id::QualificationKindId,
        start_at: chrono::NaiveDate,
        origin: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<hitcore::event::qualification::Qualification, StoreError> {
        self.call(|s| s.add_qualification(permit, kind, start_at, origin, now))
    }
    fn remove_qualification(
        &self,
        permit: &Permit<hitcore::ability::ManageQualifications>,
        id: hitcore::id::QualificationId,
    ) -> Result<(), StoreError> {
        self.call(|s| s.remove_qualification(permit, id))
    }
}

// Participant exports (issue 7).
impl hitcore::store::ParticipantExportRepo for CountingStore {
    fn participants_for_export(
        &self,
        event: hitcore::id::EventId,
        active: bool,
        page: u32,
        per_page: u32,
    ) -> Result<hitcore::store::Page<hitcore::export::participants::ExportedParticipant>, StoreError>
    {
        self.call(|s| s.participants_for_export(event, active, page, per_page))
    }
}

impl hitcore::store::HealthRepo for CountingStore {
    fn schema_check(&self) -> Result<SchemaCheck, StoreError> {
        self.call(|s| s.schema_check())
    }
}

/// The app over a seeded database file, and direct access to its store.
pub struct TestApp {
    pub cli: TestClient<BoxEndpoint<'static, Response>>,
    pub store: Arc<CountingStore>,
    pub org: Arc<Organisation>,
    _dir: tempfile::TempDir,
    /// The app's storage (memory), shared with the jobs [`TestApp::run_jobs`] runs.
    pub storage: hitcore::storage::Storage,
    root_email: Option<String>,
    /// The mailer the jobs [`TestApp::run_jobs`] runs send through.
    pub mailer: Arc<hitjobs::mail::MemoryMailer>,
    /// The PostgreSQL schema of this app, dropped after everything else.
    _schema: Option<TestSchema>,
    /// The database, for a second app on it ([`TestAppBuilder::on_database_of`]).
    database_url: String,
    /// The app's cache (`AppState::cache`).
    pub cache: Arc<dyn hitcore::cache::Cache>,
    /// What the app's `/readyz` remembers (`AppState::probes`).
    pub probes: Arc<hitweb::routes::health::Probes>,
}

/// Builds a [`TestApp`].
#[derive(Default)]
pub struct TestAppBuilder {
    root_email: Option<String>,
    secure_cookies: bool,
    mail: Option<hitjobs::config::MailConfig>,
    secret_key: Option<hitweb::config::SecretKey>,
    storage: Option<hitcore::storage::StorageLocation>,
    database_url: Option<String>,
    memcache_servers: Option<String>,
}

impl TestAppBuilder {
    /// Makes the person with this email the root user.
    pub fn with_root(mut self, email: &str) -> Self {
        self.root_email = Some(email.to_owned());
        self
    }

    /// Sets `HIT_SECURE_COOKIES`.
    pub fn with_secure_cookies(mut self) -> Self {
        self.secure_cookies = true;
        self
    }

    /// Sets the mail variables (`SMTP_URL`, `MAIL_FOLDER`, ...).
    pub fn with_mail(mut self, mail: hitjobs::config::MailConfig) -> Self {
        self.mail = Some(mail);
        self
    }

    /// Sets `HIT_SECRET_KEY`.
    pub fn with_secret_key(mut self, key: hitweb::config::SecretKey) -> Self {
        self.secret_key = Some(key);
        self
    }

    /// Sets `STORAGE_URL` (memory otherwise).
    pub fn with_storage(mut self, storage: hitcore::storage::StorageLocation) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Runs on the database of `other`, seeded already: a second web
    /// process of the same deployment. `other` must outlive this app.
    pub fn on_database_of(mut self, other: &TestApp) -> Self {
        self.database_url = Some(other.database_url.clone());
        self
    }

    /// Sets `MEMCACHE_SERVERS` (each app caches in its own memory
    /// otherwise).
    pub fn with_memcache(mut self, servers: &str) -> Self {
        self.memcache_servers = Some(servers.to_owned());
        self
    }

    pub fn build(self) -> TestApp {
        init_test_tracing();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests();
        config.root_email = self.root_email;
        config.secure_cookies = self.secure_cookies;
        config.secret_key = self.secret_key;
        if let Some(storage) = self.storage {
            config.storage = storage;
        }
        if let Some(mail) = self.mail {
            config.mail = mail;
        }
        config.memcache_servers = self.memcache_servers;
        let is_shared = self.database_url.is_some();
        let schema = if is_shared {
            None
        } else {
            postgres_url().map(|base| {
                off_the_executor(|| TestSchema::create(&base))
                    .expect("a schema in HIT_TEST_POSTGRES_URL")
            })
        };
        config.database_url = match (self.database_url, &schema) {
            (Some(url), _) => url,
            (None, Some(schema)) => schema.url().to_owned(),
            (None, None) => format!("sqlite://{}", dir.path().join("test.sqlite3").display()),
        };
        let org = Arc::new(Organisation::from_file(&config.org_file).expect("demo organisation"));
        let options = SeedOptions {
            admin_email: None,
            admin_password: Some(ADMIN_PASSWORD.to_owned()),
            demo_password: Some(DEMO_PASSWORD.to_owned()),
        };
        let inner = off_the_executor(|| {
            let store =
                hitcore::store::open(&config.database_url, Arc::clone(&org)).expect("store");
            if !is_shared {
                seed::load_demo(&*store, &org, &options, Utc::now()).expect("seed");
            }
            store
        });
        let store = Arc::new(CountingStore {
            inner,
            calls: AtomicUsize::new(0),
            fails_people_list: AtomicBool::new(false),
            panics_people_list: AtomicBool::new(false),
            is_unavailable: AtomicBool::new(false),
        });
        let dyn_store: Arc<dyn Store> = store.clone();
        let root_email = config.root_email.clone();
        let database_url = config.database_url.clone();
        let state = AppState::new(config, Arc::clone(&org), dyn_store).expect("templates");
        let storage = state.storage.clone();
        let cache = Arc::clone(&state.cache);
        let probes = Arc::clone(&state.probes);
        TestApp {
            cli: TestClient::new(hitweb::app(state).boxed()),
            store,
            org,
            storage,
            root_email,
            mailer: Arc::new(hitjobs::mail::MemoryMailer::new()),
            _dir: dir,
            _schema: schema,
            database_url,
            cache,
            probes,
        }
    }
}

/// The base URL of the PostgreSQL database to test against, if any.
fn postgres_url() -> Option<String> {
    std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn new() -> TestApp {
        TestApp::builder().build()
    }

    /// Runs the jobs that are due, as a worker process would, until none
    /// is left; returns how many succeeded and failed.
    pub fn run_jobs(&self) -> hitjobs::runtime::RunCount {
        self.run_jobs_at(Utc::now())
    }

    /// [`TestApp::run_jobs`] with the worker's clock showing `now`, for
    /// retries whose back-off is not over yet.
    pub fn run_jobs_at(&self, now: DateTime<Utc>) -> hitjobs::runtime::RunCount {
        let services = hitjobs::jobs::Services::new(Arc::clone(&self.org), self.storage.clone())
            .with_root_email(self.root_email.clone())
            .with_mailer(self.mailer.clone());
        let registry = hitjobs::jobs::registry::<CountingStore>(&services);
        let store = Arc::clone(&self.store);
        off_the_executor(move || {
            let clock = Arc::new(hitjobs::clock::ManualClock::new(now));
            let worker = hitjobs::Worker::new(store, registry, hitjobs::WorkerOptions::default())
                .with_clock(clock)
                .inline()
                .expect("an inline worker");
            let count = worker.run_due().expect("jobs run");
            worker.stop().expect("worker stopped");
            count
        })
    }

    /// A browser with no session yet.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    /// A browser signed in as the demo person with `email`.
    pub async fn signed_in(&self, email: &str) -> Browser<'_> {
        let mut b = self.browser();
        let page = b.get("/users/sign_in").await;
        page.assert_status(StatusCode::OK);
        let page = b
            .post(
                "/users/sign_in",
                &[("email", email), ("password", password_of(email))],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email} failed"
        );
        b.get("/").await.assert_status(StatusCode::OK);
        b
    }

    /// The group with this name (the first one, in id order).
    pub fn group(&self, name: &str) -> Group {
        let mut groups = self.store.all_groups().expect("groups");
        groups.sort_by_key(|g| g.id);
        groups
            .into_iter()
            .find(|g| g.name == name && g.deleted_at.is_none())
            .unwrap_or_else(|| panic!("no group named {name}"))
    }

    /// The child of `parent` of this type.
    pub fn child(&self, parent: &Group, group_type: &str) -> Group {
        self.store
            .all_groups()
            .expect("groups")
            .into_iter()
            .find(|g| g.parent_id == Some(parent.id) && g.group_type == group_type)
            .unwrap_or_else(|| panic!("no {group_type} below {}", parent.name))
    }

    /// The person with this first and last name.
    pub fn person(&self, first: &str, last: &str) -> Person {
        let count = self.store.person_count().expect("count");
        let ids: Vec<PersonId> = (1..=i64::try_from(count).expect("fits") + 50)
            .map(PersonId)
            .collect();
        self.store
            .people(&ids)
            .expect("people")
            .into_iter()
            .find(|p| {
                p.first_name.as_deref() == Some(first) && p.last_name.as_deref() == Some(last)
            })
            .unwrap_or_else(|| panic!("no person {first} {last}"))
    }

    /// All people with an active role in `group` (any type).
    pub fn people_in(&self, group: &Group) -> Vec<ListedPerson> {
        let query = PeopleQuery {
            scope: GroupScope::Group(group.id),
            filter: ListFilter::All,
            role_types: None,
            text: None,
            today: Utc::now().date_naive(),
            page: 1,
            per_page: 1000,
        };
        self.store.people_list(&query).expect("list").items
    }

    /// Adds a person with a role of `role_type` in `group`, as the system.
    pub fn add_person(&self, group: &Group, role_type: &str, patch: PersonPatch) -> Person {
        let permit = system(CreatePerson {
            group_id: group.id,
            role_type: role_type.to_owned(),
        });
        let role = NewRole {
            person_id: PersonId(0),
            group_id: group.id,
            role_type: role_type.to_owned(),
            label: None,
            start_on: None,
            end_on: None,
        };
        let patch = patch.validated(&self.org).expect("valid person");
        self.store
            .create_person(&permit, &patch, &role, Utc::now())
            .expect("created")
            .0
    }
}

impl TestApp {
    /// Adds a person who can sign in with [`DEMO_PASSWORD`].
    pub fn add_login(&self, group: &Group, role_type: &str, first: &str, email: &str) -> Person {
        let person = self.add_person(
            group,
            role_type,
            PersonPatch {
                first_name: Some(first.to_owned()),
                last_name: Some("Tester".to_owned()),
                email: Some(email.to_owned()),
                ..PersonPatch::default()
            },
        );
        let hash = hitcore::auth::hash_password(DEMO_PASSWORD).expect("hash");
        self.store
            .set_password_hash(&system(SetPassword(person.id)), &hash, Utc::now())
            .expect("password");
        person
    }

    /// Gives `person` a further role, as the system.
    pub fn add_role(&self, person: &Person, group: &Group, role_type: &str) -> Role {
        let permit = system(CreateRole {
            group_id: group.id,
            person_id: person.id,
            role_type: role_type.to_owned(),
        });
        let role = NewRole {
            person_id: person.id,
            group_id: group.id,
            role_type: role_type.to_owned(),
            label: None,
            start_on: None,
            end_on: None,
        };
        self.store
            .create_role(&permit, &role, Utc::now())
            .expect("role")
    }

    /// Creates a group of `group_type` named `name` below `parent`.
    pub fn add_group(&self, parent: &Group, group_type: &str, name: &str) -> Group {
        let siblings: Vec<String> = self
            .store
            .all_groups()
            .expect("groups")
            .into_iter()
            .filter(|g| g.parent_id == Some(parent.id) && g.deleted_at.is_none())
            .map(|g| g.group_type)
            .collect();
        let fields = GroupPatch {
            name: Some(name.to_owned()),
            ..GroupPatch::default()
        };
        let plan = hitcore::group::plan_create(&self.org, parent, &siblings, group_type, fields)
            .expect("plan");
        self.store
            .create_groups(&system(CreateGroup(Some(parent.id))), &plan, Utc::now())
            .expect("created")
            .remove(0)
    }

    /// The store calls made so far.
    pub fn calls(&self) -> usize {
        self.store.calls()
    }
}

fn password_of(email: &str) -> &'static str {
    if email == "admin@demo.example" {
        ADMIN_PASSWORD
    } else {
        DEMO_PASSWORD
    }
}

/// One response, read whole.
pub struct Page {
    pub status: StatusCode,
    pub headers: poem::http::HeaderMap,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The body as sent, for files.
    pub raw: Vec<u8>,
}

impl Page {
    pub fn assert_status(&self, status: StatusCode) {
        assert_eq!(
            self.status, status,
            "unexpected status; body:\n{}",
            self.body
        );
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header(header::LOCATION.as_str()).unwrap_or("")
    }

    pub fn has_vary_hx_request(&self) -> bool {
        self.headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("HX-Request")))
    }

    /// Whether this is a whole page (with the layout) rather than a fragment.
    pub fn is_full_page(&self) -> bool {
        self.body.contains("<!doctype html>")
    }
}

/// A client that keeps cookies and the CSRF token like a browser.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

/// How a request sends its CSRF token.
#[derive(Clone, Copy, PartialEq)]
pub enum Token {
    /// In the form body (plain forms) or header (HTMX).
    Valid,
    /// Not at all.
    Missing,
    /// A token that does not verify.
    Forged,
}

impl<'a> Browser<'a> {
    /// The CSRF token of the last page.
    pub fn csrf_token(&self) -> &str {
        &self.csrf
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, false, None, Token::Missing)
            .await
    }

    pub async fn get_htmx(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, true, None, Token::Missing)
            .await
    }

    /// A plain form submit with the token in the body.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, false, Some(fields), Token::Valid)
            .await
    }

    /// An `hx-post`: form body, token in the header.
    pub async fn post_htmx(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, true, Some(fields), Token::Valid)
            .await
    }

    /// An `hx-delete`: token in the header.
    pub async fn delete_htmx(&mut self, path: &str) -> Page {
        self.send(Method::DELETE, path, true, None, Token::Valid)
            .await
    }

    /// Any request, choosing how the token is sent.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        is_htmx: bool,
        fields: Option<&[(&str, &str)]>,
        token: Token,
    ) -> Page {
        let mut req = self.app.cli.request(method, path.to_owned());
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(header::COOKIE, cookie);
        }
        let token_value = match token {
            Token::Valid => Some(self.csrf.clone()),
            Token::Forged => Some("Zm9yZ2VkIHRva2Vu".to_owned()),
            Token::Missing => None,
        };
        if is_htmx {
            req = req.header("HX-Request", "true");
            if let Some(t) = &token_value {
                req = req.header("X-CSRF-Token", t.clone());
            }
        }
        if let Some(fields) = fields {
            let mut pairs: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if let (false, Some(t)) = (is_htmx, &token_value) {
                pairs.push(("csrf_token".to_owned(), t.clone()));
            }
            req = req.form(&pairs);
        }
        let resp = req.send().await;
        let status = resp.0.status();
        let headers = resp.0.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            self.store_cookie(value.to_str().unwrap_or(""));
        }
        let raw = resp.0.into_body().into_vec().await.expect("body");
        let body = String::from_utf8_lossy(&raw).into_owned();
        if let Some(t) = find_csrf(&body) {
            self.csrf = t;
        }
        Page {
            status,
            headers,
            body,
            raw,
        }
    }

    fn store_cookie(&mut self, set_cookie: &str) {
        let first = set_cookie.split(';').next().unwrap_or("");
        let Some((name, value)) = first.split_once('=') else {
            return;
        };
        let expired = set_cookie.to_ascii_lowercase().contains("max-age=0");
        if expired || value.is_empty() {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The same cookies and CSRF token, sent to another app: a second web
    /// process behind the same proxy.
    pub fn on<'b>(&self, app: &'b TestApp) -> Browser<'b> {
        Browser {
            app,
            cookies: self.cookies.clone(),
            csrf: self.csrf.clone(),
        }
    }

    /// A second browser with the same cookies (a stolen or copied cookie).
    pub fn twin(&self) -> Browser<'a> {
        Browser {
            app: self.app,
            cookies: self.cookies.clone(),
            csrf: self.csrf.clone(),
        }
    }
}

fn find_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(unescape(&body[start..end]))
}

/// Undoes minijinja's HTML escaping.
pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
