//! Clocks: virtual wall and monotonic time that moves only by rule.
//!
//! The rules ([`VirtualClock`], [`ClockPolicy`]) are the core's
//! ([`deterministic_wasi_ctx_core::clocks`]); this module links them:
//! preview1's `clock_time_get` and `clock_res_get`
//! ([`add_clocks_to_linker`]) and wasmtime-wasi's clock traits
//! ([`WasiClock`]).

pub use deterministic_wasi_ctx_core::clocks::*;

mod p1;
mod wasi;
pub use p1::add_clocks_to_linker;
pub(crate) use p1::define_clocks;
pub use wasi::WasiClock;
