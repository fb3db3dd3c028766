//! The fuzz targets on stable Rust: a seeded smoke run of each target and a
//! replay of its committed corpus (`corpus/<target>/`).

use deterministic_wasi_ctx::audit::{Backend, Compiled, Strategy};
use deterministic_wasi_ctx_fuzz::*;

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

/// How many `p1_smith` executions make at least one host call (printed;
/// fails only if none does).
#[test]
fn p1_smith_host_call_share() {
    let inputs = seeded_inputs(0xca11, 100, 4096);
    let mut with = 0;
    let mut ran = 0;
    for data in &inputs {
        if let Ok(report) = p1_smith::run_report(&mut arbitrary::Unstructured::new(data)) {
            ran += 1;
            with += usize::from(report.host_calls > 0);
        }
    }
    eprintln!("p1_smith: {with}/{ran} executions made >= 1 host call");
    assert!(with > 0);
}
