//! `fs_diff`: scripts of filesystem calls ([`FsScript`]: valid and hostile
//! paths, flags, rights, offsets, descriptors) on the virtual filesystem,
//! preopened writable as `/` (fd 3) and read-only as `/ro` (fd 4). Three
//! runs must agree:
//!
//! - stock `wasmtime-wasi` over a fresh host copy of the same trees (the
//!   independent reference) and the crate on `wasmtime-wasi`: the same exit
//!   status or trap point, every call's [masked](FsResult::masked) result
//!   (all but the metadata values the context decides and a listing's
//!   order), and the final trees' names, types, file contents and symlink
//!   targets;
//! - the crate on `wasmtime-wasi` and on `wasi-common`: the full fingerprint
//!   (results, memory, trace, the final trees' digests with metadata), on
//!   wasmtime 46 (wasi-common ended there).
//!
//! Every run executes the script through one interpreter module compiled
//! once per process, the script on stdin ([`Runnable`]); the calls
//! compared are the script's, not the interpreter's reads of stdin.
//!
//! The same file is compiled against the crate on wasmtime 50 by
//! `adapters/versions` (`fs_diff_50`): the helpers it takes from `super`
//! are this crate's root there and that package's `on50` module.

use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{Backend, Compiled, Fingerprint, Outcome, RunSpec, Strategy};
use deterministic_wasi_ctx::fs::{FsTree, WalkContent};
use deterministic_wasi_ctx::script::fs::{
    CompiledFsScript, FsOp, FsOutput, FsPath, FsResult, FsScript, PREAMBLE_CALLS_AT, fs_diff_tree,
    interpreter_wasm,
};

/// One decoded input.
#[derive(Debug)]
pub struct Input {
    /// The bytes of file `a`.
    pub contents: Vec<u8>,
    /// The calls.
    pub script: FsScript,
}

/// The context: both preopens of the same snapshot.
pub fn config(contents: &[u8]) -> DeterminismConfig {
    let tree = fs_diff_tree(contents);
    DeterminismConfig::new()
        .preopen("/", tree.clone())
        .preopen_read_only("/ro", tree)
}

/// Decodes an input: the contents of `a`, then calls while bytes last.
pub fn input(u: &mut Unstructured) -> arbitrary::Result<Input> {
    Ok(Input {
        contents: u.arbitrary()?,
        script: FsScript::arbitrary(u)?,
    })
}

/// What the libFuzzer shim does once before the first execution: stock's
/// host copies of the trees are kept and reset to the next run's trees
/// ([`reuse_stock_copies`](deterministic_wasi_ctx::audit::reuse_stock_copies):
/// only what a run changed is created or removed again; the comparisons
/// leave out the host metadata a reuse changes), and any copy removed is
/// removed on a background thread
/// ([`remove_stock_copies_in_background`](deterministic_wasi_ctx::audit::remove_stock_copies_in_background)),
/// so an execution does not wait for the filesystem's journal to unlink
/// it.
pub fn init() {
    deterministic_wasi_ctx::audit::remove_stock_copies_in_background(true);
    deterministic_wasi_ctx::audit::reuse_stock_copies(true);
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    check(&input(u)?);
    Ok(())
}

/// What an entry holds: a file's size and its bytes other than zero (so
/// a hole and stored zeros compare equal, and a 2 GiB sparse file costs
/// only its stored bytes), a symlink's target.
pub type Shape = Vec<(Vec<u8>, &'static str, u64, Vec<(u64, Vec<u8>)>)>;

/// A tree's names, types and contents, without metadata.
pub fn shape(tree: &FsTree) -> Shape {
    tree.walk()
        .into_iter()
        .map(|e| match e.content {
            WalkContent::Directory => (e.path, "dir", 0, Vec::new()),
            WalkContent::File(content) => (e.path, "file", content.len(), content.nonzero_runs()),
            WalkContent::Symlink(target) => (e.path, "symlink", 0, vec![(0, target.to_vec())]),
        })
        .collect()
}

/// Status without a trap's wording, a trap placed by the script's calls
/// before it (`calls`, [`Runnable::script_calls`]).
fn status_class(o: &Outcome, calls: u64) -> String {
    match &o.status {
        deterministic_wasi_ctx::audit::Status::Trapped { .. } => {
            format!("trap after {calls} calls")
        }
        other => other.to_string(),
    }
}

/// Runs `input` three ways and panics on a difference; returns what
/// [`check_against`] returns.
pub fn check(input: &Input) -> usize {
    check_against(input, &config(&input.contents))
}

/// `a` opened and read: the input the tests give stock a tree with another
/// `a` for, to show a difference is reported ([`reported_difference`]).
pub fn read_of_a() -> Input {
    use deterministic_wasi_ctx::script::fs::Fd;
    Input {
        contents: b"hello".to_vec(),
        script: FsScript {
            ops: vec![
                FsOp::PathOpen {
                    dir: Fd(3),
                    follow: true,
                    path: FsPath::new("a"),
                    oflags: 0,
                    read: true,
                    write: false,
                    fdflags: 0,
                },
                FsOp::FdRead { fd: Fd(5), len: 16 },
            ],
        },
    }
}

/// What [`check_against`] reports for `input` with stock given
/// `stock_config`: `None` when it finds no difference, else its message.
pub fn reported_difference(input: &Input, stock_config: &DeterminismConfig) -> Option<String> {
    let caught = std::panic::catch_unwind(|| check_against(input, stock_config));
    caught
        .err()
        .map(|panic| panic.downcast_ref::<String>().cloned().unwrap_or_default())
}

/// Calls the crate answers as stock wasmtime-wasi 46 does, on every
/// wasmtime, and stock 50 otherwise: an open on the read-only preopen
/// (fd 4) asking to create with `dsync`, and one asking for a directory with
/// `creat`; times set on the writable preopen (fd 3); the filestat of file
/// `a/` without following symlinks; then a control each version answers
/// as the crate does, an open asking to write on fd 4 with no other flag;
/// last, file `a` renamed to `renamed/` (which parts the runs on 50).
/// [`check`] of it returns 0 on wasmtime 46 and 5 on 50 (the
/// tests on each version assert it, so a listed difference that stock stops
/// making is noticed).
pub fn stock_50_differences() -> Input {
    use deterministic_wasi_ctx::script::fs::Fd;
    let open = |path: &str, oflags: u8, write: bool, fdflags: u8| FsOp::PathOpen {
        dir: Fd(4),
        follow: true,
        path: FsPath::new(path),
        oflags,
        read: !write,
        write,
        fdflags,
    };
    let set_times_now = FsOp::FdFilestatSetTimes {
        fd: Fd(3),
        atim: 0,
        mtim: 0,
        fst: 2 | 8,
    };
    Input {
        contents: b"hello".to_vec(),
        script: FsScript {
            ops: vec![
                open("new", 1, true, 2),
                open("dir", 2 | 1, false, 0),
                set_times_now,
                FsOp::PathFilestatGet {
                    dir: Fd(3),
                    follow: false,
                    path: FsPath::new("a/"),
                },
                open("a", 0, true, 0),
                FsOp::PathRename {
                    from_dir: Fd(3),
                    from: FsPath::new("a"),
                    to_dir: Fd(3),
                    to: FsPath::new("renamed/"),
                },
            ],
        },
    }
}

/// Whether stock's answer `stock` to `op`, where the crate answered `ours`,
/// is one of the differences of stock wasmtime-wasi 50 from 46 that these
/// calls meet (README, "Wasmtime versions"; the crate answers as stock 46
/// on every wasmtime), and whether the runs stay comparable after it.
/// Never on wasmtime 46.
///
/// - Stock 50's `path_open` checks a read-only directory's permission only
///   after the flags it refuses, so an open there that asks to write
///   (`creat`, `trunc` or the write right) and for a sync flag (`dsync`,
///   `rsync`, `sync`) is ENOTSUP, and one asking for a directory with
///   `creat`, `excl` or `trunc` is EINVAL; stock 46 answers EPERM first.
/// - A preopen is opened with `O_PATH`: stock 46 sets its times with
///   `futimens`, which fails (EBADF); stock 50 on Linux uses `utimensat`
///   with `AT_EMPTY_PATH`, which succeeds.
/// - A path ending in `/` or `/.`: stock 46 takes its last component as
///   named, stock 50 resolves it as a directory, as POSIX does. So
///   `path_filestat_get` without `symlink_follow` describes the directory
///   a symlink names (or fails: ELOOP, ENOENT, EPERM for a loop, a
///   dangling or an escaping link, ENOTDIR for a file) instead of the
///   symlink or file itself; and a call that names a file so (`path_rename`
///   of a file to `c.txt/`, ...) is ENOTDIR on 50. When the crate's call
///   succeeded there and changed something (a rename, a new descriptor),
///   the two runs part ways: [`Listed::Diverges`].
pub fn stock_answers_as_listed(op: &FsOp, ours: &FsResult, stock: &FsResult) -> Listed {
    const EBADF: u16 = 8;
    const EINVAL: u16 = 28;
    const ENOTDIR: u16 = 54;
    const ENOTSUP: u16 = 58;
    const EPERM: u16 = 63;
    if deterministic_wasi_ctx::engine::WASMTIME_MAJOR < 50 {
        return Listed::No;
    }
    let answered = |expected_ours: u16, listed: u16| {
        if ours.errno == expected_ours && stock.errno == listed {
            Listed::Same
        } else {
            Listed::No
        }
    };
    let slashed = |p: &FsPath| p.0.ends_with(b"/") || p.0.ends_with(b"/.");
    match op {
        FsOp::PathOpen {
            oflags, fdflags, ..
        } if fdflags & (2 | 8 | 16) != 0 || (oflags & 2 != 0 && oflags & (1 | 4 | 8) != 0) => {
            let sync = fdflags & (2 | 8 | 16) != 0;
            answered(EPERM, if sync { ENOTSUP } else { EINVAL })
        }
        FsOp::FdFilestatSetTimes { .. } => answered(EBADF, 0),
        FsOp::PathFilestatGet {
            follow: false,
            path,
            ..
        } if slashed(path) => {
            const DIRECTORY: u64 = 3;
            let not_a_directory = match ours.output {
                FsOutput::Filestat(stat) => ours.errno == 0 && stat[2] != DIRECTORY,
                _ => false,
            };
            let resolved = match stock.output {
                FsOutput::Filestat(stat) => stat[2] == DIRECTORY,
                _ => stock.errno != 0,
            };
            if not_a_directory && resolved {
                Listed::Same
            } else {
                Listed::No
            }
        }
        _ if paths(op).into_iter().any(slashed)
            && stock.errno == ENOTDIR
            && ours.errno != ENOTDIR =>
        {
            let query = matches!(
                op,
                FsOp::PathFilestatGet { .. }
                    | FsOp::PathFilestatSetTimes { .. }
                    | FsOp::PathReadlink { .. }
            );
            if ours.errno == 0 && !query {
                Listed::Diverges
            } else {
                Listed::Same
            }
        }
        _ => Listed::No,
    }
}

/// What a listed difference of stock leaves comparable
/// ([`stock_answers_as_listed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// Not a listed difference.
    No,
    /// Listed, and both runs are in the same state after it.
    Same,
    /// Listed, and the crate's call changed something stock's did not:
    /// the calls after it and the final trees are not comparable.
    Diverges,
}

/// The paths `op` resolves (not a symlink's target, which is only data).
fn paths(op: &FsOp) -> Vec<&FsPath> {
    match op {
        FsOp::PathRename { from, to, .. } | FsOp::PathLink { from, to, .. } => vec![from, to],
        FsOp::PathOpen { path, .. }
        | FsOp::PathCreateDirectory { path, .. }
        | FsOp::PathRemoveDirectory { path, .. }
        | FsOp::PathUnlinkFile { path, .. }
        | FsOp::PathSymlink { path, .. }
        | FsOp::PathReadlink { path, .. }
        | FsOp::PathFilestatGet { path, .. }
        | FsOp::PathFilestatSetTimes { path, .. } => vec![path],
        _ => Vec::new(),
    }
}

/// [`check`] with stock given `stock_config` (a test passes a different
/// tree to show that the comparison catches it).
///
/// Returns how many calls stock answered with its listed, version-specific
/// difference ([`stock_answers_as_listed`]; always 0 on wasmtime 46).
pub fn check_against(input: &Input, stock_config: &DeterminismConfig) -> usize {
    let compiled_script = input.script.compile();
    super::dump(&compiled_script.wasm());
    let engine = super::shared_engine(Strategy::Cranelift);
    let run = Runnable::of(&compiled_script);
    let spec = |stock, config: &DeterminismConfig| RunSpec {
        stock,
        keep_memory: true,
        writes_from_signatures: false,
        replay: None,
        ..super::spec(config.clone())
    };
    let ours_config = run.stdin(&config(&input.contents));
    let stock_config = &run.stdin(stock_config);
    let ours = run
        .module()
        .run(engine, Backend::WasmtimeWasi, &spec(false, &ours_config));
    let stock = run
        .module()
        .run(engine, Backend::WasmtimeWasi, &spec(true, stock_config));
    let (ours_calls, stock_calls) = (run.script_calls(&ours), run.script_calls(&stock));
    super::record(ours_calls);
    let results = |o: &Outcome| compiled_script.results(o.memory.as_deref().unwrap_or_default());
    let (mine, theirs) = (results(&ours), results(&stock));
    let ops: Vec<_> = compiled_script.ops().collect();
    // Only the calls that ran (up to a trap) are compared.
    let ran = ours_calls.min(stock_calls) as usize;
    let mut listed = 0;
    let mut comparable = true;
    for (i, op) in ops.iter().enumerate().take(ran) {
        let (a, b): (FsResult, FsResult) = (mine[i].masked(op), theirs[i].masked(op));
        match (a != b).then(|| stock_answers_as_listed(op, &a, &b)) {
            Some(Listed::Same) => {
                listed += 1;
                continue;
            }
            Some(Listed::Diverges) => {
                listed += 1;
                comparable = false;
                break;
            }
            Some(Listed::No) | None => {}
        }
        assert!(
            a == b,
            "fs_diff: call {i} differs from stock wasmtime-wasi\n  op: {op:?}\n  stock: {b:?}\n  crate: {a:?}\n  (unmasked crate: {:?})\ninput: {input:?}",
            mine[i]
        );
    }
    // After a listed difference that parted the runs, only the calls
    // before it were comparable.
    assert!(
        !comparable || status_class(&ours, ours_calls) == status_class(&stock, stock_calls),
        "fs_diff: status differs from stock\n  stock: {}\n  crate: {}\ninput: {input:?}",
        status_class(&stock, stock_calls),
        status_class(&ours, ours_calls)
    );
    let trees = if comparable {
        ours.filesystems.len()
    } else {
        0
    };
    for ((path, tree), (_, stock_tree)) in
        ours.filesystems.iter().zip(&stock.filesystems).take(trees)
    {
        assert!(
            shape(tree) == shape(stock_tree),
            "fs_diff: final tree {path} differs from stock\n  stock: {:?}\n  crate: {:?}\ninput: {input:?}",
            shape(stock_tree),
            shape(tree)
        );
    }
    // The crate's other backends (wasi-common, on wasmtime 46).
    for &backend in &Backend::ALL[1..] {
        let other = run
            .module()
            .run(engine, backend, &spec(false, &ours_config));
        let (a, b) = (Fingerprint::of(&ours), Fingerprint::of(&other));
        if let Some(d) = deterministic_wasi_ctx::audit::first_difference(&a, &b, None) {
            panic!(
                "fs_diff: wasmtime-wasi and {} differ: {d}\ninput: {input:?}",
                backend.name()
            );
        }
    }
    listed
}

/// How a script runs: the interpreter compiled once, given the script on
/// stdin ([`CompiledFsScript::interpreter_stdin`]), or, for a script
/// longer than its table, the script's own module. Both make the same
/// calls with the same arguments and leave each result at the same
/// address; the interpreter's preamble reads stdin first
/// (`interpreted_and_compiled_scripts_agree` runs the corpus both ways).
pub enum Runnable {
    /// The interpreter and the script's stdin.
    Interpreted(&'static Compiled, Vec<u8>),
    /// The script's own module.
    Compiled(Compiled),
}

impl Runnable {
    /// The interpreter for `script` when its table holds it, else the
    /// script compiled; either on the shared Cranelift Engine
    /// (`shared_engine(Strategy::Cranelift)`), the one every run here uses.
    pub fn of(script: &CompiledFsScript) -> Runnable {
        static INTERPRETER: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
        let engine = super::shared_engine(Strategy::Cranelift);
        match script.interpreter_stdin() {
            Some(stdin) => Runnable::Interpreted(
                INTERPRETER.get_or_init(|| {
                    Compiled::new(engine, &interpreter_wasm()).expect("the interpreter compiles")
                }),
                stdin,
            ),
            None => Runnable::Compiled(Compiled::new(engine, &script.wasm()).expect("compiles")),
        }
    }

    /// The module to run.
    pub fn module(&self) -> &Compiled {
        match self {
            Runnable::Interpreted(compiled, _) => compiled,
            Runnable::Compiled(compiled) => compiled,
        }
    }

    /// `config` with the stdin the module reads.
    pub fn stdin(&self, config: &DeterminismConfig) -> DeterminismConfig {
        match self {
            Runnable::Interpreted(_, stdin) => config.clone().stdin(stdin.clone()),
            Runnable::Compiled(_) => config.clone(),
        }
    }

    /// The host calls of `outcome` that were the script's (without the
    /// interpreter's preamble). The preamble never fails on the inputs
    /// [`Runnable::stdin`] gives: a run whose preamble did not finish is
    /// a bug, and panics.
    pub fn script_calls(&self, outcome: &Outcome) -> u64 {
        match self {
            Runnable::Interpreted(..) => {
                let memory = outcome.memory.as_deref().unwrap_or_default();
                let at = PREAMBLE_CALLS_AT as usize;
                let preamble = memory
                    .get(at..at + 4)
                    .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
                assert!(
                    preamble > 0 && u64::from(preamble) <= outcome.host_calls,
                    "fs_diff: the interpreter's preamble did not finish ({}, {:?})",
                    outcome.status,
                    outcome.trap_message
                );
                outcome.host_calls - u64::from(preamble)
            }
            Runnable::Compiled(_) => outcome.host_calls,
        }
    }
}
