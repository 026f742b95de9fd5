//! The memcached cache against real servers: the one of
//! `HIT_TEST_MEMCACHE_SERVERS` (`.ci/run` starts it) for storing, reading
//! and deleting; and servers the tests start and stop themselves
//! (`/usr/bin/memcached` on a free port) for what an outage does: misses
//! and no errors while it lasts, one warning when it begins, hits again
//! once the server is back, without a restart of the cache.

#![cfg(feature = "memcached")]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hitcore::cache::memcached::MemcachedCache;
use hitcore::cache::{self, Cache, Server};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

const MINUTE: Duration = Duration::from_secs(60);
const MEMCACHED: &str = "/usr/bin/memcached";

/// Whether this run must have the real servers (`CI=true`).
fn is_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The servers of `HIT_TEST_MEMCACHE_SERVERS`; none (the test is skipped)
/// when unset, except on CI, where that fails the test.
fn shared_servers() -> Option<String> {
    match std::env::var("HIT_TEST_MEMCACHE_SERVERS") {
        Ok(s) if !s.trim().is_empty() => Some(s),
        _ if is_ci() => panic!("HIT_TEST_MEMCACHE_SERVERS is not set, and CI=true needs it"),
        _ => {
            println!("skipped: HIT_TEST_MEMCACHE_SERVERS is not set");
            None
        }
    }
}

/// Whether the memcached binary is there to start; on CI it must be.
fn has_memcached() -> bool {
    let found = std::path::Path::new(MEMCACHED).exists();
    if !found {
        assert!(!is_ci(), "{MEMCACHED} is missing, and CI=true needs it");
        println!("skipped: {MEMCACHED} is not installed");
    }
    found
}

/// A key no other test (or earlier run) uses.
fn unique_key(name: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("hit-test:{name}:{}:{nanos}:{n}", std::process::id())
}

/// A memcached of the test's own on `port`, stopped when dropped.
struct OwnMemcached {
    child: Child,
    port: u16,
}

impl OwnMemcached {
    fn start(port: u16) -> OwnMemcached {
        let child = Command::new(MEMCACHED)
            .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"])
            .args(["-u", "root", "-m", "8"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("memcached starts");
        // Waiting for the server to listen, not timing anything.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "memcached on {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OwnMemcached { child, port }
    }

    fn stop(mut self) -> u16 {
        self.kill();
        self.port
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnMemcached {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn local(port: u16) -> Vec<Server> {
    vec![Server {
        host: "127.0.0.1".to_owned(),
        port,
    }]
}

/// The log events of a test: level and message.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<(Level, String)>>>);

impl Events {
    fn count(&self, level: Level, containing: &str) -> usize {
        let events = self.0.lock().expect("events");
        events
            .iter()
            .filter(|(l, m)| *l == level && m.contains(containing))
            .count()
    }
}

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for Events {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        if let Ok(mut events) = self.0.lock() {
            events.push((*event.metadata().level(), message));
        }
    }
}

/// Runs `f` with this thread's log events collected.
fn logged<T>(f: impl FnOnce() -> T) -> (T, Events) {
    let events = Events::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    let out = tracing::subscriber::with_default(subscriber, f);
    (out, events)
}

#[test]
fn values_are_stored_read_replaced_and_deleted() {
    let Some(servers) = shared_servers() else {
        return;
    };
    let cache = cache::open(Some(&servers)).expect("memcached cache");
    assert!(cache.describe().starts_with("memcached "));
    let key = unique_key("values");
    assert_eq!(cache.get(&key), None);
    cache.set(&key, b"one", MINUTE);
    assert_eq!(cache.get(&key).as_deref(), Some(&b"one"[..]));
    cache.set(&key, b"two", MINUTE);
    assert_eq!(cache.get(&key).as_deref(), Some(&b"two"[..]));
    cache.delete(&key);
    assert_eq!(cache.get(&key), None);
    cache.delete(&key);

    let empty = unique_key("empty");
    cache.set(&empty, b"", MINUTE);
    assert_eq!(cache.get(&empty).as_deref(), Some(&b""[..]));
}

#[test]
fn a_zero_time_to_live_stores_nothing_and_drops_the_old_value() {
    let Some(servers) = shared_servers() else {
        return;
    };
    let cache = cache::open(Some(&servers)).expect("memcached cache");
    let key = unique_key("ttl");
    cache.set(&key, b"kept a minute", MINUTE);
    assert!(cache.get(&key).is_some());
    // memcached would read an expiry of 0 as "never": nothing is stored.
    cache.set(&key, b"kept forever?", Duration::ZERO);
    assert_eq!(cache.get(&key), None);
    let other = unique_key("ttl-sub-second");
    cache.set(&other, b"x", Duration::from_millis(10));
    assert_eq!(
        cache.get(&other).as_deref(),
        Some(&b"x"[..]),
        "rounded up to a second"
    );
}

#[test]
fn typed_values_go_through_memcached() {
    let Some(servers) = shared_servers() else {
        return;
    };
    let cache = cache::open(Some(&servers)).expect("memcached cache");
    let key = unique_key("typed");
    let mut loads = 0;
    for _ in 0..2 {
        let value: Vec<i64> = cache::get_or_load(&*cache, &key, MINUTE, || {
            loads += 1;
            Ok::<_, ()>(vec![1, -2, i64::MAX])
        })
        .expect("loaded");
        assert_eq!(value, [1, -2, i64::MAX]);
    }
    assert_eq!(loads, 1, "the second read is a hit");
}

#[test]
fn a_value_too_large_is_dropped_without_taking_the_server_out() {
    let Some(servers) = shared_servers() else {
        return;
    };
    let (_, events) = logged(|| {
        let cache = cache::open(Some(&servers)).expect("memcached cache");
        let big = unique_key("big");
        cache.set(&big, &vec![0u8; 2 * 1024 * 1024], MINUTE);
        assert_eq!(cache.get(&big), None);
        let small = unique_key("small");
        cache.set(&small, b"still cached", MINUTE);
        assert_eq!(cache.get(&small).as_deref(), Some(&b"still cached"[..]));
    });
    assert_eq!(events.count(Level::WARN, "not reachable"), 0);
}

#[test]
fn an_outage_is_a_miss_warned_once_and_the_server_is_used_again_when_back() {
    if !has_memcached() {
        return;
    }
    let server = OwnMemcached::start(free_port());
    let port = server.port;
    let cache = MemcachedCache::new(local(port))
        .expect("cache")
        .with_retry_after(Duration::ZERO);
    let key = unique_key("outage");

    let ((), events) = logged(|| {
        cache.set(&key, b"before", MINUTE);
        assert_eq!(cache.get(&key).as_deref(), Some(&b"before"[..]));
    });
    assert_eq!(events.count(Level::WARN, "not reachable"), 0);

    let port = server.stop();
    let ((), events) = logged(|| {
        for _ in 0..3 {
            assert_eq!(cache.get(&key), None, "a miss while it is down");
            cache.set(&key, b"during", MINUTE);
            cache.delete(&key);
        }
    });
    assert_eq!(
        events.count(Level::WARN, "not reachable"),
        1,
        "one warning per outage, not per call"
    );

    let _back = OwnMemcached::start(port);
    let ((), events) = logged(|| {
        cache.set(&key, b"after", MINUTE);
        assert_eq!(cache.get(&key).as_deref(), Some(&b"after"[..]));
    });
    assert_eq!(events.count(Level::INFO, "answers again"), 1);
    assert_eq!(events.count(Level::WARN, "not reachable"), 0);
}

#[test]
fn a_memcached_down_at_start_is_no_error_and_is_picked_up_later() {
    if !has_memcached() {
        return;
    }
    let port = free_port();
    let (cache, events) = logged(|| cache::open(Some(&format!("127.0.0.1:{port}"))));
    let cache = cache.expect("a server that is down is no start-up error");
    assert_eq!(events.count(Level::WARN, "not reachable"), 1);
    let key = unique_key("late");
    let ((), events) = logged(|| {
        cache.set(&key, b"nowhere", MINUTE);
        assert_eq!(cache.get(&key), None);
    });
    assert_eq!(
        events.count(Level::WARN, "not reachable"),
        0,
        "warned already"
    );

    // The open cache waits RETRY_AFTER before it asks again; a cache made
    // without the wait shows the pick-up here.
    let quick = MemcachedCache::new(local(port))
        .expect("cache")
        .with_retry_after(Duration::ZERO);
    assert!(!logged(|| quick.probe()).0);
    let _server = OwnMemcached::start(port);
    quick.set(&key, b"found", MINUTE);
    assert_eq!(quick.get(&key).as_deref(), Some(&b"found"[..]));
}

#[test]
fn a_bad_server_list_is_a_start_up_error_naming_the_variable() {
    let e = cache::open(Some("cache.example:eleven"))
        .err()
        .expect("refused");
    assert!(e.to_string().starts_with("MEMCACHE_SERVERS: "), "{e}");
}
