//! Bringing a host directory an earlier export wrote (and a run then
//! changed) back to a tree, touching only what differs.
//!
//! A stock run over a fresh export of its tree per execution spent most of
//! its time in the host filesystem's inode allocation: every entry
//! created, every entry removed after. [`FsTree::reset`] gives the next
//! run the same names, types, contents and symlink targets from the
//! directory the last run left, creating and removing only the entries
//! that run changed.

use super::VirtualFs;
use super::digest::{WalkContent, WalkEntry};
use super::export::{
    entry_error, host_path, refuse_case_collision, split, write_entries, write_sparse,
};
use super::tree::FsTree;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

/// What an entry is, as a reset compares it: a file by its size and its
/// bytes other than zero (a hole and stored zeros read alike).
#[derive(PartialEq, Eq)]
enum Shape<'a> {
    Directory,
    File(u64, Vec<(u64, Vec<u8>)>),
    Symlink(&'a [u8]),
}

fn shape<'a>(content: &WalkContent<'a>) -> Shape<'a> {
    match content {
        WalkContent::Directory => Shape::Directory,
        WalkContent::File(bytes) => Shape::File(bytes.len(), bytes.nonzero_runs()),
        WalkContent::Symlink(target) => Shape::Symlink(target),
    }
}

/// Whether two or more of `entries` are one file (hard links).
fn has_hard_links(entries: &[WalkEntry<'_>]) -> bool {
    let mut seen = BTreeSet::new();
    entries
        .iter()
        .filter(|e| matches!(e.content, WalkContent::File(_)))
        .any(|e| !seen.insert(e.stat.ino))
}

/// Whether a file of `have` (a snapshot of `dir`, which keeps no hard
/// links) has another name on the host.
fn host_hard_links(dir: &Path, have: &[WalkEntry<'_>]) -> bool {
    have.iter()
        .filter(|e| matches!(e.content, WalkContent::File(_)))
        .any(|e| match host_path(&e.path) {
            Ok(path) => links(&dir.join(path)) != Some(1),
            Err(_) => true,
        })
}

/// The number of names of the host file at `path` (`None` when unknown).
#[cfg(unix)]
fn links(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|m| m.nlink())
}

#[cfg(not(unix))]
fn links(_: &Path) -> Option<u64> {
    None
}

impl FsTree {
    /// Makes the host directory `dir` hold what [`export`](Self::export)
    /// would write there, from whatever it holds now: entries that already
    /// match (same type; a file with the same size and bytes, holes reading
    /// as zeros; a symlink with the same target) are kept, a file with
    /// other bytes is rewritten in place, and everything else is removed
    /// and created anew. A `dir` that does not exist is exported to.
    ///
    /// Only the names, types, contents and symlink targets are the
    /// export's: inode numbers, times and a directory's size are the
    /// host's, as after any export, and may differ from a fresh one's (so
    /// may the order in which the host lists a directory). When either side
    /// has hard links (a rewrite in place would change every name of the
    /// file), or `dir` cannot be snapshotted (a special file, a
    /// tree past the default [`Limits`]), its content is removed and the
    /// tree exported into it whole. Every change is made relative to a
    /// handle on `dir`, never through a symlink.
    ///
    /// # Errors
    ///
    /// As [`export`](Self::export) (a case collision is refused before
    /// anything is changed), and any error of the host calls.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, VirtualFs};
    ///
    /// let tree = FsTree::new(&VirtualFs::new().file("a", "1").dir("d"), 1, 0);
    /// let dir = std::env::temp_dir().join(format!("reset-doc-{}", std::process::id()));
    /// tree.export(&dir)?;
    /// std::fs::write(dir.join("a"), "changed")?;
    /// std::fs::write(dir.join("d/new"), "x")?;
    /// tree.reset(&dir)?;
    /// assert_eq!(std::fs::read(dir.join("a"))?, b"1");
    /// assert!(!dir.join("d/new").exists());
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&self, dir: &Path) -> io::Result<()> {
        let want = self.walk();
        refuse_case_collision(&want)?;
        if !dir.exists() {
            return self.export(dir);
        }
        let root = Dir::open_ambient_dir(dir, ambient_authority())?;
        // A snapshot is only worth taking when it can be reconciled.
        let host = if has_hard_links(&want) {
            None
        } else {
            VirtualFs::from_host_dir(dir)
                .ok()
                .map(|fs| FsTree::new(&fs, 0, 0))
        };
        let have = host.as_ref().map(FsTree::walk);
        let written = match have {
            Some(have) if !host_hard_links(dir, &have) => reconcile(&root, &have, &want),
            _ => {
                clear(&root)?;
                write_entries(&root, want.iter().skip(1))
            }
        };
        written.map_err(|(path, e)| entry_error(dir, &path, e))
    }
}

/// Removes everything in `root`.
fn clear(root: &Dir) -> io::Result<()> {
    for entry in root.entries()? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            root.remove_dir_all(entry.file_name())?;
        } else {
            root.remove_file(entry.file_name())?;
        }
    }
    Ok(())
}

/// Changes `root`, which holds `have`, to hold `want` (both walks, root
/// first, every directory before its entries).
fn reconcile(
    root: &Dir,
    have: &[WalkEntry<'_>],
    want: &[WalkEntry<'_>],
) -> Result<(), (Vec<u8>, io::Error)> {
    let wanted: BTreeMap<&[u8], (&WalkContent<'_>, Shape<'_>)> = want
        .iter()
        .skip(1)
        .map(|e| (&e.path[..], (&e.content, shape(&e.content))))
        .collect();
    // Remove what is not wanted, or not as wanted; rewrite files in place.
    let mut removed: Vec<&[u8]> = Vec::new();
    let mut present: BTreeSet<&[u8]> = BTreeSet::new();
    for entry in have.iter().skip(1) {
        let path = &entry.path[..];
        if removed
            .iter()
            .any(|dir| path.starts_with(dir) && path.get(dir.len()) == Some(&b'/'))
        {
            continue;
        }
        let now = shape(&entry.content);
        let wanted = wanted.get(path);
        if matches!(wanted, Some((_, shape)) if *shape == now) {
            present.insert(path);
            continue;
        }
        let fail = |error| (entry.path.clone(), error);
        let (parent, name) = split(path);
        let parent = match parent {
            [] => None,
            parent => Some(
                root.open_dir_nofollow(host_path(parent).map_err(fail)?)
                    .map_err(fail)?,
            ),
        };
        let parent = parent.as_ref().unwrap_or(root);
        let name = host_path(name).map_err(fail)?;
        match wanted {
            Some((WalkContent::File(bytes), _)) if matches!(now, Shape::File(..)) => {
                let mut options = OpenOptions::new();
                options
                    .write(true)
                    .truncate(true)
                    .follow(FollowSymlinks::No);
                let file = parent.open_with(&name, &options).map_err(fail)?;
                write_sparse(file, bytes).map_err(fail)?;
                present.insert(path);
            }
            _ if now == Shape::Directory => {
                parent.remove_dir_all(&name).map_err(fail)?;
                removed.push(path);
            }
            _ => parent.remove_file(&name).map_err(fail)?,
        }
    }
    // Create what is missing (its parents are kept or created first).
    write_entries(
        root,
        want.iter()
            .skip(1)
            .filter(|e| !present.contains(&e.path[..])),
    )
}
