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

# An embedder outside this repository: a crate in a temporary folder runs a
# preview1 module and a preview2 component through the public API
# (.ci/embed/main.rs), built once on the wasmtime 50 package and once on the
# wasmtime 46 crate. Each program must give the same audit digest on both,
# or differ only as README "Wasmtime versions" lists: a component's fuel.
programs=$(mktemp -d)
embed=$(mktemp -d)
trap 'rm -rf "$programs" "$embed"' EXIT
# (The root's builds, not this package's target folder.)
CARGO_TARGET_DIR="$root_target" cargo run --locked -q -p test-programs -- "$programs" >/dev/null
module="$programs/wasip1/random_bytes.wasm"
component="$programs/wasip2/random_bytes.wasm"
# wasmtime's features as the root's manifest gives them (one list
# everywhere: .ci/test.sh checks the manifests agree).
features=$(sed -n 's/^wasmtime = { version = "[^"]*", \(.*\) }$/\1/p' Cargo.toml)
[ -n "$features" ] || { echo "error: no wasmtime features in Cargo.toml" >&2; exit 1; }
# $1: folder; $2: the crate's dependency line; $3: wasmtime's version. The
# repository's dev profile, so the builds of wasmtime above are reused.
write_embedder() {
  mkdir -p "$1/src"
  cp .ci/embed/main.rs "$1/src/main.rs"
  cat >"$1/Cargo.toml" <<TOML
[package]
name = "embed"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$2
wasmtime = { version = "$3", $features }
wasmtime-wasi = { version = "$3", default-features = false, features = ["p0", "p1", "p2"] }
blake3 = "1"

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 1
debug = false

[workspace]
TOML
}
write_embedder "$embed/on50" \
  "deterministic-wasi-ctx = { package = \"deterministic-wasi-ctx-wasmtime-50\", path = \"$repo/adapters/wasmtime-50\" }" 50.0.1
cp adapters/wasmtime-50/Cargo.lock "$embed/on50/Cargo.lock"
write_embedder "$embed/on46" "deterministic-wasi-ctx = { path = \"$repo\" }" 46.0.3
cp Cargo.lock "$embed/on46/Cargo.lock"
on50=$(cargo +"$toolchain" run -q --ignore-rust-version --manifest-path "$embed/on50/Cargo.toml" -- "$module" "$component")
on46=$(CARGO_TARGET_DIR="$root_target" cargo run -q --manifest-path "$embed/on46/Cargo.toml" -- "$module" "$component")
for program in "$module" "$component"; do
  read -r _ digest50 rest50 fuel50 < <(grep -F "$program " <<<"$on50")
  read -r _ digest46 rest46 fuel46 < <(grep -F "$program " <<<"$on46")
  name=${program#"$programs"/}
  if [ -n "$digest50" ] && [ "$digest50" = "$digest46" ]; then
    echo "embedder: $name: the same digest on wasmtime 46 and 50 ($digest50)"
  elif [ "$program" = "$component" ] && [ -n "$rest50" ] && [ "$rest50" = "$rest46" ]; then
    echo "embedder: $name: the same on wasmtime 46 and 50 but fuel ($fuel46 and $fuel50, as listed)"
  else
    echo "error: embedder: $name differs between wasmtime 46 ($digest46) and 50 ($digest50)" >&2
    exit 1
  fi
done

# The main job across versions, on these debug builds: every bundled and
# test program on both wasmtime majors, both backends and both strategies
# (.ci/audit.sh, README "Wasmtime versions").
DWC_AUDIT_BIN="$root_target/debug/deterministic-wasi-ctx" \
  DWC_WASMTIME_50="$CARGO_TARGET_DIR/debug/deterministic-wasi-ctx-50" \
  CARGO_TARGET_DIR="$root_target" bash .ci/audit.sh

# adapters/versions, driven by its tests (the libFuzzer shims call the same
# functions): versions_diff (wasm-smith modules on both majors in one
# process), stock_diff_50 and fs_diff_50 (the crate against stock
# wasmtime-wasi 50, the committed seeds replayed against their manifests).
cargo +"$toolchain" test --locked --ignore-rust-version --lib \
  --manifest-path adapters/versions/Cargo.toml
