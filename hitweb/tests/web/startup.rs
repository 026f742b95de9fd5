//! The `hitweb` binary's start: what it checks, in which order, and what
//! it tells the operator. Each test runs the real binary with a clean
//! environment and a database in a temporary folder.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_hitweb");

fn org_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml")
}

/// The binary with only `vars` set, run in `dir`.
fn hitweb(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BINARY);
    cmd.env_clear().current_dir(dir);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd
}

/// Runs a start that must fail; returns stdout and stderr. A server that
/// starts instead is killed after a minute, failing the test.
fn failing_start(dir: &Path, vars: &[(&str, &str)]) -> (String, String) {
    let mut child = hitweb(dir, vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hitweb starts");
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    match status {
        Some(s) => assert!(!s.success(), "the start should fail:\n{stdout}\n{stderr}"),
        None => panic!("the server started instead of failing:\n{stdout}\n{stderr}"),
    }
    (stdout, stderr)
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("hit.sqlite3").display())
}

#[test]
fn busy_bind_addr_stops_the_start_before_the_database_is_touched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = busy.local_addr().expect("address").to_string();
    let org = org_file().display().to_string();
    let url = sqlite_url(dir.path());
    let (stdout, stderr) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", &addr),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &org),
            ("HIT_ADMIN_PASSWORD", "a long admin password"),
        ],
    );
    assert!(
        stderr.contains(&format!("BIND_ADDR={addr}: address already in use")),
        "{stderr}"
    );
    assert!(!stdout.contains("Listening on"), "{stdout}");
    assert!(!stdout.contains("Administrator login"), "{stdout}");
    assert!(
        !dir.path().join("hit.sqlite3").exists(),
        "the database was created"
    );
}

#[test]
fn database_that_cannot_be_opened_names_database_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let junk = dir.path().join("not-a-database");
    std::fs::write(
        &junk,
        "this is no SQLite file, just text that is long enough\n".repeat(40),
    )
    .expect("write");
    let url = format!("sqlite://{}", junk.display());
    let org = org_file().display().to_string();
    let (stdout, stderr) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &org),
        ],
    );
    assert!(
        stderr.contains(&format!("DATABASE_URL={url}: file is not a database")),
        "{stderr}"
    );
    assert!(!stdout.contains("Listening on"), "{stdout}");
}

#[test]
fn sqlite_url_without_a_path_is_refused_naming_database_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let org = org_file().display().to_string();
    let (_, stderr) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", "sqlite://"),
            ("HIT_ORG", &org),
        ],
    );
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(stderr.contains("names no database file"), "{stderr}");
}

#[test]
fn missing_org_file_names_hit_org() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-org.toml");
    let missing = missing.display().to_string();
    let url = sqlite_url(dir.path());
    let (_, stderr) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &missing),
        ],
    );
    assert!(
        stderr.contains(&format!("HIT_ORG={missing}: cannot read")),
        "{stderr}"
    );
    assert!(!stderr.contains(":0:"), "{stderr}");
}

#[test]
fn logs_have_no_colour_codes_off_a_terminal_and_name_a_bad_rust_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let org = org_file().display().to_string();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "no database ".repeat(100)).expect("write");
    let url = format!("sqlite://{}", junk.display());
    let (stdout, _) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &org),
            ("RUST_LOG", "hitweb=loud"),
        ],
    );
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(stdout.contains("WARN"), "{stdout}");
    assert!(stdout.contains("RUST_LOG=hitweb=loud"), "{stdout}");
    assert!(
        stdout.contains("Configuration loaded"),
        "info still logs: {stdout}"
    );
}

/// A server started in the background; killed when dropped.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(dir: &Path, vars: &[(&str, &str)]) -> Running {
        let mut child = hitweb(dir, vars)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hitweb starts");
        let (tx, lines) = mpsc::channel();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text`; fails after two minutes (a
    /// debug build seeds slowly) or when the server exits first.
    fn wait_for(&mut self, text: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("no line with {text:?} in:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn output(&self) -> String {
        self.seen.join("\n")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn first_start_passwords_on_a_seeded_database_are_named_as_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let org = org_file().display().to_string();
    let url = sqlite_url(dir.path());
    let base = [
        ("BIND_ADDR", "127.0.0.1:0"),
        ("DATABASE_URL", url.as_str()),
        ("HIT_ORG", org.as_str()),
    ];

    let mut first = Running::start(dir.path(), &base);
    first.wait_for("Listening on");
    assert!(
        first.output().contains("Administrator login"),
        "{}",
        first.output()
    );
    assert!(!first.output().contains("ignored"), "{}", first.output());
    drop(first);

    let mut vars = base.to_vec();
    vars.push(("HIT_ADMIN_PASSWORD", "a long admin password"));
    vars.push(("HIT_DEMO_PASSWORD", "a long demo password"));
    let mut second = Running::start(dir.path(), &vars);
    second.wait_for("Listening on");
    let output = second.output();
    assert!(
        output.contains("HIT_ADMIN_PASSWORD, HIT_DEMO_PASSWORD ignored"),
        "{output}"
    );
    assert!(output.contains("only apply on the first start"), "{output}");
    assert!(!output.contains("a long admin password"), "{output}");
}

#[test]
fn listening_comes_after_the_login_and_names_the_real_port() {
    let dir = tempfile::tempdir().expect("temp dir");
    let org = org_file().display().to_string();
    let url = sqlite_url(dir.path());
    let mut server = Running::start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &org),
        ],
    );
    server.wait_for("Listening on");
    let output = server.output();
    let login = output.find("Administrator login").expect("the login");
    let listening = output.find("Listening on").expect("listening");
    assert!(login < listening, "{output}");
    assert!(!output.contains("127.0.0.1:0/"), "{output}");
    assert!(
        !output.contains("Listening on http://127.0.0.1:0 "),
        "{output}"
    );
}

#[test]
fn default_org_file_is_the_one_in_the_current_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let examples = dir.path().join("examples");
    std::fs::create_dir(&examples).expect("mkdir");
    let local = examples.join("demo-federation.toml");
    std::fs::copy(org_file(), &local).expect("copy");
    let url = sqlite_url(dir.path());
    let mut server = Running::start(
        dir.path(),
        &[("BIND_ADDR", "127.0.0.1:0"), ("DATABASE_URL", &url)],
    );
    server.wait_for("Loaded the organisation definition");
    let output = server.output();
    let resolved = local
        .canonicalize()
        .expect("canonical")
        .display()
        .to_string();
    assert!(
        output.contains(&format!("Loaded the organisation definition {resolved}")),
        "{output}"
    );
}

// ---------------------------------------------------------------- migrate

/// The databases the migration start-ups run on: a SQLite file in `dir`,
/// and a fresh PostgreSQL schema when `HIT_TEST_POSTGRES_URL` is set.
fn migration_databases(dir: &Path) -> Vec<(String, Option<hitcore::store::postgres::TestSchema>)> {
    let mut all = vec![(sqlite_url(dir), None)];
    if let Some(base) = std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let schema = hitcore::store::postgres::TestSchema::create(&base).expect("a test schema");
        all.push((schema.url().to_owned(), Some(schema)));
    }
    all
}

/// `hitweb migrate` on `url`; its status and stdout.
fn migrate_command(dir: &Path, url: &str) -> (bool, String, String) {
    let out = hitweb(dir, &[("DATABASE_URL", url)])
        .arg("migrate")
        .output()
        .expect("hitweb runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn applied_line() -> String {
    let names: Vec<String> = hitcore::store::migration::MIGRATIONS
        .iter()
        .map(|m| m.file_name())
        .collect();
    format!(
        "Migrated: the database was at version 1; applied {}; now at version {}",
        names.join(", "),
        hitcore::store::migration::LATEST_VERSION
    )
}

/// The migration files a `hitweb migrate` run says it applied.
fn applied_files(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split("; applied ").nth(1))
        .filter_map(|rest| rest.split("; now at").next())
        .flat_map(|list| list.split(", ").map(str::to_owned))
        .collect()
}

#[test]
fn migrate_command_brings_an_old_database_up_to_date_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (url, _schema) in migration_databases(dir.path()) {
        hitcore::store::migrate_to(&url, 1).expect("a database at version 1");
        let (ok, stdout, stderr) = migrate_command(dir.path(), &url);
        assert!(ok, "{stdout}\n{stderr}");
        assert!(stdout.contains(&applied_line()), "{stdout}");

        let (ok, stdout, _) = migrate_command(dir.path(), &url);
        assert!(ok, "{stdout}");
        assert!(stdout.contains("nothing to migrate"), "{stdout}");
    }
}

#[test]
fn migrate_processes_started_at_once_apply_each_migration_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (url, _schema) in migration_databases(dir.path()) {
        hitcore::store::migrate_to(&url, 1).expect("a database at version 1");
        let children: Vec<Child> = (0..4)
            .map(|_| {
                hitweb(dir.path(), &[("DATABASE_URL", &url)])
                    .arg("migrate")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("hitweb starts")
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("hitweb ends"))
            .collect();
        for out in &outputs {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // On SQLite every migration is a transaction of its own, so the
        // processes may share the work; what must hold is that each
        // migration was applied by exactly one of them.
        let mut applied: Vec<String> = outputs
            .iter()
            .flat_map(|o| applied_files(&String::from_utf8_lossy(&o.stdout)))
            .collect();
        applied.sort();
        let mut expected: Vec<String> = hitcore::store::migration::MIGRATIONS
            .iter()
            .map(|m| m.file_name())
            .collect();
        expected.sort();
        assert_eq!(
            applied, expected,
            "{url}: each migration applied by exactly one process"
        );
    }
}

#[test]
fn serve_migrates_an_old_sqlite_database_before_it_listens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = sqlite_url(dir.path());
    hitcore::store::migrate_to(&url, 1).expect("a database at version 1");
    let org = org_file().display().to_string();
    let mut server = Running::start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &org),
        ],
    );
    server.wait_for("Listening on");
    let output = server.output();
    let applied = output
        .find("applied 0002_people_primary_group_id_idx.sql")
        .expect("the migration is logged");
    assert!(
        applied < output.find("Listening on").expect("listening"),
        "{output}"
    );
}

#[test]
fn serve_refuses_a_postgres_database_behind_naming_the_migrate_command() {
    let Some(base) = std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("note: HIT_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = hitcore::store::postgres::TestSchema::create(&base).expect("a test schema");
    hitcore::store::migrate_to(schema.url(), 1).expect("a database at version 1");
    let org = org_file().display().to_string();
    let (stdout, stderr) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", schema.url()),
            ("HIT_ORG", &org),
        ],
    );
    let expected = format!(
        "database schema is at version 1, this build needs {}: run `hitweb migrate`",
        hitcore::store::migration::LATEST_VERSION
    );
    assert!(stderr.contains("DATABASE_URL=postgres"), "{stderr}");
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!stdout.contains("Listening on"), "{stdout}");
}

#[test]
fn unreachable_postgres_at_start_names_database_url_and_the_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let org = org_file().display().to_string();
    // Port 1 on the loopback interface: nothing listens there.
    let (stdout, stderr) = failing_start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", "postgres://hit:s3cret@127.0.0.1:1/hit"),
            ("HIT_ORG", &org),
        ],
    );
    assert!(
        stderr.contains(
            "DATABASE_URL=postgres://hit:***@127.0.0.1:1/hit: cannot connect to the PostgreSQL \
             server at 127.0.0.1:1"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert!(!stdout.contains("Listening on"), "{stdout}");
}

/// A regression: SIGTERM (what systemd and container runtimes send) killed
/// the server outright, so the embedded worker never put its jobs back.
#[test]
fn sigterm_stops_the_server_and_its_worker_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let org = org_file().display().to_string();
    let url = sqlite_url(dir.path());
    let mut server = Running::start(
        dir.path(),
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", &url),
            ("HIT_ORG", &org),
        ],
    );
    server.wait_for("Started the embedded worker");
    server.wait_for("Listening on");
    let pid = server.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    server.wait_for("Received SIGTERM");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "{}", server.output());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}\n{}", server.output());
}
