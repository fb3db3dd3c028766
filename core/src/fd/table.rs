//! The descriptor table, the stdio behind it and the preopened trees.

use crate::VirtualClock;
use crate::fs::{FsTree, Ino};
use crate::stdio::CapturedOutput;
use std::collections::{BTreeMap, BTreeSet};

/// The most descriptors open at once. Opening more answers `EMFILE`, the
/// same way every run (stock wasmtime-wasi has no such limit and would grow
/// its table until the host runs out of memory).
pub const MAX_OPEN_DESCRIPTORS: usize = 1 << 16;

/// What a descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Descriptor {
    /// Standard input: the configured bytes.
    Stdin,
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// A directory of a preopened tree.
    Dir(DirHandle),
    /// A regular file of a preopened tree.
    File(FileHandle),
}

/// An open directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirHandle {
    /// Which preopen's tree (its index in [`Descriptors::mounts`]).
    pub mount: usize,
    /// The directory's inode in that tree.
    pub ino: Ino,
    /// Whether this is the preopened directory itself (it has a guest path
    /// and `fd_prestat_get` describes it).
    pub preopen: bool,
    /// Opened for reading (`fd_readdir` is allowed).
    pub read: bool,
}

/// An open regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHandle {
    /// Which preopen's tree.
    pub mount: usize,
    /// The file's inode in that tree.
    pub ino: Ino,
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing.
    pub write: bool,
    /// `FDFLAGS_APPEND`: every write goes to the end.
    pub append: bool,
    /// `FDFLAGS_NONBLOCK` (reported, otherwise without effect on a file).
    pub nonblock: bool,
    /// The offset `fd_read`, `fd_write`, `fd_seek` and `fd_tell` use.
    pub position: u64,
}

/// One preopened directory: its guest path and this Store's tree.
#[derive(Clone, Debug)]
pub struct Mount {
    /// The path the guest sees (`fd_prestat_dir_name`).
    pub guest_path: String,
    /// This Store's copy-on-write tree.
    pub tree: FsTree,
    /// Whether the guest may change the tree (else it is read-only).
    pub writable: bool,
}

/// One context's preview1 descriptors: which numbers are open, and the stdio
/// streams and preopened trees they lead to. An adapter builds one per
/// context (from its configuration) and answers every descriptor call with
/// [`Calls`](super::Calls) on it.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fd::{Descriptor, Descriptors, Mount};
/// use deterministic_wasi_ctx_core::{ClockPolicy, FsTree, VirtualClock, VirtualFs};
/// use std::time::Duration;
///
/// let data = Mount {
///     guest_path: "/data".into(),
///     tree: FsTree::new(&VirtualFs::new().file("a", "A"), 1, 0),
///     writable: true,
/// };
/// let clock = VirtualClock::new(ClockPolicy::Frozen, Duration::ZERO, 0);
/// let fds = Descriptors::new(Vec::new(), Default::default()).with_mounts(vec![data], clock);
/// assert_eq!(fds.get(1), Some(Descriptor::Stdout));
/// assert!(matches!(fds.get(3), Some(Descriptor::Dir(d)) if d.preopen));
/// assert_eq!(fds.get(4), None);
/// assert_eq!(fds.filesystem("/data").unwrap().read_file("a"), Some(b"A".to_vec()));
/// ```
#[derive(Debug)]
pub struct Descriptors {
    used: BTreeMap<u32, Descriptor>,
    free: BTreeSet<u32>,
    stdin: Vec<u8>,
    stdin_read: usize,
    output: CapturedOutput,
    mounts: Vec<Mount>,
    clock: Option<VirtualClock>,
}

impl Descriptors {
    /// Stdin (fd 0) reading `stdin`, stdout (1) and stderr (2) writing to
    /// `output`; no preopens.
    pub fn new(stdin: Vec<u8>, output: CapturedOutput) -> Self {
        // Inserted one by one: `BTreeMap::from` of an array sorts it first,
        // which was a fifth of a context's build time.
        let mut used = BTreeMap::new();
        used.insert(0, Descriptor::Stdin);
        used.insert(1, Descriptor::Stdout);
        used.insert(2, Descriptor::Stderr);
        Descriptors {
            used,
            free: BTreeSet::new(),
            stdin,
            stdin_read: 0,
            output,
            mounts: Vec::new(),
            clock: None,
        }
    }

    /// Adds the preopened trees as fds 3, 4, ... in order; `clock` gives the
    /// virtual wall time file changes are stamped with.
    pub fn with_mounts(mut self, mounts: Vec<Mount>, clock: VirtualClock) -> Self {
        for (mount, m) in mounts.iter().enumerate() {
            let fd = 3 + mount as u32;
            let dir = DirHandle {
                mount,
                ino: m.tree.root(),
                preopen: true,
                read: true,
            };
            self.used.insert(fd, Descriptor::Dir(dir));
        }
        self.mounts = mounts;
        self.clock = Some(clock);
        self
    }

    /// What `fd` refers to, if it is open.
    pub fn get(&self, fd: u32) -> Option<Descriptor> {
        self.used.get(&fd).copied()
    }

    /// The preopened trees, in configuration order (fd 3 is the first).
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// The tree preopened as `guest_path`, as this Store left it (see the
    /// example on [`Descriptors`]).
    pub fn filesystem(&self, guest_path: &str) -> Option<&FsTree> {
        self.mounts
            .iter()
            .find(|m| m.guest_path == guest_path)
            .map(|m| &m.tree)
    }

    pub(crate) fn mount(&self, mount: usize) -> &Mount {
        &self.mounts[mount]
    }

    pub(crate) fn tree_mut(&mut self, mount: usize) -> &mut FsTree {
        &mut self.mounts[mount].tree
    }

    /// The virtual wall time in nanoseconds since the epoch, without counting
    /// as a clock read.
    pub fn now(&self) -> u64 {
        self.clock.as_ref().map_or(0, |clock| {
            crate::clocks::duration_nanos(clock.wall_at(clock.peek()))
        })
    }

    /// Whether an fd subscription of `poll_oneoff` on `fd` is ready: for
    /// reading (`read`) or writing. Stdin is ready for reading, stdout and
    /// stderr for writing; a file is always ready to read, and to write
    /// when its preopen is writable; a directory, or a closed descriptor,
    /// never.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fd::Descriptors;
    ///
    /// let fds = Descriptors::new(Vec::new(), Default::default());
    /// assert!(fds.poll_ready(0, true));
    /// assert!(!fds.poll_ready(0, false));
    /// assert!(fds.poll_ready(1, false));
    /// assert!(!fds.poll_ready(9, true));
    /// ```
    pub fn poll_ready(&self, fd: u32, read: bool) -> bool {
        match self.get(fd) {
            Some(Descriptor::Stdin) => read,
            Some(Descriptor::Stdout | Descriptor::Stderr) => !read,
            Some(Descriptor::File(f)) => read || self.mount(f.mount).writable,
            Some(Descriptor::Dir(_)) | None => false,
        }
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> Option<&mut Descriptor> {
        self.used.get_mut(&fd)
    }

    /// Opens a new descriptor, as stock does: the highest number freed
    /// earlier, else one past the highest in use. `None` past
    /// [`MAX_OPEN_DESCRIPTORS`].
    pub fn push(&mut self, desc: Descriptor) -> Option<u32> {
        if self.used.len() >= MAX_OPEN_DESCRIPTORS {
            return None;
        }
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.used.last_key_value() {
                Some((&last, _)) => match last.checked_add(1) {
                    Some(fd) => fd,
                    None => (0..u32::MAX).rev().find(|fd| !self.used.contains_key(fd))?,
                },
                None => 0,
            },
        };
        self.used.insert(fd, desc);
        Some(fd)
    }

    /// Closes `fd`: `false` if it was not open. A file or directory's handle
    /// on its tree is released.
    pub fn close(&mut self, fd: u32) -> bool {
        let Some(desc) = self.used.remove(&fd) else {
            return false;
        };
        self.free.insert(fd);
        let (mount, ino) = match desc {
            Descriptor::File(f) => (f.mount, f.ino),
            Descriptor::Dir(d) if !d.preopen => (d.mount, d.ino),
            _ => return true,
        };
        // Every non-preopen handle was counted when it was opened.
        let _ = self.mounts[mount].tree.close(ino);
        true
    }

    /// Moves `from` to `to`, closing what `to` held; `false` (nothing done)
    /// unless both are open.
    pub fn renumber(&mut self, from: u32, to: u32) -> bool {
        let (Some(_), Some(_)) = (self.get(from), self.get(to)) else {
            return false;
        };
        if from != to {
            self.close(to);
            let moved = self.used.remove(&from).expect("checked above");
            self.free.insert(from);
            self.free.remove(&to);
            self.used.insert(to, moved);
        }
        true
    }

    /// Takes up to `max` bytes of stdin (fewer at its end).
    pub fn read_stdin(&mut self, max: usize) -> &[u8] {
        let start = self.stdin_read;
        let end = start + max.min(self.stdin.len() - start);
        self.stdin_read = end;
        &self.stdin[start..end]
    }

    /// Whether stdin has bytes left.
    pub fn stdin_left(&self) -> bool {
        self.stdin_read < self.stdin.len()
    }

    /// Appends `bytes` to stdout or stderr, as far as the capture limit
    /// allows: `false` if not all of them fitted.
    pub fn write_output(&mut self, stream: Descriptor, bytes: &[u8]) -> bool {
        match stream {
            Descriptor::Stdout => self.output.write_stdout(bytes),
            Descriptor::Stderr => self.output.write_stderr(bytes),
            _ => false,
        }
    }
}
