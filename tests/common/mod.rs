//! Runs guest programs under each backend, each run in a fresh Store.
#![allow(dead_code)]

use deterministic_wasi_ctx::audit::Backend;
use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
use deterministic_wasi_ctx::p2::DeterministicP2Ctx;
use deterministic_wasi_ctx::{DeterminismConfig, engine};
use std::sync::OnceLock;
use wasmtime::component::{Component, Linker as ComponentLinker};
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::{WasiCtxView, WasiView};

pub const FUEL: u64 = 20_000_000_000;

/// What a run produced.
#[derive(Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// Exit status, or the trap's message.
    pub exit: Result<i32, String>,
    /// Final contents of the exported `memory` (empty for components and
    /// modules without one).
    pub memory: Vec<u8>,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("exit", &self.exit)
            .field("memory_bytes", &self.memory.len())
            .finish()
    }
}

/// The preview1 backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P1Backend {
    WasmtimeWasi,
    #[cfg(feature = "wasi-common")]
    WasiCommon,
}

#[cfg(feature = "wasi-common")]
pub const P1_BACKENDS: [P1Backend; 2] = [P1Backend::WasmtimeWasi, P1Backend::WasiCommon];
/// Without wasi-common (the wasmtime-50 adapter): wasmtime-wasi alone.
#[cfg(not(feature = "wasi-common"))]
pub const P1_BACKENDS: [P1Backend; 1] = [P1Backend::WasmtimeWasi];

/// The auditor's preview1 backends: wasi-common only with its feature (the
/// wasmtime-50 adapter has none).
#[cfg(feature = "wasi-common")]
pub const AUDIT_BACKENDS: [Backend; 2] = [Backend::WasmtimeWasi, Backend::WasiCommon];
#[cfg(not(feature = "wasi-common"))]
pub const AUDIT_BACKENDS: [Backend; 1] = [Backend::WasmtimeWasi];

/// The paths of guest program `name`: its wasip1 module and wasip2 component.
pub fn program(name: &str) -> (&'static str, &'static str) {
    let (_, p1, p2) = test_programs::PROGRAMS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no guest program {name}"));
    (p1, p2)
}

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| engine::deterministic_engine().expect("engine"))
}

pub fn module(path: &str) -> Module {
    Module::from_file(engine(), path).expect("load module")
}

pub fn component(path: &str) -> Component {
    Component::from_file(engine(), path).expect("load component")
}

struct Host<C> {
    ctx: C,
    limits: engine::DeterministicLimits,
}

fn store<C>(ctx: C) -> Store<Host<C>> {
    store_with_fuel(ctx, FUEL)
}

fn store_with_fuel<C>(ctx: C, fuel: u64) -> Store<Host<C>> {
    let mut store = Store::new(
        engine(),
        Host {
            ctx,
            limits: engine::store_limits(),
        },
    );
    store.limiter(|h| &mut h.limits);
    store.set_fuel(fuel).expect("fuel is enabled");
    store
}

fn memory_of<T>(store: &mut Store<T>, instance: Option<wasmtime::Instance>) -> Vec<u8> {
    instance
        .and_then(|i| i.get_memory(&mut *store, "memory"))
        .map(|m| m.data(&*store).to_vec())
        .unwrap_or_default()
}

/// Instantiates `module` and calls `_start`, keeping the instance for its memory.
fn start<T>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
) -> (wasmtime::Result<()>, Vec<u8>) {
    let instance = match linker.instantiate(&mut *store, module) {
        Ok(i) => i,
        Err(e) => return (Err(e), Vec::new()),
    };
    let result = instance
        .get_typed_func::<(), ()>(&mut *store, "_start")
        .and_then(|f| f.call(&mut *store, ()));
    (result, memory_of(store, Some(instance)))
}

fn outcome(result: wasmtime::Result<()>, stdout: Vec<u8>, stderr: Vec<u8>) -> Outcome {
    let exit = match result {
        Ok(()) => Ok(0),
        Err(e) => exit_status(&e).ok_or_else(|| format!("{e:#}")),
    };
    Outcome {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        exit,
        memory: Vec::new(),
    }
}

/// The exit status `e` carries: wasmtime-wasi's `I32Exit`, or wasi-common's.
fn exit_status(e: &wasmtime::Error) -> Option<i32> {
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Some(exit.0);
    }
    #[cfg(feature = "wasi-common")]
    if let Some(exit) = e.downcast_ref::<wasi_common::I32Exit>() {
        return Some(exit.0);
    }
    None
}

/// Runs `_start` of a preview1 module in a fresh Store on `backend`.
pub fn run_p1(module: &Module, config: &DeterminismConfig, backend: P1Backend) -> Outcome {
    run_p1_with_fuel(module, config, backend, FUEL)
}

/// [`run_p1`] with a fuel budget.
pub fn run_p1_with_fuel(
    module: &Module,
    config: &DeterminismConfig,
    backend: P1Backend,
    fuel: u64,
) -> Outcome {
    let config = config.clone().capture_output(true);
    match backend {
        P1Backend::WasmtimeWasi => {
            let mut linker: Linker<Host<DeterministicP1Ctx>> = Linker::new(engine());
            deterministic_wasi_ctx::p1::add_to_linker_sync(&mut linker, |h| &mut h.ctx)
                .expect("link");
            let ctx = config.build_p1();
            let output = ctx.output().clone();
            let mut store = store_with_fuel(ctx, fuel);
            let (result, memory) = start(&linker, &mut store, module);
            Outcome {
                memory,
                ..outcome(result, output.stdout(), output.stderr())
            }
        }
        #[cfg(feature = "wasi-common")]
        P1Backend::WasiCommon => {
            let mut linker: Linker<Host<deterministic_wasi_ctx::DeterministicCommonCtx>> =
                Linker::new(engine());
            deterministic_wasi_ctx::common::add_to_linker_sync(&mut linker, |h| &mut h.ctx)
                .expect("link");
            let ctx = config.build_wasi_common();
            let output = ctx.output.clone();
            let mut store = store_with_fuel(ctx, fuel);
            let (result, memory) = start(&linker, &mut store, module);
            Outcome {
                memory,
                ..outcome(result, output.stdout(), output.stderr())
            }
        }
    }
}

impl WasiView for Host<DeterministicP2Ctx> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.ctx.ctx()
    }
}

/// Runs `wasi:cli/run` of a preview2 component in a fresh Store.
pub fn run_p2(component: &Component, config: &DeterminismConfig) -> Outcome {
    let config = config.clone().capture_output(true);
    let mut linker: ComponentLinker<Host<DeterministicP2Ctx>> = ComponentLinker::new(engine());
    deterministic_wasi_ctx::p2::add_to_linker_sync(&mut linker, |h| &mut h.ctx).expect("link");
    let ctx = config.build_p2();
    let output = ctx.output().clone();
    let mut store = store(ctx);
    let result =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, component, &linker)
            .and_then(|command| command.wasi_cli_run().call_run(&mut store))
            .and_then(|status| status.map_err(|()| wasmtime::format_err!("run returned an error")));
    let mut result = outcome(result, output.stdout(), output.stderr());
    // A component that returns `err` from `run` exits with status 1.
    if result
        .exit
        .as_ref()
        .is_err_and(|m| m.contains("run returned an error"))
    {
        result.exit = Ok(1);
    }
    result
}

/// Stock, *non-deterministic* wasmtime-wasi preview1 (the fixture that shows
/// the checks can fail).
pub fn run_stock_p1(module: &Module) -> Outcome {
    struct Stock(wasmtime_wasi::p1::WasiP1Ctx);
    let mut linker: Linker<Host<Stock>> = Linker::new(engine());
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |h| &mut h.ctx.0).expect("link");
    let stdout = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 20);
    let stderr = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 20);
    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build_p1();
    let mut store = store(Stock(ctx));
    let (result, memory) = start(&linker, &mut store, module);
    Outcome {
        memory,
        ..outcome(
            result,
            stdout.contents().to_vec(),
            stderr.contents().to_vec(),
        )
    }
}

/// Stock, *non-deterministic* wasmtime-wasi preview2.
pub fn run_stock_p2(component: &Component) -> Outcome {
    struct Stock(wasmtime_wasi::WasiCtx, wasmtime::component::ResourceTable);
    impl WasiView for Host<Stock> {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx.0,
                table: &mut self.ctx.1,
            }
        }
    }
    let mut linker: ComponentLinker<Host<Stock>> = ComponentLinker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link");
    let stdout = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 20);
    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .build();
    let mut store = store(Stock(ctx, Default::default()));
    let result =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, component, &linker)
            .and_then(|command| command.wasi_cli_run().call_run(&mut store))
            .map(|_| ());
    outcome(result, stdout.contents().to_vec(), Vec::new())
}

/// Runs `run` in three fresh Stores; the outcome if all three are identical,
/// else a description of the first difference.
pub fn three_stores(run: impl Fn() -> Outcome) -> Result<Outcome, String> {
    let first = run();
    for i in 1..3 {
        let again = run();
        if again != first {
            return Err(format!(
                "run {i} differs from run 0: {again:?} vs {first:?}"
            ));
        }
    }
    Ok(first)
}

/// [`three_stores`], panicking with `what` on a difference.
pub fn same_in_three_stores(what: &str, run: impl Fn() -> Outcome) -> Outcome {
    three_stores(run).unwrap_or_else(|diff| panic!("{what}: {diff}"))
}

/// Runs the guest program at `path` (a module or a component of any WASI
/// release) once through the auditor's runner on Cranelift, with this
/// file's fuel, under stock wasmtime-wasi if `stock`: the whole outcome,
/// final trees included.
pub fn run_file(
    path: &str,
    backend: Backend,
    config: DeterminismConfig,
    stock: bool,
) -> deterministic_wasi_ctx::audit::Outcome {
    use deterministic_wasi_ctx::audit::{AuditConfig, Compiled, RunSpec, Strategy};
    static CRANELIFT: OnceLock<Engine> = OnceLock::new();
    let engine = CRANELIFT.get_or_init(|| Strategy::Cranelift.engine().expect("engine"));
    let wasm = std::fs::read(path).expect("guest program");
    let compiled = Compiled::new(engine, &wasm).expect("compiles");
    let spec = RunSpec {
        config,
        fuel: FUEL,
        max_events: 0,
        stock,
        ..AuditConfig::default().spec
    };
    compiled.run(engine, backend, &spec)
}
