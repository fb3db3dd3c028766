//! The async embeddings (the preview1 linker of `p1::add_to_linker_sync`,
//! which serves async Stores too, and `p2::add_to_linker_async`), driven by `instantiate_async`/`call_async`
//! on a tokio runtime, against the sync path the auditor uses: the same
//! exit status, output, final memory, fuel, final tree (preview1) and trace
//! (preview2), with no real waiting.
//!
//! The runtime is built **without** tokio's time driver, so a real timer
//! (what stock wasmtime-wasi arms for a sleep) would panic instead of
//! passing quietly; `stock_async_sleep_needs_real_timers` shows that it does.

use deterministic_wasi_ctx::audit::{Backend, Compiled, Outcome, RunSpec, Status, Strategy};
use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
use deterministic_wasi_ctx::p2::DeterministicP2Ctx;
use deterministic_wasi_ctx::trace::Recorder;
use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs, engine as det_engine};
use std::time::Duration;
use wasmtime::component::{Component, Linker as ComponentLinker, ResourceTable};
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::{WasiCtxView, WasiView};

mod common;

use common::{FUEL, program};

/// A current-thread runtime with no time driver: any real tokio timer panics.
fn runtime_without_timers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// What the async run shows, in the auditor's terms.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    fuel_consumed: u64,
    memory: Option<Vec<u8>>,
    trees: Vec<[u8; 32]>,
    trace: Option<[u8; 32]>,
}

fn status(result: wasmtime::Result<()>) -> String {
    match result {
        Ok(()) => "exit 0".to_string(),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => format!("exit {}", exit.0),
            None => format!("trap: {e:#}"),
        },
    }
}

/// The sync run, by the auditor's own runner.
fn sync_run(engine: &Engine, wasm: &[u8], config: &DeterminismConfig) -> Outcome {
    let compiled = Compiled::new(engine, wasm).expect("compiles");
    let spec = RunSpec {
        config: config.clone(),
        fuel: FUEL,
        max_events: 0,
        stock: false,
        keep_memory: true,
        writes_from_signatures: false,
        replay: None,
    };
    let outcome = compiled.run(engine, Backend::WasmtimeWasi, &spec);
    assert!(
        matches!(outcome.status, Status::Exited(0)),
        "{:?}: {}",
        outcome.status,
        String::from_utf8_lossy(&outcome.stderr)
    );
    outcome
}

fn p1_async(engine: &Engine, wasm: &[u8], config: &DeterminismConfig) -> Seen {
    let module = Module::new(engine, wasm).expect("module");
    let mut linker: Linker<DeterministicP1Ctx> = Linker::new(engine);
    // The sync linker serves async Stores (`p1::add_to_linker_async` is a
    // deprecated alias of it).
    deterministic_wasi_ctx::p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    let ctx = config.clone().capture_output(true).build_p1();
    let output = ctx.output().clone();
    runtime_without_timers().block_on(async {
        let mut store = Store::new(engine, ctx);
        store.set_fuel(FUEL).expect("fuel");
        let instance = linker
            .instantiate_async(&mut store, &module)
            .await
            .expect("instantiate");
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .expect("_start");
        let result = start.call_async(&mut store, ()).await;
        let memory = instance
            .get_memory(&mut store, "memory")
            .map(|m| m.data(&store).to_vec());
        let trees = store
            .data()
            .descriptors()
            .mounts()
            .iter()
            .map(|mount| mount.tree.digest())
            .collect();
        Seen {
            status: status(result),
            stdout: output.stdout(),
            stderr: output.stderr(),
            fuel_consumed: FUEL - store.get_fuel().expect("fuel"),
            memory,
            trees,
            trace: None,
        }
    })
}

/// A preview2 context with its resource table, as the store data.
struct P2Host(DeterministicP2Ctx);

impl WasiView for P2Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.0.ctx()
    }
}

fn p2_async(engine: &Engine, wasm: &[u8], config: &DeterminismConfig) -> Seen {
    let component = Component::new(engine, wasm).expect("component");
    let mut linker: ComponentLinker<P2Host> = ComponentLinker::new(engine);
    deterministic_wasi_ctx::p2::add_to_linker_async(&mut linker, |h| &mut h.0).expect("link");
    let recorder = Recorder::new(0);
    let ctx = config
        .clone()
        .capture_output(true)
        .build_p2_traced(&recorder);
    let output = ctx.output().clone();
    let seen = runtime_without_timers().block_on(async {
        let mut store = Store::new(engine, P2Host(ctx));
        store.set_fuel(FUEL).expect("fuel");
        let command = Command::instantiate_async(&mut store, &component, &linker)
            .await
            .expect("instantiate");
        let result = match command.wasi_cli_run().call_run(&mut store).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(())) => Err(wasmtime_wasi::I32Exit(1).into()),
            Err(e) => Err(e),
        };
        let trees = store
            .data()
            .0
            .filesystems()
            .iter()
            .map(|(_, tree)| tree.digest())
            .collect();
        (
            status(result),
            FUEL - store.get_fuel().expect("fuel"),
            trees,
        )
    });
    Seen {
        status: seen.0,
        stdout: output.stdout(),
        stderr: output.stderr(),
        fuel_consumed: seen.1,
        memory: None,
        trees: seen.2,
        trace: Some(recorder.trace().digest()),
    }
}

fn seen_sync(outcome: &Outcome, component: bool) -> Seen {
    Seen {
        status: outcome.status.to_string(),
        stdout: outcome.stdout.clone(),
        stderr: outcome.stderr.clone(),
        fuel_consumed: outcome.fuel_consumed,
        memory: outcome.memory.clone(),
        trees: outcome
            .filesystems
            .iter()
            .map(|(_, t)| t.digest())
            .collect(),
        trace: component.then_some(outcome.trace_digest),
    }
}

/// The script `p2_timers` reads from stdin (the other programs ignore it):
/// sleeps, timers of both kinds, clocks and every random interface.
const TIMER_SCRIPT: &str = "now\nwall\nres\nsleep 1500000000\nnow\npoll d:5 i:100 d:7000000000\nready d:1\nnow\nwall\nrandom 16\nu64\ninsecure 8\ninsecure-u64\ninsecure-seed\n";

fn config() -> DeterminismConfig {
    DeterminismConfig::new()
        .wall_start(Duration::from_secs(1_700_000_000))
        .stdin(TIMER_SCRIPT.as_bytes())
        .preopen("/", VirtualFs::new().file("in/data.csv", "a,b\n1,2\n3,4\n"))
}

/// Preview1 modules that sleep (`poll_oneoff` through `std::thread::sleep`
/// and explicit timers), read clocks and randomness, and work on files: the
/// async path gives what the sync path gives.
#[test]
fn p1_modules_run_the_same_sync_and_async() {
    let engine = det_engine::deterministic_engine().expect("engine");
    for name in [
        "p2_timers",
        "sleep_std",
        "poll_timers",
        "clocks_read",
        "random_bytes",
        "fs_ops",
    ] {
        let wasm = std::fs::read(program(name).0).expect("guest");
        let sync = seen_sync(&sync_run(&engine, &wasm, &config()), false);
        let asynchronous = p1_async(&engine, &wasm, &config());
        assert_eq!(asynchronous, sync, "{name}: async differs from sync");
    }
}

/// Preview2 components that sleep on `subscribe-duration` and
/// `subscribe-instant` pollables, read clocks and randomness: the async
/// path gives the same output, fuel and host-call trace as the sync path.
#[test]
fn p2_components_run_the_same_sync_and_async() {
    let engine = Strategy::Cranelift.engine().expect("engine");
    for name in [
        "p2_timers",
        "sleep_std",
        "clocks_read",
        "random_bytes",
        "fs_ops",
    ] {
        let wasm = std::fs::read(program(name).1).expect("guest");
        let sync = seen_sync(&sync_run(&engine, &wasm, &config()), true);
        let asynchronous = p2_async(&engine, &wasm, &config());
        assert_eq!(asynchronous, sync, "{name}: async differs from sync");
        if name == "p2_timers" {
            // The script ran: one line per operation, the sleep included.
            let out = String::from_utf8_lossy(&asynchronous.stdout);
            assert_eq!(out.lines().count(), TIMER_SCRIPT.lines().count(), "{out}");
            assert!(out.contains("slept"), "{out}");
        }
    }
}

/// The check that nothing waits in real time can fail: stock wasmtime-wasi's
/// async preview2, on the same runtime, arms a tokio timer for the first
/// sleep and panics for want of a time driver.
#[test]
fn stock_async_sleep_needs_real_timers() {
    struct Stock {
        ctx: wasmtime_wasi::WasiCtx,
        table: ResourceTable,
    }
    impl WasiView for Stock {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx,
                table: &mut self.table,
            }
        }
    }
    let engine = Strategy::Cranelift.engine().expect("engine");
    let component = Component::from_file(&engine, program("p2_timers").1).expect("component");
    let mut linker: ComponentLinker<Stock> = ComponentLinker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link");
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime_without_timers().block_on(async {
            let mut store = Store::new(
                &engine,
                Stock {
                    ctx: wasmtime_wasi::WasiCtx::builder()
                        .stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(
                            "sleep 1000000\n",
                        ))
                        .build(),
                    table: ResourceTable::new(),
                },
            );
            store.set_fuel(FUEL).expect("fuel");
            let command = Command::instantiate_async(&mut store, &component, &linker)
                .await
                .expect("instantiate");
            let _ = command.wasi_cli_run().call_run(&mut store).await;
        })
    }));
    let message = match run {
        Ok(()) => panic!("stock async p2 slept without a timer driver"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    };
    assert!(message.contains("timers are disabled"), "{message}");
}
