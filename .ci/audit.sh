#!/usr/bin/env bash
# The main job: audit the bundled corpus (corpus/audit) and every test program
# on both preview1 backends, both execution strategies and both wasmtime
# majors (46 and 50). Sets up what it
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
rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown
output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
# The test programs, copied to short stable paths (the CLI itself bundles
# only corpus/audit: it does not depend on the guests' build).
mapfile -t programs < <(cargo run --locked -q -p test-programs -- target/test-programs &&
  cargo run --locked -q -p test-programs-p3 -- target/test-programs)
[ "${#programs[@]}" -gt 0 ] || { echo "error: no test programs were built" >&2; exit 2; }
# The programs that use files (fs_*, three_ways, and every WASI 0.3 one
# (wasip3/): they need `/` preopened) get a tree, a script on stdin and a
# wall clock that starts after the epoch (test-programs/fixtures/README.md),
# so they run to the end; the others run with none. Modules (wasip1) and
# components (wasip2, wasip3) apart: see "Across wasmtime majors" below.
fs_modules=() other_modules=() fs_components=() other_components=()
for program in "${programs[@]}"; do
  case "$program" in
    */wasip2/* | */wasip3/*) kind=components ;;
    *) kind=modules ;;
  esac
  case "$program" in
    */fs_* | */three_ways.wasm | */wasip3/*) eval "fs_$kind+=(\"\$program\")" ;;
    *) eval "other_$kind+=(\"\$program\")" ;;
  esac
done
[ "${#fs_modules[@]}" -gt 0 ] && [ "${#fs_components[@]}" -gt 0 ] ||
  { echo "error: no fs_* test programs" >&2; exit 2; }
# Every program also runs on wasmtime 50 (`--wasmtime all`; README,
# "Wasmtime versions"): its build of the command, with nightly where stable
# is older than the 1.97 wasmtime 50 needs. DWC_WASMTIME_50 names a build
# made already, DWC_AUDIT_BIN a build of this command to use instead of
# `cargo run --release` (.ci/test-wasmtime-50.sh passes its debug builds).
if [ -z "${DWC_WASMTIME_50:-}" ]; then
  toolchain=${DWC_WASMTIME_50_TOOLCHAIN:-nightly}
  rustup toolchain list | grep -q "^$toolchain" ||
    rustup toolchain install "$toolchain" --profile minimal
  cargo +"$toolchain" build --locked --ignore-rust-version --release --features cli \
    --manifest-path adapters/wasmtime-50/Cargo.toml --target-dir target/wasmtime-50
  export DWC_WASMTIME_50=$PWD/target/wasmtime-50/release/deterministic-wasi-ctx-50
fi
if [ -n "${DWC_AUDIT_BIN:-}" ]; then
  audit() { "$DWC_AUDIT_BIN" audit --backend all --strategy all "$@"; }
  record() { "$DWC_AUDIT_BIN" record "$@"; }
else
  audit() { cargo run --locked --release --features cli -- audit --backend all --strategy all "$@"; }
  record() { cargo run --locked --release --features cli -- record "$@"; }
fi
# The worse of two exit statuses, as within one audit: 2, then 1, then 3.
worst() {
  for w in 2 1 3; do
    if [ "$1" -eq "$w" ] || [ "$2" -eq "$w" ]; then echo "$w"; return; fi
  done
  echo 0
}
fixtures=(--dir test-programs/fixtures/root::/ --stdin test-programs/fixtures/fs_script.txt
  --wall-start 2001-09-09T01:46:40Z)
# The corpus (its one component, p3_timers.wat, included: its fuel agrees)
# and the modules on every major; the other components on this
# command's major (46) first.
audit --wasmtime all "$@" corpus/audit "${other_modules[@]}" | tee "$output" || status=$?
audit "$@" "${other_components[@]}" | tee -a "$output" || { rc=$?; status=$(worst "$status" "$rc"); }
fs_status=0
audit --wasmtime all "${fixtures[@]}" "$@" "${fs_modules[@]}" | tee -a "$output" || fs_status=$?
audit "${fixtures[@]}" "$@" "${fs_components[@]}" | tee -a "$output" || { rc=$?; fs_status=$(worst "$fs_status" "$rc"); }
# With their inputs the filesystem programs must run to the end: exit 0.
for program in "${fs_modules[@]}" "${fs_components[@]}"; do
  if ! grep -F "$program" "$output" | grep -qE '\(exit 0, |"exit_code":0[,}]'; then
    echo "error: $program did not exit 0 with its fixtures (test-programs/fixtures)" >&2
    fs_status=1
  fi
done
# Record and replay (README, "Record and replay"): every preview1 test
# program recorded under stock wasmtime-wasi on this host (real clocks,
# entropy and sleeps), then its replay audited on both strategies and both
# wasmtime majors: DETERMINISTIC, and the same run as the recording (a
# replay that differs from its log exits 1).
logs=$(mktemp -d)
for program in "${other_modules[@]}" "${fs_modules[@]}"; do
  log="$logs/$(basename "$program").log"
  if record --out "$log" "${fixtures[@]}" "$program" >/dev/null 2>&1; then
    audit --wasmtime all --replay "$log" "$program" | tee -a "$output" ||
      { rc=$?; status=$(worst "$status" "$rc"); }
  else
    echo "error: $program: record failed" >&2
    status=$(worst "$status" 2)
  fi
done
rm -rf "$logs"
# Across wasmtime majors, the components: wasmtime 50 charges fuel for the
# constant expressions it evaluates when it instantiates a component's core
# modules, 46 does not (README, "Wasmtime versions": 8 to 30 fuel here), so
# their fuel differs and nothing else may: the audit across majors leaves
# that one field out (`--ignore-field`) and must find every other field of
# every run equal. (Fuel is compared among the runs on 46 above.)
cross=$(mktemp)
ignore=(--ignore-field "fuel consumed")
{ audit --wasmtime all "${ignore[@]}" "$@" "${other_components[@]}" || true
  audit --wasmtime all "${ignore[@]}" "${fixtures[@]}" "$@" "${fs_components[@]}" || true; } >"$cross"
for program in "${other_components[@]}" "${fs_components[@]}"; do
  line=$(grep -F "$program" "$cross" || true)
  case "$line" in
    *": DETERMINISTIC "*", not compared: fuel consumed)"*) echo "$line" ;;
    *)
      echo "${line:-error: $program: no result across wasmtime majors}"
      echo "error: $program: a difference across wasmtime majors other than fuel" >&2
      status=1 ;;
  esac
done
rm -f "$cross"
status=$(worst "$status" "$fs_status")
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
