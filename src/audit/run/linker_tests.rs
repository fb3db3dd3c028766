//! An Engine's first run links only the module's imports
//! ([`linker_for_run`]); its later runs share the full cached linker. The
//! run cannot tell the two apart.

use super::*;
use crate::audit::outcome::Fingerprint;

/// Writes "hi" to stdout, reads both clocks' snapshots and random bytes,
/// then exits with status 3: functions from four definers, from both
/// snapshots.
const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "clock_time_get" (func $time0 (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time1 (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\08\00\00\00\02\00\00\00hi")
  (func (export "_start")
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (drop (call $time0 (i32.const 1) (i64.const 0) (i32.const 32)))
    (drop (call $time1 (i32.const 0) (i64.const 0) (i32.const 40)))
    (drop (call $random (i32.const 48) (i32.const 16)))
    (call $exit (i32.const 3))))"#;

fn spec() -> RunSpec {
    RunSpec {
        config: DeterminismConfig::new(),
        fuel: 1_000_000,
        max_events: 100,
        stock: false,
        keep_memory: false,
        writes_from_signatures: false,
        replay: None,
    }
}

#[test]
fn an_engines_first_run_links_only_the_modules_imports() {
    let engine = Strategy::Cranelift.engine().unwrap();
    let module = Module::new(&engine, GUEST).unwrap();
    let mut store = store(&engine, DeterminismConfig::new().build_p1(), 0, 0);
    let first = linker_for_run(&engine, link_p1, &module).unwrap();
    assert!(first.get(&mut store, "wasi_unstable", "proc_exit").is_ok());
    assert!(
        first
            .get(&mut store, "wasi_snapshot_preview1", "proc_exit")
            .is_err()
    );
    assert!(
        first
            .get(&mut store, "wasi_snapshot_preview1", "fd_read")
            .is_err()
    );
    let second = linker_for_run(&engine, link_p1, &module).unwrap();
    assert!(Arc::ptr_eq(&second, &linker_for(&engine, link_p1).unwrap()));
    assert!(
        second
            .get(&mut store, "wasi_snapshot_preview1", "fd_read")
            .is_ok()
    );
}

/// Three runs on a fresh Engine, each backend: the first (its own linker of
/// five functions) and the two after it (the full linker) give the same
/// fingerprint, and the runs did what the guest asks.
#[test]
fn runs_with_the_first_and_the_full_linker_agree() {
    let backends = [
        Backend::WasmtimeWasi,
        #[cfg(feature = "wasi-common")]
        Backend::WasiCommon,
    ];
    for backend in backends {
        let engine = Strategy::Cranelift.engine().unwrap();
        let compiled = Compiled::Module(Module::new(&engine, GUEST).unwrap());
        let outcomes: Vec<Outcome> = (0..3)
            .map(|_| compiled.run(&engine, backend, &spec()))
            .collect();
        let first = &outcomes[0];
        assert_eq!(first.status, Status::Exited(3), "{backend:?}: {first:?}");
        assert_eq!(first.host_calls, 5);
        assert_eq!(first.stdout, b"hi");
        for later in &outcomes[1..] {
            assert_eq!(
                Fingerprint::of(first).fields,
                Fingerprint::of(later).fields,
                "{backend:?}"
            );
        }
    }
}
