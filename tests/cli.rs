//! The `deterministic-wasi-ctx` command: exit codes, error lines, output formats.
#![cfg(feature = "cli")]

use std::path::Path;
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

#[test]
fn deterministic_files_exit_0_with_one_line_each() {
    let out = cli(&[
        "audit",
        "corpus/audit/random_bytes.wat",
        "corpus/audit/exit_status.wat",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("corpus/audit/random_bytes.wat: DETERMINISTIC "));
    assert!(lines[0].contains(" 4 calls "), "{}", lines[0]);
    assert!(lines[1].contains("(exit 7, 3 runs)"), "{}", lines[1]);
}

#[test]
fn stock_context_is_reported_diverged_with_exit_1() {
    let out = cli(&["audit", "--no-determinism", "corpus/audit/random_bytes.wat"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(": DIVERGED run 0 "), "{stdout}");
    assert!(stdout.contains("random_get(buf=0x"), "{stdout}");
}

#[test]
fn bad_files_get_one_line_and_exit_2_while_others_are_audited() {
    let dir = std::env::temp_dir().join(format!("dwc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm\x01\0\0\0\xff\xff").unwrap();
    let unknown = dir.join("unknown.wat");
    std::fs::write(&unknown, r#"(module (import "env" "now" (func)))"#).unwrap();
    let garbage = garbage.to_str().unwrap();
    let unknown = unknown.to_str().unwrap();
    let out = cli(&[
        "audit",
        "missing.wasm",
        garbage,
        "corpus/audit/random_bytes.wat",
        unknown,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert!(
        errors[0].contains("missing.wasm") && errors[0].contains("no such file"),
        "{stderr}"
    );
    assert!(errors[1].contains(garbage), "{stderr}");
    assert!(
        errors[2].contains(unknown) && errors[2].contains("env::now"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("random_bytes.wat: DETERMINISTIC"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cli(&["audit", "--runs", "1"]).status.code(), Some(2));
    assert_eq!(
        cli(&["audit", "--clock", "sometimes", "x.wat"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(cli(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn json_has_one_object_per_file_and_nothing_else_on_stdout() {
    let out = cli(&[
        "audit",
        "--json",
        "--processes",
        "--backend",
        "all",
        "--strategy",
        "all",
        "corpus/audit/random_bytes.wat",
        "corpus/audit/fuel_loop.wat",
        "--fuel",
        "1000000",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(objects.len(), 2);
    let random = &objects[0];
    for key in [
        "path",
        "deterministic",
        "runs",
        "digest",
        "exit_code",
        "trap",
        "host_calls",
        "stdout",
        "divergence",
    ] {
        assert!(random.get(key).is_some(), "missing {key}");
    }
    assert_eq!(random["deterministic"], true);
    assert_eq!(
        random["runs"], 13,
        "2 backends x 2 strategies x 3 runs + 1 child"
    );
    assert_eq!(random["exit_code"], 0);
    assert_eq!(
        &random["stdout"].as_str().unwrap()[..4],
        "9b6f",
        "155, 111 in hex"
    );
    assert_eq!(objects[1]["trap"]["kind"], "OutOfFuel");
    assert_eq!(objects[1]["exit_code"], serde_json::Value::Null);
}

#[test]
fn trace_prints_one_line_per_call() {
    let out = cli(&["trace", "corpus/audit/clocks_sleep.wat"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    assert_eq!(
        lines[0],
        "clock_time_get(id=realtime, precision=1, time_ptr=0x0) -> 0, wrote 8 bytes @0x0: 00 00 00 00 00 00 00 00"
    );
    assert!(lines[2].starts_with("poll_oneoff(in=0x100"), "{}", lines[2]);
    // 1.5 s later, exactly
    assert_eq!(
        lines[4],
        "clock_time_get(id=monotonic, precision=1, time_ptr=0x18) -> 0, wrote 8 bytes @0x18: 00 2f 68 59 00 00 00 00"
    );
    assert!(lines[6].starts_with("= exit 0, 6 calls, trace "));
}

#[test]
fn default_audit_covers_corpus_and_test_programs() {
    let out = cli(&["audit", "--runs", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let corpus = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/audit"))
        .unwrap()
        .count();
    let expected = corpus + 2 * test_programs::PROGRAMS.len();
    assert_eq!(stdout.lines().count(), expected, "{stdout}");
    assert!(
        stdout.lines().all(|l| l.contains(": DETERMINISTIC ")),
        "{stdout}"
    );
}
