//! The virtual filesystem against an independent model: generated trees and
//! operation sequences run as real preview1 guest calls (compiled
//! [`FsScript`](deterministic_wasi_ctx::script::fs::FsScript)s, through the
//! auditor's runner) on both backends, in fresh Stores, and every answer and
//! the final tree must equal the [`model`]'s.

pub mod check;
pub mod model;
pub mod strategies;
