//! memcached, the cache that the web processes of a deployment share
//! (`MEMCACHE_SERVERS`). Each key goes to one server, chosen by a hash of
//! the key.
//!
//! A server that fails is skipped for a few seconds ([`RETRY_AFTER`]),
//! so that a memcached outage costs one short timeout per server and
//! interval rather than one per request. Going away is logged once as a
//! warning, coming back once as info; in between every call on that
//! server is a miss. Only connection failures count: a value the server
//! refuses (too large, say) is dropped with a debug line.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use memcache::{Client, ConnectionManager, MemcacheError, Url};

use super::{Cache, CacheError, Server};

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a read or write on a connection may take.
pub const IO_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a server that failed is skipped before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Connections per server and process.
const POOL_SIZE: u32 = 16;
/// memcached reads an expiry beyond 30 days as a point in time.
const MAX_EXPIRY_SECS: u32 = 30 * 24 * 60 * 60;

/// Whether a server is to be asked: the state of one server, and the
/// decisions about it, with the time passed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    /// Answering, as far as we know (also before the first call).
    Up,
    /// Failed; not asked before `retry_at`.
    Down { retry_at: Instant },
}

impl Health {
    /// Whether a call may go to the server at `now`. Once a down server's
    /// wait is over, the first caller probes it and the others keep
    /// skipping it for another `retry_after`, so that an outage holds up
    /// one request per interval, not all that arrive at once.
    fn may_try(&mut self, now: Instant, retry_after: Duration) -> bool {
        match *self {
            Health::Up => true,
            Health::Down { retry_at } if now >= retry_at => {
                *self = Health::Down {
                    retry_at: now + retry_after,
                };
                true
            }
            Health::Down { .. } => false,
        }
    }

    /// Records a failed call; says whether it began an outage (the one
    /// moment to warn).
    fn failed(&mut self, now: Instant, retry_after: Duration) -> bool {
        let is_new = *self == Health::Up;
        *self = Health::Down {
            retry_at: now + retry_after,
        };
        is_new
    }

    /// Records an answer; says whether it ended an outage.
    fn answered(&mut self) -> bool {
        let was_down = *self != Health::Up;
        *self = Health::Up;
        was_down
    }
}

/// One server: its address, a pool of connections (made afresh after a
/// failure, since the pool keeps dead connections) and its health.
struct Node {
    server: Server,
    url: Url,
    client: Mutex<Option<Client>>,
    health: Mutex<Health>,
}

/// A [`Cache`] on memcached servers.
pub struct MemcachedCache {
    nodes: Vec<Node>,
    retry_after: Duration,
}

impl MemcachedCache {
    /// A cache on `servers`. Nothing is connected yet: the first call on
    /// a server connects (see [`MemcachedCache::probe`]).
    ///
    /// # Errors
    /// [`CacheError::Config`] when a server does not make a URL, or the
    /// list is empty.
    pub fn new(servers: Vec<Server>) -> Result<MemcachedCache, CacheError> {
        if servers.is_empty() {
            return Err(super::config_error("no servers".to_owned()));
        }
        let nodes = servers
            .into_iter()
            .map(|server| {
                let text = format!("memcache://{server}?timeout={}", IO_TIMEOUT.as_secs_f64());
                let url = Url::parse(&text)
                    .map_err(|e| super::config_error(format!("`{server}`: {e}")))?;
                Ok(Node {
                    server,
                    url,
                    client: Mutex::new(None),
                    health: Mutex::new(Health::Up),
                })
            })
            .collect::<Result<Vec<_>, CacheError>>()?;
        Ok(MemcachedCache {
            nodes,
            retry_after: RETRY_AFTER,
        })
    }

    /// The same cache, skipping a failed server for `retry_after` instead
    /// of [`RETRY_AFTER`] (zero in tests: every call tries again).
    pub fn with_retry_after(mut self, retry_after: Duration) -> MemcachedCache {
        self.retry_after = retry_after;
        self
    }

    /// Asks every server for its version once; says whether all answered.
    /// A server that does not is warned about and skipped as after any
    /// failure: for the start-up log.
    pub fn probe(&self) -> bool {
        let mut answered = true;
        for node in &self.nodes {
            answered &= self.call(node, "probe", Client::version).is_some();
        }
        answered
    }

    /// The server of `key`: FNV-1a of the key, the same in every process.
    fn node(&self, key: &str) -> &Node {
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let len = u64::try_from(self.nodes.len()).unwrap_or(1).max(1);
        let index = usize::try_from(hash % len).unwrap_or(0);
        &self.nodes[index.min(self.nodes.len() - 1)]
    }

    /// Runs `op` on `node` unless the node is being skipped; a failure is
    /// a miss, recorded in the node's health.
    fn call<T>(
        &self,
        node: &Node,
        what: &str,
        op: impl FnOnce(&Client) -> Result<T, MemcacheError>,
    ) -> Option<T> {
        if !lock(&node.health)?.may_try(Instant::now(), self.retry_after) {
            return None;
        }
        let client = node.client()?;
        match op(&client) {
            Ok(value) => {
                node.answered();
                Some(value)
            }
            Err(e) if is_unreachable(&e) => {
                node.forget_connections();
                if lock(&node.health)?.failed(Instant::now(), self.retry_after) {
                    tracing::warn!(
                        cache.server = %node.server,
                        error = %e,
                        "memcached at {} is not reachable: serving without it, trying again \
                         every {} s",
                        node.server,
                        self.retry_after.as_secs()
                    );
                }
                None
            }
            Err(e) => {
                node.answered();
                tracing::debug!(cache.server = %node.server, error = %e, "memcached refused a {what}");
                None
            }
        }
    }
}

impl Node {
    /// Records that the server answered, and says so if that ends an
    /// outage.
    fn answered(&self) {
        if lock(&self.health).is_some_and(|mut h| h.answered()) {
            tracing::info!(
                cache.server = %self.server,
                "memcached at {} answers again: caching there again",
                self.server
            );
        }
    }

    /// The node's client, made on first use.
    fn client(&self) -> Option<Client> {
        let mut slot = lock(&self.client)?;
        if slot.is_none() {
            *slot = Some(connect(&self.url)?);
        }
        slot.clone()
    }

    /// Drops the pool, whose connections may all be dead: the next call
    /// connects afresh.
    fn forget_connections(&self) {
        if let Some(mut slot) = lock(&self.client) {
            *slot = None;
        }
    }
}

/// A client with a pool that connects lazily, within [`CONNECT_TIMEOUT`],
/// without a round trip to test each connection it hands out (a dead one
/// fails the call, which replaces the pool), and without logging each
/// failed attempt (the cache warns once per outage instead).
fn connect(url: &Url) -> Option<Client> {
    let pool = r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(0))
        .connection_timeout(CONNECT_TIMEOUT)
        .test_on_check_out(false)
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(ConnectionManager::new(url.clone()));
    Client::with_pool(pool).ok()
}

/// Whether `e` says the server cannot be reached (rather than that it
/// refused this one call).
fn is_unreachable(e: &MemcacheError) -> bool {
    matches!(e, MemcacheError::IOError(_) | MemcacheError::PoolError(_))
}

/// The lock's guard; none for a lock that a panic poisoned (the cache
/// then misses rather than panicking again).
fn lock<T>(m: &Mutex<T>) -> Option<std::sync::MutexGuard<'_, T>> {
    m.lock().ok()
}

/// memcached's expiry for a time to live: whole seconds, rounded up, at
/// most 30 days; none for zero (memcached would keep it forever).
fn expiry_secs(ttl: Duration) -> Option<u32> {
    if ttl.is_zero() {
        return None;
    }
    let secs = ttl
        .as_secs()
        .saturating_add(u64::from(ttl.subsec_nanos() > 0));
    Some(u32::try_from(secs).unwrap_or(u32::MAX).min(MAX_EXPIRY_SECS))
}

impl Cache for MemcachedCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.call(self.node(key), "get", |c| c.get::<Vec<u8>>(key))
            .flatten()
    }

    fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let Some(secs) = expiry_secs(ttl) else {
            self.delete(key);
            return;
        };
        self.call(self.node(key), "set", |c| c.set(key, value, secs));
    }

    fn delete(&self, key: &str) {
        self.call(self.node(key), "delete", |c| c.delete(key));
    }

    fn describe(&self) -> String {
        let servers: Vec<String> = self.nodes.iter().map(|n| n.server.to_string()).collect();
        format!("memcached {}", servers.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRY: Duration = Duration::from_secs(5);

    #[test]
    fn an_outage_warns_once_and_skips_the_server_until_the_retry() {
        let t0 = Instant::now();
        let mut health = Health::Up;
        assert!(health.may_try(t0, RETRY));
        assert!(
            health.failed(t0, RETRY),
            "the first failure begins the outage"
        );
        assert!(
            !health.may_try(t0 + Duration::from_secs(1), RETRY),
            "skipped"
        );
        assert!(
            health.may_try(t0 + RETRY, RETRY),
            "one probe after the wait"
        );
        assert!(
            !health.may_try(t0 + RETRY, RETRY),
            "the others keep skipping while it probes"
        );
        assert!(!health.failed(t0 + RETRY, RETRY), "no second warning");
        assert!(!health.may_try(t0 + RETRY + Duration::from_secs(4), RETRY));
        assert!(health.may_try(t0 + RETRY * 2, RETRY));
        assert!(health.answered(), "the answer ends the outage");
        assert!(!health.answered(), "and is told once");
        assert!(health.may_try(t0 + RETRY * 2, RETRY));
        assert!(
            health.failed(t0 + RETRY * 3, RETRY),
            "a new outage warns again"
        );
    }

    #[test]
    fn with_no_wait_every_call_tries_again() {
        let t0 = Instant::now();
        let mut health = Health::Up;
        health.failed(t0, Duration::ZERO);
        assert!(health.may_try(t0, Duration::ZERO));
        assert!(health.may_try(t0, Duration::ZERO));
    }

    #[rstest::rstest]
    #[case(Duration::ZERO, None)]
    #[case(Duration::from_millis(1), Some(1))]
    #[case(Duration::from_secs(1), Some(1))]
    #[case(Duration::from_millis(1500), Some(2))]
    #[case(Duration::from_secs(3600), Some(3600))]
    #[case(Duration::from_secs(40 * 24 * 3600), Some(MAX_EXPIRY_SECS))]
    #[case(Duration::MAX, Some(MAX_EXPIRY_SECS))]
    fn times_to_live_become_memcached_expiries(
        #[case] ttl: Duration,
        #[case] expected: Option<u32>,
    ) {
        assert_eq!(expiry_secs(ttl), expected);
    }

    #[test]
    fn keys_spread_over_the_servers_the_same_way_every_time() {
        let servers = ["a", "b", "c"]
            .iter()
            .map(|h| Server {
                host: (*h).to_owned(),
                port: 11211,
            })
            .collect();
        let cache = MemcachedCache::new(servers).expect("cache");
        let hosts: std::collections::HashSet<&str> = (0..100)
            .map(|i| {
                cache
                    .node(&format!("hit1:roles:{i}:7"))
                    .server
                    .host
                    .as_str()
            })
            .collect();
        assert_eq!(hosts.len(), 3, "every server gets keys");
        assert_eq!(
            cache.node("hit1:tree:5").server,
            cache.node("hit1:tree:5").server
        );
        assert_eq!(cache.describe(), "memcached a:11211,b:11211,c:11211");
    }
}
