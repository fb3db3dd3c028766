//! The properties bite: run against deliberately broken contexts, the same
//! property bodies the other suites use must fail. Each runs proptest's
//! `TestRunner` directly (deterministic RNG, no failure persistence) and
//! asserts that it reports a failure.

use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
use deterministic_wasi_ctx::random::Pcg64Mcg;
use deterministic_wasi_ctx::sched::VirtualSched;
use deterministic_wasi_ctx::sched::abi::{GuestMemory, Layout, PollError};
use deterministic_wasi_ctx::script::OpResult;
use deterministic_wasi_ctx::{DeterminismConfig, VirtualClock};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use proptests::checks::{self, P1System};
use proptests::model::ModelConfig;
use proptests::run::{self, ScriptModule};
use proptests::strategies;
use std::convert::Infallible;
use std::fmt::Debug;
use std::time::Duration;
use wasmtime::{Caller, Extern, Linker};

/// Runs `property` over `strategy` and returns the failure it must find.
fn must_fail<S: Strategy>(
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> (String, S::Value)
where
    S::Value: Debug,
{
    let config = Config {
        cases: 64,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    match runner.run(&strategy, property) {
        Err(TestError::Fail(reason, case)) => (reason.to_string(), case),
        other => panic!("the property did not catch the broken variant: {other:?}"),
    }
}

/// wasmtime-wasi whose sleeps advance by `d + 1` ns: every `poll_oneoff` of
/// one subscription moves the clock one nanosecond more than asked.
struct SleepOffByOne;

impl SleepOffByOne {
    fn linker() -> Linker<DeterministicP1Ctx> {
        let mut linker = Linker::new(run::engine());
        deterministic_wasi_ctx::p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
        linker.allow_shadowing(true);
        linker
            .func_wrap(
                "wasi_snapshot_preview1",
                "poll_oneoff",
                |mut caller: Caller<'_, DeterministicP1Ctx>,
                 subs: i32,
                 events: i32,
                 n: i32,
                 nevents: i32|
                 -> wasmtime::Result<i32> {
                    let clock: VirtualClock = caller.data().clock().clone();
                    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
                        wasmtime::bail!("no memory");
                    };
                    let mut memory = GuestMemory::new(
                        memory.data_mut(&mut caller),
                        deterministic_wasi_ctx::writes::WriteLog::off(),
                    );
                    let result = deterministic_wasi_ctx::sched::poll::poll_oneoff(
                        &clock,
                        Layout::Preview1,
                        &mut memory,
                        (subs as u32, events as u32, n as u32, nevents as u32),
                        &|fd, _| fd <= 2,
                    );
                    match result {
                        Ok(()) => {
                            if n == 1 {
                                clock.sleep(Duration::from_nanos(1)); // the bug
                            }
                            Ok(0)
                        }
                        Err(PollError::Errno(errno)) => Ok(i32::from(errno as u16)),
                        Err(PollError::Trap(why)) => wasmtime::bail!("{why}"),
                    }
                },
            )
            .expect("shadow poll_oneoff");
        linker
    }
}

impl P1System for SleepOffByOne {
    fn describe(&self) -> String {
        "wasmtime-wasi with sleeps of d + 1".into()
    }

    fn run(
        &self,
        config: &DeterminismConfig,
        module: &ScriptModule,
    ) -> Result<Vec<OpResult>, String> {
        let memory = run::run_core(&Self::linker(), config.build_p1(), module.module())?;
        Ok(module.results(&memory))
    }
}

/// The crate's own secure stream with one bit of one byte flipped.
struct FlipOneByte {
    inner: Pcg64Mcg,
    position: u64,
    flip_at: u64,
}

impl rand_core_010::TryRng for FlipOneByte {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.inner.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.inner.next_u64())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.inner.fill(dest);
        for byte in dest {
            if self.position == self.flip_at {
                *byte ^= 1; // the bug
            }
            self.position += 1;
        }
        Ok(())
    }
}

/// wasi-common whose `random_get` stream has byte 1000 flipped.
struct RandomByteFlipped;

impl P1System for RandomByteFlipped {
    fn describe(&self) -> String {
        "wasi-common with random byte 1000 flipped".into()
    }

    fn run(
        &self,
        config: &DeterminismConfig,
        module: &ScriptModule,
    ) -> Result<Vec<OpResult>, String> {
        let sched = VirtualSched::new(config.virtual_clock());
        let rng = FlipOneByte {
            inner: Pcg64Mcg::seed_from_u64(config.get_seed()),
            position: 0,
            flip_at: 1000,
        };
        let ctx = wasi_common::WasiCtx::new(
            Box::new(rng),
            sched.clocks(),
            Box::new(sched),
            wasi_common::table::Table::new(),
        );
        let mut linker = Linker::new(run::engine());
        wasi_common::sync::add_to_linker(&mut linker, |t| t).map_err(|e| e.to_string())?;
        let memory = run::run_core(&linker, ctx, module.module())?;
        Ok(module.results(&memory))
    }
}

/// The clock property catches a sleep that advances by `d + 1`.
#[test]
fn clock_property_catches_sleep_off_by_one() {
    let (reason, (config, script)) = must_fail(strategies::clock_case(), |(config, script)| {
        checks::check_script(&[&SleepOffByOne], &config, &script).map(drop)
    });
    assert!(reason.contains("d + 1"), "{reason}");
    assert_ne!(config.policy, deterministic_wasi_ctx::ClockPolicy::Frozen);
    assert!(!script.ops.is_empty());
    // The correct backend passes the minimal failing case.
    checks::check_script(&checks::real_backends(), &config, &script).expect("real backends pass");
}

/// The sleep-delta property catches it too, without the model.
#[test]
fn sleep_delta_property_catches_sleep_off_by_one() {
    let (reason, _) = must_fail(strategies::sleep_case(), |(config, script)| {
        let module = ScriptModule::new(&script);
        let results = SleepOffByOne
            .run(&config.to_config(), &module)
            .map_err(TestCaseError::fail)?;
        checks::check_sleep_deltas(&config, &script.ops, &results)
    });
    assert!(reason.contains("a sleep of"), "{reason}");
}

/// The random property catches one flipped byte in the stream.
#[test]
fn random_property_catches_one_flipped_byte() {
    let strategy = (strategies::seed(), strategies::random_script());
    let (reason, (seed, script)) = must_fail(strategy, |(seed, script)| {
        let config = ModelConfig {
            seed,
            ..ModelConfig::default()
        };
        checks::check_script(&[&RandomByteFlipped], &config, &script).map(drop)
    });
    assert!(reason.contains("byte"), "{reason}");
    let config = ModelConfig {
        seed,
        ..ModelConfig::default()
    };
    checks::check_script(&checks::real_backends(), &config, &script).expect("real backends pass");
}

/// The filesystem property, run on a context whose clock starts one
/// nanosecond later than the model's: every snapshot time and every time a
/// call sets is off by one, and the property must say so.
#[test]
fn fs_property_catches_a_clock_one_nanosecond_off() {
    let (reason, _) = must_fail(proptests::fs::strategies::case(8), |case| {
        let late = Duration::from_nanos(case.wall_start + 1);
        proptests::fs::check::check_fs_case(&case, &case.config().wall_start(late))
    });
    assert!(reason.contains("differs from the model"), "{reason}");
}

/// The filesystem property, run on a tree whose first file (in path order)
/// has one byte changed (or, without files, one more file): the property
/// must see it.
#[test]
fn fs_property_catches_one_changed_byte() {
    use proptests::fs::model::Entry;
    use std::collections::BTreeMap;
    fn change_first_file(dir: &mut BTreeMap<String, Entry>) -> bool {
        dir.values_mut().any(|entry| match entry {
            Entry::File(bytes) => {
                match bytes.first_mut() {
                    Some(b) => *b ^= 1,
                    None => bytes.push(0),
                }
                true
            }
            Entry::Dir(children) => change_first_file(children),
            Entry::Symlink(_) => false,
        })
    }
    let (reason, _) = must_fail(proptests::fs::strategies::case(8), |case| {
        let mut changed = case.clone();
        if !change_first_file(&mut changed.tree) {
            changed.tree.insert("d".into(), Entry::File(Vec::new()));
        }
        proptests::fs::check::check_fs_case(&case, &changed.config())
    });
    assert!(reason.contains("model"), "{reason}");
}

/// The wasip1/wasip2 agreement fails when the component's clock starts one
/// nanosecond later (its times, and so its tree, differ).
#[test]
fn std_fs_property_catches_a_component_clock_one_nanosecond_off() {
    let (reason, _) = must_fail(proptests::std_fs::case(12), |case| {
        let mut later = case.clone();
        later.wall_start += 1;
        // A script that changes nothing leaves equal trees: make it write.
        later
            .ops
            .push(proptests::std_fs::StdFsOp::Write("/w".into(), "x".into()));
        let mut same = case.clone();
        same.ops = later.ops.clone();
        proptests::std_fs::check_p1_p2(&same, &later.config()).map(drop)
    });
    assert!(
        reason.contains("tree") || reason.contains("wasip2"),
        "{reason}"
    );
}
