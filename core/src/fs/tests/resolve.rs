use super::{T0, read, tree};
use crate::fs::*;

fn sample() -> FsTree {
    tree(
        &VirtualFs::new()
            .file("d/f", "data")
            .dir("d/e")
            .file("top", "top")
            .symlink("d/up", "../top")
            .symlink("d/self", ".")
            .symlink("d/to_e", "e/")
            .symlink("d/out", "../../x")
            .symlink("d/abs", "/etc")
            .symlink("loop1", "loop2")
            .symlink("loop2", "loop1")
            .symlink("dangling", "nothing"),
    )
}

fn ino(t: &FsTree, path: &[u8]) -> Ino {
    t.stat_at(ROOT, path, true).unwrap().ino
}

#[test]
fn components_dot_dotdot_and_empty() {
    let t = sample();
    let f = ino(&t, b"d/f");
    assert_eq!(ino(&t, b"d//f"), f);
    assert_eq!(ino(&t, b"./d/./f"), f);
    assert_eq!(ino(&t, b"d/e/../f"), f);
    assert_eq!(ino(&t, b"."), ROOT);
    assert_eq!(ino(&t, b"d/.."), ROOT);
    assert_eq!(t.stat_at(ROOT, b"", true), Err(Errno::NOENT));
    assert_eq!(t.stat_at(ROOT, b"d/missing", true), Err(Errno::NOENT));
    assert_eq!(t.stat_at(ROOT, b"d/missing/x", true), Err(Errno::NOENT));
    assert_eq!(t.stat_at(ROOT, b"d/f/x", true), Err(Errno::NOTDIR));
    assert_eq!(t.stat_at(ROOT, b"d/f/", true), Err(Errno::NOTDIR));
    assert_eq!(
        t.stat_at(ROOT, b"d/e/", true).unwrap().filetype,
        FileType::Directory
    );
}

#[test]
fn escapes_are_refused() {
    let t = sample();
    let d = ino(&t, b"d");
    assert_eq!(t.stat_at(ROOT, b"..", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"d/../..", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"d/../../d", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"/d", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"/", true), Err(ESCAPE));
    // From a subdirectory, its parent is outside too, even inside the tree.
    assert_eq!(t.stat_at(d, b"../top", true), Err(ESCAPE));
    assert_eq!(t.stat_at(d, b"up", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"d/up", true).unwrap().size, 3);
    // Symlinks leading out or absolute.
    assert_eq!(t.stat_at(ROOT, b"d/out", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"d/abs", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"d/abs/passwd", false), Err(ESCAPE));
    // Not following the last symlink: no escape, just the link.
    assert_eq!(
        t.stat_at(ROOT, b"d/out", false).unwrap().filetype,
        FileType::SymbolicLink
    );
    // ESCAPE is EPERM, as stock wasmtime-wasi reports cap-std's escape error.
    assert_eq!(ESCAPE, Errno(63));
}

#[test]
fn symlinks_are_followed_relative_to_their_directory() {
    let t = sample();
    let e = ino(&t, b"d/e");
    assert_eq!(ino(&t, b"d/self/self/f"), ino(&t, b"d/f"));
    assert_eq!(ino(&t, b"d/to_e"), e);
    assert_eq!(t.read_file(b"d/up"), Some(b"top".to_vec()));
    // A target ending in `/` demands a directory.
    let t2 = tree(&VirtualFs::new().file("f", "").symlink("l", "f/"));
    assert_eq!(t2.stat_at(ROOT, b"l", true), Err(Errno::NOTDIR));
    assert_eq!(t.stat_at(ROOT, b"dangling", true), Err(Errno::NOENT));
    assert_eq!(t.stat_at(ROOT, b"dangling", false).unwrap().size, 7);
}

#[test]
fn symlink_cycles_are_eloop() {
    let t = sample();
    assert_eq!(t.stat_at(ROOT, b"loop1", true), Err(Errno::LOOP));
    assert_eq!(t.stat_at(ROOT, b"loop1/x", false), Err(Errno::LOOP));
    assert_eq!(
        t.stat_at(ROOT, b"loop1", false).unwrap().filetype,
        FileType::SymbolicLink
    );
    // 40 links in a row resolve; 41 do not.
    let mut vfs = VirtualFs::new().file("target", "ok");
    for i in 0..41 {
        let next = if i == 0 {
            "target".to_string()
        } else {
            format!("l{}", i - 1)
        };
        vfs = vfs.symlink(format!("l{i}"), next);
    }
    let t = tree(&vfs);
    assert_eq!(t.read_file(b"l39"), Some(b"ok".to_vec()));
    assert_eq!(t.stat_at(ROOT, b"l40", true), Err(Errno::LOOP));
}

#[test]
fn long_paths_and_names_are_enametoolong() {
    let t = sample();
    let long_name = vec![b'a'; NAME_MAX + 1];
    assert_eq!(t.stat_at(ROOT, &long_name, true), Err(Errno::NAMETOOLONG));
    assert_eq!(
        t.stat_at(ROOT, &long_name[..NAME_MAX], true),
        Err(Errno::NOENT)
    );
    let long_path: Vec<u8> = b"./".repeat(PATH_MAX / 2);
    assert_eq!(t.stat_at(ROOT, &long_path, true), Err(Errno::NAMETOOLONG));
    assert_eq!(t.stat_at(ROOT, &long_path[2..], true).unwrap().ino, ROOT);
    let mut t = t;
    assert_eq!(
        t.symlink(&long_path, ROOT, b"s", T0),
        Err(Errno::NAMETOOLONG)
    );
}

#[test]
fn start_must_be_a_live_directory() {
    let mut t = sample();
    let f = ino(&t, b"d/f");
    assert_eq!(t.stat_at(f, b"x", true), Err(Errno::NOTDIR));
    assert_eq!(t.stat_at(999, b"x", true), Err(Errno::BADF));
    assert_eq!(t.open(999, b"x", &read(), T0), Err(Errno::BADF));
}
