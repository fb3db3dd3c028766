//! The preview1 descriptor calls, one function each, in stock
//! `wasmtime-wasi`'s order of checks: argument decoding (a value that is not
//! a valid enum or flag set traps), then the host-call budget and the iovec
//! array, then the descriptor, then guest memory for the data, then the
//! results.

use super::guest::{CallResult, Failure, Guest, errno, fail, trap};
use super::table::{Descriptor, Descriptors, DirHandle, FileHandle};
use crate::fs::{self, FileType, NewTime, Stat, check_transfer};
use crate::sched::abi::Layout;

/// A flags argument: its bits must be within `valid` (else a trap).
pub(super) fn flags(name: &str, value: u64, valid: u64) -> CallResult<u64> {
    if value & !valid != 0 {
        return Err(trap(format!("invalid flags value for {name}: {value:#x}")));
    }
    Ok(value)
}

/// A `u16` flags argument passed as an i32.
pub(super) fn flags16(name: &str, value: i32, valid: u64) -> CallResult<u64> {
    let value =
        u16::try_from(value).map_err(|_| trap(format!("{name}: {value} does not fit in u16")))?;
    flags(name, u64::from(value), valid)
}

/// A `u8` enum argument passed as an i32, with `cases` cases.
fn enum8(name: &str, value: i32, cases: u8) -> CallResult<u8> {
    match u8::try_from(value) {
        Ok(v) if v < cases => Ok(v),
        Ok(v) => Err(trap(format!("invalid enum value for {name}: {v}"))),
        Err(_) => Err(trap(format!("{name}: {value} does not fit in u8"))),
    }
}

/// Flag masks and enum sizes of the preview1 witx.
pub(super) mod witx {
    pub const FDFLAGS: u64 = 0x1f;
    pub const FSTFLAGS: u64 = 0xf;
    pub const LOOKUPFLAGS: u64 = 0x1;
    pub const OFLAGS: u64 = 0xf;
    /// Preview1 has 30 rights; preview0 lacks `sock_accept`, the last.
    pub const RIGHTS_P1: u64 = (1 << 30) - 1;
    pub const RIGHTS_P0: u64 = (1 << 29) - 1;
    pub const RIFLAGS: u64 = 0x3;
    pub const SDFLAGS: u64 = 0x3;
    pub const ADVICE_CASES: u8 = 6;
    pub const WHENCE_CASES: u8 = 3;
    pub const SIGNAL_CASES: u8 = 31;
    pub const FSTFLAGS_ATIM: u64 = 1;
    pub const FSTFLAGS_ATIM_NOW: u64 = 2;
    pub const FSTFLAGS_MTIM: u64 = 4;
    pub const FSTFLAGS_MTIM_NOW: u64 = 8;
    pub const RIGHTS_FD_READ: u64 = 1 << 1;
    pub const RIGHTS_FD_SEEK: u64 = 1 << 2;
    pub const RIGHTS_FD_WRITE: u64 = 1 << 6;
    pub const RIGHTS_FD_READDIR: u64 = 1 << 14;
    pub const RIGHTS_PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const RIGHTS_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    /// What stock wasmtime-wasi reports as a preopened directory's base
    /// rights: every `path_*` right but `PATH_FILESTAT_SET_SIZE`, plus
    /// `FD_READDIR`, `FD_FILESTAT_GET` and `FD_FILESTAT_SET_TIMES`.
    pub const RIGHTS_PREOPEN_BASE: u64 = (1 << 9)
        | (1 << 10)
        | (1 << 11)
        | (1 << 12)
        | (1 << 13)
        | (1 << 14)
        | (1 << 15)
        | (1 << 16)
        | (1 << 17)
        | (1 << 24)
        | (1 << 25)
        | (1 << 26)
        | (1 << 18)
        | (1 << 20)
        | (1 << 21)
        | (1 << 23);
    /// A preopened directory's inheriting rights: the base ones plus every
    /// `fd_*` right a file may have and `POLL_FD_READWRITE`.
    pub const RIGHTS_PREOPEN_INHERITING: u64 = RIGHTS_PREOPEN_BASE
        | (1 << 0)
        | (1 << 1)
        | (1 << 2)
        | (1 << 3)
        | (1 << 4)
        | (1 << 5)
        | (1 << 6)
        | (1 << 7)
        | (1 << 8)
        | (1 << 21)
        | (1 << 22)
        | (1 << 23)
        | (1 << 27);
    pub const FDFLAGS_APPEND: u64 = 1;
    pub const FDFLAGS_DSYNC: u64 = 2;
    pub const FDFLAGS_NONBLOCK: u64 = 4;
    pub const FDFLAGS_RSYNC: u64 = 8;
    pub const FDFLAGS_SYNC: u64 = 16;
    pub const OFLAGS_CREAT: u64 = 1;
    pub const OFLAGS_DIRECTORY: u64 = 2;
    pub const OFLAGS_EXCL: u64 = 4;
    pub const OFLAGS_TRUNC: u64 = 8;
    pub const FILETYPE_DIRECTORY: u8 = 3;
    pub const FILETYPE_REGULAR_FILE: u8 = 4;
    pub const FILETYPE_SYMBOLIC_LINK: u8 = 7;
}

/// A filesystem errno as a call failure.
pub(super) fn fs_err(e: fs::Errno) -> Failure {
    Failure::Errno(e.0)
}

/// The preview1 `filetype` of a tree entry.
pub(super) fn filetype(t: FileType) -> u8 {
    match t {
        FileType::Directory => witx::FILETYPE_DIRECTORY,
        FileType::RegularFile => witx::FILETYPE_REGULAR_FILE,
        FileType::SymbolicLink => witx::FILETYPE_SYMBOLIC_LINK,
    }
}

/// A time argument as `fstflags` asks for it (both given and `NOW` is
/// `EINVAL`, checked by [`Calls::fstflags`] first).
pub(super) fn new_time(fst: u64, set: u64, now: u64, value: i64) -> NewTime {
    if fst & set != 0 {
        NewTime::At(value as u64)
    } else if fst & now != 0 {
        NewTime::Now
    } else {
        NewTime::NoChange
    }
}

/// The calls on one context's descriptors, for one call's memory.
pub struct Calls<'a, 'm> {
    /// The table.
    pub fds: &'a mut Descriptors,
    /// Guest memory and budget.
    pub guest: Guest<'m>,
    /// Which snapshot's record layouts.
    pub layout: Layout,
}

impl Calls<'_, '_> {
    /// Checks a rights argument against this snapshot's rights.
    pub(super) fn rights(&self, value: i64) -> CallResult<u64> {
        flags("rights", value as u64, self.all_rights())
    }

    /// Every right of this snapshot.
    fn all_rights(&self) -> u64 {
        match self.layout {
            Layout::Preview1 => witx::RIGHTS_P1,
            Layout::Preview0 => witx::RIGHTS_P0,
        }
    }

    pub(super) fn open(&self, fd: i32) -> CallResult<Descriptor> {
        match self.fds.get(fd as u32) {
            Some(d) => Ok(d),
            None => fail(errno::BADF),
        }
    }

    /// A descriptor that must be a regular file: anything else is `EBADF`.
    pub(super) fn file(&self, fd: i32) -> CallResult<FileHandle> {
        match self.fds.get(fd as u32) {
            Some(Descriptor::File(f)) => Ok(f),
            _ => fail(errno::BADF),
        }
    }

    /// A descriptor that must be a directory: anything else is `EBADF`.
    pub(super) fn dir(&self, fd: i32) -> CallResult<DirHandle> {
        match self.fds.get(fd as u32) {
            Some(Descriptor::Dir(d)) => Ok(d),
            _ => fail(errno::BADF),
        }
    }

    /// A file or directory (its mount and inode): stdio is `EBADF`.
    fn node(&self, fd: i32) -> CallResult<(usize, fs::Ino)> {
        match self.open(fd)? {
            Descriptor::File(f) => Ok((f.mount, f.ino)),
            Descriptor::Dir(d) => Ok((d.mount, d.ino)),
            _ => fail(errno::BADF),
        }
    }

    /// A file that can seek: stdio is `ESPIPE`, a directory `EBADF`.
    fn seekable(&self, fd: i32) -> CallResult<FileHandle> {
        match self.open(fd)? {
            Descriptor::File(f) => Ok(f),
            Descriptor::Dir(_) => fail(errno::BADF),
            _ => fail(errno::SPIPE),
        }
    }

    /// Whether the preopen `mount` may be changed: `EPERM` if read-only.
    pub(super) fn writable(&self, mount: usize) -> CallResult<()> {
        if self.fds.mount(mount).writable {
            Ok(())
        } else {
            fail(errno::PERM)
        }
    }

    fn set_position(&mut self, fd: i32, position: u64) {
        if let Some(Descriptor::File(f)) = self.fds.get_mut(fd as u32) {
            f.position = position;
        }
    }

    /// `fd_advise`: any advice on a file is accepted at any offset; a
    /// length past `i64::MAX` is `EINVAL` (as stock, through Linux's
    /// `posix_fadvise`).
    pub fn fd_advise(&mut self, fd: i32, _offset: i64, len: i64, advice: i32) -> CallResult<()> {
        enum8("advice", advice, witx::ADVICE_CASES)?;
        self.file(fd)?;
        if len < 0 {
            return fail(errno::INVAL);
        }
        Ok(())
    }

    /// `fd_allocate`: not supported on files, as stock.
    pub fn fd_allocate(&mut self, fd: i32, _offset: i64, _len: i64) -> CallResult<()> {
        self.file(fd)?;
        fail(errno::NOTSUP)
    }

    /// `fd_close`.
    pub fn fd_close(&mut self, fd: i32) -> CallResult<()> {
        if self.fds.close(fd as u32) {
            Ok(())
        } else {
            fail(errno::BADF)
        }
    }

    /// `fd_datasync` and `fd_sync`: a file's data is always where it belongs.
    pub fn fd_sync(&mut self, fd: i32) -> CallResult<()> {
        self.file(fd).map(drop)
    }

    /// `fd_fdstat_get`, with stock's rights: stdio has only the right to read
    /// (stdin) or write (stdout, stderr); a preopened directory stock's fixed
    /// set; other files and directories every right their open mode allows.
    pub fn fd_fdstat_get(&mut self, fd: i32, out: i32) -> CallResult<()> {
        let all = self.all_rights();
        let (filetype, fdflags, base, inheriting) = match self.open(fd)? {
            Descriptor::Stdin => (0, 0, witx::RIGHTS_FD_READ, witx::RIGHTS_FD_READ),
            Descriptor::Stdout | Descriptor::Stderr => {
                (0, 0, witx::RIGHTS_FD_WRITE, witx::RIGHTS_FD_WRITE)
            }
            Descriptor::Dir(d) if d.preopen => (
                witx::FILETYPE_DIRECTORY,
                0,
                witx::RIGHTS_PREOPEN_BASE & all,
                witx::RIGHTS_PREOPEN_INHERITING & all,
            ),
            Descriptor::Dir(d) => {
                let mut rights = all
                    & !(witx::RIGHTS_FD_SEEK
                        | witx::RIGHTS_FD_FILESTAT_SET_SIZE
                        | witx::RIGHTS_PATH_FILESTAT_SET_SIZE
                        | witx::RIGHTS_FD_WRITE);
                if !d.read {
                    rights &= !(witx::RIGHTS_FD_READ | witx::RIGHTS_FD_READDIR);
                }
                (witx::FILETYPE_DIRECTORY, 0, rights, rights)
            }
            Descriptor::File(f) => {
                let mut rights = all;
                if !f.read {
                    rights &= !(witx::RIGHTS_FD_READ | witx::RIGHTS_FD_READDIR);
                }
                if !f.write {
                    rights &= !witx::RIGHTS_FD_WRITE;
                }
                let mut fdflags = 0u16;
                if f.append {
                    fdflags |= witx::FDFLAGS_APPEND as u16;
                }
                if f.nonblock {
                    fdflags |= witx::FDFLAGS_NONBLOCK as u16;
                }
                (witx::FILETYPE_REGULAR_FILE, fdflags, rights, rights)
            }
        };
        let out = out as u32;
        self.guest.write_field(out, 0, [filetype])?;
        self.guest.write_field(out, 2, fdflags.to_le_bytes())?;
        self.guest.write_field(out, 8, base.to_le_bytes())?;
        self.guest.write_field(out, 16, inheriting.to_le_bytes())
    }

    /// `fd_fdstat_set_flags`: only `APPEND` and `NONBLOCK` can change (the
    /// sync flags are `EINVAL`), and only on a file.
    pub fn fd_fdstat_set_flags(&mut self, fd: i32, fdflags: i32) -> CallResult<()> {
        let fdflags = flags16("fdflags", fdflags, witx::FDFLAGS)?;
        self.file(fd)?;
        if fdflags & (witx::FDFLAGS_DSYNC | witx::FDFLAGS_SYNC | witx::FDFLAGS_RSYNC) != 0 {
            return fail(errno::INVAL);
        }
        if let Some(Descriptor::File(f)) = self.fds.get_mut(fd as u32) {
            f.append = fdflags & witx::FDFLAGS_APPEND != 0;
            f.nonblock = fdflags & witx::FDFLAGS_NONBLOCK != 0;
        }
        Ok(())
    }

    /// `fd_fdstat_set_rights`: rights cannot be dropped (`ENOTSUP` on a file
    /// or directory, `EBADF` on stdio), as stock.
    pub fn fd_fdstat_set_rights(&mut self, fd: i32, base: i64, inheriting: i64) -> CallResult<()> {
        self.rights(base)?;
        self.rights(inheriting)?;
        self.node(fd)?;
        fail(errno::NOTSUP)
    }

    /// `fd_filestat_get`: every field of a stdio descriptor is zero.
    pub fn fd_filestat_get(&mut self, fd: i32, out: i32) -> CallResult<()> {
        let stat = match self.open(fd)? {
            Descriptor::File(f) => Some(self.fds.mount(f.mount).tree.stat(f.ino)),
            Descriptor::Dir(d) => Some(self.fds.mount(d.mount).tree.stat(d.ino)),
            _ => None,
        };
        let stat = stat.transpose().map_err(fs_err)?;
        self.write_filestat(out as u32, stat.as_ref())
    }

    /// Writes a filestat (all zero for `None`) in this snapshot's layout,
    /// field by field.
    pub(super) fn write_filestat(&mut self, out: u32, stat: Option<&Stat>) -> CallResult<()> {
        let field = |f: fn(&Stat) -> u64| stat.map_or(0, f).to_le_bytes();
        self.guest.write_field(out, 0, field(|s| s.dev))?;
        self.guest.write_field(out, 8, field(|s| s.ino))?;
        let kind = stat.map_or(0, |s| filetype(s.filetype));
        self.guest.write_field(out, 16, [kind])?;
        let rest: [u32; 4] = match self.layout {
            Layout::Preview1 => {
                self.guest.write_field(out, 24, field(|s| s.nlink))?;
                [32, 40, 48, 56]
            }
            Layout::Preview0 => {
                let nlink = stat.map_or(0, |s| s.nlink as u32);
                self.guest.write_field(out, 20, nlink.to_le_bytes())?;
                [24, 32, 40, 48]
            }
        };
        let values = [
            field(|s| s.size),
            field(|s| s.atim),
            field(|s| s.mtim),
            field(|s| s.ctim),
        ];
        for (offset, value) in rest.into_iter().zip(values) {
            self.guest.write_field(out, offset, value)?;
        }
        Ok(())
    }

    /// `fd_filestat_set_size`: on a writable preopen (`EPERM` otherwise), a
    /// file opened for writing (`EINVAL` otherwise, as Linux's `ftruncate`).
    pub fn fd_filestat_set_size(&mut self, fd: i32, size: i64) -> CallResult<()> {
        let f = self.file(fd)?;
        self.writable(f.mount)?;
        if size < 0 || !f.write {
            return fail(errno::INVAL);
        }
        let now = self.fds.now();
        let tree = self.fds.tree_mut(f.mount);
        tree.set_size(f.ino, size as u64, now).map_err(fs_err)
    }

    /// Checks a `fstflags` argument: a time cannot be both given and `NOW`.
    pub(super) fn fstflags(fst: i32) -> CallResult<u64> {
        let fst = flags16("fstflags", fst, witx::FSTFLAGS)?;
        let both = |set, now| fst & set != 0 && fst & now != 0;
        if both(witx::FSTFLAGS_ATIM, witx::FSTFLAGS_ATIM_NOW)
            || both(witx::FSTFLAGS_MTIM, witx::FSTFLAGS_MTIM_NOW)
        {
            return fail(errno::INVAL);
        }
        Ok(fst)
    }

    /// The two new times `fstflags` asks for.
    pub(super) fn new_times(fst: u64, atim: i64, mtim: i64) -> (NewTime, NewTime) {
        (
            new_time(fst, witx::FSTFLAGS_ATIM, witx::FSTFLAGS_ATIM_NOW, atim),
            new_time(fst, witx::FSTFLAGS_MTIM, witx::FSTFLAGS_MTIM_NOW, mtim),
        )
    }

    /// `fd_filestat_set_times`: on a file or directory of a writable preopen.
    pub fn fd_filestat_set_times(&mut self, fd: i32, a: i64, m: i64, fst: i32) -> CallResult<()> {
        let fst = Self::fstflags(fst)?;
        let (mount, ino) = self.node(fd)?;
        self.writable(mount)?;
        let (atim, mtim) = Self::new_times(fst, a, m);
        let changes = (atim, mtim) != (NewTime::NoChange, NewTime::NoChange);
        if let Descriptor::Dir(DirHandle { preopen: true, .. }) = self.open(fd)?
            && changes
        {
            // Stock opens a preopened directory `O_PATH`: `futimens` on it
            // is `EBADF` unless it changes nothing.
            return fail(errno::BADF);
        }
        let now = self.fds.now();
        let tree = self.fds.tree_mut(mount);
        tree.set_times(ino, atim, mtim, now).map_err(fs_err)
    }

    /// `fd_read`: the first non-empty iovec only, as stock does. A file is
    /// read at its position (the buffer is checked first, even at the end
    /// of the file); a file not opened for reading is `EBADF`.
    pub fn fd_read(&mut self, fd: i32, iovs: i32, count: i32, out: i32) -> CallResult<()> {
        let (buf, len) = self
            .guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        let read = match self.open(fd)? {
            Descriptor::Stdin if self.fds.stdin_left() => {
                if len == 0 {
                    return fail(errno::INTR);
                }
                self.fds.read_stdin(len as usize).to_vec()
            }
            Descriptor::Stdin => Vec::new(),
            Descriptor::File(f) => {
                self.guest.slice(buf, len)?;
                let n = self.read_file(&f, f.position, buf, len)?;
                self.set_position(fd, f.position + n as u64);
                return self.guest.write_u32(out as u32, n);
            }
            _ => return fail(errno::BADF),
        };
        self.guest.write_bytes(buf, &read)?;
        self.guest.write_u32(out as u32, read.len() as u32)
    }

    /// Reads file `f` at `offset` into guest bytes `[buf, buf + len)`, with
    /// Linux's checks: a negative offset is `EINVAL`, a handle not open for
    /// reading `EBADF`.
    fn read_file(&mut self, f: &FileHandle, offset: u64, buf: u32, len: u32) -> CallResult<u32> {
        check_transfer(Some(offset), u64::from(len), f.read).map_err(fs_err)?;
        let mut bytes = vec![0; len as usize];
        let tree = &self.fds.mount(f.mount).tree;
        let n = tree.read_at(f.ino, offset, &mut bytes).map_err(fs_err)?;
        self.guest.write_bytes(buf, &bytes[..n])?;
        Ok(n as u32)
    }

    /// `fd_pread`: a file is read at `at` (at most 64 KiB, as stock's file
    /// stream reads), its position unchanged; stdin cannot seek.
    pub fn fd_pread(
        &mut self,
        fd: i32,
        iovs: i32,
        count: i32,
        at: i64,
        out: i32,
    ) -> CallResult<()> {
        let (buf, len) = self
            .guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        match self.open(fd)? {
            Descriptor::Stdin => fail(errno::SPIPE),
            Descriptor::File(f) => {
                let len = len.min(MAX_PREAD);
                let n = self.read_file(&f, at as u64, buf, len)?;
                self.guest.write_u32(out as u32, n)
            }
            _ => fail(errno::BADF),
        }
    }

    /// `fd_write`: the first non-empty ciovec only, as stock does. A write
    /// to captured output that does not fit keeps what fitted and answers
    /// `EIO`. A file is written at its position (or at its end with
    /// `APPEND`), which then moves past the bytes written.
    pub fn fd_write(&mut self, fd: i32, iovs: i32, count: i32, out: i32) -> CallResult<()> {
        let (buf, len) = self
            .guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        let stream = self.open(fd)?;
        match stream {
            Descriptor::Stdout | Descriptor::Stderr => {
                let bytes = self.guest.slice(buf, len)?;
                if !self.fds.write_output(stream, bytes) {
                    return fail(errno::IO);
                }
                self.guest.write_u32(out as u32, len)
            }
            Descriptor::File(f) => {
                let n = self.write_file(&f, None, buf, len)?;
                let position = if f.append {
                    self.fds
                        .mount(f.mount)
                        .tree
                        .stat(f.ino)
                        .map_err(fs_err)?
                        .size
                } else {
                    f.position + u64::from(n)
                };
                self.set_position(fd, position);
                self.guest.write_u32(out as u32, n)
            }
            _ => fail(errno::BADF),
        }
    }

    /// Writes guest bytes `[buf, buf + len)` to file `f`: at its end with
    /// `APPEND`, else at `at` (or its position).
    fn write_file(
        &mut self,
        f: &FileHandle,
        at: Option<u64>,
        buf: u32,
        len: u32,
    ) -> CallResult<u32> {
        // Guest memory and the table are separate fields: the tree writes
        // straight from guest memory, without a copy.
        let bytes = self.guest.slice(buf, len)?;
        let offset = at.unwrap_or(f.position);
        let at = (!f.append).then_some(offset);
        check_transfer(at, u64::from(len), f.write).map_err(fs_err)?;
        let now = self.fds.now();
        let tree = self.fds.tree_mut(f.mount);
        let n = if f.append {
            tree.append(f.ino, bytes, now)
        } else {
            tree.write_at(f.ino, offset, bytes, now)
        };
        n.map(|n| n as u32).map_err(fs_err)
    }

    /// `fd_pwrite`: a file is written at `at` (at its end with `APPEND`, as
    /// Linux), its position unchanged; stdout and stderr cannot seek.
    pub fn fd_pwrite(
        &mut self,
        fd: i32,
        iovs: i32,
        count: i32,
        at: i64,
        out: i32,
    ) -> CallResult<()> {
        let (buf, len) = self
            .guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        match self.open(fd)? {
            Descriptor::Stdout | Descriptor::Stderr => fail(errno::SPIPE),
            Descriptor::File(f) => {
                let n = self.write_file(&f, Some(at as u64), buf, len)?;
                self.guest.write_u32(out as u32, n)
            }
            _ => fail(errno::BADF),
        }
    }

    /// `fd_prestat_get`: a preopened directory and the length of its name.
    pub fn fd_prestat_get(&mut self, fd: i32, out: i32) -> CallResult<()> {
        let Descriptor::Dir(d @ DirHandle { preopen: true, .. }) = self.open(fd)? else {
            return fail(errno::BADF);
        };
        let len = self.fds.mount(d.mount).guest_path.len() as u32;
        let out = out as u32;
        self.guest.write_field(out, 0, [0u8])?; // tag: dir
        self.guest.write_field(out, 4, len.to_le_bytes())
    }

    /// `fd_prestat_dir_name`: `ENAMETOOLONG` if the name does not fit.
    pub fn fd_prestat_dir_name(&mut self, fd: i32, path: i32, len: i32) -> CallResult<()> {
        let Descriptor::Dir(d @ DirHandle { preopen: true, .. }) = self.open(fd)? else {
            return fail(errno::NOTDIR);
        };
        let name = self.fds.mount(d.mount).guest_path.clone();
        if name.len() > len as u32 as usize {
            return fail(errno::NAMETOOLONG);
        }
        self.guest.write_bytes(path as u32, name.as_bytes())
    }

    /// `fd_renumber`.
    pub fn fd_renumber(&mut self, from: i32, to: i32) -> CallResult<()> {
        if self.fds.renumber(from as u32, to as u32) {
            Ok(())
        } else {
            fail(errno::BADF)
        }
    }

    /// `fd_seek` (preview0 numbers `whence` differently: CUR, END, SET).
    pub fn fd_seek(&mut self, fd: i32, offset: i64, whence: i32, out: i32) -> CallResult<()> {
        let whence = enum8("whence", whence, witx::WHENCE_CASES)?;
        // As preview1's numbers: 0 SET, 1 CUR, 2 END.
        let whence = match self.layout {
            Layout::Preview1 => whence,
            Layout::Preview0 => [1, 2, 0][whence as usize],
        };
        let f = self.seekable(fd)?;
        let position = match whence {
            0 if offset >= 0 => Some(offset as u64),
            1 => f.position.checked_add_signed(offset),
            2 => {
                let size = self
                    .fds
                    .mount(f.mount)
                    .tree
                    .stat(f.ino)
                    .map_err(fs_err)?
                    .size;
                size.checked_add_signed(offset)
            }
            _ => None,
        };
        let Some(position) = position else {
            return fail(errno::INVAL);
        };
        self.set_position(fd, position);
        self.guest
            .write_field(out as u32, 0, position.to_le_bytes())
    }

    /// `fd_tell`: stdio cannot seek.
    pub fn fd_tell(&mut self, fd: i32, out: i32) -> CallResult<()> {
        let f = self.seekable(fd)?;
        self.guest
            .write_field(out as u32, 0, f.position.to_le_bytes())
    }

    /// `fd_readdir`: `.`, `..`, then the entries in name byte order (the
    /// [listing rule](crate::fs#the-rules-written-once)), from `cookie`, as
    /// 24-byte dirents each followed by its name, the last one cut short if
    /// the buffer ends (stock's truncation); returns the bytes written.
    pub fn fd_readdir(
        &mut self,
        fd: i32,
        buf: i32,
        len: i32,
        cookie: i64,
        out: i32,
    ) -> CallResult<()> {
        let d = self.dir(fd)?;
        let entries = self.fds.mount(d.mount).tree.list(d.ino).map_err(fs_err)?;
        let (mut ptr, len) = (buf as u32, len as u32);
        let mut cap = len;
        // A cookie past `usize` (a 32-bit host) is EOVERFLOW, as in stock.
        let skip = usize::try_from(cookie as u64).or_else(|_| fail(errno::OVERFLOW))?;
        for entry in entries.iter().skip(skip) {
            let mut dirent = [0u8; 24];
            dirent[0..8].copy_from_slice(&(entry.cookie + 1).to_le_bytes());
            dirent[8..16].copy_from_slice(&entry.ino.to_le_bytes());
            dirent[16..20].copy_from_slice(&(entry.name.len() as u32).to_le_bytes());
            dirent[20] = filetype(entry.filetype);
            for part in [&dirent[..], &entry.name[..]] {
                let n = cap.min(part.len() as u32);
                self.guest.write_bytes(ptr, &part[..n as usize])?;
                ptr = ptr.wrapping_add(n);
                cap -= n;
                if cap == 0 {
                    return self.guest.write_u32(out as u32, len);
                }
            }
        }
        self.guest.write_u32(out as u32, len - cap)
    }

    /// `sock_accept`.
    pub fn sock_accept(&mut self, fd: i32, fdflags: i32) -> CallResult<()> {
        flags16("fdflags", fdflags, witx::FDFLAGS)?;
        self.not_a_socket(fd)
    }

    /// `sock_recv`.
    pub fn sock_recv(&mut self, fd: i32, riflags: i32) -> CallResult<()> {
        flags16("riflags", riflags, witx::RIFLAGS)?;
        self.not_a_socket(fd)
    }

    /// `sock_send`.
    pub fn sock_send(&mut self, fd: i32, siflags: i32) -> CallResult<()> {
        // `siflags` is a plain u16 in the witx, not a flag set.
        u16::try_from(siflags)
            .map_err(|_| trap(format!("siflags: {siflags} does not fit in u16")))?;
        self.not_a_socket(fd)
    }

    /// `sock_shutdown`.
    pub fn sock_shutdown(&mut self, fd: i32, how: i32) -> CallResult<()> {
        let how =
            u8::try_from(how).map_err(|_| trap(format!("sdflags: {how} does not fit in u8")))?;
        flags("sdflags", u64::from(how), witx::SDFLAGS)?;
        self.not_a_socket(fd)
    }

    /// No descriptor is a socket: `ENOTSOCK` if open, else `EBADF`. Under
    /// preview0, as stock has it, every socket call traps.
    fn not_a_socket(&mut self, fd: i32) -> CallResult<()> {
        if self.layout == Layout::Preview0 {
            return Err(trap("socket calls are unsupported in preview0"));
        }
        self.open(fd)?;
        fail(errno::NOTSOCK)
    }

    /// `proc_raise`: not supported (after the signal is decoded).
    pub fn proc_raise(&mut self, signal: i32) -> CallResult<()> {
        enum8("signal", signal, witx::SIGNAL_CASES)?;
        fail(errno::NOTSUP)
    }
}

/// The most bytes one `fd_pread` returns (stock reads a file stream in
/// allocations of at most 64 KiB).
const MAX_PREAD: u32 = 64 * 1024;
