//! The IMAP mailbox, on the `imap` crate (3.0 alpha, without its own TLS:
//! it gets our [`super::net`] stream, so time-outs and rustls are ours).
//!
//! Messages are named by UID together with the mailbox's UIDVALIDITY, so an
//! id stays meaningful across sessions and a mailbox that was recreated
//! (new UIDVALIDITY) is never mistaken for the old one.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{Context, anyhow, bail};

use super::mailbox::{Mailbox, MessageRef, ServerUrl};
use super::net::{Stream, is_loopback, printable, read_line_unbuffered};

/// Where [`Mailbox::move_aside`] puts messages.
const FAILED_FOLDER: &str = "failed";
/// UIDs per `UID FETCH` when listing sizes.
const FETCH_CHUNK: usize = 500;

/// A logged-in IMAP session with one mailbox selected.
pub(super) struct ImapMailbox {
    session: imap::Session<Stream>,
    uid_validity: u32,
    has_uidplus: bool,
    has_move: bool,
    has_failed_folder: bool,
}

impl ImapMailbox {
    /// Connects (TLS for `imaps`, STARTTLS for `imap` to another host),
    /// logs in and selects the mailbox.
    pub(super) fn open(url: &ServerUrl) -> anyhow::Result<ImapMailbox> {
        let context = || format!("IMAP {}:{}", url.host, url.port);
        let stream = connect(url).with_context(context)?;
        let mut client = imap::Client::new(stream);
        if url.is_tls || is_loopback(&url.host) {
            client.read_greeting().with_context(context)?;
        }
        let mut session = client
            .login(&url.user, &url.password)
            .map_err(|(e, _)| anyhow!("the server refused the login: {e}"))
            .with_context(context)?;
        let selected = session
            .select(&url.mailbox)
            .with_context(|| format!("{}: while selecting the mailbox", context()))?;
        let uid_validity = selected
            .uid_validity
            .ok_or_else(|| anyhow!("{}: the server sent no UIDVALIDITY", context()))?;
        let capabilities = session.capabilities().with_context(context)?;
        Ok(ImapMailbox {
            has_uidplus: capabilities.has_str("UIDPLUS"),
            has_move: capabilities.has_str("MOVE"),
            has_failed_folder: false,
            uid_validity,
            session,
        })
    }

    /// The UID in `message`, checked against this mailbox's UIDVALIDITY.
    fn uid(&self, message: &MessageRef) -> anyhow::Result<u32> {
        let (validity, uid) = message
            .id
            .split_once(':')
            .and_then(|(v, u)| Some((v.parse::<u32>().ok()?, u.parse::<u32>().ok()?)))
            .ok_or_else(|| anyhow!("`{}` is no IMAP message id", message.id))?;
        if validity != self.uid_validity {
            bail!(
                "message {} is from an earlier instance of the mailbox (UIDVALIDITY is now {})",
                message.id,
                self.uid_validity
            );
        }
        Ok(uid)
    }

    fn ensure_failed_folder(&mut self) -> anyhow::Result<()> {
        if self.has_failed_folder {
            return Ok(());
        }
        let names = self.session.list(None, Some(FAILED_FOLDER))?;
        if !names
            .iter()
            .any(|n| n.name().eq_ignore_ascii_case(FAILED_FOLDER))
        {
            self.session
                .create(FAILED_FOLDER)
                .context("while creating the failed folder")?;
        }
        self.has_failed_folder = true;
        Ok(())
    }

    fn sizes(&mut self, uids: &[u32]) -> anyhow::Result<HashMap<u32, u64>> {
        let mut sizes = HashMap::new();
        for chunk in uids.chunks(FETCH_CHUNK) {
            let set = uid_set(chunk);
            for fetch in self.session.uid_fetch(&set, "RFC822.SIZE")?.iter() {
                if let (Some(uid), Some(size)) = (fetch.uid, fetch.size) {
                    sizes.insert(uid, u64::from(size));
                }
            }
        }
        Ok(sizes)
    }
}

/// The TCP (and TLS) connection; for STARTTLS the greeting and the upgrade
/// are read here, before the client takes over the encrypted stream.
fn connect(url: &ServerUrl) -> anyhow::Result<Stream> {
    let mut stream = Stream::connect(&url.host, url.port)?;
    if url.is_tls {
        return stream.into_tls(&url.host);
    }
    if is_loopback(&url.host) {
        return Ok(stream);
    }
    let greeting = read_line_unbuffered(&mut stream, 64 * 1024)?;
    if !greeting.starts_with(b"* OK") {
        bail!("unexpected greeting `{}`", printable(&greeting));
    }
    stream.write_all(b"s1 STARTTLS\r\n")?;
    loop {
        let line = read_line_unbuffered(&mut stream, 64 * 1024)?;
        if line.starts_with(b"s1 OK") {
            return stream.into_tls(&url.host);
        }
        if line.starts_with(b"s1 ") {
            bail!("the server refused STARTTLS: `{}`", printable(&line));
        }
    }
}

/// `1,5,7` for the given UIDs.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Mailbox for ImapMailbox {
    fn list(&mut self) -> anyhow::Result<Vec<MessageRef>> {
        let mut uids: Vec<u32> = self
            .session
            .uid_search("UNDELETED")
            .context("while searching the mailbox")?
            .into_iter()
            .collect();
        uids.sort_unstable();
        let sizes = self.sizes(&uids).context("while reading message sizes")?;
        Ok(uids
            .into_iter()
            .map(|uid| MessageRef {
                id: format!("{}:{uid}", self.uid_validity),
                size_bytes: sizes.get(&uid).copied(),
            })
            .collect())
    }

    fn fetch(&mut self, message: &MessageRef) -> anyhow::Result<Vec<u8>> {
        let uid = self.uid(message)?;
        let fetches = self
            .session
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .with_context(|| format!("while fetching message {}", message.id))?;
        fetches
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec)
            .ok_or_else(|| anyhow!("message {} is no longer in the mailbox", message.id))
    }

    fn delete(&mut self, message: &MessageRef) -> anyhow::Result<()> {
        let uid = self.uid(message)?.to_string();
        self.session
            .uid_store(&uid, "+FLAGS.SILENT (\\Deleted)")
            .with_context(|| format!("while flagging message {} deleted", message.id))?;
        // Without UIDPLUS, EXPUNGE removes every message flagged \Deleted,
        // also those another client flagged: acceptable for a mailbox that
        // only the relay reads.
        if self.has_uidplus {
            self.session.uid_expunge(&uid)?;
        } else {
            self.session.expunge()?;
        }
        Ok(())
    }

    fn move_aside(&mut self, message: &MessageRef) -> anyhow::Result<()> {
        let uid = self.uid(message)?;
        self.ensure_failed_folder()?;
        if self.has_move {
            self.session
                .uid_mv(uid.to_string(), FAILED_FOLDER)
                .with_context(|| format!("while moving message {} aside", message.id))?;
            return Ok(());
        }
        self.session
            .uid_copy(uid.to_string(), FAILED_FOLDER)
            .with_context(|| format!("while copying message {} aside", message.id))?;
        self.delete(message)
    }

    fn close(mut self: Box<Self>) -> anyhow::Result<()> {
        self.session.logout().context("while logging out")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_comma_separated() {
        assert_eq!(uid_set(&[3, 5, 8]), "3,5,8");
        assert_eq!(uid_set(&[1]), "1");
    }
}
