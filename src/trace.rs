//! Trace: every host call a guest makes, as a streaming digest and
//! (optionally, bounded) as a list.
//!
//! The recording and its encoding are the core's
//! ([`deterministic_wasi_ctx_core::trace`], where the digest encoding is
//! written down); this module attaches a [`Recorder`] to wasmtime. For
//! preview1 modules, [`instantiate_traced`] (and, for the crate's own
//! linkers, the cheaper [`instantiate_traced_served`]) wraps every import
//! from `wasi_snapshot_preview1` / `wasi_unstable` so each call is recorded
//! with its name, arguments, result and the bytes it wrote into guest
//! memory. The crate's own functions report each range as they write it;
//! for another function the regions come from
//! [`table::writes_of`](deterministic_wasi_ctx_core::trace::table::writes_of).
//! For preview2 components the recorder is attached to the interfaces the
//! crate serves (see
//! [`DeterminismConfig::build_p2_traced`](crate::DeterminismConfig::build_p2_traced));
//! a component's calls into stock wasmtime-wasi (`audit --no-determinism`,
//! `record`) go through a forwarder component made from its own WIT, each
//! call recorded with its values flattened (`src/trace/component.rs`).

pub use deterministic_wasi_ctx_core::trace::*;

pub(crate) mod component;
#[cfg(test)]
mod direct_tests;
#[cfg(all(test, feature = "wasi-common"))]
mod fuel_tests;
pub(crate) mod p1;
mod stock;
#[cfg(test)]
mod stock_tests;
#[cfg(test)]
mod test_runs;
#[cfg(test)]
mod written_tests;
pub(crate) use p1::exit_status;
pub use p1::{
    instantiate_traced, instantiate_traced_served, instantiate_traced_stock, max_proxy_instances,
};
pub use stock::StockCtx;
