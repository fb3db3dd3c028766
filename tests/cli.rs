//! The `deterministic-wasi-ctx` command: exit codes, error lines, output formats.
#![cfg(feature = "cli")]

use deterministic_wasi_ctx::engine::WASMTIME_MAJOR;
#[path = "common/command.rs"]
mod command;

use command::{BIN, REPO, cli, command, text};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// How many preview1 backends `--backend all` runs: wasmtime-wasi, and
/// wasi-common with its feature (the wasmtime-50 adapter has none).
#[cfg(feature = "wasi-common")]
const BACKENDS: u64 = 2;
#[cfg(not(feature = "wasi-common"))]
const BACKENDS: u64 = 1;

/// The guest program `name` of `test-programs`: its name and the paths of
/// its wasip1 module and wasip2 component.
fn guest(name: &str) -> &'static (&'static str, &'static str, &'static str) {
    test_programs::PROGRAMS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no guest program {name}"))
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
        "verdict",
        "deterministic",
        "runs",
        "digest",
        "exit_code",
        "trap",
        "host_calls",
        "stdout",
        "divergence",
        "filesystems",
    ] {
        assert!(random.get(key).is_some(), "missing {key}");
    }
    assert_eq!(random["filesystems"], serde_json::json!([]), "no --dir");
    assert_eq!(random["deterministic"], true);
    assert_eq!(random["verdict"], "deterministic");
    assert_eq!(random["poisoned_runs"], 0);
    assert_eq!(
        random["runs"],
        BACKENDS * 2 * 3 + 1,
        "backends x 2 strategies x 3 runs + 1 child"
    );
    assert_eq!(random["exit_code"], 0);
    assert_eq!(
        &random["stdout"].as_str().unwrap()[..4],
        "9b6f",
        "155, 111 in hex"
    );
    assert_eq!(objects[1]["trap"]["kind"], "OutOfFuel");
    assert_eq!(objects[1]["trap"]["message"], serde_json::Value::Null);
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

/// A reader that stops early (`trace x | head`) ends the CLI quietly with
/// status 141 (128 + SIGPIPE), not with a panic.
#[test]
fn trace_into_a_closed_pipe_ends_quietly() {
    let mut child = Command::new(BIN)
        .args(["trace", "corpus/audit/clocks_sleep.wat"])
        .current_dir(REPO)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the CLI");
    // Gone before the first line: the module is compiled first.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for the CLI");
    assert_eq!(out.status.code(), Some(141), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

/// With no PATH, the programs bundled in the binary (`corpus:<name>`, no
/// checkout needed) but the one POISONED by design: all deterministic, exit
/// 0. By name, the poisoned one is audited (exit 3).
#[test]
fn default_audit_covers_the_bundled_corpus() {
    let out = cli(&["audit", "--runs", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let corpus = std::fs::read_dir(Path::new(REPO).join("corpus/audit"))
        .unwrap()
        .count();
    assert_eq!(stdout.lines().count(), corpus - 1, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with("corpus:") && l.contains(": DETERMINISTIC ")),
        "{stdout}"
    );
    assert!(!stdout.contains("stack_overflow"), "{stdout}");
    let poisoned = cli(&["audit", "--runs", "2", "corpus:stack_overflow.wat"]);
    assert_eq!(poisoned.status.code(), Some(3));
    assert!(
        text(&poisoned.stdout).starts_with("corpus:stack_overflow.wat: POISONED "),
        "{}",
        text(&poisoned.stdout)
    );
}

/// A bundled program by name runs like its file, in child processes too;
/// an unknown name is one error line and exit 2, and the other files are
/// still audited.
#[test]
fn bundled_programs_by_name() {
    let out = cli(&[
        "audit",
        "--processes",
        "corpus:random_bytes.wat",
        "corpus:nope.wat",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("corpus:random_bytes.wat: DETERMINISTIC "),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: corpus:nope.wat: no such bundled program"),
        "{stderr}"
    );
    let file = cli(&["audit", "corpus/audit/random_bytes.wat"]);
    let digest = |s: &str| s.split_whitespace().nth(2).map(str::to_string);
    assert_eq!(digest(&stdout), digest(&text(&file.stdout)));
}

const STACK_OVERFLOW: &str = "corpus/audit/stack_overflow.wat";

#[test]
fn a_poisoned_file_is_reported_poisoned_with_exit_3() {
    let out = cli(&["audit", STACK_OVERFLOW]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "corpus/audit/stack_overflow.wat: POISONED run 0 (wasmtime-wasi/cranelift on \
             wasmtime {WASMTIME_MAJOR}): poisoned (stack overflow) (3 of 3 runs poisoned, "
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("DETERMINISTIC"), "{stdout}");
}

#[test]
fn json_says_poisoned_and_not_deterministic() {
    let out = cli(&["audit", "--json", STACK_OVERFLOW]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let object: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(object["verdict"], "poisoned");
    assert_eq!(object["deterministic"], false);
    assert_eq!(object["poisoned_runs"], 3);
    assert_eq!(object["poisoned"]["status"], "poisoned (stack overflow)");
    assert_eq!(object["divergence"], serde_json::Value::Null);
}

/// Several files exit with the worst status: 2 (errors) > 1 (diverged) > 3
/// (poisoned) > 0.
#[test]
fn exit_status_precedence_is_error_then_diverged_then_poisoned() {
    let random = "corpus/audit/random_bytes.wat";
    let code = |args: &[&str]| cli(args).status.code();
    assert_eq!(code(&["audit", random, STACK_OVERFLOW]), Some(3));
    assert_eq!(code(&["audit", STACK_OVERFLOW, random]), Some(3));
    // Stock randomness diverges; the stack still overflows.
    let stock = ["audit", "--no-determinism"];
    assert_eq!(
        code(&[&stock[..], &[STACK_OVERFLOW, random]].concat()),
        Some(1)
    );
    assert_eq!(
        code(&[&stock[..], &[random, STACK_OVERFLOW]].concat()),
        Some(1)
    );
    assert_eq!(
        code(&[&stock[..], &[STACK_OVERFLOW, random, "missing.wasm"]].concat()),
        Some(2)
    );
    assert_eq!(code(&["audit", "missing.wasm", STACK_OVERFLOW]), Some(2));
}

/// A host error's status names no backend-specific wording, and its message
/// is still shown.
#[test]
fn trace_shows_a_host_errors_message() {
    let dir = std::env::temp_dir().join(format!("dwc-cli-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_clock = dir.join("bad_clock.wat");
    std::fs::write(
        &bad_clock,
        r#"(module
            (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start") (drop (call $now (i32.const 9) (i64.const 1) (i32.const 0)))))"#,
    )
    .unwrap();
    let out = cli(&["trace", bad_clock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with("= trap host error after ") && last.contains(": Invalid enum value"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--dir` snapshots a host directory for every run; the program's file
/// writes land in the runs' trees (compared through the `fs /` digest) and
/// `--export-fs` writes run 0's tree out, never touching the host directory;
/// stock wasmtime-wasi over host copies is reported diverged (its inode
/// numbers differ run to run); a missing `--dir` or a non-empty
/// `--export-fs` is one error line and exit 2.
#[test]
fn dir_snapshots_export_and_stock_divergence() {
    let (_, program, _) = guest("fs_ops");
    let (base, host, dir) = input_dir("dwc-cli-dir");
    let export = base.join("export");
    let export_arg = export.display().to_string();

    let out = cli(&[
        "audit",
        "--dir",
        &dir,
        "--backend",
        "all",
        "--export-fs",
        &export_arg,
        program,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(": DETERMINISTIC "),
        "{}",
        text(&out.stdout)
    );
    let exported = export.join("1-fs_ops.wasm/1-root");
    assert_eq!(
        std::fs::read(exported.join("out/result.txt")).expect("exported"),
        b"rows=3\ndone\n"
    );
    assert!(!host.join("out").exists(), "the host directory was written");

    let out = cli(&["audit", "--dir", &dir, "--no-determinism", program]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(": DIVERGED "),
        "{}",
        text(&out.stdout)
    );

    let out = cli(&["audit", "--dir", &dir, "--export-fs", &export_arg, program]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("exists and is not empty"),
        "{}",
        text(&out.stderr)
    );
    let missing = format!("{}::/", base.join("missing").display());
    let out = cli(&["audit", "--dir", &missing, program]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&base).expect("clean up");
}

/// The same for a component: `--dir` reaches `wasi:filesystem`, run 0's tree
/// is exported, the wasip2 build's output and tree equal the wasip1
/// build's (`--json`), and stock's component over host copies diverges.
#[test]
fn dir_reaches_components() {
    let (_, p1, p2) = guest("fs_ops");
    let (base, host, dir) = input_dir("dwc-cli-p2-dir");
    let export = base.join("export");
    let export_arg = export.display().to_string();
    let out = cli(&["audit", "--dir", &dir, "--export-fs", &export_arg, p2]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(
        std::fs::read(export.join("1-fs_ops.wasm/1-root/out/result.txt")).expect("exported"),
        b"rows=3\ndone\n"
    );
    assert!(!host.join("out").exists(), "the host directory was written");

    let out = cli(&["audit", "--json", "--dir", &dir, p1, p2]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["stdout"], lines[1]["stdout"], "the same output");
    // The final tree's digest: one per preopen, the same for the module and
    // the component (tests/programs.rs checks it is `FsTree::digest`).
    let trees = lines[0]["filesystems"].as_array().expect("filesystems");
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0]["guest_path"], "/");
    assert_eq!(trees[0]["digest"].as_str().map(str::len), Some(64));
    assert_eq!(lines[0]["filesystems"], lines[1]["filesystems"]);

    let out = cli(&["audit", "--dir", &dir, "--no-determinism", p2]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(": DIVERGED "),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&base).expect("clean up");
}

/// A fresh scratch directory `<temp>/<name>-<pid>` holding `host/in/data.csv`,
/// and the `--dir` argument preopening `host` as `/`.
fn input_dir(name: &str) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let base = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let host = base.join("host");
    std::fs::create_dir_all(host.join("in")).expect("host dir");
    std::fs::write(host.join("in/data.csv"), "a,b\n1,2\n3,4\n").expect("input");
    let dir = format!("{}::/", host.display());
    (base, host, dir)
}

/// The digest `audit --json` prints for `path`.
fn digest_of(path: &str) -> String {
    let out = cli(&["audit", "--json", path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let object: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    object["digest"].as_str().expect("a digest").to_string()
}

/// `digest` with its first hex digit changed.
fn altered(digest: &str) -> String {
    let first = if digest.starts_with('0') { "1" } else { "0" };
    format!("{first}{}", &digest[1..])
}

#[test]
fn a_pinned_digest_passes_and_a_wrong_one_fails_naming_file_expected_and_actual() {
    let file = "corpus/audit/random_bytes.wat";
    let digest = digest_of(file);
    let out = cli(&["audit", "--expect-digest", &digest, file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let wrong = altered(&digest);
    let out = cli(&["audit", "--expect-digest", &wrong, file]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a wrong pin fails like a divergence"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: {file}: digest mismatch: expected {wrong}, actual {digest}"
        )),
        "{stderr}"
    );
    // The verdict line is still printed: the program itself is deterministic.
    assert!(text(&out.stdout).contains(": DETERMINISTIC "));

    let out = cli(&["audit", "--expect-digest", "abc", file]);
    assert_eq!(out.status.code(), Some(2), "not a digest");
    let out = cli(&["audit", "--expect-digest", &digest, file, file]);
    assert_eq!(out.status.code(), Some(2), "one pin for two files");
}

#[test]
fn a_digest_file_pins_several_files_and_names_the_one_that_differs() {
    let random = "corpus/audit/random_bytes.wat";
    let exit = "corpus/audit/exit_status.wat";
    let bundled = "corpus:nan_bits.wat";
    let (random_digest, exit_digest, bundled_digest) =
        (digest_of(random), digest_of(exit), digest_of(bundled));
    let dir = std::env::temp_dir().join(format!("dwc-cli-pins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pins = dir.join("digests.json");
    let pins_arg = pins.to_str().unwrap();
    let write = |map: serde_json::Value| std::fs::write(&pins, map.to_string()).unwrap();

    write(serde_json::json!({ random: random_digest, bundled: bundled_digest }));
    let out = cli(&[
        "audit",
        "--json",
        "--expect-digests",
        pins_arg,
        random,
        exit,
        bundled,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let objects: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects[0]["expected_digest"], random_digest.as_str());
    assert_eq!(objects[1]["expected_digest"], serde_json::Value::Null);

    let wrong = altered(&bundled_digest);
    write(serde_json::json!({ random: random_digest, exit: exit_digest, bundled: wrong }));
    let out = cli(&["audit", "--expect-digests", pins_arg, random, exit, bundled]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "error: {bundled}: digest mismatch: expected {wrong}, actual {bundled_digest}"
        )],
        "{stderr}"
    );

    write(serde_json::json!({ "corpus/audit/typo.wat": random_digest }));
    let out = cli(&["audit", "--expect-digests", pins_arg, random]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("corpus/audit/typo.wat is pinned but not audited"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--wall-start`: a program that subtracts 100 s from a new file's `mtim`
/// panics when the wall clock starts at the epoch (its default) and passes,
/// on both preview1 and preview2, when it starts later — given as seconds
/// or as the same instant in RFC 3339, with the same digest. A date before
/// the epoch is a usage error.
#[test]
fn wall_start_lets_programs_compute_with_file_times() {
    let (_, p1, p2) = guest("fs_mtime_arith");
    let (base, _host, dir) = input_dir("dwc-cli-wall-start");
    let out = cli(&["audit", "--json", "--dir", &dir, p1]);
    let at_epoch: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one object");
    assert_eq!(at_epoch["verdict"], "deterministic", "{at_epoch}");
    assert_eq!(
        at_epoch["trap"]["kind"], "UnreachableCodeReached",
        "{at_epoch}"
    );

    let mut digests = Vec::new();
    for program in [p1, p2] {
        for start in ["1000000000", "2001-09-09T01:46:40Z"] {
            let out = cli(&[
                "audit",
                "--json",
                "--wall-start",
                start,
                "--dir",
                &dir,
                program,
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
            let object: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("one object");
            assert_eq!(object["exit_code"], 0, "{object}");
            let stdout = object["stdout"].as_str().expect("hex stdout");
            let bytes: Vec<u8> = (0..stdout.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&stdout[i..i + 2], 16).expect("hex"))
                .collect();
            assert_eq!(
                text(&bytes),
                "mtim 1000000000 set 999999900 read back 999999900\n"
            );
            // The file's time differs from the run at the epoch, and so
            // does the final tree's digest.
            assert_ne!(object["filesystems"], at_epoch["filesystems"]);
            digests.push((program, object["digest"].clone()));
        }
    }
    assert_eq!(digests[0].1, digests[1].1, "seconds and date agree");
    assert_eq!(digests[2].1, digests[3].1, "seconds and date agree");

    let out = cli(&["audit", "--wall-start", "1969-12-31T23:59:59Z", p1]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("before the Unix epoch"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&base).expect("clean up");
}

/// `--export-fs` gives every audited file and every preopen its own folder,
/// numbered in audit and preopen order, with a manifest: two files with one
/// base name (the wasip1 and wasip2 builds of `fs_ops.wasm`) and guest
/// paths `/a/b` and `/a_b` (which once both became `a_b`, the second export
/// failing late) all land apart, and `manifest.json` says which is which.
#[test]
fn export_folders_are_unique_per_file_and_guest_path() {
    let (_, p1, p2) = guest("fs_ops");
    assert_eq!(Path::new(p1).file_name(), Path::new(p2).file_name());
    let (base, _, dir) = input_dir("dwc-cli-export-names");
    for (name, marker) in [("ab", "slash"), ("a_b", "underscore")] {
        std::fs::create_dir_all(base.join(name)).unwrap();
        std::fs::write(base.join(name).join("marker"), marker).unwrap();
    }
    let slash = format!("{}::/a/b", base.join("ab").display());
    let underscore = format!("{}::/a_b", base.join("a_b").display());
    let export = base.join("export");
    let export_arg = export.display().to_string();
    let out = cli(&[
        "audit",
        "--dir",
        &dir,
        "--dir",
        &slash,
        "--dir",
        &underscore,
        "--export-fs",
        &export_arg,
        p1,
        p2,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(export.join("manifest.json")).expect("manifest"))
            .expect("manifest is JSON");
    let programs = manifest["programs"].as_array().expect("programs");
    assert_eq!(programs.len(), 2);
    for (program, path) in programs.iter().zip([p1, p2]) {
        assert_eq!(program["path"], *path);
        let folder = export.join(program["folder"].as_str().expect("folder"));
        let trees: Vec<(&str, &str)> = program["trees"]
            .as_array()
            .expect("trees")
            .iter()
            .map(|t| (t["guest"].as_str().unwrap(), t["folder"].as_str().unwrap()))
            .collect();
        assert_eq!(
            trees,
            [("/", "1-root"), ("/a/b", "2-a_b"), ("/a_b", "3-a_b")],
            "{manifest}"
        );
        assert_eq!(
            std::fs::read(folder.join("1-root/out/result.txt")).expect("root tree"),
            b"rows=3\ndone\n"
        );
        assert_eq!(
            std::fs::read(folder.join("2-a_b/marker")).unwrap(),
            b"slash"
        );
        assert_eq!(
            std::fs::read(folder.join("3-a_b/marker")).unwrap(),
            b"underscore"
        );
    }
    assert_eq!(programs[0]["folder"], "1-fs_ops.wasm");
    assert_eq!(programs[1]["folder"], "2-fs_ops.wasm");
    std::fs::remove_dir_all(&base).expect("clean up");
}

/// `--processes` with `--dir` and `--stdin`: the child runs on the parent's
/// snapshot and stdin bytes (sent down its stdin), and agrees.
#[test]
fn processes_with_dir_and_stdin_agree() {
    let (_, program, _) = guest("fs_script");
    let (base, _, dir) = input_dir("dwc-cli-processes-inputs");
    let stdin = base.join("script.txt");
    std::fs::write(&stdin, "read in/data.csv\nwrite out.txt hi\nls /\n").unwrap();
    let stdin_arg = stdin.display().to_string();
    let out = cli(&[
        "audit",
        "--processes",
        "--dir",
        &dir,
        "--stdin",
        &stdin_arg,
        program,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(": DETERMINISTIC "),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&base).expect("clean up");
}

/// The attack on a case-insensitive host, end to end: the guest makes a
/// symlink `A` out of the export and a file `a`. `--export-fs` refuses the
/// tree (exit 2, one line naming both paths), writes nothing of it, and
/// nothing appears next to the export.
#[test]
fn export_refuses_a_guest_tree_with_a_case_collision() {
    let (_, program, _) = guest("fs_script");
    let (base, _, dir) = input_dir("dwc-cli-export-case");
    let script = base.join("script.txt");
    std::fs::write(&script, "symlink ../../../victim A\nwrite a pwned\n").unwrap();
    let export = base.join("export");
    let (script_arg, export_arg) = (script.display().to_string(), export.display().to_string());
    let out = cli(&[
        "audit",
        "--dir",
        &dir,
        "--stdin",
        &script_arg,
        "--export-fs",
        &export_arg,
        program,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`A` and `a` differ only in case"),
        "{stderr}"
    );
    assert!(!export.join("1-fs_script.wasm/1-root").exists());
    assert!(!base.join("victim").exists() && !export.join("victim").exists());
    std::fs::remove_dir_all(&base).expect("clean up");
}

// `--max-stack`: with the logical stack limit on, unbounded recursion is an
// ordinary deterministic trap on every strategy and backend (and in a child
// process); a native overflow despite the limit is reported as a bug.

/// The bundled recursion program, by its bundled name.
const BUNDLED_STACK_OVERFLOW: &str = "corpus:stack_overflow.wat";

#[test]
fn stack_overflow_is_deterministic_with_the_limit_on() {
    let all = ["--strategy", "all", "--backend", "all", "--runs", "2"];
    let out = cli(&[
        &["audit", "--max-stack", "default"],
        &all[..],
        &[BUNDLED_STACK_OVERFLOW],
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
        &["audit", "--max-stack", "8192"],
        &all[..],
        &[BUNDLED_STACK_OVERFLOW],
    ]
    .concat());
    let digest = |s: &str| s.split_whitespace().nth(2).map(str::to_string);
    assert_eq!(digest(&stdout), digest(&text(&numbered.stdout)));
    // Another limit traps at another depth: another digest (fuel differs).
    let smaller = cli(&[
        &["audit", "--max-stack", "1000"],
        &all[..],
        &[BUNDLED_STACK_OVERFLOW],
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
        BUNDLED_STACK_OVERFLOW,
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(": DETERMINISTIC "), "{stdout}");
}

#[test]
fn trace_runs_with_the_limit() {
    let out = cli(&["trace", "--max-stack", "default", BUNDLED_STACK_OVERFLOW]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("= trap UnreachableCodeReached after 0 calls"),
        "{stdout}{}",
        text(&out.stderr)
    );
}

/// A component's core modules are rewritten too: the wasip2 build of a
/// program runs under the default limit with the output, exit and host
/// calls it has without it (only fuel, and so the digest, differ), and a
/// limit too small for its frames makes it trap deterministically.
#[test]
fn a_component_runs_under_the_limit() {
    let (_, _, p2) = guest("hashmap_order");
    let audit = |limit: Option<&str>| {
        let mut args = vec!["audit", "--json", "--strategy", "all"];
        args.extend(limit.map(|l| ["--max-stack", l]).iter().flatten());
        args.push(p2);
        let out = cli(&args);
        let line: serde_json::Value =
            serde_json::from_str(text(&out.stdout).trim()).expect("one json line");
        (out.status.code(), line)
    };
    let (code, without) = audit(None);
    assert_eq!(code, Some(0), "{without}");
    let (code, with) = audit(Some("default"));
    assert_eq!(code, Some(0), "{with}");
    assert_eq!(with["verdict"], "deterministic");
    for field in ["stdout", "stderr", "exit_code", "host_calls"] {
        assert_eq!(with[field], without[field], "{field}");
    }
    assert_ne!(
        with["digest"], without["digest"],
        "the rewritten program ran"
    );
    let (code, tiny) = audit(Some("40"));
    assert_eq!(code, Some(0), "{tiny}");
    assert_eq!(tiny["verdict"], "deterministic");
    assert_eq!(tiny["trap"]["kind"], "UnreachableCodeReached", "{tiny}");
}

/// A limit too large for the native stack lets the recursion overflow it
/// first: with the limit on, that is a bug in the guarantee, reported as an
/// error (exit 2) rather than a quiet POISONED verdict.
#[test]
fn a_native_overflow_with_the_limit_on_is_reported_as_a_bug() {
    let out = cli(&["audit", "--max-stack", "4294967295", BUNDLED_STACK_OVERFLOW]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}{stderr}", text(&out.stdout));
    assert!(
        stderr.contains(&format!(
            "BUG: run 0 (wasmtime-wasi/cranelift on wasmtime {WASMTIME_MAJOR}) overflowed \
             the native stack"
        )),
        "{stderr}"
    );
}

#[test]
fn a_bad_limit_is_one_error_line_and_exit_2() {
    for bad in ["0", "-1", "lots", "4294967296"] {
        let out = cli(&[
            "audit",
            &format!("--max-stack={bad}"),
            BUNDLED_STACK_OVERFLOW,
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("is not a limit"), "{bad}: {stderr}");
    }
}

/// The other wasmtime major this project builds the command for.
const OTHER_MAJOR: u32 = if WASMTIME_MAJOR == 46 { 50 } else { 46 };

/// A stand-in for the other major's build: a script that runs this binary
/// and passes its output through `filter` (a sed program), so it prints
/// what the other build would, with `filter`'s change. Written under
/// `dir`.
fn stand_in(dir: &Path, name: &str, filter: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let script = dir.join(name);
    std::fs::write(
        &script,
        format!("#!/bin/sh\nset -e\n'{}' \"$@\" | sed '{filter}'\n", BIN),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// `cli(args)` with `DWC_WASMTIME_<other>` naming `build`.
fn cli_with_build(build: &Path, args: &[&str]) -> Output {
    command(args)
        .env(format!("DWC_WASMTIME_{OTHER_MAJOR}"), build)
        .output()
        .expect("run the CLI")
}

/// The sed program that makes this build's child output claim the other
/// major, as the other build's does.
fn as_other_major() -> String {
    format!("s/\"wasmtime\":{WASMTIME_MAJOR}/\"wasmtime\":{OTHER_MAJOR}/")
}

/// `--wasmtime all`: the other major's runs are child processes of its
/// build, one per backend it has and strategy, each named with its major
/// (text and JSON); agreeing runs are DETERMINISTIC.
#[test]
#[cfg(unix)]
fn wasmtime_all_adds_the_other_builds_runs_and_names_them() {
    let dir = std::env::temp_dir().join(format!("dwc-cli-wasmtime-{}", std::process::id()));
    let build = stand_in(&dir, "other", &as_other_major());
    let out = cli_with_build(
        &build,
        &[
            "audit",
            "--wasmtime",
            "all",
            "--backend",
            "all",
            "--strategy",
            "all",
            "--json",
            "corpus/audit/clocks_sleep.wat",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "deterministic");
    assert_eq!(
        report["wasmtime"],
        serde_json::json!([WASMTIME_MAJOR, OTHER_MAJOR])
    );
    let runs = report["run_details"].as_array().unwrap();
    let other: Vec<String> = runs
        .iter()
        .filter(|r| r["wasmtime"] == OTHER_MAJOR)
        .map(|r| format!("{} {}", r["backend"], r["strategy"]))
        .collect();
    // wasi-common ended with wasmtime 46: the other build has it only if
    // it is 46.
    let mut expected = vec![
        "\"wasmtime-wasi\" \"cranelift\"".to_string(),
        "\"wasmtime-wasi\" \"pulley\"".to_string(),
    ];
    if OTHER_MAJOR == 46 && cfg!(feature = "wasi-common") {
        expected.insert(1, "\"wasi-common\" \"cranelift\"".into());
        expected.push("\"wasi-common\" \"pulley\"".into());
    }
    assert_eq!(other, expected);
    assert!(
        runs.iter()
            .filter(|r| r["wasmtime"] == OTHER_MAJOR)
            .all(|r| r["child_process"] == true
                && r["run"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("on wasmtime {OTHER_MAJOR}"))),
        "{runs:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run on the other major that differs (here its fuel) is a divergence,
/// and the first difference names both majors.
#[test]
#[cfg(unix)]
fn a_difference_on_the_other_wasmtime_is_diverged_and_named() {
    let dir = std::env::temp_dir().join(format!("dwc-cli-wasmtime-diff-{}", std::process::id()));
    // The fuel field gains a leading 9 on the other build.
    let filter = format!("{};s/\\[\"fuel consumed\",\"/&9/", as_other_major());
    let build = stand_in(&dir, "other", &filter);
    let args = [
        "audit",
        "--wasmtime",
        "all",
        "corpus/audit/clocks_sleep.wat",
    ];
    let out = cli_with_build(&build, &args);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "DIVERGED run 0 (wasmtime-wasi/cranelift on wasmtime {WASMTIME_MAJOR}) vs run 3 \
             (wasmtime-wasi/cranelift on wasmtime {OTHER_MAJOR}, fresh engine, child process): fuel consumed"
        )),
        "{stdout}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = cli_with_build(&build, &json_args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["divergence"]["expected_wasmtime"], WASMTIME_MAJOR);
    assert_eq!(report["divergence"]["actual_wasmtime"], OTHER_MAJOR);
    assert_eq!(report["divergence"]["field"], "fuel consumed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--ignore-field "fuel consumed"` (the README's way to accept the fuel a
/// newer wasmtime charges): a run differing only in fuel agrees, and says
/// what was not compared; one differing in fuel and in another field is
/// still DIVERGED on that field; a name that is no field is exit 2.
#[test]
#[cfg(unix)]
fn ignoring_a_field_across_wasmtime_still_compares_every_other() {
    let dir = std::env::temp_dir().join(format!("dwc-cli-ignore-{}", std::process::id()));
    let fuel = format!("{};s/\\[\"fuel consumed\",\"/&9/", as_other_major());
    let build = stand_in(&dir, "fuel", &fuel);
    let file = "corpus/audit/clocks_sleep.wat";
    let ignore = ["--ignore-field", "fuel consumed"];
    let args = |extra: &[&'static str]| {
        let mut args = vec!["audit", "--wasmtime", "all", file];
        args.extend_from_slice(&ignore);
        args.extend_from_slice(extra);
        args
    };
    let out = cli_with_build(&build, &args(&[]));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(": DETERMINISTIC "), "{stdout}");
    assert!(
        stdout.contains(", not compared: fuel consumed)"),
        "{stdout}"
    );
    let out = cli_with_build(&build, &args(&["--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "deterministic");
    assert_eq!(
        report["ignored_fields"],
        serde_json::json!(["fuel consumed"])
    );

    // Fuel and the host-call count differ: the count is the difference.
    let both = format!("{fuel};s/\\[\"host calls\",\"/&9/");
    let build = stand_in(&dir, "both", &both);
    let out = cli_with_build(&build, &args(&["--json"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["divergence"]["field"], "host calls");

    let out = cli(&["audit", "--ignore-field", "fuel", file]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`fuel` is not a fingerprint field"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A missing build, one that is not the major it is named for, and a build
/// that would hand an audit back: one line each, exit 2, nothing run.
#[test]
#[cfg(unix)]
fn a_missing_or_wrong_other_build_is_one_line_and_exit_2() {
    let file = "corpus/audit/clocks_sleep.wat";
    let missing = Path::new("/nonexistent/dwc-build");
    let out = cli_with_build(missing, &["audit", "--wasmtime", "all", file]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("/nonexistent/dwc-build: no such file"),
        "{stderr}"
    );

    // This very binary named as the other major's build: its child output
    // names its own major.
    let this = Path::new(BIN);
    let out = cli_with_build(this, &["audit", "--wasmtime", "all", file]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "is a build of wasmtime {WASMTIME_MAJOR}, not {OTHER_MAJOR}"
        )),
        "{stderr}"
    );

    // `--wasmtime <other>` hands the audit to that build; this binary as
    // that build would hand it on again, and stops instead.
    let other = OTHER_MAJOR.to_string();
    let out = cli_with_build(this, &["audit", "--wasmtime", &other, file]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("check DWC_WASMTIME_{OTHER_MAJOR}")),
        "{stderr}"
    );

    let out = cli(&["audit", "--wasmtime", "47", file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("use 46, 50 or all"));
}

/// The WASI 0.3 guests built with wit-bindgen's async bindings, under the
/// command as a user types it: DETERMINISTIC across Stores, Engines, a child
/// process and both strategies; the racing one DIVERGED under stock.
#[test]
fn async_guests_are_deterministic_across_processes_and_strategies() {
    let base = std::env::temp_dir().join(format!("dwc-cli-p3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("root")).expect("scratch dir");
    std::fs::write(base.join("stdin"), "hello, stdin\n").expect("stdin file");
    let dir = format!("{}::/", base.join("root").display());
    let stdin = base.join("stdin").display().to_string();
    let programs: Vec<&str> = test_programs_p3::PROGRAMS.iter().map(|(_, p)| *p).collect();
    let mut args = vec!["audit", "--processes", "--strategy", "all", "--dir", &dir];
    args.extend(["--stdin", &stdin]);
    args.extend(&programs);
    let out = cli(&args);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.lines().count(), programs.len(), "{stdout}");
    for line in stdout.lines() {
        assert!(line.contains(": DETERMINISTIC "), "{line}");
        assert!(line.contains("(exit 0, 7 runs)"), "{line}");
    }
    let race = test_programs_p3::P3_RACE;
    let out = cli(&[
        "audit",
        "--no-determinism",
        "--dir",
        &dir,
        "--stdin",
        &stdin,
        race,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(": DIVERGED "),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !base.join("root/big").exists(),
        "the host directory was written"
    );
    std::fs::remove_dir_all(&base).expect("clean up");
}
