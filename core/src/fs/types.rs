//! The plain values operations take and return.

/// An inode number (see the [numbering rule](super#the-rules-written-once)).
pub type Ino = u64;

/// The type of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileType {
    /// A directory.
    Directory,
    /// A regular file.
    RegularFile,
    /// A symbolic link.
    SymbolicLink,
}

/// An entry's metadata, as `fd_filestat_get` reports it. Times are
/// nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stat {
    /// The tree's device number.
    pub dev: u64,
    /// The inode number.
    pub ino: Ino,
    /// The entry's type.
    pub filetype: FileType,
    /// Hard links (files, symlinks) or 2 + subdirectories (directories).
    pub nlink: u64,
    /// Bytes of a file, of a symlink's target, or [`DIR_SIZE`](super::DIR_SIZE).
    pub size: u64,
    /// Last access.
    pub atim: u64,
    /// Last data modification.
    pub mtim: u64,
    /// Last status change.
    pub ctim: u64,
}

/// One entry of a directory listing ([`FsTree::list`](super::FsTree::list)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DirEntry {
    /// The entry's index in the listing; a listing resumed at `cookie`
    /// starts with this entry (preview1's `d_next` is `cookie + 1`).
    pub cookie: u64,
    /// The entry's inode.
    pub ino: Ino,
    /// The entry's type.
    pub filetype: FileType,
    /// The name, as bytes (`.` and `..` for the first two).
    pub name: Vec<u8>,
}

/// A new timestamp for [`FsTree::set_times`](super::FsTree::set_times), as
/// preview1's `fstflags` and preview2's `new-timestamp` express it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NewTime {
    /// Leave the time as it is.
    NoChange,
    /// Set it to the operation's `now`.
    Now,
    /// Set it to this many nanoseconds since the epoch.
    At(u64),
}

/// How [`FsTree::open`](super::FsTree::open) resolves and creates, as
/// `O_NOFOLLOW`'s absence, `O_CREAT`, `O_EXCL`, `O_TRUNC`, `O_DIRECTORY` and
/// write access. `new()` gives all `false` except `follow`.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fs::OpenOptions;
/// let options = OpenOptions::new().create(true).exclusive(true);
/// assert!(options.follow && options.create && options.exclusive && !options.truncate);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenOptions {
    /// Follow a final symlink (`false` is `O_NOFOLLOW`). By default `true`.
    pub follow: bool,
    /// Create a regular file if the entry is missing. By default `false`.
    pub create: bool,
    /// With `create`: fail with `EEXIST` if the entry exists (a final symlink
    /// is then never followed). By default `false`.
    pub exclusive: bool,
    /// Truncate a regular file to 0 bytes. By default `false`.
    pub truncate: bool,
    /// Only open a directory (`ENOTDIR` otherwise). By default `false`.
    pub directory: bool,
    /// The handle will write (a directory is then `EISDIR`). By default `false`.
    pub write: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            follow: true,
            create: false,
            exclusive: false,
            truncate: false,
            directory: false,
            write: false,
        }
    }
}

impl OpenOptions {
    /// The defaults listed in the [type docs](Self).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`follow`](Self::follow).
    pub fn follow(mut self, yes: bool) -> Self {
        self.follow = yes;
        self
    }

    /// Sets [`create`](Self::create).
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }

    /// Sets [`exclusive`](Self::exclusive).
    pub fn exclusive(mut self, yes: bool) -> Self {
        self.exclusive = yes;
        self
    }

    /// Sets [`truncate`](Self::truncate).
    pub fn truncate(mut self, yes: bool) -> Self {
        self.truncate = yes;
        self
    }

    /// Sets [`directory`](Self::directory).
    pub fn directory(mut self, yes: bool) -> Self {
        self.directory = yes;
        self
    }

    /// Sets [`write`](Self::write).
    pub fn write(mut self, yes: bool) -> Self {
        self.write = yes;
        self
    }
}

/// The size limits of a tree (and of the snapshot it starts from).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fs::Limits;
/// let limits = Limits::default();
/// assert_eq!(limits.max_bytes, 256 << 20);
/// assert_eq!(limits.max_entries, 100_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The most bytes all regular files may hold together (symlink targets
    /// and names are not counted). Defaults to 256 MiB.
    pub max_bytes: u64,
    /// The most inodes (directories, files and symlinks, the root included).
    /// Defaults to 100,000.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 256 << 20,
            max_entries: 100_000,
        }
    }
}
