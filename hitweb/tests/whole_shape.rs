//! The whole shape of a production deployment, tested: two `hitweb` and
//! two `hitjobs` processes (the real binaries) on a PostgreSQL database of
//! their own, memcached, an S3 bucket, Postfix and Dovecot, all on
//! 127.0.0.1, driven over HTTP like browsers behind one proxy:
//!
//! 1. the schema is made by `hitweb migrate`, the explicit step;
//! 2. a form served by one web process is accepted by the other (they
//!    share `HIT_SECRET_KEY`);
//! 3. a role ended through one process is refused at once by the other;
//! 4. an export started on one process is run by a worker process, written
//!    to S3, and downloaded through the other web process;
//! 5. a mail to a list address, sent to Postfix, reaches the catch-all
//!    mailbox, is fetched by a worker and lands in the recipient's mailbox.
//!
//! Needs the servers `.ci/run` starts (see `shape::VARIABLES`); skipped
//! with a note without them, except under `CI=true`, where that fails.
//! Every wait polls against a deadline; the guards stop the processes
//! and drop the database, also when the test fails.

mod shape;

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use hitcore::JobId;
use hitcore::Organisation;
use hitcore::mail::{Envelope, OutgoingMail};
use hitcore::storage::{S3Credentials, Storage, StorageKey, StorageLocation};
use hitcore::store::Store;
use hitjobs::mail::{Mailer, SmtpMailer, SmtpUrl};
use shape::{Browser, Database, Process, Processes, Servers, wait_until};

const ADMIN: &str = "admin@demo.example";
const ADMIN_PASSWORD: &str = "admin-password-of-the-shape";
const DEMO_PASSWORD: &str = "demo-password-of-the-shape";
const LEADER: &str = "alpha@demo.example";
const LIST_DOMAIN: &str = "lists.example.test";
const PEOPLE_DOMAIN: &str = "people.example.test";

/// What every process of the deployment shares.
struct Deployment {
    servers: Servers,
    db: Database,
    storage_url: String,
    secret_key: String,
    dir: tempfile::TempDir,
}

impl Deployment {
    fn new(servers: Servers) -> Deployment {
        let db = Database::create(&servers.postgres_url);
        let storage_url = servers.s3_url_below(&format!("shape-{}", shape::unique()));
        Deployment {
            servers,
            db,
            storage_url,
            secret_key: hitcore::auth::new_token(),
            dir: tempfile::tempdir().expect("a working folder"),
        }
    }

    /// A command with the shared variables and nothing from our own
    /// environment, run in a folder of its own.
    fn command(&self, binary: &std::path::Path) -> Command {
        let s = &self.servers;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .current_dir(self.dir.path())
            .env("DATABASE_URL", &self.db.url)
            .env("HIT_ORG", shape::demo_org())
            .env("STORAGE_URL", &self.storage_url)
            .env("AWS_ACCESS_KEY_ID", &s.aws_access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &s.aws_secret_access_key)
            .env("SMTP_URL", &s.smtp_url)
            .env("MAIL_LIST_DOMAIN", LIST_DOMAIN)
            .env("MAIL_FROM", format!("noreply@{PEOPLE_DOMAIN}"))
            .env("RUST_LOG", "info");
        command
    }

    /// `hitweb migrate` on the empty database: it gets the whole schema.
    fn migrate(&self) {
        let mut command = self.command(&shape::hitweb_binary());
        command.arg("migrate");
        let (status, output) = Process::spawn("hitweb migrate", command).wait_for_exit();
        assert!(status.success(), "hitweb migrate: {status}\n{output}");
        assert!(output.contains("Migrated: created the schema"), "{output}");
    }

    /// `hitjobs --check` with `vars` on top of the shared ones: whether it
    /// says the deployment is ready, and what it printed.
    fn check(&self, binary: &std::path::Path, vars: &[(&str, &str)]) -> (bool, String) {
        let mut command = self.command(binary);
        command.arg("--check").envs(vars.iter().copied());
        let (status, output) = Process::spawn("hitjobs --check", command).wait_for_exit();
        (status.success(), output)
    }

    /// A web process on a free port; returns it and its base URL once it
    /// is ready. The first one seeds the demo federation.
    fn web(&self, name: &str) -> (Process, String) {
        let mut command = self.command(&shape::hitweb_binary());
        command
            .arg("serve")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("HIT_SECRET_KEY", &self.secret_key)
            .env("HIT_EMBEDDED_WORKER", "false")
            .env("MEMCACHE_SERVERS", &self.servers.memcache_servers)
            .env("HIT_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("HIT_DEMO_PASSWORD", DEMO_PASSWORD);
        let mut process = Process::spawn(name, command);
        let line = process.wait_for_line("Listening on http://");
        let base = line
            .split("Listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the address after `Listening on`")
            .to_owned();
        (process, base)
    }

    /// A worker process, once it has started.
    fn worker(&self, name: &str, binary: &std::path::Path) -> Process {
        let mut command = self.command(binary);
        command
            .args(["--concurrency", "2", "--grace-secs", "5"])
            .env("MAIL_RETRIEVER_URL", &self.servers.imap_url)
            .env("MAIL_RETRIEVE_SECS", "5");
        let mut process = Process::spawn(name, command);
        process.wait_for_line("started on queues");
        process
    }

    /// The storage the processes write to, for checking where a file is.
    fn storage(&self) -> Storage {
        let s = &self.servers;
        let credentials =
            S3Credentials::from_values(Some(&s.aws_access_key_id), Some(&s.aws_secret_access_key))
                .expect("the S3 credentials");
        let location = StorageLocation::parse(&self.storage_url, credentials)
            .expect("HIT_TEST_S3_URL is an s3:// URL");
        Storage::open(&location).expect("the bucket")
    }

    /// The store on the deployment's database, for looking up ids.
    fn store(&self) -> Arc<dyn Store> {
        let org = Organisation::from_file(&shape::demo_org()).expect("the demo organisation");
        hitcore::store::open(&self.db.url, Arc::new(org)).expect("the database")
    }
}

#[test]
fn two_web_and_two_worker_processes_serve_one_deployment() {
    let Some(servers) = Servers::from_env() else {
        return;
    };
    let started = Instant::now();
    let phase = |name: &str| eprintln!("{:6.1} s  {name}", started.elapsed().as_secs_f64());
    let hitjobs = shape::hitjobs_binary();
    phase("hitjobs built");
    let deployment = Deployment::new(servers);
    let mut processes = Processes::default();

    deployment.migrate();
    let (is_ready, output) = deployment.check(&hitjobs, &[]);
    assert!(is_ready, "hitjobs --check: {output}");
    assert!(output.contains("ready: "), "{output}");
    let nowhere = "s3://nowhere/x?endpoint=http://127.0.0.1:1&region=us-east-1";
    let (is_ready, output) = deployment.check(&hitjobs, &[("STORAGE_URL", nowhere)]);
    assert!(
        !is_ready,
        "a storage nobody answers for is not ready: {output}"
    );
    assert!(output.contains("probe file"), "{output}");
    let (web1, one) = deployment.web("web 1");
    processes.0.push(web1);
    let mut probe = Browser::new(&one);
    wait_until(&mut processes, "web 1 is ready", || {
        (probe.get("/readyz").status == 200).then_some(())
    });
    let (web2, two) = deployment.web("web 2");
    processes.0.push(web2);
    wait_until(&mut processes, "web 2 is ready", || {
        (probe.at(&two).get("/readyz").status == 200).then_some(())
    });
    processes.0.push(deployment.worker("worker 1", &hitjobs));
    processes.0.push(deployment.worker("worker 2", &hitjobs));
    let store = deployment.store();
    phase("two web and two worker processes running");

    let mut admin = sign_in_across(&one, &two);
    a_role_ended_on_one_process_is_refused_at_once_on_the_other(&*store, &mut admin, &one);
    phase("role ended, refused on the other process");
    an_export_runs_on_a_worker_and_downloads_from_s3(
        &deployment,
        &*store,
        &mut processes,
        &mut admin,
        &one,
        &two,
    );
    phase("export run and downloaded");
    a_list_mail_is_relayed_to_a_recipient_mailbox(
        &deployment,
        &*store,
        &mut processes,
        &mut admin,
        &one,
    );
    phase("list mail relayed");

    processes.assert_running();
    eprintln!(
        "the whole shape took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The administrator gets the sign-in form from web 1 and submits it to
/// web 2: accepted only because both derive the CSRF key from the same
/// `HIT_SECRET_KEY`.
fn sign_in_across(one: &str, two: &str) -> Browser {
    let mut admin = Browser::new(one);
    admin.get("/users/sign_in").expect(200, "the sign-in page");
    let done = admin.at(two).post(
        "/users/sign_in",
        &[("email", ADMIN), ("password", ADMIN_PASSWORD)],
    );
    assert_eq!(
        done.status,
        303,
        "web 2 accepts the form web 1 served: {}",
        done.text()
    );
    admin.get("/").expect(200, "signed in on web 2");
    admin
}

/// The club leader edits the club on web 1; the administrator ends the
/// leader's role on web 2; the next request on web 1 is refused.
fn a_role_ended_on_one_process_is_refused_at_once_on_the_other(
    store: &dyn Store,
    admin: &mut Browser,
    one: &str,
) {
    let club = store
        .all_groups()
        .expect("groups")
        .into_iter()
        .find(|g| g.name == "Club Alpha")
        .expect("Club Alpha");
    let leader = store
        .person_by_email(LEADER)
        .expect("lookup")
        .expect("the club leader");
    let role = store
        .roles_of_person(leader.id)
        .expect("roles")
        .into_iter()
        .find(|r| r.group_id == club.id && r.role_type == "Club.ClubLeader")
        .expect("the club leader's role");
    let page = format!("/groups/{}/edit", club.id);

    let mut alex = Browser::new(one);
    alex.sign_in(LEADER, DEMO_PASSWORD);
    alex.get(&page).expect(200, "the leader may edit the club");

    admin
        .get(&format!("/groups/{}/people/{}", club.id, leader.id))
        .expect(200, "the leader's page on web 2");
    admin
        .post(
            &format!("/groups/{}/roles/{}/delete", club.id, role.id),
            &[],
        )
        .expect(303, "the role is ended on web 2");

    alex.get(&page)
        .expect(403, "web 1 refuses at once what the role allowed");
}

/// An export started on web 1, run by one of the workers, shows as ready
/// on web 2 and downloads from there; the file is the one in the bucket.
fn an_export_runs_on_a_worker_and_downloads_from_s3(
    deployment: &Deployment,
    store: &dyn Store,
    processes: &mut Processes,
    admin: &mut Browser,
    one: &str,
    two: &str,
) {
    let root = store
        .all_groups()
        .expect("groups")
        .into_iter()
        .find(|g| g.parent_id.is_none())
        .expect("the root group");
    admin.at(one).get(&format!("/groups/{}/people", root.id));
    let started = admin.post(
        &format!("/groups/{}/people/export", root.id),
        &[("range", "deep"), ("format", "csv_plain")],
    );
    assert_eq!(started.status, 303, "{}", started.text());
    assert_eq!(started.header("location"), Some("/job_observations"));

    admin.at(two);
    let link = wait_until(processes, "the export is ready on web 2", || {
        download_link(&admin.get("/job_observations").text())
    });
    let file = admin.get(&link).expect(200, "the download");
    let csv = file.text();
    assert!(csv.contains("North"), "the export lists the people: {csv}");

    let job_id = link
        .trim_start_matches("/job_observations/")
        .trim_end_matches("/download")
        .parse()
        .expect("a job id in the link");
    let job = store
        .job(JobId(job_id))
        .expect("lookup")
        .expect("the export job");
    let key = StorageKey::new(job.result_file.expect("the job made a file")).expect("a key");
    let in_bucket = deployment.storage().read(&key).expect("the file is in S3");
    assert_eq!(
        in_bucket, file.body,
        "the download is the file in the bucket"
    );
}

/// The first `/job_observations/<id>/download` link of a job page.
fn download_link(page: &str) -> Option<String> {
    let page = shape::unescape(page);
    page.match_indices("/job_observations/")
        .find_map(|(at, _)| {
            let link: String = page[at..].chars().take_while(|c| *c != '"').collect();
            link.ends_with("/download").then_some(link)
        })
}

/// The administrator makes a person with a mailbox of their own, a list
/// with an address and the person's subscription (all on web 1); a mail
/// to the list address goes to Postfix and arrives, relayed by a worker,
/// in the person's Maildir.
fn a_list_mail_is_relayed_to_a_recipient_mailbox(
    deployment: &Deployment,
    store: &dyn Store,
    processes: &mut Processes,
    admin: &mut Browser,
    one: &str,
) {
    let members = store
        .all_groups()
        .expect("groups")
        .into_iter()
        .find(|g| g.group_type == "FederationMembers")
        .expect("the federation's members");
    let token = format!("shape-{}", shape::unique());
    let recipient = format!("{token}-r@{PEOPLE_DOMAIN}");

    admin
        .at(one)
        .get(&format!("/groups/{}/people/new", members.id));
    let person = admin.post(
        &format!("/groups/{}/people", members.id),
        &[
            ("first_name", "Rita"),
            ("last_name", "Recipient"),
            ("email", &recipient),
            ("role_type", "FederationMembers.Member"),
        ],
    );
    assert_eq!(person.status, 303, "the person: {}", person.text());
    let person_id = shape::id_in_location(&person, &format!("/groups/{}/people/", members.id));
    admin.get(&format!("/groups/{}/mailing_lists/new", members.id));
    let list = admin.post(
        &format!("/groups/{}/mailing_lists", members.id),
        &[
            ("name", &format!("Shape {token}")),
            ("mail_name", &token),
            ("anyone_may_post", "1"),
        ],
    );
    assert_eq!(list.status, 303, "the list: {}", list.text());
    let list_id = shape::id_in_location(&list, "/mailing_lists/");
    admin.get(&format!("/mailing_lists/{list_id}"));
    admin
        .post(
            &format!("/mailing_lists/{list_id}/subscriptions"),
            &[("kind", "person"), ("person_id", &person_id.to_string())],
        )
        .expect(303, "the subscription");

    send_to_list(&deployment.servers.smtp_url, &token);
    let maildir = deployment
        .servers
        .mail_root
        .join(PEOPLE_DOMAIN)
        .join(format!("{token}-r"))
        .join("Maildir");
    let relayed = wait_until(processes, "the list mail reaches the recipient", || {
        shape::maildir_messages(&maildir)
            .into_iter()
            .find(|m| m.contains(&format!("Hello list, {token}.")))
    });
    let list_address = format!("{token}@{LIST_DOMAIN}");
    assert!(relayed.contains(&format!("<{list_address}>")), "{relayed}");
    assert!(relayed.contains("List-Id:"), "{relayed}");
    assert!(relayed.contains("Precedence: list"), "{relayed}");
}

/// A plain message from an outside sender to the list's address, through
/// Postfix (which files it in the catch-all mailbox).
fn send_to_list(smtp_url: &str, token: &str) {
    let to = format!("{token}@{LIST_DOMAIN}");
    let message = format!(
        "From: Ann Sender <ann@{PEOPLE_DOMAIN}>\r\nTo: {to}\r\nSubject: Shape {token}\r\n\
         Message-ID: <{token}@example.test>\r\nDate: {}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello list, {token}.\r\n",
        Utc::now().to_rfc2822()
    );
    let mail = OutgoingMail {
        envelope: Envelope {
            from: Some(format!("ann@{PEOPLE_DOMAIN}")),
            to: vec![to.clone()],
        },
        message: message.into_bytes(),
    };
    let mailer = SmtpMailer::new(SmtpUrl::parse(smtp_url).expect("HIT_TEST_SMTP_URL"));
    let delivery = mailer.send(&mail).expect("Postfix takes the message");
    assert_eq!(delivery.accepted, [to]);
}
