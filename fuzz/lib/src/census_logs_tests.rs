//! The census of `replay_log`'s generator ([`crate::census::logs`]): a few
//! thousand seeded inputs decoded (not run), the mutation each makes to its
//! log classified; the test fails naming every kind that never appeared.
//! The calls of the script it records are `p1_script`'s, counted by that
//! target's census. Printed with the others by `cargo test -p
//! deterministic-wasi-ctx-fuzz --lib census -- --nocapture`.

use crate::census::Census;
use crate::census::logs::{LOG_OPS, log_classes, log_universe};
use crate::census_components_tests::add;
use crate::census_tests::report_classes;
use crate::replay_log::{LogInput, Mutation};
use crate::seeded_inputs;
use arbitrary::{Arbitrary, Unstructured};

/// The census of `replay_log`'s seeded inputs, of those `keep` accepts.
/// Inputs go through [`crate::input::continued`] as in the fuzz target.
fn replay_log_census(keep: impl Fn(&LogInput) -> bool) -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(0x109, 3_000, 192) {
        let data = crate::input::continued(&data);
        let Ok(input) = LogInput::arbitrary(&mut Unstructured::new(&data)) else {
            continue;
        };
        if keep(&input) {
            for op in log_classes(&input) {
                add(&mut census, op);
            }
        }
    }
    census
}

#[test]
fn replay_log_census_finds_every_class() {
    report_classes(
        "replay_log",
        &replay_log_census(|_| true),
        &LOG_OPS,
        &log_universe,
        &[],
        &[],
    );
}

/// Without logs cut short, the census says so.
#[test]
fn the_log_census_fails_when_a_class_is_removed() {
    let census = replay_log_census(|i| !matches!(i.mutation, Mutation::Cut { .. }));
    let problems = census.check(&LOG_OPS, &log_universe, &[], &[]);
    assert_eq!(problems, ["never produced: mutation kind:cut"]);
}
