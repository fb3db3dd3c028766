//! The preview1 functions this crate serves itself on every backend, added
//! to a linker in one place so both backends get the same set.
//!
//! | functions | module |
//! |---|---|
//! | `random_get` | [`random::add_random_get_to_linker`](crate::random::add_random_get_to_linker) |
//! | `clock_time_get`, `clock_res_get` | [`clocks::add_clocks_to_linker`](crate::clocks::add_clocks_to_linker) |
//! | `poll_oneoff`, `sched_yield` | [`sched`](crate::sched), with fd subscriptions from [`fd`](crate::fd) |
//! | `fd_*`, `path_*`, `sock_*`, `proc_raise` | [`fd`](crate::fd) |
//! | `args_*`, `environ_*` | [`environ`](crate::environ) |
//!
//! What is left to the backend: `proc_exit`. (The backend's contexts hold the
//! same virtual clocks, so its own clock functions, where an embedder links
//! them alone, answer alike.)

use crate::VirtualClock;
use crate::environ::Environ;
use crate::fd::Descriptors;
use crate::random::SharedStream;
use wasmtime::Linker;

/// What the served functions read in a context.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, served::ServedParts};
/// let mut ctx = DeterminismConfig::new().build_p1();
/// assert!(ctx.descriptors_mut().get(0).is_some());
/// ```
pub trait ServedParts {
    /// The timeline of clocks and scheduling.
    fn clock(&self) -> &VirtualClock;
    /// The stream `random_get` reads.
    fn secure_random(&self) -> &SharedStream;
    /// The descriptor table.
    fn descriptors_mut(&mut self) -> &mut Descriptors;
    /// Arguments and environment.
    fn environ(&self) -> &Environ;
}

/// Adds every served function (see the [module docs](self)) under
/// `wasi_snapshot_preview1` and `wasi_unstable`, replacing the backend's
/// own definitions: call it after adding the backend's functions.
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
/// let engine = wasmtime::Engine::default();
/// let mut linker: wasmtime::Linker<DeterministicP1Ctx> = wasmtime::Linker::new(&engine);
/// wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| &mut t.wasi)?;
/// deterministic_wasi_ctx::served::add_served_to_linker(&mut linker, |t| t)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_served_to_linker<T: 'static, C: ServedParts + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut C,
) -> wasmtime::Result<()> {
    crate::random::add_random_get_to_linker(linker, move |t| get(t).secure_random())?;
    crate::clocks::add_clocks_to_linker(linker, move |t| get(t).clock())?;
    crate::sched::add_scheduling_to_linker(linker, move |t| get(t).clock())?;
    crate::fd::add_descriptors_to_linker(
        linker,
        move |t| get(t).descriptors_mut(),
        move |t| get(t).clock(),
    )?;
    crate::environ::add_environ_to_linker(linker, move |t| get(t).environ())
}
