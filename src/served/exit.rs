//! `proc_exit` for preview1 and preview0 modules, on every backend.

use super::{GuestModule, guest_memory, serve};
use wasmtime::{Caller, Linker};

/// What both stock backends say about an exit status of 126 or more (WASI
/// reserves them), word for word.
pub(crate) const INVALID_STATUS: &str = "exit with invalid exit status outside of [0..126)";

/// Defines `proc_exit` under `wasi_snapshot_preview1` and `wasi_unstable`
/// (replacing earlier definitions), as both stock backends define it:
///
/// | call | outcome |
/// |---|---|
/// | no exported `memory` | a trap, as every stock preview1 call without one |
/// | status 0 to 125 | the error `exit` makes of it (the backend's `I32Exit`, which embedders downcast) |
/// | any other status, negative ones included (the argument is a `u32`) | a trap saying `exit with invalid exit status outside of [0..126)` |
///
/// # Errors
///
/// Only if the linker rejects a definition for a reason other than an
/// earlier one of the same name.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::served::add_proc_exit_to_linker;
/// use wasmtime::{Engine, Linker, Module, Store};
///
/// let engine = Engine::default();
/// let mut linker: Linker<()> = Linker::new(&engine);
/// add_proc_exit_to_linker(&mut linker, |_, status| wasmtime_wasi::I32Exit(status).into())?;
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (call $exit (i32.const 3))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = linker.instantiate(&mut store, &module)?;
/// let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
/// let error = start.call(&mut store, ()).unwrap_err();
/// assert_eq!(error.downcast_ref::<wasmtime_wasi::I32Exit>().map(|e| e.0), Some(3));
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_proc_exit_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    exit: impl Fn(&mut T, i32) -> wasmtime::Error + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    define_proc_exit(linker, exit, |_| GuestModule::default())
}

/// [`add_proc_exit_to_linker`], finding the memory by the index `guest`
/// gives where it can.
pub(crate) fn define_proc_exit<T: 'static>(
    linker: &mut Linker<T>,
    exit: impl Fn(&mut T, i32) -> wasmtime::Error + Copy + Send + Sync + 'static,
    guest: impl Fn(&mut T) -> GuestModule + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    for module in ["wasi_snapshot_preview1", "wasi_unstable"] {
        serve(
            linker,
            module,
            "proc_exit",
            move |caller: &mut Caller<'_, T>, status: i32| -> wasmtime::Result<()> {
                if guest_memory(caller, guest).is_none() {
                    wasmtime::bail!("proc_exit: missing required memory export");
                }
                if status as u32 >= 126 {
                    return Err(wasmtime::Error::msg(INVALID_STATUS));
                }
                Err(exit(caller.data_mut(), status))
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::INVALID_STATUS;
    use crate::DeterminismConfig;
    use wasmtime::{Engine, Linker, Module, Store};

    /// What a `proc_exit` call ended in: an exit status and whether the
    /// error was the backend's own exit type, or a trap (its message when
    /// stock words it, else empty).
    #[derive(Debug, PartialEq)]
    enum Ended {
        Exit(i32),
        Trap(String),
    }

    const STATUSES: [i32; 9] = [0, 1, 42, 125, 126, 255, i32::MAX, -1, i32::MIN];

    fn module(engine: &Engine, unstable: bool, memory: bool) -> Module {
        let wat = format!(
            r#"(module
                (import "{}" "proc_exit" (func $exit (param i32)))
                {}
                (func (export "exit") (param i32) (call $exit (local.get 0))))"#,
            if unstable {
                "wasi_unstable"
            } else {
                "wasi_snapshot_preview1"
            },
            if memory {
                r#"(memory (export "memory") 1)"#
            } else {
                ""
            },
        );
        Module::new(engine, wat).unwrap()
    }

    /// Calls `exit(status)` for every status on every snapshot, with and
    /// without a memory export; `exit_of` reads the backend's exit type.
    fn outcomes<T: 'static>(
        linker: &Linker<T>,
        ctx: impl Fn() -> T,
        exit_of: fn(&wasmtime::Error) -> Option<i32>,
    ) -> Vec<Ended> {
        let engine = linker.engine().clone();
        let mut seen = Vec::new();
        for unstable in [false, true] {
            for memory in [true, false] {
                let module = module(&engine, unstable, memory);
                for status in STATUSES {
                    let mut store = Store::new(&engine, ctx());
                    let instance = linker.instantiate(&mut store, &module).unwrap();
                    let exit = instance
                        .get_typed_func::<i32, ()>(&mut store, "exit")
                        .unwrap();
                    let error = exit.call(&mut store, status).unwrap_err();
                    seen.push(match exit_of(&error) {
                        Some(code) => Ended::Exit(code),
                        None if error.root_cause().to_string() == INVALID_STATUS => {
                            Ended::Trap(INVALID_STATUS.to_string())
                        }
                        None => Ended::Trap(String::new()),
                    });
                }
            }
        }
        seen
    }

    fn wasmtime_exit(error: &wasmtime::Error) -> Option<i32> {
        error.downcast_ref::<wasmtime_wasi::I32Exit>().map(|e| e.0)
    }

    #[test]
    fn served_proc_exit_ends_as_stock_wasmtime_wasi_does() {
        let engine = Engine::default();
        let mut stock: Linker<wasmtime_wasi::p1::WasiP1Ctx> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut stock, |t| t).unwrap();
        wasmtime_wasi::p0::add_to_linker_sync(&mut stock, |t| t).unwrap();
        let stock_ctx = || wasmtime_wasi::WasiCtxBuilder::new().build_p1();
        let mut served: Linker<crate::p1::DeterministicP1Ctx> = Linker::new(&engine);
        crate::p1::add_to_linker_sync(&mut served, |t| t).unwrap();
        let served_ctx = || DeterminismConfig::new().build_p1();
        let expected = outcomes(&stock, stock_ctx, wasmtime_exit);
        assert_eq!(outcomes(&served, served_ctx, wasmtime_exit), expected);
        // Every kind of ending is covered.
        assert!(expected.contains(&Ended::Exit(125)));
        assert!(expected.contains(&Ended::Trap(INVALID_STATUS.into())));
        assert!(expected.contains(&Ended::Trap(String::new())));
    }

    #[cfg(feature = "wasi-common")]
    #[test]
    fn served_proc_exit_ends_as_stock_wasi_common_does() {
        fn common_exit(error: &wasmtime::Error) -> Option<i32> {
            error.downcast_ref::<wasi_common::I32Exit>().map(|e| e.0)
        }
        let engine = Engine::default();
        let mut stock: Linker<wasi_common::WasiCtx> = Linker::new(&engine);
        wasi_common::sync::add_to_linker(&mut stock, |t| t).unwrap();
        let stock_ctx = || wasi_common::sync::WasiCtxBuilder::new().build();
        let mut served: Linker<crate::common::DeterministicCommonCtx> = Linker::new(&engine);
        crate::common::add_to_linker_sync(&mut served, |t| t).unwrap();
        let served_ctx = || DeterminismConfig::new().build_wasi_common();
        let expected = outcomes(&stock, stock_ctx, common_exit);
        assert_eq!(outcomes(&served, served_ctx, common_exit), expected);
        assert!(expected.contains(&Ended::Exit(0)));
    }
}
