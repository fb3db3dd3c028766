//! Classes of `p3_tasks`' inputs: each operation by kind (its sizes at the
//! ends of their ranges, and whether the task's file exists when it runs,
//! as the model tracks it), and the schedule as a whole (how many tasks,
//! idle and full ones, stream operations in several tasks at once, timers
//! of two tasks due at the same time).

use crate::p3_tasks::{MAX_OPS, P3TasksInput};

/// The census' functions: the eight operations, and the schedule.
pub const TASKS_OPS: [&str; 9] = [
    "wait-us",
    "write",
    "append",
    "read",
    "input",
    "size",
    "unlink",
    "wait-10us",
    "schedule",
];

/// A byte's class: the ends of its range, or between.
fn byte(label: &str, b: u8) -> String {
    match b {
        0 => format!("{label}:0"),
        255 => format!("{label}:255"),
        _ => format!("{label}:1-254"),
    }
}

/// A read's bytes per read (`1 + b % m`): one, `m`, or between.
fn chunk(b: u8, m: u8) -> String {
    match b % m {
        0 => "chunk:1".to_string(),
        r if r == m - 1 => "chunk:max".to_string(),
        _ => "chunk:between".to_string(),
    }
}

/// Every class that can apply to `op` (see [`TASKS_OPS`]).
pub fn tasks_universe(op: &str) -> Vec<String> {
    let bytes = |label: &str| {
        ["0", "1-254", "255"]
            .map(|c| format!("{label}:{c}"))
            .to_vec()
    };
    let file = || vec!["file:missing".to_string(), "file:present".to_string()];
    let chunks = || {
        ["chunk:1", "chunk:max", "chunk:between"]
            .map(String::from)
            .to_vec()
    };
    match op {
        "wait-us" => bytes("x"),
        "wait-10us" => bytes("y"),
        "write" | "append" => [bytes("len"), file()].concat(),
        "read" => [file(), chunks()].concat(),
        "input" => [
            chunks(),
            [
                "input:empty",
                "input:smaller than a read",
                "input:several reads",
            ]
            .map(String::from)
            .to_vec(),
        ]
        .concat(),
        "size" | "unlink" => file(),
        "schedule" => [
            "tasks:1",
            "tasks:2-3",
            "tasks:4",
            "task:idle",
            "ops:full",
            "streams:in several tasks",
            "timers:tied across tasks",
        ]
        .map(String::from)
        .to_vec(),
        _ => Vec::new(),
    }
}

/// The classes of one input, per census function: one entry per operation
/// the guest runs, one for the schedule.
pub fn tasks_classes(input: &P3TasksInput) -> Vec<(&'static str, Vec<String>)> {
    let tasks = input.tasks();
    let input_len = input.input().len();
    let mut out = Vec::new();
    // Per task: the times its waits end at (for ties across tasks).
    let mut deadlines: Vec<Vec<u64>> = Vec::new();
    for ops in &tasks {
        let mut exists = false;
        let mut now = 0u64;
        let mut ends = Vec::new();
        for &(kind, x, y) in ops {
            let file = match exists {
                true => "file:present",
                false => "file:missing",
            }
            .to_string();
            let entry = match kind {
                0 => {
                    now += u64::from(x) * 1_000;
                    ends.push(now);
                    ("wait-us", vec![byte("x", x)])
                }
                7 => {
                    now += u64::from(y) * 10_000;
                    ends.push(now);
                    ("wait-10us", vec![byte("y", y)])
                }
                1 | 2 => {
                    exists = true;
                    let name = if kind == 1 { "write" } else { "append" };
                    (name, vec![byte("len", x), file])
                }
                3 => ("read", vec![file, chunk(y, 32)]),
                4 => {
                    let per_read = 1 + usize::from(x % 64);
                    let size = match input_len {
                        0 => "input:empty",
                        n if n <= per_read => "input:smaller than a read",
                        _ => "input:several reads",
                    };
                    ("input", vec![chunk(x, 64), size.to_string()])
                }
                5 => ("size", vec![file]),
                _ => {
                    exists = false;
                    ("unlink", vec![file])
                }
            };
            out.push(entry);
        }
        deadlines.push(ends);
    }
    let mut schedule = vec![
        match tasks.len() {
            1 => "tasks:1",
            4 => "tasks:4",
            _ => "tasks:2-3",
        }
        .to_string(),
    ];
    if tasks.iter().any(|t| t.is_empty()) {
        schedule.push("task:idle".to_string());
    }
    if tasks.iter().map(Vec::len).sum::<usize>() == MAX_OPS {
        schedule.push("ops:full".to_string());
    }
    let streaming = tasks
        .iter()
        .filter(|t| t.iter().any(|&(kind, _, _)| (1..=4).contains(&kind)))
        .count();
    if streaming >= 2 {
        schedule.push("streams:in several tasks".to_string());
    }
    let tied = deadlines.iter().enumerate().any(|(i, a)| {
        deadlines[i + 1..]
            .iter()
            .any(|b| a.iter().any(|t| *t > 0 && b.contains(t)))
    });
    if tied {
        schedule.push("timers:tied across tasks".to_string());
    }
    out.push(("schedule", schedule));
    out
}
