//! What the telemetry tests of this crate and of hitweb share: a local
//! HTTP endpoint that records every envelope the real Sentry client sends
//! ([`TestSentry`]), the process's metrics recorder for tests
//! ([`test_recorder`]), and `promtool check metrics` ([`promtool`]). Not
//! for production code: nothing outside tests calls it.
//!
//! Sentry's hub and the metrics recorder are global to a process, so each
//! is set up once per test binary, by the first test that asks.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::Value;

use super::sentry::{SentryGuard, init_sentry};
use super::{SentryDsn, TelemetryConfig};

/// How long a test waits for an event before it fails: generous, since
/// both cores may be busy building.
const PATIENCE: Duration = Duration::from_secs(60);

/// The environment the test client reports.
pub const TEST_ENVIRONMENT: &str = "telemetry-test";

/// The Sentry client of a test binary, sending to an endpoint of its own.
pub struct TestSentry {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    guard: SentryGuard,
}

/// Starts the endpoint and the Sentry client once per process (for the
/// service `service`) and returns them.
///
/// # Panics
/// When the endpoint cannot listen; a test cannot go on without it.
pub fn test_sentry(service: &'static str) -> &'static TestSentry {
    static SENTRY: OnceLock<TestSentry> = OnceLock::new();
    SENTRY.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the Sentry endpoint");
        let addr = listener.local_addr().expect("the endpoint's address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&requests);
        std::thread::spawn(move || serve(&listener, &kept));
        let dsn = format!("http://testkey@{addr}/1");
        let config = TelemetryConfig {
            sentry_dsn: Some(SentryDsn::parse(dsn).expect("the test DSN parses")),
            environment: TEST_ENVIRONMENT.to_owned(),
            ..TelemetryConfig::default()
        };
        let guard = init_sentry(&config, service);
        TestSentry {
            addr,
            requests,
            guard,
        }
    })
}

impl TestSentry {
    /// The endpoint's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, raw: request line, headers, body.
    pub fn raw_requests(&self) -> Vec<Vec<u8>> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The events among the envelopes received so far, as JSON.
    pub fn events(&self) -> Vec<Value> {
        self.raw_requests()
            .iter()
            .flat_map(|raw| envelope_events(raw))
            .collect()
    }

    /// Sends what the client has queued and waits until an event that
    /// `wanted` accepts has arrived; returns it.
    ///
    /// # Panics
    /// When none arrives within a minute, listing what did.
    pub fn wait_for_event(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.guard.flush(Duration::from_secs(5));
            if let Some(event) = self.events().into_iter().find(|e| wanted(e)) {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "no Sentry event {what} arrived; received: {:#?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The value of tag `name` of an event.
pub fn tag<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    event.get("tags")?.get(name)?.as_str()
}

/// Answers every request with 200 and keeps it.
fn serve(listener: &TcpListener, requests: &Mutex<Vec<Vec<u8>>>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Some(raw) = read_request(&stream) {
            requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(raw);
        }
        let mut stream = stream;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    }
}

/// One HTTP/1.1 request with a `Content-Length` or chunked body, raw.
fn read_request(stream: &TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut raw = Vec::new();
    let mut length = 0;
    let mut is_chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        raw.extend_from_slice(line.as_bytes());
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            is_chunked = true;
        }
        if line == "\r\n" {
            break;
        }
    }
    if is_chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            raw.extend_from_slice(&chunk[..n]);
            if n == 0 {
                break;
            }
        }
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        raw.extend_from_slice(&body);
    }
    Some(raw)
}

/// The event items of one raw request: envelope lines that are JSON
/// objects with a `platform`, which only event payloads have.
fn envelope_events(raw: &[u8]) -> Vec<Value> {
    raw.split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|v| v.get("platform").is_some())
        .collect()
}

/// The process's metrics recorder for tests: the exporter's, with the
/// buckets and descriptions of production, installed once; render the
/// metrics through the handle.
///
/// # Panics
/// When another recorder was installed in this process first.
pub fn test_recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = super::metrics::recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).expect("no other metrics recorder");
        super::metrics::describe_metrics();
        handle
    })
}

/// The promtool of `HIT_TEST_PROMTOOL`; `None`, with a note, when it is
/// not set.
///
/// # Panics
/// When it is not set and `CI=true`: CI must not skip the check.
pub fn promtool() -> Option<PathBuf> {
    match std::env::var_os("HIT_TEST_PROMTOOL").filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("HIT_TEST_PROMTOOL is not set, and CI=true: the metrics must pass promtool")
        }
        None => {
            eprintln!("skipped: HIT_TEST_PROMTOOL is not set");
            None
        }
    }
}

/// Runs `promtool check metrics` on `text` (it reads stdin only).
///
/// # Panics
/// When promtool cannot be started.
pub fn promtool_check(promtool: &std::path::Path, text: &str) -> Output {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .expect("promtool reads the metrics");
    }
    child.wait_with_output().expect("promtool finishes")
}
