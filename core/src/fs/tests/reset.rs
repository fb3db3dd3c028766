use super::snapshot::TempDir;
use super::tree;
use crate::fs::*;
use std::os::unix::fs::{MetadataExt, symlink};

/// A tree's names, types and contents (sizes and bytes other than zero,
/// symlink targets), as a reset must leave them.
fn shape_of(tree: &FsTree) -> Vec<(Vec<u8>, String)> {
    tree.walk()
        .into_iter()
        .map(|e| {
            let what = match e.content {
                WalkContent::Directory => "dir".to_string(),
                WalkContent::File(c) => format!("file {} {:?}", c.len(), c.nonzero_runs()),
                WalkContent::Symlink(t) => format!("symlink {t:?}"),
            };
            (e.path, what)
        })
        .collect()
}

/// What the host directory holds, read back.
fn host_shape(dir: &std::path::Path) -> Vec<(Vec<u8>, String)> {
    shape_of(&tree(&VirtualFs::from_host_dir(dir).expect("snapshot")))
}

fn start() -> VirtualFs {
    VirtualFs::new()
        .file("a", "hello")
        .file("b/c.txt", "0123456789")
        .dir("b/d")
        .symlink("link", "a")
        .symlink("dlink", "b")
        .symlink("loop", "loop")
}

/// Whatever a run did to an export (new files and directories, a file
/// made a directory and a directory a symlink, contents changed, cut or
/// made sparse and huge, symlinks retargeted, entries removed), a reset
/// leaves exactly the tree's names, types and contents: the same as a
/// fresh export. Untouched entries keep their inode (they were not
/// created again).
#[test]
fn a_reset_undoes_every_kind_of_change() {
    let base = TempDir::new("reset");
    let dir = base.path().join("t");
    let want = tree(&start());
    want.export(&dir).unwrap();
    let kept_inode = std::fs::symlink_metadata(dir.join("b/c.txt"))
        .unwrap()
        .ino();
    std::fs::write(dir.join("new"), "x").unwrap();
    std::fs::create_dir_all(dir.join("newdir/deep")).unwrap();
    std::fs::write(dir.join("newdir/deep/f"), "y").unwrap();
    std::fs::remove_file(dir.join("a")).unwrap();
    std::fs::create_dir(dir.join("a")).unwrap();
    std::fs::write(dir.join("a/inside"), "z").unwrap();
    std::fs::remove_dir(dir.join("b/d")).unwrap();
    symlink("../a", dir.join("b/d")).unwrap();
    std::fs::remove_file(dir.join("link")).unwrap();
    symlink("b", dir.join("link")).unwrap();
    std::fs::remove_file(dir.join("loop")).unwrap();
    let huge = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("b/c.txt"))
        .unwrap();
    huge.set_len(1 << 40).unwrap();
    drop(huge);
    want.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&want));
    assert_eq!(
        std::fs::symlink_metadata(dir.join("b/c.txt"))
            .unwrap()
            .ino(),
        kept_inode,
        "a file with other bytes is rewritten in place"
    );
    // And to another tree, from there.
    let other = tree(&VirtualFs::new().file("a", "").symlink("b", "a").dir("c/e"));
    other.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&other));
}

/// Hard links on either side: the directory is emptied and the tree
/// written whole, its own hard links kept.
#[test]
fn hard_links_are_exported_whole() {
    let base = TempDir::new("reset-links");
    let dir = base.path().join("t");
    let want = tree(&start());
    want.export(&dir).unwrap();
    std::fs::hard_link(dir.join("a"), dir.join("a2")).unwrap();
    want.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&want));
    assert_eq!(std::fs::metadata(dir.join("a")).unwrap().nlink(), 1);
    let mut linked = tree(&start());
    linked
        .link(ROOT, b"b/c.txt", false, ROOT, b"c2", 0)
        .unwrap();
    linked.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&linked));
    assert_eq!(std::fs::metadata(dir.join("c2")).unwrap().nlink(), 2);
}

/// A run that made a wanted name a hard link to another wanted file: a
/// rewrite in place would change both, so the directory is written whole.
#[test]
fn a_host_hard_link_is_never_written_through() {
    let base = TempDir::new("reset-through");
    let dir = base.path().join("t");
    let want = tree(&start());
    want.export(&dir).unwrap();
    std::fs::remove_file(dir.join("b/c.txt")).unwrap();
    std::fs::hard_link(dir.join("a"), dir.join("b/c.txt")).unwrap();
    want.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&want));
    assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"hello");
}

/// A missing directory is exported to; a case collision is refused
/// before anything changes; no change goes through a symlink.
#[test]
fn a_reset_writes_only_inside_its_directory() {
    let base = TempDir::new("reset-inside");
    let dir = base.path().join("t");
    let outside = base.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("keep"), "k").unwrap();
    let want = tree(&VirtualFs::new().file("x/f", "1"));
    want.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&want));
    // The run made `x` a symlink out of the directory.
    std::fs::remove_dir_all(dir.join("x")).unwrap();
    symlink(&outside, dir.join("x")).unwrap();
    want.reset(&dir).unwrap();
    assert_eq!(host_shape(&dir), shape_of(&want));
    assert_eq!(std::fs::read(outside.join("keep")).unwrap(), b"k");
    assert!(!outside.join("f").exists());
    let clash = tree(&VirtualFs::new().file("a", "1").file("A", "2"));
    assert!(clash.reset(&dir).is_err());
    assert_eq!(host_shape(&dir), shape_of(&want));
}
