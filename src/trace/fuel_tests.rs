//! Tracing must not change the run: for guests that run out of fuel before,
//! between and right after host calls, a traced run and a plain
//! `linker.instantiate` run consume the same fuel, end the same way and
//! leave the same memory (each completed call writes its own slot, so equal
//! memories mean the same calls completed).

use super::test_runs::{Mode, common_linker, p1_linker};
use super::{Recorder, instantiate_traced};
use crate::{DeterminismConfig, engine};
use wasmtime::{Engine, Linker, Module, Store};

/// What a run left behind that tracing must not change.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    status: String,
    fuel_consumed: u64,
    memory: Vec<u8>,
}

fn status(result: wasmtime::Result<()>) -> String {
    match result {
        Ok(()) => "returned".into(),
        Err(e) => match (super::exit_status(&e), e.downcast_ref::<wasmtime::Trap>()) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(trap)) => format!("trap {trap:?}"),
            (None, None) => format!("error {}", e.root_cause()),
        },
    }
}

/// Runs `_start` with `fuel`; also returns the recorder's call count and
/// digest for a traced run.
fn run<T: 'static>(
    linker: &Linker<T>,
    data: T,
    module: &Module,
    fuel: u64,
    mode: Mode,
) -> (Observed, Option<(u64, [u8; 32])>) {
    let mut store = Store::new(linker.engine(), data);
    store.set_fuel(fuel).unwrap();
    let recorder = Recorder::new(0);
    let instance = mode
        .instantiate(linker, &mut store, module, &recorder)
        .expect("instantiate");
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let result = start.call(&mut store, ());
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let observed = Observed {
        status: status(result),
        fuel_consumed: fuel - store.get_fuel().unwrap(),
        memory: memory.data(&store).to_vec(),
    };
    let trace = recorder.trace();
    (
        observed,
        (mode != Mode::Plain).then(|| (trace.calls(), trace.digest())),
    )
}

/// `random_get` calls completed: each writes 4 nonzero bytes (for the
/// default seed) into its own slot from offset 1024.
fn completed_calls(memory: &[u8]) -> u64 {
    memory[1024..]
        .chunks(4)
        .take_while(|slot| slot.iter().any(|&b| b != 0))
        .count() as u64
}

/// A loop of WASI calls: each iteration reads the clock and draws 4 random
/// bytes into the next slot.
const LOOP: &str = r#"(module
    (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start") (local $i i32)
        (loop $next
            (drop (call $now (i32.const 1) (i64.const 1) (i32.const 8)))
            (drop (call $random
                (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))
                (i32.const 4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $next (i32.lt_u (local.get $i) (i32.const 40))))))"#;

/// Straight-line code between host calls, with calls to a wasm function
/// (whose entry checks fuel) in between: with little fuel the guest
/// overspends before a host call and traps at the next check after it.
fn straight_line() -> String {
    let filler = "(drop (i32.const 0)) ".repeat(7);
    let steps: String = (0..12)
        .map(|i| {
            format!(
                "{filler} (drop (call $random (i32.const {}) (i32.const 4))) {filler} (call $work)\n",
                1024 + 4 * i
            )
        })
        .collect();
    format!(
        r#"(module
    (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func $work {filler})
    (func (export "_start") {steps}))"#
    )
}

/// For every fuel amount in `fuels`, traced (both ways) and untraced runs
/// of `wat` on both preview1 backends observe the same, and both traced runs
/// record the same trace; returns the distinct numbers of calls completed,
/// so callers can check the sweep crossed host calls.
fn assert_tracing_changes_nothing(wat: &str, fuels: std::ops::Range<u64>) -> Vec<u64> {
    let engine = engine::deterministic_engine().unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let p1 = p1_linker(&engine);
    let stock_common = stock_common_linker(&engine);
    let common = common_linker(&engine);
    let mut completed = Vec::new();
    for fuel in fuels {
        let config = DeterminismConfig::new();
        let (plain, _) = run(&p1, config.build_p1(), &module, fuel, Mode::Plain);
        let (traced, proxied) = run(&p1, config.build_p1(), &module, fuel, Mode::Proxied);
        assert_eq!(plain, traced, "wasmtime-wasi, fuel {fuel}");
        let (direct, served) = run(&p1, config.build_p1(), &module, fuel, Mode::Served);
        assert_eq!(plain, direct, "wasmtime-wasi served, fuel {fuel}");
        assert_eq!(proxied, served, "wasmtime-wasi trace, fuel {fuel}");
        let (calls, _) = proxied.unwrap();
        assert!(
            calls >= completed_calls(&plain.memory),
            "fuel {fuel}: {calls} recorded"
        );
        let common_run = |mode| run(&common, config.build_wasi_common(), &module, fuel, mode);
        let (plain_common, _) = common_run(Mode::Plain);
        let (direct_common, served_common) = common_run(Mode::Served);
        assert_eq!(
            plain_common, direct_common,
            "wasi-common served, fuel {fuel}"
        );
        assert_eq!(served_common, served, "wasi-common trace, fuel {fuel}");
        let stock_run = |mode| {
            let wasi = config.build_wasi_common().wasi;
            run(&stock_common, wasi, &module, fuel, mode)
        };
        let (plain_common, _) = stock_run(Mode::Plain);
        let (traced_common, _) = stock_run(Mode::Proxied);
        assert_eq!(plain_common, traced_common, "wasi-common, fuel {fuel}");
        let done = completed_calls(&plain.memory);
        if !completed.contains(&done) {
            completed.push(done);
        }
    }
    completed
}

fn stock_common_linker(engine: &Engine) -> Linker<wasi_common::WasiCtx> {
    let mut linker = Linker::new(engine);
    wasi_common::sync::add_to_linker(&mut linker, |t| t).unwrap();
    linker
}

#[test]
fn a_loop_of_wasi_calls_burns_the_same_fuel_traced() {
    let engine = engine::deterministic_engine().unwrap();
    let module = Module::new(&engine, LOOP).unwrap();
    let config = DeterminismConfig::new();
    let linker = p1_linker(&engine);
    let (plain, _) = run(&linker, config.build_p1(), &module, 1_000_000, Mode::Plain);
    let (traced, proxied) = run(
        &linker,
        config.build_p1(),
        &module,
        1_000_000,
        Mode::Proxied,
    );
    let (direct, served) = run(&linker, config.build_p1(), &module, 1_000_000, Mode::Served);
    assert_eq!(plain.status, "returned");
    assert_eq!(completed_calls(&plain.memory), 40);
    assert_eq!(proxied.map(|(calls, _)| calls), Some(80));
    assert_eq!(plain, traced);
    assert_eq!(plain, direct);
    assert_eq!(proxied, served);
}

#[test]
fn running_out_of_fuel_in_a_loop_of_wasi_calls_is_unchanged_by_tracing() {
    // About 12 fuel per iteration: 0..600 crosses every one of the 40.
    let completed = assert_tracing_changes_nothing(LOOP, 0..600);
    assert!(completed.len() > 30, "{completed:?}");
}

#[test]
fn overspending_before_a_host_call_is_unchanged_by_tracing() {
    let completed = assert_tracing_changes_nothing(&straight_line(), 0..300);
    assert!(completed.len() > 10, "{completed:?}");
}

/// Without fuel on the engine there is nothing to save or restore: the
/// traced call still runs.
#[test]
fn tracing_works_on_an_engine_without_fuel() {
    let engine = Engine::default();
    let module = Module::new(&engine, LOOP).unwrap();
    let linker = p1_linker(&engine);
    let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
    assert!(store.get_fuel().is_err());
    let recorder = Recorder::new(0);
    let instance = instantiate_traced(&linker, &mut store, &module, &recorder).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    start.call(&mut store, ()).unwrap();
    assert_eq!(recorder.trace().calls(), 80);
}
