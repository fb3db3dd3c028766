//! `deterministic-wasi-ctx`: audit WebAssembly programs for determinism.
//!
//! ```text
//! deterministic-wasi-ctx audit [OPTIONS] [PATH...]   # no PATH: the bundled corpus and test programs
//! deterministic-wasi-ctx trace [OPTIONS] PATH
//! ```
//!
//! Exit status: 0 when every file is deterministic, 1 when any diverged, 2
//! for usage errors or files that cannot be loaded (each named on its own
//! line; the other files are still audited), 141 when the reader of stdout
//! stopped early (`trace x | head`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
