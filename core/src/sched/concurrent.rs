//! Concurrent waits in virtual time (WASI 0.3's `wait-for` and `wait-until`)
//! and the executor that decides when time moves.
//!
//! In WASI 0.3 several tasks of one Store can wait at once: two timers, a
//! timer and a stream, a subtask that sleeps. Which of them completes first
//! must not depend on the host, so virtual time follows one rule:
//!
//! - `wait-for(d)` waits for the deadline *now* + `d` (saturating at
//!   `u64::MAX`), `wait-until(t)` for `t`.
//! - A wait that is due when it is first polled (in the call itself)
//!   completes at once. A wait never moves time itself.
//! - Any other wait completes only when it is *fired*, one at a time: when
//!   the whole Store is idle ([`run`] polled it and nothing woke it again, so
//!   every task waits), the earliest pending wait, by deadline and then call
//!   order, is fired ([`Waits::fire_earliest`]), time first advancing to its
//!   deadline if that is later. So waits due at the same time complete in
//!   that order, each after the Store has finished reacting to the one
//!   before, whatever order the runtime would deliver simultaneous
//!   completions in; and a wait that clock reads (`Tick`) carried past its
//!   deadline still completes in its turn.
//! - An operation that is ready but whose completion the guest can observe
//!   only on a later turn of the runtime's event loop (a future's value
//!   holding a string, which wasmtime lowers later) completes the same way:
//!   as a *turn* ([`Waits::turn`]) at the current time, fired when the Store
//!   is idle, one at a time. Turns due together fire in the order of their
//!   [`Ticket`]s, taken when the guest started the operation. So the guest
//!   sees such completions in the order it started them, whatever order the
//!   runtime would deliver them in (wasmtime 46 and 50 differ here).
//! - Idle with no wait registered is a [`Deadlock`]: nothing will ever wake
//!   the Store, so [`run`] ends instead of hanging.
//! - Under [`ClockPolicy::Frozen`] every wait completes at once and time
//!   does not move (a frozen clock cannot reach a deadline, and a guest must
//!   not hang).
//!
//! Nothing here sleeps in real time, and nothing depends on threads: [`run`]
//! polls on the calling thread until the future completes.

use crate::clocks::{ClockPolicy, VirtualClock};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// The waits registered on one Store's timeline, shared by its timers and
/// the executor that drives the Store ([`run`]). Cloning gives another
/// handle to the same waits.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::sched::concurrent::{Waits, run};
/// use deterministic_wasi_ctx_core::{ClockPolicy, VirtualClock};
/// use std::time::Duration;
///
/// let clock = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
/// let waits = Waits::new();
/// let done = run(waits.wait(&clock, 5_000), &waits, &clock);
/// assert!(done.is_ok());
/// assert_eq!(clock.peek(), 5_000);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Waits {
    inner: Arc<Mutex<Registry>>,
}

/// The registered waits, keyed by deadline and then registration order.
#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    pending: BTreeMap<(u64, u64), Entry>,
}

/// One registered wait.
#[derive(Debug)]
struct Entry {
    /// Wakes the task that waits.
    waker: Waker,
    /// Fired by the idle step: the wait completes when next polled.
    fired: bool,
}

impl Waits {
    /// No waits.
    pub fn new() -> Self {
        Waits::default()
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // Every update is one insert, take or remove: a panic elsewhere
        // cannot leave the map inconsistent, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A future that completes once `clock` reaches `deadline` (see the
    /// [module docs](self) for when that is).
    pub fn wait(&self, clock: &VirtualClock, deadline: u64) -> Wait {
        Wait {
            waits: self.clone(),
            clock: clock.clone(),
            deadline,
            turn: None,
            key: None,
        }
    }

    /// A place in the order of turns, taken when the guest starts an
    /// operation that will complete as a [turn](Waits::turn).
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::sched::concurrent::Waits;
    /// let waits = Waits::new();
    /// assert!(waits.ticket() < waits.ticket());
    /// ```
    pub fn ticket(&self) -> Ticket {
        let mut registry = self.registry();
        let ticket = Ticket(registry.next_id);
        registry.next_id += 1;
        ticket
    }

    /// A future that completes when it is fired as a turn: registered at
    /// the time of its first poll, never complete in that poll (even on a
    /// frozen clock), fired by the idle step in the order of deadlines and
    /// then tickets, so before any later timer and after every earlier
    /// turn. Time does not move for it.
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::sched::concurrent::{Waits, run};
    /// use deterministic_wasi_ctx_core::{ClockPolicy, VirtualClock};
    /// use std::time::Duration;
    ///
    /// let clock = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
    /// let waits = Waits::new();
    /// let ticket = waits.ticket();
    /// assert!(run(waits.turn(&clock, ticket), &waits, &clock).is_ok());
    /// assert_eq!(clock.peek(), 0);
    /// ```
    pub fn turn(&self, clock: &VirtualClock, ticket: Ticket) -> Wait {
        Wait {
            waits: self.clone(),
            clock: clock.clone(),
            deadline: 0,
            turn: Some(ticket),
            key: None,
        }
    }

    /// How many waits are registered and not yet completed or dropped.
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::sched::concurrent::Waits;
    /// assert_eq!(Waits::new().pending(), 0);
    /// ```
    pub fn pending(&self) -> usize {
        self.registry().pending.len()
    }

    /// The idle step: fires the earliest pending wait (by deadline, then
    /// registration order), advancing `clock` to its deadline first if that
    /// is later than now, and wakes it. Returns that deadline, or `None` if
    /// no wait is pending (a deadlock when the Store is idle). Moving time
    /// is recorded as `timer-fired`, as the preview2 timers record it.
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::sched::concurrent::Waits;
    /// use deterministic_wasi_ctx_core::{ClockPolicy, VirtualClock};
    /// use std::time::Duration;
    ///
    /// let clock = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
    /// assert_eq!(Waits::new().fire_earliest(&clock), None);
    /// ```
    pub fn fire_earliest(&self, clock: &VirtualClock) -> Option<u64> {
        let mut registry = self.registry();
        let (&(deadline, _), entry) = registry.pending.iter_mut().find(|(_, e)| !e.fired)?;
        if deadline > clock.peek() {
            clock.advance_to(deadline);
            clock.record("timer-fired", &[deadline], deadline);
        }
        entry.fired = true;
        let waker = entry.waker.clone();
        drop(registry);
        waker.wake();
        Some(deadline)
    }
}

/// A place in the order of turns ([`Waits::ticket`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// One wait of [`Waits::wait`] (ready once its deadline is reached) or
/// [`Waits::turn`] (ready when fired). Dropping it (a cancelled task)
/// unregisters it.
#[derive(Debug)]
pub struct Wait {
    waits: Waits,
    clock: VirtualClock,
    /// The deadline; for a turn, the time of its first poll.
    deadline: u64,
    /// A turn's ticket.
    turn: Option<Ticket>,
    /// The registration key, once registered.
    key: Option<(u64, u64)>,
}

impl Wait {
    /// The deadline this wait completes at, in monotonic nanoseconds (for a
    /// turn, the time of its first poll).
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Registers this wait under `key`, to be woken through `cx` when fired.
    fn register(&mut self, key: (u64, u64), cx: &Context<'_>) {
        let entry = Entry {
            waker: cx.waker().clone(),
            fired: false,
        };
        self.waits.registry().pending.insert(key, entry);
        self.key = Some(key);
    }
}

impl Future for Wait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let frozen = self.clock.policy() == ClockPolicy::Frozen;
        let Some(key) = self.key else {
            if let Some(Ticket(id)) = self.turn {
                self.deadline = self.clock.peek();
                let key = (self.deadline, id);
                self.register(key, cx);
                return Poll::Pending;
            }
            if frozen || self.clock.peek() >= self.deadline {
                return Poll::Ready(());
            }
            let mut registry = self.waits.registry();
            let key = (self.deadline, registry.next_id);
            registry.next_id += 1;
            drop(registry);
            self.register(key, cx);
            return Poll::Pending;
        };
        let mut registry = self.waits.registry();
        match registry.pending.get_mut(&key) {
            Some(entry) if !entry.fired => {
                entry.waker.clone_from(cx.waker());
                Poll::Pending
            }
            // Fired (or gone, which only this wait does): complete.
            _ => {
                registry.pending.remove(&key);
                drop(registry);
                self.key = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.waits.registry().pending.remove(&key);
        }
    }
}

/// Every task of the Store waits and no wait is registered: nothing can
/// ever complete, so [`run`] stopped instead of hanging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlock;

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadlock: every task waits and no timer is pending, so nothing can complete")
    }
}

impl std::error::Error for Deadlock {}

/// Records whether the future asked to be polled again.
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Polls `future` on this thread until it completes, moving virtual time by
/// the [module's rule](self): whenever a poll returns `Pending` and nothing
/// woke the future, the Store is idle, and the earliest wait fires
/// ([`Waits::fire_earliest`]). Idle with nothing to fire is a [`Deadlock`].
///
/// The future must make progress only through wakes this executor sees
/// (the deterministic context's streams, timers and pipes are all in
/// memory): a future waiting on real I/O would be taken for idle.
///
/// # Errors
///
/// [`Deadlock`] if every task waits and no wait is registered.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::sched::concurrent::{Deadlock, Waits, run};
/// use deterministic_wasi_ctx_core::{ClockPolicy, VirtualClock};
/// use std::time::Duration;
///
/// let clock = VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0);
/// let waits = Waits::new();
/// assert_eq!(run(std::future::pending::<()>(), &waits, &clock), Err(Deadlock));
/// ```
pub fn run<F: Future>(
    future: F,
    waits: &Waits,
    clock: &VirtualClock,
) -> Result<F::Output, Deadlock> {
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Ok(output);
        }
        if woken.0.swap(false, Ordering::AcqRel) {
            continue;
        }
        if waits.fire_earliest(clock).is_none() {
            return Err(Deadlock);
        }
    }
}

#[cfg(test)]
#[path = "concurrent_tests.rs"]
mod tests;
