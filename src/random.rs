//! Randomness: every random byte a guest sees comes from a seeded PRNG.
//!
//! The generator and its derivations are the core's
//! ([`deterministic_wasi_ctx_core::random`]); this module links preview1's
//! `random_get` ([`add_random_get_to_linker`]) and the components'
//! `wasi:random` interfaces, preview2's and WASI 0.3's alike.

pub use deterministic_wasi_ctx_core::random::*;

pub(crate) mod components;
mod p1;
pub(crate) use p1::define_random_get;
pub use p1::{MAX_RANDOM_GET, add_random_get_to_linker};
