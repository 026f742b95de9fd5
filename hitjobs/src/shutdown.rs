//! Telling a worker to stop: a [`ShutdownToken`] any thread may trigger,
//! and [`Signals`], which resolves on SIGTERM or SIGINT.
//!
//! The token is plain threads and a condition variable, because the worker
//! runs on threads of its own; the signal future is async, because signals
//! reach a process through tokio's handler.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A flag that, once set, stays set, and wakes whoever waits for it.
#[derive(Clone, Debug, Default)]
pub struct ShutdownToken {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl ShutdownToken {
    /// A token not yet triggered.
    pub fn new() -> ShutdownToken {
        ShutdownToken::default()
    }

    /// Asks everything holding a clone of this token to stop.
    pub fn trigger(&self) {
        *self.flag() = true;
        self.inner.1.notify_all();
    }

    /// Whether [`ShutdownToken::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        *self.flag()
    }

    /// Blocks until the token is triggered.
    pub fn wait(&self) {
        let mut flag = self.flag();
        while !*flag {
            flag = self
                .inner
                .1
                .wait(flag)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Blocks until the token is triggered or `timeout` has passed; returns
    /// whether it was triggered.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut flag = self.flag();
        while !*flag {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            flag = self
                .inner
                .1
                .wait_timeout(flag, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *flag
    }

    /// A bool cannot be left half-written, so a poisoned lock is used as
    /// it is.
    fn flag(&self) -> MutexGuard<'_, bool> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// SIGTERM and SIGINT, caught from the moment of [`Signals::install`]:
/// install them before starting a worker, so a signal during the start is
/// not the default (immediate) death.
#[derive(Debug)]
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Catches both signals from now on.
    ///
    /// # Errors
    /// Outside a tokio runtime with its I/O driver, or when the platform
    /// refuses the handlers.
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};

        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves with the signal's name on the next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// Resolves with the signal's name on the first SIGTERM or SIGINT from
/// now on.
///
/// # Errors
/// As for [`Signals::install`].
pub async fn terminated() -> std::io::Result<&'static str> {
    Ok(Signals::install()?.recv().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_triggered_token_wakes_its_waiters_and_stays_triggered() {
        let token = ShutdownToken::new();
        assert!(!token.wait_timeout(Duration::ZERO));
        let waiter = {
            let token = token.clone();
            std::thread::spawn(move || token.wait())
        };
        token.trigger();
        waiter.join().expect("the waiter returns");
        assert!(token.is_triggered());
        assert!(token.wait_timeout(Duration::from_secs(60)));
    }
}
