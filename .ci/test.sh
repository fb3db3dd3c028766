#!/usr/bin/env bash
# Runs every test. Sets up what it needs on a fresh machine (the wasm targets,
# clippy and rustfmt), so this one command is all a new checkout needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Free disk and the target directory's size at each step: a full run needs
# about 6 GB (README, "Disk"); a full disk shows up here, not as a linker's
# bus error.
step() {
  printf '\n==> %s\n' "$*"
  printf '    disk: %s free; target/: %s\n' \
    "$(df -h --output=avail . | tail -1 | tr -d ' ')" \
    "$(du -sh target 2>/dev/null | cut -f1 || echo none)"
}
# A whole test run is not an edit-compile loop: incremental caches would
# only add ~1.7 GB to target/.
export CARGO_INCREMENTAL=0

step "toolchain set-up"
rustup target add wasm32-wasip1 wasm32-wasip2
rustup component add clippy rustfmt

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "feature combinations a user can pick"
# clippy above covers --all-features; these are the others (the CLI without
# wasi-common included).
cargo check --locked --no-default-features
cargo check --locked --no-default-features --features cli
cargo check --locked --features cli
cargo check --locked

step "tests"
cargo test --workspace --all-features --locked

# The cross-ISA check (x86-64, aarch64 and big-endian s390x under QEMU,
# README "Across machines") cross-builds wasmtime twice: about 65 minutes
# cold on this 2-core machine, more than the CI budget allows on top of the
# rest, so it runs only when asked for (DWC_CROSS=1, or `bash .ci/cross.sh`
# on its own). Before the fuzz step, whose RUSTC_WRAPPER must not reach
# these builds.
if [ "${DWC_CROSS:-0}" = 1 ]; then
  step "cross: the same results on x86-64, aarch64 and big-endian s390x (QEMU)"
  bash .ci/cross.sh
fi

step "fuzz: build every cargo-fuzz target, run each briefly from its seed corpus"
# Bounded: FUZZ_SECONDS per target (default 20). Without a sanitizer: the
# ASan build of wasmtime is much slower to build and run on this 2-core
# machine (see fuzz/README.md); OSS-Fuzz runs the ASan build continuously.
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
fuzz_seconds=${FUZZ_SECONDS:-20}
# The guest programs need the wasm targets; build them with the default
# toolchain when nightly lacks them (see test-programs/build.rs).
if ! rustup +nightly target list --installed | grep -q wasm32-wasip2; then
  export DWC_GUESTS_TOOLCHAIN=stable
fi
# Cranelift and wasmtime's plumbing are built without coverage
# instrumentation (fuzz/rustc-coverage-filter.sh; see fuzz/README.md).
export RUSTC_WRAPPER=$PWD/fuzz/rustc-coverage-filter.sh
cargo +nightly fuzz build -O --sanitizer none
for target in $(cargo +nightly fuzz list); do
  scratch=$(mktemp -d)
  cp corpus/"$target"/* "$scratch"/
  # A crash, leak, timeout or panic makes libFuzzer exit non-zero; the
  # scratch copy keeps the committed corpus unchanged.
  cargo +nightly fuzz run -O --sanitizer none "$target" "$scratch" -- \
    -max_total_time="$fuzz_seconds" -timeout=30 -rss_limit_mb=4096 -dict=fuzz/wasi.dict \
    -print_final_stats=1
  rm -rf "$scratch"
done
step "done"
