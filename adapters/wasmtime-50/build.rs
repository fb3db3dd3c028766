//! Sets `cfg(wasmtime_50)` for the shared source in `../../src`, which
//! branches on it where wasmtime 50's API differs from 46's (README,
//! "Wasmtime versions").

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wasmtime_50)");
    println!("cargo::rustc-cfg=wasmtime_50");
    println!("cargo::rerun-if-changed=build.rs");
}
