use super::{T0, tree};
use crate::fs::node::Kind;
use crate::fs::*;
use std::sync::Arc;

#[test]
fn builder_creates_parents_and_numbers_in_path_order() {
    let vfs = VirtualFs::new()
        .file("in/data.csv", "x")
        .dir("out")
        .symlink("link", "in/data.csv")
        .file("a.txt", "A")
        .file("a/b", "B");
    let t = tree(&vfs);
    // Sorted full paths: a, a.txt, a/b, in, in/data.csv, link, out.
    let inos: Vec<(Vec<u8>, Ino)> = t.walk().into_iter().map(|e| (e.path, e.stat.ino)).collect();
    let expected: Vec<(Vec<u8>, Ino)> = [
        ("", 1),
        ("a", 2),
        ("a.txt", 3),
        ("a/b", 4),
        ("in", 5),
        ("in/data.csv", 6),
        ("link", 7),
        ("out", 8),
    ]
    .into_iter()
    .map(|(p, i)| (p.as_bytes().to_vec(), i))
    .collect();
    assert_eq!(inos, expected);
    assert_eq!(
        t.stat_at(ROOT, b"in", false).unwrap().filetype,
        FileType::Directory
    );
    assert_eq!(t.readlink(ROOT, b"link").unwrap(), b"in/data.csv");
}

#[test]
fn builder_clash_is_reported() {
    let err = VirtualFs::new()
        .file("a", "x")
        .try_file("a/b", "y")
        .unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Clash { path, existing: FileType::RegularFile, wanted: FileType::Directory } if path == b"a"),
        "{err:?}"
    );
    assert!(err.to_string().contains("`a` is a RegularFile"), "{err}");
    let err = VirtualFs::new().dir("d").try_file("d", "x").unwrap_err();
    assert!(matches!(err, SnapshotError::Clash { .. }), "{err:?}");
    let err = VirtualFs::new().try_file("a/../b", "x").unwrap_err();
    assert!(matches!(err, SnapshotError::InvalidPath { .. }), "{err:?}");
    let err = VirtualFs::new().try_dir("//").unwrap_err();
    assert!(matches!(err, SnapshotError::InvalidPath { .. }), "{err:?}");
    let err = VirtualFs::new().try_symlink("l", "").unwrap_err();
    assert!(matches!(err, SnapshotError::InvalidPath { .. }), "{err:?}");
}

#[test]
#[should_panic(expected = "VirtualFs::dir: `f` is a RegularFile")]
fn builder_panics_with_the_clash() {
    let _ = VirtualFs::new().file("f", "").dir("f/sub");
}

#[test]
fn builder_replaces_same_kind_and_ignores_empty_components() {
    let vfs = VirtualFs::new()
        .file("/d//f/", "old")
        .file("d/f", "new")
        .dir("d");
    let t = tree(&vfs);
    assert_eq!(t.read_file(b"d/f"), Some(b"new".to_vec()));
    assert_eq!(t.walk().len(), 3);
    assert_eq!(t.used_bytes(), 3);
}

#[test]
fn builder_limits() {
    let limits = Limits {
        max_bytes: 10,
        max_entries: 3,
    };
    let vfs = VirtualFs::with_limits(limits).file("a", "12345");
    let err = vfs.clone().try_file("b", "123456").unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::TooLarge {
                limit: "max_bytes",
                max: 10,
                ..
            }
        ),
        "{err:?}"
    );
    // Replacing a file frees its old bytes.
    let vfs = vfs.try_file("a", "1234567890").unwrap();
    // Root + a + d = 3 entries; one more is too many.
    let vfs = vfs.try_dir("d").unwrap();
    let err = vfs.clone().try_dir("e").unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::TooLarge {
                limit: "max_entries",
                max: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(tree(&vfs).limits(), limits);
}

#[test]
fn snapshot_times_dev_nlink_and_sizes() {
    let vfs = VirtualFs::new()
        .file("d/f", "hello")
        .dir("d/e")
        .dir("d/g")
        .symlink("l", "d/f");
    let t = FsTree::new(&vfs, 42, 123_456);
    let root = t.stat(ROOT).unwrap();
    assert_eq!(
        (root.dev, root.ino, root.nlink, root.size),
        (42, 1, 3, DIR_SIZE)
    );
    assert_eq!(
        (root.atim, root.mtim, root.ctim),
        (123_456, 123_456, 123_456)
    );
    let d = t.stat_at(ROOT, b"d", true).unwrap();
    assert_eq!(d.nlink, 4); // 2 + e + g
    let f = t.stat_at(ROOT, b"l", true).unwrap();
    assert_eq!((f.filetype, f.size, f.nlink), (FileType::RegularFile, 5, 1));
    let l = t.stat_at(ROOT, b"l", false).unwrap();
    assert_eq!(
        (l.filetype, l.size, l.mtim),
        (FileType::SymbolicLink, 3, 123_456)
    );
}

#[test]
fn trees_share_the_snapshot_until_written() {
    let vfs = VirtualFs::new().file("big", vec![7u8; 1 << 20]);
    let mut one = tree(&vfs);
    let two = tree(&vfs);
    assert!(Arc::ptr_eq(&one.table.nodes, &two.table.nodes));
    let content = |t: &FsTree| match &t.node(2).unwrap().kind {
        Kind::File(data) => data.clone(),
        _ => panic!("not a file"),
    };
    assert!(Arc::ptr_eq(&content(&one), &content(&two)));
    // A change elsewhere copies the table's pointers, not the contents.
    one.create_dir(ROOT, b"new", T0 + 1).unwrap();
    assert!(!Arc::ptr_eq(&one.table.nodes, &two.table.nodes));
    assert!(Arc::ptr_eq(&content(&one), &content(&two)));
    // Writing the file copies it, in that tree only.
    one.write_at(2, 0, b"x", T0 + 2).unwrap();
    assert!(!Arc::ptr_eq(&content(&one), &content(&two)));
    assert_eq!(two.read_file(b"big").unwrap()[0], 7);
    assert_eq!(tree(&vfs).read_file(b"big").unwrap()[0], 7);
    assert_eq!(one.read_file(b"big").unwrap()[0], b'x');
}

#[test]
fn new_entries_are_numbered_after_the_snapshot_and_never_reused() {
    let mut t = tree(&VirtualFs::new().file("a", "").file("b", ""));
    let c = t.open(ROOT, b"c", &super::create(), T0).unwrap();
    assert_eq!(c, 4);
    t.close(c).unwrap();
    t.unlink(ROOT, b"c", T0).unwrap();
    t.unlink(ROOT, b"a", T0).unwrap();
    assert_eq!(t.stat(c), Err(Errno::BADF));
    assert_eq!(t.create_dir(ROOT, b"d", T0).unwrap(), 5);
    assert_eq!(t.symlink(b"b", ROOT, b"e", T0).unwrap(), 6);
}

#[test]
fn snapshots_and_trees_can_move_between_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<VirtualFs>();
    send_sync::<FsTree>();
    let vfs = VirtualFs::new().file("f", "x");
    let handle = std::thread::spawn(move || tree(&vfs).digest());
    assert_eq!(
        handle.join().unwrap(),
        tree(&VirtualFs::new().file("f", "x")).digest()
    );
}
