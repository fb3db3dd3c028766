//! Trace: every host call a guest makes, as a streaming digest and
//! (optionally, bounded) as a list.
//!
//! A [`Recorder`] takes each call as the adapter's tracer sees it: its
//! name, arguments, result (returned values, `proc_exit` status or trap)
//! and the bytes it wrote into guest memory. For preview1 modules the
//! adapter (`deterministic_wasi_ctx::trace::instantiate_traced`) wraps every
//! import from `wasi_snapshot_preview1` / `wasi_unstable`; the crate's own
//! functions report each range as they write it (a
//! [`WriteLog`](crate::writes::WriteLog)), so exactly the bytes a call wrote
//! are recorded, in the order it wrote them, and the tracer's work per call
//! is bounded by those bytes whatever lengths the guest passed. For another
//! function (a stock backend's, or the embedder's) the regions come from
//! its arguments and reported results ([`table::writes_of`]), each bounded;
//! a function that table does not know gets a digest of the whole memory
//! after the call, so no write escapes the trace either way.
//!
//! For preview2 components the recorder is attached to the interfaces the
//! crate serves: the clocks, timers and random streams, and every
//! `wasi:filesystem` call and file-stream read and write (its handles and
//! numbers as arguments, its strings and byte lists, in and out, as writes
//! at offset 0, its result as `[0, values...]` or `[1, error-code]`);
//! stdout and stderr are part of the run's outcome.
//!
//! # Digest encoding
//!
//! The digest is BLAKE3 over the concatenation of each call's canonical
//! encoding, in call order:
//!
//! ```text
//! call    := name_len:u8 name args_len:u8 arg* result write* 0xff
//! arg     := i64 (little-endian; i32 arguments sign-extended)
//! result  := 0x00 n:u8 i64*     -- returned values
//!          | 0x01 status:i32    -- proc_exit / exit
//!          | 0x02               -- trapped
//! write   := 0x00 offset:u32 len:u32 bytes
//!          | 0x01 memory_digest:[u8; 32]
//! ```
//!
//! (integers little-endian; names and argument lists longer than 255 are cut
//! at 255).
//!
//! Recording appends each call's encoding to a buffer hashed in whole
//! 16 KiB blocks and, in digest-only mode, takes O(1) memory whatever the
//! trace length. A kept call holds at most
//! [`KEPT_WRITE_PREFIX`] bytes of each write, with the write's length and a
//! BLAKE3 hash of all of it (the digest still covers every byte), so kept
//! calls take O(prefix) memory however much they wrote.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// What one host call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallResult {
    /// It returned these values (an errno for most preview1 functions).
    Returned(Vec<i64>),
    /// It ended the program with this status (`proc_exit`).
    Exit(i32),
    /// It trapped.
    Trapped,
}

/// How many leading bytes of each write a kept call holds (and the
/// strace-style display shows); the rest is elided, represented by the
/// write's length and hash.
pub const KEPT_WRITE_PREFIX: usize = 32;

/// Bytes a host call wrote into guest memory, as a kept call holds them.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::trace::{KEPT_WRITE_PREFIX, Write};
///
/// let write = Write::bytes(0x100, &[7; 1000]);
/// let Write::Bytes { len, prefix, .. } = &write else { unreachable!() };
/// assert_eq!((*len, prefix.len()), (1000, KEPT_WRITE_PREFIX));
/// assert_eq!(write.elided(), 1000 - KEPT_WRITE_PREFIX);
/// assert_ne!(write, Write::bytes(0x100, &[[7; 999].as_slice(), &[8]].concat()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// `len` bytes at `offset`: the first [`KEPT_WRITE_PREFIX`] of them and
    /// a hash of all of them.
    Bytes {
        /// Offset in the exported memory.
        offset: u32,
        /// How many bytes were written.
        len: u32,
        /// The first `min(len, KEPT_WRITE_PREFIX)` bytes, as they are after
        /// the call.
        prefix: Vec<u8>,
        /// BLAKE3 of all `len` bytes.
        blake3: [u8; 32],
    },
    /// BLAKE3 of the whole memory after a call whose outputs are not known
    /// from its signature.
    MemoryDigest([u8; 32]),
}

/// One recorded host call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    /// Function name (`clock_time_get`, `wasi:clocks/wall-clock.now`, ...).
    pub name: String,
    /// Arguments, widened to `i64`.
    pub args: Vec<i64>,
    /// What it returned.
    pub result: CallResult,
    /// What it wrote into guest memory.
    pub writes: Vec<Write>,
}

impl Write {
    /// The kept form of a write of `bytes` at `offset`.
    pub fn bytes(offset: u32, bytes: &[u8]) -> Write {
        Write::Bytes {
            offset,
            len: bytes.len() as u32,
            prefix: bytes[..bytes.len().min(KEPT_WRITE_PREFIX)].to_vec(),
            blake3: *blake3::hash(bytes).as_bytes(),
        }
    }

    /// How many written bytes the kept form leaves out (0 for a memory
    /// digest).
    pub fn elided(&self) -> usize {
        match self {
            Write::Bytes { len, prefix, .. } => (*len as usize).saturating_sub(prefix.len()),
            Write::MemoryDigest(_) => 0,
        }
    }
}

/// A write, borrowing all its bytes from guest memory: what is recorded
/// (see [`Write`] for what is kept).
#[derive(Clone, Copy, Debug)]
pub enum WriteRef<'a> {
    /// Bytes at an offset.
    Bytes {
        /// Offset in the exported memory.
        offset: u32,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// Digest of the whole memory.
    MemoryDigest([u8; 32]),
}

impl WriteRef<'_> {
    fn to_write(self) -> Write {
        match self {
            WriteRef::Bytes { offset, bytes } => Write::bytes(offset, bytes),
            WriteRef::MemoryDigest(d) => Write::MemoryDigest(d),
        }
    }
}

/// Appends the canonical encoding of one call's head (name, arguments,
/// result) to `out`.
fn encode_head(out: &mut Vec<u8>, name: &str, args: &[i64], result: Returned<'_>) {
    let name = &name.as_bytes()[..name.len().min(255)];
    let values = match result {
        Returned::Values(values) => values.len(),
        _ => 0,
    };
    // One capacity check for the whole head instead of one per push.
    out.reserve(name.len() + 8 * (args.len() + values) + 8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    let args = &args[..args.len().min(255)];
    out.push(args.len() as u8);
    for arg in args {
        out.extend_from_slice(&arg.to_le_bytes());
    }
    match result {
        Returned::Values(values) => {
            let values = &values[..values.len().min(255)];
            out.extend_from_slice(&[0, values.len() as u8]);
            for v in values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Returned::Exit(status) => {
            out.push(1);
            out.extend_from_slice(&status.to_le_bytes());
        }
        Returned::Trapped => out.push(2),
    }
}

/// A [`CallResult`], borrowing its values.
#[derive(Clone, Copy, Debug)]
pub enum Returned<'a> {
    /// Returned these values.
    Values(&'a [i64]),
    /// Exited with this status.
    Exit(i32),
    /// Trapped.
    Trapped,
}

impl Returned<'_> {
    fn to_owned_result(self) -> CallResult {
        match self {
            Returned::Values(v) => CallResult::Returned(v.to_vec()),
            Returned::Exit(s) => CallResult::Exit(s),
            Returned::Trapped => CallResult::Trapped,
        }
    }
}

/// strace-style: `clock_time_get(id=1, precision=1) -> 0, wrote 8 bytes @0x1000: 00 ca 9a 3b 00 00 00 00`.
/// A write longer than [`KEPT_WRITE_PREFIX`] shows its prefix, then how many
/// bytes were elided and the first 8 bytes of its hash, so two writes that
/// differ anywhere display differently:
/// `random_get(buf=0x0, len=100) -> 0, wrote 100 bytes @0x0: 9b 6f` (30 more
/// bytes) ` ... (68 bytes elided, blake3 ` (16 hex digits) `)`.
impl fmt::Display for HostCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> ", CallHead(&self.name, &self.args))?;
        match &self.result {
            CallResult::Returned(values) if values.len() == 1 => write!(f, "{}", values[0])?,
            CallResult::Returned(values) => write!(f, "{values:?}")?,
            CallResult::Exit(status) => write!(f, "exit({status})")?,
            CallResult::Trapped => f.write_str("trap")?,
        }
        for write in &self.writes {
            match write {
                Write::Bytes {
                    offset,
                    len,
                    prefix,
                    blake3,
                } => {
                    write!(f, ", wrote {len} bytes @{offset:#x}:")?;
                    for b in prefix {
                        write!(f, " {b:02x}")?;
                    }
                    if write.elided() > 0 {
                        let elided = write.elided();
                        write!(
                            f,
                            " ... ({elided} bytes elided, blake3 {})",
                            hex(&blake3[..8])
                        )?;
                    }
                }
                Write::MemoryDigest(d) => write!(f, ", memory now {}", hex(&d[..8]))?,
            }
        }
        Ok(())
    }
}

/// A call's name and arguments as the trace shows them.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::trace::CallHead;
/// assert_eq!(CallHead("fd_close", &[3]).to_string(), "fd_close(fd=3)");
/// assert_eq!(CallHead("path_open", &[3, 1]).to_string(), "path_open(3, 1)");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CallHead<'a>(pub &'a str, pub &'a [i64]);

impl fmt::Display for CallHead<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CallHead(name, args) = *self;
        let names = param_names(name);
        write!(f, "{name}(")?;
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match names.get(i) {
                Some(name) => write!(f, "{name}={}", render_arg(name, *arg))?,
                None => write!(f, "{arg}")?,
            }
        }
        f.write_str(")")
    }
}

fn render_arg(name: &str, value: i64) -> String {
    match name {
        "id" => match value {
            0 => "realtime".into(),
            1 => "monotonic".into(),
            2 => "process_cputime".into(),
            3 => "thread_cputime".into(),
            other => other.to_string(),
        },
        n if n.ends_with("ptr") || n == "buf" || n == "iovs" || n == "in" || n == "out" => {
            format!("{:#x}", value as u32)
        }
        _ => value.to_string(),
    }
}

/// Parameter names of the preview1 functions, for display.
fn param_names(name: &str) -> &'static [&'static str] {
    match name {
        "clock_time_get" => &["id", "precision", "time_ptr"],
        "clock_res_get" => &["id", "res_ptr"],
        "random_get" => &["buf", "len"],
        "poll_oneoff" => &["in", "out", "nsubscriptions", "nevents_ptr"],
        "fd_write" | "fd_read" => &["fd", "iovs", "iovs_len", "n_ptr"],
        "fd_pwrite" | "fd_pread" => &["fd", "iovs", "iovs_len", "offset", "n_ptr"],
        "args_sizes_get" | "environ_sizes_get" => &["count_ptr", "size_ptr"],
        "args_get" | "environ_get" => &["argv_ptr", "buf"],
        "proc_exit" => &["status"],
        "fd_fdstat_get" | "fd_filestat_get" | "fd_prestat_get" => &["fd", "out"],
        "fd_seek" => &["fd", "offset", "whence", "out"],
        "fd_tell" => &["fd", "out"],
        "fd_close" | "fd_sync" | "fd_datasync" => &["fd"],
        _ => &[],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The trace of one run: a streaming digest, a call count, and the first
/// `max_events` calls.
#[derive(Clone, Debug)]
pub struct Trace {
    hasher: blake3::Hasher,
    /// Encoded bytes not yet hashed (hashed in blocks of [`HASH_BLOCK`]).
    pending: Vec<u8>,
    calls: u64,
    events: Vec<HostCall>,
    max_events: usize,
}

/// Encoded calls are hashed in whole blocks of this many bytes: BLAKE3 is
/// much faster on a few KiB than on each call's few dozen bytes, and hashes
/// a run of 1 KiB chunks in parallel lanes only when the run starts on a
/// chunk boundary (so every `update` here starts on a block boundary).
const HASH_BLOCK: usize = 16 << 10;

/// Hashes the whole [`HASH_BLOCK`]s at the start of `pending` and keeps
/// the rest: the one place the encoded stream reaches the hasher, so every
/// `update` starts on a block boundary.
fn hash_whole_blocks(hasher: &mut blake3::Hasher, pending: &mut Vec<u8>) {
    let whole = pending.len() - pending.len() % HASH_BLOCK;
    if whole > 0 {
        hasher.update(&pending[..whole]);
        pending.drain(..whole);
    }
}

/// Appends `bytes` (a write's contents) to the encoded stream: a small
/// write to `pending`; a large one tops `pending` up to a whole block,
/// which is hashed, and its own whole blocks are hashed straight from guest
/// memory, so no write is ever copied whole.
fn absorb(hasher: &mut blake3::Hasher, pending: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() < HASH_BLOCK {
        pending.extend_from_slice(bytes);
        return;
    }
    let fill = (HASH_BLOCK - pending.len() % HASH_BLOCK) % HASH_BLOCK;
    pending.extend_from_slice(&bytes[..fill]);
    hash_whole_blocks(hasher, pending);
    let rest = &bytes[fill..];
    let whole = rest.len() - rest.len() % HASH_BLOCK;
    hasher.update(&rest[..whole]);
    pending.extend_from_slice(&rest[whole..]);
}

impl Trace {
    /// An empty trace keeping at most `max_events` calls in full (0: digest only).
    pub fn new(max_events: usize) -> Self {
        Trace {
            hasher: blake3::Hasher::new(),
            pending: Vec::with_capacity(HASH_BLOCK + 256),
            calls: 0,
            events: Vec::new(),
            max_events,
        }
    }

    /// Records one call from borrowed parts. `writes` reports each write to
    /// the callback it is given. Allocates nothing unless the call is kept in
    /// full (the first `max_events` calls).
    pub fn record_parts(
        &mut self,
        name: &str,
        args: &[i64],
        result: Returned<'_>,
        writes: impl FnOnce(&mut dyn FnMut(WriteRef<'_>)),
    ) {
        encode_head(&mut self.pending, name, args, result);
        let keep = self.events.len() < self.max_events;
        let mut kept = Vec::new();
        let pending = &mut self.pending;
        let hasher = &mut self.hasher;
        writes(&mut |write| {
            match write {
                WriteRef::Bytes { offset, bytes } => {
                    pending.push(0);
                    pending.extend_from_slice(&offset.to_le_bytes());
                    pending.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                    absorb(hasher, pending, bytes);
                }
                WriteRef::MemoryDigest(digest) => {
                    pending.push(1);
                    pending.extend_from_slice(&digest);
                }
            }
            if keep {
                kept.push(write.to_write());
            }
        });
        self.pending.push(0xff);
        hash_whole_blocks(&mut self.hasher, &mut self.pending);
        self.calls += 1;
        if keep {
            self.events.push(HostCall {
                name: name.to_string(),
                args: args.to_vec(),
                result: result.to_owned_result(),
                writes: kept,
            });
        }
    }

    /// Calls recorded so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The calls kept (the first `max_events`), each write cut to its
    /// [`KEPT_WRITE_PREFIX`] (see [`Write`]).
    pub fn events(&self) -> &[HostCall] {
        &self.events
    }

    /// BLAKE3 of the canonical encoding of every call so far.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.pending);
        *hasher.finalize().as_bytes()
    }
}

/// A shared handle to a [`Trace`], cheap to clone into host functions.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::trace::{Recorder, Returned, WriteRef};
///
/// let recorder = Recorder::new(10);
/// recorder.record("sched_yield", &[], Returned::Values(&[0]), &[]);
/// recorder.record(
///     "random_get",
///     &[16, 2],
///     Returned::Values(&[0]),
///     &[WriteRef::Bytes { offset: 16, bytes: &[0x9b, 0x6f] }],
/// );
/// assert_eq!(recorder.trace().calls(), 2);
/// assert_eq!(recorder.trace().events()[0].to_string(), "sched_yield() -> 0");
/// assert_eq!(
///     recorder.trace().events()[1].to_string(),
///     "random_get(buf=0x10, len=2) -> 0, wrote 2 bytes @0x10: 9b 6f"
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Recorder(Arc<Mutex<Trace>>, Option<Arc<Mutex<dyn CallSink>>>);

/// Somewhere a [`Recorder`] also sends every preview1 call, with the guest
/// memory as the call left it: a record-and-replay log
/// ([`LogWriter`](crate::replay::LogWriter) is one), which takes the bytes
/// each call wrote and the data it read from that memory.
pub trait CallSink: Send + fmt::Debug {
    /// Called before each call with the memory as the guest passed it (the
    /// adapter calls it only when a sink is attached). Does nothing by
    /// default.
    fn before(&mut self, name: &str, preview0: bool, args: &[i64], memory: &[u8]) {
        let _ = (name, preview0, args, memory);
    }

    /// One call: `name` (from `wasi_unstable` if `preview0`), its
    /// arguments and result, and the memory after it (empty when the guest
    /// exports none).
    fn call(
        &mut self,
        name: &str,
        preview0: bool,
        args: &[i64],
        result: Returned<'_>,
        memory: &[u8],
    );

    /// One call of a component's import, as the trace records it: its
    /// arguments and results flattened to integers, the bytes of the
    /// results' strings and lists as writes at their values' positions, and
    /// `inputs`, a digest of the arguments' bytes. Does nothing by default.
    fn component_call(
        &mut self,
        name: &str,
        args: &[i64],
        result: Returned<'_>,
        writes: &[WriteRef<'_>],
        inputs: Option<[u8; 16]>,
    ) {
        let _ = (name, args, result, writes, inputs);
    }
}

impl Recorder {
    /// A recorder keeping at most `max_events` calls in full (0: digest only).
    pub fn new(max_events: usize) -> Self {
        Recorder(Arc::new(Mutex::new(Trace::new(max_events))), None)
    }

    /// This recorder, also sending every preview1 call the adapter traces
    /// to `sink` (see [`CallSink`]).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::replay::LogWriter;
    /// use deterministic_wasi_ctx_core::trace::Recorder;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let log = Arc::new(Mutex::new(LogWriter::new(Vec::new(), b"")?));
    /// let recorder = Recorder::new(0).with_sink(log.clone());
    /// assert!(recorder.sink().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_sink<S: CallSink + 'static>(mut self, sink: Arc<Mutex<S>>) -> Self {
        self.1 = Some(sink);
        self
    }

    /// The sink calls are also sent to, if any (locked while the guard lives).
    pub fn sink(&self) -> Option<MutexGuard<'_, dyn CallSink + 'static>> {
        self.1
            .as_ref()
            .map(|sink| sink.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records one call: its name, arguments, result and every byte it
    /// wrote (see [`Trace::record_parts`]).
    pub fn record(&self, name: &str, args: &[i64], result: Returned<'_>, writes: &[WriteRef<'_>]) {
        self.trace().record_parts(name, args, result, |emit| {
            writes.iter().copied().for_each(emit)
        });
    }

    /// The trace (locked while the guard lives).
    pub fn trace(&self) -> MutexGuard<'_, Trace> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod digest_tests;
#[cfg(test)]
mod kept_tests;
pub mod table;
