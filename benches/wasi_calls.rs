//! Per-call cost of the WASI functions this crate changes, deterministic
//! context versus stock, on both preview1 backends, and the cost of building
//! a context and instantiating a module.
//!
//! | side | context | linker |
//! |---|---|---|
//! | `wasmtime-wasi/deterministic` | `DeterminismConfig::new().build_p1()`, then `set_guest_module` | `p1::add_to_linker_sync` |
//! | `wasmtime-wasi/stock` | `WasiCtxBuilder::new().build_p1()` | `wasmtime_wasi::p1::add_to_linker_sync` |
//! | `wasi-common/deterministic` | `DeterminismConfig::new().build_wasi_common()`, then `set_guest_module` | `common::add_to_linker_sync` |
//! | `wasi-common/stock` | `wasi_common::sync::WasiCtxBuilder::new().build()` | `wasi_common::sync::add_to_linker` |
//!
//! `clock_monotonic/wasmtime-wasi/deterministic, by name` is the first side
//! without `set_guest_module`: the memory found by name on every call.
//!
//! Run: `cargo bench --bench wasi_calls`. Each call benchmark runs a guest
//! loop of `N` calls and reports the time per loop; divide by `N` for the
//! per-call figure (the README table does).

use criterion::{Criterion, criterion_group, criterion_main};
use deterministic_wasi_ctx::{DeterminismConfig, common, engine, p1};
use std::hint::black_box;
use wasmtime::{Engine, Instance, Linker, Module, Store, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;

/// Calls per guest loop.
const N: i32 = 1_000;

const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; one relative monotonic timer of 1 ms at 0x100
  (data (i32.const 0x100) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\40\42\0f\00\00\00\00\00")
  (func (export "clock_monotonic") (param $n i32)
    (loop $l
      (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "clock_realtime") (param $n i32)
    (loop $l
      (drop (call $now (i32.const 0) (i64.const 1) (i32.const 0)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "clock_res") (param $n i32)
    (loop $l
      (drop (call $res (i32.const 1) (i32.const 0)))
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

/// A guest loop ready to call: the Store (type-erased behind a closure) and
/// the export.
type Loop = Box<dyn FnMut(i32)>;

fn guest_loop<T: 'static>(
    engine: &Engine,
    module: &Module,
    data: T,
    link: impl FnOnce(&mut Linker<T>),
    name: &str,
) -> Loop {
    let mut linker = Linker::new(engine);
    link(&mut linker);
    let mut store = Store::new(engine, data);
    store.set_fuel(u64::MAX).expect("fuel");
    let instance: Instance = linker.instantiate(&mut store, module).expect("instantiate");
    let f: TypedFunc<i32, ()> = instance.get_typed_func(&mut store, name).expect("export");
    Box::new(move |n| f.call(&mut store, black_box(n)).expect("call"))
}

/// The four sides of the module docs' table, by name.
fn sides(engine: &Engine, module: &Module, export: &str) -> Vec<(&'static str, Loop)> {
    let mut p1_ctx = DeterminismConfig::new().build_p1();
    p1_ctx.set_guest_module(module);
    let mut common_ctx = DeterminismConfig::new().build_wasi_common();
    common_ctx.set_guest_module(module);
    vec![
        (
            "wasmtime-wasi/deterministic",
            guest_loop(
                engine,
                module,
                p1_ctx,
                |l| p1::add_to_linker_sync(l, |t| t).expect("link"),
                export,
            ),
        ),
        (
            "wasmtime-wasi/stock",
            guest_loop(
                engine,
                module,
                wasmtime_wasi::WasiCtxBuilder::new().build_p1(),
                |l| wasmtime_wasi::p1::add_to_linker_sync(l, |t: &mut WasiP1Ctx| t).expect("link"),
                export,
            ),
        ),
        (
            "wasi-common/deterministic",
            guest_loop(
                engine,
                module,
                common_ctx,
                |l| common::add_to_linker_sync(l, |t| t).expect("link"),
                export,
            ),
        ),
        (
            "wasi-common/stock",
            guest_loop(
                engine,
                module,
                wasi_common::sync::WasiCtxBuilder::new().build(),
                |l| wasi_common::sync::add_to_linker(l, |t| t).expect("link"),
                export,
            ),
        ),
    ]
}

/// The floor: every import a host function that does nothing but return 0
/// (`floor/empty`); `clock_time_get` that also looks up the `memory` export
/// by name, as every preview1 function that writes guest memory must
/// (`floor/memory`), or by a `ModuleExport` taken from the module beforehand
/// (`floor/index`, what a per-module cache could give).
fn floors(engine: &Engine, module: &Module, export: &str) -> Vec<(&'static str, Loop)> {
    let empty = |l: &mut Linker<()>| {
        l.func_wrap(
            "wasi_snapshot_preview1",
            "clock_time_get",
            |_: i32, _: i64, _: i32| 0,
        )
        .and_then(|l| {
            l.func_wrap(
                "wasi_snapshot_preview1",
                "clock_res_get",
                |_: i32, _: i32| 0,
            )
        })
        .and_then(|l| l.func_wrap("wasi_snapshot_preview1", "random_get", |_: i32, _: i32| 0))
        .and_then(|l| {
            l.func_wrap(
                "wasi_snapshot_preview1",
                "poll_oneoff",
                |_: i32, _: i32, _: i32, _: i32| 0,
            )
        })
        .expect("link");
    };
    let memory = |l: &mut Linker<()>| {
        empty(l);
        l.allow_shadowing(true);
        l.func_wrap(
            "wasi_snapshot_preview1",
            "clock_time_get",
            |mut c: wasmtime::Caller<'_, ()>, _: i32, _: i64, _: i32| {
                i32::from(c.get_export("memory").is_none())
            },
        )
        .expect("link");
    };
    let index = module.get_export_index("memory").expect("memory");
    let by_index = move |l: &mut Linker<()>| {
        empty(l);
        l.allow_shadowing(true);
        l.func_wrap(
            "wasi_snapshot_preview1",
            "clock_time_get",
            move |mut c: wasmtime::Caller<'_, ()>, _: i32, _: i64, _: i32| {
                i32::from(c.get_module_export(&index).is_none())
            },
        )
        .expect("link");
    };
    vec![
        (
            "floor/index",
            guest_loop(engine, module, (), by_index, export),
        ),
        ("floor/empty", guest_loop(engine, module, (), empty, export)),
        (
            "floor/memory",
            guest_loop(engine, module, (), memory, export),
        ),
    ]
}

fn calls(c: &mut Criterion) {
    // Every side uses the same engine configuration, so only the WASI
    // context and its functions differ.
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, GUEST).expect("module");
    let mut group = c.benchmark_group(format!("{N}_calls"));
    for export in [
        "clock_monotonic",
        "clock_realtime",
        "clock_res",
        "random",
        "random_4k",
    ] {
        let mut all = sides(&engine, &module, export);
        if export == "clock_monotonic" {
            all.push((
                "wasmtime-wasi/deterministic, by name",
                guest_loop(
                    &engine,
                    &module,
                    DeterminismConfig::new().build_p1(),
                    |l| p1::add_to_linker_sync(l, |t| t).expect("link"),
                    export,
                ),
            ));
            all.extend(floors(&engine, &module, export));
        }
        for (side, mut call) in all {
            group.bench_function(format!("{export}/{side}"), |b| b.iter(|| call(N)));
        }
    }
    // Stock poll_oneoff really sleeps 1 ms per call: time 10 calls there.
    for (side, mut call) in sides(&engine, &module, "poll") {
        if side.ends_with("deterministic") {
            group.sample_size(100);
            group.bench_function(format!("poll/{side}"), |b| b.iter(|| call(N)));
        } else {
            group.sample_size(10);
            group.bench_function(format!("poll/{side} (10 calls)"), |b| b.iter(|| call(10)));
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
            let mut ctx = DeterminismConfig::new().build_p1();
            ctx.set_guest_module(&module);
            let mut store = Store::new(&engine, ctx);
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
    // The part that differs, without the Store and the instantiation (whose
    // memory mapping makes the rows above noisy on a VM).
    group.bench_function("context only/deterministic", |b| {
        b.iter(|| {
            let mut ctx = DeterminismConfig::new().build_p1();
            ctx.set_guest_module(&module);
            ctx
        })
    });
    group.bench_function("context only/stock", |b| {
        b.iter(|| wasmtime_wasi::WasiCtxBuilder::new().build_p1())
    });
    group.finish();
}

criterion_group!(benches, calls, build_and_instantiate);
criterion_main!(benches);
