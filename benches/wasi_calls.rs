//! Per-call cost of the WASI functions this crate changes, deterministic
//! context versus stock `WasiCtxBuilder::new().build_p1()`, and the cost of
//! building a context and instantiating a module.
//!
//! Run: `cargo bench --bench wasi_calls`. Each call benchmark runs a guest
//! loop of `N` calls and reports the time per loop; divide by `N` for the
//! per-call figure (the README table does).

use criterion::{Criterion, criterion_group, criterion_main};
use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
use std::hint::black_box;
use wasmtime::{Engine, Instance, Linker, Module, Store, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;

/// Calls per guest loop.
const N: i32 = 1_000;

const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; one relative monotonic timer of 1 ms at 0x100
  (data (i32.const 0x100) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\40\42\0f\00\00\00\00\00")
  (func (export "clock") (param $n i32)
    (loop $l
      (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "random") (param $n i32)
    (loop $l
      (drop (call $random (i32.const 0x40) (i32.const 32)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "random_4k") (param $n i32)
    (loop $l
      (drop (call $random (i32.const 0x1000) (i32.const 4096)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "poll") (param $n i32)
    (loop $l
      (drop (call $poll (i32.const 0x100) (i32.const 0x200) (i32.const 1) (i32.const 0x300)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "_start")))"#;

struct Fixture<T: 'static> {
    store: Store<T>,
    instance: Instance,
}

impl<T> Fixture<T> {
    fn func(&mut self, name: &str) -> TypedFunc<i32, ()> {
        self.instance
            .get_typed_func(&mut self.store, name)
            .expect("export")
    }
}

fn deterministic(engine: &Engine, module: &Module) -> Fixture<p1::DeterministicP1Ctx> {
    let mut linker = Linker::new(engine);
    p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    let mut store = Store::new(engine, DeterminismConfig::new().build_p1());
    store.set_fuel(u64::MAX).expect("fuel");
    let instance = linker.instantiate(&mut store, module).expect("instantiate");
    Fixture { store, instance }
}

fn stock(engine: &Engine, module: &Module) -> Fixture<WasiP1Ctx> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    let mut store = Store::new(engine, wasmtime_wasi::WasiCtxBuilder::new().build_p1());
    store.set_fuel(u64::MAX).expect("fuel");
    let instance = linker.instantiate(&mut store, module).expect("instantiate");
    Fixture { store, instance }
}

fn calls(c: &mut Criterion) {
    // Both sides use the same engine configuration, so only the WASI context differs.
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, GUEST).expect("module");
    let mut group = c.benchmark_group(format!("{N}_calls"));
    for name in ["clock", "random", "random_4k", "poll"] {
        let mut det = deterministic(&engine, &module);
        let f = det.func(name);
        group.bench_function(format!("{name}/deterministic"), |b| {
            b.iter(|| f.call(&mut det.store, black_box(N)).expect("call"))
        });
        if name == "poll" {
            // Stock poll_oneoff really sleeps 1 ms per call: time 10 calls.
            group.sample_size(10);
            let mut st = stock(&engine, &module);
            let f = st.func(name);
            group.bench_function(format!("{name}/stock (10 calls)"), |b| {
                b.iter(|| f.call(&mut st.store, black_box(10)).expect("call"))
            });
        } else {
            let mut st = stock(&engine, &module);
            let f = st.func(name);
            group.bench_function(format!("{name}/stock"), |b| {
                b.iter(|| f.call(&mut st.store, black_box(N)).expect("call"))
            });
        }
    }
    group.finish();
}

/// Context build + Store + instantiation, with each side's linker built once
/// beforehand (as an embedder does).
fn build_and_instantiate(c: &mut Criterion) {
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, GUEST).expect("module");
    let mut group = c.benchmark_group("build_and_instantiate");
    let mut det_linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut det_linker, |t| t).expect("link");
    let det_pre = det_linker.instantiate_pre(&module).expect("pre");
    group.bench_function("deterministic", |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
            store.set_fuel(u64::MAX).expect("fuel");
            det_pre.instantiate(&mut store).expect("instantiate")
        })
    });
    let mut stock_linker = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut stock_linker, |t: &mut WasiP1Ctx| t).expect("link");
    let stock_pre = stock_linker.instantiate_pre(&module).expect("pre");
    group.bench_function("stock", |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, wasmtime_wasi::WasiCtxBuilder::new().build_p1());
            store.set_fuel(u64::MAX).expect("fuel");
            stock_pre.instantiate(&mut store).expect("instantiate")
        })
    });
    group.finish();
}

criterion_group!(benches, calls, build_and_instantiate);
criterion_main!(benches);
