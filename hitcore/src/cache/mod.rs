//! A cache for values that are costly to compute and read on every
//! request: the [`Cache`] trait, its two implementations (process memory,
//! and memcached behind the `memcached` feature), typed helpers, and the
//! keys of what the web tier caches ([`read`]).
//!
//! A cache here is an optimisation only. Its failures never reach a
//! caller: a memcached that cannot be reached answers every `get` with a
//! miss, and the caller loads from the store. Nor does correctness depend
//! on deletes: the keys embed the version [`Stamps`] the database keeps
//! (migration 10), so a change makes the next request ask for a new key.
//! ARCHITECTURE.md ("Cache") says what is cached and why.
//!
//! [`Stamps`]: crate::store::Stamps

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "memcached")]
pub mod memcached;
pub mod memory;
pub mod read;

pub use memory::MemoryCache;

/// A store of byte values under string keys, each kept for at most its
/// time to live, shared by everything in a process (and, for memcached,
/// by every process using the same servers).
///
/// Implementations never fail: an entry may be gone at any time, and a
/// cache that cannot be reached behaves as an empty one.
pub trait Cache: Send + Sync {
    /// The value stored under `key`, or none: never stored, expired,
    /// evicted, or the cache cannot be reached.
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores `value` under `key` for at most `ttl`. A zero `ttl` stores
    /// nothing; a value the cache cannot take (too large) is dropped.
    fn set(&self, key: &str, value: &[u8], ttl: Duration);
    /// Removes the value under `key`, if any.
    fn delete(&self, key: &str);
    /// What this cache is, for the start-up log: `memory` or
    /// `memcached 10.0.0.5:11211`.
    fn describe(&self) -> String;
}

/// The prefix of every key. Change it when the form of a cached value
/// changes, so that a new build never reads what an old one wrote.
pub const KEY_PREFIX: &str = "hit1:";

/// The value under `key` as JSON of `T`; none on a miss, and for a value
/// that does not parse (written by another build), which is then deleted.
pub fn get_json<T: DeserializeOwned>(cache: &dyn Cache, key: &str) -> Option<T> {
    let bytes = cache.get(key)?;
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::debug!(cache.key = key, error = %e, "Dropped a cached value that does not parse");
            cache.delete(key);
            None
        }
    }
}

/// Stores `value` as JSON under `key` for at most `ttl`.
pub fn set_json<T: Serialize>(cache: &dyn Cache, key: &str, value: &T, ttl: Duration) {
    match serde_json::to_vec(value) {
        Ok(bytes) => cache.set(key, &bytes, ttl),
        Err(e) => {
            tracing::debug!(cache.key = key, error = %e, "Did not cache a value that does not serialise");
        }
    }
}

/// The value under `key`, or else what `load` returns, which is then
/// stored for at most `ttl`. An error of `load` is returned and nothing is
/// stored.
///
/// # Errors
/// Those of `load`; the cache itself never fails.
pub fn get_or_load<T, E>(
    cache: &dyn Cache,
    key: &str,
    ttl: Duration,
    load: impl FnOnce() -> Result<T, E>,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
{
    if let Some(value) = get_json(cache, key) {
        return Ok(value);
    }
    let value = load()?;
    set_json(cache, key, &value, ttl);
    Ok(value)
}

/// The default port of memcached.
pub const DEFAULT_MEMCACHED_PORT: u16 = 11211;

/// One memcached server of `MEMCACHE_SERVERS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// A host name or IP address (IPv6 without its brackets).
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why no cache could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A setting cannot be used; `variable` names it.
    #[error("{variable}: {message}")]
    Config {
        variable: &'static str,
        message: String,
    },
}

/// The environment variable that lists the memcached servers.
pub const SERVERS_VARIABLE: &str = "MEMCACHE_SERVERS";

fn config_error(message: String) -> CacheError {
    CacheError::Config {
        variable: SERVERS_VARIABLE,
        message,
    }
}

/// Parses a `MEMCACHE_SERVERS` value: servers separated by commas, each
/// `host:port` or `host` (port 11211), optionally written
/// `memcache://host:port`; IPv6 addresses in brackets (`[::1]:11211`).
///
/// # Errors
/// [`CacheError::Config`] naming the variable and the entry that is not a
/// server, or saying that the list is empty.
pub fn parse_servers(value: &str) -> Result<Vec<Server>, CacheError> {
    let servers = value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(parse_server)
        .collect::<Result<Vec<_>, _>>()?;
    if servers.is_empty() {
        return Err(config_error(
            "expected servers such as 127.0.0.1:11211,10.0.0.6:11211, got none".to_owned(),
        ));
    }
    Ok(servers)
}

fn parse_server(entry: &str) -> Result<Server, CacheError> {
    let invalid = |why: &str| {
        config_error(format!(
            "`{entry}` is not a server: {why}; expected host:port such as 127.0.0.1:11211"
        ))
    };
    let rest = entry.strip_prefix("memcache://").unwrap_or(entry);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains("://") {
        return Err(invalid("the only URL scheme is memcache://"));
    }
    if !rest.starts_with('[') && rest.matches(':').count() > 1 {
        return Err(invalid("write IPv6 addresses in brackets"));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| invalid("no closing `]`"))?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid("text after `]`"))?,
                ),
            ),
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let is_host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || !host.chars().all(is_host_char) {
        return Err(invalid("no host name or address"));
    }
    let port = match port {
        None => DEFAULT_MEMCACHED_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
    };
    Ok(Server {
        host: host.to_owned(),
        port,
    })
}

/// The cache a process uses: memcached on `servers` (a `MEMCACHE_SERVERS`
/// value) when given, otherwise a [`MemoryCache`] of its own. Logs which.
///
/// A memcached that does not answer yet is no error: the cache warns,
/// serves misses and picks the servers up once they answer.
///
/// # Errors
/// [`CacheError::Config`] naming `MEMCACHE_SERVERS` for a value that
/// lists no servers, and for any value when this build has no `memcached`
/// feature.
pub fn open(servers: Option<&str>) -> Result<Arc<dyn Cache>, CacheError> {
    let Some(value) = servers.filter(|v| !v.trim().is_empty()) else {
        let cache = MemoryCache::default();
        tracing::info!(cache = %cache.describe(), "Caching in process memory");
        return Ok(Arc::new(cache));
    };
    open_memcached(parse_servers(value)?)
}

#[cfg(feature = "memcached")]
fn open_memcached(servers: Vec<Server>) -> Result<Arc<dyn Cache>, CacheError> {
    let cache = memcached::MemcachedCache::new(servers)?;
    if cache.probe() {
        tracing::info!(cache = %cache.describe(), "Caching in {}", cache.describe());
    }
    Ok(Arc::new(cache))
}

#[cfg(not(feature = "memcached"))]
fn open_memcached(_servers: Vec<Server>) -> Result<Arc<dyn Cache>, CacheError> {
    Err(config_error(
        "this build has no memcached support; build hitcore with its `memcached` feature \
         or leave the variable unset"
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, port: u16) -> Server {
        Server {
            host: host.to_owned(),
            port,
        }
    }

    #[rstest::rstest]
    #[case("127.0.0.1:11311", vec![server("127.0.0.1", 11311)])]
    #[case("cache", vec![server("cache", 11211)])]
    #[case("memcache://a.example:1/", vec![server("a.example", 1)])]
    #[case(" a:1 , b:2 ,", vec![server("a", 1), server("b", 2)])]
    #[case("[::1]:11211", vec![server("::1", 11211)])]
    #[case("[fe80::1]", vec![server("fe80::1", 11211)])]
    fn servers_are_parsed(#[case] value: &str, #[case] expected: Vec<Server>) {
        assert_eq!(parse_servers(value).expect(value), expected);
    }

    #[rstest::rstest]
    #[case("", "got none")]
    #[case(" , ", "got none")]
    #[case("host:port", "the port")]
    #[case("host:0", "the port")]
    #[case("host:70000", "the port")]
    #[case(":11211", "no host")]
    #[case("::1", "brackets")]
    #[case("fe80::1:11211", "brackets")]
    #[case("[::1", "closing")]
    #[case("[::1]x", "after")]
    #[case("http://cache:11211", "memcache://")]
    #[case("a b:1", "no host")]
    fn bad_servers_name_the_variable(#[case] value: &str, #[case] why: &str) {
        let e = parse_servers(value).expect_err(value);
        let text = e.to_string();
        assert!(text.starts_with("MEMCACHE_SERVERS: "), "{text}");
        assert!(text.contains(why), "{value}: {text}");
    }

    #[test]
    fn servers_print_as_they_are_written() {
        assert_eq!(server("::1", 11211).to_string(), "[::1]:11211");
        assert_eq!(server("cache", 1).to_string(), "cache:1");
    }

    #[test]
    fn without_servers_the_cache_is_in_memory() {
        for value in [None, Some(""), Some("  ")] {
            let cache = open(value).expect("memory");
            assert_eq!(cache.describe(), "memory");
        }
        assert!(open(Some("nonsense:port")).is_err());
    }

    #[test]
    fn typed_values_round_trip_and_load_only_on_a_miss() {
        let cache = MemoryCache::default();
        let ttl = Duration::from_secs(60);
        let mut loads = 0;
        for _ in 0..3 {
            let value: Vec<String> = get_or_load(&cache, "k", ttl, || {
                loads += 1;
                Ok::<_, ()>(vec!["a".to_owned()])
            })
            .expect("loaded");
            assert_eq!(value, ["a"]);
        }
        assert_eq!(loads, 1);
        let failed: Result<u32, &str> = get_or_load(&cache, "other", ttl, || Err("store down"));
        assert_eq!(failed, Err("store down"));
        assert_eq!(cache.get("other"), None, "an error is not cached");
    }

    #[test]
    fn a_value_that_does_not_parse_is_a_miss_and_is_dropped() {
        let cache = MemoryCache::default();
        cache.set("k", b"not json", Duration::from_secs(60));
        assert_eq!(get_json::<Vec<u32>>(&cache, "k"), None);
        assert_eq!(cache.get("k"), None);
    }
}
