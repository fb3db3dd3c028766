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
//!   (results, memory, trace, the final trees' digests with metadata).

use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{Backend, Compiled, Fingerprint, Outcome, RunSpec, Strategy};
use deterministic_wasi_ctx::fs::{FsTree, WalkContent};
use deterministic_wasi_ctx::script::fs::{FsResult, FsScript, fs_diff_tree};

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

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    check(&input(u)?);
    Ok(())
}

/// What an entry holds: a file's size and its bytes other than zero (so
/// a hole and stored zeros compare equal, and a 2 GiB sparse file costs
/// only its stored bytes), a symlink's target.
type Shape = Vec<(Vec<u8>, &'static str, u64, Vec<(u64, Vec<u8>)>)>;

/// A tree's names, types and contents, without metadata.
fn shape(tree: &FsTree) -> Shape {
    tree.walk()
        .into_iter()
        .map(|e| match e.content {
            WalkContent::Directory => (e.path, "dir", 0, Vec::new()),
            WalkContent::File(content) => (e.path, "file", content.len(), content.nonzero_runs()),
            WalkContent::Symlink(target) => (e.path, "symlink", 0, vec![(0, target.to_vec())]),
        })
        .collect()
}

/// Status without a trap's wording.
fn status_class(o: &Outcome) -> String {
    match &o.status {
        deterministic_wasi_ctx::audit::Status::Trapped { after_calls, .. } => {
            format!("trap after {after_calls} calls")
        }
        other => other.to_string(),
    }
}

/// Runs `input` three ways and panics on a difference.
pub fn check(input: &Input) {
    check_against(input, &config(&input.contents));
}

/// [`check`] with stock given `stock_config` (a test passes a different
/// tree to show that the comparison catches it).
pub fn check_against(input: &Input, stock_config: &DeterminismConfig) {
    let compiled_script = input.script.compile();
    let wasm = compiled_script.wasm();
    crate::dump(&wasm);
    let engine = crate::shared_engine(Strategy::Cranelift);
    let compiled = Compiled::new(engine, &wasm).expect("compiles");
    let spec = |stock, config: &DeterminismConfig| RunSpec {
        stock,
        keep_memory: true,
        writes_from_signatures: false,
        ..crate::spec(config.clone())
    };
    let ours_config = config(&input.contents);
    let ours = compiled.run(engine, Backend::WasmtimeWasi, &spec(false, &ours_config));
    let common = compiled.run(engine, Backend::WasiCommon, &spec(false, &ours_config));
    let stock = compiled.run(engine, Backend::WasmtimeWasi, &spec(true, stock_config));
    crate::record(ours.host_calls);
    let results = |o: &Outcome| compiled_script.results(o.memory.as_deref().unwrap_or_default());
    let (mine, theirs) = (results(&ours), results(&stock));
    let ops: Vec<_> = compiled_script.ops().collect();
    // Only the calls that ran (up to a trap) are compared.
    let ran = ours.host_calls.min(stock.host_calls) as usize;
    for (i, op) in ops.iter().enumerate().take(ran) {
        let (a, b): (FsResult, FsResult) = (mine[i].masked(op), theirs[i].masked(op));
        assert!(
            a == b,
            "fs_diff: call {i} differs from stock wasmtime-wasi\n  op: {op:?}\n  stock: {b:?}\n  crate: {a:?}\n  (unmasked crate: {:?})\ninput: {input:?}",
            mine[i]
        );
    }
    assert_eq!(
        status_class(&ours),
        status_class(&stock),
        "fs_diff: status differs from stock\ninput: {input:?}"
    );
    for ((path, tree), (_, stock_tree)) in ours.filesystems.iter().zip(&stock.filesystems) {
        assert!(
            shape(tree) == shape(stock_tree),
            "fs_diff: final tree {path} differs from stock\n  stock: {:?}\n  crate: {:?}\ninput: {input:?}",
            shape(stock_tree),
            shape(tree)
        );
    }
    let (a, b) = (Fingerprint::of(&ours), Fingerprint::of(&common));
    if let Some(d) = deterministic_wasi_ctx::audit::first_difference(&a, &b, None) {
        panic!("fs_diff: the backends differ: {d}\ninput: {input:?}");
    }
}
