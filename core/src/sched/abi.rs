//! The preview1 / preview0 `poll_oneoff` ABI, read and written explicitly.
//!
//! Layouts (little-endian, from the witx definitions):
//!
//! | record | preview1 (`wasi_snapshot_preview1`) | preview0 (`wasi_unstable`) |
//! |---|---|---|
//! | subscription | 48 bytes, align 8: userdata u64 @0, tag u8 @8, payload @16 | 56 bytes: as preview1, but the clock payload starts with an extra u64 `identifier` |
//! | clock payload | id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40 | identifier u64 @16, id u32 @24, timeout u64 @32, precision u64 @40, flags u16 @48 |
//! | fd payload | fd u32 @16 | fd u32 @16 |
//! | event | 32 bytes, align 8: userdata u64 @0, errno u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24 | same |
//!
//! Every access is bounds- and alignment-checked; a violation is a trap, as the
//! witx pointer rules require.

/// WASI errno values used by the scheduler (identical in preview0 and preview1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    /// No error.
    Success = 0,
    /// Bad file descriptor.
    Badf = 8,
    /// Invalid argument.
    Inval = 28,
    /// Not supported.
    Notsup = 58,
}

/// Why a scheduling call did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollError {
    /// The call returns this errno to the guest.
    Errno(Errno),
    /// The call traps with this message (bad pointer, missing memory).
    Trap(String),
}

/// Which snapshot's layout to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `wasi_snapshot_preview1`.
    Preview1,
    /// `wasi_unstable`.
    Preview0,
}

impl Layout {
    /// Size in bytes of one subscription record.
    pub fn subscription_size(self) -> u32 {
        match self {
            Layout::Preview1 => 48,
            Layout::Preview0 => 56,
        }
    }

    fn clock_offset(self) -> u32 {
        match self {
            Layout::Preview1 => 16,
            Layout::Preview0 => 24,
        }
    }
}

/// Size in bytes of one event record.
pub const EVENT_SIZE: u32 = 32;

/// Event and subscription tags.
pub const TAG_CLOCK: u8 = 0;
/// `fd_read` tag.
pub const TAG_FD_READ: u8 = 1;
/// `fd_write` tag.
pub const TAG_FD_WRITE: u8 = 2;
/// `subscription_clock_abstime`.
pub const ABSTIME: u16 = 1;

/// One decoded subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Guest-chosen identifier, copied into the event.
    pub userdata: u64,
    /// What is awaited.
    pub kind: SubscriptionKind,
}

/// The awaited condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// A clock reaching a time.
    Clock {
        /// Clock id (0 realtime, 1 monotonic, 2 process, 3 thread).
        id: u32,
        /// Relative timeout or absolute deadline in nanoseconds.
        timeout: u64,
        /// Whether `timeout` is absolute.
        absolute: bool,
    },
    /// A descriptor becoming readable.
    FdRead(u32),
    /// A descriptor becoming writable.
    FdWrite(u32),
}

/// One event to write back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// From the subscription.
    pub userdata: u64,
    /// Per-event error.
    pub errno: Errno,
    /// Event type tag (same values as the subscription tags).
    pub kind: u8,
    /// Bytes available (fd events).
    pub nbytes: u64,
    /// `fd_readwrite_hangup` etc.
    pub flags: u16,
}

/// Guest linear memory with checked little-endian access. When the crate's
/// tracer is collecting, the ranges written go to it when this is dropped.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
    log: crate::writes::WriteLog,
}

impl<'a> GuestMemory<'a> {
    /// Wraps a memory's bytes; the ranges written are noted in `log`.
    pub fn new(bytes: &'a mut [u8], log: crate::writes::WriteLog) -> Self {
        GuestMemory { bytes, log }
    }

    fn range(&self, ptr: u32, len: u32, align: u32) -> Result<std::ops::Range<usize>, PollError> {
        if !ptr.is_multiple_of(align) {
            return Err(PollError::Trap(format!(
                "pointer {ptr:#x} is not aligned to {align}"
            )));
        }
        // In u64: on a 32-bit host `usize` addition could wrap.
        let end = u64::from(ptr) + u64::from(len);
        if end > self.bytes.len() as u64 {
            return Err(PollError::Trap(format!(
                "out-of-bounds access of {len} bytes at {ptr:#x} (memory is {} bytes)",
                self.bytes.len()
            )));
        }
        // Both fit in `usize`: `end` is at most the memory's length.
        Ok(ptr as usize..end as usize)
    }

    fn read<const N: usize>(&self, ptr: u32) -> [u8; N] {
        let start = ptr as usize;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[start..start + N]);
        out
    }

    /// Reads subscription `index` of the array at `base`.
    pub fn read_subscription(
        &self,
        layout: Layout,
        base: u32,
        index: u32,
    ) -> Result<Subscription, PollError> {
        let size = layout.subscription_size();
        let ptr = index
            .checked_mul(size)
            .and_then(|off| base.checked_add(off))
            .ok_or_else(|| PollError::Trap("subscription array overflows memory".into()))?;
        self.range(ptr, size, 8)?;
        let userdata = u64::from_le_bytes(self.read(ptr));
        let tag = self.read::<1>(ptr + 8)[0];
        let kind = match tag {
            TAG_CLOCK => {
                let c = ptr + layout.clock_offset();
                let id = u32::from_le_bytes(self.read(c));
                let timeout = u64::from_le_bytes(self.read(c + 8));
                let flags = u16::from_le_bytes(self.read(c + 24));
                if id > 3 || flags & !ABSTIME != 0 {
                    return Err(PollError::Errno(Errno::Inval));
                }
                SubscriptionKind::Clock {
                    id,
                    timeout,
                    absolute: flags & ABSTIME != 0,
                }
            }
            TAG_FD_READ => SubscriptionKind::FdRead(u32::from_le_bytes(self.read(ptr + 16))),
            TAG_FD_WRITE => SubscriptionKind::FdWrite(u32::from_le_bytes(self.read(ptr + 16))),
            _ => return Err(PollError::Errno(Errno::Inval)),
        };
        Ok(Subscription { userdata, kind })
    }

    /// Writes event `index` of the array at `base`: its fields only, leaving
    /// the padding bytes (11..16 and 26..32) as they were, as wiggle's
    /// generated writer does, so both backends leave identical memory.
    pub fn write_event(&mut self, base: u32, index: u32, event: &Event) -> Result<(), PollError> {
        let ptr = index
            .checked_mul(EVENT_SIZE)
            .and_then(|off| base.checked_add(off))
            .ok_or_else(|| PollError::Trap("event array overflows memory".into()))?;
        let range = self.range(ptr, EVENT_SIZE, 8)?;
        let record = &mut self.bytes[range];
        record[0..8].copy_from_slice(&event.userdata.to_le_bytes());
        record[8..10].copy_from_slice(&(event.errno as u16).to_le_bytes());
        record[10] = event.kind;
        record[16..24].copy_from_slice(&event.nbytes.to_le_bytes());
        record[24..26].copy_from_slice(&event.flags.to_le_bytes());
        self.log.note(ptr, 11);
        self.log.note(ptr + 16, 10);
        Ok(())
    }

    /// Writes a 4-byte `size` result (such as `nevents`); touches exactly 4 bytes.
    pub fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), PollError> {
        let range = self.range(ptr, 4, 4)?;
        self.bytes[range].copy_from_slice(&value.to_le_bytes());
        self.log.note(ptr, 4);
        Ok(())
    }
}
