//! `/healthz` and `/readyz`: whether this process is alive, and whether
//! it can serve (database reachable, schema current, storage writable),
//! for load balancers, orchestrators and monitors.
//!
//! Both sit outside the session, CSRF and error-page layers (see
//! [`crate::app`]): they need no account, set no cookie and render no
//! template. Their bodies name the check that failed and nothing more: no
//! error text, which can carry host names, paths or bucket names. The
//! cause goes to the log as a warning, once when a check starts failing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hitcore::ability::{self, Decision};
use hitcore::storage::StorageError;
use hitcore::store::{SchemaCheck, StoreError};
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{IntoResponse, Response, handler};
use serde::Serialize;

use crate::context::error_chain;
use crate::state::AppState;

/// GET /healthz: the process is alive and answers (plain text `ok`); it
/// asks neither the database nor the storage, so a restart is never
/// triggered by an outage elsewhere.
#[handler]
pub fn live() -> Response {
    if let Some(refused) = refused(ability::health_check()) {
        return refused;
    }
    plain(StatusCode::OK, "ok\n")
}

/// GET /readyz: 200 with the checks as JSON when the database answers at
/// this build's schema and the storage takes a probe file; otherwise 503
/// with the same JSON naming the failed check.
#[handler]
pub async fn ready(state: Data<&AppState>) -> Response {
    if let Some(refused) = refused(ability::health_check()) {
        return refused;
    }
    let (database, storage) = tokio::join!(schema_check(&state), storage_probe(&state));
    let report = Readiness::new(database, storage);
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(&report).unwrap_or_default();
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
}

/// The body of `/readyz`: one word per check.
#[derive(Debug, Serialize)]
struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// `ok`, `unreachable` or `error`.
    database: &'static str,
    /// `ok`, `behind` (run `hitweb migrate`), `ahead` (a newer build
    /// migrated it) or `unknown` (the database did not answer).
    schema: &'static str,
    /// `ok`, `unreachable` or `refused`.
    storage: &'static str,
}

impl Readiness {
    fn new(database: Result<SchemaCheck, StoreError>, storage: &'static str) -> Readiness {
        let (database, schema) = match database {
            Ok(c) if c.is_current() => ("ok", "ok"),
            Ok(c) if c.found < c.expected => ("ok", "behind"),
            Ok(_) => ("ok", "ahead"),
            Err(StoreError::Unavailable(_)) => ("unreachable", "unknown"),
            Err(_) => ("error", "unknown"),
        };
        let mut report = Readiness {
            status: "ready",
            database,
            schema,
            storage,
        };
        if !report.is_ready() {
            report.status = "not_ready";
        }
        report
    }

    fn is_ready(&self) -> bool {
        [self.database, self.schema, self.storage]
            .iter()
            .all(|c| *c == "ok")
    }
}

/// The store's schema check, off the executor; the first failure of a
/// run is logged here.
async fn schema_check(state: &AppState) -> Result<SchemaCheck, StoreError> {
    let checked = state
        .db_raw(|s| s.schema_check())
        .await
        .unwrap_or_else(|e| Err(StoreError::Backend(Box::new(e))));
    let is_failing = !checked.as_ref().is_ok_and(SchemaCheck::is_current);
    if !starts_failing(&state.probes.is_database_failing, is_failing) {
        return checked;
    }
    match &checked {
        Ok(c) if !c.is_current() => tracing::warn!(
            schema.found = c.found,
            schema.expected = c.expected,
            "Not ready: the database schema is at version {}, this build needs {}",
            c.found,
            c.expected
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %error_chain(e), "Not ready: the database check failed"),
    }
    checked
}

/// How long a storage probe's answer is reused. `/readyz` needs no
/// account, so without this anyone could make the process write to the
/// bucket as often as they like.
const PROBE_REUSE: Duration = Duration::from_secs(5);

/// The last storage probe of this process, and whether the checks failed
/// last time (to warn once when they start failing, not on every probe).
#[derive(Debug, Default)]
pub struct Probes {
    storage: Mutex<Option<(Instant, &'static str)>>,
    is_database_failing: AtomicBool,
    is_storage_failing: AtomicBool,
}

impl Probes {
    /// Forgets the last storage probe, so that the next `/readyz` probes
    /// again at once (after a change an operator or a test made).
    pub fn forget_storage(&self) {
        *self.storage.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Whether this failure is the first of a run: the flag goes up on a
/// failure and down on success.
fn starts_failing(flag: &AtomicBool, is_failing: bool) -> bool {
    let was_failing = flag.swap(is_failing, Ordering::Relaxed);
    is_failing && !was_failing
}

/// The storage's probe word (`ok`, `unreachable`, `refused`), probed off
/// the executor at most once per [`PROBE_REUSE`]; the first failure of a
/// run is logged here.
async fn storage_probe(state: &AppState) -> &'static str {
    let probes = &state.probes;
    let reused = probes
        .storage
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .filter(|(at, _)| at.elapsed() < PROBE_REUSE)
        .map(|(_, word)| word);
    if let Some(word) = reused {
        return word;
    }
    let storage = state.storage.clone();
    let probed = tokio::task::spawn_blocking(move || storage.probe())
        .await
        .unwrap_or_else(|e| Err(StorageError::Unavailable(Box::new(e))));
    let word = match &probed {
        Ok(()) => "ok",
        Err(StorageError::Unavailable(_)) => "unreachable",
        Err(_) => "refused",
    };
    if let Err(e) = &probed
        && starts_failing(&probes.is_storage_failing, true)
    {
        tracing::warn!(error = %error_chain(e), "Not ready: the storage probe failed");
    } else if probed.is_ok() {
        starts_failing(&probes.is_storage_failing, false);
    }
    *probes
        .storage
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), word));
    word
}

/// A 403 for a refused decision (there is none today: see
/// [`ability::health_check`]).
fn refused(decision: Decision) -> Option<Response> {
    match decision {
        Decision::Allowed(_) => None,
        Decision::Refused(_) => Some(plain(StatusCode::FORBIDDEN, "forbidden\n")),
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    (status, body)
        .with_content_type("text/plain; charset=utf-8")
        .with_header(header::CACHE_CONTROL, "no-store")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(found: i64) -> Result<SchemaCheck, StoreError> {
        Ok(SchemaCheck {
            found,
            expected: 10,
        })
    }

    fn words(r: &Readiness) -> [&'static str; 4] {
        [r.status, r.database, r.schema, r.storage]
    }

    #[test]
    fn each_failed_check_is_named_and_makes_it_not_ready() {
        let down = || Err(StoreError::Unavailable("gone".into()));
        let broken = || Err(StoreError::Backend("no table".into()));
        let full = || Err(StorageError::Backend("denied".into()));
        let silent = || Err(StorageError::Unavailable("timeout".into()));
        for (database, storage, expected) in [
            (schema(10), Ok(()), ["ready", "ok", "ok", "ok"]),
            (schema(9), Ok(()), ["not_ready", "ok", "behind", "ok"]),
            (schema(11), Ok(()), ["not_ready", "ok", "ahead", "ok"]),
            (
                down(),
                Ok(()),
                ["not_ready", "unreachable", "unknown", "ok"],
            ),
            (broken(), Ok(()), ["not_ready", "error", "unknown", "ok"]),
            (schema(10), full(), ["not_ready", "ok", "ok", "refused"]),
            (
                schema(10),
                silent(),
                ["not_ready", "ok", "ok", "unreachable"],
            ),
        ] {
            let storage = match storage {
                Ok(()) => "ok",
                Err(StorageError::Unavailable(_)) => "unreachable",
                Err(_) => "refused",
            };
            let report = Readiness::new(database, storage);
            assert_eq!(words(&report), expected);
            assert_eq!(report.is_ready(), expected[0] == "ready");
        }
    }
}
