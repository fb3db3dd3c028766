//! One generator read through two doors: the wasmtime-wasi context and this
//! crate's `random_get` override.

use super::Pcg64Mcg;
use rand_core::TryRng;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// A [`Pcg64Mcg`] shared by clones of this handle: every clone reads the
/// same stream, in call order.
///
/// `DeterminismConfig::build_p1` gives
/// one clone to the wasmtime-wasi context (its secure random) and keeps
/// another for the adapter's preview1 `random_get`,
/// which fills guest memory in one pass instead of drawing one boxed `u8`
/// sample per byte as stock `random_get` does. Either way the guest sees the
/// same bytes.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::random::{SharedStream, secure_stream};
///
/// let stream = SharedStream::new(secure_stream(42));
/// let other_door = stream.clone();
/// let mut byte = [0u8; 1];
/// stream.fill(&mut byte);
/// assert_eq!(byte, [155]);
/// other_door.fill(&mut byte);
/// assert_eq!(byte, [111]);
/// ```
#[derive(Clone, Debug)]
pub struct SharedStream(Arc<Mutex<Pcg64Mcg>>);

impl SharedStream {
    /// Shares `generator`.
    pub fn new(generator: Pcg64Mcg) -> Self {
        Self(Arc::new(Mutex::new(generator)))
    }

    /// Fills `dest` from the stream ([`Pcg64Mcg::fill`]).
    pub fn fill(&self, dest: &mut [u8]) {
        self.generator().fill(dest);
    }

    /// Skips `steps` bytes of the stream ([`Pcg64Mcg::advance`]).
    pub fn advance(&self, steps: u64) {
        self.generator().advance(steps);
    }

    fn generator(&self) -> std::sync::MutexGuard<'_, Pcg64Mcg> {
        // The generator has no invariant a panic could break mid-update.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TryRng for SharedStream {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.generator().next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.generator().next_u64())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dest);
        Ok(())
    }
}
