use super::tree;
use crate::fs::*;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh host directory, removed when dropped.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("fs-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn snapshot_of_files_dirs_and_symlinks() {
    let host = TempDir::new("tree");
    let p = host.path();
    std::fs::create_dir_all(p.join("sub/deeper")).unwrap();
    std::fs::write(p.join("top.txt"), "top").unwrap();
    std::fs::write(p.join("sub/deeper/x.bin"), [0u8, 1, 2, 255]).unwrap();
    std::os::unix::fs::symlink("sub/deeper/x.bin", p.join("inside")).unwrap();
    std::os::unix::fs::symlink("../../etc/passwd", p.join("outside")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", p.join("absolute")).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9");
    std::fs::write(p.join(odd), "latin-1 name").unwrap();

    let vfs = VirtualFs::from_host_dir(p).unwrap();
    // The host may change or vanish afterwards.
    std::fs::write(p.join("top.txt"), "changed").unwrap();
    let t = tree(&vfs);
    assert_eq!(t.read_file(b"top.txt"), Some(b"top".to_vec()));
    assert_eq!(t.read_file(b"inside"), Some(vec![0, 1, 2, 255]));
    assert_eq!(t.read_file(b"caf\xe9"), Some(b"latin-1 name".to_vec()));
    // Symlinks out of the tree are stored as text and refused when followed.
    assert_eq!(t.readlink(ROOT, b"outside").unwrap(), b"../../etc/passwd");
    // An absolute target is kept, but not shown (stock refuses it too).
    assert_eq!(t.readlink(ROOT, b"absolute"), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"outside", true), Err(ESCAPE));
    assert_eq!(t.stat_at(ROOT, b"absolute", true), Err(ESCAPE));
    assert_eq!(t.read_file(b"outside"), None);
    let paths: Vec<Vec<u8>> = t.walk().into_iter().map(|e| e.path).collect();
    let expected: Vec<&[u8]> = vec![
        b"",
        b"absolute",
        b"caf\xe9",
        b"inside",
        b"outside",
        b"sub",
        b"sub/deeper",
        b"sub/deeper/x.bin",
        b"top.txt",
    ];
    assert_eq!(paths, expected);
    // Snapshotting the same host tree twice gives the same tree.
    std::fs::write(p.join("top.txt"), "top").unwrap();
    let again = VirtualFs::from_host_dir(p).unwrap();
    assert_eq!(tree(&again).digest(), t.digest());
}

#[test]
fn snapshot_refuses_a_fifo_naming_it() {
    let host = TempDir::new("fifo");
    std::fs::create_dir(host.path().join("d")).unwrap();
    std::fs::write(host.path().join("d/a"), "a").unwrap();
    let fifo = host.path().join("d/pipe");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("mkfifo unavailable; skipping");
        return;
    }
    let err = VirtualFs::from_host_dir(host.path()).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Special { path, kind: "fifo" } if *path == fifo),
        "{err:?}"
    );
    assert!(err.to_string().contains("pipe: is a fifo"), "{err}");
}

#[test]
fn snapshot_of_a_missing_or_unreadable_path_names_it() {
    let host = TempDir::new("missing");
    let missing = host.path().join("nope");
    let err = VirtualFs::from_host_dir(&missing).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Io { path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope"), "{err}");

    let file = host.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let err = VirtualFs::from_host_dir(&file).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Io { path, .. } if *path == file),
        "{err:?}"
    );

    use std::os::unix::fs::PermissionsExt;
    let secret = host.path().join("secret");
    std::fs::write(&secret, "x").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&secret).is_ok() {
        eprintln!("running with privileges that read mode-0 files; skipping that case");
        return;
    }
    std::fs::remove_file(&file).unwrap();
    let err = VirtualFs::from_host_dir(host.path()).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Io { path, .. } if *path == secret),
        "{err:?}"
    );
}

#[test]
fn snapshot_over_the_limits_is_an_error() {
    let host = TempDir::new("limits");
    std::fs::write(host.path().join("a"), vec![1u8; 600]).unwrap();
    std::fs::write(host.path().join("b"), vec![1u8; 600]).unwrap();
    let small = Limits {
        max_bytes: 1000,
        max_entries: 10,
    };
    let err = VirtualFs::from_host_dir_with_limits(host.path(), small).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::TooLarge { path, limit: "max_bytes", .. } if path == b"b"),
        "{err:?}"
    );
    let few = Limits {
        max_bytes: 10_000,
        max_entries: 2,
    };
    let err = VirtualFs::from_host_dir_with_limits(host.path(), few).unwrap_err();
    assert!(
        matches!(
            &err,
            SnapshotError::TooLarge {
                limit: "max_entries",
                ..
            }
        ),
        "{err:?}"
    );
    let vfs = VirtualFs::from_host_dir_with_limits(host.path(), Limits::default()).unwrap();
    assert_eq!(tree(&vfs).used_bytes(), 1200);
}

/// Swaps in place of `name` in `dir` (atomically, by rename) a hard link to
/// `other`: same name, same type, another file.
fn swap_in_hard_link(dir: &Path, name: &str, other: &Path) {
    let tmp = dir.join(".swap");
    std::fs::hard_link(other, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// Swaps in place of `name` in `dir` a symlink to `target`.
fn swap_in_symlink(dir: &Path, name: &str, target: &Path) {
    let tmp = dir.join(".swap");
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// The primitive the snapshot reads with: an entry inspected, then swapped
/// for another before it is opened, is refused, whatever was swapped in: a
/// symlink to a host file (the open does not follow it), or another
/// regular file or directory (a hard link to a host file outside, or a
/// renamed directory: the handle's device and inode differ from the
/// inspection's). The untouched entry opens and reads as it is.
#[test]
fn an_entry_swapped_between_inspection_and_open_is_refused() {
    use cap_std::ambient_authority;
    use cap_std::fs::Dir;
    use std::ffi::OsStr;
    use std::io::Read;
    let host = TempDir::new("swap");
    let p = host.path();
    let outside = TempDir::new("swap-outside");
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "host secret").unwrap();
    std::fs::create_dir(outside.path().join("secret-dir")).unwrap();
    std::fs::write(p.join("f"), "guest data").unwrap();
    std::fs::write(p.join("g"), "guest data").unwrap();
    std::fs::create_dir(p.join("d")).unwrap();
    std::fs::create_dir(p.join("e")).unwrap();
    std::os::unix::fs::symlink("f", p.join("s")).unwrap();
    let dir = Dir::open_ambient_dir(p, ambient_authority()).unwrap();
    let name = OsStr::new;

    let g = crate::fs::snapshot::inspect(&dir, name("g")).unwrap();
    let mut text = String::new();
    crate::fs::snapshot::open_file(&dir, name("g"), &g)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "guest data");

    let f = crate::fs::snapshot::inspect(&dir, name("f")).unwrap();
    swap_in_symlink(p, "f", &secret);
    assert!(crate::fs::snapshot::open_file(&dir, name("f"), &f).is_err());
    swap_in_hard_link(p, "f", &secret);
    let err = crate::fs::snapshot::open_file(&dir, name("f"), &f).unwrap_err();
    assert!(err.to_string().contains("swapped"), "{err}");

    let d = crate::fs::snapshot::inspect(&dir, name("d")).unwrap();
    std::fs::rename(p.join("d"), p.join("d-old")).unwrap();
    swap_in_symlink(p, "d", &outside.path().join("secret-dir"));
    assert!(crate::fs::snapshot::open_dir(&dir, name("d"), &d).is_err());
    std::fs::remove_file(p.join("d")).unwrap();
    std::fs::rename(p.join("e"), p.join("d")).unwrap();
    let err = crate::fs::snapshot::open_dir(&dir, name("d"), &d).unwrap_err();
    assert!(err.to_string().contains("swapped"), "{err}");

    let s = crate::fs::snapshot::inspect(&dir, name("s")).unwrap();
    swap_in_symlink(p, "s", &secret);
    let err = crate::fs::snapshot::read_symlink(&dir, name("s"), &s).unwrap_err();
    assert!(err.to_string().contains("swapped"), "{err}");
}

/// A whole snapshot of a tree whose subdirectory is a symlink to a host
/// directory keeps it a symlink: nothing of the host directory is read.
#[test]
fn snapshot_never_reads_through_a_symlinked_directory() {
    let host = TempDir::new("symdir");
    let outside = TempDir::new("symdir-outside");
    std::fs::write(outside.path().join("secret"), "host secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), host.path().join("d")).unwrap();
    let vfs = VirtualFs::from_host_dir(host.path()).unwrap();
    let paths: Vec<Vec<u8>> = tree(&vfs).walk().into_iter().map(|e| e.path).collect();
    assert_eq!(paths, vec![b"".to_vec(), b"d".to_vec()]);
}
