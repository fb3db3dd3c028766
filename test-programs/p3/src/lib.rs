//! Paths of the WASI 0.3 guest programs (see `build.rs`): `P3_<NAME>` is the
//! component built from `guests/examples/<name>.rs` with wit-bindgen's async
//! bindings.
//!
//! ```
//! assert!(test_programs_p3::PROGRAMS.iter().any(|(name, _)| *name == "race"));
//! let bytes = std::fs::read(test_programs_p3::P3_RACE).unwrap();
//! assert_eq!(&bytes[..4], b"\0asm");
//! ```

include!(concat!(env!("OUT_DIR"), "/programs.rs"));
