//! What a target reads: the fuzzer's bytes, continued when they are short.
//!
//! Every target decodes a preamble first (a backend, clock settings, a tree,
//! how long a script is), and `arbitrary` answers zeros and empty lists once
//! the bytes run out. So a run from an empty corpus, whose first inputs are
//! empty or a few bytes long, built modules that import nothing and scripts
//! with no operation: 0 of 9,216 `p1_smith` executions in its first minute
//! made a host call. [`continued`] gives a target at least [`MIN_LEN`]
//! bytes: the input's own bytes first, unchanged, then a stream seeded by
//! the input (BLAKE3 of it, as an extendable output). Each short input is
//! thus a full one of its own, different for every byte changed, and the
//! bytes libFuzzer mutates still decode first, as before. Inputs of
//! [`MIN_LEN`] bytes or more are read as they are.
//!
//! The shims, the corpus replay and the smoke tests all read inputs through
//! [`continued`], so a committed input decodes in `cargo test` exactly as
//! the fuzzer decoded it.

use std::borrow::Cow;

/// Inputs shorter than this are continued to this length: enough for every
/// target's preamble and a few operations (`p1_smith` spends about 30 bytes
/// on its context and one byte per offered import before any code).
pub const MIN_LEN: usize = 256;

/// `data`, or `data` followed by its seeded continuation up to [`MIN_LEN`]
/// bytes.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_fuzz::input::{MIN_LEN, continued};
///
/// let short = continued(b"ab");
/// assert_eq!(short.len(), MIN_LEN);
/// assert_eq!(&short[..2], b"ab");
/// assert_eq!(continued(b"ab"), short, "the same input, the same bytes");
/// assert_ne!(&continued(b"ac")[2..], &short[2..], "another input, another stream");
/// let long = vec![7u8; MIN_LEN];
/// assert_eq!(&*continued(&long), &long[..]);
/// ```
pub fn continued(data: &[u8]) -> Cow<'_, [u8]> {
    if data.len() >= MIN_LEN {
        return Cow::Borrowed(data);
    }
    let mut bytes = vec![0u8; MIN_LEN];
    bytes[..data.len()].copy_from_slice(data);
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"deterministic-wasi-ctx-fuzz input continuation");
    hasher.update(data);
    hasher.finalize_xof().fill(&mut bytes[data.len()..]);
    Cow::Owned(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The doc example's claims (this crate's doctests do not run).
    #[test]
    fn short_inputs_are_continued_and_long_ones_kept() {
        for len in [0, 1, 2, MIN_LEN - 1] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let out = continued(&data);
            assert_eq!(out.len(), MIN_LEN);
            assert_eq!(&out[..len], &data[..]);
            assert_eq!(continued(&data), out);
        }
        assert_ne!(&continued(b"ac")[2..], &continued(b"ab")[2..]);
        assert_ne!(&continued(b"")[..8], &[0u8; 8], "not zeros");
        let long = vec![7u8; MIN_LEN + 1];
        assert!(matches!(continued(&long), Cow::Borrowed(_)));
    }
}
