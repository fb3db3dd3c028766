//! `clock_time_get` and `clock_res_get` for preview1 and preview0 modules,
//! answered straight from the [`VirtualClock`] on every backend.

use super::{RESOLUTION_NANOS, VirtualClock, duration_nanos};
use crate::served::{GuestModule, serve};
use wasmtime::{Caller, Linker};

/// The preview1 `clockid` values (`wasi_unstable` uses the same numbers).
const REALTIME: i32 = 0;
const MONOTONIC: i32 = 1;
const PROCESS_CPUTIME: i32 = 2;
const THREAD_CPUTIME: i32 = 3;

/// Errno `badf`: the process and thread CPU-time clocks, as both stock
/// backends answer.
const ERRNO_BADF: i32 = 8;

/// What a clock call answers before anything is written: a timestamp to
/// store at the result pointer, or an errno; a trap for an id that is not a
/// `clockid` at all (both stock backends' generated bindings trap on an
/// argument they cannot convert).
fn answer(clock: &VirtualClock, id: i32, resolution: bool) -> wasmtime::Result<Result<u64, i32>> {
    Ok(match id {
        REALTIME | MONOTONIC if resolution => Ok(RESOLUTION_NANOS),
        REALTIME => Ok(duration_nanos(clock.read_wall())),
        MONOTONIC => Ok(clock.read_monotonic()),
        PROCESS_CPUTIME | THREAD_CPUTIME => Err(ERRNO_BADF),
        // Stock's own words: a negative id fails the `u32` conversion, a
        // larger one the enum's.
        _ if id < 0 => wasmtime::bail!("out of range integral type conversion attempted"),
        _ => wasmtime::bail!("Invalid enum value Clockid"),
    })
}

/// Defines `clock_time_get` and `clock_res_get` in `linker` (replacing any
/// earlier definition) for both `wasi_snapshot_preview1` and
/// `wasi_unstable`, reading the timeline that `clock` finds in the store
/// data.
///
/// The guest sees exactly what the stock functions of wasmtime-wasi and
/// wasi-common give it over the same timeline, call for call:
///
/// | call | answer |
/// |---|---|
/// | realtime (0) / monotonic (1) | the wall / monotonic reading in nanoseconds (a read under [`ClockPolicy::Tick`](crate::ClockPolicy::Tick) moves time on), errno 0 |
/// | `clock_res_get` of 0 or 1 | [`RESOLUTION_NANOS`], errno 0; time does not move |
/// | process (2) / thread (3) CPU time | errno `badf`, nothing read |
/// | any other id | a trap, nothing read |
///
/// The timestamp is stored little-endian at the result pointer, which must
/// be 8-byte aligned and inside memory: otherwise the call traps, after the
/// clock was read, as in both stock backends. No exported `memory` traps
/// before anything else. The `precision` argument is ignored, as stock
/// ignores it. The difference is cost: no context lookup, no trait objects,
/// no lock.
///
/// Call this *after* adding the backend's WASI functions. Each definition
/// replaces an earlier one of the same name; the linker's shadowing setting
/// is left as it was.
///
/// # Errors
///
/// Only if the linker rejects a definition for a reason other than an
/// earlier one of the same name.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::clocks::add_clocks_to_linker;
/// use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
/// use wasmtime::{Engine, Linker};
///
/// let engine = Engine::default();
/// let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
/// wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi())?;
/// add_clocks_to_linker(&mut linker, |t| t.clock())?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_clocks_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    define_clocks(linker, clock, |_| GuestModule::default())
}

/// [`add_clocks_to_linker`], finding the memory by the index `guest` gives
/// where it can.
pub(crate) fn define_clocks<T: 'static>(
    linker: &mut Linker<T>,
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
    guest: impl Fn(&mut T) -> GuestModule + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    for module in ["wasi_snapshot_preview1", "wasi_unstable"] {
        serve(
            linker,
            module,
            "clock_time_get",
            move |caller: &mut Caller<'_, T>, id: i32, _precision: i64, at: i32| {
                store_answer(caller, guest, "clock_time_get", at, |t| {
                    answer(clock(t), id, false)
                })
            },
        )?;
        serve(
            linker,
            module,
            "clock_res_get",
            move |caller: &mut Caller<'_, T>, id: i32, at: i32| {
                store_answer(caller, guest, "clock_res_get", at, |t| {
                    answer(clock(t), id, true)
                })
            },
        )?;
    }
    Ok(())
}

/// The shared tail of both functions: memory export check, the answer, then
/// the aligned little-endian store of a successful answer at `at`.
fn store_answer<T>(
    caller: &mut Caller<'_, T>,
    guest: impl Fn(&mut T) -> GuestModule,
    name: &str,
    at: i32,
    answer: impl FnOnce(&mut T) -> wasmtime::Result<Result<u64, i32>>,
) -> wasmtime::Result<i32> {
    let Some(memory) = crate::served::guest_memory(caller, guest) else {
        wasmtime::bail!("{name}: the module exports no `memory`");
    };
    let mut log = crate::served::write_log();
    let (data, host) = memory.data_and_store_mut(caller);
    let value = match answer(host)? {
        Ok(value) => value,
        Err(errno) => return Ok(errno),
    };
    let at = at as u32 as usize;
    let Some(dest) = data.get_mut(at..).and_then(|rest| rest.get_mut(..8)) else {
        wasmtime::bail!("{name}: result pointer {at} is out of bounds");
    };
    // Linear memory starts page-aligned, so the guest offset's alignment is
    // the host address's, which is what stock checks (after the bounds).
    if !at.is_multiple_of(8) {
        wasmtime::bail!("{name}: result pointer {at} is not 8-byte aligned");
    }
    dest.copy_from_slice(&value.to_le_bytes());
    log.note(at as u32, 8);
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "wasi-common")]
    use crate::common::DeterministicCommonCtx;
    use crate::p1::DeterministicP1Ctx;
    use crate::{ClockPolicy, DeterminismConfig, VirtualClock};
    use std::time::Duration;
    use wasmtime::{Engine, Linker, Module, Store};

    /// Which functions answer: a backend's own, or the served ones on top.
    #[derive(Clone, Copy, Debug)]
    enum Path {
        WasmtimeWasi,
        #[cfg(feature = "wasi-common")]
        WasiCommon,
    }

    /// One call: the import to use and its arguments.
    #[derive(Clone, Copy, Debug)]
    enum Call {
        Time { unstable: bool, id: i32, at: u32 },
        Res { unstable: bool, id: i32, at: u32 },
    }

    /// Per call: the errno (`Err` with its message for a trap whose message
    /// stock defines, an invalid id's; `Err("")` for other traps), the
    /// clock's time after the call, and the 16 bytes around the result
    /// pointer.
    type Seen = Vec<(Result<i32, String>, u64, Vec<u8>)>;

    const WAT: &str = r#"(module
        (import "wasi_snapshot_preview1" "clock_time_get" (func $t1 (param i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "clock_res_get" (func $r1 (param i32 i32) (result i32)))
        (import "wasi_unstable" "clock_time_get" (func $t0 (param i32 i64 i32) (result i32)))
        (import "wasi_unstable" "clock_res_get" (func $r0 (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "time1") (param i32 i32) (result i32) (call $t1 (local.get 0) (i64.const 1) (local.get 1)))
        (func (export "res1") (param i32 i32) (result i32) (call $r1 (local.get 0) (local.get 1)))
        (func (export "time0") (param i32 i32) (result i32) (call $t0 (local.get 0) (i64.const 1) (local.get 1)))
        (func (export "res0") (param i32 i32) (result i32) (call $r0 (local.get 0) (local.get 1))))"#;

    fn config(policy: ClockPolicy) -> DeterminismConfig {
        DeterminismConfig::new()
            .clock_policy(policy)
            .wall_start(Duration::new(1_700_000_000, 123_456_789))
            .monotonic_start(5_000)
    }

    fn run<T: 'static>(
        mut store: Store<T>,
        linker: &Linker<T>,
        clock: fn(&T) -> &VirtualClock,
        calls: &[Call],
    ) -> Seen {
        let module = Module::new(store.engine(), WAT).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        memory.data_mut(&mut store).fill(0xaa);
        calls
            .iter()
            .map(|call| {
                let (name, id, at) = match *call {
                    Call::Time { unstable, id, at } => {
                        (if unstable { "time0" } else { "time1" }, id, at)
                    }
                    Call::Res { unstable, id, at } => {
                        (if unstable { "res0" } else { "res1" }, id, at)
                    }
                };
                let f = instance
                    .get_typed_func::<(i32, u32), i32>(&mut store, name)
                    .unwrap();
                let errno = f.call(&mut store, (id, at)).map_err(|trap| {
                    if (0..=3).contains(&id) {
                        String::new()
                    } else {
                        trap.root_cause().to_string()
                    }
                });
                let around = (at as usize).min(65536 - 16);
                let bytes = memory.data(&store)[around..around + 16].to_vec();
                (errno, clock(store.data()).peek(), bytes)
            })
            .collect()
    }

    /// The calls through `path`'s own functions, and through the served ones.
    fn both(path: Path, policy: ClockPolicy, calls: &[Call]) -> (Seen, Seen) {
        let engine = Engine::default();
        match path {
            Path::WasmtimeWasi => {
                let mut stock: Linker<DeterministicP1Ctx> = Linker::new(&engine);
                wasmtime_wasi::p1::add_to_linker_sync(&mut stock, |t| t.wasi()).unwrap();
                wasmtime_wasi::p0::add_to_linker_sync(&mut stock, |t| t.wasi()).unwrap();
                let mut served = stock.clone();
                super::add_clocks_to_linker(&mut served, |t| t.clock()).unwrap();
                let store = |e: &Engine| Store::new(e, config(policy).build_p1());
                (
                    run(store(&engine), &stock, |t| t.clock(), calls),
                    run(store(&engine), &served, |t| t.clock(), calls),
                )
            }
            #[cfg(feature = "wasi-common")]
            Path::WasiCommon => {
                let mut stock: Linker<DeterministicCommonCtx> = Linker::new(&engine);
                wasi_common::sync::add_to_linker(&mut stock, |t| &mut t.wasi).unwrap();
                let mut served = stock.clone();
                super::add_clocks_to_linker(&mut served, |t| &t.clock).unwrap();
                let store = |e: &Engine| Store::new(e, config(policy).build_wasi_common());
                (
                    run(store(&engine), &stock, |t| &t.clock, calls),
                    run(store(&engine), &served, |t| &t.clock, calls),
                )
            }
        }
    }

    /// Every clock id (valid, CPU-time, out of range, negative) at aligned,
    /// misaligned, last-word, one-past and wrapping result pointers, through
    /// both snapshots.
    fn hostile_calls() -> Vec<Call> {
        let ids = [0, 1, 2, 3, 4, 7, -1, i32::MIN];
        let ats = [
            0x100,
            0x104,
            0x101,
            65536 - 8,
            65536 - 4,
            65536,
            u32::MAX - 3,
        ];
        let mut calls = Vec::new();
        for unstable in [false, true] {
            for id in ids {
                for at in ats {
                    calls.push(Call::Time { unstable, id, at });
                    calls.push(Call::Res { unstable, id, at });
                }
            }
        }
        calls
    }

    #[test]
    fn served_clocks_answer_as_each_backend_does_call_for_call() {
        let policies = [
            ClockPolicy::AdvanceOnSleep,
            ClockPolicy::Frozen,
            ClockPolicy::Tick(Duration::from_nanos(1_000_000_007)),
        ];
        let calls = hostile_calls();
        let paths = [
            Path::WasmtimeWasi,
            #[cfg(feature = "wasi-common")]
            Path::WasiCommon,
        ];
        for path in paths {
            for policy in policies {
                let (stock, served) = both(path, policy, &calls);
                for (i, (s, o)) in stock.iter().zip(&served).enumerate() {
                    assert_eq!(s, o, "{path:?} {policy:?}: call {i} {:?}", calls[i]);
                }
            }
        }
        // The calls exercise every outcome: success, badf and traps.
        let (seen, _) = both(Path::WasmtimeWasi, policies[2], &calls);
        let errnos: std::collections::BTreeSet<_> = seen.iter().map(|s| s.0.clone()).collect();
        let expected = [
            Ok(0),
            Ok(8),
            Err(String::new()),
            Err("Invalid enum value Clockid".to_string()),
            Err("out of range integral type conversion attempted".to_string()),
        ];
        assert_eq!(errnos, expected.into());
        assert!(
            seen.windows(2).any(|w| w[0].1 != w[1].1),
            "Tick never moved time"
        );
    }

    #[test]
    fn no_memory_export_traps_before_reading_the_clock() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
                (func (export "call") (result i32) (call $t (i32.const 1) (i64.const 0) (i32.const 0))))"#,
        )
        .unwrap();
        let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        crate::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        let ctx = config(ClockPolicy::Tick(Duration::from_secs(1))).build_p1();
        let mut store = Store::new(&engine, ctx);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let call = instance
            .get_typed_func::<(), i32>(&mut store, "call")
            .unwrap();
        let trap = call.call(&mut store, ()).unwrap_err();
        assert!(format!("{trap:#}").contains("no `memory`"), "{trap:#}");
        assert_eq!(store.data().clock().peek(), 5_000, "the clock was read");
    }
}
