//! `read-via-stream`, `write-via-stream` and `append-via-stream`: streams on
//! a file of a virtual tree, answered at once (no background task, so the
//! same calls see the same bytes every run).

use super::Filesystem;
use super::convert::{error_code, error_index};
use crate::fs::{Errno, Ino, check_transfer};
use crate::trace::{Returned, WriteRef};
use bytes::Bytes;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::ErrorCode;
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

/// The most bytes one stream read returns (stock's read buffer).
pub(crate) const MAX_READ: usize = 64 * 1024;

/// How many bytes `check-write` permits at a time (stock's file capacity).
pub(crate) const WRITE_CAPACITY: usize = 1024 * 1024;

/// The error behind a stream's `last-operation-failed`:
/// `filesystem-error-code` returns its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamFailure(pub(crate) ErrorCode);

impl std::fmt::Display for StreamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "filesystem error: {:?}", self.0)
    }
}

impl std::error::Error for StreamFailure {}

/// The file a stream reads or writes; it holds one handle on the file (see
/// [`FsTree::retain`](crate::fs::FsTree::retain)) until dropped.
struct OpenFile {
    fs: Filesystem,
    mount: usize,
    ino: Ino,
}

impl OpenFile {
    fn record(&self, name: &str, args: &[u64], result: &Result<Vec<u8>, ErrorCode>) {
        let Some(recorder) = &self.fs.recorder else {
            return;
        };
        let mut all = vec![self.mount as i64, self.ino as i64];
        all.extend(args.iter().map(|&a| a as i64));
        match result {
            Ok(bytes) => recorder.record(
                name,
                &all,
                Returned::Values(&[0]),
                &[WriteRef::Bytes { offset: 0, bytes }],
            ),
            Err(code) => {
                recorder.record(name, &all, Returned::Values(&[1, error_index(*code)]), &[])
            }
        }
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        let mut mounts = self.fs.mounts();
        if let Some(mount) = mounts.get_mut(self.mount) {
            let _ = mount.tree.close(self.ino);
        }
    }
}

/// A failed operation: reported once, then the stream is closed.
fn failed(code: ErrorCode) -> StreamError {
    StreamError::LastOperationFailed(StreamFailure(code).into())
}

/// `read-via-stream`.
pub(crate) struct FileReader {
    file: OpenFile,
    /// Opened for reading (else every read fails with `bad-descriptor`).
    readable: bool,
    position: u64,
    closed: bool,
}

impl FileReader {
    /// A reader of `ino` from `position`; the caller has retained `ino`.
    pub(crate) fn new(
        fs: Filesystem,
        mount: usize,
        ino: Ino,
        readable: bool,
        position: u64,
    ) -> Self {
        FileReader {
            file: OpenFile { fs, mount, ino },
            readable,
            position,
            closed: false,
        }
    }

    fn read_at(&self, size: usize) -> Result<Vec<u8>, ErrorCode> {
        if self.position > i64::MAX as u64 {
            return Err(ErrorCode::Invalid);
        }
        if !self.readable {
            return Err(ErrorCode::BadDescriptor);
        }
        let mut buf = vec![0; size.min(MAX_READ)];
        check_transfer(Some(self.position), buf.len() as u64, true).map_err(error_code)?;
        let mounts = self.file.fs.mounts();
        let tree = &mounts[self.file.mount].tree;
        let n = tree
            .read_at(self.file.ino, self.position, &mut buf)
            .map_err(error_code)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Reads up to `size` bytes (at most [`MAX_READ`]) at the stream's
    /// position, records the read, and moves past what it returned: empty
    /// at the end of the file. Preview2's `read` and WASI 0.3's stream
    /// producer both read through it.
    pub(crate) fn read_next(&mut self, size: usize) -> Result<Vec<u8>, ErrorCode> {
        let result = self.read_at(size);
        self.file.record(
            "wasi:filesystem/file-stream.read",
            &[self.position, size as u64],
            &result,
        );
        if let Ok(bytes) = &result {
            self.position += bytes.len() as u64;
        }
        result
    }
}

#[async_trait::async_trait]
impl InputStream for FileReader {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        if size == 0 {
            return Ok(Bytes::new());
        }
        match self.read_next(size) {
            Ok(bytes) if bytes.is_empty() => {
                self.closed = true;
                Err(StreamError::Closed)
            }
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(code) => {
                self.closed = true;
                Err(failed(code))
            }
        }
    }
}

#[async_trait::async_trait]
impl Pollable for FileReader {
    /// Always ready: a read is answered at once.
    async fn ready(&mut self) {}
}

/// Where a writer puts its bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WriteMode {
    /// At this offset, which moves past each write.
    At(u64),
    /// At the end of the file.
    Append,
}

/// `write-via-stream` and `append-via-stream`.
pub(crate) struct FileWriter {
    file: OpenFile,
    /// Opened for writing (else every write fails with `bad-descriptor`).
    writable: bool,
    mode: WriteMode,
    state: WriterState,
}

enum WriterState {
    Ready,
    Failed(ErrorCode),
    Closed,
}

impl FileWriter {
    /// A writer of `ino`; the caller has retained `ino`.
    pub(crate) fn new(
        fs: Filesystem,
        mount: usize,
        ino: Ino,
        writable: bool,
        mode: WriteMode,
    ) -> Self {
        FileWriter {
            file: OpenFile { fs, mount, ino },
            writable,
            mode,
            state: WriterState::Ready,
        }
    }

    /// Writes all of `bytes` (as stock loops until every byte is written);
    /// the bytes written before an error stay written.
    fn write_all(&mut self, bytes: &[u8]) -> Result<u64, ErrorCode> {
        if let WriteMode::At(offset) = self.mode
            && offset > i64::MAX as u64
        {
            return Err(ErrorCode::Invalid);
        }
        if !self.writable {
            return Err(ErrorCode::BadDescriptor);
        }
        let now = self.file.fs.now();
        let mut mounts = self.file.fs.mounts();
        let tree = &mut mounts[self.file.mount].tree;
        let mut done = 0;
        while done < bytes.len() {
            let rest = &bytes[done..];
            if let WriteMode::At(offset) = self.mode {
                check_transfer(Some(offset + done as u64), rest.len() as u64, true)
                    .map_err(error_code)?;
            }
            let n = match self.mode {
                WriteMode::At(offset) => {
                    tree.write_at(self.file.ino, offset + done as u64, rest, now)
                }
                WriteMode::Append => tree.append(self.file.ino, rest, now),
            };
            match n {
                Ok(0) => return Err(error_code(Errno::NOSPC)),
                Ok(n) => done += n,
                Err(errno) => return Err(error_code(errno)),
            }
        }
        Ok(done as u64)
    }

    /// Writes all of `bytes` at the stream's position (or the end), records
    /// the write, and moves past it. Preview2's `write` and WASI 0.3's
    /// stream consumer both write through it.
    pub(crate) fn write_next(&mut self, bytes: &[u8]) -> Result<(), ErrorCode> {
        let at = match self.mode {
            WriteMode::At(offset) => offset,
            WriteMode::Append => u64::MAX,
        };
        let result = self.write_all(bytes);
        let recorded = result.map(|_| bytes.to_vec());
        self.file
            .record("wasi:filesystem/file-stream.write", &[at], &recorded);
        let n = result?;
        if let WriteMode::At(offset) = &mut self.mode {
            *offset += n;
        }
        Ok(())
    }

    /// The pending error, reported once; then the stream is closed.
    fn take_state(&mut self) -> StreamResult<()> {
        match std::mem::replace(&mut self.state, WriterState::Ready) {
            WriterState::Ready => Ok(()),
            WriterState::Failed(code) => {
                self.state = WriterState::Closed;
                Err(failed(code))
            }
            WriterState::Closed => {
                self.state = WriterState::Closed;
                Err(StreamError::Closed)
            }
        }
    }
}

#[async_trait::async_trait]
impl OutputStream for FileWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.take_state()?;
        if let Err(code) = self.write_next(&bytes) {
            self.state = WriterState::Failed(code);
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.take_state()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.take_state().map(|()| WRITE_CAPACITY)
    }
}

#[async_trait::async_trait]
impl Pollable for FileWriter {
    /// Always ready: a write is done when `write` returns.
    async fn ready(&mut self) {}
}
