//! A WASI context for wasmtime whose every answer is a pure function of the
//! guest's call sequence.
//!
//! Clocks ([`clocks`]), randomness ([`random`]), scheduling ([`sched`]),
//! stdio and the environment are all decided by one [`DeterminismConfig`];
//! nothing from the host leaks in and nothing sleeps in real time. The
//! [`engine`] module makes execution itself deterministic (NaN
//! canonicalization, deterministic relaxed SIMD, fuel, fixed limits).
//!
//! Three backends are built from the same configuration:
//!
//! | backend | build | link |
//! |---|---|---|
//! | `wasmtime-wasi`, preview1 modules | [`DeterminismConfig::build_p1`] | [`p1::add_to_linker_sync`] |
//! | `wasmtime-wasi`, preview2 components | [`DeterminismConfig::build_p2`] | [`p2::add_to_linker_sync`] |
//! | `wasi-common`, preview1 modules (feature `wasi-common`, on by default) | [`DeterminismConfig::build_wasi_common`] | [`common::add_to_linker_sync`] |
//! | `wasi-common`, the original crate's entry point | [`build_wasi_ctx`] | `wasi_common::sync::add_to_linker` |
//!
//! ```
//! use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
//! use wasmtime::{Linker, Module, Store};
//!
//! // A guest that sleeps 5 s and then reads the monotonic clock into memory.
//! let wat = r#"(module
//!   (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
//!   (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
//!   (memory (export "memory") 1)
//!   ;; one relative clock subscription at 0: timeout 5 s
//!   (data (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\f2\05\2a\01\00\00\00")
//!   (func (export "_start")
//!     (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 96)))
//!     (drop (call $now (i32.const 1) (i64.const 1) (i32.const 128)))))"#;
//! let engine = engine::deterministic_engine()?;
//! let module = Module::new(&engine, wat)?;
//! let mut linker = Linker::new(&engine);
//! p1::add_to_linker_sync(&mut linker, |t| t)?;
//! let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
//! store.set_fuel(1_000_000)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! let memory = instance.get_memory(&mut store, "memory").unwrap();
//! let now = u64::from_le_bytes(memory.data(&store)[128..136].try_into()?);
//! assert_eq!(now, 5_000_000_000); // exactly 5 s of virtual time, instantly
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod audit;
mod builder;
pub mod clocks;
#[cfg(feature = "wasi-common")]
pub mod common;
mod config;
pub mod engine;
pub mod environ;
pub mod fd;
pub mod p1;
pub mod p2;
pub mod p3;
pub mod random;
pub mod replay;
pub mod sched;
pub mod served;
mod stdio;
mod stock;
pub mod trace;

pub use deterministic_wasi_ctx_core::{fs, script, writes};

pub use builder::add_determinism_to_wasi_ctx_builder;
pub use clocks::{ClockPolicy, VirtualClock};
#[cfg(feature = "wasi-common")]
pub use common::{DeterministicCommonCtx, build_wasi_ctx};
pub use config::DeterminismConfig;
pub use fs::{FsTree, VirtualFs};
pub use stdio::CapturedOutput;

/// The README's examples: `cargo test --doc` compiles every one and runs
/// those that need no guest file, so the quick start cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
