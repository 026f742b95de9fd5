//! A worker inside another process: the web server runs one in
//! development, so that a single command serves pages and runs jobs.
//!
//! It runs on threads of its own, like the `hitjobs` binary's worker; the
//! caller keeps an [`EmbeddedWorker`] and shuts it down with its own
//! shutdown.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::Context as _;
use hitcore::WorkerId;
use hitcore::store::Store;

use crate::jobs::{self, Services};
use crate::runtime::{ShutdownReport, Worker, WorkerOptions};
use crate::shutdown::ShutdownToken;

/// A worker running inside this process.
#[derive(Debug)]
pub struct EmbeddedWorker {
    id: WorkerId,
    token: ShutdownToken,
    thread: JoinHandle<ShutdownReport>,
}

/// Starts a worker with every production job on `store`, on threads of
/// its own, and returns once it is registered.
///
/// The store calls happen on the worker's threads, so this may be called
/// from async code too: it only waits for the registration to be
/// confirmed.
///
/// # Errors
/// When the worker cannot register or schedule its recurring jobs (the
/// database is unreachable, or behind), or a thread cannot be started.
pub fn spawn_embedded<S>(
    store: Arc<S>,
    services: Services,
    options: WorkerOptions,
) -> anyhow::Result<EmbeddedWorker>
where
    S: Store + ?Sized + 'static,
{
    let (started_tx, started_rx) = mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("hit-job-embedded".to_owned())
        .spawn(move || {
            let registry = jobs::registry::<S>(&services);
            match Worker::new(store, registry, options).start() {
                Ok(handle) => {
                    let _ = started_tx.send(Ok((handle.id(), handle.token())));
                    handle.wait()
                }
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                    ShutdownReport::default()
                }
            }
        })
        .context("while starting the embedded worker's thread")?;
    let (id, token) = started_rx
        .recv()
        .context("the embedded worker stopped while starting")?
        .context("while starting the embedded worker")?;
    Ok(EmbeddedWorker { id, token, thread })
}

impl EmbeddedWorker {
    /// The worker's id in the store.
    pub fn id(&self) -> WorkerId {
        self.id
    }

    /// The token that stops it; [`EmbeddedWorker::shutdown`] triggers it
    /// too.
    pub fn token(&self) -> ShutdownToken {
        self.token.clone()
    }

    /// Stops the worker as the binary does on SIGTERM (running jobs get
    /// the grace period, the rest go back to the queue) and waits for it.
    /// Blocks; from async code, call it on `spawn_blocking`.
    ///
    /// # Errors
    /// When the worker's thread panicked.
    pub fn shutdown(self) -> anyhow::Result<ShutdownReport> {
        self.token.trigger();
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the embedded worker's thread panicked"))
    }
}
