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
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}/wasmtime-50"

toolchain=${DWC_WASMTIME_50_TOOLCHAIN:-nightly}
rustup toolchain list | grep -q "^$toolchain" ||
  rustup toolchain install "$toolchain" --profile minimal
rustup component add clippy --toolchain "$toolchain"

cd adapters/wasmtime-50
flags=(--locked --ignore-rust-version)
cargo +"$toolchain" clippy "${flags[@]}" --all-targets --all-features -- -D warnings
cargo +"$toolchain" check "${flags[@]}"
cargo +"$toolchain" test "${flags[@]}" --all-features
