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
//! | `proc_exit` | [`add_proc_exit_to_linker`] |
//!
//! That is all of preview1, so the crate's linkers need none of the
//! backend's own functions. (The backend's contexts hold the same virtual
//! clocks, so its own clock functions, where an embedder links them alone,
//! answer alike.)
//!
//! Every function but `sched_yield` needs the calling instance's `memory`
//! export. It is looked up by name (`Caller::get_export`, as both stock
//! backends do on every call) unless the context knows the guest's module
//! ([`GuestModule`]): then by the export's index, which costs about half.

use crate::VirtualClock;
use crate::environ::Environ;
use crate::fd::Descriptors;
use crate::random::SharedStream;
use std::cell::RefCell;
use wasmtime::{Caller, Extern, Linker, Memory, Module, ModuleExport};

mod direct;
mod exit;
mod subset;
mod writes;
#[cfg(test)]
pub(crate) use direct::entries;
pub(crate) use direct::{Body, call_asking_for_body, serve};
pub use exit::add_proc_exit_to_linker;
pub(crate) use subset::serving_only_imports_of;
pub(crate) use writes::{collect_writes, write_log};

/// Every function [`add_served_to_linker`] defines, under both
/// `wasi_snapshot_preview1` and `wasi_unstable`: all of preview1
/// (`sock_accept`, which preview0 does not have, under
/// `wasi_snapshot_preview1` only).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::served::SERVED_FUNCTIONS;
/// assert!(SERVED_FUNCTIONS.contains(&"clock_time_get"));
/// assert!(SERVED_FUNCTIONS.contains(&"proc_exit"));
/// ```
pub const SERVED_FUNCTIONS: [&str; 46] = [
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
    "proc_exit",
    "proc_raise",
    "random_get",
    "sched_yield",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// What the tracer lends the served function it calls.
#[derive(Default)]
struct Loan {
    /// The guest memory, when the tracer calls directly from host code,
    /// where the caller has no instance to find it in ([`lend_memory`]).
    memory: Option<Memory>,
    /// Where the function's writes go while the tracer collects them
    /// ([`collect_writes`]).
    writes: Option<writes::Collected>,
}

thread_local! {
    /// The loan to the served function the tracer is calling on this
    /// thread. (The tracer's first call of an import enters the function
    /// through wasmtime, so no argument of the tracer's reaches it.)
    static LENT: RefCell<Loan> = const { RefCell::new(Loan { memory: None, writes: None }) };
}

/// The guest's module as the served functions know it: where its `memory`
/// export is, so they find the calling instance's memory by index instead of
/// by name.
///
/// A context holds one ([`DeterministicP1Ctx::set_guest_module`](crate::p1::DeterministicP1Ctx::set_guest_module),
/// [`DeterministicCommonCtx::set_guest_module`](crate::common::DeterministicCommonCtx::set_guest_module)).
/// It is only a shortcut: an instance of another module in the same Store
/// still gets its own memory (wasmtime refuses an index taken from another
/// module, and the lookup falls back to the name), and a context that was
/// never told answers exactly the same, by name.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::served::GuestModule;
/// let engine = wasmtime::Engine::default();
/// let module = wasmtime::Module::new(&engine, r#"(module (memory (export "memory") 1))"#)?;
/// assert!(GuestModule::of(&module).knows_memory());
/// assert!(!GuestModule::default().knows_memory());
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[derive(Clone, Copy, Default)]
pub struct GuestModule {
    memory: Option<ModuleExport>,
}

impl GuestModule {
    /// What the served functions need to know of `module`.
    pub fn of(module: &Module) -> Self {
        GuestModule {
            memory: module.get_export_index("memory"),
        }
    }

    /// Whether `memory` is found by index (the module exports something
    /// named `memory`).
    pub fn knows_memory(&self) -> bool {
        self.memory.is_some()
    }
}

impl std::fmt::Debug for GuestModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestModule")
            .field("knows_memory", &self.knows_memory())
            .finish()
    }
}

/// The memory a served function reads and writes: the one the tracer lent
/// for this call, else the calling instance's `memory` export (by index
/// when the module `guest` finds in the store data is the caller's, else by
/// name).
pub(crate) fn guest_memory<T>(
    caller: &mut Caller<'_, T>,
    guest: impl Fn(&mut T) -> GuestModule,
) -> Option<Memory> {
    if let Some(memory) = LENT.with_borrow(|loan| loan.memory) {
        return Some(memory);
    }
    if let Some(index) = guest(caller.data_mut()).memory {
        // `None`: the caller is an instance of another module.
        match caller.get_module_export(&index) {
            Some(Extern::Memory(memory)) => return Some(memory),
            Some(_) => return None,
            None => {}
        }
    }
    exported_memory(caller)
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
            LENT.with_borrow_mut(|loan| loan.memory = self.0);
        }
    }
    let _restore = Restore(LENT.with_borrow_mut(|loan| loan.memory.replace(memory)));
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
    /// The guest's module, if the embedder told the context
    /// ([`GuestModule`]); by default none, and memory is found by name.
    fn guest_module(&self) -> GuestModule {
        GuestModule::default()
    }
    /// The error `proc_exit` returns for a valid `status`: the backend's own
    /// exit type, which embedders downcast to (wasmtime-wasi's by default).
    fn exit_error(&self, status: i32) -> wasmtime::Error {
        wasmtime_wasi::I32Exit(status).into()
    }
}

/// Adds every served function (see the [module docs](self)) under
/// `wasi_snapshot_preview1` and `wasi_unstable`, replacing any earlier
/// definitions: all of preview1, so nothing else is needed.
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
/// deterministic_wasi_ctx::served::add_served_to_linker(&mut linker, |t| t)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_served_to_linker<T: 'static, C: ServedParts + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut C,
) -> wasmtime::Result<()> {
    let guest = move |t: &mut T| get(t).guest_module();
    crate::random::define_random_get(linker, move |t| get(t).secure_random(), guest)?;
    crate::clocks::define_clocks(linker, move |t| get(t).clock(), guest)?;
    crate::sched::add_scheduling_to_linker(linker, move |t| get(t).clock())?;
    crate::fd::define_descriptors(
        linker,
        move |t| get(t).descriptors_mut(),
        move |t| get(t).clock(),
        guest,
    )?;
    crate::environ::define_environ(linker, move |t| get(t).environ(), guest)?;
    exit::define_proc_exit(linker, move |t, status| get(t).exit_error(status), guest)
}

#[cfg(test)]
mod tests {
    use super::SERVED_FUNCTIONS;
    use crate::DeterminismConfig;
    use crate::p1::DeterministicP1Ctx;
    use std::collections::BTreeSet;
    use wasmtime::{Engine, Linker, Module, Store};

    /// Runs `go` on two instances of module A and one of module B in one
    /// Store and context, the context told that the guest is A (`hint`) or
    /// not; each instance's first 16 bytes after its call.
    fn three_instances(hint: bool) -> Vec<Vec<u8>> {
        let engine = Engine::default();
        let wat = |pages: u32| {
            format!(
                r#"(module
                (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
                (memory (export "memory") {pages})
                (func (export "go") (result i32)
                  (i32.add (call $r (i32.const 0) (i32.const 8))
                           (call $t (i32.const 1) (i64.const 0) (i32.const 8)))))"#
            )
        };
        let a = wasmtime::Module::new(&engine, wat(1)).unwrap();
        let b = wasmtime::Module::new(&engine, wat(2)).unwrap();
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        let config = DeterminismConfig::new()
            .monotonic_start(5_000)
            .clock_policy(crate::ClockPolicy::Tick(std::time::Duration::from_nanos(
                0x0102_0304_0506,
            )));
        let mut ctx = config.build_p1();
        if hint {
            ctx.set_guest_module(&a);
        }
        let mut store = Store::new(&engine, ctx);
        [&a, &a, &b]
            .iter()
            .map(|module| {
                let instance = linker.instantiate(&mut store, module).unwrap();
                let go = instance
                    .get_typed_func::<(), i32>(&mut store, "go")
                    .unwrap();
                assert_eq!(go.call(&mut store, ()).unwrap(), 0);
                let memory = instance.get_memory(&mut store, "memory").unwrap();
                memory.data(&store)[..16].to_vec()
            })
            .collect()
    }

    /// Knowing the guest's module changes no answer, and every instance,
    /// of that module or another, reads and writes its own memory.
    #[test]
    fn a_known_guest_module_is_only_a_shortcut() {
        let by_name = three_instances(false);
        assert_eq!(three_instances(true), by_name);
        for (i, bytes) in by_name.iter().enumerate() {
            assert!(
                bytes[..8].iter().any(|b| *b != 0),
                "instance {i}: no random bytes"
            );
            assert!(bytes[8..].iter().any(|b| *b != 0), "instance {i}: no time");
        }
        assert_ne!(by_name[0], by_name[1]);
        assert_ne!(by_name[1], by_name[2]);
    }

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
        // Strictly sorted: no name twice (the set above would hide one).
        assert!(
            SERVED_FUNCTIONS.windows(2).all(|w| w[0] < w[1]),
            "SERVED_FUNCTIONS is sorted, without repeats"
        );
    }

    /// The crate's linking replaces earlier definitions of its own names
    /// (stock's, here) and leaves the linker's shadowing setting as the
    /// embedder had it: off, so a later definition of a served name is
    /// refused; on, so it is allowed.
    #[test]
    fn linking_leaves_the_embedders_shadowing_setting_alone() {
        let engine = Engine::default();
        let define_again = |linker: &mut Linker<DeterministicP1Ctx>| {
            linker
                .func_wrap("wasi_snapshot_preview1", "random_get", |_: i32, _: i32| {
                    0i32
                })
                .map(drop)
        };
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        assert!(define_again(&mut linker).is_err(), "shadowing was left on");

        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        linker.allow_shadowing(true);
        crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        assert!(
            define_again(&mut linker).is_ok(),
            "shadowing was switched off"
        );

        // Over stock's definitions, with shadowing off: the served ones win.
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi()).unwrap();
        crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        assert!(define_again(&mut linker).is_err(), "shadowing was left on");
        let module = Module::new(
            &engine,
            r#"(module
                (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
                (memory (export "memory") 1)
                (func (export "go") (result i32)
                  (drop (call $r (i32.const 0) (i32.const 1)))
                  (i32.load8_u (i32.const 0))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let go = instance
            .get_typed_func::<(), i32>(&mut store, "go")
            .unwrap();
        assert_eq!(
            go.call(&mut store, ()).unwrap(),
            155,
            "the seeded stream's first byte"
        );
    }

    /// The crate's linkers no longer include the stock functions, so they
    /// must define every import stock does, with the same types.
    #[test]
    fn the_served_functions_are_all_that_stock_links() {
        fn defined<T: 'static>(
            linker: &Linker<T>,
            store: &mut Store<T>,
        ) -> BTreeSet<(String, String, String)> {
            let items: Vec<_> = linker
                .iter(&mut *store)
                .map(|(module, name, item)| (module.to_string(), name.to_string(), item))
                .collect();
            items
                .into_iter()
                .map(|(module, name, item)| (module, name, format!("{:?}", item.ty(&*store))))
                .collect()
        }
        let engine = Engine::default();
        let mut ours: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        crate::p1::add_to_linker_sync(&mut ours, |t| t).unwrap();
        let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
        let ours = defined(&ours, &mut store);
        let mut stock: Linker<wasmtime_wasi::p1::WasiP1Ctx> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut stock, |t| t).unwrap();
        wasmtime_wasi::p0::add_to_linker_sync(&mut stock, |t| t).unwrap();
        let ctx = wasmtime_wasi::WasiCtxBuilder::new().build_p1();
        assert_eq!(defined(&stock, &mut Store::new(&engine, ctx)), ours);
        #[cfg(feature = "wasi-common")]
        {
            let mut common: Linker<wasi_common::WasiCtx> = Linker::new(&engine);
            wasi_common::sync::add_to_linker(&mut common, |t| t).unwrap();
            let ctx = wasi_common::sync::WasiCtxBuilder::new().build();
            assert_eq!(defined(&common, &mut Store::new(&engine, ctx)), ours);
        }
    }
}
