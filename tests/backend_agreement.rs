#![cfg(feature = "wasi-common")]
//! One behaviour on every backend: the cases where stock `wasmtime-wasi` and
//! stock `wasi-common` answer the same preview1 call differently. Under this
//! crate both backends give stock wasmtime-wasi's answer (the crate serves
//! these calls itself: `src/fd`, `src/environ`, `src/random`), and the audit
//! compares the backends on full fingerprints. Each case is also run on
//! stock wasi-common with its own linker, to show the check would catch the
//! difference it removes.

use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{
    self, AuditConfig, Backend, Compiled, RunSpec, Status, Strategy,
};
use wasmtime::{Linker, Module, Store};

/// A module whose `_start` runs `body`, storing each result it drops at
/// 60000; memory holds a valid iovec `{16, 5}` at 0 and an out-of-bounds
/// one `{65534, 8}` at 8, and "hello" at 16.
fn module(imports: &str, body: &str) -> Vec<u8> {
    module_with_pages(imports, body, 1)
}

/// [`module`] with `pages` pages of memory.
fn module_with_pages(imports: &str, body: &str, pages: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module {imports}
          (memory (export "memory") {pages})
          (data (i32.const 0) "\10\00\00\00\05\00\00\00\fe\ff\00\00\08\00\00\00hello")
          (func (export "_start") {body}))"#
    ))
    .expect("valid test module")
}

const P1: &str = "wasi_snapshot_preview1";

/// The cases: name and module.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let import = |name: &str, params: &str| {
        format!(r#"(import "{P1}" "{name}" (func ${name} (param {params}) (result i32)))"#)
    };
    vec![
        (
            "fd_close(0) then poll_oneoff on fd 0",
            module(
                &format!(
                    "{}{}",
                    import("fd_close", "i32"),
                    import("poll_oneoff", "i32 i32 i32 i32")
                ),
                // one fd_read subscription on fd 0 at 1024 (tag 1 @8, fd @16)
                r#"(drop (call $fd_close (i32.const 0)))
                   (i32.store8 (i32.const 1032) (i32.const 1))
                   (i32.store (i32.const 60000)
                     (call $poll_oneoff (i32.const 1024) (i32.const 2048) (i32.const 1) (i32.const 3072)))"#,
            ),
        ),
        (
            "fd_write with a valid iovec then an out-of-bounds one",
            module(
                &import("fd_write", "i32 i32 i32 i32"),
                r#"(i32.store (i32.const 60000)
                     (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 100)))"#,
            ),
        ),
        (
            "random_get of 0 bytes past the end of memory",
            module(
                &import("random_get", "i32 i32"),
                r#"(i32.store (i32.const 60000) (call $random_get (i32.const 70000) (i32.const 0)))"#,
            ),
        ),
        (
            "random_get of 64 MiB + 1 bytes (into a larger memory)",
            module_with_pages(
                &import("random_get", "i32 i32"),
                r#"(i32.store (i32.const 60000) (call $random_get (i32.const 0) (i32.const 67108865)))"#,
                1026,
            ),
        ),
        (
            "sock_shutdown on stdout",
            module(
                &import("sock_shutdown", "i32 i32"),
                r#"(i32.store (i32.const 60000) (call $sock_shutdown (i32.const 1) (i32.const 3)))"#,
            ),
        ),
        (
            "fd_fdstat_get on stdout",
            module(
                &import("fd_fdstat_get", "i32 i32"),
                r#"(i32.store (i32.const 60000) (call $fd_fdstat_get (i32.const 1) (i32.const 200)))"#,
            ),
        ),
        (
            "proc_raise",
            module(
                &import("proc_raise", "i32"),
                r#"(i32.store (i32.const 60000) (call $proc_raise (i32.const 1)))"#,
            ),
        ),
    ]
}

/// Status without a trap's wording (each implementation words its own).
fn class(status: &Status) -> String {
    match status {
        Status::Trapped { after_calls, .. } => format!("trap after {after_calls} calls"),
        other => other.to_string(),
    }
}

#[test]
fn both_backends_agree_on_every_case_in_full() {
    let config = AuditConfig {
        backends: vec![Backend::WasmtimeWasi, Backend::WasiCommon],
        strategies: vec![Strategy::Cranelift, Strategy::Pulley],
        ..AuditConfig::default()
    };
    for (name, wasm) in cases() {
        let report = audit::audit(&wasm, &config).expect("audit runs");
        assert!(
            report.divergence.is_none(),
            "{name}: {:?}",
            report.divergence
        );
    }
}

#[test]
fn the_crate_gives_stock_wasmtime_wasis_answer() {
    let engine = Strategy::Cranelift.engine().expect("engine");
    for (name, wasm) in cases() {
        let compiled = Compiled::new(&engine, &wasm).expect("compiles");
        // Stock's trace is recorded from each call's signature: the crate's
        // is recorded the same way to be comparable.
        let spec = |stock| RunSpec {
            stock,
            keep_memory: true,
            writes_from_signatures: true,
            replay: None,
            ..AuditConfig::default().spec
        };
        let stock = compiled.run(&engine, Backend::WasmtimeWasi, &spec(true));
        for backend in [Backend::WasmtimeWasi, Backend::WasiCommon] {
            let ours = compiled.run(&engine, backend, &spec(false));
            assert_eq!(
                class(&ours.status),
                class(&stock.status),
                "{name} on {}",
                backend.name()
            );
            assert_eq!(
                ours.memory,
                stock.memory,
                "{name} on {}: memory",
                backend.name()
            );
            assert_eq!(
                ours.stdout,
                stock.stdout,
                "{name} on {}: stdout",
                backend.name()
            );
            assert_eq!(
                ours.trace_digest,
                stock.trace_digest,
                "{name} on {}: trace",
                backend.name()
            );
        }
    }
}

/// Runs `_start` and returns the status class and final memory.
fn run_start<T: 'static>(linker: &Linker<T>, ctx: T, wasm: &[u8]) -> (String, Vec<u8>) {
    let engine = linker.engine();
    let module = Module::new(engine, wasm).expect("compiles");
    let mut store = Store::new(engine, ctx);
    store.set_fuel(1_000_000_000).expect("fuel");
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiates");
    let result = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .and_then(|f| f.call(&mut store, ()));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let status = match result {
        Ok(()) => "exit 0".to_string(),
        Err(_) => "trap".to_string(),
    };
    (status, memory.data(&store).to_vec())
}

/// What stock wasi-common (its own linker, this crate's context) does.
fn stock_wasi_common(wasm: &[u8]) -> (String, Vec<u8>) {
    let engine = Strategy::Cranelift.engine().expect("engine");
    let mut linker = Linker::new(&engine);
    wasi_common::sync::add_to_linker(&mut linker, |c| c).expect("links");
    let ctx = DeterminismConfig::new()
        .capture_output(true)
        .build_wasi_common();
    run_start(&linker, ctx.wasi, wasm)
}

/// What the crate's earlier wasmtime-wasi set-up did: stock functions with
/// only the scheduling override, whose `poll_oneoff` takes the stdio
/// numbers as open without consulting a descriptor table.
fn scheduling_override_only(wasm: &[u8]) -> (String, Vec<u8>) {
    let engine = Strategy::Cranelift.engine().expect("engine");
    let mut linker: Linker<deterministic_wasi_ctx::p1::DeterministicP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi()).expect("links");
    deterministic_wasi_ctx::sched::add_scheduling_to_linker(&mut linker, |t| t.clock())
        .expect("links");
    run_start(&linker, DeterminismConfig::new().build_p1(), wasm)
}

/// The bite: every case is one where a stock set-up answers otherwise
/// (stock wasi-common, or for the closed-stdin poll the crate's earlier
/// scheduling-only override), so the agreement above is not vacuous.
#[test]
fn a_stock_setup_differs_on_every_case() {
    let engine = Strategy::Cranelift.engine().expect("engine");
    for (i, (name, wasm)) in cases().into_iter().enumerate() {
        let ours = Compiled::new(&engine, &wasm).expect("compiles").run(
            &engine,
            Backend::WasiCommon,
            &RunSpec {
                keep_memory: true,
                writes_from_signatures: false,
                replay: None,
                ..AuditConfig::default().spec
            },
        );
        let ours_class = match ours.status {
            Status::Exited(0) => "exit 0".to_string(),
            _ => "trap".to_string(),
        };
        let (stock_class, stock_memory) = if i == 0 {
            scheduling_override_only(&wasm)
        } else {
            stock_wasi_common(&wasm)
        };
        assert!(
            stock_class != ours_class || Some(stock_memory) != ours.memory,
            "{name}: the stock set-up already agrees, so this case proves nothing"
        );
    }
}

/// With output capture off, stdout is discarded but accepts every byte, as
/// stock wasmtime-wasi's default sink does: `nwritten` is the same on both
/// backends and on stock.
#[test]
fn discarded_output_reports_the_same_nwritten_everywhere() {
    let wasm = module(
        r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))"#,
        r#"(i32.store (i32.const 60000)
             (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))"#,
    );
    let engine = Strategy::Cranelift.engine().expect("engine");
    let nwritten = |memory: &[u8]| u32::from_le_bytes(memory[100..104].try_into().unwrap());

    let mut p1_linker = Linker::new(&engine);
    deterministic_wasi_ctx::p1::add_to_linker_sync(&mut p1_linker, |t| t).expect("links");
    let (status, memory) = run_start(&p1_linker, DeterminismConfig::new().build_p1(), &wasm);
    assert_eq!((status.as_str(), nwritten(&memory)), ("exit 0", 5));

    let mut common_linker = Linker::new(&engine);
    deterministic_wasi_ctx::common::add_to_linker_sync(&mut common_linker, |t| t).expect("links");
    let ctx = DeterminismConfig::new().build_wasi_common();
    assert_eq!(
        run_start(&common_linker, ctx, &wasm),
        (status.clone(), memory.clone())
    );

    let mut stock_linker = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut stock_linker, |t| t).expect("links");
    let stock = wasmtime_wasi::WasiCtxBuilder::new().build_p1();
    assert_eq!(run_start(&stock_linker, stock, &wasm), (status, memory));
}
