//! The preview1 descriptor calls, one function each, in stock
//! `wasmtime-wasi`'s order of checks: argument decoding (a value that is not
//! a valid enum or flag set traps), then the host-call budget and the iovec
//! array, then the descriptor, then guest memory for the data, then the
//! results.

use super::guest::{CallResult, Guest, errno, fail, trap};
use super::table::{Descriptor, Descriptors};
use crate::sched::abi::Layout;

/// A flags argument: its bits must be within `valid` (else a trap).
fn flags(name: &str, value: u64, valid: u64) -> CallResult<u64> {
    if value & !valid != 0 {
        return Err(trap(format!("invalid flags value for {name}: {value:#x}")));
    }
    Ok(value)
}

/// A `u16` flags argument passed as an i32.
fn flags16(name: &str, value: i32, valid: u64) -> CallResult<u64> {
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
mod witx {
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
    pub const RIGHTS_FD_WRITE: u64 = 1 << 6;
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
    fn rights(&self, value: i64) -> CallResult<u64> {
        let valid = match self.layout {
            Layout::Preview1 => witx::RIGHTS_P1,
            Layout::Preview0 => witx::RIGHTS_P0,
        };
        flags("rights", value as u64, valid)
    }

    fn open(&self, fd: i32) -> CallResult<Descriptor> {
        match self.fds.get(fd as u32) {
            Some(d) => Ok(d),
            None => fail(errno::BADF),
        }
    }

    /// A descriptor that must be a file (there are none yet): `EBADF`.
    fn file(&self, _fd: i32) -> CallResult<()> {
        fail(errno::BADF)
    }

    /// A descriptor that must be a directory (there are none yet): `EBADF`.
    fn dir(&self, _fd: i32) -> CallResult<()> {
        fail(errno::BADF)
    }

    /// `fd_advise`.
    pub fn fd_advise(&mut self, fd: i32, _offset: i64, _len: i64, advice: i32) -> CallResult<()> {
        enum8("advice", advice, witx::ADVICE_CASES)?;
        self.file(fd)
    }

    /// `fd_allocate`.
    pub fn fd_allocate(&mut self, fd: i32, _offset: i64, _len: i64) -> CallResult<()> {
        self.file(fd)
    }

    /// `fd_close`.
    pub fn fd_close(&mut self, fd: i32) -> CallResult<()> {
        if self.fds.close(fd as u32) {
            Ok(())
        } else {
            fail(errno::BADF)
        }
    }

    /// `fd_datasync` and `fd_sync`.
    pub fn fd_sync(&mut self, fd: i32) -> CallResult<()> {
        self.file(fd)
    }

    /// `fd_fdstat_get`: stdio is not a terminal (filetype unknown), with
    /// only the right to read (stdin) or to write (stdout, stderr).
    pub fn fd_fdstat_get(&mut self, fd: i32, out: i32) -> CallResult<()> {
        let rights = match self.open(fd)? {
            Descriptor::Stdin => witx::RIGHTS_FD_READ,
            Descriptor::Stdout | Descriptor::Stderr => witx::RIGHTS_FD_WRITE,
        };
        let out = out as u32;
        self.guest.write_field(out, 0, [0u8])?; // filetype: unknown
        self.guest.write_field(out, 2, 0u16.to_le_bytes())?; // flags
        self.guest.write_field(out, 8, rights.to_le_bytes())?;
        self.guest.write_field(out, 16, rights.to_le_bytes())
    }

    /// `fd_fdstat_set_flags`.
    pub fn fd_fdstat_set_flags(&mut self, fd: i32, fdflags: i32) -> CallResult<()> {
        flags16("fdflags", fdflags, witx::FDFLAGS)?;
        self.file(fd)
    }

    /// `fd_fdstat_set_rights`.
    pub fn fd_fdstat_set_rights(&mut self, fd: i32, base: i64, inheriting: i64) -> CallResult<()> {
        self.rights(base)?;
        self.rights(inheriting)?;
        self.open(fd)?;
        // Stdio is not a file or directory.
        fail(errno::BADF)
    }

    /// `fd_filestat_get`: every field of a stdio descriptor is zero.
    pub fn fd_filestat_get(&mut self, fd: i32, out: i32) -> CallResult<()> {
        self.open(fd)?;
        self.write_filestat(out as u32)
    }

    /// Writes an all-zero filestat in this snapshot's layout, field by field.
    fn write_filestat(&mut self, out: u32) -> CallResult<()> {
        let zero = 0u64.to_le_bytes();
        self.guest.write_field(out, 0, zero)?; // dev
        self.guest.write_field(out, 8, zero)?; // ino
        self.guest.write_field(out, 16, [0u8])?; // filetype: unknown
        let rest: &[u32] = match self.layout {
            Layout::Preview1 => {
                self.guest.write_field(out, 24, zero)?; // nlink: u64
                &[32, 40, 48, 56]
            }
            Layout::Preview0 => {
                self.guest.write_field(out, 20, 0u32.to_le_bytes())?; // nlink: u32
                &[24, 32, 40, 48]
            }
        };
        for &offset in rest {
            self.guest.write_field(out, offset, zero)?; // size, atim, mtim, ctim
        }
        Ok(())
    }

    /// `fd_filestat_set_size`.
    pub fn fd_filestat_set_size(&mut self, fd: i32, _size: i64) -> CallResult<()> {
        self.file(fd)
    }

    /// Checks a `fstflags` argument: a time cannot be both given and `NOW`.
    fn fstflags(fst: i32) -> CallResult<()> {
        let fst = flags16("fstflags", fst, witx::FSTFLAGS)?;
        let both = |set, now| fst & set != 0 && fst & now != 0;
        if both(witx::FSTFLAGS_ATIM, witx::FSTFLAGS_ATIM_NOW)
            || both(witx::FSTFLAGS_MTIM, witx::FSTFLAGS_MTIM_NOW)
        {
            return fail(errno::INVAL);
        }
        Ok(())
    }

    /// `fd_filestat_set_times`.
    pub fn fd_filestat_set_times(&mut self, fd: i32, _a: i64, _m: i64, fst: i32) -> CallResult<()> {
        Self::fstflags(fst)?;
        self.open(fd)?;
        fail(errno::BADF)
    }

    /// `fd_read`: the first non-empty iovec only, as stock does.
    pub fn fd_read(&mut self, fd: i32, iovs: i32, count: i32, out: i32) -> CallResult<()> {
        let (buf, len) = self
            .guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        if self.open(fd)? != Descriptor::Stdin {
            return fail(errno::BADF);
        }
        let read = if self.fds.stdin_left() {
            if len == 0 {
                return fail(errno::INTR);
            }
            self.fds.read_stdin(len as usize).to_vec()
        } else {
            Vec::new()
        };
        self.guest.write_bytes(buf, &read)?;
        self.guest.write_u32(out as u32, read.len() as u32)
    }

    /// `fd_pread`: stdin cannot seek.
    pub fn fd_pread(
        &mut self,
        fd: i32,
        iovs: i32,
        count: i32,
        _at: i64,
        _out: i32,
    ) -> CallResult<()> {
        self.guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        match self.open(fd)? {
            Descriptor::Stdin => fail(errno::SPIPE),
            _ => fail(errno::BADF),
        }
    }

    /// `fd_write`: the first non-empty ciovec only, as stock does. A write
    /// that does not fit in the captured output keeps what fitted and
    /// answers `EIO`.
    pub fn fd_write(&mut self, fd: i32, iovs: i32, count: i32, out: i32) -> CallResult<()> {
        let (buf, len) = self
            .guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        let stream = self.open(fd)?;
        if stream == Descriptor::Stdin {
            return fail(errno::BADF);
        }
        let bytes = self.guest.slice(buf, len)?;
        if !self.fds.write_output(stream, bytes) {
            return fail(errno::IO);
        }
        self.guest.write_u32(out as u32, len)
    }

    /// `fd_pwrite`: stdout and stderr cannot seek.
    pub fn fd_pwrite(
        &mut self,
        fd: i32,
        iovs: i32,
        count: i32,
        _at: i64,
        _out: i32,
    ) -> CallResult<()> {
        self.guest
            .first_non_empty_iovec(iovs as u32, count as u32)?;
        match self.open(fd)? {
            Descriptor::Stdout | Descriptor::Stderr => fail(errno::SPIPE),
            Descriptor::Stdin => fail(errno::BADF),
        }
    }

    /// `fd_prestat_get`: nothing is preopened.
    pub fn fd_prestat_get(&mut self, fd: i32, _out: i32) -> CallResult<()> {
        self.open(fd)?;
        fail(errno::BADF)
    }

    /// `fd_prestat_dir_name`.
    pub fn fd_prestat_dir_name(&mut self, fd: i32, _path: i32, _len: i32) -> CallResult<()> {
        self.open(fd)?;
        fail(errno::NOTDIR)
    }

    /// `fd_renumber`.
    pub fn fd_renumber(&mut self, from: i32, to: i32) -> CallResult<()> {
        if self.fds.renumber(from as u32, to as u32) {
            Ok(())
        } else {
            fail(errno::BADF)
        }
    }

    /// `fd_seek` (the whence values differ between snapshots; both have three).
    pub fn fd_seek(&mut self, fd: i32, _offset: i64, whence: i32, _out: i32) -> CallResult<()> {
        enum8("whence", whence, witx::WHENCE_CASES)?;
        self.fd_tell(fd, 0)
    }

    /// `fd_tell`: stdio cannot seek.
    pub fn fd_tell(&mut self, fd: i32, _out: i32) -> CallResult<()> {
        self.open(fd)?;
        fail(errno::SPIPE)
    }

    /// `fd_readdir`.
    pub fn fd_readdir(
        &mut self,
        fd: i32,
        _buf: i32,
        _len: i32,
        _cookie: i64,
        _out: i32,
    ) -> CallResult<()> {
        self.dir(fd)
    }

    /// `path_create_directory`, `path_readlink`, `path_remove_directory`,
    /// `path_unlink_file`: the directory is looked up first.
    pub fn path_in_dir(&mut self, fd: i32) -> CallResult<()> {
        self.dir(fd)
    }

    /// `path_filestat_get`.
    pub fn path_filestat_get(&mut self, fd: i32, lookup: i32) -> CallResult<()> {
        flags("lookupflags", u64::from(lookup as u32), witx::LOOKUPFLAGS)?;
        self.dir(fd)
    }

    /// `path_filestat_set_times`.
    pub fn path_filestat_set_times(&mut self, fd: i32, lookup: i32, fst: i32) -> CallResult<()> {
        flags("lookupflags", u64::from(lookup as u32), witx::LOOKUPFLAGS)?;
        Self::fstflags(fst)?;
        self.dir(fd)
    }

    /// `path_link`: both directories are looked up before either path.
    pub fn path_link(&mut self, from: i32, lookup: i32, to: i32) -> CallResult<()> {
        flags("lookupflags", u64::from(lookup as u32), witx::LOOKUPFLAGS)?;
        self.dir(from)?;
        self.dir(to)
    }

    /// `path_rename`.
    pub fn path_rename(&mut self, from: i32, to: i32) -> CallResult<()> {
        self.dir(from)?;
        self.dir(to)
    }

    /// `path_symlink`.
    pub fn path_symlink(&mut self, fd: i32) -> CallResult<()> {
        self.dir(fd)
    }

    /// `path_open`: the path is read before the directory is looked up.
    #[allow(clippy::too_many_arguments)]
    pub fn path_open(
        &mut self,
        fd: i32,
        lookup: i32,
        path: i32,
        path_len: i32,
        oflags: i32,
        base: i64,
        inheriting: i64,
        fdflags: i32,
    ) -> CallResult<()> {
        flags("lookupflags", u64::from(lookup as u32), witx::LOOKUPFLAGS)?;
        flags16("oflags", oflags, witx::OFLAGS)?;
        self.rights(base)?;
        self.rights(inheriting)?;
        flags16("fdflags", fdflags, witx::FDFLAGS)?;
        self.read_path(path, path_len)?;
        self.open(fd)?;
        fail(errno::BADF)
    }

    /// Reads a path argument: charged to the budget, then checked for bounds
    /// and UTF-8 (`EILSEQ`).
    fn read_path(&mut self, ptr: i32, len: i32) -> CallResult<String> {
        self.guest.charge(u64::from(len as u32))?;
        let bytes = self.guest.slice(ptr as u32, len as u32)?;
        match std::str::from_utf8(bytes) {
            Ok(path) => Ok(path.to_string()),
            Err(_) => fail(ILSEQ),
        }
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

/// Illegal byte sequence (a path that is not UTF-8).
const ILSEQ: u16 = 25;
