//! `p1_script`: a generated [`Script`] (valid pointers) run on the backend
//! the input picks, under a clock policy, seed and clock starts the input
//! picks. Checks:
//!
//! - the audit: two Stores and a fresh Engine give identical fingerprints;
//! - the run finishes with the script's own exit status (never a trap);
//! - clocks never go backwards: successful monotonic (and realtime) reads
//!   are non-decreasing across the script;
//! - every result matches the independent model of `proptests::model`
//!   (`P1Model`: the policy timeline, `poll_oneoff` rules 1-5, the secure
//!   stream), so each sleep moves virtual time by exactly the expected
//!   amount; the model is left at the first read of a CPU-time clock (ids 2
//!   and 3, outside it), and skips `args`/`environ`/`fd_write`/`proc_exit`
//!   (which do not touch time or randomness);
//! - all random bytes, concatenated, equal the reference stream
//!   (`Pcg64Mcg::seed_from_u64(seed)`, one low byte per `next_u64`).

use crate::ContextInput;
use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::audit::{AuditConfig, Backend, Compiled, Outcome, Status, Strategy};
use deterministic_wasi_ctx::script::{CompiledScript, Op, OpResult, Output, Script};
use proptests::model::{P1Model, secure_rng, stream_bytes};

/// A structured input: context settings, backend and the script.
#[derive(Clone, Debug, Arbitrary)]
pub struct ScriptInput {
    /// Seed, clock policy and starts.
    pub context: ContextInput,
    /// `true`: wasi-common, else wasmtime-wasi.
    pub wasi_common: bool,
    /// The calls.
    pub script: Script,
}

impl ScriptInput {
    /// The backend.
    pub fn backend(&self) -> Backend {
        if self.wasi_common {
            Backend::WasiCommon
        } else {
            Backend::WasmtimeWasi
        }
    }

    /// The exit status the script should end with, and how many of its
    /// operations run.
    ///
    /// Both backends trap on a `clock_time_get` / `clock_res_get` whose id
    /// is not a `clockid` (> 3), with different messages (upstream wiggle
    /// enum decoding, not this crate's code); the script ends there. Its
    /// status is a [`Status::HOST_ERROR`] trap either way; the messages are
    /// [`ScriptInput::expected_trap_messages`].
    pub fn expected_end(&self, compiled: &CompiledScript) -> (Status, usize) {
        let ops: Vec<&Op> = compiled.ops().collect();
        if let Some(i) = ops.iter().position(|op| bad_clock_id(op)) {
            return (host_error(), i);
        }
        match ops.last() {
            Some(Op::ProcExit { code }) => (exit_status(*code), ops.len()),
            _ => (Status::Exited(0), ops.len()),
        }
    }

    /// The host error messages the script may end with (see
    /// [`ScriptInput::expected_end`]): none when it should not trap.
    pub fn expected_trap_messages(&self, compiled: &CompiledScript) -> &'static [&'static str] {
        let ops: Vec<&Op> = compiled.ops().collect();
        if ops.iter().any(|op| bad_clock_id(op)) {
            return &BAD_CLOCK_ID_MESSAGES;
        }
        match ops.last() {
            Some(Op::ProcExit { code }) if *code >= 126 => &[INVALID_EXIT_MESSAGE],
            _ => &[],
        }
    }
}

/// The messages of the trap on an out-of-range `clockid`: wasmtime-wasi
/// says the first; wasi-common says either, depending on the id.
pub const BAD_CLOCK_ID_MESSAGES: [&str; 2] = [
    "Invalid enum value Clockid",
    "out of range integral type conversion attempted",
];

/// The message of the trap on `proc_exit` with a status of 126 or above
/// (both backends).
pub const INVALID_EXIT_MESSAGE: &str = "exit with invalid exit status outside of [0..126)";

/// Whether `actual` is the end `expected`: the same exit status, or a trap
/// of the same kind (after however many calls).
pub fn same_end(actual: &Status, expected: &Status) -> bool {
    let kind = |s: &Status| match s {
        Status::Trapped { kind, .. } => Status::Trapped {
            kind: kind.clone(),
            after_calls: 0,
        },
        other => other.clone(),
    };
    kind(actual) == kind(expected)
}

/// A host-error trap (the number of calls is not predicted).
fn host_error() -> Status {
    Status::Trapped {
        kind: Status::HOST_ERROR.to_string(),
        after_calls: 0,
    }
}

/// A clock call whose id is not a `clockid`.
pub fn bad_clock_id(op: &Op) -> bool {
    matches!(op, Op::ClockTimeGet { id, .. } | Op::ClockResGet { id } if *id > 3)
}

/// The status `proc_exit(code)` gives: wasmtime-wasi and wasi-common both
/// refuse codes of 126 and above with a trap ([`INVALID_EXIT_MESSAGE`]).
fn exit_status(code: u32) -> Status {
    if code < 126 {
        Status::Exited(code as i32)
    } else {
        host_error()
    }
}

/// Reads the input, drawing again while it holds no operation
/// ([`crate::non_empty`]); `Err` when the bytes run out first. Clock ids
/// and exit codes are then made mostly valid ([`mostly_below`]).
pub fn input(u: &mut Unstructured) -> arbitrary::Result<ScriptInput> {
    let mut input = crate::non_empty(
        u,
        |u| u.arbitrary::<ScriptInput>(),
        |i| i.script.ops.is_empty(),
    )?;
    for op in &mut input.script.ops {
        match op {
            Op::ClockTimeGet { id, .. } | Op::ClockResGet { id } => *id = mostly_below(*id, 4),
            Op::ProcExit { code } => *code = mostly_below(*code, 126),
            _ => {}
        }
    }
    Ok(input)
}

/// A drawn clock id (`limit` 4) or exit code (`limit` 126) as the script
/// passes it: below `limit` as given; any other value is mapped to
/// `value % limit` unless its bits 8-10 are zero (one in eight stays out of
/// range, to trap as before). A uniform `u32` is a valid `clockid` 4 times
/// in 2^32 and an exit code that does not trap 126 times in 2^32, so every
/// script with a clock call ended there and every `proc_exit` trapped (the
/// census showed no valid id and no exit code 0 in 3,000 inputs).
pub fn mostly_below(value: u32, limit: u32) -> u32 {
    if value < limit || (value >> 8).is_multiple_of(8) {
        value
    } else {
        value % limit
    }
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let input = input(u)?;
    check(&input);
    Ok(())
}

/// All checks for one input (panics on a finding).
pub fn check(input: &ScriptInput) {
    let compiled = input.script.compile();
    let wasm = compiled.wasm();
    let config = AuditConfig {
        runs: 2,
        backends: vec![input.backend()],
        strategies: vec![Strategy::Cranelift],
        spec: spec_keeping_memory(input),
        ignored_fields: Vec::new(),
    };
    // The audit's reference run is also the run the model checks.
    let run = crate::check_audit("p1_script", &wasm, &config, input).outcome;
    let fail = |what: String| -> ! {
        panic!(
            "p1_script: {what}\nbackend: {}\ninput: {input:?}\nrun status: {}\nmodule:\n{}",
            input.backend().name(),
            run.status_text(),
            compiled.wat()
        )
    };
    let (expected, ran) = input.expected_end(&compiled);
    if !same_end(&run.status, &expected) {
        fail(format!("status {:?}, expected {expected:?}", run.status));
    }
    let messages = input.expected_trap_messages(&compiled);
    if let Some(message) = &run.trap_message
        && !messages.contains(&message.as_str())
    {
        fail(format!(
            "trap message {message:?}, expected one of {messages:?}"
        ));
    }
    let Some(memory) = run.memory.as_deref() else {
        fail("the run kept no final memory to decode results from".into())
    };
    let mut results = compiled.results(memory);
    results.truncate(ran);
    let ops: Vec<Op> = compiled.ops().take(ran).cloned().collect();
    if let Err(what) = check_results(input, &ops, &results) {
        fail(what);
    }
}

/// The model checks on decoded results (see the module docs).
pub fn check_results(input: &ScriptInput, ops: &[Op], results: &[OpResult]) -> Result<(), String> {
    let mut model = Some(P1Model::new(&input.context.model()));
    let mut last = [None::<u64>; 2];
    let mut random = Vec::new();
    for (i, (op, result)) in ops.iter().zip(results).enumerate() {
        if let (
            Op::ClockTimeGet {
                id: id @ (0 | 1), ..
            },
            0,
            Output::Time(t),
        ) = (op, result.errno, &result.output)
        {
            let id = *id as usize;
            if let Some(previous) = last[id]
                && *t < previous
            {
                return Err(format!(
                    "op #{i}: clock {id} went backwards: {previous} then {t}"
                ));
            }
            last[id] = Some(*t);
        }
        if let (Op::RandomGet { .. }, 0, Output::Bytes(bytes)) = (op, result.errno, &result.output)
        {
            random.extend_from_slice(bytes);
        }
        let in_model = match op {
            Op::ClockTimeGet { id, .. } | Op::ClockResGet { id } => {
                if *id > 1 {
                    // CPU-time clocks and unknown ids: outside the model.
                    model = None;
                }
                *id <= 1
            }
            Op::Args | Op::Environ | Op::FdWrite { .. } | Op::ProcExit { .. } => false,
            _ => true,
        };
        if in_model && let Some(model) = model.as_mut() {
            let expected = model.apply(op);
            if &expected != result {
                return Err(format!(
                    "op #{i} {op:?}: model says {expected:?}, got {result:?}"
                ));
            }
        }
    }
    let reference = stream_bytes(&mut secure_rng(input.context.seed), random.len());
    if random != reference {
        return Err(format!(
            "random bytes differ from the reference stream: got {}, expected {}",
            proptests::model::hex(&random),
            proptests::model::hex(&reference)
        ));
    }
    Ok(())
}

/// The run spec for `input`, keeping the final memory the results are
/// decoded from.
fn spec_keeping_memory(input: &ScriptInput) -> deterministic_wasi_ctx::audit::RunSpec {
    let mut spec = crate::spec(input.context.config());
    spec.keep_memory = true;
    spec
}

/// Runs `compiled` (the compiled `input.script`) once on each of
/// `backends`, each in a fresh Store on the shared Cranelift Engine, and
/// decodes each run's results (for `backend_diff`). The module is compiled
/// for the Engine once, whatever the number of backends.
pub fn run_on(
    input: &ScriptInput,
    compiled: &CompiledScript,
    backends: &[Backend],
) -> Vec<(Outcome, Vec<OpResult>)> {
    let engine = crate::shared_engine(Strategy::Cranelift);
    let program = Compiled::new(engine, &compiled.wasm()).expect("a script compiles");
    let spec = spec_keeping_memory(input);
    backends
        .iter()
        .map(|&backend| {
            let run = program.run(engine, backend, &spec);
            let results = compiled.results(run.memory.as_deref().unwrap_or_default());
            (run, results)
        })
        .collect()
}
