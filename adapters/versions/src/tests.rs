//! The cross-version comparison, driven on stable inputs: seeded buffers
//! and `p1_smith`'s committed seeds must find no difference, and a
//! difference put in on purpose must be found.

use super::*;

/// A module that asks for 8 random bytes and exits with the first.
const RANDOM_EXIT: &str = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $r (i32.const 0) (i32.const 8)))
    (call $exit (i32.load8_u (i32.const 0)))))"#;

fn context(seed: u64) -> ContextInput {
    ContextInput {
        seed,
        policy: fuzz::PolicyInput::AdvanceOnSleep,
        wall_start_nanos: 0,
        monotonic_start: 0,
    }
}

/// Equal configurations agree; a different seed on the 50 side is found
/// and named (the comparison is not vacuous).
#[test]
fn a_difference_between_the_versions_is_found() {
    let wasm = wat::parse_str(RANDOM_EXIT).unwrap();
    let same = context(42);
    for backend in [Backend::WasmtimeWasi, Backend::WasiCommon] {
        assert_eq!(compare(&wasm, backend, &same, &config50(&same), 100), None);
    }
    let other = config50(&context(43));
    let difference = compare(&wasm, Backend::WasmtimeWasi, &same, &other, 100)
        .expect("a different seed on wasmtime 50 is a difference");
    // The first call that differs is named: random_get's bytes.
    assert!(difference.starts_with("call #0: "), "{difference}");
}

/// Found by `versions_diff` under libFuzzer (2026-12-06, crash-4208fc29…,
/// now `corpus/p1_smith/versions-bulk-fuel-4208fc29`): a `table.grow` by
/// 2,467,572,552 elements that cannot succeed. Wasmtime 46 charges its fuel
/// first and runs out (trap OutOfFuel, 100,000 fuel); wasmtime 50 charges
/// only a growth that succeeded, gets -1 and goes on (here to exit 0). The
/// listed difference still occurs, and is accepted exactly: a module
/// whose run on 50 differs otherwise, or runs out of fuel first on 50, is
/// still a difference.
#[test]
fn a_failing_bulk_operation_charges_fuel_on_46_only() {
    let module = |after: &str| {
        wat::parse_str(format!(
            r#"(module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (table $t 1 funcref)
              (func (export "_start")
                (drop (table.grow $t (ref.null func) (i32.const -1827394744)))
                {after}))"#
        ))
        .unwrap()
    };
    let wasm = module("(call $exit (i32.const 0))");
    assert!(bulk_ops(&wasm) && !charged_const_exprs(&wasm));
    let same = context(42);
    let config = config50(&same);
    let (fields46, _, _) = run46(&wasm, Backend::WasmtimeWasi, &same, 100);
    let (fields50, _, _) = run50(&wasm, &config, 100);
    assert_eq!(
        fields46[0].1, "trap OutOfFuel after 0 calls",
        "{fields46:?}"
    );
    assert_eq!(fields50[0].1, "exit 0", "{fields50:?}");
    assert_eq!(
        compare(&wasm, Backend::WasmtimeWasi, &same, &config, 100),
        None
    );
    // Both out of fuel (50 loops after its failed grow): comparable.
    let looping = module("(loop $l (br $l))");
    assert_eq!(
        compare(&looping, Backend::WasmtimeWasi, &same, &config, 100),
        None
    );
    // Every other field still counts in a module with a bulk operation: a
    // fill that succeeds on both, then random bytes from another seed on 50.
    let fill = wat::parse_str(RANDOM_EXIT.replace(
        "(func (export \"_start\")",
        "(func (export \"_start\") (memory.fill (i32.const 100) (i32.const 1) (i32.const 16))",
    ))
    .unwrap();
    assert!(bulk_ops(&fill));
    assert_eq!(
        compare(&fill, Backend::WasmtimeWasi, &same, &config, 100),
        None
    );
    let other = config50(&context(43));
    assert!(compare(&fill, Backend::WasmtimeWasi, &same, &other, 100).is_some());
    // A module without a bulk operation gets no such allowance.
    assert!(!bulk_ops(&wat::parse_str(RANDOM_EXIT).unwrap()));
}

/// Seeded inputs: no difference (a difference panics), and most inputs
/// run to the end.
#[test]
fn smoke() {
    let ran = fuzz::test_n_times(64, 0x5eed_0046_0050, 4096, run);
    assert!(ran >= 32, "only {ran} of 64 inputs ran to the end");
}

/// `p1_smith`'s committed seeds (this target's seeds): no difference.
#[test]
fn p1_smith_seeds_agree() {
    let dir = fuzz::seeds::committed_seeds("p1_smith");
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus/p1_smith") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "txt" || e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("seed");
        let data = fuzz::input::continued(&bytes);
        if run(&mut Unstructured::new(&data)).is_ok() {
            ran += 1;
        }
    }
    assert!(ran > 0, "no seed of {} ran", dir.display());
}

/// The listed difference is recognised exactly: a plain constant is not
/// charged, `ref.null`, `ref.func` and extended constants are; and a module
/// with one may use more fuel on 50, but still no other field may differ.
#[test]
fn charged_constant_expressions_are_told_apart() {
    let module = |globals: &str| {
        wat::parse_str(format!(
            "(module (memory (export \"memory\") 1) {globals} (func $f) (elem declare func $f) (func (export \"_start\")))"
        ))
        .unwrap()
    };
    assert!(!charged_const_exprs(&module("(global i32 (i32.const 5))")));
    assert!(charged_const_exprs(&module(
        "(global funcref (ref.func $f))"
    )));
    assert!(charged_const_exprs(&module(
        "(global externref (ref.null extern))"
    )));
    assert!(charged_const_exprs(&module(
        "(global i32 (i32.add (i32.const 1) (i32.const 2)))"
    )));
    // A module with `ref.null` in a global and a random_get: the same
    // answers (fuel may differ) with equal seeds; a different seed on 50
    // is still found.
    let wasm = wat::parse_str(RANDOM_EXIT.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 1) (global externref (ref.null extern))",
    ))
    .unwrap();
    assert!(charged_const_exprs(&wasm));
    let same = context(42);
    assert_eq!(
        compare(&wasm, Backend::WasmtimeWasi, &same, &config50(&same), 100),
        None
    );
    let difference = compare(
        &wasm,
        Backend::WasmtimeWasi,
        &same,
        &config50(&context(43)),
        100,
    )
    .expect("a different seed on wasmtime 50 is a difference");
    // The random bytes land in memory: the first field that differs.
    assert!(difference.starts_with("memory memory: "), "{difference}");
}

/// `corpus/versions`: the probes that pin the cross-version facts (its
/// README). Each runs on both majors: the same fingerprint, fuel included,
/// unless it has a charged constant expression (then fuel strictly higher
/// on 50, so the listed difference still exists, and nothing else
/// differs); the `refused_` ones compile on neither.
#[test]
fn corpus_versions_probes_agree_as_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/versions");
    let fuel = |fields: &[(String, String)]| -> u64 {
        let (_, value) = fields.iter().find(|(name, _)| name == FUEL).expect("fuel");
        value.parse().expect("a number")
    };
    let mut probes = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("corpus/versions") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "wat") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let wasm = wat::parse_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.starts_with("refused_") {
            let engine46 = fuzz::shared_engine(dwc46::audit::Strategy::Cranelift);
            let engine50 = on50::shared_engine(dwc50::audit::Strategy::Cranelift);
            assert!(
                dwc46::audit::Compiled::new(engine46, &wasm).is_err(),
                "{name} on 46"
            );
            assert!(
                dwc50::audit::Compiled::new(engine50, &wasm).is_err(),
                "{name} on 50"
            );
        } else {
            let same = context(42);
            let config = config50(&same);
            assert_eq!(
                compare(&wasm, Backend::WasmtimeWasi, &same, &config, 100),
                None,
                "{name}"
            );
            let (fields46, _, _) = run46(&wasm, Backend::WasmtimeWasi, &same, 100);
            let (fields50, _, _) = run50(&wasm, &config, 100);
            assert_eq!(fields46[0].1, "exit 0", "{name}: {fields46:?}");
            let (f46, f50) = (fuel(&fields46), fuel(&fields50));
            if charged_const_exprs(&wasm) {
                assert!(f50 > f46, "{name}: fuel {f46} on 46, {f50} on 50");
            } else {
                assert_eq!(f46, f50, "{name}");
            }
        }
        probes.push(name);
    }
    probes.sort();
    assert_eq!(
        probes,
        [
            "bulk_memory.wat",
            "const_expr_global.wat",
            "memory_grow.wat",
            "refused_exceptions.wat",
            "refused_gc.wat",
            "table_ops.wat"
        ]
    );
}
