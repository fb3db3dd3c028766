//! Cost of the logical stack limit (`engine::stack`, `--max-stack`): fuel
//! and time of CPU-bound programs run as written and instrumented with the
//! default limit. The fuel table is printed before the timings (fuel is the
//! same on every host and strategy; the time is Cranelift's).
//!
//! Run: `cargo bench --bench stack`.

use criterion::{Criterion, criterion_group, criterion_main};
use deterministic_wasi_ctx::audit::{AuditConfig, Backend, Compiled, Outcome, RunSpec, Strategy};
use deterministic_wasi_ctx::engine::stack;
use wasmtime::Engine;

/// Recursive Fibonacci of 24: a call per ~10 instructions, the worst case.
const FIB: &str = r#"(module
  (memory (export "memory") 1)
  (global (export "result") (mut i32) (i32.const 0))
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "_start") (global.set 0 (call $fib (i32.const 24)))))"#;

/// A loop calling a leaf with eight locals and ~40 instructions of
/// arithmetic, 100,000 times: a compiler's small helper functions.
const LEAF_CALLS: &str = r#"(module
  (memory (export "memory") 1)
  (global (export "result") (mut i64) (i64.const 0))
  (func $mix (param $x i64) (result i64) (local i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 1 (i64.mul (local.get $x) (i64.const 0x9E3779B97F4A7C15)))
    (local.set 2 (i64.xor (local.get 1) (i64.shr_u (local.get 1) (i64.const 29))))
    (local.set 3 (i64.add (local.get 2) (i64.rotl (local.get 1) (i64.const 17))))
    (local.set 4 (i64.mul (local.get 3) (i64.const 0xBF58476D1CE4E5B9)))
    (local.set 5 (i64.xor (local.get 4) (i64.shr_u (local.get 4) (i64.const 31))))
    (local.set 6 (i64.add (local.get 5) (local.get 2)))
    (local.set 7 (i64.sub (local.get 6) (local.get 3)))
    (local.set 8 (i64.xor (local.get 7) (local.get 6)))
    (i64.add (local.get 8) (local.get 5)))
  (func (export "_start") (local $i i32) (local $acc i64)
    (loop $l
      (local.set $acc (call $mix (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (i32.const 100000))))
    (global.set 0 (local.get $acc))))"#;

/// Recursive quicksort of 20,000 pseudo-random `i32`s in linear memory.
const QUICKSORT: &str = r#"(module
  (memory (export "memory") 2)
  (global (export "result") (mut i32) (i32.const 0))
  (func $at (param i32) (result i32) (i32.shl (local.get 0) (i32.const 2)))
  (func $qs (param $lo i32) (param $hi i32) (local $p i32) (local $i i32) (local $j i32) (local $t i32)
    (if (i32.ge_s (local.get $lo) (local.get $hi)) (then (return)))
    (local.set $p (i32.load (call $at (local.get $hi))))
    (local.set $i (local.get $lo))
    (local.set $j (local.get $lo))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $j) (local.get $hi)))
      (if (i32.lt_s (i32.load (call $at (local.get $j))) (local.get $p))
        (then
          (local.set $t (i32.load (call $at (local.get $i))))
          (i32.store (call $at (local.get $i)) (i32.load (call $at (local.get $j))))
          (i32.store (call $at (local.get $j)) (local.get $t))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $l)))
    (local.set $t (i32.load (call $at (local.get $i))))
    (i32.store (call $at (local.get $i)) (i32.load (call $at (local.get $hi))))
    (i32.store (call $at (local.get $hi)) (local.get $t))
    (call $qs (local.get $lo) (i32.sub (local.get $i) (i32.const 1)))
    (call $qs (i32.add (local.get $i) (i32.const 1)) (local.get $hi)))
  (func (export "_start") (local $k i32) (local $x i32)
    (local.set $x (i32.const 12345))
    (loop $fill
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (i32.store (call $at (local.get $k)) (i32.shr_u (local.get $x) (i32.const 8)))
      (br_if $fill (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                             (i32.const 20000))))
    (call $qs (i32.const 0) (i32.const 19999))
    (global.set 0 (i32.load (i32.const 40000)))))"#;

/// Programs and the fuel each run gets (`fuel_loop` never ends: it runs
/// until the fuel is gone, and the work it did is its `iterations`).
fn programs() -> Vec<(&'static str, String, u64)> {
    let fuel_loop = include_str!("../corpus/audit/fuel_loop.wat");
    vec![
        ("fuel_loop", fuel_loop.to_string(), 10_000_000),
        ("fib24", FIB.to_string(), 1_000_000_000),
        ("leaf_calls", LEAF_CALLS.to_string(), 1_000_000_000),
        ("quicksort", QUICKSORT.to_string(), 1_000_000_000),
    ]
}

fn spec(fuel: u64, limit: Option<u32>) -> RunSpec {
    let mut spec = AuditConfig::default().spec;
    spec.fuel = fuel;
    spec.config = spec.config.max_stack(limit);
    spec
}

fn run(engine: &Engine, compiled: &Compiled, spec: &RunSpec) -> Outcome {
    compiled.run(engine, Backend::WasmtimeWasi, spec)
}

fn overhead(c: &mut Criterion) {
    let engine = Strategy::Cranelift.engine().expect("engine");
    println!("program     fuel off     fuel on      fuel +%   result (off = on)");
    let mut fixtures = Vec::new();
    for (name, wat, fuel) in programs() {
        let wasm = wat::parse_str(&wat).expect("program parses");
        let mut outcomes = Vec::new();
        for limit in [None, Some(stack::DEFAULT_MAX_STACK)] {
            let spec = spec(fuel, limit);
            let compiled = Compiled::prepared(&engine, &wasm, &spec).expect("compiles");
            outcomes.push(run(&engine, &compiled, &spec));
            fixtures.push((name, limit.is_some(), compiled, spec));
        }
        let (off, on) = (&outcomes[0], &outcomes[1]);
        // fuel_loop spends all its fuel either way: compare work done.
        let (work_off, work_on, result) = if name == "fuel_loop" {
            let iterations = |o: &Outcome| -> f64 {
                let value = &o.globals[0].1;
                value
                    .trim_start_matches("i64:")
                    .parse()
                    .expect("iterations")
            };
            (
                1.0 / iterations(off),
                1.0 / iterations(on),
                "iterations per fuel",
            )
        } else {
            assert_eq!(
                off.globals, on.globals,
                "{name}: the limit changed the result"
            );
            assert_eq!(off.status, on.status, "{name}");
            (off.fuel_consumed as f64, on.fuel_consumed as f64, "same")
        };
        println!(
            "{name:<11} {:>11} {:>11} {:>9.1}%   {} ({result}: {})",
            off.fuel_consumed,
            on.fuel_consumed,
            100.0 * (work_on / work_off - 1.0),
            off.status,
            off.globals.first().map_or("", |g| g.1.as_str()),
        );
    }
    for (name, on, compiled, spec) in &fixtures {
        let id = format!("{name}/{}", if *on { "limit_on" } else { "limit_off" });
        c.bench_function(&id, |b| b.iter(|| run(&engine, compiled, spec)));
    }
}

criterion_group!(benches, overhead);
criterion_main!(benches);
