//! Preview2 timer properties through the `p2_timers` guest program:
//! `subscribe-duration` / `subscribe-instant` + `poll` / `block` / `ready`
//! and clock reads against the model of `src/sched/p2.rs`, and the same
//! program's preview1 build (whose operations are `poll_oneoff`s) against
//! the `poll_oneoff` model on both backends.

use deterministic_wasi_ctx::DeterminismConfig;
use proptest::prelude::*;
use proptests::checks;
use proptests::model::ModelConfig;
use proptests::run;
use proptests::strategies::*;
use proptests::timers::{Timer, TimerOp};
use proptests::{config, regressions};

proptest! {
    #![proptest_config(config(512, regressions!("p2_timers")))]

    /// Any policy and starts, any sequence of `now`, `wall`, `res`, sleeps,
    /// `poll`s of up to five duration / instant timers and non-blocking
    /// `ready` checks: every line equals the model's, `now` never
    /// decreases, nothing blocks in real time.
    #[test]
    fn p2_timer_ops_match_model((config, ops) in timer_case()) {
        checks::check_p2_timers(&config, &ops)?;
    }
}

proptest! {
    #![proptest_config(config(256, regressions!("p2_timers")))]

    /// The same scripts as a preview1 module on both backends follow the
    /// `poll_oneoff` rules (where, under `Tick`, each relative timer is a
    /// clock read, and a frozen clock fires no future timer).
    #[test]
    fn p1_build_of_p2_timers_matches_poll_oneoff_model((config, ops) in timer_case()) {
        checks::check_p1_timers(&config, &ops)?;
    }
}

/// Runs are identical in fresh Stores (the component keeps no state across
/// Stores: each context gets its own timeline).
#[test]
fn p2_timers_identical_across_fresh_stores() {
    let stdin = "now\nsleep 5\npoll d:10 i:3\nready d:0\nwall\nrandom 4\n";
    let config = DeterminismConfig::new().seed(9);
    let first = run::run_p2_timers(&config, stdin);
    assert_eq!(first.exit, Ok(0), "{first:?}");
    for _ in 0..2 {
        assert_eq!(run::run_p2_timers(&config, stdin), first);
    }
}

/// The minimal case `p2_timer_ops_match_model` found: a `poll` of timers
/// whose deadlines ascend in list order made *every* timer ready and moved
/// time to the latest deadline (each ready timer unregistered its wait, so
/// the next one became "the earliest" and advanced time again). The model
/// (and `src/sched/p2.rs`'s docs): time moves to the earliest deadline only.
#[test]
fn p2_poll_of_ascending_deadlines_advances_to_the_earliest_only() {
    let ops = [
        TimerOp::Poll(vec![Timer::Duration(1), Timer::Duration(2)]),
        TimerOp::Now,
        TimerOp::Poll(vec![
            Timer::Duration(100),
            Timer::Instant(200),
            Timer::Duration(300),
        ]),
        TimerOp::Now,
    ];
    checks::check_p2_timers(&ModelConfig::default(), &ops).expect("matches the model");
    let out = run::run_p2_timers(
        &DeterminismConfig::new(),
        &proptests::timers::script_text(&ops),
    );
    assert_eq!(out.stdout, "poll 0\nnow 1\npoll 0\nnow 101\n");
}
