//! What the processes report about themselves besides the log: errors to
//! Sentry (`SENTRY_DSN`) and metrics for Prometheus (`METRICS_ADDR`). The
//! worker and the web server read the same variables ([`TelemetryConfig`])
//! and start both the same way, so this module lives in the crate they
//! share; the metric names of both are in [`metrics`].
//!
//! Neither may carry personal data: events hold ids, route templates and
//! job kinds, never names, addresses, mail subjects, request bodies,
//! cookies or query strings (see docs/LOGGING.md, "Sentry"), and metric
//! labels hold only bounded values (docs/METRICS.md).

pub mod metrics;
pub mod sentry;
pub mod testing;

use std::fmt;
use std::net::SocketAddr;

pub use self::metrics::{QueueGauges, install_metrics};
pub use self::sentry::{SentryGuard, init_sentry};

/// `SENTRY_ENVIRONMENT` when it is unset.
pub const DEFAULT_ENVIRONMENT: &str = "development";

/// The release events are tagged with: the workspace version, which the
/// web server and the worker share.
pub const RELEASE: &str = concat!("hit@", env!("CARGO_PKG_VERSION"));

/// The telemetry variables, shared by the worker and the web server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `SENTRY_DSN`: where errors are sent, e.g.
    /// `https://<key>@o1.ingest.sentry.io/2`. Default: unset, nothing is
    /// sent. Masked in logs.
    pub sentry_dsn: Option<SentryDsn>,
    /// `SENTRY_ENVIRONMENT`: the environment events are tagged with.
    /// Default `development`.
    pub environment: String,
    /// The release events are tagged with: [`RELEASE`], not configurable.
    pub release: &'static str,
    /// `METRICS_ADDR`: the address of the Prometheus listener, e.g.
    /// `127.0.0.1:9184`, separate from the web server's port. Default:
    /// unset, no listener.
    pub metrics_addr: Option<SocketAddr>,
}

impl Default for TelemetryConfig {
    fn default() -> TelemetryConfig {
        TelemetryConfig {
            sentry_dsn: None,
            environment: DEFAULT_ENVIRONMENT.to_owned(),
            release: RELEASE,
            metrics_addr: None,
        }
    }
}

/// A telemetry variable that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct TelemetryConfigError {
    /// The variable, e.g. `METRICS_ADDR`.
    pub variable: &'static str,
    /// What was expected; a DSN's key is never repeated here.
    pub message: String,
}

impl TelemetryConfig {
    /// Reads the telemetry variables through `lookup` (the environment, or
    /// a map in tests); blank values count as unset.
    ///
    /// # Errors
    /// The first variable that cannot be used, named.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<TelemetryConfig, TelemetryConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let sentry_dsn = get("SENTRY_DSN").map(SentryDsn::parse).transpose()?;
        let environment = get("SENTRY_ENVIRONMENT").unwrap_or_else(|| DEFAULT_ENVIRONMENT.into());
        if environment.len() > 64 || environment.contains(['/', '\n', '\r']) {
            return Err(TelemetryConfigError {
                variable: "SENTRY_ENVIRONMENT",
                message: "expected a short name such as production, without slashes".to_owned(),
            });
        }
        let metrics_addr = match get("METRICS_ADDR") {
            None => None,
            Some(value) => Some(value.parse().map_err(|_| TelemetryConfigError {
                variable: "METRICS_ADDR",
                message: format!("expected an address such as 127.0.0.1:9184, got `{value}`"),
            })?),
        };
        Ok(TelemetryConfig {
            sentry_dsn,
            environment,
            release: RELEASE,
            metrics_addr,
        })
    }

    /// Logs the settings, the DSN's key masked.
    pub fn log(&self) {
        tracing::info!(
            sentry.dsn = %self
                .sentry_dsn
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string),
            sentry.environment = %self.environment,
            sentry.release = self.release,
            metrics_addr = %self
                .metrics_addr
                .map_or_else(|| "none".to_owned(), |a| a.to_string()),
            "Telemetry configuration loaded"
        );
    }
}

/// A Sentry DSN that parsed; `Debug` and `Display` mask its key.
#[derive(Clone, PartialEq, Eq)]
pub struct SentryDsn(String);

impl SentryDsn {
    /// Checks a DSN as the Sentry client will read it.
    ///
    /// # Errors
    /// When it does not parse, naming `SENTRY_DSN` (without its value,
    /// which holds the key).
    pub fn parse(value: String) -> Result<SentryDsn, TelemetryConfigError> {
        match value.parse::<::sentry::types::Dsn>() {
            Ok(_) => Ok(SentryDsn(value)),
            Err(e) => Err(TelemetryConfigError {
                variable: "SENTRY_DSN",
                message: format!(
                    "expected a DSN such as https://<key>@o1.ingest.sentry.io/2 ({e})"
                ),
            }),
        }
    }

    /// The DSN with its key, for the one place that sends.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SentryDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // scheme://key@host/project: everything before the `@` goes.
        match (self.0.split_once("://"), self.0.rsplit_once('@')) {
            (Some((scheme, _)), Some((_, rest))) => write!(f, "{scheme}://********@{rest}"),
            _ => f.write_str("********"),
        }
    }
}

impl fmt::Debug for SentryDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SentryDsn({self})")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<TelemetryConfig, TelemetryConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TelemetryConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_is_reported_by_default() {
        let c = config(&[]).expect("the defaults work");
        assert_eq!(c, TelemetryConfig::default());
        assert_eq!(c.environment, "development");
        assert!(c.release.starts_with("hit@"), "{}", c.release);
    }

    #[test]
    fn set_values_are_read() {
        let c = config(&[
            ("SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42"),
            ("SENTRY_ENVIRONMENT", "production"),
            ("METRICS_ADDR", "127.0.0.1:9184"),
        ])
        .expect("valid");
        assert_eq!(c.environment, "production");
        assert_eq!(
            c.metrics_addr,
            Some(SocketAddr::from(([127, 0, 0, 1], 9184)))
        );
        let dsn = c.sentry_dsn.expect("a DSN");
        assert_eq!(dsn.expose(), "https://abc123@o1.ingest.sentry.io/42");
    }

    #[test]
    fn the_dsn_key_is_masked_in_logs_and_debug_output() {
        let c =
            config(&[("SENTRY_DSN", "https://s3cretkey@o1.ingest.sentry.io/42")]).expect("valid");
        let dsn = c.sentry_dsn.clone().expect("a DSN");
        for shown in [format!("{c:?}"), dsn.to_string()] {
            assert!(!shown.contains("s3cretkey"), "{shown}");
        }
        assert_eq!(dsn.to_string(), "https://********@o1.ingest.sentry.io/42");
    }

    #[test]
    fn bad_values_name_their_variable_and_hide_the_key() {
        for (var, value) in [
            ("SENTRY_DSN", "not a dsn s3cretkey"),
            ("SENTRY_DSN", "https://o1.ingest.sentry.io/"),
            ("METRICS_ADDR", "localhost"),
            ("METRICS_ADDR", "127.0.0.1"),
            ("SENTRY_ENVIRONMENT", "a/b"),
        ] {
            let e = config(&[(var, value)]).expect_err(value);
            assert_eq!(e.variable, var);
            assert!(!e.to_string().contains("s3cretkey"), "{e}");
        }
    }
}
