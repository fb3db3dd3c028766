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
use std::cell::Cell;
use wasmtime::{Caller, Extern, Linker, Memory};

/// Every function [`add_served_to_linker`] defines, under both
/// `wasi_snapshot_preview1` and `wasi_unstable`: all of preview1 but
/// `proc_exit` (`sock_accept`, which preview0 does not have, under
/// `wasi_snapshot_preview1` only).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::served::SERVED_FUNCTIONS;
/// assert!(SERVED_FUNCTIONS.contains(&"clock_time_get"));
/// assert!(!SERVED_FUNCTIONS.contains(&"proc_exit"));
/// ```
pub const SERVED_FUNCTIONS: [&str; 45] = [
    "args_get",
    "args_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "environ_get",
    "environ_sizes_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_raise",
    "random_get",
    "sched_yield",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

thread_local! {
    /// The guest memory lent to a served function the tracer calls directly
    /// from host code, where the caller has no instance to find it in
    /// ([`lend_memory`]).
    static LENT: Cell<Option<Memory>> = const { Cell::new(None) };
}

/// The memory a served function reads and writes: the one the tracer lent
/// for this call, else the calling instance's `memory` export.
pub(crate) fn guest_memory<T>(caller: &mut Caller<'_, T>) -> Option<Memory> {
    LENT.get().or_else(|| exported_memory(caller))
}

/// The calling instance's `memory` export, if it has one.
pub(crate) fn exported_memory<T>(caller: &mut Caller<'_, T>) -> Option<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// Runs `call` (a direct call of a served function from host code) with
/// `memory` lent to it; the previous loan is back afterwards, also when
/// `call` unwinds.
pub(crate) fn lend_memory<R>(memory: Memory, call: impl FnOnce() -> R) -> R {
    struct Restore(Option<Memory>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LENT.set(self.0);
        }
    }
    let _restore = Restore(LENT.replace(Some(memory)));
    call()
}

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

#[cfg(test)]
mod tests {
    use super::SERVED_FUNCTIONS;
    use crate::DeterminismConfig;
    use crate::p1::DeterministicP1Ctx;
    use std::collections::BTreeSet;
    use wasmtime::{Engine, Linker, Store};

    /// The list the tracer trusts is exactly what the linker gets.
    #[test]
    fn served_functions_lists_every_definition_under_both_modules() {
        let engine = Engine::default();
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        super::add_served_to_linker(&mut linker, |t| t).unwrap();
        let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
        let defined: BTreeSet<(String, String)> = linker
            .iter(&mut store)
            .map(|(module, name, _)| (module.to_string(), name.to_string()))
            .collect();
        let expected: BTreeSet<(String, String)> = ["wasi_snapshot_preview1", "wasi_unstable"]
            .iter()
            .flat_map(|m| {
                SERVED_FUNCTIONS
                    .iter()
                    .map(|n| (m.to_string(), n.to_string()))
            })
            .filter(|(m, n)| !(m == "wasi_unstable" && n == "sock_accept"))
            .collect();
        assert_eq!(defined, expected);
        assert_eq!(SERVED_FUNCTIONS.len(), 45);
    }
}
