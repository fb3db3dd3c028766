//! What the tracer's tests share: the three ways a guest is instantiated and
//! the crate's linkers on both preview1 backends.

use super::{Recorder, instantiate_traced, instantiate_traced_served};
use wasmtime::{Engine, Instance, Linker, Module, Store};

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
