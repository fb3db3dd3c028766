//! Preview1 modules on `wasmtime-wasi`.

use crate::environ::Environ;
use crate::fd::Descriptors;
use crate::random::{self, SharedStream};
use crate::stdio::CapturedOutput;
use crate::{DeterminismConfig, VirtualClock};
use wasmtime::Linker;
use wasmtime_wasi::p1::WasiP1Ctx;

/// A deterministic preview1 context for `wasmtime-wasi`: the stock
/// [`WasiP1Ctx`] plus the virtual clock its scheduling overrides share.
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
/// let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
/// store.set_fuel(1_000_000)?;
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// let memory = instance.get_memory(&mut store, "memory").unwrap();
/// assert_eq!(memory.data(&store)[0], 155);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub struct DeterministicP1Ctx {
    /// The stock wasmtime-wasi preview1 context, configured deterministically.
    pub wasi: WasiP1Ctx,
    clock: VirtualClock,
    secure_random: SharedStream,
    output: CapturedOutput,
    descriptors: Descriptors,
    environ: Environ,
}

impl DeterministicP1Ctx {
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

    /// The secure stream, shared with [`wasi`](Self::wasi) (its
    /// `random_get` reads the same bytes).
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
    /// [`add_to_linker_sync`] (or [`add_to_linker_async`]).
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
        let (mut builder, output) = self.wasmtime_builder(&clock);
        let secure_random = SharedStream::new(random::secure_stream(self.get_seed()));
        builder
            .secure_random(secure_random.clone())
            .max_random_size(random::MAX_RANDOM_GET);
        let descriptors = Descriptors::new(self.get_stdin().to_vec(), output.clone())
            .with_mounts(self.mounts(), clock.clone());
        DeterministicP1Ctx {
            wasi: builder.build_p1(),
            clock,
            secure_random,
            descriptors,
            environ: Environ::new(self.get_args(), self.get_env()),
            output,
        }
    }
}

/// Adds the stock preview1 (`wasi_snapshot_preview1`) and preview0
/// (`wasi_unstable`) functions to `linker`, then this crate's own: the
/// `random_get` override ([`random::add_random_get_to_linker`]), the
/// virtual-time `sched_yield` and `poll_oneoff`, and every call on a
/// descriptor ([`fd::add_descriptors_to_linker`](crate::fd::add_descriptors_to_linker)),
/// so the guest sees the same answers as on the wasi-common backend
/// ([`served`](crate::served)).
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
    wasmtime_wasi::p1::add_to_linker_sync(linker, move |t| &mut get(t).wasi)?;
    wasmtime_wasi::p0::add_to_linker_sync(linker, move |t| &mut get(t).wasi)?;
    crate::served::add_served_to_linker(linker, get)
}

/// [`add_to_linker_sync`] for embedders that drive the Store with
/// `instantiate_async` and `call_async` (on tokio): stock wasmtime-wasi's
/// async preview1 and preview0 functions, then the same functions of this
/// crate as the sync path, so the guest sees the same answers, the same
/// virtual time and the same trace either way. Nothing waits in real time:
/// this crate's `poll_oneoff` and `sched_yield` never reach tokio's timers.
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
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
pub fn add_to_linker_async<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP1Ctx,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_async(linker, move |t| &mut get(t).wasi)?;
    wasmtime_wasi::p0::add_to_linker_async(linker, move |t| &mut get(t).wasi)?;
    crate::served::add_served_to_linker(linker, get)
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
}
