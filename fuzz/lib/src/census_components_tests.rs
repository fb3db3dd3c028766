//! The census of each component generator ([`crate::census::components`]):
//! a few thousand seeded inputs decoded (not run), every script operation
//! classified, and the test fails naming every class that never appeared
//! and is not listed as not produced (with the reason), or that is listed
//! but appeared. Printed with the preview1 tables by `cargo test -p
//! deterministic-wasi-ctx-fuzz --lib census -- --nocapture`.

use crate::census::components::{
    FS_OPS, P3_FS_OPS, TIMER_OPS, fs_classes, fs_universe, p3_fs_classes, p3_fs_universe,
    timer_classes, timer_universe,
};
use crate::census::waits::{WAITS_OPS, waits_classes, waits_universe};
use crate::census::{Census, NotProduced};
use crate::census_tests::report_classes;
use crate::seeded_inputs;
use arbitrary::Unstructured;
use proptests::timers::TimerOp;

/// What `p2_script`'s generator does not produce, and why.
const P2_SCRIPT_NOT_PRODUCED: &[NotProduced] = &[
    (
        "poll",
        "count:empty",
        "WASI lets `poll` trap on an empty list, so a `poll` line has one timer at least (the guest would not make the call)",
    ),
    (
        "*",
        "len:over the limit",
        "a request is at most 1024 bytes: one over stock's 64 MiB limit (a trap in 0.2) is tests/hostile.rs's and random::components' tests",
    ),
];

/// Counts one operation's call and classes.
pub(crate) fn add(census: &mut Census, (name, classes): (&'static str, Vec<String>)) {
    census.add(name, "calls".to_string());
    for class in classes {
        census.add(name, class);
    }
}

/// The census of `p2_script`'s seeded inputs, of the operations `keep`
/// accepts.
fn p2_script_census(keep: impl Fn(&TimerOp) -> bool) -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(0x2c, 10_000, 256) {
        let Ok(input) = Unstructured::new(&data).arbitrary::<crate::p2_script::P2Input>() else {
            continue;
        };
        for op in input.ops().iter().filter(|op| keep(op)) {
            add(&mut census, timer_classes(op));
        }
    }
    census
}

#[test]
fn p2_script_census_finds_every_class() {
    report_classes(
        "p2_script",
        &p2_script_census(|_| true),
        &TIMER_OPS,
        &timer_universe,
        P2_SCRIPT_NOT_PRODUCED,
        &[],
    );
}

/// Why `p2_fs` makes no offsets near 2^31 or 2^32, and none past 2^63-1.
const P2_FS_OFFSETS: &str = "offsets are below 64 or within 256 below 2^63-1 (p2_fs::offset): a write near 2^31 or 2^32 makes a 2-4 GiB file in stock's host tree that the next `read` loads whole, and std's offsets are u64 (at 2^63 and past, wasi-libc's signed off_t ends the call in the guest); fs_diff, stock_diff and p1_smith pass these to the same core rules";

/// What `p2_fs`'s generator does not produce, and why.
const P2_FS_NOT_PRODUCED: &[NotProduced] = &[
    (
        "*",
        "path:empty",
        "a script line is split on white space: an empty path cannot be written in one",
    ),
    (
        "*",
        "path:NUL",
        "std refuses a path holding NUL before any call (there is nothing to compare)",
    ),
    (
        "*",
        "path:non-UTF-8",
        "a component's paths are WIT strings, UTF-8 by type",
    ),
    ("*", "offset:2^31", P2_FS_OFFSETS),
    ("*", "offset:2^32", P2_FS_OFFSETS),
    ("*", "offset:≈2^31", P2_FS_OFFSETS),
    ("*", "offset:≈2^32", P2_FS_OFFSETS),
    ("*", "offset:-1", P2_FS_OFFSETS),
    ("*", "offset:i64::MIN", P2_FS_OFFSETS),
    ("*", "offset:≈i64::MIN", P2_FS_OFFSETS),
];

fn p2_fs_census() -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(0xf5, 10_000, 256) {
        let Ok(input) = Unstructured::new(&data).arbitrary::<crate::p2_fs::P2FsInput>() else {
            continue;
        };
        let case = input.case();
        for op in &case.ops {
            add(&mut census, fs_classes(op, &case.tree));
        }
    }
    census
}

#[test]
fn p2_fs_census_finds_every_class() {
    report_classes(
        "p2_fs",
        &p2_fs_census(),
        &FS_OPS,
        &fs_universe,
        P2_FS_NOT_PRODUCED,
        &[],
    );
}

/// The census fails when a generator loses a class: dropping every `poll`
/// line with more than eight timers (the generator as it was) leaves
/// `count:9-64` unseen.
#[test]
fn the_component_census_fails_when_a_class_is_removed() {
    let census = p2_script_census(|op| !matches!(op, TimerOp::Poll(t) if t.len() > 8));
    let problems = census.check(&TIMER_OPS, &timer_universe, P2_SCRIPT_NOT_PRODUCED, &[]);
    assert_eq!(problems, ["never produced: poll count:9-64"]);
}

/// Why `p3_fs` makes no offsets or sizes near 2^31 or 2^32.
const P3_FS_OFFSETS: &str = "the interpreter's offsets are 0-63, 4096, 2^63-1, 2^63 and 2^64-1: a write near 2^31 or 2^32 makes a 2-4 GiB file in stock's host tree that reading the tree back loads whole; fs_diff, stock_diff and p1_smith pass these to the same core rules";

/// What `p3_fs`'s generator does not produce, and why.
const P3_FS_NOT_PRODUCED: &[NotProduced] = &[
    ("*", "offset:2^31", P3_FS_OFFSETS),
    ("*", "offset:2^32", P3_FS_OFFSETS),
    ("*", "offset:≈", P3_FS_OFFSETS),
    ("*", "offset:2^31-1", P3_FS_OFFSETS),
    ("*", "size:2^31", P3_FS_OFFSETS),
    ("*", "size:2^32", P3_FS_OFFSETS),
    ("*", "size:≈", P3_FS_OFFSETS),
    ("*", "size:2^31-1", P3_FS_OFFSETS),
];

/// The census of `p3_fs`'s seeded inputs, of the operations `keep` accepts.
fn p3_fs_census(keep: impl Fn(&crate::p3_fs::OpInput) -> bool) -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(0xf3, 3_000, 256) {
        let Ok(input) = Unstructured::new(&data).arbitrary::<crate::p3_fs::P3FsInput>() else {
            continue;
        };
        for op in input
            .ops
            .iter()
            .take(crate::p3_fs::MAX_OPS)
            .filter(|op| keep(op))
        {
            add(&mut census, p3_fs_classes(op));
        }
    }
    census
}

#[test]
fn p3_fs_census_finds_every_class() {
    report_classes(
        "p3_fs",
        &p3_fs_census(|_| true),
        &P3_FS_OPS,
        &p3_fs_universe,
        P3_FS_NOT_PRODUCED,
        &[],
    );
}

/// The same for 0.3: an interpreter without names of 256 bytes leaves
/// that class unseen for every function that takes a path.
#[test]
fn the_p3_census_fails_when_a_class_is_removed() {
    // `b` is an operation's path, `e` a second path or a target.
    let census = p3_fs_census(|op| op[2] % 17 != 16 && op[5] % 17 != 16);
    let problems = census.check(&P3_FS_OPS, &p3_fs_universe, P3_FS_NOT_PRODUCED, &[]);
    assert_eq!(problems.len(), 13, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| p.starts_with("never produced: ") && p.ends_with(":256 bytes")),
        "{problems:#?}"
    );
}

/// The census of `p3_waits`' seeded inputs, of those `keep` accepts.
fn p3_waits_census(keep: impl Fn(&crate::p3_waits::P3WaitsInput) -> bool) -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(0x3a, 3_000, 256) {
        let Ok(input) = Unstructured::new(&data).arbitrary::<crate::p3_waits::P3WaitsInput>()
        else {
            continue;
        };
        if keep(&input) {
            for op in waits_classes(&input) {
                add(&mut census, op);
            }
        }
    }
    census
}

#[test]
fn p3_waits_census_finds_every_class() {
    report_classes(
        "p3_waits",
        &p3_waits_census(|_| true),
        &WAITS_OPS,
        &waits_universe,
        &[],
        &[],
    );
}

/// Without frozen clocks in the inputs, the census says so.
#[test]
fn the_waits_census_fails_when_a_class_is_removed() {
    let census = p3_waits_census(|i| !matches!(i.context.policy, crate::PolicyInput::Frozen));
    let problems = census.check(&WAITS_OPS, &waits_universe, &[], &[]);
    assert_eq!(problems, ["never produced: schedule policy:frozen"]);
}
