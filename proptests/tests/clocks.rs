//! Clock properties for every policy, through real preview1 guest calls on
//! both backends (compiled scripts), against the model of `src/clocks.rs`
//! and `src/sched/poll.rs`.

use deterministic_wasi_ctx::{ClockPolicy, VirtualClock};
use proptest::collection::vec;
use proptest::prelude::*;
use proptests::checks::{self, real_backends};
use proptests::model::{ClockModel, saturating_nanos};
use proptests::strategies::*;
use proptests::{config, regressions};
use std::time::Duration;

proptest! {
    #![proptest_config(config(1024, regressions!("clocks")))]

    /// Sequences of wall / monotonic reads, `clock_res_get`, sleeps, general
    /// `poll_oneoff`s (relative and absolute clocks, fd subscriptions, bad
    /// ids and descriptors), `sched_yield` and short `random_get`s, under
    /// any policy and starts: every result equals the model's, monotonic
    /// never decreases, wall and monotonic show one timeline, and nothing
    /// blocks in real time.
    #[test]
    fn p1_clock_ops_match_model((config, script) in clock_case()) {
        checks::check_script(&real_backends(), &config, &script)?;
    }
}

proptest! {
    #![proptest_config(config(512, regressions!("clocks")))]

    /// A monotonic read before and after each wait: a sleep of `d` moves time
    /// by exactly the documented amount, and every wait (sleep, two relative
    /// timers, an absolute deadline) by the model's; no case blocks.
    #[test]
    fn p1_sleeps_advance_exactly_and_never_block((config, script) in sleep_case()) {
        for results in checks::check_script(&real_backends(), &config, &script)? {
            checks::check_sleep_deltas(&config, &script.ops, &results)?;
        }
    }

    /// Starts at the saturation points, ticks of up to `Duration::MAX`,
    /// durations near `u64::MAX`, absolute deadlines at 0 (past) and
    /// `u64::MAX`: no trap or panic, and the model's saturated values.
    #[test]
    fn p1_extreme_times_saturate((config, script) in extreme_case()) {
        checks::check_script(&real_backends(), &config, &script)?;
    }
}

/// One call on the Rust-level [`VirtualClock`].
#[derive(Clone, Copy, Debug)]
enum ApiOp {
    ReadMonotonic,
    ReadWall,
    Peek,
    Sleep(u64),
    AdvanceTo(u64),
}

fn api_op(monotonic_start: u64) -> impl Strategy<Value = ApiOp> {
    prop_oneof![
        3 => Just(ApiOp::ReadMonotonic),
        2 => Just(ApiOp::ReadWall),
        1 => Just(ApiOp::Peek),
        2 => nanos().prop_map(ApiOp::Sleep),
        2 => deadline(monotonic_start).prop_map(ApiOp::AdvanceTo),
    ]
}

fn api_case() -> impl Strategy<Value = (ClockPolicy, Duration, u64, Vec<ApiOp>)> {
    (policy(), wall_start(), monotonic_start())
        .prop_flat_map(|(p, w, m)| (Just(p), Just(w), Just(m), vec(api_op(m), 0..32)))
}

proptest! {
    #![proptest_config(config(2048, regressions!("clocks")))]

    /// The Rust-level timeline (`VirtualClock`: reads, `peek`, `sleep`,
    /// `advance_to`) follows the model too.
    #[test]
    fn virtual_clock_api_matches_model((policy, wall_start, monotonic_start, ops) in api_case()) {
        let clock = VirtualClock::new(policy, wall_start, monotonic_start);
        let mut model = ClockModel::new(policy, wall_start, monotonic_start);
        for (i, op) in ops.iter().enumerate() {
            match *op {
                ApiOp::ReadMonotonic => {
                    prop_assert_eq!(clock.read_monotonic(), model.read_monotonic(), "op {}", i);
                }
                ApiOp::ReadWall => {
                    prop_assert_eq!(saturating_nanos(clock.read_wall()), model.read_wall(), "op {}", i);
                }
                ApiOp::Peek => prop_assert_eq!(clock.peek(), model.peek(), "op {}", i),
                ApiOp::Sleep(d) => {
                    clock.sleep(Duration::from_nanos(d));
                    model.sleep(d);
                }
                ApiOp::AdvanceTo(t) => {
                    clock.advance_to(t);
                    model.advance_to(t);
                }
            }
            prop_assert_eq!(clock.peek(), model.peek(), "after op {} ({:?})", i, op);
        }
    }
}
