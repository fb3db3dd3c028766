#!/usr/bin/env python3
"""Helpers for .ci/cross.sh: generate the fixed set of modules, compare audit
results between ISAs, and show that the comparison catches a difference.

    cross.py generate DIR [COUNT]          write COUNT (32) generated .wat modules to DIR
    cross.py compare NATIVE OTHER ISA      compare two `audit --json` results
    cross.py self-test NATIVE              alter NATIVE's results; each must be caught

A result file holds the audits' exit statuses on its first line
(`exit_status N...`), then the audits' `--json` lines (one object per file).

The generated modules are a pure function of their index (splitmix64 from a
fixed seed; no library random generator whose stream could change between
Python versions). Each mixes work whose result a careless host could change:
float operations on NaN payloads, signed zeros, infinities and subnormals;
integer division, rotations and saturating conversions; SIMD and relaxed
SIMD lanes; unaligned little-endian loads and stores (the guest's byte order
on a big-endian host); and host calls (random_get, clock_time_get,
poll_oneoff, sched_yield, fd_write, proc_exit) whose answers are written
into guest memory. Every result lands in the exported memory, is folded
into an exported global and is written to stdout.
"""

import json
import sys

MASK64 = (1 << 64) - 1
SEED = 0xC0FFEE_5EED


class SplitMix64:
    """splitmix64: the generator's only source of choices."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def pick(self, items):
        return items[self.below(len(items))]


F32_BITS = [
    0x7FC00000, 0xFFC00000, 0x7FA00001, 0xFF800123, 0x7F800001,  # NaNs with payloads
    0x00000000, 0x80000000, 0x7F800000, 0xFF800000,  # zeros, infinities
    0x00000001, 0x807FFFFF, 0x3F800000, 0xC0490FDB, 0x4B000001,  # subnormals, 1, -pi, 2^23+1
]
F64_BITS = [
    0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000001, 0xFFF0000000ABCDEF,
    0x0000000000000000, 0x8000000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
    0x0000000000000001, 0x800FFFFFFFFFFFFF, 0x3FF0000000000000, 0xC00921FB54442D18,
    0x4330000000000001,
]


def f32_bits(rng):
    return rng.pick(F32_BITS) if rng.below(3) else rng.next() & 0xFFFFFFFF


def f64_bits(rng):
    return rng.pick(F64_BITS) if rng.below(3) else rng.next()


def f32(bits):
    return f"(f32.reinterpret_i32 (i32.const {bits - (1 << 32) if bits >> 31 else bits}))"


def f64(bits):
    return f"(f64.reinterpret_i64 (i64.const {bits - (1 << 64) if bits >> 63 else bits}))"


def v128(rng):
    lanes = " ".join(str(rng.next() & 0xFFFFFFFF) for _ in range(4))
    return f"(v128.const i32x4 {lanes})"


def i64c(value):
    return f"(i64.const {value - (1 << 64) if value >> 63 else value})"


# Each step writes its result into its own 32-byte slot; `{s}` is the slot's
# address.
def step(rng, s):
    kind = rng.below(12)
    if kind == 0:
        op = rng.pick(["add", "sub", "mul", "div", "min", "max", "copysign"])
        return f"(f32.store (i32.const {s}) (f32.{op} {f32(f32_bits(rng))} {f32(f32_bits(rng))}))"
    if kind == 1:
        op = rng.pick(["sqrt", "ceil", "floor", "trunc", "nearest", "neg", "abs"])
        return f"(f32.store (i32.const {s}) (f32.{op} {f32(f32_bits(rng))}))"
    if kind == 2:
        op = rng.pick(["add", "sub", "mul", "div", "min", "max", "copysign"])
        return f"(f64.store (i32.const {s}) (f64.{op} {f64(f64_bits(rng))} {f64(f64_bits(rng))}))"
    if kind == 3:
        conv = rng.pick([
            f"(f64.promote_f32 {f32(f32_bits(rng))})",
            f"(f64.sqrt {f64(f64_bits(rng))})",
            f"(f64.nearest {f64(f64_bits(rng))})",
            f"(f64.convert_i64_u {i64c(rng.next())})",
        ])
        return f"(f64.store (i32.const {s}) {conv})" + (
            f"\n    (f32.store (i32.const {s + 8}) (f32.demote_f64 {f64(f64_bits(rng))}))"
        )
    if kind == 4:
        a, b = rng.next(), rng.next() | 1
        op = rng.pick(["mul", "div_u", "rem_u", "rotl", "rotr", "shr_s", "xor"])
        return (
            f"(i64.store (i32.const {s}) (i64.{op} {i64c(a)} {i64c(b)}))\n"
            f"    (i64.store (i32.const {s + 8}) (i64.add (i64.popcnt {i64c(a)}) (i64.clz {i64c(b)})))"
        )
    if kind == 5:
        return (
            f"(i64.store (i32.const {s}) (i64.trunc_sat_f64_s {f64(f64_bits(rng))}))\n"
            f"    (i32.store (i32.const {s + 8}) (i32.trunc_sat_f32_u {f32(f32_bits(rng))}))"
        )
    if kind == 6:
        op = rng.pick([
            "f32x4.add", "f32x4.mul", "f32x4.div", "f32x4.min", "f32x4.max", "f64x2.pmin",
            "i8x16.swizzle", "i16x8.q15mulr_sat_s", "i8x16.avgr_u", "i32x4.dot_i16x8_s",
        ])
        return f"(v128.store (i32.const {s}) ({op} {v128(rng)} {v128(rng)}))"
    if kind == 7:
        op = rng.pick([
            ("f32x4.relaxed_madd", 3), ("f64x2.relaxed_nmadd", 3), ("i8x16.relaxed_swizzle", 2),
            ("f32x4.relaxed_min", 2), ("f64x2.relaxed_max", 2), ("i32x4.relaxed_trunc_f32x4_s", 1),
            ("i16x8.relaxed_q15mulr_s", 2), ("i16x8.relaxed_dot_i8x16_i7x16_s", 2),
            ("i8x16.relaxed_laneselect", 3), ("f32x4.sqrt", 1), ("i32x4.trunc_sat_f32x4_u", 1),
        ])
        args = " ".join(v128(rng) for _ in range(op[1]))
        return f"(v128.store (i32.const {s}) ({op[0]} {args}))"
    if kind == 8:
        # Little-endian memory on every host: a store, then narrower and
        # unaligned loads of it.
        return (
            f"(i64.store (i32.const {s}) {i64c(rng.next())})\n"
            f"    (i32.store (i32.const {s + 8}) (i32.load offset=3 (i32.const {s})))\n"
            f"    (i32.store16 (i32.const {s + 12}) (i32.load16_s offset=5 (i32.const {s})))\n"
            f"    (i64.store offset=1 (i32.const {s + 16}) (i64.load8_u offset=7 (i32.const {s})))"
        )
    if kind == 9:
        length = 1 + rng.below(32)
        return f"(i32.store (i32.const {s + 28}) (call $random_get (i32.const {s}) (i32.const {length})))"
    if kind == 10:
        clock = rng.below(2)
        return (
            f"(i32.store (i32.const {s + 8}) "
            f"(call $clock_time_get (i32.const {clock}) {i64c(rng.below(1000))} (i32.const {s})))"
        )
    # A relative clock subscription at 256, its event in the slot.
    timeout = rng.below(5_000_000)
    return (
        f"(i64.store (i32.const 256) {i64c(rng.next())})\n"
        f"    (i32.store8 (i32.const 264) (i32.const 0))\n"
        f"    (i32.store (i32.const 272) (i32.const {rng.below(2)}))\n"
        f"    (i64.store (i32.const 280) (i64.const {timeout}))\n"
        f"    (i64.store (i32.const 288) (i64.const 0))\n"
        f"    (i32.store16 (i32.const 296) (i32.const 0))\n"
        f"    (drop (call $poll_oneoff (i32.const 256) (i32.const {s}) (i32.const 1) (i32.const 320)))\n"
        f"    (drop (call $sched_yield))"
    )


SLOTS = 1024
SLOT = 32


def module(index):
    rng = SplitMix64(SEED + index)
    steps = 8 + rng.below(25)
    body = []
    for k in range(steps):
        s = SLOTS + SLOT * k
        body.append(step(rng, s))
        # Fold the slot into the exported accumulator.
        for half in (0, 8, 16, 24):
            body.append(
                f"(global.set $acc (i64.add (i64.rotl (global.get $acc) (i64.const 7)) "
                f"(i64.load (i32.const {s + half}))))"
            )
    length = SLOT * steps
    body.append(f"(i32.store (i32.const 0) (i32.const {SLOTS}))")
    body.append(f"(i32.store (i32.const 4) (i32.const {length}))")
    body.append("(drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))")
    if rng.below(2):
        body.append("(call $proc_exit (i32.wrap_i64 (i64.and (global.get $acc) (i64.const 127))))")
    lines = "\n    ".join(body)
    return f""";; Generated by .ci/cross.py (module {index}); do not edit.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $acc (export "acc") (mut i64) (i64.const 0))
  (func (export "_start")
    {lines}))
"""


def generate(directory, count):
    import os

    os.makedirs(directory, exist_ok=True)
    for index in range(count):
        with open(os.path.join(directory, f"gen_{index:02}.wat"), "w") as f:
            f.write(module(index))


# The fields compared, in the order a difference is reported: the outcome a
# user sees first, then the digest (which covers all of them, the trace and
# the exported memories and globals).
FIELDS = [
    "verdict", "exit_code", "trap", "stdout", "stderr", "fuel_consumed", "host_calls",
    "poisoned_runs", "digest",
]


def read_result(path):
    """The audit's exit status and its objects by path, in order."""
    with open(path) as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith("exit_status "):
        raise ValueError(f"{path}: the first line is not `exit_status N`")
    status = lines[0].split(maxsplit=1)[1]
    files = {}
    for line in lines[1:]:
        if line.strip():
            obj = json.loads(line)
            files[obj["path"]] = obj
    return status, files


def differences(native, other, isa):
    """Every difference between two results, one message each (the first
    differing field per file)."""
    (native_status, native_files), (other_status, other_files) = native, other
    found = []
    if native_status != other_status:
        found.append(f"the audit's exit status: x86_64 {native_status}, {isa} {other_status}")
    for path in native_files.keys() | other_files.keys():
        if path not in other_files:
            found.append(f"{path}: audited on x86_64, missing on {isa}")
            continue
        if path not in native_files:
            found.append(f"{path}: audited on {isa}, missing on x86_64")
            continue
        a, b = native_files[path], other_files[path]
        for field in FIELDS:
            if a.get(field) != b.get(field):
                found.append(
                    f"{path}: {field} differs: x86_64 {json.dumps(a.get(field))}, "
                    f"{isa} {json.dumps(b.get(field))}"
                )
                break
    return sorted(found)


def compare(native_path, other_path, isa):
    found = differences(read_result(native_path), read_result(other_path), isa)
    for message in found:
        print(f"cross: DIFFERENCE {isa}: {message}", file=sys.stderr)
    print(len(found))
    return 0


def self_test(native_path):
    """Alters one field of one file at a time (and the exit status); the
    comparison must report exactly that file and field."""
    native = read_result(native_path)
    status, files = native
    if not files:
        raise SystemExit("cross self-test: no audited files")
    first = next(iter(files))
    alterations = {
        "digest": lambda v: ("0" if v[0] != "0" else "1") + v[1:],
        "fuel_consumed": lambda v: v + 1,
        "stdout": lambda v: v + "00",
        "exit_code": lambda v: 1 if v != 1 else 2,
        "verdict": lambda v: "diverged",
    }
    failures = 0
    for field, alter in alterations.items():
        altered = {path: dict(obj) for path, obj in files.items()}
        altered[first][field] = alter(altered[first][field] if altered[first][field] is not None else 0)
        found = differences(native, (status, altered), "altered")
        expected = f"{first}: {field} differs: "
        if len(found) != 1 or not found[0].startswith(expected):
            print(f"cross self-test: altering {field} of {first} was not caught: {found}", file=sys.stderr)
            failures += 1
    dropped = {path: obj for path, obj in files.items() if path != first}
    if differences(native, (status, dropped), "altered") != [f"{first}: audited on x86_64, missing on altered"]:
        print("cross self-test: a missing file was not caught", file=sys.stderr)
        failures += 1
    if not differences(native, (status + " 1", files), "altered"):
        print("cross self-test: a different exit status was not caught", file=sys.stderr)
        failures += 1
    if differences(native, native, "same"):
        print("cross self-test: identical results were reported different", file=sys.stderr)
        failures += 1
    if failures:
        return 1
    print(f"cross self-test: {len(alterations) + 2} deliberate differences in {first} caught, none reported for identical results", file=sys.stderr)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "generate":
        generate(argv[1], int(argv[2]) if len(argv) > 2 else 32)
        return 0
    if len(argv) == 4 and argv[0] == "compare":
        return compare(argv[1], argv[2], argv[3])
    if len(argv) == 2 and argv[0] == "self-test":
        return self_test(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
