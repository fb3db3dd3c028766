//! Tracing preview1 imports by wrapping the linker's definitions.

use super::stock::{StockCtx, StockFn};
use super::{Recorder, Returned, WriteRef};
use std::mem::MaybeUninit;
use std::sync::{Mutex, OnceLock};
use wasmtime::{Caller, Extern, Func, FuncType, Instance, Linker, Module, Store, ValRaw, ValType};

/// The module names whose functions are traced (and replayed:
/// [`crate::replay`]).
pub(crate) const WASI_MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

/// Whether `ty` can be a preview1 function's: at most [`MAX_PARAMS`]
/// parameters, every parameter and result an integer. Others are passed
/// through untraced (and left undefined by a replay).
pub(crate) fn preview1_signature(ty: &FuncType) -> bool {
    let integer = |t: ValType| matches!(t, ValType::I32 | ValType::I64);
    ty.params().len() <= MAX_PARAMS && ty.params().chain(ty.results()).all(integer)
}

/// Instantiates `module` with `linker`'s definitions, recording every call
/// to a preview1 / preview0 function in `recorder` (see the
/// [module docs](super)). Other imports are passed through untraced.
///
/// Works with any linker, so every call's writes are recorded from its
/// signature and the results it reports (the rule a stock backend's
/// functions need; the regions are bounded, and for a few functions wider
/// than what was written, such as `fd_prestat_dir_name`'s whole buffer up
/// to 4 KiB). Tracing the crate's own functions this way gives the trace a
/// stock run of the same program has, so the two can be compared.
/// [`instantiate_traced_served`] records exactly what they wrote.
///
/// Each traced import instantiates a small *proxy* module in `store` on its
/// first call (see `proxy_for` in this file): up to
/// [`max_proxy_instances`]`(module)` instances on top of the guest's own.
/// They count toward the Store's instance limit, so raise it by that much
/// (as the audit does with
/// [`DeterministicLimits::with_extra_instances`](crate::engine::DeterministicLimits::with_extra_instances)),
/// or a guest importing many WASI functions fails where an untraced run
/// does not. The proxies define no memories or tables.
///
/// # Errors
///
/// If an import has no definition in `linker` (the error names it), or
/// instantiation fails.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, engine, p1, trace};
/// use wasmtime::{Linker, Module, Store};
///
/// let engine = engine::deterministic_engine()?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 16) (i32.const 2)))))"#)?;
/// let mut linker = Linker::new(&engine);
/// p1::add_to_linker_sync(&mut linker, |t| t)?;
/// let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
/// store.set_fuel(1_000_000)?;
/// let recorder = trace::Recorder::new(100);
/// let instance = trace::instantiate_traced(&linker, &mut store, &module, &recorder)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// assert_eq!(
///     recorder.trace().events()[0].to_string(),
///     "random_get(buf=0x10, len=2) -> 0, wrote 2 bytes @0x10: 9b 6f"
/// );
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn instantiate_traced<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    recorder: &Recorder,
) -> wasmtime::Result<Instance> {
    instantiate(linker, store, module, recorder, Direct::None)
}

/// [`instantiate_traced`] for a linker whose preview1 and preview0
/// functions are this crate's: built by
/// [`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync) (or `_async`)
/// or [`common::add_to_linker_sync`](crate::common::add_to_linker_sync),
/// with none of the [`SERVED_FUNCTIONS`](crate::served::SERVED_FUNCTIONS)
/// redefined afterwards. It is what the audit uses.
///
/// The served functions are then called straight from the tracing wrapper,
/// with the guest's memory lent to them, instead of through a proxy
/// instance: no extra wasm hop, no proxy instantiation, and nothing to undo
/// in the guest's fuel. Only an import's first call in a Store enters the
/// served function through wasmtime, which hands the wrapper its Rust body;
/// later calls run that body from the wrapper, without a second host-call
/// entry. (A function defined over a served one hands nothing over and is
/// called through wasmtime every time.) The fuel and every trap are those of
/// [`instantiate_traced`]; the trace records what each served function
/// wrote, where it wrote it (the function reports each range as it writes),
/// so the tracer's work per call is bounded by the bytes written, whatever
/// lengths the guest passed. Imports that are not served go through proxies
/// and are recorded as by [`instantiate_traced`].
///
/// # Errors
///
/// As [`instantiate_traced`].
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, engine, p1, trace};
/// use wasmtime::{Linker, Module, Store};
///
/// let engine = engine::deterministic_engine()?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 16) (i32.const 2)))))"#)?;
/// let mut linker = Linker::new(&engine);
/// p1::add_to_linker_sync(&mut linker, |t| t)?;
/// let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
/// store.set_fuel(1_000_000)?;
/// let recorder = trace::Recorder::new(100);
/// let instance = trace::instantiate_traced_served(&linker, &mut store, &module, &recorder)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// assert_eq!(
///     recorder.trace().events()[0].to_string(),
///     "random_get(buf=0x10, len=2) -> 0, wrote 2 bytes @0x10: 9b 6f"
/// );
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn instantiate_traced_served<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    recorder: &Recorder,
) -> wasmtime::Result<Instance> {
    instantiate(linker, store, module, recorder, Direct::Served)
}

/// [`instantiate_traced`] for a linker whose preview1 functions are stock
/// wasmtime-wasi's, added by
/// [`wasmtime_wasi::p1::add_to_linker_sync`] over `get_ctx`, with none
/// redefined afterwards: what the `record` command and `audit
/// --no-determinism` use.
///
/// Each call of such a function goes from the tracing wrapper straight to
/// the function wasmtime-wasi's linker glue calls, with the guest's memory
/// and the context `get_ctx` finds, instead of through a proxy instance;
/// the trace, the fuel and every answer are those of
/// [`instantiate_traced`] (each call's writes recorded from its signature,
/// as for any stock function), at a fraction of the cost per call (README,
/// "Record and replay"). A guest without an exported unshared `memory`, and
/// `wasi_unstable`'s functions, go through the linker as in
/// [`instantiate_traced`].
///
/// # Errors
///
/// As [`instantiate_traced`].
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::trace;
/// use wasmtime::{Engine, Linker, Module, Store};
/// use wasmtime_wasi::WasiCtxBuilder;
/// use wasmtime_wasi::p1::{self, WasiP1Ctx};
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "args_sizes_get" (func $a (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $a (i32.const 16) (i32.const 20)))))"#)?;
/// let mut linker = Linker::<WasiP1Ctx>::new(&engine);
/// p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
/// let mut store = Store::new(&engine, WasiCtxBuilder::new().args(&["x", "yz"]).build_p1());
/// let recorder = trace::Recorder::new(100);
/// let instance = trace::instantiate_traced_stock(&linker, &mut store, &module, &recorder, |ctx| ctx)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// assert_eq!(
///     recorder.trace().events()[0].to_string(),
///     "args_sizes_get(count_ptr=0x10, size_ptr=0x14) -> 0, \
///      wrote 4 bytes @0x14: 05 00 00 00, wrote 4 bytes @0x10: 02 00 00 00"
/// );
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn instantiate_traced_stock<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    recorder: &Recorder,
    get_ctx: StockCtx<T>,
) -> wasmtime::Result<Instance> {
    instantiate(linker, store, module, recorder, Direct::Stock(get_ctx))
}

/// Which functions the tracing wrapper calls itself rather than through
/// wasmtime and a proxy: what [`instantiate_traced`] (`None`),
/// [`instantiate_traced_served`] and [`instantiate_traced_stock`] each
/// pass to [`instantiate`].
pub(crate) enum Direct<T> {
    /// None.
    None,
    /// The crate's served functions.
    Served,
    /// Stock wasmtime-wasi's preview1 functions, over this context.
    Stock(StockCtx<T>),
}

/// Instantiates `module` with `linker`'s definitions, tracing its preview1
/// and preview0 imports, calling directly what `direct` says.
pub(crate) fn instantiate<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    recorder: &Recorder,
    direct: Direct<T>,
) -> wasmtime::Result<Instance> {
    let mut imports = Vec::new();
    for import in module.imports() {
        let definition = linker.get_by_import(&mut *store, &import).ok_or_else(|| {
            wasmtime::format_err!(
                "unknown import `{}::{}`: this context does not provide it",
                import.module(),
                import.name()
            )
        })?;
        let traced = match definition {
            Extern::Func(func) if WASI_MODULES.contains(&import.module()) => {
                let preview0 = import.module() == "wasi_unstable";
                let served = || {
                    crate::served::SERVED_FUNCTIONS
                        .iter()
                        .copied()
                        .find(|name| *name == import.name())
                        .map(Route::Served)
                };
                let route = match direct {
                    Direct::None => None,
                    Direct::Served => served(),
                    Direct::Stock(get_ctx) if !preview0 => StockFn::named(import.name())
                        .map(|function| Route::Stock(function, get_ctx)),
                    Direct::Stock(_) => None,
                };
                let callee = Callee {
                    name: import.name(),
                    preview0,
                    route: route.unwrap_or(Route::Proxied),
                };
                Extern::Func(wrap(store, func, callee, recorder.clone()))
            }
            other => other,
        };
        imports.push(traced);
    }
    Instance::new(store, module, &imports)
}

/// The most proxy instances [`instantiate_traced`] creates for `module` in
/// one Store: one per function imported from a traced module
/// (`wasi_snapshot_preview1`, `wasi_unstable`), each on its first call.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{engine, trace};
///
/// let engine = engine::deterministic_engine()?;
/// let module = wasmtime::Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
///     (import "wasi_unstable" "sched_yield" (func (result i32)))
///     (import "env" "f" (func)))"#)?;
/// assert_eq!(trace::max_proxy_instances(&module), 2);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn max_proxy_instances(module: &Module) -> usize {
    module
        .imports()
        .filter(|i| WASI_MODULES.contains(&i.module()) && i.ty().func().is_some())
        .count()
}

/// The most parameters a traced function may have (preview1's largest,
/// `path_open`, has 9).
pub(crate) const MAX_PARAMS: usize = 16;

/// The integers in the first `types.len()` slots of `space` (at most
/// [`MAX_PARAMS`]), widened to `i64`; the rest of the array is 0.
///
/// # Safety
///
/// Those slots are initialised, each with a value of its type in `types`
/// (integers: a preview1 signature).
pub(crate) unsafe fn raw_ints(
    space: &[MaybeUninit<ValRaw>],
    types: &[ValType],
) -> [i64; MAX_PARAMS] {
    let mut out = [0i64; MAX_PARAMS];
    for ((value, slot), t) in out.iter_mut().zip(space).zip(types) {
        // SAFETY: the caller's promise.
        let raw = unsafe { slot.assume_init_ref() };
        *value = match t {
            ValType::I32 => i64::from(raw.get_i32()),
            _ => raw.get_i64(),
        };
    }
    out
}

/// The import a traced function stands for.
struct Callee<'a, T> {
    /// Its name.
    name: &'a str,
    /// Imported from `wasi_unstable` (whose records differ).
    preview0: bool,
    /// How the wrapper calls it.
    route: Route<T>,
}

/// How the tracing wrapper calls one import.
enum Route<T> {
    /// Through wasmtime and a proxy instance that shows it the guest's
    /// memory.
    Proxied,
    /// The served function of that name, with the memory lent.
    Served(&'static str),
    /// Stock's function, with the context this finds (`stock::call`).
    Stock(StockFn, StockCtx<T>),
}

impl<T> Clone for Route<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Route<T> {}

/// `inner`, recording each call in `recorder`: what a served function wrote,
/// where it wrote it (reported by the function itself, see
/// `served::collect_writes`), or for another function the regions its
/// results say it wrote (`table::writes_of`). A direct callee is called
/// through wasmtime the first time, after that its body straight from here
/// (see `served::call_asking_for_body`).
fn wrap<T: 'static>(
    store: &mut Store<T>,
    inner: Func,
    callee: Callee<'_, T>,
    recorder: Recorder,
) -> Func {
    let Callee {
        name,
        preview0,
        route,
    } = callee;
    let ty = inner.ty(&*store);
    if !preview1_signature(&ty) {
        // Not a preview1 signature: pass it through untraced.
        return inner;
    }
    let name = name.to_string();
    let func_ty = ty.clone();
    let params: Vec<ValType> = ty.params().collect();
    let results: Vec<ValType> = ty.results().collect();
    // Per Store and import: the guest's memory and the function to call.
    let target: OnceLock<(Option<wasmtime::Memory>, Func)> = OnceLock::new();
    // Per Store and import, after its first direct call: the served body, if
    // the callee offered it.
    let body: OnceLock<Option<crate::served::Body<T>>> = OnceLock::new();
    let host = move |mut caller: Caller<'_, T>, space: &mut [MaybeUninit<ValRaw>]| {
        let (memory, callee) = match target.get() {
            Some(found) => *found,
            None => {
                let memory = crate::served::exported_memory(&mut caller);
                let callee = match memory {
                    Some(_) if !matches!(route, Route::Proxied) => inner,
                    Some(memory) => proxy_for(&mut caller, memory, inner, &ty)?,
                    // No memory to give: the inner function reports that itself.
                    None => inner,
                };
                *target.get_or_init(|| (memory, callee))
            }
        };
        // SAFETY: wasmtime initialises the parameter slots, of `params`.
        let args = unsafe { raw_ints(space, &params) };
        let args = &args[..params.len()];
        if let Some(mut sink) = recorder.sink() {
            let data = memory.map(|m| m.data(&caller)).unwrap_or_default();
            sink.before(&name, preview0, args, data);
        }
        let space_raw = space as *mut [MaybeUninit<ValRaw>] as *mut [ValRaw];
        // Only a direct callee's writes are collected: through a proxy every
        // function is recorded from the table, the rule stock functions
        // need, so a run can be compared with a stock one.
        // SAFETY (both calls): `space` holds the parameters of `ty`, which is
        // also the callee's type, and has room for its results.
        let mut call = || match (memory, route) {
            // A host function calling a host function: no wasm runs, so no
            // fuel moves.
            (Some(memory), Route::Served(served)) => {
                crate::served::lend_memory(memory, || match body.get() {
                    Some(Some(body)) => body(&mut caller, space),
                    Some(None) => unsafe { callee.call_unchecked(&mut caller, space_raw) },
                    None => {
                        let (outcome, offered) =
                            crate::served::call_asking_for_body(served, || unsafe {
                                callee.call_unchecked(&mut caller, space_raw)
                            });
                        let _ = body.set(offered);
                        outcome
                    }
                })
            }
            // Stock's function from here: no wasm runs either.
            (Some(memory), Route::Stock(function, get_ctx)) => {
                super::stock::call(&mut caller, memory, get_ctx, function, args, space)
            }
            _ => without_fuel(&mut caller, |caller| unsafe {
                callee.call_unchecked(caller, space_raw)
            }),
        };
        let (outcome, written) = match route {
            Route::Served(_) => crate::served::collect_writes(call),
            _ => (call(), None),
        };
        let values;
        let result = match &outcome {
            Ok(()) => {
                // SAFETY: on success the callee wrote its results, of `results`.
                values = unsafe { raw_ints(space, &results) };
                // At most four, as a trace records them.
                Returned::Values(&values[..results.len().min(4)])
            }
            Err(e) => match exit_status(e) {
                Some(status) => Returned::Exit(status),
                None => Returned::Trapped,
            },
        };
        let errno = match result {
            Returned::Values(v) => v.first().copied(),
            _ => None,
        };
        let mut trace = recorder.trace();
        match (&outcome, memory) {
            (Ok(()), Some(memory)) => {
                let data = memory.data(&caller);
                trace.record_parts(&name, args, result, |emit| match &written {
                    Some(ranges) => emit_ranges(ranges, data, emit),
                    None => deterministic_wasi_ctx_core::trace::table::writes_of(
                        &name, preview0, args, errno, data, emit,
                    ),
                });
            }
            _ => trace.record_parts(&name, args, result, |_| {}),
        }
        drop(trace);
        if let Some(mut sink) = recorder.sink() {
            let data = memory.map(|m| m.data(&caller)).unwrap_or_default();
            sink.call(&name, preview0, args, result, data);
        }
        outcome
    };
    // SAFETY: `host` reads exactly the parameters of `ty` (all integers, as
    // checked above) and leaves the callee's results, of the same type, in place.
    unsafe { Func::new_unchecked(&mut *store, func_ty, host) }
}

/// Fuel the proxy is given for one call: far more than its few
/// instructions burn, so its function-entry fuel check never traps.
const PROXY_FUEL: u64 = 1 << 40;

/// Runs `call` (the proxy) with [`PROXY_FUEL`], then puts back exactly the
/// fuel the guest had before it, whether `call` returned or trapped, so a
/// traced run consumes and runs out of fuel where an untraced one does.
///
/// The traced functions are host functions, which burn no fuel themselves,
/// so without the proxy the call would leave the guest's fuel unchanged:
///
/// - Guest has fuel left: restored to the same amount.
/// - Guest overspent within straight-line code since its last fuel check
///   (wasmtime checks at function entries and loop headers, and traps when
///   its negative counter is `>= 0`): `get_fuel` saturates at 0, and
///   restoring 0 sets the counter to 0, so the guest's next check traps
///   exactly where the untraced run's (counter > 0) does. The amount
///   overspent is not observable either way: `get_fuel` reads 0 in both.
/// - Fuel not enabled on the engine: `get_fuel` errors and `call` runs as is.
fn without_fuel<T, R>(
    caller: &mut Caller<'_, T>,
    call: impl FnOnce(&mut Caller<'_, T>) -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
    let Ok(saved) = caller.get_fuel() else {
        return call(caller);
    };
    caller.set_fuel(PROXY_FUEL)?;
    let outcome = call(caller);
    caller.set_fuel(saved)?;
    outcome
}

/// The function to call in place of `inner` so that it sees the guest's
/// memory.
///
/// A WASI host function finds guest memory through the instance that called
/// it. Called from this wrapper (host code) it would see no instance, so the
/// call goes through a two-line *proxy* instance that imports the guest's
/// memory and `inner`, re-exports the memory as `memory`, and forwards the
/// call. One proxy is instantiated per import and Store, on first use.
fn proxy_for<T: 'static>(
    caller: &mut Caller<'_, T>,
    memory: wasmtime::Memory,
    inner: Func,
    ty: &FuncType,
) -> wasmtime::Result<Func> {
    let memory_ty = memory.ty(&*caller);
    if memory_ty.is_64() || memory_ty.is_shared() {
        // The proxy declares a plain 32-bit memory; others call directly.
        return Ok(inner);
    }
    let module = proxy_module(caller.engine(), ty)?;
    let instance = Instance::new(&mut *caller, &module, &[memory.into(), inner.into()])?;
    instance
        .get_func(&mut *caller, "call")
        .ok_or_else(|| wasmtime::format_err!("proxy module exports `call`"))
}

/// The compiled proxy for `ty`, cached per engine
/// ([`crate::engine::per_engine`]).
///
/// An engine that has not compiled this proxy yet loads the code another
/// engine with the same settings compiled (kept serialized, keyed by
/// [`wasmtime::Engine::precompile_compatibility_hash`]) instead of running
/// Cranelift again: audits and fuzzers create a fresh Engine for every
/// program, and compiling a dozen proxies each time would dominate them.
fn proxy_module(engine: &wasmtime::Engine, ty: &FuncType) -> wasmtime::Result<Module> {
    static SERIALIZED: Mutex<Vec<(u64, String, Vec<u8>)>> = Mutex::new(Vec::new());
    let wat = proxy_wat(ty);
    crate::engine::per_engine(engine, &wat, || {
        let settings = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            hasher.finish()
        };
        let known = SERIALIZED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(h, w, _)| *h == settings && *w == wat)
            // SAFETY: these bytes were produced by `Module::serialize` in
            // this process, for an engine with the same compatibility hash;
            // `deserialize` still checks the header and fails on a mismatch.
            .and_then(|(_, _, bytes)| unsafe { Module::deserialize(engine, bytes) }.ok());
        if let Some(module) = known {
            return Ok(module);
        }
        // Compiled without the lock held, so threads tracing on other
        // engines are not held up by Cranelift.
        let module = Module::new(engine, &wat)?;
        let bytes = module.serialize()?;
        let mut serialized = SERIALIZED.lock().unwrap_or_else(|e| e.into_inner());
        if serialized.len() == 64 {
            serialized.remove(0);
        }
        serialized.push((settings, wat.clone(), bytes));
        Ok(module)
    })
}

/// A module forwarding `call` to its imported function, exporting the
/// imported memory as `memory`.
fn proxy_wat(ty: &FuncType) -> String {
    let name = |t: ValType| match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        _ => "v128",
    };
    let params: Vec<&str> = ty.params().map(name).collect();
    let results: Vec<&str> = ty.results().map(name).collect();
    let sig = format!(
        "(param {}) (result {})",
        params.join(" "),
        results.join(" ")
    );
    let gets: String = (0..params.len())
        .map(|i| format!("(local.get {i})"))
        .collect();
    format!(
        r#"(module
  (import "proxy" "memory" (memory 0))
  (import "proxy" "f" (func $f {sig}))
  (export "memory" (memory 0))
  (func (export "call") {sig} (call $f {gets})))"#
    )
}

/// The exit status if `error` is a WASI `proc_exit`, from either backend.
pub(crate) fn exit_status(error: &wasmtime::Error) -> Option<i32> {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Some(exit.0);
    }
    #[cfg(feature = "wasi-common")]
    if let Some(exit) = error.downcast_ref::<wasi_common::I32Exit>() {
        return Some(exit.0);
    }
    None
}

/// Reports to `emit` the bytes at `ranges` (where a served function wrote,
/// in its write order) in `memory` after the call.
fn emit_ranges(ranges: &[(u32, u32)], memory: &[u8], emit: &mut dyn FnMut(WriteRef<'_>)) {
    for &(offset, len) in ranges {
        let start = offset as usize;
        let end = start.saturating_add(len as usize).min(memory.len());
        emit(WriteRef::Bytes {
            offset,
            bytes: memory.get(start..end).unwrap_or_default(),
        });
    }
}
