//! Reading a host directory into a [`VirtualFs`], once.

use super::build::{SnapshotError, VirtualFs};
use super::content::FileContent;
use super::types::Limits;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata};
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
    /// Every entry below `path` is inspected, then opened relative to its
    /// parent directory's handle without following a symlink, and the
    /// handle is checked to be the entry inspected (its type and, on Unix,
    /// device and inode): an entry swapped while the snapshot runs (a
    /// symlink or a hard link to a host file put in its place) is an error
    /// naming it, never a host file read into the tree.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Special`] naming the first fifo, socket or device;
    /// [`SnapshotError::Io`] naming an entry that cannot be read or that
    /// changed between its inspection and its opening;
    /// [`SnapshotError::TooLarge`] if the tree exceeds the limits (checked
    /// before each file is read, so a huge tree is not read in full).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, VirtualFs};
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
        let root_dir =
            Dir::open_ambient_dir(root, ambient_authority()).map_err(|error| io(root, error))?;
        let mut vfs = VirtualFs::with_limits(limits);
        let mut stack = vec![(root_dir, root.to_path_buf(), Vec::new())];
        while let Some((dir, host, prefix)) = stack.pop() {
            let mut children: Vec<std::ffi::OsString> = dir
                .entries()
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
                let inspected = inspect(&dir, &name).map_err(|error| io(&host_path, error))?;
                let file_type = inspected.file_type();
                vfs = if file_type.is_dir() {
                    let sub =
                        open_dir(&dir, &name, &inspected).map_err(|error| io(&host_path, error))?;
                    subdirs.push((sub, host_path, path.clone()));
                    vfs.try_dir(&path)?
                } else if file_type.is_symlink() {
                    let target = read_symlink(&dir, &name, &inspected)
                        .map_err(|error| io(&host_path, error))?;
                    vfs.try_symlink(&path, name_bytes(target.as_os_str()))?
                } else if file_type.is_file() {
                    let file = open_file(&dir, &name, &inspected)
                        .map_err(|error| io(&host_path, error))?;
                    let contents = read_limited(&vfs, file, &host_path, &path)?;
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

/// What the entry `name` of `dir` is, without following a symlink: the
/// inspection that [`open_dir`], [`open_file`] and [`read_symlink`] check
/// their handle against.
pub(super) fn inspect(dir: &Dir, name: &OsStr) -> std::io::Result<Metadata> {
    dir.symlink_metadata(name)
}

/// Opens the directory `name` of `dir` without following a symlink, and
/// checks that it is the directory `inspected` described.
pub(super) fn open_dir(dir: &Dir, name: &OsStr, inspected: &Metadata) -> std::io::Result<Dir> {
    let sub = dir.open_dir_nofollow(name)?;
    same_entry(inspected, &sub.dir_metadata()?)?;
    Ok(sub)
}

/// Opens the regular file `name` of `dir` for reading without following a
/// symlink (and, on Unix, without blocking should a fifo have been swapped
/// in), and checks that it is the file `inspected` described.
pub(super) fn open_file(
    dir: &Dir,
    name: &OsStr,
    inspected: &Metadata,
) -> std::io::Result<cap_std::fs::File> {
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = dir.open_with(name, &options)?;
    same_entry(inspected, &file.metadata()?)?;
    Ok(file)
}

/// The text of the symlink `name` of `dir`, checked (by inspecting it again
/// after reading it) to be the symlink `inspected` described.
pub(super) fn read_symlink(
    dir: &Dir,
    name: &OsStr,
    inspected: &Metadata,
) -> std::io::Result<PathBuf> {
    let target = dir.read_link_contents(name)?;
    same_entry(inspected, &inspect(dir, name)?)?;
    Ok(target)
}

/// An error unless `opened` is the entry `inspected` described: the same
/// type and, on Unix, the same device and inode. Anything else means the
/// entry was swapped between the inspection and the open.
fn same_entry(inspected: &Metadata, opened: &Metadata) -> std::io::Result<()> {
    let same_type = inspected.file_type() == opened.file_type();
    #[cfg(unix)]
    let same_inode = {
        use cap_std::fs::MetadataExt;
        (inspected.dev(), inspected.ino()) == (opened.dev(), opened.ino())
    };
    #[cfg(not(unix))]
    let same_inode = true;
    if same_type && same_inode {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "changed while the snapshot was read (another entry was swapped in)",
        ))
    }
}

/// Reads an opened host file (its holes as holes), but no more than the
/// snapshot's remaining byte budget allows.
fn read_limited(
    vfs: &VirtualFs,
    file: cap_std::fs::File,
    host: &Path,
    path: &[u8],
) -> Result<FileContent, SnapshotError> {
    let limits = vfs.limits();
    let left = limits.max_bytes.saturating_sub(vfs.bytes());
    let contents =
        FileContent::read_host(&mut file.into_std(), left).map_err(|error| io(host, error))?;
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
fn special_kind(file_type: &cap_std::fs::FileType) -> &'static str {
    use cap_std::fs::FileTypeExt;
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
fn special_kind(_: &cap_std::fs::FileType) -> &'static str {
    "special file"
}
