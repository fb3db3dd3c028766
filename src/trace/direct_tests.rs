//! After its first call in a Store, the tracer calls a served function's
//! body directly instead of entering wasmtime a second time, and nothing the
//! guest or the trace can see changes: the proxied route (every call through
//! wasmtime and a proxy instance) and an untraced run are the oracles.

use super::Recorder;
use super::test_runs::{FUEL, Mode, p1_linker, start_to_trap};
use crate::{DeterminismConfig, engine};
use wasmtime::{Linker, Module, Store};

/// Ten rounds of five served functions, then a `random_get` out of bounds,
/// which traps (on a call the tracer makes directly).
const ROUNDS: &str = r#"(module
    (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "\50\00\00\00\03\00\00\00")
    (data (i32.const 80) "hi\n")
    (func (export "_start") (local $i i32) (local $errnos i32)
        (loop $round
            (local.set $errnos (i32.add (local.get $errnos)
                (i32.add
                    (i32.add (call $now (i32.const 1) (i64.const 1) (i32.const 8))
                             (call $random (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2))) (i32.const 4)))
                    (i32.add (i32.add (call $sizes (i32.const 16) (i32.const 20))
                                      (call $write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 24)))
                             (call $yield)))))
            (i32.store (i32.const 32) (local.get $errnos))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $round (i32.lt_u (local.get $i) (i32.const 10))))
        (drop (call $random (i32.const 65530) (i32.const 64)))))"#;

/// What a run of [`ROUNDS`] ended in, the memory and fuel it left, the
/// trace (call count, digest, every call in full) and how many times served
/// functions were entered through wasmtime.
#[derive(Debug, PartialEq)]
struct Ran {
    error: String,
    fuel_consumed: u64,
    memory: Vec<u8>,
    trace: Option<(u64, [u8; 32], Vec<String>)>,
    entries: u64,
}

fn run<T: 'static>(linker: &Linker<T>, data: T, module: &Module, mode: Mode) -> Ran {
    let mut store = Store::new(linker.engine(), data);
    store.set_fuel(FUEL).unwrap();
    let recorder = Recorder::new(1000);
    let entries_before = crate::served::entries();
    let instance = mode
        .instantiate(linker, &mut store, module, &recorder)
        .unwrap();
    let ran = start_to_trap(&mut store, instance, &recorder, mode != Mode::Plain);
    Ran {
        error: ran.error,
        fuel_consumed: ran.fuel_consumed,
        memory: ran.memory,
        trace: ran.trace,
        entries: crate::served::entries() - entries_before,
    }
}

/// Runs [`ROUNDS`] the three ways on `linker` and checks them against each
/// other; returns the served run.
fn assert_direct_calls_change_nothing<T: 'static>(
    linker: &Linker<T>,
    module: &Module,
    data: impl Fn() -> T,
) -> Ran {
    let plain = run(linker, data(), module, Mode::Plain);
    let proxied = run(linker, data(), module, Mode::Proxied);
    let served = run(linker, data(), module, Mode::Served);
    assert!(plain.error.contains("out of bounds"), "{}", plain.error);
    assert_eq!(
        u32::from_le_bytes(plain.memory[32..36].try_into().unwrap()),
        0
    );
    assert_eq!(plain.entries, 51);
    assert_eq!(proxied.entries, 51, "the proxied route enters every time");
    // Each of the five imports is entered once, to hand its body over.
    assert_eq!(served.entries, 5, "the served route calls directly");
    let (calls, _, events) = served.trace.clone().unwrap();
    assert_eq!(calls, 51);
    assert_eq!(events[50], "random_get(buf=0xfffa, len=64) -> trap");
    assert_eq!(served.trace, proxied.trace);
    // The proxy adds a frame to the backtrace, so only the plain run's
    // error must be the served run's to the letter.
    assert_eq!(served.error, plain.error);
    let untraced = |r: &Ran| (r.fuel_consumed, r.memory.clone());
    assert_eq!(untraced(&served), untraced(&plain));
    assert_eq!(untraced(&proxied), untraced(&plain));
    served
}

#[test]
fn served_bodies_called_directly_answer_as_through_wasmtime() {
    let engine = engine::deterministic_engine().unwrap();
    let module = Module::new(&engine, ROUNDS).unwrap();
    let config = DeterminismConfig::new();
    let p1 = p1_linker(&engine);
    let on_p1 = assert_direct_calls_change_nothing(&p1, &module, || config.build_p1());
    // The trace is the same on both backends.
    #[cfg(feature = "wasi-common")]
    {
        let common = super::test_runs::common_linker(&engine);
        let on_common =
            assert_direct_calls_change_nothing(&common, &module, || config.build_wasi_common());
        assert_eq!(on_common.trace, on_p1.trace);
    }
    #[cfg(not(feature = "wasi-common"))]
    drop(on_p1);
}

/// A function the embedder defines over a served one offers no body: the
/// tracer calls it through wasmtime every time, and it is what runs.
#[test]
fn a_function_defined_over_a_served_one_is_still_called() {
    let engine = engine::deterministic_engine().unwrap();
    let module = Module::new(&engine, ROUNDS).unwrap();
    let mut linker = p1_linker(&engine);
    let yields = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = yields.clone();
    // Linking left shadowing off (wasmtime's default): the embedder asks.
    linker.allow_shadowing(true);
    linker
        .func_wrap("wasi_snapshot_preview1", "sched_yield", move || -> i32 {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            0
        })
        .unwrap();
    let ctx = || DeterminismConfig::new().build_p1();
    let plain = run(&linker, ctx(), &module, Mode::Plain);
    assert_eq!(yields.swap(0, std::sync::atomic::Ordering::Relaxed), 10);
    let served = run(&linker, ctx(), &module, Mode::Served);
    assert_eq!(yields.load(std::sync::atomic::Ordering::Relaxed), 10);
    assert_eq!(plain.entries, 41, "sched_yield is not served");
    assert_eq!(served.entries, 4);
    assert_eq!(served.error, plain.error);
    let (_, _, events) = served.trace.unwrap();
    assert_eq!(
        events.iter().filter(|e| *e == "sched_yield() -> 0").count(),
        10
    );
}
