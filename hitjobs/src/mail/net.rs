//! The sockets under the IMAP and POP3 clients: a TCP connection with the
//! time-outs every network call gets, optionally wrapped in TLS (rustls,
//! with the Mozilla roots lettre uses for SMTP too), and the one question
//! both ask before sending a password in clear: is the server this host?

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// How long connecting may take, per address of the host.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one read or write may wait for the server.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to a mail server, in clear or in TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Connects to `host:port` within [`CONNECT_TIMEOUT`], trying each
    /// address the name resolves to, and sets the read and write time-outs.
    ///
    /// # Errors
    /// The name does not resolve, or no address answers in time.
    pub(crate) fn connect(host: &str, port: u16) -> anyhow::Result<Stream> {
        let addrs = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("while resolving {host}"))?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(tcp) => {
                    tcp.set_read_timeout(Some(COMMAND_TIMEOUT))?;
                    tcp.set_write_timeout(Some(COMMAND_TIMEOUT))?;
                    return Ok(Stream::Plain(tcp));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => anyhow!(e).context(format!("while connecting to {host}:{port}")),
            None => anyhow!("{host} resolves to no address"),
        })
    }

    /// Wraps a plain connection in TLS for `host` (implicit TLS, or after
    /// STARTTLS/STLS). The handshake happens on the first read or write,
    /// under the same time-outs.
    ///
    /// # Errors
    /// The connection is TLS already, or `host` is no valid server name.
    pub(crate) fn into_tls(self, host: &str) -> anyhow::Result<Stream> {
        let Stream::Plain(tcp) = self else {
            return Err(anyhow!("the connection is encrypted already"));
        };
        let name = ServerName::try_from(host.to_owned())
            .with_context(|| format!("{host} is not a name TLS can check"))?;
        let connection =
            ClientConnection::new(tls_config()?, name).context("while starting TLS")?;
        Ok(Stream::Tls(Box::new(StreamOwned::new(connection, tcp))))
    }
}

/// One client configuration for the process: ring as the crypto provider
/// (named, since another crate in the build may enable aws-lc-rs too and
/// rustls then refuses to pick), the Mozilla roots.
pub(crate) fn tls_config() -> anyhow::Result<Arc<ClientConfig>> {
    static CONFIG: std::sync::OnceLock<Arc<ClientConfig>> = std::sync::OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(Arc::clone(config));
    }
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("while setting up TLS")?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::clone(CONFIG.get_or_init(|| Arc::new(config))))
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Whether `host` is this machine (`localhost` or a loopback address),
/// where a connection without TLS exposes nothing.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads one line up to and including LF, a byte at a time, so that
/// nothing after it is consumed (before STARTTLS the TLS handshake
/// follows). At most `limit` bytes.
///
/// # Errors
/// The connection ends first, or the line is longer than `limit`.
pub(crate) fn read_line_unbuffered(
    stream: &mut impl Read,
    limit: usize,
) -> anyhow::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte)? == 0 {
            return Err(anyhow!("the server closed the connection"));
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            return Ok(line);
        }
        if line.len() > limit {
            return Err(anyhow!("the server sent a line longer than {limit} bytes"));
        }
    }
}

/// A server line made printable for an error message: control characters
/// dropped, at most 200 characters.
pub(crate) fn printable(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "LOCALHOST",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["mail.example.org", "10.0.0.1", "localhost.example.org"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_line_is_read_without_consuming_what_follows() {
        let mut input: &[u8] = b"+OK ready\r\nTLS bytes";
        let line = read_line_unbuffered(&mut input, 100).expect("a line");
        assert_eq!(line, b"+OK ready\r\n");
        assert_eq!(input, b"TLS bytes");
    }

    #[test]
    fn an_overlong_or_unfinished_line_is_an_error() {
        let mut long: &[u8] = &[b'a'; 50];
        assert!(read_line_unbuffered(&mut long, 10).is_err());
        let mut cut: &[u8] = b"+OK no end";
        assert!(read_line_unbuffered(&mut cut, 100).is_err());
    }
}
