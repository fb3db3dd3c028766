//! [`VirtualFs`]: the immutable snapshot, and building it in code.

use super::content::FileContent;
use super::node::{Dir, Kind, Node, Table};
use super::types::{FileType, Ino, Limits};
use super::{NAME_MAX, PATH_MAX, ROOT};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// An immutable tree of directories, regular files and symlinks that
/// [`FsTree`](super::FsTree)s start from. Cloning is cheap (an `Arc`).
///
/// Build one in code with [`new`](Self::new) and the builder methods, or read
/// a host directory once with [`from_host_dir`](Self::from_host_dir). Names
/// are bytes and need not be UTF-8.
///
/// Builder paths are relative to the root; empty components are ignored
/// (`/a//b/` is `a/b`), `.` and `..` are refused. Missing parent directories
/// are created. Adding an entry where one of the same kind exists replaces
/// it (a directory is kept as it is); where one of another kind exists — or
/// where a parent would have to be a file or symlink — is a
/// [`SnapshotError::Clash`]. The plain methods ([`file`](Self::file),
/// [`dir`](Self::dir), [`symlink`](Self::symlink)) panic with that error's
/// message; the `try_` methods return it.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fs::{FsTree, VirtualFs};
///
/// let snapshot = VirtualFs::new()
///     .file("in/data.csv", "a,b\n1,2\n")
///     .dir("out")
///     .symlink("latest", "in/data.csv");
/// // Every Store whose configuration preopens this snapshot starts from
/// // its own copy-on-write tree of it, as here (device 1, time 0).
/// let fs = FsTree::new(&snapshot, 1, 0);
/// assert_eq!(fs.read_file("latest"), Some(b"a,b\n1,2\n".to_vec()));
/// ```
#[derive(Clone, Default)]
pub struct VirtualFs {
    inner: Arc<Inner>,
}

/// Two snapshots are equal when they are the same snapshot (clones of one
/// `VirtualFs`); compare contents with [`FsTree::digest`](super::FsTree::digest).
impl PartialEq for VirtualFs {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for VirtualFs {}

impl fmt::Debug for VirtualFs {
    /// A summary: contents are not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualFs")
            .field("entries", &self.inner.entries.len())
            .field("bytes", &self.inner.bytes)
            .field("limits", &self.inner.limits)
            .finish()
    }
}

#[derive(Clone, Debug, Default)]
struct Inner {
    /// Every entry but the root, by full path.
    entries: BTreeMap<Vec<u8>, Entry>,
    limits: Limits,
    bytes: u64,
    /// The node table, made once when the first tree is made.
    table: OnceLock<Table>,
}

#[derive(Clone, Debug)]
enum Entry {
    Dir,
    File(Arc<FileContent>),
    Symlink(Arc<[u8]>),
}

impl Entry {
    fn filetype(&self) -> FileType {
        match self {
            Entry::Dir => FileType::Directory,
            Entry::File(_) => FileType::RegularFile,
            Entry::Symlink(_) => FileType::SymbolicLink,
        }
    }
}

/// Why a [`VirtualFs`] could not be built or snapshotted.
#[derive(Debug)]
pub enum SnapshotError {
    /// An entry is needed where one of another type exists (for example a
    /// directory where a file is).
    Clash {
        /// The path of the existing entry.
        path: Vec<u8>,
        /// Its type.
        existing: FileType,
        /// The type that was needed there.
        wanted: FileType,
    },
    /// A path or symlink target that cannot be stored.
    InvalidPath {
        /// The path as given.
        path: Vec<u8>,
        /// Why.
        reason: &'static str,
    },
    /// The tree would exceed its [`Limits`].
    TooLarge {
        /// The path whose addition went over.
        path: Vec<u8>,
        /// `"max_bytes"` or `"max_entries"`.
        limit: &'static str,
        /// The limit's value.
        max: u64,
    },
    /// A host entry that is neither a directory, a regular file nor a symlink.
    Special {
        /// The host path.
        path: PathBuf,
        /// `"fifo"`, `"socket"`, `"character device"`, `"block device"` or
        /// `"special file"`.
        kind: &'static str,
    },
    /// A host entry that could not be read.
    Io {
        /// The host path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |path: &[u8]| String::from_utf8_lossy(path).into_owned();
        match self {
            SnapshotError::Clash {
                path,
                existing,
                wanted,
            } => write!(
                f,
                "`{}` is a {existing:?}, but a {wanted:?} is needed there",
                show(path)
            ),
            SnapshotError::InvalidPath { path, reason } => {
                write!(f, "invalid path `{}`: {reason}", show(path))
            }
            SnapshotError::TooLarge { path, limit, max } => {
                write!(f, "adding `{}` exceeds {limit} ({max})", show(path))
            }
            SnapshotError::Special { path, kind } => write!(
                f,
                "{}: is a {kind}; only directories, regular files and symlinks can be snapshotted",
                path.display()
            ),
            SnapshotError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SnapshotError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Splits a builder path into its components, refusing what cannot be stored.
fn components(path: &[u8]) -> Result<Vec<&[u8]>, SnapshotError> {
    let invalid = |reason| SnapshotError::InvalidPath {
        path: path.to_vec(),
        reason,
    };
    if path.len() >= PATH_MAX {
        return Err(invalid("4096 bytes or longer"));
    }
    if path.contains(&0) {
        return Err(invalid("contains a NUL byte"));
    }
    let parts: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(invalid("names the root, which always exists"));
    }
    for part in &parts {
        if *part == b"." || *part == b".." {
            return Err(invalid("`.` and `..` components are not allowed"));
        }
        if part.len() > NAME_MAX {
            return Err(invalid("a component is longer than 255 bytes"));
        }
    }
    Ok(parts)
}

impl VirtualFs {
    /// An empty tree (just the root directory) with the default [`Limits`]:
    /// 256 MiB of file bytes and 100,000 entries.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, VirtualFs};
    ///
    /// let snapshot = VirtualFs::new()
    ///     .file("in/data.csv", "x,y\n1,2\n")
    ///     .dir("out")
    ///     .symlink("link", "in/data.csv");
    /// let tree = FsTree::new(&snapshot, 1, 0);
    /// assert_eq!(tree.read_file(b"link"), Some(b"x,y\n1,2\n".to_vec()));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tree with these limits.
    pub fn with_limits(limits: Limits) -> Self {
        VirtualFs {
            inner: Arc::new(Inner {
                limits,
                ..Inner::default()
            }),
        }
    }

    /// The limits every tree made from this snapshot has.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Adds (or replaces) a regular file, creating missing parents.
    ///
    /// # Panics
    ///
    /// On any [`SnapshotError`] [`try_file`](Self::try_file) returns.
    #[track_caller]
    pub fn file(self, path: impl AsRef<[u8]>, contents: impl Into<Vec<u8>>) -> Self {
        self.try_file(path, contents)
            .unwrap_or_else(|e| panic!("VirtualFs::file: {e}"))
    }

    /// Adds (or replaces) a directory, creating missing parents.
    ///
    /// # Panics
    ///
    /// On any [`SnapshotError`] [`try_dir`](Self::try_dir) returns.
    #[track_caller]
    pub fn dir(self, path: impl AsRef<[u8]>) -> Self {
        self.try_dir(path)
            .unwrap_or_else(|e| panic!("VirtualFs::dir: {e}"))
    }

    /// Adds (or replaces) a symlink holding `target`, creating missing
    /// parents. The target is stored as given and may dangle; an absolute or
    /// escaping one is refused when followed.
    ///
    /// # Panics
    ///
    /// On any [`SnapshotError`] [`try_symlink`](Self::try_symlink) returns.
    #[track_caller]
    pub fn symlink(self, path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        self.try_symlink(path, target)
            .unwrap_or_else(|e| panic!("VirtualFs::symlink: {e}"))
    }

    /// [`file`](Self::file), returning errors.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::InvalidPath`], [`SnapshotError::Clash`] or
    /// [`SnapshotError::TooLarge`].
    pub fn try_file(
        self,
        path: impl AsRef<[u8]>,
        contents: impl Into<Vec<u8>>,
    ) -> Result<Self, SnapshotError> {
        self.try_file_content(path, FileContent::from(contents.into()))
    }

    /// [`try_file`](Self::try_file) with contents that may hold holes (a
    /// sparse host file's snapshot).
    ///
    /// # Errors
    ///
    /// As [`try_file`](Self::try_file).
    pub fn try_file_content(
        self,
        path: impl AsRef<[u8]>,
        contents: FileContent,
    ) -> Result<Self, SnapshotError> {
        self.add(path.as_ref(), Entry::File(Arc::new(contents)))
    }

    /// [`dir`](Self::dir), returning errors.
    ///
    /// # Errors
    ///
    /// As [`try_file`](Self::try_file).
    pub fn try_dir(self, path: impl AsRef<[u8]>) -> Result<Self, SnapshotError> {
        self.add(path.as_ref(), Entry::Dir)
    }

    /// [`symlink`](Self::symlink), returning errors.
    ///
    /// # Errors
    ///
    /// As [`try_file`](Self::try_file); also `InvalidPath` for an empty
    /// target or one of 4096 bytes or more.
    pub fn try_symlink(
        self,
        path: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
    ) -> Result<Self, SnapshotError> {
        let target = target.as_ref();
        if target.is_empty() || target.len() >= PATH_MAX || target.contains(&0) {
            return Err(SnapshotError::InvalidPath {
                path: target.to_vec(),
                reason: "a symlink target must be 1 to 4095 bytes without NUL",
            });
        }
        self.add(path.as_ref(), Entry::Symlink(target.into()))
    }

    /// Adds `entry` at `path` (see the type docs for the rules).
    fn add(mut self, path: &[u8], entry: Entry) -> Result<Self, SnapshotError> {
        let parts = components(path)?;
        let inner = &self.inner;
        let mut new_entries = 0u64;
        let mut full = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                full.push(b'/');
            }
            full.extend_from_slice(part);
            let last = i + 1 == parts.len();
            let wanted = if last {
                entry.filetype()
            } else {
                FileType::Directory
            };
            match inner.entries.get(&full) {
                None => new_entries += 1,
                Some(existing) if existing.filetype() == wanted => {}
                Some(existing) => {
                    return Err(SnapshotError::Clash {
                        path: full,
                        existing: existing.filetype(),
                        wanted,
                    });
                }
            }
        }
        let old_bytes = match inner.entries.get(&full) {
            Some(Entry::File(data)) => data.charged(),
            _ => 0,
        };
        let new_bytes = match &entry {
            Entry::File(data) => data.charged(),
            _ => 0,
        };
        let bytes = inner.bytes - old_bytes + new_bytes;
        let limits = inner.limits;
        let too_large = |limit, max| SnapshotError::TooLarge {
            path: path.to_vec(),
            limit,
            max,
        };
        if bytes > limits.max_bytes {
            return Err(too_large("max_bytes", limits.max_bytes));
        }
        // The root counts as an entry.
        if inner.entries.len() as u64 + 1 + new_entries > limits.max_entries {
            return Err(too_large("max_entries", limits.max_entries));
        }
        let inner = Arc::make_mut(&mut self.inner);
        inner.table = OnceLock::new();
        inner.bytes = bytes;
        let mut prefix = Vec::new();
        for part in &parts[..parts.len() - 1] {
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(part);
            inner.entries.entry(prefix.clone()).or_insert(Entry::Dir);
        }
        match (inner.entries.get(&full), &entry) {
            (Some(Entry::Dir), Entry::Dir) => {}
            _ => {
                inner.entries.insert(full, entry);
            }
        }
        Ok(self)
    }

    /// Bytes of all files.
    pub(crate) fn bytes(&self) -> u64 {
        self.inner.bytes
    }

    /// The node table every tree starts from, made on first use.
    pub(crate) fn table(&self) -> &Table {
        self.inner.table.get_or_init(|| self.make_table())
    }

    /// Numbers the entries (root 1, then sorted path order) and links them.
    fn make_table(&self) -> Table {
        let entries = &self.inner.entries;
        let mut inos: BTreeMap<&[u8], Ino> = BTreeMap::new();
        let mut kinds: Vec<(Ino, Kind)> = vec![(
            ROOT,
            Kind::Dir(Dir {
                parent: ROOT,
                ..Dir::default()
            }),
        )];
        for (i, (path, entry)) in entries.iter().enumerate() {
            let ino = ROOT + 1 + i as Ino;
            inos.insert(path, ino);
            let kind = match entry {
                Entry::Dir => Kind::Dir(Dir::default()),
                Entry::File(data) => Kind::File(data.clone()),
                Entry::Symlink(target) => Kind::Symlink(target.clone()),
            };
            kinds.push((ino, kind));
        }
        // Link each entry into its parent (entries are in path order, so a
        // parent always comes before its children, and the Vec index is
        // `ino - ROOT`).
        for (path, entry) in entries {
            let ino = inos[path.as_slice()];
            let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
                Some(slash) => (inos[&path[..slash]], &path[slash + 1..]),
                None => (ROOT, &path[..]),
            };
            if let Kind::Dir(child) = &mut kinds[(ino - ROOT) as usize].1 {
                child.parent = parent;
            }
            let Kind::Dir(dir) = &mut kinds[(parent - ROOT) as usize].1 else {
                unreachable!("a builder parent is always a directory");
            };
            dir.entries.insert(name.to_vec(), ino);
            if matches!(entry, Entry::Dir) {
                dir.subdirs += 1;
            }
        }
        let nodes = kinds
            .into_iter()
            .map(|(ino, kind)| (ino, Arc::new(Node::new(kind, None))))
            .collect::<BTreeMap<_, _>>();
        Table {
            next_ino: ROOT + 1 + entries.len() as Ino,
            entries: nodes.len() as u64,
            nodes: Arc::new(nodes),
            bytes: self.inner.bytes,
        }
    }
}
