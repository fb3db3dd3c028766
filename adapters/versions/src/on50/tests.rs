//! The differentials against stock wasmtime-wasi 50 on stable inputs: the
//! committed seeds of `stock_diff` and `fs_diff` (each still making the
//! host calls its manifest records, now on wasmtime 50), seeded inputs, and
//! a difference put in on purpose, which must be found.

use super::*;
use dwc50::audit::Backend;

#[test]
fn wasmtime_50_has_only_wasmtime_wasi() {
    assert_eq!(Backend::ALL, &[Backend::WasmtimeWasi]);
}

#[test]
fn stock_diff_seeds_agree_with_stock_50() {
    let files = fuzz::replay_corpus("stock_diff", stock_diff::run);
    assert!(files > 0, "corpus/stock_diff is empty");
}

#[test]
fn fs_diff_seeds_agree_with_stock_50() {
    let files = fuzz::replay_corpus("fs_diff", fs_diff::run);
    assert!(files > 0, "corpus/fs_diff is empty");
}

#[test]
fn stock_diff_smoke_on_50() {
    let ran = fuzz::test_n_times(200, 0x5eed_5050, 256, stock_diff::run);
    assert!(ran > 0, "every seeded input was rejected");
}

#[test]
fn fs_diff_smoke_on_50() {
    let ran = fuzz::test_n_times(100, 0x5eed_f550, 512, fs_diff::run);
    assert!(ran > 0, "every seeded input was rejected");
}

/// The comparison with stock 50 is not vacuous: stock given a tree whose
/// file `a` differs in one byte makes it fail at the read.
#[test]
fn fs_diff_on_50_catches_a_different_tree() {
    let input = fs_diff::read_of_a();
    assert_eq!(
        fs_diff::reported_difference(&input, &fs_diff::config(&input.contents)),
        None
    );
    let message = fs_diff::reported_difference(&input, &fs_diff::config(b"jello"))
        .expect("a different tree must be reported");
    assert!(message.contains("call 1 differs"), "{message}");
}

/// Found by `fs_diff_50` in its first runs (the committed `corpus/fs_diff`,
/// the smoke inputs and the survey, on wasmtime 50): stock wasmtime-wasi 50
/// checks a read-only preopen's permission after the sync and directory
/// flags, sets a preopen's times, and resolves a trailing slash (without
/// `symlink_follow`; in a rename's new path, found by the libFuzzer round:
/// crash-8eae83fa…), where stock 46 (and the crate on both) answers EPERM,
/// EBADF, the last component's filestat and success. The five listed
/// answers still occur, and only they: the control open is EPERM on stock
/// 50 too.
#[test]
fn fs_diff_stock_50_differs_only_as_listed() {
    assert_eq!(fs_diff::check(&fs_diff::stock_50_differences()), 5);
}

/// A longer run of both differentials against stock 50, for the
/// execution counts of a campaign on stable, listing every kind of
/// difference it meets: `N=3000 SEED=1 cargo +nightly test
/// --ignore-rust-version --manifest-path adapters/versions/Cargo.toml --lib
/// on50_survey -- --ignored --nocapture`.
#[test]
#[ignore = "long survey run, see its docs"]
fn on50_survey() {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (n, seed) = (var("N", 1000) as usize, var("SEED", 1));
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    let mut kinds = 0;
    for (name, len, run) in [
        (
            "stock_diff",
            256,
            stock_diff::run as fn(&mut arbitrary::Unstructured<'_>) -> arbitrary::Result<()>,
        ),
        ("fs_diff", 512, fs_diff::run),
    ] {
        let (executions, calls) = (load(&fuzz::EXECUTIONS), load(&fuzz::HOST_CALLS));
        kinds += fuzz::survey(seed, n, len, run).len();
        eprintln!(
            "{name} on wasmtime 50: {n} inputs (seed {seed}, {len} bytes), {} executions compared with stock, {} host calls",
            load(&fuzz::EXECUTIONS) - executions,
            load(&fuzz::HOST_CALLS) - calls,
        );
    }
    assert_eq!(kinds, 0, "{kinds} kinds of difference");
}
