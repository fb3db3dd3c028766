//! Arguments and environment variables: `args_get`, `args_sizes_get`,
//! `environ_get`, `environ_sizes_get`, served by this crate on every backend.
//!
//! The guest sees exactly the configured strings
//! ([`DeterminismConfig::args`](crate::DeterminismConfig::args),
//! [`env`](crate::DeterminismConfig::env)), written as stock `wasmtime-wasi`
//! writes them: for each string, its pointer, then its bytes, then a NUL,
//! each write checked on its own (so a bad pointer traps part-way, at the
//! same byte every run). A string holding a NUL byte is passed as given, as
//! stock `wasmtime-wasi` does (stock wasi-common would leave it out).
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
//! use wasmtime::{Linker, Module, Store};
//!
//! let engine = engine::deterministic_engine()?;
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start") (drop (call $sizes (i32.const 0) (i32.const 4)))))"#)?;
//! let mut linker = Linker::new(&engine);
//! p1::add_to_linker_sync(&mut linker, |t| t)?;
//! let mut store = Store::new(&engine, DeterminismConfig::new().args(["prog", "-v"]).build_p1());
//! store.set_fuel(1_000_000)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! let memory = instance.get_memory(&mut store, "memory").unwrap().data(&store);
//! assert_eq!(memory[0..8], [2, 0, 0, 0, 8, 0, 0, 0]); // 2 strings, 8 bytes with NULs
//! # Ok::<(), wasmtime::Error>(())
//! ```

use crate::fd::guest::{CallResult, Failure, Guest, trap};
use crate::served::{GuestModule, serve};
use wasmtime::{Caller, Linker};

/// The strings a guest can read: arguments and `KEY=VALUE` variables, each
/// as the pieces stock writes one by one (an argument is one piece; a
/// variable is its key, `=` and its value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environ {
    args: Vec<Vec<Vec<u8>>>,
    vars: Vec<Vec<Vec<u8>>>,
}

impl Environ {
    /// Arguments `args` and variables `env` (joined as `KEY=VALUE`).
    pub fn new(args: &[String], env: &[(String, String)]) -> Self {
        Environ {
            args: args.iter().map(|a| vec![a.as_bytes().to_vec()]).collect(),
            vars: env
                .iter()
                .map(|(k, v)| vec![k.as_bytes().to_vec(), b"=".to_vec(), v.as_bytes().to_vec()])
                .collect(),
        }
    }
}

/// Writes `strings` as a pointer table at `table` and NUL-terminated bytes
/// at `buf`, in stock order: pointer, each piece, NUL, for each string.
fn write_strings(
    guest: &mut Guest<'_>,
    strings: &[Vec<Vec<u8>>],
    table: u32,
    buf: u32,
) -> CallResult<()> {
    let advance = |ptr: u32, by: usize| {
        u32::try_from(by)
            .ok()
            .and_then(|by| ptr.checked_add(by))
            .ok_or_else(|| trap(format!("pointer {ptr:#x} + {by} overflows")))
    };
    let (mut table, mut buf) = (table, buf);
    for string in strings {
        guest.write_u32(table, buf)?;
        table = advance(table, 4)?;
        for piece in string {
            guest.write_bytes(buf, piece)?;
            buf = advance(buf, piece.len())?;
        }
        guest.write_bytes(buf, &[0])?;
        buf = advance(buf, 1)?;
    }
    Ok(())
}

/// Writes the count and total size (with NULs) of `strings`: the size
/// first, as wiggle writes a function's results last to first (so a bad
/// `count` pointer traps after the size is written).
fn write_sizes(
    guest: &mut Guest<'_>,
    strings: &[Vec<Vec<u8>>],
    count: u32,
    size: u32,
) -> CallResult<()> {
    let total: usize = strings.iter().flatten().map(Vec::len).sum::<usize>() + strings.len();
    let total = u32::try_from(total).map_err(|_| Failure::Errno(61))?; // EOVERFLOW
    guest.write_u32(size, total)?;
    guest.write_u32(count, strings.len() as u32)
}

/// Defines `args_get`, `args_sizes_get`, `environ_get` and
/// `environ_sizes_get` under `wasi_snapshot_preview1` and `wasi_unstable`
/// (replacing earlier definitions), reading the strings `environ` finds in
/// the store data.
///
/// # Errors
///
/// Only if the linker rejects a definition for a reason other than an
/// earlier one of the same name.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
/// let engine = wasmtime::Engine::default();
/// let mut linker: wasmtime::Linker<DeterministicP1Ctx> = wasmtime::Linker::new(&engine);
/// deterministic_wasi_ctx::environ::add_environ_to_linker(&mut linker, |t| t.environ())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_environ_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    environ: impl Fn(&mut T) -> &Environ + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    define_environ(linker, environ, |_| GuestModule::default())
}

/// [`add_environ_to_linker`], finding the memory by the index `guest` gives
/// where it can.
pub(crate) fn define_environ<T: 'static>(
    linker: &mut Linker<T>,
    environ: impl Fn(&mut T) -> &Environ + Copy + Send + Sync + 'static,
    guest: impl Fn(&mut T) -> GuestModule + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    type Pick = fn(&Environ) -> &[Vec<Vec<u8>>];
    let kinds: [(&'static str, &'static str, Pick); 2] = [
        ("args_get", "args_sizes_get", |e| &e.args),
        ("environ_get", "environ_sizes_get", |e| &e.vars),
    ];
    for module in ["wasi_snapshot_preview1", "wasi_unstable"] {
        for (get_name, sizes_name, pick) in kinds {
            serve(
                linker,
                module,
                get_name,
                move |caller: &mut Caller<'_, T>, table: i32, buf: i32| {
                    with_memory(caller, (environ, guest), get_name, |guest, e| {
                        write_strings(guest, pick(e), table as u32, buf as u32)
                    })
                },
            )?;
            serve(
                linker,
                module,
                sizes_name,
                move |caller: &mut Caller<'_, T>, count: i32, size: i32| {
                    with_memory(caller, (environ, guest), sizes_name, |guest, e| {
                        write_sizes(guest, pick(e), count as u32, size as u32)
                    })
                },
            )?;
        }
    }
    Ok(())
}

/// Runs `call` on the guest's memory (a trap without one).
fn with_memory<T: 'static>(
    caller: &mut Caller<'_, T>,
    (environ, guest): (impl Fn(&mut T) -> &Environ, impl Fn(&mut T) -> GuestModule),
    name: &str,
    call: impl FnOnce(&mut Guest<'_>, &Environ) -> CallResult<()>,
) -> wasmtime::Result<i32> {
    let Some(memory) = crate::served::guest_memory(caller, guest) else {
        wasmtime::bail!("{name}: missing required memory export");
    };
    let (bytes, data) = memory.data_and_store_mut(caller);
    match call(
        &mut Guest::new(bytes, usize::MAX, crate::served::write_log()),
        environ(data),
    ) {
        Ok(()) => Ok(0),
        Err(Failure::Errno(errno)) => Ok(i32::from(errno)),
        Err(Failure::Trap(why)) => wasmtime::bail!("{name}: {why}"),
    }
}
