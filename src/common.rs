//! Preview1 modules on the legacy `wasi-common` implementation.

use crate::sched::VirtualSched;
use crate::stdio::CapturedOutput;
use crate::{DeterminismConfig, VirtualClock, random};
use wasi_common::WasiCtx;
use wasi_common::table::Table;

/// A deterministic wasi-common context and what it shares.
///
/// Link it with the stock `wasi_common::sync::add_to_linker`: clocks and
/// scheduling live inside the context, so no override is needed.
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
}

impl DeterminismConfig {
    /// Builds a wasi-common context (preview1 and preview0).
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
        DeterministicCommonCtx {
            wasi,
            clock,
            output,
        }
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
