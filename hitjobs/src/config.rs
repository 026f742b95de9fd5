//! The worker binary's configuration, read from the environment once at
//! start: the database, the organisation definition, the storage and the
//! root user, the same variables with the same defaults as the web
//! server's
//! (`hitweb::config`, which this crate cannot depend on: dependencies point
//! from hitweb to hitjobs). This is the only module of the crate that
//! reads the environment.
//!
//! Everything about how the worker runs is a command-line flag
//! ([`crate::cli`]), since it differs between the processes of one
//! deployment.

use std::path::PathBuf;

use hitcore::storage::{S3Credentials, StorageLocation};
use tracing_subscriber::EnvFilter;

/// The settings shared with the web server.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `DATABASE_URL`: a SQLite file (`sqlite://path`) or a PostgreSQL
    /// server (`postgres://user@host:port/db`). Default
    /// `sqlite://data/hitobito.sqlite3`, the web server's default.
    pub database_url: String,
    /// `HIT_ORG`: the organisation definition file. Default
    /// `examples/demo-federation.toml`, looked up in the current folder,
    /// then in the workspace root.
    pub org_file: PathBuf,
    /// `STORAGE_URL` (with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`
    /// for a bucket): where export files go. Default: the folder `storage`
    /// next to the SQLite file, as the web server has it.
    pub storage: StorageLocation,
    /// `HIT_ROOT_EMAIL`: the root user, who may do everything.
    pub root_email: Option<String>,
}

const DEFAULT_DATABASE_URL: &str = "sqlite://data/hitobito.sqlite3";
const DEFAULT_ORG: &str = "examples/demo-federation.toml";

impl Config {
    /// Reads the configuration from the environment.
    ///
    /// # Errors
    /// A storage setting that cannot be used, naming the variable.
    pub fn from_env() -> anyhow::Result<Config> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map
    /// in tests). Unset and blank values take the defaults; whether the
    /// database URL is usable is for [`hitcore::store::open`] to say.
    ///
    /// # Errors
    /// A storage setting that cannot be used, naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let org = get("HIT_ORG").unwrap_or_else(|| DEFAULT_ORG.to_owned());
        let storage = match get("STORAGE_URL") {
            None => StorageLocation::default_for(hitcore::store::sqlite_file(&database_url)),
            Some(url) => {
                let credentials = S3Credentials::from_values(
                    get("AWS_ACCESS_KEY_ID").as_deref(),
                    get("AWS_SECRET_ACCESS_KEY").as_deref(),
                )?;
                StorageLocation::parse(&url, credentials)?
            }
        };
        Ok(Config {
            storage,
            root_email: get("HIT_ROOT_EMAIL").map(|e| e.trim().to_owned()),
            org_file: hitcore::org::resolve_definition_path(&org),
            database_url,
        })
    }

    /// Logs the settings, the password in the URL masked.
    pub fn log(&self) {
        tracing::info!(
            database_url = %hitcore::store::redacted_url(&self.database_url),
            org_file = %self.org_file.display(),
            storage = %self.storage,
            root_email_set = self.root_email.is_some(),
            "Configuration loaded"
        );
    }
}

/// `RUST_LOG`, in `tracing_subscriber`'s filter syntax; default `info`. A
/// value that does not parse falls back to `info`, and the second value is
/// the warning to log.
pub fn log_filter() -> (EnvFilter, Option<String>) {
    let value = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let Some(value) = value else {
        return (EnvFilter::new("info"), None);
    };
    match EnvFilter::builder().parse(&value) {
        Ok(filter) => (filter, None),
        Err(e) => (
            EnvFilter::new("info"),
            Some(format!(
                "RUST_LOG={value}: {e}; logging at level info instead"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_web_servers() {
        let config = Config::from_lookup(|_| None).expect("the defaults work");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(config.org_file.ends_with(DEFAULT_ORG));
        assert!(config.org_file.exists(), "{}", config.org_file.display());
    }

    #[test]
    fn set_values_win_and_blank_ones_do_not() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://hit@db/hit".to_owned()),
            "HIT_ORG" => Some("  ".to_owned()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(config.database_url, "postgres://hit@db/hit");
        assert!(config.org_file.ends_with(DEFAULT_ORG));
    }
}
