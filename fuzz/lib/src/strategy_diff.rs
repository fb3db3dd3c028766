//! `strategy_diff`: `p1_smith` modules on both preview1 backends
//! (wasmtime-wasi and wasi-common) and both strategies (Cranelift and the
//! Pulley interpreter) must give identical fingerprints (results, memory,
//! globals, fuel, trace); each backend and strategy also runs in two
//! Stores, the second on a fresh Engine that loads the compiled module
//! ([`crate::check_fast_on`]: one compile per strategy, not one per fresh
//! Engine as `audit` does). The cross-backend comparison is the oracle
//! `p1_smith` lacks: it runs one backend against itself.
//!
//! The logical stack limit is on, at its default
//! ([`stack::DEFAULT_MAX_STACK`]): deep recursion is then an ordinary trap,
//! compared like any other result between Cranelift and Pulley instead of a
//! poisoned run set aside, and a native overflow fails the execution (the
//! limit must always fire first).

use crate::{ContextInput, Flavor};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::{Backend, Strategy};
use deterministic_wasi_ctx::engine::stack;

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let context: ContextInput = u.arbitrary()?;
    let wasm = crate::smith_module(u, Flavor::Pulley)?;
    let spec = crate::spec(context.config().max_stack(stack::DEFAULT_MAX_STACK));
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
