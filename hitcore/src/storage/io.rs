//! Streaming in and out of the storage: [`StorageWriter`] and
//! [`StorageReader`], both blocking, both moving [`CHUNK_BYTES`] at a time.

use std::io;

use super::{CHUNK_BYTES, Storage, StorageError, StorageKey};

/// A file being written in pieces, as a [`std::io::Write`].
///
/// Writes collect in memory and go out [`CHUNK_BYTES`] at a time, so
/// writing row by row costs one request per chunk, not per row, and
/// memory stays at one chunk however big the file gets. The file appears
/// under its key only when [`StorageWriter::finish`] succeeds; a writer
/// dropped before (a failed export) is aborted in the background, so no
/// partial file is left under the key.
///
/// `flush` sends nothing: S3 takes parts of at least 5 MiB, so a partial
/// chunk waits for more data or for `finish`.
pub struct StorageWriter {
    storage: Storage,
    key: StorageKey,
    /// None once finished, or after a failed write.
    inner: Option<opendal::Writer>,
    buffer: Vec<u8>,
    written: u64,
}

impl StorageWriter {
    pub(super) fn new(storage: Storage, key: StorageKey, inner: opendal::Writer) -> StorageWriter {
        StorageWriter {
            storage,
            key,
            inner: Some(inner),
            buffer: Vec::new(),
            written: 0,
        }
    }

    /// The key the file will have.
    pub fn key(&self) -> &StorageKey {
        &self.key
    }

    /// The bytes accepted so far (sent or still buffered).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Sends what is left and makes the file appear under its key; returns
    /// its size in bytes.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`]; the
    /// file is then not there. Also `Unavailable` when an earlier write
    /// failed.
    #[tracing::instrument(skip_all, fields(storage.key = %self.key, size_bytes = self.written))]
    pub fn finish(mut self) -> Result<u64, StorageError> {
        if !self.buffer.is_empty() {
            self.send_buffer()?;
        }
        let mut inner = self.inner.take().ok_or_else(failed_before)?;
        let closed = self.storage.run_raw(async move {
            let closed = inner.close().await;
            if closed.is_err() {
                let _ = inner.abort().await;
            }
            closed
        })?;
        closed.map_err(|e| StorageError::from_opendal(e, &self.key))?;
        Ok(self.written)
    }

    /// Sends the buffer as one chunk. After a failure the writer is
    /// aborted and every later call fails.
    fn send_buffer(&mut self) -> Result<(), StorageError> {
        let mut inner = self.inner.take().ok_or_else(failed_before)?;
        let chunk = std::mem::take(&mut self.buffer);
        let (inner, sent) = self.storage.run_raw(async move {
            let sent = inner.write(chunk).await;
            if sent.is_err() {
                let _ = inner.abort().await;
            }
            (inner, sent)
        })?;
        sent.map_err(|e| StorageError::from_opendal(e, &self.key))?;
        self.inner = Some(inner);
        Ok(())
    }
}

fn failed_before() -> StorageError {
    StorageError::Unavailable("an earlier write of this file failed".into())
}

impl io::Write for StorageWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.inner.is_none() {
            return Err(io::Error::other(failed_before()));
        }
        self.buffer.extend_from_slice(buf);
        self.written += buf.len() as u64;
        if self.buffer.len() >= CHUNK_BYTES {
            self.send_buffer().map_err(io::Error::other)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for StorageWriter {
    fn drop(&mut self) {
        if let Some(mut inner) = self.inner.take() {
            tracing::debug!(storage.key = %self.key, "Aborting an unfinished file");
            self.storage.spawn_detached(async move {
                let _ = inner.abort().await;
            });
        }
    }
}

/// A file being read in pieces, as a [`std::io::Read`] or chunk by chunk
/// ([`StorageReader::next_chunk`], for handing on to a response body).
pub struct StorageReader {
    storage: Storage,
    key: StorageKey,
    inner: opendal::Reader,
    size: u64,
    /// Where the next chunk starts.
    offset: u64,
    /// The chunk [`io::Read`] is handing out, and how far it got.
    current: Vec<u8>,
    position: usize,
}

impl StorageReader {
    pub(super) fn new(
        storage: Storage,
        key: StorageKey,
        inner: opendal::Reader,
        size: u64,
    ) -> StorageReader {
        StorageReader {
            storage,
            key,
            inner,
            size,
            offset: 0,
            current: Vec::new(),
            position: 0,
        }
    }

    /// The size of the file in bytes, as it was when the reader was made.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The next up to [`CHUNK_BYTES`] bytes, or `None` at the end.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] when the file was deleted meanwhile;
    /// [`StorageError::Unavailable`] or [`StorageError::Backend`].
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        if self.offset >= self.size {
            return Ok(None);
        }
        let end = self.size.min(self.offset + CHUNK_BYTES as u64);
        let inner = self.inner.clone();
        let range = self.offset..end;
        let chunk = self
            .storage
            .run_raw(async move { inner.read(range).await.map(|b| b.to_vec()) })?
            .map_err(|e| StorageError::from_opendal(e, &self.key))?;
        if chunk.is_empty() {
            // The file got shorter since it was measured: stop here rather
            // than ask for the same range forever.
            self.offset = self.size;
            return Ok(None);
        }
        self.offset += chunk.len() as u64;
        Ok(Some(chunk))
    }
}

impl io::Read for StorageReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.position == self.current.len() {
            match self.next_chunk().map_err(io::Error::other)? {
                Some(chunk) => {
                    self.current = chunk;
                    self.position = 0;
                }
                None => return Ok(0),
            }
        }
        let available = &self.current[self.position..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.position += n;
        Ok(n)
    }
}
