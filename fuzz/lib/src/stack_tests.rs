//! The logical stack limit on the fuzzers' wasm-smith modules: every module
//! still compiles once rewritten, and audited with the default limit on
//! Cranelift and Pulley none overflows the native stack (the audit would
//! fail with its `BUG:` error), while a run that ended without the limit
//! ends the same way with it unless it is the limit's own trap.

use crate::{Flavor, seeded_inputs, smith_module, spec};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{AuditConfig, Backend, RunSpec, Status, Strategy, audit};
use deterministic_wasi_ctx::engine::stack;

#[test]
fn smith_modules_run_under_the_default_limit_without_native_overflow() {
    let (mut modules, mut limited, mut poisoned_without) = (0, 0, 0);
    for data in seeded_inputs(0x57ac_0000, 48, 4096) {
        let Ok(wasm) = smith_module(&mut Unstructured::new(&data), Flavor::Pulley) else {
            continue;
        };
        modules += 1;
        let config = |limit| AuditConfig {
            runs: 2,
            backends: vec![Backend::WasmtimeWasi],
            strategies: vec![Strategy::Cranelift, Strategy::Pulley],
            // Fuel enough for a recursion to reach the native limit.
            spec: RunSpec {
                fuel: 10_000_000,
                ..spec(DeterminismConfig::new().max_stack(limit))
            },
            ignored_fields: Vec::new(),
        };
        let without = audit(&wasm, &config(None)).expect("audits without the limit");
        let with = audit(&wasm, &config(Some(stack::DEFAULT_MAX_STACK))).unwrap_or_else(|e| {
            panic!("{e:#}\nmodule:\n{}", crate::wat_of(&wasm));
        });
        assert!(with.divergence.is_none(), "{:?}", with.divergence);
        assert!(
            with.first_poisoned().is_none(),
            "poisoned with the limit on"
        );
        let logical_trap = Status::Trapped {
            kind: "UnreachableCodeReached".into(),
            after_calls: with.outcome.host_calls,
        };
        if without.first_poisoned().is_some() {
            assert_eq!(with.outcome.status, logical_trap);
            poisoned_without += 1;
            continue;
        }
        if with.outcome.status == logical_trap && without.outcome.status != logical_trap {
            limited += 1;
            continue;
        }
        if matches!(without.outcome.status, Status::Exited(_)) {
            assert_eq!(with.outcome.status, without.outcome.status);
            assert_eq!(with.outcome.stdout, without.outcome.stdout);
            assert_eq!(with.outcome.trace_digest, without.outcome.trace_digest);
        }
    }
    eprintln!(
        "{modules} modules; {poisoned_without} poisoned without the limit, trapping on it \
         with it; {limited} more stopped by the limit"
    );
    assert!(modules >= 40, "only {modules} modules generated");
}

/// Runs unbounded recursion through the fast check `strategy_diff` uses
/// (both strategies), with `limit`.
fn fast_check_recursion(limit: Option<u32>) -> deterministic_wasi_ctx::audit::Outcome {
    let wasm = wat::parse_str(r#"(module (func $f (export "_start") (call $f)))"#)
        .expect("test module parses");
    let spec = RunSpec {
        fuel: 100_000_000,
        ..spec(DeterminismConfig::new().max_stack(limit))
    };
    crate::check_fast_on(
        "stack_tests",
        &wasm,
        &[Backend::WasmtimeWasi],
        &[Strategy::Cranelift, Strategy::Pulley],
        1,
        &spec,
        &"recursion",
    )
}

/// The fast check fails an execution whose run overflows the native stack
/// with the limit on (here a limit far too large to fire first), instead of
/// setting the run aside as poisoned.
#[test]
#[should_panic(expected = "overflowed the native stack with the logical stack limit on")]
fn the_fast_check_fails_a_native_overflow_under_the_limit() {
    fast_check_recursion(Some(u32::MAX));
}

/// Without the limit the same run is poisoned and set aside: the check
/// above fails because of the limit, not because of the recursion.
#[test]
fn the_fast_check_sets_a_native_overflow_aside_without_the_limit() {
    assert_eq!(
        fast_check_recursion(None).status,
        Status::native_stack_overflow()
    );
}
