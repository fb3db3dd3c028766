//! Scheduling: `poll_oneoff`, `sched_yield` and preview2 timers in virtual time.
//!
//! Nothing here sleeps in real time. Waiting for a timer advances the
//! [`VirtualClock`](crate::VirtualClock) of the Store to the timer's deadline
//! (see [`poll`] for the exact preview1 rules and [`p2`] for components).

#[cfg(feature = "wasi-common")]
mod common;
mod p1;
pub mod p2;
pub mod p3;

#[cfg(feature = "wasi-common")]
pub use common::VirtualSched;
pub use deterministic_wasi_ctx_core::sched::{abi, poll};
pub use p1::add_scheduling_to_linker;
