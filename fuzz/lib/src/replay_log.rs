//! `replay_log`: record-and-replay logs as untrusted input.
//!
//! A generated preview1 script (a clock read, 8 random bytes and a write
//! to stdout, then the [`Script`] of `p1_script`: clocks,
//! random, `poll_oneoff` with timeouts cut to below 1 ms, arguments,
//! environment, writes to stdout and stderr, exit) is recorded under stock
//! wasmtime-wasi ([`audit::record`]), and its log replayed
//! ([`RunSpec::replay`](deterministic_wasi_ctx::audit::RunSpec::replay)):
//!
//! - as recorded, the replay must have the recording's digest (status,
//!   output, memory, fuel, the trace of every byte written);
//! - changed as the input says — a bit flipped or the log cut short, or
//!   one call's record changed (a result, an argument, the name, a write's
//!   offset, length or bytes, a write added, the exit, the input digest, a
//!   call dropped or repeated) and written again with a valid digest — the
//!   replay must not panic, and a log [`verify`] refuses must end the replay
//!   with a replay failure, never a normal end.
//!
//! The same change is then made to a preview2 component's log, read back
//! into typed values rather than written into memory
//! ([`check_component`]): the `p2_timers` component, recorded once per
//! process under stock (resolutions, a sleep, a `poll` of two timers, a
//! readiness check, stdin: answers the same in every process, so an input
//! replays alike anywhere), must replay as recorded unchanged and fail,
//! never panic or end normally, on a log [`verify`] refuses.

use crate::{shared_engine, spec};
use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{self, Backend, Compiled, Outcome, Status, Strategy};
use deterministic_wasi_ctx::replay::{Entry, LogCall, LogReader, LogWriter, ProgramKind, verify};
use deterministic_wasi_ctx::script::{Op, Script, Subscription};
use deterministic_wasi_ctx::trace::{CallResult, Returned, WriteRef};
use std::sync::Arc;

/// A structured input: the script to record, and what to do to its log.
#[derive(Clone, Debug, Arbitrary)]
pub struct LogInput {
    /// The program.
    pub script: Script,
    /// The change made to its log before the replay.
    pub mutation: Mutation,
}

/// What is done to a log before it is replayed.
#[derive(Clone, Debug, Arbitrary)]
pub enum Mutation {
    /// Nothing: the replay must match the recording.
    None,
    /// One bit flipped (position modulo the log's length).
    FlipBit {
        /// Byte.
        at: u32,
        /// Bit (modulo 8).
        bit: u8,
    },
    /// Cut short (to `at` modulo the length).
    Cut {
        /// New length.
        at: u32,
    },
    /// One call's record changed (index modulo the calls).
    Call {
        /// Which call.
        call: u16,
        /// How.
        change: Change,
    },
    /// One call's record left out.
    Drop {
        /// Which call.
        call: u16,
    },
    /// One call's record written twice.
    Repeat {
        /// Which call.
        call: u16,
    },
}

/// A change to one call's record.
#[derive(Clone, Debug, Arbitrary)]
pub enum Change {
    /// Its first returned value.
    Result(i64),
    /// One of its arguments.
    Arg {
        /// Which (modulo the count).
        index: u8,
        /// The new value.
        value: i64,
    },
    /// Its name, to another preview1 function's.
    Name(u8),
    /// A write's offset.
    WriteOffset {
        /// Which write.
        write: u8,
        /// The new offset.
        offset: u32,
    },
    /// A write's length.
    WriteLen {
        /// Which write.
        write: u8,
        /// The new length.
        len: u16,
    },
    /// One byte of a write.
    WriteByte {
        /// Which write.
        write: u8,
        /// Which byte.
        at: u16,
        /// Its new value.
        value: u8,
    },
    /// A write added after the others.
    ExtraWrite {
        /// Where.
        offset: u32,
        /// How many bytes.
        len: u16,
    },
    /// The result becomes an exit with this status.
    Exit(i32),
    /// The result becomes a trap.
    Trap,
    /// The input digest dropped, or set when there was none.
    Inputs,
}

/// Stock sleeps for real: every clock subscription becomes relative and
/// shorter than 1 ms.
fn short_sleeps(script: &mut Script) {
    for op in &mut script.ops {
        if let Op::PollOneoff { subs } = op {
            for sub in subs {
                if let Subscription::Clock {
                    timeout, absolute, ..
                } = sub
                {
                    *timeout %= 1_000_000;
                    *absolute = false;
                }
            }
        }
    }
}

/// Runs one input (see the module docs).
///
/// # Errors
///
/// When the input runs out of bytes.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let mut input = LogInput::arbitrary(u)?;
    short_sleeps(&mut input.script);
    // Every log answers a few calls, whatever the input's first bytes: a
    // clock, entropy and a write, then the generated ones.
    let prelude = [
        Op::ClockTimeGet {
            id: 0,
            precision: 1,
        },
        Op::RandomGet { len: 8 },
        Op::FdWrite {
            fd: 1,
            data: b"replay\n".to_vec(),
        },
    ];
    input.script.ops.splice(0..0, prelude);
    let wasm = input.script.compile().wasm();
    let engine = shared_engine(Strategy::Cranelift);
    let module = wasmtime::Module::new(engine, &wasm).expect("a script compiles");
    let config = DeterminismConfig::new()
        .args(["prog", "a"])
        .env([("K", "V")]);
    let mut spec = spec(config);
    spec.stock = true;
    let (recorded, log) =
        audit::record(engine, &module, &wasm, &spec, Vec::new()).expect("a log in memory");
    let mutated = mutate(&log, &wasm, &input.mutation);
    let path = std::env::temp_dir().join(format!(
        "dwc-replay-log-{}-{:?}.log",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, &mutated).expect("write the log");
    spec.stock = false;
    spec.replay = Some(path.clone());
    let replayed = Compiled::Module(module).run(engine, Backend::WasmtimeWasi, &spec);
    let _ = std::fs::remove_file(&path);
    judge(
        &input.mutation,
        &mutated,
        &recorded,
        &replayed,
        &input.script,
    );
    // One execution, both replays' calls.
    crate::record(replayed.host_calls + check_component(&input.mutation));
    Ok(())
}

/// The checks of one replay of a log changed by `mutation` (see the module
/// docs); `what` names the program in a finding.
fn judge(
    mutation: &Mutation,
    mutated: &[u8],
    recorded: &Outcome,
    replayed: &Outcome,
    what: &dyn std::fmt::Debug,
) {
    if matches!(mutation, Mutation::None) {
        assert_eq!(
            replayed.digest(),
            recorded.digest(),
            "a replay differs from its recording: {what:?}\nrecorded {recorded:?}\nreplayed {replayed:?}",
        );
    } else if verify(mutated).is_err() {
        assert!(
            failed(replayed),
            "a replay of a bad log ended normally: {mutation:?} {:?} ({what:?})",
            replayed.status
        );
    }
}

/// The stdin script of the component whose log every execution also
/// changes. Its answers are the same in every process, so that an input
/// replays the same way wherever it runs (no clock reading or random draw:
/// those are the module's): the resolutions (a `u64` and a record), a
/// sleep, a `poll` of two timers of which only the first can be ready
/// ([0]), a timer not ready yet, and stdin read as byte lists; handles are
/// made and dropped throughout.
const COMPONENT_SCRIPT: &str =
    "res\nsleep 1000\npoll d:10 d:2000000000\nready d:2000000000\nno such line\n";

/// `p2_timers`, compiled, and its log recorded under stock.
struct ComponentLog {
    compiled: Compiled,
    log: Vec<u8>,
    recorded: Outcome,
}

fn component_spec() -> audit::RunSpec {
    let mut spec = spec(DeterminismConfig::new().stdin(COMPONENT_SCRIPT.as_bytes()));
    spec.fuel = 1_000_000_000;
    spec
}

fn component_log() -> &'static ComponentLog {
    static LOG: std::sync::OnceLock<ComponentLog> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let engine = shared_engine(Strategy::Cranelift);
        let wasm = test_programs::P2_P2_TIMERS_BYTES;
        let compiled = Compiled::new(engine, wasm).expect("p2_timers compiles");
        let Compiled::Component(component, _) = &compiled else {
            panic!("p2_timers is a component");
        };
        let mut spec = component_spec();
        spec.stock = true;
        let (recorded, log) = audit::record_component(engine, component, wasm, &spec, Vec::new())
            .expect("a log in memory");
        assert_eq!(recorded.status, Status::Exited(0), "{recorded:?}");
        ComponentLog {
            compiled,
            log,
            recorded,
        }
    })
}

/// Replays `p2_timers`' log changed by `mutation` (see the module docs);
/// returns the calls the replay answered.
///
/// # Panics
///
/// On a finding.
pub fn check_component(mutation: &Mutation) -> u64 {
    let component = component_log();
    let mutated = mutate(&component.log, test_programs::P2_P2_TIMERS_BYTES, mutation);
    let path = std::env::temp_dir().join(format!(
        "dwc-replay-component-log-{}-{:?}.log",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, &mutated).expect("write the log");
    let mut spec = component_spec();
    spec.replay = Some(path.clone());
    let engine = shared_engine(Strategy::Cranelift);
    let replayed = component.compiled.run(engine, Backend::WasmtimeWasi, &spec);
    let _ = std::fs::remove_file(&path);
    judge(
        mutation,
        &mutated,
        &component.recorded,
        &replayed,
        &"p2_timers",
    );
    replayed.host_calls
}

/// Whether a replay ended in a replay failure.
fn failed(outcome: &Outcome) -> bool {
    matches!(&outcome.status, Status::Trapped { kind, .. }
        if kind == Status::REPLAY_MISMATCH || kind == Status::REPLAY_BAD_LOG)
}

/// `log` changed by `mutation`.
fn mutate(log: &[u8], wasm: &[u8], mutation: &Mutation) -> Vec<u8> {
    let mut log = log.to_vec();
    match *mutation {
        Mutation::None => log,
        Mutation::FlipBit { at, bit } => {
            let at = at as usize % log.len();
            log[at] ^= 1 << (bit % 8);
            log
        }
        Mutation::Cut { at } => {
            log.truncate(at as usize % log.len());
            log
        }
        Mutation::Call { call, ref change } => rewrite(&log, wasm, call, |calls, i| {
            change_call(&mut calls[i], change)
        }),
        Mutation::Drop { call } => rewrite(&log, wasm, call, |calls, i| {
            calls.remove(i);
        }),
        Mutation::Repeat { call } => rewrite(&log, wasm, call, |calls, i| {
            let copy = calls[i].clone();
            calls.insert(i, copy);
        }),
    }
}

/// The log read whole, `edit` applied at call `call` (modulo the count; no
/// edit for a log of no calls), written again with a valid digest.
fn rewrite(
    log: &[u8],
    wasm: &[u8],
    call: u16,
    edit: impl FnOnce(&mut Vec<LogCall>, usize),
) -> Vec<u8> {
    let mut reader = LogReader::new(log).expect("a recorded log reads");
    let mut calls = Vec::new();
    let end = loop {
        match reader.next_entry().expect("a recorded log reads") {
            Entry::Call(call) => calls.push(call),
            Entry::End(end) => break end,
        }
    };
    if !calls.is_empty() {
        let i = usize::from(call) % calls.len();
        edit(&mut calls, i);
    }
    let mut writer = match reader.kind() {
        ProgramKind::Module => LogWriter::new(Vec::new(), wasm),
        ProgramKind::Component => LogWriter::new_component(Vec::new(), wasm),
    }
    .expect("in memory");
    for call in &calls {
        let writes: Vec<WriteRef<'_>> = call
            .writes
            .iter()
            .map(|(offset, bytes)| WriteRef::Bytes {
                offset: *offset,
                bytes,
            })
            .collect();
        let result = match &call.result {
            CallResult::Returned(values) => Returned::Values(values),
            CallResult::Exit(status) => Returned::Exit(*status),
            CallResult::Trapped => Returned::Trapped,
        };
        writer
            .call(
                &call.name,
                call.preview0,
                &call.args,
                result,
                &writes,
                call.inputs,
            )
            .expect("in memory");
    }
    // `finish` writes the count of calls written.
    writer.finish(&end).expect("in memory")
}

fn change_call(call: &mut LogCall, change: &Change) {
    let pick = |n: usize, i: u8| (n > 0).then(|| usize::from(i) % n);
    match *change {
        Change::Result(value) => match &mut call.result {
            CallResult::Returned(values) if !values.is_empty() => values[0] = value,
            _ => call.result = CallResult::Returned(vec![value]),
        },
        Change::Arg { index, value } => {
            if let Some(i) = pick(call.args.len(), index) {
                call.args[i] = value;
            }
        }
        Change::Name(i) => {
            let names = &crate::P1_FUNCTIONS;
            call.name = names[usize::from(i) % names.len()].0.to_string();
        }
        Change::WriteOffset { write, offset } => {
            if let Some(i) = pick(call.writes.len(), write) {
                call.writes[i].0 = offset;
            }
        }
        Change::WriteLen { write, len } => {
            if let Some(i) = pick(call.writes.len(), write) {
                let mut bytes = call.writes[i].1.to_vec();
                bytes.resize(usize::from(len), 0x5a);
                call.writes[i].1 = Arc::from(bytes);
            }
        }
        Change::WriteByte { write, at, value } => {
            if let Some(i) = pick(call.writes.len(), write) {
                let mut bytes = call.writes[i].1.to_vec();
                if !bytes.is_empty() {
                    let at = usize::from(at) % bytes.len();
                    bytes[at] = value;
                }
                call.writes[i].1 = Arc::from(bytes);
            }
        }
        Change::ExtraWrite { offset, len } => call
            .writes
            .push((offset, Arc::from(vec![0xa5; usize::from(len)]))),
        Change::Exit(status) => call.result = CallResult::Exit(status),
        Change::Trap => call.result = CallResult::Trapped,
        Change::Inputs => {
            call.inputs = match call.inputs {
                Some(_) => None,
                None => Some([7; 16]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Mutation, check_component, component_log};
    use arbitrary::{Arbitrary, Unstructured};

    /// A component's log, changed every way `Mutation` has (300 seeded
    /// changes), never panics the replay, and a log `verify` refuses always
    /// ends it in a replay failure; unchanged, it replays as recorded.
    #[test]
    fn a_component_log_survives_every_change() {
        assert!(component_log().recorded.host_calls > 20);
        assert!(check_component(&Mutation::None) > 20);
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let mutation = Mutation::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
            kinds.insert(std::mem::discriminant(&mutation));
            let _ = check_component(&mutation);
        }
        assert_eq!(kinds.len(), 6, "every kind of change was made");
    }
}
