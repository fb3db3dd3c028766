//! Every target reaches its interface from the first bytes of an input: a
//! fuzzing run that starts from an empty corpus (libFuzzer's first inputs
//! are empty, then a few bytes long) makes host calls at once, without
//! relying on seeds to get past the decoding preamble.

use arbitrary::Unstructured;

type Target = fn(&mut Unstructured) -> arbitrary::Result<()>;

/// Every target that checks something, by name (`baseline`, a throughput
/// reference, reads `p1_smith`'s inputs and records nothing).
const TARGETS: &[(&str, Target)] = &[
    ("p1_smith", crate::p1_smith::run),
    ("strategy_diff", crate::strategy_diff::run),
    ("backend_diff", crate::backend_diff::run),
    ("stock_diff", crate::stock_diff::run),
    ("fs_diff", crate::fs_diff::run),
    ("p1_script", crate::p1_script::run),
    ("p2_script", crate::p2_script::run),
    ("p2_fs", crate::p2_fs::run),
    ("p3_waits", crate::p3_waits::run),
    ("p3_fs", crate::p3_fs::run),
    #[cfg(feature = "p3-guests")]
    ("p3_tasks", crate::p3_tasks::run),
    ("replay_log", crate::replay_log::run),
];

/// The input lengths tried: libFuzzer's first inputs from an empty corpus.
const LENGTHS: &[usize] = &[0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64];

/// For each target, how many of the short inputs (each length in
/// [`LENGTHS`], `per_length` seeded inputs each) made at least one host
/// call; printed as a table.
fn survey(per_length: u64) -> Vec<(&'static str, usize, usize)> {
    use rand_core::{RngCore, SeedableRng};
    let mut rows = Vec::new();
    for (name, target) in TARGETS {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(0x5eed);
        let (mut reached, mut tried) = (0, 0);
        for &len in LENGTHS {
            for _ in 0..per_length {
                let mut bytes = vec![0u8; len];
                rng.fill_bytes(&mut bytes);
                crate::forget_last_host_calls();
                let _ = target(&mut Unstructured::new(&crate::input::continued(&bytes)));
                tried += 1;
                if crate::last_host_calls().unwrap_or(0) > 0 {
                    reached += 1;
                }
            }
        }
        eprintln!("{name:>14}: {reached:>3}/{tried} short inputs made a host call");
        rows.push((*name, reached, tried));
    }
    rows
}

#[test]
fn short_inputs_reach_wasi() {
    for (name, reached, tried) in survey(4) {
        assert!(
            reached * 10 >= tried * 9,
            "{name}: only {reached} of {tried} inputs of 0-64 bytes made a host call"
        );
    }
}
