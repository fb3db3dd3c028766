//! WASI 0.3 waits: generated chains of concurrent `wait-for` / `wait-until`
//! calls, run as a real 0.3 component, against the independent model of
//! the scheduling rule (`proptests::waits`).

use proptest::prelude::*;
use proptests::model::ModelConfig;
use proptests::strategies::model_config;
use proptests::waits::{self, MAX_CHAINS, MAX_WAITS, Wait};
use proptests::{config, regressions};
use std::sync::OnceLock;

fn engine() -> &'static wasmtime::Engine {
    static ENGINE: OnceLock<wasmtime::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| deterministic_wasi_ctx::engine::deterministic_engine().unwrap())
}

/// Durations and instants near each other (so deadlines tie and interleave)
/// and at the edges (0, saturating sums).
fn wait() -> impl Strategy<Value = Wait> {
    let value = prop_oneof![
        4 => 0u64..40,
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ];
    (any::<bool>(), value).prop_map(|(until, v)| if until { Wait::Until(v) } else { Wait::For(v) })
}

fn chains() -> impl Strategy<Value = Vec<Vec<Wait>>> {
    prop::collection::vec(prop::collection::vec(wait(), 0..=MAX_WAITS), 1..=MAX_CHAINS)
}

proptest! {
    #![proptest_config(config(64, regressions!("p3_waits")))]

    /// Any policy and starts, up to eight chains of up to eight waits: the
    /// whole trace (every clock read, wait and time step) is the model's.
    #[test]
    fn concurrent_waits_follow_the_model(config in model_config(), chains in chains()) {
        waits::check(engine(), &config, &chains).map_err(TestCaseError::fail)?;
    }
}

/// A hand-picked race: ties, a wait already due, a saturating sum.
#[test]
fn ties_due_waits_and_saturation() {
    let chains = vec![
        vec![Wait::For(10), Wait::For(5)],
        vec![Wait::Until(15), Wait::For(0)],
        vec![Wait::For(u64::MAX)],
        vec![Wait::Until(0), Wait::For(15)],
    ];
    let outcome = waits::check(engine(), &ModelConfig::default(), &chains).unwrap();
    assert!(outcome.events.len() > 10);
}

/// The first case the model caught (Tick(14 ns)): clock reads carried a
/// wait past its deadline, and it completed when wasmtime next polled it,
/// ahead of an earlier wait that was due first. A pending wait now
/// completes only when the idle step fires it, in the model's order.
#[test]
fn waits_carried_past_their_deadlines_complete_in_call_order() {
    let config = ModelConfig {
        policy: deterministic_wasi_ctx::ClockPolicy::Tick(std::time::Duration::from_nanos(14)),
        ..ModelConfig::default()
    };
    let chains = vec![
        vec![Wait::For(20)],
        vec![Wait::For(19), Wait::For(1), Wait::For(0)],
        vec![Wait::For(19)],
    ];
    waits::check(engine(), &config, &chains).unwrap();
}
