//! Guest memory as stock `wasmtime-wasi` (wiggle) reads and writes it.
//!
//! Out-of-bounds, overflowing and misaligned pointers trap; a structure is
//! written field by field, each field checked on its own, so a record that
//! runs off the end of memory has its leading fields written before the trap
//! (as wiggle's generated writers do). Buffers the host copies count against
//! the Store's per-call budget (`Store::hostcall_fuel`): past it the call
//! answers `ENOMEM`.

use std::fmt;
use std::ops::Range;

/// How a call that did not succeed ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The guest gets this errno.
    Errno(u16),
    /// The call traps with this message.
    Trap(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Errno(errno) => write!(f, "errno {errno}"),
            Failure::Trap(why) => f.write_str(why),
        }
    }
}

/// Errno values (identical in preview0 and preview1).
pub mod errno {
    /// Bad file descriptor.
    pub const BADF: u16 = 8;
    /// Interrupted.
    pub const INTR: u16 = 27;
    /// Invalid argument.
    pub const INVAL: u16 = 28;
    /// I/O error.
    pub const IO: u16 = 29;
    /// Too many open files.
    pub const MFILE: u16 = 33;
    /// Name too long.
    pub const NAMETOOLONG: u16 = 37;
    /// Out of memory (the host-call budget).
    pub const NOMEM: u16 = 48;
    /// Not a directory.
    pub const NOTDIR: u16 = 54;
    /// Not a socket.
    pub const NOTSOCK: u16 = 57;
    /// Not supported.
    pub const NOTSUP: u16 = 58;
    /// Value too large (a cookie past the host's `usize`).
    pub const OVERFLOW: u16 = 61;
    /// Operation not permitted (a read-only preopen).
    pub const PERM: u16 = 63;
    /// Invalid seek.
    pub const SPIPE: u16 = 70;
    /// Cross-device link (between two preopens).
    pub const XDEV: u16 = 75;
    /// Illegal byte sequence (a path that is not UTF-8).
    pub const ILSEQ: u16 = 25;
}

/// A call's result: `Ok` carries what is written back (if anything).
pub type CallResult<T> = Result<T, Failure>;

/// Shorthand for an errno failure.
pub fn fail<T>(errno: u16) -> CallResult<T> {
    Err(Failure::Errno(errno))
}

/// One call's view of guest memory and of its host-call budget; the ranges
/// it writes go to the tracer when it is dropped (see
/// [`WriteLog`](crate::writes::WriteLog)).
pub struct Guest<'a> {
    bytes: &'a mut [u8],
    budget: usize,
    log: crate::writes::WriteLog,
}

impl<'a> Guest<'a> {
    /// Wraps a memory's bytes with the call's budget; the ranges written
    /// are noted in `log`.
    pub fn new(bytes: &'a mut [u8], budget: usize, log: crate::writes::WriteLog) -> Self {
        Guest { bytes, budget, log }
    }

    /// The bytes `[ptr, ptr + len)`, checked for overflow, bounds and `align`.
    fn range(&self, ptr: u32, len: u32, align: u32) -> CallResult<Range<usize>> {
        let Some(end) = ptr.checked_add(len) else {
            return Err(trap(format!("pointer {ptr:#x} + {len} overflows")));
        };
        if !ptr.is_multiple_of(align) {
            return Err(trap(format!("pointer {ptr:#x} is not aligned to {align}")));
        }
        if end as usize > self.bytes.len() {
            return Err(trap(format!(
                "out-of-bounds access of {len} bytes at {ptr:#x} (memory is {} bytes)",
                self.bytes.len()
            )));
        }
        Ok(ptr as usize..end as usize)
    }

    /// Charges `bytes` to the call's budget: `ENOMEM` past it.
    pub fn charge(&mut self, bytes: u64) -> CallResult<()> {
        match usize::try_from(bytes) {
            Ok(bytes) if bytes <= self.budget => {
                self.budget -= bytes;
                Ok(())
            }
            _ => fail(errno::NOMEM),
        }
    }

    /// Reads a little-endian `u32` (aligned to 4).
    pub fn read_u32(&self, ptr: u32) -> CallResult<u32> {
        let range = self.range(ptr, 4, 4)?;
        let mut word = [0; 4];
        word.copy_from_slice(&self.bytes[range]);
        Ok(u32::from_le_bytes(word))
    }

    /// The guest bytes `[ptr, ptr + len)`.
    pub fn slice(&self, ptr: u32, len: u32) -> CallResult<&[u8]> {
        let range = self.range(ptr, len, 1)?;
        Ok(&self.bytes[range])
    }

    /// Copies `bytes` to `ptr`. Copying nothing checks nothing, as in
    /// wiggle: an empty read into an out-of-bounds buffer succeeds.
    pub fn write_bytes(&mut self, ptr: u32, bytes: &[u8]) -> CallResult<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let len = u32::try_from(bytes.len()).map_err(|_| trap("write longer than 4 GiB"))?;
        let range = self.range(ptr, len, 1)?;
        self.bytes[range].copy_from_slice(bytes);
        self.log.note(ptr, len);
        Ok(())
    }

    /// Writes one little-endian field of `N` bytes (aligned to `N`) at
    /// `base + offset`.
    pub fn write_field<const N: usize>(
        &mut self,
        base: u32,
        offset: u32,
        value: [u8; N],
    ) -> CallResult<()> {
        let ptr = base
            .checked_add(offset)
            .ok_or_else(|| trap(format!("pointer {base:#x} + {offset} overflows")))?;
        let range = self.range(ptr, N as u32, N as u32)?;
        self.bytes[range].copy_from_slice(&value);
        self.log.note(ptr, N as u32);
        Ok(())
    }

    /// Writes a `u32` result (such as a size or an fd) at `ptr`.
    pub fn write_u32(&mut self, ptr: u32, value: u32) -> CallResult<()> {
        self.write_field(ptr, 0, value.to_le_bytes())
    }

    /// The first non-empty buffer of the `count` (i)ovecs at `iovs`, as
    /// `(ptr, len)` (`(0, 0)` when all are empty). Charges the array and that
    /// buffer to the budget; reads each iovec (8 bytes, aligned to 4) until
    /// it finds one, so a bad pointer among them traps. The buffer itself is
    /// not checked here.
    pub fn first_non_empty_iovec(&mut self, iovs: u32, count: u32) -> CallResult<(u32, u32)> {
        self.charge(u64::from(count) * 8)?;
        for i in 0..count {
            let ptr = i
                .checked_mul(8)
                .and_then(|offset| iovs.checked_add(offset))
                .ok_or_else(|| trap("iovec array overflows memory"))?;
            self.range(ptr, 8, 4)?;
            let (buf, len) = (self.read_u32(ptr)?, self.read_u32(ptr + 4)?);
            if len == 0 {
                continue;
            }
            self.charge(u64::from(len))?;
            return Ok((buf, len));
        }
        Ok((0, 0))
    }
}

/// A trap with this message.
pub fn trap(why: impl Into<String>) -> Failure {
    Failure::Trap(why.into())
}
