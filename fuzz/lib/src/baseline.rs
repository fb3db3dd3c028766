//! `baseline`: the same wasm-smith modules as `p1_smith`, compiled and run
//! once in a *stock* wasmtime-wasi preview1 Store on an engine with the same
//! (deterministic) configuration. Only for throughput comparison: it checks
//! nothing beyond "the host does not panic", so it is not shipped as a
//! fuzzer (`fuzz/oss-fuzz/build.sh` leaves it out). Its `poll_oneoff` and
//! `sched_yield` are the crate's virtual-time ones
//! ([`sched::add_scheduling_to_linker`](deterministic_wasi_ctx::sched::add_scheduling_to_linker)):
//! stock wasmtime-wasi would sleep on the host for as long as a generated
//! timeout says.

use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::Strategy;
use deterministic_wasi_ctx::engine::DeterministicLimits;
use std::sync::OnceLock;
use wasmtime::{Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;

struct Host {
    wasi: WasiP1Ctx,
    clock: deterministic_wasi_ctx::VirtualClock,
    limits: DeterministicLimits,
}

fn linker() -> &'static Linker<Host> {
    static LINKER: OnceLock<Linker<Host>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(crate::shared_engine(Strategy::Cranelift));
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |h: &mut Host| &mut h.wasi)
            .expect("link stock p1");
        // The generated modules import from `wasi_unstable` too.
        wasmtime_wasi::p0::add_to_linker_sync(&mut linker, |h: &mut Host| &mut h.wasi)
            .expect("link stock p0");
        deterministic_wasi_ctx::sched::add_scheduling_to_linker(&mut linker, |h: &mut Host| {
            &h.clock
        })
        .expect("link virtual-time scheduling");
        linker
    })
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    run_report(u).map(drop)
}

/// One execution; whether the module was instantiated (so that `_start`,
/// if it exports one, ran), or why not. Every module `p1_smith` runs must
/// instantiate here too, or this target would time less work than
/// `p1_smith` does.
pub fn run_report(u: &mut Unstructured) -> arbitrary::Result<wasmtime::Result<()>> {
    // Decoded as `p1_smith` decodes it, so both see the same modules.
    let wasm = crate::p1_smith::decode(u)?.wasm;
    let engine = crate::shared_engine(Strategy::Cranelift);
    let module = Module::new(engine, &wasm).expect("wasm-smith module compiles");
    let wasi = wasmtime_wasi::WasiCtxBuilder::new().build_p1();
    let mut store = Store::new(
        engine,
        Host {
            wasi,
            clock: deterministic_wasi_ctx::DeterminismConfig::new().virtual_clock(),
            limits: deterministic_wasi_ctx::engine::store_limits(),
        },
    );
    store.limiter(|h| &mut h.limits);
    store.set_fuel(crate::FUEL).expect("fuel is on");
    Ok(linker().instantiate(&mut store, &module).map(|instance| {
        if let Ok(start) = instance.get_typed_func::<(), ()>(&mut store, "_start") {
            let _ = start.call(&mut store, ());
        }
    }))
}
