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
//!
//! The mail settings ([`MailConfig`]) are read here for the web server too,
//! whose embedded worker sends and fetches the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hitcore::storage::{S3Credentials, StorageLocation};
use tracing_subscriber::EnvFilter;

use crate::mail::{
    FolderMailer, MailSettings, Mailer, SecretUrl, SendmailMailer, SmtpMailer, SmtpUrl,
};
use crate::telemetry::TelemetryConfig;

/// The most envelope recipients per SMTP transaction: Postfix's default
/// `smtpd_recipient_limit`. Beyond it Postfix defers the excess (452) and,
/// past twice the limit, drops the connection, so a larger batch could
/// never go out.
const MAX_BATCH_SIZE: usize = 1_000;

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
    /// How mail goes out and where the list mailbox is.
    pub mail: MailConfig,
    /// Errors to Sentry and metrics for Prometheus (`SENTRY_DSN`,
    /// `SENTRY_ENVIRONMENT`, `METRICS_ADDR`); by default neither.
    pub telemetry: TelemetryConfig,
}

const DEFAULT_DATABASE_URL: &str = "sqlite://data/hitobito.sqlite3";
const DEFAULT_ORG: &str = "examples/demo-federation.toml";

impl Config {
    /// Reads the configuration from the environment.
    ///
    /// # Errors
    /// A storage, mail or telemetry setting that cannot be used, naming
    /// the variable.
    pub fn from_env() -> anyhow::Result<Config> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map
    /// in tests). Unset and blank values take the defaults; whether the
    /// database URL is usable is for [`hitcore::store::open`] to say.
    ///
    /// # Errors
    /// A storage, mail or telemetry setting that cannot be used, naming
    /// the variable.
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
        let mail = MailConfig::from_lookup(&lookup, &database_url)?;
        let telemetry = TelemetryConfig::from_lookup(&lookup)?;
        Ok(Config {
            storage,
            mail,
            telemetry,
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
        self.mail.log();
        self.telemetry.log();
    }
}

/// Where outgoing mail goes: the first of `SMTP_URL`, `SENDMAIL` and
/// `MAIL_FOLDER` that is set, the folder by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// `SMTP_URL`: `smtp://[user:password@]host[:port]` (STARTTLS required,
    /// except to this host, where plain is allowed; port 587, 25 on this
    /// host) or `smtps://` (TLS, port 465).
    Smtp(SmtpUrl),
    /// `SENDMAIL`: the path of a sendmail binary.
    Sendmail(PathBuf),
    /// `MAIL_FOLDER`: one `.eml` file per message, for development.
    /// Default: `mail/outbox` next to the SQLite database, or
    /// `./mail/outbox`.
    Folder(PathBuf),
}

/// The mail variables, shared by the worker and the web server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// How mail goes out.
    pub transport: MailTransport,
    /// `MAIL_LIST_DOMAIN` (default `lists.localhost`), `MAIL_FROM`
    /// (default `noreply@localhost`), `MAIL_BATCH_SIZE` (envelope
    /// recipients per SMTP transaction, default 50) and
    /// `MAIL_RETRIEVER_URL` (`imap://`, `imaps://`, `pop3://`, `pop3s://`
    /// or `folder:///path`; unset: no mailbox is read); `HIT_BASE_URL`
    /// (the site's address for links in mails, default
    /// `http://127.0.0.1:3000`); `MAIL_SMTP_SESSIONS` (transactions at
    /// once per list message, default 4) and `MAIL_RETRIEVE_SECS` (how
    /// often the list mailbox is read, default 60).
    pub settings: MailSettings,
}

/// A mail variable that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}={value}: {message}")]
pub struct MailConfigError {
    /// The variable, e.g. `SMTP_URL`.
    pub variable: &'static str,
    /// Its value, passwords masked.
    pub value: String,
    /// What was expected.
    pub message: String,
}

impl MailConfig {
    /// Reads the mail variables through `lookup`; blank values count as
    /// unset. `database_url` places the default mail folder.
    ///
    /// # Errors
    /// The first variable that cannot be used, named.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        database_url: &str,
    ) -> Result<MailConfig, MailConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let fail = |variable: &'static str, value: &str, message: String| MailConfigError {
            variable,
            value: hitcore::store::redacted_url(value),
            message,
        };
        let transport = if let Some(url) = get("SMTP_URL") {
            MailTransport::Smtp(SmtpUrl::parse(&url).map_err(|m| fail("SMTP_URL", &url, m))?)
        } else if let Some(path) = get("SENDMAIL") {
            MailTransport::Sendmail(PathBuf::from(path))
        } else {
            MailTransport::Folder(
                get("MAIL_FOLDER")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| default_mail_folder(database_url)),
            )
        };
        let batch_size = match get("MAIL_BATCH_SIZE") {
            None => MailSettings::default().batch_size,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_BATCH_SIZE).contains(n))
                .ok_or_else(|| {
                    fail(
                        "MAIL_BATCH_SIZE",
                        &v,
                        format!("expected 1 to {MAX_BATCH_SIZE}"),
                    )
                })?,
        };
        let retriever_url = match get("MAIL_RETRIEVER_URL") {
            None => None,
            Some(url) => {
                check_retriever_url(&url).map_err(|m| fail("MAIL_RETRIEVER_URL", &url, m))?;
                Some(SecretUrl::new(url))
            }
        };
        let defaults = MailSettings::default();
        let list_domain = get("MAIL_LIST_DOMAIN")
            .map(|d| d.to_ascii_lowercase())
            .unwrap_or(defaults.list_domain);
        if list_domain.contains(['@', ' ', '/']) || !list_domain.contains('.') {
            return Err(fail(
                "MAIL_LIST_DOMAIN",
                &list_domain,
                "expected a domain such as lists.example.org".to_owned(),
            ));
        }
        let from = get("MAIL_FROM").unwrap_or(defaults.from);
        if from.parse::<lettre::Address>().is_err() {
            return Err(fail(
                "MAIL_FROM",
                &from,
                "expected an address such as noreply@example.org".to_owned(),
            ));
        }
        let base_url = get("HIT_BASE_URL")
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or(defaults.base_url);
        if !(base_url.starts_with("http://") || base_url.starts_with("https://"))
            || base_url.contains(char::is_whitespace)
        {
            return Err(fail(
                "HIT_BASE_URL",
                &base_url,
                "expected an address such as https://db.example.org".to_owned(),
            ));
        }
        let number = |name: &'static str, range: std::ops::RangeInclusive<u64>, default: u64| {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        fail(
                            name,
                            &v,
                            format!("expected {} to {}", range.start(), range.end()),
                        )
                    }),
            }
        };
        let smtp_sessions = number("MAIL_SMTP_SESSIONS", 1..=64, defaults.smtp_sessions as u64)?;
        let retrieve_secs = number(
            "MAIL_RETRIEVE_SECS",
            5..=3600,
            defaults.retrieve_every.as_secs(),
        )?;
        Ok(MailConfig {
            transport,
            settings: MailSettings {
                list_domain,
                from,
                batch_size,
                retriever_url,
                base_url,
                smtp_sessions: usize::try_from(smtp_sessions).unwrap_or(1),
                retrieve_every: std::time::Duration::from_secs(retrieve_secs),
            },
        })
    }

    /// The development folder of the folder transport, if that is the one
    /// configured (the `/dev/mails` page shows it only then).
    pub fn mail_folder(&self) -> Option<&Path> {
        match &self.transport {
            MailTransport::Folder(dir) => Some(dir),
            _ => None,
        }
    }

    /// The configured transport, ready to send; nothing connects yet.
    pub fn mailer(&self) -> Arc<dyn Mailer> {
        match &self.transport {
            MailTransport::Smtp(url) => Arc::new(SmtpMailer::new(url.clone())),
            MailTransport::Sendmail(path) => Arc::new(SendmailMailer::new(path.clone())),
            MailTransport::Folder(dir) => Arc::new(FolderMailer::new(dir.clone())),
        }
    }

    /// Logs the mail settings, passwords masked.
    pub fn log(&self) {
        let transport = match &self.transport {
            MailTransport::Smtp(url) => url.to_string(),
            MailTransport::Sendmail(path) => format!("sendmail {}", path.display()),
            MailTransport::Folder(dir) => format!("folder {}", dir.display()),
        };
        tracing::info!(
            mail.transport = %transport,
            mail.list_domain = %self.settings.list_domain,
            mail.from = %self.settings.from,
            mail.batch_size = self.settings.batch_size,
            mail.smtp_sessions = self.settings.smtp_sessions,
            mail.retriever = %self
                .settings
                .retriever_url
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string),
            mail.retrieve_secs = self.settings.retrieve_every.as_secs(),
            base_url = %self.settings.base_url,
            "Mail configuration loaded"
        );
    }
}

/// `mail/outbox` next to the SQLite file, else in the current folder.
fn default_mail_folder(database_url: &str) -> PathBuf {
    let base = hitcore::store::sqlite_file(database_url)
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    base.join("mail").join("outbox")
}

/// Whether [`crate::mail::open_mailbox`] could use the URL, without
/// connecting.
fn check_retriever_url(url: &str) -> Result<(), String> {
    match crate::mail::folder_of(url) {
        Some(folder) => folder.map(|_| ()),
        None => crate::mail::check_server_url(url),
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

    fn mail(vars: &[(&str, &str)]) -> Result<MailConfig, MailConfigError> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        MailConfig::from_lookup(|name| vars.get(name).cloned(), "sqlite://data/hit.sqlite3")
    }

    #[test]
    fn mail_defaults_to_a_folder_next_to_the_database() {
        let config = mail(&[]).expect("the defaults work");
        assert_eq!(
            config.transport,
            MailTransport::Folder(PathBuf::from("data/mail/outbox"))
        );
        assert_eq!(config.settings, MailSettings::default());
        let elsewhere = MailConfig::from_lookup(|_| None, "postgres://db/hit").expect("valid");
        assert_eq!(elsewhere.mail_folder(), Some(Path::new("./mail/outbox")));
    }

    #[test]
    fn smtp_wins_over_sendmail_and_sendmail_over_the_folder() {
        let all = [
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("SENDMAIL", "/usr/sbin/sendmail"),
            ("MAIL_FOLDER", "/tmp/m"),
        ];
        assert!(matches!(
            mail(&all).expect("valid").transport,
            MailTransport::Smtp(_)
        ));
        assert_eq!(
            mail(&all[1..]).expect("valid").transport,
            MailTransport::Sendmail(PathBuf::from("/usr/sbin/sendmail"))
        );
        assert_eq!(
            mail(&all[2..]).expect("valid").mail_folder(),
            Some(Path::new("/tmp/m"))
        );
    }

    #[test]
    fn bad_mail_values_name_the_variable_and_hide_passwords() {
        for (var, value) in [
            ("SMTP_URL", "imap://u:s3cret@h"),
            ("MAIL_BATCH_SIZE", "0"),
            ("MAIL_BATCH_SIZE", "1001"),
            ("MAIL_RETRIEVER_URL", "imap://u:s3cret@h:notaport"),
            ("MAIL_RETRIEVER_URL", "folder://"),
            ("MAIL_RETRIEVER_URL", "folder://tmp/lists"),
            ("MAIL_LIST_DOMAIN", "not a domain"),
            ("MAIL_FROM", "nobody"),
        ] {
            let e = mail(&[(var, value)]).expect_err(value);
            assert_eq!(e.variable, var);
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn mail_settings_are_read() {
        let config = mail(&[
            ("MAIL_LIST_DOMAIN", "Lists.Example.Test"),
            ("MAIL_FROM", "noreply@example.test"),
            ("MAIL_BATCH_SIZE", "200"),
            (
                "MAIL_RETRIEVER_URL",
                "imap://catchall%40lists.example.test:test@127.0.0.1:143",
            ),
        ])
        .expect("valid");
        assert_eq!(config.settings.list_domain, "lists.example.test");
        assert_eq!(config.settings.from, "noreply@example.test");
        assert_eq!(config.settings.batch_size, 200);
        assert!(config.settings.retriever_url.is_some());
    }
}
