//! `p3_fs`: filesystem scripts run through `wasi:filesystem@0.3.0` by one
//! fixed WASI 0.3 component (`p3_fs/interpreter.wat`, compiled once): the
//! script is its stdin, six bytes per operation (open-at, stream writes,
//! appends and reads, read-directory, stat, stat-at, create, unlink,
//! remove, rename, symlink, readlink, set-size, get-type, get-flags,
//! link-at, set-times-at, set-times), and it logs every answer to stdout. The crate's context must
//! give the same fingerprint in two fresh Stores, and stock wasmtime-wasi,
//! over a host copy of the same tree, the same log (error codes, amounts
//! moved by each stream operation, bytes read, listings as sets, types and
//! file sizes) and the same final names, types and contents.

use crate::p2_fs::{EntryInput, P2FsInput};
use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{
    AuditConfig, Backend, Compiled, Fingerprint, Outcome, RunSpec, Status, Strategy,
    first_difference,
};
use std::sync::OnceLock;

/// The interpreter's text.
pub const INTERPRETER: &str = include_str!("p3_fs/interpreter.wat");

/// The most operations the interpreter runs.
pub const MAX_OPS: usize = 64;

/// One operation: opcode (taken modulo 19) and five argument bytes, as the
/// interpreter reads them.
pub type OpInput = [u8; 6];

/// A structured input: the initial tree (as `p2_fs` draws it), the wall
/// clock's start and the script: every remaining 6 bytes are an operation,
/// so a short input already runs several.
#[derive(Clone, Debug)]
pub struct P3FsInput {
    /// The initial tree's root entries.
    pub tree: Vec<(u8, EntryInput)>,
    /// The virtual wall clock's start, in seconds.
    pub wall_start: u32,
    /// The script.
    pub ops: Vec<OpInput>,
}

impl<'a> Arbitrary<'a> for P3FsInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let tree = u.arbitrary()?;
        let wall_start = u.arbitrary()?;
        let ops = u
            .bytes(u.len())?
            .chunks_exact(6)
            .take(MAX_OPS)
            .map(|op| [op[0], op[1], op[2], op[3], op[4], op[5]])
            .collect();
        Ok(P3FsInput {
            tree,
            wall_start,
            ops,
        })
    }
}

impl P3FsInput {
    /// The context: the tree preopened at `/`, the script as stdin.
    pub fn config(&self) -> DeterminismConfig {
        let tree = P2FsInput {
            tree: self.tree.clone(),
            wall_start: self.wall_start,
            ops: Vec::new(),
        };
        tree.case().config().stdin(self.script())
    }

    /// The script's bytes (at most [`MAX_OPS`] operations).
    pub fn script(&self) -> Vec<u8> {
        self.ops.iter().take(MAX_OPS).flatten().copied().collect()
    }
}

/// The interpreter compiled for the shared Cranelift engine.
fn interpreter() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let wasm = wat::parse_str(INTERPRETER).expect("the p3_fs interpreter parses");
        Compiled::new(crate::shared_engine(Strategy::Cranelift), &wasm)
            .expect("the p3_fs interpreter compiles")
    })
}

/// Runs the interpreter with `config`, on the crate's context or stock's.
pub fn run_with(config: &DeterminismConfig, stock: bool) -> Outcome {
    let spec = RunSpec {
        config: config.clone(),
        stock,
        ..AuditConfig::default().spec
    };
    interpreter().run(
        crate::shared_engine(Strategy::Cranelift),
        Backend::WasmtimeWasi,
        &spec,
    )
}

/// The operations' names, by opcode.
pub const OPS: [&str; 19] = [
    "open-at",
    "write-via-stream",
    "append-via-stream",
    "read-via-stream",
    "read-directory",
    "stat",
    "stat-at",
    "create-directory-at",
    "unlink-file-at",
    "remove-directory-at",
    "rename-at",
    "symlink-at",
    "readlink-at",
    "set-size",
    "get-type",
    "get-flags",
    "link-at",
    "set-times-at",
    "set-times",
];

/// The interpreter's log, one line per operation: its name and answer
/// (`ok` or `error N`, the `error-code` case) and values. A log cut short
/// ends with `truncated`.
pub fn answers(log: &[u8]) -> Vec<String> {
    let mut r = Reader { log, at: 0 };
    let mut lines = Vec::new();
    while let Some(op) = r.u8() {
        let name = OPS.get(usize::from(op)).unwrap_or(&"?");
        match r.answer(op) {
            Some(line) => lines.push(format!("{name} {line}")),
            None => {
                lines.push(format!("{name} truncated"));
                break;
            }
        }
    }
    lines
}

struct Reader<'a> {
    log: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let bytes = self.log.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// `ok` or `error N`, and whether it was ok.
    fn result(&mut self) -> Option<(String, bool)> {
        Some(match self.u8()? {
            0 => ("ok".into(), true),
            n => (format!("error {}", n - 1), false),
        })
    }

    fn answer(&mut self, op: u8) -> Option<String> {
        Some(match op {
            1 | 2 => {
                let moved = self.u32()?;
                format!("wrote {moved}, then {}", self.result()?.0)
            }
            3 => match self.u8()? {
                0xff => "skipped (a directory)".into(),
                status => {
                    let n = self.u32()?;
                    let bytes = self.take(n as usize)?.to_vec();
                    format!("status {status} read {bytes:?}, then {}", self.result()?.0)
                }
            },
            4 => {
                let (count, types, names) = (self.u32()?, self.u32()?, self.u32()?);
                let outcome = self.result()?.0;
                format!("{count} entries (types {types}, names {names}), then {outcome}")
            }
            5 | 6 => match self.result()? {
                (_, true) => match self.u8()? {
                    5 => format!("ok file of {} bytes", self.u64()?),
                    t => format!("ok type {t}"),
                },
                (e, false) => e,
            },
            12 => match self.result()? {
                (_, true) => {
                    let n = self.u32()?;
                    format!("ok {:?}", String::from_utf8_lossy(self.take(n as usize)?))
                }
                (e, false) => e,
            },
            14 | 15 => match self.result()? {
                (_, true) => format!("ok {}", self.u8()?),
                (e, false) => e,
            },
            _ => self.result()?.0,
        })
    }
}

/// What the libFuzzer shim does once before the first execution: stock's
/// host copies of the tree are kept and reset to the next run's tree
/// ([`reuse_stock_copies`](deterministic_wasi_ctx::audit::reuse_stock_copies)),
/// as for `fs_diff` ([`crate::fs_diff::init`]): the comparisons leave out
/// the host metadata a reuse changes (a directory's size and inode, the
/// order of a listing, times).
pub fn init() {
    crate::fs_diff::init();
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    // Drawn again while it holds no operation (`crate::non_empty`).
    let input = crate::non_empty(u, |u| u.arbitrary::<P3FsInput>(), |i| i.ops.is_empty())?;
    check(&input);
    Ok(())
}

/// All checks for one input (panics on a finding).
pub fn check(input: &P3FsInput) {
    let config = input.config();
    let ours = run_with(&config, false);
    let again = run_with(&config, false);
    let (a, b) = (Fingerprint::of(&ours), Fingerprint::of(&again));
    if let Some(difference) = first_difference(&a, &b, None) {
        panic!("p3_fs: two Stores differ: {difference:?}\ninput: {input:?}");
    }
    assert_eq!(
        ours.status,
        Status::Exited(0),
        "p3_fs: {:?}\ninput: {input:?}",
        ours.trap_message
    );
    let stock = run_with(&config, true);
    assert_eq!(
        stock.status,
        Status::Exited(0),
        "p3_fs: stock: {:?}\ninput: {input:?}",
        stock.trap_message
    );
    let (mine, theirs) = (answers(&ours.stdout), answers(&stock.stdout));
    if let Some(i) = (0..mine.len().max(theirs.len())).find(|&i| mine.get(i) != theirs.get(i)) {
        panic!(
            "p3_fs: operation {i} ({:?}) answers {:?}, stock {:?}\ninput: {input:?}",
            input.ops.get(i),
            mine.get(i),
            theirs.get(i)
        );
    }
    let (mine, theirs) = (
        proptests::std_fs::shape(&ours.filesystems[0].1),
        proptests::std_fs::shape(&stock.filesystems[0].1),
    );
    assert_eq!(mine, theirs, "p3_fs: final trees differ\ninput: {input:?}");
    crate::record(ours.host_calls);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (the target's first runs): an open directory removed,
    /// then a 256-byte name created in it: Linux (stock) finds the removal
    /// first (`no-entry`), the crate answered `name-too-long`; and the
    /// directory listed: stock's reader ends at the kernel's `ENOENT` (an
    /// empty listing, `ok`), the crate answered `no-entry`. Both in the
    /// core's rules now, so preview1 and preview2 changed too
    /// (`fs_diff_a_removed_directory_lists_empty_and_has_no_names`).
    #[test]
    fn p3_fs_removed_directory_long_name() {
        let input = P3FsInput {
            tree: vec![(1, EntryInput::Dir(Vec::new()))],
            wall_start: 0,
            ops: vec![
                // open-at(preopen, "b", no open flags, read) -> slot 1
                [0, 0, 1, 0, 0, 1],
                // remove-directory-at(preopen, "b")
                [9, 0, 1, 0, 0, 0],
                // create-directory-at(slot 1, 256 x's)
                [7, 1, 16, 0, 0, 0],
                // stat-at(slot 1, 255 x's)
                [6, 1, 15, 0, 0, 0],
                // read-directory(slot 1)
                [4, 1, 0, 0, 0, 0],
            ],
        };
        let outcome = run_with(&input.config(), false);
        assert_eq!(
            answers(&outcome.stdout),
            [
                "open-at ok",
                "remove-directory-at ok",
                "create-directory-at error 19",
                "stat-at error 19",
                "read-directory 0 entries (types 0, names 0), then ok"
            ]
        );
        check(&input);
    }

    /// Every operation's answer decodes, and a cut log says so.
    #[test]
    fn logs_decode() {
        assert_eq!(answers(&[0, 0, 14, 0, 2]), ["open-at ok", "get-type ok 2"]);
        assert_eq!(answers(&[1, 5, 0]), ["write-via-stream truncated"]);
        assert_eq!(answers(&[99, 0]), ["? ok"]);
    }
}
