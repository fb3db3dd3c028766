//! Linker overrides for preview1 modules on `wasmtime-wasi`.
//!
//! Stock `wasmtime-wasi` sleeps in real time in `poll_oneoff` (a
//! `std::thread::sleep` or a tokio timer). These overrides replace
//! `poll_oneoff` and `sched_yield` under both `wasi_snapshot_preview1` and
//! `wasi_unstable` with the virtual-time rules of [`sched::poll`](super::poll).

use super::abi::{GuestMemory, Layout, PollError};
use super::poll::poll_oneoff;
use crate::VirtualClock;
use crate::served::serve;
use wasmtime::{Caller, Linker};

/// The two preview1-family module names and their layouts.
const MODULES: [(&str, Layout); 2] = [
    ("wasi_snapshot_preview1", Layout::Preview1),
    ("wasi_unstable", Layout::Preview0),
];

/// The fd rule when this crate does not own the descriptor table: fd 0 is
/// readable, fds 1 and 2 are writable (the stock tables' stdio, unless the
/// guest renumbered or closed it). [`fd::add_descriptors_to_linker`](crate::fd::add_descriptors_to_linker)
/// replaces `poll_oneoff` with one that consults the crate's own table.
fn stdio_ready(fd: u32, tag: u8) -> bool {
    match fd {
        0 => tag == super::abi::TAG_FD_READ,
        1 | 2 => tag == super::abi::TAG_FD_WRITE,
        _ => false,
    }
}

/// Defines `poll_oneoff` and `sched_yield` in `linker` (replacing any earlier
/// definitions) for both `wasi_snapshot_preview1` and `wasi_unstable`, using
/// the virtual clock that `clock` finds in the store data.
///
/// Call this *after* adding the stock WASI functions. Each definition replaces an earlier
/// one of the same name; the linker's shadowing setting is left as it was.
///
/// # Errors
///
/// Only if the linker rejects a definition for a reason other than an
/// earlier one of the same name.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, p1::DeterministicP1Ctx};
/// use wasmtime::{Engine, Linker};
///
/// let engine = Engine::default();
/// let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
/// wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi())?;
/// deterministic_wasi_ctx::sched::add_scheduling_to_linker(&mut linker, |t| t.clock())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_scheduling_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    for (module, layout) in MODULES {
        serve(
            linker,
            module,
            "poll_oneoff",
            move |caller: &mut Caller<'_, T>,
                  subs: i32,
                  events: i32,
                  nsubscriptions: i32,
                  nevents: i32|
                  -> wasmtime::Result<i32> {
                let clock = clock(caller.data_mut()).clone();
                let Some(memory) = crate::served::guest_memory(caller, |_| Default::default())
                else {
                    wasmtime::bail!("poll_oneoff: the module exports no `memory`");
                };
                let mut memory =
                    GuestMemory::new(memory.data_mut(&mut *caller), crate::served::write_log());
                match poll_oneoff(
                    &clock,
                    layout,
                    &mut memory,
                    (
                        subs as u32,
                        events as u32,
                        nsubscriptions as u32,
                        nevents as u32,
                    ),
                    &stdio_ready,
                ) {
                    Ok(()) => Ok(0),
                    Err(PollError::Errno(errno)) => Ok(i32::from(errno as u16)),
                    Err(PollError::Trap(why)) => wasmtime::bail!("poll_oneoff: {why}"),
                }
            },
        )?;
        serve(
            linker,
            module,
            "sched_yield",
            |_: &mut Caller<'_, T>| -> i32 { 0 },
        )?;
    }
    Ok(())
}
