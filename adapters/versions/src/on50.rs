//! `stock_diff` and `fs_diff` against stock wasmtime-wasi 50.
//!
//! The two differentials are the fuzz library's own files
//! (`fuzz/lib/src/stock_diff.rs`, `fs_diff.rs`), compiled a second time
//! here: the crate root names the crate on wasmtime 50
//! `deterministic_wasi_ctx` and wasmtime 50 `wasmtime`, so the same source
//! runs the same generated inputs through the crate on wasmtime-wasi 50 and
//! through stock wasmtime-wasi 50, with the same comparisons. What the files
//! take from their parent (`super::spec`, `super::shared_engine`, ...) is
//! this module, built on 50; in the fuzz library it is that crate's root,
//! built on 46. wasi-common has no wasmtime 50 release, so the comparison
//! with the crate's other backends
//! ([`Backend::ALL`](dwc50::audit::Backend::ALL) past the first) has nothing
//! to run here.
//!
//! The libFuzzer shims are `fuzz_targets/stock_diff_50.rs` and
//! `fs_diff_50.rs`; their seeds are `corpus/stock_diff` and `corpus/fs_diff`,
//! which the tests replay.
//!
//! ```no_run
//! // What the shim does with one input (the bytes are libFuzzer's).
//! let data = fuzz::input::continued(b"any bytes");
//! let mut u = arbitrary::Unstructured::new(&data);
//! let _ = deterministic_wasi_ctx_versions::on50::fs_diff::run(&mut u);
//! ```

use dwc50::DeterminismConfig;
use dwc50::audit::{RunSpec, Strategy};
use std::sync::OnceLock;

#[path = "../../../fuzz/lib/src/stock_diff.rs"]
pub mod stock_diff;

#[path = "../../../fuzz/lib/src/fs_diff.rs"]
pub mod fs_diff;

/// The table of preview1 functions, what a module dump is written as, and
/// the execution counters: the fuzz library's, which know no wasmtime.
pub use fuzz::{P1_FUNCTIONS, dump, record};

/// A run spec with the fuzz library's fuel and event limit, on wasmtime 50
/// (the fuzz library's `spec`, for this build's types).
pub fn spec(config: DeterminismConfig) -> RunSpec {
    let on46 = fuzz::spec(Default::default());
    RunSpec {
        config,
        fuel: on46.fuel,
        max_events: on46.max_events,
        stock: on46.stock,
        keep_memory: on46.keep_memory,
        writes_from_signatures: on46.writes_from_signatures,
    }
}

/// The wasmtime 50 Engine of `strategy` shared by the runs of one process.
pub fn shared_engine(strategy: Strategy) -> &'static wasmtime50::Engine {
    static CRANELIFT: OnceLock<wasmtime50::Engine> = OnceLock::new();
    static PULLEY: OnceLock<wasmtime50::Engine> = OnceLock::new();
    let cell = match strategy {
        Strategy::Cranelift => &CRANELIFT,
        Strategy::Pulley => &PULLEY,
    };
    cell.get_or_init(|| strategy.engine().expect("wasmtime 50 engine"))
}

#[cfg(test)]
mod tests;
