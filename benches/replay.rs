//! Record and replay, per call: stock wasmtime-wasi untraced, traced, and
//! recording into a log; the log replayed, untraced and traced; the
//! deterministic context untraced. Three calls: `clock_time_get`,
//! `random_get` of 16 bytes, `fd_write` of 16 bytes to stdout (a sink).
//! Prints each log's bytes per call before the timings.
//!
//! Run: `cargo bench --bench replay` (README, "Record and replay").

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use deterministic_wasi_ctx::replay::{self, LogEnd, LogWriter, Replayer};
use deterministic_wasi_ctx::trace::{self, CallResult, Recorder};
use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
use std::sync::{Arc, Mutex};
use wasmtime::{Engine, Instance, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;

/// `calls(n)` makes `n` calls of the export's function.
const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "\50\00\00\00\10\00\00\00")
  (data (i32.const 80) "0123456789abcdef")
  (func (export "clock") (param $n i32)
    (loop $l
      (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "random") (param $n i32)
    (loop $l
      (drop (call $random (i32.const 128) (i32.const 16)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "write") (param $n i32)
    (loop $l
      (drop (call $write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 32)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "_start")))"#;

const N: i32 = 10_000;

fn stock_store(engine: &Engine) -> Store<WasiP1Ctx> {
    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
        .stdout(wasmtime_wasi::p2::pipe::SinkOutputStream)
        .build_p1();
    let mut store = Store::new(engine, ctx);
    store.set_fuel(u64::MAX).expect("fuel");
    store
}

fn stock_linker(engine: &Engine) -> Linker<WasiP1Ctx> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    linker
}

fn call<T>(store: &mut Store<T>, instance: &Instance, export: &str, n: i32) {
    instance
        .get_typed_func::<i32, ()>(&mut *store, export)
        .expect("export")
        .call(&mut *store, n)
        .expect("call");
}

/// A log of `calls(N)` of `export` under stock (after instantiation).
fn recording(engine: &Engine, module: &Module, export: &str) -> Vec<u8> {
    let log = Arc::new(Mutex::new(
        LogWriter::new(Vec::new(), GUEST.as_bytes()).expect("log"),
    ));
    let recorder = Recorder::new(0).with_sink(log.clone());
    let mut store = stock_store(engine);
    let instance = trace::instantiate_traced_stock(
        &stock_linker(engine),
        &mut store,
        module,
        &recorder,
        |t| t,
    )
    .expect("instantiate");
    call(&mut store, &instance, export, N);
    drop((store, recorder));
    let end = LogEnd::new(0, CallResult::Exit(0), b"", b"");
    Arc::try_unwrap(log)
        .expect("one owner")
        .into_inner()
        .expect("lock")
        .finish(&end)
        .expect("end")
}

fn replay_fixture(
    engine: &Engine,
    module: &Module,
    log: &[u8],
    traced: bool,
) -> (Store<Replayer>, Instance) {
    let mut linker = Linker::new(engine);
    replay::add_to_linker(&mut linker, module, |r: &mut Replayer| r).expect("link");
    let replayer = Replayer::new(std::io::Cursor::new(log.to_vec())).expect("log");
    let mut store = Store::new(engine, replayer);
    store.set_fuel(u64::MAX).expect("fuel");
    let instance = match traced {
        true => trace::instantiate_traced(&linker, &mut store, module, &Recorder::new(0)),
        false => linker.instantiate(&mut store, module),
    }
    .expect("instantiate");
    (store, instance)
}

fn per_call(c: &mut Criterion) {
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, GUEST).expect("module");
    let logs: Vec<(&str, Vec<u8>)> = ["clock", "random", "write"]
        .into_iter()
        .map(|export| (export, recording(&engine, &module, export)))
        .collect();
    for (export, log) in &logs {
        println!(
            "{export}: log of {N} calls, {} bytes, {:.2} bytes per call",
            log.len(),
            log.len() as f64 / f64::from(N)
        );
    }
    let mut group = c.benchmark_group(format!("{N}_calls"));
    group.sample_size(20);
    for (export, log) in &logs {
        group.bench_function(format!("{export}/stock"), |b| {
            b.iter_batched(
                || {
                    let mut store = stock_store(&engine);
                    let instance = stock_linker(&engine)
                        .instantiate(&mut store, &module)
                        .expect("instantiate");
                    (store, instance)
                },
                |(mut store, instance)| call(&mut store, &instance, export, N),
                BatchSize::PerIteration,
            )
        });
        // As `record` runs (stock's functions called from the tracer), and
        // through proxies as any linker's functions are.
        for (side, recording, proxied) in [
            ("stock traced", false, false),
            ("stock recording", true, false),
            ("stock recording through proxies", true, true),
        ] {
            group.bench_function(format!("{export}/{side}"), |b| {
                b.iter_batched(
                    || {
                        let mut recorder = Recorder::new(0);
                        if recording {
                            let log =
                                LogWriter::new(std::io::sink(), GUEST.as_bytes()).expect("log");
                            recorder = recorder.with_sink(Arc::new(Mutex::new(log)));
                        }
                        let mut store = stock_store(&engine);
                        let linker = stock_linker(&engine);
                        let instance = match proxied {
                            true => {
                                trace::instantiate_traced(&linker, &mut store, &module, &recorder)
                            }
                            false => trace::instantiate_traced_stock(
                                &linker,
                                &mut store,
                                &module,
                                &recorder,
                                |t| t,
                            ),
                        }
                        .expect("instantiate");
                        (store, instance)
                    },
                    |(mut store, instance)| call(&mut store, &instance, export, N),
                    BatchSize::PerIteration,
                )
            });
        }
        for (side, traced) in [("replay", false), ("replay traced", true)] {
            group.bench_function(format!("{export}/{side}"), |b| {
                b.iter_batched(
                    || replay_fixture(&engine, &module, log, traced),
                    |(mut store, instance)| call(&mut store, &instance, export, N),
                    BatchSize::PerIteration,
                )
            });
        }
        group.bench_function(format!("{export}/deterministic"), |b| {
            b.iter_batched(
                || {
                    let mut linker = Linker::new(&engine);
                    p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
                    let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
                    store.set_fuel(u64::MAX).expect("fuel");
                    let instance = linker
                        .instantiate(&mut store, &module)
                        .expect("instantiate");
                    (store, instance)
                },
                |(mut store, instance)| call(&mut store, &instance, export, N),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, per_call);
criterion_main!(benches);
