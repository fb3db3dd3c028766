//! The default logical stack limit fires before the native stack can
//! overflow, under Cranelift and Pulley, for the frame shapes that use the
//! most native stack per slot of the rule.
//!
//! For each shape, the recursion is run twice on each strategy: without the
//! limit, to find the native depth at which wasmtime reports a stack
//! overflow; and instrumented with [`stack::DEFAULT_MAX_STACK`], where it
//! must end in the logical trap (`unreachable`) at a depth that leaves the
//! native stack at least [`MARGIN`] times what it used. Each call bumps an
//! exported global, read after the trap.

use deterministic_wasi_ctx::engine::{self, stack};
use wasmtime::{Engine, Instance, Module, Store, Trap};

/// How much native stack must be left over at the logical limit: the
/// deepest logical recursion may use at most 1/MARGIN of the native depth.
const MARGIN: f64 = 1.5;

/// `n` copies of `item`, separated by spaces.
fn repeat(item: &str, n: usize) -> String {
    vec![item; n].join(" ")
}

/// A v128 value that must be kept across a call: a load (the call may
/// write memory, so it cannot be done again after it) from its own address
/// (so no two are merged). A value computed from a global would not do:
/// Cranelift computes pure values where they are used, after the call.
fn distinct(i: usize) -> String {
    format!("(v128.load offset={} (i32.const 0))", 16 * i)
}

/// Recursive frame shapes that spend the most native stack per slot.
fn shapes() -> Vec<(&'static str, String)> {
    let bump = "(global.set $n (i32.add (global.get $n) (i32.const 1)))";
    let module = |body: String| {
        format!(
            r#"(module (memory 1) (global $n (export "n") (mut i32) (i32.const 0)) {body}
               (func (export "run") (call $f)))"#
        )
    };
    let mut shapes = Vec::new();
    // The smallest frame: cost 2 + 0 + 0 + 2.
    shapes.push(("empty", module(format!("(func $f {bump} (call $f))"))));
    // 32 v128 locals live across the call (their sum is stored after it):
    // 16 bytes each when spilled.
    let sets: String = (0..32)
        .map(|i| format!("(local.set {i} {})", distinct(i)))
        .collect();
    let uses: String = (0..32)
        .map(|i| format!("(local.get {i}) i8x16.add "))
        .collect();
    shapes.push((
        "v128 locals",
        module(format!(
            "(func $f (local {}) {bump} {sets} (call $f) (i32.const 1024)
                (v128.const i64x2 0 0) {uses} v128.store)",
            repeat("v128", 32)
        )),
    ));
    // 32 v128 operands live across the call.
    shapes.push((
        "v128 operands",
        module(format!(
            "(func $f {bump} (i32.const 1024) {} (call $f) {} v128.store)",
            (0..32).map(distinct).collect::<String>(),
            repeat("i8x16.add", 31)
        )),
    ));
    // 24 i64 parameters passed on: most go on the native stack.
    shapes.push((
        "i64 params",
        format!(
            r#"(module (global $n (export "n") (mut i32) (i32.const 0))
               (func $f (param {}) {bump} (call $f {}))
               (func (export "run") (call $f {})))"#,
            repeat("i64", 24),
            (0..24)
                .map(|i| format!("(local.get {i})"))
                .collect::<Vec<_>>()
                .join(" "),
            repeat("(i64.const 1)", 24)
        ),
    ));
    // 24 i64 results: the caller keeps a return area.
    shapes.push((
        "i64 results",
        format!(
            r#"(module (global $n (export "n") (mut i32) (i32.const 0))
               (func $f (result {}) {bump} (call $f))
               (func (export "run") (call $f) {}))"#,
            repeat("i64", 24),
            repeat("drop", 24)
        ),
    ));
    shapes
}

fn engine(pulley: bool) -> Engine {
    let mut config = engine::deterministic_config();
    if pulley {
        config
            .target(engine::PULLEY_HOST_TARGET)
            .expect("pulley target");
    }
    Engine::new(&config).expect("engine")
}

/// Runs `wasm` until it traps; returns the trap and the calls made.
fn depth(engine: &Engine, wasm: &[u8]) -> (Trap, i32) {
    let module = Module::new(engine, wasm).expect("shape compiles");
    let mut store = Store::new(engine, ());
    store.set_fuel(u64::MAX / 2).expect("fuel");
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .expect("run");
    let error = run.call(&mut store, ()).expect_err("recursion traps");
    let trap = *error.downcast_ref::<Trap>().expect("a trap");
    let n = instance.get_global(&mut store, "n").expect("n");
    (trap, n.get(&mut store).unwrap_i32())
}

#[test]
fn the_default_limit_fires_well_before_the_native_stack_overflows() {
    for (name, wat) in shapes() {
        let wasm = wat::parse_str(&wat).expect("shape parses");
        let limited = stack::instrument(&wasm, stack::DEFAULT_MAX_STACK).expect("instruments");
        for pulley in [false, true] {
            let engine = engine(pulley);
            let strategy = if pulley { "pulley" } else { "cranelift" };
            let (trap, native) = depth(&engine, &wasm);
            assert_eq!(trap, Trap::StackOverflow, "{name} on {strategy}, no limit");
            let (trap, logical) = depth(&engine, &limited);
            assert_eq!(
                trap,
                Trap::UnreachableCodeReached,
                "{name} on {strategy}: the logical limit must fire first"
            );
            let ratio = native as f64 / logical as f64;
            eprintln!(
                "{name:>14} {strategy:>9}: native depth {native:>6}, logical {logical:>6}, margin {ratio:.2}"
            );
            assert!(
                ratio >= MARGIN,
                "{name} on {strategy}: native depth {native} is only {ratio:.2} times the logical {logical}"
            );
        }
    }
}
