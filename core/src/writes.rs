//! Where a call wrote guest memory: a [`WriteLog`] of `(offset, len)`
//! ranges, for a tracer that records exactly the bytes a call wrote.
//!
//! The rules that write guest memory ([`Guest`](crate::fd::Guest),
//! [`GuestMemory`](crate::sched::abi::GuestMemory)) note each range as they
//! write it. A log built with [`WriteLog::off`] notes nothing and costs
//! nothing; one built with [`WriteLog::reporting_to`] hands its ranges to
//! the given function when it is dropped, once the call is over. How the
//! ranges reach a tracer is the adapter's business.

/// The ranges written by one call, as `(offset, len)`, in the order of their
/// first byte's write; a write starting where one of the last two ranges
/// ends extends that range (a record's adjacent fields, a buffer filled in
/// pieces, and `args_get`'s pointer table and strings, written in turn).
pub type Ranges = Vec<(u32, u32)>;

/// One call's written ranges, handed to its reporter when dropped.
///
/// Empty writes are not noted; nothing is noted (or allocated) by a log
/// that is [`off`](Self::off).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::writes::{Ranges, WriteLog};
/// use std::sync::Mutex;
///
/// static SEEN: Mutex<Vec<Ranges>> = Mutex::new(Vec::new());
/// let mut log = WriteLog::reporting_to(|ranges| SEEN.lock().unwrap().push(ranges));
/// log.note(0, 4);
/// log.note(4, 4); // adjacent: one range
/// log.note(64, 2);
/// drop(log);
/// assert_eq!(SEEN.lock().unwrap()[0], [(0, 8), (64, 2)]);
/// ```
#[derive(Debug)]
pub struct WriteLog {
    ranges: Option<Ranges>,
    report: fn(Ranges),
}

impl WriteLog {
    /// A log that notes nothing (no tracer is collecting).
    pub fn off() -> Self {
        WriteLog {
            ranges: None,
            report: |_| {},
        }
    }

    /// A log that notes every write and hands the ranges to `report` when
    /// it is dropped.
    pub fn reporting_to(report: fn(Ranges)) -> Self {
        WriteLog {
            ranges: Some(Vec::new()),
            report,
        }
    }

    /// Notes that `len` bytes were written at `offset`.
    pub fn note(&mut self, offset: u32, len: u32) {
        let Some(ranges) = &mut self.ranges else {
            return;
        };
        if len == 0 {
            return;
        }
        let start = ranges.len().saturating_sub(2);
        for (at, n) in ranges[start..].iter_mut().rev() {
            if at.checked_add(*n) == Some(offset)
                && let Some(longer) = n.checked_add(len)
            {
                *n = longer;
                return;
            }
        }
        ranges.push((offset, len));
    }
}

impl Drop for WriteLog {
    fn drop(&mut self) {
        if let Some(ranges) = self.ranges.take() {
            (self.report)(ranges);
        }
    }
}
