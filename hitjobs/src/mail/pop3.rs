//! The POP3 mailbox (RFC 1939, STLS from RFC 2595): a small client of our
//! own on the [`super::net`] stream.
//!
//! Why not a crate: the maintained one (`rust-pop3-client` 0.3, rustls)
//! decodes every line as UTF-8 and joins them with LF, so an 8-bit message
//! is refused and no message comes back byte for byte; it connects without
//! time-outs, and its `Drop` sends `QUIT`, which commits pending `DELE`s
//! even on an error path. The others are unmaintained and use OpenSSL
//! (`pop3`, `rs-pop3`) or are async with native-tls (`async-pop`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};

use anyhow::{Context, anyhow, bail};

use super::mailbox::{Mailbox, MessageRef, ServerUrl};
use super::net::{Stream, is_loopback, printable, read_line_unbuffered};

/// The longest status line we wait for.
const MAX_LINE: usize = 64 * 1024;
/// The largest message we read into memory.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// A POP3 session on the maildrop of one user.
pub(super) struct Pop3Mailbox {
    stream: BufReader<Stream>,
    /// UIDL -> message number in this session, from the last `list`.
    numbers: HashMap<String, u32>,
}

impl Pop3Mailbox {
    /// Connects (TLS for `pop3s`, STLS for `pop3` to another host) and logs
    /// in with `USER`/`PASS`.
    pub(super) fn open(url: &ServerUrl) -> anyhow::Result<Pop3Mailbox> {
        let mut stream = Stream::connect(&url.host, url.port)?;
        let context = || format!("POP3 {}:{}", url.host, url.port);
        if url.is_tls {
            stream = stream.into_tls(&url.host)?;
        } else if !is_loopback(&url.host) {
            status(&read_line_unbuffered(&mut stream, MAX_LINE)?).with_context(context)?;
            stream.write_all(b"STLS\r\n")?;
            status(&read_line_unbuffered(&mut stream, MAX_LINE)?)
                .with_context(|| format!("{}: the server refused STLS", context()))?;
            let mut session = Pop3Mailbox {
                stream: BufReader::new(stream.into_tls(&url.host)?),
                numbers: HashMap::new(),
            };
            session.login(url).with_context(context)?;
            return Ok(session);
        }
        let mut session = Pop3Mailbox {
            stream: BufReader::new(stream),
            numbers: HashMap::new(),
        };
        session.read_status().with_context(context)?;
        session.login(url).with_context(context)?;
        Ok(session)
    }

    fn login(&mut self, url: &ServerUrl) -> anyhow::Result<()> {
        if [&url.user, &url.password]
            .iter()
            .any(|v| v.contains(['\r', '\n', '\0']))
        {
            bail!("user or password contains a line break");
        }
        self.command(&format!("USER {}", url.user))
            .context("the server refused the user")?;
        self.command(&format!("PASS {}", url.password))
            .context("the server refused the login")?;
        Ok(())
    }

    /// Sends one command and reads its status line.
    fn command(&mut self, command: &str) -> anyhow::Result<String> {
        let stream = self.stream.get_mut();
        stream.write_all(command.as_bytes())?;
        stream.write_all(b"\r\n")?;
        stream.flush()?;
        self.read_status()
    }

    fn read_status(&mut self) -> anyhow::Result<String> {
        let mut line = Vec::new();
        read_limited(&mut self.stream, &mut line, MAX_LINE)?;
        status(&line)
    }

    /// A command with a multi-line answer: the lines between the status
    /// and the lone dot, dot-stuffing undone, line ends kept as sent.
    fn multi_line(&mut self, command: &str) -> anyhow::Result<Vec<u8>> {
        self.command(command)?;
        let mut body = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            read_limited(&mut self.stream, &mut line, MAX_MESSAGE)?;
            if line == b".\r\n" || line == b".\n" {
                return Ok(body);
            }
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            if body.len() + unstuffed.len() > MAX_MESSAGE {
                bail!("the answer to {command} is larger than {MAX_MESSAGE} bytes");
            }
            body.extend_from_slice(unstuffed);
        }
    }

    /// `number -> value` pairs from a `UIDL` or `LIST` answer.
    fn listing(&mut self, command: &str) -> anyhow::Result<Vec<(u32, String)>> {
        let body = self.multi_line(command)?;
        let text = String::from_utf8_lossy(&body);
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut parts = line.split_whitespace();
                let number = parts.next().and_then(|n| n.parse().ok());
                match (number, parts.next()) {
                    (Some(n), Some(value)) => Ok((n, value.to_owned())),
                    _ => Err(anyhow!(
                        "{command}: unexpected line `{}`",
                        printable(line.as_bytes())
                    )),
                }
            })
            .collect()
    }

    fn number(&self, message: &MessageRef) -> anyhow::Result<u32> {
        self.numbers
            .get(&message.id)
            .copied()
            .ok_or_else(|| anyhow!("message {} is not in this POP3 session's list", message.id))
    }
}

/// Reads up to LF into `line`, refusing more than `limit` bytes and a
/// connection that ends mid-answer.
fn read_limited(reader: &mut impl BufRead, line: &mut Vec<u8>, limit: usize) -> anyhow::Result<()> {
    let limit_bytes = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let read = std::io::Read::take(&mut *reader, limit_bytes).read_until(b'\n', line)?;
    if read == 0 || !line.ends_with(b"\n") {
        if line.len() > limit {
            bail!("the server sent a line longer than {limit} bytes");
        }
        bail!("the server closed the connection mid-answer");
    }
    Ok(())
}

/// The text after `+OK`, or the server's `-ERR` as an error.
fn status(line: &[u8]) -> anyhow::Result<String> {
    let text = printable(line);
    if let Some(rest) = text.strip_prefix("+OK") {
        return Ok(rest.trim().to_owned());
    }
    if text.starts_with("-ERR") {
        bail!("the server answered `{text}`");
    }
    bail!("unexpected POP3 answer `{text}`")
}

impl Mailbox for Pop3Mailbox {
    fn list(&mut self) -> anyhow::Result<Vec<MessageRef>> {
        let uids = self.listing("UIDL").context(
            "UIDL (the server must support it, to tell messages apart between sessions)",
        )?;
        let sizes: HashMap<u32, u64> = self
            .listing("LIST")?
            .into_iter()
            .filter_map(|(n, size)| size.parse().ok().map(|s| (n, s)))
            .collect();
        let mut messages: Vec<(u32, MessageRef)> = uids
            .into_iter()
            .map(|(n, id)| {
                (
                    n,
                    MessageRef {
                        id,
                        size_bytes: sizes.get(&n).copied(),
                    },
                )
            })
            .collect();
        messages.sort_by_key(|(n, _)| *n);
        self.numbers = messages.iter().map(|(n, m)| (m.id.clone(), *n)).collect();
        Ok(messages.into_iter().map(|(_, m)| m).collect())
    }

    fn fetch(&mut self, message: &MessageRef) -> anyhow::Result<Vec<u8>> {
        let number = self.number(message)?;
        self.multi_line(&format!("RETR {number}"))
            .with_context(|| format!("while fetching message {number}"))
    }

    fn delete(&mut self, message: &MessageRef) -> anyhow::Result<()> {
        let number = self.number(message)?;
        self.command(&format!("DELE {number}"))
            .with_context(|| format!("while deleting message {number}"))?;
        self.numbers.remove(&message.id);
        Ok(())
    }

    /// POP3 has no folders: the message is deleted (see the trait).
    fn move_aside(&mut self, message: &MessageRef) -> anyhow::Result<()> {
        self.delete(message)
    }

    fn close(mut self: Box<Self>) -> anyhow::Result<()> {
        self.command("QUIT")
            .context("QUIT (deletions may not be committed)")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_told_apart() {
        assert_eq!(status(b"+OK 2 320\r\n").expect("ok"), "2 320");
        assert!(status(b"-ERR no such message\r\n").is_err());
        assert!(status(b"* OK IMAP here\r\n").is_err());
        assert!(status(b"").is_err());
    }

    #[test]
    fn a_connection_ending_mid_answer_is_an_error() {
        let mut reader: &[u8] = b"+OK";
        let mut line = Vec::new();
        assert!(read_limited(&mut reader, &mut line, 100).is_err());
        let mut reader: &[u8] = &[b'x'; 200];
        line.clear();
        assert!(read_limited(&mut reader, &mut line, 100).is_err());
    }
}
