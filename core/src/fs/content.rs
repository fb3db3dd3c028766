//! A regular file's bytes, stored sparsely: runs of stored bytes
//! (extents) at their offsets, holes between and after them that read as
//! zeros, and the file's size.
//!
//! A write far past the end (`fd_pwrite` at 2 GiB, say) or a large
//! `fd_filestat_set_size` stores no byte for the hole, as a host
//! filesystem does, so it answers as stock wasmtime-wasi on a host
//! directory up to [`MAX_FILE_SIZE`](super::MAX_FILE_SIZE) without host
//! memory for the hole. A gap shorter than [`SPARSE_GAP`] after stored
//! bytes (or from the start of the file) is stored as zeros instead, so
//! files written with small gaps keep one extent and their old digests.

use std::collections::BTreeMap;

/// Gaps shorter than this (1 MiB) before new bytes or a new end are stored
/// as zeros; longer ones are holes.
pub const SPARSE_GAP: u64 = 1 << 20;

/// What each extent after a file's first counts against
/// [`Limits::max_bytes`](super::Limits::max_bytes) on top of its bytes (a
/// filesystem block), so that a guest cannot make unboundedly many tiny
/// extents: 4 KiB.
pub const EXTENT_CHARGE: u64 = 4096;

/// A regular file's contents: its size, and the bytes stored at their
/// offsets; every other byte below the size is zero (a hole).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fs::FileContent;
///
/// let mut file = FileContent::from(b"abc".to_vec());
/// file.write(1 << 31, b"z"); // a 2 GiB hole: nothing stored for it
/// assert_eq!(file.len(), (1 << 31) + 1);
/// assert_eq!(file.stored_bytes(), 4);
/// assert_eq!(file.contiguous(), None);
/// let mut buf = [0xff; 4];
/// assert_eq!(file.read_at((1 << 31) - 2, &mut buf), 3);
/// assert_eq!(&buf[..3], b"\0\0z");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileContent {
    /// Stored runs by offset: non-empty, non-overlapping, below `size`.
    extents: BTreeMap<u64, Vec<u8>>,
    size: u64,
}

impl From<Vec<u8>> for FileContent {
    fn from(bytes: Vec<u8>) -> FileContent {
        let size = bytes.len() as u64;
        let mut extents = BTreeMap::new();
        if !bytes.is_empty() {
            extents.insert(0, bytes);
        }
        FileContent { extents, size }
    }
}

impl FileContent {
    /// The file's size in bytes (holes included).
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Bytes actually stored (holes excluded).
    pub fn stored_bytes(&self) -> u64 {
        self.extents.values().map(|v| v.len() as u64).sum()
    }

    /// What the file counts against
    /// [`Limits::max_bytes`](super::Limits::max_bytes): its stored bytes,
    /// plus [`EXTENT_CHARGE`] per extent after the first.
    pub fn charged(&self) -> u64 {
        self.stored_bytes() + EXTENT_CHARGE * (self.extents.len().saturating_sub(1) as u64)
    }

    /// The stored runs, in offset order: `(offset, bytes)`. Adjacent runs
    /// may be separate; everything between runs and after the last one is
    /// zero.
    pub fn extents(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.extents.iter().map(|(&at, v)| (at, v.as_slice()))
    }

    /// Whether every byte below the size is stored (no hole).
    pub fn is_dense(&self) -> bool {
        let mut next = 0;
        for (at, bytes) in self.extents() {
            if at != next {
                return false;
            }
            next += bytes.len() as u64;
        }
        next == self.size
    }

    /// The whole contents as one slice, if the file is one extent from 0
    /// (or empty): the common case, without a copy.
    pub fn contiguous(&self) -> Option<&[u8]> {
        match self.extents.iter().next() {
            None if self.size == 0 => Some(&[]),
            Some((0, v)) if self.extents.len() == 1 && v.len() as u64 == self.size => Some(v),
            _ => None,
        }
    }

    /// The whole contents, holes as zeros. Allocates [`len`](Self::len)
    /// bytes: for tests and small files.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; usize::try_from(self.size).unwrap_or(usize::MAX)];
        for (at, bytes) in self.extents() {
            out[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        }
        out
    }

    /// Copies the bytes from `offset` into `buf` (holes as zeros); returns
    /// how many (0 at or past the end). Work is bounded by `buf.len()` and
    /// the extents it covers.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size || buf.is_empty() {
            return 0;
        }
        let n = (buf.len() as u64).min(self.size - offset) as usize;
        let buf = &mut buf[..n];
        buf.fill(0);
        let end = offset + n as u64;
        // The extent starting at or before `offset`, then those inside.
        let first = self.extents.range(..=offset).next_back();
        let rest = self.extents.range(offset + 1..end);
        for (&at, bytes) in first.into_iter().chain(rest) {
            let (from, to) = (at.max(offset), (at + bytes.len() as u64).min(end));
            if from < to {
                buf[(from - offset) as usize..(to - offset) as usize]
                    .copy_from_slice(&bytes[(from - at) as usize..(to - at) as usize]);
            }
        }
        n
    }

    /// Where a write at `offset` really starts: at the end of the stored
    /// bytes before it when `offset` is in a hole less than [`SPARSE_GAP`]
    /// past them (the gap is then stored as zeros).
    fn gap_start(&self, offset: u64) -> u64 {
        let stored_end = match self.extents.range(..=offset).next_back() {
            Some((&at, v)) => at + v.len() as u64,
            None => 0,
        };
        if stored_end < offset && offset - stored_end < SPARSE_GAP {
            stored_end
        } else {
            offset
        }
    }

    /// How many more bytes [`charged`](Self::charged) would count after
    /// writing `len` bytes at `offset`, gap zeros included.
    pub fn write_charge(&self, offset: u64, len: u64) -> u64 {
        if len == 0 {
            return 0;
        }
        let start = self.gap_start(offset);
        let end = offset + len;
        let mut new = 0;
        let mut pos = start;
        let mut new_extents = 0;
        while pos < end {
            match self.extent_at(pos) {
                Some((at, stored)) if at + stored > pos => pos = (at + stored).min(end),
                before => {
                    let next = self.next_start(pos).unwrap_or(u64::MAX).min(end);
                    new += next - pos;
                    if !matches!(before, Some((at, stored)) if at + stored == pos) {
                        new_extents += 1;
                    }
                    pos = next;
                }
            }
        }
        // The file's first extent is not charged.
        let free = u64::from(self.extents.is_empty() && new_extents > 0);
        new + EXTENT_CHARGE * (new_extents - free)
    }

    /// Writes `bytes` at `offset` (gap zeros stored as
    /// [`SPARSE_GAP`] says); the size grows to cover them. Work is bounded
    /// by the bytes written, the gap and the extents they cover.
    pub fn write(&mut self, offset: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let start = self.gap_start(offset);
        let zeros = vec![0; (offset - start) as usize];
        let end = offset + bytes.len() as u64;
        let mut pos = start;
        // The byte at `pos`: a gap zero before `offset`, then `bytes`.
        let source = |from: u64, to: u64| -> Vec<u8> {
            let mut out = Vec::with_capacity((to - from) as usize);
            if from < offset {
                out.extend_from_slice(
                    &zeros[(from - start) as usize..(to.min(offset) - start) as usize],
                );
            }
            if to > offset {
                let from = from.max(offset);
                out.extend_from_slice(&bytes[(from - offset) as usize..(to - offset) as usize]);
            }
            out
        };
        while pos < end {
            match self.extent_at(pos) {
                Some((at, stored)) if at + stored > pos => {
                    let to = (at + stored).min(end);
                    let chunk = source(pos, to);
                    let v = self.extents.get_mut(&at).expect("found above");
                    v[(pos - at) as usize..(to - at) as usize].copy_from_slice(&chunk);
                    pos = to;
                }
                before => {
                    let to = self.next_start(pos).unwrap_or(u64::MAX).min(end);
                    let chunk = source(pos, to);
                    match before {
                        Some((at, stored)) if at + stored == pos => self
                            .extents
                            .get_mut(&at)
                            .expect("found above")
                            .extend_from_slice(&chunk),
                        _ => {
                            self.extents.insert(pos, chunk);
                        }
                    }
                    pos = to;
                }
            }
        }
        self.size = self.size.max(end);
    }

    /// How many more bytes [`charged`](Self::charged) would count after
    /// [`set_len`](Self::set_len)`(size)` (0 for a hole or a shrink).
    pub fn set_len_charge(&self, size: u64) -> u64 {
        let start = self.gap_start(size);
        if size > self.size && start < size {
            self.write_charge(start, size - start)
        } else {
            0
        }
    }

    /// Truncates to `size`, or grows to it: with zeros stored for less than
    /// [`SPARSE_GAP`] past the stored bytes, else with a hole.
    pub fn set_len(&mut self, size: u64) {
        if size <= self.size {
            let _ = self.extents.split_off(&size);
            if let Some((&at, v)) = self.extents.iter_mut().next_back() {
                v.truncate((size - at) as usize);
            }
        } else {
            let start = self.gap_start(size);
            if start < size {
                self.write(start, &vec![0; (size - start) as usize]);
            }
        }
        self.size = size;
    }

    /// The extent starting at or before `pos`: `(offset, length)`.
    fn extent_at(&self, pos: u64) -> Option<(u64, u64)> {
        self.extents
            .range(..=pos)
            .next_back()
            .map(|(&at, v)| (at, v.len() as u64))
    }

    /// The offset of the first extent starting after `pos`.
    fn next_start(&self, pos: u64) -> Option<u64> {
        self.extents
            .range(pos.checked_add(1)?..)
            .next()
            .map(|(&at, _)| at)
    }
}

impl FileContent {
    /// The bytes other than zero, as maximal runs `(offset, bytes)`: two
    /// contents read the same (holes and stored zeros alike) exactly when
    /// their sizes and runs are equal. Work is bounded by the stored bytes.
    pub fn nonzero_runs(&self) -> Vec<(u64, Vec<u8>)> {
        let mut runs: Vec<(u64, Vec<u8>)> = Vec::new();
        for (at, bytes) in self.extents() {
            for (i, &b) in bytes.iter().enumerate() {
                if b == 0 {
                    continue;
                }
                let pos = at + i as u64;
                match runs.last_mut() {
                    Some((start, run)) if *start + run.len() as u64 == pos => run.push(b),
                    _ => runs.push((pos, vec![b])),
                }
            }
        }
        runs
    }

    /// Reads an open host file, keeping its holes as holes where the host
    /// says where they are (Linux's `SEEK_DATA`/`SEEK_HOLE`; elsewhere the
    /// whole file is read). `Ok(None)` once more than `budget` bytes would
    /// be [charged](Self::charged), before reading further.
    pub(crate) fn read_host(
        file: &mut std::fs::File,
        budget: u64,
    ) -> std::io::Result<Option<Self>> {
        use std::io::{Read, Seek, SeekFrom};
        let size = file.metadata()?.len();
        let mut content = FileContent::default();
        let mut charged = 0u64;
        let mut buf = vec![0; 64 << 10];
        let mut pos = 0;
        while pos < size {
            let Some((data, hole)) = data_run(file, pos, size)? else {
                break;
            };
            file.seek(SeekFrom::Start(data))?;
            let mut at = data;
            while at < hole {
                let want = (hole - at).min(buf.len() as u64) as usize;
                let n = file.read(&mut buf[..want])?;
                if n == 0 {
                    break;
                }
                charged += content.write_charge(at, n as u64);
                if charged > budget {
                    return Ok(None);
                }
                content.write(at, &buf[..n]);
                at += n as u64;
            }
            pos = hole.max(at).max(pos + 1);
        }
        if content.set_len_charge(size) + charged > budget {
            return Ok(None);
        }
        content.set_len(size);
        Ok(Some(content))
    }
}

/// The next run of data at or after `pos`, as `[data, hole)`, or `None`.
#[cfg(target_os = "linux")]
fn data_run(file: &std::fs::File, pos: u64, size: u64) -> std::io::Result<Option<(u64, u64)>> {
    use rustix::fs::{SeekFrom, seek};
    let data = match seek(file, SeekFrom::Data(pos)) {
        Ok(data) => data,
        Err(rustix::io::Errno::NXIO) => return Ok(None),
        // A filesystem without the calls: all of it is data.
        Err(rustix::io::Errno::INVAL) => return Ok(Some((pos, size))),
        Err(e) => return Err(e.into()),
    };
    let hole = seek(file, SeekFrom::Hole(data)).map_err(std::io::Error::from)?;
    Ok(Some((data, hole.min(size))))
}

/// Everything is data where holes cannot be found.
#[cfg(not(target_os = "linux"))]
fn data_run(_: &std::fs::File, pos: u64, size: u64) -> std::io::Result<Option<(u64, u64)>> {
    Ok(Some((pos, size)))
}
