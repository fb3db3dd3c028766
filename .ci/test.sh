#!/usr/bin/env bash
# Runs every test. Sets up what it needs on a fresh machine (the wasm targets,
# clippy and rustfmt), so this one command is all a new checkout needs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain set-up"
rustup target add wasm32-wasip1 wasm32-wasip2
rustup component add clippy rustfmt

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests"
cargo test --workspace --all-features --locked
