//! How the targets run a program: the run spec and the shared Engines.
//! Compiled a second time against the crate on wasmtime 50 by
//! `adapters/versions` (its `on50` module), with `stock_diff.rs` and
//! `fs_diff.rs`, which call these through `super::`.

use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{RunSpec, Strategy};
use std::sync::OnceLock;

/// A run spec with the fuzz targets' fuel ([`FUEL`](super::FUEL)) and at
/// most 1,000 calls kept in full.
pub fn spec(config: DeterminismConfig) -> RunSpec {
    RunSpec {
        config,
        fuel: super::FUEL,
        max_events: 1_000,
        stock: false,
        keep_memory: false,
        writes_from_signatures: false,
        replay: None,
    }
}

/// Engines shared by the runs of one process, per strategy.
pub fn shared_engine(strategy: Strategy) -> &'static wasmtime::Engine {
    static CRANELIFT: OnceLock<wasmtime::Engine> = OnceLock::new();
    static PULLEY: OnceLock<wasmtime::Engine> = OnceLock::new();
    let cell = match strategy {
        Strategy::Cranelift => &CRANELIFT,
        Strategy::Pulley => &PULLEY,
    };
    cell.get_or_init(|| strategy.engine().expect("engine"))
}
