//! [`FsTree`]: one Store's mutable view of a [`VirtualFs`], and its
//! bookkeeping (nodes, limits, handles, times).

use super::build::VirtualFs;
use super::errno::Errno;
use super::node::{Dir, Kind, Node, Table, Times};
use super::types::{DirEntry, FileType, Ino, Limits, Stat};
use super::{DIR_SIZE, ROOT};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One Store's filesystem: a mutable, copy-on-write view of a [`VirtualFs`].
///
/// Operations take inode numbers ([`Ino`]) and paths as bytes, and follow the
/// [rules](super#the-rules-written-once). Every tree made from the same
/// snapshot with the same `dev` and `snapshot_time` starts identical, and
/// what one tree does is invisible to every other. Cloning forks a tree the
/// same way (copy-on-write), open handles included.
#[derive(Clone)]
pub struct FsTree {
    pub(crate) table: Table,
    pub(crate) dev: u64,
    pub(crate) snapshot_time: u64,
    pub(crate) limits: Limits,
    /// Open handles per inode (see [`open`](FsTree::open)).
    pub(crate) handles: BTreeMap<Ino, u64>,
}

/// Trees are equal when everything they show is: their
/// [`digest`](FsTree::digest)s are equal (names, types, contents, inode
/// numbers, link counts, sizes, times).
impl PartialEq for FsTree {
    fn eq(&self, other: &Self) -> bool {
        self.digest() == other.digest()
    }
}

impl Eq for FsTree {}

impl std::fmt::Debug for FsTree {
    /// A summary: contents are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsTree")
            .field("dev", &self.dev)
            .field("snapshot_time", &self.snapshot_time)
            .field("entries", &self.table.entries)
            .field("bytes", &self.table.bytes)
            .field("next_ino", &self.table.next_ino)
            .field("handles", &self.handles)
            .finish()
    }
}

impl FsTree {
    /// A tree starting as `snapshot`, whose entries report device `dev` and
    /// whose snapshot entries have `snapshot_time` (nanoseconds since the
    /// epoch) as all three times.
    ///
    /// O(1) after the snapshot's first tree (which numbers the snapshot's
    /// entries once): nothing is copied until written.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, ROOT, VirtualFs};
    ///
    /// let snapshot = VirtualFs::new().file("a.txt", "A");
    /// let mut one = FsTree::new(&snapshot, 7, 1_000);
    /// let two = FsTree::new(&snapshot, 7, 1_000);
    /// assert_eq!(one.digest(), two.digest());
    /// one.unlink(ROOT, b"a.txt", 2_000)?;
    /// assert_ne!(one.digest(), two.digest());
    /// let stat = two.stat_at(ROOT, b"a.txt", true)?;
    /// assert_eq!((stat.dev, stat.ino, stat.mtim), (7, 2, 1_000));
    /// # Ok::<(), deterministic_wasi_ctx_core::fs::Errno>(())
    /// ```
    pub fn new(snapshot: &VirtualFs, dev: u64, snapshot_time: u64) -> FsTree {
        FsTree {
            table: snapshot.table().clone(),
            dev,
            snapshot_time,
            limits: snapshot.limits(),
            handles: BTreeMap::new(),
        }
    }

    /// The root directory's inode, [`ROOT`].
    pub fn root(&self) -> Ino {
        ROOT
    }

    /// The tree's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Bytes held by all files (unlinked ones still open included).
    pub fn used_bytes(&self) -> u64 {
        self.table.bytes
    }

    /// Inodes in use (the root and unlinked ones still open included).
    pub fn used_entries(&self) -> u64 {
        self.table.entries
    }

    /// The metadata of `ino`.
    ///
    /// # Errors
    ///
    /// `EBADF` if `ino` is gone (or never existed).
    pub fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let node = self.node(ino)?;
        let times = node.times.unwrap_or(Times::all(self.snapshot_time));
        let (nlink, size) = match &node.kind {
            Kind::Dir(_) if node.links == 0 => (0, DIR_SIZE),
            Kind::Dir(dir) => (2 + dir.subdirs, DIR_SIZE),
            Kind::File(data) => (node.links, data.len()),
            Kind::Symlink(target) => (node.links, target.len() as u64),
        };
        Ok(Stat {
            dev: self.dev,
            ino,
            filetype: node.filetype(),
            nlink,
            size,
            atim: times.atim,
            mtim: times.mtim,
            ctim: times.ctim,
        })
    }

    /// The listing of directory `dir`: `.`, `..`, then the entries in name
    /// byte order, each with its cookie (its index here). A later call
    /// resumes at a cookie by skipping that many entries; cookies stay valid
    /// as long as the directory does not change.
    ///
    /// # Errors
    ///
    /// `EBADF` if `dir` is gone, `ENOTDIR` if it is not a directory. A
    /// directory removed while open lists `.` and `..` only: Linux's
    /// `getdents` answers `ENOENT` there, and stock wasmtime-wasi's reader
    /// (rustix) takes that as the end of the listing.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FileType, FsTree, ROOT, VirtualFs};
    ///
    /// let tree = FsTree::new(&VirtualFs::new().file("b", "").dir("a"), 1, 0);
    /// let names: Vec<_> = tree.list(ROOT)?.into_iter().map(|e| (e.cookie, e.name)).collect();
    /// assert_eq!(names, [(0, b".".to_vec()), (1, b"..".to_vec()), (2, b"a".to_vec()), (3, b"b".to_vec())]);
    /// # Ok::<(), deterministic_wasi_ctx_core::fs::Errno>(())
    /// ```
    pub fn list(&self, dir: Ino) -> Result<Vec<DirEntry>, Errno> {
        let node = self.node(dir)?;
        let Kind::Dir(d) = &node.kind else {
            return Err(Errno::NOTDIR);
        };
        let mut out = vec![
            DirEntry {
                cookie: 0,
                ino: dir,
                filetype: FileType::Directory,
                name: b".".to_vec(),
            },
            DirEntry {
                cookie: 1,
                ino: d.parent,
                filetype: FileType::Directory,
                name: b"..".to_vec(),
            },
        ];
        for (name, &ino) in &d.entries {
            out.push(DirEntry {
                cookie: out.len() as u64,
                ino,
                filetype: self.node(ino)?.filetype(),
                name: name.clone(),
            });
        }
        Ok(out)
    }

    /// Counts one more handle on `ino`, as [`open`](Self::open) does: a
    /// second owner of an open entry (a preview2 stream keeps the file it
    /// reads or writes, as an open file description does on Linux).
    /// [`close`](Self::close) releases it.
    ///
    /// # Errors
    ///
    /// `EBADF` if `ino` is gone.
    pub fn retain(&mut self, ino: Ino) -> Result<(), Errno> {
        self.node(ino)?;
        *self.handles.entry(ino).or_insert(0) += 1;
        Ok(())
    }

    /// Releases one handle [`open`](Self::open) counted on `ino`. When the
    /// last handle of an unlinked file or removed directory is closed, it is
    /// gone and its bytes are freed.
    ///
    /// # Errors
    ///
    /// `EBADF` if `ino` has no open handle.
    pub fn close(&mut self, ino: Ino) -> Result<(), Errno> {
        let count = self.handles.get_mut(&ino).ok_or(Errno::BADF)?;
        *count -= 1;
        if *count == 0 {
            self.handles.remove(&ino);
            self.release(ino);
        }
        Ok(())
    }

    // ---- bookkeeping shared by the operations ----

    pub(crate) fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        self.table.nodes.get(&ino).map(|n| &**n).ok_or(Errno::BADF)
    }

    /// The node, copied out of the shared table first if needed.
    pub(crate) fn node_mut(&mut self, ino: Ino) -> Result<&mut Node, Errno> {
        let nodes = Arc::make_mut(&mut self.table.nodes);
        nodes.get_mut(&ino).map(Arc::make_mut).ok_or(Errno::BADF)
    }

    pub(crate) fn dir(&self, ino: Ino) -> Result<&Dir, Errno> {
        match &self.node(ino)?.kind {
            Kind::Dir(dir) => Ok(dir),
            _ => Err(Errno::NOTDIR),
        }
    }

    pub(crate) fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir, Errno> {
        match &mut self.node_mut(ino)?.kind {
            Kind::Dir(dir) => Ok(dir),
            _ => Err(Errno::NOTDIR),
        }
    }

    /// The times of `ino`, materialized for changing.
    pub(crate) fn times_mut(&mut self, ino: Ino) -> Result<&mut Times, Errno> {
        let base = self.snapshot_time;
        Ok(self.node_mut(ino)?.times.get_or_insert(Times::all(base)))
    }

    /// mtim and ctim = now (a directory whose entries changed, a written file).
    pub(crate) fn modified(&mut self, ino: Ino, now: u64) -> Result<(), Errno> {
        let times = self.times_mut(ino)?;
        times.mtim = now;
        times.ctim = now;
        Ok(())
    }

    /// ctim = now (a status change).
    pub(crate) fn changed(&mut self, ino: Ino, now: u64) -> Result<(), Errno> {
        self.times_mut(ino)?.ctim = now;
        Ok(())
    }

    /// Adds a node (not yet linked anywhere): `ENOSPC` past `max_entries`.
    pub(crate) fn add_node(&mut self, kind: Kind, now: u64) -> Result<Ino, Errno> {
        if self.table.entries >= self.limits.max_entries {
            return Err(Errno::NOSPC);
        }
        let ino = self.table.next_ino;
        self.table.next_ino += 1;
        self.table.entries += 1;
        let node = Node::new(kind, Some(Times::all(now)));
        Arc::make_mut(&mut self.table.nodes).insert(ino, Arc::new(node));
        Ok(ino)
    }

    /// Forgets `ino` if it is unlinked and not open.
    pub(crate) fn release(&mut self, ino: Ino) {
        let Ok(node) = self.node(ino) else { return };
        if node.links > 0 || self.handles.contains_key(&ino) || ino == ROOT {
            return;
        }
        let bytes = node.file_bytes();
        Arc::make_mut(&mut self.table.nodes).remove(&ino);
        self.table.bytes -= bytes;
        self.table.entries -= 1;
    }
}
