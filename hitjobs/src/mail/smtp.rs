//! [`SmtpMailer`]: messages to an SMTP server (`SMTP_URL`), one transaction
//! per message, over a few connections kept open between messages. Where
//! the server offers PIPELINING (RFC 2920) the envelope (`MAIL`, every
//! `RCPT`, `DATA`) goes out in one write and the replies are read after:
//! one round trip for a batch of 50 recipients instead of 52.
//!
//! lettre's own transport sends a message in one call; the relay needs to
//! act between the server's 354 and the first byte of the message (see
//! [`Mailer::send_with_handover`]), so the transaction is driven here
//! command by command over lettre's `AsyncSmtpConnection`.
//!
//! The connection is async only because lettre's blocking one gives no
//! access to its socket: it writes the message and the final dot in two
//! writes, and without TCP_NODELAY the dot waits for the server's delayed
//! ACK (about 40 ms per message). Here the mailer opens the tokio socket
//! itself, sets TCP_NODELAY and hands it to lettre. The `Mailer` methods
//! stay synchronous: each runs its transaction to the end on a small tokio
//! runtime the mailer owns, and the idle connections belong to it.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::runtime::{Handle, Runtime};
use tokio::time::Sleep;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tracing::{debug, instrument};

use super::net::{COMMAND_TIMEOUT, CONNECT_TIMEOUT, is_loopback, tls_config};
use super::{Delivery, Mailer, OutgoingMail, RefusedRecipient, SendError, scrub_reply};
use crate::telemetry::metrics as telemetry;

/// Idle connections kept for the next message.
const MAX_IDLE: usize = 8;
/// An idle connection older than this is closed rather than reused: servers
/// drop idle clients after a few minutes (Postfix after 300 s).
const MAX_IDLE_AGE: Duration = Duration::from_secs(120);
/// Commands written at once where the server pipelines: a batch of 50 in
/// one write, and few enough that neither side's socket buffer can fill
/// with commands or replies the other has not read yet, which would stall
/// both.
// Known shortcoming: after a refused RCPT early in a pipelined envelope,
// Postfix's replies to the rest come slowly (measured: 150 recipients with
// one refusal at the 8th took 0.93 s, without refusals 0.08 s; a batch of
// 50 with one, 0.14 s). The cause is not found yet; without pipelining
// the same envelope is fast.
const PIPELINE_DEPTH: usize = 100;
/// The code a recipient gets that is no valid SMTP address at all.
const INVALID_ADDRESS_CODE: u16 = 553;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Tls,
    /// `smtp://` to another host: STARTTLS, required.
    StartTls,
    /// `smtp://` to this host (`localhost`, 127.0.0.1, ::1): no TLS, since
    /// nothing leaves the machine.
    Plain,
}

/// A parsed `SMTP_URL`: `smtp://[user:password@]host[:port]` or `smtps://`.
/// User and password are percent-decoded. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    password: Option<String>,
}

impl SmtpUrl {
    /// Reads an SMTP URL.
    ///
    /// # Errors
    /// Another scheme, no host, a password without a user, a path.
    pub fn parse(value: &str) -> Result<SmtpUrl, String> {
        let url = url::Url::parse(value.trim()).map_err(|e| format!("not a URL ({e})"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let (security, default_port) = match url.scheme() {
            "smtps" => (SmtpSecurity::Tls, 465),
            "smtp" if is_loopback(&host) => (SmtpSecurity::Plain, 25),
            "smtp" => (SmtpSecurity::StartTls, 587),
            other => return Err(format!("expected smtp:// or smtps://, got {other}://")),
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err("expected no path or query after the host".to_owned());
        }
        let user = decode(url.username())?.filter(|u| !u.is_empty());
        let password = url.password().map(decode).transpose()?.flatten();
        if password.is_some() && user.is_none() {
            return Err("a password needs a user".to_owned());
        }
        Ok(SmtpUrl {
            security,
            port: url.port().unwrap_or(default_port),
            host,
            user,
            password,
        })
    }
}

fn decode(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|v| Some(v.into_owned()))
        .map_err(|_| "user or password is not UTF-8 once decoded".to_owned())
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            SmtpSecurity::Tls => "smtps",
            _ => "smtp",
        };
        let user = match (&self.user, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        write!(f, "{scheme}://{user}{}:{}", self.host, self.port)
    }
}

/// Sends over SMTP. Safe to share between threads: each transaction takes
/// a connection of its own, from the idle ones (sent again on a new one
/// when the server had closed it, see `open_envelope`) or a
/// new one; after a clean transaction the connection goes back, after any
/// failure it is dropped, so a broken one is never reused.
///
/// The calls block the calling thread: call them from a plain thread or
/// `spawn_blocking`, never from inside an async task (tokio panics there).
pub struct SmtpMailer {
    url: SmtpUrl,
    hello: ClientId,
    /// Declared before the runtime: dropped while its reactor still runs.
    idle: Mutex<Vec<(Session, Instant)>>,
    /// The runtime the connections live on, or why it could not start.
    runtime: Result<OwnRuntime, String>,
}

/// One connection to the server and what the server offers on it.
struct Session {
    conn: AsyncSmtpConnection,
    /// The server offers PIPELINING (lettre's view of the server's
    /// extensions leaves it out).
    pipelining: bool,
}

/// An envelope sent, or found to have no connection under it.
enum Opened {
    /// The envelope's outcome: whom the server took, and whether it waits
    /// for the message now (its 354).
    Ready { delivery: Delivery, has_data: bool },
    /// An idle connection the server had closed: nothing reached it.
    Stale,
}

/// A runtime that shuts down without waiting when dropped, so that dropping
/// the mailer is fine anywhere, inside another runtime too.
struct OwnRuntime {
    handle: Handle,
    runtime: Option<Runtime>,
}

impl OwnRuntime {
    /// One worker thread drives the sockets and timers; the transactions
    /// themselves run on the calling threads.
    fn start() -> io::Result<OwnRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hit-smtp")
            .enable_io()
            .enable_time()
            .build()?;
        Ok(OwnRuntime {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for this server; nothing connects before the first message.
    /// Starts the mailer's runtime (one thread); should that fail, every
    /// message fails temporarily with the reason.
    pub fn new(url: SmtpUrl) -> SmtpMailer {
        SmtpMailer {
            url,
            hello: ClientId::default(),
            idle: Mutex::new(Vec::new()),
            runtime: OwnRuntime::start().map_err(|e| format!("starting the SMTP runtime: {e}")),
        }
    }

    /// An envelope on an idle connection, or on a new one when there is
    /// none or the idle one turns out closed. An idle connection is not
    /// checked beforehand (an `RSET` would cost a round trip per message):
    /// a server that closed it answers nothing, and nothing before the
    /// message's 354 delivers anything, so the envelope is simply sent
    /// again on a new connection.
    async fn open_envelope(&self, mail: &OutgoingMail) -> Result<(Session, Opened), SendError> {
        loop {
            let next = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
            let Some((mut session, since)) = next else {
                break;
            };
            if since.elapsed() > MAX_IDLE_AGE {
                session.conn.abort().await;
                continue;
            }
            match SmtpMailer::envelope(&mut session, mail, true).await? {
                Opened::Stale => {
                    debug!("An idle SMTP connection was closed by the server; dropped");
                    session.conn.abort().await;
                }
                opened => return Ok((session, opened)),
            }
        }
        let mut session = self.connect().await?;
        let opened = SmtpMailer::envelope(&mut session, mail, false).await?;
        Ok((session, opened))
    }

    fn checkin(&self, session: Session) {
        if session.conn.has_broken() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push((session, Instant::now()));
        }
    }

    /// Connects, says EHLO, upgrades with STARTTLS where required and logs
    /// in when the URL has a user.
    async fn connect(&self) -> Result<Session, SendError> {
        let url = &self.url;
        let tcp = TimedStream::new(open_socket(&url.host, url.port).await?);
        let stream: Box<dyn AsyncTokioStream> = match url.security {
            SmtpSecurity::Tls => Box::new(TlsSocket(implicit_tls(tcp, &url.host).await?)),
            _ => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(|e| classify(&e, "connecting"))?;
        if url.security == SmtpSecurity::StartTls {
            let tls = TlsParameters::new(url.host.clone())
                .map_err(|e| SendError::Temporary(format!("TLS setup for {}: {e}", url.host)))?;
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(SendError::Temporary(format!(
                    "{}:{} offers no STARTTLS; use smtps:// or a server that does",
                    url.host, url.port
                )));
            }
            conn.starttls(tls, &self.hello)
                .await
                .map_err(|e| classify(&e, "STARTTLS"))?;
        }
        // lettre keeps only the extensions it knows from its EHLO; a second
        // one (allowed any time, RFC 5321 4.1.4) shows whether the server
        // pipelines. Before AUTH, which some servers reset on EHLO.
        let pipelining = conn
            .command(Ehlo::new(self.hello.clone()))
            .await
            .map_err(|e| classify(&e, "EHLO"))?
            .message()
            .any(|line| {
                line.split_whitespace()
                    .next()
                    .is_some_and(|w| w.eq_ignore_ascii_case("PIPELINING"))
            });
        if let Some(user) = &url.user {
            let credentials =
                Credentials::new(user.clone(), url.password.clone().unwrap_or_default());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await
                .map_err(|e| classify(&e, "logging in"))?;
        }
        debug!(
            smtp.host = %url.host,
            smtp.port = url.port,
            smtp.pipelining = pipelining,
            "Connected to the SMTP server"
        );
        Ok(Session { conn, pipelining })
    }

    /// The envelope of one transaction, up to the server's 354. `has_data`
    /// is false when every recipient was refused: the transaction is reset
    /// and nothing is to be sent. [`Opened::Stale`] only when `is_reused`
    /// and the first reply never came. Any `Err` leaves the connection
    /// unusable (the caller drops it).
    async fn envelope(
        session: &mut Session,
        mail: &OutgoingMail,
        is_reused: bool,
    ) -> Result<Opened, SendError> {
        let (params, from) = mail_parameters(&session.conn, mail)?;
        let (mut delivery, to) = parse_recipients(&mail.envelope.to);
        if to.is_empty() {
            return Ok(Opened::Ready {
                delivery,
                has_data: false,
            });
        }
        let conn = &mut session.conn;
        let mut commands = Vec::with_capacity(to.len() + 2);
        commands.push(Mail::new(from, params).to_string());
        commands.extend(
            to.iter()
                .map(|(_, address)| Rcpt::new(address.clone(), Vec::new()).to_string()),
        );
        if session.pipelining {
            commands.push(Data.to_string());
        }
        let depth = if session.pipelining {
            PIPELINE_DEPTH
        } else {
            1
        };
        let mut replies = Vec::with_capacity(commands.len());
        for group in commands.chunks(depth) {
            let complete = exchange(conn, group, &mut replies).await;
            let is_refused = replies.first().is_some_and(Result::is_err);
            if !complete || is_refused {
                break;
            }
        }
        let mut replies = replies.into_iter();

        match replies.next() {
            Some(Ok(_)) => {}
            Some(Err(e)) if is_reused && is_connection_lost(&e) => return Ok(Opened::Stale),
            Some(Err(e)) => return Err(classify(&e, "MAIL FROM")),
            None => return Err(SendError::Temporary("MAIL FROM: no reply".to_owned())),
        }
        for (text, _) in to {
            match replies.next() {
                Some(Ok(_)) => delivery.accepted.push(text),
                Some(Err(e)) => match reply_code(&e) {
                    Some(code) if code != 421 => delivery.refused.push(RefusedRecipient {
                        address: text,
                        code,
                        is_permanent: (500..600).contains(&code),
                        reply: e.to_string(),
                    }),
                    _ => return Err(classify(&e, "RCPT TO")),
                },
                None => return Err(SendError::Temporary("RCPT TO: no reply".to_owned())),
            }
        }

        if !session.pipelining && delivery.accepted.is_empty() {
            conn.command(Rset).await.map_err(|e| classify(&e, "RSET"))?;
            return Ok(Opened::Ready {
                delivery,
                has_data: false,
            });
        }
        let reply = if session.pipelining {
            match replies.next() {
                Some(reply) => reply,
                None => return Err(SendError::Temporary("DATA: no reply".to_owned())),
            }
        } else {
            conn.command(Data).await
        };
        let has_data = match reply {
            Ok(reply) if reply.has_code(354) => true,
            Ok(reply) => {
                return Err(SendError::Temporary(format!(
                    "DATA answered with {} instead of 354",
                    reply.code()
                )));
            }
            // A pipelined DATA after refusals only: the server has no
            // recipient and says so.
            Err(e) if delivery.accepted.is_empty() && reply_code(&e).is_some() => false,
            Err(e) => return Err(classify(&e, "DATA")),
        };
        if delivery.accepted.is_empty() {
            if has_data {
                // A server that takes DATA without a recipient: the
                // message ends at once, empty, and goes nowhere.
                conn.message(b"").await.ok();
            }
            conn.command(Rset).await.map_err(|e| classify(&e, "RSET"))?;
            return Ok(Opened::Ready {
                delivery,
                has_data: false,
            });
        }
        Ok(Opened::Ready { delivery, has_data })
    }

    /// The message bytes and the server's answer to them.
    async fn data(conn: &mut AsyncSmtpConnection, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = mail.message.strip_suffix(b"\r\n").unwrap_or(&mail.message);
        conn.message(message).await.map_err(|e| match e.status() {
            Some(_) => classify(&e, "the end of data"),
            None => SendError::Unconfirmed(format!(
                "connection lost after the message was handed over, the server may have \
                 accepted it: {}",
                scrub_reply(&e.to_string())
            )),
        })?;
        Ok(())
    }
}

impl Mailer for SmtpMailer {
    /// One transaction ([`SmtpMailer::transaction`]), counted by its
    /// outcome in the SMTP deliveries metric.
    #[instrument(skip_all, fields(mail.recipients = mail.envelope.to.len()))]
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        let sent = self.transaction(mail, handing_over);
        telemetry::count_smtp(match &sent {
            Ok(delivery) if delivery.accepted.is_empty() => "refused",
            Ok(_) => "sent",
            Err(SendError::Temporary(_)) => "temporary",
            Err(SendError::Permanent(_)) => "permanent",
            Err(SendError::Unconfirmed(_)) => "unconfirmed",
            Err(SendError::Aborted(_)) => "aborted",
        });
        sent
    }
}

impl SmtpMailer {
    /// One transaction in two steps on the mailer's runtime: the envelope,
    /// then the message bytes. The handover callback runs between them on
    /// the calling thread, outside the runtime, because it writes to the
    /// database with blocking drivers (the PostgreSQL one starts a runtime
    /// of its own, which tokio refuses inside another). Meanwhile the
    /// server waits in its DATA state; the only way to abandon the
    /// transaction then is to drop the connection without the final dot.
    fn transaction(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        let runtime = self
            .runtime
            .as_ref()
            .map_err(|e| SendError::Temporary(e.clone()))?;
        let (mut session, opened) = runtime.handle.block_on(self.open_envelope(mail))?;
        let Opened::Ready {
            mut delivery,
            has_data,
        } = opened
        else {
            // `open_envelope` falls back to a new connection, which is
            // never stale.
            return Err(SendError::Temporary(
                "the SMTP connection closed before the first reply".to_owned(),
            ));
        };
        in_envelope_order(&mut delivery.refused, &mail.envelope.to);
        if has_data {
            if let Err(e) = handing_over(&delivery) {
                // Dropped on the runtime, without the final dot.
                runtime.handle.block_on(async move { drop(session) });
                return Err(SendError::Aborted(e));
            }
            runtime
                .handle
                .block_on(SmtpMailer::data(&mut session.conn, mail))?;
        }
        runtime.handle.block_on(async { self.checkin(session) });
        Ok(delivery)
    }
}

/// Opens a TCP connection to `host:port` with TCP_NODELAY, trying each
/// address the name resolves to for [`CONNECT_TIMEOUT`] each.
async fn open_socket(host: &str, port: u16) -> Result<TcpStream, SendError> {
    let failed = |e: &dyn fmt::Display| SendError::Temporary(format!("connecting: {e}"));
    let addrs = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| failed(&format!("resolving {host} took too long")))?
        .map_err(|e| failed(&format!("while resolving {host}: {e}")))?;
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                // lettre writes the message and the final dot separately;
                // Nagle would hold the dot until the server's delayed ACK.
                tcp.set_nodelay(true)
                    .map_err(|e| failed(&format!("setting TCP_NODELAY: {e}")))?;
                return Ok(tcp);
            }
            Ok(Err(e)) => last = Some(format!("{addr}: {e}")),
            Err(_) => last = Some(format!("{addr}: no answer within {CONNECT_TIMEOUT:?}")),
        }
    }
    Err(failed(&match last {
        Some(e) => format!("to {host}:{port}: {e}"),
        None => format!("{host} resolves to no address"),
    }))
}

/// `smtps://`: TLS before the greeting, with the rustls set-up the IMAP and
/// POP3 clients use (ring, Mozilla roots, as lettre's `rustls-tls`).
async fn implicit_tls(tcp: TimedStream, host: &str) -> Result<TlsStream<TimedStream>, SendError> {
    let failed = |e: &dyn fmt::Display| SendError::Temporary(format!("TLS with {host}: {e}"));
    let config = tls_config().map_err(|e| failed(&format!("{e:#}")))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| failed(&"not a name TLS can check"))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| failed(&e))
}

/// The TCP connection under lettre, with the blocking client's time-out:
/// a read or write that waits more than [`COMMAND_TIMEOUT`] for the server
/// fails with `TimedOut` (lettre reports it as a network error).
#[derive(Debug)]
struct TimedStream {
    tcp: TcpStream,
    reading: Option<Pin<Box<Sleep>>>,
    writing: Option<Pin<Box<Sleep>>>,
}

impl TimedStream {
    fn new(tcp: TcpStream) -> TimedStream {
        TimedStream {
            tcp,
            reading: None,
            writing: None,
        }
    }
}

/// Passes on a ready result and ends the wait; while pending, starts or
/// checks the wait's deadline.
fn within_deadline<T>(
    result: Poll<io::Result<T>>,
    deadline: &mut Option<Pin<Box<Sleep>>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    if result.is_ready() {
        *deadline = None;
        return result;
    }
    let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(COMMAND_TIMEOUT)));
    match sleep.as_mut().poll(cx) {
        Poll::Ready(()) => {
            *deadline = None;
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the server did not answer within {COMMAND_TIMEOUT:?}"),
            )))
        }
        Poll::Pending => Poll::Pending,
    }
}

impl AsyncRead for TimedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.tcp).poll_read(cx, buf);
        within_deadline(result, &mut this.reading, cx)
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.tcp).poll_write(cx, buf);
        within_deadline(result, &mut this.writing, cx)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.tcp).poll_flush(cx);
        within_deadline(result, &mut this.writing, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.tcp).poll_shutdown(cx);
        within_deadline(result, &mut this.writing, cx)
    }
}

impl AsyncTokioStream for TimedStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }
}

/// An `smtps://` connection as lettre takes it.
#[derive(Debug)]
struct TlsSocket(TlsStream<TimedStream>);

impl AsyncRead for TlsSocket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsSocket {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// The `MAIL FROM` sender and parameters: 8BITMIME for a message with 8-bit
/// bytes, SMTPUTF8 for non-ASCII addresses, each only if the server offers
/// it (else the message cannot go to this server at all).
fn mail_parameters(
    conn: &AsyncSmtpConnection,
    mail: &OutgoingMail,
) -> Result<(Vec<MailParameter>, Option<Address>), SendError> {
    let from = match mail.envelope.from.as_deref().filter(|f| !f.is_empty()) {
        None => None,
        Some(from) => Some(Address::from_str(from).map_err(|_| {
            SendError::Permanent("the envelope sender is no valid address".to_owned())
        })?),
    };
    let info = conn.server_info();
    let mut params = Vec::new();
    if !mail.message.is_ascii() {
        if !info.supports_feature(Extension::EightBitMime) {
            return Err(SendError::Permanent(
                "the message has 8-bit content and the server does not offer 8BITMIME".to_owned(),
            ));
        }
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let is_utf8_envelope = mail
        .envelope
        .from
        .iter()
        .chain(&mail.envelope.to)
        .any(|a| !a.is_ascii());
    if is_utf8_envelope {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            return Err(SendError::Permanent(
                "the envelope has non-ASCII addresses and the server does not offer SMTPUTF8"
                    .to_owned(),
            ));
        }
        params.push(MailParameter::SmtpUtfEight);
    }
    Ok((params, from))
}

/// The envelope recipients that are SMTP addresses, each with its text;
/// the others are refused here and never reach the server.
fn parse_recipients(to: &[String]) -> (Delivery, Vec<(String, Address)>) {
    let mut delivery = Delivery::default();
    let mut parsed = Vec::with_capacity(to.len());
    for address in to {
        match Address::from_str(address) {
            Ok(a) => parsed.push((address.clone(), a)),
            Err(_) => delivery.refused.push(RefusedRecipient {
                address: address.clone(),
                code: INVALID_ADDRESS_CODE,
                is_permanent: true,
                reply: "not a valid address; not sent to the server".to_owned(),
            }),
        }
    }
    (delivery, parsed)
}

/// The refusals in the order of their addresses in the envelope (those
/// refused here, before any command, are found first).
fn in_envelope_order(refused: &mut [RefusedRecipient], to: &[String]) {
    let mut position = std::collections::HashMap::with_capacity(to.len());
    for (n, address) in to.iter().enumerate() {
        position.entry(address.as_str()).or_insert(n);
    }
    refused.sort_by_key(|r| position.get(r.address.as_str()).copied());
}

/// Writes `commands` at once and adds their replies to `replies`, in
/// order; false when a reply did not come (the connection is gone), and
/// then the rest are not waited for.
async fn exchange(
    conn: &mut AsyncSmtpConnection,
    commands: &[String],
    replies: &mut Vec<Result<Response, lettre::transport::smtp::Error>>,
) -> bool {
    for n in 0..commands.len() {
        let reply = if n == 0 {
            conn.command(Lines(&commands.concat())).await
        } else {
            conn.read_response().await
        };
        let is_lost = reply.as_ref().is_err_and(|e| reply_code(e).is_none());
        replies.push(reply);
        if is_lost {
            return false;
        }
    }
    true
}

/// Commands already formatted, each with its CRLF, written at once.
struct Lines<'a>(&'a str);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// No reply at all, or the server closing (421): the connection is gone.
fn is_connection_lost(e: &lettre::transport::smtp::Error) -> bool {
    reply_code(e).is_none_or(|code| code == 421)
}

fn reply_code(e: &lettre::transport::smtp::Error) -> Option<u16> {
    e.status().and_then(|code| code.to_string().parse().ok())
}

/// A failed step: a 5xx reply is permanent, anything else (4xx, network,
/// time-out, TLS, a reply that does not parse) temporary.
fn classify(e: &lettre::transport::smtp::Error, step: &str) -> SendError {
    let text = format!("{step}: {}", scrub_reply(&e.to_string()));
    match reply_code(e) {
        Some(code) if (500..600).contains(&code) => SendError::Permanent(text),
        _ => SendError::Temporary(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_to_this_host_may_be_plain() {
        let url = SmtpUrl::parse("smtp://127.0.0.1:2525").expect("valid");
        assert_eq!(url.security, SmtpSecurity::Plain);
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 2525));
        assert_eq!(SmtpUrl::parse("smtp://localhost").expect("valid").port, 25);
    }

    #[test]
    fn smtp_elsewhere_needs_starttls_and_smtps_is_tls() {
        let url = SmtpUrl::parse("smtp://mail.example.org").expect("valid");
        assert_eq!((url.security, url.port), (SmtpSecurity::StartTls, 587));
        let url = SmtpUrl::parse("smtps://mail.example.org").expect("valid");
        assert_eq!((url.security, url.port), (SmtpSecurity::Tls, 465));
    }

    #[test]
    fn credentials_are_percent_decoded_and_hidden() {
        let url =
            SmtpUrl::parse("smtp://ann%40example.org:p%3Ass@mail.example.org:587").expect("valid");
        assert_eq!(url.user.as_deref(), Some("ann@example.org"));
        assert_eq!(url.password.as_deref(), Some("p:ss"));
        let shown = format!("{url:?} {url}");
        assert!(
            !shown.contains("p:ss") && !shown.contains("p%3Ass"),
            "{shown}"
        );
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for url in [
            "imap://mail.example.org",
            "smtp://",
            "smtp://h/path",
            "smtp://:pw@h",
            "nonsense",
        ] {
            assert!(SmtpUrl::parse(url).is_err(), "{url}");
        }
    }
}
