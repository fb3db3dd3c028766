//! Generators for the filesystem properties: small trees of `a`, `b`, `c`
//! (files, directories and relative symlinks inside the tree) and sequences
//! of calls on them with valid pointers, in the subset the
//! [`model`](super::model) covers.

use super::check::FsCase;
use super::model::Entry;
use deterministic_wasi_ctx::script::fs::{Fd, FsOp, FsPath};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A name: collisions are the point, so there are only three.
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(String::from)
}

/// A relative path of one to three names, mostly one.
pub fn path() -> impl Strategy<Value = String> {
    let depth = prop_oneof![4 => Just(1usize), 2 => Just(2usize), 1 => Just(3usize)];
    depth
        .prop_flat_map(|n| vec(name(), n))
        .prop_map(|names| names.join("/"))
}

fn fs_path() -> impl Strategy<Value = FsPath> {
    path().prop_map(|p| FsPath::new(&p))
}

/// An entry of an initial tree, at most two directories deep.
pub fn entry() -> impl Strategy<Value = Entry> {
    let leaf = prop_oneof![
        3 => vec(any::<u8>(), 0..16).prop_map(Entry::File),
        1 => path().prop_map(Entry::Symlink),
        1 => Just(Entry::Dir(BTreeMap::new())),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        btree_map(name(), inner, 0..=3).prop_map(Entry::Dir)
    })
}

/// The entries of an initial root directory.
pub fn tree() -> impl Strategy<Value = BTreeMap<String, Entry>> {
    btree_map(name(), entry(), 0..=3)
}

/// A descriptor: mostly one the script opened (4-6: the first three opens
/// get them, and closed numbers are reused), sometimes the preopen (3) or
/// one never opened.
pub fn fd() -> impl Strategy<Value = Fd> {
    prop_oneof![8 => 4u8..=6, 1 => Just(3u8), 1 => 7u8..=9].prop_map(Fd)
}

/// A directory argument of a path call: mostly the preopen.
fn dir() -> impl Strategy<Value = Fd> {
    prop_oneof![6 => Just(Fd(3)), 1 => fd()]
}

/// `path_open` in one of three modes: read a file; read and write one
/// (with `O_CREAT`, `O_EXCL`, `O_TRUNC`, append as drawn); a directory.
fn open() -> impl Strategy<Value = FsOp> {
    let mode = prop_oneof![
        2 => Just((0u8, false, 0u8)),
        4 => (prop::sample::select(vec![0u8, 1, 1, 1 | 4, 1 | 8, 8]), prop_oneof![3 => Just(0u8), 1 => Just(1u8)])
            .prop_map(|(oflags, fdflags)| (oflags, true, fdflags)),
        1 => Just((2u8, false, 0u8)),
    ];
    (dir(), any::<bool>(), fs_path(), mode).prop_map(
        |(dir, follow, path, (oflags, write, fdflags))| FsOp::PathOpen {
            dir,
            follow,
            path,
            oflags,
            read: true,
            write,
            fdflags,
        },
    )
}

/// One call.
pub fn op() -> impl Strategy<Value = FsOp> {
    let data = || vec(any::<u8>(), 0..24);
    prop_oneof![
        8 => open(),
        1 => fd().prop_map(|fd| FsOp::FdClose { fd }),
        3 => (fd(), data()).prop_map(|(fd, data)| FsOp::FdWrite { fd, data }),
        1 => (fd(), data(), 0u64..48).prop_map(|(fd, data, offset)| FsOp::FdPwrite { fd, data, offset }),
        2 => (fd(), 0u16..48).prop_map(|(fd, len)| FsOp::FdRead { fd, len }),
        1 => (fd(), 0u16..48, 0u64..48).prop_map(|(fd, len, offset)| FsOp::FdPread { fd, len, offset }),
        1 => (fd(), -16i64..48, 0u8..3).prop_map(|(fd, offset, whence)| FsOp::FdSeek { fd, offset, whence }),
        1 => fd().prop_map(|fd| FsOp::FdTell { fd }),
        1 => fd().prop_map(|fd| FsOp::FdFilestatGet { fd }),
        1 => (fd(), 0u64..48).prop_map(|(fd, size)| FsOp::FdFilestatSetSize { fd, size }),
        2 => (fd(), prop_oneof![3 => Just(1024u16), 1 => 0u16..120], 0u8..6)
            .prop_map(|(fd, len, cookie)| FsOp::FdReaddir { fd, len, cookie }),
        2 => (dir(), fs_path()).prop_map(|(dir, path)| FsOp::PathCreateDirectory { dir, path }),
        1 => (dir(), fs_path()).prop_map(|(dir, path)| FsOp::PathRemoveDirectory { dir, path }),
        2 => (dir(), fs_path()).prop_map(|(dir, path)| FsOp::PathUnlinkFile { dir, path }),
        2 => (dir(), fs_path(), dir(), fs_path()).prop_map(|(from_dir, from, to_dir, to)| {
            FsOp::PathRename { from_dir, from, to_dir, to }
        }),
        1 => (dir(), fs_path(), dir(), fs_path()).prop_map(|(from_dir, from, to_dir, to)| {
            FsOp::PathLink { from_dir, follow: false, from, to_dir, to }
        }),
        1 => (fs_path(), dir(), fs_path()).prop_map(|(target, dir, path)| FsOp::PathSymlink { target, dir, path }),
        1 => (dir(), fs_path(), 0u16..8).prop_map(|(dir, path, len)| FsOp::PathReadlink { dir, path, len }),
        2 => (dir(), any::<bool>(), fs_path()).prop_map(|(dir, follow, path)| FsOp::PathFilestatGet { dir, follow, path }),
        1 => (dir(), any::<bool>(), fs_path(), 0u64..1 << 62, 0u64..1 << 62, prop::sample::select(vec![1u8, 5, 8, 10]))
            .prop_map(|(dir, follow, path, atim, mtim, fst)| FsOp::PathFilestatSetTimes { dir, follow, path, atim, mtim, fst }),
        2 => (1u16..=u16::MAX).prop_map(|nanos| FsOp::Sleep { nanos }),
    ]
}

/// `path_open` creating (or opening) a file to write, in the preopen: so
/// that the calls after it find descriptors 4, 5, ... open.
fn create() -> impl Strategy<Value = FsOp> {
    (name(), any::<bool>()).prop_map(|(name, append)| FsOp::PathOpen {
        dir: Fd(3),
        follow: true,
        path: FsPath::new(&name),
        oflags: 1,
        read: true,
        write: true,
        fdflags: u8::from(append),
    })
}

/// A tree, a wall-clock start, up to three creating opens, then up to
/// `max_ops` calls.
pub fn case(max_ops: usize) -> impl Strategy<Value = FsCase> {
    let ops = (vec(create(), 0..=3), vec(op(), 1..=max_ops)).prop_map(|(mut first, rest)| {
        first.extend(rest);
        first
    });
    (tree(), 0u64..1 << 62, ops).prop_map(|(tree, wall_start, ops)| FsCase {
        tree,
        wall_start,
        ops,
    })
}
