//! Named crash points for the tests that kill a worker between two steps
//! of the list mail pipeline and check, after a restart, that nothing was
//! lost or sent twice.
//!
//! With `HITJOBS_CRASH_AT=<point>` in its environment, the process aborts
//! the first time it reaches that point, as abruptly as `kill -9`: no
//! destructors, no graceful stop, open connections dropped. Without the
//! variable a point costs one comparison with a value read once.

use std::sync::OnceLock;

/// The environment variable naming the point to crash at.
pub const CRASH_AT: &str = "HITJOBS_CRASH_AT";

/// Aborts the process if `HITJOBS_CRASH_AT` names `point`.
pub fn point(point: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| std::env::var(CRASH_AT).ok().filter(|v| !v.is_empty()));
    if at.as_deref() == Some(point) {
        tracing::warn!(
            crash.point = point,
            "Crashing on purpose at {point} ({CRASH_AT})"
        );
        std::process::abort();
    }
}
