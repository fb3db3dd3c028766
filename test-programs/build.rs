//! Builds every program in `guests/src/bin` for wasm32-wasip1 (core modules)
//! and wasm32-wasip2 (components) and writes `programs.rs` into `OUT_DIR`:
//! one path constant per program and target, a table of all programs, and a
//! `foreach_program!` macro that host tests use to require a test per program.
//!
//! The guests are built with a toolchain that has both wasm targets: the one
//! building this crate if it has them, else the first installed rustup
//! toolchain that does (the default one first), so a nightly without the
//! wasm targets (`cargo +nightly fuzz build`) needs no set-up.
//! `DWC_GUESTS_TOOLCHAIN=<toolchain>` picks one explicitly. With none, the
//! build fails naming the fix (`rustup target add wasm32-wasip1
//! wasm32-wasip2`; the README's test command does it).

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

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

    let mut programs = program_names(&guests.join("src/bin"));
    programs.sort();

    let mut cmd = match guest_toolchain() {
        Some(toolchain) => {
            let mut cmd = Command::new("rustup");
            cmd.args(["run", &toolchain, "cargo"]);
            for var in ["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTDOC"] {
                cmd.env_remove(var);
            }
            cmd
        }
        None => Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
    };
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
    // Settings meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
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

fn program_names(bin_dir: &Path) -> Vec<String> {
    std::fs::read_dir(bin_dir)
        .expect("guests/src/bin exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect()
}

/// The rustup toolchain to build the guests with, or `None` for the one
/// building this crate. Panics, naming the fix, when no installed toolchain
/// has both wasm targets.
fn guest_toolchain() -> Option<String> {
    println!("cargo:rerun-if-env-changed=DWC_GUESTS_TOOLCHAIN");
    if let Ok(toolchain) = env::var("DWC_GUESTS_TOOLCHAIN") {
        return Some(toolchain);
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if sysroot_has_wasm_targets(Command::new(rustc)) {
        return None;
    }
    // The default toolchain first, then the others in rustup's order.
    let listed = Command::new("rustup")
        .args(["toolchain", "list"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let mut toolchains: Vec<(bool, String)> = listed
        .lines()
        .filter_map(|line| {
            let name = line.split_whitespace().next()?;
            Some((!line.contains("default)"), name.to_string()))
        })
        .collect();
    toolchains.sort_by_key(|(not_default, _)| *not_default);
    for (_, toolchain) in toolchains {
        let mut rustc = Command::new("rustup");
        rustc.args(["run", &toolchain, "rustc"]);
        rustc.env_remove("RUSTUP_TOOLCHAIN");
        if sysroot_has_wasm_targets(rustc) {
            return Some(toolchain);
        }
    }
    panic!(
        "building the guest programs needs a toolchain with the wasm32-wasip1 and \
         wasm32-wasip2 targets, and no installed one has both: run \
         `rustup target add wasm32-wasip1 wasm32-wasip2` (or set \
         DWC_GUESTS_TOOLCHAIN=<toolchain> to one that has them)"
    );
}

/// Whether the toolchain of `rustc` (a command to which `--print sysroot`
/// is appended) has the standard library of both wasm targets.
fn sysroot_has_wasm_targets(mut rustc: Command) -> bool {
    let Ok(out) = rustc.args(["--print", "sysroot"]).output() else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    TARGETS.iter().all(|(target, _)| {
        sysroot
            .join("lib/rustlib")
            .join(target)
            .join("lib")
            .is_dir()
    })
}
