//! Writing a tree out to a host directory.

use super::content::FileContent;
use super::digest::WalkContent;
use super::tree::FsTree;
use super::types::Ino;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

impl FsTree {
    /// Writes every reachable entry to the host directory `dir`: creates it
    /// if missing and refuses one that is not empty (nothing is ever
    /// overwritten). Directories, file contents and symlink targets are
    /// written as they are; hard links stay hard links. Metadata (times,
    /// inode numbers) is the host's, not the tree's.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` for a non-empty `dir`, `Unsupported` for a symlink on
    /// a host without them, and any error of the host calls.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::fs::{FsTree, VirtualFs};
    ///
    /// let tree = FsTree::new(&VirtualFs::new().file("out/r.txt", "42"), 1, 0);
    /// let dir = std::env::temp_dir().join(format!("export-doc-{}", std::process::id()));
    /// tree.export(&dir)?;
    /// assert_eq!(std::fs::read(dir.join("out/r.txt"))?, b"42");
    /// assert!(tree.export(&dir).is_err()); // not empty any more
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn export(&self, dir: &Path) -> io::Result<()> {
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not empty", dir.display()),
            ));
        }
        std::fs::create_dir_all(dir)?;
        let mut written: BTreeMap<Ino, PathBuf> = BTreeMap::new();
        for entry in self.walk().iter().skip(1) {
            let path = dir.join(host_path(&entry.path)?);
            match entry.content {
                WalkContent::Directory => std::fs::create_dir(&path)?,
                WalkContent::File(bytes) => match written.get(&entry.stat.ino) {
                    Some(first) => std::fs::hard_link(first, &path)?,
                    None => {
                        write_sparse(&path, bytes)?;
                        written.insert(entry.stat.ino, path);
                    }
                },
                WalkContent::Symlink(target) => symlink(&host_path(target)?, &path)?,
            }
        }
        Ok(())
    }
}

/// Writes a file's stored runs at their offsets and sets its size, so its
/// holes stay holes on the host.
fn write_sparse(path: &Path, content: &FileContent) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::File::create(path)?;
    for (at, bytes) in content.extents() {
        file.seek(SeekFrom::Start(at))?;
        file.write_all(bytes)?;
    }
    file.set_len(content.len())
}

/// A tree path (bytes) as a host path.
fn host_path(bytes: &[u8]) -> io::Result<PathBuf> {
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

#[cfg(unix)]
fn symlink(target: &Path, path: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn symlink(_: &Path, path: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "{}: symlinks cannot be exported on this host",
            path.display()
        ),
    ))
}
