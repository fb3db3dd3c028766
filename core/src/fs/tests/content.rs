//! Sparse file contents: holes read as zeros and cost nothing, small gaps
//! are stored, and a file without holes digests as before.

use super::{T0, tree, write};
use crate::fs::*;

#[test]
fn writes_reads_and_truncation_across_holes() {
    let mut c = FileContent::from(b"abc".to_vec());
    c.write(10, b"xy"); // a 7-byte gap: stored as zeros
    assert_eq!(c.extents().count(), 1);
    assert!(c.is_dense());
    assert_eq!(c.to_vec(), b"abc\0\0\0\0\0\0\0xy");
    let far = 3 * SPARSE_GAP;
    c.write(far, b"12345");
    assert_eq!((c.len(), c.stored_bytes()), (far + 5, 17));
    assert!(!c.is_dense());
    // A write across the hole's end and into the extent.
    c.write(far - 2, b"ABCD");
    let mut buf = [0xff; 12];
    assert_eq!(c.read_at(far - 4, &mut buf), 9);
    assert_eq!(&buf[..9], b"\0\0ABCD345");
    // One write covering a hole and two extents.
    c.write(11, &[7; 10]);
    assert_eq!(c.extents().count(), 3, "appended to the first extent");
    assert_eq!(c.read_at(9, &mut buf[..4]), 4);
    assert_eq!(&buf[..4], b"\0x\x07\x07");
    c.set_len(far);
    assert_eq!(c.len(), far);
    assert_eq!(c.read_at(far - 2, &mut buf), 2);
    assert_eq!(&buf[..2], b"AB");
    c.set_len(5);
    assert_eq!(c.to_vec(), b"abc\0\0");
    assert_eq!(c.extents().count(), 1);
    assert_eq!(c.read_at(3, &mut []), 0);
}

#[test]
fn charges_count_stored_bytes_and_extents() {
    let mut c = FileContent::default();
    assert_eq!(
        c.write_charge(1 << 31, 4),
        4,
        "a file's first extent is free"
    );
    c.write(1 << 31, b"abcd");
    assert_eq!(c.charged(), 4);
    assert_eq!(c.write_charge(0, 1), 1 + EXTENT_CHARGE);
    assert_eq!(
        c.write_charge((1 << 31) + 4, 3),
        3,
        "appending to an extent"
    );
    assert_eq!(c.write_charge((1 << 31) + 2, 4), 2, "overwriting is free");
    assert_eq!(c.set_len_charge(1 << 40), 0, "a hole");
    assert_eq!(c.set_len_charge((1 << 31) + 10), 6, "a small gap is stored");
    c.write(0, b"z");
    assert_eq!(c.charged(), 5 + EXTENT_CHARGE);
}

/// The digest of a file without holes is the v1 encoding as documented
/// (length, then bytes), whatever extents hold it: files written with
/// small gaps keep the digests pinned before sparse files.
#[test]
fn a_file_without_holes_digests_as_before() {
    let snapshot = VirtualFs::new().file("f", b"ab\0\0\0xy".to_vec());
    let mut written = tree(&VirtualFs::new().file("f", "ab"));
    let f = written.open(ROOT, b"f", &write(), T0).unwrap();
    written.write_at(f, 5, b"xy", T0).unwrap();
    let t = tree(&snapshot);
    assert_eq!(written.digest(), t.digest());
    // Written out from the documented grammar.
    let mut h = blake3::Hasher::new();
    h.update(b"deterministic-wasi-ctx fs digest v1\0");
    for e in t.walk() {
        h.update(&(e.path.len() as u64).to_le_bytes());
        h.update(&e.path);
        h.update(&[if e.path.is_empty() { 0 } else { 1 }]);
        let s = e.stat;
        for field in [s.ino, s.nlink, s.size, s.atim, s.mtim, s.ctim] {
            h.update(&field.to_le_bytes());
        }
        if !e.path.is_empty() {
            h.update(&7u64.to_le_bytes());
            h.update(b"ab\0\0\0xy");
        }
    }
    h.update(&2u64.to_le_bytes());
    assert_eq!(t.digest(), *h.finalize().as_bytes());
}

#[test]
fn a_huge_sparse_file_digests_quickly_and_sees_its_bytes() {
    let mut one = tree(&VirtualFs::new().file("f", "x"));
    let f = one.open(ROOT, b"f", &write(), T0).unwrap();
    one.write_at(f, 1 << 40, b"far", T0).unwrap();
    let mut two = one.clone();
    let start = std::time::Instant::now();
    let before = one.digest();
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(two.digest(), before);
    two.write_at(f, (1 << 40) + 1, b"A", T0).unwrap();
    assert_ne!(two.digest(), before);
}
