//! What the tracer records for a preview1 / preview0 function that is not
//! the crate's (a stock backend's, or the embedder's own), whose writes it
//! cannot see being made: the regions the function's signature and its
//! reported results say it wrote, read from memory after the call.
//!
//! Every region is derived from what the call reports (a byte count, an
//! event count), never from a buffer length alone, and the work per call is
//! bounded by the bytes recorded plus a constant, whatever the guest passes.
//! Records have the field layout the crate's own functions write (and so
//! record through [`WriteLog`](crate::writes::WriteLog)): padding
//! between fields is not recorded, and preview0's records are its own.
//! Where the written length is not reported (`fd_prestat_dir_name`, the
//! strings of `args_get` / `environ_get`), the region is bounded by a
//! constant.

use super::WriteRef;

/// The most iovecs walked for `fd_read` / `fd_pread` (as many as
/// `IOV_MAX` on Linux).
const MAX_IOVECS: u32 = 1024;

/// The most bytes recorded for a preopen's name (`fd_prestat_dir_name`
/// does not report its length; the name is the embedder's).
const MAX_PREOPEN_NAME: u32 = 4096;

/// The most strings (and bytes per string) walked for `args_get` /
/// `environ_get`.
const MAX_STRINGS: u32 = 1024;
/// See [`MAX_STRINGS`].
const MAX_STRING: usize = 64 * 1024;

/// `(offset, len)` of the fields of preview1's `fdstat` (filetype u8 @0,
/// flags u16 @2, rights u64 @8 and @16).
const FDSTAT: &[(u32, u32)] = &[(0, 1), (2, 2), (8, 16)];
/// Preview1's `filestat`: dev, ino @0, filetype u8 @16, nlink u64 @24,
/// size, atim, mtim, ctim to 64.
const FILESTAT_P1: &[(u32, u32)] = &[(0, 17), (24, 40)];
/// Preview0's `filestat`: dev, ino @0, filetype u8 @16, nlink u32 @20,
/// size, atim, mtim, ctim to 56.
const FILESTAT_P0: &[(u32, u32)] = &[(0, 17), (20, 36)];
/// `prestat`: tag u8 @0, name length u32 @4.
const PRESTAT: &[(u32, u32)] = &[(0, 1), (4, 4)];
/// A poll `event`: userdata, errno, type @0..11, nbytes, flags @16..26.
const EVENT: &[(u32, u32)] = &[(0, 11), (16, 10)];

/// Reports to `emit` the regions `name` (of `wasi_unstable` if `preview0`)
/// wrote, given its arguments, its errno and the memory after the call.
/// Outputs are written only on success (errno 0); a function this table
/// does not know gets a whole-memory digest.
pub fn writes_of<'m>(
    name: &str,
    preview0: bool,
    args: &[i64],
    errno: Option<i64>,
    memory: &'m [u8],
    emit: &mut dyn FnMut(WriteRef<'m>),
) {
    let known = regions_of(name, preview0, args, errno, memory, &mut |offset, len| {
        emit(WriteRef::Bytes {
            offset,
            bytes: bytes_at(memory, offset, len),
        })
    });
    if !known {
        emit(WriteRef::MemoryDigest(*blake3::hash(memory).as_bytes()));
    }
}

/// The bytes of a region of `len` bytes at `offset` in `memory`, cut at the
/// end of memory (empty for a region starting past it): what [`writes_of`]
/// records for the region.
pub fn bytes_at(memory: &[u8], offset: u32, len: u32) -> &[u8] {
    let start = (offset as usize).min(memory.len());
    let end = (offset as usize)
        .saturating_add(len as usize)
        .min(memory.len());
    &memory[start..end.max(start)]
}

/// Guest memory as the region rules read it: its length, the `u32` at an
/// offset (0 where it does not fit), and where a NUL ends a string. A byte
/// slice is one; a replayer checking a log's writes before making them
/// reads memory as it would be after them.
pub trait View {
    /// The memory's length in bytes.
    fn len(&self) -> usize;
    /// The byte at `at`, `None` past the end.
    fn byte(&self, at: usize) -> Option<u8>;
    /// The little-endian `u32` at `at`, 0 if it does not fit in memory.
    fn u32_at(&self, at: u32) -> u32 {
        let at = at as usize;
        let mut bytes = [0u8; 4];
        for (i, b) in bytes.iter_mut().enumerate() {
            match self.byte(at.saturating_add(i)) {
                Some(v) => *b = v,
                None => return 0,
            }
        }
        u32::from_le_bytes(bytes)
    }
    /// The length of the NUL-terminated string at `at` if its NUL is among
    /// the `max` bytes there (and in memory).
    fn nul_within(&self, at: usize, max: usize) -> Option<usize> {
        (0..max).find_map(|i| match self.byte(at.checked_add(i)?) {
            Some(0) => Some(Some(i)),
            Some(_) => None,
            None => Some(None),
        })?
    }
    /// Whether the memory is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl View for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }
    fn byte(&self, at: usize) -> Option<u8> {
        self.get(at).copied()
    }
    fn u32_at(&self, at: u32) -> u32 {
        let at = at as usize;
        self.get(at..at.saturating_add(4))
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0)
    }
    fn nul_within(&self, at: usize, max: usize) -> Option<usize> {
        self.get(at..)
            .map(|rest| &rest[..rest.len().min(max)])
            .and_then(|rest| rest.iter().position(|&b| b == 0))
    }
}

/// Reports to `region`, as `(offset, len)` before any cut at the end of
/// memory (see [`bytes_at`]), the regions `name` (of `wasi_unstable` if
/// `preview0`) wrote, in the order [`writes_of`] records them, reading the
/// memory after the call through `memory`. Returns `false` for a function
/// this table does not know.
pub fn regions_of<V: View + ?Sized>(
    name: &str,
    preview0: bool,
    args: &[i64],
    errno: Option<i64>,
    memory: &V,
    region: &mut dyn FnMut(u32, u32),
) -> bool {
    if errno != Some(0) {
        return true;
    }
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let u32_at = |at: u32| memory.u32_at(at);
    let mut region = |offset: u32, len: u32| {
        if len > 0 {
            region(offset, len)
        }
    };
    let mut record = |base: u32, fields: &[(u32, u32)]| {
        for &(offset, len) in fields {
            region(base.wrapping_add(offset), len);
        }
    };
    match name {
        "clock_time_get" => record(arg(2), &[(0, 8)]),
        "clock_res_get" => record(arg(1), &[(0, 8)]),
        "random_get" => record(arg(0), &[(0, arg(1))]),
        "poll_oneoff" => {
            let nevents = u32_at(arg(3)).min(arg(2));
            for i in 0..nevents {
                record(arg(1).wrapping_add(32 * i), EVENT);
            }
            record(arg(3), &[(0, 4)]);
        }
        "fd_write" => record(arg(3), &[(0, 4)]),
        "fd_pwrite" => record(arg(4), &[(0, 4)]),
        "fd_read" | "fd_pread" => {
            let out = arg(if name == "fd_read" { 3 } else { 4 });
            fill_iovecs(&u32_at, (arg(1), arg(2)), u32_at(out), &mut |at, n| {
                record(at, &[(0, n)])
            });
            record(out, &[(0, 4)]);
        }
        "args_get" | "environ_get" => {
            // A table of pointers at arg(0), each to the next NUL-terminated
            // string packed from arg(1): walk the table while it points
            // where the next string starts.
            let (table, buf) = (arg(0), arg(1));
            let mut next = buf;
            let mut count = 0u32;
            while count < MAX_STRINGS
                && u32_at(table.wrapping_add(4 * count)) == next
                && let Some(len) = memory.nul_within(next as usize, MAX_STRING)
            {
                next = next.wrapping_add(len as u32 + 1);
                count += 1;
            }
            record(table, &[(0, 4 * count)]);
            record(buf, &[(0, next.wrapping_sub(buf))]);
        }
        // The size first: results are written last to first.
        "args_sizes_get" | "environ_sizes_get" => {
            record(arg(1), &[(0, 4)]);
            record(arg(0), &[(0, 4)]);
        }
        "fd_fdstat_get" => record(arg(1), FDSTAT),
        "fd_filestat_get" | "path_filestat_get" => {
            let out = arg(if name == "fd_filestat_get" { 1 } else { 4 });
            record(out, if preview0 { FILESTAT_P0 } else { FILESTAT_P1 });
        }
        "fd_prestat_get" => record(arg(1), PRESTAT),
        "fd_seek" => record(arg(3), &[(0, 8)]),
        "fd_tell" => record(arg(1), &[(0, 8)]),
        "fd_prestat_dir_name" => record(arg(1), &[(0, arg(2).min(MAX_PREOPEN_NAME))]),
        "path_open" => record(arg(8), &[(0, 4)]),
        "fd_readdir" => {
            record(arg(1), &[(0, u32_at(arg(4)).min(arg(2)))]);
            record(arg(4), &[(0, 4)]);
        }
        "path_readlink" => {
            record(arg(3), &[(0, u32_at(arg(5)).min(arg(4)))]);
            record(arg(5), &[(0, 4)]);
        }
        "sock_accept" => record(arg(2), &[(0, 4)]),
        "sock_recv" => {
            fill_iovecs(&u32_at, (arg(1), arg(2)), u32_at(arg(4)), &mut |at, n| {
                record(at, &[(0, n)])
            });
            record(arg(4), &[(0, 4)]);
            record(arg(5), &[(0, 2)]);
        }
        "sock_send" => record(arg(4), &[(0, 4)]),
        "path_create_directory"
        | "path_remove_directory"
        | "path_unlink_file"
        | "path_rename"
        | "path_link"
        | "path_symlink"
        | "path_filestat_set_times" => {}
        "sched_yield"
        | "proc_exit"
        | "proc_raise"
        | "fd_close"
        | "fd_sync"
        | "fd_datasync"
        | "fd_advise"
        | "fd_allocate"
        | "fd_fdstat_set_flags"
        | "fd_fdstat_set_rights"
        | "fd_filestat_set_size"
        | "fd_filestat_set_times"
        | "fd_renumber"
        | "sock_shutdown" => {}
        _ => return false,
    }
    true
}

/// The most bytes of one path argument [`inputs_before`] reads (preview1
/// paths are the guest's `(pointer, length)`, of any length).
const MAX_PATH_INPUT: u32 = 64 * 1024;

/// The most subscriptions of `poll_oneoff` [`inputs_before`] reads.
const MAX_SUBSCRIPTIONS: u32 = 64 * 1024;

/// Reports to `input` the regions of guest memory whose contents `name`
/// (of `wasi_unstable` if `preview0`) takes as input and that its integer
/// arguments alone locate, as `(offset, len)` before any cut at the end of
/// memory: the path strings of the `path_*` functions (each cut at 64 KiB)
/// and `poll_oneoff`'s subscriptions (at most 65,536; 48 bytes each, 56 in
/// preview0). A record-and-replay log keeps a digest of them as they were
/// before the call (see [`inputs_after`] for the rest), so a replay whose
/// guest passes other data than the recording's is told apart.
pub fn inputs_before(name: &str, preview0: bool, args: &[i64], input: &mut dyn FnMut(u32, u32)) {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let mut path = |ptr: usize, len: usize| input(arg(ptr), arg(len).min(MAX_PATH_INPUT));
    match name {
        "path_create_directory" | "path_remove_directory" | "path_unlink_file" => path(1, 2),
        "path_filestat_get" | "path_filestat_set_times" | "path_open" => path(2, 3),
        "path_readlink" => path(1, 2),
        "path_rename" => {
            path(1, 2);
            path(4, 5);
        }
        "path_link" => {
            path(2, 3);
            path(5, 6);
        }
        "path_symlink" => {
            path(0, 1);
            path(3, 4);
        }
        "poll_oneoff" => {
            let size = if preview0 { 56 } else { 48 };
            input(arg(0), arg(2).min(MAX_SUBSCRIPTIONS).saturating_mul(size))
        }
        _ => {}
    }
}

/// Reports to `input` the regions, read after the call from `memory`, of
/// the bytes `fd_write`, `fd_pwrite` and `sock_send` wrote out: as many as
/// they report (errno 0), from their iovecs. The work is bounded by the
/// bytes reported plus the iovecs walked, whatever the arguments name.
pub fn inputs_after<V: View + ?Sized>(
    name: &str,
    args: &[i64],
    errno: Option<i64>,
    memory: &V,
    input: &mut dyn FnMut(u32, u32),
) {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let u32_at = |at: u32| memory.u32_at(at);
    if let ("fd_write" | "fd_pwrite" | "sock_send", Some(0)) = (name, errno) {
        let out = arg(if name == "fd_write" { 3 } else { 4 });
        fill_iovecs(&u32_at, (arg(1), arg(2)), u32_at(out), input);
    }
}

/// Reports to `region` the first `total` bytes of the `count` iovecs at
/// `iovs` (as they are after the call), in order, skipping empty ones: a
/// stock read fills the first non-empty one only, a vectored read fills
/// them in turn, and both are covered. Walks at most [`MAX_IOVECS`].
fn fill_iovecs(
    u32_at: &dyn Fn(u32) -> u32,
    (iovs, count): (u32, u32),
    total: u32,
    region: &mut dyn FnMut(u32, u32),
) {
    let mut left = total;
    for i in 0..count.min(MAX_IOVECS) {
        if left == 0 {
            break;
        }
        let at = iovs.wrapping_add(8 * i);
        let n = u32_at(at.wrapping_add(4)).min(left);
        region(u32_at(at), n);
        left -= n;
    }
}
