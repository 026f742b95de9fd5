//! Files our code writes and reads back (export files of jobs, person
//! pictures), kept in a folder or an S3 bucket through opendal. What goes
//! where, and who may read it, is decided elsewhere; this module only
//! moves bytes under checked keys ([`StorageKey`]).
//!
//! # Blocking calls on a runtime of its own
//!
//! Everything that calls this module blocks: store methods, job handlers,
//! the web tier's `spawn_blocking` closures. opendal's S3 client is async,
//! so [`Storage`] owns a small tokio runtime (two worker threads named
//! `hit-storage`) and every call hands its future to that runtime and
//! waits for the result on a plain channel. We chose that over opendal's
//! own blocking wrapper, which borrows the caller's runtime through
//! `Handle::block_on`: that panics when it is reached from async code by
//! mistake, and depends on whoever happens to be the caller's runtime
//! (the web tests run a single-threaded one). With its own runtime a call
//! works from any thread; from async code it only blocks that thread, so
//! the rule stays the store's rule: run calls with `spawn_blocking`.
//!
//! Large files stream both ways: [`Storage::writer`] gives a
//! [`std::io::Write`] that sends [`CHUNK_BYTES`] at a time (S3 multipart
//! parts), so a CSV writer can write a 500,000-person export row by row in
//! constant memory; [`Storage::reader`] reads back chunk by chunk.
//!
//! Limitations: no retries (a failed call is [`StorageError::Unavailable`]
//! and the caller's job retries); no listing; S3 session tokens are not
//! configurable (use the AWS chain for temporary credentials).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use opendal::Operator;

mod io;
mod key;
mod location;

pub use io::{StorageReader, StorageWriter};
pub use key::{MAX_KEY_BYTES, StorageKey};
pub use location::{S3Credentials, S3Location, STORAGE_URL, StorageLocation};

/// The size of the parts a [`StorageWriter`] sends and a [`StorageReader`]
/// fetches, in bytes (8 MiB: S3 refuses multipart parts under 5 MiB).
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// How long one call that moves no data may take (a stat, a delete).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one read or write of a chunk may take.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Storage::probe`] may take, both calls together: a readiness
/// probe must answer well before a load balancer gives up on it.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The folder, below the storage folder, where the folder backend writes a
/// file before it moves it to its key, so a half-written file is never
/// seen under its key. [`StorageKey`] refuses parts starting with `.`.
const INCOMING_FOLDER: &str = ".incoming";

/// What can go wrong with the storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A setting cannot be used; `variable` names it (`STORAGE_URL`,
    /// `AWS_ACCESS_KEY_ID`, ...).
    #[error("{variable}: {message}")]
    Config {
        variable: &'static str,
        message: String,
    },
    /// The key breaks a rule of [`StorageKey`]; nothing was asked of the
    /// storage. `key` is escaped for printing.
    #[error("the storage key `{key}` is refused: {reason}")]
    RefusedKey { key: String, reason: &'static str },
    /// There is no file with this key.
    #[error("there is no file `{key}` in the storage")]
    NotFound { key: String },
    /// The storage cannot be reached right now, or did not answer in time;
    /// the same call may succeed later. The cause is the source.
    #[error("the storage is not reachable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The storage refused the call (permissions, a missing bucket, ...):
    /// the configuration needs a look. The cause is the source.
    #[error("the storage refused the request")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The storage: a folder, a bucket or memory, behind one set of blocking
/// calls. Cheap to clone; clones share the runtime and, for memory, the
/// files.
#[derive(Clone)]
pub struct Storage {
    op: Operator,
    runtime: Arc<OwnedRuntime>,
    location: Arc<StorageLocation>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.location)
    }
}

impl Storage {
    /// Opens the storage at `location`: a folder is created when missing;
    /// a bucket is not contacted yet (the first call does that).
    ///
    /// # Errors
    /// [`StorageError::Backend`] when the folder cannot be created or the
    /// S3 settings are refused by the client; [`StorageError::Unavailable`]
    /// when the runtime's threads cannot be started.
    #[tracing::instrument(skip_all)]
    pub fn open(location: &StorageLocation) -> Result<Storage, StorageError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hit-storage")
            .enable_all()
            .build()
            .map_err(|e| StorageError::Unavailable(Box::new(e)))?;
        let op = {
            let _entered = runtime.enter();
            operator(location)?
        };
        Ok(Storage {
            op,
            runtime: Arc::new(OwnedRuntime(Some(runtime))),
            location: Arc::new(location.clone()),
        })
    }

    /// Where the files are.
    pub fn location(&self) -> &StorageLocation {
        &self.location
    }

    /// Writes a whole file at once, replacing any file with that key.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    #[tracing::instrument(skip_all, fields(storage.key = %key, size_bytes = bytes.len()))]
    pub fn write(&self, key: &StorageKey, bytes: Vec<u8>) -> Result<(), StorageError> {
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        self.run(key, async move { op.write(&path, bytes).await.map(|_| ()) })
    }

    /// A writer for a file that is written in pieces (an export); see
    /// [`StorageWriter`]. The file appears under its key only once
    /// [`StorageWriter::finish`] succeeds, replacing any file with that
    /// key; a writer dropped before that leaves nothing behind.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    #[tracing::instrument(skip_all, fields(storage.key = %key))]
    pub fn writer(&self, key: &StorageKey) -> Result<StorageWriter, StorageError> {
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        let writer = self.run(key, async move {
            op.writer_options(
                &path,
                opendal::options::WriteOptions {
                    chunk: Some(CHUNK_BYTES),
                    ..Default::default()
                },
            )
            .await
        })?;
        Ok(StorageWriter::new(self.clone(), key.clone(), writer))
    }

    /// Reads a whole file into memory; for small files (pictures). Use
    /// [`Storage::reader`] for exports.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] when there is none; otherwise
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    #[tracing::instrument(skip_all, fields(storage.key = %key))]
    pub fn read(&self, key: &StorageKey) -> Result<Vec<u8>, StorageError> {
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        self.run(key, async move { op.read(&path).await.map(|b| b.to_vec()) })
    }

    /// A reader over a file, fetching [`CHUNK_BYTES`] at a time; its size
    /// is known before the first byte is read.
    ///
    /// # Errors
    /// As for [`Storage::read`].
    #[tracing::instrument(skip_all, fields(storage.key = %key))]
    pub fn reader(&self, key: &StorageKey) -> Result<StorageReader, StorageError> {
        let size = self.size(key)?.ok_or_else(|| StorageError::NotFound {
            key: key.to_string(),
        })?;
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        let reader = self.run(key, async move { op.reader(&path).await })?;
        Ok(StorageReader::new(self.clone(), key.clone(), reader, size))
    }

    /// The size of a file in bytes, or `None` when there is none.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    #[tracing::instrument(skip_all, fields(storage.key = %key))]
    pub fn size(&self, key: &StorageKey) -> Result<Option<u64>, StorageError> {
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        match self.run(key, async move { op.stat(&path).await }) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.content_length())),
            Ok(_) | Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether there is a file with this key.
    ///
    /// # Errors
    /// As for [`Storage::size`].
    pub fn exists(&self, key: &StorageKey) -> Result<bool, StorageError> {
        Ok(self.size(key)?.is_some())
    }

    /// Deletes a file; deleting one that is not there is not an error, so
    /// a clean-up can run twice.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    #[tracing::instrument(skip_all, fields(storage.key = %key))]
    pub fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        match self.run(key, async move { op.delete(&path).await }) {
            Ok(()) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes every file whose key starts with `folder` and `/` (all the
    /// files of an export job, all pictures of a person); nothing there is
    /// not an error.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    #[tracing::instrument(skip_all, fields(storage.key = %folder))]
    pub fn delete_folder(&self, folder: &StorageKey) -> Result<(), StorageError> {
        let op = self.op.clone();
        let path = format!("{folder}/");
        let deleted = self.run(folder, async move {
            op.delete_with(&path).recursive(true).await
        });
        match deleted {
            Ok(()) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Checks that the storage takes files: writes a small probe file
    /// under `health/` and deletes it again, within [`PROBE_TIMEOUT`]. The
    /// key is random, so probes of several processes never meet; a probe
    /// cut off between the two calls leaves one small file there.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when the storage does not answer in
    /// time or cannot be reached, [`StorageError::Backend`] when it refuses
    /// the write (permissions, a missing bucket, a file where the folder
    /// should be).
    #[tracing::instrument(skip_all)]
    pub fn probe(&self) -> Result<(), StorageError> {
        let key = StorageKey::new(format!("health/probe-{}", &crate::auth::new_token()[..16]))?;
        let op = self.op.clone();
        let path = key.as_str().to_owned();
        let calls = async move {
            op.write(&path, b"ok".to_vec()).await?;
            op.delete(&path).await
        };
        // The timer must be made on the storage's runtime, inside the task.
        let timed =
            self.run_raw(async move { tokio::time::timeout(PROBE_TIMEOUT, calls).await })?;
        match timed {
            Ok(done) => done.map_err(|e| StorageError::from_opendal(e, &key)),
            Err(elapsed) => Err(StorageError::Unavailable(Box::new(elapsed))),
        }
    }

    /// Runs `future` on the storage's runtime and waits for it; errors
    /// are mapped for `key`.
    fn run<T: Send + 'static>(
        &self,
        key: &StorageKey,
        future: impl Future<Output = opendal::Result<T>> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.run_raw(future)
            .and_then(|r| r.map_err(|e| StorageError::from_opendal(e, key)))
    }

    /// Runs `future` on the storage's runtime and waits for its output.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when the runtime is gone (the process
    /// is stopping) or the task panicked.
    fn run_raw<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StorageError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.handle()?.spawn(async move {
            // The receiver waits until this sends; it can only be gone
            // if its thread panicked, and then nobody wants the result.
            let _ = tx.send(future.await);
        });
        rx.recv()
            .map_err(|_| StorageError::Unavailable("the storage runtime stopped".into()))
    }

    /// Starts `future` on the storage's runtime without waiting (a clean-up
    /// in a `Drop`, which must not block).
    fn spawn_detached(&self, future: impl Future<Output = ()> + Send + 'static) {
        if let Ok(handle) = self.runtime.handle() {
            handle.spawn(future);
        }
    }
}

impl StorageError {
    /// Sorts an opendal error: not found, passing trouble, or a refusal.
    fn from_opendal(e: opendal::Error, key: &StorageKey) -> StorageError {
        use opendal::ErrorKind;
        match e.kind() {
            ErrorKind::NotFound => StorageError::NotFound {
                key: key.to_string(),
            },
            ErrorKind::PermissionDenied
            | ErrorKind::ConfigInvalid
            | ErrorKind::Unsupported
            | ErrorKind::IsADirectory
            | ErrorKind::NotADirectory
            | ErrorKind::AlreadyExists => StorageError::Backend(Box::new(e)),
            // Unexpected covers a refused connection, a timeout and a 5xx
            // answer, whether opendal marked it temporary or not.
            _ => StorageError::Unavailable(Box::new(e)),
        }
    }
}

/// The opendal operator for `location`, with time limits on every call.
/// Runs inside the storage runtime's context.
fn operator(location: &StorageLocation) -> Result<Operator, StorageError> {
    let built = match location {
        StorageLocation::Folder(path) => {
            let root = std::path::absolute(path).map_err(|e| StorageError::Backend(Box::new(e)))?;
            let incoming = root.join(INCOMING_FOLDER);
            let builder = opendal::services::Fs::default()
                .root(&root.to_string_lossy())
                .atomic_write_dir(&incoming.to_string_lossy());
            Operator::new(builder).map(|b| b.finish())
        }
        StorageLocation::Memory => {
            Operator::new(opendal::services::Memory::default()).map(|b| b.finish())
        }
        StorageLocation::S3(s3) => Operator::new(s3_builder(s3)).map(|b| b.finish()),
    };
    let op = built.map_err(|e| StorageError::Backend(Box::new(e)))?;
    Ok(op.layer(
        opendal::layers::TimeoutLayer::new()
            .with_timeout(CALL_TIMEOUT)
            .with_io_timeout(IO_TIMEOUT),
    ))
}

/// The S3 client settings: path-style requests (what S3-compatible
/// servers expect, and AWS still serves); given credentials replace the
/// AWS chain entirely, so a stray profile cannot change who we are.
fn s3_builder(s3: &S3Location) -> opendal::services::S3 {
    let mut builder = opendal::services::S3::default()
        .bucket(&s3.bucket)
        .root(&format!("/{}", s3.prefix))
        .region(&s3.region);
    if let Some(endpoint) = &s3.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(c) = &s3.credentials {
        builder = builder
            .access_key_id(c.access_key_id())
            .secret_access_key(c.secret_access_key())
            .disable_config_load()
            .disable_ec2_metadata();
    }
    builder
}

/// The storage's runtime, shut down without waiting when the last clone
/// of the storage goes: dropping a runtime the usual way blocks, and
/// panics when that happens inside async code (a test, the web server's
/// state).
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    fn handle(&self) -> Result<&tokio::runtime::Handle, StorageError> {
        self.0
            .as_ref()
            .map(tokio::runtime::Runtime::handle)
            .ok_or_else(|| StorageError::Unavailable("the storage runtime stopped".into()))
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
