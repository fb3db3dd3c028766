//! Classes of `p3_waits`' inputs: each `wait-for` and `wait-until` a chain
//! holds (its value, and for `wait-until` where it falls against the
//! monotonic clock's start; for `wait-for` whether the deadline saturates
//! already from the start), and the shape of the whole schedule (how many
//! chains, empty and full chains, the clock policy, values repeated across
//! chains so that deadlines tie, chains that mix both kinds).

use super::values::{INT_CLASSES, int_class};
use crate::PolicyInput;
use crate::p3_waits::P3WaitsInput;
use proptests::waits::{MAX_CHAINS, MAX_WAITS, Wait};

/// The census' functions: the two waits, and the schedule as a whole.
pub const WAITS_OPS: [&str; 3] = ["wait-for", "wait-until", "schedule"];

/// Where a `wait-until` instant falls against the monotonic start.
const UNTIL_CLASSES: [&str; 3] = ["before start", "at start", "after start"];

/// The classes of the schedule as a whole.
const SCHEDULE_CLASSES: [&str; 10] = [
    "chains:1",
    "chains:2-7",
    "chains:8",
    "length:0",
    "length:8",
    "policy:frozen",
    "policy:advance-on-sleep",
    "policy:tick",
    "values:repeated",
    "kinds:mixed",
];

/// Every class that can apply to `op` (see [`WAITS_OPS`]).
pub fn waits_universe(op: &str) -> Vec<String> {
    let ints = |label: &str| -> Vec<String> {
        INT_CLASSES
            .iter()
            .chain(&["small"])
            .map(|class| format!("{label}:{class}"))
            .collect()
    };
    match op {
        "wait-for" => [ints("ns"), vec!["deadline:saturates".to_string()]].concat(),
        "wait-until" => [
            ints("t"),
            UNTIL_CLASSES.iter().map(|c| format!("t:{c}")).collect(),
        ]
        .concat(),
        "schedule" => SCHEDULE_CLASSES.iter().map(|c| c.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The classes of one input, per census function: one entry per wait (the
/// chains the component runs: at most [`MAX_CHAINS`], each cut to
/// [`MAX_WAITS`]) and one for the schedule.
pub fn waits_classes(input: &P3WaitsInput) -> Vec<(&'static str, Vec<String>)> {
    let start = input.context.monotonic_start;
    let chains: Vec<Vec<Wait>> = input
        .chains()
        .into_iter()
        .take(MAX_CHAINS)
        .map(|mut c| {
            c.truncate(MAX_WAITS);
            c
        })
        .collect();
    let mut out = Vec::new();
    for wait in chains.iter().flatten() {
        out.push(match *wait {
            Wait::For(ns) => {
                let mut classes = vec![format!("ns:{}", int_class(ns as i64))];
                if start.checked_add(ns).is_none() {
                    classes.push("deadline:saturates".to_string());
                }
                ("wait-for", classes)
            }
            Wait::Until(t) => {
                let place = match t.cmp(&start) {
                    std::cmp::Ordering::Less => "before start",
                    std::cmp::Ordering::Equal => "at start",
                    std::cmp::Ordering::Greater => "after start",
                };
                let classes = vec![format!("t:{}", int_class(t as i64)), format!("t:{place}")];
                ("wait-until", classes)
            }
        });
    }
    let mut schedule = vec![
        match chains.len() {
            1 => "chains:1",
            MAX_CHAINS => "chains:8",
            _ => "chains:2-7",
        }
        .to_string(),
    ];
    let lengths = |n: usize| chains.iter().any(|c| c.len() == n);
    if lengths(0) {
        schedule.push("length:0".to_string());
    }
    if lengths(MAX_WAITS) {
        schedule.push("length:8".to_string());
    }
    schedule.push(
        match input.context.policy {
            PolicyInput::Frozen => "policy:frozen",
            PolicyInput::AdvanceOnSleep => "policy:advance-on-sleep",
            PolicyInput::Tick(_) => "policy:tick",
        }
        .to_string(),
    );
    let repeated = chains.iter().enumerate().any(|(i, a)| {
        chains[i + 1..]
            .iter()
            .any(|b| a.iter().any(|w| b.contains(w)))
    });
    if repeated {
        schedule.push("values:repeated".to_string());
    }
    let mixed = chains.iter().any(|c| {
        c.iter().any(|w| matches!(w, Wait::For(_))) && c.iter().any(|w| matches!(w, Wait::Until(_)))
    });
    if mixed {
        schedule.push("kinds:mixed".to_string());
    }
    out.push(("schedule", schedule));
    out
}
