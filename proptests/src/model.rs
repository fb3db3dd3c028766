//! The reference model: what a guest must observe, written from the
//! documented semantics (module docs of `src/random.rs`, `src/clocks.rs`,
//! `src/sched/poll.rs` and `src/sched/p2.rs`) and never by calling the
//! implementation.
//!
//! - Randomness: `rand_pcg::Pcg64Mcg` seeded with `rand_core` 0.6's
//!   `seed_from_u64` is the generator; every WASI random byte is the low byte
//!   of one `next_u64`; the insecure streams use the documented domain
//!   constants, spelled out here from their ASCII definitions.
//! - Time: [`ClockModel`] is the timeline of the policy table.
//! - Preview1 calls: [`P1Model`] executes a [`Script`]'s operations, with
//!   `poll_oneoff` following rules 1-5.
//! - The `p2_timers` guest program: [`P2Model`] executes its text script with
//!   the preview2 timer rules; [`P1Model::timer_op`] gives what the same
//!   program prints as a preview1 module (its operations are `poll_oneoff`s).

use crate::timers::{Timer, TimerOp};
use deterministic_wasi_ctx::ClockPolicy;
use deterministic_wasi_ctx::script::{Event, Op, OpResult, Output, Script, Subscription};
use rand_core::{RngCore, SeedableRng};
use std::time::Duration;

/// The insecure-stream domain: the seed is XOR-ed with ASCII `"insecure"`
/// read big-endian (`src/random.rs` table).
pub const MODEL_INSECURE_DOMAIN: u64 = u64::from_be_bytes(*b"insecure");
/// The insecure-seed domain: ASCII `"inseed\0\0"` read big-endian.
pub const MODEL_INSECURE_SEED_DOMAIN: u64 = u64::from_be_bytes(*b"inseed\0\0");

/// The resolution both clocks report, in nanoseconds (`src/clocks.rs`).
pub const MODEL_RESOLUTION_NANOS: u64 = 1;

/// preview1 errno values the model produces (from the witx `errno` enum).
pub mod errno {
    /// Success.
    pub const SUCCESS: u16 = 0;
    /// Bad file descriptor.
    pub const BADF: u16 = 8;
    /// Invalid argument.
    pub const INVAL: u16 = 28;
    /// Not supported.
    pub const NOTSUP: u16 = 58;
}

/// The reference generator: `rand_pcg`'s `Pcg64Mcg`, an implementation
/// independent of the crate under test.
pub type RefRng = rand_pcg::Pcg64Mcg;

/// The secure stream for `seed`: `seed_from_u64(seed)`.
pub fn secure_rng(seed: u64) -> RefRng {
    RefRng::seed_from_u64(seed)
}

/// The insecure stream for `seed`: `seed_from_u64(seed ^ "insecure")`.
pub fn insecure_rng(seed: u64) -> RefRng {
    RefRng::seed_from_u64(seed ^ MODEL_INSECURE_DOMAIN)
}

/// The `insecure-seed` value for `seed` as the guest receives it, `(low,
/// high)`: the first two `next_u64` of `seed_from_u64(seed ^ "inseed\0\0")`,
/// the first as the low half.
pub fn insecure_seed(seed: u64) -> (u64, u64) {
    let mut rng = RefRng::seed_from_u64(seed ^ MODEL_INSECURE_SEED_DOMAIN);
    let low = rng.next_u64();
    let high = rng.next_u64();
    (low, high)
}

/// `n` bytes of a WASI byte stream: byte `i` is the low byte of the `i`-th
/// `next_u64`, whatever the request length.
pub fn stream_bytes(rng: &mut RefRng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// The settings of a `DeterminismConfig` that decide what the model
/// observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    /// The seed of every random stream.
    pub seed: u64,
    /// Wall-clock start, after the Unix epoch.
    pub wall_start: Duration,
    /// Monotonic start, in nanoseconds.
    pub monotonic_start: u64,
    /// How time moves.
    pub policy: ClockPolicy,
}

impl Default for ModelConfig {
    /// The documented defaults: seed 42, epoch, 0, `AdvanceOnSleep`.
    fn default() -> Self {
        ModelConfig {
            seed: 42,
            wall_start: Duration::ZERO,
            monotonic_start: 0,
            policy: ClockPolicy::AdvanceOnSleep,
        }
    }
}

impl ModelConfig {
    /// The real configuration with these settings.
    pub fn to_config(&self) -> deterministic_wasi_ctx::DeterminismConfig {
        deterministic_wasi_ctx::DeterminismConfig::new()
            .seed(self.seed)
            .wall_start(self.wall_start)
            .monotonic_start(self.monotonic_start)
            .clock_policy(self.policy)
    }
}

/// A duration in nanoseconds, saturating at `u64::MAX`.
pub fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One virtual timeline, as the policy table of `src/clocks.rs` describes it.
///
/// | policy | a read | a sleep of `d` |
/// |---|---|---|
/// | `Frozen` | the start value, forever | nothing moves |
/// | `AdvanceOnSleep` | the current value | time += `d` |
/// | `Tick(step)` | the current value, then time += `step` | time += `d` |
///
/// Monotonic time saturates at `u64::MAX`; wall = `wall_start + (monotonic -
/// monotonic_start)`, saturating at `u64::MAX` ns after the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockModel {
    policy: ClockPolicy,
    now: u64,
    wall_start: u64,
    monotonic_start: u64,
}

impl ClockModel {
    /// A timeline at its start.
    pub fn new(policy: ClockPolicy, wall_start: Duration, monotonic_start: u64) -> Self {
        ClockModel {
            policy,
            now: monotonic_start,
            wall_start: saturating_nanos(wall_start),
            monotonic_start,
        }
    }

    /// The timeline's policy.
    pub fn policy(&self) -> ClockPolicy {
        self.policy
    }

    /// Monotonic time without reading (no tick).
    pub fn peek(&self) -> u64 {
        self.now
    }

    /// A guest read of the monotonic clock: the current value, then the tick.
    pub fn read_monotonic(&mut self) -> u64 {
        let value = self.now;
        if let ClockPolicy::Tick(step) = self.policy {
            self.now = self.now.saturating_add(saturating_nanos(step));
        }
        value
    }

    /// A guest read of the wall clock, in nanoseconds after the epoch.
    pub fn read_wall(&mut self) -> u64 {
        let monotonic = self.read_monotonic();
        self.wall_at(monotonic)
    }

    /// The wall time matching monotonic time `monotonic`.
    pub fn wall_at(&self, monotonic: u64) -> u64 {
        self.wall_start
            .saturating_add(monotonic.saturating_sub(self.monotonic_start))
    }

    /// A sleep of `nanos`: time moves by exactly that much (saturating),
    /// except under `Frozen`.
    pub fn sleep(&mut self, nanos: u64) {
        if self.policy != ClockPolicy::Frozen {
            self.now = self.now.saturating_add(nanos);
        }
    }

    /// Waiting for a deadline: time moves forward to it, never back, except
    /// under `Frozen`.
    pub fn advance_to(&mut self, deadline: u64) {
        if self.policy != ClockPolicy::Frozen {
            self.now = self.now.max(deadline);
        }
    }
}

/// The preview1 model: one timeline and the secure stream.
#[derive(Clone, Debug)]
pub struct P1Model {
    /// The timeline.
    pub clock: ClockModel,
    secure: RefRng,
}

fn clock_event(userdata: u64) -> Event {
    Event {
        userdata,
        errno: errno::SUCCESS,
        kind: 0,
        nbytes: 0,
        flags: 0,
    }
}

fn fd_event(userdata: u64, kind: u8) -> Event {
    Event {
        userdata,
        errno: errno::SUCCESS,
        kind,
        nbytes: 0,
        flags: 0,
    }
}

fn failed(errno: u16, output: Output) -> OpResult {
    OpResult { errno, output }
}

fn ok(output: Output) -> OpResult {
    OpResult {
        errno: errno::SUCCESS,
        output,
    }
}

impl P1Model {
    /// A context built from `config`, before any call.
    pub fn new(config: &ModelConfig) -> Self {
        P1Model {
            clock: ClockModel::new(config.policy, config.wall_start, config.monotonic_start),
            secure: secure_rng(config.seed),
        }
    }

    /// The results of every operation of `script`, in order.
    pub fn run(&mut self, script: &Script) -> Vec<OpResult> {
        script.ops.iter().map(|op| self.apply(op)).collect()
    }

    /// The result of one call.
    ///
    /// # Panics
    ///
    /// On operations outside the model (clock reads of the process and thread
    /// clocks, `Args`, `Environ`, `FdWrite`, `ProcExit`); the strategies never
    /// generate them.
    pub fn apply(&mut self, op: &Op) -> OpResult {
        match *op {
            Op::ClockTimeGet { id: 0, .. } => ok(Output::Time(self.clock.read_wall())),
            Op::ClockTimeGet { id: 1, .. } => ok(Output::Time(self.clock.read_monotonic())),
            Op::ClockResGet { id: 0 | 1 } => ok(Output::Time(MODEL_RESOLUTION_NANOS)),
            Op::RandomGet { len } => {
                ok(Output::Bytes(stream_bytes(&mut self.secure, len as usize)))
            }
            Op::SchedYield => ok(Output::None),
            Op::PollOneoff { ref subs } => match self.poll_oneoff(subs) {
                Ok(events) => ok(Output::Events(events)),
                Err(errno) => failed(errno, Output::Events(Vec::new())),
            },
            ref other => panic!("operation outside the model: {other:?}"),
        }
    }

    /// `poll_oneoff`, rules 1-5 of `src/sched/poll.rs`. A clock id above 3
    /// is not a `clockid` at all: `EINVAL` where that subscription is read.
    pub fn poll_oneoff(&mut self, subs: &[Subscription]) -> Result<Vec<Event>, u16> {
        // Rule 1.
        if subs.is_empty() {
            return Err(errno::INVAL);
        }
        // Rule 2: one relative clock of any (valid) id is a sleep; no read.
        if let [
            Subscription::Clock {
                userdata,
                id,
                timeout,
                absolute: false,
            },
        ] = *subs
        {
            if id > 3 {
                return Err(errno::INVAL);
            }
            self.clock.sleep(timeout);
            return Ok(vec![clock_event(userdata)]);
        }
        // Rule 3: deadlines, in order; errors end the call where they occur.
        let mut timers: Vec<(u64, u128)> = Vec::new();
        let mut reads = Vec::new();
        let mut writes = Vec::new();
        for sub in subs {
            match *sub {
                Subscription::Clock {
                    userdata,
                    id,
                    timeout,
                    absolute,
                } => {
                    let deadline = match (id, absolute) {
                        (1, true) => u128::from(timeout),
                        (0 | 1, false) => {
                            u128::from(self.clock.read_monotonic()) + u128::from(timeout)
                        }
                        (0, true) => return Err(errno::NOTSUP),
                        _ => return Err(errno::INVAL),
                    };
                    timers.push((userdata, deadline));
                }
                // Only stdin (fd 0) can be read and only stdout and stderr
                // (fds 1, 2) written: scripts never close or renumber them.
                Subscription::FdRead { fd, .. } if fd != 0 => return Err(errno::BADF),
                Subscription::FdWrite { fd, .. } if fd != 1 && fd != 2 => {
                    return Err(errno::BADF);
                }
                Subscription::FdRead { userdata, .. } => reads.push(userdata),
                Subscription::FdWrite { userdata, .. } => writes.push(userdata),
            }
        }
        // Rule 4.
        let any_fd = !reads.is_empty() || !writes.is_empty();
        if !any_fd && let Some(earliest) = timers.iter().map(|&(_, d)| d).min() {
            self.clock
                .advance_to(u64::try_from(earliest).unwrap_or(u64::MAX));
        }
        // Rule 5: one read per clock subscription; clocks, reads, writes.
        let mut events = Vec::new();
        for &(userdata, deadline) in &timers {
            if u128::from(self.clock.read_monotonic()) >= deadline {
                events.push(clock_event(userdata));
            }
        }
        events.extend(reads.iter().map(|&u| fd_event(u, 1)));
        events.extend(writes.iter().map(|&u| fd_event(u, 2)));
        Ok(events)
    }

    /// What the preview1 build of the `p2_timers` program prints for `op`:
    /// its operations are the preview1 calls of the program's table.
    pub fn timer_op(&mut self, op: &TimerOp) -> String {
        let clock = |userdata: u64, timer: Timer| {
            let (timeout, absolute) = match timer {
                Timer::Duration(d) => (d, false),
                Timer::Instant(t) => (t, true),
            };
            Subscription::Clock {
                userdata,
                id: 1,
                timeout,
                absolute,
            }
        };
        let fired = |events: &[Event]| {
            let mut fired: Vec<u64> = events
                .iter()
                .filter(|e| e.kind == 0)
                .map(|e| e.userdata)
                .collect();
            fired.sort_unstable();
            fired
        };
        match op {
            TimerOp::Now => format!("now {}", self.clock.read_monotonic()),
            TimerOp::Wall => {
                let wall = self.clock.read_wall();
                format!("wall {} {}", wall / 1_000_000_000, wall % 1_000_000_000)
            }
            TimerOp::Res => format!("res {MODEL_RESOLUTION_NANOS} {MODEL_RESOLUTION_NANOS}"),
            TimerOp::Sleep(d) => match self.poll_oneoff(&[clock(0, Timer::Duration(*d))]) {
                Ok(_) => "slept".to_string(),
                Err(e) => format!("sleep errno {e}"),
            },
            TimerOp::Poll(timers) => {
                let subs: Vec<_> = (0u64..).zip(timers).map(|(i, &t)| clock(i, t)).collect();
                match self.poll_oneoff(&subs) {
                    Ok(events) => std::iter::once("poll".to_string())
                        .chain(fired(&events).iter().map(u64::to_string))
                        .collect::<Vec<_>>()
                        .join(" "),
                    Err(e) => format!("poll errno {e}"),
                }
            }
            TimerOp::Ready(timer) => {
                let write = Subscription::FdWrite { userdata: 1, fd: 1 };
                match self.poll_oneoff(&[clock(0, *timer), write]) {
                    Ok(events) => format!("ready {}", fired(&events).contains(&0)),
                    Err(e) => format!("ready errno {e}"),
                }
            }
            TimerOp::Random(n) => format!(
                "random {}",
                hex(&stream_bytes(&mut self.secure, *n as usize))
            ),
            TimerOp::U64 | TimerOp::Insecure(_) | TimerOp::InsecureU64 | TimerOp::InsecureSeed => {
                format!("{} unsupported", op.name())
            }
        }
    }
}

/// Lower-case hex, as the guest programs print bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The preview2 model of the `p2_timers` program: one timeline, the secure
/// and insecure streams and the insecure seed.
///
/// Timer rules (`src/sched/p2.rs`): `subscribe-duration(d)` has deadline
/// `now + d` (saturating) and is not a clock read; `subscribe-instant(t)` has
/// deadline `t`; a pollable whose deadline is reached is ready; `poll`: if
/// nothing is ready, time advances to the earliest deadline and exactly the
/// timers due then are ready; `block` is `poll` of one; `ready` never moves
/// time; under `Frozen` every timer is ready at once and time stays.
#[derive(Clone, Debug)]
pub struct P2Model {
    /// The timeline.
    pub clock: ClockModel,
    secure: RefRng,
    insecure: RefRng,
    insecure_seed: (u64, u64),
}

impl P2Model {
    /// A context built from `config`, before any call.
    pub fn new(config: &ModelConfig) -> Self {
        P2Model {
            clock: ClockModel::new(config.policy, config.wall_start, config.monotonic_start),
            secure: secure_rng(config.seed),
            insecure: insecure_rng(config.seed),
            insecure_seed: insecure_seed(config.seed),
        }
    }

    fn deadline(&self, timer: Timer) -> u64 {
        match timer {
            Timer::Duration(d) => self.clock.peek().saturating_add(d),
            Timer::Instant(t) => t,
        }
    }

    /// `poll` over timers with these deadlines: the indices that are ready.
    fn poll(&mut self, deadlines: &[u64]) -> Vec<usize> {
        if self.clock.policy() == ClockPolicy::Frozen {
            return (0..deadlines.len()).collect();
        }
        let due = |now: u64| -> Vec<usize> {
            (0..deadlines.len())
                .filter(|&i| deadlines[i] <= now)
                .collect()
        };
        let ready = due(self.clock.peek());
        if !ready.is_empty() {
            return ready;
        }
        if let Some(&earliest) = deadlines.iter().min() {
            self.clock.advance_to(earliest);
        }
        due(self.clock.peek())
    }

    /// The line the program prints for `op`.
    pub fn apply(&mut self, op: &TimerOp) -> String {
        match op {
            TimerOp::Now => format!("now {}", self.clock.read_monotonic()),
            TimerOp::Wall => {
                let wall = self.clock.read_wall();
                format!("wall {} {}", wall / 1_000_000_000, wall % 1_000_000_000)
            }
            TimerOp::Res => format!("res {MODEL_RESOLUTION_NANOS} {MODEL_RESOLUTION_NANOS}"),
            TimerOp::Sleep(d) => {
                let deadline = self.deadline(Timer::Duration(*d));
                self.poll(&[deadline]);
                "slept".to_string()
            }
            TimerOp::Poll(timers) => {
                let deadlines: Vec<u64> = timers.iter().map(|&t| self.deadline(t)).collect();
                std::iter::once("poll".to_string())
                    .chain(self.poll(&deadlines).iter().map(usize::to_string))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            TimerOp::Ready(timer) => {
                let ready = self.clock.policy() == ClockPolicy::Frozen
                    || self.deadline(*timer) <= self.clock.peek();
                format!("ready {ready}")
            }
            TimerOp::Random(n) => format!(
                "random {}",
                hex(&stream_bytes(&mut self.secure, *n as usize))
            ),
            TimerOp::U64 => format!("u64 {}", self.secure.next_u64()),
            TimerOp::Insecure(n) => format!(
                "insecure {}",
                hex(&stream_bytes(&mut self.insecure, *n as usize))
            ),
            TimerOp::InsecureU64 => format!("insecure-u64 {}", self.insecure.next_u64()),
            TimerOp::InsecureSeed => {
                let (low, high) = self.insecure_seed;
                format!("insecure-seed {low} {high}")
            }
        }
    }

    /// The program's whole output for `ops`.
    pub fn run(&mut self, ops: &[TimerOp]) -> String {
        ops.iter().map(|op| self.apply(op) + "\n").collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_reads_then_advances() {
        let mut c = ClockModel::new(
            ClockPolicy::Tick(Duration::from_nanos(5)),
            Duration::ZERO,
            0,
        );
        assert_eq!(c.read_monotonic(), 0);
        assert_eq!(c.read_wall(), 5);
        assert_eq!(c.peek(), 10);
    }

    #[test]
    fn p2_poll_advances_to_the_earliest_deadline_only_when_nothing_is_ready() {
        let mut m = P2Model::new(&ModelConfig::default());
        assert_eq!(
            m.apply(&TimerOp::Poll(vec![
                Timer::Duration(30),
                Timer::Duration(10)
            ])),
            "poll 1"
        );
        assert_eq!(m.clock.peek(), 10);
        assert_eq!(
            m.apply(&TimerOp::Poll(vec![Timer::Instant(5), Timer::Duration(1)])),
            "poll 0"
        );
        assert_eq!(m.clock.peek(), 10);
    }
}
