//! Differential test: random operation sequences on a tree and on a real
//! Linux directory give the same errnos and the same final tree. `open`
//! with `directory` is done the way stock wasmtime-wasi does it: open, then
//! check that a directory was opened.
//!
//! Paths never escape (no `..`, no absolute paths or symlink targets) and
//! never end in `/` or `.` (where the tree follows stock wasmtime-wasi, not
//! Linux: see the `fs_diff` fuzz target), so the host directory is a
//! faithful reference.

use super::snapshot::TempDir;
use super::{T0, tree};
use crate::fs::*;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

// No `..`: with a symlink to `.` it could lead out of the host directory.
// No trailing `/` or final `.` either: there stock wasmtime-wasi (cap-std)
// answers differently from Linux, and the tree follows stock; `fs_diff`
// checks those cases against stock itself.
const PATHS: &[&str] = &["a", "b", "c", "a/b", "a/c", "b/a", "a/b/c", "l", "a/l"];
const TARGETS: &[&str] = &["a", "b", "c", "a/b", "l", "a/", ".", "b/c"];

// The asm-generic value (x86, riscv, ...); arm and aarch64 have their own.
#[cfg(not(any(target_arch = "arm", target_arch = "aarch64")))]
const O_NOFOLLOW: i32 = 0o400000;
#[cfg(any(target_arch = "arm", target_arch = "aarch64"))]
const O_NOFOLLOW: i32 = 0o100000;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

#[derive(Debug)]
enum Op {
    CreateDir(&'static str),
    RemoveDir(&'static str),
    Unlink(&'static str),
    Rename(&'static str, &'static str),
    Symlink(&'static str, &'static str),
    Open {
        path: &'static str,
        create: bool,
        excl: bool,
        truncate: bool,
        write: bool,
        directory: bool,
        follow: bool,
    },
    Stat(&'static str, bool),
    Readlink(&'static str),
}

fn op(rng: &mut Rng) -> Op {
    let p = rng.pick(PATHS);
    match rng.next() % 9 {
        0 => Op::CreateDir(p),
        1 => Op::RemoveDir(p),
        2 => Op::Unlink(p),
        3 => Op::Rename(p, rng.pick(PATHS)),
        // `link` opens both directories before looking at either entry,
        // as stock does (Linux looks the old entry up first): `fs_diff`
        // checks it against stock.
        4 => Op::Stat(p, false),
        5 => Op::Symlink(rng.pick(TARGETS), p),
        6 => {
            let (create, excl, truncate) = (rng.coin(), rng.coin(), rng.coin());
            let directory = rng.next().is_multiple_of(4);
            Op::Open {
                path: p,
                create: create && !directory,
                excl: create && excl && !directory,
                truncate: truncate && !directory,
                write: (create || truncate || rng.coin()) && !directory,
                directory,
                follow: !rng.next().is_multiple_of(4),
            }
        }
        7 => Op::Stat(p, rng.coin()),
        _ => Op::Readlink(p),
    }
}

/// Linux errno → preview1 errno.
fn wasi_errno(e: std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(1) => Errno::PERM,
        Some(2) => Errno::NOENT,
        Some(16) => Errno::BUSY,
        Some(17) => Errno::EXIST,
        Some(20) => Errno::NOTDIR,
        Some(21) => Errno::ISDIR,
        Some(22) => Errno::INVAL,
        Some(39) => Errno::NOTEMPTY,
        Some(40) => Errno::LOOP,
        other => panic!("unexpected host error {other:?}: {e}"),
    }
}

/// Runs `op` on the host; what the model must match (`Ok` carries a file
/// type for stat, the target for readlink).
fn on_host(root: &Path, op: &Op) -> Result<String, Errno> {
    let p = |s: &str| root.join(s);
    let r = match op {
        Op::CreateDir(a) => std::fs::create_dir(p(a)).map(|_| String::new()),
        Op::RemoveDir(a) => std::fs::remove_dir(p(a)).map(|_| String::new()),
        Op::Unlink(a) => std::fs::remove_file(p(a)).map(|_| String::new()),
        Op::Rename(a, b) => std::fs::rename(p(a), p(b)).map(|_| String::new()),
        Op::Symlink(t, a) => std::os::unix::fs::symlink(t, p(a)).map(|_| String::new()),
        Op::Open {
            path,
            create,
            excl,
            truncate,
            write,
            directory,
            follow,
        } => std::fs::OpenOptions::new()
            .read(true)
            .write(*write)
            .create(*create && !*excl)
            .create_new(*excl)
            .truncate(*truncate)
            .custom_flags(if *follow { 0 } else { O_NOFOLLOW })
            .open(p(path))
            .and_then(|mut f| {
                // As stock wasmtime-wasi does `directory`: open, then check.
                if *directory && !f.metadata()?.is_dir() {
                    return Err(std::io::Error::from_raw_os_error(20));
                }
                if *write && f.metadata()?.is_file() {
                    f.write_all(b"w")?;
                }
                Ok(String::new())
            }),
        Op::Stat(a, follow) => if *follow {
            std::fs::metadata(p(a))
        } else {
            std::fs::symlink_metadata(p(a))
        }
        .map(|m| format!("{:?}", m.file_type())),
        Op::Readlink(a) => std::fs::read_link(p(a)).map(|t| t.display().to_string()),
    };
    r.map_err(wasi_errno)
}

fn on_tree(t: &mut FsTree, op: &Op, now: u64) -> Result<String, Errno> {
    let host_type = |ft: FileType| match ft {
        FileType::Directory => "FileType { is_file: false, is_dir: true, is_symlink: false, .. }",
        FileType::RegularFile => "FileType { is_file: true, is_dir: false, is_symlink: false, .. }",
        FileType::SymbolicLink => {
            "FileType { is_file: false, is_dir: false, is_symlink: true, .. }"
        }
    };
    let b = str::as_bytes;
    match *op {
        Op::CreateDir(a) => t.create_dir(ROOT, b(a), now).map(|_| String::new()),
        Op::RemoveDir(a) => t.remove_dir(ROOT, b(a), now).map(|_| String::new()),
        Op::Unlink(a) => t.unlink(ROOT, b(a), now).map(|_| String::new()),
        Op::Rename(a, c) => t.rename(ROOT, b(a), ROOT, b(c), now).map(|_| String::new()),
        Op::Symlink(target, a) => t.symlink(b(target), ROOT, b(a), now).map(|_| String::new()),
        Op::Open {
            path,
            create,
            excl,
            truncate,
            write,
            directory,
            follow,
        } => {
            let options = OpenOptions::new()
                .create(create)
                .exclusive(excl)
                .truncate(truncate)
                .write(write)
                .directory(directory)
                .follow(follow);
            let ino = t.open(ROOT, b(path), &options, now)?;
            if write && t.stat(ino)?.filetype == FileType::RegularFile {
                t.write_at(ino, 0, b"w", now)?;
            }
            t.close(ino)?;
            Ok(String::new())
        }
        Op::Stat(a, follow) => t
            .stat_at(ROOT, b(a), follow)
            .map(|s| host_type(s.filetype).to_string()),
        Op::Readlink(a) => t
            .readlink(ROOT, b(a))
            .map(|t| String::from_utf8(t).unwrap()),
    }
}

/// (path, type, contents or target, nlink for non-directories) of every
/// entry below `root`, in sorted path order.
fn host_walk(root: &Path) -> Vec<(Vec<u8>, String, Vec<u8>, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for entry in std::fs::read_dir(root.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let rel = rel.join(entry.file_name());
            let full = root.join(&rel);
            let meta = std::fs::symlink_metadata(&full).unwrap();
            let path = rel.as_os_str().as_bytes().to_vec();
            if meta.is_dir() {
                todo.push(rel);
                out.push((path, "dir".into(), Vec::new(), 0));
            } else if meta.is_symlink() {
                let target = std::fs::read_link(&full).unwrap();
                let target = target.as_os_str().as_bytes().to_vec();
                out.push((path, "symlink".into(), target, meta.nlink()));
            } else {
                let data = std::fs::read(&full).unwrap();
                out.push((path, "file".into(), data, meta.nlink()));
            }
        }
    }
    out.sort();
    out
}

fn tree_walk(t: &FsTree) -> Vec<(Vec<u8>, String, Vec<u8>, u64)> {
    let mut out: Vec<_> = t
        .walk()
        .into_iter()
        .skip(1)
        .map(|e| match e.content {
            WalkContent::Directory => (e.path, "dir".into(), Vec::new(), 0),
            WalkContent::File(data) => (e.path, "file".into(), data.to_vec(), e.stat.nlink),
            WalkContent::Symlink(target) => {
                (e.path, "symlink".into(), target.to_vec(), e.stat.nlink)
            }
        })
        .collect();
    out.sort();
    out
}

/// 200 sequences of 30 operations (about 2 s). Checked once with 3,000
/// sequences of 40 operations under two seeds; that run found three
/// differences (`rename`'s `EBUSY` comes before `ENOENT`; `O_CREAT` with a trailing
/// `/`, also through a symlink, is `EISDIR` before any lookup) now fixed.
#[test]
fn random_operations_match_linux() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..200 {
        let host = TempDir::new("linux-diff");
        let root = host.path();
        std::fs::create_dir(root.join("a")).unwrap();
        std::fs::write(root.join("a/f"), "f").unwrap();
        let mut t = tree(&VirtualFs::new().file("a/f", "f"));
        let mut ops = Vec::new();
        for step in 0..30 {
            let op = op(&mut rng);
            let want = on_host(root, &op);
            let got = on_tree(&mut t, &op, T0 + step);
            ops.push(op);
            assert_eq!(got, want, "case {case}, operations: {ops:#?}");
        }
        assert_eq!(
            tree_walk(&t),
            host_walk(root),
            "case {case}, operations: {ops:#?}"
        );
    }
}
