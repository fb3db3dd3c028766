//! One run of a WASI 0.3 command component: the deterministic context
//! driven by its [`Driver`](crate::p3::Driver), or stock wasmtime-wasi's
//! 0.3 interfaces on tokio (real timers) as the nondeterministic reference.

use super::{Host, RunSpec, StockDirs, StockP2, finish_component, stock_builder, store};
use crate::audit::outcome::Outcome;
use crate::p2::DeterministicP2Ctx;
use crate::p3;
use crate::trace::Recorder;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker, ResourceTable};

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

/// `run` returning `err` is exit status 1, as wasmtime's CLI treats it.
fn exit_status(result: wasmtime::Result<Result<(), ()>>) -> wasmtime::Result<()> {
    match result? {
        Ok(()) => Ok(()),
        Err(()) => Err(wasmtime_wasi::I32Exit(1).into()),
    }
}

/// Runs `component` once in a fresh Store.
pub(super) fn run(engine: &Engine, component: &Component, spec: &RunSpec) -> Outcome {
    let recorder = Recorder::new(spec.max_events);
    let config = spec.config.clone().capture_output(true);
    if spec.stock {
        let (mut builder, stdout, stderr) = stock_builder(&config);
        let dirs = StockDirs::preopen(&config, &mut builder);
        let ctx = builder.build();
        let table = ResourceTable::new();
        let mut store = store(engine, StockP2 { ctx, table }, spec.fuel, 0);
        let (result, filesystems) = match dirs {
            Ok(dirs) => {
                let result = linker_for(engine, link_stock)
                    .and_then(|linker| on_tokio(&mut store, component, &linker));
                (result, dirs.read_back(&config))
            }
            Err(error) => (Err(error.context("stock preopen")), Vec::new()),
        };
        let output = (stdout.contents().to_vec(), stderr.contents().to_vec());
        return finish_component(
            result,
            &mut store,
            spec.fuel,
            &recorder,
            output,
            filesystems,
        );
    }
    let ctx = config.build_p2_traced(&recorder);
    let output = ctx.output().clone();
    let driver = ctx.driver();
    let mut store = store(engine, ctx, spec.fuel, 0);
    let result = linker_for(engine, link)
        .and_then(|linker| exit_status(driver.run_command(&mut store, component, &linker)));
    let filesystems = store.data().ctx.filesystems();
    let output = (output.stdout(), output.stderr());
    finish_component(
        result,
        &mut store,
        spec.fuel,
        &recorder,
        output,
        filesystems,
    )
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
