//! `strategy_diff`: `p1_smith` modules on both preview1 backends
//! (wasmtime-wasi and wasi-common) and both strategies (Cranelift and the
//! Pulley interpreter) must give identical fingerprints (results, memory,
//! globals, fuel, trace); each backend and strategy also runs in two
//! Stores, the second on a fresh Engine that loads the compiled module
//! ([`crate::check_fast_on`]: one compile per strategy, not one per fresh
//! Engine as `audit` does). The cross-backend comparison is the oracle
//! `p1_smith` lacks: it runs one backend against itself.

use crate::{ContextInput, Flavor};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::{Backend, Strategy};

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let context: ContextInput = u.arbitrary()?;
    let wasm = crate::smith_module(u, Flavor::Pulley)?;
    let spec = crate::spec(context.config());
    let outcome = crate::check_fast_on(
        "strategy_diff",
        &wasm,
        &[Backend::WasmtimeWasi, Backend::WasiCommon],
        &[Strategy::Cranelift, Strategy::Pulley],
        1,
        &spec,
        &context,
    );
    crate::record_paths(&outcome, &spec.config);
    Ok(())
}
