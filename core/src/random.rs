//! Randomness: every random byte a guest sees comes from a seeded PRNG.
//!
//! WASI exposes three sources of randomness, and each is derived from the one
//! configured seed (`DeterminismConfig::seed` in the adapters):
//!
//! | WASI source | derivation |
//! |---|---|
//! | secure random (`random_get`, `wasi:random/random`) | `Pcg64Mcg::seed_from_u64(seed)` |
//! | insecure random (`wasi:random/insecure`) | `Pcg64Mcg::seed_from_u64(seed ^ INSECURE_DOMAIN)` |
//! | insecure seed (`wasi:random/insecure-seed`) | two `next_u64` of `Pcg64Mcg::seed_from_u64(seed ^ INSECURE_SEED_DOMAIN)`, the first as the low half |
//!
//! `Pcg64Mcg` is the 128-bit multiplicative congruential generator with the
//! XSL RR output function (O'Neill's `pcg64_fast`), seeded exactly as the
//! `rand_core` 0.6 `SeedableRng::seed_from_u64` algorithm does (a PCG32 expands
//! the `u64` into 16 seed bytes); its `next_u64` / `next_u32` equal
//! `rand_pcg::Pcg64Mcg`'s.
//!
//! **Byte streams** (`random_get`, `get-random-bytes`,
//! `get-insecure-random-bytes`): every byte is the low byte of one `next_u64`
//! output, whatever the request length. Stock wasmtime-wasi draws bytes this
//! way (one `u8` sample per byte) and wasi-common asks for a filled buffer,
//! which [`Pcg64Mcg::fill`] fills by the same rule, so both backends give the
//! same stream. On wasmtime-wasi, this crate's preview1 linker serves
//! `random_get` itself ([`add_random_get_to_linker`]), filling guest memory
//! in one pass from a [`SharedStream`] that the context also holds: the same
//! bytes without a boxed sample per byte. A 1-byte request is also what `fill_bytes` of `rand_pcg`
//! returns, which keeps the values that users of the original
//! `deterministic-wasi-ctx` crate rely on: with seed 42, two 1-byte reads
//! return 155 then 111. `get-random-u64` is one `next_u64`.
//!
//! The three streams are independent generators: reading from one never moves
//! another, so a guest that starts using `wasi:random/insecure` does not change
//! what `random_get` returns.

use rand_core::TryRng;
use std::convert::Infallible;

mod shared;
pub use shared::SharedStream;

/// XOR-ed into the seed to derive the insecure stream (ASCII `"insecure"`).
pub const INSECURE_DOMAIN: u64 = u64::from_be_bytes(*b"insecure");
/// XOR-ed into the seed to derive the `insecure-seed` value (ASCII `"inseed\0\0"`).
pub const INSECURE_SEED_DOMAIN: u64 = u64::from_be_bytes(*b"inseed\0\0");

const PCG_MULTIPLIER: u128 = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645;

/// A `Pcg64Mcg` (MCG 128, XSL RR 64) generator, bit-compatible with
/// `rand_pcg::Pcg64Mcg` seeded through `rand_core` 0.6.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::random::Pcg64Mcg;
///
/// let mut rng = Pcg64Mcg::seed_from_u64(42);
/// let mut byte = [0u8; 1];
/// rng.fill(&mut byte);
/// assert_eq!(byte, [155]);
/// rng.fill(&mut byte);
/// assert_eq!(byte, [111]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcg64Mcg {
    state: u128,
}

impl Pcg64Mcg {
    /// Creates a generator from 16 little-endian seed bytes; the state is made
    /// odd, as a multiplicative generator requires.
    pub fn from_seed(seed: [u8; 16]) -> Self {
        Pcg64Mcg {
            state: u128::from_le_bytes(seed) | 1,
        }
    }

    /// Creates a generator from a `u64`, expanding it with PCG32 as
    /// `rand_core` 0.6 does.
    pub fn seed_from_u64(mut state: u64) -> Self {
        const MUL: u64 = 6_364_136_223_846_793_005;
        const INC: u64 = 11_634_580_027_462_260_723;
        let mut seed = [0u8; 16];
        for chunk in seed.chunks_mut(4) {
            state = state.wrapping_mul(MUL).wrapping_add(INC);
            let xorshifted = (((state >> 18) ^ state) >> 27) as u32;
            let rot = (state >> 59) as u32;
            chunk.copy_from_slice(&xorshifted.rotate_right(rot).to_le_bytes());
        }
        Self::from_seed(seed)
    }

    /// The next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_mul(PCG_MULTIPLIER);
        xsl_rr(self.state)
    }

    /// The next 32-bit output: the low half of the next 64-bit output.
    pub fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    /// Skips `steps` outputs in O(log `steps`) time: the state after
    /// `advance(n)` is the state after `n` calls of [`next_u64`](Self::next_u64).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::random::Pcg64Mcg;
    ///
    /// let mut stepped = Pcg64Mcg::seed_from_u64(1);
    /// (0..1000).for_each(|_| { stepped.next_u64(); });
    /// let mut jumped = Pcg64Mcg::seed_from_u64(1);
    /// jumped.advance(1000);
    /// assert_eq!(jumped, stepped);
    /// ```
    pub fn advance(&mut self, steps: u64) {
        let (mut factor, mut power, mut steps) = (1u128, PCG_MULTIPLIER, steps);
        while steps > 0 {
            if steps & 1 == 1 {
                factor = factor.wrapping_mul(power);
            }
            power = power.wrapping_mul(power);
            steps >>= 1;
        }
        self.state = self.state.wrapping_mul(factor);
    }

    /// Fills `dest` with the byte stream of the [module docs](self): byte `i`
    /// is the low byte of the `i`-th `next_u64`.
    ///
    /// One generator step per byte, in order: about 1.5 ns a byte on the
    /// 2-core CI machine. (Computing four independent steps at a time, by
    /// `M`..`M⁴`, measured no faster: the multiplications' throughput, not
    /// their latency, is the limit.)
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::random::Pcg64Mcg;
    ///
    /// let (mut bulk, mut stepped) = (Pcg64Mcg::seed_from_u64(7), Pcg64Mcg::seed_from_u64(7));
    /// let mut bytes = [0u8; 11];
    /// bulk.fill(&mut bytes);
    /// let one_by_one: Vec<u8> = (0..11).map(|_| stepped.next_u64() as u8).collect();
    /// assert_eq!(bytes.to_vec(), one_by_one);
    /// assert_eq!(bulk, stepped);
    /// ```
    pub fn fill(&mut self, dest: &mut [u8]) {
        for byte in dest {
            *byte = self.next_u64() as u8;
        }
    }
}

impl TryRng for Pcg64Mcg {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dest);
        Ok(())
    }
}

/// PCG's XSL RR output function: the two halves of the state XOR-ed, rotated
/// right by the state's top 6 bits.
fn xsl_rr(state: u128) -> u64 {
    let rot = (state >> 122) as u32;
    (((state >> 64) as u64) ^ (state as u64)).rotate_right(rot)
}

/// The secure stream for `seed` (see the [module docs](self)).
///
/// # Example
///
/// ```
/// let mut rng = deterministic_wasi_ctx_core::random::secure_stream(42);
/// assert_eq!(rng.next_u64() & 0xff, 155);
/// ```
pub fn secure_stream(seed: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed)
}

/// The insecure stream for `seed` (see the [module docs](self)).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::random::{insecure_stream, secure_stream};
/// assert_ne!(insecure_stream(42), secure_stream(42));
/// ```
pub fn insecure_stream(seed: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed ^ INSECURE_DOMAIN)
}

/// The `wasi:random/insecure-seed` value for `seed` (see the [module docs](self)).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::random::insecure_seed;
/// assert_eq!(insecure_seed(7), insecure_seed(7));
/// assert_ne!(insecure_seed(7), insecure_seed(8));
/// ```
pub fn insecure_seed(seed: u64) -> u128 {
    let mut rng = Pcg64Mcg::seed_from_u64(seed ^ INSECURE_SEED_DOMAIN);
    let low = rng.next_u64();
    let high = rng.next_u64();
    (u128::from(high) << 64) | u128::from(low)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core_06::{RngCore, SeedableRng};

    #[test]
    fn advance_matches_rand_pcg_and_stepping() {
        for steps in [0u64, 1, 2, 3, 1000, 1 << 20, (64 << 20) + 1, u64::MAX] {
            let mut ours = Pcg64Mcg::seed_from_u64(9);
            ours.advance(steps);
            let mut theirs = rand_pcg::Pcg64Mcg::seed_from_u64(9);
            theirs.advance(u128::from(steps));
            assert_eq!(ours.next_u64(), theirs.next_u64(), "{steps} steps");
        }
        let mut stepped = Pcg64Mcg::seed_from_u64(9);
        (0..4099).for_each(|_| {
            stepped.next_u64();
        });
        let mut jumped = Pcg64Mcg::seed_from_u64(9);
        jumped.advance(4099);
        assert_eq!(jumped, stepped);
    }

    #[test]
    fn generator_matches_rand_pcg_for_many_seeds() {
        for seed in [0, 1, 42, 0xdead_beef, u64::MAX] {
            let mut ours = Pcg64Mcg::seed_from_u64(seed);
            let mut theirs = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            for _ in 0..100 {
                assert_eq!(ours.next_u64(), theirs.next_u64(), "seed {seed}");
                assert_eq!(ours.next_u32(), theirs.next_u32(), "seed {seed}");
            }
            // One byte is what `fill_bytes` gives for a 1-byte slice.
            let (mut a, mut b) = ([0u8; 1], [0u8; 1]);
            ours.fill(&mut a);
            theirs.fill_bytes(&mut b);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn byte_stream_is_one_low_byte_per_step() {
        let mut ours = Pcg64Mcg::seed_from_u64(9);
        let mut theirs = rand_pcg::Pcg64Mcg::seed_from_u64(9);
        let mut bytes = [0u8; 40];
        ours.fill(&mut bytes);
        for b in bytes {
            assert_eq!(b, theirs.next_u64() as u8);
        }
    }

    #[test]
    fn fills_of_every_length_match_rand_pcg_stepping_and_its_state() {
        // Lengths around the 4-byte chunks, one after another on one stream,
        // each followed by a `next_u64` (the state the fill left).
        let mut ours = Pcg64Mcg::seed_from_u64(3);
        let mut theirs = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        for len in (0..=70).chain([4096, 4097, 4099]) {
            let mut bytes = vec![0u8; len];
            ours.fill(&mut bytes);
            let expected: Vec<u8> = (0..len).map(|_| theirs.next_u64() as u8).collect();
            assert_eq!(bytes, expected, "{len} bytes");
            assert_eq!(
                ours.next_u64(),
                theirs.next_u64(),
                "state after {len} bytes"
            );
        }
    }

    #[test]
    fn default_seed_gives_155_then_111() {
        let mut rng = secure_stream(42);
        let mut b = [0u8];
        rng.fill(&mut b);
        assert_eq!(b[0], 155);
        rng.fill(&mut b);
        assert_eq!(b[0], 111);
    }

    #[test]
    fn streams_are_distinct() {
        let mut s = secure_stream(42);
        let mut i = insecure_stream(42);
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        s.fill(&mut a);
        i.fill(&mut b);
        assert_ne!(a, b);
        assert_ne!(insecure_seed(42), insecure_seed(43));
    }
}
