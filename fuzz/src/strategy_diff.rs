//! `strategy_diff`: `p1_smith` modules under Cranelift and under the Pulley
//! interpreter must give identical fingerprints (results, memory, globals,
//! fuel, trace); each strategy also runs in two Stores, the last on a fresh
//! Engine.

use crate::{ContextInput, Flavor};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::{AuditConfig, Strategy};

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let backend = crate::backend(u)?;
    let context: ContextInput = u.arbitrary()?;
    let wasm = crate::smith_module(u, Flavor::Pulley)?;
    let config = AuditConfig {
        runs: 2,
        backends: vec![backend],
        strategies: vec![Strategy::Cranelift, Strategy::Pulley],
        spec: crate::spec(context.config()),
    };
    crate::check_audit("strategy_diff", &wasm, &config, &(backend, &context));
    Ok(())
}
