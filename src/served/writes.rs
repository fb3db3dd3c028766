//! Where a served function wrote guest memory, for the tracer.
//!
//! The tracer records what a call wrote, where it wrote it: the served
//! functions note each range as they write it (in [`Guest`](crate::fd::guest::Guest),
//! [`GuestMemory`](crate::sched::abi::GuestMemory) and the clock and random
//! stores) in a [`WriteLog`], which hands its ranges to the tracer's
//! collector ([`collect_writes`]) when the call is over. The tracer then
//! reads exactly those bytes: its work per call is bounded by what the call
//! really wrote, whatever lengths the guest passed.
//!
//! A log only notes when the tracer is collecting, so an untraced call pays
//! one thread-local read. The collector rides on the loan the tracer already
//! makes on the thread (`super::LENT`): a served function the tracer calls is
//! entered through wasmtime on its first call and through a proxy instance on
//! the proxied route, where no argument of the tracer's reaches it.

use super::LENT;

/// The ranges written by one call, as `(offset, len)`, in the order of their
/// first byte's write; a write starting where one of the last two ranges
/// ends extends that range (a record's adjacent fields, a buffer filled in
/// pieces, and `args_get`'s pointer table and strings, written in turn).
pub(crate) type Ranges = Vec<(u32, u32)>;

/// What the tracer collects during one call.
#[derive(Debug, Default)]
pub(super) struct Collected {
    /// Every range the served function reported.
    ranges: Ranges,
    /// Whether a served function reported at all (a function that is not
    /// the crate's reports nothing).
    reported: bool,
}

/// One served call's written ranges, handed to the tracer when dropped.
///
/// Empty writes are not noted; nothing is noted (or allocated) unless the
/// tracer is collecting.
#[derive(Debug)]
pub(crate) struct WriteLog {
    ranges: Option<Ranges>,
}

impl WriteLog {
    /// A log for the current call: noting if the tracer collects.
    pub(crate) fn for_this_call() -> Self {
        let collecting = LENT.with_borrow(|loan| loan.writes.is_some());
        WriteLog {
            ranges: collecting.then(Vec::new),
        }
    }

    /// Notes that `len` bytes were written at `offset`.
    pub(crate) fn note(&mut self, offset: u32, len: u32) {
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
        let Some(ranges) = self.ranges.take() else {
            return;
        };
        LENT.with_borrow_mut(|loan| {
            if let Some(collected) = &mut loan.writes {
                collected.reported = true;
                collected.ranges.extend(ranges);
            }
        });
    }
}

/// Runs `call` (the tracer calling one import) collecting what served
/// functions write; the ranges, if a served function reported (`None`: the
/// callee is not the crate's, and the tracer falls back to its table). The
/// previous collector is back afterwards, also when `call` unwinds.
pub(crate) fn collect_writes<R>(call: impl FnOnce() -> R) -> (R, Option<Ranges>) {
    struct Restore(Option<Option<Collected>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                LENT.with_borrow_mut(|loan| loan.writes = previous);
            }
        }
    }
    let previous = LENT.with_borrow_mut(|loan| loan.writes.replace(Collected::default()));
    let mut restore = Restore(Some(previous));
    let outcome = call();
    let collected = LENT.with_borrow_mut(|loan| loan.writes.take());
    if let Some(previous) = restore.0.take() {
        LENT.with_borrow_mut(|loan| loan.writes = previous);
    }
    let ranges = collected.and_then(|c| c.reported.then_some(c.ranges));
    (outcome, ranges)
}

#[cfg(test)]
mod tests {
    use super::{WriteLog, collect_writes};

    /// A log notes nothing outside a collection, and inside one hands over
    /// its merged ranges when dropped.
    #[test]
    fn a_log_reports_merged_ranges_only_while_collected() {
        let mut idle = WriteLog::for_this_call();
        idle.note(0, 4);
        assert!(idle.ranges.is_none());
        drop(idle);
        let ((), ranges) = collect_writes(|| {
            let mut log = WriteLog::for_this_call();
            // args_get's order: pointer, string, NUL, pointer, string, NUL.
            for (at, n) in [(0, 4), (64, 4), (68, 1), (4, 4), (69, 2), (71, 1)] {
                log.note(at, n);
            }
            log.note(200, 0);
            log.note(100, 8);
            log.note(100, 8);
        });
        assert_eq!(ranges, Some(vec![(0, 8), (64, 8), (100, 8), (100, 8)]));
        let ((), nothing) = collect_writes(|| ());
        assert_eq!(nothing, None);
        let ((), empty) = collect_writes(|| drop(WriteLog::for_this_call()));
        assert_eq!(empty, Some(vec![]));
    }
}
