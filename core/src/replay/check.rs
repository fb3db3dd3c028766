//! Answering one call from the log: is it the recorded call, are the log's
//! writes where the call writes, and what does the guest get.

use super::format::{LogCall, LogError};
use crate::trace::table::{self, View};
use crate::trace::{CallHead, CallResult};
use std::fmt;

/// A replay's guest asked something the recording's did not: the first
/// difference, as the audit shows a divergence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The 0-based index of the call that differs.
    pub index: u64,
    /// What the recording did there (`fd_write(fd=1, ...)`, or `the end of
    /// the run`).
    pub expected: String,
    /// What the replay did.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replay diverged at call {}: recorded {}, replayed {}",
            self.index, self.expected, self.actual
        )
    }
}

impl std::error::Error for Mismatch {}

/// What [`answer`] gives the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The call returns these values (the log's writes are made).
    Returned(Vec<i64>),
    /// The call ends the program with this status.
    Exit(i32),
    /// The call traps, as it did when recorded.
    Trapped,
}

/// The input regions a call changed: `(offset, bytes after the call)`.
pub type Changed<'m> = Vec<(u32, &'m [u8])>;

/// The data one call takes from guest memory, as a log keeps it: the
/// regions [`table::inputs_before`] gives, read before the call, then
/// those [`table::inputs_after`] gives, read after it. The same rule for
/// recording and replay.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// Each before-region: offset and bytes (cut at the end of memory).
    before: Vec<(u32, Vec<u8>)>,
}

impl Inputs {
    /// Reads the regions `name` takes before it runs from `memory`.
    pub fn before(name: &str, preview0: bool, args: &[i64], memory: &[u8]) -> Inputs {
        let mut before = Vec::new();
        table::inputs_before(name, preview0, args, &mut |offset, len| {
            before.push((offset, table::bytes_at(memory, offset, len).to_vec()));
        });
        Inputs { before }
    }

    /// The digest of everything the call took (`None` if it takes nothing),
    /// with `memory` as the call left it, and each before-region the call
    /// itself changed, as `(offset, bytes now)`: stock's preview0
    /// `poll_oneoff` rewrites the padding of the subscriptions it is given,
    /// and a log keeps that as a write.
    pub fn after<'m>(
        &self,
        name: &str,
        args: &[i64],
        errno: Option<i64>,
        memory: &'m [u8],
    ) -> (Option<[u8; 16]>, Changed<'m>) {
        let mut after = Vec::new();
        table::inputs_after(name, args, errno, memory, &mut |offset, len| {
            after.push(table::bytes_at(memory, offset, len))
        });
        if self.before.is_empty() && after.is_empty() {
            return (None, Vec::new());
        }
        let mut hasher = blake3::Hasher::new();
        let mut changed = Vec::new();
        for (offset, bytes) in &self.before {
            let now = table::bytes_at(memory, *offset, bytes.len() as u32);
            if now != &bytes[..] {
                changed.push((*offset, now));
            }
        }
        let regions = self.before.iter().map(|(_, bytes)| &bytes[..]);
        for bytes in regions.chain(after) {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        let digest = hasher.finalize();
        let digest = digest.as_bytes()[..16].try_into().expect("16 of 32 bytes");
        (Some(digest), changed)
    }
}

/// The digest [`Inputs`] gives for a call that changed none of its inputs,
/// read from one `memory`.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::replay::inputs_digest;
///
/// let mut memory = vec![0u8; 64];
/// memory[8..12].copy_from_slice(b"a.md");
/// let a = inputs_digest("path_unlink_file", false, &[3, 8, 4], Some(0), &memory);
/// memory[8] = b'b';
/// assert_ne!(a, inputs_digest("path_unlink_file", false, &[3, 8, 4], Some(0), &memory));
/// assert_eq!(inputs_digest("sched_yield", false, &[], Some(0), &memory), None);
/// ```
pub fn inputs_digest(
    name: &str,
    preview0: bool,
    args: &[i64],
    errno: Option<i64>,
    memory: &[u8],
) -> Option<[u8; 16]> {
    Inputs::before(name, preview0, args, memory)
        .after(name, args, errno, memory)
        .0
}

/// Memory as it will be once `writes` are made (later writes win), read
/// without making them.
struct Overlay<'a> {
    memory: &'a [u8],
    writes: &'a [(u32, std::sync::Arc<[u8]>)],
}

impl View for Overlay<'_> {
    fn len(&self) -> usize {
        self.memory.len()
    }
    fn byte(&self, at: usize) -> Option<u8> {
        let base = *self.memory.get(at)?;
        for (offset, bytes) in self.writes.iter().rev() {
            let start = *offset as usize;
            if at >= start && at - start < bytes.len() {
                return Some(bytes[at - start]);
            }
        }
        Some(base)
    }
}

/// Answers call number `index` of a replay from `logged`, the log's record
/// for it: checks that the guest called the same function (`name`, from
/// `wasi_unstable` if `preview0`) with the same `args`, that the log's
/// writes are exactly the regions the call's own rule gives
/// ([`table::regions_of`], read as memory will be after them), makes them
/// in `memory`, then checks the data the call takes from memory against
/// the recorded digest.
///
/// Nothing outside the call's own regions is written, and nothing at all
/// when the call or the log does not match; the work is bounded by the
/// log's bytes for the call plus the rule's bounds.
///
/// # Errors
///
/// `Err(Ok(mismatch))` when the guest asks something else;
/// `Err(Err(log error))` when the log's writes are not the call's.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::replay::{Answer, Entry, LogEnd, LogReader, LogWriter, answer};
/// use deterministic_wasi_ctx_core::trace::{CallResult, Returned, WriteRef};
///
/// let mut writer = LogWriter::new(Vec::new(), b"")?;
/// writer.call("random_get", false, &[16, 2], Returned::Values(&[0]),
///     &[WriteRef::Bytes { offset: 16, bytes: &[0x9b, 0x6f] }], None)?;
/// let log = writer.finish(&LogEnd::new(1, CallResult::Exit(0), b"", b""))?;
/// let Entry::Call(call) = LogReader::new(&log[..])?.next_entry()? else { panic!() };
///
/// let mut memory = vec![0u8; 64];
/// assert_eq!(answer(0, &call, "random_get", false, &[16, 2], &mut memory), Ok(Answer::Returned(vec![0])));
/// assert_eq!(&memory[16..18], &[0x9b, 0x6f]);
/// let mismatch = answer(0, &call, "random_get", false, &[16, 3], &mut memory).unwrap_err().unwrap();
/// assert_eq!(mismatch.to_string(),
///     "replay diverged at call 0: recorded random_get(buf=0x10, len=2), replayed random_get(buf=0x10, len=3)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn answer(
    index: u64,
    logged: &LogCall,
    name: &str,
    preview0: bool,
    args: &[i64],
    memory: &mut [u8],
) -> Result<Answer, Result<Mismatch, LogError>> {
    if logged.name != name || logged.preview0 != preview0 || logged.args != args {
        let module = |p0: bool| if p0 { "wasi_unstable::" } else { "" };
        return Err(Ok(Mismatch {
            index,
            expected: format!(
                "{}{}",
                module(logged.preview0),
                CallHead(&logged.name, &logged.args)
            ),
            actual: format!("{}{}", module(preview0), CallHead(name, args)),
        }));
    }
    let errno = match &logged.result {
        CallResult::Returned(values) => values.first().copied(),
        _ => None,
    };
    let inputs = Inputs::before(name, preview0, args, memory);
    if !logged.writes.is_empty() {
        let overlay = Overlay {
            memory,
            writes: &logged.writes,
        };
        // The log's writes (offset, length) must be the regions the call's
        // rule gives, in order, compared as they come (no allocation)...
        let found = |i: usize| logged.writes.get(i).map(|(o, b)| (*o, b.len()));
        let (mut matched, mut prefix) = (0, true);
        let known = table::regions_of(name, preview0, args, errno, &overlay, &mut |offset, len| {
            prefix &= found(matched) == Some((offset, table::bytes_at(memory, offset, len).len()));
            matched += 1;
        });
        // ...then, in order, any of the call's own input regions it changed.
        let mut rest = matched;
        for (offset, bytes) in &inputs.before {
            if found(rest) == Some((*offset, bytes.len())) {
                rest += 1;
            }
        }
        if !known || !prefix || rest < logged.writes.len() {
            // Both lists in full, for the message.
            let mut expected = Vec::new();
            table::regions_of(name, preview0, args, errno, &overlay, &mut |offset, len| {
                expected.push((offset, table::bytes_at(memory, offset, len).len()));
            });
            let found: Vec<(u32, usize)> = (0..logged.writes.len()).filter_map(found).collect();
            return Err(Err(LogError::Corrupt(format!(
                "call {index} ({name}): the log writes {found:?}, the call writes {expected:?} (offset, length)"
            ))));
        }
        for (offset, bytes) in logged.writes.iter().filter(|(_, b)| !b.is_empty()) {
            let start = *offset as usize;
            memory[start..start + bytes.len()].copy_from_slice(bytes);
        }
    }
    if inputs.after(name, args, errno, memory).0 != logged.inputs {
        return Err(Ok(Mismatch {
            index,
            expected: format!("{} with the data recorded", CallHead(name, args)),
            actual: "the same call with other data in guest memory (bytes written, paths or subscriptions)".into(),
        }));
    }
    Ok(match &logged.result {
        CallResult::Returned(values) => Answer::Returned(values.clone()),
        CallResult::Exit(status) => Answer::Exit(*status),
        CallResult::Trapped => Answer::Trapped,
    })
}

/// Answers call number `index` of a component's replay from `logged`: checks
/// that the guest called the same function (`name`) with the same
/// flattened arguments (`args`) and the same bytes in them (`inputs`, their
/// digest), and gives the recorded result. Unlike [`answer`], nothing is
/// written here: the caller reads the result's values and the log's writes
/// (the bytes of its strings and lists) back into the call's types.
///
/// # Errors
///
/// The first difference.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::replay::{Answer, Entry, LogEnd, LogReader, LogWriter, answer_component};
/// use deterministic_wasi_ctx_core::trace::{CallResult, Returned};
///
/// let mut writer = LogWriter::new(Vec::new(), b"")?;
/// writer.call("wasi:random/random.get-random-u64", false, &[], Returned::Values(&[7]), &[], None)?;
/// let log = writer.finish(&LogEnd::new(1, CallResult::Exit(0), b"", b""))?;
/// let Entry::Call(call) = LogReader::new(&log[..])?.next_entry()? else { panic!() };
///
/// let name = "wasi:random/random.get-random-u64";
/// assert_eq!(answer_component(0, &call, name, &[], None), Ok(Answer::Returned(vec![7])));
/// let mismatch = answer_component(0, &call, "wasi:clocks/wall-clock.now", &[], None).unwrap_err();
/// assert_eq!(mismatch.expected, "wasi:random/random.get-random-u64()");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn answer_component(
    index: u64,
    logged: &LogCall,
    name: &str,
    args: &[i64],
    inputs: Option<[u8; 16]>,
) -> Result<Answer, Mismatch> {
    if logged.name != name || logged.preview0 || logged.args != args {
        return Err(Mismatch {
            index,
            expected: CallHead(&logged.name, &logged.args).to_string(),
            actual: CallHead(name, args).to_string(),
        });
    }
    if logged.inputs != inputs {
        return Err(Mismatch {
            index,
            expected: format!("{} with the bytes recorded", CallHead(name, args)),
            actual: "the same call with other bytes in its strings or lists".into(),
        });
    }
    Ok(match &logged.result {
        CallResult::Returned(values) => Answer::Returned(values.clone()),
        CallResult::Exit(status) => Answer::Exit(*status),
        CallResult::Trapped => Answer::Trapped,
    })
}
