//! `wasi:filesystem` for components, served from the same virtual trees as
//! preview1.
//!
//! [`DeterminismConfig::preopen`](crate::DeterminismConfig::preopen) gives a
//! component the same preopened trees, in the same order, as it gives a
//! preview1 module: `wasi:filesystem/preopens.get-directories` lists them,
//! and every `wasi:filesystem/types` function is answered by the preopen's
//! [`FsTree`](crate::fs::FsTree) with the [`fs`](crate::fs) rules (inode
//! numbers, devices, times, link counts, sizes, sorted listings, limits).
//! One program built for wasip1 and for wasip2 therefore leaves the same
//! tree and sees the same metadata.
//!
//! # The rules for components
//!
//! The checks and their order are stock wasmtime-wasi 46's on a real
//! directory, with the tree's answer in place of the host's:
//!
//! - A directory function on a file descriptor is `not-directory`; a file
//!   function (`read`, `write`, `set-size`, `advise`, the streams) on a
//!   directory is `bad-descriptor`.
//! - On a read-only preopen ([`preopen_read_only`](crate::DeterminismConfig::preopen_read_only)),
//!   every change is `not-permitted`, and so is opening with `write`,
//!   `create` or `truncate`; `write-via-stream` and `append-via-stream` are
//!   `bad-descriptor` there, as in stock.
//! - `open-at` with a sync flag is `unsupported`; `directory` with
//!   `create`, `exclusive` or `truncate` is `invalid`. A file is opened for
//!   writing when `write`, `create` or `truncate` is given, for reading when
//!   `read` is given or `write` is not; a read or write the open mode does
//!   not allow is `bad-descriptor` (Linux's `EBADF`), a `set-size` without
//!   write mode `invalid`.
//! - `read(len, offset)` returns at most 64 KiB, with `end-of-stream` true
//!   exactly when nothing was read (so also for `len` 0, as stock). An
//!   offset past `i64::MAX` is `invalid`.
//! - `read-directory` lists the entries sorted by name, without `.` and
//!   `..`, as they were when it was called.
//! - Two preopens are two devices: `rename-at` and `link-at` between them
//!   are `cross-device`. `link-at` following a symlink is `invalid`.
//! - `stat` reports `ctim` as `status-change-timestamp` and every time is
//!   present. `set-times` on a preopened directory itself is
//!   `bad-descriptor` unless it changes nothing (stock opens preopens
//!   `O_PATH`). A `datetime` past 64-bit nanoseconds (the year 2554) is
//!   `overflow`.
//! - `metadata-hash` is `{ lower: inode number, upper: device }`: a
//!   function of the virtual metadata only, and wasi-libc's `st_ino` (the
//!   lower half) equals the preview1 inode number of the same entry.
//!   `is-same-object` compares preopen and inode.
//! - Streams (`read-via-stream`, `write-via-stream`, `append-via-stream`)
//!   are answered at once: a read returns the bytes at the stream's offset
//!   (at most 64 KiB), end of file closes the stream; a write writes all of
//!   its bytes before returning (`check-write` always permits 1 MiB). A
//!   failed read or write reports `last-operation-failed`, whose
//!   `filesystem-error-code` is the tree's error, and the stream is closed
//!   after it. A stream keeps its file open: the file stays readable after
//!   the descriptor is dropped or the file unlinked.
//! - `sync`, `sync-data` and `advise` succeed on any descriptor they take
//!   (`advise` with a length past `i64::MAX` is `invalid`).
//!
//! Every call is recorded in the component's trace: its name, its
//! descriptors' handles and numbers, its strings and byte lists, and its
//! result (values or `error-code`); stream reads and writes are recorded as
//! `wasi:io/streams` calls on the file.

mod convert;
mod link;
mod ops;
mod streams;

pub(crate) use convert::error_index;
pub(crate) use link::{
    Traced, add_filesystem_to_linker, answer, define_descriptor, define_preopens,
    descriptor_flag_bits, is_same_object, open_bits, path_bits, rep, same_methods,
};
pub(crate) use ops::{Answer, Calls, Fail};
pub(crate) use streams::{FileReader, FileWriter, MAX_READ};

use crate::VirtualClock;
use crate::fd::Mount;
use crate::fs::Ino;
use crate::trace::Recorder;
use std::sync::{Arc, Mutex, MutexGuard};

/// The preopened trees of one component, shared by its descriptors and the
/// streams it opens on files.
#[derive(Clone)]
pub(crate) struct Filesystem {
    mounts: Arc<Mutex<Vec<Mount>>>,
    clock: VirtualClock,
    recorder: Option<Recorder>,
}

impl Filesystem {
    /// The trees `mounts` (preopen order), stamped by `clock`.
    pub(crate) fn new(mounts: Vec<Mount>, clock: VirtualClock, recorder: Option<Recorder>) -> Self {
        Filesystem {
            mounts: Arc::new(Mutex::new(mounts)),
            clock,
            recorder,
        }
    }

    /// The trees, locked.
    pub(crate) fn mounts(&self) -> MutexGuard<'_, Vec<Mount>> {
        self.mounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The virtual wall clock, in nanoseconds, without counting as a read.
    fn now(&self) -> u64 {
        crate::clocks::duration_nanos(self.clock.wall_at(self.clock.peek()))
    }
}

/// What the resource table holds behind a `descriptor` handle.
pub(crate) struct VirtualDescriptor {
    /// Which preopen's tree.
    mount: usize,
    /// The entry in that tree.
    ino: Ino,
    kind: Kind,
}

/// A directory or a regular file, and how it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A directory: `preopen` for the preopened directory itself (not
    /// counted as an open handle); `mutate` when its flags say
    /// `mutate-directory` (only a writable preopen's).
    Dir { preopen: bool, mutate: bool },
    /// A regular file and its open mode.
    File { read: bool, write: bool },
}

#[cfg(test)]
mod tests;
