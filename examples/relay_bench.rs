//! The list relay's benchmark: one message to a list of 10,000 recipients,
//! relayed into Postfix's `smtp-sink`, against Postfix's own
//! `smtp-source` sending the same number of recipients to the same sink
//! with the same batch size and number of sessions (the raw rate). Each
//! run of the relay follows a raw run of its own, and the table shows the
//! median of the runs' ratios besides the median rates. Also the peak
//! memory after relaying to a list of 1,000 and then one of 10,000, to
//! show that it does not grow with the list. Prints a markdown table.
//!
//! ```text
//! cargo run --release -p hitjobs --example relay_bench -- --recipients 10000 \
//!     [--postgres postgres://postgres@127.0.0.1:5432/relay_bench]
//! ```
//!
//! Needs `smtp-sink` and `smtp-source` (Debian's postfix package): the sink
//! listens on a free port of 127.0.0.1 for the bench only. The list lives
//! in a SQLite file in a temporary folder, or with `--postgres` in a schema
//! of its own on that server, dropped at the end.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::Parser;
use hitcore::ability::{CreateMailingList, CreatePerson, ManageSubscriptions, system};
use hitcore::group::Group;
use hitcore::jobs::NewJob;
use hitcore::list_mail::{InboundOutcome, ListMessageState, NewInboundMail, NewListMessage};
use hitcore::mailing_list::{MailingList, MailingListPatch, NewMailingList, Subscriber};
use hitcore::person::PersonPatch;
use hitcore::role::NewRole;
use hitcore::seed::{SeedOptions, load_demo};
use hitcore::store::Store;
use hitcore::{Organisation, PersonId};
use hitjobs::jobs::{ListMailDeliver, Services};
use hitjobs::mail::{MailSettings, Mailer, MemoryMailer, SmtpMailer, SmtpUrl};
use hitjobs::{Worker, WorkerOptions};

#[derive(Debug, Parser)]
struct Args {
    /// Recipients of the large list.
    #[arg(long, default_value_t = 10_000)]
    recipients: usize,
    /// Envelope recipients per SMTP transaction (both sides).
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// SMTP sessions at once (both sides).
    #[arg(long, default_value_t = 4)]
    sessions: usize,
    /// Runs of each side; the table shows the median.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Size of the message body in bytes.
    #[arg(long, default_value_t = 4_000)]
    size: usize,
    /// Keep the list on this PostgreSQL server (in a schema of its own,
    /// dropped at the end, with the server's commit setting) instead of a
    /// SQLite file.
    #[arg(long)]
    postgres: Option<String>,
    /// Relay into an in-memory mailer instead of the sink: what the
    /// database's part of a delivery costs alone. The mailer keeps every
    /// message, so the memory figures then grow with the runs.
    #[arg(long)]
    no_smtp: bool,
}

const SMALL_ROLE: &str = "FederationMembers.Passive";
const LARGE_ROLE: &str = "FederationMembers.Member";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let port = free_port()?;
    let _sink = Sink::start(port)?;

    let dir = tempfile::tempdir()?;
    let schema = match &args.postgres {
        Some(base) => Some(hitcore::store::postgres::TestSchema::create(base)?),
        None => None,
    };
    let url = match &schema {
        Some(schema) => schema.durable_url().to_owned(),
        None => format!("sqlite://{}", dir.path().join("relay.db").display()),
    };
    let backend = if schema.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let org = org()?;
    let store = hitcore::store::open(&url, Arc::clone(&org))?;
    let (small, large) = lists(store.as_ref(), &org, &args)?;
    if let Some(schema) = &schema {
        settle_statistics(schema.durable_url())?;
    }

    let mailer: Arc<dyn Mailer> = if args.no_smtp {
        Arc::new(MemoryMailer::new())
    } else {
        Arc::new(SmtpMailer::new(
            SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).map_err(anyhow::Error::msg)?,
        ))
    };
    let services = Services::new(Arc::clone(&org), storage()?)
        .with_mailer(mailer)
        .with_mail_settings(MailSettings {
            list_domain: "lists.example.test".to_owned(),
            batch_size: args.batch,
            smtp_sessions: args.sessions,
            ..MailSettings::default()
        });
    let body = "x".repeat(args.size);
    let small_count = relay(&store, &services, &small, &body, 0)?.0;
    let rss_small = peak_rss_kib();
    // One raw run right before each run of ours, so that both sides of a
    // ratio see the machine in the same state: on a shared machine the
    // raw rate alone drifts by a third within a minute.
    let mut raw = Vec::new();
    let mut ours = Vec::new();
    let mut ratios = Vec::new();
    let mut large_count = 0;
    for run in 1..=args.runs {
        let raw_rate = raw_rate(&args, port)?;
        let (count, took) = relay(&store, &services, &large, &body, run)?;
        large_count = count;
        let rate = count as f64 / took.as_secs_f64();
        eprintln!("run {run}: raw {raw_rate:.0}/s, ours {rate:.0}/s");
        raw.push(raw_rate);
        ours.push(rate);
        ratios.push(rate / raw_rate);
    }
    let rss_large = peak_rss_kib();

    println!("load average at the end: {}", load_average());
    println!();
    println!(
        "| recipients/s, {} per transaction, {} sessions, {} B body | median of {} |",
        args.batch, args.sessions, args.size, args.runs
    );
    println!("| --- | ---: |");
    println!("| smtp-source -> smtp-sink (raw) | {:.0} |", median(&raw));
    println!(
        "| hitjobs list relay ({backend}) -> {}, {large_count} recipients | {:.0} |",
        if args.no_smtp { "memory" } else { "smtp-sink" },
        median(&ours)
    );
    println!(
        "| ratio, run by run (lowest to highest) | {:.2} ({:.2} to {:.2}) |",
        median(&ratios),
        lowest(&ratios),
        highest(&ratios)
    );
    println!();
    println!("| peak RSS after relaying to | KiB |");
    println!("| --- | ---: |");
    println!("| {small_count} recipients | {rss_small} |");
    println!("| then {large_count} recipients | {rss_large} |");
    Ok(())
}

/// smtp-source's rate for the same recipients, batch and sessions.
fn raw_rate(args: &Args, port: u16) -> anyhow::Result<f64> {
    let messages = args.recipients.div_ceil(args.batch);
    let started = Instant::now();
    let status = Command::new("smtp-source")
        .args(["-s", &args.sessions.to_string()])
        .args(["-m", &messages.to_string()])
        .args(["-r", &args.batch.to_string()])
        .args(["-l", &args.size.to_string()])
        .args([
            "-f",
            "sender@example.test",
            "-t",
            "rcpt@people.example.test",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .status()
        .context("while running smtp-source (Debian's postfix package)")?;
    if !status.success() {
        bail!("smtp-source failed: {status}");
    }
    Ok((messages * args.batch) as f64 / started.elapsed().as_secs_f64())
}

/// Relays one new message to `list`; returns its recipients and the time
/// the delivery job took.
fn relay(
    store: &Arc<dyn Store>,
    services: &Services,
    list: &MailingList,
    body: &str,
    run: usize,
) -> anyhow::Result<(u64, Duration)> {
    let now = Utc::now();
    let raw = format!(
        "From: Ann <ann@example.test>\r\nTo: {name}@lists.example.test\r\n\
         X-Original-To: {name}@lists.example.test\r\nSubject: Bench {run}\r\n\
         Message-ID: <bench-{run}-{name}@example.test>\r\n\r\n{body}\r\n",
        name = list.mail_name.as_deref().unwrap_or_default()
    );
    let mail = NewInboundMail {
        raw: raw.as_bytes(),
        arrival_key: format!("bench-{run}-{}", list.id),
        message_key: format!("bench-{run}-{}", list.id),
        sender: Some("ann@example.test".to_owned()),
        subject: format!("Bench {run}"),
        outcome: InboundOutcome::Accepted,
        note: None,
    };
    let copy = NewListMessage {
        mailing_list_id: list.id,
        state: ListMessageState::Delivering,
        is_reply_due: false,
    };
    let job_for = |id| {
        NewJob::of(
            &ListMailDeliver {
                list_message_id: id,
            },
            now,
        )
        .expect("job")
    };
    let recorded = store.record_inbound(&mail, &[copy], &job_for, now)?;
    let started = Instant::now();
    if let hitcore::list_mail::Recorded::New { copies, .. } = &recorded {
        for id in copies {
            store.plan_deliveries(*id, now.date_naive(), services.mail.batch_size as u32, now)?;
        }
    }
    let planned = started.elapsed();

    let registry = hitjobs::jobs::registry::<dyn Store>(services);
    let options = WorkerOptions {
        host: "bench".to_owned(),
        ..WorkerOptions::with_concurrency(1)
    };
    let worker = Worker::new(Arc::clone(store), registry, options).inline()?;
    let started = Instant::now();
    let ran = worker.run_due()?;
    let sent_in = started.elapsed();
    let took = planned + sent_in;
    eprintln!("run {run}: planned in {planned:.1?}, sent in {sent_in:.1?}");
    worker.stop()?;
    if ran.failed > 0 {
        bail!("the delivery job failed");
    }
    let summary = store
        .list_messages(list.id, 1)?
        .into_iter()
        .next()
        .context("the message is recorded")?;
    if summary.sent != summary.recipients {
        bail!(
            "{} of {} recipients were sent",
            summary.sent,
            summary.recipients
        );
    }
    Ok((summary.sent, took))
}

/// Two lists on the federation's members group: a small one (the
/// passive members, a tenth of the people) and a large one (all).
fn lists(
    store: &dyn Store,
    org: &Organisation,
    args: &Args,
) -> anyhow::Result<(MailingList, MailingList)> {
    load_demo(store, org, &SeedOptions::default(), Utc::now())?;
    let group = store
        .all_groups()?
        .into_iter()
        .find(|g| g.group_type == "FederationMembers")
        .context("the demo federation has a members group")?;
    let started = Instant::now();
    for n in 0..args.recipients {
        let role = if n % 10 == 0 { SMALL_ROLE } else { LARGE_ROLE };
        member(store, &group, role, n)?;
    }
    eprintln!(
        "{} people created in {:.1?}",
        args.recipients,
        started.elapsed()
    );
    let small = list(store, &group, "small", &[SMALL_ROLE])?;
    let large = list(store, &group, "large", &[SMALL_ROLE, LARGE_ROLE])?;
    Ok((small, large))
}

fn member(store: &dyn Store, group: &Group, role_type: &str, n: usize) -> anyhow::Result<()> {
    let role = NewRole {
        person_id: PersonId(0),
        group_id: group.id,
        role_type: role_type.to_owned(),
        label: None,
        start_on: Some(Utc::now().date_naive()),
        end_on: None,
    };
    let patch = PersonPatch {
        first_name: Some("Bench".to_owned()),
        last_name: Some(format!("Person {n}")),
        email: Some(format!("bench{n}@people.example.test")),
        ..PersonPatch::default()
    };
    let permit = system(CreatePerson {
        group_id: group.id,
        role_type: role_type.to_owned(),
    });
    store.create_person(&permit, &patch, &role, Utc::now())?;
    Ok(())
}

fn list(
    store: &dyn Store,
    group: &Group,
    name: &str,
    roles: &[&str],
) -> anyhow::Result<MailingList> {
    let fields = MailingListPatch {
        name: Some(name.to_owned()),
        mail_name: Some(name.to_owned()),
        anyone_may_post: true,
        ..MailingListPatch::default()
    }
    .validated()
    .map_err(|v| anyhow::anyhow!("invalid list: {v:?}"))?;
    let list = store.create_mailing_list(
        &system(CreateMailingList(group.id)),
        &NewMailingList {
            group_id: group.id,
            fields,
        },
        Utc::now(),
    )?;
    store.add_subscription(
        &system(ManageSubscriptions(list.id)),
        &Subscriber::Group {
            group_id: group.id,
            role_types: roles.iter().map(|r| (*r).to_owned()).collect(),
        },
    )?;
    Ok(list)
}

/// What autovacuum does to a production database within a minute of
/// 10,000 new people: statistics for the planner and a visibility map for
/// index-only scans. The bench measures relaying from a database in that
/// steady state, rather than from tables the planner has never seen,
/// whether or not the server runs autovacuum (CI servers often do not).
fn settle_statistics(url: &str) -> anyhow::Result<()> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    // The tables of the recipient query, in the bench's schema (the URL's
    // search path) only.
    client.batch_execute(
        "VACUUM ANALYZE groups, people, additional_emails, roles, mailing_lists, \
         subscriptions, subscription_role_types, event_subscriptions, event_participations",
    )?;
    Ok(())
}

/// `smtp-sink` on 127.0.0.1, stopped when dropped.
struct Sink(Child);

impl Sink {
    fn start(port: u16) -> anyhow::Result<Sink> {
        let mut command = Command::new("smtp-sink");
        // As root it must drop privileges to some user; postfix exists
        // wherever the package is installed.
        if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            command.args(["-u", "postfix"]);
        }
        let child = command
            .arg(format!("127.0.0.1:{port}"))
            .arg("256")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("while starting smtp-sink (Debian's postfix package)")?;
        let end = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > end {
                bail!("smtp-sink did not start listening on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Sink(child))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn org() -> anyhow::Result<Arc<Organisation>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/demo-federation.toml"
    );
    let src = std::fs::read_to_string(path)?;
    Ok(Arc::new(Organisation::from_toml(&src, path)?))
}

fn storage() -> anyhow::Result<hitcore::storage::Storage> {
    Ok(hitcore::storage::Storage::open(
        &hitcore::storage::StorageLocation::Memory,
    )?)
}

fn lowest(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn highest(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The process's peak resident memory so far (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
