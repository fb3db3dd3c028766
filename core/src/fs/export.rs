//! Writing a tree out to a host directory, so that nothing in the tree can
//! make the export write anywhere else.
//!
//! Every entry is created new (a directory with `mkdir`, a file with
//! create-new, a symlink or hard link by name), relative to a handle on a
//! directory the export itself created and opened without following
//! symlinks; nothing existing is opened, followed or overwritten (but for
//! a [reset](FsTree::reset), which opens the directories it keeps the same
//! way, without following a symlink). Before
//! anything is written, the names are checked for pairs a case-insensitive
//! host would take for one name (see [`case_collision`]).

use super::content::FileContent;
use super::digest::{WalkContent, WalkEntry};
use super::tree::FsTree;
use super::types::Ino;
use cap_fs_ext::DirExt;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

impl FsTree {
    /// Writes every reachable entry to the host directory `dir`: creates it
    /// if missing and refuses one that is not empty (nothing is ever
    /// overwritten). Directories, file contents and symlink targets are
    /// written as they are; hard links stay hard links. Metadata (times,
    /// inode numbers) is the host's, not the tree's.
    ///
    /// Each entry is created new, relative to the directory the export just
    /// created for its parent, never through a symlink: a symlink in the
    /// tree is written as a symlink and never followed, so no entry lands
    /// outside `dir`. Two names of one directory that are equal once
    /// lowercased (`A` and `a`) are refused before anything is written: on a
    /// case-insensitive host the second would reach the first.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` for a non-empty `dir` or for an entry that exists
    /// when the export creates it; `InvalidInput` naming both guest paths of
    /// a case collision; `Unsupported` for a symlink on a host without
    /// them; and any error of the host calls.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, VirtualFs};
    ///
    /// let tree = FsTree::new(&VirtualFs::new().file("out/r.txt", "42"), 1, 0);
    /// let dir = std::env::temp_dir().join(format!("export-doc-{}", std::process::id()));
    /// tree.export(&dir)?;
    /// assert_eq!(std::fs::read(dir.join("out/r.txt"))?, b"42");
    /// assert!(tree.export(&dir).is_err()); // not empty any more
    /// std::fs::remove_dir_all(&dir)?;
    ///
    /// let clash = FsTree::new(&VirtualFs::new().file("a", "1").symlink("A", "../x"), 1, 0);
    /// let err = clash.export(&dir).unwrap_err();
    /// assert!(err.to_string().contains("`A` and `a`"), "{err}");
    /// assert!(!dir.exists()); // refused before anything was written
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn export(&self, dir: &Path) -> io::Result<()> {
        let entries = self.walk();
        refuse_case_collision(&entries)?;
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not empty", dir.display()),
            ));
        }
        std::fs::create_dir_all(dir)?;
        let root = Dir::open_ambient_dir(dir, ambient_authority())?;
        write_entries(&root, entries.iter().skip(1)).map_err(|(path, e)| entry_error(dir, &path, e))
    }
}

/// The error of [`case_collision`] for `entries`, if they have one.
pub(super) fn refuse_case_collision(entries: &[WalkEntry<'_>]) -> io::Result<()> {
    match case_collision(entries) {
        Some((first, second)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` and `{}` differ only in case: a case-insensitive host would write \
                 one through the other",
                String::from_utf8_lossy(first),
                String::from_utf8_lossy(second)
            ),
        )),
        None => Ok(()),
    }
}

/// `error`, met at the guest path `path` under the host directory `dir`,
/// naming both.
pub(super) fn entry_error(dir: &Path, path: &[u8], error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        format!(
            "{}/{}: {error}",
            dir.display(),
            String::from_utf8_lossy(path)
        ),
    )
}

/// Creates `entries` (entries of a [`FsTree::walk`], in its order, without
/// the root) under `root`. A parent directory that is not among them must
/// already be in `root` (a reset writes only the missing entries); it is
/// opened without following a symlink. An error names the guest path that
/// failed.
pub(super) fn write_entries<'a, 'w: 'a>(
    root: &Dir,
    entries: impl IntoIterator<Item = &'a WalkEntry<'w>>,
) -> Result<(), (Vec<u8>, io::Error)> {
    // Handles on the directories created or opened so far, by guest path.
    let mut dirs: BTreeMap<&[u8], Dir> = BTreeMap::new();
    // The first path written for each file, to hard-link the others to.
    let mut written: BTreeMap<Ino, &[u8]> = BTreeMap::new();
    for entry in entries {
        let fail = |error| (entry.path.clone(), error);
        let (parent_path, name) = split(&entry.path);
        if !parent_path.is_empty() && !dirs.contains_key(parent_path) {
            let opened = root
                .open_dir_nofollow(host_path(parent_path).map_err(fail)?)
                .map_err(fail)?;
            dirs.insert(parent_path, opened);
        }
        let parent = dirs.get(parent_path).unwrap_or(root);
        let name = host_path(name).map_err(fail)?;
        match entry.content {
            WalkContent::Directory => {
                parent.create_dir(&name).map_err(fail)?;
                let created = parent.open_dir_nofollow(&name).map_err(fail)?;
                dirs.insert(&entry.path, created);
            }
            WalkContent::File(bytes) => match written.get(&entry.stat.ino) {
                Some(first) => {
                    let (first_parent, first_name) = split(first);
                    let first_dir = match dirs.get(first_parent) {
                        Some(d) => d,
                        None => root,
                    };
                    let first_name = host_path(first_name).map_err(fail)?;
                    first_dir
                        .hard_link(&first_name, parent, &name)
                        .map_err(fail)?;
                }
                None => {
                    let mut options = OpenOptions::new();
                    options.write(true).create_new(true);
                    let file = parent.open_with(&name, &options).map_err(fail)?;
                    write_sparse(file, bytes).map_err(fail)?;
                    written.insert(entry.stat.ino, &entry.path);
                }
            },
            WalkContent::Symlink(target) => {
                symlink(parent, &host_path(target).map_err(fail)?, &name).map_err(fail)?
            }
        }
    }
    Ok(())
}

/// The first pair of sibling paths in `entries` whose last components are
/// equal once lowercased (ASCII and Unicode; a name that is not UTF-8 is
/// lowercased byte by byte in ASCII), as `(earlier, later)` in walk order,
/// or `None`. On a case-insensitive host (macOS, Windows) both name one
/// entry, so writing the second would go through the first, possibly a
/// symlink out of the export.
fn case_collision<'a>(entries: &'a [WalkEntry<'_>]) -> Option<(&'a [u8], &'a [u8])> {
    let mut seen: BTreeMap<(&[u8], Vec<u8>), &[u8]> = BTreeMap::new();
    for entry in entries.iter().skip(1) {
        let (parent, name) = split(&entry.path);
        if let Some(first) = seen.insert((parent, fold(name)), &entry.path) {
            return Some((first, &entry.path));
        }
    }
    None
}

/// `name` lowercased, as a case-insensitive host compares it.
fn fold(name: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(name) {
        Ok(text) => text.to_lowercase().into_bytes(),
        Err(_) => name.to_ascii_lowercase(),
    }
}

/// A walk path as (parent path, last component).
pub(super) fn split(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(slash) => (&path[..slash], &path[slash + 1..]),
        None => (&[], path),
    }
}

/// Writes a file's stored runs at their offsets and sets its size, so its
/// holes stay holes on the host.
pub(super) fn write_sparse(mut file: cap_std::fs::File, content: &FileContent) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    for (at, bytes) in content.extents() {
        file.seek(SeekFrom::Start(at))?;
        file.write_all(bytes)?;
    }
    file.set_len(content.len())
}

/// A tree path (bytes) as a host path.
pub(super) fn host_path(bytes: &[u8]) -> io::Result<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a name is not UTF-8"))
    }
}

/// Creates the symlink `name` in `parent` holding `target` as it is.
#[cfg(unix)]
fn symlink(parent: &Dir, target: &Path, name: &Path) -> io::Result<()> {
    parent.symlink_contents(target, name)
}

#[cfg(not(unix))]
fn symlink(_: &Dir, _: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks cannot be exported on this host",
    ))
}
