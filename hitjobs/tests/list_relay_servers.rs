//! The list mail pipeline end to end against the real servers that
//! `.ci/run` starts (`.ci/mail-servers.sh`): a message sent through
//! Postfix to a list address lands in the catch-all mailbox, the `hitjobs`
//! binary fetches it over IMAP and relays it through Postfix, and every
//! recipient's mailbox in Dovecot is read to check what arrived.
//!
//! Then the same with the worker aborted (`HITJOBS_CRASH_AT`) between each
//! pair of steps of the pipeline and started again: every recipient has
//! the message exactly once. The one point inside the documented window
//! (ARCHITECTURE.md, "List mail": after a batch is marked handed over and
//! before the server's answer) leaves that batch uncertain, not resent.
//!
//! Needs HIT_TEST_SMTP_URL and HIT_TEST_IMAP_URL (the catch-all mailbox);
//! skipped with a note without them. The tests share the catch-all mailbox,
//! so they take turns.

mod common;

use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::Db;
use hitcore::PersonId;
use hitcore::ability::{CreateMailingList, CreatePerson, ManageSubscriptions, system};
use hitcore::jobs::NewJob;
use hitcore::list_mail::{ListMessageState, ListMessageSummary};
use hitcore::mail::{Envelope, OutgoingMail};
use hitcore::mailing_list::{MailingList, MailingListPatch, NewMailingList, Subscriber};
use hitcore::person::PersonPatch;
use hitcore::role::NewRole;
use hitcore::seed::{SeedOptions, load_demo};
use hitjobs::jobs::MailRetrieve;
use hitjobs::mail::{Mailer, SmtpMailer, SmtpUrl, open_mailbox};

const LIST_DOMAIN: &str = "lists.example.test";
const PEOPLE_DOMAIN: &str = "people.example.test";
/// Recipients per list; with batches of two, three SMTP transactions.
const RECIPIENTS: usize = 5;

static CATCH_ALL: Mutex<()> = Mutex::new(());

/// The servers, from the environment.
struct Servers {
    smtp_url: String,
    imap_url: String,
    /// `host:port` of the IMAP server.
    imap_host: String,
}

impl Servers {
    fn from_env() -> Option<Servers> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let (Some(smtp_url), Some(imap_url)) = (get("HIT_TEST_SMTP_URL"), get("HIT_TEST_IMAP_URL"))
        else {
            eprintln!(
                "note: HIT_TEST_SMTP_URL or HIT_TEST_IMAP_URL is not set: the tests against \
                 Postfix and Dovecot are skipped (.ci/run sets them)"
            );
            return None;
        };
        let imap_host = imap_url
            .rsplit_once('@')
            .map(|(_, h)| h.split('/').next().unwrap_or(h).to_owned())
            .expect("HIT_TEST_IMAP_URL is imap://user:password@host:port");
        Some(Servers {
            smtp_url,
            imap_url,
            imap_host,
        })
    }

    /// The IMAP URL of a person's own mailbox (password `test`).
    fn mailbox_of(&self, email: &str) -> String {
        format!(
            "imap://{}:test@{}",
            email.replace('@', "%40"),
            self.imap_host
        )
    }

    fn send(&self, to: &str, subject: &str, token: &str) {
        let mailer = SmtpMailer::new(SmtpUrl::parse(&self.smtp_url).expect("HIT_TEST_SMTP_URL"));
        let message = format!(
            "From: Ann Sender <ann@{PEOPLE_DOMAIN}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
             Message-ID: <{token}@example.test>\r\nDate: {}\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHello list, {token}.\r\n",
            Utc::now().to_rfc2822()
        );
        let mail = OutgoingMail {
            envelope: Envelope {
                from: Some(format!("ann@{PEOPLE_DOMAIN}")),
                to: vec![to.to_owned()],
            },
            message: message.into_bytes(),
        };
        let delivery = mailer.send(&mail).expect("Postfix takes the message");
        assert_eq!(delivery.accepted, [to.to_owned()]);
    }

    /// Messages in a mailbox whose text contains `token`.
    fn count(&self, url: &str, token: &str) -> (usize, Vec<String>) {
        let mut mailbox = open_mailbox(url).expect("the mailbox opens");
        let mut found = Vec::new();
        for m in mailbox.list().expect("listed") {
            let raw = mailbox.fetch(&m).expect("fetched");
            let text = String::from_utf8_lossy(&raw).into_owned();
            if text.contains(token) {
                found.push(text);
            }
        }
        mailbox.close().expect("closed");
        (found.len(), found)
    }

    fn wait_for_catch_all(&self, token: &str) {
        let end = Instant::now() + common::PATIENCE;
        while self.count(&self.imap_url, token).0 == 0 {
            assert!(
                Instant::now() < end,
                "the message reached the catch-all mailbox"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// One run's database, list and recipients.
struct Case {
    db: Db,
    list: MailingList,
    recipients: Vec<String>,
    token: String,
}

impl Case {
    fn new(name: &str) -> Case {
        Case::on(Db::sqlite(), name)
    }

    fn on(db: Db, name: &str) -> Case {
        let store = db.store.as_ref();
        let now = Utc::now();
        load_demo(store, &common::org(), &SeedOptions::default(), now).expect("demo data");
        let group = store
            .all_groups()
            .expect("groups")
            .into_iter()
            .find(|g| g.group_type == "FederationMembers")
            .expect("the federation's members group");
        let token = format!("{name}-{}", now.timestamp_micros());
        let fields = MailingListPatch {
            name: Some(format!("Crash test {name}")),
            mail_name: Some(token.clone()),
            anyone_may_post: true,
            ..MailingListPatch::default()
        }
        .validated()
        .expect("valid list");
        let list = store
            .create_mailing_list(
                &system(CreateMailingList(group.id)),
                &NewMailingList {
                    group_id: group.id,
                    fields,
                },
                now,
            )
            .expect("list");
        let recipients: Vec<String> = (0..RECIPIENTS)
            .map(|n| format!("{token}-{n}@{PEOPLE_DOMAIN}"))
            .collect();
        for email in &recipients {
            let role = NewRole {
                person_id: PersonId(0),
                group_id: group.id,
                role_type: "FederationMembers.Member".to_owned(),
                label: None,
                start_on: Some(now.date_naive()),
                end_on: None,
            };
            let patch = PersonPatch {
                first_name: Some("Crash".to_owned()),
                last_name: Some(email.clone()),
                email: Some(email.clone()),
                ..PersonPatch::default()
            };
            let permit = system(CreatePerson {
                group_id: group.id,
                role_type: role.role_type.clone(),
            });
            let person = store
                .create_person(&permit, &patch, &role, now)
                .expect("person")
                .0;
            store
                .add_subscription(
                    &system(ManageSubscriptions(list.id)),
                    &Subscriber::Person {
                        person_id: person.id,
                        is_excluded: false,
                    },
                )
                .expect("subscription");
        }
        Case {
            db,
            list,
            recipients,
            token,
        }
    }

    fn address(&self) -> String {
        format!("{}@{LIST_DOMAIN}", self.token)
    }

    /// A mailbox fetch, due now, for the next worker to run.
    fn enqueue_retrieve(&self) {
        let now = Utc::now();
        self.db
            .store
            .enqueue(&NewJob::of(&MailRetrieve {}, now).expect("job"), now)
            .expect("enqueued");
    }

    /// The `hitjobs` binary on this case's database.
    fn worker(&self, servers: &Servers, crash_at: Option<&str>) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hitjobs"));
        command
            .args(["--concurrency", "2", "--grace-secs", "2"])
            .args(["--dead-after-secs", "10", "--recover-every-secs", "1"])
            .env("DATABASE_URL", &self.db.url)
            .env("SMTP_URL", &servers.smtp_url)
            .env("MAIL_RETRIEVER_URL", &servers.imap_url)
            .env("MAIL_LIST_DOMAIN", LIST_DOMAIN)
            .env("MAIL_FROM", format!("noreply@{PEOPLE_DOMAIN}"))
            .env("MAIL_BATCH_SIZE", "2")
            // One transaction at a time, so that the batches go out in
            // order and "the first batch" is the one a crash cuts off.
            .env("MAIL_SMTP_SESSIONS", "1")
            .env("RUST_LOG", "warn")
            .env_remove(hitjobs::crash::CRASH_AT)
            .stdout(Stdio::null());
        if let Some(point) = crash_at {
            command.env(hitjobs::crash::CRASH_AT, point);
        }
        command.spawn().expect("the hitjobs binary starts")
    }

    fn summary(&self) -> Option<ListMessageSummary> {
        self.db
            .store
            .list_messages(self.list.id, 1)
            .expect("read")
            .pop()
    }

    fn wait_until_finished(&self) -> ListMessageSummary {
        let end = Instant::now() + common::PATIENCE;
        loop {
            if let Some(s) = self
                .summary()
                .filter(|s| s.state == ListMessageState::Finished)
            {
                return s;
            }
            assert!(
                Instant::now() < end,
                "{}: the list message was finished",
                self.token
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Case {
    fn wait_until_no_open_pipeline_jobs(&self) {
        const OPEN: &str = "SELECT count(*) FROM jobs WHERE kind IN ('mail.retrieve', \
             'list_mail.deliver') AND singleton_key IS NULL AND finished_at IS NULL \
             AND failed_at IS NULL";
        let mut count: Box<dyn FnMut() -> i64> = match hitcore::store::sqlite_file(&self.db.url) {
            Some(path) => {
                let conn = rusqlite::Connection::open(path).expect("the database opens");
                Box::new(move || conn.query_row(OPEN, [], |r| r.get(0)).expect("counted"))
            }
            None => {
                let mut client = postgres::Client::connect(&self.db.url, postgres::NoTls)
                    .expect("the database opens");
                Box::new(move || {
                    client
                        .query_one(OPEN, &[])
                        .expect("counted")
                        .get::<_, i64>(0)
                })
            }
        };
        let end = Instant::now() + common::PATIENCE;
        while count() > 0 {
            assert!(
                Instant::now() < end,
                "{}: the pipeline's jobs ended",
                self.token
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn wait_for_exit(child: &mut Child) -> ExitStatus {
    let end = Instant::now() + common::PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("the worker's state") {
            return status;
        }
        assert!(Instant::now() < end, "the worker reached its crash point");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let status = wait_for_exit(&mut child);
    assert!(status.success(), "the worker stopped gracefully: {status}");
}

/// Waits until each recipient has `expected[i]` copies (and a second more,
/// for late duplicates), then returns what arrived at the first one.
fn check_mailboxes(servers: &Servers, case: &Case, expected: &[usize]) -> Vec<String> {
    let end = Instant::now() + common::PATIENCE;
    for (email, want) in case.recipients.iter().zip(expected) {
        loop {
            let (n, _) = servers.count(&servers.mailbox_of(email), &case.token);
            if n >= *want || Instant::now() > end {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut first = Vec::new();
    for (i, (email, want)) in case.recipients.iter().zip(expected).enumerate() {
        let (n, texts) = servers.count(&servers.mailbox_of(email), &case.token);
        assert_eq!(n, *want, "{}: copies at {email}", case.token);
        if i == 0 || first.is_empty() {
            first = texts;
        }
    }
    first
}

/// Sends a message to the case's list and runs the pipeline, crashing at
/// `point` first when given.
fn relay(servers: &Servers, case: &Case, point: Option<&str>) -> ListMessageSummary {
    servers.send(
        &case.address(),
        &format!("Crash test {}", case.token),
        &case.token,
    );
    servers.wait_for_catch_all(&case.token);
    case.enqueue_retrieve();
    if let Some(point) = point {
        let mut crashing = case.worker(servers, Some(point));
        let status = wait_for_exit(&mut crashing);
        assert!(
            !status.success(),
            "{point}: the worker aborted there ({status})"
        );
        case.enqueue_retrieve();
    }
    let worker = case.worker(servers, None);
    let summary = case.wait_until_finished();
    // Every job of the pipeline ends, the one the crash cut off included
    // (taken back from the dead worker and run again).
    case.wait_until_no_open_pipeline_jobs();
    stop(worker);
    assert_eq!(
        servers.count(&servers.imap_url, &case.token).0,
        0,
        "the catch-all is empty"
    );
    summary
}

#[test]
fn a_list_message_reaches_every_mailbox_once_with_the_list_headers() {
    let Some(servers) = Servers::from_env() else {
        return;
    };
    let _turn = CATCH_ALL.lock().unwrap_or_else(PoisonError::into_inner);
    common::init_test_tracing();
    // PostgreSQL too: the handover writes to the database from inside an
    // SMTP transaction, where a blocking driver that runs an async runtime
    // of its own once panicked.
    for db in Db::each() {
        let case = Case::on(db, "e2e");
        relay_and_check(&servers, &case);
    }
}

fn relay_and_check(servers: &Servers, case: &Case) {
    let summary = relay(servers, case, None);

    assert_eq!((summary.recipients, summary.sent), (5, 5));
    let texts = check_mailboxes(servers, case, &[1; RECIPIENTS]);
    let text = &texts[0];
    let list_address = case.address();
    assert!(
        text.contains(&format!("<{list_address}>")),
        "From is the list: {text}"
    );
    assert!(text.contains("via Crash test"), "{text}");
    assert!(
        text.contains(&format!("Reply-To: \"Ann Sender\" <ann@{PEOPLE_DOMAIN}>")),
        "{text}"
    );
    assert!(
        text.contains(&format!("List-Post: <mailto:{list_address}>")),
        "{text}"
    );
    assert!(text.contains("List-Id:"), "{text}");
    assert!(text.contains("List-Unsubscribe:"), "{text}");
    assert!(text.contains("Precedence: list"), "{text}");
    assert!(
        text.contains(&format!("Hello list, {}.", case.token)),
        "the body: {text}"
    );
}

#[test]
fn a_crash_between_any_two_steps_loses_nothing_and_sends_nothing_twice() {
    let Some(servers) = Servers::from_env() else {
        return;
    };
    let _turn = CATCH_ALL.lock().unwrap_or_else(PoisonError::into_inner);
    common::init_test_tracing();
    let points = [
        "retrieve.after_fetch",
        "retrieve.after_record",
        "retrieve.after_delete",
        "deliver.after_plan",
        "deliver.after_accept",
        "deliver.after_batch",
        "deliver.after_finish",
    ];
    for (i, point) in points.iter().enumerate() {
        let case = Case::new(&format!("c{i}"));
        let summary = relay(&servers, &case, Some(point));
        check_mailboxes(&servers, &case, &[1; RECIPIENTS]);
        assert_eq!(summary.recipients, RECIPIENTS as u64, "{point}");
        assert_eq!(
            summary.sent + summary.uncertain,
            RECIPIENTS as u64,
            "{point}"
        );
    }
}

#[test]
fn a_crash_while_a_batch_is_handed_over_leaves_it_uncertain_and_never_resends_it() {
    let Some(servers) = Servers::from_env() else {
        return;
    };
    let _turn = CATCH_ALL.lock().unwrap_or_else(PoisonError::into_inner);
    common::init_test_tracing();
    let case = Case::new("handover");

    let summary = relay(&servers, &case, Some("deliver.after_handover"));

    // The process died before the message bytes went out, so the server
    // dropped the transaction: the first batch (two addresses, in address
    // order) got nothing, and is not sent again.
    assert_eq!((summary.uncertain, summary.sent), (2, 3));
    check_mailboxes(&servers, &case, &[0, 0, 1, 1, 1]);
}
