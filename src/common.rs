//! Preview1 modules on the legacy `wasi-common` implementation.

//!
//! [`add_to_linker_sync`] links this crate's own preview1 functions
//! ([`served`](crate::served)), the same definitions the `wasmtime-wasi`
//! backend uses ([`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync)),
//! so one module gets the same answers on both backends. The stock context
//! ([`DeterministicCommonCtx::wasi`]) is for embedders who link wasi-common's
//! own functions.

use crate::environ::Environ;
use crate::fd::Descriptors;
use crate::random::SharedStream;
use crate::sched::VirtualSched;
use crate::served::GuestModule;
use crate::stdio::CapturedOutput;
use crate::{DeterminismConfig, VirtualClock, random};
use wasi_common::WasiCtx;
use wasi_common::table::Table;
use wasmtime::Linker;

/// A deterministic wasi-common context and what it shares.
///
/// Link it with [`add_to_linker_sync`]. With the stock
/// `wasi_common::sync::add_to_linker` on [`wasi`](Self::wasi) alone, clocks,
/// randomness and scheduling are still deterministic (they live inside the
/// context), but descriptor calls follow wasi-common's own rules, which
/// differ from wasmtime-wasi's in places.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::DeterminismConfig;
/// let ctx = DeterminismConfig::new().build_wasi_common();
/// assert_eq!(ctx.clock.peek(), 0);
/// ```
pub struct DeterministicCommonCtx {
    /// The context to put in the Store.
    pub wasi: WasiCtx,
    /// The timeline its clocks and scheduler share.
    pub clock: VirtualClock,
    /// Captured stdout/stderr.
    pub output: CapturedOutput,
    /// The secure random stream `random_get` reads.
    pub secure_random: SharedStream,
    /// The preview1 descriptor table this crate serves ([`crate::fd`]).
    pub descriptors: Descriptors,
    /// The arguments and environment this crate serves ([`crate::environ`]).
    pub environ: Environ,
    guest: GuestModule,
    /// The Store limits [`engine::deterministic_store`](crate::engine::deterministic_store)
    /// installs ([`DeterministicLimits::new`](crate::engine::DeterministicLimits::new)).
    pub limits: crate::engine::DeterministicLimits,
}

impl DeterministicCommonCtx {
    /// Tells the served functions which module the guest is, so they find
    /// its `memory` export by index rather than by name (see
    /// [`DeterministicP1Ctx::set_guest_module`](crate::p1::DeterministicP1Ctx::set_guest_module)).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::DeterminismConfig;
    /// let engine = wasmtime::Engine::default();
    /// let module = wasmtime::Module::new(&engine, r#"(module (memory (export "memory") 1))"#)?;
    /// let mut ctx = DeterminismConfig::new().build_wasi_common();
    /// ctx.set_guest_module(&module);
    /// # Ok::<(), wasmtime::Error>(())
    /// ```
    pub fn set_guest_module(&mut self, module: &wasmtime::Module) {
        self.guest = GuestModule::of(module);
    }
}

impl DeterminismConfig {
    /// Builds a wasi-common context (preview1 and preview0). Link it with
    /// [`add_to_linker_sync`].
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
    ///
    /// let config = DeterminismConfig::new().preopen("/", VirtualFs::new().dir("out"));
    /// let (p1, common) = (config.build_p1(), config.build_wasi_common());
    /// // The same tree, the same rules, on both backends.
    /// let digest = |d: &deterministic_wasi_ctx::fd::Descriptors| d.filesystem("/").unwrap().digest();
    /// assert_eq!(digest(p1.descriptors()), digest(&common.descriptors));
    /// ```
    pub fn build_wasi_common(&self) -> DeterministicCommonCtx {
        let clock = self.virtual_clock();
        let sched = VirtualSched::new(clock.clone());
        let mut wasi = WasiCtx::new(
            Box::new(random::secure_stream(self.get_seed())),
            sched.clocks(),
            Box::new(sched),
            Table::new(),
        );
        let (keep, limit) = self.output_policy();
        let output = CapturedOutput::new(keep, limit);
        crate::stdio::attach_common(&output, &wasi, self.get_stdin());
        // wasi-common refuses strings holding a NUL byte (preview1 cannot
        // represent them); such an argument or variable is left out, as
        // `DeterminismConfig::args` documents.
        for arg in self.get_args() {
            let _ = wasi.push_arg(arg);
        }
        for (key, value) in self.get_env() {
            let _ = wasi.push_env(key, value);
        }
        let descriptors = Descriptors::new(self.get_stdin().to_vec(), output.clone())
            .with_mounts(self.mounts(), clock.clone());
        DeterministicCommonCtx {
            wasi,
            clock,
            secure_random: SharedStream::new(random::secure_stream(self.get_seed())),
            descriptors,
            environ: Environ::new(self.get_args(), self.get_env()),
            output,
            guest: GuestModule::default(),
            limits: crate::engine::DeterministicLimits::new(),
        }
    }
}

/// Adds every preview1 and preview0 function to `linker`, all served by
/// this crate ([`served`](crate::served)): the same definitions
/// [`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync) installs, so
/// both backends answer alike. `proc_exit` ends with wasi-common's
/// `I32Exit`. Stock wasi-common's functions are not linked.
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, common};
/// use wasmtime::{Engine, Linker, Module, Store};
///
/// let engine = Engine::default();
/// let mut linker = Linker::new(&engine);
/// common::add_to_linker_sync(&mut linker, |t| t)?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 1)))))"#)?;
/// let mut store = Store::new(&engine, DeterminismConfig::new().build_wasi_common());
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// let memory = instance.get_memory(&mut store, "memory").unwrap();
/// assert_eq!(memory.data(&store)[0], 155);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_to_linker_sync<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicCommonCtx,
) -> wasmtime::Result<()> {
    crate::served::add_served_to_linker(linker, get)
}

impl crate::engine::WithLimits for DeterministicCommonCtx {
    fn limits_mut(&mut self) -> &mut crate::engine::DeterministicLimits {
        &mut self.limits
    }
}

impl crate::served::ServedParts for DeterministicCommonCtx {
    fn clock(&self) -> &VirtualClock {
        &self.clock
    }
    fn secure_random(&self) -> &SharedStream {
        &self.secure_random
    }
    fn descriptors_mut(&mut self) -> &mut Descriptors {
        &mut self.descriptors
    }
    fn environ(&self) -> &Environ {
        &self.environ
    }
    fn guest_module(&self) -> GuestModule {
        self.guest
    }
    fn exit_error(&self, status: i32) -> wasmtime::Error {
        wasi_common::I32Exit(status).into()
    }
}

/// A wasi-common context with the default [`DeterminismConfig`]: the original
/// crate's entry point, kept with its name and signature.
///
/// # Example
///
/// ```
/// use wasmtime::{Engine, Linker, Module, Store};
///
/// let engine = Engine::default();
/// let mut linker = Linker::new(&engine);
/// wasi_common::sync::add_to_linker(&mut linker, |s| s)?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 2)))))"#)?;
/// let mut store = Store::new(&engine, deterministic_wasi_ctx::build_wasi_ctx());
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn build_wasi_ctx() -> WasiCtx {
    DeterminismConfig::default().build_wasi_common().wasi
}
