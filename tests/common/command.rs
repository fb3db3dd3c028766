//! The `deterministic-wasi-ctx` command as the CLI tests run it (included
//! with `#[path]` by `tests/cli.rs` and `tests/replay.rs`).
#![allow(dead_code)]

use std::process::{Command, Output};

/// The command under test: `deterministic-wasi-ctx`, or the wasmtime-50
/// adapter's `deterministic-wasi-ctx-50`.
#[cfg(not(wasmtime_50))]
pub const BIN: &str = env!("CARGO_BIN_EXE_deterministic-wasi-ctx");
#[cfg(wasmtime_50)]
pub const BIN: &str = env!("CARGO_BIN_EXE_deterministic-wasi-ctx-50");

/// The repository's root, where the CLI runs: this package's directory, or
/// two up from the wasmtime-50 adapter's (adapters/wasmtime-50).
#[cfg(not(wasmtime_50))]
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");
#[cfg(wasmtime_50)]
pub const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The command with `args`, run from the repository's root.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(REPO);
    command
}

/// The command's output.
pub fn cli(args: &[&str]) -> Output {
    command(args).output().expect("run the CLI")
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
