//! The web server's configuration, read from environment variables once at
//! start and validated there. This is the only module that reads the
//! environment; everything else receives a [`Config`].
//!
//! `examples/hitweb.env` lists every variable with its default.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hitcore::storage::{S3Credentials, StorageError, StorageLocation};
use tracing_subscriber::EnvFilter;

/// A value that must not appear in logs; `Debug` and `Display` print a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"********\"")
    }
}

/// The deployment's secret key (`HIT_SECRET_KEY`): at least 32 random
/// bytes, written as hex (64 or more digits, `openssl rand -hex 32`). Every
/// use derives a key of its own from it ([`SecretKey::derive`]), so the
/// value itself never reaches a cookie or a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretKey(Secret);

/// The fewest bytes `HIT_SECRET_KEY` must hold.
pub const SECRET_KEY_BYTES: usize = 32;

impl SecretKey {
    /// Checks and wraps a hex key; `None` when it is not hex or shorter
    /// than [`SECRET_KEY_BYTES`].
    pub fn from_hex(value: &str) -> Option<SecretKey> {
        let value = value.trim();
        let is_hex = value.len().is_multiple_of(2) && value.bytes().all(|b| b.is_ascii_hexdigit());
        (is_hex && value.len() >= 2 * SECRET_KEY_BYTES)
            .then(|| SecretKey(Secret::new(value.to_ascii_lowercase())))
    }

    /// A 32-byte key for one `purpose` (`"hitweb csrf"`): the SHA-256 of
    /// the purpose and the key. Different purposes get unrelated keys, and
    /// none of them gives the secret away.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        key_from_hex(&hitcore::auth::token_hash(&format!(
            "{purpose}\n{}",
            self.0.expose()
        )))
    }
}

/// The first 32 bytes written in `hex` (64 hex digits, as SHA-256 digests
/// and `hitcore::auth::new_token` give them); missing or bad digits are 0.
pub fn key_from_hex(hex: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or_default();
    }
    key
}

/// The web server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: the database, a SQLite file (`sqlite://path`, the
    /// folder is created at start) or a PostgreSQL server
    /// (`postgres://user@host:port/db`). Default
    /// `sqlite://data/hitobito.sqlite3`.
    pub database_url: String,
    /// `HIT_ORG`: the organisation definition file. Default
    /// `examples/demo-federation.toml`, looked up in the current folder,
    /// then in the workspace root.
    pub org_file: PathBuf,
    /// `BIND_ADDR`: the address to listen on. Default `127.0.0.1:3000`.
    pub bind_addr: SocketAddr,
    /// `HIT_ADMIN_EMAIL`: the first administrator's login, used by the seed
    /// on first start. Default: the seed's own choice.
    pub admin_email: Option<String>,
    /// `HIT_ADMIN_PASSWORD`: the first administrator's password. Default:
    /// generated and printed once on the console.
    pub admin_password: Option<Secret>,
    /// `HIT_DEMO_PASSWORD`: the password of the other demo people. Default:
    /// none, so they cannot log in.
    pub demo_password: Option<Secret>,
    /// `HIT_ROOT_EMAIL`: the root user's email; root may do everything.
    /// Default: none.
    pub root_email: Option<String>,
    /// `HIT_SECURE_COOKIES`: whether cookies carry `Secure` (set it behind
    /// HTTPS). Default `false`.
    pub secure_cookies: bool,
    /// `HIT_SECRET_KEY`: the key the CSRF tokens are derived from, the
    /// same on every web process of a deployment (see [`SecretKey`]).
    /// Default: none, so each process makes a random one at start, and
    /// only that process accepts its tokens.
    pub secret_key: Option<SecretKey>,
    /// `STORAGE_URL`: where export files and person pictures are kept: a
    /// folder (`file:///var/lib/hit/storage` or a plain path, created at
    /// start) or an S3 bucket
    /// (`s3://bucket/prefix?region=eu-central-1`, plus
    /// `&endpoint=http://127.0.0.1:5000` for an S3-compatible server),
    /// whose credentials come from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (both unset: the AWS chain of profiles and
    /// instance roles). Default: the folder `storage` next to the SQLite
    /// file, `data/storage` for the default database.
    pub storage: StorageLocation,
    /// `HIT_EMBEDDED_WORKER`: whether this process also runs the jobs
    /// (exports, clean-ups) on a worker of its own. Default: yes on SQLite,
    /// so that one command runs everything in development; no on
    /// PostgreSQL, where separate `hitjobs` processes do.
    pub embedded_worker: bool,
    /// `MEMCACHE_SERVERS`: the memcached servers the web processes of a
    /// deployment share as their cache, separated by commas
    /// (`10.0.0.5:11211,10.0.0.6:11211`; the port defaults to 11211).
    /// Default: unset, so each process caches in its own memory.
    pub memcache_servers: Option<String>,
    /// The mail variables (`SMTP_URL`, `SENDMAIL`, `MAIL_FOLDER`,
    /// `MAIL_RETRIEVER_URL`, `MAIL_LIST_DOMAIN`, `MAIL_FROM`,
    /// `MAIL_BATCH_SIZE`), read by the worker's own type since the
    /// embedded worker uses them.
    pub mail: hitjobs::config::MailConfig,
    /// `SENTRY_DSN`, `SENTRY_ENVIRONMENT` and `METRICS_ADDR`, read by the
    /// worker's own type, which `hitjobs` processes read too. Default:
    /// neither Sentry nor a metrics listener.
    pub telemetry: hitjobs::telemetry::TelemetryConfig,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What was expected.
    pub message: String,
}

const DEFAULT_DATABASE_URL: &str = "sqlite://data/hitobito.sqlite3";
const DEFAULT_ORG: &str = "examples/demo-federation.toml";
const DEFAULT_BIND_ADDR: &str = "127.0.0.1:3000";

impl Config {
    /// Reads and validates the configuration from the environment.
    ///
    /// # Errors
    /// The first variable whose value cannot be used, with what was expected.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment in
    /// production, a map in tests).
    ///
    /// # Errors
    /// As for [`Config::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        check_database_url(&database_url)?;
        let org = get("HIT_ORG").unwrap_or_else(|| DEFAULT_ORG.to_owned());
        let bind = get("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.to_owned());
        let bind_addr = bind.parse().map_err(|_| ConfigError {
            variable: "BIND_ADDR",
            message: format!("expected an address such as 127.0.0.1:3000, got `{bind}`"),
        })?;
        let storage = storage_var(
            get("STORAGE_URL"),
            get("AWS_ACCESS_KEY_ID"),
            get("AWS_SECRET_ACCESS_KEY"),
            &database_url,
        )?;
        let embedded_worker = match get("HIT_EMBEDDED_WORKER") {
            None => !database_url.starts_with("postgres"),
            value => bool_var("HIT_EMBEDDED_WORKER", value)?,
        };
        let mail =
            hitjobs::config::MailConfig::from_lookup(&lookup, &database_url).map_err(|e| {
                ConfigError {
                    variable: e.variable,
                    message: format!("`{}`: {}", e.value, e.message),
                }
            })?;
        let memcache_servers = get("MEMCACHE_SERVERS");
        if let Some(servers) = &memcache_servers {
            hitcore::cache::parse_servers(servers).map_err(|e| match e {
                hitcore::cache::CacheError::Config { variable, message } => {
                    ConfigError { variable, message }
                }
                other => ConfigError {
                    variable: "MEMCACHE_SERVERS",
                    message: other.to_string(),
                },
            })?;
        }
        let telemetry =
            hitjobs::telemetry::TelemetryConfig::from_lookup(&lookup).map_err(|e| ConfigError {
                variable: e.variable,
                message: e.message,
            })?;
        Ok(Config {
            telemetry,
            memcache_servers,
            storage,
            embedded_worker,
            mail,
            database_url,
            org_file: hitcore::org::resolve_definition_path(&org),
            bind_addr,
            admin_email: email_var("HIT_ADMIN_EMAIL", get("HIT_ADMIN_EMAIL"))?,
            admin_password: password_var("HIT_ADMIN_PASSWORD", get("HIT_ADMIN_PASSWORD"))?,
            demo_password: password_var("HIT_DEMO_PASSWORD", get("HIT_DEMO_PASSWORD"))?,
            root_email: email_var("HIT_ROOT_EMAIL", get("HIT_ROOT_EMAIL"))?,
            secure_cookies: bool_var("HIT_SECURE_COOKIES", get("HIT_SECURE_COOKIES"))?,
            secret_key: secret_key_var(get("HIT_SECRET_KEY"))?,
        })
    }

    /// A configuration for tests: an in-memory style database URL that the
    /// tests replace, the demo organisation, no secrets.
    pub fn for_tests() -> Config {
        Config {
            database_url: "sqlite::memory:".to_owned(),
            org_file: hitcore::org::resolve_definition_path(DEFAULT_ORG),
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_email: None,
            admin_password: None,
            demo_password: None,
            root_email: None,
            secure_cookies: false,
            secret_key: None,
            storage: StorageLocation::Memory,
            embedded_worker: false,
            memcache_servers: None,
            mail: hitjobs::config::MailConfig::from_lookup(|_| None, "sqlite::memory:")
                .expect("the mail defaults are valid"),
            telemetry: hitjobs::telemetry::TelemetryConfig::default(),
        }
    }

    /// The file path inside a `sqlite://` URL, if it names a file.
    pub fn sqlite_path(&self) -> Option<&Path> {
        let rest = self.database_url.strip_prefix("sqlite://")?;
        let rest = rest.split('?').next().unwrap_or(rest);
        (!rest.is_empty() && rest != ":memory:").then(|| Path::new(rest))
    }

    /// Logs every setting, secrets masked.
    pub fn log(&self) {
        tracing::info!(
            database_url = %hitcore::store::redacted_url(&self.database_url),
            org_file = %self.org_file.display(),
            bind_addr = %self.bind_addr,
            admin_email_set = self.admin_email.is_some(),
            admin_password = ?self.admin_password,
            demo_password = ?self.demo_password,
            root_email_set = self.root_email.is_some(),
            secure_cookies = self.secure_cookies,
            secret_key = ?self.secret_key,
            storage = %self.storage,
            embedded_worker = self.embedded_worker,
            memcache_servers = self.memcache_servers.as_deref().unwrap_or("unset: in process memory"),
            "Configuration loaded"
        );
        self.mail.log();
        self.telemetry.log();
    }
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    const SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];
    let sqlite_path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"));
    if let Some(path) = sqlite_path {
        // SQLite would open an empty name as a new temporary database for
        // every connection: the data would vanish, and differ per request.
        let path = path.split('?').next().unwrap_or(path);
        if path.trim().is_empty() {
            return Err(ConfigError {
                variable: "DATABASE_URL",
                message: format!(
                    "`{url}` names no database file; expected a path such as \
                     sqlite://data/hitobito.sqlite3 (or sqlite::memory:)"
                ),
            });
        }
        Ok(())
    } else if SCHEMES.iter().any(|s| url.starts_with(s)) {
        Ok(())
    } else {
        Err(ConfigError {
            variable: "DATABASE_URL",
            message: format!(
                "expected a SQLite URL such as sqlite://data/hitobito.sqlite3 or a PostgreSQL \
                 URL such as postgres://user@127.0.0.1:5432/hitobito, got `{}`",
                hitcore::store::redacted_url(url)
            ),
        })
    }
}

/// The storage of `STORAGE_URL` with the S3 credentials; unset, the folder
/// `storage` next to the SQLite file of `database_url`.
fn storage_var(
    url: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    database_url: &str,
) -> Result<StorageLocation, ConfigError> {
    let from_storage = |e: StorageError| match e {
        StorageError::Config { variable, message } => ConfigError { variable, message },
        other => ConfigError {
            variable: "STORAGE_URL",
            message: other.to_string(),
        },
    };
    let Some(url) = url else {
        return Ok(StorageLocation::default_for(hitcore::store::sqlite_file(
            database_url,
        )));
    };
    let credentials =
        S3Credentials::from_values(access_key_id.as_deref(), secret_access_key.as_deref())
            .map_err(from_storage)?;
    StorageLocation::parse(&url, credentials).map_err(from_storage)
}

/// `RUST_LOG`: which log lines to write, in `tracing_subscriber`'s filter
/// syntax. Default `info`.
///
/// Read apart from [`Config`] because logging starts first. A value that
/// does not parse falls back to `info` too; the second value is then the
/// warning to log, naming the variable.
pub fn log_filter(value: Option<&str>) -> (EnvFilter, Option<String>) {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return (EnvFilter::new("info"), None);
    };
    match EnvFilter::builder().parse(value) {
        Ok(filter) => (filter, None),
        Err(e) => (
            EnvFilter::new("info"),
            Some(format!(
                "RUST_LOG={value}: {e}; logging at level info instead"
            )),
        ),
    }
}

/// The value of `RUST_LOG`, for [`log_filter`]; `None` when unset (or not
/// Unicode, which no filter is).
pub fn rust_log() -> Option<String> {
    std::env::var_os("RUST_LOG").map(|v| v.to_string_lossy().into_owned())
}

fn email_var(variable: &'static str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim().to_lowercase();
    let is_valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !value.contains(char::is_whitespace);
    if is_valid {
        Ok(Some(value))
    } else {
        Err(ConfigError {
            variable,
            message: "expected an email address such as admin@example.org".to_owned(),
        })
    }
}

fn password_var(
    variable: &'static str,
    value: Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let length = value.chars().count();
    if hitcore::auth::PASSWORD_LENGTH.contains(&length) {
        Ok(Some(Secret(value)))
    } else {
        Err(ConfigError {
            variable,
            message: format!("expected a password of 12 to 128 characters, got {length}"),
        })
    }
}

fn secret_key_var(value: Option<String>) -> Result<Option<SecretKey>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let refused = || ConfigError {
        variable: "HIT_SECRET_KEY",
        message: format!(
            "expected at least {SECRET_KEY_BYTES} bytes as hex ({} or more digits 0-9, a-f, \
             e.g. from `openssl rand -hex 32`), got {} characters",
            2 * SECRET_KEY_BYTES,
            value.trim().chars().count()
        ),
    };
    SecretKey::from_hex(&value).map(Some).ok_or_else(refused)
}

fn bool_var(variable: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError {
            variable,
            message: format!("expected true or false, got `{other}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind_addr.to_string(), DEFAULT_BIND_ADDR);
        assert!(!c.secure_cookies);
        assert!(c.org_file.ends_with(DEFAULT_ORG));
        assert_eq!(c.sqlite_path(), Some(Path::new("data/hitobito.sqlite3")));
        assert!(c.embedded_worker, "SQLite runs the jobs in the web process");
    }

    #[test]
    fn postgres_leaves_the_jobs_to_worker_processes_unless_asked() {
        let url = ("DATABASE_URL", "postgres://hit@127.0.0.1/hit");
        assert!(!config(&[url]).expect("valid").embedded_worker);
        let on = config(&[url, ("HIT_EMBEDDED_WORKER", "true")]).expect("valid");
        assert!(on.embedded_worker);
        let off = config(&[("HIT_EMBEDDED_WORKER", "0")]).expect("valid");
        assert!(!off.embedded_worker);
        assert!(config(&[("HIT_EMBEDDED_WORKER", "sometimes")]).is_err());
    }

    #[test]
    fn wrong_values_name_the_variable() {
        for (var, value) in [
            ("BIND_ADDR", "localhost"),
            ("HIT_SECURE_COOKIES", "maybe"),
            ("HIT_ADMIN_PASSWORD", "short"),
            ("HIT_ROOT_EMAIL", "not-an-email"),
            ("DATABASE_URL", "mysql://x"),
            ("MEMCACHE_SERVERS", "cache:port"),
            ("METRICS_ADDR", "localhost:metrics"),
            ("SENTRY_DSN", "no dsn"),
        ] {
            let err = config(&[(var, value)]).expect_err("invalid value");
            assert_eq!(err.variable, var);
        }
    }

    #[test]
    fn memcache_servers_are_kept_as_given_and_unset_by_default() {
        assert_eq!(config(&[]).expect("defaults").memcache_servers, None);
        let servers = "10.0.0.5:11211, 10.0.0.6";
        let c = config(&[("MEMCACHE_SERVERS", servers)]).expect("valid");
        assert_eq!(c.memcache_servers.as_deref(), Some(servers));
        let err = config(&[("MEMCACHE_SERVERS", "memcache://a:1,http://b")]).expect_err("bad");
        assert!(err.to_string().starts_with("MEMCACHE_SERVERS: "), "{err}");
        assert!(err.to_string().contains("http://b"), "{err}");
    }

    #[test]
    fn sqlite_url_without_a_path_is_refused() {
        for url in ["sqlite://", "sqlite:", "sqlite://?mode=rwc", "sqlite://  "] {
            let err = config(&[("DATABASE_URL", url)]).expect_err("no path");
            assert_eq!(err.variable, "DATABASE_URL");
            assert!(err.to_string().contains("names no database file"), "{err}");
        }
        for url in ["sqlite://data/x.sqlite3", "sqlite::memory:", "sqlite:x.db"] {
            assert!(config(&[("DATABASE_URL", url)]).is_ok(), "{url}");
        }
    }

    #[test]
    fn invalid_rust_log_falls_back_to_info_with_a_warning() {
        let (_, warning) = log_filter(Some("hitweb=loud"));
        let warning = warning.expect("a warning");
        assert!(warning.starts_with("RUST_LOG=hitweb=loud: "), "{warning}");
        for fine in [
            None,
            Some(""),
            Some("debug"),
            Some("hitweb=debug,poem=warn"),
        ] {
            assert!(log_filter(fine).1.is_none(), "{fine:?}");
        }
    }

    #[test]
    fn default_org_file_is_found_and_absolute() {
        let c = config(&[]).expect("defaults are valid");
        assert!(c.org_file.is_absolute(), "{}", c.org_file.display());
        assert!(c.org_file.exists());
    }

    #[test]
    fn postgres_urls_are_accepted() {
        for url in [
            "postgres://hit@127.0.0.1:5432/hit",
            "postgresql://hit@db/hit",
        ] {
            let c = config(&[("DATABASE_URL", url)]).expect("valid");
            assert_eq!(c.database_url, url);
            assert_eq!(c.sqlite_path(), None);
        }
    }

    #[test]
    fn storage_defaults_to_a_folder_next_to_the_database() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(
            c.storage,
            StorageLocation::Folder(PathBuf::from("data/storage"))
        );
        let c = config(&[("DATABASE_URL", "sqlite:///srv/hit/db.sqlite3")]).expect("valid");
        assert_eq!(
            c.storage,
            StorageLocation::Folder(PathBuf::from("/srv/hit/storage"))
        );
        let c = config(&[("STORAGE_URL", "file:///var/lib/hit/storage")]).expect("valid");
        assert_eq!(
            c.storage,
            StorageLocation::Folder(PathBuf::from("/var/lib/hit/storage"))
        );
    }

    #[test]
    fn bad_storage_settings_name_their_variable() {
        for (vars, variable) in [
            (vec![("STORAGE_URL", "ftp://x")], "STORAGE_URL"),
            (vec![("STORAGE_URL", "s3://bucket/x")], "STORAGE_URL"),
            (
                vec![
                    ("STORAGE_URL", "s3://bucket/x?region=us-east-1"),
                    ("AWS_ACCESS_KEY_ID", "id"),
                ],
                "AWS_SECRET_ACCESS_KEY",
            ),
        ] {
            let err = config(&vars).expect_err("invalid");
            assert_eq!(err.variable, variable, "{err}");
        }
    }

    #[test]
    fn s3_credentials_are_masked_in_debug_and_log_output() {
        let c = config(&[
            (
                "STORAGE_URL",
                "s3://bucket/x?region=us-east-1&endpoint=http://127.0.0.1:5000",
            ),
            ("AWS_ACCESS_KEY_ID", "AKIDNOTSHOWN"),
            ("AWS_SECRET_ACCESS_KEY", "secret-not-shown"),
        ])
        .expect("valid");
        for shown in [format!("{c:?}"), c.storage.to_string()] {
            assert!(!shown.contains("AKIDNOTSHOWN"), "{shown}");
            assert!(!shown.contains("secret-not-shown"), "{shown}");
        }
    }

    #[test]
    fn secret_key_is_hex_of_at_least_32_bytes_and_masked() {
        let hex = "0123456789abcdef".repeat(4);
        let c = config(&[("HIT_SECRET_KEY", &hex)]).expect("valid");
        let key = c.secret_key.clone().expect("set");
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
        assert_eq!(key.derive("a"), key.derive("a"));
        assert_ne!(key.derive("a"), key.derive("b"));
        let upper = config(&[("HIT_SECRET_KEY", &hex.to_uppercase())]).expect("valid");
        assert_eq!(upper.secret_key.expect("set").derive("a"), key.derive("a"));
        assert!(config(&[]).expect("valid").secret_key.is_none());
        for wrong in [&hex[..62], &format!("{}zz", &hex[..62]), "not hex at all"] {
            let err = config(&[("HIT_SECRET_KEY", wrong)]).expect_err("refused");
            assert_eq!(err.variable, "HIT_SECRET_KEY");
            assert!(!err.to_string().contains(wrong), "{err}");
        }
    }

    /// The names both binaries ask their lookup for, with a few settings
    /// that make them ask for more (the S3 pair, Sentry's environment).
    fn variables_read() -> (BTreeSet<String>, BTreeSet<String>) {
        let asked = RefCell::new(BTreeSet::new());
        let settings: [&[(&str, &str)]; 2] = [
            &[],
            &[
                ("STORAGE_URL", "s3://bucket/x?region=us-east-1"),
                ("AWS_ACCESS_KEY_ID", "id"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("SENTRY_DSN", "https://key@sentry.example.org/1"),
                ("MEMCACHE_SERVERS", "127.0.0.1:11211"),
            ],
        ];
        let (mut web, mut worker) = (BTreeSet::new(), BTreeSet::new());
        for values in settings {
            let lookup = |name: &str| {
                asked.borrow_mut().insert(name.to_owned());
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            let _ = Config::from_lookup(lookup);
            web.append(&mut asked.borrow_mut());
            let _ = hitjobs::config::Config::from_lookup(lookup);
            worker.append(&mut asked.borrow_mut());
        }
        // Read before the configuration, straight from the environment.
        web.insert("RUST_LOG".to_owned());
        worker.extend(["RUST_LOG".to_owned(), hitjobs::crash::CRASH_AT.to_owned()]);
        (web, worker)
    }

    #[test]
    fn every_variable_read_is_in_the_readme_table_and_the_env_example() {
        let readme = include_str!("../../README.md");
        let env_example = include_str!("../../examples/hitweb.env");
        let (web, worker) = variables_read();
        assert!(web.contains("HIT_SECRET_KEY") && worker.contains("SMTP_URL"));
        let in_table = |name: &str| {
            readme
                .lines()
                .filter(|l| l.starts_with("| `"))
                .filter_map(|l| l.split(" | ").next())
                .any(|first| first.contains(&format!("`{name}`")))
        };
        for name in web.iter().chain(&worker) {
            assert!(
                in_table(name),
                "README.md, Configuration: no row for {name}"
            );
        }
        for name in &web {
            assert!(
                env_example
                    .lines()
                    .any(|l| l.starts_with(&format!("{name}="))),
                "examples/hitweb.env: no line for {name}"
            );
        }
    }

    #[test]
    fn secrets_are_masked_in_debug_output() {
        let c = config(&[("HIT_ADMIN_PASSWORD", "a very secret password")]).expect("valid");
        assert!(!format!("{c:?}").contains("very secret"));
    }
}
