//! WASI 0.3 concurrent waits: a generated component that runs chains of
//! `wait-for` / `wait-until` calls concurrently ([`component_wat`]), and an
//! independent model of the scheduling rule ([`expected_trace`]) that
//! predicts its whole trace.
//!
//! The component starts the first wait of every chain at once (chain 0
//! first). Each time a wait completes, it reads the monotonic clock, then
//! starts the next wait of the same chain. A wait that is due when called
//! completes in the call itself (the subtask is already RETURNED). `run`
//! returns `ok` once every chain is done.
//!
//! The rule the model follows (README, "WASI 0.3 components"): a wait's
//! deadline is fixed at the call (now + `d`, saturating, or `t`); time moves
//! only when every chain waits, to the earliest deadline, and the waits due
//! then complete by deadline and then in call order. Under `Frozen` every
//! wait completes at once and time stays; under `Tick(step)` every clock
//! read advances time by `step` after returning.

use crate::model::{ModelConfig, saturating_nanos};
use deterministic_wasi_ctx::ClockPolicy;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// One wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `wait-for(d)`: the deadline is now + `d`.
    For(u64),
    /// `wait-until(t)`: the deadline is `t`.
    Until(u64),
}

/// The most chains, and the most waits in one chain, a component holds.
pub const MAX_CHAINS: usize = 8;
/// See [`MAX_CHAINS`].
pub const MAX_WAITS: usize = 8;

/// The trace the model predicts for `chains` (each cut to [`MAX_WAITS`],
/// at most [`MAX_CHAINS`], empty chains skipped as the component skips
/// them), one line per host call as the crate's trace prints it.
pub fn expected_trace(config: &ModelConfig, chains: &[Vec<Wait>]) -> Vec<String> {
    Model::new(config, chains).run()
}

struct Model<'a> {
    chains: Vec<&'a [Wait]>,
    /// Monotonic time.
    now: u64,
    policy: ClockPolicy,
    /// The next wait of each chain.
    next: Vec<usize>,
    /// Waits not yet complete: deadline, call order, chain.
    pending: BTreeSet<(u64, u64, usize)>,
    calls: u64,
    trace: Vec<String>,
}

impl<'a> Model<'a> {
    fn new(config: &ModelConfig, chains: &'a [Vec<Wait>]) -> Self {
        let chains: Vec<&[Wait]> = chains
            .iter()
            .take(MAX_CHAINS)
            .map(|c| &c[..c.len().min(MAX_WAITS)])
            .collect();
        Model {
            next: vec![0; chains.len()],
            chains,
            now: config.monotonic_start,
            policy: config.policy,
            pending: BTreeSet::new(),
            calls: 0,
            trace: Vec::new(),
        }
    }

    /// A clock read: the value, then `Tick`'s step.
    fn read(&mut self) {
        let value = self.now;
        self.trace.push(format!(
            "wasi:clocks/monotonic-clock.now() -> {}",
            value as i64
        ));
        if let ClockPolicy::Tick(step) = self.policy {
            self.now = self.now.saturating_add(saturating_nanos(step));
        }
    }

    /// Calls the next wait of `chain`; one due at once completes in the
    /// call, and then the chain goes on.
    fn start(&mut self, chain: usize) {
        while let Some(&wait) = self.chains[chain].get(self.next[chain]) {
            self.next[chain] += 1;
            let (name, argument, deadline) = match wait {
                Wait::For(d) => ("wait-for", d, self.now.saturating_add(d)),
                Wait::Until(t) => ("wait-until", t, t),
            };
            self.trace.push(format!(
                "wasi:clocks/monotonic-clock.{name}({}) -> {}",
                argument as i64, deadline as i64
            ));
            self.calls += 1;
            if self.policy != ClockPolicy::Frozen && deadline > self.now {
                self.pending.insert((deadline, self.calls, chain));
                return;
            }
            self.read();
        }
    }

    fn run(mut self) -> Vec<String> {
        self.read();
        for chain in 0..self.chains.len() {
            self.start(chain);
        }
        while let Some((deadline, _, chain)) = self.pending.pop_first() {
            if deadline > self.now {
                self.now = deadline;
                self.trace.push(format!(
                    "timer-fired({}) -> {}",
                    deadline as i64, deadline as i64
                ));
            }
            self.read();
            self.start(chain);
        }
        self.trace
    }
}

/// The component for `chains` (cut as [`expected_trace`] cuts them), in
/// the component text format.
pub fn component_wat(chains: &[Vec<Wait>]) -> String {
    let chains: Vec<&[Wait]> = chains
        .iter()
        .take(MAX_CHAINS)
        .map(|c| &c[..c.len().min(MAX_WAITS)])
        .collect();
    // The table: per chain, at 16 * MAX_WAITS * chain, its waits as
    // (kind: i64 0 = for / 1 = until, value: i64); a chain ends at kind 2.
    let mut data = String::new();
    for (index, chain) in chains.iter().enumerate() {
        let mut bytes = Vec::new();
        for wait in chain.iter() {
            let (kind, value) = match *wait {
                Wait::For(d) => (0u64, d),
                Wait::Until(t) => (1, t),
            };
            bytes.extend(kind.to_le_bytes());
            bytes.extend(value.to_le_bytes());
        }
        bytes.extend(2u64.to_le_bytes());
        let mut escaped = String::new();
        for b in bytes {
            let _ = write!(escaped, "\\{b:02x}");
        }
        let _ = writeln!(
            data,
            "    (data (i32.const {}) \"{escaped}\")",
            TABLE + index * 16 * (MAX_WAITS + 1)
        );
    }
    COMPONENT
        .replace("CHAINS", &chains.len().to_string())
        .replace("STRIDE", &(16 * (MAX_WAITS + 1)).to_string())
        .replace("TABLE", &TABLE.to_string())
        .replace("    ;; DATA\n", &data)
}

/// Where the waits table starts in the component's memory.
const TABLE: usize = 4096;

/// The component, with `CHAINS`, `STRIDE`, `TABLE` and the `;; DATA` line
/// to fill in. Memory: at 0, per chain, the index of its next wait (i32)
/// and at 256 its pending subtask (i32, 0 when none).
const COMPONENT: &str = r#"(component
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (export "now" (func (result u64)))
    (export "wait-for" (func async (param "how-long" u64)))
    (export "wait-until" (func async (param "when" u64)))))
  (alias export $clock "now" (func $now))
  (alias export $clock "wait-for" (func $wait-for))
  (alias export $clock "wait-until" (func $wait-until))
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (core func $now (canon lower (func $now)))
  (core func $wait-for (canon lower (func $wait-for) async))
  (core func $wait-until (canon lower (func $wait-until) async))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable.join (canon waitable.join))
  (core func $subtask.drop (canon subtask.drop))
  (core func $task.return (canon task.return (result (result))))
  (core module $m
    (import "" "now" (func $now (result i64)))
    (import "" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "" "wait-until" (func $wait-until (param i64) (result i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (import "libc" "memory" (memory 1))
    ;; DATA
    (global $set (mut i32) (i32.const 0))
    (global $pending (mut i32) (i32.const 0))

    ;; Calls the next waits of chain $c until one is pending or the chain
    ;; ends; each that completes in its call is followed by a clock read.
    (func $start (param $c i32)
      (local $entry i32) (local $kind i64) (local $status i32)
      (loop $next
        (local.set $entry
          (i32.add (i32.add (i32.const TABLE) (i32.mul (local.get $c) (i32.const STRIDE)))
                   (i32.shl (i32.load (i32.shl (local.get $c) (i32.const 2))) (i32.const 4))))
        (local.set $kind (i64.load (local.get $entry)))
        (if (i64.eq (local.get $kind) (i64.const 2)) (then (return)))
        (i32.store (i32.shl (local.get $c) (i32.const 2))
          (i32.add (i32.load (i32.shl (local.get $c) (i32.const 2))) (i32.const 1)))
        (local.set $status
          (if (result i32) (i64.eqz (local.get $kind))
            (then (call $wait-for (i64.load offset=8 (local.get $entry))))
            (else (call $wait-until (i64.load offset=8 (local.get $entry))))))
        (if (i32.eq (i32.and (local.get $status) (i32.const 0xf)) (i32.const 1))
          (then
            (i32.store offset=256 (i32.shl (local.get $c) (i32.const 2))
              (i32.shr_u (local.get $status) (i32.const 4)))
            (call $waitable.join (i32.shr_u (local.get $status) (i32.const 4)) (global.get $set))
            (global.set $pending (i32.add (global.get $pending) (i32.const 1)))
            (return)))
        ;; RETURNED (2) in the call: anything else is a bug.
        (if (i32.ne (local.get $status) (i32.const 2)) (then unreachable))
        (drop (call $now))
        (br $next)))

    (func $wait-or-exit (result i32)
      (if (i32.eqz (global.get $pending))
        (then
          (call $task.return (i32.const 0))
          (return (i32.const 0))))
      (i32.or (i32.const 2) (i32.shl (global.get $set) (i32.const 4))))

    (func (export "run") (result i32)
      (local $c i32)
      (global.set $set (call $waitable-set.new))
      (drop (call $now))
      (block $done
        (loop $chains
          (br_if $done (i32.ge_u (local.get $c) (i32.const CHAINS)))
          (call $start (local.get $c))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $chains)))
      (call $wait-or-exit))

    ;; A subtask RETURNED: find its chain, read the clock, go on.
    (func (export "cb") (param $event i32) (param $subtask i32) (param $state i32) (result i32)
      (local $c i32)
      (if (i32.or (i32.ne (local.get $event) (i32.const 1))
                  (i32.ne (local.get $state) (i32.const 2)))
        (then unreachable))
      (block $found
        (loop $search
          (br_if $found (i32.eq (i32.load offset=256 (i32.shl (local.get $c) (i32.const 2)))
                                (local.get $subtask)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $search (i32.lt_u (local.get $c) (i32.const CHAINS)))
          unreachable))
      (i32.store offset=256 (i32.shl (local.get $c) (i32.const 2)) (i32.const 0))
      (call $subtask.drop (local.get $subtask))
      (global.set $pending (i32.sub (global.get $pending) (i32.const 1)))
      (drop (call $now))
      (call $start (local.get $c))
      (call $wait-or-exit)))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "now" (func $now))
      (export "wait-for" (func $wait-for))
      (export "wait-until" (func $wait-until))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable.join" (func $waitable.join))
      (export "subtask.drop" (func $subtask.drop))
      (export "task.return" (func $task.return))))
    (with "libc" (instance $libc))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))"#;

/// Runs the component for `chains` once on `engine` under `config` (one
/// fresh Store) and checks it against the model: it returns `ok` (exit 0)
/// and its trace is exactly [`expected_trace`]. Returns the outcome for
/// further comparisons.
///
/// # Errors
///
/// What differs: the status, or the first trace line that is not the
/// model's.
pub fn check(
    engine: &wasmtime::Engine,
    config: &ModelConfig,
    chains: &[Vec<Wait>],
) -> Result<deterministic_wasi_ctx::audit::Outcome, String> {
    use deterministic_wasi_ctx::audit::{Backend, Compiled, RunSpec, Status};
    let wasm = wat::parse_str(component_wat(chains)).map_err(|e| format!("component: {e}"))?;
    let compiled = Compiled::new(engine, &wasm).map_err(|e| format!("compile: {e:?}"))?;
    let spec = RunSpec {
        config: config.to_config(),
        fuel: 100_000_000,
        max_events: 1_000,
        stock: false,
        keep_memory: false,
        writes_from_signatures: false,
        replay: None,
    };
    let outcome = compiled.run(engine, Backend::WasmtimeWasi, &spec);
    if outcome.status != Status::Exited(0) {
        return Err(format!(
            "status {} ({:?})",
            outcome.status, outcome.trap_message
        ));
    }
    let got: Vec<String> = outcome.events.iter().map(|e| e.to_string()).collect();
    let want = expected_trace(config, chains);
    if let Some(line) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        return Err(format!(
            "trace line {line}: got {:?}, the model says {:?}\ngot:  {got:?}\nwant: {want:?}",
            got.get(line),
            want.get(line)
        ));
    }
    Ok(outcome)
}
