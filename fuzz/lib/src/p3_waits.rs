//! `p3_waits`: WASI 0.3 components that run up to eight chains of up to
//! eight `wait-for` / `wait-until` calls concurrently
//! ([`proptests::waits::component_wat`]), under any seed, clock policy and
//! starts. Two fresh Stores must give identical fingerprints, `run` must
//! return `ok`, and the whole trace (every clock read, wait and time step,
//! in order) must equal what the independent model of the scheduling rule
//! predicts ([`proptests::waits::expected_trace`]).

use crate::ContextInput;
use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::audit::{
    Backend, Compiled, Fingerprint, Status, Strategy, first_difference,
};
use deterministic_wasi_ctx::script::fs::offset;
use proptests::waits::{MAX_CHAINS, MAX_WAITS, Wait, component_wat, expected_trace};

/// One wait: small values (so deadlines tie and interleave) or wide ones.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum WaitInput {
    /// `wait-for(n)`, `n` < 256 ns.
    For(u8),
    /// `wait-until(n)`, `n` < 256 ns.
    Until(u8),
    /// `wait-for(n)` with `n` spread by [`offset`]: exactly on and near
    /// 2^31, 2^32, 2^63 and `u64::MAX` as often as anywhere else (a
    /// deadline past the end of time saturates).
    ForAny(u64),
    /// `wait-until(n)`, `n` spread the same way.
    UntilAny(u64),
    /// `wait-until(start + n)`, `n` < 256 ns after the monotonic clock's
    /// start (saturating): due exactly at the start for 0, and tying with
    /// the small `wait-for`s of other chains.
    UntilStart(u8),
}

impl WaitInput {
    /// The wait, for a monotonic clock that starts at `start`.
    pub fn wait(self, start: u64) -> Wait {
        match self {
            WaitInput::For(n) => Wait::For(u64::from(n)),
            WaitInput::Until(n) => Wait::Until(u64::from(n)),
            WaitInput::ForAny(n) => Wait::For(offset(n)),
            WaitInput::UntilAny(n) => Wait::Until(offset(n)),
            WaitInput::UntilStart(n) => Wait::Until(start.saturating_add(u64::from(n))),
        }
    }
}

/// A structured input: the context, then 1 to 8 chains of 0 to 8 waits
/// each (decoded by count, so short inputs already make many calls).
#[derive(Clone, Debug)]
pub struct P3WaitsInput {
    /// Seed, clock policy and starts.
    pub context: ContextInput,
    /// The chains (the component keeps the first eight of each, and eight
    /// chains at most).
    pub chains: Vec<Vec<WaitInput>>,
}

impl<'a> Arbitrary<'a> for P3WaitsInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let context = u.arbitrary()?;
        let chains = (0..u.int_in_range(1..=MAX_CHAINS)?)
            .map(|_| {
                (0..u.int_in_range(0..=MAX_WAITS)?)
                    .map(|_| u.arbitrary())
                    .collect()
            })
            .collect::<arbitrary::Result<_>>()?;
        Ok(P3WaitsInput { context, chains })
    }
}

impl P3WaitsInput {
    /// The chains as the model and the component take them.
    pub fn chains(&self) -> Vec<Vec<Wait>> {
        self.chains
            .iter()
            .map(|c| {
                c.iter()
                    .map(|w| w.wait(self.context.monotonic_start))
                    .collect()
            })
            .collect()
    }
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    // Drawn again while it holds no wait (`crate::non_empty`).
    let input = crate::non_empty(
        u,
        |u| u.arbitrary::<P3WaitsInput>(),
        |i| i.chains.iter().take(8).all(|c| c.is_empty()),
    )?;
    check(&input);
    Ok(())
}

/// All checks for one input (panics on a finding).
pub fn check(input: &P3WaitsInput) {
    let chains = input.chains();
    let wat = component_wat(&chains);
    let fail =
        |what: String| -> ! { panic!("p3_waits: {what}\ninput: {input:?}\ncomponent:\n{wat}") };
    let engine = crate::shared_engine(Strategy::Cranelift);
    let wasm = wat::parse_str(&wat).unwrap_or_else(|e| fail(format!("component text: {e}")));
    let compiled = Compiled::new(engine, &wasm).unwrap_or_else(|e| fail(format!("compile: {e:?}")));
    let model = input.context.model();
    let mut spec = crate::spec(model.to_config());
    spec.max_events = 1_000;
    let first = compiled.run(engine, Backend::WasmtimeWasi, &spec);
    let second = compiled.run(engine, Backend::WasmtimeWasi, &spec);
    crate::record(first.host_calls);
    if let Some(difference) =
        first_difference(&Fingerprint::of(&first), &Fingerprint::of(&second), None)
    {
        fail(format!("two Stores differ: {difference}"));
    }
    if first.status != Status::Exited(0) {
        fail(format!(
            "status {} ({:?})",
            first.status, first.trap_message
        ));
    }
    let got: Vec<String> = first.events.iter().map(|e| e.to_string()).collect();
    let want = expected_trace(&model, &chains);
    if let Some(line) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        fail(format!(
            "trace line {line}: got {:?}, the model says {:?}",
            got.get(line),
            want.get(line)
        ));
    }
}
