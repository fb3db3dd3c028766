//! Clocks: virtual wall and monotonic time that moves only by rule.
//!
//! A [`VirtualClock`] is one timeline: a monotonic reading in nanoseconds and a
//! wall-clock reading derived from it, so the two always advance together
//! (`wall - wall_start == monotonic - monotonic_start`). The clock is a cheap,
//! cloneable handle: the WASI clocks and the scheduler of one Store share one
//! timeline, and every context built gets a fresh one, so two Stores never
//! share time.
//!
//! How the timeline moves is the [`ClockPolicy`]:
//!
//! | policy | a clock read | a sleep / timer of `d` |
//! |---|---|---|
//! | [`ClockPolicy::Frozen`] | returns the start value, forever | returns at once; time does not move |
//! | [`ClockPolicy::AdvanceOnSleep`] (default) | returns the current value | advances time by exactly `d`, at once |
//! | [`ClockPolicy::Tick`]`(step)` | returns the current value, then advances by `step` | as `AdvanceOnSleep` |
//!
//! Nothing ever sleeps in real time. The resolution reported to guests is
//! [`RESOLUTION_NANOS`] for both clocks. Arithmetic saturates: the monotonic
//! clock stops at `u64::MAX` nanoseconds and the wall clock at
//! `u64::MAX` nanoseconds after the Unix epoch; nothing panics on overflow.

use crate::trace::{Recorder, Returned};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The resolution, in nanoseconds, that `clock_res_get` and
/// `wasi:clocks/*.resolution` report for both clocks.
pub const RESOLUTION_NANOS: u64 = 1;

/// How virtual time moves. See the [module docs](self) for the table.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::ClockPolicy;
/// use std::time::Duration;
///
/// assert_eq!(ClockPolicy::default(), ClockPolicy::AdvanceOnSleep);
/// let busy_wait_friendly = ClockPolicy::Tick(Duration::from_millis(1));
/// assert_ne!(busy_wait_friendly, ClockPolicy::Frozen);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClockPolicy {
    /// Every read returns the start value; sleeping returns at once without
    /// moving time.
    Frozen,
    /// Reads return the current value; sleeping or waiting on a timer advances
    /// time by exactly the requested amount, instantly.
    #[default]
    AdvanceOnSleep,
    /// As `AdvanceOnSleep`, and additionally every clock read advances time by
    /// the step after returning, so guests that busy-wait on the clock finish.
    Tick(Duration),
}

/// One timeline's state: the time itself, read without a lock, and the
/// preview2 timers waiting on it.
#[derive(Debug)]
struct Timeline {
    /// Monotonic time in nanoseconds.
    now: AtomicU64,
    timers: Mutex<Timers>,
}

/// The preview2 timers waiting on a timeline (see `sched::p2`).
#[derive(Debug, Default)]
pub struct Timers {
    /// Deadlines of preview2 timers currently waiting inside a `poll`, keyed by
    /// registration id (see `sched::p2`).
    pub waiting: std::collections::BTreeMap<u64, u64>,
    /// The registration id the next waiting timer gets.
    pub next_waiter: u64,
}

/// One virtual timeline, shared by the clocks and the scheduler of a Store.
///
/// Cloning gives another handle to the *same* timeline; use
/// [`VirtualClock::new`] (or build a new context) for an independent one.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::{ClockPolicy, VirtualClock};
/// use std::time::Duration;
///
/// let clock = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
/// assert_eq!(clock.read_monotonic(), 0);
/// clock.sleep(Duration::from_secs(5));
/// assert_eq!(clock.read_monotonic(), 5_000_000_000);
/// assert_eq!(clock.read_wall(), Duration::from_secs(5));
/// ```
#[derive(Clone, Debug)]
pub struct VirtualClock {
    timeline: Arc<Timeline>,
    policy: ClockPolicy,
    wall_start: Duration,
    monotonic_start: u64,
    recorder: Option<Recorder>,
}

impl VirtualClock {
    /// A new timeline whose monotonic clock starts at `monotonic_start`
    /// nanoseconds and whose wall clock starts at `wall_start` after the Unix
    /// epoch.
    pub fn new(policy: ClockPolicy, wall_start: Duration, monotonic_start: u64) -> Self {
        VirtualClock {
            timeline: Arc::new(Timeline {
                now: AtomicU64::new(monotonic_start),
                timers: Mutex::default(),
            }),
            policy,
            wall_start,
            monotonic_start,
            recorder: None,
        }
    }

    /// This timeline, recording every guest-visible read (and, in the
    /// preview2 timers, every subscription and firing) in `recorder`.
    pub fn recorded_by(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// Records `name(args) -> value` if this timeline is recorded.
    pub fn record(&self, name: &str, args: &[u64], value: u64) {
        if let Some(recorder) = &self.recorder {
            let args: Vec<i64> = args.iter().map(|&a| a as i64).collect();
            recorder.record(name, &args, Returned::Values(&[value as i64]), &[]);
        }
    }

    /// The policy this timeline follows.
    pub fn policy(&self) -> ClockPolicy {
        self.policy
    }

    /// The preview2 timers waiting on this timeline.
    pub fn timers(&self) -> MutexGuard<'_, Timers> {
        // A panic while holding the lock cannot leave the timers inconsistent
        // (every update is a single insert or remove), so a poisoned lock is
        // still usable.
        self.timeline
            .timers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The monotonic time in nanoseconds, without counting as a read (no tick).
    pub fn peek(&self) -> u64 {
        self.timeline.now.load(Ordering::Acquire)
    }

    /// Moves time from exactly `from` to `to`; false (and nothing moves) if
    /// time is no longer `from`.
    pub fn move_from(&self, from: u64, to: u64) -> bool {
        let now = &self.timeline.now;
        now.compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Applies `change` to the time (saturating arithmetic inside `change`).
    fn update(&self, change: impl Fn(u64) -> u64) -> u64 {
        let now = &self.timeline.now;
        match now.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| Some(change(t))) {
            Ok(before) | Err(before) => before,
        }
    }

    /// Reads the monotonic clock as a guest does: returns the current value,
    /// then, under [`ClockPolicy::Tick`], advances by the step.
    pub fn read_monotonic(&self) -> u64 {
        let now = self.tick();
        self.record("wasi:clocks/monotonic-clock.now", &[], now);
        now
    }

    /// Reads the wall clock as a guest does (see [`read_monotonic`](Self::read_monotonic)).
    pub fn read_wall(&self) -> Duration {
        let wall = self.wall_at(self.tick());
        self.record("wasi:clocks/wall-clock.now", &[], duration_nanos(wall));
        wall
    }

    /// The current monotonic value; under `Tick`, advances by the step after.
    fn tick(&self) -> u64 {
        match self.policy {
            ClockPolicy::Tick(step) => {
                let step = duration_nanos(step);
                self.update(|now| now.saturating_add(step))
            }
            _ => self.peek(),
        }
    }

    /// The wall-clock time that corresponds to monotonic time `monotonic`,
    /// saturating at `u64::MAX` nanoseconds after the epoch.
    pub fn wall_at(&self, monotonic: u64) -> Duration {
        let elapsed = monotonic.saturating_sub(self.monotonic_start);
        let wall = duration_nanos(self.wall_start).saturating_add(elapsed);
        Duration::from_nanos(wall)
    }

    /// Sleeps for `duration` in virtual time: advances the clock by exactly
    /// that much (saturating), unless the policy is [`ClockPolicy::Frozen`].
    pub fn sleep(&self, duration: Duration) {
        if self.policy != ClockPolicy::Frozen {
            let nanos = duration_nanos(duration);
            self.update(|now| now.saturating_add(nanos));
        }
    }

    /// Advances the monotonic clock to `deadline` if it is in the future,
    /// unless the policy is [`ClockPolicy::Frozen`]. Never moves time back.
    pub fn advance_to(&self, deadline: u64) {
        if self.policy != ClockPolicy::Frozen {
            self.timeline.now.fetch_max(deadline, Ordering::AcqRel);
        }
    }
}

/// A duration in nanoseconds, saturating at `u64::MAX`.
pub fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_never_moves() {
        let c = VirtualClock::new(ClockPolicy::Frozen, Duration::from_secs(100), 7);
        c.sleep(Duration::from_secs(1));
        c.advance_to(1_000);
        assert_eq!(c.read_monotonic(), 7);
        assert_eq!(c.read_wall(), Duration::from_secs(100));
    }

    #[test]
    fn tick_advances_after_each_read() {
        let c = VirtualClock::new(
            ClockPolicy::Tick(Duration::from_nanos(10)),
            Duration::ZERO,
            0,
        );
        assert_eq!(c.read_monotonic(), 0);
        assert_eq!(c.read_wall(), Duration::from_nanos(10));
        assert_eq!(c.peek(), 20);
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let c = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::MAX, u64::MAX - 1);
        c.sleep(Duration::MAX);
        assert_eq!(c.read_monotonic(), u64::MAX);
        assert_eq!(c.read_wall(), Duration::from_nanos(u64::MAX));
        let t = VirtualClock::new(ClockPolicy::Tick(Duration::MAX), Duration::ZERO, 0);
        t.read_monotonic();
        assert_eq!(t.peek(), u64::MAX);
    }

    #[test]
    fn clones_share_a_timeline_new_clocks_do_not() {
        let a = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
        let b = a.clone();
        let c = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
        a.sleep(Duration::from_secs(1));
        assert_eq!(b.peek(), 1_000_000_000);
        assert_eq!(c.peek(), 0);
    }
}
