//! The census of `p3_tasks`' generator ([`crate::census::tasks`]), as the
//! component ones ([`crate::census_components_tests`]): 3,000 seeded inputs
//! decoded, every operation and the schedule classified.

use crate::census::Census;
use crate::census::tasks::{TASKS_OPS, tasks_classes, tasks_universe};
use crate::census_components_tests::add;
use crate::census_tests::report_classes;
use crate::seeded_inputs;
use arbitrary::Unstructured;

/// The census of `p3_tasks`' seeded inputs, of those `keep` accepts.
fn p3_tasks_census(keep: impl Fn(&crate::p3_tasks::P3TasksInput) -> bool) -> Census {
    let mut census = Census::default();
    for data in seeded_inputs(0x7a5c, 3_000, 256) {
        let Ok(input) = Unstructured::new(&data).arbitrary::<crate::p3_tasks::P3TasksInput>()
        else {
            continue;
        };
        if keep(&input) {
            for op in tasks_classes(&input) {
                add(&mut census, op);
            }
        }
    }
    census
}

#[test]
fn p3_tasks_census_finds_every_class() {
    report_classes(
        "p3_tasks",
        &p3_tasks_census(|_| true),
        &TASKS_OPS,
        &tasks_universe,
        &[],
        &[],
    );
}

/// Without four-task scripts in the inputs, the census says so.
#[test]
fn the_tasks_census_fails_when_a_class_is_removed() {
    let census = p3_tasks_census(|i| i.tasks().len() != 4);
    let problems = census.check(&TASKS_OPS, &tasks_universe, &[], &[]);
    assert_eq!(problems, ["never produced: schedule tasks:4"]);
}
