//! Inspecting a whole tree: walking it, hashing it, reading files by path.

use super::ROOT;
use super::content::FileContent;
use super::node::Kind;
use super::tree::FsTree;
use super::types::{FileType, Stat};

/// One reachable entry of a tree ([`FsTree::walk`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkEntry<'a> {
    /// The path from the root (`b""` for the root itself).
    pub path: Vec<u8>,
    /// The entry's metadata.
    pub stat: Stat,
    /// What it holds.
    pub content: WalkContent<'a>,
}

/// What a walked entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkContent<'a> {
    /// A directory (its entries are walked separately).
    Directory,
    /// A regular file's contents (holes read as zeros).
    File(&'a FileContent),
    /// A symlink's target.
    Symlink(&'a [u8]),
}

/// The domain tag that starts [`FsTree::digest`]'s encoding.
const DIGEST_TAG: &[u8] = b"deterministic-wasi-ctx fs digest v1\0";

impl FsTree {
    /// Every entry reachable from the root, the root first (path `b""`),
    /// then in sorted path order (byte order of the full path). A file with
    /// several hard links appears once per path, with the same inode.
    /// Unlinked files still open are not reachable, so not listed.
    pub fn walk(&self) -> Vec<WalkEntry<'_>> {
        let mut out = Vec::new();
        let mut todo = vec![(Vec::new(), ROOT)];
        while let Some((path, ino)) = todo.pop() {
            let (Ok(node), Ok(stat)) = (self.node(ino), self.stat(ino)) else {
                continue;
            };
            let content = match &node.kind {
                Kind::Dir(dir) => {
                    for (name, &child) in &dir.entries {
                        let mut child_path = path.clone();
                        if !child_path.is_empty() {
                            child_path.push(b'/');
                        }
                        child_path.extend_from_slice(name);
                        todo.push((child_path, child));
                    }
                    WalkContent::Directory
                }
                Kind::File(data) => WalkContent::File(data),
                Kind::Symlink(target) => WalkContent::Symlink(target),
            };
            out.push(WalkEntry {
                path,
                stat,
                content,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// A BLAKE3 hash of the [`walk`](Self::walk), so two Stores' final trees
    /// can be compared by 32 bytes.
    ///
    /// The encoding: the tag `deterministic-wasi-ctx fs digest v1\0`, then
    /// per entry in walk order: the path's length (u64 little-endian) and
    /// bytes; the type (one byte: 0 directory, 1 regular file, 2 symlink);
    /// `ino`, `nlink`, `size`, `atim`, `mtim`, `ctim` (u64 LE each); for a
    /// file without holes its length and bytes, for a symlink its target's
    /// length and bytes. A file with holes (see [`FileContent`]) is
    /// `u64::MAX`, its length, the number of stored runs (adjacent extents
    /// joined), then per run its offset, length and bytes: its holes are
    /// never hashed byte by byte. Then the number of entries (u64 LE). Every field the rules
    /// decide is covered, so a difference in contents, names, inode
    /// numbering or virtual time changes the digest; `dev` is not (it is
    /// configuration, not an outcome).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, OpenOptions, ROOT, VirtualFs};
    ///
    /// let snapshot = VirtualFs::new().file("f", "abc");
    /// let (mut one, two) = (FsTree::new(&snapshot, 1, 0), FsTree::new(&snapshot, 1, 0));
    /// assert_eq!(one.digest(), two.digest());
    /// let f = one.open(ROOT, b"f", &OpenOptions::new().write(true), 0)?;
    /// one.write_at(f, 0, b"x", 0)?; // same time, one byte differs
    /// assert_ne!(one.digest(), two.digest());
    /// # Ok::<(), deterministic_wasi_ctx_core::fs::Errno>(())
    /// ```
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(DIGEST_TAG);
        let entries = self.walk();
        for entry in &entries {
            let s = &entry.stat;
            h.update(&(entry.path.len() as u64).to_le_bytes());
            h.update(&entry.path);
            h.update(&[match s.filetype {
                FileType::Directory => 0,
                FileType::RegularFile => 1,
                FileType::SymbolicLink => 2,
            }]);
            for field in [s.ino, s.nlink, s.size, s.atim, s.mtim, s.ctim] {
                h.update(&field.to_le_bytes());
            }
            match entry.content {
                WalkContent::Directory => {}
                WalkContent::Symlink(bytes) => {
                    h.update(&(bytes.len() as u64).to_le_bytes());
                    h.update(bytes);
                }
                WalkContent::File(content) => hash_file(&mut h, content),
            }
        }
        h.update(&(entries.len() as u64).to_le_bytes());
        *h.finalize().as_bytes()
    }

    /// The contents of the regular file `path` names from the root
    /// (following symlinks), or `None` if there is none.
    /// Allocates the file's whole size, holes as zeros (see
    /// [`FileContent::to_vec`]): for tests and small files; walk the tree
    /// and use [`FileContent::read_at`] for a sparse one.
    pub fn read_file(&self, path: impl AsRef<[u8]>) -> Option<Vec<u8>> {
        let ino = self.lookup(ROOT, path.as_ref(), true).ok()?;
        self.file(ino).ok().map(FileContent::to_vec)
    }
}

/// A file's part of [`FsTree::digest`]'s encoding.
fn hash_file(h: &mut blake3::Hasher, content: &FileContent) {
    if content.is_dense() {
        h.update(&content.len().to_le_bytes());
        for (_, bytes) in content.extents() {
            h.update(bytes);
        }
        return;
    }
    // Runs of adjacent extents: (offset, length, first extent, extents).
    let mut runs: Vec<(u64, u64, usize, usize)> = Vec::new();
    for (i, (at, bytes)) in content.extents().enumerate() {
        match runs.last_mut() {
            Some(run) if run.0 + run.1 == at => {
                run.1 += bytes.len() as u64;
                run.3 += 1;
            }
            _ => runs.push((at, bytes.len() as u64, i, 1)),
        }
    }
    h.update(&u64::MAX.to_le_bytes());
    h.update(&content.len().to_le_bytes());
    h.update(&(runs.len() as u64).to_le_bytes());
    let extents: Vec<&[u8]> = content.extents().map(|(_, bytes)| bytes).collect();
    for (at, len, first, count) in runs {
        h.update(&at.to_le_bytes());
        h.update(&len.to_le_bytes());
        for bytes in &extents[first..first + count] {
            h.update(bytes);
        }
    }
}
