//! Paths of the compiled guest programs (see `build.rs`): `P1_<NAME>` is the
//! wasm32-wasip1 core module, `P2_<NAME>` the wasm32-wasip2 component.
//!
//! ```
//! assert!(test_programs::PROGRAMS.iter().any(|(name, _, _)| *name == "random_bytes"));
//! ```

include!(concat!(env!("OUT_DIR"), "/programs.rs"));
