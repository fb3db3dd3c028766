//! Tracing cost: a call-heavy guest run untraced versus traced in digest-only
//! mode, and the peak heap a digest-only trace needs for 10^4 and 10^6 calls
//! (printed before the timings; it must not grow with the trace).
//!
//! Run: `cargo bench --bench trace`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use deterministic_wasi_ctx::{DeterminismConfig, engine, p1, trace};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmtime::{Engine, Instance, Linker, Module, Store};

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "calls") (param $n i32)
    (loop $l
      (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "_start")))"#;

type Fixture = (Store<p1::DeterministicP1Ctx>, Instance);

/// How the fixture is instantiated.
#[derive(Clone, Copy)]
enum Mode<'a> {
    Untraced,
    /// Untraced, the context told the guest's module
    /// (`set_guest_module`: memory found by index, not by name).
    UntracedKnown,
    /// `trace::instantiate_traced_served` (what the audit uses).
    Served(&'a trace::Recorder),
    /// `trace::instantiate_traced`: every call through a proxy instance.
    Proxied(&'a trace::Recorder),
}

fn fixture(engine: &Engine, module: &Module, mode: Mode<'_>) -> Fixture {
    let mut linker = Linker::new(engine);
    p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    let mut ctx = DeterminismConfig::new().build_p1();
    if let Mode::UntracedKnown = mode {
        ctx.set_guest_module(module);
    }
    let mut store = Store::new(engine, ctx);
    store.set_fuel(u64::MAX).expect("fuel");
    let instance = match mode {
        Mode::Untraced | Mode::UntracedKnown => linker.instantiate(&mut store, module),
        Mode::Served(r) => trace::instantiate_traced_served(&linker, &mut store, module, r),
        Mode::Proxied(r) => trace::instantiate_traced(&linker, &mut store, module, r),
    }
    .expect("instantiate");
    (store, instance)
}

fn call(fixture: &mut Fixture, n: i32) {
    let (store, instance) = fixture;
    let f = instance
        .get_typed_func::<i32, ()>(&mut *store, "calls")
        .expect("export");
    f.call(&mut *store, n).expect("call");
}

/// Peak heap growth while running `n` traced calls in digest-only mode.
fn peak_heap_for(engine: &Engine, module: &Module, n: i32) -> usize {
    let recorder = trace::Recorder::new(0);
    let mut fixture = fixture(engine, module, Mode::Served(&recorder));
    call(&mut fixture, 1); // instantiate the proxy before measuring
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    call(&mut fixture, n);
    assert_eq!(recorder.trace().calls(), n as u64 + 1);
    PEAK.load(Ordering::Relaxed) - before
}

fn tracing(c: &mut Criterion) {
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, GUEST).expect("module");
    for n in [10_000, 1_000_000] {
        println!(
            "digest-only trace of {n} calls: peak heap growth {} bytes",
            peak_heap_for(&engine, &module, n)
        );
    }
    const N: i32 = 10_000;
    let mut group = c.benchmark_group(format!("{N}_clock_calls"));
    for (name, mode) in [
        ("untraced", Mode::Untraced),
        ("untraced_module_known", Mode::UntracedKnown),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || fixture(&engine, &module, mode),
                |mut f| call(&mut f, N),
                BatchSize::PerIteration,
            )
        });
    }
    for (name, served) in [
        ("traced_digest_only", true),
        ("traced_digest_only_proxied", false),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let recorder = trace::Recorder::new(0);
                    let mode = match served {
                        true => Mode::Served(&recorder),
                        false => Mode::Proxied(&recorder),
                    };
                    let mut f = fixture(&engine, &module, mode);
                    call(&mut f, 1);
                    f
                },
                |mut f| call(&mut f, N),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, tracing);
criterion_main!(benches);
