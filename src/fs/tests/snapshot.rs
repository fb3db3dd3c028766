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
