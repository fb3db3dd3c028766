//! Stock wasmtime-wasi's preview1 functions called straight from the tracer
//! ([`super::instantiate_traced_stock`]) answer, trace, trap and burn fuel
//! exactly as through wasmtime: the proxied route (every call through a
//! proxy instance) and an untraced run are the oracles. The program only
//! makes calls whose answers stock gives the same every run (arguments,
//! environment, stdout, errors on descriptors that do not exist), so the
//! runs can be compared byte for byte.

use super::test_runs::{FUEL, start_to_trap};
use super::{Recorder, instantiate_traced, instantiate_traced_stock};
use wasmtime::{Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// Five rounds of ten functions (among them `path_open`, `fd_read` on a
/// closed descriptor and `poll_oneoff` with no subscriptions, each an
/// error), then a `random_get` out of bounds, which traps.
const ROUNDS: &str = r#"(module
    (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_open"
        (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "\50\00\00\00\03\00\00\00")
    (data (i32.const 80) "hi\n")
    (data (i32.const 96) "a/b")
    (func (export "_start") (local $i i32) (local $sum i32)
        (loop $round
            (local.set $sum (i32.add (local.get $sum)
                (i32.add
                    (i32.add
                        (i32.add (call $args_sizes (i32.const 16) (i32.const 20))
                                 (call $args (i32.const 256) (i32.const 512)))
                        (i32.add (call $env_sizes (i32.const 24) (i32.const 28))
                                 (call $write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 32))))
                    (i32.add
                        (i32.add (call $read (i32.const 9) (i32.const 64) (i32.const 1) (i32.const 36))
                                 (call $prestat (i32.const 3) (i32.const 40)))
                        (i32.add
                            (call $open (i32.const 3) (i32.const 0) (i32.const 96) (i32.const 3)
                                        (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 48))
                            (i32.add
                                (i32.add (call $seek (i32.const 1) (i64.const 5) (i32.const 0) (i32.const 56))
                                         (call $poll (i32.const 1024) (i32.const 2048) (i32.const 0) (i32.const 60)))
                                (call $yield)))))))
            (i32.store (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 2))) (local.get $sum))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $round (i32.lt_u (local.get $i) (i32.const 5))))
        (drop (call $random (i32.const 65530) (i32.const 64)))))"#;

/// A Store's data: stock's context and limits on instances.
struct Data {
    ctx: WasiP1Ctx,
    limits: StoreLimits,
}

/// How a run is instantiated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    Untraced,
    Proxied,
    Direct,
}

/// What a run ended in, the fuel and stdout it left and a digest of its
/// memory, and the trace (call count, digest, every call in full).
#[derive(Debug, PartialEq)]
struct Ran {
    error: String,
    fuel_consumed: u64,
    memory: [u8; 32],
    stdout: Vec<u8>,
    trace: Option<(u64, [u8; 32], Vec<String>)>,
}

fn linker(engine: &Engine) -> Linker<Data> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |d: &mut Data| &mut d.ctx).unwrap();
    linker
}

/// Runs `module` to its end by `route`, in a Store allowing `instances`.
fn run(linker: &Linker<Data>, module: &Module, route: Route, instances: usize) -> Ran {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let ctx = WasiCtxBuilder::new()
        .args(&["prog", "--flag"])
        .env("K", "V")
        .stdout(stdout.clone())
        .build_p1();
    let limits = StoreLimitsBuilder::new().instances(instances).build();
    let mut store = Store::new(linker.engine(), Data { ctx, limits });
    store.limiter(|d| &mut d.limits);
    store.set_fuel(FUEL).unwrap();
    let recorder = Recorder::new(1000);
    let instance = match route {
        Route::Untraced => linker.instantiate(&mut store, module),
        Route::Proxied => instantiate_traced(linker, &mut store, module, &recorder),
        Route::Direct => {
            instantiate_traced_stock(linker, &mut store, module, &recorder, |d| &mut d.ctx)
        }
    }
    .unwrap();
    let ran = start_to_trap(&mut store, instance, &recorder, route != Route::Untraced);
    Ran {
        error: ran.error,
        fuel_consumed: ran.fuel_consumed,
        memory: *blake3::hash(&ran.memory).as_bytes(),
        stdout: stdout.contents().to_vec(),
        trace: ran.trace,
    }
}

#[test]
fn stock_functions_called_directly_answer_as_through_wasmtime() {
    let engine = crate::engine::deterministic_engine().unwrap();
    let module = Module::new(&engine, ROUNDS).unwrap();
    let linker = linker(&engine);
    let untraced = run(&linker, &module, Route::Untraced, 1);
    let proxied = run(&linker, &module, Route::Proxied, 100);
    // One instance, the guest's: no room for a proxy.
    let direct = run(&linker, &module, Route::Direct, 1);
    assert!(
        untraced.error.contains("out of bounds"),
        "{}",
        untraced.error
    );
    assert_eq!(untraced.stdout, b"hi\n".repeat(5));
    let (calls, _, events) = direct.trace.clone().unwrap();
    assert_eq!(calls, 51);
    assert_eq!(
        events[0],
        "args_sizes_get(count_ptr=0x10, size_ptr=0x14) -> 0, \
         wrote 4 bytes @0x14: 0c 00 00 00, wrote 4 bytes @0x10: 02 00 00 00"
    );
    assert!(events[4].starts_with("fd_read(fd=9, "), "{}", events[4]);
    assert!(events[4].ends_with("-> 8"), "EBADF: {}", events[4]);
    assert_eq!(events[50], "random_get(buf=0xfffa, len=64) -> trap");
    assert_eq!(direct.trace, proxied.trace);
    // No proxy frame: the untraced run's error to the letter.
    assert_eq!(direct.error, untraced.error);
    let seen = |r: &Ran| (r.fuel_consumed, r.memory, r.stdout.clone());
    assert_eq!(seen(&direct), seen(&untraced));
    assert_eq!(seen(&proxied), seen(&untraced));
    // The same limit stops the proxied route at its first call: the direct
    // route above made no proxy instance.
    let limited = run(&linker, &module, Route::Proxied, 1);
    assert!(limited.error.contains("instance"), "{}", limited.error);
}

#[test]
fn a_direct_stock_proc_exit_ends_the_run_as_through_wasmtime() {
    let engine = crate::engine::deterministic_engine().unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "_start") (call $exit (i32.const 3)) unreachable))"#,
    )
    .unwrap();
    let linker = linker(&engine);
    let untraced = run(&linker, &module, Route::Untraced, 1);
    let direct = run(&linker, &module, Route::Direct, 1);
    let proxied = run(&linker, &module, Route::Proxied, 100);
    assert!(
        untraced.error.contains("exit status 3"),
        "{}",
        untraced.error
    );
    assert_eq!(direct.error, untraced.error);
    assert_eq!(direct.trace, proxied.trace);
    let (_, _, events) = direct.trace.unwrap();
    assert_eq!(events, ["proc_exit(status=3) -> exit(3)"]);
}
