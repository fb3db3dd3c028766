//! Runs one target on many seeded inputs on stable (no coverage guidance):
//! `cargo run --release -p deterministic-wasi-ctx-fuzz --example soak -- <target> <count> <len> [seed]`.
//! Panics (with the input's context) on the first finding.
use deterministic_wasi_ctx_fuzz::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("target");
    let count: usize = args.next().map_or(100, |s| s.parse().expect("count"));
    let len: usize = args.next().map_or(1024, |s| s.parse().expect("len"));
    let seed: u64 = args.next().map_or(1, |s| s.parse().expect("seed"));
    let run: fn(&mut arbitrary::Unstructured) -> arbitrary::Result<()> = match target.as_str() {
        "p1_smith" => p1_smith::run,
        "p1_script" => p1_script::run,
        "p2_script" => p2_script::run,
        "backend_diff" => backend_diff::run,
        "strategy_diff" => strategy_diff::run,
        "baseline" => baseline::run,
        "fs_diff" => fs_diff::run,
        other => panic!("unknown target {other}"),
    };
    let start = std::time::Instant::now();
    let ran = test_n_times(count, seed, len, run);
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "{target}: {ran}/{count} ran in {:.1?} ({} with host calls of {} recorded, {} host calls)",
        start.elapsed(),
        load(&WITH_HOST_CALLS),
        load(&EXECUTIONS),
        load(&HOST_CALLS),
    );
}
