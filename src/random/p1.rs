//! `random_get` for preview1 modules on `wasmtime-wasi`, filling guest
//! memory straight from the seeded stream.

use super::SharedStream;
use crate::served::{GuestModule, serve};
use wasmtime::{Caller, Linker};

/// The largest `random_get` request served, in bytes: wasmtime-wasi's
/// default `max_random_size` (64 MiB), which
/// [`DeterminismConfig::build_p1`](crate::DeterminismConfig::build_p1) also
/// sets on the context, so the override and the stock function trap on the
/// same requests.
pub const MAX_RANDOM_GET: u64 = 64 << 20;

/// Defines `random_get` in `linker` (replacing any earlier definition) for
/// both `wasi_snapshot_preview1` and `wasi_unstable`, reading the stream
/// that `stream` finds in the store data.
///
/// The guest sees exactly what stock wasmtime-wasi gives it from the same
/// stream: the next `len` bytes at `buf`, errno 0. A length of 0 succeeds
/// whatever the pointer. No exported `memory`, a length over
/// [`MAX_RANDOM_GET`], or a range outside the memory traps, as in
/// wasmtime-wasi (which turns out-of-bounds pointers into traps), and the
/// stream moves on by exactly what wasmtime-wasi would have drawn. The
/// difference is cost: stock `random_get` draws a boxed `u8` sample per
/// byte; this fills the guest's bytes in one pass.
///
/// Call this *after* adding the stock WASI functions. Each definition replaces an earlier
/// one of the same name; the linker's shadowing setting is left as it was.
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
/// use deterministic_wasi_ctx::random::add_random_get_to_linker;
/// use wasmtime::{Engine, Linker};
///
/// let engine = Engine::default();
/// let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
/// wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi())?;
/// add_random_get_to_linker(&mut linker, |t| t.secure_random())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_random_get_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    stream: impl Fn(&mut T) -> &SharedStream + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    define_random_get(linker, stream, |_| GuestModule::default())
}

/// [`add_random_get_to_linker`], finding the memory by the index `guest`
/// gives where it can.
pub(crate) fn define_random_get<T: 'static>(
    linker: &mut Linker<T>,
    stream: impl Fn(&mut T) -> &SharedStream + Copy + Send + Sync + 'static,
    guest: impl Fn(&mut T) -> GuestModule + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    for module in ["wasi_snapshot_preview1", "wasi_unstable"] {
        serve(
            linker,
            module,
            "random_get",
            move |caller: &mut Caller<'_, T>, buf: i32, len: i32| -> wasmtime::Result<i32> {
                // The order of the checks and what each consumes follow
                // wasmtime-wasi: the memory export first (no draw), then the
                // length limit (no draw); an out-of-bounds range has already
                // drawn its bytes when the write fails.
                let Some(memory) = crate::served::guest_memory(caller, guest) else {
                    wasmtime::bail!("random_get: the module exports no `memory`");
                };
                let mut log = crate::served::write_log();
                let (buf, len) = (buf as u32 as usize, len as u32 as usize);
                if len == 0 {
                    return Ok(0);
                }
                if len as u64 > MAX_RANDOM_GET {
                    wasmtime::bail!(
                        "random_get: {len} bytes exceeds the {MAX_RANDOM_GET}-byte limit"
                    );
                }
                let (data, host) = memory.data_and_store_mut(&mut *caller);
                let stream = stream(host);
                // Checked: on a 32-bit host `buf + len` could wrap.
                let Some(dest) = buf.checked_add(len).and_then(|end| data.get_mut(buf..end)) else {
                    stream.advance(len as u64);
                    wasmtime::bail!("random_get: {len} bytes at {buf} are out of bounds");
                };
                stream.fill(dest);
                log.note(buf as u32, len as u32);
                Ok(0)
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::DeterminismConfig;
    use crate::p1::DeterministicP1Ctx;
    use wasmtime::{Engine, Linker, Module, Store};

    /// What a sequence of `random_get(buf, len)` calls left: each call's
    /// errno (or `None` for a trap), the next 8 bytes of the stream and the
    /// final memory.
    #[derive(PartialEq)]
    struct Seen {
        errnos: Vec<Option<i32>>,
        next: Vec<u8>,
        memory: Vec<u8>,
    }

    impl std::fmt::Debug for Seen {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let written = self.memory.iter().filter(|b| **b != 0).count();
            let digest = blake3::hash(&self.memory);
            write!(
                f,
                "errnos {:?}, next {:?}, memory {written} non-zero bytes, blake3 {}",
                self.errnos,
                self.next,
                &digest.to_hex()[..16]
            )
        }
    }

    fn calls(stock: bool, pages: u32, cases: &[(u32, u32)]) -> Seen {
        let engine = Engine::default();
        let wat = format!(
            r#"(module
                (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
                (memory (export "memory") {pages})
                (func (export "call") (param i32 i32) (result i32)
                    (call $r (local.get 0) (local.get 1))))"#
        );
        let module = Module::new(&engine, wat).unwrap();
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        if stock {
            wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi()).unwrap();
        } else {
            crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        }
        let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let call = instance
            .get_typed_func::<(u32, u32), i32>(&mut store, "call")
            .unwrap();
        let errnos = cases
            .iter()
            .map(|&args| call.call(&mut store, args).ok())
            .collect();
        assert_eq!(call.call(&mut store, (0, 8)).unwrap(), 0);
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let data = memory.data(&store);
        Seen {
            errnos,
            next: data[..8].to_vec(),
            memory: data.to_vec(),
        }
    }

    #[test]
    fn the_override_matches_stock_random_get_call_for_call() {
        let page = 65536;
        let cases = [
            (16, 32),
            (page - 4, 4),
            (page - 4, 5),       // one byte past the end: trap
            (page + 100, 0),     // empty: fine anywhere
            (u32::MAX, 1),       // wraps past 4 GiB: trap
            (0, page + 1),       // longer than memory: trap
            (0, (64 << 20) + 1), // over the limit: trap, nothing drawn
            (100, 3),
        ];
        let ours = calls(false, 1, &cases);
        assert_eq!(ours, calls(true, 1, &cases));
        let expected_errnos = [Some(0), Some(0), None, Some(0), None, None, None, Some(0)];
        assert_eq!(ours.errnos, expected_errnos);
    }

    #[test]
    fn the_limit_is_the_same_as_stock() {
        let limit = super::MAX_RANDOM_GET as u32;
        let cases = [(0, limit), (0, limit + 1)];
        let ours = calls(false, 1025, &cases);
        assert_eq!(ours.errnos, [Some(0), None]);
        assert_eq!(ours, calls(true, 1025, &cases));
    }

    #[test]
    fn no_memory_export_traps_and_draws_nothing() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
                (func (export "call") (result i32) (call $r (i32.const 0) (i32.const 0))))"#,
        )
        .unwrap();
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let call = instance
            .get_typed_func::<(), i32>(&mut store, "call")
            .unwrap();
        let trap = call.call(&mut store, ()).unwrap_err();
        assert!(format!("{trap:#}").contains("no `memory`"), "{trap:#}");
        let mut first = [0u8; 1];
        store.data().secure_random().fill(&mut first);
        assert_eq!(first, [155], "the stream moved");
    }
}
