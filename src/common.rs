//! Preview1 modules on the legacy `wasi-common` implementation.

//!
//! [`add_to_linker_sync`] links the stock wasi-common functions and then this
//! crate's own for randomness, scheduling and descriptors, the same
//! definitions the `wasmtime-wasi` backend uses
//! ([`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync)), so one module
//! gets the same answers on both backends.

use crate::environ::Environ;
use crate::fd::Descriptors;
use crate::random::SharedStream;
use crate::sched::VirtualSched;
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
        let output =
            CapturedOutput::install_common(&wasi, self.get_stdin(), self.output_capacity());
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
        }
    }
}

/// Adds the stock wasi-common preview1 and preview0 functions to `linker`,
/// then this crate's `random_get`, `sched_yield`, `poll_oneoff` and
/// descriptor calls ([`fd::add_descriptors_to_linker`](crate::fd::add_descriptors_to_linker)):
/// the same definitions [`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync)
/// installs, so both backends answer alike.
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
    wasi_common::sync::add_to_linker(linker, move |t| &mut get(t).wasi)?;
    crate::served::add_served_to_linker(linker, get)
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
