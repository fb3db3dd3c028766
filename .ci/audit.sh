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
# The filesystem programs (fs_*) get a tree, a script on stdin and a wall
# clock that starts after the epoch (test-programs/fixtures/README.md), so
# they run to the end; the others run with none.
fs_programs=() other_programs=()
for program in "${programs[@]}"; do
  case "$(basename "$program")" in
    fs_*) fs_programs+=("$program") ;;
    *) other_programs+=("$program") ;;
  esac
done
[ "${#fs_programs[@]}" -gt 0 ] || { echo "error: no fs_* test programs" >&2; exit 2; }
audit() { cargo run --locked --release --features cli -- audit --backend all --strategy all "$@"; }
audit "$@" corpus/audit "${other_programs[@]}" | tee "$output" || status=$?
fs_status=0
audit --dir test-programs/fixtures/root::/ --stdin test-programs/fixtures/fs_script.txt \
  --wall-start 2001-09-09T01:46:40Z "$@" "${fs_programs[@]}" | tee -a "$output" || fs_status=$?
# With their inputs the filesystem programs must run to the end: exit 0.
for program in "${fs_programs[@]}"; do
  if ! grep -F "$program" "$output" | grep -qE '\(exit 0, |"exit_code":0[,}]'; then
    echo "error: $program did not exit 0 with its fixtures (test-programs/fixtures)" >&2
    fs_status=1
  fi
done
# The worst status wins, as within one audit: 2, then 1, then 3, then 0.
for worst in 2 1 3; do
  if [ "$status" -eq "$worst" ] || [ "$fs_status" -eq "$worst" ]; then status=$worst; break; fi
done
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
