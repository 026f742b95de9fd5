//! Errors to Sentry: the client behind `SENTRY_DSN`, the filter every
//! event passes before it leaves the process, and the events the code
//! sends on purpose (a failed job attempt, a 5xx response). Panics reach
//! Sentry through the client's panic hook, with the tags of the scope they
//! happen in (the job's, the request's).
//!
//! What an event may carry is decided here, once, for every event:
//! [`scrub`] keeps the tags of [`ALLOWED_TAGS`] and the contexts of
//! [`ALLOWED_CONTEXTS`], cuts exception texts to their first clause, and
//! drops user, request, breadcrumbs and extra data. Error texts of jobs and
//! requests are never sent: a driver's or a mail server's message can quote
//! a row or an address. The request id and job id lead to the log line
//! that has them.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use sentry::protocol::Event;
use sentry::{ClientOptions, Hub, Level};

use super::TelemetryConfig;

/// The tags an event may carry; any other is dropped.
pub const ALLOWED_TAGS: &[&str] = &[
    "service",
    "request.id",
    "http.method",
    "http.route",
    "http.status",
    "job.id",
    "job.kind",
    "job.attempt",
    "job.outcome",
    "job.failure",
    "worker.id",
];

/// The contexts an event may carry (what the contexts integration adds
/// about the machine and the build); any other is dropped.
pub const ALLOWED_CONTEXTS: &[&str] = &["os", "rust", "device", "runtime"];

/// How long the client may take to send what is queued when the process
/// stops.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Keeps the Sentry client alive; dropping it sends what is queued (for
/// at most two seconds). Holds nothing when no DSN is configured.
#[must_use = "dropping the guard stops reporting to Sentry"]
pub struct SentryGuard(Option<sentry::ClientInitGuard>);

impl SentryGuard {
    /// Whether events are sent.
    pub fn is_enabled(&self) -> bool {
        self.0.as_ref().is_some_and(|g| g.is_enabled())
    }

    /// Waits until the queued events are sent, for at most `timeout`;
    /// whether they were.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.0.as_ref().is_none_or(|g| g.flush(Some(timeout)))
    }
}

/// Starts the Sentry client of `SENTRY_DSN` for the process `service`
/// (`hitweb`, `hitjobs`), with the release and environment of `config`;
/// without a DSN, nothing is set up and nothing is sent.
///
/// The client is bound to the main hub, so that every thread started
/// afterwards reports through it, and to the calling thread's.
pub fn init_sentry(config: &TelemetryConfig, service: &'static str) -> SentryGuard {
    let Some(dsn) = &config.sentry_dsn else {
        return SentryGuard(None);
    };
    let mut options = ClientOptions::default();
    options.dsn = dsn.expose().parse().ok();
    options.release = Some(Cow::Borrowed(config.release));
    options.environment = Some(Cow::Owned(config.environment.clone()));
    options.send_default_pii = false;
    // The host name says where a process runs, which is nobody's business
    // outside the deployment; the `service` tag says which process it was.
    options.server_name = None;
    options.attach_stacktrace = false;
    options.max_breadcrumbs = 0;
    options.before_send = Some(Arc::new(|event| Some(scrub(event))));
    options.before_breadcrumb = Some(Arc::new(|_| None));
    options.shutdown_timeout = SHUTDOWN_TIMEOUT;
    let guard = sentry::init(options);
    let main = Hub::main();
    if main.client().is_none() {
        main.bind_client(Hub::current().client());
    }
    for hub in [Hub::main(), Hub::current()] {
        hub.configure_scope(|scope| scope.set_tag("service", service));
    }
    tracing::info!(
        sentry.environment = %config.environment,
        sentry.release = config.release,
        "Reporting errors to Sentry"
    );
    SentryGuard(Some(guard))
}

/// What every event is reduced to before it is sent: see the module doc.
pub fn scrub(mut event: Event<'static>) -> Event<'static> {
    event.user = None;
    event.request = None;
    event.server_name = None;
    event.breadcrumbs = Default::default();
    event.extra.clear();
    event.modules.clear();
    event
        .tags
        .retain(|key, _| ALLOWED_TAGS.contains(&key.as_str()));
    event
        .contexts
        .retain(|key, _| ALLOWED_CONTEXTS.contains(&key.as_str()));
    event.logentry = None;
    for exception in event.exception.values.iter_mut() {
        exception.value = exception.value.as_deref().map(first_clause);
    }
    event
}

/// The start of a panic message: its first line, up to the first `": "`,
/// with words that hold an `@` left out. What follows the first colon is
/// usually a value (`called Result::unwrap() on an Err value: ...`, an
/// `expect` message's error), and values can be personal data.
///
/// Limitations: a message that puts a name before its first colon keeps
/// it; panic messages are written by us, and should not.
pub fn first_clause(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    let clause = line.split(": ").next().unwrap_or_default();
    clause
        .split(' ')
        .map(|word| if word.contains('@') { "<…>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a failed job attempt ends, for its Sentry event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Back in the queue for another attempt.
    Retried,
    /// Out of attempts: kept as failed.
    Failed,
    /// The handler said retrying is pointless: kept as failed.
    Permanent,
}

impl AttemptOutcome {
    /// The tag value: `retried`, `failed` or `permanent`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Retried => "retried",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Permanent => "permanent",
        }
    }
}

/// Reports a failed job attempt to the current hub, whose scope carries
/// the job's tags (`job.id`, `job.kind`, `worker.id`, `job.attempt`; see
/// `runtime::execute`). `failure` says what failed (`error`, `panic`,
/// `no_handler`); the error text is not sent.
pub fn capture_job_failure(
    kind: &str,
    attempt: u32,
    max_attempts: u32,
    outcome: AttemptOutcome,
    failure: &'static str,
) {
    let hub = Hub::current();
    if hub.client().is_none() {
        return;
    }
    let level = match outcome {
        AttemptOutcome::Retried => Level::Warning,
        AttemptOutcome::Failed | AttemptOutcome::Permanent => Level::Error,
    };
    let event = Event {
        message: Some(format!(
            "Job {kind} failed attempt {attempt} of {max_attempts} ({})",
            outcome.as_str()
        )),
        level,
        // One issue per kind and outcome, whatever the attempt.
        fingerprint: Cow::Owned(vec![
            "job-failure".into(),
            kind.to_owned().into(),
            outcome.as_str().into(),
        ]),
        ..Event::default()
    };
    hub.with_scope(
        |scope| {
            scope.set_tag("job.outcome", outcome.as_str());
            scope.set_tag("job.failure", failure);
        },
        || hub.capture_event(event),
    );
}

/// Reports a response with a 5xx status to `hub` (the request's, whose
/// scope carries `request.id`): method, route template and status, no
/// error text. A 503 (the database is away) is a warning, the rest errors.
pub fn capture_server_error(hub: &Hub, method: &str, route: &str, status: u16) {
    let level = if status == 503 {
        Level::Warning
    } else {
        Level::Error
    };
    let event = Event {
        message: Some(format!("{method} {route} answered {status}")),
        level,
        fingerprint: Cow::Owned(vec![
            "http-5xx".into(),
            method.to_owned().into(),
            route.to_owned().into(),
            status.to_string().into(),
        ]),
        ..Event::default()
    };
    hub.with_scope(
        |scope| {
            scope.set_tag("http.method", method);
            scope.set_tag("http.route", route);
            scope.set_tag("http.status", status);
        },
        || hub.capture_event(event),
    );
}

#[cfg(test)]
mod tests {
    use sentry::protocol::{Exception, User};

    use super::*;

    #[test]
    fn panic_messages_keep_their_first_clause_without_addresses() {
        for (message, kept) in [
            (
                "called `Result::unwrap()` on an `Err` value: Db { detail: \"Key (email)=(ann@example.org)\" }",
                "called `Result::unwrap()` on an `Err` value",
            ),
            (
                "index out of bounds: the len is 3 but the index is 7",
                "index out of bounds",
            ),
            ("no mail for ann@example.org", "no mail for <…>"),
            ("assertion failed\n left: Ann", "assertion failed"),
            ("", ""),
        ] {
            assert_eq!(first_clause(message), kept, "{message}");
        }
    }

    #[test]
    fn scrubbed_events_keep_only_allowed_tags_and_no_user_or_request() {
        let mut event = Event {
            user: Some(User {
                email: Some("ann@example.org".to_owned()),
                ..User::default()
            }),
            exception: vec![Exception {
                ty: "panic".to_owned(),
                value: Some("lost: Ann Example".to_owned()),
                ..Exception::default()
            }]
            .into(),
            ..Event::default()
        };
        event.tags.insert("job.kind".to_owned(), "noop".to_owned());
        event
            .tags
            .insert("person.email".to_owned(), "ann@example.org".to_owned());
        event.extra.insert("subject".to_owned(), "Hello Ann".into());

        let event = scrub(event);

        assert!(event.user.is_none());
        assert!(event.extra.is_empty());
        assert_eq!(event.tags.keys().collect::<Vec<_>>(), ["job.kind"]);
        assert_eq!(event.exception.values[0].value.as_deref(), Some("lost"));
    }
}
