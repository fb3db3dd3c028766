#!/usr/bin/env bash
# A RUSTC_WRAPPER for fuzz builds: compiles wasmtime's compiler pipeline and
# runtime plumbing without libFuzzer's coverage instrumentation, so the
# fuzzers' feedback (and time) goes to the WASI host code, the generators
# and this crate. Sanitizer flags (-Zsanitizer=...) are kept for every crate.
#
#   RUSTC_WRAPPER=$PWD/fuzz/rustc-coverage-filter.sh cargo +nightly fuzz build -O
#
# Why: with every crate instrumented, libFuzzer spends about 70% of each
# p1_smith execution collecting coverage features from Cranelift compiling
# the module (measured with perf; see fuzz/README.md), and that coverage
# says nothing about WASI. Set DWC_FUZZ_INSTRUMENT_ALL=1 to instrument
# everything anyway (e.g. for `cargo fuzz coverage` of the whole stack).
set -euo pipefail
rustc=$1
shift
crate=
previous=
for arg in "$@"; do
  if [[ $previous == --crate-name ]]; then crate=$arg; fi
  previous=$arg
done
case "$crate" in
  cranelift_* | regalloc2 | wasmtime | wasmtime_environ | wasmtime_internal_* | \
  pulley_interpreter | wasmparser | wasm_encoder | object | gimli | tokio | mio | blake3 | \
  rustix | linux_raw_sys | libc | hashbrown | indexmap | smallvec | postcard | serde | \
  serde_core | anyhow | log | tracing | tracing_core | futures_* | bytes | memchr)
    if [[ -z ${DWC_FUZZ_INSTRUMENT_ALL:-} ]]; then
      kept=()
      for arg in "$@"; do
        case "$arg" in
          -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) ;;
          *) kept+=("$arg") ;;
        esac
      done
      exec "$rustc" "${kept[@]}"
    fi
    ;;
esac
exec "$rustc" "$@"
