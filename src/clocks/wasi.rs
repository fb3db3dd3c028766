//! A [`VirtualClock`] as wasmtime-wasi's wall and monotonic clocks.

use super::{RESOLUTION_NANOS, VirtualClock};
use std::time::Duration;

/// A [`VirtualClock`] as wasmtime-wasi's `HostMonotonicClock` and
/// `HostWallClock`: the clocks a `WasiCtxBuilder` is given.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::clocks::{ClockPolicy, VirtualClock, WasiClock};
/// use std::time::Duration;
/// use wasmtime_wasi::HostMonotonicClock;
///
/// let clock = WasiClock(VirtualClock::new(ClockPolicy::Frozen, Duration::ZERO, 7));
/// assert_eq!(clock.now(), 7);
/// ```
#[derive(Clone, Debug)]
pub struct WasiClock(pub VirtualClock);

impl wasmtime_wasi::HostMonotonicClock for WasiClock {
    fn resolution(&self) -> u64 {
        RESOLUTION_NANOS
    }

    fn now(&self) -> u64 {
        self.0.read_monotonic()
    }
}

impl wasmtime_wasi::HostWallClock for WasiClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(RESOLUTION_NANOS)
    }

    fn now(&self) -> Duration {
        self.0.read_wall()
    }
}
