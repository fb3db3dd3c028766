//! Builds every program in `guests/src/bin` for wasm32-wasip1 (core modules)
//! and wasm32-wasip2 (components) and writes `programs.rs` into `OUT_DIR`:
//! one path constant per program and target, a table of all programs, and a
//! `foreach_program!` macro that host tests use to require a test per program.
//!
//! The guests are built with a toolchain that has both wasm targets, chosen
//! by `toolchain.rs` (shared with `p3/build.rs`): a nightly without them
//! (`cargo +nightly fuzz build`) needs no set-up, and with none the build
//! fails naming the fix (`rustup target add wasm32-wasip1 wasm32-wasip2`;
//! the README's test command does it).

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;

include!("toolchain.rs");

const TARGETS: [(&str, &str); 2] = [("wasm32-wasip1", "P1"), ("wasm32-wasip2", "P2")];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let guests = manifest_dir.join("guests");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    let target_dir = out_dir.join("guests-target");
    println!("cargo:rerun-if-changed={}", guests.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        guests.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        guests.join("Cargo.lock").display()
    );

    let programs = program_names(&guests.join("src/bin"));

    let mut cmd = guest_cargo(&TARGETS.map(|(target, _)| target));
    cmd.arg("build")
        .arg("--release")
        .arg("--locked")
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for (target, _) in TARGETS {
        cmd.arg("--target").arg(target);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the guest programs");
    assert!(
        status.success(),
        "building the guest programs failed (see the output above)"
    );

    let mut code = String::new();
    let mut table =
        String::from("/// Every program: (name, preview1 module path, preview2 component path).\n");
    table.push_str("pub const PROGRAMS: &[(&str, &str, &str)] = &[\n");
    for name in &programs {
        let mut paths = Vec::new();
        for (target, prefix) in TARGETS {
            let path = target_dir
                .join(target)
                .join("release")
                .join(format!("{name}.wasm"));
            assert!(path.exists(), "missing guest artifact {}", path.display());
            let constant = format!("{prefix}_{}", name.to_uppercase());
            writeln!(code, "/// `{name}` built for {target}.").unwrap();
            writeln!(
                code,
                "pub const {constant}: &str = {:?};",
                path.display().to_string()
            )
            .unwrap();
            paths.push(constant);
        }
        writeln!(table, "    ({name:?}, {}, {}),", paths[0], paths[1]).unwrap();
    }
    table.push_str("];\n");
    code.push_str(&table);
    // Bytes embedded for the fuzz targets, which OSS-Fuzz runs on a machine
    // without this build tree (only what they need).
    let p2_timers = target_dir.join("wasm32-wasip2/release/p2_timers.wasm");
    writeln!(
        code,
        "/// The `p2_timers` component's bytes (embedded).\npub const P2_P2_TIMERS_BYTES: &[u8] = include_bytes!({:?});",
        p2_timers.display().to_string()
    )
    .unwrap();
    code.push_str(
        "/// Calls `$m!(name)` for every guest program, so a host test suite can\n\
         /// require one test per program.\n#[macro_export]\nmacro_rules! foreach_program {\n    ($m:ident) => {\n",
    );
    for name in &programs {
        writeln!(code, "        $m!({name});").unwrap();
    }
    code.push_str("    };\n}\n");
    std::fs::write(out_dir.join("programs.rs"), code).expect("write programs.rs");
}
