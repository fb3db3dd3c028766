//! Running a core module in a fresh Store and keeping its final `memory`
//! (the audit keeps only digests; script checks decode the memory).

use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{Backend, Status, Strategy};
use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
use std::sync::OnceLock;
use wasmtime::{Linker, Module, Store};

/// What one run left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// How it ended.
    pub status: Status,
    /// The final contents of the exported `memory` (empty if instantiation failed).
    pub memory: Vec<u8>,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
}

fn engine() -> &'static wasmtime::Engine {
    crate::shared_engine(Strategy::Cranelift)
}

fn p1_linker() -> &'static Linker<DeterministicP1Ctx> {
    static LINKER: OnceLock<Linker<DeterministicP1Ctx>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(engine());
        deterministic_wasi_ctx::p1::add_to_linker_sync(&mut linker, |t| t).expect("link p1");
        linker
    })
}

fn common_linker() -> &'static Linker<wasi_common::WasiCtx> {
    static LINKER: OnceLock<Linker<wasi_common::WasiCtx>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(engine());
        wasi_common::sync::add_to_linker(&mut linker, |t| t).expect("link wasi-common");
        linker
    })
}

/// Compiles `wasm` on the shared Cranelift engine.
///
/// # Panics
///
/// If it does not compile (callers only pass modules they generated).
pub fn compile(wasm: &[u8]) -> Module {
    Module::new(engine(), wasm).expect("generated module compiles")
}

fn run_core<T: 'static>(
    linker: &Linker<T>,
    data: T,
    module: &Module,
    fuel: u64,
) -> (Status, Vec<u8>) {
    let mut store = Store::new(engine(), data);
    store.set_fuel(fuel).expect("fuel is on");
    let instance = match linker.instantiate(&mut store, module) {
        Ok(instance) => instance,
        Err(error) => return (Status::of(Err(error), 0), Vec::new()),
    };
    let result = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .and_then(|start| start.call(&mut store, ()));
    let memory = instance
        .get_memory(&mut store, "memory")
        .map(|m| m.data(&store).to_vec())
        .unwrap_or_default();
    (Status::of(result, 0), memory)
}

/// Runs `module` on `backend` in a fresh Store with `config` (output captured).
pub fn run(backend: Backend, config: &DeterminismConfig, module: &Module, fuel: u64) -> Run {
    let config = config.clone().capture_output(true);
    match backend {
        Backend::WasmtimeWasi => {
            let ctx = config.build_p1();
            let output = ctx.output().clone();
            let (status, memory) = run_core(p1_linker(), ctx, module, fuel);
            Run {
                status,
                memory,
                stdout: output.stdout(),
                stderr: output.stderr(),
            }
        }
        Backend::WasiCommon => {
            let built = config.build_wasi_common();
            let output = built.output.clone();
            let (status, memory) = run_core(common_linker(), built.wasi, module, fuel);
            Run {
                status,
                memory,
                stdout: output.stdout(),
                stderr: output.stderr(),
            }
        }
    }
}
