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

#[path = "../../../fuzz/lib/src/stock_diff.rs"]
pub mod stock_diff;

#[path = "../../../fuzz/lib/src/fs_diff.rs"]
pub mod fs_diff;

/// The table of preview1 functions, what a module dump is written as, and
/// the execution counters: the fuzz library's, which know no wasmtime.
pub use fuzz::{FUEL, P1_FUNCTIONS, dump, record};

/// The run spec and the shared Engines: the fuzz library's `runs.rs`,
/// built on wasmtime 50 like the two differentials.
#[path = "../../../fuzz/lib/src/runs.rs"]
mod runs;
pub use runs::{shared_engine, spec};

#[cfg(test)]
mod tests;
