//! WASI 0.3 timers: `wasi:clocks/monotonic-clock@0.3.0` in virtual time.
//!
//! Stock `wasmtime-wasi` answers `wait-for` and `wait-until` with real tokio
//! sleeps. The definitions here wait on the Store's [`VirtualClock`] instead,
//! by the rule of [`concurrent`](deterministic_wasi_ctx_core::sched::concurrent):
//! a wait's deadline is fixed when it is called (`wait-for(d)`: now + `d`,
//! saturating; `wait-until(t)`: `t`), and virtual time moves to the earliest
//! deadline only when every task of the Store waits, which the executor
//! driving the Store ([`Driver::run`](crate::p3::Driver::run)) sees. `now`
//! and `get-resolution` read the clock as the preview2 interface does.

use crate::VirtualClock;
use crate::clocks::RESOLUTION_NANOS;
use deterministic_wasi_ctx_core::sched::concurrent::Waits;
use wasmtime::component::{Accessor, Linker};

/// The interface these definitions replace.
pub const MONOTONIC_CLOCK_INTERFACE: &str = "wasi:clocks/monotonic-clock@0.3.0";

/// Defines the four functions of `wasi:clocks/monotonic-clock@0.3.0` in
/// `linker` on the clock and waits `timeline` finds (see the
/// [module docs](self)). Replacing stock's definitions needs shadowing,
/// which the caller turns on ([`p3::add_to_linker`](crate::p3::add_to_linker)
/// does).
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p2::DeterministicP2Ctx;
/// use deterministic_wasi_ctx::sched::p3::add_waits_to_linker;
/// use wasmtime::component::Linker;
///
/// let engine = wasmtime::Engine::default();
/// let mut linker = Linker::<DeterministicP2Ctx>::new(&engine);
/// add_waits_to_linker(&mut linker, |ctx| ctx.timeline())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_waits_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    timeline: impl Fn(&mut T) -> (&VirtualClock, &Waits) + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    let mut instance = linker.instance(MONOTONIC_CLOCK_INTERFACE)?;
    instance.func_wrap("now", move |mut store, (): ()| {
        Ok((timeline(store.data_mut()).0.read_monotonic(),))
    })?;
    instance.func_wrap("get-resolution", |_store, (): ()| Ok((RESOLUTION_NANOS,)))?;
    instance.func_wrap_concurrent("wait-for", move |accessor, (duration,): (u64,)| {
        let name = "wasi:clocks/monotonic-clock.wait-for";
        wait(accessor, timeline, name, duration, |now| {
            now.saturating_add(duration)
        })
    })?;
    instance.func_wrap_concurrent("wait-until", move |accessor, (when,): (u64,)| {
        let name = "wasi:clocks/monotonic-clock.wait-until";
        wait(accessor, timeline, name, when, |_| when)
    })?;
    Ok(())
}

/// One wait: its deadline from the current time, recorded as call `name`, then
/// the future that completes when virtual time reaches it.
fn wait<T: 'static>(
    accessor: &Accessor<T>,
    timeline: impl Fn(&mut T) -> (&VirtualClock, &Waits),
    name: &str,
    argument: u64,
    deadline_from: impl FnOnce(u64) -> u64,
) -> std::pin::Pin<Box<dyn Future<Output = wasmtime::Result<()>> + Send + 'static>> {
    let (clock, waits) = accessor.with(|mut access| {
        let (clock, waits) = timeline(access.data_mut());
        (clock.clone(), waits.clone())
    });
    let deadline = deadline_from(clock.peek());
    clock.record(name, &[argument], deadline);
    let wait = waits.wait(&clock, deadline);
    Box::pin(async move {
        wait.await;
        Ok(())
    })
}
