//! Preview2 timers: `subscribe-duration` and `subscribe-instant` in virtual time.
//!
//! Stock `wasmtime-wasi` backs these pollables with real tokio timers. The
//! overrides here return pollables that become ready by *advancing* the
//! Store's [`VirtualClock`] instead:
//!
//! - `subscribe-duration(d)`: deadline = current monotonic time + `d`
//!   (saturating at `u64::MAX`); does not count as a clock read.
//! - `subscribe-instant(t)`: deadline = `t`.
//! - A pollable whose deadline has been reached is ready.
//! - `poll(list)`: if nothing in the list is ready, time advances to the
//!   *earliest* deadline among the timers in the list, and exactly the timers
//!   due by then are ready. `block` is `poll` of one. The non-blocking
//!   `pollable.ready` never advances time.
//! - Under [`ClockPolicy::Frozen`] every timer is
//!   ready at once and time does not move (a frozen clock cannot reach a
//!   future deadline, and a guest must not hang).

use crate::VirtualClock;
use crate::clocks::{ClockPolicy, RESOLUTION_NANOS};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

/// The WASI 0.2 release whose interfaces stock wasmtime-wasi 46 defines.
pub const WASI_VERSION: &str = "0.2.12";
/// The interface these overrides replace.
pub const MONOTONIC_CLOCK_INTERFACE: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Replaces the `wasi:clocks/monotonic-clock` interface in `linker` with one
/// driven by the clock that `clock` finds in the store data: `now` and
/// `resolution` read it as the stock interface would, `subscribe-duration` and
/// `subscribe-instant` follow the [module docs](self). Call it after
/// `wasmtime_wasi::p2::add_to_linker_sync` (defining an interface again
/// replaces it whole, so all four functions are defined here). Shadowing is
/// switched on for these definitions and left off after them (wasmtime's
/// default), so a later definition of the same names is an error.
///
/// # Errors
///
/// Only if the linker rejects the definitions.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p2::DeterministicP2Ctx;
/// use wasmtime::{Engine, component::Linker};
///
/// let engine = Engine::default();
/// let mut linker: Linker<DeterministicP2Ctx> = Linker::new(&engine);
/// wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
/// deterministic_wasi_ctx::sched::p2::add_timers_to_linker(&mut linker, |t| t.clock())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_timers_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut instance = linker.instance(MONOTONIC_CLOCK_INTERFACE)?;
    instance.func_wrap(
        "now",
        move |mut store, (): ()| -> wasmtime::Result<(u64,)> {
            Ok((clock(store.data_mut()).read_monotonic(),))
        },
    )?;
    instance.func_wrap("resolution", |_store, (): ()| -> wasmtime::Result<(u64,)> {
        Ok((RESOLUTION_NANOS,))
    })?;
    instance.func_wrap(
        "subscribe-duration",
        move |mut store, (duration,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            let clock = clock(store.data_mut()).clone();
            let deadline = clock.peek().saturating_add(duration);
            clock.record(
                "wasi:clocks/monotonic-clock.subscribe-duration",
                &[duration],
                deadline,
            );
            Ok((push_timer(store.data_mut(), clock, deadline)?,))
        },
    )?;
    instance.func_wrap(
        "subscribe-instant",
        move |mut store, (when,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            let clock = clock(store.data_mut()).clone();
            clock.record(
                "wasi:clocks/monotonic-clock.subscribe-instant",
                &[when],
                when,
            );
            Ok((push_timer(store.data_mut(), clock, when)?,))
        },
    )?;
    // Replacing a whole interface needs shadowing; it ends off, wasmtime's
    // default (a component linker has no getter to restore another value).
    linker.allow_shadowing(false);
    Ok(())
}

fn push_timer<T: WasiView>(
    data: &mut T,
    clock: VirtualClock,
    deadline: u64,
) -> wasmtime::Result<Resource<DynPollable>> {
    let table = data.ctx().table;
    let timer = table.push(VirtualTimer { clock, deadline })?;
    subscribe(table, timer)
}

/// A pollable that is ready once virtual time reaches `deadline`.
struct VirtualTimer {
    clock: VirtualClock,
    deadline: u64,
}

#[async_trait::async_trait]
impl Pollable for VirtualTimer {
    async fn ready(&mut self) {
        TimerWait {
            clock: &self.clock,
            deadline: self.deadline,
            registration: None,
        }
        .await
    }
}

/// One wait on a [`VirtualTimer`] inside a `poll`.
///
/// First poll: ready if due; otherwise register the deadline and ask to be
/// polled again. Second and later polls (by then every timer of the same
/// `poll` call has registered): the timer with the earliest registered
/// deadline advances time to it and is ready; timers due by then are ready
/// when polled after it. A wait that is dropped unregisters itself.
struct TimerWait<'a> {
    clock: &'a VirtualClock,
    deadline: u64,
    /// Registration id and the monotonic time when it registered.
    registration: Option<(u64, u64)>,
}

impl Future for TimerWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.policy() == ClockPolicy::Frozen {
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let mut timers = self.clock.timers();
        let now = self.clock.peek();
        if now >= deadline {
            return Poll::Ready(());
        }
        match self.registration {
            None => {
                let id = timers.next_waiter;
                timers.next_waiter += 1;
                timers.waiting.insert(id, deadline);
                let registered_at = now;
                drop(timers);
                self.registration = Some((id, registered_at));
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some((_, registered_at)) => {
                // Only while time has not moved since this wait registered:
                // once the earliest timer of the `poll` has advanced time
                // (and, being ready, unregistered), the others must not
                // advance it again; they are ready only if due.
                if now == registered_at
                    && timers.waiting.values().min() == Some(&deadline)
                    && self.clock.move_from(registered_at, deadline)
                {
                    drop(timers);
                    self.clock.record("timer-fired", &[deadline], deadline);
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl Drop for TimerWait<'_> {
    fn drop(&mut self) {
        if let Some((id, _)) = self.registration {
            self.clock.timers().waiting.remove(&id);
        }
    }
}
