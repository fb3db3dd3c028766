//! One `std::fs` program built for wasip1 and for wasip2
//! (`proptests::std_fs`): generated scripts on generated trees give the
//! same answers and the same final tree on both preview1 backends and as a
//! component; the component agrees with stock wasmtime-wasi on a host copy
//! on everything the host does not decide.

use proptest::prelude::*;
use proptests::std_fs::{case, check_p1_p2, check_p2_against_stock};
use proptests::{config, regressions};

proptest! {
    #![proptest_config(config(256, regressions!("std_fs")))]

    /// Writes, appends, positioned writes and reads (some ending past
    /// `i64::MAX`), truncation, mkdir, rmdir, rm, rename, hard and symbolic
    /// links, readlink, stat and lstat (with inode numbers, link counts and
    /// times), listings, set-mtime and sleeps: wasip1 on wasmtime-wasi,
    /// wasip1 on wasi-common and wasip2 print the same answers and leave the
    /// same tree.
    #[test]
    fn wasip1_and_wasip2_builds_agree(case in case(24)) {
        check_p1_p2(&case, &case.config())?;
    }

    /// The component against stock wasmtime-wasi's on a host copy of the
    /// tree: the same errnos, bytes and names, the same final tree shape.
    #[test]
    fn wasip2_build_agrees_with_stock_on_a_real_directory(case in case(16)) {
        check_p2_against_stock(&case)?;
    }
}

/// How often each kind of operation succeeds in generated cases (a survey
/// for tuning the generators, not a check): `cargo test -p proptests --test
/// std_fs survey -- --ignored --nocapture`.
#[test]
#[ignore = "survey, prints statistics"]
fn survey() {
    use deterministic_wasi_ctx::audit::Backend;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use proptests::std_fs::{answers, run};
    use std::collections::BTreeMap;
    let mut runner = TestRunner::deterministic();
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for _ in 0..500 {
        let case = case(24).new_tree(&mut runner).expect("case").current();
        let outcome = run(true, Backend::WasmtimeWasi, &case.config(), false);
        for (op, answer) in case.ops.iter().zip(answers(&case.ops, &outcome.stdout)) {
            let kind = op.line().split(' ').next().unwrap_or_default().to_string();
            let entry = counts.entry(kind).or_default();
            if answer.starts_with("err ") {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
    }
    for (kind, (ok, err)) in counts {
        println!("{kind:10} ok {ok:5} err {err:5}");
    }
}
