//! The filesystem property body: one generated case run on both preview1
//! backends (and again in a fresh Store), compared call by call and tree by
//! tree with the [`model`](super::model).

use super::model::{Entry, FsModel};
use crate::run::{FUEL, engine};
use deterministic_wasi_ctx::audit::{Backend, Compiled, Fingerprint, Outcome, RunSpec, Status};
use deterministic_wasi_ctx::fs::{FileType, VirtualFs, WalkContent};
use deterministic_wasi_ctx::script::fs::{FsOp, FsOutput, FsResult, FsScript};
use deterministic_wasi_ctx::{DeterminismConfig, audit};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use std::time::Duration;

/// One generated case: the initial tree (preopened writable as `/`), the
/// virtual wall clock's start (also the snapshot's time) and the calls.
#[derive(Clone, Debug)]
pub struct FsCase {
    /// The root's entries.
    pub tree: BTreeMap<String, Entry>,
    /// Nanoseconds since the epoch.
    pub wall_start: u64,
    /// The calls.
    pub ops: Vec<FsOp>,
}

impl FsCase {
    /// The tree as a snapshot.
    pub fn snapshot(&self) -> VirtualFs {
        fn add(fs: VirtualFs, prefix: &str, dir: &BTreeMap<String, Entry>) -> VirtualFs {
            dir.iter().fold(fs, |fs, (name, entry)| {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                match entry {
                    Entry::File(bytes) => fs.file(&path, bytes.clone()),
                    Entry::Symlink(target) => fs.symlink(&path, target),
                    Entry::Dir(children) => add(fs.dir(&path), &path, children),
                }
            })
        }
        add(VirtualFs::new(), "", &self.tree)
    }

    /// The context the case runs in.
    pub fn config(&self) -> DeterminismConfig {
        DeterminismConfig::new()
            .wall_start(Duration::from_nanos(self.wall_start))
            .preopen("/", self.snapshot())
    }
}

/// Runs `case` with a context built from `config` (the case's own, or a
/// deliberately different one in the bite tests) on the wasmtime-wasi
/// backend, on wasi-common, and on wasmtime-wasi again in a fresh Store.
/// Every call's result and each final tree must equal the model's, and the
/// three runs' fingerprints (final-tree digest included) must be equal.
///
/// # Errors
///
/// The first difference, described.
pub fn check_fs_case(case: &FsCase, config: &DeterminismConfig) -> Result<(), TestCaseError> {
    let mut model = FsModel::new(&case.tree, case.wall_start);
    let expected: Vec<FsResult> = case.ops.iter().map(|op| model.apply(op)).collect();
    let expected_walk = model.walk();
    let script = FsScript {
        ops: case.ops.clone(),
    }
    .compile();
    let compiled = Compiled::new(engine(), &script.wasm()).expect("scripts compile");
    let spec = RunSpec {
        config: config.clone(),
        fuel: FUEL,
        max_events: 0,
        stock: false,
        keep_memory: true,
        writes_from_signatures: false,
        replay: None,
    };
    let backends = [
        Backend::WasmtimeWasi,
        Backend::WasiCommon,
        Backend::WasmtimeWasi,
    ];
    let mut fingerprints = Vec::new();
    for backend in backends {
        let outcome = compiled.run(engine(), backend, &spec);
        prop_assert_eq!(
            &outcome.status,
            &Status::Exited(0),
            "{:?} did not finish",
            backend
        );
        let results = script.results(outcome.memory.as_deref().unwrap_or_default());
        for (i, ((op, got), want)) in case.ops.iter().zip(&results).zip(&expected).enumerate() {
            let got = visible(got);
            prop_assert!(
                &got == want,
                "{backend:?}, call {i}: {op:?}\n  got   {got:?}\n  model {want:?}"
            );
        }
        let walk = walk_of(&outcome);
        prop_assert!(
            walk == expected_walk,
            "{backend:?}: final tree differs from the model's\n  got   {walk:?}\n  model {expected_walk:?}"
        );
        fingerprints.push(Fingerprint::of(&outcome));
    }
    for other in &fingerprints[1..] {
        if let Some(d) = audit::first_difference(&fingerprints[0], other, None) {
            return Err(TestCaseError::fail(format!("runs differ: {d}")));
        }
    }
    Ok(())
}

/// A result as the model states it: outputs only when the call succeeded.
fn visible(result: &FsResult) -> FsResult {
    let output = if result.errno == 0 {
        result.output.clone()
    } else {
        FsOutput::None
    };
    FsResult {
        errno: result.errno,
        output,
    }
}

/// The run's final tree (its only preopen) in the model's terms.
fn walk_of(outcome: &Outcome) -> Vec<(Vec<u8>, [u64; 8], Vec<u8>)> {
    let Some((_, tree)) = outcome.filesystems.first() else {
        return Vec::new();
    };
    tree.walk()
        .into_iter()
        .map(|e| {
            let s = e.stat;
            let filetype = match s.filetype {
                FileType::Directory => 3,
                FileType::RegularFile => 4,
                FileType::SymbolicLink => 7,
            };
            let content = match e.content {
                WalkContent::Directory => Vec::new(),
                WalkContent::File(content) => content.to_vec(),
                WalkContent::Symlink(bytes) => bytes.to_vec(),
            };
            let stat = [
                s.dev, s.ino, filetype, s.nlink, s.size, s.atim, s.mtim, s.ctim,
            ];
            (e.path, stat, content)
        })
        .collect()
}
