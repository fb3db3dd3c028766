//! The census of each preview1 generator ([`crate::census`]): a few
//! thousand seeded inputs decoded (not run), every call of the module each
//! makes classified, and the test fails naming every class of the target's
//! functions that never appeared and is not listed as not produced (with
//! the reason), or that is listed but appeared. `cargo test -p
//! deterministic-wasi-ctx-fuzz --lib census -- --nocapture` prints the
//! tables (fuzz/README.md shows them).

use crate::census::{Census, NotProduced, preview1_classes};
use crate::{P1_FUNCTIONS, seeded_inputs};
use arbitrary::Unstructured;

/// The preopens of `fs_diff` and the wasm-smith targets.
const TREE_PREOPENS: &[(u32, &str)] = &[(3, "/"), (4, "/ro")];

/// Prints `census` and fails on what [`Census::check`] finds.
fn report(
    target: &str,
    census: &Census,
    functions: &[&'static str],
    not_produced: &[NotProduced],
    rare: &[NotProduced],
) {
    report_classes(
        target,
        census,
        functions,
        &preview1_classes,
        not_produced,
        rare,
    );
}

/// [`report`] over the classes `classes` gives each function (as for
/// [`Census::check`]): the component targets' census too.
pub(crate) fn report_classes(
    target: &str,
    census: &Census,
    functions: &[&'static str],
    classes: &dyn Fn(&str) -> Vec<String>,
    not_produced: &[NotProduced],
    rare: &[NotProduced],
) {
    println!("{}", census.table(target, not_produced, rare));
    println!(
        "summary of {target} (classes seen / that apply)\n{}",
        census.summary(functions, classes, not_produced)
    );
    let problems = census.check(functions, classes, not_produced, rare);
    assert!(
        problems.is_empty(),
        "{target} census: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn all_functions() -> Vec<&'static str> {
    P1_FUNCTIONS.iter().map(|(n, _)| *n).collect()
}

/// Why `stock_diff` makes no descriptor but stdio.
const NO_TREE: &str =
    "no preopen in stock_diff's context, so nothing opens (fs_diff and p1_smith make these)";
/// Why `stock_diff` makes few path shapes.
const NO_PATHS: &str = "a path is what a hostile pointer and length select in the fixed data (zeros, \"hello\", \"a/b\", invalid UTF-8) and there is no tree: fs_diff and p1_smith make path shapes";
/// Why `stock_diff` makes no integers near a boundary.
const I64_EDGES: &str = "stock_diff's I64_EDGES are exact values (0, 1, 2, -1, 2^29-1, 2^29, 2^31-1, 2^31, 2^32, i64::MAX, i64::MIN): none within 64 KiB of one (fs_diff makes those)";

/// What `stock_diff`'s generator does not produce, and why.
const STOCK_DIFF_NOT_PRODUCED: &[NotProduced] = &[
    ("*", "fd:preopen", NO_TREE),
    ("*", "fd:file", NO_TREE),
    ("*", "fd:dir", NO_TREE),
    ("*", "dir:preopen", NO_TREE),
    ("*", "dir:file", NO_TREE),
    ("*", "dir:dir", NO_TREE),
    ("*", "path:.", NO_PATHS),
    ("*", "path:a/..", NO_PATHS),
    ("*", "path://", NO_PATHS),
    ("*", "path:absolute", NO_PATHS),
    ("*", "path:through a symlink", NO_PATHS),
    ("*", "path:symlink loop", NO_PATHS),
    ("*", "path:escaping", NO_PATHS),
    ("*", "path:255-byte name", NO_PATHS),
    ("*", "path:256-byte name", NO_PATHS),
    ("*", "path:300-byte name", NO_PATHS),
    ("*", "offset:≈", I64_EDGES),
    ("*", "size:≈", I64_EDGES),
    ("*", "time:≈", I64_EDGES),
    ("*", "cookie:≈", I64_EDGES),
    (
        "*",
        "rights:FD_WRITE only",
        "rights are i64 edges: none, FD_READ (2), all bits set and more; no mask of FD_WRITE alone, of both or of every valid bit",
    ),
    ("*", "rights:FD_READ|FD_WRITE", "as for FD_WRITE only"),
    ("*", "rights:all", "as for FD_WRITE only"),
    ("fd_prestat_dir_name", "buf:exact", NO_TREE),
    ("fd_prestat_dir_name", "buf:one short", NO_TREE),
    ("path_readlink", "buf:exact", NO_TREE),
    ("path_readlink", "buf:one short", NO_TREE),
    (
        "*",
        "fd:renumbered",
        "needs an fd_renumber between two stdio numbers, then a call on the target: none in these inputs",
    ),
    ("*", "dir:renumbered", "as for fd:renumbered"),
    ("*", "path:..", "no '..' in the fixed data"),
];

/// What `stock_diff` makes, but not for every function in a few thousand
/// inputs (one to eight calls each).
const STOCK_DIFF_RARE: &[NotProduced] = &[
    (
        "*",
        "fd:closed",
        "needs an fd_close of stdio, then a call on it",
    ),
    ("*", "dir:closed", "as for fd:closed"),
    (
        "*",
        "path:trailing /",
        "needs a pointer and length ending on the '/' of \"a/b\"",
    ),
    (
        "*",
        "path:names a",
        "needs a pointer and length selecting \"a\" or \"b\" of the data",
    ),
];

#[test]
fn stock_diff_census() {
    let mut census = Census::default();
    for data in seeded_inputs(30, 3000, 256) {
        let Ok(input) = crate::stock_diff::input(&mut Unstructured::new(&data)) else {
            continue;
        };
        let wasm = wat::parse_str(input.wat()).expect("generated module is valid");
        census.record_module(&wasm, &[]).expect("readable module");
    }
    report(
        "stock_diff",
        &census,
        &all_functions(),
        STOCK_DIFF_NOT_PRODUCED,
        STOCK_DIFF_RARE,
    );
}

/// Why `fs_diff` makes only valid pointers.
const SCRIPT_POINTERS: &str = "the script lays out every pointer itself (in bounds, aligned, one iovec, no overlap): hostile values are in the arguments (stock_diff and p1_smith make hostile pointers)";
/// Why `fs_diff` makes only valid flags.
const SCRIPT_FLAGS: &str = "the script reduces flags and enums into their valid range (invalid ones trap in wiggle: stock_diff and p1_smith make them)";
/// What `fs_diff`'s generator does not produce, and why.
const FS_DIFF_NOT_PRODUCED: &[NotProduced] = &[
    ("*", "out:out of bounds", SCRIPT_POINTERS),
    ("*", "out:misaligned", SCRIPT_POINTERS),
    ("*", "path:out of bounds", SCRIPT_POINTERS),
    ("*", "iovs:no iovecs", SCRIPT_POINTERS),
    ("*", "iovs:many iovecs", SCRIPT_POINTERS),
    ("*", "iovs:huge count", SCRIPT_POINTERS),
    ("*", "iovs:buffer out of bounds", SCRIPT_POINTERS),
    ("*", "iovs:array out of bounds", SCRIPT_POINTERS),
    ("*", "iovs:overlapping", SCRIPT_POINTERS),
    ("*", "buf:huge", SCRIPT_POINTERS),
    ("*", "buf:out of bounds", SCRIPT_POINTERS),
    ("*", "buf:overlapping", SCRIPT_POINTERS),
    ("*", "lookup:invalid", SCRIPT_FLAGS),
    ("*", "oflags:invalid", SCRIPT_FLAGS),
    ("*", "fdflags:invalid", SCRIPT_FLAGS),
    ("*", "fst:invalid", SCRIPT_FLAGS),
    ("*", "whence:invalid", SCRIPT_FLAGS),
    ("*", "advice:invalid", SCRIPT_FLAGS),
    (
        "fd_readdir",
        "cookie:2^",
        "cookies are 0 to 15 (the tree's listings fit)",
    ),
    ("fd_readdir", "cookie:-1", "cookies are 0 to 15"),
    ("fd_readdir", "cookie:i64::MIN", "cookies are 0 to 15"),
    ("fd_readdir", "cookie:≈", "cookies are 0 to 15"),
    (
        "path_open",
        "rights:other bits",
        "base rights are FD_READ and/or FD_WRITE, inheriting rights none",
    ),
    ("path_open", "rights:all", "as for other bits"),
    ("path_open", "rights:invalid", "as for other bits"),
    (
        "path_open",
        "rights#2:FD_",
        "inheriting rights are always none",
    ),
    (
        "path_readlink",
        "buf:exact",
        "lengths are any u16 mod 1025: one of 1 to 4 bytes (a target's length) is 1 draw in 200 and a symlink is named in 1 call in 25",
    ),
    ("path_readlink", "buf:one short", "as for exact"),
    (
        "poll_oneoff",
        "subs:clock absolute",
        "a script's poll is one relative monotonic sleep",
    ),
    ("poll_oneoff", "subs:fd_", "as for clock absolute"),
    ("poll_oneoff", "subs:several", "as for clock absolute"),
    ("poll_oneoff", "subs:none", "as for clock absolute"),
    ("poll_oneoff", "subs:out of bounds", SCRIPT_POINTERS),
    ("poll_oneoff", "subs:invalid tag", "as for clock absolute"),
];

/// The functions `fs_diff` scripts call ([`FsOp`](deterministic_wasi_ctx::script::fs::FsOp)).
const FS_DIFF_FUNCTIONS: &[&str] = &[
    "path_open",
    "fd_close",
    "fd_read",
    "fd_pread",
    "fd_write",
    "fd_pwrite",
    "fd_seek",
    "fd_tell",
    "fd_filestat_get",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_readdir",
    "fd_renumber",
    "fd_advise",
    "fd_allocate",
    "fd_sync",
    "fd_datasync",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "path_create_directory",
    "path_remove_directory",
    "path_unlink_file",
    "path_rename",
    "path_link",
    "path_symlink",
    "path_readlink",
    "path_filestat_get",
    "path_filestat_set_times",
    "poll_oneoff",
];

#[test]
fn fs_diff_census() {
    let mut census = Census::default();
    for data in seeded_inputs(26, 3000, 512) {
        let Ok(input) = crate::fs_diff::input(&mut Unstructured::new(&data)) else {
            continue;
        };
        let wasm = input.script.compile().wasm();
        census
            .record_module(&wasm, TREE_PREOPENS)
            .expect("readable module");
    }
    report(
        "fs_diff",
        &census,
        FS_DIFF_FUNCTIONS,
        FS_DIFF_NOT_PRODUCED,
        &[],
    );
    let missing = census.missing(&fs_diff_combinations());
    assert!(
        missing.is_empty(),
        "fs_diff census:\n{}",
        missing.join("\n")
    );
}

/// The combinations `fs_diff` must make beyond the census's classes: every
/// `fstflags` (0 to 15) with either lookup flag on a path ending in `/` and
/// in `/.` for `path_filestat_set_times` (stock differences were found
/// there), and offsets and sizes within 64 KiB of 2^40 (a sparse file far
/// past any byte limit) for the calls that take them.
fn fs_diff_combinations() -> Vec<(&'static str, String)> {
    let mut wanted = Vec::new();
    for fst in 0..16 {
        for lookup in 0..2 {
            for end in ["/", "/."] {
                let class = format!("ends:{fst} {lookup} {end}");
                wanted.push(("path_filestat_set_times", class));
            }
        }
    }
    for (function, label) in [
        ("fd_pread", "offset"),
        ("fd_pwrite", "offset"),
        ("fd_seek", "offset"),
        ("fd_filestat_set_size", "size"),
        ("fd_allocate", "offset"),
        ("fd_allocate", "size"),
        ("fd_advise", "offset"),
        ("fd_advise", "size"),
    ] {
        wanted.push((function, format!("{label}:≈2^40")));
    }
    wanted
}

/// Why `p1_smith` makes exact boundaries only.
const EXACT_BOUNDARIES: &str = "64-bit offsets, sizes and times are small, roles::BOUNDARIES exactly, or any value: none within 64 KiB of a boundary, so no transfer starts just before one (fs_diff makes those)";

/// What `p1_smith`'s prelude does not produce, and why.
const P1_SMITH_NOT_PRODUCED: &[NotProduced] = &[
    ("*", "offset:≈", EXACT_BOUNDARIES),
    ("*", "size:≈", EXACT_BOUNDARIES),
    ("*", "time:≈", EXACT_BOUNDARIES),
    ("*", "cookie:≈", EXACT_BOUNDARIES),
    (
        "fd_readdir",
        "cookie:2^",
        "well-formed cookies are 0 to 8; hostile ones are wide() values: up to 10 s in ns, up to 64, or any",
    ),
    ("fd_readdir", "cookie:-1", "as for cookie:2^"),
    ("fd_readdir", "cookie:i64::MIN", "as for cookie:2^"),
    ("fd_fdstat_set_rights", "rights:all", "as for rights:FD_"),
    (
        "*",
        "rights:FD_",
        "rights are drawn uniformly from the 2^30 valid masks (or any value): FD_READ or FD_WRITE alone is 1 in 2^30",
    ),
];

/// What `p1_smith` makes, but not for every function in a few thousand
/// inputs: hostile draws (one call in forty, or in three in one prelude in
/// five), each a small share.
const P1_SMITH_RARE: &[NotProduced] = &[
    (
        "*",
        "dir:stdio",
        "a path_* directory is 3, 4 or the opened descriptor; stdio only from a hostile word",
    ),
    (
        "*",
        "fd:renumbered",
        "needs an fd_renumber onto a live descriptor before the call",
    ),
    ("*", "path:non-UTF-8", "only through a hostile pointer"),
    (
        "*",
        "buf:one short",
        "prestat names are 1 and 3 bytes: one short is a length of 0 or 2 of 0-256",
    ),
    ("*", "buf:overlapping", "only through a hostile pointer"),
];

#[test]
fn p1_smith_census() {
    let mut census = Census::default();
    for data in seeded_inputs(31, 2000, 2048) {
        let Ok(input) = crate::p1_smith::decode(&mut Unstructured::new(&data)) else {
            continue;
        };
        census
            .record_module(&input.wasm, TREE_PREOPENS)
            .expect("readable module");
    }
    report(
        "p1_smith",
        &census,
        &all_functions(),
        P1_SMITH_NOT_PRODUCED,
        P1_SMITH_RARE,
    );
}

/// The functions `p1_script` scripts call
/// ([`Op`](deterministic_wasi_ctx::script::Op)).
const P1_SCRIPT_FUNCTIONS: &[&str] = &[
    "clock_time_get",
    "clock_res_get",
    "random_get",
    "poll_oneoff",
    "sched_yield",
    "args_sizes_get",
    "args_get",
    "environ_sizes_get",
    "environ_get",
    "fd_write",
    "proc_exit",
];

/// Why `p1_script` makes only valid pointers.
const SCRIPT_LAYOUT: &str = "the script lays out every pointer itself (in bounds, aligned, one iovec, its own output slot): it checks answers against a model, not hostile pointers (stock_diff and p1_smith make those)";

/// What `p1_script`'s generator does not produce, and why.
const P1_SCRIPT_NOT_PRODUCED: &[NotProduced] = &[
    ("*", "out:out of bounds", SCRIPT_LAYOUT),
    ("*", "out:misaligned", SCRIPT_LAYOUT),
    ("*", "buf:huge", SCRIPT_LAYOUT),
    ("*", "buf:out of bounds", SCRIPT_LAYOUT),
    ("*", "iovs:no iovecs", SCRIPT_LAYOUT),
    ("*", "iovs:many iovecs", SCRIPT_LAYOUT),
    ("*", "iovs:huge count", SCRIPT_LAYOUT),
    ("*", "iovs:buffer out of bounds", SCRIPT_LAYOUT),
    ("*", "iovs:array out of bounds", SCRIPT_LAYOUT),
    ("*", "iovs:overlapping", SCRIPT_LAYOUT),
    ("poll_oneoff", "subs:out of bounds", SCRIPT_LAYOUT),
    (
        "poll_oneoff",
        "subs:invalid tag",
        "subscriptions are Subscription values: clock, fd_read or fd_write",
    ),
    (
        "fd_write",
        "fd:preopen",
        "fd_write's descriptor is reduced to 1 or 2 (the model covers stdout and stderr only)",
    ),
    ("fd_write", "fd:file", "as for fd:preopen"),
    ("fd_write", "fd:dir", "as for fd:preopen"),
    ("fd_write", "fd:closed", "as for fd:preopen"),
    ("fd_write", "fd:renumbered", "as for fd:preopen"),
    ("fd_write", "fd:never opened", "as for fd:preopen"),
    (
        "random_get",
        "buf:empty",
        "lengths are any u32 mod 4097: 0 is 1 draw in 4097 (about 500 random_get calls here)",
    ),
    (
        "clock_time_get",
        "time:",
        "precisions are any u64 as given (clocks ignore them): no boundary is likelier than another",
    ),
];

/// The census of `p1_script`'s seeded inputs, of the scripts `keep`
/// accepts.
fn p1_script_census_of(keep: impl Fn(&deterministic_wasi_ctx::script::Script) -> bool) -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(32, 3000, 512) {
        let Ok(input) = crate::p1_script::input(&mut Unstructured::new(&data)) else {
            continue;
        };
        if !keep(&input.script) {
            continue;
        }
        let wasm = input.script.compile().wasm();
        census
            .record_module(&wasm, TREE_PREOPENS)
            .expect("readable module");
    }
    census
}

#[test]
fn p1_script_census() {
    report(
        "p1_script",
        &p1_script_census_of(|_| true),
        P1_SCRIPT_FUNCTIONS,
        P1_SCRIPT_NOT_PRODUCED,
        &[],
    );
}

/// The preview1 census fails when a generator loses a class: without the
/// scripts that exit, `proc_exit` and its classes are reported.
#[test]
fn the_preview1_census_fails_when_a_class_is_removed() {
    use deterministic_wasi_ctx::script::Op;
    let census = p1_script_census_of(|script| {
        !script
            .ops
            .iter()
            .any(|op| matches!(op, Op::ProcExit { .. }))
    });
    let problems = census.check(
        P1_SCRIPT_FUNCTIONS,
        &preview1_classes,
        P1_SCRIPT_NOT_PRODUCED,
        &[],
    );
    assert_eq!(
        problems,
        [
            "never produced: proc_exit exit:0",
            "never produced: proc_exit exit:nonzero",
            "never called: proc_exit",
        ]
    );
}
