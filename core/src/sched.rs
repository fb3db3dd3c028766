//! Scheduling rules: preview1's `poll_oneoff` in virtual time.
//!
//! [`abi`] reads subscriptions from guest memory and writes events back in
//! either preview1 layout; [`poll`] decides which subscriptions fire and how
//! far the virtual clock moves.

pub mod abi;
pub mod poll;
