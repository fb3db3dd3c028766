//! Scheduling rules: preview1's `poll_oneoff` and WASI 0.3's concurrent
//! waits in virtual time.
//!
//! [`abi`] reads subscriptions from guest memory and writes events back in
//! either preview1 layout; [`poll`] decides which subscriptions fire and how
//! far the virtual clock moves; [`concurrent`] decides when the waits of
//! concurrent tasks complete, and drives a Store until it is idle.

pub mod abi;
pub mod concurrent;
pub mod poll;
