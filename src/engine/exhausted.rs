//! [`HostExhausted`]: the error a Store's limiter raises when the host, not
//! a deterministic limit, refused memory.

use std::fmt;

/// A memory or table growth that [`DeterministicLimits`](super::DeterministicLimits)
/// allowed but the host could not satisfy (its allocation failed). Where
/// that happens depends on the host, not on the guest, so the growth is not
/// answered with -1 as a refused growth is (the guest would see host memory
/// pressure): it traps with this error in the chain, and the
/// [audit](crate::audit) reports the run as poisoned, not as a result.
///
/// A growth *past* the fixed limits is not this error: it returns -1 on
/// every host.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::engine::{DeterministicLimits, HostExhausted};
/// use wasmtime::ResourceLimiter;
///
/// let mut limits = DeterministicLimits::new();
/// let failed = wasmtime::Error::msg("mmap failed");
/// let error = limits.memory_grow_failed(failed).unwrap_err();
/// assert!(error.is::<HostExhausted>());
/// assert_eq!(error.downcast_ref::<HostExhausted>(), Some(&HostExhausted::Memory));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostExhausted {
    /// A linear memory could not grow.
    Memory,
    /// A table could not grow.
    Table,
}

impl fmt::Display for HostExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            HostExhausted::Memory => "memory",
            HostExhausted::Table => "table",
        };
        write!(
            f,
            "the host could not allocate a {what} growth the limits allow"
        )
    }
}

impl std::error::Error for HostExhausted {}
