//! What the whole-shape test needs around the flow: the servers from the
//! environment, a database of its own, the real binaries as child
//! processes (killed by a guard), a small browser over HTTP and the
//! recipients' mailboxes on disk.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long any one wait of the test may take before it fails: a cold
/// start of both binaries on a busy two-core machine, or a message
/// through Postfix, the catch-all and a worker, take a few seconds each.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The variables `.ci/run` sets for the servers this test needs.
pub const VARIABLES: [&str; 8] = [
    "HIT_TEST_POSTGRES_URL",
    "HIT_TEST_MEMCACHE_SERVERS",
    "HIT_TEST_S3_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "HIT_TEST_SMTP_URL",
    "HIT_TEST_IMAP_URL",
    "HIT_TEST_MAIL_ROOT",
];

/// The servers on 127.0.0.1, from [`VARIABLES`].
pub struct Servers {
    /// The admin connection, for `CREATE DATABASE`.
    pub postgres_url: String,
    pub memcache_servers: String,
    pub s3_url: String,
    pub aws_access_key_id: String,
    pub aws_secret_access_key: String,
    pub smtp_url: String,
    /// The catch-all mailbox of the list domain.
    pub imap_url: String,
    /// Dovecot's mailboxes: `<root>/<domain>/<local part>/Maildir`.
    pub mail_root: PathBuf,
}

impl Servers {
    /// The servers, or `None` (with the note) when a variable is missing;
    /// under `CI=true` a missing variable fails the test instead.
    pub fn from_env() -> Option<Servers> {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let missing: Vec<&str> = VARIABLES
            .iter()
            .copied()
            .filter(|v| get(v).is_none())
            .collect();
        if let Some(first) = missing.first() {
            let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !is_ci,
                "CI=true, but not set: {} (the whole-shape test needs every server)",
                missing.join(", ")
            );
            // Past the test harness's capture, which would hide it.
            let _ = writeln!(std::io::stderr(), "skipped: {first} is not set");
            return None;
        }
        let value = |name: &str| get(name).unwrap_or_default();
        Some(Servers {
            postgres_url: value("HIT_TEST_POSTGRES_URL"),
            memcache_servers: value("HIT_TEST_MEMCACHE_SERVERS"),
            s3_url: value("HIT_TEST_S3_URL"),
            aws_access_key_id: value("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key: value("AWS_SECRET_ACCESS_KEY"),
            smtp_url: value("HIT_TEST_SMTP_URL"),
            imap_url: value("HIT_TEST_IMAP_URL"),
            mail_root: PathBuf::from(value("HIT_TEST_MAIL_ROOT")),
        })
    }

    /// The S3 URL with `own` appended to its prefix, so that this run's
    /// files stay apart from every other's.
    pub fn s3_url_below(&self, own: &str) -> String {
        let (location, query) = self
            .s3_url
            .split_once('?')
            .unwrap_or((self.s3_url.as_str(), ""));
        let location = location.trim_end_matches('/');
        format!("{location}/{own}?{query}")
    }
}

/// A random suffix for names of this run.
pub fn unique() -> String {
    hitcore::auth::new_token()[..12].to_owned()
}

// ------------------------------------------------------------ the database

/// A database of its own on the test server, dropped with this value.
pub struct Database {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl Database {
    /// `CREATE DATABASE hit_shape_<random>` through the admin connection.
    pub fn create(admin_url: &str) -> Database {
        let name = format!("hit_shape_{}", unique());
        let mut admin = postgres::Client::connect(admin_url, postgres::NoTls)
            .expect("HIT_TEST_POSTGRES_URL accepts a connection");
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
            ))
            .expect("a database of our own");
        Database {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let dropped =
            postgres::Client::connect(&self.admin_url, postgres::NoTls).and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
            });
        if let Err(e) = dropped {
            eprintln!("could not drop the database {}: {e}", self.name);
        }
    }
}

/// `url` naming the database `name` instead of its own (the path after
/// the host), the query kept.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}{query}")
}

// ------------------------------------------------------------ the binaries

/// The `hitweb` binary Cargo built for this test.
pub fn hitweb_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hitweb"))
}

/// The `hitjobs` binary next to `hitweb`, built (or brought up to date)
/// first with the Cargo that runs this test, in the same target folder
/// and profile: another package's binary is not built for this test, and
/// one left from an older build would test old code. Up to date, the
/// build is a no-op of a second.
///
/// Limitations: a build for another target (`--target`, where binaries
/// sit in `target/<triple>/<profile>`) is not handled.
pub fn hitjobs_binary() -> PathBuf {
    let web = hitweb_binary();
    let profile_dir = web.parent().expect("the hitweb binary sits in a folder");
    let target_dir = profile_dir
        .parent()
        .expect("the profile folder sits in the target folder");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("hitweb sits in the workspace");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "-p", "hitjobs", "--bin", "hitjobs"])
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(workspace)
        .stdin(Stdio::null());
    // What Cargo sets for running this test (the package's name, our own
    // binaries, ...) must not reach the build: build scripts that watch
    // such a variable would run again, and the next `cargo test` with
    // them, each time.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let is_test_only = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || [
                "CARGO_TARGET_DIR",
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if is_test_only {
            cargo.env_remove(name.as_ref());
        }
    }
    let status = cargo.status().expect("cargo starts");
    assert!(status.success(), "cargo build -p hitjobs: {status}");
    let bin = profile_dir.join(format!("hitjobs{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} was built", bin.display());
    bin
}

/// The demo organisation, by absolute path (the processes run in a folder
/// of their own).
pub fn demo_org() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/demo-federation.toml")
        .canonicalize()
        .expect("examples/demo-federation.toml")
}

// ----------------------------------------------------------- the processes

/// One child process and the lines it printed (stdout and stderr).
pub struct Process {
    pub name: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `command` with its output collected.
    pub fn spawn(name: &str, mut command: Command) -> Process {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            collect(out, Arc::clone(&lines));
        }
        if let Some(err) = child.stderr.take() {
            collect(err, Arc::clone(&lines));
        }
        Process {
            name: name.to_owned(),
            child,
            lines,
        }
    }

    /// The first printed line that contains `needle`, waiting for it.
    ///
    /// # Panics
    /// When the process exits or [`PATIENCE`] runs out first.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        let end = Instant::now() + PATIENCE;
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            self.assert_running();
            assert!(
                Instant::now() < end,
                "{} printed `{needle}`:\n{}",
                self.name,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fails the test, with the process's last lines, if it has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.tail());
        }
    }

    /// Waits for the process to exit by itself and returns its output.
    pub fn wait_for_exit(mut self) -> (std::process::ExitStatus, String) {
        let end = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The reader threads finish with the pipes.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.lines().join("\n"));
            }
            assert!(Instant::now() < end, "{} exited", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The last 40 lines, for failure messages.
    pub fn tail(&self) -> String {
        let lines = self.lines();
        let from = lines.len().saturating_sub(40);
        lines[from..].join("\n")
    }

    /// SIGTERM (a graceful stop), then SIGKILL after five seconds.
    fn stop(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            let _ = self.child.kill();
            return;
        };
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

fn collect(stream: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    });
}

/// Every process of the test: stopped when dropped, their last lines
/// printed first when the test failed.
#[derive(Default)]
pub struct Processes(pub Vec<Process>);

impl Processes {
    /// Fails the test if any process has exited.
    pub fn assert_running(&mut self) {
        for p in &mut self.0 {
            p.assert_running();
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for p in &self.0 {
                eprintln!("--- last lines of {}:\n{}", p.name, p.tail());
            }
        }
        // Dropping each process stops it.
        self.0.clear();
    }
}

/// Polls `probe` until it gives a value, checking that every process still
/// runs in between.
///
/// # Panics
/// When [`PATIENCE`] runs out (naming `what`) or a process has exited.
pub fn wait_until<T>(
    processes: &mut Processes,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let end = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        processes.assert_running();
        assert!(Instant::now() < end, "waited in vain: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

// -------------------------------------------------------------- the browser

/// One response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Fails with the body unless the status is `status`.
    pub fn expect(self, status: u16, what: &str) -> Reply {
        assert_eq!(self.status, status, "{what}: {}", self.text());
        self
    }
}

/// A browser: cookies and the last CSRF token, sent to whichever web
/// process it is pointed at (as a proxy would spread its requests).
pub struct Browser {
    agent: ureq::Agent,
    pub base: String,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Browser {
            agent,
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    /// Sends the next requests to another web process.
    pub fn at(&mut self, base: &str) -> &mut Browser {
        base.clone_into(&mut self.base);
        self
    }

    pub fn get(&mut self, path: &str) -> Reply {
        let request = self.agent.get(format!("{}{path}", self.base));
        let request = self.with_cookies(request);
        self.read(request.call())
    }

    /// A form submit with the CSRF token of the last page.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone();
        pairs.push(("csrf_token", &token));
        let request = self.agent.post(format!("{}{path}", self.base));
        let request = self.with_cookies(request);
        self.read(request.send_form(pairs))
    }

    /// Signs in through the form (page from this process, submit too).
    pub fn sign_in(&mut self, email: &str, password: &str) {
        self.get("/users/sign_in").expect(200, "the sign-in page");
        let done = self.post(
            "/users/sign_in",
            &[("email", email), ("password", password)],
        );
        assert_eq!(done.status, 303, "signing in as {email}: {}", done.text());
    }

    fn with_cookies<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        if self.cookies.is_empty() {
            return request;
        }
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        request.header("Cookie", cookie)
    }

    fn read(&mut self, sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = sent.expect("the web process answers");
        for value in response.headers().get_all("set-cookie") {
            let Some(pair) = value.to_str().ok().and_then(|v| v.split(';').next()) else {
                continue;
            };
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .expect("the body");
        let reply = Reply {
            status,
            headers,
            body,
        };
        if let Some(token) = find_csrf(&reply.text()) {
            self.csrf = token;
        }
        reply
    }
}

/// The CSRF token of a page's forms.
fn find_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(unescape(&body[start..end]))
}

/// Undoes the templates' HTML escaping of attribute values.
pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The number after `prefix` in a `Location` header
/// (`/mailing_lists/12` → 12).
pub fn id_in_location(reply: &Reply, prefix: &str) -> i64 {
    let location = reply.header("location").unwrap_or_default();
    location
        .strip_prefix(prefix)
        .and_then(|rest| rest.split(['/', '?']).next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("an id after {prefix} in `{location}`"))
}

// ---------------------------------------------------------------- the mail

/// Every message file in a Dovecot Maildir (new and seen).
pub fn maildir_messages(maildir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                found.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    found
}
