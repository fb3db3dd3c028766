//! Kept calls hold a bounded prefix of each write; the digest and the
//! comparison of kept calls still cover every byte.

use super::{KEPT_WRITE_PREFIX, Recorder, Returned, Write, WriteRef};

const BIG: usize = 16 << 20;

/// Records one `random_get` of `bytes` at offset 0.
fn record_random(recorder: &Recorder, bytes: &[u8]) {
    recorder.record(
        "random_get",
        &[0, bytes.len() as i64],
        Returned::Values(&[0]),
        &[WriteRef::Bytes { offset: 0, bytes }],
    );
}

/// Heap bytes a kept write holds.
fn kept_bytes(write: &Write) -> usize {
    match write {
        Write::Bytes { prefix, .. } => prefix.capacity(),
        Write::MemoryDigest(_) => 0,
    }
}

#[test]
fn a_kept_16_mib_write_holds_only_its_prefix() {
    let recorder = Recorder::new(10);
    let bytes: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
    record_random(&recorder, &bytes);
    let trace = recorder.trace();
    let write = &trace.events()[0].writes[0];
    assert_eq!(kept_bytes(write), KEPT_WRITE_PREFIX);
    let Write::Bytes {
        len,
        prefix,
        blake3,
        ..
    } = write
    else {
        panic!("{write:?}")
    };
    assert_eq!(*len as usize, BIG);
    assert_eq!(prefix[..], bytes[..KEPT_WRITE_PREFIX]);
    assert_eq!(blake3, blake3::hash(&bytes).as_bytes());
}

#[test]
fn the_display_shows_the_prefix_and_what_was_elided() {
    let recorder = Recorder::new(10);
    record_random(&recorder, &[0xab; 100]);
    record_random(&recorder, &[0xcd; KEPT_WRITE_PREFIX]);
    let trace = recorder.trace();
    let long = trace.events()[0].to_string();
    let prefix = " ab".repeat(KEPT_WRITE_PREFIX);
    let hash = super::hex(&blake3::hash(&[0xab; 100]).as_bytes()[..8]);
    assert_eq!(
        long,
        format!(
            "random_get(buf=0x0, len=100) -> 0, wrote 100 bytes @0x0:{prefix} ... (68 bytes elided, blake3 {hash})"
        )
    );
    let short = trace.events()[1].to_string();
    assert!(short.ends_with(&" cd".repeat(KEPT_WRITE_PREFIX)), "{short}");
    assert!(!short.contains("elided"), "{short}");
}

#[test]
fn a_difference_past_the_prefix_changes_the_kept_call_and_the_digest() {
    let run = |last: u8| {
        let recorder = Recorder::new(10);
        let mut bytes = vec![0u8; 1000];
        bytes[999] = last;
        record_random(&recorder, &bytes);
        let trace = recorder.trace();
        (trace.events()[0].clone(), trace.digest())
    };
    let (a, digest_a) = run(1);
    let (b, digest_b) = run(2);
    assert_ne!(a, b);
    assert_ne!(a.to_string(), b.to_string());
    assert_ne!(digest_a, digest_b);
}

#[test]
fn keeping_calls_does_not_change_the_digest() {
    let digest = |max_events| {
        let recorder = Recorder::new(max_events);
        record_random(&recorder, &[3; 5000]);
        record_random(&recorder, &[4; 7]);
        recorder.trace().digest()
    };
    assert_eq!(digest(0), digest(10));
}

/// The digest is BLAKE3 of the encoding documented in the module docs, with
/// every written byte (this write is longer than the hashing block too).
#[test]
fn the_digest_is_the_documented_encoding_of_every_byte() {
    let bytes: Vec<u8> = (0..40_000u32).map(|i| (i % 253) as u8).collect();
    let recorder = Recorder::new(1);
    record_random(&recorder, &bytes);
    let mut encoding = vec![10];
    encoding.extend(b"random_get");
    encoding.push(2);
    encoding.extend(0i64.to_le_bytes());
    encoding.extend(40_000i64.to_le_bytes());
    encoding.extend([0, 1]);
    encoding.extend(0i64.to_le_bytes());
    encoding.push(0);
    encoding.extend(0u32.to_le_bytes());
    encoding.extend(40_000u32.to_le_bytes());
    encoding.extend(&bytes);
    encoding.push(0xff);
    assert_eq!(
        recorder.trace().digest(),
        *blake3::hash(&encoding).as_bytes()
    );
}
