//! The auditor: it passes every bundled program on both backends and both
//! strategies, and it *catches* nondeterminism (stock wasmtime-wasi).

use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{
    self, AuditConfig, Backend, Compiled, Difference, Fingerprint, RunSpec, Status, Strategy,
    Verdict, first_difference,
};
use std::path::{Path, PathBuf};

/// The repository's root: this package's directory, or two up from the
/// wasmtime-50 adapter's (adapters/wasmtime-50).
#[cfg(not(wasmtime_50))]
const REPO: &str = env!("CARGO_MANIFEST_DIR");
#[cfg(wasmtime_50)]
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The preview1 backends: wasi-common only with its feature (the
/// wasmtime-50 adapter has none).
#[cfg(feature = "wasi-common")]
const BACKENDS: [Backend; 2] = [Backend::WasmtimeWasi, Backend::WasiCommon];
#[cfg(not(feature = "wasi-common"))]
const BACKENDS: [Backend; 1] = [Backend::WasmtimeWasi];

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(REPO).join("corpus/audit");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus/audit")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    files
}

fn wasm(path: &Path) -> Vec<u8> {
    wat::parse_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn everything() -> AuditConfig {
    AuditConfig {
        backends: BACKENDS.to_vec(),
        strategies: vec![Strategy::Cranelift, Strategy::Pulley],
        ..AuditConfig::default()
    }
}

#[test]
fn corpus_is_deterministic_on_both_backends_and_strategies() {
    let config = everything();
    for path in corpus() {
        let bytes = wasm(&path);
        let report = audit::audit(&bytes, &config).expect("audit");
        assert_eq!(report.divergence, None, "{}", path.display());
        // The one documented exception: its stack runs out where the host's does.
        let expected = if path.ends_with("stack_overflow.wat") {
            Verdict::Poisoned
        } else {
            Verdict::Deterministic
        };
        assert_eq!(report.verdict(), expected, "{}", path.display());
        // 2 strategies x 2 backends (1 without wasi-common; components,
        // such as the WASI 0.3 p3_timers.wat, have one) x 3 runs
        let backends = match wasmparser::Parser::is_component(&bytes) {
            true => 1,
            false => BACKENDS.len(),
        };
        assert_eq!(report.runs.len(), 2 * backends * 3, "{}", path.display());
    }
}

#[test]
fn test_programs_are_deterministic_on_both_backends_and_strategies() {
    let config = AuditConfig {
        runs: 2,
        ..everything()
    };
    for (name, p1, p2) in test_programs::PROGRAMS {
        for path in [p1, p2] {
            let bytes = std::fs::read(path).expect("built by test-programs");
            let report = audit::audit(&bytes, &config).expect("audit");
            assert_eq!(report.divergence, None, "{name}: {path}");
        }
    }
}

fn stock() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.spec.stock = true;
    config
}

/// The fixture that proves the auditor can fail: stock wasmtime-wasi reads
/// host entropy, and the first random_get is the first difference.
#[test]
fn stock_random_is_diverged_at_the_first_random_get() {
    let path = Path::new(REPO).join("corpus/audit/random_bytes.wat");
    let report = audit::audit(&wasm(&path), &stock()).expect("audit");
    let divergence = report.divergence.expect("stock randomness must diverge");
    match divergence.difference {
        Difference::Call {
            index,
            expected: Some(expected),
            actual: Some(actual),
        } => {
            // Two independent 1-byte draws collide 1 time in 256: then the
            // second or third call is the first to differ.
            assert!(index <= 2, "diverged late: {index}");
            assert!(expected.starts_with("random_get("), "{expected}");
            assert_ne!(expected, actual);
        }
        other => panic!("expected a call difference, got {other:?}"),
    }
}

#[test]
fn stock_clock_is_diverged_at_the_first_clock_read() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start") (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0)))))"#;
    let report = audit::audit(&wat::parse_str(wat).unwrap(), &stock()).expect("audit");
    match report
        .divergence
        .expect("host clocks must diverge")
        .difference
    {
        Difference::Call {
            index: 0,
            expected: Some(e),
            ..
        } => {
            assert!(e.starts_with("clock_time_get(id=monotonic"), "{e}")
        }
        other => panic!("expected call #0 to differ, got {other:?}"),
    }
}

#[test]
fn stock_component_is_diverged() {
    let (_, _, p2) = test_programs::PROGRAMS
        .iter()
        .find(|(n, _, _)| *n == "random_bytes")
        .expect("random_bytes");
    let report = audit::audit(&std::fs::read(p2).unwrap(), &stock()).expect("audit");
    let divergence = report.divergence.expect("stock randomness must diverge");
    // Stock's calls are traced through the forwarder (trace::component), so
    // the first difference is a call: the first random draw, or (when two
    // 1-byte draws collide, 1 time in 256) the second or third.
    match divergence.difference {
        Difference::Call {
            index,
            expected: Some(expected),
            actual: Some(actual),
        } => {
            assert!(index <= 2, "diverged late: {index}");
            assert!(
                expected.starts_with("wasi:random/random.get-random-bytes("),
                "{expected}"
            );
            assert_ne!(expected, actual);
        }
        other => panic!("expected a call difference, got {other:?}"),
    }
    assert!(report.outcome.host_calls > 3, "{:?}", report.outcome);
}

#[test]
fn infinite_loop_is_stopped_by_fuel_identically() {
    let path = Path::new(REPO).join("corpus/audit/fuel_loop.wat");
    let mut config = everything();
    config.spec.fuel = 5_000_000;
    let report = audit::audit(&wasm(&path), &config).expect("audit");
    assert_eq!(report.divergence, None);
    assert_eq!(
        report.outcome.status,
        Status::Trapped {
            kind: "OutOfFuel".into(),
            after_calls: 1
        }
    );
    assert_eq!(report.outcome.fuel_consumed, 5_000_000);
    let digests: std::collections::BTreeSet<_> =
        report.runs.iter().map(|(_, f)| f.digest).collect();
    assert_eq!(
        digests.len(),
        1,
        "every run, backend and strategy has one digest"
    );
}

#[test]
fn stack_overflow_is_poisoned_not_compared() {
    let path = Path::new(REPO).join("corpus/audit/stack_overflow.wat");
    let report = audit::audit(&wasm(&path), &AuditConfig::default()).expect("audit");
    assert!(report.outcome.is_poisoned(), "{:?}", report.outcome.status);
    assert_eq!(report.divergence, None);
    // Not DETERMINISTIC: the runs were set aside, not compared.
    assert_eq!(report.verdict(), Verdict::Poisoned);
    assert_eq!(report.poisoned_runs(), report.runs.len());
    let (label, fingerprint) = report.first_poisoned().expect("a poisoned run");
    assert_eq!(label.index, 0);
    assert_eq!(fingerprint.status(), "poisoned (stack overflow)");
}

/// More memories than the Store's limits allow (100; wasmparser refuses
/// more in one module, so a component instantiates a module of 51 twice)
/// fail instantiation with wasmtime's "resource limit exceeded ... count too
/// high" on every host: a trap compared like any other, so the verdict is
/// DETERMINISTIC, not POISONED, on both strategies.
#[test]
fn a_program_past_the_memory_count_limit_is_a_deterministic_trap() {
    let half = deterministic_wasi_ctx::engine::MAX_INSTANCES / 2 + 1;
    let memories = "(memory 0) ".repeat(half);
    let wat = format!(
        r#"(component
            (core module $memories {memories})
            (core instance (instantiate $memories))
            (core instance (instantiate $memories))
            (core module $run (func (export "run") (result i32) (i32.const 0)))
            (core instance $run (instantiate $run))
            (func $run (result (result)) (canon lift (core func $run "run")))
            (instance $cli (export "run" (func $run)))
            (export "wasi:cli/run@0.2.0" (instance $cli)))"#
    );
    let bytes = wat::parse_str(&wat).expect("wat");
    let config = AuditConfig {
        runs: 2,
        strategies: vec![Strategy::Cranelift, Strategy::Pulley],
        ..AuditConfig::default()
    };
    let report = audit::audit(&bytes, &config).expect("audit");
    assert_eq!(
        report.verdict(),
        Verdict::Deterministic,
        "{}",
        report.outcome.status_text()
    );
    assert_eq!(
        report.outcome.status,
        Status::Trapped {
            kind: Status::HOST_ERROR.into(),
            after_calls: 0
        }
    );
    let message = report.outcome.trap_message.as_deref().unwrap_or("");
    assert!(message.contains("memory count too high"), "{message}");
}

/// A divergence outranks a poisoned run: the verdict names the worse finding.
#[test]
fn a_divergence_beside_a_poisoned_run_is_diverged() {
    let path = Path::new(REPO).join("corpus/audit/stack_overflow.wat");
    let mut report = audit::audit(&wasm(&path), &AuditConfig::default()).expect("audit");
    let random = Path::new(REPO).join("corpus/audit/random_bytes.wat");
    let other = audit::audit(&wasm(&random), &stock()).expect("audit");
    report.divergence = other.divergence;
    assert!(report.divergence.is_some(), "stock randomness diverges");
    assert_eq!(report.verdict(), Verdict::Diverged);
}

#[test]
fn empty_backend_or_strategy_lists_are_errors_not_panics() {
    let bytes = wasm(&Path::new(REPO).join("corpus/audit/exit_status.wat"));
    let no_backend = AuditConfig {
        backends: vec![],
        ..AuditConfig::default()
    };
    let error = audit::audit(&bytes, &no_backend).expect_err("no backend");
    assert!(format!("{error:#}").contains("no backend"), "{error:#}");
    let no_strategy = AuditConfig {
        strategies: vec![],
        ..AuditConfig::default()
    };
    let error = audit::audit(&bytes, &no_strategy).expect_err("no strategy");
    assert!(
        format!("{error:#}").contains("no execution strategy"),
        "{error:#}"
    );
    assert!(no_strategy.first_backend_and_strategy().is_err());
    assert_eq!(
        AuditConfig::default().first_backend_and_strategy().unwrap(),
        (Backend::WasmtimeWasi, Strategy::Cranelift)
    );
}

/// A host error's wording is shown but not compared: `fd_fdstat_get` with a
/// misaligned result pointer traps in the crate's descriptor layer and in
/// stock wasmtime-wasi (wiggle), worded differently, and the two runs'
/// fingerprints are identical (status `host error` after 1 call, trace,
/// memory), while each keeps its own message for display.
#[test]
fn host_errors_worded_differently_compare_equal() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $f (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start") (drop (call $f (i32.const 1) (i32.const 3)))))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let engine = Strategy::Cranelift.engine().expect("engine");
    let compiled = Compiled::new(&engine, &wasm).expect("compiles");
    // Recorded as stock's trace is, to be comparable with it.
    let spec = |stock| RunSpec {
        stock,
        writes_from_signatures: true,
        replay: None,
        ..AuditConfig::default().spec
    };
    let ours = compiled.run(&engine, Backend::WasmtimeWasi, &spec(false));
    let stock = compiled.run(&engine, Backend::WasmtimeWasi, &spec(true));
    assert_eq!(
        ours.status,
        Status::Trapped {
            kind: Status::HOST_ERROR.into(),
            after_calls: 1
        }
    );
    let (a, b) = (Fingerprint::of(&ours), Fingerprint::of(&stock));
    assert_ne!(a.trap_message, b.trap_message, "the wordings differ");
    assert_eq!(first_difference(&a, &b, None), None);
    assert_eq!(a.digest, b.digest);
}

#[test]
fn unknown_imports_are_an_error_not_an_outcome() {
    let wat = r#"(module (import "env" "host_time" (func)) (func (export "_start")))"#;
    let error = audit::audit(&wat::parse_str(wat).unwrap(), &AuditConfig::default())
        .expect_err("unknown import");
    assert!(format!("{error:#}").contains("host_time"), "{error:#}");
}

#[test]
fn a_changed_field_is_reported_by_name() {
    // The same program under two seeds: the traces differ at call #0; with the
    // calls hidden, the field comparison names stdout.
    let path = Path::new(REPO).join("corpus/audit/random_bytes.wat");
    let bytes = wasm(&path);
    let run = |seed| {
        let mut config = AuditConfig::default();
        config.spec.config = config.spec.config.clone().seed(seed);
        audit::audit(&bytes, &config).expect("audit").runs[0]
            .1
            .clone()
    };
    let (a, b) = (run(1), run(2));
    assert!(matches!(
        audit::first_difference(&a, &b, None),
        Some(Difference::Call { index: 0, .. })
    ));
    let hidden = |f: &audit::Fingerprint| audit::Fingerprint::from_parts(f.fields.clone(), vec![]);
    assert!(matches!(
        audit::first_difference(&hidden(&a), &hidden(&b), None),
        Some(Difference::Field { name, .. }) if name == "stdout"
    ));
}

/// `args_get` / `environ_get` record exactly the pointer table and the
/// strings (not a whole-memory digest), so a changed argument is the call's
/// own difference and the trace line shows the bytes.
#[test]
fn args_get_records_the_pointer_table_and_the_strings() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "environ_get" (func $env (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            (drop (call $args (i32.const 0) (i32.const 64)))
            (drop (call $env (i32.const 128) (i32.const 256)))))"#;
    let bytes = wat::parse_str(wat).unwrap();
    let run = |arg: &str| {
        let mut config = AuditConfig::default();
        config.spec.config = config
            .spec
            .config
            .clone()
            .args(["prog", arg])
            .env([("K", "v")]);
        audit::audit(&bytes, &config).expect("audit").runs[0]
            .1
            .clone()
    };
    let (a, b) = (run("ab"), run("ac"));
    // Table: 64 and 69 ("prog\0" is 5 bytes); strings "prog\0ab\0".
    assert!(
        a.events[0].contains("wrote 8 bytes @0x0: 40 00 00 00 45 00 00 00")
            && a.events[0].contains("wrote 8 bytes @0x40: 70 72 6f 67 00 61 62 00"),
        "{}",
        a.events[0]
    );
    assert!(
        a.events[1].contains("wrote 4 bytes @0x80: 00 01 00 00")
            && a.events[1].contains("wrote 4 bytes @0x100: 4b 3d 76 00"),
        "{}",
        a.events[1]
    );
    assert!(!a.events.iter().any(|e| e.contains("memory now")));
    assert!(matches!(
        audit::first_difference(&a, &b, None),
        Some(Difference::Call { index: 0, .. })
    ));
}

#[test]
fn keep_memory_returns_the_final_memory_the_digest_covers() {
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start") (drop (call $r (i32.const 8) (i32.const 2)))))"#,
    )
    .expect("wat");
    let mut config = AuditConfig::default();
    let plain = audit::audit(&wasm, &config).expect("audit").outcome;
    assert_eq!(plain.memory, None, "kept without being asked");
    config.spec.keep_memory = true;
    let report = audit::audit(&wasm, &config).expect("audit");
    assert_eq!(report.divergence, None);
    let memory = report.outcome.memory.clone().expect("kept");
    assert_eq!(memory.len(), 65536);
    // The default seed's first two bytes, where the guest asked for them.
    assert_eq!(&memory[6..11], &[0, 0, 155, 111, 0]);
    let (name, len, digest) = &report.outcome.memories[0];
    assert_eq!((name.as_str(), *len), ("memory", 65536));
    assert_eq!(digest, blake3::hash(&memory).as_bytes());
    // Not a fingerprint field: keeping it changes no digest.
    assert_eq!(
        report.digest(),
        audit::audit(&wasm, &AuditConfig::default())
            .unwrap()
            .digest()
    );
}

/// Every preview1 function the deterministic linker defines (but
/// `proc_exit` / `proc_raise`), imported three times over and each import
/// called once with zero arguments: more traced imports than
/// `engine::MAX_INSTANCES`, so more proxies than the guest's own limit.
fn many_wasi_imports() -> (Vec<u8>, u64) {
    use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
    let engine = engine::deterministic_engine().unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
    let mut store = wasmtime::Store::new(&engine, DeterminismConfig::new().build_p1());
    let definitions: Vec<(String, wasmtime::Func)> = linker
        .iter(&mut store)
        .filter(|(module, name, _)| {
            *module == "wasi_snapshot_preview1" && !name.starts_with("proc_")
        })
        .map(|(_, name, def)| (name.to_string(), def.into_func().unwrap()))
        .collect();
    let functions: Vec<(String, wasmtime::FuncType)> = definitions
        .into_iter()
        .map(|(name, func)| (name, func.ty(&store)))
        .collect();
    let wat_type = |t: wasmtime::ValType| if t.is_i64() { "i64" } else { "i32" };
    let (mut imports, mut calls, mut count) = (String::new(), String::new(), 0u64);
    for _copy in 0..3 {
        for (name, ty) in &functions {
            let params: Vec<&str> = ty.params().map(wat_type).collect();
            let results: Vec<&str> = ty.results().map(wat_type).collect();
            imports += &format!(
                "(import \"wasi_snapshot_preview1\" \"{name}\" (func $f{count} (param {}) (result {})))\n",
                params.join(" "),
                results.join(" ")
            );
            let args: String = params.iter().map(|t| format!("({t}.const 0)")).collect();
            calls += &format!(
                "(call $f{count} {args}) {}\n",
                "drop ".repeat(results.len())
            );
            count += 1;
        }
    }
    let wat = format!(
        "(module {imports} (memory (export \"memory\") 1) (func (export \"_start\") {calls}))"
    );
    (wat::parse_str(&wat).unwrap(), count)
}

/// Tracing's proxies (one instance per traced import) do not count toward
/// the guest's instance limit.
#[test]
fn a_guest_importing_many_wasi_functions_runs_traced_under_the_default_limits() {
    let (wasm, imports) = many_wasi_imports();
    assert!(
        imports > deterministic_wasi_ctx::engine::MAX_INSTANCES as u64,
        "{imports}"
    );
    let report = audit::audit(&wasm, &everything()).expect("audit");
    assert_eq!(report.divergence, None);
    assert_eq!(report.outcome.status, Status::Exited(0));
    assert_eq!(report.outcome.host_calls, imports);
}

/// A guest reading 100 bytes of stdin: its `fd_read` writes them, so two
/// stdins differing only past the kept prefix still differ at call #0.
#[test]
fn a_write_differing_past_the_kept_prefix_is_a_call_difference() {
    use deterministic_wasi_ctx::trace::KEPT_WRITE_PREFIX;
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "\10\00\00\00\64\00\00\00")
            (func (export "_start") (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    let run = |last: char| {
        let mut stdin = "a".repeat(99);
        stdin.push(last);
        let mut config = AuditConfig::default();
        config.spec.config = config.spec.config.clone().stdin(stdin);
        audit::audit(&wasm, &config).expect("audit").runs[0]
            .1
            .clone()
    };
    let (a, b) = (run('a'), run('b'));
    let elided = format!("({} bytes elided", 100 - KEPT_WRITE_PREFIX);
    match audit::first_difference(&a, &b, None) {
        Some(Difference::Call {
            index: 0,
            expected: Some(expected),
            actual: Some(actual),
        }) => {
            assert!(expected.contains(&elided), "{expected}");
            assert_ne!(expected, actual);
        }
        other => panic!("expected call #0 to differ, got {other:?}"),
    }
}

/// Twenty 16 MiB `random_get`s: the audit's kept calls hold each write's
/// prefix, not its 16 MiB.
#[test]
fn kept_calls_of_large_writes_hold_only_a_prefix() {
    use deterministic_wasi_ctx::trace::{KEPT_WRITE_PREFIX, Write};
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
            (memory (export "memory") 257)
            (func (export "_start") (local $i i32)
                (loop $l
                    (drop (call $r (i32.const 0) (i32.const 16777216)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))))"#,
    )
    .unwrap();
    let report = audit::audit(&wasm, &AuditConfig::default()).expect("audit");
    assert_eq!(report.divergence, None);
    let events = &report.outcome.events;
    assert_eq!(events.len(), 20);
    for event in events {
        let [Write::Bytes { len, prefix, .. }] = &event.writes[..] else {
            panic!("{event}")
        };
        assert_eq!((*len, prefix.capacity()), (16 << 20, KEPT_WRITE_PREFIX));
    }
    // Draws differ from call to call beyond the prefix too.
    assert_ne!(events[0], events[1]);
}

/// Two memories of 3000 pages each would take 375 MiB: the second growth is
/// refused (-1) by the Store's 256 MiB total cap, identically in every run,
/// backend and strategy.
#[test]
fn several_memories_stop_at_the_total_cap_in_every_run() {
    let wasm = wat::parse_str(
        r#"(module
            (memory $a (export "memory") 1) (memory $b 1)
            (global $first (export "first") (mut i32) (i32.const 0))
            (global $second (export "second") (mut i32) (i32.const 0))
            (func (export "_start")
                (global.set $first (memory.grow $a (i32.const 3000)))
                (global.set $second (memory.grow $b (i32.const 3000)))))"#,
    )
    .unwrap();
    let report = audit::audit(&wasm, &everything()).expect("audit");
    assert_eq!(report.divergence, None);
    assert_eq!(
        report.outcome.globals,
        [
            ("first".to_string(), "i32:1".to_string()),
            ("second".to_string(), "i32:-1".to_string())
        ]
    );
}

/// A module whose `_start` makes two `fd_write`s to stdout, of `first`
/// bytes then of 8, and exports what the guest learnt from each: its errno
/// and the count it was told (-1 if none was written back).
fn writes_past_the_limit(first: u32) -> Vec<u8> {
    let pages = (first + 64) / 65536 + 1;
    wat::parse_str(format!(
        r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") {pages})
        (global $e1 (export "errno1") (mut i32) (i32.const -1))
        (global $n1 (export "written1") (mut i32) (i32.const -1))
        (global $e2 (export "errno2") (mut i32) (i32.const -1))
        (global $n2 (export "written2") (mut i32) (i32.const -1))
        (func (export "_start")
          ;; iovecs {{32, first}} at 0 and {{32, 8}} at 8; the count at 16
          (i32.store (i32.const 0) (i32.const 32))
          (i32.store (i32.const 4) (i32.const {first}))
          (i32.store (i32.const 8) (i32.const 32))
          (i32.store (i32.const 12) (i32.const 8))
          (i32.store (i32.const 16) (i32.const -1))
          (global.set $e1 (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
          (global.set $n1 (i32.load (i32.const 16)))
          (i32.store (i32.const 16) (i32.const -1))
          (global.set $e2 (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))
          (global.set $n2 (i32.load (i32.const 16)))))"#
    ))
    .expect("valid test module")
}

/// The exported globals of [`writes_past_the_limit`] after `_start` in an
/// embedding built from `config` on `backend` (as a user would: the
/// crate's linker, the Store limits), rendered as the audit renders them.
fn embedded_answers(wasm: &[u8], config: &DeterminismConfig, backend: Backend) -> Vec<String> {
    use deterministic_wasi_ctx::engine;
    use wasmtime::{Linker, Module, Store};
    struct Host<C> {
        ctx: C,
        limits: engine::DeterministicLimits,
    }
    fn run<C: 'static>(
        wasm: &[u8],
        ctx: C,
        link: impl FnOnce(&mut Linker<Host<C>>) -> wasmtime::Result<()>,
    ) -> Vec<String> {
        let engine = engine::deterministic_engine().expect("engine");
        let mut linker = Linker::new(&engine);
        link(&mut linker).expect("link");
        let limits = engine::store_limits();
        let mut store = Store::new(&engine, Host { ctx, limits });
        store.limiter(|h| &mut h.limits);
        store.set_fuel(1_000_000).expect("fuel");
        let module = Module::new(&engine, wasm).expect("module");
        let instance = linker.instantiate(&mut store, &module).expect("instance");
        instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .and_then(|f| f.call(&mut store, ()))
            .expect("runs to the end");
        ["errno1", "written1", "errno2", "written2"]
            .iter()
            .map(|name| {
                let global = instance.get_global(&mut store, name).expect("global");
                format!("{name}=i32:{}", global.get(&mut store).unwrap_i32())
            })
            .collect()
    }
    match backend {
        Backend::WasmtimeWasi => run(wasm, config.build_p1(), |l| {
            deterministic_wasi_ctx::p1::add_to_linker_sync(l, |h| &mut h.ctx)
        }),
        #[cfg(feature = "wasi-common")]
        Backend::WasiCommon => run(wasm, config.build_wasi_common(), |l| {
            deterministic_wasi_ctx::common::add_to_linker_sync(l, |h| &mut h.ctx)
        }),
    }
}

/// The same globals from the audit's first run.
fn audited_answers(wasm: &[u8], config: &DeterminismConfig, backend: Backend) -> Vec<String> {
    let audit_config = AuditConfig {
        runs: 2,
        backends: vec![backend],
        spec: RunSpec {
            config: config.clone(),
            ..AuditConfig::default().spec
        },
        ..AuditConfig::default()
    };
    let report = audit::audit(wasm, &audit_config).expect("audit");
    assert_eq!(report.verdict(), Verdict::Deterministic);
    report
        .outcome
        .globals
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect()
}

/// The audit runs what the embedder runs: a guest writing past the output
/// limit gets the same answers in the default embedding (output discarded)
/// and under the audit (output captured), with the default limit of 16 MiB
/// and with a configured one, on both preview1 backends: the first write
/// fits (errno 0, all counted), the second keeps 4 of its 8 bytes and
/// answers EIO (29) without a count.
#[test]
fn a_guest_writing_past_the_output_limit_sees_the_same_answers_embedded_and_audited() {
    let default_limit = 16 << 20;
    let cases = [
        (DeterminismConfig::new(), default_limit),
        (DeterminismConfig::new().output_limit(100), 100),
    ];
    for (config, limit) in cases {
        let first = limit - 4;
        let wasm = writes_past_the_limit(first as u32);
        let expected = vec![
            "errno1=i32:0".to_string(),
            format!("written1=i32:{first}"),
            "errno2=i32:29".to_string(),
            "written2=i32:-1".to_string(),
        ];
        for backend in BACKENDS {
            let embedded = embedded_answers(&wasm, &config, backend);
            assert_eq!(embedded, expected, "embedded, {backend:?}, limit {limit}");
            let audited = audited_answers(&wasm, &config, backend);
            assert_eq!(audited, expected, "audited, {backend:?}, limit {limit}");
        }
    }
}

/// Issue 26: a guest that passes 1,000 iovecs of 16 MiB to `fd_read` on empty
/// stdin stalled the auditor (the tracer recorded, and hashed, every iovec as
/// written though the call read nothing). The tracer now records what each
/// call wrote, where it wrote it: the 4-byte `nread`, three times a run.
#[test]
fn fd_read_of_nothing_into_huge_iovecs_records_only_nread() {
    let path = Path::new(REPO).join("tests/wat/fd_read_empty_stdin_huge_iovecs.wat");
    let config = AuditConfig {
        runs: 2,
        ..AuditConfig::default()
    };
    let recorded = |report: &audit::Report| -> u64 {
        report
            .outcome
            .events
            .iter()
            .flat_map(|call| &call.writes)
            .map(|write| match write {
                deterministic_wasi_ctx::trace::Write::Bytes { len, .. } => u64::from(*len),
                deterministic_wasi_ctx::trace::Write::MemoryDigest(_) => u64::MAX,
            })
            .fold(0, u64::saturating_add)
    };
    let report = audit::audit(&wasm(&path), &config).expect("audit");
    assert_eq!(report.verdict(), Verdict::Deterministic);
    assert_eq!(report.outcome.events.len(), 3);
    assert_eq!(recorded(&report), 3 * 4, "{:#?}", report.outcome.events);
    for run in &report.runs {
        for event in &run.1.events {
            assert!(
                event.ends_with("-> 0, wrote 4 bytes @0x10: 00 00 00 00"),
                "{event}"
            );
        }
    }
    // Stock wasmtime-wasi's `fd_read` is recorded from the tracer's table,
    // which walks the iovecs only as far as `nread` covers.
    let mut stock = config.clone();
    stock.spec.stock = true;
    let report = audit::audit(&wasm(&path), &stock).expect("stock audit");
    assert!(recorded(&report) <= 3 * 4, "{:#?}", report.outcome.events);
}
