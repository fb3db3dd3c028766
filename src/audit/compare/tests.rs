//! A poisoned run is never the reference: divergences behind it are found.

use super::super::{Outcome, Report, Status, Verdict};
use super::*;

const CRANELIFT: &str = "cranelift";
const PULLEY: &str = "pulley";
const WASMTIME_WASI: &str = "wasmtime-wasi";
const WASI_COMMON: &str = "wasi-common";

fn label(backend: &'static str, strategy: &'static str, index: usize) -> RunLabel {
    RunLabel {
        backend,
        strategy,
        index,
        fresh_engine: false,
        child_process: false,
        wasmtime: 46,
    }
}

/// A run that exited 0 having written `stdout`.
fn exited(stdout: &str) -> Fingerprint {
    Fingerprint::from_parts(
        vec![
            ("status".into(), "exit 0".into()),
            ("stdout".into(), stdout.into()),
        ],
        Vec::new(),
    )
}

fn poisoned() -> Fingerprint {
    Fingerprint::from_parts(
        vec![
            ("status".into(), "poisoned (stack overflow)".into()),
            ("stdout".into(), String::new()),
        ],
        Vec::new(),
    )
}

/// The report `audit` builds from `runs`: each added in order with
/// [`Report::add_run`], as `audit` adds its runs after the first.
fn report(runs: Vec<(RunLabel, Fingerprint)>) -> Report {
    report_ignoring(runs, &[])
}

/// [`report`] with `ignored` left out of the comparisons.
fn report_ignoring(runs: Vec<(RunLabel, Fingerprint)>, ignored: &[&str]) -> Report {
    let mut report = Report {
        outcome: Outcome {
            status: Status::Exited(0),
            trap_message: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            fuel_consumed: 0,
            host_calls: 0,
            trace_digest: [0; 32],
            events: Vec::new(),
            filesystems: Vec::new(),
            memory: None,
        },
        runs: Vec::new(),
        divergence: None,
        ignored_fields: ignored.iter().map(|name| name.to_string()).collect(),
    };
    for (label, fingerprint) in runs {
        report.add_run(label, fingerprint);
    }
    report
}

#[test]
fn a_divergence_behind_a_poisoned_first_run_is_diverged() {
    let report = report(vec![
        (label(WASMTIME_WASI, CRANELIFT, 0), poisoned()),
        (label(WASMTIME_WASI, CRANELIFT, 1), exited("aa")),
        (label(WASMTIME_WASI, CRANELIFT, 2), exited("bb")),
    ]);
    assert_eq!(report.verdict(), Verdict::Diverged);
    let divergence = report.divergence.expect("runs 1 and 2 differ");
    assert_eq!(divergence.expected, label(WASMTIME_WASI, CRANELIFT, 1));
    assert_eq!(divergence.actual, label(WASMTIME_WASI, CRANELIFT, 2));
}

/// The case: Cranelift overflows the native stack, the Pulley runs
/// differ from each other.
#[test]
fn pulley_runs_that_differ_behind_cranelift_overflows_are_diverged() {
    let report = report(vec![
        (label(WASMTIME_WASI, CRANELIFT, 0), poisoned()),
        (label(WASMTIME_WASI, CRANELIFT, 1), poisoned()),
        (label(WASMTIME_WASI, PULLEY, 0), exited("aa")),
        (label(WASMTIME_WASI, PULLEY, 1), exited("bb")),
    ]);
    assert_eq!(report.verdict(), Verdict::Diverged);
    let divergence = report.divergence.expect("the Pulley runs differ");
    assert_eq!(divergence.expected, label(WASMTIME_WASI, PULLEY, 0));
    assert_eq!(divergence.actual, label(WASMTIME_WASI, PULLEY, 1));
}

#[test]
fn another_backend_is_compared_with_the_first_comparable_run() {
    let report = report(vec![
        (label(WASMTIME_WASI, CRANELIFT, 0), poisoned()),
        (label(WASMTIME_WASI, CRANELIFT, 1), exited("aa")),
        (label(WASI_COMMON, CRANELIFT, 0), exited("bb")),
    ]);
    let divergence = report.divergence.expect("the backends differ");
    assert_eq!(divergence.expected, label(WASMTIME_WASI, CRANELIFT, 1));
    assert_eq!(divergence.actual, label(WASI_COMMON, CRANELIFT, 0));
}

#[test]
fn agreeing_runs_beside_a_poisoned_one_are_poisoned_not_diverged() {
    let report = report(vec![
        (label(WASMTIME_WASI, CRANELIFT, 0), exited("aa")),
        (label(WASMTIME_WASI, CRANELIFT, 1), poisoned()),
        (label(WASMTIME_WASI, CRANELIFT, 2), exited("aa")),
        (label(WASMTIME_WASI, PULLEY, 0), poisoned()),
        (label(WASMTIME_WASI, PULLEY, 1), exited("aa")),
    ]);
    assert_eq!(report.divergence, None);
    assert_eq!(report.verdict(), Verdict::Poisoned);
    assert_eq!(report.poisoned_runs(), 2);
}

#[test]
fn the_reference_is_the_closest_comparable_run() {
    let runs = vec![
        (label(WASMTIME_WASI, CRANELIFT, 0), exited("aa")),
        (label(WASMTIME_WASI, PULLEY, 0), poisoned()),
        (label(WASMTIME_WASI, PULLEY, 1), exited("aa")),
        (label(WASI_COMMON, CRANELIFT, 0), exited("aa")),
    ];
    let reference = |l: RunLabel| reference_for(&runs, &l).map(|(l, _)| l.clone());
    // Same backend and strategy first, skipping the poisoned run.
    assert_eq!(
        reference(label(WASMTIME_WASI, PULLEY, 2)),
        Some(label(WASMTIME_WASI, PULLEY, 1))
    );
    // Same backend, another strategy.
    assert_eq!(
        reference(label(WASI_COMMON, PULLEY, 0)),
        Some(label(WASI_COMMON, CRANELIFT, 0))
    );
    assert_eq!(reference_for(&[], &label(WASI_COMMON, PULLEY, 0)), None);
    let all_poisoned = [(label(WASMTIME_WASI, CRANELIFT, 0), poisoned())];
    assert_eq!(
        reference_for(&all_poisoned, &label(WASMTIME_WASI, CRANELIFT, 1)),
        None
    );
}

/// `--ignore-field`: runs that differ only in an ignored field agree, and a
/// difference in any other field (or in the calls) is still the first
/// divergence.
#[test]
fn an_ignored_field_is_left_out_and_every_other_is_compared() {
    let run = |fuel: &str, stdout: &str, call: &str| {
        Fingerprint::from_parts(
            vec![
                ("stdout".into(), stdout.into()),
                ("fuel consumed".into(), fuel.into()),
            ],
            vec![call.into()],
        )
    };
    let runs = |second| {
        vec![
            (label(WASMTIME_WASI, CRANELIFT, 0), run("10", "aa", "f()")),
            (label(WASMTIME_WASI, CRANELIFT, 1), second),
        ]
    };
    let fuel = ["fuel consumed"];
    let divergence = |second, ignored: &[&str]| {
        report_ignoring(runs(second), ignored)
            .divergence
            .map(|d| d.difference.to_string())
    };
    assert!(divergence(run("12", "aa", "f()"), &[]).is_some());
    assert_eq!(divergence(run("12", "aa", "f()"), &fuel), None);
    let stdout = divergence(run("12", "ab", "f()"), &fuel).expect("stdout differs");
    assert!(stdout.starts_with("stdout"), "{stdout}");
    let call = divergence(run("12", "aa", "g()"), &fuel).expect("a call differs");
    assert!(call.contains("g()"), "{call}");
}
