//! Record and replay: every guest program recorded under stock
//! wasmtime-wasi and replayed in another process, audits of replays, the
//! reports a changed program gets, and bad logs.
#![cfg(feature = "cli")]

use deterministic_wasi_ctx::audit::{self, AuditConfig, Compiled, Status, Strategy};
use deterministic_wasi_ctx::replay::{self, LogError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "common/command.rs"]
mod command;

use command::{REPO, cli, text};

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} / {}", text(&out.stdout), text(&out.stderr)))
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dwc-replay-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a recording and its replay must agree on.
const SAME: [&str; 7] = [
    "stdout",
    "stderr",
    "exit_code",
    "trap",
    "host_calls",
    "fuel_consumed",
    "trace_digest",
];

/// Every guest program, its wasip1 module and its wasip2 component,
/// recorded under stock with a preopen, stdin, arguments and environment,
/// is replayed in another process with the same stdout, stderr, exit,
/// calls, fuel and trace (every byte every call wrote into guest memory,
/// or every value a component's call returned), and an audit of the replay
/// on both strategies, in a child process too, is DETERMINISTIC.
#[test]
fn every_test_program_replays_as_recorded_in_a_fresh_process() {
    let dir = scratch("programs");
    let inputs = [
        "--dir",
        "test-programs/fixtures/root::/",
        "--stdin",
        "test-programs/fixtures/fs_script.txt",
        "--arg",
        "prog",
        "--arg",
        "x",
        "--env",
        "K=V",
    ];
    let builds = test_programs::PROGRAMS
        .iter()
        .flat_map(|(name, p1, p2)| [(format!("{name}.p1"), p1), (format!("{name}.p2"), p2)]);
    let mut components = 0;
    for (name, p1) in builds {
        let log = dir.join(format!("{name}.log"));
        let log = log.to_str().unwrap();
        let mut args = vec!["record", "--json", "--out", log, p1];
        args.extend(inputs);
        let recorded = cli(&args);
        // Wasmtime 50 cannot lift two borrowed handles into one dynamic
        // host function: a component importing one (`poll`, `link-at`) is
        // refused there with one line that says so (README, "Record and
        // replay"); every other program is recorded.
        if cfg!(wasmtime_50)
            && name.ends_with(".p2")
            && text(&recorded.stderr).contains("wasmtime 50's dynamic host functions")
        {
            assert_eq!(recorded.status.code(), Some(2), "{name}");
            assert_eq!(text(&recorded.stderr).lines().count(), 1, "{name}");
            continue;
        }
        components += usize::from(name.ends_with(".p2"));
        assert_eq!(
            recorded.status.code(),
            Some(0),
            "{name}: {}",
            text(&recorded.stderr)
        );
        let recorded = json(&recorded);
        let replayed = cli(&["replay", "--json", log, p1]);
        assert_eq!(
            replayed.status.code(),
            Some(0),
            "{name}: {}",
            text(&replayed.stderr)
        );
        let replayed = json(&replayed);
        for field in SAME {
            assert_eq!(recorded[field], replayed[field], "{name}: {field}");
        }
        let audited = cli(&[
            "audit",
            "--replay",
            log,
            "--strategy",
            "all",
            "--runs",
            "2",
            "--processes",
            p1,
        ]);
        assert_eq!(
            audited.status.code(),
            Some(0),
            "{name}: {}",
            text(&audited.stderr)
        );
        assert!(
            text(&audited.stdout).contains(": DETERMINISTIC "),
            "{name}: {}",
            text(&audited.stdout)
        );
    }
    assert!(components >= 4, "only {components} components replayed");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A recording of a program that reads the real world differs from the
/// next recording; each log replays to its own run, so a replay's answers
/// come from its log, not the host.
#[test]
fn two_recordings_differ_and_each_replays_to_its_own() {
    let dir = scratch("twice");
    let (_, p1, _) = test_programs::PROGRAMS
        .iter()
        .find(|(n, _, _)| *n == "random_bytes")
        .unwrap();
    let mut runs = Vec::new();
    for i in 0..2 {
        let log = dir.join(format!("{i}.log")).to_str().unwrap().to_string();
        let recorded = json(&cli(&["record", "--json", "--out", &log, p1]));
        let replayed = json(&cli(&["replay", "--json", &log, p1]));
        assert_eq!(recorded["stdout"], replayed["stdout"]);
        runs.push(recorded["stdout"].clone());
    }
    assert_ne!(
        runs[0], runs[1],
        "stock's entropy gave the same bytes twice"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A program in WebAssembly text: `body` is `_start`'s.
fn program(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "\48\00\00\00\03\00\00\00abc")
  (func (export "_start") {body}))"#
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

const CALLS: &str = "(drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0)))
    (drop (call $random (i32.const 16) (i32.const 8)))
    (drop (call $write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 32)))";

#[test]
fn a_changed_program_stops_at_the_call_that_differs() {
    let dir = scratch("changed");
    let original = program(&dir, "original.wat", CALLS);
    let log = dir.join("run.log").to_str().unwrap().to_string();
    let recorded = cli(&["record", "--out", &log, &original]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        text(&recorded.stderr)
    );
    assert_eq!(text(&recorded.stdout), "abc");
    let replayed = cli(&["replay", &log, &original]);
    assert_eq!(
        (replayed.status.code(), text(&replayed.stdout)),
        (Some(0), "abc".into())
    );

    let cases = [
        // Another argument at call 1.
        (
            CALLS.replace(
                "(i32.const 16) (i32.const 8)",
                "(i32.const 16) (i32.const 9)",
            ),
            "replay diverged at call 1: recorded random_get(buf=0x10, len=8), replayed random_get(buf=0x10, len=9)",
        ),
        // Another call at call 0.
        (
            CALLS.replacen(
                "(drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0)))",
                "(drop (call $random (i32.const 0) (i32.const 4)))",
                1,
            ),
            "replay diverged at call 0: recorded clock_time_get(id=monotonic, precision=1, time_ptr=0x0), replayed random_get(buf=0x0, len=4)",
        ),
        // The same calls, other bytes written out at call 2.
        (
            format!("(i32.store8 (i32.const 72) (i32.const 65)) {CALLS}"),
            "replay diverged at call 2: recorded fd_write(fd=1, iovs=0x40, iovs_len=1, n_ptr=0x20) with the data recorded, replayed the same call with other data in guest memory",
        ),
        // One call fewer.
        (
            CALLS.rsplit_once("(drop").unwrap().0.to_string(),
            "replay diverged at call 2: recorded fd_write(fd=1, iovs=0x40, iovs_len=1, n_ptr=0x20), replayed the end of the run",
        ),
        // One call more.
        (
            format!("{CALLS} (drop (call $random (i32.const 16) (i32.const 1)))"),
            "replay diverged at call 3: recorded the end of the run, replayed random_get(buf=0x10, len=1)",
        ),
    ];
    for (i, (body, report)) in cases.iter().enumerate() {
        let changed = program(&dir, &format!("changed-{i}.wat"), body);
        let out = cli(&["replay", &log, &changed]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "case {i}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "case {i}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {changed}: {report}")),
            "case {i}: {stderr}"
        );
        // The log's header names the program it recorded: the report says
        // this is another one.
        assert!(
            stderr.contains(" (the log was recorded from another program: BLAKE3 "),
            "case {i}: {stderr}"
        );
        // Audited, the mismatch is the same every run, and an error, with
        // the same note.
        let audited = cli(&["audit", "--replay", &log, "--strategy", "all", &changed]);
        assert_eq!(audited.status.code(), Some(1), "case {i}");
        let stderr = text(&audited.stderr);
        assert!(stderr.contains(report), "case {i}: {stderr}");
        assert!(
            stderr.contains(" (the log was recorded from another program: BLAKE3 "),
            "case {i}: {stderr}"
        );
    }
    // The recorded program itself, cut short by its fuel, is a mismatch
    // too, and no other program: no note.
    for command in ["replay", "audit"] {
        let args = match command {
            "replay" => vec!["replay", "--fuel", "1", &log, &original],
            _ => vec!["audit", "--fuel", "1", "--replay", &log, &original],
        };
        let out = cli(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("replay diverged at call "),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("another program"), "{command}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_logs_get_one_line_and_exit_2() {
    let dir = scratch("bad");
    let original = program(&dir, "p.wat", CALLS);
    let log = dir.join("run.log");
    let log_str = log.to_str().unwrap().to_string();
    assert_eq!(
        cli(&["record", "--out", &log_str, &original]).status.code(),
        Some(0)
    );
    let good = std::fs::read(&log).unwrap();
    let mut version = good.clone();
    version[8] = 9;
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("empty", Vec::new(), "not a deterministic-wasi-ctx log"),
        (
            "text",
            b"hello, world\n".to_vec(),
            "not a deterministic-wasi-ctx log",
        ),
        ("truncated", good[..good.len() - 5].to_vec(), "the log is"),
        ("version", version, "log format version 9"),
        ("flipped", flipped, "the log is"),
    ];
    for (name, bytes, says) in cases {
        let path = dir.join(format!("{name}.log"));
        std::fs::write(&path, &bytes).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            vec!["replay", path, &original],
            vec!["audit", "--replay", path, &original],
        ] {
            let out = cli(&args);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}");
            let stderr = text(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
            assert!(
                stderr.starts_with("error: ") && stderr.contains(says),
                "{name}: {stderr}"
            );
            assert!(out.stdout.is_empty(), "{name}: the guest ran on a bad log");
        }
    }
    let missing = dir.join("missing.log");
    let out = cli(&["replay", missing.to_str().unwrap(), &original]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The library: a recording and its replays on both strategies have one
/// digest (status, output, memory, fuel, trace), and a replay is refused
/// a component.
#[test]
fn a_replay_has_the_recordings_digest_on_both_strategies() {
    let dir = scratch("library");
    for name in [
        "random_bytes.wat",
        "clocks_sleep.wat",
        "poll_mixed.wat",
        "unstable_poll.wat",
        "args_environ.wat",
    ] {
        let wasm = wat::parse_file(Path::new(REPO).join("corpus/audit").join(name)).unwrap();
        let mut spec = AuditConfig::default().spec;
        spec.config = spec.config.args(["prog", "a"]).env([("K", "V")]);
        let engine = Strategy::Cranelift.engine().unwrap();
        let module = wasmtime::Module::new(&engine, &wasm).unwrap();
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let (recorded, _) = audit::record(&engine, &module, &wasm, &spec, file).unwrap();
        assert_eq!(
            replay::verify(std::fs::File::open(&log).unwrap())
                .unwrap()
                .end
                .calls,
            recorded.host_calls
        );
        spec.replay = Some(log.clone());
        for strategy in [Strategy::Cranelift, Strategy::Pulley] {
            let engine = strategy.engine().unwrap();
            let replayed = Compiled::new(&engine, &wasm).unwrap().run(
                &engine,
                audit::Backend::WasmtimeWasi,
                &spec,
            );
            assert_eq!(
                replayed.digest(),
                recorded.digest(),
                "{name} on {strategy:?}: {:?}",
                replayed.trap_message
            );
        }
    }
    // A log that is not one: a bad-log trap, not a run.
    let bad = dir.join("bad.log");
    std::fs::write(&bad, b"nope").unwrap();
    let wasm = wat::parse_file(program(&dir, "p.wat", CALLS)).unwrap();
    let engine = Strategy::Cranelift.engine().unwrap();
    let mut spec = AuditConfig::default().spec;
    spec.replay = Some(bad);
    let outcome =
        Compiled::new(&engine, &wasm)
            .unwrap()
            .run(&engine, audit::Backend::WasmtimeWasi, &spec);
    assert!(
        matches!(&outcome.status, Status::Trapped { kind, .. } if kind == Status::REPLAY_BAD_LOG)
    );
    assert_eq!(outcome.trap_message, Some(LogError::NotALog.to_string()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The replay linker serves async Stores as well (`instantiate_async`,
/// `call_async`): the same answers as a sync replay.
#[test]
fn a_replay_serves_async_stores_too() {
    use deterministic_wasi_ctx::replay::Replayer;
    use deterministic_wasi_ctx::trace::CallResult;
    let dir = scratch("async");
    let wasm = wat::parse_file(program(&dir, "p.wat", CALLS)).unwrap();
    let engine = Strategy::Cranelift.engine().unwrap();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let spec = AuditConfig::default().spec;
    let (recorded, log) = audit::record(&engine, &module, &wasm, &spec, Vec::new()).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    replay::add_to_linker(&mut linker, &module, |r: &mut Replayer| r).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (memory, replayer) = runtime.block_on(async {
        let replayer = Replayer::new(std::io::Cursor::new(log)).unwrap();
        let mut store = wasmtime::Store::new(&engine, replayer);
        store.set_fuel(1_000_000).unwrap();
        let instance = linker.instantiate_async(&mut store, &module).await.unwrap();
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .unwrap();
        start.call_async(&mut store, ()).await.unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let data = memory.data(&store).to_vec();
        let end = store.data_mut().finish(&CallResult::Exit(0)).unwrap();
        (data, (end.calls, store.data().stdout().to_vec()))
    });
    assert_eq!(replayer, (3, recorded.stdout.clone()));
    assert_eq!(recorded.memories[0].2, *blake3::hash(&memory).as_bytes());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A WASI 0.3 component is refused with one line, by `record`, `replay` and
/// `audit --replay` alike (record and replay take preview1 modules and
/// preview2 components), and so is a module's log given a component.
#[test]
fn what_cannot_be_replayed_is_refused_with_one_line() {
    let dir = scratch("component");
    let (_, p1, p2) = test_programs::PROGRAMS
        .iter()
        .find(|(n, _, _)| *n == "random_bytes")
        .unwrap();
    let p3 = test_programs_p3::P3_RACE;
    let log = dir.join("run.log").to_str().unwrap().to_string();
    assert_eq!(cli(&["record", "--out", &log, p1]).status.code(), Some(0));
    for (args, why) in [
        (vec!["record", "--out", &log, p3], "async function"),
        (vec!["replay", &log, p3], "async function"),
        (vec!["audit", "--replay", &log, p3], "async function"),
        (
            vec!["replay", &log, p2],
            "a log of a preview1 module, given a preview2 component",
        ),
    ] {
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A component's recording replayed by another component stops at the
/// first call that differs, naming both; one changed byte in a call's
/// argument data is found too.
#[test]
fn a_component_replayed_by_another_stops_at_the_first_difference() {
    let dir = scratch("component-mismatch");
    let p2 = |wanted: &str| {
        test_programs::PROGRAMS
            .iter()
            .find(|(n, _, _)| *n == wanted)
            .map(|(_, _, p2)| *p2)
            .unwrap()
    };
    let log = dir.join("random.log").to_str().unwrap().to_string();
    let recorded = cli(&["record", "--out", &log, p2("random_bytes")]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        text(&recorded.stderr)
    );
    let out = cli(&["replay", &log, p2("clocks_read")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("replay diverged at call 0: recorded wasi:random/random.get-random-bytes(1), replayed wasi:clocks/"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the log was recorded from another program"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
