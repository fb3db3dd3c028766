//! A deterministic in-memory filesystem: the tree a guest's preopened
//! directories will show.
//!
//! A [`VirtualFs`] is an immutable snapshot of directories, regular files and
//! symbolic links, built in code ([`VirtualFs::new`]) or read once from a host
//! directory ([`VirtualFs::from_host_dir`]). Each Store gets its own mutable
//! [`FsTree`] made from it in O(1): the node table and the file contents are
//! shared copy-on-write, so every tree starts identical, writes stay in their
//! tree, and neither the snapshot nor the host directory ever changes.
//!
//! Nothing here knows about wasm: operations take a starting directory inode
//! and a path as bytes and return [`Errno`]s with the preview1 numbers, so the
//! descriptor layer's `path_open`, `fd_read`, `fd_readdir`, ... are thin calls.
//!
//! ```
//! use deterministic_wasi_ctx_core::fs::{FsTree, OpenOptions, ROOT, VirtualFs};
//!
//! let snapshot = VirtualFs::new().file("in/data.csv", "a,b\n").dir("out");
//! let mut tree = FsTree::new(&snapshot, 1, 0);
//! let now = 5_000_000_000;
//! let out = tree.open(ROOT, b"out/result.txt", &OpenOptions::new().create(true), now)?;
//! tree.write_at(out, 0, b"2 columns", now)?;
//! assert_eq!(tree.read_file(b"out/result.txt"), Some(b"2 columns".to_vec()));
//! assert_eq!(tree.stat(out)?.mtim, now);
//! // The snapshot is untouched: a second tree starts from it again.
//! assert_eq!(FsTree::new(&snapshot, 1, 0).read_file(b"out/result.txt"), None);
//! # Ok::<(), deterministic_wasi_ctx_core::fs::Errno>(())
//! ```
//!
//! # The rules, written once
//!
//! Every value a guest can observe is decided by these rules and by the
//! sequence of calls, never by the host.
//!
//! **Inode numbers.** The root is [`ROOT`] (1). Snapshot entries are numbered
//! 2, 3, ... in sorted path order (byte order of the full path from the root,
//! so `a` < `a.txt` < `a/b`). Entries created later get the next numbers in
//! creation order. A number is never reused within a tree, even after its
//! entry is removed.
//!
//! **Device.** Every entry of a tree reports the `dev` given to
//! [`FsTree::new`] (one value per preopen).
//!
//! **Timestamps** are nanoseconds since the Unix epoch. Every snapshot entry
//! has the `snapshot_time` given to [`FsTree::new`] as its `atim`, `mtim` and
//! `ctim` (the crate passes the configuration's `wall_start`). Every mutating
//! operation takes `now` (the virtual wall clock) and sets times as POSIX
//! and Linux do:
//!
//! | operation | the entry itself | its directory (or both, for rename) |
//! |---|---|---|
//! | create (open with `create`, `create_dir`, `symlink`) | atim, mtim, ctim = now | mtim, ctim |
//! | `write_at`, `append` (at least one byte), `set_size`, open with `truncate` | mtim, ctim | — |
//! | `link`, `unlink` (nlink changes) | ctim | mtim, ctim |
//! | `remove_dir` | ctim | mtim, ctim |
//! | `rename` | ctim (and a replaced entry's ctim) | mtim, ctim |
//! | `set_times` | atim, mtim as asked; ctim = now unless both are [`NewTime::NoChange`] | — |
//!
//! Reads never change `atim` (the tree behaves as a `noatime` mount), so
//! reading needs no clock and no `&mut`.
//!
//! **Link counts and sizes.** A file's or symlink's `nlink` is its number of
//! hard links (0 once unlinked while still open). A directory's `nlink` is 2
//! plus its number of subdirectories (0 once removed). A file's size is its
//! length, a symlink's the length of its target, a directory's always
//! [`DIR_SIZE`] (4096, as on ext4).
//!
//! **Directory listings** ([`FsTree::list`]): `.` then `..` (the root's `..`
//! is the root itself), then the entries sorted by name bytes, each with its
//! inode and type. An entry's `cookie` is its index in that order, so a
//! listing can resume at a cookie.
//!
//! **Paths** are bytes, split on `/`. Empty components are ignored (`a//b` is
//! `a/b`), `.` stays, `..` goes up, but never above the directory the path
//! starts from: that directory is the capability, as in cap-std and stock
//! wasmtime-wasi. Escaping it — by `..`, by an absolute path, or through a
//! symlink whose target is absolute or leads out — is refused with
//! [`ESCAPE`] (`EPERM`, 63): the wasi-filesystem specification asks for
//! `error-code::not-permitted` there, and stock wasmtime-wasi maps cap-std's
//! "a path led outside of the filesystem" (`PermissionDenied`) to it.
//! Symlinks are followed for every intermediate component and for the last
//! one when asked, relative to the directory holding the link, at most
//! [`MAX_SYMLINKS`] (40) times per resolution (then `ELOOP`). A path (or a
//! symlink target) of [`PATH_MAX`] (4096) bytes or more, or a component
//! longer than [`NAME_MAX`] (255), is `ENAMETOOLONG`. A trailing `/` demands
//! a directory (`ENOTDIR` otherwise) and follows a final symlink for
//! lookups, as on Linux. The empty path is `ENOENT`; a path or symlink
//! target holding a NUL byte is `EINVAL` (no host call could take it).
//!
//! **Errnos** follow Linux, including which check comes first; a
//! differential test runs random operation sequences on a tree and on a real
//! Linux directory and compares every answer and the final trees. Where
//! stock wasmtime-wasi answers before Linux would (`open`'s flag checks), its
//! answer is taken, and the operation's docs say so.
//!
//! **File size.** No file grows past [`MAX_FILE_SIZE`] (`EFBIG`, as on ext4).
//! Files are sparse ([`FileContent`]): a write far past the end or a large
//! `fd_filestat_set_size` stores nothing for the hole, which reads as
//! zeros, so a write at 2 GiB succeeds as on a host directory and costs
//! only its bytes; a gap under [`SPARSE_GAP`] (1 MiB) is stored as zeros.
//!
//! **Limits** ([`Limits`]): the total bytes stored in all files (holes
//! excluded; each extent after a file's first counts [`EXTENT_CHARGE`]
//! more) and the number of
//! inodes (the root included) of a tree. An operation that would exceed
//! either fails with `ENOSPC` and changes nothing (a write that partly fits
//! writes the part that fits, as on a full disk); growing a file is checked
//! before any memory is allocated. A snapshot over its limits cannot be made
//! ([`SnapshotError::TooLarge`]).
//!
//! **Open handles.** [`FsTree::open`] counts a handle on the inode it returns
//! and [`FsTree::close`] releases it. An unlinked file (or removed directory)
//! stays readable and writable through its handles, with `nlink` 0, and its
//! bytes stay counted until the last handle is closed, as on Linux. Inodes
//! that are neither reachable nor open are gone: operations on them are
//! `EBADF`.
//!
//! **Comparing trees.** [`FsTree::walk`] lists every reachable entry in sorted
//! path order and [`FsTree::digest`] hashes that walk (encoding in the
//! [`digest`](FsTree::digest) docs), so two Stores' final trees can be compared.

mod build;
mod content;
mod digest;
mod errno;
mod export;
mod io;
mod node;
mod ops;
mod reset;
mod resolve;
mod snapshot;
#[cfg(test)]
mod tests;
mod tree;
mod types;

pub use build::{SnapshotError, VirtualFs};
pub use content::{EXTENT_CHARGE, FileContent, SPARSE_GAP};
pub use digest::{WalkContent, WalkEntry};
pub use errno::{ESCAPE, Errno};
pub use io::check_transfer;
pub use tree::FsTree;
pub use types::{DirEntry, FileType, Ino, Limits, NewTime, OpenOptions, Stat};

/// The inode number of a tree's root directory.
pub const ROOT: Ino = 1;

/// The size every directory reports.
pub const DIR_SIZE: u64 = 4096;

/// The most symlinks followed while resolving one path (Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// Paths and symlink targets must be shorter than this many bytes (Linux's
/// `PATH_MAX`, which counts the terminating NUL).
pub const PATH_MAX: usize = 4096;

/// The longest name of one path component, in bytes (Linux's `NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// The largest size a file can have: 16 TiB − 4 KiB, ext4's limit with 4 KiB
/// blocks (Linux's `s_maxbytes`). Writing at or past it is `EFBIG`, as on the
/// host directories stock wasmtime-wasi is compared with; the byte limit
/// ([`Limits::max_bytes`]) is checked after it.
pub const MAX_FILE_SIZE: u64 = (1 << 44) - 4096;
