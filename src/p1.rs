//! Preview1 modules on `wasmtime-wasi`.

use crate::engine::DeterministicLimits;
use crate::environ::Environ;
use crate::fd::Descriptors;
use crate::random::{self, SharedStream};
use crate::served::GuestModule;
use crate::stdio::CapturedOutput;
use crate::{DeterminismConfig, VirtualClock};
use wasmtime::{Linker, Module};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

/// A deterministic preview1 context for `wasmtime-wasi`: the virtual clock,
/// the seeded random stream, the descriptor table and the strings that this
/// crate's preview1 functions serve ([`served`](crate::served)).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
/// use wasmtime::{Linker, Module, Store};
///
/// let engine = engine::deterministic_engine()?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 1)))))"#)?;
/// let mut linker = Linker::new(&engine);
/// p1::add_to_linker_sync(&mut linker, |t| t)?;
/// let mut ctx = DeterminismConfig::new().build_p1();
/// ctx.set_guest_module(&module); // optional: memory found by index, not by name
/// let mut store = Store::new(&engine, ctx);
/// store.set_fuel(1_000_000)?;
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// let memory = instance.get_memory(&mut store, "memory").unwrap();
/// assert_eq!(memory.data(&store)[0], 155);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub struct DeterministicP1Ctx {
    /// Stock wasmtime-wasi's context on the same parts, built on first use
    /// ([`wasi`](Self::wasi)).
    stock: Option<WasiP1Ctx>,
    /// What `stock` is built from.
    config: DeterminismConfig,
    clock: VirtualClock,
    secure_random: SharedStream,
    output: CapturedOutput,
    descriptors: Descriptors,
    environ: Environ,
    guest: GuestModule,
    limits: DeterministicLimits,
}

impl DeterministicP1Ctx {
    /// The stock wasmtime-wasi preview1 context, configured
    /// deterministically on this context's parts: the same virtual clock,
    /// the same secure random stream (its `random_get` reads the bytes this
    /// crate's would), the same captured stdout and stderr, the configured
    /// arguments, environment and stdin, and seeded insecure streams.
    ///
    /// **It has no preopens, and its stdin is a copy of its own**: the
    /// configured trees ([`DeterminismConfig::preopen`]) and the stdin the
    /// crate's `fd_read` consumes live in this context's descriptor table,
    /// which stock's functions never see. A linker that links stock's
    /// preview1 functions over it (`|t| t.wasi()`, as the single-function
    /// overrides' examples do) therefore gives the guest no preopened
    /// directory at all, and a second reader of stdin. Use
    /// [`add_to_linker_sync`], which serves everything from this context,
    /// unless you need stock's own functions.
    ///
    /// [`add_to_linker_sync`] needs none of it, so it is built on the first
    /// call, for embedders who link stock functions of their own.
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
    /// let mut ctx = DeterminismConfig::new().build_p1();
    /// let _stock: &mut wasmtime_wasi::p1::WasiP1Ctx = ctx.wasi();
    /// # Ok::<(), wasmtime::Error>(())
    /// ```
    pub fn wasi(&mut self) -> &mut WasiP1Ctx {
        let DeterministicP1Ctx {
            stock,
            config,
            clock,
            secure_random,
            output,
            ..
        } = self;
        stock.get_or_insert_with(|| {
            let mut builder = WasiCtxBuilder::new();
            config.apply_to_builder(&mut builder, clock);
            crate::stdio::attach_wasmtime(output, &mut builder, config.get_stdin(), None);
            builder
                .secure_random(secure_random.clone())
                .max_random_size(random::MAX_RANDOM_GET);
            builder.build_p1()
        })
    }

    /// Tells the served functions which module the guest is, so they find
    /// its `memory` export by index rather than by name, which halves the
    /// cost of a cheap call such as `clock_time_get`. Optional, and only a
    /// shortcut: answers are the same without it, and an instance of another
    /// module in the same Store still gets its own memory
    /// ([`GuestModule`]). See the [type's example](Self).
    pub fn set_guest_module(&mut self, module: &Module) {
        self.guest = GuestModule::of(module);
    }

    /// The arguments and environment this crate serves
    /// ([`environ`](crate::environ)).
    pub fn environ(&self) -> &Environ {
        &self.environ
    }

    /// The preview1 descriptor table this crate serves
    /// ([`fd`](crate::fd)).
    pub fn descriptors(&self) -> &Descriptors {
        &self.descriptors
    }

    /// [`descriptors`](Self::descriptors), mutably (for the linker).
    pub fn descriptors_mut(&mut self) -> &mut Descriptors {
        &mut self.descriptors
    }

    /// The timeline shared by this context's clocks and scheduler.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// The secure stream `random_get` reads (shared with
    /// [`wasi`](Self::wasi)).
    pub fn secure_random(&self) -> &SharedStream {
        &self.secure_random
    }

    /// Captured stdout/stderr.
    pub fn output(&self) -> &CapturedOutput {
        &self.output
    }
}

impl DeterminismConfig {
    /// Builds a preview1 `wasmtime-wasi` context. Link it with
    /// [`add_to_linker_sync`] (in sync and async Stores alike).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
    ///
    /// let config = DeterminismConfig::new()
    ///     .seed(7)
    ///     .preopen("/", VirtualFs::new().file("in.txt", "hello"));
    /// let ctx = config.build_p1();
    /// let tree = ctx.descriptors().filesystem("/").unwrap();
    /// assert_eq!(tree.read_file("in.txt"), Some(b"hello".to_vec()));
    /// ```
    pub fn build_p1(&self) -> DeterministicP1Ctx {
        let clock = self.virtual_clock();
        let (keep, limit) = self.output_policy();
        let output = CapturedOutput::new(keep, limit);
        let descriptors = Descriptors::new(self.get_stdin().to_vec(), output.clone())
            .with_mounts(self.mounts(), clock.clone());
        DeterministicP1Ctx {
            stock: None,
            config: self.without_preopens(),
            clock,
            secure_random: SharedStream::new(random::secure_stream(self.get_seed())),
            descriptors,
            environ: Environ::new(self.get_args(), self.get_env()),
            output,
            guest: GuestModule::default(),
            limits: DeterministicLimits::new(),
        }
    }
}

/// Adds every preview1 (`wasi_snapshot_preview1`) and preview0
/// (`wasi_unstable`) function to `linker`, all served by this crate
/// ([`served`](crate::served)): randomness, clocks, virtual-time scheduling,
/// descriptors and the virtual filesystem, arguments and environment, and
/// `proc_exit`, so the guest sees the same answers as on the wasi-common
/// backend. Stock wasmtime-wasi's functions are not linked (and its context,
/// [`DeterministicP1Ctx::wasi`], is not built).
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p1::{DeterministicP1Ctx, add_to_linker_sync};
/// let engine = wasmtime::Engine::default();
/// let mut linker: wasmtime::Linker<DeterministicP1Ctx> = wasmtime::Linker::new(&engine);
/// add_to_linker_sync(&mut linker, |t| t)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_to_linker_sync<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP1Ctx,
) -> wasmtime::Result<()> {
    crate::served::add_served_to_linker(linker, get)
}

/// [`add_to_linker_sync`] under another name: deprecated, use that.
///
/// There is no separate async preview1 linker: the served functions never
/// wait, so the linker [`add_to_linker_sync`] builds already runs in a Store
/// driven with `instantiate_async` and `call_async` (on tokio), with the
/// same answers, the same virtual time and the same trace as a sync Store.
/// Nothing waits in real time: `poll_oneoff` and `sched_yield` never reach
/// tokio's timers. This name is kept so existing callers still build.
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// # #![allow(deprecated)]
/// use deterministic_wasi_ctx::p1::{DeterministicP1Ctx, add_to_linker_async};
/// use deterministic_wasi_ctx::{DeterminismConfig, engine};
/// use wasmtime::{Linker, Module, Store};
///
/// let engine = engine::deterministic_engine()?;
/// let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
/// add_to_linker_async(&mut linker, |t| t)?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 1)))))"#)?;
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// let first_byte = runtime.block_on(async {
///     let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
///     store.set_fuel(1_000_000)?;
///     let instance = linker.instantiate_async(&mut store, &module).await?;
///     let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
///     start.call_async(&mut store, ()).await?;
///     let memory = instance.get_memory(&mut store, "memory").unwrap();
///     Ok::<u8, wasmtime::Error>(memory.data(&store)[0])
/// })?;
/// assert_eq!(first_byte, 155); // as on the sync path
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[deprecated(
    since = "0.1.1",
    note = "identical to add_to_linker_sync, which also serves async Stores"
)]
pub fn add_to_linker_async<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP1Ctx,
) -> wasmtime::Result<()> {
    crate::served::add_served_to_linker(linker, get)
}

/// The Store limits [`engine::deterministic_store`](crate::engine::deterministic_store)
/// installs: [`DeterministicLimits::new`] for a new context.
impl crate::engine::WithLimits for DeterministicP1Ctx {
    fn limits_mut(&mut self) -> &mut DeterministicLimits {
        &mut self.limits
    }
}

impl crate::served::ServedParts for DeterministicP1Ctx {
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
}
