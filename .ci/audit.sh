#!/usr/bin/env bash
# The main job: audit the bundled corpus (corpus/audit) and every test program
# on both preview1 backends and both execution strategies. Sets up what it
# needs on a fresh machine. Extra arguments are passed to `audit`.
#
# The auditor exits 3 when a file is POISONED (a run hit a host-dependent
# limit, so it was not compared). The corpus holds one such file on purpose:
# corpus/audit/stack_overflow.wat. Exit 3 is accepted only when every
# poisoned file is on EXPECTED_POISONED; any other poisoned file, a
# divergence (1) or an error (2) fails the job.
set -euo pipefail
cd "$(dirname "$0")/.."
EXPECTED_POISONED=(corpus/audit/stack_overflow.wat)
rustup target add wasm32-wasip1 wasm32-wasip2
output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
# The test programs, copied to short stable paths (the CLI itself bundles
# only corpus/audit: it does not depend on the guests' build).
mapfile -t programs < <(cargo run --locked --release -q -p test-programs -- target/test-programs)
[ "${#programs[@]}" -gt 0 ] || { echo "error: no test programs were built" >&2; exit 2; }
cargo run --locked --release --features cli -- audit --backend all --strategy all "$@" \
  corpus/audit "${programs[@]}" | tee "$output" || status=$?
[ "$status" -eq 3 ] || exit "$status"
# The poisoned files' paths: text lines (`PATH: POISONED ...`) or, with
# --json, objects whose verdict is "poisoned".
poisoned=$(
  sed -n 's/^\(.*\): POISONED .*/\1/p' "$output"
  { grep '"verdict":"poisoned"' "$output" || true; } |
    sed -n 's/.*"path":"\([^"]*\)".*/\1/p'
)
unexpected=0
while IFS= read -r path; do
  [ -n "$path" ] || continue
  known=no
  for expected in "${EXPECTED_POISONED[@]}"; do
    # Paths are printed as given, or absolute for the default corpus.
    case "$path" in "$expected" | */"$expected") known=yes ;; esac
  done
  if [ "$known" = no ]; then
    echo "error: $path is POISONED and not on this script's EXPECTED_POISONED list" >&2
    unexpected=1
  fi
done <<<"$poisoned"
if [ "$unexpected" -ne 0 ] || [ -z "$poisoned" ]; then
  exit 3
fi
echo "note: POISONED as documented: ${EXPECTED_POISONED[*]} (its stack runs out where the host's does)" >&2
