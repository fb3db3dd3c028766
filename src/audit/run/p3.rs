//! One run of a WASI 0.3 command component: the deterministic context
//! driven by its [`Driver`](crate::p3::Driver), or stock wasmtime-wasi's
//! 0.3 interfaces on tokio (real timers) as the nondeterministic reference.

use super::{
    Host, RunSpec, StockP2, exit_status, run_deterministic_component, run_stock_component,
};
use crate::audit::outcome::Outcome;
use crate::p2::DeterministicP2Ctx;
use crate::p3;
use crate::trace::Recorder;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

fn link(linker: &mut Linker<Host<DeterministicP2Ctx>>) -> wasmtime::Result<()> {
    p3::add_to_linker(linker, |h| &mut h.ctx)
}

fn link_stock(linker: &mut Linker<Host<StockP2>>) -> wasmtime::Result<()> {
    wasmtime_wasi::p3::add_to_linker(linker)
}

/// The 0.3 linker `link` builds for `engine`, built once per engine (under
/// its own key: the preview2 linker has the same host type).
fn linker_for<T: 'static>(
    engine: &Engine,
    link: fn(&mut Linker<T>) -> wasmtime::Result<()>,
) -> wasmtime::Result<Arc<Linker<T>>> {
    super::component_linker_under(engine, "audit 0.3 component linker", link)
}

/// Checks that the deterministic 0.3 linker defines every import.
pub(super) fn check_links(engine: &Engine, component: &Component) -> wasmtime::Result<()> {
    linker_for(engine, link)?
        .instantiate_pre(component)
        .map(drop)
}

/// Runs `component` once in a fresh Store.
pub(super) fn run(engine: &Engine, component: &Component, spec: &RunSpec) -> Outcome {
    if spec.stock {
        let linker = linker_for(engine, link_stock);
        let recorder = Recorder::new(spec.max_events);
        return run_stock_component(engine, spec, linker, 0, recorder, |linker, store, _| {
            on_tokio(store, component, linker)
        });
    }
    run_deterministic_component(engine, spec, linker_for(engine, link), |linker, store| {
        // The driver shares the context's clock and waits (a handle).
        let driver = store.data().ctx.driver();
        exit_status(driver.run_command(store, component, linker))
    })
}

/// Stock's 0.3 run: its timers are tokio sleeps, so a tokio runtime with
/// time drives it.
fn on_tokio(
    store: &mut wasmtime::Store<Host<StockP2>>,
    component: &Component,
    linker: &Linker<Host<StockP2>>,
) -> wasmtime::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    exit_status(runtime.block_on(p3::run_command(store, component, linker)))
}
