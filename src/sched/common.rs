//! The `wasi-common` scheduler and clocks over a [`VirtualClock`].
//!
//! wasi-common measures monotonic time as `cap_std` `Instant`s. The virtual
//! clock maps its nanosecond count onto an `Instant` *anchor* taken once when
//! the context is built; wasi-common subtracts the anchor again before a guest
//! sees anything (the monotonic clock's `creation_time` is the anchor), so the
//! host's real instant never reaches the guest.

use crate::VirtualClock;
use crate::clocks::RESOLUTION_NANOS;
use cap_std::time::{Duration, Instant, SystemTime};
use wasi_common::clocks::{WasiMonotonicClock, WasiMonotonicOffsetClock, WasiSystemClock};
use wasi_common::sched::{Poll, Subscription, WasiSched};
use wasi_common::{Error, WasiClocks};

/// A [`VirtualClock`] seen as wasi-common's clocks and scheduler.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{ClockPolicy, VirtualClock, sched::VirtualSched};
/// use std::time::Duration;
/// use wasi_common::WasiSched;
///
/// let clock = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
/// let sched = VirtualSched::new(clock.clone());
/// futures_lite_block_on(sched.sleep(Duration::from_secs(2))).unwrap();
/// assert_eq!(clock.peek(), 2_000_000_000);
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct VirtualSched {
    clock: VirtualClock,
    anchor: Instant,
}

impl VirtualSched {
    /// Schedules against `clock`, anchoring instants at the current host
    /// instant (which the guest never observes).
    pub fn new(clock: VirtualClock) -> Self {
        VirtualSched {
            clock,
            anchor: Instant::from_std(std::time::Instant::now()),
        }
    }

    /// wasi-common clocks sharing this scheduler's timeline.
    pub fn clocks(&self) -> WasiClocks {
        WasiClocks {
            system: Some(Box::new(self.clone())),
            monotonic: Some(WasiMonotonicOffsetClock {
                creation_time: self.anchor,
                abs_clock: Box::new(self.clone()),
            }),
        }
    }

    fn instant_at(&self, nanos: u64) -> Instant {
        let offset = Duration::from_nanos(nanos);
        // `Instant` cannot always hold 584 years past an arbitrary anchor;
        // saturate rather than panic.
        self.anchor
            .checked_add(offset)
            .unwrap_or_else(|| self.anchor + Duration::from_secs(u64::from(u32::MAX)))
    }

    fn nanos_at(&self, instant: Instant) -> u64 {
        instant
            .checked_duration_since(self.anchor)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

impl WasiMonotonicClock for VirtualSched {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(RESOLUTION_NANOS)
    }

    fn now(&self, _precision: Duration) -> Instant {
        self.instant_at(self.clock.read_monotonic())
    }
}

impl WasiSystemClock for VirtualSched {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(RESOLUTION_NANOS)
    }

    fn now(&self, _precision: Duration) -> SystemTime {
        SystemTime::from_std(std::time::UNIX_EPOCH + self.clock.read_wall())
    }
}

#[async_trait::async_trait]
impl WasiSched for VirtualSched {
    /// Rules 4 of [`sched::poll`](crate::sched::poll): fd subscriptions are
    /// ready at once; otherwise time advances to the earliest deadline.
    async fn poll_oneoff<'a>(&self, poll: &mut Poll<'a>) -> Result<(), Error> {
        let mut any_fd = false;
        for sub in poll.rw_subscriptions() {
            if let Subscription::Read(rw) | Subscription::Write(rw) = sub {
                rw.complete(0, wasi_common::sched::RwEventFlags::empty());
                any_fd = true;
            }
        }
        if !any_fd && let Some(earliest) = poll.earliest_clock_deadline() {
            self.clock.advance_to(self.nanos_at(earliest.deadline));
        }
        Ok(())
    }

    async fn sched_yield(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn sleep(&self, duration: Duration) -> Result<(), Error> {
        self.clock.sleep(duration);
        Ok(())
    }
}
