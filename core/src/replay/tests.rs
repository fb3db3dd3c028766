use super::*;
use crate::trace::{CallResult, CallSink, Returned, WriteRef};

/// A log of three calls: a random_get of 100 bytes twice (the second
/// stored as a reference), and a proc_exit.
fn sample() -> Vec<u8> {
    let mut w = LogWriter::new(Vec::new(), b"program").unwrap();
    let bytes = [7u8; 100];
    for _ in 0..2 {
        w.call(
            "random_get",
            false,
            &[16, 100],
            Returned::Values(&[0]),
            &[WriteRef::Bytes {
                offset: 16,
                bytes: &bytes,
            }],
            None,
        )
        .unwrap();
    }
    w.call("proc_exit", true, &[-3], Returned::Exit(-3), &[], None)
        .unwrap();
    w.finish(&LogEnd::new(0, CallResult::Exit(-3), b"out", b"err"))
        .unwrap()
}

#[test]
fn a_log_reads_back_as_written() {
    let log = sample();
    let mut r = LogReader::new(&log[..]).unwrap();
    assert_eq!(r.program(), *blake3::hash(b"program").as_bytes());
    for _ in 0..2 {
        let Entry::Call(call) = r.next_entry().unwrap() else {
            panic!("a call")
        };
        assert_eq!(call.args, [16, 100]);
        assert_eq!(call.result, CallResult::Returned(vec![0]));
        assert_eq!(&call.writes[0].1[..], &[7u8; 100][..]);
    }
    let Entry::Call(exit) = r.next_entry().unwrap() else {
        panic!("a call")
    };
    assert!(exit.preview0);
    assert_eq!((exit.args, exit.result), (vec![-3], CallResult::Exit(-3)));
    let Entry::End(end) = r.next_entry().unwrap() else {
        panic!("the end")
    };
    assert_eq!(end, LogEnd::new(3, CallResult::Exit(-3), b"out", b"err"));
    assert!(r.next_entry().is_err());
}

/// One record reused for every call reads each as `next_entry` does, its
/// earlier contents gone: a trap after writes and an exit, a call without
/// arguments after one with many, an input digest then none.
#[test]
fn a_reused_record_reads_each_call_as_a_fresh_one() {
    let mut w = LogWriter::new(Vec::new(), b"program").unwrap();
    let bytes = [5u8; 80];
    let write = |offset| WriteRef::Bytes {
        offset,
        bytes: &bytes,
    };
    w.call(
        "fd_read",
        false,
        &[0, 8, 1, 4],
        Returned::Values(&[0]),
        &[write(16), write(200)],
        Some([9; 16]),
    )
    .unwrap();
    w.call("proc_exit", true, &[2], Returned::Exit(2), &[], None)
        .unwrap();
    w.call(
        "fd_read",
        false,
        &[0, 8, 1, 4],
        Returned::Values(&[0]),
        &[write(16)],
        None,
    )
    .unwrap();
    w.call("sched_yield", false, &[], Returned::Trapped, &[], None)
        .unwrap();
    w.call(
        "clock_time_get",
        false,
        &[1, 1, 8],
        Returned::Values(&[0]),
        &[],
        None,
    )
    .unwrap();
    let log = w
        .finish(&LogEnd::new(0, CallResult::Trapped, b"", b""))
        .unwrap();
    let (mut fresh, mut reused) = (
        LogReader::new(&log[..]).unwrap(),
        LogReader::new(&log[..]).unwrap(),
    );
    let mut call = LogCall::empty();
    for _ in 0..5 {
        let Entry::Call(expected) = fresh.next_entry().unwrap() else {
            panic!("a call")
        };
        assert_eq!(reused.next_call_into(&mut call).unwrap(), None);
        assert_eq!(call, expected);
    }
    let Entry::End(end) = fresh.next_entry().unwrap() else {
        panic!("the end")
    };
    assert_eq!(reused.next_call_into(&mut call).unwrap(), Some(end));
    assert!(reused.next_call_into(&mut call).is_err());
}

#[test]
fn a_repeated_large_write_is_stored_once() {
    let write = |n: usize| {
        let mut w = LogWriter::new(Vec::new(), b"").unwrap();
        // Incompressible bytes, so only the table can save space.
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| blake3::hash(&i.to_le_bytes()).as_bytes()[0])
            .collect();
        for _ in 0..n {
            let w_ref = WriteRef::Bytes {
                offset: 0,
                bytes: &bytes,
            };
            w.call(
                "random_get",
                false,
                &[0, 4096],
                Returned::Values(&[0]),
                &[w_ref],
                None,
            )
            .unwrap();
        }
        w.finish(&LogEnd::new(0, CallResult::Returned(vec![]), b"", b""))
            .unwrap()
            .len()
    };
    let (one, ten) = (write(1), write(10));
    assert!(one > 4096, "{one}");
    assert!(ten < one + 100, "ten copies took {ten} bytes, one {one}");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let log = sample();
    for len in 0..log.len() {
        let error = verify(&log[..len]).unwrap_err();
        assert!(
            matches!(
                error,
                LogError::NotALog | LogError::Truncated | LogError::Corrupt(_)
            ),
            "{len}: {error}"
        );
    }
    assert!(verify(&log[..]).is_ok());
}

/// Every record of a log, or its first error.
fn entries(log: &[u8]) -> Result<Vec<Entry>, LogError> {
    let mut reader = LogReader::new(log)?;
    let mut all = Vec::new();
    loop {
        let entry = reader.next_entry()?;
        let end = matches!(entry, Entry::End(_));
        all.push(entry);
        if end {
            return Ok(all);
        }
    }
}

#[test]
fn every_flipped_bit_is_caught_or_changes_nothing() {
    // A flip in the unused bits of deflate's last byte decodes to the same
    // records; any other is an error.
    let log = sample();
    let good = entries(&log).unwrap();
    let mut unchanged = 0;
    for at in 0..log.len() {
        for bit in 0..8 {
            let mut bad = log.clone();
            bad[at] ^= 1 << bit;
            match entries(&bad) {
                Err(_) => {}
                Ok(same) => {
                    assert_eq!(
                        same, good,
                        "flip of bit {bit} at {at} changed the records unnoticed"
                    );
                    assert_eq!(at, log.len() - 1, "bit {bit} at {at}");
                    unchanged += 1;
                }
            }
        }
    }
    assert!(unchanged < 8, "{unchanged}");
}

#[test]
fn other_versions_and_trailing_bytes_are_refused() {
    let mut log = sample();
    let mut v2 = log.clone();
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(verify(&v2[..]), Err(LogError::Version(2)));
    assert_eq!(
        LogError::Version(2).to_string(),
        "log format version 2, but this build reads version 1"
    );
    log.push(0);
    assert_eq!(verify(&log[..]), Err(LogError::Trailing));
}

#[test]
fn the_writer_as_a_sink_records_what_the_table_gives() {
    let mut w = LogWriter::new(Vec::new(), b"").unwrap();
    let mut memory = vec![0u8; 64];
    memory[8..16].copy_from_slice(&42u64.to_le_bytes());
    w.call_sink("clock_time_get", &[1, 1, 8], &memory);
    memory[0..4].copy_from_slice(b"a.md");
    w.call_sink("path_unlink_file", &[3, 0, 4], &memory);
    let log = w
        .finish(&LogEnd::new(0, CallResult::Returned(vec![]), b"", b""))
        .unwrap();
    let mut r = LogReader::new(&log[..]).unwrap();
    let Entry::Call(clock) = r.next_entry().unwrap() else {
        panic!()
    };
    assert_eq!(clock.writes, [(8, (&42u64.to_le_bytes()[..]).into())]);
    assert_eq!(clock.inputs, None);
    let Entry::Call(unlink) = r.next_entry().unwrap() else {
        panic!()
    };
    assert!(unlink.writes.is_empty());
    assert_eq!(
        unlink.inputs,
        inputs_digest("path_unlink_file", false, &[3, 0, 4], Some(0), &memory)
    );

    // Replayed: the clock's bytes land; another path is a mismatch.
    let mut guest = vec![0u8; 64];
    assert_eq!(
        answer(0, &clock, "clock_time_get", false, &[1, 1, 8], &mut guest),
        Ok(Answer::Returned(vec![0]))
    );
    assert_eq!(&guest[8..16], &42u64.to_le_bytes());
    guest[0..4].copy_from_slice(b"b.md");
    let mismatch = answer(
        1,
        &unlink,
        "path_unlink_file",
        false,
        &[3, 0, 4],
        &mut guest,
    )
    .unwrap_err()
    .unwrap();
    assert_eq!(mismatch.index, 1);
    guest[0..4].copy_from_slice(b"a.md");
    assert!(
        answer(
            1,
            &unlink,
            "path_unlink_file",
            false,
            &[3, 0, 4],
            &mut guest
        )
        .is_ok()
    );
}

impl LogWriter<Vec<u8>> {
    /// A successful call, sent as a sink would send it.
    fn call_sink(&mut self, name: &str, args: &[i64], memory: &[u8]) {
        CallSink::call(self, name, false, args, Returned::Values(&[0]), memory);
    }
}

/// A logged call whose writes are `writes`.
fn logged(name: &str, args: &[i64], writes: &[(u32, &[u8])]) -> LogCall {
    LogCall {
        name: name.into(),
        preview0: false,
        args: args.to_vec(),
        result: CallResult::Returned(vec![0]),
        writes: writes.iter().map(|(o, b)| (*o, (*b).into())).collect(),
        inputs: None,
    }
}

#[test]
fn a_log_writing_outside_the_calls_buffers_is_refused_and_writes_nothing() {
    // clock_time_get writes 8 bytes at its third argument, nowhere else.
    for writes in [
        &[(9u32, &[1u8; 8][..])][..],
        &[(8, &[1u8; 9][..])],
        &[(8, &[1u8; 7][..])],
        &[(8, &[1u8; 8][..]), (40, &[1u8; 1][..])],
        &[(1 << 31, &[1u8; 8][..])],
    ] {
        let call = logged("clock_time_get", &[1, 1, 8], writes);
        let mut memory = vec![0u8; 64];
        let error = answer(0, &call, "clock_time_get", false, &[1, 1, 8], &mut memory);
        assert!(
            matches!(error, Err(Err(LogError::Corrupt(_)))),
            "{writes:?}: {error:?}"
        );
        assert_eq!(memory, vec![0u8; 64], "{writes:?}");
    }
}

#[test]
fn a_read_is_checked_against_the_counts_the_log_writes() {
    // fd_read(fd, iovs=0, 1 iovec, n_ptr=8): the iovec at 0 is (32, 16).
    let mut memory = vec![0u8; 64];
    memory[0..4].copy_from_slice(&32u32.to_le_bytes());
    memory[4..8].copy_from_slice(&16u32.to_le_bytes());
    let n = 5u32.to_le_bytes();
    let good = logged("fd_read", &[0, 0, 1, 8], &[(32, b"hello"), (8, &n)]);
    let mut m = memory.clone();
    assert!(answer(0, &good, "fd_read", false, &[0, 0, 1, 8], &mut m).is_ok());
    assert_eq!(&m[32..37], b"hello");
    // Says it read 5 bytes but writes 6: refused.
    let bad = logged("fd_read", &[0, 0, 1, 8], &[(32, b"hello!"), (8, &n)]);
    let mut m = memory.clone();
    assert!(answer(0, &bad, "fd_read", false, &[0, 0, 1, 8], &mut m).is_err());
    assert_eq!(m, memory);
}

/// A log may claim success (errno 0) for a call whose output pointer is past
/// the end of memory, where the real call fails. The region the rule gives
/// is then empty: the length was once computed as `end - start` with `end`
/// cut at the end of memory, which underflowed (a host panic in a debug
/// build) for such a region. Now it is an empty region: an empty write
/// matches it, any other write is a bad log, and memory is untouched.
#[test]
fn a_claimed_success_past_the_end_of_memory_writes_nothing_and_does_not_panic() {
    let args = [1, 1, 1 << 20];
    let mut memory = vec![0u8; 64];
    let empty = logged("clock_time_get", &args, &[(1 << 20, b"")]);
    assert_eq!(
        answer(0, &empty, "clock_time_get", false, &args, &mut memory),
        Ok(Answer::Returned(vec![0]))
    );
    let full = logged("clock_time_get", &args, &[(1 << 20, &[1u8; 8][..])]);
    assert!(matches!(
        answer(0, &full, "clock_time_get", false, &args, &mut memory),
        Err(Err(LogError::Corrupt(_)))
    ));
    assert_eq!(memory, vec![0u8; 64]);
}
