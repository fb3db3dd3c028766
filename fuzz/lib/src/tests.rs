//! The fuzz targets on stable Rust: a seeded smoke run of each target and a
//! replay of its committed corpus (`corpus/<target>/`).

use crate::*;
use deterministic_wasi_ctx::audit::{Backend, Compiled, Strategy};

/// Every offered import exists on both backends, with the witx signature.
#[test]
fn every_offered_import_links_on_both_backends() {
    let engine = shared_engine(Strategy::Cranelift);
    let compiled = Compiled::new(engine, wasi_imports()).expect("import module compiles");
    for backend in [Backend::WasmtimeWasi, Backend::WasiCommon] {
        compiled
            .check_links(engine, backend)
            .unwrap_or_else(|e| panic!("{}: {e:?}", backend.name()));
    }
}

macro_rules! target_tests {
    ($target:ident, $smoke:ident, $replay:ident, $n:expr, $len:expr) => {
        #[test]
        fn $smoke() {
            let ran = test_n_times($n, 0x5eed_0000 + $n, $len, $target::run);
            eprintln!("{}: {ran}/{} inputs ran", stringify!($target), $n);
            assert!(ran > 0, "every seeded input was rejected");
        }

        #[test]
        fn $replay() {
            let files = replay_corpus(stringify!($target), $target::run);
            assert!(files > 0, "corpus/{} is empty", stringify!($target));
        }
    };
}

target_tests!(p1_smith, p1_smith_smoke, p1_smith_corpus, 40, 2048);
target_tests!(p1_script, p1_script_smoke, p1_script_corpus, 40, 512);
target_tests!(p2_script, p2_script_smoke, p2_script_corpus, 20, 512);
target_tests!(
    backend_diff,
    backend_diff_smoke,
    backend_diff_corpus,
    40,
    512
);
target_tests!(
    strategy_diff,
    strategy_diff_smoke,
    strategy_diff_corpus,
    20,
    2048
);
target_tests!(baseline, baseline_smoke, baseline_corpus, 20, 2048);
target_tests!(stock_diff, stock_diff_smoke, stock_diff_corpus, 300, 256);
target_tests!(fs_diff, fs_diff_smoke, fs_diff_corpus, 200, 512);
target_tests!(p2_fs, p2_fs_smoke, p2_fs_corpus, 60, 512);
target_tests!(p3_waits, p3_waits_smoke, p3_waits_corpus, 40, 256);
target_tests!(p3_fs, p3_fs_smoke, p3_fs_corpus, 60, 512);
#[cfg(feature = "p3-guests")]
target_tests!(p3_tasks, p3_tasks_smoke, p3_tasks_corpus, 40, 256);
target_tests!(replay_log, replay_log_smoke, replay_log_corpus, 100, 256);

/// With the WASI-call prelude ([`calls::add_calls`]) nearly every
/// `p1_smith` execution reaches a WASI function (without it: 10 of these
/// 100 inputs). Instantiation traps (a data segment out of bounds, say) are
/// the executions that make none. Some reach the preopened tree too: a
/// `path_*` call succeeds and a tree changes (5 of these 100; without the
/// preopens none can; `p1_smith_path_survey` measures the shares).
#[test]
fn p1_smith_host_call_share() {
    collect_stats();
    let inputs = seeded_inputs(0xca11, 100, 4096);
    let (mut with, mut ran, mut calls) = (0, 0, 0);
    let (mut path_ok, mut changed) = (0, 0);
    for data in &inputs {
        if let Ok(report) = p1_smith::run_report(&mut arbitrary::Unstructured::new(data)) {
            ran += 1;
            with += usize::from(report.host_calls > 0);
            calls += report.host_calls;
            let paths = last_path_use().expect("p1_smith records its path use");
            path_ok += usize::from(paths.succeeded);
            changed += usize::from(paths.changed);
        }
    }
    eprintln!(
        "p1_smith: {with}/{ran} executions made >= 1 host call, {calls} calls in all; {path_ok} a successful path_* call, {changed} changed a tree"
    );
    assert!(
        with * 10 >= ran * 9,
        "only {with}/{ran} executions called WASI"
    );
    assert!(
        path_ok > 0 && changed > 0,
        "{path_ok} executions had a path_* call succeed, {changed} changed a tree"
    );
}

/// `baseline` times the same work as `p1_smith` minus the checks: every
/// module `p1_smith` ran (it made host calls, so it was instantiated) is
/// instantiated by `baseline` too, whichever of the two snapshots it
/// imports from. (Before `baseline` linked `wasi_unstable`, none of them
/// did: wasm-smith picks from both snapshots' imports, and every one of
/// these 100 modules imports from `wasi_unstable`.)
#[test]
fn baseline_instantiates_every_module_p1_smith_runs() {
    let inputs = seeded_inputs(0xba5e, 100, 4096);
    let (mut ran, mut unstable) = (0, 0);
    for data in &inputs {
        let Ok(reference) = p1_smith::run_report(&mut arbitrary::Unstructured::new(data)) else {
            continue;
        };
        if reference.host_calls == 0 {
            continue;
        }
        let wasm = p1_smith::decode(&mut arbitrary::Unstructured::new(data))
            .unwrap()
            .wasm;
        let imports_unstable = wasmparser::Parser::new(0)
            .parse_all(&wasm)
            .filter_map(Result::ok)
            .any(|payload| match payload {
                wasmparser::Payload::ImportSection(section) => section
                    .into_imports()
                    .filter_map(Result::ok)
                    .any(|import| import.module == "wasi_unstable"),
                _ => false,
            });
        unstable += usize::from(imports_unstable);
        let instantiated = baseline::run_report(&mut arbitrary::Unstructured::new(data))
            .expect("baseline decodes what p1_smith decodes");
        if let Err(error) = instantiated {
            panic!(
                "baseline did not instantiate a module p1_smith ran: {error:?}\n{}",
                wat_of(&wasm)
            );
        }
        ran += 1;
    }
    eprintln!(
        "baseline instantiated all {ran} modules p1_smith ran ({unstable} import wasi_unstable)"
    );
    assert!(
        ran >= 80 && unstable > 0,
        "{ran} ran, {unstable} import wasi_unstable"
    );
}

/// The prelude stores [`calls::PATHS`] at [`calls::PATH_TABLE`] and the
/// long names at [`calls::LONG_NAMES`], the same bytes whatever the input,
/// even in a module that imports nothing.
#[test]
fn the_prelude_lays_out_the_path_table() {
    let wat = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;
    let table = calls::PATHS.concat().into_bytes();
    let start = calls::PATH_TABLE as usize;
    for byte in [0u8, 7, 0xff] {
        let bytes = [byte; 64];
        let (wasm, _) = calls::add_calls(
            &wat::parse_str(wat).unwrap(),
            &mut arbitrary::Unstructured::new(&bytes),
        )
        .unwrap();
        let engine = shared_engine(Strategy::Cranelift);
        let mut run_spec = spec(deterministic_wasi_ctx::DeterminismConfig::new());
        run_spec.keep_memory = true;
        let run =
            Compiled::new(engine, &wasm)
                .unwrap()
                .run(engine, Backend::WasmtimeWasi, &run_spec);
        assert_eq!(run.status, deterministic_wasi_ctx::audit::Status::Exited(0));
        let memory = run.memory.expect("kept memory");
        assert_eq!(
            String::from_utf8_lossy(&memory[start..start + table.len()]),
            String::from_utf8_lossy(&table),
            "input byte {byte:#x}"
        );
        let long = calls::LONG_NAMES as usize;
        let longest = calls::LONG_NAME_LENGTHS[3] as usize;
        assert!(
            memory[long..long + longest].iter().all(|&b| b == b'x'),
            "long names, input byte {byte:#x}"
        );
    }
}

/// `path_*` calls name table entries and the preopens: in modules importing
/// only calls that take no output pointer (so no misaligned one traps), most
/// path arguments are one of [`calls::PATHS`], most directory descriptors
/// are 3 or 4, and some calls succeed and change the tree.
#[test]
fn path_arguments_reach_the_preopened_tree() {
    let wasm = wat::parse_str(
        r#"(module
        (import "wasi_snapshot_preview1" "path_create_directory" (func (param i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_unlink_file" (func (param i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_rename" (func (param i32 i32 i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_symlink" (func (param i32 i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")))"#,
    )
    .unwrap();
    let entries: Vec<(i64, i64)> = calls::path_entries()
        .map(|(at, len)| (i64::from(at), i64::from(len)))
        .collect();
    // The (pointer, length) positions and directory positions of each call.
    let layout = |name: &str| -> (&[usize], &[usize]) {
        match name {
            "path_create_directory" | "path_unlink_file" => (&[1], &[0]),
            "path_rename" => (&[1, 4], &[0, 3]),
            "path_symlink" => (&[0, 3], &[2]),
            other => panic!("unexpected call {other}"),
        }
    };
    let config = ContextInput {
        seed: 1,
        policy: PolicyInput::Frozen,
        wall_start_nanos: 0,
        monotonic_start: 0,
    }
    .config();
    let engine = shared_engine(Strategy::Cranelift);
    let (mut paths, mut in_table, mut dirs, mut preopens) = (0, 0, 0, 0);
    let (mut succeeded, mut changed) = (0, 0);
    for data in seeded_inputs(0x9a7, 40, 256) {
        let (module, _) = calls::add_calls(&wasm, &mut arbitrary::Unstructured::new(&data))
            .expect("enough bytes");
        let outcome = Compiled::new(engine, &module).expect("compiles").run(
            engine,
            Backend::WasmtimeWasi,
            &spec(config.clone()),
        );
        for call in &outcome.events {
            let (path_params, dir_params) = layout(&call.name);
            for &p in path_params {
                paths += 1;
                in_table += usize::from(entries.contains(&(call.args[p], call.args[p + 1])));
            }
            for &d in dir_params {
                dirs += 1;
                preopens += usize::from(matches!(call.args[d], 3 | 4));
            }
        }
        let used = path_use(&outcome, &config);
        succeeded += usize::from(used.succeeded);
        changed += usize::from(used.changed);
    }
    eprintln!(
        "{in_table}/{paths} paths from the table, {preopens}/{dirs} directories 3 or 4; {succeeded}/40 runs had a call succeed, {changed} changed the tree"
    );
    // Expected: 3/4 of the paths, 9/10 of the directories.
    assert!(in_table * 3 >= paths * 2, "{in_table}/{paths}");
    assert!(preopens * 5 >= dirs * 4, "{preopens}/{dirs}");
    assert!(
        succeeded > 0 && changed > 0,
        "{succeeded} runs had a call succeed, {changed} changed the tree"
    );
}

/// How many `p1_smith` executions reach the preopened trees ([`PathUse`]):
/// the share with at least one `path_*` call, with a successful one, and
/// that changed a tree, over `N` seeded inputs of 4 KiB from `SEED`:
/// `N=2000 SEED=1 cargo test -p deterministic-wasi-ctx-fuzz --lib
/// p1_smith_path_survey -- --ignored --nocapture`. Ignored by default (a
/// measurement, about 20 ms an input); fails on any finding, naming the
/// input that panicked.
#[test]
#[ignore = "long survey run, see its docs"]
fn p1_smith_path_survey() {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (n, seed, len) = (
        var("N", 500) as usize,
        var("SEED", 1),
        var("LEN", 4096) as usize,
    );
    let survey = survey_p1_smith(n, seed, len);
    eprintln!("{survey}");
    assert!(survey.ran > 0, "every input was rejected");
}

/// Item 3 of the fuzz issue, on fixed seeded inputs of three lengths (1,024
/// bytes; 64 and 8, which the input continuation makes 256): at least half
/// of `p1_smith`'s executions make ten or more successful host calls, a
/// quarter a successful `path_*` call, a tenth change a preopened tree.
/// Before the well-formed calls (`calls::roles`) the figures were 7.7%
/// (fewer than one in ten), 6.7% and 5.3% on the 4,096-byte survey.
#[test]
fn p1_smith_runs_deep() {
    for len in [1024, 64, 8] {
        let s = survey_p1_smith(60, 7, len);
        eprintln!("{s}");
        assert!(s.ten_ok * 2 >= s.ran, "{s}");
        assert!(s.succeeded * 4 >= s.ran, "{s}");
        assert!(s.changed * 10 >= s.ran, "{s}");
    }
}

/// What [`survey_p1_smith`] counts.
struct Survey {
    n: usize,
    seed: u64,
    len: usize,
    ran: usize,
    with_calls: usize,
    calls: u64,
    ten_ok: usize,
    host_errors: usize,
    called: usize,
    succeeded: usize,
    changed: usize,
}

impl std::fmt::Display for Survey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = |k: usize| 100.0 * k as f64 / self.ran.max(1) as f64;
        write!(
            f,
            "p1_smith, {} inputs of {} bytes from seed {}: {} ran, {} made >= 1 host call ({:.1}%, {} calls in all), {} made >= 10 successful ones ({:.1}%), {} ended at a host error ({:.1}%: a call trapped); {} made >= 1 path_* call ({:.1}%), {} a successful one ({:.1}%), {} changed a preopened tree ({:.1}%)",
            self.n,
            self.len,
            self.seed,
            self.ran,
            self.with_calls,
            share(self.with_calls),
            self.calls,
            self.ten_ok,
            share(self.ten_ok),
            self.host_errors,
            share(self.host_errors),
            self.called,
            share(self.called),
            self.succeeded,
            share(self.succeeded),
            self.changed,
            share(self.changed)
        )
    }
}

/// Runs `p1_smith` on `n` seeded inputs of `len` bytes (read as the fuzzer
/// reads them, [`input::continued`]) and counts what they did; panics,
/// naming the input, on any finding.
fn survey_p1_smith(n: usize, seed: u64, len: usize) -> Survey {
    collect_stats();
    let mut s = Survey {
        n,
        seed,
        len,
        ran: 0,
        with_calls: 0,
        calls: 0,
        ten_ok: 0,
        host_errors: 0,
        called: 0,
        succeeded: 0,
        changed: 0,
    };
    for (i, data) in seeded_inputs(seed, n, len).iter().enumerate() {
        let result = std::panic::catch_unwind(|| {
            p1_smith::run_report(&mut arbitrary::Unstructured::new(&input::continued(data)))
        });
        match result {
            Ok(Ok(outcome)) => {
                let paths = last_path_use().expect("p1_smith records its path use");
                let ok = outcome
                    .events
                    .iter()
                    .filter(|call| {
                        matches!(&call.result, deterministic_wasi_ctx::trace::CallResult::Returned(v) if v.first() == Some(&0))
                    })
                    .count();
                s.ran += 1;
                s.with_calls += usize::from(outcome.host_calls > 0);
                s.calls += outcome.host_calls;
                s.ten_ok += usize::from(ok >= 10);
                s.host_errors += usize::from(matches!(
                    &outcome.status,
                    deterministic_wasi_ctx::audit::Status::Trapped { kind, .. }
                        if kind == deterministic_wasi_ctx::audit::Status::HOST_ERROR
                ));
                s.called += usize::from(paths.called);
                s.succeeded += usize::from(paths.succeeded);
                s.changed += usize::from(paths.changed);
            }
            Ok(Err(_)) => {}
            Err(panic) => {
                eprintln!("input #{i} of seeded_inputs({seed}, {n}, {len}) failed");
                std::panic::resume_unwind(panic);
            }
        }
    }
    s
}

/// The prelude is guarded by a flag in memory: a `_start` that re-enters
/// itself (here five times, by `return_call`) runs it once.
#[test]
fn the_prelude_runs_once_when_start_recurses() {
    use deterministic_wasi_ctx::audit::{self, AuditConfig};
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
        (memory (export "memory") 1)
        (global $n (mut i32) (i32.const 0))
        (func $start (export "_start")
            (global.set $n (i32.add (global.get $n) (i32.const 1)))
            (if (i32.lt_u (global.get $n) (i32.const 5)) (then (return_call $start)))))"#;
    let bytes = [7u8; 256];
    let (wasm, calls) = calls::add_calls(
        &wat::parse_str(wat).unwrap(),
        &mut arbitrary::Unstructured::new(&bytes),
    )
    .unwrap();
    assert!(calls > 1, "{calls}");
    let report = audit::audit(&wasm, &AuditConfig::default()).expect("audit");
    assert!(report.divergence.is_none());
    assert_eq!(report.outcome.host_calls, calls as u64);
}

/// The p1_smith check catches nondeterminism: under stock wasmtime-wasi
/// (host entropy) a module drawing 16 random bytes fails it, and the failure
/// names the first differing call (the digest-only runs are repeated with
/// the calls in full to find it).
/// A module whose `_start` reads 16 random bytes: under stock
/// wasmtime-wasi (host entropy) two runs differ at call #0.
fn random_get_once() -> Vec<u8> {
    wat::parse_str(
        r#"(module
        (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start") (drop (call $r (i32.const 0) (i32.const 16)))))"#,
    )
    .unwrap()
}

#[test]
fn check_fast_reports_stock_randomness_at_the_first_call() {
    let wasm = random_get_once();
    let mut stock = spec(deterministic_wasi_ctx::DeterminismConfig::new());
    stock.stock = true;
    let panic = std::panic::catch_unwind(|| {
        check_fast("test", &wasm, Backend::WasmtimeWasi, &stock, &"stock")
    })
    .expect_err("stock randomness must diverge");
    let message = panic
        .downcast_ref::<String>()
        .expect("panic message")
        .clone();
    assert!(
        message.contains("differs from run 0")
            && message.contains("call #0")
            && message.contains("random_get("),
        "{message}"
    );
    // The same module under the deterministic context passes.
    let outcome = check_fast(
        "test",
        &wasm,
        Backend::WasmtimeWasi,
        &spec(deterministic_wasi_ctx::DeterminismConfig::new()),
        &"deterministic",
    );
    assert_eq!(outcome.host_calls, 1);
}

/// `strategy_diff`'s fast check still tells a nondeterministic context
/// apart: under stock wasmtime-wasi (host entropy) the two backends'
/// and strategies' runs differ at the first `random_get`.
#[test]
fn strategy_diff_fast_check_reports_stock_randomness() {
    let wasm = random_get_once();
    let mut stock = crate::spec(deterministic_wasi_ctx::DeterminismConfig::new());
    stock.stock = true;
    let run = |spec: &deterministic_wasi_ctx::audit::RunSpec| {
        crate::check_fast_on(
            "test",
            &wasm,
            &[Backend::WasmtimeWasi],
            &[Strategy::Cranelift, Strategy::Pulley],
            1,
            spec,
            &"input",
        )
    };
    let panic = std::panic::catch_unwind(|| run(&stock)).expect_err("stock must diverge");
    let message = panic.downcast_ref::<String>().expect("message").clone();
    assert!(
        message.contains("call #0") && message.contains("random_get("),
        "{message}"
    );
    let outcome = run(&crate::spec(
        deterministic_wasi_ctx::DeterminismConfig::new(),
    ));
    assert_eq!(outcome.host_calls, 1);
}

/// p1_script's model check decodes results from the run's kept memory and
/// catches a wrong byte: the real results pass, one flipped random byte or
/// a clock read moved back by 1 ns fails.
#[test]
fn p1_script_model_rejects_a_changed_result() {
    use deterministic_wasi_ctx::script::{Op, Output, Script};
    let input = p1_script::ScriptInput {
        context: ContextInput {
            seed: 7,
            policy: PolicyInput::Frozen,
            wall_start_nanos: 1_000,
            monotonic_start: 5_000,
        },
        wasi_common: false,
        script: Script {
            ops: vec![
                Op::RandomGet { len: 4 },
                Op::ClockTimeGet {
                    id: 1,
                    precision: 0,
                },
            ],
        },
    };
    p1_script::check(&input);
    let compiled = input.script.compile();
    let (run, results) = p1_script::run_on(&input, &compiled, &[Backend::WasmtimeWasi])
        .pop()
        .expect("one run");
    assert_eq!(run.status, deterministic_wasi_ctx::audit::Status::Exited(0));
    let ops = input.script.ops.clone();
    p1_script::check_results(&input, &ops, &results).expect("the real results pass");
    let mut flipped = results.clone();
    let Output::Bytes(bytes) = &mut flipped[0].output else {
        panic!("random_get result: {:?}", flipped[0]);
    };
    bytes[2] ^= 1;
    let error = p1_script::check_results(&input, &ops, &flipped).expect_err("a flipped byte");
    assert!(error.contains("op #0"), "{error}");
    let mut earlier = results;
    let Output::Time(t) = &mut earlier[1].output else {
        panic!("clock result: {:?}", earlier[1]);
    };
    *t -= 1;
    let error = p1_script::check_results(&input, &ops, &earlier).expect_err("a moved clock");
    assert!(error.contains("op #1"), "{error}");
}

/// A replay fails when an input no longer reaches what it was saved for,
/// no longer decodes, or the corpus gained or lost a file.
#[test]
fn a_stale_corpus_fails_its_replay() {
    let manifest = "a ran 3\nb ran 0\nc rejected\n";
    assert!(compare_manifest(manifest, manifest).is_ok());
    assert!(compare_manifest(manifest, "a ran 2\nb ran 0\nc rejected\n").is_err());
    assert!(compare_manifest(manifest, "a ran 3\nb rejected\nc rejected\n").is_err());
    assert!(compare_manifest(manifest, "a ran 3\nb ran 0\n").is_err());
}

/// Found by `stock_diff` (corpus/stock_diff/7c1f02a6…): reading 0 bytes
/// (stdin at its end) into a non-empty iovec whose buffer is out of bounds
/// succeeds in stock wasmtime-wasi (wiggle copies nothing and checks
/// nothing); the crate trapped.
#[test]
fn stock_diff_empty_read_into_an_out_of_bounds_buffer() {
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../corpus/stock_diff/7c1f02a668c221583cfd29c26b29372b549ee080"),
    )
    .expect("committed input");
    let mut u = arbitrary::Unstructured::new(&data);
    let input = stock_diff::input(&mut u).expect("decodes");
    assert!(
        input.stdin.is_empty(),
        "stdin must be at its end: {input:?}"
    );
    assert!(
        input
            .calls
            .iter()
            .any(|c| P1_FUNCTIONS[c.function].0 == "fd_read"),
        "{input:?}"
    );
    stock_diff::check(&input);
}

/// A longer `fs_diff` run that reports every kind of difference it meets
/// (one example each) instead of stopping at the first, then fails if there
/// was any: `N=6000 SEED=99 cargo test -p deterministic-wasi-ctx-fuzz --lib
/// fs_diff_survey -- --ignored --nocapture`. Ignored by default: it is the
/// tool for a session fixing differences, not part of every run.
#[test]
#[ignore = "long survey run, see its docs"]
fn fs_diff_survey() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let seen = survey(seed, n, 512, fs_diff::run);
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "fs_diff survey: {n} inputs (seed {seed}, 512 bytes), {} executions compared with stock, {} host calls, {} kinds",
        load(&EXECUTIONS),
        load(&HOST_CALLS),
        seen.len()
    );
    assert!(seen.is_empty(), "{} kinds of difference", seen.len());
}

/// The `fs_diff` oracle is not vacuous: stock given a tree whose file `a`
/// differs in one byte makes the comparison fail at the read.
#[test]
fn fs_diff_catches_a_different_tree() {
    let input = fs_diff::read_of_a();
    assert_eq!(
        fs_diff::reported_difference(&input, &fs_diff::config(&input.contents)),
        None
    );
    let message = fs_diff::reported_difference(&input, &fs_diff::config(b"jello"))
        .expect("a different tree must be reported");
    assert!(message.contains("call 1 differs"), "{message}");
}

/// The binary an `fs_diff` script compiles to (encoded directly, not
/// parsed from text: `CompiledFsScript::wasm`) is the module its text
/// describes: byte for byte what `wat` makes of the text, but for the name
/// section, on 300 seeded inputs (every call kind, long paths, all data).
#[test]
fn fs_script_binary_is_its_text() {
    let mut checked = 0;
    for data in seeded_inputs(30, 300, 512) {
        let data = input::continued(&data);
        let Ok(input) = fs_diff::input(&mut arbitrary::Unstructured::new(&data)) else {
            continue;
        };
        let compiled = input.script.compile();
        let from_text = wat::parse_str(compiled.wat()).expect("the text parses");
        assert!(
            without_custom_sections(&from_text) == compiled.wasm(),
            "the binary differs from the text:\n{}",
            compiled.wat()
        );
        checked += 1;
    }
    assert!(checked >= 250, "only {checked} inputs decoded");
}

/// `fs_diff`'s interpreter (compiled once, the script on stdin) runs a
/// script as the script's own module does: on every committed `fs_diff`
/// input and 100 seeded ones, the crate's runs give the same results
/// (every call's, unmasked), the same status and number of script calls,
/// and trees with the same digests (metadata included); stock's give the
/// same masked results, status and tree shapes. One run of each way is
/// compared for stock, whose host copy is fresh every run.
#[test]
fn interpreted_and_compiled_scripts_agree() {
    let mut inputs = committed_inputs("fs_diff");
    inputs.extend(seeded_inputs(0x1e7, 100, 512));
    let mut compared = 0;
    for data in &inputs {
        let data = input::continued(data);
        let Ok(input) = fs_diff::input(&mut arbitrary::Unstructured::new(&data)) else {
            continue;
        };
        if let Err(difference) = interpreter_difference(&input, |_| {}) {
            panic!("{difference}");
        }
        compared += 1;
    }
    assert!(compared >= 100, "only {compared} inputs decoded");
}

/// With stock's host copies kept and reset between runs (what the
/// libFuzzer shim's `fs_diff::init` turns on), every committed `fs_diff`
/// input and 150 seeded ones, run one after another so that each run's
/// copies are the last run's changed ones, still answer as the crate does
/// (`fs_diff::check`: every masked result, the status, the final trees'
/// shapes).
#[test]
fn fs_diff_on_kept_copies_answers_as_on_fresh_ones() {
    let checked = on_kept_copies("fs_diff", 150, fs_diff::run);
    assert!(checked >= 100, "only {checked} inputs decoded");
}

/// `p3_fs` as [`fs_diff_on_kept_copies_answers_as_on_fresh_ones`] runs
/// `fs_diff`: every committed input and 60 seeded ones, one after another
/// on kept copies, answer as the crate does (operation by operation,
/// final tree).
#[test]
fn p3_fs_on_kept_copies_answers_as_on_fresh_ones() {
    let checked = on_kept_copies("p3_fs", 60, p3_fs::run);
    assert!(checked >= 100, "only {checked} inputs decoded");
}

/// `p2_fs` as [`fs_diff_on_kept_copies_answers_as_on_fresh_ones`] runs
/// `fs_diff`: every committed input and 30 seeded ones, one after another
/// on kept copies, answer as the crate does (answers without `meta`
/// lines, final tree).
#[test]
fn p2_fs_on_kept_copies_answers_as_on_fresh_ones() {
    let checked = on_kept_copies("p2_fs", 30, p2_fs::run);
    assert!(checked >= 80, "only {checked} inputs decoded");
}

/// The contents of every file in `corpus/<target>/`.
fn committed_inputs(target: &str) -> Vec<Vec<u8>> {
    let dir = seeds::committed_seeds(target);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect()
}

/// Runs the committed inputs of `target` and `seeded` more (512 bytes
/// each) with stock's host copies kept and reset between runs, and
/// returns how many decoded (a difference panics).
fn on_kept_copies(
    target: &str,
    seeded: usize,
    run: fn(&mut arbitrary::Unstructured) -> arbitrary::Result<()>,
) -> usize {
    let mut inputs = committed_inputs(target);
    inputs.extend(seeded_inputs(0x6e5e7, seeded, 512));
    deterministic_wasi_ctx::audit::reuse_stock_copies(true);
    let checked = std::panic::catch_unwind(|| {
        let mut checked = 0;
        for data in &inputs {
            let data = input::continued(data);
            if run(&mut arbitrary::Unstructured::new(&data)).is_ok() {
                checked += 1;
            }
        }
        checked
    });
    deterministic_wasi_ctx::audit::reuse_stock_copies(false);
    deterministic_wasi_ctx::audit::remove_kept_stock_copies();
    checked.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The comparison of [`interpreted_and_compiled_scripts_agree`] reports
/// an interpreter given another argument: `fs_diff::read_of_a` with its
/// read's descriptor changed in the table reads nothing.
#[test]
fn the_interpreter_comparison_catches_another_argument() {
    let input = fs_diff::read_of_a();
    assert_eq!(interpreter_difference(&input, |_| {}), Ok(()));
    // The second call's first argument (fd 5), at 0x10 + 80 + 8.
    let difference = interpreter_difference(&input, |stdin| stdin[0x10 + 80 + 8] = 6)
        .expect_err("a read of another descriptor is reported");
    assert!(
        difference.contains("differs from the module's"),
        "{difference}"
    );
}

/// Runs `input` by the interpreter (its stdin changed by `edit`) and by
/// its own module, under the crate and under stock, and describes the
/// first way they differ.
fn interpreter_difference(
    input: &fs_diff::Input,
    edit: impl Fn(&mut Vec<u8>),
) -> Result<(), String> {
    use deterministic_wasi_ctx::audit::{Outcome, RunSpec, Status};
    let engine = shared_engine(Strategy::Cranelift);
    let status = |o: &Outcome, calls: u64| match &o.status {
        Status::Trapped { kind, .. } => format!("trap {kind} after {calls} script calls"),
        other => other.to_string(),
    };
    let script = input.script.compile();
    let interpreted = match fs_diff::Runnable::of(&script) {
        fs_diff::Runnable::Interpreted(compiled, mut stdin) => {
            edit(&mut stdin);
            fs_diff::Runnable::Interpreted(compiled, stdin)
        }
        fs_diff::Runnable::Compiled(_) => return Err("not interpreted".into()),
    };
    let own = fs_diff::Runnable::Compiled(Compiled::new(engine, &script.wasm()).expect("compiles"));
    for stock in [false, true] {
        let run = |way: &fs_diff::Runnable| {
            let spec = RunSpec {
                stock,
                keep_memory: true,
                writes_from_signatures: false,
                replay: None,
                ..spec(way.stdin(&fs_diff::config(&input.contents)))
            };
            let outcome = way.module().run(engine, Backend::WasmtimeWasi, &spec);
            let calls = way.script_calls(&outcome);
            let results: Vec<_> = script
                .results(outcome.memory.as_deref().unwrap_or_default())
                .into_iter()
                .zip(script.ops())
                .map(|(r, op)| if stock { r.masked(op) } else { r })
                .collect();
            let trees: Vec<_> = outcome
                .filesystems
                .iter()
                .map(|(path, tree)| {
                    if stock {
                        (path.clone(), format!("{:?}", fs_diff::shape(tree)))
                    } else {
                        (
                            path.clone(),
                            deterministic_wasi_ctx::audit::hex(&tree.digest()),
                        )
                    }
                })
                .collect();
            (status(&outcome, calls), calls, results, trees)
        };
        let (a, b) = (run(&interpreted), run(&own));
        if a != b {
            return Err(format!(
                "stock {stock}: the interpreter's run differs from the module's\n  interpreted: {a:?}\n  compiled: {b:?}\n{}",
                script.wat()
            ));
        }
    }
    Ok(())
}

/// `wasm` without its custom sections (id 0: the text's names).
fn without_custom_sections(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    let mut rest = &wasm[8..];
    while let Some((&id, after)) = rest.split_first() {
        let (mut size, mut shift, mut used) = (0usize, 0, 0);
        for &byte in after {
            size |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            used += 1;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let end = 1 + used + size;
        if id != 0 {
            out.extend_from_slice(&rest[..end]);
        }
        rest = &rest[end..];
    }
    out
}

/// Stock wasmtime-wasi 46 answers as the crate does (on every wasmtime)
/// the calls whose answers stock 50 changed: `adapters/versions` checks
/// that stock 50 still makes each listed difference.
#[test]
fn fs_diff_stock_46_answers_as_the_crate_where_stock_50_differs() {
    assert_eq!(fs_diff::check(&fs_diff::stock_50_differences()), 0);
}

/// Found by `fs_diff` (corpus/fs_diff/7414329e…): a write at a position
/// past ext4's largest file size is `EFBIG` on the host (the tree said
/// `ENOSPC`); the tree now has that limit too (`fs::MAX_FILE_SIZE`).
#[test]
fn fs_diff_write_past_the_largest_file_is_efbig() {
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../corpus/fs_diff/7414329e5ec1aebd3f9aa3855c8c53f5f5f3a6e6"),
    )
    .expect("corpus file");
    let input = fs_diff::input(&mut arbitrary::Unstructured::new(&data)).expect("decodes");
    fs_diff::check(&input);
}

/// A script on `fs_diff`'s tree, compared with stock by [`fs_diff::check`].
fn fs_diff_script(ops: Vec<deterministic_wasi_ctx::script::fs::FsOp>) {
    fs_diff::check(&fs_diff::Input {
        contents: b"hello".to_vec(),
        script: deterministic_wasi_ctx::script::fs::FsScript { ops },
    });
}

/// `path_filestat_set_times` with no flags at all (no follow, no time).
fn set_no_times(path: &[u8]) -> deterministic_wasi_ctx::script::fs::FsOp {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
    FsOp::PathFilestatSetTimes {
        dir: Fd(3),
        follow: false,
        path: FsPath(path.to_vec()),
        atim: 0,
        mtim: 0,
        fst: 0,
    }
}

/// A name of `n` bytes.
fn long_name(n: usize) -> Vec<u8> {
    vec![b'n'; n]
}

/// Regression (issue 26, held-out generator): `path_filestat_set_times`
/// with no-follow and no time flags on a file named with a trailing `/`
/// is `ENOTDIR` in stock (cap-std opens the whole path as the directory
/// before its `utimensat`); the crate answered 0, resolving only the
/// parent. Caught with the old `check_parent` restored: call 0 (`a/`)
/// differs (stock 54, crate 0).
#[test]
fn fs_diff_set_no_times_nofollow_on_a_file_with_a_trailing_slash_is_enotdir() {
    fs_diff_script(
        [
            &b"a/"[..],
            b"a/.",
            b"link/",
            b"b/c.txt/",
            b"b/",
            b"dlink/",
            b"b/d/.",
        ]
        .into_iter()
        .map(set_no_times)
        .collect(),
    );
}

/// Regression (issue 26): the same call on a 300-byte name is no error in
/// stock (the kernel returns before looking the name up when nothing
/// changes); the crate answered `ENAMETOOLONG`. Caught with the old
/// `check_parent` restored: call 4 (the 256-byte name) differs (stock 0,
/// crate 37).
#[test]
fn fs_diff_set_no_times_nofollow_on_a_300_byte_name_is_no_error() {
    let mut paths = Vec::new();
    for n in [255, 256, 300, 4095, 4096] {
        paths.push(long_name(n));
        paths.push([&b"b/"[..], &long_name(n)].concat());
        paths.push([&b"missing/"[..], &long_name(n)].concat());
        paths.push([&long_name(n)[..], b"/x"].concat());
    }
    fs_diff_script(paths.iter().map(|p| set_no_times(p)).collect());
}

/// Regression (issue 26): `fd_pwrite` at 2^31 succeeds in stock with a
/// sparse file; the crate answered `ENOSPC`, counting the hole against its
/// byte limit. Holes now store nothing (`fs::FileContent`). Also sizes,
/// reads and seeks around 2^31, 2^32 and 2^40, and the final tree (a
/// 1 TiB sparse file). Caught with every gap stored as zeros (the old
/// behaviour): call 2 differs (stock 0 and 5 bytes, crate 51).
#[test]
fn fs_diff_pwrite_at_2_31_makes_a_sparse_file() {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
    let f = Fd(5);
    let pwrite = |offset: u64| FsOp::FdPwrite {
        fd: f,
        data: b"world".to_vec(),
        offset,
    };
    let pread = |offset: u64| FsOp::FdPread {
        fd: f,
        len: 16,
        offset,
    };
    fs_diff_script(vec![
        FsOp::PathOpen {
            dir: Fd(3),
            follow: true,
            path: FsPath::new("a"),
            oflags: 0,
            read: true,
            write: true,
            fdflags: 0,
        },
        pread(1 << 31),
        pwrite(1 << 31),
        pread((1 << 31) - 3),
        FsOp::FdFilestatGet { fd: f },
        pwrite((1 << 32) - 2),
        pread((1 << 32) - 4),
        FsOp::FdSeek {
            fd: f,
            offset: 1 << 40,
            whence: 0,
        },
        FsOp::FdWrite {
            fd: f,
            data: b"!".to_vec(),
        },
        FsOp::FdFilestatGet { fd: f },
        FsOp::FdFilestatSetSize {
            fd: f,
            size: (1 << 40) + 3,
        },
        pread(1 << 40),
        FsOp::FdFilestatSetSize {
            fd: f,
            size: (1 << 31) + 2,
        },
        pread((1 << 31) - 1),
        FsOp::FdFilestatSetSize {
            fd: f,
            size: 1 << 40,
        },
    ]);
}

/// Regression (issue 26): in a two-path call a NUL byte in the new path's
/// last name is `EINVAL` in stock before the old name is looked up (both
/// become C strings before `renameat`/`linkat`); the crate answered from
/// the old path (`ENOENT`, `EBUSY`, `ENAMETOOLONG`). The order is written
/// once in `FsTree::two_paths`. Caught with the old order restored (the
/// old name's checks and lookup first): call 1, `path_link("missing",
/// "x\0y")`, differs (stock 28, crate 44).
#[test]
fn fs_diff_two_paths_nul_in_the_new_name_wins_over_the_old_path() {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
    let olds: Vec<Vec<u8>> = vec![
        b"missing".to_vec(),
        b".".to_vec(),
        b"b/..".to_vec(),
        long_name(300),
        long_name(4096),
        b"a/".to_vec(),
        b"b/c.txt/".to_vec(),
        b"x\0y".to_vec(),
    ];
    let news: Vec<Vec<u8>> = vec![
        b"x\0y".to_vec(),
        b"b/x\0y".to_vec(),
        b"missing/x\0y".to_vec(),
        long_name(300),
        long_name(4096),
        b"b/..".to_vec(),
    ];
    let mut ops = Vec::new();
    for old in &olds {
        for new in &news {
            ops.push(FsOp::PathRename {
                from_dir: Fd(3),
                from: FsPath(old.clone()),
                to_dir: Fd(3),
                to: FsPath(new.clone()),
            });
            ops.push(FsOp::PathLink {
                from_dir: Fd(3),
                follow: false,
                from: FsPath(old.clone()),
                to_dir: Fd(3),
                to: FsPath(new.clone()),
            });
        }
    }
    for chunk in ops.chunks(24) {
        fs_diff_script(chunk.to_vec());
    }
}

/// Found by the widened `fs_diff` survey: `path_symlink` with a NUL byte
/// in its target and a target or name of 4096 bytes or more is `EINVAL`
/// in stock (rustix makes both C strings before the kernel copies them
/// in); the crate checked the target's length first (`ENAMETOOLONG`).
/// Caught with the old order: call 0 differs (stock 28, crate 37).
#[test]
fn fs_diff_symlink_nul_in_the_target_wins_over_its_length() {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
    let long_target = [&b"x\0y//"[..], &long_name(4096), b"/d"].concat();
    let mut ops = Vec::new();
    for (target, path) in [
        (long_target.clone(), long_name(4096)),
        (long_target, b"new".to_vec()),
        (long_name(4096), b"x\0y".to_vec()),
        (long_name(4096), long_name(300)),
        (b"a".to_vec(), long_name(4096)),
        (b"a\0".to_vec(), b"missing/new".to_vec()),
    ] {
        ops.push(FsOp::PathSymlink {
            target: FsPath(target),
            dir: Fd(3),
            path: FsPath(path),
        });
    }
    fs_diff_script(ops);
}

/// Regression (issue 26): `path_rename` of a 300-byte name onto `dir/..`
/// is `EBUSY` in stock (the kernel refuses `.` and `..` before looking
/// either name up); the crate answered `ENAMETOOLONG`. Caught with the
/// old order restored: call 0 differs (stock 10, crate 37).
#[test]
fn fs_diff_rename_of_a_long_name_onto_dotdot_is_ebusy() {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
    let mut ops = Vec::new();
    for (old, new) in [
        (long_name(300), b"b/..".to_vec()),
        (long_name(300), b"b/.".to_vec()),
        (long_name(256), b"b/d/..".to_vec()),
        (b"b/..".to_vec(), long_name(300)),
        (b"missing".to_vec(), b"b/..".to_vec()),
        (b"b/.".to_vec(), b"missing/x".to_vec()),
        (long_name(300), b"missing".to_vec()),
        (b"missing".to_vec(), long_name(300)),
    ] {
        ops.push(FsOp::PathRename {
            from_dir: Fd(3),
            from: FsPath(old),
            to_dir: Fd(3),
            to: FsPath(new),
        });
    }
    fs_diff_script(ops);
}

/// Regression (found by the preview2 differential test): a positioned read
/// or write that would end past `i64::MAX` is `EINVAL` on Linux
/// (`rw_verify_area`), after the descriptor's mode is checked; the crate
/// answered a read there with 0 bytes. The script generator now keeps
/// offsets in the last 64 KiB below `i64::MAX` as given.
#[test]
fn fs_diff_positioned_io_ending_past_i64_max() {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath, FsScript};
    let open = |write| FsOp::PathOpen {
        dir: Fd(3),
        follow: true,
        path: FsPath::new("a"),
        oflags: 0,
        read: true,
        write,
        fdflags: 0,
    };
    let near = i64::MAX as u64 - 4;
    let input = fs_diff::Input {
        contents: b"hello".to_vec(),
        script: FsScript {
            ops: vec![
                open(false),
                FsOp::FdPread {
                    fd: Fd(5),
                    len: 16,
                    offset: near,
                },
                FsOp::FdPread {
                    fd: Fd(5),
                    len: 4,
                    offset: near,
                },
                FsOp::FdPwrite {
                    fd: Fd(5),
                    data: b"xyzxyz".to_vec(),
                    offset: near,
                },
                open(true),
                FsOp::FdPwrite {
                    fd: Fd(6),
                    data: b"xyzxyz".to_vec(),
                    offset: near,
                },
                FsOp::FdPwrite {
                    fd: Fd(6),
                    data: b"xy".to_vec(),
                    offset: near,
                },
            ],
        },
    };
    fs_diff::check(&input);
}

/// `proc_exit` is served by stock's rules, so a run that ends in it is
/// compared with stock wasmtime-wasi (every status kind, both snapshots,
/// after a write to stdout).
#[test]
fn stock_diff_compares_proc_exit_with_stock() {
    let index = |name: &str| {
        P1_FUNCTIONS
            .iter()
            .position(|f| f.0 == name)
            .expect("a preview1 function")
    };
    for preview0 in [false, true] {
        for status in [0, 3, 125, 126, -1] {
            let input = stock_diff::Input {
                calls: vec![
                    stock_diff::Call {
                        function: index("fd_write"),
                        preview0,
                        args: vec![1, 0, 1, 24],
                    },
                    stock_diff::Call {
                        function: index("proc_exit"),
                        preview0,
                        args: vec![status],
                    },
                ],
                args: Vec::new(),
                env: Vec::new(),
                stdin: Vec::new(),
                output_limit: 64,
            };
            stock_diff::check(&input);
        }
    }
}

/// Regression (`p3_fs`'s first runs): a directory removed while open.
/// Creating a 256-byte name in it is `ENOENT` in stock (Linux finds the
/// removal before the name's length; the crate said `ENAMETOOLONG`), and
/// listing it gives `.` and `..` only (stock's directory reader ends at
/// the kernel's `ENOENT`; the crate said `ENOENT`).
#[test]
fn fs_diff_a_removed_directory_lists_empty_and_has_no_names() {
    use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
    let d = Fd(5);
    fs_diff_script(vec![
        FsOp::PathOpen {
            dir: Fd(3),
            follow: false,
            path: FsPath::new("b/d"),
            oflags: 2,
            read: true,
            write: false,
            fdflags: 0,
        },
        FsOp::PathRemoveDirectory {
            dir: Fd(3),
            path: FsPath::new("b/d"),
        },
        FsOp::PathCreateDirectory {
            dir: d,
            path: FsPath(long_name(256)),
        },
        FsOp::PathCreateDirectory {
            dir: d,
            path: FsPath::new("x"),
        },
        FsOp::FdReaddir {
            fd: d,
            len: 256,
            cookie: 0,
        },
    ]);
}
