//! `p2_fs`: filesystem scripts for the `fs_script` guest, run by its wasip1
//! build on both preview1 backends and by its wasip2 build on
//! `wasi:filesystem` (and under stock wasmtime-wasi over a host copy of the
//! tree), through the audit's runner. The property bodies are
//! `proptests::std_fs`'s: the same answers and the same final tree from
//! every build; stock's errnos, bytes, names and final tree shape.

use arbitrary::{Arbitrary, Unstructured};
use proptests::fs::model::Entry;
use proptests::std_fs::{StdFsCase, StdFsOp, check_p1_p2, check_p2_against_stock};
use std::collections::BTreeMap;

/// The paths a script uses: names that collide, `..`, an escape, the root,
/// a trailing `/` and `/.`, a `//`; then [`LONG_NAMES`].
const PATHS: [&str; 16] = [
    "/a", "/b", "/c", "/a/b", "/b/c", "/c/a", "/a/b/c", "/", "/../x", "/a/../b", "/a/", "/d",
    "/b/a", "/c/c", "/a/.", "/b//c",
];

/// The lengths of the long names a path may be (`/` and that many `x`):
/// the longest a name may be on Linux, one more, and one no tree holds.
const LONG_NAMES: [usize; 3] = [255, 256, 4096];

/// Symlink targets: inside the tree, escaping, absolute, a loop.
const TARGETS: [&str; 8] = ["a", "b", "c", "a/b", "../x", "/abs", "b/c", "d"];

/// A path, as an index into [`PATHS`] and then [`LONG_NAMES`].
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct PathInput(u8);

impl PathInput {
    fn path(self) -> String {
        let i = usize::from(self.0) % (PATHS.len() + LONG_NAMES.len());
        match PATHS.get(i) {
            Some(path) => path.to_string(),
            None => format!("/{}", "x".repeat(LONG_NAMES[i - PATHS.len()])),
        }
    }
}

/// Text to write: bytes mapped onto `[a-z0-9]`, at most 16; or, when the
/// first byte is 0xf8 or more, those repeated to [`LONG_TEXT`] bytes (one
/// line writing more than a stream's 4 KiB write budget).
#[derive(Clone, Debug, Arbitrary)]
pub struct TextInput(Vec<u8>);

/// The length of a long text.
pub const LONG_TEXT: usize = 5000;

impl TextInput {
    fn text(&self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let short = self.0.iter().take(16);
        let text = short.map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char);
        match self.0.first() {
            Some(0xf8..) => text.cycle().take(LONG_TEXT).collect(),
            _ => text.collect(),
        }
    }
}

/// An offset: below 64 for most values; for the top sixteenth, 2^63-1
/// itself (a quarter of them) or one of the 255 values below it.
fn offset(value: u16) -> u64 {
    if value < 0xf000 {
        u64::from(value % 64)
    } else {
        let below = u64::from(value & 0xff);
        i64::MAX as u64 - if below < 64 { 0 } else { below }
    }
}

/// A drawn count below `modulus`, with 0 and 1 an eighth of the time each
/// and a value below 64 Ki another quarter (a count drawn whole is almost
/// never one of those).
fn count(value: u32, modulus: u32) -> u32 {
    match value % 8 {
        0 => 0,
        1 => 1,
        2 | 3 => (value >> 3) % modulus.min(1 << 16),
        _ => value % modulus,
    }
}

/// One script line.
#[derive(Clone, Debug, Arbitrary)]
pub enum OpInput {
    Write(PathInput, TextInput),
    Append(PathInput, TextInput),
    Pwrite(PathInput, u16, TextInput),
    Read(PathInput),
    Pread(PathInput, u16, u8),
    Truncate(PathInput, u8),
    Mkdir(PathInput),
    Rmdir(PathInput),
    Rm(PathInput),
    Mv(PathInput, PathInput),
    Ln(PathInput, PathInput),
    Symlink(u8, PathInput),
    Readlink(PathInput),
    Stat(PathInput),
    Lstat(PathInput),
    Ls(PathInput),
    Touch(PathInput, u32),
    Sleep(u32),
}

impl OpInput {
    fn op(&self) -> StdFsOp {
        use OpInput as I;
        match self {
            I::Write(p, t) => StdFsOp::Write(p.path(), t.text()),
            I::Append(p, t) => StdFsOp::Append(p.path(), t.text()),
            I::Pwrite(p, o, t) => StdFsOp::Pwrite(p.path(), offset(*o), t.text()),
            I::Read(p) => StdFsOp::Read(p.path()),
            I::Pread(p, o, n) => {
                StdFsOp::Pread(p.path(), offset(*o), count(u32::from(*n), 256) as u16)
            }
            I::Truncate(p, n) => StdFsOp::Truncate(p.path(), u64::from(count(u32::from(*n), 256))),
            I::Mkdir(p) => StdFsOp::Mkdir(p.path()),
            I::Rmdir(p) => StdFsOp::Rmdir(p.path()),
            I::Rm(p) => StdFsOp::Rm(p.path()),
            I::Mv(a, b) => StdFsOp::Mv(a.path(), b.path()),
            I::Ln(a, b) => StdFsOp::Ln(a.path(), b.path()),
            I::Symlink(t, p) => {
                StdFsOp::Symlink(TARGETS[usize::from(*t) % TARGETS.len()].into(), p.path())
            }
            I::Readlink(p) => StdFsOp::Readlink(p.path()),
            I::Stat(p) => StdFsOp::Stat(p.path()),
            I::Lstat(p) => StdFsOp::Lstat(p.path()),
            I::Ls(p) => StdFsOp::Ls(p.path()),
            I::Touch(p, s) => StdFsOp::Touch(p.path(), count(*s, 2_000_000_000)),
            // Stock sleeps in real time: at most 2 ms.
            I::Sleep(ns) => StdFsOp::Sleep(count(*ns, 2_000_000)),
        }
    }
}

/// An initial root entry: `a`, `b` or `c` (by index) as a file, a
/// directory of files or a symlink.
#[derive(Clone, Debug, Arbitrary)]
pub enum EntryInput {
    File(Vec<u8>),
    Dir(Vec<(u8, Vec<u8>)>),
    Symlink(u8),
}

/// A structured input.
#[derive(Clone, Debug, Arbitrary)]
pub struct P2FsInput {
    /// The initial tree's root entries.
    pub tree: Vec<(u8, EntryInput)>,
    /// The virtual wall clock's start, in seconds.
    pub wall_start: u32,
    /// The script.
    pub ops: Vec<OpInput>,
}

fn name(i: u8) -> String {
    ["a", "b", "c"][usize::from(i) % 3].to_string()
}

impl P2FsInput {
    /// The case the checks run.
    pub fn case(&self) -> StdFsCase {
        let mut tree = BTreeMap::new();
        for (n, entry) in self.tree.iter().take(3) {
            let entry = match entry {
                EntryInput::File(bytes) => Entry::File(bytes.iter().take(64).copied().collect()),
                EntryInput::Dir(files) => Entry::Dir(
                    files
                        .iter()
                        .take(3)
                        .map(|(m, bytes)| {
                            (
                                name(*m),
                                Entry::File(bytes.iter().take(64).copied().collect()),
                            )
                        })
                        .collect(),
                ),
                EntryInput::Symlink(t) => {
                    Entry::Symlink(TARGETS[usize::from(*t) % TARGETS.len()].into())
                }
            };
            tree.insert(name(*n), entry);
        }
        StdFsCase {
            tree,
            wall_start: u64::from(self.wall_start) * 1_000_000_000,
            ops: self.ops.iter().take(40).map(OpInput::op).collect(),
        }
    }
}

/// What the libFuzzer shim does once before the first execution: stock's
/// host copies of the tree are kept and reset to the next run's tree
/// ([`reuse_stock_copies`](deterministic_wasi_ctx::audit::reuse_stock_copies)),
/// as for `fs_diff` ([`crate::fs_diff::init`]): the comparison with stock
/// leaves out the `meta` lines (inode numbers, times), a directory's size
/// (0 in the `stat` line) and the order of a listing.
pub fn init() {
    crate::fs_diff::init();
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    // Drawn again while it holds no operation (`crate::non_empty`).
    let input = crate::non_empty(u, |u| u.arbitrary::<P2FsInput>(), |i| i.ops.is_empty())?;
    check(&input);
    Ok(())
}

/// All checks for one input (panics on a finding).
pub fn check(input: &P2FsInput) {
    let case = input.case();
    let script = proptests::std_fs::script_text(&case.ops);
    let host_calls = match check_p1_p2(&case, &case.config()) {
        Ok(calls) => calls,
        Err(why) => {
            panic!("p2_fs: wasip1 and wasip2 differ: {why}\ninput: {input:?}\nscript:\n{script}")
        }
    };
    if let Err(why) = check_p2_against_stock(&case) {
        panic!("p2_fs: differs from stock: {why}\ninput: {input:?}\nscript:\n{script}");
    }
    crate::record(host_calls);
}
