//! The digest is BLAKE3 of the encoded calls as the module docs write them
//! down, however the recorder cuts the stream into hashed blocks: an encoder
//! written here from that grammar, hashed in one piece, is the oracle.

use super::{Recorder, Returned, WriteRef};

/// One write as the oracle encodes it.
enum Wrote<'a> {
    Bytes(u32, &'a [u8]),
    Memory([u8; 32]),
}

/// `call := name_len:u8 name args_len:u8 arg* result write* 0xff`.
fn encode(out: &mut Vec<u8>, name: &str, args: &[i64], result: Returned<'_>, writes: &[Wrote<'_>]) {
    out.push(name.len() as u8);
    out.extend(name.bytes());
    out.push(args.len() as u8);
    args.iter().for_each(|a| out.extend(a.to_le_bytes()));
    match result {
        Returned::Values(values) => {
            out.extend([0, values.len() as u8]);
            values.iter().for_each(|v| out.extend(v.to_le_bytes()));
        }
        Returned::Exit(status) => {
            out.push(1);
            out.extend(status.to_le_bytes());
        }
        Returned::Trapped => out.push(2),
    }
    for write in writes {
        match write {
            Wrote::Bytes(offset, bytes) => {
                out.push(0);
                out.extend(offset.to_le_bytes());
                out.extend((bytes.len() as u32).to_le_bytes());
                out.extend(*bytes);
            }
            Wrote::Memory(digest) => {
                out.push(1);
                out.extend(digest);
            }
        }
    }
    out.push(0xff);
}

/// Writes of every size around the 16 KiB block and well past it, between
/// runs of small calls, so the stream crosses block boundaries at many
/// offsets, mid-write and mid-head; the digest is checked after every call.
#[test]
fn the_digest_hashes_the_whole_stream_however_it_is_blocked() {
    let block = 16 << 10;
    let sizes = [
        0,
        1,
        40,
        1000,
        block - 1,
        block,
        block + 1,
        2 * block + 7,
        100_003,
        7,
        3 * block,
    ];
    let recorder = Recorder::new(0);
    let mut stream = Vec::new();
    let memory_digest = *blake3::hash(b"memory").as_bytes();
    for round in 0..4usize {
        for (i, &size) in sizes.iter().enumerate() {
            let bytes: Vec<u8> = (0..size).map(|b| (b * 31 + i + round) as u8).collect();
            let small = (round * 7 + i * 3) % 5;
            for k in 0..small {
                let args = [1, k as i64, 8];
                let result = Returned::Values(&[0]);
                let now = (round * 1000 + i * 10 + k) as u64;
                let time = now.to_le_bytes();
                recorder.record(
                    "clock_time_get",
                    &args,
                    result,
                    &[WriteRef::Bytes {
                        offset: 8,
                        bytes: &time,
                    }],
                );
                encode(
                    &mut stream,
                    "clock_time_get",
                    &args,
                    result,
                    &[Wrote::Bytes(8, &time)],
                );
            }
            let args = [64, size as i64];
            let result = match (round + i) % 3 {
                0 => Returned::Values(&[0]),
                1 => Returned::Exit(round as i32),
                _ => Returned::Trapped,
            };
            recorder.record(
                "random_get",
                &args,
                result,
                &[
                    WriteRef::Bytes {
                        offset: 64,
                        bytes: &bytes,
                    },
                    WriteRef::MemoryDigest(memory_digest),
                ],
            );
            encode(
                &mut stream,
                "random_get",
                &args,
                result,
                &[Wrote::Bytes(64, &bytes), Wrote::Memory(memory_digest)],
            );
            assert_eq!(
                recorder.trace().digest(),
                *blake3::hash(&stream).as_bytes(),
                "round {round}, write of {size} bytes, after {} bytes",
                stream.len()
            );
        }
    }
    assert!(stream.len() > 20 * block, "{}", stream.len());
}
