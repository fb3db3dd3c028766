//! One run of a program: a fresh Store, the deterministic (or stock) context,
//! fuel, a trace, and everything observable at the end.

use super::outcome::{Outcome, Status};
use crate::p1::DeterministicP1Ctx;
use crate::p2::DeterministicP2Ctx;
use crate::trace::p1::Direct;
use crate::trace::{self, Recorder};
use crate::{DeterminismConfig, engine};
use std::sync::Arc;
use wasmtime::component::{Component, Linker as ComponentLinker, ResourceTable};
use wasmtime::{Engine, Linker, Module, Store, Val};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtxView, WasiView};

/// Which preview1 implementation runs a core module (components always run
/// on wasmtime-wasi preview2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `wasmtime-wasi` preview1 with this crate's overrides.
    WasmtimeWasi,
    /// `wasi-common` with this crate's clocks and scheduler.
    #[cfg(feature = "wasi-common")]
    WasiCommon,
}

impl Backend {
    /// Every preview1 backend this build has, wasmtime-wasi first:
    /// wasi-common too with the `wasi-common` feature (wasmtime 46 only;
    /// wasi-common ended there).
    ///
    /// ```
    /// use deterministic_wasi_ctx::audit::Backend;
    ///
    /// assert_eq!(Backend::ALL[0], Backend::WasmtimeWasi);
    /// for backend in Backend::ALL {
    ///     println!("{}", backend.name());
    /// }
    /// ```
    pub const ALL: &[Backend] = &[
        Backend::WasmtimeWasi,
        #[cfg(feature = "wasi-common")]
        Backend::WasiCommon,
    ];

    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::WasmtimeWasi => "wasmtime-wasi",
            #[cfg(feature = "wasi-common")]
            Backend::WasiCommon => "wasi-common",
        }
    }
}

/// How the guest is executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Native code from Cranelift.
    Cranelift,
    /// The Pulley interpreter (portable bytecode compiled by Cranelift), for
    /// this host's pointer width and byte order
    /// ([`engine::PULLEY_HOST_TARGET`](crate::engine::PULLEY_HOST_TARGET)).
    Pulley,
}

impl Strategy {
    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Cranelift => "cranelift",
            Strategy::Pulley => "pulley",
        }
    }

    /// A deterministic engine for this strategy.
    ///
    /// # Errors
    ///
    /// If wasmtime cannot build the engine on this host.
    pub fn engine(self) -> wasmtime::Result<Engine> {
        let mut config = engine::deterministic_config();
        if self == Strategy::Pulley {
            config.target(engine::PULLEY_HOST_TARGET)?;
        }
        Engine::new(&config)
    }
}

/// What to run a program with.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The determinism model. Output is always captured, with the
    /// configuration's [`output_limit`](DeterminismConfig::output_limit):
    /// the guest gets the same answers past the limit as in an embedding
    /// built from the same configuration, captured or discarded.
    pub config: DeterminismConfig,
    /// Fuel given to each run.
    pub fuel: u64,
    /// Calls kept in full per run (the digest always covers all of them).
    pub max_events: usize,
    /// Run under *stock* wasmtime-wasi instead: a deliberately
    /// nondeterministic fixture, to show what a divergence looks like, and
    /// the reference the crate's own preview1 functions are compared with.
    /// The stock context gets the configuration's arguments, environment,
    /// stdin and output limit, and stock clocks, randomness and scheduling.
    pub stock: bool,
    /// Keep the final contents of the exported `memory` in
    /// [`Outcome::memory`] (core modules), for callers that decode results
    /// the guest left there. Off by default: the fingerprint only needs the
    /// memory's digest.
    pub keep_memory: bool,
    /// Record each call's writes from its signature and reported results
    /// ([`trace::instantiate_traced`]), the rule a stock run is recorded
    /// by, instead of exactly where the crate's functions wrote
    /// ([`trace::instantiate_traced_served`]): for comparing the crate's
    /// trace with a stock run's. Off by default.
    pub writes_from_signatures: bool,
    /// Answer every preview1 call of a core module from the log at this
    /// path ([`replay`](crate::replay)) instead of a context: each run
    /// opens it afresh. A run whose guest asks something other than the
    /// recording, or that ends otherwise, ends as a
    /// [`Status::REPLAY_MISMATCH`] or [`Status::REPLAY_BAD_LOG`] trap with
    /// the report as its message. `None` by default.
    pub replay: Option<std::path::PathBuf>,
}

/// A program compiled for one engine.
#[derive(Clone)]
pub enum Compiled {
    /// A preview1 core module.
    Module(Module),
    /// A preview2 or WASI 0.3 component, and its imports: what a stock
    /// run traces its calls through.
    Component(Component, ComponentImports),
}

/// A component's bytes, kept for the [forwarder](crate::trace) a stock
/// preview2 run calls stock through so that its calls are traced. It is
/// made on the first stock run and shared by every clone.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit::{Compiled, ComponentImports};
/// let engine = wasmtime::Engine::default();
/// let wasm = wat::parse_str("(component)")?;
/// let compiled = Compiled::Component(
///     wasmtime::component::Component::new(&engine, &wasm)?,
///     ComponentImports::new(&wasm),
/// );
/// assert!(matches!(compiled, Compiled::Component(..)));
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[derive(Clone)]
pub struct ComponentImports(Arc<ImportsOf>);

struct ImportsOf {
    wasm: Vec<u8>,
    forwarder: std::sync::OnceLock<Result<crate::trace::component::forward::Forwarder, String>>,
}

impl ComponentImports {
    /// The imports of the component `wasm` holds.
    pub fn new(wasm: &[u8]) -> Self {
        ComponentImports(Arc::new(ImportsOf {
            wasm: wasm.to_vec(),
            forwarder: std::sync::OnceLock::new(),
        }))
    }

    /// The forwarder, or why the imports cannot be forwarded (WASI 0.3's
    /// async functions): such a run is not traced.
    pub(crate) fn forwarder(&self) -> Result<&crate::trace::component::forward::Forwarder, &str> {
        self.0
            .forwarder
            .get_or_init(|| {
                crate::trace::component::forward::forwarder(&self.0.wasm)
                    .map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The component's bytes.
    pub(crate) fn wasm(&self) -> &[u8] {
        &self.0.wasm
    }
}

impl std::fmt::Debug for ComponentImports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentImports")
            .field("bytes", &self.0.wasm.len())
            .finish_non_exhaustive()
    }
}

impl Compiled {
    /// Compiles `wasm` (binary) for `engine`, as a component if it is one.
    ///
    /// # Errors
    ///
    /// If the bytes are not a valid module or component.
    pub fn new(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        if wasmparser::Parser::is_component(wasm) {
            Ok(Compiled::Component(
                Component::new(engine, wasm)?,
                ComponentImports::new(wasm),
            ))
        } else {
            Ok(Compiled::Module(Module::new(engine, wasm)?))
        }
    }

    /// Compiles `wasm` as [`Compiled::new`] does, after applying `spec`'s
    /// logical stack limit if it has one
    /// ([`DeterminismConfig::max_stack`](crate::DeterminismConfig::max_stack)).
    ///
    /// # Errors
    ///
    /// As [`Compiled::new`] and [`engine::stack::prepare`].
    pub fn prepared(engine: &Engine, wasm: &[u8], spec: &RunSpec) -> wasmtime::Result<Self> {
        no_component_replay(wasm, spec)?;
        let wasm = engine::stack::prepare(wasm, spec.config.get_max_stack())?;
        Compiled::new(engine, &wasm)
    }

    /// Checks that every import is provided by `backend` (or by preview2,
    /// for a component), without running anything.
    ///
    /// # Errors
    ///
    /// Names the first import that has no definition.
    pub fn check_links(&self, engine: &Engine, backend: Backend) -> wasmtime::Result<()> {
        match self {
            Compiled::Module(module) => match backend {
                Backend::WasmtimeWasi => linker_for(engine, link_p1)?
                    .instantiate_pre(module)
                    .map(drop),
                #[cfg(feature = "wasi-common")]
                Backend::WasiCommon => linker_for(engine, link_wasi_common)?
                    .instantiate_pre(module)
                    .map(drop),
            },
            Compiled::Component(component, _) if crate::p3::is_command(engine, component) => {
                p3::check_links(engine, component)
            }
            Compiled::Component(component, _) => component_linker_for(engine, link_p2)?
                .instantiate_pre(component)
                .map(drop),
        }
    }

    /// Runs once in a fresh Store.
    pub fn run(&self, engine: &Engine, backend: Backend, spec: &RunSpec) -> Outcome {
        match self {
            Compiled::Module(module) => run_module(engine, module, backend, spec),
            Compiled::Component(component, imports) => {
                run_component(engine, component, imports, spec)
            }
        }
    }
}

/// A replay ([`RunSpec::replay`]) of a component whose imports cannot be
/// replayed (WASI 0.3's async functions) is refused: record and replay
/// take preview1 modules and preview2 components.
pub(crate) fn no_component_replay(wasm: &[u8], spec: &RunSpec) -> wasmtime::Result<()> {
    if spec.replay.is_some() && wasmparser::Parser::is_component(wasm) {
        crate::trace::component::forward::imports(wasm).map_err(|why| {
            wasmtime::format_err!(
                "this component cannot be recorded or replayed ({why:#}): record and replay take preview1 modules and preview2 components"
            )
        })?;
    }
    Ok(())
}

struct Host<C> {
    ctx: C,
    limits: engine::DeterministicLimits,
}

fn link_p1(linker: &mut Linker<Host<DeterministicP1Ctx>>) -> wasmtime::Result<()> {
    crate::p1::add_to_linker_sync(linker, |h| &mut h.ctx)
}

fn link_stock_p1(linker: &mut Linker<Host<wasmtime_wasi::p1::WasiP1Ctx>>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |h| &mut h.ctx)?;
    wasmtime_wasi::p0::add_to_linker_sync(linker, |h| &mut h.ctx)
}

fn link_p2(linker: &mut ComponentLinker<Host<DeterministicP2Ctx>>) -> wasmtime::Result<()> {
    crate::p2::add_to_linker_sync(linker, |h| &mut h.ctx)
}

fn link_stock_p2(linker: &mut ComponentLinker<Host<StockP2>>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)
}

#[cfg(feature = "wasi-common")]
fn link_wasi_common(
    linker: &mut Linker<Host<crate::DeterministicCommonCtx>>,
) -> wasmtime::Result<()> {
    crate::common::add_to_linker_sync(linker, |h| &mut h.ctx)
}

/// The linker `link` builds for `engine`, built once per engine and host
/// type ([`engine::per_engine`]): an audit runs the same program in several
/// Stores, and a fuzzer runs thousands, so defining a hundred host functions
/// for each run would be a large share of its time.
fn linker_for<C: Send + 'static>(
    engine: &Engine,
    link: Link<C>,
) -> wasmtime::Result<Arc<Linker<Host<C>>>> {
    engine::per_engine(engine, "audit linker", || build_linker(engine, link))
}

/// A new linker for `engine` with what `link` adds.
fn build_linker<C: Send + 'static>(
    engine: &Engine,
    link: Link<C>,
) -> wasmtime::Result<Arc<Linker<Host<C>>>> {
    let mut linker = Linker::new(engine);
    link(&mut linker)?;
    Ok(Arc::new(linker))
}

/// The linker of the crate's served functions (`link`) for one run of
/// `module`: on an Engine's first run, a linker of only the functions
/// `module` imports, built for this run
/// ([`crate::served::serving_only_imports_of`]); from its second run on, the
/// full linker [`linker_for`] caches.
///
/// Most Engines an audit or a fuzzer makes are fresh ones, used for one run
/// of one program: building all of a backend's functions for them costs more
/// than the run. An Engine used again (a shared one, or a caller's) gets the
/// full linker once and keeps it. The cache records the first run with a
/// marker, so a fresh Engine is held until evicted, as its cached linker held
/// it before.
fn linker_for_run<C: Send + 'static>(
    engine: &Engine,
    link: Link<C>,
    module: &Module,
) -> wasmtime::Result<Arc<Linker<Host<C>>>> {
    let mut first_run = false;
    engine::per_engine(engine, "audit linker: used", || {
        first_run = true;
        Ok(std::marker::PhantomData::<fn() -> C>)
    })?;
    if !first_run {
        return linker_for(engine, link);
    }
    crate::served::serving_only_imports_of(module, || build_linker(engine, link))
}

/// [`linker_for`] for components.
fn component_linker_for<T: 'static>(
    engine: &Engine,
    link: fn(&mut ComponentLinker<T>) -> wasmtime::Result<()>,
) -> wasmtime::Result<Arc<ComponentLinker<T>>> {
    component_linker_under(engine, "audit component linker", link)
}

/// [`component_linker_for`] cached under `key`: one per kind of linker
/// whose host type another kind shares (preview2 and WASI 0.3).
fn component_linker_under<T: 'static>(
    engine: &Engine,
    key: &str,
    link: fn(&mut ComponentLinker<T>) -> wasmtime::Result<()>,
) -> wasmtime::Result<Arc<ComponentLinker<T>>> {
    engine::per_engine(engine, key, || {
        let mut linker = ComponentLinker::new(engine);
        link(&mut linker)?;
        Ok(Arc::new(linker))
    })
}

/// A Store with the deterministic limits, plus `proxies` instances for
/// tracing's proxies ([`trace::max_proxy_instances`]) so that they leave the
/// guest its full [`engine::MAX_INSTANCES`].
fn store<C: 'static>(engine: &Engine, ctx: C, fuel: u64, proxies: usize) -> Store<Host<C>> {
    let mut store = Store::new(
        engine,
        Host {
            ctx,
            limits: engine::store_limits().with_extra_instances(proxies),
        },
    );
    store.limiter(|h| &mut h.limits);
    // Fuel is enabled by the deterministic config; a store without it would
    // not start at all, which `set_fuel` reports.
    let _ = store.set_fuel(fuel);
    store
}

fn run_module(engine: &Engine, module: &Module, backend: Backend, spec: &RunSpec) -> Outcome {
    if let Some(log) = &spec.replay {
        return replay::run(engine, module, spec, log);
    }
    let recorder = Recorder::new(spec.max_events);
    if spec.stock {
        return run_stock_module(engine, module, spec, &recorder);
    }
    let config = spec.config.clone().capture_output(true);
    match backend {
        Backend::WasmtimeWasi => {
            let ctx = config.build_p1();
            let output = ctx.output().clone();
            let parts = (
                link_p1 as Link<_>,
                DeterministicP1Ctx::descriptors as Trees<_>,
            );
            run_linked(engine, module, ctx, parts, spec, &recorder, &output)
        }
        #[cfg(feature = "wasi-common")]
        Backend::WasiCommon => {
            let ctx = config.build_wasi_common();
            let output = ctx.output.clone();
            let parts = (
                link_wasi_common as Link<_>,
                (|c: &crate::DeterministicCommonCtx| &c.descriptors) as Trees<_>,
            );
            run_linked(engine, module, ctx, parts, spec, &recorder, &output)
        }
    }
}

/// One run of `module` under stock wasmtime-wasi's preview1, traced by
/// `recorder` (which a recording gives a log sink).
fn run_stock_module(
    engine: &Engine,
    module: &Module,
    spec: &RunSpec,
    recorder: &Recorder,
) -> Outcome {
    let config = spec.config.clone().capture_output(true);
    let (mut builder, stdout, stderr) = stock_builder(&config);
    let dirs = match StockDirs::preopen(&config, &mut builder) {
        Ok(dirs) => dirs,
        Err(error) => {
            let out = Err(wasmtime::Error::msg(format!("stock preopen: {error}")));
            let mut store = store(engine, (), spec.fuel, 0);
            let pipes = (Vec::new(), Vec::new());
            return finish(out, &mut store, spec, recorder, pipes, Vec::new());
        }
    };
    let ctx = builder.build_p1();
    let linker = linker_for(engine, link_stock_p1);
    let proxies = trace::max_proxy_instances(module);
    let mut store = store(engine, ctx, spec.fuel, proxies);
    // Stock's functions called straight from the tracer (no proxies).
    let direct = Direct::Stock(|h: &mut Host<wasmtime_wasi::p1::WasiP1Ctx>| &mut h.ctx);
    let out = linker.and_then(|linker| start(&linker, &mut store, module, recorder, direct));
    let filesystems = dirs.read_back(&config);
    finish(
        out,
        &mut store,
        spec,
        recorder,
        (stdout.contents().to_vec(), stderr.contents().to_vec()),
        filesystems,
    )
}

/// Adds a backend's functions to a linker.
type Link<C> = fn(&mut Linker<Host<C>>) -> wasmtime::Result<()>;

/// Finds a context's descriptors (for its preopened trees).
type Trees<C> = fn(&C) -> &crate::fd::Descriptors;

/// Links `ctx` with `link`, runs `module` traced, and collects the outcome
/// with the final trees `trees` finds.
fn run_linked<C: Send + 'static>(
    engine: &Engine,
    module: &Module,
    ctx: C,
    (link, trees): (Link<C>, Trees<C>),
    spec: &RunSpec,
    recorder: &Recorder,
    output: &crate::CapturedOutput,
) -> Outcome {
    let linker = linker_for_run(engine, link, module);
    let mut store = store(engine, ctx, spec.fuel, trace::max_proxy_instances(module));
    // Every `Link` here is the crate's own preview1 functions.
    let direct = match spec.writes_from_signatures {
        true => Direct::None,
        false => Direct::Served,
    };
    let out = linker.and_then(|linker| start(&linker, &mut store, module, recorder, direct));
    let filesystems = trees(&store.data().ctx)
        .mounts()
        .iter()
        .map(|m| (m.guest_path.clone(), m.tree.clone()))
        .collect();
    finish(
        out,
        &mut store,
        spec,
        recorder,
        (output.stdout(), output.stderr()),
        filesystems,
    )
}

/// Instantiates with tracing, calling directly what `direct` says (see
/// [`trace::instantiate_traced`] and its `_served` and `_stock` variants),
/// and calls `_start` if there is one.
pub(super) fn start<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    recorder: &Recorder,
    direct: Direct<T>,
) -> wasmtime::Result<(wasmtime::Result<()>, wasmtime::Instance)> {
    let instance = trace::p1::instantiate(linker, store, module, recorder, direct)?;
    let result = match instance.get_func(&mut *store, "_start") {
        Some(func) => func
            .typed::<(), ()>(&*store)
            .and_then(|f| f.call(&mut *store, ())),
        None => Ok(()),
    };
    Ok((result, instance))
}

fn finish<T>(
    started: wasmtime::Result<(wasmtime::Result<()>, wasmtime::Instance)>,
    store: &mut Store<T>,
    spec: &RunSpec,
    recorder: &Recorder,
    (stdout, stderr): (Vec<u8>, Vec<u8>),
    filesystems: Vec<(String, crate::fs::FsTree)>,
) -> Outcome {
    let trace = recorder.trace();
    let (result, instance) = match started {
        Ok((result, instance)) => (result, Some(instance)),
        Err(error) => (Err(error), None),
    };
    let mut memories = Vec::new();
    let mut globals = Vec::new();
    let mut memory = None;
    if let Some(instance) = instance {
        let exports: Vec<_> = instance
            .exports(&mut *store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (name, export) in exports {
            match export {
                wasmtime::Extern::Memory(m) => {
                    let data = m.data(&*store);
                    if spec.keep_memory && name == "memory" {
                        memory = Some(data.to_vec());
                    }
                    memories.push((name, data.len(), *blake3::hash(data).as_bytes()));
                }
                wasmtime::Extern::Global(g) => globals.push((name, render(&g.get(&mut *store)))),
                _ => {}
            }
        }
    }
    let (status, trap_message) = Status::classify(result, trace.calls());
    Outcome {
        status,
        trap_message,
        stdout,
        stderr,
        memories,
        globals,
        fuel_consumed: spec.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
        host_calls: trace.calls(),
        trace_digest: trace.digest(),
        events: trace.events().to_vec(),
        memory,
        filesystems,
    }
}

fn render(value: &Val) -> String {
    match value {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(bits) => format!("f32:{bits:#010x}"),
        Val::F64(bits) => format!("f64:{bits:#018x}"),
        Val::V128(v) => format!("v128:{:#034x}", v.as_u128()),
        other => format!(
            "ref:{}",
            if other.ref_().is_some_and(|r| r.is_null()) {
                "null"
            } else {
                "non-null"
            }
        ),
    }
}

impl WasiView for Host<DeterministicP2Ctx> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.ctx.ctx()
    }
}

struct StockP2 {
    ctx: wasmtime_wasi::WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host<StockP2> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx.ctx,
            table: &mut self.ctx.table,
        }
    }
}

fn run_component(
    engine: &Engine,
    component: &Component,
    imports: &ComponentImports,
    spec: &RunSpec,
) -> Outcome {
    if crate::p3::is_command(engine, component) {
        return p3::run(engine, component, spec);
    }
    if let Some(log) = &spec.replay {
        return replay::run_component(engine, component, imports, spec, log);
    }
    if spec.stock {
        return run_stock_traced(
            engine,
            component,
            imports,
            spec,
            Recorder::new(spec.max_events),
        );
    }
    let linker = component_linker_for(engine, link_p2);
    run_deterministic_component(engine, spec, linker, |linker, store| {
        call_run(linker, store, component)
    })
}

/// A preview2 component's run under stock, its calls traced in `recorder`
/// through the forwarder (untraced if there is none).
fn run_stock_traced(
    engine: &Engine,
    component: &Component,
    imports: &ComponentImports,
    spec: &RunSpec,
    recorder: Recorder,
) -> Outcome {
    let linker = component_linker_for(engine, link_stock_p2);
    let Ok(forwarder) = imports.forwarder() else {
        return run_stock_component(engine, spec, linker, 0, recorder, |linker, store, _| {
            call_run(linker, store, component)
        });
    };
    let extra = crate::trace::component::forwarder_instances(forwarder);
    run_stock_component(
        engine,
        spec,
        linker,
        extra,
        recorder,
        |linker, store, recorder| {
            let instance = crate::trace::component::instantiate_traced_component(
                linker, store, component, forwarder, recorder,
            )?;
            let command = Command::new(&mut *store, &instance)?;
            exit_status(command.wasi_cli_run().call_run(&mut *store))
        },
    )
}

/// A component linker for host type `T`, or why there is none.
type ComponentLinkerFor<T> = wasmtime::Result<Arc<ComponentLinker<T>>>;

/// One run of a component under stock wasmtime-wasi, preview2 or 0.3
/// alike: a fresh Store with the configuration's inputs and host copies of
/// its trees; `call` instantiates and runs the component with `linker`.
fn run_stock_component(
    engine: &Engine,
    spec: &RunSpec,
    linker: ComponentLinkerFor<Host<StockP2>>,
    extra_instances: usize,
    recorder: Recorder,
    call: impl FnOnce(
        &ComponentLinker<Host<StockP2>>,
        &mut Store<Host<StockP2>>,
        &Recorder,
    ) -> wasmtime::Result<()>,
) -> Outcome {
    let config = spec.config.clone().capture_output(true);
    let (mut builder, stdout, stderr) = stock_builder(&config);
    let dirs = StockDirs::preopen(&config, &mut builder);
    let ctx = builder.build();
    let table = ResourceTable::new();
    let mut store = store(engine, StockP2 { ctx, table }, spec.fuel, extra_instances);
    let (result, filesystems) = match dirs {
        Ok(dirs) => {
            // Stock can panic on what a guest passes (wasmtime-wasi 46's
            // 0.3 `set-times` on an instant before 1970 unwraps an error in
            // a blocking task): the run ends with that as its error, and
            // the audit of this and every other file goes on.
            let run = std::panic::AssertUnwindSafe(|| {
                linker.and_then(|linker| call(&linker, &mut store, &recorder))
            });
            let result = std::panic::catch_unwind(run).unwrap_or_else(|panic| {
                Err(wasmtime::Error::msg(format!(
                    "stock wasmtime-wasi panicked: {}",
                    panic_message(&*panic)
                )))
            });
            (result, dirs.read_back(&config))
        }
        Err(error) => (
            Err(wasmtime::Error::msg(format!("stock preopen: {error}"))),
            Vec::new(),
        ),
    };
    finish_component(
        result,
        &mut store,
        spec.fuel,
        &recorder,
        (stdout.contents().to_vec(), stderr.contents().to_vec()),
        filesystems,
    )
}

/// One run of a component on the deterministic context, preview2 or 0.3
/// alike: a fresh Store with a context built traced from the
/// configuration; `call` instantiates and runs the component with `linker`.
fn run_deterministic_component(
    engine: &Engine,
    spec: &RunSpec,
    linker: ComponentLinkerFor<Host<DeterministicP2Ctx>>,
    call: impl FnOnce(
        &ComponentLinker<Host<DeterministicP2Ctx>>,
        &mut Store<Host<DeterministicP2Ctx>>,
    ) -> wasmtime::Result<()>,
) -> Outcome {
    let recorder = Recorder::new(spec.max_events);
    let ctx = spec
        .config
        .clone()
        .capture_output(true)
        .build_p2_traced(&recorder);
    let output = ctx.output().clone();
    let mut store = store(engine, ctx, spec.fuel, 0);
    let result = linker.and_then(|linker| call(&linker, &mut store));
    let filesystems = store.data().ctx.filesystems();
    finish_component(
        result,
        &mut store,
        spec.fuel,
        &recorder,
        (output.stdout(), output.stderr()),
        filesystems,
    )
}

fn call_run<T: WasiView + 'static>(
    linker: &ComponentLinker<T>,
    store: &mut Store<T>,
    component: &Component,
) -> wasmtime::Result<()> {
    let command = Command::instantiate(&mut *store, component, linker)?;
    exit_status(command.wasi_cli_run().call_run(&mut *store))
}

/// A command's `run` result as an exit: `err` is exit status 1, as
/// wasmtime's CLI treats it.
fn exit_status(result: wasmtime::Result<Result<(), ()>>) -> wasmtime::Result<()> {
    match result? {
        Ok(()) => Ok(()),
        Err(()) => Err(wasmtime_wasi::I32Exit(1).into()),
    }
}

fn finish_component<T>(
    result: wasmtime::Result<()>,
    store: &mut Store<T>,
    fuel: u64,
    recorder: &Recorder,
    (stdout, stderr): (Vec<u8>, Vec<u8>),
    filesystems: Vec<(String, crate::fs::FsTree)>,
) -> Outcome {
    let trace = recorder.trace();
    let (status, trap_message) = Status::classify(result, trace.calls());
    Outcome {
        status,
        trap_message,
        stdout,
        stderr,
        memories: Vec::new(),
        globals: Vec::new(),
        fuel_consumed: fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
        host_calls: trace.calls(),
        trace_digest: trace.digest(),
        events: trace.events().to_vec(),
        memory: None,
        filesystems,
    }
}

/// The message a panic carried, as `panic!` and `unwrap` give it.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<String>(), panic.downcast_ref::<&str>()) {
        (Some(message), _) => message.clone(),
        (None, Some(message)) => message.to_string(),
        (None, None) => "(no message)".to_string(),
    }
}

/// A stock context builder with the configuration's arguments,
/// environment, stdin and output limit, and the pipes capturing its output.
fn stock_builder(
    config: &DeterminismConfig,
) -> (
    wasmtime_wasi::WasiCtxBuilder,
    MemoryOutputPipe,
    MemoryOutputPipe,
) {
    let limit = config.output_policy().1;
    let stdout = MemoryOutputPipe::new(limit);
    let stderr = MemoryOutputPipe::new(limit);
    let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
    builder
        .args(config.get_args())
        .envs(config.get_env())
        .stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(
            config.get_stdin().to_vec(),
        ))
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    (builder, stdout, stderr)
}

/// The host directories a stock run's preopens are copied to: made fresh
/// for one run (or, when reused, reset to its trees: [`super::reuse`]),
/// read back after it and then removed (on this thread or in the
/// background: [`super::cleanup`]) or kept for the next run.
struct StockDirs(Vec<(std::path::PathBuf, String)>);

impl StockDirs {
    /// Writes each preopened tree of `config` to a new temporary directory
    /// and preopens it in `builder` with stock's permissions.
    fn preopen(
        config: &DeterminismConfig,
        builder: &mut wasmtime_wasi::WasiCtxBuilder,
    ) -> wasmtime::Result<StockDirs> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut dirs = StockDirs(Vec::new());
        for (position, mount) in config.mounts().iter().enumerate() {
            let kept =
                super::reuse::take(position).and_then(|host| match mount.tree.reset(&host) {
                    Ok(()) => Some(host),
                    Err(_) => {
                        super::cleanup::remove(vec![host]);
                        None
                    }
                });
            let host = match kept {
                Some(host) => host,
                None => {
                    let n = NEXT.fetch_add(1, Ordering::Relaxed);
                    let name = format!("dwc-stock-{}-{n}", std::process::id());
                    let host = std::env::temp_dir().join(name);
                    mount.tree.export(&host)?;
                    host
                }
            };
            dirs.0.push((host.clone(), mount.guest_path.clone()));
            crate::stock::preopen_dir(builder, &host, &mount.guest_path, mount.writable)?;
        }
        Ok(dirs)
    }

    /// Each directory as the run left it, snapshotted into a tree under the
    /// configuration's metadata rules (only names, types and contents come
    /// from the host).
    fn read_back(&self, config: &DeterminismConfig) -> Vec<(String, crate::fs::FsTree)> {
        let time = crate::clocks::duration_nanos(config.get_wall_start());
        let mut trees = Vec::new();
        for (i, (host, guest)) in self.0.iter().enumerate() {
            if let Ok(fs) = crate::fs::VirtualFs::from_host_dir(host) {
                trees.push((
                    guest.clone(),
                    crate::fs::FsTree::new(&fs, i as u64 + 1, time),
                ));
            }
        }
        trees
    }
}

impl Drop for StockDirs {
    fn drop(&mut self) {
        let hosts = self.0.drain(..).map(|(host, _)| host).collect();
        super::reuse::give_back(hosts);
    }
}

mod p3;
mod replay;
pub use replay::{record, record_component};

#[cfg(test)]
mod linker_tests;
