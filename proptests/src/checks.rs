//! Property bodies: run generated operations on a system, compare with the
//! [`model`](crate::model) and check the invariants. Each returns
//! `Err(TestCaseError)` on a violation, so it can run inside `proptest!` or
//! under a `TestRunner` against a broken system (`tests/bites.rs`).

use crate::CASE_TIME_LIMIT;
use crate::model::{self, ModelConfig, P1Model, P2Model, saturating_nanos};
use crate::run::{self, P1_BACKENDS, P1Backend, ScriptModule};
use crate::timers::{TimerOp, script_text};
use deterministic_wasi_ctx::script::{Op, OpResult, Output, Script, Subscription};
use deterministic_wasi_ctx::{ClockPolicy, DeterminismConfig};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::time::Instant;

/// Something that runs a compiled script and reports one result per
/// operation: a real backend, or (in the bite tests) a broken variant.
pub trait P1System {
    /// A name for failure messages.
    fn describe(&self) -> String;

    /// Runs `module` in a fresh Store with a context built from `config`.
    ///
    /// # Errors
    ///
    /// A trap, as its message.
    fn run(
        &self,
        config: &DeterminismConfig,
        module: &ScriptModule,
    ) -> Result<Vec<OpResult>, String>;
}

impl P1System for P1Backend {
    fn describe(&self) -> String {
        format!("{self:?}")
    }

    fn run(
        &self,
        config: &DeterminismConfig,
        module: &ScriptModule,
    ) -> Result<Vec<OpResult>, String> {
        module.run(*self, config)
    }
}

/// The real preview1 backends as systems.
pub fn real_backends() -> [&'static dyn P1System; 2] {
    [&P1_BACKENDS[0], &P1_BACKENDS[1]]
}

/// A short description of how two results differ (random outputs can be
/// kilobytes long: name the first differing byte instead of printing both).
fn difference(actual: &OpResult, expected: &OpResult) -> String {
    match (&actual.output, &expected.output) {
        (Output::Bytes(a), Output::Bytes(e)) if actual.errno == expected.errno => {
            match a.iter().zip(e).position(|(x, y)| x != y) {
                Some(i) => format!(
                    "byte {i} of {} is {:#04x}, the model says {:#04x}",
                    e.len(),
                    a[i],
                    e[i]
                ),
                None => format!("{} bytes, the model says {}", a.len(), e.len()),
            }
        }
        _ => format!("got {actual:?}, the model says {expected:?}"),
    }
}

/// Compares a run's results with the model's, operation by operation.
///
/// # Errors
///
/// At the first operation whose result differs.
pub fn compare_with_model(
    who: &str,
    ops: &[Op],
    actual: &[OpResult],
    expected: &[OpResult],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(actual.len(), expected.len(), "{}: result count", who);
    for (i, ((op, a), e)) in ops.iter().zip(actual).zip(expected).enumerate() {
        if a != e {
            return Err(TestCaseError::fail(format!(
                "{who}: operation {i} ({op:?}): {}",
                difference(a, e)
            )));
        }
    }
    Ok(())
}

/// Invariants of the clock readings of one run, checked on the real results
/// without the model:
///
/// - every monotonic reading is at least the start and never decreases;
/// - every wall reading is at least the wall start;
/// - both clocks show one timeline: `wall - wall_start` and `monotonic -
///   monotonic_start` (the *elapsed* time) never decrease across the
///   readings of either clock (unsaturated readings only), and two adjacent
///   reads differ by exactly the tick step (0 unless `Tick`);
/// - under `Frozen`, every reading is the start value.
///
/// # Errors
///
/// At the first violation.
pub fn check_timeline(
    config: &ModelConfig,
    ops: &[Op],
    results: &[OpResult],
) -> Result<(), TestCaseError> {
    let wall_start = saturating_nanos(config.wall_start);
    let mono_start = config.monotonic_start;
    let step = match config.policy {
        ClockPolicy::Tick(step) => saturating_nanos(step),
        _ => 0,
    };
    // (operation index, elapsed time, whether the reading saturated)
    let mut readings: Vec<(usize, u64, bool)> = Vec::new();
    let mut last_mono = None;
    for (i, (op, result)) in ops.iter().zip(results).enumerate() {
        let (Op::ClockTimeGet { id, .. }, Output::Time(value), 0) =
            (op, &result.output, result.errno)
        else {
            continue;
        };
        let value = *value;
        let (start, saturated) = match id {
            0 => (wall_start, value == u64::MAX),
            1 => (mono_start, value == u64::MAX),
            _ => continue,
        };
        prop_assert!(
            value >= start,
            "op {}: clock {} read {} before its start {}",
            i,
            id,
            value,
            start
        );
        if *id == 1 {
            if let Some(previous) = last_mono {
                prop_assert!(
                    value >= previous,
                    "op {}: monotonic went back from {} to {}",
                    i,
                    previous,
                    value
                );
            }
            last_mono = Some(value);
        }
        let elapsed = value - start;
        if config.policy == ClockPolicy::Frozen {
            prop_assert_eq!(elapsed, 0, "op {}: a frozen clock moved", i);
        }
        readings.push((i, elapsed, saturated));
    }
    let mut max_elapsed = 0;
    for &(i, elapsed, saturated) in &readings {
        if !saturated {
            prop_assert!(
                elapsed >= max_elapsed,
                "op {}: elapsed time went back ({} < {})",
                i,
                elapsed,
                max_elapsed
            );
            max_elapsed = elapsed;
        }
    }
    for window in readings.windows(2) {
        let [(i, a, a_sat), (j, b, b_sat)] = [window[0], window[1]];
        if a_sat || b_sat {
            continue;
        }
        if j == i + 1 {
            // Adjacent reads: the first read's tick is all that happened.
            let expected = a.saturating_add(step).min(u64::MAX - mono_start);
            prop_assert_eq!(
                b,
                expected,
                "ops {} and {}: adjacent reads must differ by the tick step {}",
                i,
                j,
                step
            );
        }
    }
    Ok(())
}

/// The main preview1 property: `script` run on each of `systems` in a fresh
/// Store gives exactly the model's results, the readings satisfy
/// [`check_timeline`], and each run finishes within [`CASE_TIME_LIMIT`].
///
/// Returns each system's results, for further checks.
///
/// # Errors
///
/// The first failed comparison or invariant.
pub fn check_script(
    systems: &[&dyn P1System],
    config: &ModelConfig,
    script: &Script,
) -> Result<Vec<Vec<OpResult>>, TestCaseError> {
    let module = ScriptModule::new(script);
    let expected = P1Model::new(config).run(script);
    let mut all = Vec::new();
    for system in systems {
        let who = system.describe();
        let started = Instant::now();
        let actual = system
            .run(&config.to_config(), &module)
            .map_err(|e| TestCaseError::fail(format!("{who}: the guest failed: {e}")))?;
        let took = started.elapsed();
        prop_assert!(
            took < CASE_TIME_LIMIT,
            "{}: took {:?} of real time",
            who,
            took
        );
        compare_with_model(&who, &script.ops, &actual, &expected)?;
        check_timeline(config, &script.ops, &actual)
            .map_err(|e| TestCaseError::fail(format!("{who}: {e}")))?;
        all.push(actual);
    }
    Ok(all)
}

/// For scripts of `[read, wait, read]` triples ([`strategies::sleep_case`](crate::strategies::sleep_case)):
/// a plain sleep of `d` (one relative clock subscription) moves the
/// monotonic clock by exactly the documented amount between the two reads:
/// `d` (`AdvanceOnSleep`), the first read's tick plus `d` (`Tick`), nothing
/// (`Frozen`), saturating at `u64::MAX`. Other waits are covered by
/// [`check_script`].
///
/// # Errors
///
/// At the first sleep that moved time by another amount.
pub fn check_sleep_deltas(
    config: &ModelConfig,
    ops: &[Op],
    results: &[OpResult],
) -> Result<(), TestCaseError> {
    for (k, triple) in ops.chunks(3).enumerate() {
        let [_, Op::PollOneoff { subs }, _] = triple else {
            continue;
        };
        let [
            Subscription::Clock {
                timeout,
                absolute: false,
                ..
            },
        ] = subs.as_slice()
        else {
            continue;
        };
        let (Output::Time(before), Output::Time(after)) =
            (&results[3 * k].output, &results[3 * k + 2].output)
        else {
            return Err(TestCaseError::fail(format!("triple {k}: reads failed")));
        };
        let expected = match config.policy {
            ClockPolicy::Frozen => *before,
            ClockPolicy::AdvanceOnSleep => before.saturating_add(*timeout),
            ClockPolicy::Tick(step) => before
                .saturating_add(saturating_nanos(step))
                .saturating_add(*timeout),
        };
        prop_assert_eq!(
            *after,
            expected,
            "triple {}: a sleep of {} ns from {} under {:?}",
            k,
            timeout,
            before,
            config.policy
        );
    }
    Ok(())
}

/// The same script in fresh contexts and Stores gives identical results:
/// twice on each backend, and the same on both backends.
///
/// # Errors
///
/// On the first difference or failed run.
pub fn check_fresh_stores_agree(
    config: &DeterminismConfig,
    script: &Script,
) -> Result<(), TestCaseError> {
    let module = ScriptModule::new(script);
    let mut first: Option<Vec<OpResult>> = None;
    for backend in P1_BACKENDS {
        for round in 0..2 {
            let results = module
                .run(backend, config)
                .map_err(|e| TestCaseError::fail(format!("{backend:?}: {e}")))?;
            match &first {
                None => first = Some(results),
                Some(first) => prop_assert!(
                    &results == first,
                    "{:?} round {} differs from the first run",
                    backend,
                    round
                ),
            }
        }
    }
    Ok(())
}

/// A core module that calls `random_get` once per length, each into its own
/// consecutive region starting at 0, storing the errnos after the data.
///
/// # Panics
///
/// If wasmtime rejects the module (it does not).
pub fn large_random_module(lens: &[u32]) -> wasmtime::Module {
    let total: u32 = lens.iter().sum();
    let errnos = total.div_ceil(8) * 8;
    let pages = (errnos + 4 * lens.len() as u32).div_ceil(65536).max(1);
    let mut body = String::new();
    let mut at = 0u32;
    for (i, len) in lens.iter().enumerate() {
        body.push_str(&format!(
            "    (i32.store (i32.const {}) (call $random_get (i32.const {at}) (i32.const {len})))\n",
            errnos + 4 * i as u32
        ));
        at += len;
    }
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") {pages})
  (func (export "_start")
{body}  ))"#
    );
    wasmtime::Module::new(run::engine(), wat).expect("valid module")
}

/// Long `random_get` requests on both backends give the model's stream.
///
/// # Errors
///
/// On the first difference or failed run.
pub fn check_large_random(seed: u64, lens: &[u32]) -> Result<(), TestCaseError> {
    let module = large_random_module(lens);
    let total: usize = lens.iter().map(|&l| l as usize).sum();
    let expected = model::stream_bytes(&mut model::secure_rng(seed), total);
    let config = DeterminismConfig::new().seed(seed);
    for backend in P1_BACKENDS {
        let memory = run::run_module(backend, &config, &module)
            .map_err(|e| TestCaseError::fail(format!("{backend:?}: {e}")))?;
        let errnos = total.div_ceil(8) * 8;
        for i in 0..lens.len() {
            let errno = &memory[errnos + 4 * i..errnos + 4 * i + 4];
            prop_assert_eq!(errno, &[0u8; 4][..], "{:?}: call {} failed", backend, i);
        }
        if let Some(i) = (0..total).find(|&i| memory[i] != expected[i]) {
            return Err(TestCaseError::fail(format!(
                "{backend:?}: byte {i} of {total} is {:#04x}, the model says {:#04x}",
                memory[i], expected[i]
            )));
        }
    }
    Ok(())
}

/// Runs `ops` through the `p2_timers` component and compares every output
/// line with [`P2Model`]; also checks that `now` never decreases and that
/// the run takes less than [`CASE_TIME_LIMIT`].
///
/// # Errors
///
/// On the first differing line or failed run.
pub fn check_p2_timers(config: &ModelConfig, ops: &[TimerOp]) -> Result<(), TestCaseError> {
    let stdin = script_text(ops);
    let started = Instant::now();
    let out = run::run_p2_timers(&config.to_config(), &stdin);
    let took = started.elapsed();
    prop_assert!(took < CASE_TIME_LIMIT, "took {:?} of real time", took);
    prop_assert_eq!(&out.exit, &Ok(0), "stderr: {}", out.stderr);
    let expected = P2Model::new(config).run(ops);
    compare_lines("component", ops, &out.stdout, &expected)?;
    let mut last = None;
    for line in out.stdout.lines() {
        if let Some(now) = line.strip_prefix("now ") {
            let now: u64 = now
                .parse()
                .map_err(|_| TestCaseError::fail(format!("bad line {line}")))?;
            prop_assert!(last <= Some(now), "monotonic went back to {}", now);
            last = Some(now);
        }
    }
    Ok(())
}

/// Runs `ops` through the preview1 build of `p2_timers` on both backends and
/// compares the output with [`P1Model::timer_op`] (the program's operations
/// as `poll_oneoff` calls).
///
/// # Errors
///
/// On the first differing line or failed run.
pub fn check_p1_timers(config: &ModelConfig, ops: &[TimerOp]) -> Result<(), TestCaseError> {
    let stdin = script_text(ops);
    let mut model = P1Model::new(config);
    let expected: String = ops.iter().map(|op| model.timer_op(op) + "\n").collect();
    for backend in P1_BACKENDS {
        let started = Instant::now();
        let out = run::run_p1_timers(backend, &config.to_config(), &stdin);
        let took = started.elapsed();
        prop_assert!(took < CASE_TIME_LIMIT, "{:?}: took {:?}", backend, took);
        prop_assert_eq!(&out.exit, &Ok(0), "{:?}: stderr: {}", backend, out.stderr);
        compare_lines(&format!("{backend:?}"), ops, &out.stdout, &expected)?;
    }
    Ok(())
}

fn compare_lines(
    who: &str,
    ops: &[TimerOp],
    actual: &str,
    expected: &str,
) -> Result<(), TestCaseError> {
    let (a, e): (Vec<&str>, Vec<&str>) = (actual.lines().collect(), expected.lines().collect());
    for (i, op) in ops.iter().enumerate() {
        let (got, want) = (a.get(i).copied(), e.get(i).copied());
        if got != want {
            return Err(TestCaseError::fail(format!(
                "{who}: line {i} (`{op}`): got {got:?}, the model says {want:?}"
            )));
        }
    }
    prop_assert_eq!(a.len(), e.len(), "{}: line count", who);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn reads(values: &[(u32, u64)]) -> (Vec<Op>, Vec<OpResult>) {
        values
            .iter()
            .map(|&(id, v)| {
                (
                    Op::ClockTimeGet { id, precision: 0 },
                    OpResult {
                        errno: 0,
                        output: Output::Time(v),
                    },
                )
            })
            .unzip()
    }

    #[test]
    fn timeline_check_accepts_one_timeline_and_rejects_others() {
        let config = ModelConfig {
            wall_start: Duration::from_nanos(1_000),
            monotonic_start: 10,
            policy: ClockPolicy::Tick(Duration::from_nanos(2)),
            ..ModelConfig::default()
        };
        let (ops, good) = reads(&[(1, 10), (0, 1_002), (1, 14)]);
        assert!(check_timeline(&config, &ops, &good).is_ok());
        let (ops, backwards) = reads(&[(1, 14), (1, 12)]);
        assert!(check_timeline(&config, &ops, &backwards).is_err());
        let (ops, split) = reads(&[(1, 10), (0, 1_005)]);
        assert!(check_timeline(&config, &ops, &split).is_err());
        let (ops, before_start) = reads(&[(0, 999)]);
        assert!(check_timeline(&config, &ops, &before_start).is_err());
    }
}
