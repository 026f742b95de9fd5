//! What the worker reports: failed attempts and panics reach Sentry (the
//! real client, sending to a local endpoint this binary starts) with the
//! job's kind and ids, the release and the environment, and without the
//! personal data the job handled; the job metrics and the database gauges
//! render in a form `promtool check metrics` accepts; and the `hitjobs`
//! binary serves them on `METRICS_ADDR`.
//!
//! Sentry's hub and the metrics recorder are global to the process, so
//! this binary holds only these tests, which use job kinds and queues of
//! their own.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use chrono::{TimeDelta, Utc};
use hitcore::jobs::{JobKind, JobState, NewJob};
use hitcore::seed::{self, SeedOptions};
use hitcore::store::Store;
use hitjobs::jobs::Noop;
use hitjobs::telemetry::testing::{
    TEST_ENVIRONMENT, promtool, promtool_check, tag, test_recorder, test_sentry,
};
use hitjobs::telemetry::{QueueGauges, RELEASE};
use hitjobs::{JobContext, Registry, Worker, WorkerOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use common::{Db, PATIENCE, wait_until};

/// A mail subject a job handles; it must never leave the process.
const SUBJECT: &str = "Einladung zum Sommerfest am See";
/// The person the jobs below handle: a demo person with an email.
const PERSON_EMAIL: &str = "alpha@demo.example";

/// Fails, with the person's name, email and a subject in its error.
#[derive(Debug, Default, Serialize, Deserialize)]
struct MailsThePerson {
    email: String,
}

impl JobKind for MailsThePerson {
    const KIND: &'static str = "telemetry.mails_the_person";
    const MAX_RUN: Duration = Duration::from_secs(60);
    const MAX_ATTEMPTS: u32 = 3;
}

/// Panics, with the person's name and email in the message.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PanicsOnThePerson {
    email: String,
}

impl JobKind for PanicsOnThePerson {
    const KIND: &'static str = "telemetry.panics_on_the_person";
    const MAX_RUN: Duration = Duration::from_secs(60);
    const MAX_ATTEMPTS: u32 = 1;
}

/// The person's name and email, as the handlers put them in their texts.
fn describe_person(ctx: &JobContext<'_, dyn Store>, email: &str) -> anyhow::Result<String> {
    let person = ctx
        .store()
        .person_by_email(email)?
        .ok_or_else(|| anyhow!("no person {email}"))?;
    Ok(format!(
        "{} {} <{}>",
        person.first_name.unwrap_or_default(),
        person.last_name.unwrap_or_default(),
        email
    ))
}

fn leaky_registry() -> Registry<dyn Store> {
    let mut registry = Registry::new();
    registry.register(|job: MailsThePerson, ctx: &JobContext<'_, dyn Store>| {
        let who = describe_person(ctx, &job.email)?;
        Err(anyhow!(
            "550 mailbox of {who} refused the mail \"{SUBJECT}\""
        ))
    });
    registry.register(|job: PanicsOnThePerson, ctx: &JobContext<'_, dyn Store>| {
        let who = describe_person(ctx, &job.email)?;
        panic!("the mail could not be built: {who}, subject {SUBJECT}")
    });
    registry
}

/// A SQLite database with the demo federation in it.
fn seeded_db() -> Db {
    let db = Db::sqlite();
    let options = SeedOptions {
        admin_email: None,
        admin_password: Some("admin-password-for-telemetry".to_owned()),
        demo_password: None,
    };
    seed::load_demo(&*db.store, &common::org(), &options, Utc::now()).expect("the demo seed");
    db
}

/// Every name, nickname and email of the seeded people.
fn personal_data(store: &dyn Store) -> Vec<String> {
    let count = store.person_count().expect("a count");
    let ids: Vec<hitcore::PersonId> = (1..=i64::try_from(count).expect("few") + 10)
        .map(hitcore::PersonId)
        .collect();
    let people = store.people(&ids).expect("the people");
    assert!(people.len() >= 5, "the demo has people: {}", people.len());
    people
        .into_iter()
        .flat_map(|p| [p.first_name, p.last_name, p.nickname, p.email])
        .flatten()
        .filter(|v| v.len() >= 3)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn enqueue(store: &dyn Store, job: &NewJob) -> hitcore::JobId {
    store
        .enqueue(job, job.run_at)
        .expect("enqueued")
        .expect("an id")
}

/// An event's level; the protocol leaves out the default, `error`.
fn level(event: &Value) -> &str {
    event
        .get("level")
        .and_then(Value::as_str)
        .unwrap_or("error")
}

fn event_of_job(events: &[Value], id: hitcore::JobId, exception: bool) -> Option<&Value> {
    events.iter().find(|e| {
        tag(e, "job.id") == Some(id.to_string().as_str())
            && e.get("exception").is_some() == exception
    })
}

#[test]
fn failed_attempts_and_panics_reach_sentry_with_their_ids_and_no_personal_data() {
    common::init_test_tracing();
    let sentry = test_sentry("hitjobs");
    let db = seeded_db();
    let now = Utc::now();
    let failing = enqueue(
        &*db.store,
        &NewJob::of(
            &MailsThePerson {
                email: PERSON_EMAIL.to_owned(),
            },
            now,
        )
        .expect("a payload"),
    );
    let panicking = enqueue(
        &*db.store,
        &NewJob::of(
            &PanicsOnThePerson {
                email: PERSON_EMAIL.to_owned(),
            },
            now,
        )
        .expect("a payload"),
    );

    let worker = Worker::new(
        Arc::clone(&db.store),
        leaky_registry(),
        WorkerOptions::default(),
    )
    .inline()
    .expect("a worker");
    let count = worker.run_due().expect("the jobs ran");
    assert_eq!(count.failed, 2, "{count:?}");
    let worker_id = worker.id().to_string();

    let failure = sentry.wait_for_event("for the failed attempt", |e| {
        tag(e, "job.id") == Some(failing.to_string().as_str())
    });
    assert_eq!(tag(&failure, "job.kind"), Some(MailsThePerson::KIND));
    assert_eq!(tag(&failure, "worker.id"), Some(worker_id.as_str()));
    assert_eq!(tag(&failure, "job.attempt"), Some("1"));
    assert_eq!(tag(&failure, "job.outcome"), Some("retried"));
    assert_eq!(tag(&failure, "job.failure"), Some("error"));
    assert_eq!(tag(&failure, "service"), Some("hitjobs"));
    assert_eq!(failure["release"], RELEASE);
    assert_eq!(failure["environment"], TEST_ENVIRONMENT);
    assert_eq!(level(&failure), "warning");

    let panic = sentry.wait_for_event("for the panic", |e| {
        tag(e, "job.id") == Some(panicking.to_string().as_str()) && e.get("exception").is_some()
    });
    assert_eq!(tag(&panic, "job.kind"), Some(PanicsOnThePerson::KIND));
    assert_eq!(tag(&panic, "worker.id"), Some(worker_id.as_str()));
    assert_eq!(panic["exception"]["values"][0]["type"], "panic");
    assert_eq!(
        panic["exception"]["values"][0]["value"],
        "the mail could not be built"
    );
    let last = sentry.wait_for_event("for the panicking job's last attempt", |e| {
        tag(e, "job.id") == Some(panicking.to_string().as_str()) && e.get("exception").is_none()
    });
    assert_eq!(tag(&last, "job.outcome"), Some("failed"));
    assert_eq!(tag(&last, "job.failure"), Some("panic"));
    assert_eq!(level(&last), "error");
    assert!(event_of_job(&sentry.events(), failing, true).is_none());

    // Whatever reached the endpoint, headers included: none of the people,
    // no subject, no error text.
    let raw: Vec<u8> = sentry.raw_requests().concat();
    let raw = String::from_utf8_lossy(&raw);
    let mut secrets = personal_data(&*db.store);
    secrets.extend([
        SUBJECT.to_owned(),
        "mailbox of".to_owned(),
        // The reply code with what follows it: "550" alone turns up in
        // event ids and timestamps.
        "550 mailbox".to_owned(),
        "refused the mail".to_owned(),
    ]);
    assert!(secrets.iter().any(|s| s == PERSON_EMAIL));
    // Nor where the process runs.
    assert!(
        !raw.contains("\"server_name\""),
        "the host name was sent: {raw}"
    );
    for secret in &secrets {
        assert!(
            !raw.contains(secret.as_str()),
            "`{secret}` was sent to Sentry"
        );
    }
    worker.stop().expect("stopped");
}

/// Succeeds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct MetricsOk {}

impl JobKind for MetricsOk {
    const KIND: &'static str = "metrics.ok";
    const MAX_RUN: Duration = Duration::from_secs(60);
    const QUEUE: &'static str = "metrics";
}

/// Fails; retried until its attempts are used up.
#[derive(Debug, Default, Serialize, Deserialize)]
struct MetricsBroken {}

impl JobKind for MetricsBroken {
    const KIND: &'static str = "metrics.broken";
    const MAX_RUN: Duration = Duration::from_secs(60);
    const QUEUE: &'static str = "metrics";
    const MAX_ATTEMPTS: u32 = 2;
}

fn metrics_registry() -> Registry<dyn Store> {
    let mut registry = Registry::new();
    registry.register(|_: MetricsOk, _: &JobContext<'_, dyn Store>| Ok(()));
    registry.register(|_: MetricsBroken, _: &JobContext<'_, dyn Store>| Err(anyhow!("broken")));
    registry
}

/// The value of the sample `name{labels}` in Prometheus text, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn job_metrics_and_queue_gauges_render_for_prometheus() {
    common::init_test_tracing();
    let handle = test_recorder();
    let db = Db::sqlite();
    // Whole seconds, as the stores keep them, so that ages are exact.
    let t0 = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("a time");
    let clock = Arc::new(hitjobs::clock::ManualClock::new(t0));
    for _ in 0..2 {
        enqueue(
            &*db.store,
            &NewJob::of(&MetricsOk {}, t0).expect("a payload"),
        );
    }
    enqueue(
        &*db.store,
        &NewJob::of(&MetricsBroken {}, t0).expect("a payload"),
    );
    // Due 90 s ago on a queue nobody works: waiting.
    let idle = NewJob {
        queue: "metrics_idle".to_owned(),
        ..NewJob::of(&MetricsOk {}, t0 - TimeDelta::seconds(90)).expect("a payload")
    };
    enqueue(&*db.store, &idle);
    let worker = Worker::new(
        Arc::clone(&db.store),
        metrics_registry(),
        WorkerOptions::default(),
    )
    .with_clock(clock.clone())
    .inline()
    .expect("a worker");

    let mut gauges = QueueGauges::default();
    gauges
        .refresh(&*db.store, t0, Duration::from_secs(3 * 3600))
        .expect("the gauges");
    let before = handle.render();
    assert_eq!(
        sample(
            &before,
            r#"hit_job_queue_depth{queue="metrics",state="waiting"}"#
        ),
        Some(3.0),
        "{before}"
    );

    worker.run_due().expect("first round");
    // The broken job's retry, after its back-off, fails for good.
    let later = t0 + TimeDelta::hours(2);
    clock.set(later);
    worker.run_due().expect("second round");
    gauges
        .refresh(&*db.store, later, Duration::from_secs(3 * 3600))
        .expect("the gauges");
    let text = handle.render();

    let value =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(
        value(r#"hit_jobs_enqueued_total{kind="metrics.ok",queue="metrics"}"#),
        2.0
    );
    assert_eq!(
        value(r#"hit_jobs_enqueued_total{kind="metrics.ok",queue="metrics_idle"}"#),
        1.0
    );
    assert_eq!(value(r#"hit_jobs_started_total{kind="metrics.ok"}"#), 2.0);
    assert_eq!(value(r#"hit_jobs_succeeded_total{kind="metrics.ok"}"#), 2.0);
    assert_eq!(
        value(r#"hit_jobs_started_total{kind="metrics.broken"}"#),
        2.0
    );
    assert_eq!(
        value(r#"hit_jobs_retried_total{kind="metrics.broken"}"#),
        1.0
    );
    assert_eq!(
        value(r#"hit_jobs_failed_total{kind="metrics.broken"}"#),
        1.0
    );
    assert_eq!(
        value(r#"hit_job_duration_seconds_count{kind="metrics.ok"}"#),
        2.0
    );
    assert!(
        text.contains(r#"hit_job_duration_seconds_bucket{kind="metrics.ok",le="0.1"}"#),
        "{text}"
    );
    assert_eq!(
        value(r#"hit_job_queue_depth{queue="metrics_idle",state="waiting"}"#),
        1.0
    );
    assert_eq!(
        value(r#"hit_job_queue_depth{queue="metrics",state="waiting"}"#),
        0.0
    );
    assert_eq!(
        value(r#"hit_job_queue_oldest_waiting_seconds{queue="metrics_idle"}"#),
        (2 * 3600 + 90) as f64
    );
    assert!(value("hit_job_workers_live") >= 1.0);
    assert!(text.contains("# HELP hit_jobs_retried_total "), "{text}");
    assert!(
        text.contains("# TYPE hit_job_duration_seconds histogram"),
        "{text}"
    );

    if let Some(promtool) = promtool() {
        let out = promtool_check(&promtool, &text);
        assert!(
            out.status.success(),
            "promtool check metrics: {}\n{}{}\n{text}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    worker.stop().expect("stopped");
}

fn hitjobs_binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hitjobs"));
    command
        .env_remove("HIT_ORG")
        .env_remove("SENTRY_DSN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// A port nobody listens on right now.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// The body of `GET /metrics` at `addr`, or `None` while nothing answers.
fn scrape(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

#[test]
fn the_worker_binary_serves_its_metrics_on_metrics_addr() {
    let db = Db::sqlite();
    let now = Utc::now();
    let id = enqueue(&*db.store, &NewJob::of(&Noop {}, now).expect("a payload"));
    let addr = free_addr();
    let mut child = hitjobs_binary()
        .env("DATABASE_URL", &db.url)
        .env("METRICS_ADDR", addr.to_string())
        .args(["--grace-secs", "5"])
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");

    wait_until("the no-op job is done", || {
        db.store.job(id).expect("read").expect("kept").state() == JobState::Succeeded
    });
    let mut text = String::new();
    wait_until("the listener reports the job and the workers", || {
        text = scrape(addr).unwrap_or_default();
        text.contains(r#"hit_jobs_succeeded_total{kind="system.noop"} 1"#)
            && text.contains("hit_job_workers_live 1")
    });
    assert!(text.contains("# HELP hit_jobs_enqueued_total "), "{text}");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    let deadline = std::time::Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the status") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the binary did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");

    if let Some(promtool) = promtool() {
        let out = promtool_check(&promtool, &text);
        assert!(
            out.status.success(),
            "promtool check metrics: {}\n{}{}\n{text}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bad_telemetry_settings_stop_the_start_naming_the_variable() {
    for (variable, value) in [
        ("METRICS_ADDR", "localhost"),
        ("SENTRY_DSN", "not-a-dsn-secretkey"),
    ] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
        let out = hitjobs_binary()
            .env("DATABASE_URL", &url)
            .env(variable, value)
            .output()
            .expect("the binary runs");
        assert!(!out.status.success(), "{variable}={value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{variable}:")), "{stderr}");
        assert!(!stderr.contains("secretkey"), "{stderr}");
    }
}

#[test]
fn a_busy_metrics_addr_stops_the_start_naming_the_variable() {
    let busy = TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = busy.local_addr().expect("its address");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
    let out = hitjobs_binary()
        .env("DATABASE_URL", &url)
        .env("METRICS_ADDR", addr.to_string())
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("METRICS_ADDR={addr}")), "{stderr}");
}
