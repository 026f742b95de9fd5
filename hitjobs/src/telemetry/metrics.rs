//! The Prometheus metrics of both processes: every name with its help
//! text, the exporter behind `METRICS_ADDR`, and the gauges that come from
//! the database ([`QueueGauges`]).
//!
//! Code records through the `metrics` facade with the constants here (the
//! web server's HTTP metrics, the worker's job, relay and SMTP metrics; the
//! stores count enqueued jobs under [`JOBS_ENQUEUED`]). Until a recorder is
//! installed those calls cost next to nothing and go nowhere.
//!
//! Labels hold bounded values only: methods, route templates (never the
//! path), status codes, job kinds, queue names, outcomes. docs/METRICS.md
//! lists the names for operators.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hitcore::jobs::QueueStats;
use hitcore::store::{JobQueue, StoreError};
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusRecorder};

/// HTTP requests served, by `method`, `route` (the route template, `-`
/// when none matched) and `status`.
pub const HTTP_REQUESTS: &str = "hit_http_requests_total";
/// How long requests took, by `method` and `route`.
pub const HTTP_REQUEST_DURATION: &str = "hit_http_request_duration_seconds";

/// Jobs added to the queue, by `kind` and `queue`; counted by the stores.
pub const JOBS_ENQUEUED: &str = hitcore::jobs::ENQUEUED_METRIC;
/// Attempts started, by `kind`.
pub const JOBS_STARTED: &str = "hit_jobs_started_total";
/// Attempts whose handler succeeded, by `kind`.
pub const JOBS_SUCCEEDED: &str = "hit_jobs_succeeded_total";
/// Attempts that failed and left the job failed for good, by `kind`.
pub const JOBS_FAILED: &str = "hit_jobs_failed_total";
/// Attempts that failed and put the job back for a retry, by `kind`.
pub const JOBS_RETRIED: &str = "hit_jobs_retried_total";
/// How long attempts took, by `kind`.
pub const JOB_DURATION: &str = "hit_job_duration_seconds";
/// Open jobs, by `queue` and `state` (`waiting`: due; `scheduled`: due
/// later; `running`).
pub const JOB_QUEUE_DEPTH: &str = "hit_job_queue_depth";
/// How long the oldest due job of a `queue` has waited.
pub const JOB_QUEUE_OLDEST_WAITING: &str = "hit_job_queue_oldest_waiting_seconds";
/// Workers with a recent heartbeat, in the whole deployment.
pub const JOB_WORKERS_LIVE: &str = "hit_job_workers_live";

/// Messages fetched from the list mailbox.
pub const RELAY_FETCHED: &str = "hit_relay_messages_fetched_total";
/// List copies delivered to their recipients.
pub const RELAY_FORWARDED: &str = "hit_relay_messages_forwarded_total";
/// List copies refused: the sender may not post, or it is too large.
pub const RELAY_REJECTED: &str = "hit_relay_messages_rejected_total";
/// Bounces of list mail, to be returned to the original sender.
pub const RELAY_BOUNCED: &str = "hit_relay_messages_bounced_total";

/// SMTP transactions, by `outcome`: `sent`, `refused` (every recipient
/// refused, no data sent), `temporary`, `permanent`, `unconfirmed` (the
/// connection failed after the data went out) and `aborted`.
pub const SMTP_DELIVERIES: &str = "hit_smtp_deliveries_total";

/// Bucket bounds of the request durations, in seconds.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bucket bounds of the job durations, in seconds: from no-op jobs to
/// exports and list deliveries of many minutes.
const JOB_BUCKETS: &[f64] = &[
    0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Starts the Prometheus listener on `addr` (any path answers with the
/// metrics) and makes it the process's recorder, with every metric
/// described. Call it once, inside the tokio runtime, which serves it.
///
/// # Errors
/// When the address cannot be bound or a recorder is installed already,
/// naming `METRICS_ADDR`.
pub fn install_metrics(addr: SocketAddr) -> anyhow::Result<()> {
    builder()
        .map_err(|e| anyhow::anyhow!("METRICS_ADDR={addr}: {e}"))?
        .with_http_listener(addr)
        .install()
        .map_err(|e| anyhow::anyhow!("METRICS_ADDR={addr}: {e}"))?;
    describe_metrics();
    tracing::info!(metrics_addr = %addr, "Serving metrics on http://{addr}/metrics");
    Ok(())
}

/// A recorder with the buckets of [`install_metrics`] and no listener,
/// for tests (and tools) that render through its handle. Install it with
/// `metrics::set_global_recorder`, then call [`describe_metrics`].
pub fn recorder() -> PrometheusRecorder {
    // The matchers are fixed and non-empty, so `builder` cannot fail; an
    // unconfigured builder is the fallback all the same.
    builder()
        .unwrap_or_else(|_| PrometheusBuilder::new())
        .build_recorder()
}

fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(HTTP_REQUEST_DURATION.to_owned()),
            HTTP_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full(JOB_DURATION.to_owned()), JOB_BUCKETS)
}

/// Gives every metric its help text and unit in the installed recorder.
pub fn describe_metrics() {
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests served, by method, route template and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "How long HTTP requests took, by method and route template."
    );
    describe_counter!(
        JOBS_ENQUEUED,
        Unit::Count,
        "Jobs added to the queue, by kind and queue."
    );
    describe_counter!(JOBS_STARTED, Unit::Count, "Job attempts started, by kind.");
    describe_counter!(
        JOBS_SUCCEEDED,
        Unit::Count,
        "Job attempts that succeeded, by kind."
    );
    describe_counter!(
        JOBS_FAILED,
        Unit::Count,
        "Job attempts that failed and left the job failed for good, by kind."
    );
    describe_counter!(
        JOBS_RETRIED,
        Unit::Count,
        "Job attempts that failed and put the job back for a retry, by kind."
    );
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "How long job attempts took, by kind."
    );
    describe_gauge!(
        JOB_QUEUE_DEPTH,
        Unit::Count,
        "Open jobs by queue and state (waiting: due; scheduled: due later; running)."
    );
    describe_gauge!(
        JOB_QUEUE_OLDEST_WAITING,
        Unit::Seconds,
        "How long the oldest due job of the queue has waited."
    );
    describe_gauge!(
        JOB_WORKERS_LIVE,
        Unit::Count,
        "Workers of the deployment with a recent heartbeat."
    );
    describe_counter!(
        RELAY_FETCHED,
        Unit::Count,
        "Messages fetched from the list mailbox."
    );
    describe_counter!(
        RELAY_FORWARDED,
        Unit::Count,
        "List copies delivered to their recipients."
    );
    describe_counter!(
        RELAY_REJECTED,
        Unit::Count,
        "List copies refused because the sender may not post or the message is too large."
    );
    describe_counter!(
        RELAY_BOUNCED,
        Unit::Count,
        "Bounces of list mail to be returned to the original sender."
    );
    describe_counter!(
        SMTP_DELIVERIES,
        Unit::Count,
        "SMTP transactions, by outcome."
    );
}

/// The label for an HTTP method: the standard ones as they are, any other
/// `OTHER`. Poem accepts any token as a method, so a raw label would let
/// anyone add series without bound.
pub fn method_label(method: &str) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    STANDARD
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("OTHER")
}

/// Counts one HTTP request and its duration; `method` is reduced to
/// [`method_label`].
pub fn record_request(method: &str, route: &str, status: u16, took: Duration) {
    let method = method_label(method);
    metrics::counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route.to_owned(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        HTTP_REQUEST_DURATION,
        "method" => method,
        "route" => route.to_owned()
    )
    .record(took.as_secs_f64());
}

/// Adds one to the counter `name` (a relay counter, without labels).
pub fn count(name: &'static str) {
    metrics::counter!(name).increment(1);
}

/// Counts one SMTP transaction by its outcome.
pub fn count_smtp(outcome: &'static str) {
    metrics::counter!(SMTP_DELIVERIES, "outcome" => outcome).increment(1);
}

/// The gauges that come from the database: queue depths, the oldest
/// waiting job, live workers, refreshed from one
/// [`JobQueue::queue_stats`] call. Every worker refreshes them on its
/// recovery round, so each process reports the deployment's numbers.
///
/// It remembers the queues it reported, so that a queue that empties
/// reads zero instead of keeping its last value.
#[derive(Debug, Default)]
pub struct QueueGauges {
    seen: BTreeSet<String>,
}

impl QueueGauges {
    /// Reads the numbers at `now` (a worker is live while its heartbeat
    /// is younger than `dead_after`) and sets the gauges.
    ///
    /// # Errors
    /// When the store fails; the gauges keep their values.
    pub fn refresh<S: JobQueue + ?Sized>(
        &mut self,
        store: &S,
        now: DateTime<Utc>,
        dead_after: Duration,
    ) -> Result<(), StoreError> {
        let stats = store.queue_stats(now, dead_after)?;
        self.set(&stats, now);
        Ok(())
    }

    /// Sets the gauges to `stats`, read at `now`.
    pub fn set(&mut self, stats: &QueueStats, now: DateTime<Utc>) {
        let gone: Vec<String> = self
            .seen
            .iter()
            .filter(|q| !stats.queues.iter().any(|d| &d.queue == *q))
            .cloned()
            .collect();
        for queue in gone {
            set_queue(&queue, 0, 0, 0, Duration::ZERO);
        }
        for depth in &stats.queues {
            set_queue(
                &depth.queue,
                depth.waiting,
                depth.scheduled,
                depth.running,
                depth.oldest_waiting_age(now),
            );
            self.seen.insert(depth.queue.clone());
        }
        metrics::gauge!(JOB_WORKERS_LIVE).set(stats.live_workers as f64);
    }
}

fn set_queue(queue: &str, waiting: u64, scheduled: u64, running: u64, oldest: Duration) {
    for (state, n) in [
        ("waiting", waiting),
        ("scheduled", scheduled),
        ("running", running),
    ] {
        metrics::gauge!(JOB_QUEUE_DEPTH, "queue" => queue.to_owned(), "state" => state)
            .set(n as f64);
    }
    metrics::gauge!(JOB_QUEUE_OLDEST_WAITING, "queue" => queue.to_owned())
        .set(oldest.as_secs_f64());
}
