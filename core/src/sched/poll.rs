//! `poll_oneoff` in virtual time: the one definition both preview1 backends follow.
//!
//! The rules (the `wasi-common` backend gets them from
//! [`VirtualSched`](crate::sched::VirtualSched) inside wasi-common's own
//! `poll_oneoff`; the `wasmtime-wasi` backend from [`poll_oneoff`] here, which
//! reads the guest's memory itself):
//!
//! 1. Zero subscriptions: `EINVAL`.
//! 2. Exactly one subscription that is a *relative* clock (any clock id): a
//!    sleep. Virtual time advances by exactly the timeout (not under `Frozen`)
//!    and one clock event is written. The clock is not read.
//! 3. Otherwise every subscription is read in order. A monotonic clock
//!    subscription's deadline is the timeout if absolute, else one clock read
//!    plus the timeout; a relative realtime subscription is treated as
//!    monotonic; an absolute realtime one is `ENOTSUP`; process and thread
//!    clocks are `EINVAL`; an `fd_read` subscription on a descriptor that is
//!    not stdin, or an `fd_write` one on a descriptor that is not stdout or
//!    stderr, is `EBADF` (the descriptor table decides: see
//!    [`fd`](crate::fd)). Errors end the call at the subscription that
//!    caused them.
//! 4. If any fd subscription is present, all fd subscriptions are ready at
//!    once (`nbytes` 0, no flags) and time does not move. Otherwise virtual
//!    time advances to the earliest clock deadline (saturating at
//!    `u64::MAX`; not under `Frozen`).
//! 5. Each clock subscription, in order, reads the clock once and fires if the
//!    reading has reached its deadline. Events are written in the order: fired
//!    clocks, then fd reads, then fd writes, each in subscription order.
//!
//! "Reads the clock" matters only under [`ClockPolicy::Tick`](crate::ClockPolicy::Tick),
//! where every read advances time by the step.
//! Under `Frozen`, a timer whose deadline is in the future never fires, so the
//! general case can report zero events; the one-timer sleep of rule 2 always
//! reports its event.

use super::abi::{
    Errno, Event, GuestMemory, Layout, PollError, Subscription, SubscriptionKind, TAG_CLOCK,
    TAG_FD_READ, TAG_FD_WRITE,
};
use crate::VirtualClock;
use std::time::Duration;

/// Clock ids.
const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;

/// Whether a subscription of type `tag` (`TAG_FD_READ` or `TAG_FD_WRITE`) on
/// `fd` is allowed: the descriptor table's answer.
pub type FdReady<'a> = &'a dyn Fn(u32, u8) -> bool;

/// A clock subscription with its deadline, before firing.
struct Timer {
    userdata: u64,
    deadline: u128,
}

/// Runs `poll_oneoff` against guest memory: reads `nsubscriptions` records at
/// `subs`, writes events at `events` and the event count (4 bytes) at
/// `nevents`; `fd_ready` says which fd subscriptions are allowed. Returns the errno to give the guest, or a trap.
///
/// # Errors
///
/// `PollError::Errno` for the cases of the [module docs](self);
/// `PollError::Trap` for out-of-bounds or misaligned pointers.
pub fn poll_oneoff(
    clock: &VirtualClock,
    layout: Layout,
    memory: &mut GuestMemory<'_>,
    (subs, events, nsubscriptions, nevents): (u32, u32, u32, u32),
    fd_ready: FdReady<'_>,
) -> Result<(), PollError> {
    let out = plan(
        clock,
        nsubscriptions,
        |i| memory.read_subscription(layout, subs, i),
        fd_ready,
    )?;
    for (i, event) in out.iter().enumerate() {
        memory.write_event(events, i as u32, event)?;
    }
    memory.write_u32(nevents, out.len() as u32)
}

/// Rules 1-5 of the [module docs](self), over any source of subscriptions.
pub fn plan(
    clock: &VirtualClock,
    nsubscriptions: u32,
    mut read: impl FnMut(u32) -> Result<Subscription, PollError>,
    fd_ready: FdReady<'_>,
) -> Result<Vec<Event>, PollError> {
    if nsubscriptions == 0 {
        return Err(PollError::Errno(Errno::Inval));
    }
    if nsubscriptions == 1 {
        let sub = read(0)?;
        if let SubscriptionKind::Clock {
            timeout,
            absolute: false,
            ..
        } = sub.kind
        {
            clock.sleep(Duration::from_nanos(timeout));
            return Ok(vec![clock_event(sub.userdata)]);
        }
    }

    let mut timers = Vec::new();
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for i in 0..nsubscriptions {
        let sub = read(i)?;
        match sub.kind {
            SubscriptionKind::Clock {
                id,
                timeout,
                absolute,
            } => {
                let start = match (id, absolute) {
                    (MONOTONIC, true) => 0,
                    (MONOTONIC | REALTIME, false) => clock.read_monotonic(),
                    (REALTIME, true) => return Err(PollError::Errno(Errno::Notsup)),
                    _ => return Err(PollError::Errno(Errno::Inval)),
                };
                timers.push(Timer {
                    userdata: sub.userdata,
                    deadline: u128::from(start) + u128::from(timeout),
                });
            }
            SubscriptionKind::FdRead(fd) if !fd_ready(fd, TAG_FD_READ) => {
                return Err(PollError::Errno(Errno::Badf));
            }
            SubscriptionKind::FdWrite(fd) if !fd_ready(fd, TAG_FD_WRITE) => {
                return Err(PollError::Errno(Errno::Badf));
            }
            SubscriptionKind::FdRead(_) => reads.push(sub.userdata),
            SubscriptionKind::FdWrite(_) => writes.push(sub.userdata),
        }
    }

    let any_fd = !reads.is_empty() || !writes.is_empty();
    if !any_fd && let Some(earliest) = timers.iter().map(|t| t.deadline).min() {
        clock.advance_to(u64::try_from(earliest).unwrap_or(u64::MAX));
    }

    let mut out = Vec::new();
    for timer in &timers {
        if u128::from(clock.read_monotonic()) >= timer.deadline {
            out.push(clock_event(timer.userdata));
        }
    }
    out.extend(reads.iter().map(|&u| fd_event(u, TAG_FD_READ)));
    out.extend(writes.iter().map(|&u| fd_event(u, TAG_FD_WRITE)));
    Ok(out)
}

fn clock_event(userdata: u64) -> Event {
    Event {
        userdata,
        errno: Errno::Success,
        kind: TAG_CLOCK,
        nbytes: 0,
        flags: 0,
    }
}

fn fd_event(userdata: u64, kind: u8) -> Event {
    Event {
        userdata,
        errno: Errno::Success,
        kind,
        nbytes: 0,
        flags: 0,
    }
}
