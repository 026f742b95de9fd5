//! The list mailbox the relay reads: the [`Mailbox`] trait, the URL that
//! picks an implementation ([`open_mailbox`]) and the folder mailbox for
//! development (`folder:///path`: every `*.eml` file is a message).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use anyhow::{Context, anyhow, bail};

use super::folder::is_message_name;
use super::{imap, pop3};

/// One session with a mailbox.
pub trait Mailbox: Send {
    /// Messages waiting, oldest first.
    ///
    /// # Errors
    /// The server failed or answered something unexpected.
    fn list(&mut self) -> anyhow::Result<Vec<MessageRef>>;

    /// The raw bytes of a message, exactly as stored.
    ///
    /// # Errors
    /// The message is gone, or the server failed.
    fn fetch(&mut self, message: &MessageRef) -> anyhow::Result<Vec<u8>>;

    /// Removes the message for good (IMAP: `\Deleted` then `UID EXPUNGE`,
    /// or `EXPUNGE` without UIDPLUS; POP3: `DELE`, effective at
    /// [`Mailbox::close`]; folder: remove the file).
    ///
    /// # Errors
    /// The server failed.
    fn delete(&mut self, message: &MessageRef) -> anyhow::Result<()>;

    /// Moves the message out of the way: IMAP folder `failed` (created when
    /// missing); folder: into `failed/`. POP3 cannot, so it deletes (the
    /// caller keeps a copy in the database first).
    ///
    /// # Errors
    /// The server failed.
    fn move_aside(&mut self, message: &MessageRef) -> anyhow::Result<()>;

    /// Ends the session cleanly (POP3 `QUIT` commits the deletions; a POP3
    /// session dropped without it deletes nothing).
    ///
    /// # Errors
    /// The server failed.
    fn close(self: Box<Self>) -> anyhow::Result<()>;
}

/// A message in a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageRef {
    /// Stable across sessions: IMAP `<uidvalidity>:<uid>`, POP3 the UIDL,
    /// folder the file name.
    pub id: String,
    /// The size the server reports, if it does.
    pub size_bytes: Option<u64>,
}

/// Where a mailbox is, from `MAIL_RETRIEVER_URL`.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct ServerUrl {
    pub is_tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// IMAP only: the mailbox name, default `INBOX`.
    pub mailbox: String,
}

/// Opens a session with the mailbox `url` names: `imap://`, `imaps://`,
/// `pop3://`, `pop3s://` with `user:password@host[:port]` (percent-encode
/// an `@` in the user as `%40`) and, for IMAP, the mailbox as the path
/// (default `INBOX`); or `folder:///path`. Plain `imap://` and `pop3://`
/// to another host upgrade with STARTTLS/STLS and refuse a server that
/// cannot; to this host they stay plain.
///
/// # Errors
/// A URL that cannot be used (the message never contains the password), a
/// server that cannot be reached or refuses the login.
pub fn open_mailbox(url: &str) -> anyhow::Result<Box<dyn Mailbox>> {
    let shown = hitcore::store::redacted_url(url);
    if let Some(folder) = folder_of(url) {
        let path = folder.map_err(|e| anyhow!("{shown}: {e}"))?;
        return Ok(Box::new(FolderMailbox::open(path)?));
    }
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    let server = parse_server_url(url).map_err(|e| anyhow!("{shown}: {e}"))?;
    let opened: Box<dyn Mailbox> = match scheme {
        "imap" | "imaps" => Box::new(imap::ImapMailbox::open(&server)?),
        _ => Box::new(pop3::Pop3Mailbox::open(&server)?),
    };
    Ok(opened)
}

/// The folder a `folder:` URL names, `None` for other schemes: an
/// absolute path (`folder:///var/mail/lists`, percent-encoding decoded),
/// without host, query or fragment, that is a folder if it exists.
pub(crate) fn folder_of(value: &str) -> Option<Result<PathBuf, String>> {
    let (scheme, _) = value.trim().split_once(':')?;
    if !scheme.eq_ignore_ascii_case("folder") {
        return None;
    }
    const EXAMPLE: &str = "e.g. folder:///var/mail/lists, three slashes in all";
    let parsed = url::Url::parse(value.trim()).map_err(|e| format!("not a URL ({e})"));
    Some(parsed.and_then(|url| {
        if url.host_str().is_some_and(|h| !h.is_empty()) || !value.contains(":///") {
            return Err(format!("a folder URL needs an absolute path, {EXAMPLE}"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("a folder URL has only a path, {EXAMPLE}"));
        }
        let path = percent_encoding::percent_decode_str(url.path())
            .decode_utf8()
            .map_err(|_| "the folder's path is not UTF-8".to_owned())?;
        if path == "/" || path.is_empty() {
            return Err(format!("a folder URL needs a path, {EXAMPLE}"));
        }
        let path = PathBuf::from(path.as_ref());
        if path.exists() && !path.is_dir() {
            return Err(format!("{} is a file, not a folder", path.display()));
        }
        Ok(path)
    }))
}

pub(super) fn parse_server_url(value: &str) -> Result<ServerUrl, String> {
    let url = url::Url::parse(value.trim()).map_err(|e| format!("not a URL ({e})"))?;
    let (is_tls, port, is_imap) = match url.scheme() {
        "imap" => (false, 143, true),
        "imaps" => (true, 993, true),
        "pop3" => (false, 110, false),
        "pop3s" => (true, 995, false),
        other => {
            return Err(format!(
                "expected imap, imaps, pop3, pop3s or folder, got {other}"
            ));
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let decode = |v: &str| {
        percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| "user, password or mailbox is not UTF-8 once decoded".to_owned())
    };
    let user = decode(url.username())?;
    let password = decode(url.password().unwrap_or_default())?;
    if user.is_empty() || password.is_empty() {
        return Err("expected user:password@ before the host".to_owned());
    }
    let path = decode(url.path().trim_start_matches('/'))?;
    if !is_imap && !path.is_empty() {
        return Err("POP3 has one mailbox: expected no path".to_owned());
    }
    Ok(ServerUrl {
        is_tls,
        port: url.port().unwrap_or(port),
        host,
        user,
        password,
        mailbox: if path.is_empty() {
            "INBOX".to_owned()
        } else {
            path
        },
    })
}

/// A folder of `.eml` files; oldest first by modification time, then name.
/// Messages moved aside go to its `failed/` subfolder.
///
/// Limitations: a file still being written is read as it stands (the
/// README says to `mv` files in). Maildir's `tmp/` and `new/` would solve
/// it, at the price of a layout a developer cannot simply drop files into.
struct FolderMailbox {
    dir: PathBuf,
}

impl FolderMailbox {
    fn open(dir: PathBuf) -> anyhow::Result<FolderMailbox> {
        if !dir.is_dir() {
            fs::create_dir_all(&dir)
                .with_context(|| format!("while creating {}", dir.display()))?;
            // Said once, so that a mistyped path shows in the log rather
            // than as a folder nobody ever writes to.
            tracing::info!(
                mail.file = %dir.display(),
                "Created the list mail folder {}; messages are the .eml files put into it",
                dir.display()
            );
        }
        Ok(FolderMailbox { dir })
    }

    fn path_of(&self, message: &MessageRef) -> anyhow::Result<PathBuf> {
        if !is_message_name(&message.id) {
            bail!("not a message file name");
        }
        Ok(self.dir.join(&message.id))
    }
}

/// Tells the developer, once per file and process, that a file in the
/// folder is not taken as a message (hidden files, such as an editor's,
/// are skipped silently).
fn warn_skipped_once(path: &Path) {
    static WARNED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    let is_hidden = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    let mut warned = WARNED.lock().unwrap_or_else(PoisonError::into_inner);
    if !is_hidden && warned.insert(path.to_owned()) {
        tracing::warn!(
            mail.file = %path.display(),
            "Skipping {} in the list mail folder: only files ending in .eml are messages",
            path.display()
        );
    }
}

impl Mailbox for FolderMailbox {
    fn list(&mut self) -> anyhow::Result<Vec<MessageRef>> {
        let mut found: Vec<(SystemTime, MessageRef)> = Vec::new();
        let entries = fs::read_dir(&self.dir)
            .with_context(|| format!("while listing {}", self.dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let id = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata()?;
            if !meta.is_file() {
                continue;
            }
            if !is_message_name(&id) {
                warn_skipped_once(&self.dir.join(&id));
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((
                modified,
                MessageRef {
                    id,
                    size_bytes: Some(meta.len()),
                },
            ));
        }
        found.sort_by(|(ta, a), (tb, b)| ta.cmp(tb).then_with(|| a.id.cmp(&b.id)));
        Ok(found.into_iter().map(|(_, m)| m).collect())
    }

    fn fetch(&mut self, message: &MessageRef) -> anyhow::Result<Vec<u8>> {
        let path = self.path_of(message)?;
        fs::read(&path).with_context(|| format!("while reading {}", message.id))
    }

    fn delete(&mut self, message: &MessageRef) -> anyhow::Result<()> {
        let path = self.path_of(message)?;
        fs::remove_file(&path).with_context(|| format!("while removing {}", message.id))
    }

    fn move_aside(&mut self, message: &MessageRef) -> anyhow::Result<()> {
        let path = self.path_of(message)?;
        let failed = self.dir.join("failed");
        fs::create_dir_all(&failed).context("while creating the failed folder")?;
        fs::rename(&path, failed.join(&message.id))
            .with_context(|| format!("while moving {} aside", message.id))
    }

    fn close(self: Box<Self>) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_decoded_with_their_defaults() {
        let url = parse_server_url("imap://catchall%40lists.example.test:te%2Fst@127.0.0.1")
            .expect("valid");
        assert_eq!(url.user, "catchall@lists.example.test");
        assert_eq!(url.password, "te/st");
        assert_eq!(
            (url.port, url.mailbox.as_str(), url.is_tls),
            (143, "INBOX", false)
        );
        let url = parse_server_url("imaps://u:p@mail.example.org/Lists%20In").expect("valid");
        assert_eq!(
            (url.port, url.mailbox.as_str(), url.is_tls),
            (993, "Lists In", true)
        );
        assert_eq!(parse_server_url("pop3s://u:p@h").expect("valid").port, 995);
    }

    #[test]
    fn folder_urls_name_an_absolute_folder() {
        let folder = |url: &str| folder_of(url).expect("a folder URL");
        assert_eq!(
            folder("folder:///tmp/lists"),
            Ok(PathBuf::from("/tmp/lists"))
        );
        assert_eq!(
            folder("FOLDER:///tmp/my%20lists"),
            Ok(PathBuf::from("/tmp/my lists"))
        );
        for bad in [
            "folder://",
            "folder:///",
            "folder://relative/dir",
            "folder:relative",
            "folder:/tmp/lists",
            "folder:///tmp/lists?x=1",
            "folder:///tmp/lists#x",
            "folder:///etc/passwd",
        ] {
            assert!(folder(bad).is_err(), "{bad}");
        }
        assert!(folder_of("imap://u:p@h").is_none());
    }

    #[test]
    fn unusable_server_urls_are_refused_without_the_password() {
        for url in [
            "smtp://u:p@h",
            "imap://h",
            "imap://u@h",
            "pop3://u:p@h/INBOX",
            "x",
        ] {
            assert!(parse_server_url(url).is_err(), "{url}");
        }
        let Err(e) = open_mailbox("ftp://ann:s3cret@h") else {
            panic!("an ftp URL opened");
        };
        assert!(!format!("{e:#}").contains("s3cret"), "{e:#}");
    }
}
