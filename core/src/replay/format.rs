//! The log's bytes: [`LogWriter`] streams a recording out, [`LogReader`]
//! reads it back one call at a time, [`verify`] checks a whole log.

use crate::trace::{CallResult, Returned, WriteRef};
use flate2::Compression;
use flate2::bufread::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::Arc;

/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;

/// The first bytes of every log.
const MAGIC: &[u8; 8] = b"dwc-log\n";

/// Writes of at least this many bytes are stored once and named again by
/// index when the same bytes are written later.
pub const STORED_ONCE_MIN: usize = 64;
/// The most writes the stored-once table holds.
pub const TABLE_ENTRIES: usize = 4096;
/// The most bytes the stored-once table holds.
pub const TABLE_BYTES: usize = 16 << 20;

/// Encoded calls are handed to the compressor and the hasher in batches of
/// about this many bytes.
const WRITE_BATCH: usize = 32 << 10;

/// The longest single write a log may hold (1 GiB): a reader never holds
/// more for one write, whatever a corrupted length says.
const MAX_WRITE: u64 = 1 << 30;
/// The most writes one call may have.
const MAX_WRITES: u64 = 1 << 20;
/// The most arguments or returned values one call may have: a
/// component's call flattens its lists (an environment, a directory
/// entry's name, `poll`'s pollables), so far more than preview1's few.
const MAX_INTS: u64 = 1 << 16;
/// The longest function name.
const MAX_NAME: u64 = 255;

/// One recorded host call, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCall {
    /// The function's name.
    pub name: String,
    /// Imported from `wasi_unstable` rather than `wasi_snapshot_preview1`.
    pub preview0: bool,
    /// Its arguments, widened to `i64`.
    pub args: Vec<i64>,
    /// What it returned.
    pub result: CallResult,
    /// Every write into guest memory, in order: offset and bytes.
    pub writes: Vec<(u32, Arc<[u8]>)>,
    /// A digest of the data the call took from guest memory, if it takes
    /// any ([`inputs_digest`](super::inputs_digest)).
    pub inputs: Option<[u8; 16]>,
}

impl LogCall {
    /// A call record with nothing in it, to read into
    /// ([`LogReader::next_call_into`]).
    ///
    /// ```
    /// let call = deterministic_wasi_ctx_core::replay::LogCall::empty();
    /// assert!(call.name.is_empty() && call.args.is_empty() && call.writes.is_empty());
    /// ```
    pub fn empty() -> Self {
        LogCall {
            name: String::new(),
            preview0: false,
            args: Vec::new(),
            result: CallResult::Trapped,
            writes: Vec::new(),
            inputs: None,
        }
    }
}

/// How a recorded run ended, with its output: the log's last record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEnd {
    /// Host calls recorded.
    pub calls: u64,
    /// How the program ended.
    pub status: CallResult,
    /// Length and BLAKE3 of everything the guest wrote to stdout.
    pub stdout: (u64, [u8; 32]),
    /// Length and BLAKE3 of everything the guest wrote to stderr.
    pub stderr: (u64, [u8; 32]),
}

impl LogEnd {
    /// The end of a run that made `calls` calls, ended with `status`
    /// (`Returned` with no values: it returned) and wrote `stdout` and
    /// `stderr`.
    pub fn new(calls: u64, status: CallResult, stdout: &[u8], stderr: &[u8]) -> LogEnd {
        let blob = |b: &[u8]| (b.len() as u64, *blake3::hash(b).as_bytes());
        LogEnd {
            calls,
            status,
            stdout: blob(stdout),
            stderr: blob(stderr),
        }
    }
}

/// What [`LogReader::next_entry`] read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The next recorded call.
    Call(LogCall),
    /// The end of the recording (its digest checked).
    End(LogEnd),
}

/// Why a log cannot be read: one line, naming what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    /// Reading the log failed.
    Io(String),
    /// It does not start as a log does.
    NotALog,
    /// It is a log of another format version.
    Version(u32),
    /// It ends before its last record.
    Truncated,
    /// A record is malformed.
    Corrupt(String),
    /// Its closing digest does not match its contents.
    Digest,
    /// Bytes follow its end.
    Trailing,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io(e) => write!(f, "cannot read the log: {e}"),
            LogError::NotALog => f.write_str("not a deterministic-wasi-ctx log (bad magic)"),
            LogError::Version(v) => write!(
                f,
                "log format version {v}, but this build reads version {VERSION}"
            ),
            LogError::Truncated => {
                f.write_str("the log is truncated (it ends before its end record)")
            }
            LogError::Corrupt(why) => write!(f, "the log is corrupt: {why}"),
            LogError::Digest => {
                f.write_str("the log is corrupt: its digest does not match its contents")
            }
            LogError::Trailing => f.write_str("the log is corrupt: bytes follow its end record"),
        }
    }
}

impl std::error::Error for LogError {}

fn io_error(e: io::Error) -> LogError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => LogError::Truncated,
        // A deflate stream that does not decode.
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            LogError::Corrupt(format!("{e}"))
        }
        _ => LogError::Io(e.to_string()),
    }
}

/// The stored-once table's admission rule, the same for writer and reader.
fn fits(entries: usize, bytes: usize, len: usize) -> bool {
    len >= STORED_ONCE_MIN && entries < TABLE_ENTRIES && bytes + len <= TABLE_BYTES
}

/// Streams a recording into `W`: [`call`](Self::call) per host call, then
/// [`finish`](Self::finish). Memory: the stored-once table and one call.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::replay::{Entry, LogEnd, LogReader, LogWriter};
/// use deterministic_wasi_ctx_core::trace::{CallResult, Returned, WriteRef};
///
/// let mut writer = LogWriter::new(Vec::new(), b"\0asm...")?;
/// let bytes = [0x9b, 0x6f];
/// writer.call("random_get", false, &[16, 2], Returned::Values(&[0]),
///     &[WriteRef::Bytes { offset: 16, bytes: &bytes }], None)?;
/// let log = writer.finish(&LogEnd::new(1, CallResult::Exit(0), b"", b""))?;
///
/// let mut reader = LogReader::new(&log[..])?;
/// let Entry::Call(call) = reader.next_entry()? else { panic!() };
/// assert_eq!((call.name.as_str(), &call.writes[0].1[..]), ("random_get", &bytes[..]));
/// assert!(matches!(reader.next_entry()?, Entry::End(end) if end.calls == 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LogWriter<W: Write> {
    out: DeflateEncoder<W>,
    hasher: blake3::Hasher,
    buf: Vec<u8>,
    table: HashMap<[u8; 32], u32>,
    table_bytes: usize,
    calls: u64,
    /// The first error writing as a [`CallSink`](crate::trace::CallSink),
    /// reported by [`end`](Self::end).
    failed: Option<io::Error>,
    ended: bool,
    /// As a sink: the inputs of the call under way, read before it.
    pending: Option<super::Inputs>,
}

impl<W: Write> fmt::Debug for LogWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogWriter")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl<W: Write> LogWriter<W> {
    /// Starts a log of a run of `program` (its bytes, of which the log keeps
    /// a digest) in `out`.
    ///
    /// # Errors
    ///
    /// If writing to `out` fails.
    pub fn new(out: W, program: &[u8]) -> io::Result<Self> {
        Self::with_kind(out, program, ProgramKind::Module)
    }

    /// [`LogWriter::new`] for a log of a preview2 component's run
    /// ([`ProgramKind::Component`]).
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::replay::{LogEnd, LogWriter, ProgramKind, verify};
    /// use deterministic_wasi_ctx_core::trace::CallResult;
    /// let end = LogEnd::new(0, CallResult::Exit(0), b"", b"");
    /// let log = LogWriter::new_component(Vec::new(), b"")?.finish(&end)?;
    /// assert_eq!(verify(&log[..])?.kind, ProgramKind::Component);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// If writing to `out` fails.
    pub fn new_component(out: W, program: &[u8]) -> io::Result<Self> {
        Self::with_kind(out, program, ProgramKind::Component)
    }

    fn with_kind(mut out: W, program: &[u8], kind: ProgramKind) -> io::Result<Self> {
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        let mut writer = LogWriter {
            out: DeflateEncoder::new(out, Compression::fast()),
            hasher: blake3::Hasher::new(),
            buf: Vec::with_capacity(256),
            table: HashMap::new(),
            table_bytes: 0,
            calls: 0,
            failed: None,
            ended: false,
            pending: None,
        };
        writer.buf.push(kind as u8);
        writer
            .buf
            .extend_from_slice(blake3::hash(program).as_bytes());
        writer.flush_buf()?;
        Ok(writer)
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.hasher.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Appends one call: `name` (from `wasi_unstable` if `preview0`), its
    /// arguments and result, every write it made into guest memory, in
    /// order, and the digest of the data it took from guest memory.
    ///
    /// # Errors
    ///
    /// If writing fails, or a write is a whole-memory digest (a function
    /// whose writes are not known cannot be replayed).
    pub fn call(
        &mut self,
        name: &str,
        preview0: bool,
        args: &[i64],
        result: Returned<'_>,
        writes: &[WriteRef<'_>],
        inputs: Option<[u8; 16]>,
    ) -> io::Result<()> {
        if self.ended {
            return Err(io::Error::other("the log is already ended"));
        }
        let values = match result {
            Returned::Values(values) => values.len(),
            _ => 0,
        };
        if args.len() as u64 > MAX_INTS || values as u64 > MAX_INTS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{name}`: more than {MAX_INTS} arguments or values to record"),
            ));
        }
        self.buf.extend_from_slice(&[1, u8::from(preview0)]);
        let name = &name.as_bytes()[..name.len().min(MAX_NAME as usize)];
        put_varint(&mut self.buf, name.len() as u64);
        self.buf.extend_from_slice(name);
        put_ints(&mut self.buf, args);
        put_result(&mut self.buf, result);
        put_varint(&mut self.buf, writes.len() as u64);
        for write in writes {
            let WriteRef::Bytes { offset, bytes } = *write else {
                self.buf.clear();
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "`{}`: its writes are not known, so it cannot be recorded",
                        String::from_utf8_lossy(name)
                    ),
                ));
            };
            put_varint(&mut self.buf, u64::from(offset));
            if bytes.len() >= STORED_ONCE_MIN {
                let hash = *blake3::hash(bytes).as_bytes();
                if let Some(&index) = self.table.get(&hash) {
                    self.buf.push(1);
                    put_varint(&mut self.buf, u64::from(index));
                    continue;
                }
                if fits(self.table.len(), self.table_bytes, bytes.len()) {
                    let index = self.table.len() as u32;
                    self.table.insert(hash, index);
                    self.table_bytes += bytes.len();
                }
            }
            self.buf.push(0);
            put_varint(&mut self.buf, bytes.len() as u64);
            if bytes.len() >= 4096 {
                self.flush_buf()?;
                self.hasher.update(bytes);
                self.out.write_all(bytes)?;
            } else {
                self.buf.extend_from_slice(bytes);
            }
        }
        match inputs {
            Some(digest) => {
                self.buf.push(1);
                self.buf.extend_from_slice(&digest);
            }
            None => self.buf.push(0),
        }
        self.calls += 1;
        // Compressed and hashed in batches: a call is a few dozen bytes.
        if self.buf.len() >= WRITE_BATCH {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Calls written so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Writes the end record (`end.calls` is replaced by the calls written)
    /// and the digest, and flushes. Calls after it are refused.
    ///
    /// # Errors
    ///
    /// If writing fails, now or in an earlier call made as a
    /// [`CallSink`](crate::trace::CallSink), or the log was ended already.
    pub fn end(&mut self, end: &LogEnd) -> io::Result<()> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        if self.ended {
            return Err(io::Error::other("the log is already ended"));
        }
        self.ended = true;
        self.buf.push(2);
        put_varint(&mut self.buf, self.calls);
        match end.status {
            CallResult::Exit(code) => {
                self.buf.push(1);
                put_varint(&mut self.buf, zigzag(i64::from(code)));
            }
            CallResult::Trapped => self.buf.push(2),
            CallResult::Returned(_) => self.buf.push(0),
        }
        for (len, hash) in [end.stdout, end.stderr] {
            put_varint(&mut self.buf, len);
            self.buf.extend_from_slice(&hash);
        }
        self.flush_buf()?;
        let digest = *self.hasher.finalize().as_bytes();
        self.out.write_all(&digest)?;
        self.out.try_finish()?;
        self.out.get_mut().flush()
    }

    /// [`end`](Self::end), then the underlying writer.
    ///
    /// # Errors
    ///
    /// As [`end`](Self::end).
    pub fn finish(mut self, end: &LogEnd) -> io::Result<W> {
        self.end(end)?;
        self.out.finish()
    }

    /// The underlying writer (what is written so far, compressed).
    pub fn get_ref(&self) -> &W {
        self.out.get_ref()
    }
}

impl<W: Write + Send> crate::trace::CallSink for LogWriter<W> {
    fn before(&mut self, name: &str, preview0: bool, args: &[i64], memory: &[u8]) {
        self.pending = Some(super::Inputs::before(name, preview0, args, memory));
    }

    fn call(
        &mut self,
        name: &str,
        preview0: bool,
        args: &[i64],
        result: Returned<'_>,
        memory: &[u8],
    ) {
        let inputs = self
            .pending
            .take()
            .unwrap_or_else(|| super::Inputs::before(name, preview0, args, memory));
        if self.failed.is_some() || self.ended {
            return;
        }
        let errno = match result {
            Returned::Values(values) => values.first().copied(),
            _ => None,
        };
        // What the trace records (nothing unless errno is 0); a function
        // the table does not know gives a memory digest, which `call`
        // refuses.
        let mut writes = Vec::new();
        crate::trace::table::writes_of(name, preview0, args, errno, memory, &mut |w| {
            writes.push(w)
        });
        let (digest, changed) = inputs.after(name, args, errno, memory);
        writes.extend(
            changed
                .into_iter()
                .map(|(offset, bytes)| WriteRef::Bytes { offset, bytes }),
        );
        if let Err(error) = LogWriter::call(self, name, preview0, args, result, &writes, digest) {
            self.failed = Some(error);
        }
    }

    fn component_call(
        &mut self,
        name: &str,
        args: &[i64],
        result: Returned<'_>,
        writes: &[WriteRef<'_>],
        inputs: Option<[u8; 16]>,
    ) {
        if self.failed.is_some() || self.ended {
            return;
        }
        if let Err(error) = LogWriter::call(self, name, false, args, result, writes, inputs) {
            self.failed = Some(error);
        }
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_ints(out: &mut Vec<u8>, values: &[i64]) {
    put_varint(out, values.len() as u64);
    for &v in values {
        put_varint(out, zigzag(v));
    }
}

fn put_result(out: &mut Vec<u8>, result: Returned<'_>) {
    match result {
        Returned::Values(values) => {
            out.push(0);
            put_ints(out, values);
        }
        Returned::Exit(status) => {
            out.push(1);
            put_varint(out, zigzag(i64::from(status)));
        }
        Returned::Trapped => out.push(2),
    }
}

/// The decompressed body, read in chunks and handed out from a buffer;
/// every byte handed out is hashed (in batches: at each refill, and when
/// the digest so far is asked for).
struct Body<R: Read> {
    inner: DeflateDecoder<BufReader<R>>,
    buf: Box<[u8]>,
    /// Bytes in `buf`.
    len: usize,
    /// The next byte to hand out.
    pos: usize,
    /// Bytes of `buf` before this are hashed.
    hashed: usize,
    hasher: blake3::Hasher,
}

impl<R: Read> Body<R> {
    fn new(inner: DeflateDecoder<BufReader<R>>) -> Self {
        Body {
            inner,
            buf: vec![0; 64 << 10].into_boxed_slice(),
            len: 0,
            pos: 0,
            hashed: 0,
            hasher: blake3::Hasher::new(),
        }
    }

    /// Hashes what was handed out since the last call.
    fn hash_consumed(&mut self) {
        self.hasher.update(&self.buf[self.hashed..self.pos]);
        self.hashed = self.pos;
    }

    /// Refills an empty buffer; `false` at the end of the body.
    fn refill(&mut self) -> Result<bool, LogError> {
        self.hash_consumed();
        let n = loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            }
        };
        (self.len, self.pos, self.hashed) = (n, 0, 0);
        Ok(n > 0)
    }

    fn byte(&mut self) -> Result<u8, LogError> {
        if self.pos == self.len && !self.refill()? {
            return Err(LogError::Truncated);
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    /// Appends `len` bytes to `out`, as they arrive.
    fn take(&mut self, mut len: usize, out: &mut Vec<u8>) -> Result<(), LogError> {
        while len > 0 {
            if self.pos == self.len && !self.refill()? {
                return Err(LogError::Truncated);
            }
            let n = len.min(self.len - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            len -= n;
        }
        Ok(())
    }

    /// The digest of every byte handed out so far.
    fn digest(&mut self) -> [u8; 32] {
        self.hash_consumed();
        *self.hasher.finalize().as_bytes()
    }

    /// Whether nothing follows what was handed out, in the body or after it.
    fn at_end(&mut self) -> Result<bool, LogError> {
        if self.pos < self.len || self.refill()? {
            return Ok(false);
        }
        Ok(self
            .inner
            .get_mut()
            .fill_buf()
            .map_err(io_error)?
            .is_empty())
    }
}

/// Reads a log one record at a time, checking each as it goes and the
/// digest at the end. Memory: the stored-once table and one call.
///
/// A reader trusts nothing: every length is bounded (a write at 1 GiB, a
/// call at 2^20 writes, 64 integers) and read as it arrives, never
/// allocated ahead, so a corrupted length costs at most the bytes that are
/// really there. See [`LogWriter`] for an example.
pub struct LogReader<R: Read> {
    input: Body<R>,
    table: Vec<Arc<[u8]>>,
    table_bytes: usize,
    calls: u64,
    program: [u8; 32],
    kind: ProgramKind,
    ended: bool,
}

/// What kind of program a log recorded: its header's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramKind {
    /// A preview1 core module (1).
    Module = 1,
    /// A preview2 component (2): its calls are an import's flattened
    /// arguments and results (the results' bytes as writes).
    Component = 2,
}

impl<R: Read> fmt::Debug for LogReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogReader")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl<R: Read> LogReader<R> {
    /// Opens a log: checks its magic, version and header.
    ///
    /// # Errors
    ///
    /// [`LogError::NotALog`], [`LogError::Version`], or a read error.
    pub fn new(input: R) -> Result<Self, LogError> {
        let mut input = BufReader::new(input);
        let mut head = [0u8; 12];
        let mut got = 0;
        while got < head.len() {
            match input.read(&mut head[got..]).map_err(io_error)? {
                0 => break,
                n => got += n,
            }
        }
        if got < MAGIC.len() || &head[..8] != MAGIC {
            return Err(LogError::NotALog);
        }
        if got < head.len() {
            return Err(LogError::Truncated);
        }
        let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        if version != VERSION {
            return Err(LogError::Version(version));
        }
        let mut reader = LogReader {
            input: Body::new(DeflateDecoder::new(input)),
            table: Vec::new(),
            table_bytes: 0,
            calls: 0,
            program: [0; 32],
            kind: ProgramKind::Module,
            ended: false,
        };
        reader.kind = match reader.byte()? {
            1 => ProgramKind::Module,
            2 => ProgramKind::Component,
            _ => return Err(LogError::Corrupt("unknown program kind".into())),
        };
        reader.program = reader.array()?;
        Ok(reader)
    }

    /// What kind of program the log recorded.
    pub fn kind(&self) -> ProgramKind {
        self.kind
    }

    /// The BLAKE3 of the program the log recorded.
    pub fn program(&self) -> [u8; 32] {
        self.program
    }

    /// Calls read so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The next record.
    ///
    /// # Errors
    ///
    /// A [`LogError`] naming what is wrong; reading past the end is
    /// [`LogError::Corrupt`].
    pub fn next_entry(&mut self) -> Result<Entry, LogError> {
        let mut call = LogCall::empty();
        Ok(match self.next_call_into(&mut call)? {
            None => Entry::Call(call),
            Some(end) => Entry::End(end),
        })
    }

    /// [`next_entry`](Self::next_entry), reading a call into `call` and
    /// reusing its buffers (a replay reads every call into one): `None`
    /// for a call, the end record at the end. After an error `call` holds
    /// part of a record.
    ///
    /// # Errors
    ///
    /// As [`next_entry`](Self::next_entry).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::replay::{LogCall, LogEnd, LogReader, LogWriter};
    /// use deterministic_wasi_ctx_core::trace::{CallResult, Returned};
    ///
    /// let mut writer = LogWriter::new(Vec::new(), b"\0asm...")?;
    /// writer.call("sched_yield", false, &[], Returned::Values(&[0]), &[], None)?;
    /// writer.call("proc_raise", false, &[9], Returned::Values(&[0]), &[], None)?;
    /// let log = writer.finish(&LogEnd::new(2, CallResult::Exit(0), b"", b""))?;
    ///
    /// let mut reader = LogReader::new(&log[..])?;
    /// let mut call = LogCall::empty();
    /// assert!(reader.next_call_into(&mut call)?.is_none());
    /// assert_eq!(call.name, "sched_yield");
    /// assert!(reader.next_call_into(&mut call)?.is_none());
    /// assert_eq!((call.name.as_str(), &call.args[..]), ("proc_raise", &[9][..]));
    /// assert_eq!(reader.next_call_into(&mut call)?.map(|end| end.calls), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_call_into(&mut self, call: &mut LogCall) -> Result<Option<LogEnd>, LogError> {
        if self.ended {
            return Err(LogError::Corrupt("read past the end record".into()));
        }
        match self.byte()? {
            1 => self.call_into(call).map(|()| None),
            2 => self.end().map(Some),
            tag => Err(LogError::Corrupt(format!(
                "record {} has unknown tag {tag:#04x}",
                self.calls
            ))),
        }
    }

    fn call_into(&mut self, call: &mut LogCall) -> Result<(), LogError> {
        let flags = self.byte()?;
        if flags > 1 {
            return Err(self.corrupt("unknown flags"));
        }
        let len = self.bounded(MAX_NAME, "name")?;
        let mut name = std::mem::take(&mut call.name).into_bytes();
        name.clear();
        self.input.take(len as usize, &mut name)?;
        call.name = String::from_utf8(name).map_err(|_| self.corrupt("name is not UTF-8"))?;
        call.preview0 = flags == 1;
        self.ints_into(&mut call.args)?;
        match self.byte()? {
            0 => {
                let mut values = match std::mem::replace(&mut call.result, CallResult::Trapped) {
                    CallResult::Returned(values) => values,
                    _ => Vec::new(),
                };
                self.ints_into(&mut values)?;
                call.result = CallResult::Returned(values);
            }
            1 => call.result = CallResult::Exit(self.status()?),
            2 => call.result = CallResult::Trapped,
            _ => return Err(self.corrupt("unknown result tag")),
        }
        let count = self.bounded(MAX_WRITES, "write count")?;
        call.writes.clear();
        for _ in 0..count {
            let offset = u32::try_from(self.varint()?).map_err(|_| self.corrupt("write offset"))?;
            let bytes: Arc<[u8]> = match self.byte()? {
                0 => {
                    let len = self.bounded(MAX_WRITE, "write length")?;
                    let bytes: Arc<[u8]> = self.bytes(len)?.into();
                    if fits(self.table.len(), self.table_bytes, bytes.len()) {
                        self.table_bytes += bytes.len();
                        self.table.push(bytes.clone());
                    }
                    bytes
                }
                1 => {
                    let index = self.varint()?;
                    usize::try_from(index)
                        .ok()
                        .and_then(|i| self.table.get(i))
                        .cloned()
                        .ok_or_else(|| self.corrupt("names a stored write that does not exist"))?
                }
                _ => return Err(self.corrupt("unknown write kind")),
            };
            call.writes.push((offset, bytes));
        }
        call.inputs = match self.byte()? {
            0 => None,
            1 => Some(self.array()?),
            _ => return Err(self.corrupt("unknown inputs tag")),
        };
        self.calls += 1;
        Ok(())
    }

    fn end(&mut self) -> Result<LogEnd, LogError> {
        let calls = self.varint()?;
        if calls != self.calls {
            return Err(LogError::Corrupt(format!(
                "the end record counts {calls} calls, the log holds {}",
                self.calls
            )));
        }
        let status = match self.byte()? {
            0 => CallResult::Returned(Vec::new()),
            1 => CallResult::Exit(self.status()?),
            2 => CallResult::Trapped,
            _ => return Err(self.corrupt("unknown end status")),
        };
        let stdout = (self.varint()?, self.array()?);
        let stderr = (self.varint()?, self.array()?);
        let expected = self.input.digest();
        let digest: [u8; 32] = self.array()?;
        if digest != expected {
            return Err(LogError::Digest);
        }
        if !self.input.at_end()? {
            return Err(LogError::Trailing);
        }
        self.ended = true;
        Ok(LogEnd {
            calls,
            status,
            stdout,
            stderr,
        })
    }

    fn corrupt(&self, what: &str) -> LogError {
        LogError::Corrupt(format!("call {}: {what}", self.calls))
    }

    fn byte(&mut self) -> Result<u8, LogError> {
        self.input.byte()
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LogError> {
        let mut b = [0u8; N];
        for byte in &mut b {
            *byte = self.input.byte()?;
        }
        Ok(b)
    }

    /// `len` bytes, read as they arrive (a length past the data costs only
    /// the data).
    fn bytes(&mut self, len: u64) -> Result<Vec<u8>, LogError> {
        let mut out = Vec::with_capacity(len.min(64 << 10) as usize);
        self.input.take(len as usize, &mut out)?;
        Ok(out)
    }

    fn varint(&mut self) -> Result<u64, LogError> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.corrupt("integer overflows 64 bits"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.corrupt("integer longer than 10 bytes"))
    }

    fn bounded(&mut self, max: u64, what: &str) -> Result<u64, LogError> {
        let v = self.varint()?;
        if v > max {
            return Err(self.corrupt(&format!("{what} {v} is over {max}")));
        }
        Ok(v)
    }

    /// Integers into `out`, replacing what it held.
    fn ints_into(&mut self, out: &mut Vec<i64>) -> Result<(), LogError> {
        out.clear();
        let n = self.bounded(MAX_INTS, "integer count")?;
        for _ in 0..n {
            out.push(unzigzag(self.varint()?));
        }
        Ok(())
    }

    fn status(&mut self) -> Result<i32, LogError> {
        i32::try_from(unzigzag(self.varint()?)).map_err(|_| self.corrupt("exit status"))
    }
}

/// What [`verify`] found in a whole log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The BLAKE3 of the program the log recorded (its header).
    pub program: [u8; 32],
    /// The kind of program (its header).
    pub kind: ProgramKind,
    /// The end record.
    pub end: LogEnd,
}

/// Reads a whole log, checking every record, its digest and that nothing
/// follows, and returns the program it names and its end record. A replay
/// runs this first, so no guest sees an answer from a log that is not
/// whole. Memory: as a [`LogReader`].
///
/// # Errors
///
/// The first [`LogError`].
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::replay::{LogEnd, LogError, LogWriter, verify};
/// use deterministic_wasi_ctx_core::trace::CallResult;
///
/// let end = LogEnd::new(0, CallResult::Exit(3), b"hi", b"");
/// let log = LogWriter::new(Vec::new(), b"")?.finish(&end)?;
/// let verified = verify(&log[..])?;
/// assert_eq!(verified.end.status, CallResult::Exit(3));
/// assert_eq!(verified.program, *blake3::hash(b"").as_bytes());
/// assert_eq!(verify(&log[..log.len() - 1]), Err(LogError::Truncated));
/// assert_eq!(verify(&b"hello"[..]), Err(LogError::NotALog));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify<R: Read>(input: R) -> Result<Verified, LogError> {
    let mut reader = LogReader::new(input)?;
    let (program, kind) = (reader.program(), reader.kind());
    loop {
        if let Entry::End(end) = reader.next_entry()? {
            return Ok(Verified { program, kind, end });
        }
    }
}
