//! The in-process cache (moka): the default when `MEMCACHE_SERVERS` is
//! unset, for development and single-process deployments. It is bounded
//! by the bytes it holds, and each entry expires after its own time to
//! live. Every process has its own; what one process changes, the others
//! learn from the stamps in the keys, not from this cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;

use super::Cache;

/// What the memory cache holds at most by default: 64 MiB of keys and
/// values.
pub const DEFAULT_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// A value with the time to live it was stored with.
#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    ttl: Duration,
}

/// Expires each entry after the time to live of its latest `set`.
struct EntryTtl;

impl Expiry<String, Entry> for EntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _at: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A [`Cache`] in this process's memory.
pub struct MemoryCache {
    entries: moka::sync::Cache<String, Entry>,
}

impl MemoryCache {
    /// A cache that holds at most `capacity_bytes` of keys and values,
    /// evicting the least useful entries beyond that.
    pub fn new(capacity_bytes: u64) -> MemoryCache {
        let entries = moka::sync::Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|key: &String, entry: &Entry| {
                u32::try_from(key.len() + entry.bytes.len()).unwrap_or(u32::MAX)
            })
            .expire_after(EntryTtl)
            .build();
        MemoryCache { entries }
    }
}

impl Default for MemoryCache {
    fn default() -> MemoryCache {
        MemoryCache::new(DEFAULT_CAPACITY_BYTES)
    }
}

impl Cache for MemoryCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).map(|e| e.bytes.to_vec())
    }

    fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        if ttl.is_zero() {
            self.entries.invalidate(key);
            return;
        }
        let entry = Entry {
            bytes: Arc::from(value),
            ttl,
        };
        self.entries.insert(key.to_owned(), entry);
    }

    fn delete(&self, key: &str) {
        self.entries.invalidate(key);
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn values_are_stored_replaced_and_deleted() {
        let cache = MemoryCache::default();
        assert_eq!(cache.get("a"), None);
        cache.set("a", b"one", MINUTE);
        assert_eq!(cache.get("a").as_deref(), Some(&b"one"[..]));
        cache.set("a", b"two", MINUTE);
        assert_eq!(cache.get("a").as_deref(), Some(&b"two"[..]));
        cache.delete("a");
        assert_eq!(cache.get("a"), None);
        cache.delete("never stored");
    }

    #[test]
    fn a_zero_time_to_live_stores_nothing_and_drops_the_old_value() {
        let cache = MemoryCache::default();
        cache.set("a", b"one", MINUTE);
        cache.set("a", b"two", Duration::ZERO);
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn each_entry_keeps_its_own_time_to_live() {
        let cache = MemoryCache::default();
        cache.set("short", b"x", Duration::from_nanos(1));
        cache.set("long", b"y", MINUTE);
        // A nanosecond has passed by the time anyone asks.
        assert_eq!(cache.get("short"), None);
        assert_eq!(cache.get("long").as_deref(), Some(&b"y"[..]));
        cache.set("long", b"z", Duration::from_nanos(1));
        assert_eq!(cache.get("long"), None, "the new time to live applies");
    }

    #[test]
    fn the_cache_holds_no_more_than_its_capacity() {
        let cache = MemoryCache::new(10_000);
        let value = [7u8; 1_000];
        for i in 0..100 {
            cache.set(&format!("key-{i}"), &value, MINUTE);
        }
        cache.entries.run_pending_tasks();
        assert!(
            cache.entries.weighted_size() <= 10_000,
            "{} bytes held",
            cache.entries.weighted_size()
        );
        let kept = (0..100)
            .filter(|i| cache.get(&format!("key-{i}")).is_some())
            .count();
        assert!((1..=10).contains(&kept), "{kept} entries kept");
    }
}
