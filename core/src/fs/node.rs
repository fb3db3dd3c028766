//! Nodes and the copy-on-write node table.

use super::content::FileContent;
use super::types::{FileType, Ino};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One inode.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// Hard links to a file or symlink; 1 for a linked directory (its
    /// `nlink` is computed), 0 once unlinked or removed.
    pub(crate) links: u64,
    /// `None`: the tree's snapshot time for all three.
    pub(crate) times: Option<Times>,
}

/// Access, modification and change times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

impl Times {
    pub(crate) fn all(t: u64) -> Times {
        Times {
            atim: t,
            mtim: t,
            ctim: t,
        }
    }
}

/// What a node holds. File contents are shared between trees until written.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Dir(Dir),
    File(Arc<FileContent>),
    Symlink(Arc<[u8]>),
}

/// A directory's entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dir {
    pub(crate) entries: BTreeMap<Vec<u8>, Ino>,
    /// The parent directory (the root's is itself).
    pub(crate) parent: Ino,
    /// How many entries are directories.
    pub(crate) subdirs: u64,
}

impl Node {
    pub(crate) fn new(kind: Kind, times: Option<Times>) -> Node {
        Node {
            kind,
            links: 1,
            times,
        }
    }

    pub(crate) fn filetype(&self) -> FileType {
        match self.kind {
            Kind::Dir(_) => FileType::Directory,
            Kind::File(_) => FileType::RegularFile,
            Kind::Symlink(_) => FileType::SymbolicLink,
        }
    }

    /// Bytes counted against `max_bytes`.
    pub(crate) fn file_bytes(&self) -> u64 {
        match &self.kind {
            Kind::File(data) => data.charged(),
            _ => 0,
        }
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }
}

/// All inodes of a tree. Cloning shares everything: the map is copied (its
/// pointers only) on the first change, a node on its first change, a file's
/// bytes on its first write.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) nodes: Arc<BTreeMap<Ino, Arc<Node>>>,
    pub(crate) next_ino: Ino,
    /// Sum of all files' [charged](super::FileContent::charged) bytes,
    /// unlinked-but-open files included.
    pub(crate) bytes: u64,
    /// Number of nodes.
    pub(crate) entries: u64,
}
