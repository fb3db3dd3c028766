//! `--max-stack`: with the logical stack limit on, unbounded recursion is an
//! ordinary deterministic trap on every strategy and backend (and in a child
//! process); a native overflow despite the limit is reported as a bug.

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deterministic-wasi-ctx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the CLI")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const STACK_OVERFLOW: &str = "corpus:stack_overflow.wat";

#[test]
fn stack_overflow_is_deterministic_with_the_limit_on() {
    let all = ["--strategy", "all", "--backend", "all", "--runs", "2"];
    let out = cli(&[
        &["audit", "--max-stack", "default"],
        &all[..],
        &[STACK_OVERFLOW],
    ]
    .concat());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("corpus:stack_overflow.wat: DETERMINISTIC "),
        "{stdout}"
    );
    assert!(
        stdout.contains("trap UnreachableCodeReached after 0 calls"),
        "{stdout}"
    );
    // The same limit given as a number is the same program: same digest.
    let numbered = cli(&[
        &["audit", "--max-stack", "16384"],
        &all[..],
        &[STACK_OVERFLOW],
    ]
    .concat());
    let digest = |s: &str| s.split_whitespace().nth(2).map(str::to_string);
    assert_eq!(digest(&stdout), digest(&text(&numbered.stdout)));
    // Another limit traps at another depth: another digest (fuel differs).
    let smaller = cli(&[
        &["audit", "--max-stack", "1000"],
        &all[..],
        &[STACK_OVERFLOW],
    ]
    .concat());
    assert_eq!(smaller.status.code(), Some(0), "{}", text(&smaller.stdout));
    assert_ne!(digest(&stdout), digest(&text(&smaller.stdout)));
}

#[test]
fn a_child_process_gets_the_limit_too() {
    let out = cli(&[
        "audit",
        "--processes",
        "--runs",
        "2",
        "--max-stack",
        "default",
        STACK_OVERFLOW,
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(": DETERMINISTIC "), "{stdout}");
}

#[test]
fn trace_runs_with_the_limit() {
    let out = cli(&["trace", "--max-stack", "default", STACK_OVERFLOW]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("= trap UnreachableCodeReached after 0 calls"),
        "{stdout}{}",
        text(&out.stderr)
    );
}

/// A limit too large for the native stack lets the recursion overflow it
/// first: with the limit on, that is a bug in the guarantee, reported as an
/// error (exit 2) rather than a quiet POISONED verdict.
#[test]
fn a_native_overflow_with_the_limit_on_is_reported_as_a_bug() {
    let out = cli(&["audit", "--max-stack", "4294967295", STACK_OVERFLOW]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}{stderr}", text(&out.stdout));
    assert!(
        stderr.contains("BUG: run 0 (wasmtime-wasi/cranelift) overflowed the native stack"),
        "{stderr}"
    );
}

#[test]
fn a_bad_limit_is_one_error_line_and_exit_2() {
    for bad in ["0", "-1", "lots", "4294967296"] {
        let out = cli(&["audit", &format!("--max-stack={bad}"), STACK_OVERFLOW]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("is not a limit"), "{bad}: {stderr}");
    }
}
