//! What the tracer's tests share: the three ways a guest is instantiated and
//! the crate's linkers on both preview1 backends.

use super::{Recorder, instantiate_traced, instantiate_traced_served};
use wasmtime::{Engine, Instance, Linker, Module, Store};

/// The fuel a run of [`start_to_trap`] is given.
pub(super) const FUEL: u64 = 1_000_000;

/// How a run is instantiated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `linker.instantiate`: untraced.
    Plain,
    /// [`instantiate_traced`]: every call through a proxy.
    Proxied,
    /// [`instantiate_traced_served`]: served functions called directly.
    Served,
}

impl Mode {
    /// Instantiates `module` in `store` this way, recording into `recorder`
    /// unless [`Mode::Plain`].
    pub(super) fn instantiate<T: 'static>(
        self,
        linker: &Linker<T>,
        store: &mut Store<T>,
        module: &Module,
        recorder: &Recorder,
    ) -> wasmtime::Result<Instance> {
        match self {
            Mode::Plain => linker.instantiate(store, module),
            Mode::Proxied => instantiate_traced(linker, store, module, recorder),
            Mode::Served => instantiate_traced_served(linker, store, module, recorder),
        }
    }
}

/// The crate's wasmtime-wasi linker.
pub(super) fn p1_linker(engine: &Engine) -> Linker<crate::p1::DeterministicP1Ctx> {
    let mut linker = Linker::new(engine);
    crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
    linker
}

/// The crate's wasi-common linker.
#[cfg(feature = "wasi-common")]
pub(super) fn common_linker(engine: &Engine) -> Linker<crate::common::DeterministicCommonCtx> {
    let mut linker = Linker::new(engine);
    crate::common::add_to_linker_sync(&mut linker, |t| t).unwrap();
    linker
}

/// What a run that trapped left.
pub(super) struct Trapped {
    /// The whole chain: the host's message and the guest's backtrace.
    pub(super) error: String,
    /// Of [`FUEL`].
    pub(super) fuel_consumed: u64,
    /// Its exported `memory`.
    pub(super) memory: Vec<u8>,
    /// If traced: the call count, the digest and every call in full.
    pub(super) trace: Option<(u64, [u8; 32], Vec<String>)>,
}

/// Calls `instance`'s `_start`, which must trap, in `store` (given
/// [`FUEL`]), and collects what it left; the trace from `recorder` if
/// `traced`.
pub(super) fn start_to_trap<T>(
    store: &mut Store<T>,
    instance: Instance,
    recorder: &Recorder,
    traced: bool,
) -> Trapped {
    let start = instance
        .get_typed_func::<(), ()>(&mut *store, "_start")
        .unwrap();
    let error = start.call(&mut *store, ()).unwrap_err();
    let memory = instance.get_memory(&mut *store, "memory").unwrap();
    let trace = recorder.trace();
    Trapped {
        error: format!("{error:#}"),
        fuel_consumed: FUEL - store.get_fuel().unwrap(),
        memory: memory.data(&*store).to_vec(),
        trace: traced.then(|| {
            let events = trace.events().iter().map(|e| e.to_string()).collect();
            (trace.calls(), trace.digest(), events)
        }),
    }
}
