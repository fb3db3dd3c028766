// What the build scripts of `test-programs` (wasm32-wasip1 and
// wasm32-wasip2) and `test-programs-p3` (wasm32-unknown-unknown) share,
// `include!`d by both: which toolchain builds the guests, by one rule, and
// which programs there are.

use std::process::Command;

/// A `cargo` command for building guests for `targets`: the toolchain
/// building this crate if it has every target's standard library, else the
/// first installed rustup toolchain that does (the default one first), so a
/// nightly without them (`cargo +nightly fuzz build`) needs no set-up.
/// `DWC_GUESTS_TOOLCHAIN=<toolchain>` picks one explicitly. Settings meant
/// for the host build are removed. Panics, naming the fix (`rustup target
/// add ...`, which the README's test command runs), when no toolchain has
/// them all.
fn guest_cargo(targets: &[&str]) -> Command {
    let mut cmd = match guest_toolchain(targets) {
        Some(toolchain) => {
            let mut cmd = Command::new("rustup");
            cmd.args(["run", &toolchain, "cargo"]);
            for var in ["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTDOC"] {
                cmd.env_remove(var);
            }
            cmd
        }
        None => Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
    };
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
    cmd
}

/// The rustup toolchain to build guests for `targets` with, or `None` for
/// the one building this crate (see [`guest_cargo`]).
fn guest_toolchain(targets: &[&str]) -> Option<String> {
    println!("cargo:rerun-if-env-changed=DWC_GUESTS_TOOLCHAIN");
    if let Ok(toolchain) = std::env::var("DWC_GUESTS_TOOLCHAIN") {
        return Some(toolchain);
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if sysroot_has_targets(Command::new(rustc), targets) {
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
        if sysroot_has_targets(rustc, targets) {
            return Some(toolchain);
        }
    }
    let targets = targets.join(" ");
    panic!(
        "building the guest programs needs a toolchain with the targets {targets}, \
         and no installed one has them all: run `rustup target add {targets}` \
         (or set DWC_GUESTS_TOOLCHAIN=<toolchain> to one that has them)"
    );
}

/// Whether the toolchain of `rustc` (a command to which `--print sysroot`
/// is appended) has the standard library of every one of `targets`.
fn sysroot_has_targets(mut rustc: Command, targets: &[&str]) -> bool {
    let Ok(out) = rustc.args(["--print", "sysroot"]).output() else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let sysroot = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    targets.iter().all(|target| {
        sysroot
            .join("lib/rustlib")
            .join(target)
            .join("lib")
            .is_dir()
    })
}

/// The programs in `dir`: the stems of its `.rs` files, sorted.
fn program_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}
