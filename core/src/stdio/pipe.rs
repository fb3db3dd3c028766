//! [`OutputPipe`]: one output stream with a byte limit, kept or discarded.

use std::sync::{Arc, Mutex};

/// A stdout or stderr that accepts at most `limit` bytes, and answers the
/// guest the same way whether it keeps them (captured output) or drops them
/// (discarded output): only the host's copy differs. Its answers past the
/// limit are those of wasmtime-wasi's `MemoryOutputPipe`: a write that does
/// not fit keeps what fits and fails (preview1), a preview2 write past the
/// room `check-write` gave traps, and a full pipe reports itself closed.
///
/// A handle: clones share one stream.
#[derive(Clone, Debug)]
pub struct OutputPipe(Arc<Mutex<State>>);

#[derive(Debug)]
struct State {
    /// The bytes written, when they are kept.
    kept: Option<Vec<u8>>,
    /// Bytes accepted so far (kept or not).
    written: usize,
    limit: usize,
}

impl OutputPipe {
    /// A pipe that accepts `limit` bytes and keeps them if `keep`.
    pub fn new(keep: bool, limit: usize) -> Self {
        OutputPipe(Arc::new(Mutex::new(State {
            kept: keep.then(Vec::new),
            written: 0,
            limit,
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the counters consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Accepts as much of `bytes` as the limit allows: `false` if not all of
    /// them fitted (preview1 then answers `EIO`).
    pub fn write_limited(&self, bytes: &[u8]) -> bool {
        self.state().accept_prefix(bytes) == bytes.len()
    }

    /// Accepts the longest prefix of `bytes` that fits; returns its length.
    pub fn accept_prefix(&self, bytes: &[u8]) -> usize {
        self.state().accept_prefix(bytes)
    }

    /// Accepts all of `bytes` if they fit, else nothing: `Err(limit)`.
    pub fn accept_all(&self, bytes: &[u8]) -> Result<(), usize> {
        let mut state = self.state();
        if bytes.len() > state.room() {
            return Err(state.limit);
        }
        state.accept_prefix(bytes);
        Ok(())
    }

    /// How many more bytes the pipe accepts.
    pub fn room(&self) -> usize {
        self.state().room()
    }

    /// The bytes kept so far (none when discarding).
    pub fn contents(&self) -> Vec<u8> {
        self.state().kept.clone().unwrap_or_default()
    }
}

impl State {
    fn room(&self) -> usize {
        self.limit.saturating_sub(self.written)
    }

    /// Accepts the longest prefix of `bytes` that fits; returns its length.
    fn accept_prefix(&mut self, bytes: &[u8]) -> usize {
        let fits = bytes.len().min(self.room());
        self.written += fits;
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(&bytes[..fits]);
        }
        fits
    }
}

/// wasi-common's stdout and stderr (which the crate's served `fd_write`
/// does not use, but a caller's own functions might): a partial write of
/// what fits, an error once full.
impl std::io::Write for OutputPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.state().accept_prefix(buf) {
            0 if !buf.is_empty() => Err(std::io::Error::other("output limit reached")),
            n => Ok(n),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
