//! WASI 0.3 components (`wasi:*@0.3.0`: async functions, streams, futures,
//! concurrent subtasks) on `wasmtime-wasi`, deterministic.
//!
//! A 0.3 component runs on the same context as a preview2 one
//! ([`DeterministicP2Ctx`]: one configuration, clock, seed and output), and
//! [`add_to_linker`] links stock wasmtime-wasi's 0.3 interfaces over it,
//! then replaces what is not deterministic:
//!
//! | interface | answered by |
//! |---|---|
//! | `wasi:clocks/monotonic-clock` | the virtual clock; `wait-for` / `wait-until` wait in virtual time ([`sched::p3`](crate::sched::p3)) |
//! | `wasi:clocks/system-clock` | the virtual clock (the context's wall clock) |
//! | `wasi:random/*` | the seeded streams of [`random`](crate::random), as for preview2 (requests above 64 MiB get 64 MiB, as stock's) |
//! | `wasi:cli/*` | the configuration's arguments, environment and stdin; output captured; no terminals; `exit` as for preview2; every stdin read and output write recorded in the trace |
//! | `wasi:sockets/*` | denied: every socket is `access-denied` and every lookup `permanent-resolver-failure`, every run (no host network) |
//! | `wasi:filesystem/*` | the configuration's preopened trees, by the same rules and calls as preview2 ([`filesystem`]) |
//!
//! **Concurrency.** Which operation completes first and which task resumes
//! next is decided by wasmtime's scheduler from the order in which host
//! operations become ready. Everything the context serves is ready at once
//! (in-memory stdin, captured output) except waits, and waits complete only
//! when the whole Store is idle, earliest deadline first
//! ([`concurrent`](deterministic_wasi_ctx_core::sched::concurrent)); so do
//! the futures of the filesystem streams, whose values wasmtime hands over
//! on a later turn, as turns in the order the guest started the streams. So the
//! order, and every amount a stream read or write returns, is a pure
//! function of the guest's calls. That needs the Store driven by a
//! [`Driver`] (not by tokio, where nothing would ever see the Store idle).
//!
//! [`Driver::run_command`] shows a whole run.

pub mod filesystem;

use crate::p2::DeterministicP2Ctx;
use crate::{VirtualClock, sched};
use deterministic_wasi_ctx_core::sched::concurrent::{self, Waits};
use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::WasiView;

/// The WASI 0.3 release whose interfaces stock wasmtime-wasi defines.
pub const WASI_VERSION: &str = "0.3.0";

/// Whether `component` is a WASI 0.3 command: it exports
/// `wasi:cli/run@0.3.x`.
///
/// ```
/// use deterministic_wasi_ctx::{engine, p3};
/// let engine = engine::deterministic_engine()?;
/// let p2 = wasmtime::component::Component::new(&engine, "(component)")?;
/// assert!(!p3::is_command(&engine, &p2));
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn is_command(engine: &wasmtime::Engine, component: &Component) -> bool {
    component
        .component_type()
        .exports(engine)
        .any(|(name, _)| name.starts_with("wasi:cli/run@0.3."))
}

/// Links stock wasmtime-wasi's WASI 0.3 interfaces, then replaces the clocks,
/// random and preopens with the deterministic ones over the context `get`
/// finds (see the [module docs](self)). Shadowing is on for the
/// replacements and off after them (wasmtime's default), so a later
/// definition of a served name is an error instead of silently replacing it.
///
/// # Errors
///
/// If the linker rejects a definition (the engine needs
/// `Config::concurrency_support`, on by default).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{engine, p2::DeterministicP2Ctx, p3};
/// let engine = engine::deterministic_engine()?;
/// let mut linker = wasmtime::component::Linker::<DeterministicP2Ctx>::new(&engine);
/// p3::add_to_linker(&mut linker, |ctx| ctx)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p3::add_to_linker(linker)?;
    linker.allow_shadowing(true);
    let replaced = sched::p3::add_waits_to_linker(linker, move |t| get(t).timeline())
        .and_then(|()| {
            let release = crate::random::components::Release {
                version: WASI_VERSION,
                seed_function: "get-insecure-seed",
                // 0.3 returns at most the limit instead of trapping, as
                // stock does.
                clamp: true,
            };
            crate::random::components::add_to_linker(linker, get, release)
        })
        .and_then(|()| filesystem::add_to_linker(linker, get));
    linker.allow_shadowing(false);
    replaced
}

/// Runs WASI 0.3 components deterministically: polls a Store's futures on
/// the calling thread and moves virtual time only when every task waits
/// (the rule of [`concurrent`]). Get it from
/// [`DeterministicP2Ctx::driver`] before moving the context into the Store.
#[derive(Clone, Debug)]
pub struct Driver {
    clock: VirtualClock,
    waits: Waits,
}

impl Driver {
    pub(crate) fn new(clock: VirtualClock, waits: Waits) -> Self {
        Driver { clock, waits }
    }

    /// Polls `future` to completion by the rule of [`concurrent::run`].
    ///
    /// # Errors
    ///
    /// A deadlock (every task waits and no timer is pending) as an error
    /// whose message starts with `deadlock`: the same every run.
    ///
    /// # Example
    ///
    /// ```
    /// let ctx = deterministic_wasi_ctx::DeterminismConfig::new().build_p2();
    /// let err = ctx.driver().run(std::future::pending::<()>()).unwrap_err();
    /// assert!(err.to_string().starts_with("deadlock"));
    /// ```
    pub fn run<F: Future>(&self, future: F) -> wasmtime::Result<F::Output> {
        concurrent::run(future, &self.waits, &self.clock).map_err(wasmtime::Error::new)
    }

    /// Instantiates `component` in `store` and calls its
    /// `wasi:cli/run@0.3.0#run`, driven by [`Driver::run`]. `Ok(Err(()))` is
    /// `run` returning `err` (exit status 1 by wasmtime's convention).
    ///
    /// # Errors
    ///
    /// Instantiation errors, traps (an `exit` is a trap carrying
    /// [`wasmtime_wasi::I32Exit`]) and deadlocks.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, engine, p2::DeterministicP2Ctx, p3};
    /// use wasmtime::component::{Component, Linker};
    ///
    /// let engine = engine::deterministic_engine()?;
    /// let mut linker = Linker::<DeterministicP2Ctx>::new(&engine);
    /// p3::add_to_linker(&mut linker, |ctx| ctx)?;
    /// let component = Component::new(&engine, r#"(component
    ///   (core func $task-return (canon task.return (result (result))))
    ///   (core module $m
    ///     (import "" "task.return" (func $task-return (param i32)))
    ///     (func (export "run") (result i32)
    ///       (call $task-return (i32.const 0))
    ///       i32.const 0)
    ///     (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
    ///   (core instance $i (instantiate $m
    ///     (with "" (instance (export "task.return" (func $task-return))))))
    ///   (func $run async (result (result))
    ///     (canon lift (core func $i "run") async (callback (core func $i "cb"))))
    ///   (instance $run (export "run" (func $run)))
    ///   (export "wasi:cli/run@0.3.0" (instance $run)))"#)?;
    /// assert!(p3::is_command(&engine, &component));
    /// let ctx = DeterminismConfig::new().build_p2();
    /// let driver = ctx.driver();
    /// let mut store = wasmtime::Store::new(&engine, ctx);
    /// store.set_fuel(1_000_000)?;
    /// assert_eq!(driver.run_command(&mut store, &component, &linker)?, Ok(()));
    /// # Ok::<(), wasmtime::Error>(())
    /// ```
    pub fn run_command<T: WasiView + Send + 'static>(
        &self,
        store: &mut Store<T>,
        component: &Component,
        linker: &Linker<T>,
    ) -> wasmtime::Result<Result<(), ()>> {
        self.run(run_command(store, component, linker))?
    }
}

/// Instantiates `component` and calls its 0.3 `run`, on whatever executor
/// polls it (the audit's stock runs use tokio).
pub(crate) async fn run_command<T: WasiView + Send + 'static>(
    store: &mut Store<T>,
    component: &Component,
    linker: &Linker<T>,
) -> wasmtime::Result<Result<(), ()>> {
    let command =
        wasmtime_wasi::p3::bindings::Command::instantiate_async(&mut *store, component, linker)
            .await?;
    store
        .run_concurrent(async move |accessor| command.wasi_cli_run().call_run(accessor).await)
        .await?
}
