//! A stock preview2 run traced through the forwarder answers as an
//! untraced one, and its trace shows what the host answered.

use super::{forward, forwarder_instances, instantiate_traced_component};
use crate::trace::{CallResult, Recorder};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Stock {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Stock {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// What one run under stock gave: stdout, stderr, how `run` ended.
struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    ended: Result<bool, String>,
}

fn program(name: &str) -> Vec<u8> {
    let path = test_programs::PROGRAMS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, p2)| *p2)
        .expect("a test program");
    std::fs::read(path).expect("the test program is built")
}

/// Runs `wasm` under stock, through the forwarder when `recorder` is given.
fn run(engine: &Engine, wasm: &[u8], stdin: &str, recorder: Option<&Recorder>) -> Run {
    let component = Component::new(engine, wasm).unwrap();
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
        .stdin(MemoryInputPipe::new(stdin.to_string()))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .args(&["prog", "one"])
        .env("KEY", "value")
        .build();
    let mut store = Store::new(
        engine,
        Stock {
            ctx,
            table: ResourceTable::new(),
        },
    );
    store.set_fuel(u64::MAX).unwrap();
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let instance = match recorder {
        Some(recorder) => {
            let forwarder = forward::forwarder(wasm).unwrap();
            instantiate_traced_component(&linker, &mut store, &component, &forwarder, recorder)
        }
        None => linker.instantiate(&mut store, &component),
    }
    .unwrap();
    let command = Command::new(&mut store, &instance).unwrap();
    let ended = match command.wasi_cli_run().call_run(&mut store) {
        Ok(result) => Ok(result.is_ok()),
        Err(error) => Err(format!("{error:?}")),
    };
    Run {
        stdout: stdout.contents().to_vec(),
        stderr: stderr.contents().to_vec(),
        ended,
    }
}

#[test]
fn a_traced_run_answers_as_an_untraced_one() {
    let engine = crate::engine::deterministic_engine().unwrap();
    let wasm = program("stdio_write");
    let recorder = Recorder::new(1000);
    let (plain, traced) = (
        run(&engine, &wasm, "some input", None),
        run(&engine, &wasm, "some input", Some(&recorder)),
    );
    assert_eq!(traced.stdout, plain.stdout);
    assert_eq!(traced.stderr, plain.stderr);
    assert_eq!(traced.ended, Ok(true));
    assert_eq!(plain.ended, Ok(true));
    let stdout = String::from_utf8(traced.stdout).unwrap();
    assert!(
        stdout.contains("stdin 10 bytes: \"some input\""),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"args ["prog", "one"] env [("KEY", "value")]"#),
        "{stdout}"
    );

    let trace = recorder.trace();
    let names: Vec<&str> = trace.events().iter().map(|c| c.name.as_str()).collect();
    assert!(trace.calls() > 5, "{names:?}");
    assert_eq!(trace.calls(), trace.events().len() as u64);
    for expected in [
        "wasi:cli/environment.get-arguments",
        "wasi:cli/environment.get-environment",
        "wasi:cli/stdout.get-stdout",
        "wasi:io/streams.[method]output-stream.write",
        "wasi:io/streams.[method]input-stream.blocking-read",
    ] {
        assert!(names.contains(&expected), "no {expected} in {names:?}");
    }
    // The stdin read's answer is in the trace: `ok(list<u8>)` as 0, then
    // the list's length, with its bytes written at that position.
    let read = trace
        .events()
        .iter()
        .find(|c| {
            c.name == "wasi:io/streams.[method]input-stream.blocking-read"
                && c.result == CallResult::Returned(vec![0, 10])
        })
        .expect("the read of the 10 bytes of stdin");
    assert_eq!(
        read.writes,
        vec![crate::trace::Write::bytes(1, b"some input")]
    );
}

#[test]
fn two_traced_runs_of_a_clock_reader_differ_in_the_clock_answers_only() {
    let engine = crate::engine::deterministic_engine().unwrap();
    let wasm = program("clocks_read");
    let (first, second) = (Recorder::new(1000), Recorder::new(1000));
    let runs = [
        run(&engine, &wasm, "", Some(&first)),
        run(&engine, &wasm, "", Some(&second)),
    ];
    for run in &runs {
        assert_eq!(
            run.ended,
            Ok(true),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let (first, second) = (first.trace(), second.trace());
    // Real time: the runs' answers differ, so do their digests, and the
    // first difference is a clock reading.
    assert_ne!(first.digest(), second.digest());
    let heads = |t: &crate::trace::Trace| -> Vec<(String, Vec<i64>)> {
        t.events()
            .iter()
            .map(|c| (c.name.clone(), c.args.clone()))
            .collect()
    };
    assert_eq!(heads(&first), heads(&second));
    let differing = first
        .events()
        .iter()
        .zip(second.events())
        .find(|(a, b)| a != b)
        .map(|(a, _)| a.name.clone());
    let differing = differing.expect("two runs on real time differ");
    assert!(
        differing.starts_with("wasi:clocks/"),
        "first difference: {differing}"
    );
}

/// Wasmtime 50 cannot lift two borrowed handles into one dynamic host
/// function (`poll`'s list), so a component importing such a function is
/// not forwarded there, and says why.
#[cfg(wasmtime_50)]
#[test]
fn a_function_lent_two_handles_is_refused_on_wasmtime_50() {
    let why = forward::forwarder(&program("p2_timers")).unwrap_err();
    let why = format!("{why:#}");
    assert!(why.contains("imports `poll` from `wasi:io/poll@"), "{why}");
    assert!(why.contains("wasmtime 50"), "{why}");
    assert!(forward::imports(&program("p2_timers")).is_err());
    assert!(forward::forwarder(&program("stdio_write")).is_ok());
}

#[cfg(not(wasmtime_50))]
#[test]
fn borrowed_and_dropped_handles_are_traced() {
    let engine = crate::engine::deterministic_engine().unwrap();
    let wasm = program("p2_timers");
    let recorder = Recorder::new(1000);
    let run = run(
        &engine,
        &wasm,
        "sleep 1000\npoll d:10 d:2000000000\nrandom 4\n",
        Some(&recorder),
    );
    assert_eq!(
        run.ended,
        Ok(true),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..2], ["slept", "poll 0"], "{stdout}");
    assert!(
        lines[2].starts_with("random ") && lines[2].len() == 15,
        "{stdout}"
    );

    let trace = recorder.trace();
    let events = trace.events();
    let text: Vec<String> = events.iter().map(|c| c.to_string()).collect();
    // `poll` borrows a list of two pollables: their numbers follow its
    // length; it answers with the list of ready indices, [0].
    let poll = events
        .iter()
        .find(|c| c.name == "wasi:io/poll.poll")
        .unwrap_or_else(|| panic!("no poll in {text:#?}"));
    assert_eq!(poll.args.len(), 3, "{poll}");
    assert_eq!(poll.args[0], 2, "{poll}");
    assert_eq!(poll.result, CallResult::Returned(vec![1, 0]), "{poll}");
    // Both of its pollables are dropped after it, and each drop names one.
    let at = events
        .iter()
        .position(|c| c.name == "wasi:io/poll.poll")
        .unwrap();
    let mut dropped: Vec<i64> = events[at..]
        .iter()
        .filter(|c| c.name == "wasi:io/poll.[resource-drop]pollable")
        .map(|c| c.args[0])
        .collect();
    dropped.sort_unstable();
    assert_eq!(dropped, poll.args[1..].to_vec(), "{text:#?}");
    // The random bytes the guest printed are the ones the trace holds.
    let random = events
        .iter()
        .find(|c| c.name == "wasi:random/random.get-random-bytes")
        .unwrap_or_else(|| panic!("no get-random-bytes in {text:#?}"));
    let crate::trace::Write::Bytes { prefix, .. } = &random.writes[0] else {
        panic!("{random}");
    };
    let hex: String = prefix.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(lines[2], format!("random {hex}"), "{random}");
}

#[test]
fn a_guest_exit_is_traced_as_an_exit() {
    let engine = crate::engine::deterministic_engine().unwrap();
    let wasm = program("exit_code");
    let recorder = Recorder::new(1000);
    let (plain, traced) = (
        run(&engine, &wasm, "some input", None),
        run(&engine, &wasm, "some input", Some(&recorder)),
    );
    assert_eq!(traced.stdout, plain.stdout);
    let last = recorder.trace().events().last().cloned().unwrap();
    assert_eq!(last.name, "wasi:cli/exit.exit");
    assert!(matches!(last.result, CallResult::Exit(_)), "{last}");
    assert!(traced.ended.is_err() && plain.ended.is_err());
}

#[test]
fn the_forwarder_counts_its_instances() {
    let forwarder = forward::forwarder(&program("stdio_write")).unwrap();
    assert!(forwarder_instances(&forwarder) > 1);
    let names: Vec<&str> = forwarder
        .imports
        .resources
        .iter()
        .map(|(_, r)| r.as_str())
        .collect();
    assert!(names.contains(&"output-stream"), "{names:?}");
    assert!(forward::forwarder(b"\0asm\x01\0\0\0").is_err());
}
