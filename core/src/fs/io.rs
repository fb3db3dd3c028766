//! File contents: reading, writing, resizing.

use super::MAX_FILE_SIZE;
use super::content::FileContent;
use super::errno::Errno;
use super::node::Kind;
use super::tree::FsTree;
use super::types::Ino;
use std::sync::Arc;

impl FsTree {
    /// Copies bytes of file `ino` from `offset` into `buf`; returns how many
    /// (0 at or past the end). Never changes anything (no `atim` update).
    ///
    /// # Errors
    ///
    /// `EBADF` if `ino` is gone; `EISDIR` for a directory; `EINVAL` for a
    /// symlink.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{FsTree, OpenOptions, ROOT, VirtualFs};
    ///
    /// let mut tree = FsTree::new(&VirtualFs::new().file("f", "hello"), 1, 0);
    /// let ino = tree.open(ROOT, b"f", &OpenOptions::new().write(true), 0)?;
    /// assert_eq!(tree.write_at(ino, 7, b"!", 10)?, 1); // a 2-byte hole of zeros
    /// let mut buf = [0xff; 16];
    /// let n = tree.read_at(ino, 1, &mut buf)?;
    /// assert_eq!(&buf[..n], b"ello\0\0!");
    /// assert_eq!(tree.stat(ino)?.mtim, 10);
    /// # Ok::<(), deterministic_wasi_ctx_core::fs::Errno>(())
    /// ```
    pub fn read_at(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.file(ino)?.read_at(offset, buf))
    }

    /// Writes `bytes` into file `ino` at `offset`; returns how many bytes
    /// were written. A gap past the end reads as zeros: under
    /// [`SPARSE_GAP`](super::SPARSE_GAP) it is stored as zeros, past it it
    /// is a hole that costs nothing (a write at 2 GiB succeeds, as on a
    /// host filesystem). At or past
    /// [`MAX_FILE_SIZE`](super::MAX_FILE_SIZE) it is `EFBIG`, and a write
    /// across it is cut there (as Linux). Near `max_bytes` only
    /// the part that fits is written (as on a full disk); if nothing fits
    /// the write is `ENOSPC`. A write of at least one byte sets `mtim` and
    /// `ctim` to `now`; an empty write changes nothing. The file's bytes are
    /// copied out of the snapshot on its first write.
    ///
    /// # Errors
    ///
    /// `EBADF`, `EISDIR`, `EINVAL` as [`read_at`](Self::read_at); `EFBIG`;
    /// `ENOSPC`.
    pub fn write_at(
        &mut self,
        ino: Ino,
        offset: u64,
        bytes: &[u8],
        now: u64,
    ) -> Result<usize, Errno> {
        let content = self.file(ino)?;
        if bytes.is_empty() {
            return Ok(0);
        }
        // Linux's file-size limit first: nothing at or past it, a write
        // across it is cut short there.
        if offset >= MAX_FILE_SIZE {
            return Err(Errno::FBIG);
        }
        let len = (bytes.len() as u64).min(MAX_FILE_SIZE - offset);
        let room = self.limits.max_bytes.saturating_sub(self.table.bytes);
        // The longest prefix whose stored bytes fit (the charge grows with
        // the length): all of it, usually.
        let (mut n, mut charge) = (len, content.write_charge(offset, len));
        if charge > room {
            let (mut lo, mut hi) = (0, len);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if content.write_charge(offset, mid) <= room {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            n = lo;
            charge = content.write_charge(offset, n);
        }
        if n == 0 {
            return Err(Errno::NOSPC);
        }
        self.file_mut(ino)?.write(offset, &bytes[..n as usize]);
        self.table.bytes += charge;
        self.modified(ino, now)?;
        Ok(n as usize)
    }

    /// Writes `bytes` at the end of file `ino` (as `write_at` at its size).
    ///
    /// # Errors
    ///
    /// As [`write_at`](Self::write_at).
    pub fn append(&mut self, ino: Ino, bytes: &[u8], now: u64) -> Result<usize, Errno> {
        let size = self.file(ino)?.len();
        self.write_at(ino, size, bytes, now)
    }

    /// Truncates or extends file `ino` to `size` bytes and sets `mtim`
    /// and `ctim` to `now`. Growth of less than
    /// [`SPARSE_GAP`](super::SPARSE_GAP) past the stored bytes is stored as
    /// zeros (checked against `max_bytes` before any memory is allocated);
    /// more is a hole, so a 1 TiB size succeeds at once without memory.
    ///
    /// # Errors
    ///
    /// `EBADF`; `EINVAL` for a directory or symlink (as Linux's
    /// `ftruncate`); `EFBIG` past [`MAX_FILE_SIZE`](super::MAX_FILE_SIZE);
    /// `ENOSPC` past `max_bytes`.
    pub fn set_size(&mut self, ino: Ino, size: u64, now: u64) -> Result<(), Errno> {
        let content = match self.file(ino) {
            Ok(content) => content,
            Err(Errno::ISDIR) => return Err(Errno::INVAL),
            Err(e) => return Err(e),
        };
        if size > MAX_FILE_SIZE {
            return Err(Errno::FBIG);
        }
        if content.set_len_charge(size) > self.limits.max_bytes.saturating_sub(self.table.bytes) {
            return Err(Errno::NOSPC);
        }
        if size != content.len() {
            let before = content.charged();
            // What is stored is bounded by the charge checked above.
            let content = self.file_mut(ino)?;
            content.set_len(size);
            let after = content.charged();
            self.table.bytes = self.table.bytes - before + after;
        }
        self.modified(ino, now)
    }

    /// The contents of file `ino`.
    pub(crate) fn file(&self, ino: Ino) -> Result<&FileContent, Errno> {
        match &self.node(ino)?.kind {
            Kind::File(data) => Ok(data),
            Kind::Dir(_) => Err(Errno::ISDIR),
            Kind::Symlink(_) => Err(Errno::INVAL),
        }
    }

    /// The contents of file `ino`, copied out of the shared snapshot if needed.
    fn file_mut(&mut self, ino: Ino) -> Result<&mut FileContent, Errno> {
        match &mut self.node_mut(ino)?.kind {
            Kind::File(data) => Ok(Arc::make_mut(data)),
            Kind::Dir(_) => Err(Errno::ISDIR),
            Kind::Symlink(_) => Err(Errno::INVAL),
        }
    }
}

/// Linux's checks on a read or write of `len` bytes through a descriptor, in
/// its order, written once for preview1 and components: at `offset` (`None`
/// for an append, whose position is the end), an offset past `i64::MAX` is
/// `EINVAL`; then a descriptor not open for it (`permitted` false) is
/// `EBADF`; then a transfer that would end past `i64::MAX` is `EINVAL`
/// (`rw_verify_area`). Checked before any byte moves.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fs::{Errno, check_transfer};
///
/// assert_eq!(check_transfer(Some(0), 10, true), Ok(()));
/// assert_eq!(check_transfer(Some(0), 10, false), Err(Errno::BADF));
/// assert_eq!(check_transfer(Some(u64::MAX), 1, false), Err(Errno::INVAL));
/// ```
pub fn check_transfer(offset: Option<u64>, len: u64, permitted: bool) -> Result<(), Errno> {
    const END: u64 = i64::MAX as u64;
    if offset.is_some_and(|offset| offset > END) {
        return Err(Errno::INVAL);
    }
    if !permitted {
        return Err(Errno::BADF);
    }
    if offset.is_some_and(|offset| offset.saturating_add(len) > END) {
        return Err(Errno::INVAL);
    }
    Ok(())
}
