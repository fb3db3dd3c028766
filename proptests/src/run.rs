//! Running guests on the real contexts, each run in a fresh Store.

use deterministic_wasi_ctx::DeterministicCommonCtx;
use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
use deterministic_wasi_ctx::p2::DeterministicP2Ctx;
use deterministic_wasi_ctx::script::{CompiledScript, OpResult, Script};
use deterministic_wasi_ctx::{DeterminismConfig, engine as det_engine};
use std::sync::OnceLock;
use wasmtime::component::{Component, Linker as ComponentLinker};
use wasmtime::{Engine, Linker, Module, Store};

/// Fuel for one run: far more than any generated guest needs.
pub const FUEL: u64 = 10_000_000_000;

/// The two preview1 backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P1Backend {
    /// `wasmtime-wasi` with the crate's scheduling overrides.
    WasmtimeWasi,
    /// The legacy `wasi-common`.
    WasiCommon,
}

/// Both preview1 backends.
pub const P1_BACKENDS: [P1Backend; 2] = [P1Backend::WasmtimeWasi, P1Backend::WasiCommon];

/// The shared deterministic engine (fuel on).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| det_engine::deterministic_engine().expect("engine"))
}

fn p1_linker() -> &'static Linker<DeterministicP1Ctx> {
    static LINKER: OnceLock<Linker<DeterministicP1Ctx>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(engine());
        deterministic_wasi_ctx::p1::add_to_linker_sync(&mut linker, |t| t).expect("link p1");
        linker
    })
}

fn common_linker() -> &'static Linker<DeterministicCommonCtx> {
    static LINKER: OnceLock<Linker<DeterministicCommonCtx>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(engine());
        deterministic_wasi_ctx::common::add_to_linker_sync(&mut linker, |t| t)
            .expect("link wasi-common");
        linker
    })
}

fn p2_linker() -> &'static ComponentLinker<DeterministicP2Ctx> {
    static LINKER: OnceLock<ComponentLinker<DeterministicP2Ctx>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = ComponentLinker::new(engine());
        deterministic_wasi_ctx::p2::add_to_linker_sync(&mut linker, |t| t).expect("link p2");
        linker
    })
}

/// The exit status of an `I32Exit` error of either backend, else the error's
/// message.
fn exit_status(error: wasmtime::Error) -> Result<i32, String> {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        Ok(exit.0)
    } else if let Some(exit) = error.downcast_ref::<wasi_common::I32Exit>() {
        Ok(exit.0)
    } else {
        Err(format!("{error:#}"))
    }
}

/// Instantiates `module` with `linker` in a fresh Store holding `data`, calls
/// `_start`, and returns the final contents of the exported `memory`.
///
/// # Errors
///
/// A trap, a non-zero exit or a link error, as its message.
pub fn run_core<T: 'static>(
    linker: &Linker<T>,
    data: T,
    module: &Module,
) -> Result<Vec<u8>, String> {
    let mut store = Store::new(engine(), data);
    store.set_fuel(FUEL).map_err(|e| e.to_string())?;
    let instance = linker
        .instantiate(&mut store, module)
        .map_err(|e| format!("instantiate: {e:#}"))?;
    let result = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .and_then(|start| start.call(&mut store, ()));
    match result.map_err(exit_status) {
        Ok(()) | Err(Ok(0)) => {}
        Err(Ok(code)) => return Err(format!("exit status {code}")),
        Err(Err(trap)) => return Err(trap),
    }
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("no exported memory")?;
    Ok(memory.data(&store).to_vec())
}

/// Runs `module` on `backend` with a context built from `config`; the final
/// memory.
///
/// # Errors
///
/// As [`run_core`].
pub fn run_module(
    backend: P1Backend,
    config: &DeterminismConfig,
    module: &Module,
) -> Result<Vec<u8>, String> {
    match backend {
        P1Backend::WasmtimeWasi => run_core(p1_linker(), config.build_p1(), module),
        P1Backend::WasiCommon => run_core(common_linker(), config.build_wasi_common(), module),
    }
}

/// A [`Script`] compiled once, to run many times.
pub struct ScriptModule {
    compiled: CompiledScript,
    module: Module,
}

impl ScriptModule {
    /// Compiles `script`.
    ///
    /// # Panics
    ///
    /// If an operation is not already in its normalized form (the strategies
    /// only generate normalized operations, so the model sees exactly the
    /// calls made) or the module does not compile.
    pub fn new(script: &Script) -> Self {
        for op in &script.ops {
            assert_eq!(&op.normalized(), op, "generated operations are normalized");
        }
        let compiled = script.compile();
        let module = Module::new(engine(), compiled.wasm()).expect("compile script");
        ScriptModule { compiled, module }
    }

    /// The compiled module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Decodes the per-operation results from a final memory.
    pub fn results(&self, memory: &[u8]) -> Vec<OpResult> {
        self.compiled.results(memory)
    }

    /// Runs the script on `backend` in a fresh Store: one result per
    /// operation.
    ///
    /// # Errors
    ///
    /// A trap, as its message.
    pub fn run(
        &self,
        backend: P1Backend,
        config: &DeterminismConfig,
    ) -> Result<Vec<OpResult>, String> {
        run_module(backend, config, &self.module).map(|memory| self.results(&memory))
    }
}

/// What a program run printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutput {
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
    /// Exit status, or the trap's message.
    pub exit: Result<i32, String>,
}

fn p2_timers_component() -> &'static Component {
    static COMPONENT: OnceLock<Component> = OnceLock::new();
    COMPONENT.get_or_init(|| {
        Component::from_file(engine(), test_programs::P2_P2_TIMERS).expect("load p2_timers")
    })
}

fn p2_timers_module() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| {
        Module::from_file(engine(), test_programs::P1_P2_TIMERS).expect("load p2_timers")
    })
}

/// Runs the `p2_timers` component with `stdin` in a fresh Store.
pub fn run_p2_timers(config: &DeterminismConfig, stdin: &str) -> ProgramOutput {
    let ctx = config
        .clone()
        .capture_output(true)
        .stdin(stdin.as_bytes())
        .build_p2();
    let output = ctx.output().clone();
    let mut store = Store::new(engine(), ctx);
    store.set_fuel(FUEL).expect("fuel is on");
    let result = wasmtime_wasi::p2::bindings::sync::Command::instantiate(
        &mut store,
        p2_timers_component(),
        p2_linker(),
    )
    .and_then(|command| command.wasi_cli_run().call_run(&mut store));
    let exit = match result {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => exit_status(e),
    };
    ProgramOutput {
        stdout: String::from_utf8_lossy(&output.stdout()).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr()).into_owned(),
        exit,
    }
}

/// Runs the preview1 build of `p2_timers` with `stdin` on `backend` in a
/// fresh Store.
pub fn run_p1_timers(backend: P1Backend, config: &DeterminismConfig, stdin: &str) -> ProgramOutput {
    let config = config.clone().capture_output(true).stdin(stdin.as_bytes());
    let (result, output) = match backend {
        P1Backend::WasmtimeWasi => {
            let ctx = config.build_p1();
            let output = ctx.output().clone();
            (run_core(p1_linker(), ctx, p2_timers_module()), output)
        }
        P1Backend::WasiCommon => {
            let ctx = config.build_wasi_common();
            let output = ctx.output.clone();
            (run_core(common_linker(), ctx, p2_timers_module()), output)
        }
    };
    ProgramOutput {
        stdout: String::from_utf8_lossy(&output.stdout()).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr()).into_owned(),
        exit: result.map(|_| 0),
    }
}
