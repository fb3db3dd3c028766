//! Filesystem call scripts: a sequence of preview1 `fd_*`/`path_*` calls
//! with valid pointers (hostile values are in the arguments: descriptors,
//! paths, flags, offsets), compiled into a core module whose `_start` makes
//! the calls in order and records every result in linear memory, like
//! [`Script`](super::Script).
//!
//! The differential target `fs_diff` runs one script on the virtual
//! filesystem (both backends) and on stock wasmtime-wasi over a host copy of
//! the same tree, and compares [`FsResult::masked`] results: everything but
//! the metadata values the context decides (`dev`, `ino`, times, a
//! directory's size) and the order of a directory listing.
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx_core::script::fs::{Fd, FsOp, FsPath, FsScript};
//!
//! let script = FsScript {
//!     ops: vec![FsOp::PathCreateDirectory { dir: Fd(3), path: FsPath::new("out") }],
//! };
//! assert!(script.compile().wat().contains("path_create_directory"));
//! ```

mod encode;
mod interpret;

use encode::Arg::{self, I32, I64};
use encode::Call;
pub use interpret::{MAX_INTERPRETED_CALLS, PREAMBLE_CALLS_AT, interpreter_wasm, interpreter_wat};

/// The most bytes one read, listing or readlink asks for.
pub const MAX_READ: u32 = 1024;
/// The most bytes one write writes.
pub const MAX_WRITE: usize = 512;
/// Descriptors are reduced modulo this (0-2 stdio, 3 and 4 the preopens,
/// 5 and up what the script opened).
pub const FD_RANGE: u8 = 10;

/// A descriptor argument (reduced modulo [`FD_RANGE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd(pub u8);

/// Mostly the preopens and what the script opens (3 to 7), sometimes any.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Fd {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Fd(if u.ratio(4, 5)? {
            u.int_in_range(3..=7)?
        } else {
            u.arbitrary()?
        }))
    }
}

/// A path argument, as bytes (may be absolute, escape, be empty, hold a
/// NUL or invalid UTF-8). Its `Debug` form is the bytes escaped, a run of
/// more than 8 equal bytes as `{byte x count}` (`"n{x300}/x\\0y"`), so a
/// 4096-byte name reads in one line.
#[derive(Clone, PartialEq, Eq)]
pub struct FsPath(pub Vec<u8>);

impl std::fmt::Debug for FsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FsPath(\"")?;
        let mut rest = self.0.as_slice();
        while let Some(&b) = rest.first() {
            let run = rest.iter().take_while(|&&c| c == b).count();
            write!(f, "{}", std::ascii::escape_default(b))?;
            if run > 8 {
                write!(f, "{{x{run}}}")?;
                rest = &rest[run..];
            } else {
                rest = &rest[1..];
            }
        }
        write!(f, "\")")
    }
}

impl FsPath {
    /// A path from text.
    pub fn new(path: &str) -> FsPath {
        FsPath(path.as_bytes().to_vec())
    }
}

/// Names generated paths are made of: entries of [`fs_diff_tree`], new
/// names, `.`/`..`, an empty component (and, drawn apart, names of 255,
/// 256, 300 and 4096 bytes, a NUL byte, invalid UTF-8).
#[cfg(feature = "arbitrary")]
const NAMES: [&str; 14] = [
    "a", "b", "c.txt", "d", "new", "link", "dlink", "loop", "up", "abs", ".", "..", "", "é",
];

/// Over-long names: `NAME_MAX`, one past it, well past it, and `PATH_MAX`.
#[cfg(feature = "arbitrary")]
const LONG_NAMES: [usize; 4] = [255, 256, 300, 4096];

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for FsPath {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut path = Vec::new();
        if u.ratio(1, 16)? {
            path.push(b'/');
        }
        let count = u.int_in_range(0..=4)?;
        for i in 0..count {
            if i > 0 {
                path.push(b'/');
            }
            match u.int_in_range(0..=47)? {
                n @ 0..=3 => path.extend(std::iter::repeat_n(b'n', LONG_NAMES[n as usize])),
                4 => path.push(0xff),
                5 => path.extend_from_slice(b"x\0y"),
                6 => path.push(0),
                n => path.extend_from_slice(NAMES[n as usize % NAMES.len()].as_bytes()),
            }
        }
        // A trailing `/` or `/.` (a demand for a directory, which cap-std
        // and Linux read differently per call).
        match u.int_in_range(0..=7)? {
            0 => path.push(b'/'),
            1 => path.extend_from_slice(b"/."),
            _ => {}
        }
        Ok(FsPath(path))
    }
}

/// The tree `fs_diff` preopens (writable as `/`, read-only as `/ro`), with
/// `contents` as the bytes of `a`.
pub fn fs_diff_tree(contents: &[u8]) -> crate::fs::VirtualFs {
    crate::fs::VirtualFs::new()
        .file("a", contents.to_vec())
        .file("b/c.txt", "0123456789")
        .dir("b/d")
        .symlink("link", "a")
        .symlink("dlink", "b")
        .symlink("loop", "loop")
        .symlink("up", "../a")
        .symlink("abs", "/a")
}

/// One call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)] // the fields are the call's arguments, by their witx names
pub enum FsOp {
    /// `path_open`; `read`/`write` set `FD_READ`/`FD_WRITE` in the base rights.
    PathOpen {
        dir: Fd,
        follow: bool,
        path: FsPath,
        oflags: u8,
        read: bool,
        write: bool,
        fdflags: u8,
    },
    /// `fd_close`.
    FdClose { fd: Fd },
    /// `fd_read` of `len % (MAX_READ + 1)` bytes.
    FdRead { fd: Fd, len: u16 },
    /// `fd_pread`.
    FdPread { fd: Fd, len: u16, offset: u64 },
    /// `fd_write`.
    FdWrite { fd: Fd, data: Vec<u8> },
    /// `fd_pwrite`.
    FdPwrite { fd: Fd, data: Vec<u8>, offset: u64 },
    /// `fd_seek` (`whence % 3`; the offset mapped as a `u64` offset is).
    FdSeek { fd: Fd, offset: i64, whence: u8 },
    /// `fd_tell`.
    FdTell { fd: Fd },
    /// `fd_filestat_get`.
    FdFilestatGet { fd: Fd },
    /// `fd_fdstat_get`.
    FdFdstatGet { fd: Fd },
    /// `fd_fdstat_set_flags` (`flags % 32`).
    FdFdstatSetFlags { fd: Fd, flags: u8 },
    /// `fd_filestat_set_size`.
    FdFilestatSetSize { fd: Fd, size: u64 },
    /// `fd_filestat_set_times` (`fst % 16`; times mapped by [`offset`]).
    FdFilestatSetTimes {
        fd: Fd,
        atim: u64,
        mtim: u64,
        fst: u8,
    },
    /// `fd_readdir` into `len % (MAX_READ + 1)` bytes from `cookie % 16`.
    FdReaddir { fd: Fd, len: u16, cookie: u8 },
    /// `fd_renumber`.
    FdRenumber { from: Fd, to: Fd },
    /// `fd_advise` (`advice % 6`).
    FdAdvise {
        fd: Fd,
        offset: u64,
        len: u64,
        advice: u8,
    },
    /// `fd_allocate`.
    FdAllocate { fd: Fd, offset: u64, len: u64 },
    /// `fd_sync` (or `fd_datasync`).
    FdSync { fd: Fd, data_only: bool },
    /// `fd_prestat_get`.
    FdPrestatGet { fd: Fd },
    /// `fd_prestat_dir_name` into `len % 8` bytes.
    FdPrestatDirName { fd: Fd, len: u8 },
    /// `path_create_directory`.
    PathCreateDirectory { dir: Fd, path: FsPath },
    /// `path_remove_directory`.
    PathRemoveDirectory { dir: Fd, path: FsPath },
    /// `path_unlink_file`.
    PathUnlinkFile { dir: Fd, path: FsPath },
    /// `path_rename`.
    PathRename {
        from_dir: Fd,
        from: FsPath,
        to_dir: Fd,
        to: FsPath,
    },
    /// `path_link`.
    PathLink {
        from_dir: Fd,
        follow: bool,
        from: FsPath,
        to_dir: Fd,
        to: FsPath,
    },
    /// `path_symlink`.
    PathSymlink {
        target: FsPath,
        dir: Fd,
        path: FsPath,
    },
    /// `path_readlink` into `len % (MAX_READ + 1)` bytes.
    PathReadlink { dir: Fd, path: FsPath, len: u16 },
    /// `path_filestat_get`.
    PathFilestatGet { dir: Fd, follow: bool, path: FsPath },
    /// `path_filestat_set_times` (`fst % 16`; times mapped by [`offset`]).
    PathFilestatSetTimes {
        dir: Fd,
        follow: bool,
        path: FsPath,
        atim: u64,
        mtim: u64,
        fst: u8,
    },
    /// `poll_oneoff` on one relative monotonic clock subscription of `nanos`
    /// nanoseconds: a sleep, so that later calls see a later virtual wall
    /// clock (their `NOW` times and the times creates and writes set).
    Sleep { nanos: u16 },
}

/// A sequence of filesystem calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsScript {
    /// The calls, in order.
    pub ops: Vec<FsOp>,
}

/// The most calls a generated script makes.
pub const MAX_OPS: usize = 24;

/// Entries of [`fs_diff_tree`] a `path_open` names half of the time, so
/// that later calls find files and directories open.
#[cfg(feature = "arbitrary")]
const OPEN_PATHS: [&str; 6] = ["a", "b/c.txt", "link", "b", "dlink", "up"];

/// Calls while input lasts (at most [`MAX_OPS`]), one in three a
/// `path_open` (half of them of an entry of the tree) so that later calls
/// find files and directories open; a quarter of the
/// `path_filestat_set_times` calls set no time (`fstflags` 0).
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for FsScript {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < MAX_OPS {
            let op = if u.ratio(1, 3)? {
                FsOp::PathOpen {
                    dir: Fd(u.int_in_range(3..=5)?),
                    follow: u.arbitrary()?,
                    path: if u.arbitrary()? {
                        FsPath::new(u.choose(&OPEN_PATHS)?)
                    } else {
                        u.arbitrary()?
                    },
                    oflags: u.arbitrary()?,
                    read: u.ratio(3, 4)?,
                    write: u.arbitrary()?,
                    fdflags: if u.ratio(3, 4)? { 0 } else { u.arbitrary()? },
                }
            } else {
                match u.arbitrary()? {
                    FsOp::PathFilestatSetTimes {
                        dir,
                        follow,
                        path,
                        atim,
                        mtim,
                        fst,
                    } => FsOp::PathFilestatSetTimes {
                        dir,
                        follow,
                        path,
                        atim,
                        mtim,
                        fst: if u.ratio(1, 4)? { 0 } else { fst },
                    },
                    op => op,
                }
            };
            ops.push(op);
        }
        Ok(FsScript { ops })
    }
}

/// Offsets kept as given within [`OFFSET_WINDOW`] of these: 2^31 (a
/// signed 32-bit offset's end), 2^32, 2^40 (a sparse file far past any
/// byte limit) and 2^63 (`i64::MIN` as `u64`).
const OFFSET_BASES: [u64; 4] = [1 << 31, 1 << 32, 1 << 40, 1 << 63];

/// How far around [`OFFSET_BASES`] offsets are kept as given: 64 KiB.
const OFFSET_WINDOW: u64 = 1 << 16;

/// An offset, size or timestamp as the script passes it (also a seek's,
/// as `u64`; public so that tests can count the shapes generated scripts
/// pass):
/// small values (below 1 MiB), values within 64 KiB of [`OFFSET_BASES`]
/// (so the last 64 KiB below `i64::MAX`, where a transfer would end past
/// it: Linux's `EINVAL`) and the last 64 KiB below `u64::MAX` (-1 and
/// other small negative seeks) as given. Other "negative" values (top bit
/// set) are mapped by their bits 20-21: to -1..-16, to `i64::MIN`..+15, or
/// kept (half). Any other value is mapped by its bits 20-22 either below
/// 64 KiB (half of them) or into the window around one of the bases (an
/// eighth each), so that random values meet all of these shapes; a
/// quarter of those (bits 23-24 zero) land exactly on the boundary
/// instead: 0 or 1, or a base or one below it (2^31-1, 2^31, 2^32, 2^63-1,
/// `i64::MIN`, ...), where a window would hit it 1 time in 131,072.
pub fn offset(value: u64) -> u64 {
    let near_base = OFFSET_BASES
        .iter()
        .any(|&base| value.abs_diff(base) <= OFFSET_WINDOW);
    if !(1 << 20..u64::MAX - OFFSET_WINDOW).contains(&value) || near_base {
        return value;
    }
    if value >= 1 << 63 {
        return match (value >> 20) % 4 {
            0 => u64::MAX - value % 16,
            1 => (1 << 63) + value % 16,
            _ => value,
        };
    }
    let low = value % (2 * OFFSET_WINDOW);
    let exact = (value >> 23).is_multiple_of(4);
    match (value >> 20) % 8 {
        n @ 4..=7 if exact => OFFSET_BASES[n as usize - 4] - value % 2,
        n @ 4..=7 => OFFSET_BASES[n as usize - 4] - OFFSET_WINDOW + low,
        _ if exact => value % 2,
        _ => value % OFFSET_WINDOW,
    }
}

impl Fd {
    fn n(self) -> u8 {
        self.0 % FD_RANGE
    }
}

/// One call's result, as read back from memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsResult {
    /// The errno (0 on success).
    pub errno: u16,
    /// What the call wrote.
    pub output: FsOutput,
}

/// A call's outputs (meaningful when `errno` is 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsOutput {
    /// Nothing.
    None,
    /// A count (bytes read or written, a new descriptor, a link's length).
    Count(u32),
    /// A count and the bytes it covers.
    Bytes(u32, Vec<u8>),
    /// A file offset.
    Offset(u64),
    /// `filestat`: dev, ino, filetype, nlink, size, atim, mtim, ctim.
    Filestat([u64; 8]),
    /// `fdstat`: filetype, flags, base and inheriting rights.
    Fdstat([u64; 4]),
    /// `fd_readdir`: bytes used and the buffer.
    Dirents(u32, Vec<u8>),
    /// A listing compared as a set: complete listings from cookie 0, sorted
    /// `(name, type)`; otherwise only the fact.
    Listing(Option<Vec<(Vec<u8>, u8)>>),
}

impl FsResult {
    /// The result with the values the context decides and stock cannot
    /// match masked: a filestat's `dev`, `ino` and times (and size, for a
    /// directory); a listing's order, `d_ino` and `d_next`.
    pub fn masked(&self, op: &FsOp) -> FsResult {
        let output = match (&self.output, op) {
            _ if self.errno != 0 => FsOutput::None,
            (FsOutput::Filestat(s), _) => {
                let size = if s[2] == 3 { 0 } else { s[4] };
                FsOutput::Filestat([0, 0, s[2], s[3], size, 0, 0, 0])
            }
            (FsOutput::Dirents(used, buf), FsOp::FdReaddir { len, cookie, .. }) => {
                let len = u32::from(*len) % (MAX_READ + 1);
                let complete = *used < len && cookie % 16 == 0;
                FsOutput::Listing(complete.then(|| listing(&buf[..*used as usize])))
            }
            (other, _) => other.clone(),
        };
        FsResult {
            errno: self.errno,
            output,
        }
    }
}

/// The `(name, type)` pairs of complete dirents, sorted.
fn listing(mut buf: &[u8]) -> Vec<(Vec<u8>, u8)> {
    let mut out = Vec::new();
    while buf.len() >= 24 {
        let namlen = u32::from_le_bytes(buf[16..20].try_into().expect("4 bytes")) as usize;
        let kind = buf[20];
        let Some(name) = buf.get(24..24 + namlen) else {
            break;
        };
        out.push((name.to_vec(), kind));
        buf = &buf[24 + namlen..];
    }
    out.sort();
    out
}

/// Where an operation's results live.
#[derive(Clone, Debug)]
struct Slot {
    op: FsOp,
    at: u32,
}

/// A compiled script: its calls, its data and where its results are. The
/// binary module is encoded from them directly ([`encode`]); the text is
/// rendered only when asked for (failure messages), not parsed.
#[derive(Clone, Debug)]
pub struct CompiledFsScript {
    slots: Vec<Slot>,
    module: encode::ScriptModule,
    wat: std::sync::OnceLock<String>,
}

/// Lays out inputs (paths, data, iovecs) for data segments.
struct Inputs {
    next: u32,
    data: Vec<(u32, Vec<u8>)>,
}

impl Inputs {
    /// Places `bytes` and returns `(ptr, len)`.
    fn put(&mut self, bytes: &[u8]) -> (u32, u32) {
        let at = self.next;
        self.next = (at + bytes.len() as u32 + 8).div_ceil(8) * 8;
        if !bytes.is_empty() {
            self.data.push((at, bytes.to_vec()));
        }
        (at, bytes.len() as u32)
    }

    /// Places an iovec over `[ptr, ptr + len)` and returns its address.
    fn iovec(&mut self, ptr: u32, len: u32) -> u32 {
        let mut v = ptr.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        self.put(&v).0
    }
}

/// Bytes reserved after the errno word for an operation's outputs.
fn slot_size(op: &FsOp) -> u32 {
    match op {
        FsOp::FdRead { len, .. }
        | FsOp::FdPread { len, .. }
        | FsOp::FdReaddir { len, .. }
        | FsOp::PathReadlink { len, .. } => 8 + u32::from(*len) % (MAX_READ + 1),
        FsOp::FdFilestatGet { .. } | FsOp::PathFilestatGet { .. } => 64,
        FsOp::FdFdstatGet { .. } => 24,
        // nevents, then one 32-byte event.
        FsOp::Sleep { .. } => 40,
        _ => 16,
    }
}

impl FsScript {
    /// Compiles the script into a module importing `wasi_snapshot_preview1`
    /// (only the functions the script calls).
    pub fn compile(&self) -> CompiledFsScript {
        let mut inputs = Inputs {
            next: 0x1000,
            data: Vec::new(),
        };
        // Slots go after all inputs; inputs are placed while compiling each
        // call, so reserve room for them first (paths, data, iovecs).
        let room: u32 = self.ops.iter().map(input_room).sum::<u32>() + 0x100;
        let mut slot_at = (inputs.next + room).div_ceil(8) * 8;
        let mut calls = Vec::new();
        let mut slots = Vec::new();
        for op in &self.ops {
            let at = slot_at;
            calls.push((at, call(op, at + 8, &mut inputs)));
            slot_at = (at + 8 + slot_size(op)).div_ceil(8) * 8;
            slots.push(Slot { op: op.clone(), at });
        }
        let pages = slot_at.div_ceil(65536).max(1);
        let imports = IMPORTS
            .iter()
            .copied()
            .filter(|(name, _)| calls.iter().any(|(_, c)| c.name == *name))
            .collect();
        CompiledFsScript {
            slots,
            module: encode::ScriptModule {
                imports,
                pages,
                data: inputs.data,
                calls,
            },
            wat: std::sync::OnceLock::new(),
        }
    }
}

/// The imported functions and their parameter types.
const IMPORTS: [(&str, &str); 31] = [
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("fd_close", "i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_tell", "i32 i32"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_sync", "i32"),
    ("fd_datasync", "i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
];

/// Bytes of input data an operation places (paths, data, iovecs), rounded up.
fn input_room(op: &FsOp) -> u32 {
    let room = |p: &FsPath| p.0.len() as u32 + 16;
    match op {
        FsOp::PathOpen { path: p, .. }
        | FsOp::PathCreateDirectory { path: p, .. }
        | FsOp::PathRemoveDirectory { path: p, .. }
        | FsOp::PathUnlinkFile { path: p, .. }
        | FsOp::PathReadlink { path: p, .. }
        | FsOp::PathFilestatGet { path: p, .. }
        | FsOp::PathFilestatSetTimes { path: p, .. } => room(p),
        FsOp::PathRename { from, to, .. } | FsOp::PathLink { from, to, .. } => {
            room(from) + room(to)
        }
        FsOp::PathSymlink {
            target, path: p, ..
        } => room(target) + room(p),
        FsOp::FdWrite { data, .. } | FsOp::FdPwrite { data, .. } => {
            data.len().min(MAX_WRITE) as u32 + 32
        }
        FsOp::FdRead { .. } | FsOp::FdPread { .. } => 16,
        FsOp::Sleep { .. } => SUBSCRIPTION_SIZE + 16,
        _ => 0,
    }
}

/// `fd_read`/`fd_write` (or, `at` an offset, `fd_pread`/`fd_pwrite`) of
/// one iovec at `iov`, the count written at `out`.
fn io_call(write: bool, fd: u8, iov: u32, at: Option<u64>, out: u32) -> Call {
    let name = match (write, at.is_some()) {
        (false, false) => "fd_read",
        (false, true) => "fd_pread",
        (true, false) => "fd_write",
        (true, true) => "fd_pwrite",
    };
    let mut args = vec![I32(fd.into()), I32(iov), I32(1)];
    args.extend(at.map(I64));
    args.push(I32(out));
    Call { name, args }
}

/// The size of a preview1 `subscription`.
const SUBSCRIPTION_SIZE: u32 = 48;

/// A `subscription` to the monotonic clock (id 1), relative, `nanos` from
/// now, with userdata 0 and precision 0.
fn sleep_subscription(nanos: u16) -> Vec<u8> {
    let mut sub = vec![0u8; SUBSCRIPTION_SIZE as usize];
    // tag 0 (clock) at 8; the clock's id at 16, timeout at 24, flags 0.
    sub[16..20].copy_from_slice(&1u32.to_le_bytes());
    sub[24..32].copy_from_slice(&u64::from(nanos).to_le_bytes());
    sub
}

/// Places path `p` and returns its two arguments.
fn path(inputs: &mut Inputs, p: &FsPath) -> [Arg; 2] {
    let (ptr, len) = inputs.put(&p.0);
    [I32(ptr), I32(len)]
}

/// The call of `op`, its outputs at `out`.
fn call(op: &FsOp, out: u32, inputs: &mut Inputs) -> Call {
    let fd = |fd: &Fd| I32(fd.n().into());
    let len_of = |len: u16| u32::from(len) % (MAX_READ + 1);
    let named = |name: &'static str, args: Vec<Arg>| Call { name, args };
    match op {
        FsOp::PathOpen {
            dir,
            follow,
            path: p,
            oflags,
            read,
            write,
            fdflags,
        } => {
            let rights = u64::from(*read) << 1 | u64::from(*write) << 6;
            let [ptr, len] = path(inputs, p);
            named(
                "path_open",
                vec![
                    fd(dir),
                    I32((*follow).into()),
                    ptr,
                    len,
                    I32(u32::from(*oflags % 16)),
                    I64(rights),
                    I64(0),
                    I32(u32::from(*fdflags % 32)),
                    I32(out),
                ],
            )
        }
        FsOp::FdClose { fd: f } => named("fd_close", vec![fd(f)]),
        FsOp::FdRead { fd, len } | FsOp::FdPread { fd, len, .. } => {
            let iov = inputs.iovec(out + 8, len_of(*len));
            let at = match op {
                FsOp::FdPread { offset: o, .. } => Some(offset(*o)),
                _ => None,
            };
            io_call(false, fd.n(), iov, at, out)
        }
        FsOp::FdWrite { fd, data } | FsOp::FdPwrite { fd, data, .. } => {
            let data = &data[..data.len().min(MAX_WRITE)];
            let (ptr, len) = inputs.put(data);
            let iov = inputs.iovec(ptr, len);
            let at = match op {
                FsOp::FdPwrite { offset: o, .. } => Some(offset(*o)),
                _ => None,
            };
            io_call(true, fd.n(), iov, at, out)
        }
        FsOp::FdSeek {
            fd: f,
            offset: o,
            whence,
        } => named(
            "fd_seek",
            vec![
                fd(f),
                I64(offset(*o as u64)),
                I32(u32::from(whence % 3)),
                I32(out),
            ],
        ),
        FsOp::FdTell { fd: f } => named("fd_tell", vec![fd(f), I32(out)]),
        FsOp::FdFilestatGet { fd: f } => named("fd_filestat_get", vec![fd(f), I32(out)]),
        FsOp::FdFdstatGet { fd: f } => named("fd_fdstat_get", vec![fd(f), I32(out)]),
        FsOp::FdFdstatSetFlags { fd: f, flags } => named(
            "fd_fdstat_set_flags",
            vec![fd(f), I32(u32::from(flags % 32))],
        ),
        FsOp::FdFilestatSetSize { fd: f, size } => {
            named("fd_filestat_set_size", vec![fd(f), I64(offset(*size))])
        }
        FsOp::FdFilestatSetTimes {
            fd: f,
            atim,
            mtim,
            fst,
        } => named(
            "fd_filestat_set_times",
            vec![
                fd(f),
                I64(offset(*atim)),
                I64(offset(*mtim)),
                I32(u32::from(fst % 16)),
            ],
        ),
        FsOp::FdReaddir { fd: f, len, cookie } => named(
            "fd_readdir",
            vec![
                fd(f),
                I32(out + 8),
                I32(len_of(*len)),
                I64(u64::from(cookie % 16)),
                I32(out),
            ],
        ),
        FsOp::FdRenumber { from, to } => named("fd_renumber", vec![fd(from), fd(to)]),
        FsOp::FdAdvise {
            fd: f,
            offset: o,
            len,
            advice,
        } => named(
            "fd_advise",
            vec![
                fd(f),
                I64(offset(*o)),
                I64(offset(*len)),
                I32(u32::from(advice % 6)),
            ],
        ),
        FsOp::FdAllocate {
            fd: f,
            offset: o,
            len,
        } => named(
            "fd_allocate",
            vec![fd(f), I64(offset(*o)), I64(offset(*len))],
        ),
        FsOp::FdSync { fd: f, data_only } => {
            let name = if *data_only { "fd_datasync" } else { "fd_sync" };
            named(name, vec![fd(f)])
        }
        FsOp::FdPrestatGet { fd: f } => named("fd_prestat_get", vec![fd(f), I32(out)]),
        FsOp::FdPrestatDirName { fd: f, len } => named(
            "fd_prestat_dir_name",
            vec![fd(f), I32(out), I32(u32::from(len % 8))],
        ),
        FsOp::PathCreateDirectory { dir, path: p } => {
            let [ptr, len] = path(inputs, p);
            named("path_create_directory", vec![fd(dir), ptr, len])
        }
        FsOp::PathRemoveDirectory { dir, path: p } => {
            let [ptr, len] = path(inputs, p);
            named("path_remove_directory", vec![fd(dir), ptr, len])
        }
        FsOp::PathUnlinkFile { dir, path: p } => {
            let [ptr, len] = path(inputs, p);
            named("path_unlink_file", vec![fd(dir), ptr, len])
        }
        FsOp::PathRename {
            from_dir,
            from,
            to_dir,
            to,
        } => {
            let [from_ptr, from_len] = path(inputs, from);
            let [to_ptr, to_len] = path(inputs, to);
            named(
                "path_rename",
                vec![fd(from_dir), from_ptr, from_len, fd(to_dir), to_ptr, to_len],
            )
        }
        FsOp::PathLink {
            from_dir,
            follow,
            from,
            to_dir,
            to,
        } => {
            let [from_ptr, from_len] = path(inputs, from);
            let [to_ptr, to_len] = path(inputs, to);
            named(
                "path_link",
                vec![
                    fd(from_dir),
                    I32((*follow).into()),
                    from_ptr,
                    from_len,
                    fd(to_dir),
                    to_ptr,
                    to_len,
                ],
            )
        }
        FsOp::PathSymlink {
            target,
            dir,
            path: p,
        } => {
            let [target_ptr, target_len] = path(inputs, target);
            let [ptr, len] = path(inputs, p);
            named(
                "path_symlink",
                vec![target_ptr, target_len, fd(dir), ptr, len],
            )
        }
        FsOp::PathReadlink { dir, path: p, len } => {
            let [ptr, path_len] = path(inputs, p);
            named(
                "path_readlink",
                vec![
                    fd(dir),
                    ptr,
                    path_len,
                    I32(out + 8),
                    I32(len_of(*len)),
                    I32(out),
                ],
            )
        }
        FsOp::PathFilestatGet {
            dir,
            follow,
            path: p,
        } => {
            let [ptr, len] = path(inputs, p);
            named(
                "path_filestat_get",
                vec![fd(dir), I32((*follow).into()), ptr, len, I32(out)],
            )
        }
        FsOp::PathFilestatSetTimes {
            dir,
            follow,
            path: p,
            atim,
            mtim,
            fst,
        } => {
            let [ptr, len] = path(inputs, p);
            named(
                "path_filestat_set_times",
                vec![
                    fd(dir),
                    I32((*follow).into()),
                    ptr,
                    len,
                    I64(offset(*atim)),
                    I64(offset(*mtim)),
                    I32(u32::from(fst % 16)),
                ],
            )
        }
        FsOp::Sleep { nanos } => {
            let (sub, _) = inputs.put(&sleep_subscription(*nanos));
            named(
                "poll_oneoff",
                vec![I32(sub), I32(out + 8), I32(1), I32(out)],
            )
        }
    }
}

impl CompiledFsScript {
    /// The module, as WebAssembly text (rendered on the first call; the
    /// same module as [`wasm`](Self::wasm)).
    pub fn wat(&self) -> &str {
        self.wat.get_or_init(|| self.module.wat())
    }

    /// The module, as binary WebAssembly, encoded directly (no text is
    /// written or parsed: an execution of `fs_diff` once spent a third of
    /// its time parsing the text).
    pub fn wasm(&self) -> Vec<u8> {
        self.module.wasm()
    }

    /// The operations, in order.
    pub fn ops(&self) -> impl Iterator<Item = &FsOp> {
        self.slots.iter().map(|s| &s.op)
    }

    /// Reads every operation's result out of the final `memory` (operations
    /// that did not run read as errno 0 with zeroed outputs).
    pub fn results(&self, memory: &[u8]) -> Vec<FsResult> {
        self.slots.iter().map(|s| read_result(s, memory)).collect()
    }
}

fn read_result(slot: &Slot, memory: &[u8]) -> FsResult {
    let bytes = |at: u32, len: u32| -> Vec<u8> {
        let (start, end) = (at as usize, at as usize + len as usize);
        memory
            .get(start..end)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    let u32_at = |at: u32| u32::from_le_bytes(bytes(at, 4).try_into().unwrap_or_default());
    let u64_at = |at: u32| u64::from_le_bytes(bytes(at, 8).try_into().unwrap_or_default());
    let errno = u32_at(slot.at) as u16;
    let out = slot.at + 8;
    let room = slot_size(&slot.op) - 8;
    let output = match &slot.op {
        FsOp::PathOpen { .. }
        | FsOp::FdWrite { .. }
        | FsOp::FdPwrite { .. }
        | FsOp::Sleep { .. } => FsOutput::Count(u32_at(out)),
        FsOp::FdRead { .. } | FsOp::FdPread { .. } | FsOp::PathReadlink { .. } => {
            let n = u32_at(out).min(room);
            FsOutput::Bytes(n, bytes(out + 8, n))
        }
        FsOp::FdReaddir { .. } => {
            let n = u32_at(out).min(room);
            FsOutput::Dirents(n, bytes(out + 8, n))
        }
        FsOp::FdSeek { .. } | FsOp::FdTell { .. } => FsOutput::Offset(u64_at(out)),
        FsOp::FdFilestatGet { .. } | FsOp::PathFilestatGet { .. } => {
            let mut s = [0u64; 8];
            for (i, offset) in [0, 8, 16, 24, 32, 40, 48, 56].into_iter().enumerate() {
                s[i] = u64_at(out + offset);
            }
            s[2] &= 0xff;
            FsOutput::Filestat(s)
        }
        FsOp::FdFdstatGet { .. } => FsOutput::Fdstat([
            u64::from(bytes(out, 1).first().copied().unwrap_or(0)),
            u64::from(u16::from_le_bytes(
                bytes(out + 2, 2).try_into().unwrap_or_default(),
            )),
            u64_at(out + 8),
            u64_at(out + 16),
        ]),
        FsOp::FdPrestatGet { .. } => FsOutput::Bytes(8, bytes(out, 8)),
        FsOp::FdPrestatDirName { len, .. } => FsOutput::Bytes(0, bytes(out, u32::from(len % 8))),
        _ => FsOutput::None,
    };
    FsResult { errno, output }
}
