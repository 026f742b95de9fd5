//! The benchmark of issue 3: how fast the web server answers on a
//! federation of full size, and how much memory it takes.
//!
//! It prepares the database (a known password for the administrator and
//! for the leader of the largest club), starts the real server binary as a
//! process of its own on a free loopback port, signs in as both, warms up
//! and then measures, one request at a time, p50 and p95 of the group
//! page, the layer-wide people list (first page and page 100, sorted by
//! name), a person's page and a search. Then it measures requests per
//! second with 16 concurrent clients (with `wrk` when it is installed,
//! else with threads of its own), reads the server's peak RSS from
//! `/proc/<pid>/status` and prints a table. It asserts nothing: the
//! figures are for people to read.
//!
//! ```sh
//! cargo build --release -p hitweb
//! target/release/hitweb seed --people 500000 --groups 1000 --database-url sqlite://data/bench.db
//! cargo run --release -p hitweb --example bench -- --database-url sqlite://data/bench.db
//! ```
//!
//! The two people's passwords are overwritten with [`PASSWORD`], so run it
//! on a generated database only.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use hitcore::ability::{SetPassword, system};
use hitcore::group::{Group, GroupTree};
use hitcore::org::RoleKind;
use hitcore::store::{self, GroupScope, ListFilter, PeopleQuery};
use hitcore::{Organisation, Permission, PersonId};

/// The password the benchmark gives both people it signs in as.
const PASSWORD: &str = "bench-password-0123";
/// People per list page, as the web server shows them.
const PER_PAGE: u64 = 50;

/// Measures the web server on a generated federation (see `hitweb seed`).
#[derive(Debug, Parser)]
struct Args {
    /// The generated database; DATABASE_URL when not given.
    #[arg(long)]
    database_url: Option<String>,
    /// The organisation definition the database was generated with;
    /// HIT_ORG, else the demo federation.
    #[arg(long)]
    org: Option<PathBuf>,
    /// The administrator's email; HIT_ADMIN_EMAIL, else admin@demo.example.
    #[arg(long)]
    admin_email: Option<String>,
    /// Timed requests per page and person.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Untimed requests per page and person before the timed ones.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Concurrent clients of the throughput runs.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds of each throughput run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The text searched for.
    #[arg(long, default_value = "müll")]
    search: String,
    /// The server binary; by default `hitweb` in the folder above this
    /// example's (target/release when run with --release).
    #[arg(long)]
    server: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let url = args
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .context("give --database-url or set DATABASE_URL")?;
    let org_file = args
        .org
        .clone()
        .or_else(|| std::env::var_os("HIT_ORG").map(PathBuf::from))
        .unwrap_or_else(|| workspace_file("examples/demo-federation.toml"));
    let org = Arc::new(
        Organisation::from_file(&org_file)
            .with_context(|| format!("while loading {}", org_file.display()))?,
    );
    let admin_email = args
        .admin_email
        .clone()
        .or_else(|| std::env::var("HIT_ADMIN_EMAIL").ok())
        .unwrap_or_else(|| hitcore::seed::DEFAULT_ADMIN_EMAIL.to_owned());

    eprintln!("Preparing {}", store::redacted_url(&url));
    let subjects = prepare(&url, &org, &admin_email)?;
    let server = Server::start(&server_binary(args)?, &url, &org_file)?;
    let load_before = load_average();
    let outcome = measure(args, &server, &subjects);
    let load_after = load_average();
    let memory = server.memory();
    drop(server);
    let (latencies, throughput) = outcome?;
    print_report(
        &url,
        &subjects,
        &latencies,
        &throughput,
        args.concurrency,
        memory?,
        (load_before, load_after),
    );
    Ok(())
}

/// A file of the workspace, wherever the benchmark runs from.
fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn server_binary(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.server {
        return Ok(path.clone());
    }
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("hitweb"))
        .context("cannot find the target folder")?;
    if !bin.exists() {
        bail!(
            "{} does not exist: build it first (cargo build --release -p hitweb) or pass --server",
            bin.display()
        );
    }
    Ok(bin)
}

// ------------------------------------------------------------- the subjects

/// Who and what the benchmark asks for.
struct Subjects {
    admin: (PersonId, String),
    leader: (PersonId, String),
    club: Group,
    /// People in the club's layer-wide list as its leader sees it.
    layer_people: u64,
    /// A member of the club the administrator may see too, with the group
    /// their page is shown in.
    person: (PersonId, i64),
    people: u64,
    groups: usize,
    /// p50 of the store call behind the leader's list, pages 1 and 100,
    /// called in this process without the web server.
    store_list: [Duration; 2],
}

/// Finds the administrator, the largest club (the first club: the
/// generator makes it the largest), its leader and a member, and gives the
/// two people the benchmark's password.
fn prepare(url: &str, org: &Arc<Organisation>, admin_email: &str) -> anyhow::Result<Subjects> {
    let store = store::open(url, Arc::clone(org)).map_err(|e| anyhow!("{url}: {e:#}"))?;
    let admin = store.person_by_email(admin_email)?.with_context(|| {
        format!("no person with the email {admin_email}: run `hitweb seed` first")
    })?;
    let tree = GroupTree::new(store.all_groups()?);
    let club = first_club(&tree).context("the federation has no club")?;
    let today = chrono::Utc::now().date_naive();
    let list = |role_types: Vec<String>, filter: ListFilter, scope: GroupScope| PeopleQuery {
        scope,
        filter,
        role_types: Some(role_types),
        text: None,
        today,
        page: 1,
        per_page: 1,
    };

    let leader_types: Vec<String> = org
        .role_types_of(&club.group_type)
        .filter(|r| r.has(Permission::LayerAndBelowFull))
        .map(|r| r.key.clone())
        .collect();
    let leaders = store.people_list(&list(
        leader_types,
        ListFilter::All,
        GroupScope::Group(club.id),
    ))?;
    let leader = leaders
        .items
        .first()
        .map(|lp| lp.person.clone())
        .context("the largest club has no leader")?;
    let members = org.role_keys_of_kinds(&[RoleKind::Member]);
    let layer = GroupScope::Layer(club.id);
    let layer_people = store
        .people_list(&list(members.clone(), ListFilter::All, layer))?
        .total;
    let visible = ListFilter::RoleTypes(org.visible_from_above_keys());
    let member = store
        .people_list(&list(members.clone(), visible, layer))?
        .items
        .first()
        .map(|lp| lp.person.clone())
        .context("the largest club has no member")?;
    let shown_in = member.primary_group_id.unwrap_or(club.id);
    let mut store_list = [Duration::ZERO; 2];
    for (slot, page) in store_list.iter_mut().zip([1, 100]) {
        let q = PeopleQuery {
            page,
            per_page: u32::try_from(PER_PAGE).unwrap_or(50),
            ..list(members.clone(), ListFilter::All, layer)
        };
        *slot = time_store_call(|| store.people_list(&q).map(drop))?;
    }

    let hash = hitcore::auth::hash_password(PASSWORD).map_err(|e| anyhow!("hashing: {e}"))?;
    for id in [admin.id, leader.id] {
        store.set_password_hash(&system(SetPassword(id)), &hash, chrono::Utc::now())?;
    }
    let leader_email = leader
        .email
        .clone()
        .context("the club leader has no email to sign in with")?;
    Ok(Subjects {
        admin: (admin.id, admin_email.to_owned()),
        leader: (leader.id, leader_email),
        club,
        layer_people,
        person: (member.id, shown_in.0),
        people: store.person_count()?,
        groups: tree.iter().count(),
        store_list,
    })
}

/// The p50 of 30 calls after 5 untimed ones.
fn time_store_call(
    mut call: impl FnMut() -> Result<(), store::StoreError>,
) -> anyhow::Result<Duration> {
    for _ in 0..5 {
        call()?;
    }
    let mut times = Vec::with_capacity(30);
    for _ in 0..30 {
        let started = Instant::now();
        call()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(percentile(&times, 50))
}

/// The layer group with the lowest id that has no layers below it.
fn first_club(tree: &GroupTree) -> Option<Group> {
    let layers: Vec<&Group> = tree.iter().filter(|g| g.is_layer()).collect();
    layers
        .iter()
        .filter(|g| {
            !layers
                .iter()
                .any(|o| o.id != g.id && o.is_in_subtree_of(g.id))
        })
        .min_by_key(|g| g.id)
        .map(|g| (*g).clone())
}

// --------------------------------------------------------------- the server

/// The web server's memory, from `/proc/<pid>/status`.
struct Memory {
    peak_kib: u64,
    anon_kib: u64,
    file_kib: u64,
}

/// The web server, running as a child process on a loopback port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(bin: &Path, url: &str, org_file: &Path) -> anyhow::Result<Server> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("HIT_ORG", org_file)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_ready()?;
        Ok(server)
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let agent = agent();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                let mut why = String::new();
                if let Some(err) = self.child.stderr.as_mut() {
                    let _ = err.read_to_string(&mut why);
                }
                bail!("the server stopped ({status}): {why}");
            }
            if agent
                .get(format!("{}/users/sign_in", self.base))
                .call()
                .is_ok()
            {
                // Nobody reads the server's stderr from here on: let it go
                // to a thread so that a chatty server never blocks.
                if let Some(err) = self.child.stderr.take() {
                    std::thread::spawn(move || {
                        for line in BufReader::new(err).lines().map_while(Result::ok) {
                            eprintln!("server: {line}");
                        }
                    });
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("the server did not answer within two minutes")
    }

    /// The most memory the server has held (VmHWM), and what it holds now
    /// in anonymous memory (heap, SQLite's page caches) and in mapped
    /// files (the binary), all in KiB.
    fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("no {name} line in /proc/<pid>/status"))
        };
        Ok(Memory {
            peak_kib: field("VmHWM:")?,
            anon_kib: field("RssAnon:")?,
            file_kib: field("RssFile:")?,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------ the requests

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Signs in and returns the `Cookie` header of the session.
fn sign_in(agent: &ureq::Agent, base: &str, email: &str) -> anyhow::Result<String> {
    let mut form = agent.get(format!("{base}/users/sign_in")).call()?;
    let mut cookies = set_cookies(&form);
    let html = form.body_mut().read_to_string()?;
    let token = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(unescape_html)
        .context("no CSRF token on the sign-in page")?;
    let done = agent
        .post(format!("{base}/users/sign_in"))
        .header("Cookie", cookie_header(&cookies))
        .send_form([
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])?;
    cookies.extend(set_cookies(&done));
    if done.status().as_u16() != 303 || !cookies.iter().any(|(n, _)| n == "hit_session") {
        bail!("signing in as {email} failed with status {}", done.status());
    }
    Ok(cookie_header(&cookies))
}

/// The text of an HTML attribute value: the templates escape `/`, `&`,
/// quotes and angle brackets as character references.
fn unescape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn set_cookies(response: &ureq::http::Response<ureq::Body>) -> Vec<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn cookie_header(cookies: &[(String, String)]) -> String {
    // The last value of a name wins, as in a browser.
    let mut last: Vec<(String, String)> = Vec::new();
    for (name, value) in cookies {
        last.retain(|(n, _)| n != name);
        last.push((name.clone(), value.clone()));
    }
    last.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Fetches a page whole; anything but 200 is an error.
fn fetch(agent: &ureq::Agent, url: &str, cookie: &str) -> anyhow::Result<usize> {
    let mut response = agent.get(url).header("Cookie", cookie).call()?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_vec()?;
    if status != 200 {
        bail!("GET {url} answered {status}");
    }
    Ok(body.len())
}

// ------------------------------------------------------------ measurements

/// What is measured, with its p95 target in milliseconds.
struct Page {
    name: &'static str,
    /// The path as the administrator and as the club leader ask for it.
    paths: [String; 2],
    target_ms: u64,
}

/// The pages of the benchmark. The club's whole list is `range=layer` for
/// its leader; from above, the administrator may not list a lower layer's
/// own people (`index_local_people`) and asks for the club's subtree
/// (`range=deep`), which covers the same groups in a club without
/// sublayers.
fn pages(s: &Subjects, search: &str) -> Vec<Page> {
    let club = s.club.id;
    let (person, group) = s.person;
    let same = |path: String| [path.clone(), path];
    let list = |query: &str| {
        [
            format!("/groups/{club}/people?range=deep{query}"),
            format!("/groups/{club}/people?range=layer{query}"),
        ]
    };
    vec![
        Page {
            name: "group page",
            paths: same(format!("/groups/{club}")),
            target_ms: 20,
        },
        Page {
            name: "layer list, page 1",
            paths: list(""),
            target_ms: 60,
        },
        Page {
            name: "layer list, page 100",
            paths: list("&page=100"),
            target_ms: 60,
        },
        Page {
            name: "person page",
            paths: same(format!("/groups/{group}/people/{person}")),
            target_ms: 15,
        },
        Page {
            name: "search",
            paths: same(format!("/full?q={}", url_encode(search))),
            target_ms: 50,
        },
    ]
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// p50 and p95 of one page for one person.
struct Latency {
    page: &'static str,
    user: &'static str,
    p50: Duration,
    p95: Duration,
    target_ms: u64,
    bytes: usize,
}

/// Requests per second of one page at the configured concurrency.
struct Throughput {
    page: &'static str,
    user: &'static str,
    per_second: f64,
    tool: &'static str,
}

fn measure(
    args: &Args,
    server: &Server,
    s: &Subjects,
) -> anyhow::Result<(Vec<Latency>, Vec<Throughput>)> {
    let agent = agent();
    let users = [
        ("administrator", sign_in(&agent, &server.base, &s.admin.1)?),
        ("club leader", sign_in(&agent, &server.base, &s.leader.1)?),
    ];
    let pages = pages(s, &args.search);
    let mut latencies = Vec::new();
    for page in &pages {
        for ((user, cookie), path) in users.iter().zip(&page.paths) {
            eprintln!("Timing {} as {user}", page.name);
            let url = format!("{}{path}", server.base);
            latencies.push(time_page(&agent, &url, cookie, args, page, user)?);
        }
    }
    let mut throughput = Vec::new();
    for page in pages.iter().filter(|p| p.name != "layer list, page 100") {
        let (user, cookie) = &users[1];
        eprintln!(
            "Loading {} as {user} with {} clients",
            page.name, args.concurrency
        );
        let url = format!("{}{}", server.base, page.paths[1]);
        let (per_second, tool) = load(&url, cookie, args)?;
        throughput.push(Throughput {
            page: page.name,
            user,
            per_second,
            tool,
        });
    }
    Ok((latencies, throughput))
}

fn time_page(
    agent: &ureq::Agent,
    url: &str,
    cookie: &str,
    args: &Args,
    page: &Page,
    user: &'static str,
) -> anyhow::Result<Latency> {
    let mut bytes = 0;
    for _ in 0..args.warmup {
        bytes = fetch(agent, url, cookie)?;
    }
    let mut times = Vec::with_capacity(args.requests);
    for _ in 0..args.requests.max(1) {
        let started = Instant::now();
        fetch(agent, url, cookie)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(Latency {
        page: page.name,
        user,
        p50: percentile(&times, 50),
        p95: percentile(&times, 95),
        target_ms: page.target_ms,
        bytes,
    })
}

/// The nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Requests per second at `args.concurrency` clients for `args.seconds`:
/// with wrk when it is on the PATH, else with threads of our own.
fn load(url: &str, cookie: &str, args: &Args) -> anyhow::Result<(f64, &'static str)> {
    let wrk = Command::new("wrk")
        .args(["-t", "2", "-c"])
        .arg(args.concurrency.to_string())
        .arg("-d")
        .arg(format!("{}s", args.seconds))
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(url)
        .output();
    match wrk {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(line) = text.lines().find(|l| l.contains("Non-2xx")) {
                bail!("wrk saw failed requests on {url}: {}", line.trim());
            }
            let rps = text
                .lines()
                .find_map(|l| l.strip_prefix("Requests/sec:"))
                .and_then(|v| v.trim().parse().ok())
                .context("no Requests/sec in wrk's output")?;
            Ok((rps, "wrk"))
        }
        _ => Ok((load_with_threads(url, cookie, args)?, "threads")),
    }
}

fn load_with_threads(url: &str, cookie: &str, args: &Args) -> anyhow::Result<f64> {
    let done = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..args.concurrency {
            scope.spawn(|| {
                let agent = agent();
                while Instant::now() < deadline {
                    if fetch(&agent, url, cookie).is_err() {
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    if failed.load(Ordering::Relaxed) {
        bail!("requests to {url} failed under load");
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

// ------------------------------------------------------------------ report

fn print_report(
    url: &str,
    s: &Subjects,
    latencies: &[Latency],
    throughput: &[Throughput],
    clients: usize,
    memory: Memory,
    load: (String, String),
) {
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let pages = s.layer_people.div_ceil(PER_PAGE);
    println!();
    println!(
        "{backend}: {} people, {} groups; the largest club \"{}\" (group {}) lists {} \
         members on {pages} pages",
        s.people, s.groups, s.club.name, s.club.id, s.layer_people
    );
    println!(
        "signed in as the administrator (person {}) and as the club leader (person {})",
        s.admin.0, s.leader.0
    );
    println!(
        "load average (1 min) of the machine: {} before, {} after the measurements",
        load.0, load.1
    );
    println!(
        "the store call behind the leader's list alone, without the web server: p50 {:.1} ms \
         (page 1), {:.1} ms (page 100)",
        ms(s.store_list[0]),
        ms(s.store_list[1])
    );
    println!();
    println!("| request | user | p50 ms | p95 ms | target p95 ms | met | page KiB |");
    println!("| --- | --- | ---: | ---: | ---: | --- | ---: |");
    for l in latencies {
        let p95 = ms(l.p95);
        let met = if p95 <= l.target_ms as f64 {
            "yes"
        } else {
            "no"
        };
        println!(
            "| {} | {} | {:.1} | {:.1} | {} | {met} | {:.0} |",
            l.page,
            l.user,
            ms(l.p50),
            p95,
            l.target_ms,
            l.bytes as f64 / 1024.0
        );
    }
    println!();
    println!("| load, {clients} clients | user | requests/s | tool |");
    println!("| --- | --- | ---: | --- |");
    for t in throughput {
        println!(
            "| {} | {} | {:.0} | {} |",
            t.page, t.user, t.per_second, t.tool
        );
    }
    println!();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let peak = mib(memory.peak_kib);
    let met = if peak <= 150.0 { "met" } else { "missed" };
    println!(
        "peak RSS of the web process (VmHWM): {peak:.1} MiB (target 150 MiB: {met}); at the \
         end {:.1} MiB anonymous, {:.1} MiB mapped files",
        mib(memory.anon_kib),
        mib(memory.file_kib)
    );
}

/// The one-minute load average, to tell a quiet machine from a busy one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
