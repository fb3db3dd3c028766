#!/usr/bin/env bash
# Runs every test. Sets up what it needs on a fresh machine (the wasm targets,
# clippy and rustfmt), so this one command is all a new checkout needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Free disk and the target directory's size at each step: a full run needs
# about 11 GB at its peak (README, "CI time and disk"); a full disk shows up
# here, not only as a linker's bus error.
step() {
  printf '\n==> %s (%s)\n' "$*" "$(date +%T)"
  printf '    disk: %s free; target/: %s; fuzz/target/: %s\n' \
    "$(df -h --output=avail . | tail -1 | tr -d ' ')" \
    "$(du -sh target 2>/dev/null | cut -f1 || echo none)" \
    "$(du -sh fuzz/target 2>/dev/null | cut -f1 || echo none)"
}
# A whole test run is not an edit-compile loop: incremental caches would
# only add ~1.7 GB to target/.
export CARGO_INCREMENTAL=0

step "toolchain set-up"
rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown
rustup component add clippy rustfmt

step "format"
cargo fmt --all --check
# The cargo-fuzz shims are a workspace of their own (fuzz/Cargo.toml, nightly).
rustfmt --edition 2024 --check fuzz/fuzz_targets/*.rs
# So are the WASI 0.3 guest programs (wasm only) and three_ways.
rustfmt --edition 2024 --check test-programs/guests/src/bin/three_ways.rs test-programs/p3/guests/src/*.rs test-programs/p3/guests/examples/*.rs
# adapters/versions is a nightly workspace of its own as well.
rustfmt --edition 2024 --check adapters/versions/src/*.rs adapters/versions/src/on50/*.rs adapters/versions/fuzz_targets/*.rs

step "clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "feature combinations a user can pick"
# clippy above covers --all-features; these are the others (the CLI without
# wasi-common included).
cargo check --locked --no-default-features
cargo check --locked --no-default-features --features cli
cargo check --locked --features cli
cargo check --locked

step "core: no wasmtime in its dependency tree"
# The rules live in core/ (deterministic-wasi-ctx-core) and must build and
# test without wasmtime; the adapters link them (README, "Crate layout").
if cargo tree --locked -p deterministic-wasi-ctx-core --all-features -e normal,build --prefix none \
  | grep -E '^(wasmtime|wasi-common|cranelift|wiggle)'; then
  echo "error: deterministic-wasi-ctx-core depends on wasmtime (the lines above)" >&2
  exit 1
fi

step "one wasmtime feature list"
# Every manifest naming wasmtime gives it the same features, so the builds
# on one major share one wasmtime and the two majors are built alike (the
# embedder in .ci/test-wasmtime-50.sh reads the root's list).
lists=$(grep -hE '^wasmtime(50)? = ' Cargo.toml fuzz/lib/Cargo.toml proptests/Cargo.toml \
  adapters/wasmtime-50/Cargo.toml adapters/versions/Cargo.toml | sed -n 's/.*\(features = \[[^]]*\]\).*/\1/p')
if [ "$(wc -l <<<"$lists")" -ne 5 ] || [ "$(sort -u <<<"$lists" | wc -l)" -ne 1 ]; then
  echo "error: the manifests give wasmtime different features:" >&2
  echo "$lists" >&2
  exit 1
fi

step "tests"
cargo test --workspace --all-features --locked

step "wasmtime 50: clippy and the tests of adapters/wasmtime-50 (nightly where stable is older than 1.97)"
bash .ci/test-wasmtime-50.sh

# Nothing after this point reads target/ (the fuzz build has fuzz/target/ of
# its own), and at this point it holds the test builds of both majors, about
# 11 GB. The fuzz build then adds about 5 GB; a CI disk with less than that
# free failed mid-link with the linker's bus error (stop 41). So target/ is
# removed first when the disk is short, or always under CI; a developer's
# own run with room to spare keeps it for the next edit.
free_kb=$(df -k --output=avail . | tail -1 | tr -d ' ')
if [ -z "${CARGO_TARGET_DIR:-}" ] && { [ -n "${CI:-}" ] || [ "$free_kb" -lt $((8 * 1024 * 1024)) ]; }; then
  step "removing target/ before the fuzz build (CI, or less than 8 GB free)"
  rm -rf target
fi

# The cross-ISA check (x86-64, aarch64 and big-endian s390x under QEMU,
# README "Across machines") builds the CLI for three ISAs: 36 minutes cold
# on this 2-core machine (2026-12-01), which would take a cold CI run past
# the 45 minutes it is kept under, so it runs only when asked for (DWC_CROSS=1, or `bash .ci/cross.sh`
# on its own).
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
# The commands exactly as a user types them (fuzz/README.md), with nothing
# in the environment: the coverage filter is in fuzz/Cargo.toml and the
# guest programs find a toolchain with the wasm targets themselves
# (test-programs/build.rs), even when nightly has none.
plain=(env -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS
  -u CARGO_BUILD_RUSTFLAGS -u DWC_GUESTS_TOOLCHAIN -u CARGO_INCREMENTAL)
"${plain[@]}" cargo +nightly fuzz build -O --sanitizer none
# The filter must have applied: with Cranelift and wasmtime instrumented,
# p1_smith loads far more coverage counters than this allows
# (fuzz/README.md, "Coverage filter": 294,671 filtered, 617,919 not; 245,480
# filtered once the crate stopped linking stock functions; 401,491 filtered
# once the audit linked WASI 0.3, whose wasmtime-wasi bindings are
# instantiated, and so instrumented, in this crate for its two host types;
# unfiltered is more than the 617,919 of before, as code was only added).
max_p1_smith_counters=480000
fuzz_log=$(mktemp)
# The plain command from a fresh clone (fuzz/README.md, "Running"): its
# corpus folder, fuzz/corpus/p1_smith, starts empty, and the shim copies the
# committed seeds into it before libFuzzer reads it (fuzz/lib/src/seeds.rs).
rm -rf fuzz/corpus/p1_smith
"${plain[@]}" cargo +nightly fuzz run -O --sanitizer none p1_smith -- -runs=32 2>&1 | tee "$fuzz_log"
if ! grep -q "copied the [0-9]* committed seeds" "$fuzz_log"; then
  echo "error: a plain 'cargo fuzz run p1_smith' did not start from the committed seeds" >&2
  exit 1
fi
rm -rf fuzz/corpus/p1_smith
for target in $("${plain[@]}" cargo +nightly fuzz list); do
  scratch=$(mktemp -d)
  cp corpus/"$target"/* "$scratch"/
  # A crash, leak, timeout or panic makes libFuzzer exit non-zero; the
  # scratch copy keeps the committed corpus unchanged.
  "${plain[@]}" cargo +nightly fuzz run -O --sanitizer none "$target" "$scratch" -- \
    -max_total_time="$fuzz_seconds" -timeout=30 -rss_limit_mb=4096 -dict=fuzz/wasi.dict \
    -print_final_stats=1 2>&1 | tee "$fuzz_log"
  rm -rf "$scratch"
  if [ "$target" = p1_smith ]; then
    counters=$(sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$fuzz_log")
    if [ -z "$counters" ] || [ "$counters" -gt "$max_p1_smith_counters" ]; then
      echo "error: p1_smith loaded ${counters:-an unknown number of} coverage counters (at most $max_p1_smith_counters with the coverage filter of fuzz/Cargo.toml): the filter did not apply" >&2
      exit 1
    fi
    echo "p1_smith: $counters coverage counters (the coverage filter applied)"
  fi
done
rm -f "$fuzz_log"
step "done"
