#!/usr/bin/env bash
# The main job: audit the bundled corpus (corpus/audit) and every test program
# on both preview1 backends and both execution strategies. Sets up what it
# needs on a fresh machine. Extra arguments are passed to `audit`.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip1 wasm32-wasip2
cargo run --locked --release --features cli -- audit --backend all --strategy all "$@"
