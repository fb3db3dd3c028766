//! `p2_script`: operation scripts (now, wall, res, sleep, poll, ready,
//! random, u64, insecure, insecure-u64, insecure-seed) driven into the
//! `p2_timers` preview2 component on stdin, through the audit's
//! [`Compiled`] runner. Two Stores on the shared Engine and one Store on a
//! fresh Engine (the component deserialized into it: recompiling a whole
//! Rust component per execution would cost ~100x the execution) must give
//! identical fingerprints, end with status 0, and print what the
//! independent model (`proptests::model::P2Model`) says.

use crate::ContextInput;
use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::audit::{
    Backend, Compiled, Fingerprint, Outcome, Status, Strategy, first_difference,
};
use proptests::model::P2Model;
use proptests::timers::{Timer, TimerOp, script_text};
use std::sync::OnceLock;
use wasmtime::component::Component;

/// One timer.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum TimerInput {
    /// `d:<ns>`.
    Duration(u64),
    /// `i:<ns>`.
    Instant(u64),
}

/// One script line.
#[derive(Clone, Debug, Arbitrary)]
pub enum OpInput {
    /// `now`.
    Now,
    /// `wall`.
    Wall,
    /// `res`.
    Res,
    /// `sleep <ns>`.
    Sleep(u64),
    /// `poll <timers>` (1 to [`MAX_POLL`] timers).
    Poll(TimerInput, Vec<TimerInput>),
    /// `ready <timer>`.
    Ready(TimerInput),
    /// `random <n>` (n at most 1024).
    Random(u16),
    /// `u64`.
    U64,
    /// `insecure <n>` (n at most 1024).
    Insecure(u16),
    /// `insecure-u64`.
    InsecureU64,
    /// `insecure-seed`.
    InsecureSeed,
}

/// A structured input.
#[derive(Clone, Debug, Arbitrary)]
pub struct P2Input {
    /// Seed, clock policy and starts.
    pub context: ContextInput,
    /// The script.
    pub ops: Vec<OpInput>,
}

/// A drawn nanosecond count as the script passes it: kept when small, at
/// or near a boundary, else mapped onto one of those shapes
/// ([`offset`](deterministic_wasi_ctx::script::fs::offset): below 64 Ki,
/// 2^31, 2^32, 2^40, 2^63 and `u64::MAX`, exactly or within 64 KiB), so
/// that timers fire and edges are met (random `u64`s are almost all huge).
fn ns(value: u64) -> u64 {
    deterministic_wasi_ctx::script::fs::offset(value)
}

fn timer(t: TimerInput) -> Timer {
    match t {
        TimerInput::Duration(d) => Timer::Duration(ns(d)),
        TimerInput::Instant(i) => Timer::Instant(ns(i)),
    }
}

/// A random request's length, at most 1024: 0, 1 or 1024 an eighth of the
/// time each, else the drawn value modulo 1025.
fn len(value: u16) -> u32 {
    match value % 8 {
        0 => 0,
        1 => 1,
        2 => 1024,
        _ => u32::from(value >> 3) % 1025,
    }
}

/// The most timers in one `poll` line.
pub const MAX_POLL: usize = 64;

impl P2Input {
    /// The script's operations.
    pub fn ops(&self) -> Vec<TimerOp> {
        self.ops
            .iter()
            .map(|op| match op {
                OpInput::Now => TimerOp::Now,
                OpInput::Wall => TimerOp::Wall,
                OpInput::Res => TimerOp::Res,
                OpInput::Sleep(d) => TimerOp::Sleep(ns(*d)),
                OpInput::Poll(first, rest) => TimerOp::Poll(
                    std::iter::once(first)
                        .chain(rest.iter().take(MAX_POLL - 1))
                        .map(|&t| timer(t))
                        .collect(),
                ),
                OpInput::Ready(t) => TimerOp::Ready(timer(*t)),
                OpInput::Random(n) => TimerOp::Random(len(*n)),
                OpInput::U64 => TimerOp::U64,
                OpInput::Insecure(n) => TimerOp::Insecure(len(*n)),
                OpInput::InsecureU64 => TimerOp::InsecureU64,
                OpInput::InsecureSeed => TimerOp::InsecureSeed,
            })
            .collect()
    }
}

struct Shared {
    compiled: Compiled,
    serialized: Vec<u8>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let engine = crate::shared_engine(Strategy::Cranelift);
        let compiled =
            Compiled::new(engine, test_programs::P2_P2_TIMERS_BYTES).expect("p2_timers compiles");
        compiled
            .check_links(engine, Backend::WasmtimeWasi)
            .expect("p2_timers links");
        let Compiled::Component(component, _) = &compiled else {
            panic!("p2_timers is a component");
        };
        let serialized = component.serialize().expect("serialize p2_timers");
        Shared {
            compiled,
            serialized,
        }
    })
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    // Drawn again while it holds no operation (`crate::non_empty`).
    let input = crate::non_empty(u, |u| u.arbitrary::<P2Input>(), |i| i.ops.is_empty())?;
    check(&input);
    Ok(())
}

/// All checks for one input (panics on a finding).
pub fn check(input: &P2Input) {
    let ops = input.ops();
    let stdin = script_text(&ops);
    let mut spec = crate::spec(input.context.config().stdin(stdin.as_bytes()));
    // The component's own start-up costs fuel; sleeps and polls cost none.
    spec.fuel = 1_000_000_000;
    let shared = shared();
    let engine = crate::shared_engine(Strategy::Cranelift);
    let mut outcomes: Vec<Outcome> = (0..2)
        .map(|_| shared.compiled.run(engine, Backend::WasmtimeWasi, &spec))
        .collect();
    let fresh = Strategy::Cranelift.engine().expect("engine");
    // SAFETY: the bytes were produced by `Component::serialize` in this
    // process, for an engine with the same configuration.
    let component = unsafe { Component::deserialize(&fresh, &shared.serialized) }
        .expect("deserialize p2_timers into a fresh engine");
    let Compiled::Component(_, imports) = &shared.compiled else {
        unreachable!("p2_timers is a component");
    };
    outcomes.push(Compiled::Component(component, imports.clone()).run(
        &fresh,
        Backend::WasmtimeWasi,
        &spec,
    ));
    let fail =
        |what: String| -> ! { panic!("p2_script: {what}\ninput: {input:?}\nstdin:\n{stdin}") };
    // Every unpoisoned run against the first unpoisoned one: a poisoned
    // first run must not hide a difference between the others.
    let Some(first) = outcomes.iter().position(|o| !o.is_poisoned()) else {
        crate::record(outcomes[0].host_calls);
        return;
    };
    let reference = Fingerprint::of(&outcomes[first]);
    for (index, outcome) in outcomes.iter().enumerate().skip(first + 1) {
        if outcome.is_poisoned() {
            continue;
        }
        if let Some(difference) = first_difference(&reference, &Fingerprint::of(outcome), None) {
            fail(format!(
                "run {index} differs from run {first}: {difference}"
            ));
        }
    }
    let outcome = &outcomes[first];
    crate::record(outcome.host_calls);
    if outcome.status != Status::Exited(0) {
        fail(format!(
            "status {}, stderr {}",
            outcome.status,
            String::from_utf8_lossy(&outcome.stderr)
        ));
    }
    let expected = P2Model::new(&input.context.model()).run(&ops);
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    if stdout != expected {
        let line = stdout
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        fail(format!(
            "stdout differs from the model at line {line}:\n got: {:?}\nwant: {:?}",
            stdout.lines().nth(line),
            expected.lines().nth(line)
        ));
    }
}
