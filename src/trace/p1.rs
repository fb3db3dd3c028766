//! Tracing preview1 imports by wrapping the linker's definitions.

use super::{CallResult, HostCall, Recorder, Write};
use std::sync::Mutex;
use wasmtime::{Caller, Extern, Func, FuncType, Instance, Linker, Module, Store, Val, ValType};

/// The module names whose functions are traced.
const WASI_MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

/// Instantiates `module` with `linker`'s definitions, recording every call
/// to a preview1 / preview0 function in `recorder` (see the
/// [module docs](super)). Other imports are passed through untraced.
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
                Extern::Func(wrap(store, func, import.name(), recorder.clone()))
            }
            other => other,
        };
        imports.push(traced);
    }
    Instance::new(store, module, &imports)
}

fn wrap<T: 'static>(store: &mut Store<T>, inner: Func, name: &str, recorder: Recorder) -> Func {
    let ty = inner.ty(&*store);
    let name = name.to_string();
    let proxy: Mutex<Option<Func>> = Mutex::new(None);
    Func::new(
        &mut *store,
        ty.clone(),
        move |mut caller: Caller<'_, T>, params, results| {
            let memory = memory_of(&mut caller);
            let target = match memory {
                Some(memory) => proxy_for(&mut caller, &proxy, memory, inner, &ty)?,
                // No memory to give: the inner function reports that itself.
                None => inner,
            };
            let outcome = target.call(&mut caller, params, results);
            let args: Vec<i64> = params.iter().map(widen).collect();
            let result = match &outcome {
                Ok(()) => CallResult::Returned(results.iter().map(widen).collect()),
                Err(e) => match exit_status(e) {
                    Some(status) => CallResult::Exit(status),
                    None => CallResult::Trapped,
                },
            };
            let writes = match (&outcome, memory) {
                (Ok(()), Some(memory)) => {
                    let data = memory.data(&caller);
                    writes_of(&name, &args, results_errno(&result), data)
                }
                _ => Vec::new(),
            };
            recorder.record(HostCall {
                name: name.clone(),
                args,
                result,
                writes,
            });
            outcome
        },
    )
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
    cache: &Mutex<Option<Func>>,
    memory: wasmtime::Memory,
    inner: Func,
    ty: &FuncType,
) -> wasmtime::Result<Func> {
    let mut cached = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(func) = *cached {
        return Ok(func);
    }
    let memory_ty = memory.ty(&*caller);
    if memory_ty.is_64() || memory_ty.is_shared() {
        // The proxy declares a plain 32-bit memory; others call directly.
        return Ok(inner);
    }
    let module = proxy_module(caller.engine(), ty)?;
    let instance = Instance::new(&mut *caller, &module, &[memory.into(), inner.into()])?;
    let func = instance
        .get_func(&mut *caller, "call")
        .ok_or_else(|| wasmtime::format_err!("proxy module exports `call`"))?;
    *cached = Some(func);
    Ok(func)
}

/// The compiled proxy for `ty`, cached per engine (the most recent 64).
fn proxy_module(engine: &wasmtime::Engine, ty: &FuncType) -> wasmtime::Result<Module> {
    static CACHE: Mutex<Vec<(wasmtime::Engine, String, Module)>> = Mutex::new(Vec::new());
    let wat = proxy_wat(ty);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, module)) = cache
        .iter()
        .find(|(e, w, _)| wasmtime::Engine::same(e, engine) && *w == wat)
    {
        return Ok(module.clone());
    }
    let module = Module::new(engine, &wat)?;
    if cache.len() == 64 {
        cache.remove(0);
    }
    cache.push((engine.clone(), wat, module.clone()));
    Ok(module)
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

fn memory_of<T>(caller: &mut Caller<'_, T>) -> Option<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

fn widen(value: &Val) -> i64 {
    match value {
        Val::I32(v) => i64::from(*v),
        Val::I64(v) => *v,
        Val::F32(bits) => i64::from(*bits),
        Val::F64(bits) => *bits as i64,
        _ => 0,
    }
}

fn results_errno(result: &CallResult) -> Option<i64> {
    match result {
        CallResult::Returned(values) => values.first().copied(),
        _ => None,
    }
}

/// The regions `name` wrote, given its arguments, its errno and the memory
/// after the call. Outputs are written only on success (errno 0); a function
/// whose outputs are not known from its signature gets a whole-memory digest.
fn writes_of(name: &str, args: &[i64], errno: Option<i64>, memory: &[u8]) -> Vec<Write> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let region = |offset: u32, len: u32| -> Write {
        let start = offset as usize;
        let end = start.saturating_add(len as usize).min(memory.len());
        Write::Bytes {
            offset,
            bytes: memory
                .get(start..end)
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
        }
    };
    let u32_at = |at: u32| -> u32 {
        let at = at as usize;
        memory
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0)
    };
    if errno != Some(0) {
        // Only `proc_exit` returns nothing; everything else writes outputs on
        // success only.
        return Vec::new();
    }
    let iovec_buffers = |iovs: u32, count: u32| -> Vec<Write> {
        (0..count.min(1024))
            .map(|i| region(u32_at(iovs + 8 * i), u32_at(iovs + 8 * i + 4)))
            .collect()
    };
    match name {
        "clock_time_get" => vec![region(arg(2), 8)],
        "clock_res_get" => vec![region(arg(1), 8)],
        "random_get" => vec![region(arg(0), arg(1))],
        "poll_oneoff" => {
            let nevents = u32_at(arg(3)).min(arg(2));
            vec![
                region(arg(3), 4),
                region(arg(1), nevents.saturating_mul(32)),
            ]
        }
        "fd_write" => vec![region(arg(3), 4)],
        "fd_pwrite" => vec![region(arg(4), 4)],
        "fd_read" => {
            let mut w = iovec_buffers(arg(1), arg(2));
            w.push(region(arg(3), 4));
            w
        }
        "fd_pread" => {
            let mut w = iovec_buffers(arg(1), arg(2));
            w.push(region(arg(4), 4));
            w
        }
        "args_sizes_get" | "environ_sizes_get" => vec![region(arg(0), 4), region(arg(1), 4)],
        "fd_fdstat_get" => vec![region(arg(1), 24)],
        "fd_filestat_get" => vec![region(arg(1), 64)],
        "fd_prestat_get" => vec![region(arg(1), 8)],
        "fd_seek" => vec![region(arg(3), 8)],
        "fd_tell" => vec![region(arg(1), 8)],
        "sched_yield"
        | "proc_exit"
        | "proc_raise"
        | "fd_close"
        | "fd_sync"
        | "fd_datasync"
        | "fd_advise"
        | "fd_allocate"
        | "fd_fdstat_set_flags"
        | "fd_fdstat_set_rights"
        | "fd_filestat_set_size"
        | "fd_filestat_set_times"
        | "fd_renumber"
        | "sock_shutdown" => Vec::new(),
        _ => vec![Write::MemoryDigest(*blake3::hash(memory).as_bytes())],
    }
}
