//! `strategy_diff`: `p1_smith` modules on both preview1 backends
//! (wasmtime-wasi and wasi-common) and both strategies (Cranelift and the
//! Pulley interpreter) must give identical fingerprints (results, memory,
//! globals, fuel, trace); each backend and strategy also runs in two
//! Stores, the last on a fresh Engine. The cross-backend comparison is the
//! oracle `p1_smith` lacks: it runs one backend against itself.

use crate::{ContextInput, Flavor};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::{AuditConfig, Backend, Strategy};

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let context: ContextInput = u.arbitrary()?;
    let wasm = crate::smith_module(u, Flavor::Pulley)?;
    let config = AuditConfig {
        runs: 2,
        backends: vec![Backend::WasmtimeWasi, Backend::WasiCommon],
        strategies: vec![Strategy::Cranelift, Strategy::Pulley],
        spec: crate::spec(context.config()),
    };
    let report = crate::check_audit("strategy_diff", &wasm, &config, &context);
    crate::record_paths(&report.outcome, &config.spec.config);
    Ok(())
}
