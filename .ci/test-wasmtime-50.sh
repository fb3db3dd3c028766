#!/usr/bin/env bash
# The crate built against wasmtime 50 (adapters/wasmtime-50; README,
# "Wasmtime versions"): clippy, the build without features, and every test of
# that package (unit, integration and doc tests of the shared source).
# .ci/test.sh calls it after the main tests; it also runs on its own.
#
# wasmtime 50 declares rust-version 1.97. Where stable is older (1.95 on this
# CI), the nightly toolchain builds the package with --ignore-rust-version;
# DWC_WASMTIME_50_TOOLCHAIN picks another (e.g. a stable >= 1.97, where the
# flag is harmless).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export CARGO_INCREMENTAL=0
# One target folder for the whole repository: the root workspace's wasmtime
# 46 builds in it, this package's wasmtime 50 in its wasmtime-50/ folder (a
# package of its own workspace; each is built once and neither evicts the
# other).
root_target="${CARGO_TARGET_DIR:-$repo/target}"
export CARGO_TARGET_DIR="$root_target/wasmtime-50"

toolchain=${DWC_WASMTIME_50_TOOLCHAIN:-nightly}
rustup toolchain list | grep -q "^$toolchain" ||
  rustup toolchain install "$toolchain" --profile minimal
rustup component add clippy --toolchain "$toolchain"

cd adapters/wasmtime-50
flags=(--locked --ignore-rust-version)
cargo +"$toolchain" clippy "${flags[@]}" --all-targets --all-features -- -D warnings
cargo +"$toolchain" check "${flags[@]}"
cargo +"$toolchain" test "${flags[@]}" --all-features
cd "$repo"

# An embedder outside this repository, on wasmtime 50: a crate in a
# temporary folder that depends on the wasmtime-50 package runs a preview1
# module and a preview2 component through the public API (.ci/embed/main.rs),
# and each program's audit digest must be the one the wasmtime 46 crate
# gives (the root's command, built by the main tests).
programs=$(mktemp -d)
embed=$(mktemp -d)
trap 'rm -rf "$programs" "$embed"' EXIT
# (The root's builds, not this package's target folder.)
CARGO_TARGET_DIR="$root_target" cargo run --locked -q -p test-programs -- "$programs" >/dev/null
module="$programs/wasip1/random_bytes.wasm"
component="$programs/wasip2/random_bytes.wasm"
mkdir -p "$embed/src"
cp .ci/embed/main.rs "$embed/src/main.rs"
cp adapters/wasmtime-50/Cargo.lock "$embed/Cargo.lock"
# The adapter's wasmtime features and dev profile: the same build of
# wasmtime 50 as above, not a second one.
cat >"$embed/Cargo.toml" <<TOML
[package]
name = "embed-wasmtime-50"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
deterministic-wasi-ctx = { package = "deterministic-wasi-ctx-wasmtime-50", path = "$repo/adapters/wasmtime-50" }
wasmtime = { version = "50.0.1", default-features = false, features = ["cranelift", "runtime", "std", "component-model", "async", "wat", "gc", "gc-drc", "gc-null", "anyhow", "threads", "pulley"] }
wasmtime-wasi = { version = "50.0.1", default-features = false, features = ["p0", "p1", "p2"] }

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 1
debug = false

[workspace]
TOML
embedded=$(cargo +"$toolchain" run -q --ignore-rust-version --manifest-path "$embed/Cargo.toml" -- "$module" "$component")
for program in "$module" "$component"; do
  on50=$(awk -v p="$program" '$1 == p { print $2 }' <<<"$embedded")
  on46=$("$root_target/debug/deterministic-wasi-ctx" audit --json "$program" |
    sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p')
  if [ -z "$on50" ] || [ "$on50" != "$on46" ]; then
    echo "error: $(basename "$program"): digest on wasmtime 50 (embedder) '${on50}' != on wasmtime 46 '${on46}'" >&2
    exit 1
  fi
  echo "$(basename "$program"): the same digest on wasmtime 46 and 50 ($on50)"
done

# The main job across versions, on these debug builds: every bundled and
# test program on both wasmtime majors, both backends and both strategies
# (.ci/audit.sh, README "Wasmtime versions").
DWC_AUDIT_BIN="$root_target/debug/deterministic-wasi-ctx" \
  DWC_WASMTIME_50="$CARGO_TARGET_DIR/debug/deterministic-wasi-ctx-50" \
  CARGO_TARGET_DIR="$root_target" bash .ci/audit.sh

# versions_diff (adapters/versions): wasm-smith modules on both majors in
# one process, driven by its tests (the libFuzzer shim calls the same
# function).
cargo +"$toolchain" test --locked --ignore-rust-version --lib \
  --manifest-path adapters/versions/Cargo.toml
