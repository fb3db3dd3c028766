//! Reading a host directory into a [`VirtualFs`], once.

use super::build::{SnapshotError, VirtualFs};
use super::content::FileContent;
use super::types::Limits;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

impl VirtualFs {
    /// Reads the host directory `path` (following it if it is a symlink)
    /// and everything under it into a snapshot with the default [`Limits`].
    /// The host is read once, here; trees made from the snapshot never touch
    /// it.
    ///
    /// Symlinks are stored as their text and never followed, even when they
    /// point outside the directory (following one from a tree is then
    /// refused). Names that are not UTF-8 are kept as bytes. Entries are read
    /// in name order, so the error reported for a tree with several bad
    /// entries is always the same one. Host metadata (times, permissions,
    /// inode numbers, hard links) is not kept: the [rules](super#the-rules-written-once)
    /// decide it, and each hard-linked host file becomes its own file.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Special`] naming the first fifo, socket or device;
    /// [`SnapshotError::Io`] naming an entry that cannot be read;
    /// [`SnapshotError::TooLarge`] if the tree exceeds the limits (checked
    /// before each file is read, so a huge tree is not read in full).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::fs::{FsTree, VirtualFs};
    ///
    /// let dir = std::env::temp_dir().join(format!("vfs-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(dir.join("sub"))?;
    /// std::fs::write(dir.join("sub/hello.txt"), "hi")?;
    /// let snapshot = VirtualFs::from_host_dir(&dir)?;
    /// std::fs::remove_dir_all(&dir)?; // the snapshot no longer needs it
    /// let tree = FsTree::new(&snapshot, 1, 0);
    /// assert_eq!(tree.read_file(b"sub/hello.txt"), Some(b"hi".to_vec()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_host_dir(path: impl AsRef<Path>) -> Result<VirtualFs, SnapshotError> {
        Self::from_host_dir_with_limits(path, Limits::default())
    }

    /// [`from_host_dir`](Self::from_host_dir) with these limits.
    ///
    /// # Errors
    ///
    /// As [`from_host_dir`](Self::from_host_dir).
    pub fn from_host_dir_with_limits(
        path: impl AsRef<Path>,
        limits: Limits,
    ) -> Result<VirtualFs, SnapshotError> {
        let root = path.as_ref();
        let meta = fs::metadata(root).map_err(|error| io(root, error))?;
        if !meta.is_dir() {
            return Err(io(
                root,
                std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            ));
        }
        let mut vfs = VirtualFs::with_limits(limits);
        let mut stack = vec![(root.to_path_buf(), Vec::new())];
        while let Some((host, prefix)) = stack.pop() {
            let mut children: Vec<std::ffi::OsString> = fs::read_dir(&host)
                .and_then(|entries| entries.map(|e| e.map(|e| e.file_name())).collect())
                .map_err(|error| io(&host, error))?;
            children.sort_by_key(|name| name_bytes(name));
            // Children are pushed in reverse so they are visited in name order.
            let mut subdirs = Vec::new();
            for name in children {
                let host_path = host.join(&name);
                let mut path = prefix.clone();
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(&name_bytes(&name));
                let file_type = fs::symlink_metadata(&host_path)
                    .map_err(|error| io(&host_path, error))?
                    .file_type();
                vfs = if file_type.is_dir() {
                    subdirs.push((host_path, path.clone()));
                    vfs.try_dir(&path)?
                } else if file_type.is_symlink() {
                    let target =
                        fs::read_link(&host_path).map_err(|error| io(&host_path, error))?;
                    vfs.try_symlink(&path, name_bytes(target.as_os_str()))?
                } else if file_type.is_file() {
                    let contents = read_limited(&vfs, &host_path, &path)?;
                    vfs.try_file_content(&path, contents)?
                } else {
                    return Err(SnapshotError::Special {
                        path: host_path,
                        kind: special_kind(&file_type),
                    });
                };
            }
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(vfs)
    }
}

/// Reads a host file (its holes as holes), but no more than the snapshot's
/// remaining byte budget allows.
fn read_limited(vfs: &VirtualFs, host: &Path, path: &[u8]) -> Result<FileContent, SnapshotError> {
    let limits = vfs.limits();
    let left = limits.max_bytes.saturating_sub(vfs.bytes());
    let contents = fs::File::open(host)
        .and_then(|mut file| FileContent::read_host(&mut file, left))
        .map_err(|error| io(host, error))?;
    contents.ok_or_else(|| SnapshotError::TooLarge {
        path: path.to_vec(),
        limit: "max_bytes",
        max: limits.max_bytes,
    })
}

fn io(path: &Path, error: std::io::Error) -> SnapshotError {
    SnapshotError::Io {
        path: PathBuf::from(path),
        error,
    }
}

#[cfg(unix)]
fn name_bytes(name: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn name_bytes(name: &OsStr) -> Vec<u8> {
    name.to_string_lossy().into_owned().into_bytes()
}

#[cfg(unix)]
fn special_kind(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "special file"
}
