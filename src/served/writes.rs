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

pub(crate) use deterministic_wasi_ctx_core::writes::{Ranges, WriteLog};

/// What the tracer collects during one call.
#[derive(Debug, Default)]
pub(super) struct Collected {
    /// Every range the served function reported.
    ranges: Ranges,
    /// Whether a served function reported at all (a function that is not
    /// the crate's reports nothing).
    reported: bool,
}

/// A log for the current call: noting if the tracer collects on this
/// thread, and then handing its ranges to the collector when dropped.
pub(crate) fn write_log() -> WriteLog {
    if LENT.with_borrow(|loan| loan.writes.is_some()) {
        WriteLog::reporting_to(hand_over)
    } else {
        WriteLog::off()
    }
}

/// Gives one call's ranges to the collector on this thread.
fn hand_over(ranges: Ranges) {
    LENT.with_borrow_mut(|loan| {
        if let Some(collected) = &mut loan.writes {
            collected.reported = true;
            collected.ranges.extend(ranges);
        }
    });
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
    use super::{collect_writes, write_log};

    /// A log notes nothing outside a collection, and inside one hands over
    /// its merged ranges when dropped.
    #[test]
    fn a_log_reports_merged_ranges_only_while_collected() {
        // Made outside a collection, a log stays off: dropped inside one,
        // it hands over nothing.
        let mut idle = write_log();
        idle.note(0, 4);
        let ((), from_idle) = collect_writes(|| drop(idle));
        assert_eq!(from_idle, None);
        let ((), ranges) = collect_writes(|| {
            let mut log = write_log();
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
        let ((), empty) = collect_writes(|| drop(write_log()));
        assert_eq!(empty, Some(vec![]));
    }
}
