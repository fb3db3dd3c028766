//! `p3_tasks`: up to four tasks of one WASI 0.3 component run at once, each
//! its own script of timers, file streams (writes, appends, reads of its
//! own file and of a shared one), stats and unlinks
//! (`test-programs/p3/guests/examples/tasks.rs`, whose header gives the
//! script format). The component logs every operation as it completes.
//!
//! Checked for every input:
//! - two fresh Stores of the crate's context give the same fingerprint
//!   (the log's order and times included);
//! - each task's log, and the files left, are what an independent model
//!   predicts ([`expected`]): the task's file as its own operations leave
//!   it, and each operation's time the sum of the task's waits so far
//!   (virtual time moves only to a due timer, and everything else completes
//!   at once, README "WASI 0.3 components");
//! - times never go back in completion order;
//! - stock wasmtime-wasi, over a host copy of the tree, gives every task
//!   the same answers and leaves the same files (its times and the order
//!   in which its tasks complete are the host's, so they are not compared).

use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::audit::{
    AuditConfig, Backend, Compiled, Fingerprint, Outcome, RunSpec, Status, Strategy,
    first_difference,
};
use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
use std::sync::OnceLock;

/// The most tasks and operations a script runs (the guest's limits).
pub const MAX_TASKS: u8 = 4;
/// See [`MAX_TASKS`].
pub const MAX_OPS: usize = 48;

/// A structured input: the size of the shared file `input` (`13 * n`
/// bytes) and the script the guest reads from stdin (its first byte gives
/// the number of tasks, then 3 bytes an operation).
#[derive(Clone, Debug)]
pub struct P3TasksInput {
    /// `input` holds `13 * input_size` bytes.
    pub input_size: u8,
    /// The script.
    pub script: Vec<u8>,
}

impl<'a> Arbitrary<'a> for P3TasksInput {
    /// The script's length is drawn (so tasks left idle and short scripts
    /// come up), and half the inputs keep their waits within 4 units, so
    /// that timers of different tasks fall due together.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let input_size = u.arbitrary()?;
        let mut script = vec![u.arbitrary::<u8>()?];
        let ops = u.int_in_range(1..=MAX_OPS)?;
        let close_waits: bool = u.arbitrary()?;
        for _ in 0..ops {
            let [s, mut x, mut y]: [u8; 3] = u.arbitrary()?;
            if close_waits {
                match (s / 4) % 8 {
                    0 => x %= 4,
                    7 => y %= 4,
                    _ => {}
                }
            }
            script.extend([s, x, y]);
        }
        Ok(P3TasksInput { input_size, script })
    }
}

impl P3TasksInput {
    /// The shared file's bytes.
    pub fn input(&self) -> Vec<u8> {
        (0..13 * usize::from(self.input_size))
            .map(|i| (i * 7 + 3) as u8)
            .collect()
    }

    /// The context: `input` alone in the tree preopened at `/`, the script
    /// as stdin.
    pub fn config(&self) -> DeterminismConfig {
        DeterminismConfig::new()
            .preopen("/", VirtualFs::new().file("input", self.input()))
            .stdin(self.script.clone())
    }

    /// The tasks' operations as the guest decodes them: `(kind, x, y)`.
    pub fn tasks(&self) -> Vec<Vec<(u8, u8, u8)>> {
        let tasks = 1 + self.script.first().copied().unwrap_or(0) % MAX_TASKS;
        let mut ops = vec![Vec::new(); usize::from(tasks)];
        for op in self
            .script
            .get(1..)
            .unwrap_or_default()
            .chunks_exact(3)
            .take(MAX_OPS)
        {
            ops[usize::from(op[0] % tasks)].push(((op[0] / 4) % 8, op[1], op[2]));
        }
        ops
    }
}

/// FNV-1a, 64 bits (the guest's hash).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How the guest logs a missing file's error.
const NO_ENTRY: &str = "error ErrorCode::NoEntry";

/// What the model predicts: each task's log lines `(text, time)`, and the
/// `final` lines.
#[derive(Debug, PartialEq, Eq)]
pub struct Expected {
    /// Per task, per operation: its log text and its time (ns since the
    /// start).
    pub tasks: Vec<Vec<(String, u64)>>,
    /// `final <name> <size> <hash>`, sorted by name.
    pub finals: Vec<String>,
}

/// The model: each task alone on its own file (no other task touches it),
/// its time the sum of its own waits.
pub fn expected(input: &P3TasksInput) -> Expected {
    let shared = input.input();
    let mut files = Vec::new();
    let tasks = input
        .tasks()
        .iter()
        .enumerate()
        .map(|(task, ops)| {
            let mut file: Option<Vec<u8>> = None;
            let mut now = 0u64;
            let lines = ops
                .iter()
                .map(|&(kind, x, y)| {
                    let pattern = || (0..x).map(|i| y.wrapping_add(i)).collect::<Vec<u8>>();
                    let text = match kind {
                        0 | 7 => {
                            now += match kind {
                                0 => u64::from(x) * 1_000,
                                _ => u64::from(y) * 10_000,
                            };
                            "wait".to_string()
                        }
                        1 => {
                            file = Some(pattern());
                            format!("write {x} ok")
                        }
                        2 => {
                            file.get_or_insert_with(Vec::new).extend(pattern());
                            format!("append {x} ok")
                        }
                        3 => match &file {
                            Some(d) => format!("read {} {:016x}", d.len(), fnv(d)),
                            None => format!("read {NO_ENTRY}"),
                        },
                        4 => format!("input {} {:016x}", shared.len(), fnv(&shared)),
                        5 => match &file {
                            Some(d) => format!("size {}", d.len()),
                            None => format!("size {NO_ENTRY}"),
                        },
                        _ => match file.take() {
                            Some(_) => "unlink ok".to_string(),
                            None => format!("unlink {NO_ENTRY}"),
                        },
                    };
                    (text, now)
                })
                .collect();
            if let Some(d) = file {
                files.push((format!("t{task}"), d));
            }
            lines
        })
        .collect();
    files.push(("input".into(), shared));
    files.sort();
    let finals = files
        .iter()
        .map(|(name, d)| format!("final {name} {} {:016x}", d.len(), fnv(d)))
        .collect();
    Expected { tasks, finals }
}

/// A run's log, parsed: per completed operation `(task, n, text, time)` in
/// completion order, and the `final` lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// The operations' lines, in completion order.
    pub ops: Vec<(usize, usize, String, u64)>,
    /// The `final` lines.
    pub finals: Vec<String>,
}

/// Parses the guest's stdout (`None`: a line it cannot read).
pub fn parse(stdout: &[u8]) -> Option<Log> {
    let mut log = Log::default();
    for line in std::str::from_utf8(stdout).ok()?.lines() {
        if line.starts_with("final ") {
            log.finals.push(line.to_string());
            continue;
        }
        let (head, rest) = line.split_once(' ')?;
        let (task, n) = head.split_once('.')?;
        let (text, at) = rest.rsplit_once(" @")?;
        log.ops.push((
            task.parse().ok()?,
            n.parse().ok()?,
            text.to_string(),
            at.parse().ok()?,
        ));
    }
    Some(log)
}

impl Log {
    /// Each task's lines `(text, time)` in its own order (`None`: a task's
    /// operations logged out of order).
    pub fn per_task(&self, tasks: usize) -> Option<Vec<Vec<(String, u64)>>> {
        let mut per = vec![Vec::new(); tasks];
        for (task, n, text, at) in &self.ops {
            let lines: &mut Vec<(String, u64)> = per.get_mut(*task)?;
            if lines.len() != *n {
                return None;
            }
            lines.push((text.clone(), *at));
        }
        Some(per)
    }
}

/// The guest compiled for the shared Cranelift engine.
fn guest() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        Compiled::new(
            crate::shared_engine(Strategy::Cranelift),
            test_programs_p3::P3_TASKS_BYTES,
        )
        .expect("the tasks guest compiles")
    })
}

/// Runs the guest with `config`, on the crate's context or stock's.
pub fn run_with(config: &DeterminismConfig, stock: bool) -> Outcome {
    let spec = RunSpec {
        config: config.clone(),
        stock,
        ..AuditConfig::default().spec
    };
    guest().run(
        crate::shared_engine(Strategy::Cranelift),
        Backend::WasmtimeWasi,
        &spec,
    )
}

/// What the libFuzzer shim does once: stock's host copies are kept and
/// reset, as for `fs_diff` ([`crate::fs_diff::init`]).
pub fn init() {
    crate::fs_diff::init();
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    // Drawn again while it holds no operation (`crate::non_empty`).
    let input = crate::non_empty(u, |u| u.arbitrary::<P3TasksInput>(), |i| i.script.len() < 4)?;
    check(&input);
    Ok(())
}

/// All checks for one input (panics on a finding).
pub fn check(input: &P3TasksInput) {
    let fail = |what: String| -> ! { panic!("p3_tasks: {what}\ninput: {input:?}") };
    let config = input.config();
    let ours = run_with(&config, false);
    let again = run_with(&config, false);
    if let Some(d) = first_difference(&Fingerprint::of(&ours), &Fingerprint::of(&again), None) {
        fail(format!("two Stores differ: {d}"));
    }
    if ours.status != Status::Exited(0) {
        fail(format!("status {} ({:?})", ours.status, ours.trap_message));
    }
    let want = expected(input);
    let log = parse(&ours.stdout).unwrap_or_else(|| {
        fail(format!(
            "unreadable log {:?}",
            String::from_utf8_lossy(&ours.stdout)
        ))
    });
    let got = log
        .per_task(want.tasks.len())
        .unwrap_or_else(|| fail(format!("a task's lines out of order: {log:?}")));
    for (task, (got, want)) in got.iter().zip(&want.tasks).enumerate() {
        if got != want {
            fail(format!(
                "task {task} logged {got:?}, the model says {want:?}"
            ));
        }
    }
    if log.finals != want.finals {
        fail(format!(
            "files left {:?}, the model says {:?}",
            log.finals, want.finals
        ));
    }
    if let Some(w) = log.ops.windows(2).find(|w| w[1].3 < w[0].3) {
        fail(format!("time went back: {:?} then {:?}", w[0], w[1]));
    }
    let stock = run_with(&config, true);
    if stock.status != Status::Exited(0) {
        fail(format!(
            "stock: status {} ({:?})",
            stock.status, stock.trap_message
        ));
    }
    let theirs = parse(&stock.stdout)
        .and_then(|l| Some((l.per_task(want.tasks.len())?, l.finals)))
        .unwrap_or_else(|| {
            fail(format!(
                "stock's log {:?}",
                String::from_utf8_lossy(&stock.stdout)
            ))
        });
    let texts = |tasks: &[Vec<(String, u64)>]| -> Vec<Vec<String>> {
        tasks
            .iter()
            .map(|t| t.iter().map(|(s, _)| s.clone()).collect())
            .collect()
    };
    if texts(&theirs.0) != texts(&want.tasks) {
        fail(format!("stock's tasks logged {:?}", theirs.0));
    }
    if theirs.1 != want.finals {
        fail(format!("stock left {:?}", theirs.1));
    }
    crate::record(ours.host_calls);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(s, x, y)` for task `task` of `tasks`, operation `kind`.
    fn op(task: u8, kind: u8, x: u8, y: u8, tasks: u8) -> [u8; 3] {
        let s = (0..=255u8)
            .find(|s| s % tasks == task && (s / 4) % 8 == kind)
            .expect("some byte selects it");
        [s, x, y]
    }

    fn script(tasks: u8, ops: &[[u8; 3]]) -> Vec<u8> {
        let mut script = vec![tasks - 1];
        script.extend(ops.iter().flatten());
        script
    }

    /// One task's log, to the letter: a missing file's errors, a write, a
    /// wait moving its time, a read and stat of what it wrote, the shared
    /// file, an unlink; then the files left.
    #[test]
    fn a_single_task_logs_exactly_its_operations() {
        let input = P3TasksInput {
            input_size: 1,
            script: script(
                1,
                &[
                    op(0, 3, 0, 0, 1),
                    op(0, 1, 3, 10, 1),
                    op(0, 0, 5, 0, 1),
                    op(0, 3, 0, 1, 1),
                    op(0, 5, 0, 0, 1),
                    op(0, 4, 0, 0, 1),
                    op(0, 7, 0, 2, 1),
                    op(0, 6, 0, 0, 1),
                    op(0, 5, 0, 0, 1),
                ],
            ),
        };
        let outcome = run_with(&input.config(), false);
        let text = String::from_utf8(outcome.stdout).unwrap();
        let hash = |d: &[u8]| format!("{:016x}", fnv(d));
        let written = hash(&[10, 11, 12]);
        let shared = hash(&input.input());
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "0.0 read error ErrorCode::NoEntry @0",
                "0.1 write 3 ok @0",
                "0.2 wait @5000",
                &format!("0.3 read 3 {written} @5000"),
                "0.4 size 3 @5000",
                &format!("0.5 input 13 {shared} @5000"),
                "0.6 wait @25000",
                "0.7 unlink ok @25000",
                "0.8 size error ErrorCode::NoEntry @25000",
                &format!("final input 13 {shared}"),
            ]
        );
        check(&input);
    }

    /// The comparisons bite: the log of one input against the model of
    /// the same input with one write a byte longer, or one wait a
    /// microsecond longer, differs in that task.
    #[test]
    fn the_model_comparison_catches_a_changed_operation() {
        let ops = [
            op(0, 1, 4, 0, 2),
            op(1, 0, 3, 0, 2),
            op(0, 3, 0, 0, 2),
            op(1, 2, 2, 7, 2),
        ];
        let input = P3TasksInput {
            input_size: 0,
            script: script(2, &ops),
        };
        let log = parse(&run_with(&input.config(), false).stdout).unwrap();
        let got = log.per_task(2).unwrap();
        assert_eq!(got, expected(&input).tasks);
        for (index, change) in [(0, 1), (1, 1)] {
            let mut changed = ops;
            changed[index][change] += 1;
            let other = P3TasksInput {
                input_size: 0,
                script: script(2, &changed),
            };
            let want = expected(&other).tasks;
            let task = index % 2;
            assert_ne!(got[task], want[task], "operation {index} changed");
            assert_eq!(got[1 - task], want[1 - task], "the other task is as it was");
        }
    }
}
