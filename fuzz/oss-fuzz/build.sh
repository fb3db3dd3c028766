#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script: builds every fuzz target with
# `cargo fuzz build -O` (the sanitizer comes from $SANITIZER, ASan by
# default) and installs, for each target <t>, into $OUT:
#   <t>                 the fuzzer
#   <t>_seed_corpus.zip corpus/<t>/ of the repository
#   <t>.options         the ASan settings wasmtime's own OSS-Fuzz project uses
#   <t>.dict            fuzz/wasi.dict
#
# Local run (no Docker): SRC=<dir containing a checkout named
# deterministic-wasi-ctx> OUT=<empty dir> WORK=<scratch dir> bash build.sh
# FUZZ_TARGET_DIR=<dir> reuses a cargo target directory.
PROJECT=${PROJECT_DIR:-$SRC/deterministic-wasi-ctx}
TARGET_DIR=${FUZZ_TARGET_DIR:-$WORK/cargo-target}
SANITIZER=${SANITIZER:-address}
case "$SANITIZER" in
  address|none) SAN_FLAG="--sanitizer $SANITIZER" ;;
  coverage) SAN_FLAG="--sanitizer none" ;;  # OSS-Fuzz adds coverage flags via RUSTFLAGS
  *) SAN_FLAG="--sanitizer $SANITIZER" ;;
esac

# OSS-Fuzz's image pins its nightly in RUSTUP_TOOLCHAIN; locally use +nightly.
if [[ -n "${RUSTUP_TOOLCHAIN:-}" ]]; then TC=""; else TC="+nightly"; fi

cd "$PROJECT"
# The guest programs (test-programs/build.rs) are built with whichever
# installed toolchain has the wasm targets; give this one them if it can
# (offline it cannot, and another toolchain must have them).
rustup $TC target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown >/dev/null 2>&1 || true

# The coverage filter (Cranelift and wasmtime's plumbing without libFuzzer's
# coverage instrumentation) is part of fuzz/Cargo.toml: nothing to set here.
# Source-based coverage builds (SANITIZER=coverage) cover every crate.
cargo $TC fuzz build -O $SAN_FLAG --target-dir "$TARGET_DIR"

BIN_DIR=$TARGET_DIR/x86_64-unknown-linux-gnu/release
for f in fuzz/fuzz_targets/*.rs; do
  t=$(basename "${f%.*}")
  # `baseline` checks nothing: it is a throughput reference, not a fuzzer.
  [[ $t == baseline ]] && continue
  cp "$BIN_DIR/$t" "$OUT/$t"
  if [[ -d corpus/$t ]]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    zip -jqr "$OUT/${t}_seed_corpus.zip" "corpus/$t/"
  fi
  # As wasmtime's OSS-Fuzz project (projects/wasmtime/default.options):
  # wasmtime handles SIGSEGV itself (guard pages), so ASan must let it.
  cat > "$OUT/$t.options" <<OPTIONS
[asan]
allow_user_segv_handler=1
handle_sigill=0
handle_sigsegv=1
detect_leaks=0
OPTIONS
  cp fuzz/wasi.dict "$OUT/$t.dict"
done
