//! The list mail pipeline in one process, on both stores: messages dropped
//! into a folder mailbox are recorded, relayed to every recipient of the
//! list through an in-memory mailer in batches, rejected with one reply,
//! or dropped, and every decision is visible in the list's messages.
//! The same pipeline against the real Postfix and Dovecot, with crashes
//! between its steps, is in `list_relay_servers.rs`.

mod common;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use common::Db;
use hitcore::PersonId;
use hitcore::ability::{CreateMailingList, CreatePerson, ManageSubscriptions, system};
use hitcore::group::Group;
use hitcore::jobs::NewJob;
use hitcore::list_mail::ListMessageState;
use hitcore::mailing_list::{MailingList, MailingListPatch, NewMailingList, Subscriber};
use hitcore::person::PersonPatch;
use hitcore::role::NewRole;
use hitcore::seed::{SeedOptions, load_demo};
use hitcore::store::Store;
use hitjobs::clock::ManualClock;
use hitjobs::jobs::{self, MailRetrieve, Services};
use hitjobs::mail::{
    Delivery, MailSettings, Mailer, MemoryMailer, OutgoingMail, SecretUrl, SendError,
};
use hitjobs::{InlineWorker, Worker, WorkerOptions};

const LIST_DOMAIN: &str = "lists.example.test";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0)
        .single()
        .expect("a valid time")
}

/// A database with the demo organisation, a list `club` on the
/// federation's members group reaching its members, and a mailbox folder.
struct Relay {
    db: Db,
    inbox: tempfile::TempDir,
    mailer: Arc<MemoryMailer>,
    list: MailingList,
    members: Group,
}

impl Relay {
    fn new(db: Db) -> Relay {
        let store = db.store.as_ref();
        load_demo(store, &common::org(), &SeedOptions::default(), t0()).expect("demo data");
        let members = store
            .all_groups()
            .expect("groups")
            .into_iter()
            .find(|g| g.group_type == "FederationMembers")
            .expect("the federation's members group");
        let list = create_list(store, &members, "club", |f| f.anyone_may_post = false);
        subscribe_members(store, &list, &members);
        Relay {
            db,
            inbox: tempfile::tempdir().expect("a mailbox folder"),
            mailer: Arc::new(MemoryMailer::new()),
            list,
            members,
        }
    }

    /// [`Relay::new`] with a member who posts and four more.
    fn with_sender_and_four_members(db: Db) -> (Relay, &'static str) {
        let r = Relay::new(db);
        let sender = "ann@people.example.test";
        r.member(sender);
        for n in 0..4 {
            r.member(&format!("member{n}@people.example.test"));
        }
        (r, sender)
    }

    fn store(&self) -> &dyn Store {
        self.db.store.as_ref()
    }

    /// A new member of the list's group with this address.
    fn member(&self, email: &str) -> PersonId {
        let role = NewRole {
            person_id: PersonId(0),
            group_id: self.members.id,
            role_type: "FederationMembers.Member".to_owned(),
            label: None,
            start_on: Some(t0().date_naive()),
            end_on: None,
        };
        let patch = PersonPatch {
            first_name: Some("Test".to_owned()),
            last_name: Some(email.to_owned()),
            email: Some(email.to_owned()),
            ..PersonPatch::default()
        };
        let permit = system(CreatePerson {
            group_id: role.group_id,
            role_type: role.role_type.clone(),
        });
        self.store()
            .create_person(&permit, &patch, &role, t0())
            .expect("member created")
            .0
            .id
    }

    fn drop_message(&self, name: &str, raw: &str) {
        std::fs::write(self.inbox.path().join(name), raw.replace('\n', "\r\n"))
            .expect("message written");
    }

    fn worker(&self) -> InlineWorker<dyn Store> {
        self.worker_with(self.mailer.clone(), MailSettings::default().smtp_sessions)
    }

    /// A worker sending through `mailer`, `sessions` transactions at once.
    fn worker_with(&self, mailer: Arc<dyn Mailer>, sessions: usize) -> InlineWorker<dyn Store> {
        let url = format!("folder://{}", self.inbox.path().display());
        let settings = MailSettings {
            list_domain: LIST_DOMAIN.to_owned(),
            from: "noreply@example.test".to_owned(),
            batch_size: 2,
            retriever_url: Some(SecretUrl::new(url)),
            smtp_sessions: sessions,
            ..MailSettings::default()
        };
        let services = Services::new(common::org(), common::storage())
            .with_mailer(mailer)
            .with_mail_settings(settings);
        let registry = jobs::registry::<dyn Store>(&services);
        let options = WorkerOptions {
            host: "test".to_owned(),
            ..WorkerOptions::with_concurrency(1)
        };
        Worker::new(Arc::clone(&self.db.store), registry, options)
            .with_clock(Arc::new(ManualClock::new(t0())))
            .inline()
            .expect("an inline worker")
    }

    /// Fetches the mailbox and runs every job that follows.
    fn retrieve_and_deliver(&self) {
        self.retrieve_and_deliver_with(&self.worker());
    }

    fn retrieve_and_deliver_with(&self, worker: &InlineWorker<dyn Store>) {
        self.store()
            .enqueue(&NewJob::of(&MailRetrieve {}, t0()).expect("job"), t0())
            .expect("enqueued");
        worker.run_due().expect("jobs ran");
    }

    fn messages(&self) -> Vec<hitcore::list_mail::ListMessageSummary> {
        self.store()
            .list_messages(self.list.id, 50)
            .expect("messages")
    }
}

fn create_list(
    store: &dyn Store,
    group: &Group,
    mail_name: &str,
    adjust: impl FnOnce(&mut MailingListPatch),
) -> MailingList {
    let mut fields = MailingListPatch {
        name: Some(format!("List {mail_name}")),
        mail_name: Some(mail_name.to_owned()),
        subscribers_may_post: true,
        ..MailingListPatch::default()
    };
    adjust(&mut fields);
    store
        .create_mailing_list(
            &system(CreateMailingList(group.id)),
            &NewMailingList {
                group_id: group.id,
                fields: fields.validated().expect("valid list"),
            },
            t0(),
        )
        .expect("list created")
}

fn subscribe_members(store: &dyn Store, list: &MailingList, group: &Group) {
    store
        .add_subscription(
            &system(ManageSubscriptions(list.id)),
            &Subscriber::Group {
                group_id: group.id,
                role_types: vec!["FederationMembers.Member".to_owned()],
            },
        )
        .expect("group subscription");
}

fn message(to: &str, from: &str, subject: &str) -> String {
    format!(
        "Return-Path: <{from}>\nX-Original-To: {to}\nFrom: Ann Sender <{from}>\nTo: {to}\n\
         Subject: {subject}\nMessage-ID: <{subject}@example.test>\n\
         Date: Mon, 1 Jun 2026 10:00:00 +0000\n\nHello list.\n"
    )
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count()
}

#[test]
fn a_subscriber_message_reaches_every_recipient_once_in_batches() {
    common::init_test_tracing();
    for db in Db::each() {
        let (r, sender) = Relay::with_sender_and_four_members(db);
        let recipients = r
            .store()
            .recipients(r.list.id, t0().date_naive())
            .expect("recipients");
        r.drop_message(
            "1.eml",
            &message("club@lists.example.test", sender, "hello"),
        );

        r.retrieve_and_deliver();

        assert_eq!(files_in(r.inbox.path()), 0, "the message left the mailbox");
        let sent = r.mailer.sent();
        let mut envelope_to: Vec<String> =
            sent.iter().flat_map(|m| m.envelope.to.clone()).collect();
        envelope_to.sort();
        let mut expected: Vec<String> = recipients.iter().map(|r| r.email.clone()).collect();
        expected.sort();
        assert_eq!(envelope_to, expected, "{}: every recipient once", r.db.name);
        assert!(
            sent.iter().all(|m| m.envelope.to.len() <= 2),
            "batches of two"
        );
        assert!(
            sent.iter()
                .all(|m| m.envelope.from.as_deref() == Some("club@lists.example.test")),
            "the list is the envelope sender"
        );
        let text = String::from_utf8_lossy(&sent[0].message).into_owned();
        assert!(text.contains("List-Id:"), "{text}");
        assert!(
            text.contains("Reply-To: \"Ann Sender\" <ann@people.example.test>"),
            "{text}"
        );
        assert!(
            text.ends_with("Hello list.\r\n"),
            "the body is untouched: {text}"
        );
        let messages = r.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].state, ListMessageState::Finished);
        assert_eq!(
            (messages[0].recipients, messages[0].sent),
            (expected.len() as u64, expected.len() as u64)
        );
    }
}

/// Sends through a [`MemoryMailer`], and before its second transaction
/// turns the batches recorded as sent back to handed over: what a crash
/// of PostgreSQL does to records that committed without waiting for the
/// disk, while the pool reconnects and the attempt goes on.
#[derive(Debug)]
struct LosingRecords {
    inner: Arc<MemoryMailer>,
    url: String,
    calls: std::sync::atomic::AtomicUsize,
}

impl Mailer for LosingRecords {
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            let lose = "UPDATE list_batches SET state = 'handed' WHERE state = 'sent'";
            if self.url.starts_with("postgres") {
                let mut c =
                    postgres::Client::connect(&self.url, postgres::NoTls).expect("connected");
                c.batch_execute(lose).expect(lose);
            } else {
                let path = self.url.strip_prefix("sqlite://").expect("a sqlite:// URL");
                rusqlite::Connection::open(path)
                    .and_then(|c| c.execute_batch(lose))
                    .expect(lose);
            }
        }
        self.inner.send_with_handover(mail, handing_over)
    }
}

#[test]
fn a_batch_whose_record_was_lost_counts_as_uncertain_and_is_not_sent_again() {
    common::init_test_tracing();
    for db in Db::each() {
        let (r, sender) = Relay::with_sender_and_four_members(db);
        let total = r
            .store()
            .recipients(r.list.id, t0().date_naive())
            .expect("recipients")
            .len();
        r.drop_message(
            "1.eml",
            &message("club@lists.example.test", sender, "hello"),
        );
        let mailer = Arc::new(LosingRecords {
            inner: Arc::clone(&r.mailer),
            url: r.db.url.clone(),
            calls: std::sync::atomic::AtomicUsize::new(0),
        });

        r.retrieve_and_deliver_with(&r.worker_with(mailer, 1));

        let mut envelope_to: Vec<String> = r
            .mailer
            .sent()
            .iter()
            .flat_map(|m| m.envelope.to.clone())
            .collect();
        let sent = envelope_to.len();
        envelope_to.sort();
        envelope_to.dedup();
        assert_eq!((sent, envelope_to.len()), (total, total), "each once");
        let m = &r.messages()[0];
        assert_eq!(m.state, ListMessageState::Finished, "{}", r.db.name);
        assert_eq!(
            (m.recipients, m.sent, m.uncertain),
            (total as u64, total as u64 - 2, 2),
            "{}: the first batch of two lost its record",
            r.db.name
        );
    }
}

#[test]
fn a_stranger_gets_one_reply_and_the_list_nothing() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        r.member("member0@people.example.test");
        r.drop_message(
            "1.eml",
            &message("club@lists.example.test", "eve@else.test", "spam"),
        );

        r.retrieve_and_deliver();

        let sent = r.mailer.sent();
        assert_eq!(sent.len(), 1, "{}: only the reply", r.db.name);
        assert_eq!(sent[0].envelope.to, ["eve@else.test"]);
        assert_eq!(sent[0].envelope.from, None, "a reply has the null sender");
        let text = String::from_utf8_lossy(&sent[0].message).into_owned();
        assert!(text.contains("club@lists.example.test"), "{text}");
        let messages = r.messages();
        assert_eq!(messages[0].state, ListMessageState::SenderRejected);
        assert_eq!(messages[0].sent, 0);
    }
}

#[test]
fn a_member_s_message_above_the_limit_reaches_nobody_and_its_sender_is_told_why() {
    common::init_test_tracing();
    for db in Db::each() {
        let (r, sender) = Relay::with_sender_and_four_members(db);
        let line = format!("{}\n", "x".repeat(998));
        let body = line.repeat(hitcore::relay::DEFAULT_MAX_MESSAGE_BYTES / line.len() + 1);
        let big = message("club@lists.example.test", sender, "big") + &body;
        r.drop_message("1.eml", &big);

        r.retrieve_and_deliver();

        let sent = r.mailer.sent();
        assert_eq!(sent.len(), 1, "{}: only the reply", r.db.name);
        assert_eq!(sent[0].envelope.to, [sender]);
        let text = String::from_utf8_lossy(&sent[0].message).replace("\r\n", "\n");
        assert!(text.contains("larger than the\n10 MiB"), "{text}");
        assert!(!text.contains("may not post"), "{text}");
        let messages = r.messages();
        assert_eq!(
            messages[0].state,
            ListMessageState::TooLarge,
            "{}",
            r.db.name
        );
        assert_eq!(messages[0].sent, 0);
    }
}

#[test]
fn an_out_of_office_reply_to_the_list_is_dropped_without_an_answer() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        r.member("member0@people.example.test");
        let auto = message(
            "club@lists.example.test",
            "member0@people.example.test",
            "away",
        )
        .replacen("Subject:", "Auto-Submitted: auto-replied\nSubject:", 1);
        r.drop_message("1.eml", &auto);

        r.retrieve_and_deliver();

        assert!(
            r.mailer.sent().is_empty(),
            "{}: no loop, no reply",
            r.db.name
        );
        assert_eq!(r.messages()[0].state, ListMessageState::AutoReplyDropped);
    }
}

#[test]
fn one_message_for_two_lists_reaches_each_once_even_as_two_copies() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        let other = create_list(r.store(), &r.members, "board", |f| f.anyone_may_post = true);
        subscribe_members(r.store(), &other, &r.members);
        r.member("member0@people.example.test");
        // Postfix delivers one copy per list address, the same message
        // but for X-Original-To; a forwarded one may carry both headers.
        let raw = message(
            "club@lists.example.test",
            "member0@people.example.test",
            "both",
        );
        r.drop_message("1.eml", &raw);
        r.drop_message(
            "2.eml",
            &raw.replace("X-Original-To: club@", "X-Original-To: board@"),
        );
        r.drop_message(
            "3.eml",
            &raw.replacen(
                "X-Original-To: club@lists.example.test",
                "X-Original-To: club@lists.example.test\nX-Original-To: board@lists.example.test",
                1,
            ),
        );

        let log = common::log_of(|| r.retrieve_and_deliver());

        assert!(
            log.contains("mail.accepted=2") && log.contains("mail.duplicates=1"),
            "{}: the third is counted as a copy: {log}",
            r.db.name
        );
        let sent = r.mailer.sent();
        let to_member = |list: &str| {
            sent.iter()
                .filter(|m| {
                    m.envelope
                        .from
                        .as_deref()
                        .is_some_and(|f| f.starts_with(list))
                })
                .filter(|m| {
                    m.envelope
                        .to
                        .iter()
                        .any(|t| t == "member0@people.example.test")
                })
                .count()
        };
        assert_eq!(to_member("club@"), 1, "{}: club once", r.db.name);
        assert_eq!(to_member("board@"), 1, "{}: board once", r.db.name);
        assert_eq!(r.messages().len(), 1, "one copy for club");
        assert_eq!(
            r.store().list_messages(other.id, 10).expect("read").len(),
            1
        );
        assert_eq!(files_in(r.inbox.path()), 0);
    }
}

#[test]
fn a_message_without_message_id_sent_twice_is_relayed_twice_with_ids_of_its_own() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        r.member("member0@people.example.test");
        // Case 16: byte-identical, no Message-ID; two arrivals.
        let raw = message(
            "club@lists.example.test",
            "member0@people.example.test",
            "alarm",
        )
        .replace("Message-ID: <alarm@example.test>\n", "");
        r.drop_message("1.eml", &raw);
        r.drop_message("2.eml", &raw);
        // A message with a Message-ID, twice: one message.
        let kept = message(
            "club@lists.example.test",
            "member0@people.example.test",
            "kept",
        );
        r.drop_message("3.eml", &kept);
        r.drop_message("4.eml", &kept);

        r.retrieve_and_deliver();

        let ids_to_member: Vec<String> = r
            .mailer
            .sent()
            .iter()
            .filter(|m| {
                m.envelope
                    .to
                    .iter()
                    .any(|t| t == "member0@people.example.test")
            })
            .map(|m| {
                let text = String::from_utf8_lossy(&m.message).into_owned();
                text.split("\r\n")
                    .find_map(|l| l.strip_prefix("Message-ID: "))
                    .expect("a Message-ID")
                    .to_owned()
            })
            .collect();
        let generated: Vec<&String> = ids_to_member
            .iter()
            .filter(|id| id.ends_with(&format!(".list@{LIST_DOMAIN}>")))
            .collect();
        assert_eq!(generated.len(), 2, "{}: {ids_to_member:?}", r.db.name);
        assert_ne!(generated[0], generated[1], "each copy has its own id");
        let originals = ids_to_member
            .iter()
            .filter(|id| *id == "<kept@example.test>")
            .count();
        assert_eq!(originals, 1, "{}: the original id kept, once", r.db.name);
        assert_eq!(r.messages().len(), 3);
        assert_eq!(files_in(r.inbox.path()), 0);
    }
}

#[test]
fn mail_for_an_unknown_list_and_unreadable_mail_do_not_block_the_next_message() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        r.member("member0@people.example.test");
        r.drop_message("1.eml", "\u{0}\u{1}garbage without any header\n");
        r.drop_message(
            "2.eml",
            &message(
                "nobody@lists.example.test",
                "member0@people.example.test",
                "lost",
            ),
        );
        r.drop_message(
            "3.eml",
            &message(
                "club@lists.example.test",
                "member0@people.example.test",
                "after",
            ),
        );

        r.retrieve_and_deliver();

        let messages = r.messages();
        assert_eq!(
            messages.len(),
            1,
            "{}: only the good one reached the list",
            r.db.name
        );
        assert_eq!(messages[0].state, ListMessageState::Finished);
        assert!(messages[0].sent > 0, "and went out");
        assert_eq!(files_in(r.inbox.path()), 0, "nothing left in the inbox");
        let failed = r.inbox.path().join("failed");
        assert_eq!(files_in(&failed), 1, "the unreadable one was moved aside");
    }
}

#[test]
fn the_log_counts_the_addresses_of_unknown_lists_and_never_names_them() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        r.drop_message(
            "1.eml",
            &message(
                "hans.muster@lists.example.test",
                "ann@people.example.test",
                "typo",
            ),
        );

        let log = common::log_of(|| r.retrieve_and_deliver());

        assert!(
            log.contains("no list has the address in lists.example.test"),
            "{}: {log}",
            r.db.name
        );
        assert!(!log.contains("hans.muster"), "{}: {log}", r.db.name);
        assert!(!log.contains("ann@"), "{}: {log}", r.db.name);
    }
}

#[test]
fn a_list_with_a_delivery_report_tells_the_sender_how_many_it_reached() {
    common::init_test_tracing();
    for db in Db::each() {
        let r = Relay::new(db);
        let reporting = create_list(r.store(), &r.members, "report", |f| {
            f.anyone_may_post = true;
            f.delivery_report = true;
        });
        subscribe_members(r.store(), &reporting, &r.members);
        r.member("member0@people.example.test");
        let recipients = r
            .store()
            .recipients(reporting.id, t0().date_naive())
            .expect("recipients")
            .len();
        r.drop_message(
            "1.eml",
            &message("report@lists.example.test", "ann@else.test", "news"),
        );

        r.retrieve_and_deliver();

        let sent = r.mailer.sent();
        let reports: Vec<_> = sent
            .iter()
            .filter(|m| m.envelope.to == ["ann@else.test"])
            .collect();
        assert_eq!(reports.len(), 1, "{}: one report", r.db.name);
        assert_eq!(
            reports[0].envelope.from, None,
            "the report has the null sender"
        );
        let text = String::from_utf8_lossy(&reports[0].message).into_owned();
        assert!(
            text.contains(&format!("accepted by the mail server: {recipients}")),
            "{text}"
        );
    }
}

#[test]
fn relay_counters_count_fetched_forwarded_and_rejected_messages() {
    common::init_test_tracing();
    let r = Relay::new(Db::sqlite());
    let sender = "ann@people.example.test";
    r.member(sender);
    r.member("member0@people.example.test");
    r.drop_message(
        "1.eml",
        &message("club@lists.example.test", sender, "hello"),
    );
    r.drop_message(
        "2.eml",
        &message("club@lists.example.test", "eve@else.test", "spam"),
    );
    // A recorder of this thread only: the inline worker runs the jobs
    // here, and other tests of this binary cannot add to its counts.
    let recorder = hitjobs::telemetry::metrics::recorder();
    let handle = recorder.handle();

    metrics::with_local_recorder(&recorder, || r.retrieve_and_deliver());

    let text = handle.render();
    for (series, n) in [
        ("hit_relay_messages_fetched_total", 2),
        ("hit_relay_messages_forwarded_total", 1),
        ("hit_relay_messages_rejected_total", 1),
    ] {
        assert!(
            text.contains(&format!("{series} {n}\n")),
            "{series} {n}:\n{text}"
        );
    }
    assert!(!text.contains("hit_relay_messages_bounced_total"), "{text}");
}
