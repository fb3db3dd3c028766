use super::{T0, create, tree, write};
use crate::fs::*;

fn sample() -> VirtualFs {
    VirtualFs::new()
        .file("a/x", "xx")
        .file("a.txt", "t")
        .symlink("l", "a/x")
}

#[test]
fn walk_is_in_sorted_path_order_with_contents() {
    let t = tree(&sample());
    let walk = t.walk();
    let (t_file, xx_file) = (
        FileContent::from(b"t".to_vec()),
        FileContent::from(b"xx".to_vec()),
    );
    let got: Vec<(&[u8], WalkContent<'_>)> = walk
        .iter()
        .map(|e| (e.path.as_slice(), e.content))
        .collect();
    let want: Vec<(&[u8], WalkContent<'_>)> = vec![
        (b"", WalkContent::Directory),
        (b"a", WalkContent::Directory),
        (b"a.txt", WalkContent::File(&t_file)),
        (b"a/x", WalkContent::File(&xx_file)),
        (b"l", WalkContent::Symlink(b"a/x")),
    ];
    assert_eq!(got, want);
    assert_eq!(walk[3].stat, t.stat_at(ROOT, b"a/x", true).unwrap());
}

#[test]
fn trees_from_one_snapshot_are_identical_and_independent() {
    let vfs = sample();
    let mut one = tree(&vfs);
    let mut two = tree(&vfs);
    assert_eq!(one.digest(), two.digest());
    let start = one.digest();
    let f = one.open(ROOT, b"new", &create(), T0 + 1).unwrap();
    one.write_at(f, 0, b"data", T0 + 2).unwrap();
    assert_ne!(one.digest(), start);
    assert_eq!(two.digest(), start);
    assert_eq!(tree(&vfs).digest(), start);
    // The same calls in the other tree give the same tree.
    let g = two.open(ROOT, b"new", &create(), T0 + 1).unwrap();
    two.write_at(g, 0, b"data", T0 + 2).unwrap();
    assert_eq!(one.digest(), two.digest());
}

#[test]
fn digest_sees_one_byte_a_name_a_time_and_a_link_target() {
    let vfs = sample();
    let base = tree(&vfs).digest();
    let changed = |f: &dyn Fn(&mut FsTree)| {
        let mut t = tree(&vfs);
        f(&mut t);
        t.digest()
    };
    let byte = changed(&|t| {
        let x = t.open(ROOT, b"a/x", &write(), T0).unwrap();
        t.write_at(x, 1, b"y", T0).unwrap();
    });
    assert_ne!(byte, base);
    let rename = changed(&|t| {
        t.rename(ROOT, b"a.txt", ROOT, b"b.txt", T0).unwrap();
        t.set_times(ROOT, NewTime::At(T0), NewTime::At(T0), T0)
            .unwrap();
    });
    assert_ne!(rename, base);
    let time = changed(&|t| {
        t.set_times(ROOT, NewTime::At(T0), NewTime::At(T0 + 1), T0)
            .unwrap()
    });
    assert_ne!(time, base);
    let link = changed(&|t| {
        t.unlink(ROOT, b"l", T0).unwrap();
        t.symlink(b"a/y", ROOT, b"l", T0).unwrap();
    });
    assert_ne!(link, base);
    // Same content, different snapshot time: different digest; dev is not covered.
    assert_ne!(FsTree::new(&vfs, 7, T0 + 1).digest(), base);
    assert_eq!(FsTree::new(&vfs, 8, T0).digest(), base);
}
