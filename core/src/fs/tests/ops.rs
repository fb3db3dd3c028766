use super::{T0, create, read, tree, write};
use crate::fs::*;

fn sample() -> FsTree {
    tree(
        &VirtualFs::new()
            .file("f", "file")
            .file("d/inner", "x")
            .dir("empty")
            .symlink("lf", "f")
            .symlink("ld", "d")
            .symlink("dangling", "new_target"),
    )
}

fn ino(t: &FsTree, path: &[u8]) -> Ino {
    t.stat_at(ROOT, path, false).unwrap().ino
}

fn names(t: &FsTree, dir: Ino) -> Vec<Vec<u8>> {
    t.list(dir).unwrap().into_iter().map(|e| e.name).collect()
}

#[test]
fn open_errnos() {
    let mut t = sample();
    let o = |t: &mut FsTree, path: &[u8], opts: OpenOptions| t.open(ROOT, path, &opts, T0 + 5);
    assert_eq!(o(&mut t, b"missing", read()), Err(Errno::NOENT));
    assert_eq!(o(&mut t, b"f", create().exclusive(true)), Err(Errno::EXIST));
    // O_EXCL never follows a final symlink, even a dangling one.
    assert_eq!(
        o(&mut t, b"dangling", create().exclusive(true)),
        Err(Errno::EXIST)
    );
    assert_eq!(o(&mut t, b"d", read().truncate(true)), Err(Errno::ISDIR));
    assert_eq!(o(&mut t, b"d", write()), Err(Errno::ISDIR));
    assert_eq!(o(&mut t, b"d", create()), Err(Errno::ISDIR));
    assert_eq!(o(&mut t, b"f", read().directory(true)), Err(Errno::NOTDIR));
    assert_eq!(o(&mut t, b"f/", read()), Err(Errno::NOTDIR));
    assert_eq!(o(&mut t, b"lf", read().follow(false)), Err(Errno::LOOP));
    // As stock wasmtime-wasi (open, then check): ELOOP, not Linux's ENOTDIR.
    assert_eq!(
        o(&mut t, b"ld", read().follow(false).directory(true)),
        Err(Errno::LOOP)
    );
    assert_eq!(o(&mut t, b"new/", create()), Err(Errno::ISDIR));
    assert_eq!(
        o(&mut t, b"x", read().directory(true).create(true)),
        Err(Errno::INVAL)
    );
    assert_eq!(o(&mut t, b"..", read()), Err(ESCAPE));
    // Nothing above was created or changed.
    assert_eq!(t.walk().len(), 8);
    assert_eq!(t.stat(ROOT).unwrap().mtim, T0);
    // What does succeed.
    assert_eq!(o(&mut t, b"lf", read()).unwrap(), ino(&t, b"f"));
    assert_eq!(
        o(&mut t, b"ld", read().directory(true)).unwrap(),
        ino(&t, b"d")
    );
    assert_eq!(o(&mut t, b"d/", read()).unwrap(), ino(&t, b"d"));
    assert_eq!(o(&mut t, b".", read().directory(true)).unwrap(), ROOT);
    assert_eq!(o(&mut t, b"f", create()).unwrap(), ino(&t, b"f"));
}

#[test]
fn open_create_and_truncate_set_times() {
    let mut t = sample();
    let new = t.open(ROOT, b"d/new", &create(), T0 + 10).unwrap();
    let s = t.stat(new).unwrap();
    assert_eq!(
        (s.atim, s.mtim, s.ctim, s.size, s.nlink),
        (T0 + 10, T0 + 10, T0 + 10, 0, 1)
    );
    let d = t.stat_at(ROOT, b"d", true).unwrap();
    assert_eq!((d.atim, d.mtim, d.ctim), (T0, T0 + 10, T0 + 10));
    assert_eq!(t.stat(ROOT).unwrap().mtim, T0);
    // A dangling symlink, followed, creates its target.
    let target = t.open(ROOT, b"dangling", &create(), T0 + 11).unwrap();
    assert_eq!(ino(&t, b"new_target"), target);
    // O_TRUNC empties the file and touches mtim/ctim only.
    let f = t
        .open(ROOT, b"f", &write().truncate(true), T0 + 12)
        .unwrap();
    let s = t.stat(f).unwrap();
    assert_eq!((s.size, s.atim, s.mtim, s.ctim), (0, T0, T0 + 12, T0 + 12));
}

#[test]
fn create_dir_and_remove_dir() {
    let mut t = sample();
    assert_eq!(t.create_dir(ROOT, b"f", T0), Err(Errno::EXIST));
    assert_eq!(t.create_dir(ROOT, b"dangling", T0), Err(Errno::EXIST));
    assert_eq!(t.create_dir(ROOT, b"d/.", T0), Err(Errno::EXIST));
    assert_eq!(t.create_dir(ROOT, b"a/b", T0), Err(Errno::NOENT));
    let a = t.create_dir(ROOT, b"a/", T0 + 1).unwrap();
    assert_eq!(t.stat(ROOT).unwrap().nlink, 5); // d, empty, a
    assert_eq!(t.stat(a).unwrap().nlink, 2);
    t.create_dir(a, b"b", T0 + 2).unwrap();
    assert_eq!(t.stat(a).unwrap().nlink, 3);
    assert_eq!(t.stat(a).unwrap().mtim, T0 + 2);

    assert_eq!(t.remove_dir(ROOT, b"a", T0), Err(Errno::NOTEMPTY));
    assert_eq!(t.remove_dir(ROOT, b"f", T0), Err(Errno::NOTDIR));
    assert_eq!(t.remove_dir(ROOT, b"ld", T0), Err(Errno::NOTDIR));
    assert_eq!(t.remove_dir(ROOT, b"missing", T0), Err(Errno::NOENT));
    assert_eq!(t.remove_dir(ROOT, b"empty/.", T0), Err(Errno::INVAL));
    // Stock (cap-std) says EINVAL for a final `..` too (Linux: ENOTEMPTY).
    assert_eq!(t.remove_dir(ROOT, b"a/b/..", T0), Err(Errno::INVAL));
    t.remove_dir(ROOT, b"a/b", T0 + 3).unwrap();
    assert_eq!(t.stat(a).unwrap().nlink, 2);
    assert_eq!(t.stat(a).unwrap().ctim, T0 + 3);
    t.remove_dir(ROOT, b"empty", T0 + 4).unwrap();
    assert_eq!(t.stat_at(ROOT, b"empty", true), Err(Errno::NOENT));
    assert_eq!(t.stat(ROOT).unwrap().nlink, 4);
}

#[test]
fn unlink_errnos_and_nlink() {
    let mut t = sample();
    assert_eq!(t.unlink(ROOT, b"d", T0), Err(Errno::ISDIR));
    assert_eq!(t.unlink(ROOT, b"d/", T0), Err(Errno::ISDIR));
    assert_eq!(t.unlink(ROOT, b".", T0), Err(Errno::ISDIR));
    assert_eq!(t.unlink(ROOT, b"f/", T0), Err(Errno::NOTDIR));
    assert_eq!(t.unlink(ROOT, b"missing", T0), Err(Errno::NOENT));
    // Unlinking a symlink removes the link, not its target.
    t.unlink(ROOT, b"lf", T0 + 1).unwrap();
    assert_eq!(t.read_file(b"f"), Some(b"file".to_vec()));
    t.link(ROOT, b"f", true, ROOT, b"hard", T0 + 2).unwrap();
    let f = ino(&t, b"f");
    assert_eq!(t.stat(f).unwrap().nlink, 2);
    t.unlink(ROOT, b"f", T0 + 3).unwrap();
    let s = t.stat(f).unwrap();
    assert_eq!((s.nlink, s.ctim), (1, T0 + 3));
    assert_eq!(t.read_file(b"hard"), Some(b"file".to_vec()));
    assert_eq!(t.stat(ROOT).unwrap().mtim, T0 + 3);
}

#[test]
fn unlinked_open_files_live_until_closed() {
    let mut t = sample();
    let f = t.open(ROOT, b"f", &write(), T0).unwrap();
    let bytes = t.used_bytes();
    t.unlink(ROOT, b"f", T0 + 1).unwrap();
    assert_eq!(t.stat(f).unwrap().nlink, 0);
    t.append(f, b"!", T0 + 2).unwrap();
    let mut buf = [0; 8];
    assert_eq!(t.read_at(f, 0, &mut buf).unwrap(), 5);
    assert_eq!(t.used_bytes(), bytes + 1);
    assert!(t.walk().iter().all(|e| e.stat.ino != f));
    t.close(f).unwrap();
    assert_eq!(t.stat(f), Err(Errno::BADF));
    assert_eq!(t.used_bytes(), bytes - 4);
    assert_eq!(t.close(f), Err(Errno::BADF));
    // A removed directory still open: `.` and `..` only, no new entries.
    let e = t.open(ROOT, b"empty", &read(), T0).unwrap();
    t.remove_dir(ROOT, b"empty", T0 + 3).unwrap();
    assert_eq!(t.stat(e).unwrap().nlink, 0);
    assert_eq!(names(&t, e), [b".".to_vec(), b"..".to_vec()]);
    assert_eq!(t.open(e, b"x", &create(), T0), Err(Errno::NOENT));
    assert_eq!(t.create_dir(e, b"x", T0), Err(Errno::NOENT));
    t.close(e).unwrap();
    assert_eq!(t.stat(e), Err(Errno::BADF));
}

#[test]
fn rename_files_and_directories() {
    let mut t = sample();
    let f = ino(&t, b"f");
    t.rename(ROOT, b"f", ROOT, b"d/g", T0 + 1).unwrap();
    assert_eq!(ino(&t, b"d/g"), f);
    assert_eq!(t.stat_at(ROOT, b"f", false), Err(Errno::NOENT));
    assert_eq!(t.stat(f).unwrap().ctim, T0 + 1);
    assert_eq!(t.stat(ROOT).unwrap().mtim, T0 + 1);
    assert_eq!(t.stat_at(ROOT, b"d", true).unwrap().mtim, T0 + 1);
    // Over an existing file: it is replaced.
    let inner = ino(&t, b"d/inner");
    t.rename(ROOT, b"d/g", ROOT, b"d/inner", T0 + 2).unwrap();
    assert_eq!(ino(&t, b"d/inner"), f);
    assert_eq!(t.stat(inner), Err(Errno::BADF));
    assert_eq!(t.read_file(b"d/inner"), Some(b"file".to_vec()));
    // A directory over an empty directory; subdirectory counts follow.
    let d = ino(&t, b"d");
    t.rename(ROOT, b"d", ROOT, b"empty", T0 + 3).unwrap();
    assert_eq!(ino(&t, b"empty"), d);
    assert_eq!(t.stat(ROOT).unwrap().nlink, 3);
    assert_eq!(
        names(&t, ROOT),
        [&b"."[..], b"..", b"dangling", b"empty", b"ld", b"lf"]
    );
    // A directory moved under another gets it as `..`.
    let a = t.create_dir(ROOT, b"a", T0 + 4).unwrap();
    t.rename(ROOT, b"empty", a, b"moved", T0 + 5).unwrap();
    assert_eq!(t.list(d).unwrap()[1].ino, a);
    assert_eq!(t.stat(a).unwrap().nlink, 3);
    assert_eq!(t.stat(ROOT).unwrap().nlink, 3);
    assert_eq!(t.read_file(b"a/moved/inner"), Some(b"file".to_vec()));
    // Onto itself: nothing happens.
    t.rename(ROOT, b"a", ROOT, b"a", T0 + 6).unwrap();
    assert_eq!(t.stat(ROOT).unwrap().mtim, T0 + 5);
}

#[test]
fn rename_errnos() {
    let mut t = sample();
    t.create_dir(ROOT, b"d/sub", T0).unwrap();
    let r = |t: &mut FsTree, from: &[u8], to: &[u8]| t.rename(ROOT, from, ROOT, to, T0 + 9);
    assert_eq!(r(&mut t, b"missing", b"x"), Err(Errno::NOENT));
    assert_eq!(r(&mut t, b"d", b"d/sub/x"), Err(Errno::INVAL));
    assert_eq!(r(&mut t, b"d", b"d/x"), Err(Errno::INVAL));
    assert_eq!(r(&mut t, b"d/sub", b"d"), Err(Errno::NOTEMPTY));
    assert_eq!(r(&mut t, b"empty", b"d"), Err(Errno::NOTEMPTY));
    assert_eq!(r(&mut t, b"d", b"f"), Err(Errno::NOTDIR));
    assert_eq!(r(&mut t, b"f", b"empty"), Err(Errno::ISDIR));
    assert_eq!(r(&mut t, b"f/", b"g"), Err(Errno::NOTDIR));
    assert_eq!(r(&mut t, b"d/.", b"g"), Err(Errno::BUSY));
    assert_eq!(r(&mut t, b"f", b"d/.."), Err(Errno::BUSY));
    assert_eq!(r(&mut t, b"f", b"nodir/g"), Err(Errno::NOENT));
    assert_eq!(r(&mut t, b"f", b"../g"), Err(ESCAPE));
    assert_eq!(t.stat(ROOT).unwrap().mtim, T0);
    // The new name's trailing slashes are dropped, as stock does.
    assert_eq!(r(&mut t, b"f", b"g/"), Ok(()));
    assert_eq!(r(&mut t, b"g", b"f"), Ok(()));
    // A symlink is renamed itself, not its target.
    r(&mut t, b"ld", b"ld2").unwrap();
    assert_eq!(t.readlink(ROOT, b"ld2").unwrap(), b"d");
    // Two hard links to one file: rename is a no-op.
    t.link(ROOT, b"f", false, ROOT, b"f2", T0).unwrap();
    r(&mut t, b"f", b"f2").unwrap();
    assert!(t.stat_at(ROOT, b"f", false).is_ok());
}

#[test]
fn link_symlink_readlink() {
    let mut t = sample();
    assert_eq!(t.link(ROOT, b"d", true, ROOT, b"x", T0), Err(Errno::PERM));
    assert_eq!(t.link(ROOT, b"f", true, ROOT, b"d", T0), Err(Errno::EXIST));
    assert_eq!(
        t.link(ROOT, b"missing", true, ROOT, b"x", T0),
        Err(Errno::NOENT)
    );
    assert_eq!(t.link(ROOT, b"f", true, ROOT, b"x/", T0), Err(Errno::NOENT));
    // Following or not the source symlink.
    t.link(ROOT, b"lf", true, ROOT, b"to_file", T0 + 1).unwrap();
    t.link(ROOT, b"lf", false, ROOT, b"to_link", T0 + 1)
        .unwrap();
    assert_eq!(ino(&t, b"to_file"), ino(&t, b"f"));
    assert_eq!(ino(&t, b"to_link"), ino(&t, b"lf"));
    assert_eq!(t.stat_at(ROOT, b"lf", false).unwrap().nlink, 2);
    assert_eq!(t.stat_at(ROOT, b"f", false).unwrap().ctim, T0 + 1);

    assert_eq!(t.symlink(b"", ROOT, b"s", T0), Err(Errno::NOENT));
    assert_eq!(t.symlink(b"f", ROOT, b"f", T0), Err(Errno::EXIST));
    assert_eq!(t.symlink(b"f", ROOT, b"s/", T0), Err(Errno::NOENT));
    let s = t.symlink(b"../../anything", ROOT, b"d/s", T0 + 2).unwrap();
    let st = t.stat(s).unwrap();
    assert_eq!(
        (st.filetype, st.size, st.mtim),
        (FileType::SymbolicLink, 14, T0 + 2)
    );
    assert_eq!(t.readlink(ROOT, b"d/s").unwrap(), b"../../anything");
    assert_eq!(t.readlink(ROOT, b"f"), Err(Errno::INVAL));
    assert_eq!(t.readlink(ROOT, b"missing"), Err(Errno::NOENT));
    assert_eq!(t.stat_at(ROOT, b"d/s", true), Err(ESCAPE));
}

#[test]
fn set_times_explicit_now_and_nochange() {
    let mut t = sample();
    let f = ino(&t, b"f");
    t.set_times(f, NewTime::At(5), NewTime::NoChange, T0 + 1)
        .unwrap();
    let s = t.stat(f).unwrap();
    assert_eq!((s.atim, s.mtim, s.ctim), (5, T0, T0 + 1));
    t.set_times(f, NewTime::NoChange, NewTime::Now, T0 + 2)
        .unwrap();
    let s = t.stat(f).unwrap();
    assert_eq!((s.atim, s.mtim, s.ctim), (5, T0 + 2, T0 + 2));
    t.set_times(f, NewTime::NoChange, NewTime::NoChange, T0 + 3)
        .unwrap();
    assert_eq!(t.stat(f).unwrap().ctim, T0 + 2);
    assert_eq!(
        t.set_times(999, NewTime::Now, NewTime::Now, 0),
        Err(Errno::BADF)
    );
}

#[test]
fn listing_order_cookies_and_types() {
    let mut t = sample();
    t.open(ROOT, b"B", &create(), T0).unwrap();
    t.open(ROOT, b"\xff", &create(), T0).unwrap();
    let list = t.list(ROOT).unwrap();
    let got: Vec<(u64, &[u8], FileType)> = list
        .iter()
        .map(|e| (e.cookie, e.name.as_slice(), e.filetype))
        .collect();
    use FileType::*;
    let want: Vec<(u64, &[u8], FileType)> = vec![
        (0, b".", Directory),
        (1, b"..", Directory),
        (2, b"B", RegularFile),
        (3, b"d", Directory),
        (4, b"dangling", SymbolicLink),
        (5, b"empty", Directory),
        (6, b"f", RegularFile),
        (7, b"ld", SymbolicLink),
        (8, b"lf", SymbolicLink),
        (9, b"\xff", RegularFile),
    ];
    assert_eq!(got, want);
    assert_eq!((list[0].ino, list[1].ino), (ROOT, ROOT));
    assert_eq!(list[3].ino, ino(&t, b"d"));
    let d = t.list(ino(&t, b"d")).unwrap();
    assert_eq!((d[0].ino, d[1].ino), (ino(&t, b"d"), ROOT));
    assert_eq!(t.list(ino(&t, b"f")), Err(Errno::NOTDIR));
}

/// Regression (`p3_fs`: stock said `no-entry`, the crate `name-too-long`):
/// in a directory that was removed while open, Linux finds the removal
/// before it reads a name's length, so looking up or creating any name
/// there is `ENOENT`, however long.
#[test]
fn a_removed_directory_has_no_names_however_long() {
    let mut t = tree(&VirtualFs::new().dir("d"));
    let d = t.open(ROOT, b"d", &read(), T0).unwrap();
    t.remove_dir(ROOT, b"d", T0).unwrap();
    let long = vec![b'x'; 256];
    let mut deep = long.clone();
    deep.extend(b"/y");
    assert_eq!(t.create_dir(d, &long, T0), Err(Errno::NOENT));
    assert_eq!(t.create_dir(d, b"x", T0), Err(Errno::NOENT));
    assert_eq!(t.stat_at(d, &long, false), Err(Errno::NOENT));
    assert_eq!(t.stat_at(d, &deep, false), Err(Errno::NOENT));
    assert_eq!(t.unlink(d, &long, T0), Err(Errno::NOENT));
    assert_eq!(t.symlink(b"t", d, &long, T0), Err(Errno::NOENT));
    assert_eq!(t.rename(d, &long, ROOT, b"e", T0), Err(Errno::NOENT));
    assert_eq!(t.rename(ROOT, b"d", d, &long, T0), Err(Errno::NOENT));
    // A live directory still answers by length.
    assert_eq!(t.create_dir(ROOT, &long, T0), Err(Errno::NAMETOOLONG));
}
