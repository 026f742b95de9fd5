//! [`StorageLocation`]: where the files go, read from the value of
//! `STORAGE_URL` (and the S3 credentials) by [`StorageLocation::parse`].
//! The binaries read the environment; this module only checks values.

use std::fmt;
use std::path::PathBuf;

use super::StorageError;

/// The variable the storage URL comes from; every error about the URL
/// names it.
pub const STORAGE_URL: &str = "STORAGE_URL";

/// Where the storage keeps its files.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageLocation {
    /// A folder of the local file system (created when missing).
    Folder(PathBuf),
    /// An S3 bucket, on AWS or any S3-compatible server.
    S3(S3Location),
    /// Memory of this process, for tests: nothing survives the process,
    /// and two [`super::Storage::open`] calls get two separate stores.
    Memory,
}

/// A bucket and the prefix inside it, with what is needed to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// The folder inside the bucket, without leading or trailing `/`;
    /// empty for the whole bucket.
    pub prefix: String,
    /// The server, e.g. `http://127.0.0.1:5000`; none for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// None: the usual AWS chain (environment, profile, instance role) is
    /// asked, by the S3 client itself.
    pub credentials: Option<S3Credentials>,
}

/// An access key and its secret. `Debug` masks both, so neither can end
/// up in a log through the configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    access_key_id: String,
    secret_access_key: String,
}

impl S3Credentials {
    /// The credentials from the values of `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`: none when both are missing or blank.
    ///
    /// # Errors
    /// [`StorageError::Config`] naming the variable that is missing when
    /// only the other one is set.
    pub fn from_values(
        access_key_id: Option<&str>,
        secret_access_key: Option<&str>,
    ) -> Result<Option<S3Credentials>, StorageError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        match (given(access_key_id), given(secret_access_key)) {
            (None, None) => Ok(None),
            (Some(id), Some(secret)) => Ok(Some(S3Credentials {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
            })),
            (Some(_), None) => Err(config_error(
                "AWS_SECRET_ACCESS_KEY",
                "is needed together with AWS_ACCESS_KEY_ID",
            )),
            (None, Some(_)) => Err(config_error(
                "AWS_ACCESS_KEY_ID",
                "is needed together with AWS_SECRET_ACCESS_KEY",
            )),
        }
    }

    /// The access key id, for the S3 client only.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret, for the S3 client only.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("S3Credentials { access_key_id: \"****\", secret_access_key: \"****\" }")
    }
}

impl StorageLocation {
    /// Reads the value of `STORAGE_URL`:
    ///
    /// - `file:///var/lib/hit/storage`, or a plain path (relative to the
    ///   working folder): a folder;
    /// - `s3://bucket/prefix?region=eu-central-1`, optionally with
    ///   `&endpoint=http://127.0.0.1:5000` for an S3-compatible server
    ///   (addressed path-style: `endpoint/bucket/key`), and `credentials`
    ///   for it;
    /// - `memory:`, for tests.
    ///
    /// # Errors
    /// [`StorageError::Config`] naming `STORAGE_URL` and what is wrong:
    /// another scheme, no path or bucket, a bad bucket name or prefix, a
    /// missing region, an unknown parameter.
    pub fn parse(
        url: &str,
        credentials: Option<S3Credentials>,
    ) -> Result<StorageLocation, StorageError> {
        let url = url.trim();
        if url == "memory:" || url == "memory://" {
            return Ok(StorageLocation::Memory);
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return parse_s3(rest, credentials).map(StorageLocation::S3);
        }
        let path = match url.split_once("://") {
            Some(("file", path)) => path,
            Some((scheme, _)) => {
                return Err(url_error(format!(
                    "the scheme `{scheme}` is not known; expected a folder \
                     (file:///var/lib/hit/storage or a plain path), \
                     s3://bucket/prefix?region=... or memory:"
                )));
            }
            None => url,
        };
        if path.trim().is_empty() {
            return Err(url_error(
                "names no folder; expected e.g. file:///var/lib/hit/storage",
            ));
        }
        if path.contains('\0') {
            return Err(url_error("the folder name contains NUL"));
        }
        Ok(StorageLocation::Folder(PathBuf::from(path)))
    }

    /// The folder `storage` next to a SQLite database file (the
    /// development default), or `data/storage` without one.
    pub fn default_for(sqlite_file: Option<&std::path::Path>) -> StorageLocation {
        let parent = sqlite_file
            .and_then(std::path::Path::parent)
            .filter(|p| !p.as_os_str().is_empty());
        StorageLocation::Folder(match parent {
            Some(dir) => dir.join("storage"),
            None => PathBuf::from("data/storage"),
        })
    }
}

/// The URL without secrets (there are none in it: credentials come from
/// their own variables), for the start-up log.
impl fmt::Display for StorageLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageLocation::Folder(path) => write!(f, "folder {}", path.display()),
            StorageLocation::Memory => f.write_str("memory (nothing is kept)"),
            StorageLocation::S3(s3) => {
                write!(f, "s3://{}/{}?region={}", s3.bucket, s3.prefix, s3.region)?;
                if let Some(endpoint) = &s3.endpoint {
                    write!(f, "&endpoint={endpoint}")?;
                }
                let credentials = if s3.credentials.is_some() {
                    "given"
                } else {
                    "from the AWS chain"
                };
                write!(f, " (credentials {credentials})")
            }
        }
    }
}

fn parse_s3(rest: &str, credentials: Option<S3Credentials>) -> Result<S3Location, StorageError> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    check_bucket(bucket)?;
    let prefix = prefix.trim_matches('/');
    if !prefix.is_empty() {
        super::StorageKey::new(prefix)
            .map_err(|e| url_error(format!("the prefix `{prefix}` is refused: {e}")))?;
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| url_error("the parameters after `?` cannot be read"))?;
    let mut endpoint = None;
    let mut region = None;
    for (name, value) in pairs {
        match name.as_str() {
            "endpoint" => endpoint = Some(check_endpoint(&value)?),
            "region" if !value.trim().is_empty() => region = Some(value.trim().to_owned()),
            "region" => return Err(url_error("region= is empty")),
            other => {
                return Err(url_error(format!(
                    "the parameter `{other}` is not known; expected endpoint= and region="
                )));
            }
        }
    }
    let region = region.ok_or_else(|| {
        url_error("an s3:// URL needs region=, e.g. s3://bucket/prefix?region=eu-central-1")
    })?;
    Ok(S3Location {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        endpoint,
        region,
        credentials,
    })
}

/// S3's rules for bucket names, in short: 3 to 63 lower-case letters,
/// digits, `-` and `.`, starting and ending with a letter or digit.
fn check_bucket(bucket: &str) -> Result<(), StorageError> {
    let is_allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    let is_edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let bytes = bucket.as_bytes();
    let is_valid = (3..=63).contains(&bytes.len())
        && bytes.iter().copied().all(is_allowed)
        && is_edge(bytes.first())
        && is_edge(bytes.last());
    if is_valid {
        Ok(())
    } else {
        Err(url_error(format!(
            "`{}` is not a bucket name (3 to 63 lower-case letters, digits, '-' and '.')",
            bucket.escape_debug()
        )))
    }
}

fn check_endpoint(value: &str) -> Result<String, StorageError> {
    let value = value.trim().trim_end_matches('/');
    let host = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Ok(value.to_owned()),
        _ => Err(url_error(format!(
            "endpoint=`{}` is not an http:// or https:// address",
            value.escape_debug()
        ))),
    }
}

fn url_error(message: impl Into<String>) -> StorageError {
    config_error(STORAGE_URL, message)
}

fn config_error(variable: &'static str, message: impl Into<String>) -> StorageError {
    StorageError::Config {
        variable,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<StorageLocation, StorageError> {
        StorageLocation::parse(url, None)
    }

    #[test]
    fn folders_are_file_urls_or_plain_paths() {
        assert_eq!(
            parse("file:///var/lib/hit/storage").expect("valid"),
            StorageLocation::Folder(PathBuf::from("/var/lib/hit/storage"))
        );
        assert_eq!(
            parse("data/storage").expect("valid"),
            StorageLocation::Folder(PathBuf::from("data/storage"))
        );
        assert_eq!(parse("memory:").expect("valid"), StorageLocation::Memory);
    }

    #[test]
    fn s3_urls_give_bucket_prefix_endpoint_and_region() {
        let url = "s3://hit-ci/test-1/?endpoint=http://127.0.0.1:5000/&region=us-east-1";
        let StorageLocation::S3(s3) = parse(url).expect("valid") else {
            panic!("not S3");
        };
        assert_eq!(s3.bucket, "hit-ci");
        assert_eq!(s3.prefix, "test-1");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(s3.region, "us-east-1");
        let StorageLocation::S3(s3) = parse("s3://hit?region=eu-central-1").expect("valid") else {
            panic!("not S3");
        };
        assert_eq!((s3.prefix.as_str(), s3.endpoint), ("", None));
    }

    #[test]
    fn bad_urls_are_refused_naming_the_variable() {
        for (url, says) in [
            ("ftp://host/x", "scheme `ftp`"),
            ("file://", "names no folder"),
            ("", "names no folder"),
            ("s3://?region=x", "bucket name"),
            ("s3://Upper/x?region=x", "bucket name"),
            ("s3://ab?region=x", "bucket name"),
            ("s3://bucket/x", "needs region="),
            ("s3://bucket/x?region=", "region= is empty"),
            ("s3://bucket/../x?region=r", "prefix"),
            (
                "s3://bucket/x?region=r&endpoint=127.0.0.1:5000",
                "endpoint=",
            ),
            (
                "s3://bucket/x?region=r&bucket_style=virtual",
                "`bucket_style` is not known",
            ),
        ] {
            let err = parse(url).expect_err(url);
            let text = err.to_string();
            assert!(text.starts_with("STORAGE_URL: "), "{url}: {text}");
            assert!(text.contains(says), "{url}: {text}");
        }
    }

    #[test]
    fn credentials_come_in_pairs_and_never_show() {
        assert_eq!(
            S3Credentials::from_values(None, Some(" ")).expect("none"),
            None
        );
        let err = S3Credentials::from_values(Some("id"), None).expect_err("half");
        assert!(
            err.to_string().starts_with("AWS_SECRET_ACCESS_KEY: "),
            "{err}"
        );
        let err = S3Credentials::from_values(None, Some("secret")).expect_err("half");
        assert!(err.to_string().starts_with("AWS_ACCESS_KEY_ID: "), "{err}");

        let credentials = S3Credentials::from_values(Some("AKIDSECRETID"), Some("topsecret"))
            .expect("pair")
            .expect("given");
        let location =
            StorageLocation::parse("s3://bucket?region=r", Some(credentials)).expect("valid");
        for shown in [format!("{location:?}"), location.to_string()] {
            assert!(!shown.contains("topsecret"), "{shown}");
            assert!(!shown.contains("AKIDSECRETID"), "{shown}");
        }
    }

    #[test]
    fn the_default_folder_sits_next_to_the_database_file() {
        let file = std::path::Path::new("data/hitobito.sqlite3");
        assert_eq!(
            StorageLocation::default_for(Some(file)),
            StorageLocation::Folder(PathBuf::from("data/storage"))
        );
        assert_eq!(
            StorageLocation::default_for(Some(std::path::Path::new("hit.db"))),
            StorageLocation::Folder(PathBuf::from("data/storage"))
        );
        assert_eq!(
            StorageLocation::default_for(None),
            StorageLocation::Folder(PathBuf::from("data/storage"))
        );
    }
}
