//! The rules of [deterministic-wasi-ctx], with no wasmtime in them.
//!
//! Every answer the deterministic WASI context gives is decided here, from
//! plain inputs: guest memory is a byte slice, time is a number of
//! nanoseconds, and a host call is a function of its arguments and the
//! state it is given. The crate does no I/O of its own but for taking a
//! snapshot of a host folder ([`fs::VirtualFs::snapshot`]) and exporting a
//! tree ([`fs::FsTree::export`]), which the embedder asks for.
//!
//! The crates that link these rules into a wasmtime `Linker`, one per
//! wasmtime major, are thin adapters over this one: `deterministic-wasi-ctx`
//! (wasmtime 46, with `wasi-common`) and `deterministic-wasi-ctx-wasmtime-50`.
//! Their tests compare whole runs; this crate's tests need no wasmtime and
//! run in seconds.
//!
//! [deterministic-wasi-ctx]: https://docs.rs/deterministic-wasi-ctx
//!
//! ```
//! use deterministic_wasi_ctx_core::fs::{FsTree, VirtualFs};
//!
//! // A tree from a snapshot: device 1, every time stamp 0.
//! let tree = FsTree::new(&VirtualFs::new().file("a.txt", "hello"), 1, 0);
//! assert_eq!(tree.read_file("a.txt").as_deref(), Some(&b"hello"[..]));
//! ```
#![deny(missing_docs)]

pub mod clocks;
pub mod fd;
pub mod fs;
pub mod random;
pub mod replay;
pub mod sched;
pub mod script;
pub mod stdio;
pub mod trace;
pub mod writes;

pub use clocks::{ClockPolicy, VirtualClock};
pub use fs::{FsTree, VirtualFs};
pub use stdio::CapturedOutput;
