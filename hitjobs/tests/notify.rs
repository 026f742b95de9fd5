//! The login mail jobs on the real stores, through a mailer that fails as
//! told: a temporary failure (4xx, no connection) fails the attempt and
//! the job is retried with back-off until the mail goes out; a permanent
//! one (5xx) keeps the job as failed at once, without the remaining
//! attempts. Each attempt that reaches the mailer carries a fresh link.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use common::Db;
use hitcore::jobs::{JobState, NewJob};
use hitcore::seed::{self, SeedOptions};
use hitcore::store::Store;
use hitjobs::clock::ManualClock;
use hitjobs::jobs::{PasswordReset, Services};
use hitjobs::mail::{Delivery, Mailer, OutgoingMail, SendError};
use hitjobs::{Worker, WorkerOptions};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0)
        .single()
        .expect("a valid time")
}

/// What the scripted mailer does with the next message.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Accept,
    Temporary,
    Permanent,
}

/// Answers each message with the next scripted answer (accepting once
/// the script is used up) and keeps every message it was given.
#[derive(Debug, Default)]
struct ScriptedMailer {
    answers: Mutex<VecDeque<Answer>>,
    tried: Mutex<Vec<OutgoingMail>>,
}

impl ScriptedMailer {
    fn new(answers: &[Answer]) -> ScriptedMailer {
        ScriptedMailer {
            answers: Mutex::new(answers.iter().copied().collect()),
            tried: Mutex::new(Vec::new()),
        }
    }

    fn tried(&self) -> Vec<Vec<u8>> {
        self.tried
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|m| m.message.clone())
            .collect()
    }
}

impl Mailer for ScriptedMailer {
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        _handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        self.tried.lock().expect("not poisoned").push(mail.clone());
        let answer = self
            .answers
            .lock()
            .expect("not poisoned")
            .pop_front()
            .unwrap_or(Answer::Accept);
        match answer {
            Answer::Accept => Ok(Delivery {
                accepted: mail.envelope.to.clone(),
                refused: Vec::new(),
            }),
            Answer::Temporary => Err(SendError::Temporary("421 try again later".to_owned())),
            Answer::Permanent => Err(SendError::Permanent("554 no such mailbox".to_owned())),
        }
    }
}

/// The demo federation in `db`, a worker over it on a manual clock with
/// the production registry and `mailer`, and a reset job for Alex Alpha.
fn setup(
    db: &Db,
    mailer: Arc<ScriptedMailer>,
) -> (
    hitjobs::InlineWorker<dyn Store>,
    Arc<ManualClock>,
    hitcore::JobId,
) {
    let org = common::org();
    let options = SeedOptions {
        admin_email: None,
        admin_password: Some("admin-password-for-tests".to_owned()),
        demo_password: Some("demo-password-for-tests".to_owned()),
    };
    seed::load_demo(&*db.store, &org, &options, t0()).expect("seeded");
    let alex = db
        .store
        .person_by_email("alpha@demo.example")
        .expect("lookup")
        .expect("Alex Alpha");

    let services = Services::new(Arc::clone(&org), common::storage()).with_mailer(mailer);
    let registry = hitjobs::jobs::registry::<dyn Store>(&services);
    let clock = Arc::new(ManualClock::new(t0()));
    let options = WorkerOptions {
        host: "test".to_owned(),
        ..WorkerOptions::with_concurrency(1)
    };
    let worker = Worker::new(Arc::clone(&db.store), registry, options)
        .with_clock(clock.clone())
        .inline()
        .expect("registered");
    let job = NewJob::of(&PasswordReset { person_id: alex.id }, t0()).expect("a payload");
    let id = db
        .store
        .enqueue(&job, t0())
        .expect("enqueued")
        .expect("an id");
    (worker, clock, id)
}

/// The token of the link in a message's plain-text part.
fn link_token(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(message)
        .expect("a message");
    let text = parsed.body_text(0).expect("a text part");
    let start = text.find("token=").expect("a link") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[test]
fn a_temporary_failure_is_retried_until_the_mail_goes_out() {
    common::init_test_tracing();
    for db in Db::each() {
        let mailer = Arc::new(ScriptedMailer::new(&[Answer::Temporary, Answer::Temporary]));
        let (worker, clock, id) = setup(&db, Arc::clone(&mailer));

        for attempt in 1..=2 {
            assert_eq!(worker.run_due().expect("ran").failed, 1, "{}", db.name);
            let job = db.store.job(id).expect("read").expect("kept");
            assert_eq!(job.state(), JobState::Pending, "{}: retried", db.name);
            assert_eq!(job.attempts, attempt, "{}", db.name);
            assert!(
                job.run_at > hitjobs::clock::Clock::now(&*clock),
                "{}: backs off",
                db.name
            );
            assert!(
                job.last_error.as_deref().is_some_and(|e| e.contains("421")),
                "{}: {:?}",
                db.name,
                job.last_error
            );
            clock.set(job.run_at);
        }
        assert_eq!(worker.run_due().expect("ran").succeeded, 1, "{}", db.name);
        let job = db.store.job(id).expect("read").expect("kept");
        assert_eq!(job.state(), JobState::Succeeded, "{}", db.name);

        let tried = mailer.tried();
        assert_eq!(tried.len(), 3, "{}", db.name);
        let tokens: Vec<String> = tried.iter().map(|m| link_token(m)).collect();
        assert!(
            tokens[0] != tokens[1] && tokens[1] != tokens[2],
            "{}",
            db.name
        );
        let delivered = hitcore::login_token::token_hash(&tokens[2]);
        let open = db
            .store
            .open_login_token(
                &delivered,
                hitcore::login_token::TokenPurpose::PasswordReset,
                hitjobs::clock::Clock::now(&*clock),
            )
            .expect("lookup");
        assert!(open.is_some(), "{}: the delivered link works", db.name);
        worker.stop().expect("stopped");
    }
}

#[test]
fn a_permanent_failure_keeps_the_job_failed_without_retries() {
    common::init_test_tracing();
    for db in Db::each() {
        let mailer = Arc::new(ScriptedMailer::new(&[Answer::Permanent]));
        let (worker, clock, id) = setup(&db, Arc::clone(&mailer));

        assert_eq!(worker.run_due().expect("ran").failed, 1, "{}", db.name);
        let job = db.store.job(id).expect("read").expect("kept");
        assert_eq!(job.state(), JobState::Failed, "{}", db.name);
        assert_eq!(job.attempts, 1, "{}", db.name);
        assert!(
            job.last_error.as_deref().is_some_and(|e| e.contains("554")),
            "{}: {:?}",
            db.name,
            job.last_error
        );

        clock.advance(std::time::Duration::from_secs(24 * 3600));
        worker.run_due().expect("ran");
        let job = db.store.job(id).expect("read").expect("kept");
        assert_eq!(job.state(), JobState::Failed, "{}: not run again", db.name);
        assert_eq!(job.attempts, 1, "{}", db.name);
        assert_eq!(mailer.tried().len(), 1, "{}", db.name);
        worker.stop().expect("stopped");
    }
}
