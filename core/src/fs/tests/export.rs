use super::snapshot::TempDir;
use super::tree;
use crate::fs::*;

/// Guest trees that would write outside the export on a case-insensitive
/// host: a symlink `A` out of the export and a file `a` (which such a host
/// would write through `A`), also one level down. Export refuses them
/// before writing anything, naming both guest paths; `victim` is never
/// created.
#[test]
fn a_case_collision_is_refused_before_anything_is_written() {
    let base = TempDir::new("export-case");
    let victim = base.path().join("victim");
    for vfs in [
        VirtualFs::new()
            .symlink("A", "../victim")
            .file("a", "pwned"),
        VirtualFs::new()
            .dir("sub")
            .symlink("sub/Caf\u{c9}", "../../victim")
            .file("sub/caf\u{e9}", "pwned"),
    ] {
        let out = base.path().join("out");
        let err = tree(&vfs).export(&out).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("`A` and `a`")
                || message.contains("`sub/Caf\u{c9}` and `sub/caf\u{e9}`"),
            "{message}"
        );
        assert!(!out.exists(), "export wrote before refusing");
        assert!(!victim.exists(), "export wrote outside its directory");
    }
    // Names equal only in bytes that are not case (`a` and `b`, `A` in
    // two directories) are fine.
    let fine = VirtualFs::new()
        .file("A/x", "1")
        .file("a_/X", "2")
        .file("b", "3");
    let out = base.path().join("fine");
    tree(&fine).export(&out).unwrap();
    assert_eq!(std::fs::read(out.join("a_/X")).unwrap(), b"2");
}

/// What a case-insensitive host would show when `a` is written after `A`:
/// `a` already exists, as a symlink out of the export. Writing the entries
/// creates `a` new, so it fails instead of writing through the symlink.
#[test]
fn entries_are_created_new_never_through_an_existing_symlink() {
    use cap_std::ambient_authority;
    use cap_std::fs::Dir;
    let base = TempDir::new("export-new");
    let out = base.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink("../victim", out.join("a")).unwrap();
    std::fs::create_dir(base.path().join("victim-dir")).unwrap();
    std::os::unix::fs::symlink("../victim-dir", out.join("d")).unwrap();
    let root = Dir::open_ambient_dir(&out, ambient_authority()).unwrap();
    for vfs in [
        VirtualFs::new().file("a", "pwned"),
        VirtualFs::new().file("d/x", "pwned"),
    ] {
        let t = tree(&vfs);
        let (path, err) =
            crate::fs::export::write_entries(&root, t.walk().iter().skip(1)).unwrap_err();
        assert!(path == b"a" || path == b"d", "{path:?}");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
    }
    assert!(!base.path().join("victim").exists());
    assert_eq!(
        std::fs::read_dir(base.path().join("victim-dir"))
            .unwrap()
            .count(),
        0
    );
}

/// Export keeps hard links, symlinks (as text, even out of the tree) and
/// contents, and its result snapshots back to the same names and bytes.
#[test]
fn export_round_trips_through_a_snapshot() {
    let base = TempDir::new("export-round");
    let vfs = VirtualFs::new()
        .file("in/data", "abc")
        .dir("empty")
        .symlink("out", "../../elsewhere");
    let mut t = tree(&vfs);
    t.link(ROOT, b"in/data", false, ROOT, b"in/again", 0)
        .unwrap();
    let out = base.path().join("out");
    t.export(&out).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(out.join("in/again")).unwrap().nlink(), 2);
    assert_eq!(
        std::fs::read_link(out.join("out")).unwrap(),
        std::path::Path::new("../../elsewhere")
    );
    let back = tree(&VirtualFs::from_host_dir(&out).unwrap());
    assert_eq!(back.read_file(b"in/again"), Some(b"abc".to_vec()));
    assert_eq!(back.walk().len(), 6);
}
