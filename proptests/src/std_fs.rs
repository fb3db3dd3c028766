//! One `std::fs` program, two WASI versions: the `fs_script` guest built for
//! wasip1 (a core module, run on both preview1 backends) and for wasip2 (a
//! component on `wasi:filesystem`) runs the same generated script on the
//! same tree. The three runs must print the same answers and leave the same
//! tree, digest for digest (inode numbers, link counts, sizes, times).
//! Stock wasmtime-wasi's component over a host copy of the tree is the
//! independent reference for everything the host does not decide: every
//! `ok`/errno, every byte read, every name listed, and the final names and
//! contents.
//!
//! One difference is wasi-libc's, not the host's, and is allowed: on
//! wasip2 a failed stream read or write (`fs::write`, `fs::read`, ...)
//! reaches the program as `EIO` (29), whatever the filesystem error.

use crate::fs::check::FsCase;
use crate::fs::model::Entry;
use crate::run::{FUEL, engine};
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{Backend, Compiled, Outcome, RunSpec};
use deterministic_wasi_ctx::fs::{FsTree, WalkContent};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One line of the `fs_script` guest's script (paths are absolute: the
/// tree is preopened as `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StdFsOp {
    /// `write <p> <text>`.
    Write(String, String),
    /// `append <p> <text>`.
    Append(String, String),
    /// `pwrite <p> <offset> <text>`.
    Pwrite(String, u64, String),
    /// `read <p>`.
    Read(String),
    /// `pread <p> <offset> <len>`.
    Pread(String, u64, u16),
    /// `truncate <p> <len>`.
    Truncate(String, u64),
    /// `mkdir <p>`.
    Mkdir(String),
    /// `rmdir <p>`.
    Rmdir(String),
    /// `rm <p>`.
    Rm(String),
    /// `mv <a> <b>`.
    Mv(String, String),
    /// `ln <a> <b>`.
    Ln(String, String),
    /// `symlink <target> <p>`.
    Symlink(String, String),
    /// `readlink <p>`.
    Readlink(String),
    /// `stat <p>`.
    Stat(String),
    /// `lstat <p>`.
    Lstat(String),
    /// `ls <p>`.
    Ls(String),
    /// `touch <p> <seconds>`.
    Touch(String, u32),
    /// `sleep <ns>`.
    Sleep(u32),
}

impl StdFsOp {
    /// The script line.
    pub fn line(&self) -> String {
        use StdFsOp::*;
        match self {
            Write(p, t) => format!("write {p} {t}"),
            Append(p, t) => format!("append {p} {t}"),
            Pwrite(p, o, t) => format!("pwrite {p} {o} {t}"),
            Read(p) => format!("read {p}"),
            Pread(p, o, n) => format!("pread {p} {o} {n}"),
            Truncate(p, n) => format!("truncate {p} {n}"),
            Mkdir(p) => format!("mkdir {p}"),
            Rmdir(p) => format!("rmdir {p}"),
            Rm(p) => format!("rm {p}"),
            Mv(a, b) => format!("mv {a} {b}"),
            Ln(a, b) => format!("ln {a} {b}"),
            Symlink(t, p) => format!("symlink {t} {p}"),
            Readlink(p) => format!("readlink {p}"),
            Stat(p) => format!("stat {p}"),
            Lstat(p) => format!("lstat {p}"),
            Ls(p) => format!("ls {p}"),
            Touch(p, s) => format!("touch {p} {s}"),
            Sleep(ns) => format!("sleep {ns}"),
        }
    }

    /// Whether wasi-libc moves this operation's bytes through a preview2
    /// stream (a failure then reads as `EIO`).
    fn streams(&self) -> bool {
        use StdFsOp::*;
        matches!(
            self,
            Write(..) | Append(..) | Pwrite(..) | Read(..) | Pread(..)
        )
    }

    /// How many output lines a successful answer has.
    fn lines(&self) -> usize {
        match self {
            StdFsOp::Stat(_) | StdFsOp::Lstat(_) => 2,
            _ => 1,
        }
    }
}

/// The guest's stdin for `ops`.
pub fn script_text(ops: &[StdFsOp]) -> String {
    ops.iter().map(|op| op.line() + "\n").collect()
}

/// One generated case: the tree (preopened writable as `/`), the virtual
/// wall clock's start and the script.
#[derive(Clone, Debug)]
pub struct StdFsCase {
    /// The root's entries.
    pub tree: BTreeMap<String, Entry>,
    /// Nanoseconds since the epoch.
    pub wall_start: u64,
    /// The script.
    pub ops: Vec<StdFsOp>,
}

impl StdFsCase {
    /// The context the case runs in (stdin is the script).
    pub fn config(&self) -> DeterminismConfig {
        let tree = FsCase {
            tree: self.tree.clone(),
            wall_start: self.wall_start,
            ops: Vec::new(),
        };
        tree.config().stdin(script_text(&self.ops).into_bytes())
    }
}

/// The `fs_script` guest compiled for the shared engine: (wasip1 module,
/// wasip2 component), compiled once.
fn programs() -> &'static (Compiled, Compiled) {
    static PROGRAMS: OnceLock<(Compiled, Compiled)> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let (_, p1, p2) = test_programs::PROGRAMS
            .iter()
            .find(|(name, _, _)| *name == "fs_script")
            .expect("the fs_script guest");
        let compile = |path: &str| {
            let wasm = std::fs::read(path).expect("guest program");
            Compiled::new(engine(), &wasm).expect("compiles")
        };
        (compile(p1), compile(p2))
    })
}

/// Runs the wasip1 build on `backend` (or the wasip2 build) with `config`,
/// under stock wasmtime-wasi if `stock`.
pub fn run(p2: bool, backend: Backend, config: &DeterminismConfig, stock: bool) -> Outcome {
    let (module, component) = programs();
    let spec = RunSpec {
        config: config.clone(),
        fuel: FUEL,
        max_events: 0,
        stock,
        keep_memory: false,
        writes_from_signatures: false,
        replay: None,
    };
    let program = if p2 { component } else { module };
    program.run(engine(), backend, &spec)
}

/// Each operation's answer (one or two lines) from a run's stdout.
pub fn answers(ops: &[StdFsOp], stdout: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    ops.iter()
        .map(|op| {
            let first = lines.next().unwrap_or("<missing>").to_string();
            if op.lines() == 2 && !first.starts_with("err ") {
                format!("{first}\n{}", lines.next().unwrap_or("<missing>"))
            } else {
                first
            }
        })
        .collect()
}

/// Whether a wasip2 answer `p2` is the wasip1 answer `p1` to `op`.
fn same_answer(op: &StdFsOp, p1: &str, p2: &str) -> bool {
    p1 == p2 || (op.streams() && p2 == "err 29" && p1.starts_with("err "))
}

/// An answer without what the host decides: no `meta` line, listed names
/// sorted.
fn host_independent(answer: &str) -> String {
    let first = answer.lines().next().unwrap_or_default();
    match first.strip_prefix("ls ") {
        Some(names) => {
            let mut names: Vec<&str> = names.split(',').collect();
            names.sort();
            format!("ls {}", names.join(","))
        }
        None => first.to_string(),
    }
}

/// A tree's names, types and contents.
pub fn shape(tree: &FsTree) -> Vec<(Vec<u8>, String)> {
    tree.walk()
        .into_iter()
        .map(|e| {
            let content = match e.content {
                WalkContent::Directory => "dir".to_string(),
                WalkContent::File(content) => format!("file {:?}", content.to_vec()),
                WalkContent::Symlink(target) => format!("symlink {target:?}"),
            };
            (e.path, content)
        })
        .collect()
}

/// Runs `case`: its wasip1 build on both preview1 backends with the case's
/// context, its wasip2 build with `p2_config` (the case's own, or a
/// deliberately different one in the bite tests). Every answer and the
/// final tree must agree (see the [module docs](self)). Returns the
/// component's host-call count.
pub fn check_p1_p2(case: &StdFsCase, p2_config: &DeterminismConfig) -> Result<u64, TestCaseError> {
    let config = case.config();
    let module = run(false, Backend::WasmtimeWasi, &config, false);
    let common = run(false, Backend::WasiCommon, &config, false);
    let component = run(true, Backend::WasmtimeWasi, p2_config, false);
    for outcome in [&module, &common, &component] {
        prop_assert_eq!(outcome.status.to_string(), "exit 0", "{:?}", outcome.stderr);
    }
    prop_assert_eq!(
        &common.stdout,
        &module.stdout,
        "wasi-common and wasmtime-wasi differ"
    );
    prop_assert!(
        common.filesystems == module.filesystems,
        "the preview1 backends' trees differ"
    );
    let (p1, p2) = (
        answers(&case.ops, &module.stdout),
        answers(&case.ops, &component.stdout),
    );
    for ((op, a), b) in case.ops.iter().zip(&p1).zip(&p2) {
        prop_assert!(
            same_answer(op, a, b),
            "{}: wasip1 {a:?}, wasip2 {b:?}",
            op.line()
        );
    }
    prop_assert!(
        component.filesystems == module.filesystems,
        "the wasip2 build left another tree"
    );
    Ok(component.host_calls)
}

/// Runs `case`'s wasip2 build on the crate's context and on stock
/// wasmtime-wasi over a host copy of the tree: the same answers (without
/// metadata, listings as sets) and the same final names and contents.
pub fn check_p2_against_stock(case: &StdFsCase) -> Result<(), TestCaseError> {
    let config = case.config();
    let ours = run(true, Backend::WasmtimeWasi, &config, false);
    let stock = run(true, Backend::WasmtimeWasi, &config, true);
    prop_assert_eq!(stock.status.to_string(), "exit 0", "{:?}", stock.stderr);
    let (a, b) = (
        answers(&case.ops, &ours.stdout),
        answers(&case.ops, &stock.stdout),
    );
    for ((op, a), b) in case.ops.iter().zip(&a).zip(&b) {
        let (a, b) = (host_independent(a), host_independent(b));
        prop_assert_eq!(a, b, "{}", op.line());
    }
    prop_assert_eq!(
        shape(&ours.filesystems[0].1),
        shape(&stock.filesystems[0].1)
    );
    Ok(())
}

/// A relative path of one to three of `a`, `b`, `c`, mostly one (names
/// collide, so most operations meet an entry).
fn names() -> impl Strategy<Value = String> {
    let name = crate::fs::strategies::name;
    prop_oneof![
        8 => name(),
        3 => (name(), name()).prop_map(|(a, b)| format!("{a}/{b}")),
        1 => (name(), name(), name()).prop_map(|(a, b, c)| format!("{a}/{b}/{c}")),
    ]
}

/// A path: [`names`] under `/`, sometimes the root, an escape or a path
/// through `..`.
pub fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => names().prop_map(|p| format!("/{p}")),
        1 => Just("/".to_string()),
        1 => Just("/../x".to_string()),
        1 => names().prop_map(|p| format!("/a/../{p}")),
    ]
}

/// A symlink target: relative inside the tree, escaping, or absolute.
fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => names(),
        1 => Just("../x".to_string()),
        1 => Just("/abs".to_string()),
    ]
}

/// Text to write: no spaces (the script splits on them), sometimes empty.
fn text() -> impl Strategy<Value = String> {
    "[a-z0-9]{0,12}"
}

/// An offset: small, or in the last bytes below `i64::MAX`.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..32, 1 => (0u64..8).prop_map(|k| i64::MAX as u64 - k)]
}

/// One operation.
pub fn op() -> impl Strategy<Value = StdFsOp> {
    use StdFsOp::*;
    prop_oneof![
        4 => (path(), text()).prop_map(|(p, t)| Write(p, t)),
        2 => (path(), text()).prop_map(|(p, t)| Append(p, t)),
        2 => (path(), offset(), text()).prop_map(|(p, o, t)| Pwrite(p, o, t)),
        3 => path().prop_map(Read),
        2 => (path(), offset(), 0u16..40).prop_map(|(p, o, n)| Pread(p, o, n)),
        1 => (path(), 0u64..40).prop_map(|(p, n)| Truncate(p, n)),
        3 => path().prop_map(Mkdir),
        2 => path().prop_map(Rmdir),
        2 => path().prop_map(Rm),
        2 => (path(), path()).prop_map(|(a, b)| Mv(a, b)),
        1 => (path(), path()).prop_map(|(a, b)| Ln(a, b)),
        2 => (target(), path()).prop_map(|(t, p)| Symlink(t, p)),
        1 => path().prop_map(Readlink),
        2 => path().prop_map(Stat),
        2 => path().prop_map(Lstat),
        2 => path().prop_map(Ls),
        1 => (path(), 0u32..2_000_000_000).prop_map(|(p, s)| Touch(p, s)),
        1 => (0u32..2_000_000).prop_map(Sleep),
    ]
}

/// An operation that creates something at a short path: a case starts
/// with a few, so that later ones find entries.
fn create() -> impl Strategy<Value = StdFsOp> {
    let short = prop_oneof![
        3 => crate::fs::strategies::name().prop_map(|n| format!("/{n}")),
        1 => (crate::fs::strategies::name(), crate::fs::strategies::name())
            .prop_map(|(a, b)| format!("/{a}/{b}")),
    ];
    (short, text(), any::<bool>()).prop_map(|(p, t, dir)| {
        if dir {
            StdFsOp::Mkdir(p)
        } else {
            StdFsOp::Write(p, t)
        }
    })
}

/// A case of up to `max_ops` operations on a generated tree, after up to
/// four creations.
pub fn case(max_ops: usize) -> impl Strategy<Value = StdFsCase> {
    let ops = (vec(create(), 0..=4), vec(op(), 1..=max_ops)).prop_map(|(mut first, rest)| {
        first.extend(rest);
        first
    });
    (crate::fs::strategies::tree(), 0u64..1 << 62, ops).prop_map(|(tree, wall_start, ops)| {
        StdFsCase {
            tree,
            wall_start,
            ops,
        }
    })
}
