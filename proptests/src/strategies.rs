//! Named strategies for the generated configurations and operation sequences.
//!
//! Generated preview1 operations are always in their normalized form (see
//! `Op::normalized`), so the model sees exactly the calls the guest makes.

use crate::model::{MODEL_INSECURE_DOMAIN, ModelConfig};
use crate::timers::{Timer, TimerOp};
use deterministic_wasi_ctx::ClockPolicy;
use deterministic_wasi_ctx::script::{MAX_RANDOM_LEN, MAX_SUBSCRIPTIONS, Op, Script, Subscription};
use proptest::collection::vec;
use proptest::prelude::*;
use std::time::Duration;

/// Ten seconds in nanoseconds: the scale of "ordinary" generated times.
const TEN_SECONDS: u64 = 10_000_000_000;

/// A seed: the special values 0, 42 (the default), `u64::MAX` and the
/// insecure domain (which makes the insecure stream's seed 0), or any `u64`.
pub fn seed() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0),
        1 => Just(42),
        1 => Just(u64::MAX),
        1 => Just(MODEL_INSECURE_DOMAIN),
        8 => any::<u64>(),
    ]
}

/// Two different seeds.
pub fn distinct_seeds() -> impl Strategy<Value = (u64, u64)> {
    (seed(), seed()).prop_filter("the two seeds must differ", |(a, b)| a != b)
}

/// One `random_get` length: 0, short, up to [`MAX_RANDOM_LEN`], or exactly it.
pub fn random_len() -> impl Strategy<Value = u32> {
    prop_oneof![
        2 => Just(0u32),
        4 => 1..=16u32,
        3 => 17..=MAX_RANDOM_LEN,
        1 => Just(MAX_RANDOM_LEN),
    ]
}

/// A sequence of `random_get` lengths.
pub fn random_lens() -> impl Strategy<Value = Vec<u32>> {
    vec(random_len(), 0..10)
}

/// Lengths beyond what one script operation asks for (up to 256 KiB).
pub fn large_random_lens() -> impl Strategy<Value = Vec<u32>> {
    vec(
        prop_oneof![1 => Just(0u32), 4 => (MAX_RANDOM_LEN + 1)..=(256 << 10)],
        1..4,
    )
}

/// A `random_get`-only script.
pub fn random_script() -> impl Strategy<Value = Script> {
    random_lens().prop_map(|lens| Script {
        ops: lens.into_iter().map(|len| Op::RandomGet { len }).collect(),
    })
}

/// The `Tick` step: zero, nanoseconds, up to 10 s, or saturating values.
pub fn tick_step() -> impl Strategy<Value = Duration> {
    prop_oneof![
        1 => Just(Duration::ZERO),
        3 => (1..=1_000u64).prop_map(Duration::from_nanos),
        3 => (1..=TEN_SECONDS).prop_map(Duration::from_nanos),
        1 => Just(Duration::from_nanos(u64::MAX)),
        1 => Just(Duration::MAX),
    ]
}

/// A clock policy: each of the three, `Tick` with any [`tick_step`].
pub fn policy() -> impl Strategy<Value = ClockPolicy> {
    prop_oneof![
        Just(ClockPolicy::Frozen),
        Just(ClockPolicy::AdvanceOnSleep),
        tick_step().prop_map(ClockPolicy::Tick),
    ]
}

/// The wall-clock start: the epoch, 2000-01-01, any `u64` of nanoseconds,
/// close to the saturation point, or beyond it.
pub fn wall_start() -> impl Strategy<Value = Duration> {
    prop_oneof![
        2 => Just(Duration::ZERO),
        1 => Just(Duration::from_secs(946_684_800)),
        3 => any::<u64>().prop_map(Duration::from_nanos),
        1 => (0..=TEN_SECONDS).prop_map(|b| Duration::from_nanos(u64::MAX - b)),
        1 => Just(Duration::MAX),
    ]
}

/// The monotonic start: 0, small, any, or close to `u64::MAX`.
pub fn monotonic_start() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        2 => 0..=TEN_SECONDS,
        2 => any::<u64>(),
        1 => (0..=TEN_SECONDS).prop_map(|b| u64::MAX - b),
    ]
}

/// A whole model configuration.
pub fn model_config() -> impl Strategy<Value = ModelConfig> {
    (seed(), wall_start(), monotonic_start(), policy()).prop_map(
        |(seed, wall_start, monotonic_start, policy)| ModelConfig {
            seed,
            wall_start,
            monotonic_start,
            policy,
        },
    )
}

/// A duration in nanoseconds: 0, short, up to 10 s, huge, or `u64::MAX`.
pub fn nanos() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        4 => 1..=1_000u64,
        4 => 1..=TEN_SECONDS,
        1 => (u64::MAX / 2)..=u64::MAX,
        1 => Just(u64::MAX),
    ]
}

/// An absolute monotonic deadline around a timeline starting at
/// `monotonic_start`: 0, `u64::MAX`, any, just before or after the start.
pub fn deadline(monotonic_start: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
        2 => (0..=TEN_SECONDS).prop_map(move |b| monotonic_start.saturating_sub(b)),
        4 => (0..=TEN_SECONDS).prop_map(move |a| monotonic_start.saturating_add(a)),
    ]
}

/// A `userdata` value: small (readable when shrunk) or any.
pub fn userdata() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0..16u64, 1 => any::<u64>()]
}

/// A clock id for a relative subscription: mostly monotonic and realtime,
/// rarely the process / thread clocks (`EINVAL` in the general case) or an
/// id that is not a clock (`EINVAL`), so that most lists are valid.
pub fn relative_clock_id() -> impl Strategy<Value = u32> {
    prop_oneof![16 => Just(1u32), 8 => Just(0u32), 1 => 2..=3u32, 1 => 4..=9u32]
}

/// A clock id for an absolute subscription: mostly monotonic, rarely
/// realtime (`ENOTSUP`) or another id (`EINVAL`).
pub fn absolute_clock_id() -> impl Strategy<Value = u32> {
    prop_oneof![24 => Just(1u32), 1 => Just(0u32), 1 => 2..=9u32]
}

/// A descriptor for an fd subscription: stdio, rarely one that does not
/// exist (`EBADF`).
pub fn poll_fd() -> impl Strategy<Value = u32> {
    prop_oneof![24 => 0..=2u32, 1 => 3..=64u32]
}

/// One `poll_oneoff` subscription.
pub fn subscription(monotonic_start: u64) -> impl Strategy<Value = Subscription> {
    let relative =
        (userdata(), relative_clock_id(), nanos()).prop_map(|(userdata, id, timeout)| {
            Subscription::Clock {
                userdata,
                id,
                timeout,
                absolute: false,
            }
        });
    let absolute = (userdata(), absolute_clock_id(), deadline(monotonic_start)).prop_map(
        |(userdata, id, timeout)| Subscription::Clock {
            userdata,
            id,
            timeout,
            absolute: true,
        },
    );
    prop_oneof![
        4 => relative,
        3 => absolute,
        1 => (userdata(), poll_fd()).prop_map(|(userdata, fd)| Subscription::FdRead { userdata, fd }),
        1 => (userdata(), poll_fd()).prop_map(|(userdata, fd)| Subscription::FdWrite { userdata, fd }),
    ]
}

/// A subscription list: usually 1 to [`MAX_SUBSCRIPTIONS`], sometimes empty.
pub fn subscriptions(monotonic_start: u64) -> impl Strategy<Value = Vec<Subscription>> {
    prop_oneof![
        1 => Just(Vec::new()),
        12 => vec(subscription(monotonic_start), 1..=MAX_SUBSCRIPTIONS),
    ]
}

/// A sleep: `poll_oneoff` with one relative clock subscription.
pub fn sleep_op() -> impl Strategy<Value = Op> {
    (userdata(), 0..=3u32, nanos()).prop_map(|(userdata, id, timeout)| Op::PollOneoff {
        subs: vec![Subscription::Clock {
            userdata,
            id,
            timeout,
            absolute: false,
        }],
    })
}

/// A clock read (`clock_time_get` of the realtime or monotonic clock, any
/// precision).
pub fn clock_read() -> impl Strategy<Value = Op> {
    (0..=1u32, any::<u64>()).prop_map(|(id, precision)| Op::ClockTimeGet { id, precision })
}

/// One operation of the clock group: read wall / monotonic, `res_get`, sleep,
/// general `poll_oneoff`, `sched_yield`, and a short `random_get` (which must
/// not disturb time).
pub fn clock_op(monotonic_start: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => clock_read(),
        1 => (0..=1u32).prop_map(|id| Op::ClockResGet { id }),
        3 => sleep_op(),
        4 => subscriptions(monotonic_start).prop_map(|subs| Op::PollOneoff { subs }),
        1 => Just(Op::SchedYield),
        1 => (0..=8u32).prop_map(|len| Op::RandomGet { len }),
    ]
}

/// A configuration and a clock-group script for it.
pub fn clock_case() -> impl Strategy<Value = (ModelConfig, Script)> {
    model_config().prop_flat_map(|config| {
        (
            Just(config),
            vec(clock_op(config.monotonic_start), 0..24).prop_map(|ops| Script { ops }),
        )
    })
}

/// A configuration and a script of monotonic reads around sleeps and
/// single-timer waits: `[read, wait, read]` per generated wait, so each
/// wait's effect is measured directly.
pub fn sleep_case() -> impl Strategy<Value = (ModelConfig, Script)> {
    model_config().prop_flat_map(|config| {
        let wait = prop_oneof![
            2 => sleep_op(),
            // Two relative timers: the general path, which reads the clock.
            1 => (userdata(), nanos()).prop_map(|(userdata, timeout)| Op::PollOneoff {
                subs: vec![
                    Subscription::Clock { userdata, id: 1, timeout, absolute: false },
                    Subscription::Clock { userdata: userdata ^ 1, id: 1, timeout: u64::MAX, absolute: false },
                ],
            }),
            1 => (userdata(), deadline(config.monotonic_start)).prop_map(|(userdata, timeout)| {
                Op::PollOneoff {
                    subs: vec![Subscription::Clock { userdata, id: 1, timeout, absolute: true }],
                }
            }),
        ];
        let read = Op::ClockTimeGet { id: 1, precision: 0 };
        (
            Just(config),
            vec(wait, 1..8).prop_map(move |waits| Script {
                ops: waits
                    .into_iter()
                    .flat_map(|w| [read.clone(), w, read.clone()])
                    .collect(),
            }),
        )
    })
}

/// A configuration on the edge of saturation (starts near `u64::MAX`,
/// `Duration::MAX` wall start, huge ticks) and a script of extreme waits:
/// durations near `u64::MAX`, absolute deadlines at 0, in the past and at
/// `u64::MAX`.
pub fn extreme_case() -> impl Strategy<Value = (ModelConfig, Script)> {
    let config = (
        seed(),
        prop_oneof![
            Just(Duration::MAX),
            (0..=1_000u64).prop_map(|b| Duration::from_nanos(u64::MAX - b))
        ],
        prop_oneof![Just(0u64), (0..=1_000u64).prop_map(|b| u64::MAX - b)],
        prop_oneof![
            Just(ClockPolicy::Frozen),
            Just(ClockPolicy::AdvanceOnSleep),
            Just(ClockPolicy::Tick(Duration::MAX)),
            (u64::MAX / 2..=u64::MAX).prop_map(|n| ClockPolicy::Tick(Duration::from_nanos(n))),
        ],
    )
        .prop_map(|(seed, wall_start, monotonic_start, policy)| ModelConfig {
            seed,
            wall_start,
            monotonic_start,
            policy,
        });
    let extreme = prop_oneof![Just(0u64), Just(u64::MAX), (u64::MAX - 1_000)..=u64::MAX];
    let sub = (userdata(), 0..=1u32, extreme.clone(), any::<bool>()).prop_map(
        |(userdata, id, timeout, absolute)| Subscription::Clock {
            userdata,
            id,
            timeout,
            absolute,
        },
    );
    let op = prop_oneof![
        2 => clock_read(),
        2 => vec(sub, 1..=3).prop_map(|subs| Op::PollOneoff { subs }),
    ];
    (config, vec(op, 1..12).prop_map(|ops| Script { ops }))
}

/// A preview2 timer: a duration or an absolute instant around the start.
pub fn timer(monotonic_start: u64) -> impl Strategy<Value = Timer> {
    prop_oneof![
        3 => nanos().prop_map(Timer::Duration),
        2 => deadline(monotonic_start).prop_map(Timer::Instant),
    ]
}

/// One timer/clock operation of the `p2_timers` program.
pub fn timer_clock_op(monotonic_start: u64) -> impl Strategy<Value = TimerOp> {
    prop_oneof![
        3 => Just(TimerOp::Now),
        2 => Just(TimerOp::Wall),
        1 => Just(TimerOp::Res),
        3 => nanos().prop_map(TimerOp::Sleep),
        4 => vec(timer(monotonic_start), 1..=5).prop_map(TimerOp::Poll),
        2 => timer(monotonic_start).prop_map(TimerOp::Ready),
    ]
}

/// One random operation of the `p2_timers` program.
pub fn timer_random_op() -> impl Strategy<Value = TimerOp> {
    prop_oneof![
        3 => random_len().prop_map(TimerOp::Random),
        1 => Just(TimerOp::U64),
        3 => random_len().prop_map(TimerOp::Insecure),
        1 => Just(TimerOp::InsecureU64),
        1 => Just(TimerOp::InsecureSeed),
    ]
}

/// A configuration and a timer/clock script for the `p2_timers` program,
/// with a few random operations mixed in (which must not disturb time).
pub fn timer_case() -> impl Strategy<Value = (ModelConfig, Vec<TimerOp>)> {
    model_config().prop_flat_map(|config| {
        let op = prop_oneof![
            8 => timer_clock_op(config.monotonic_start),
            1 => timer_random_op(),
        ];
        (Just(config), vec(op, 0..16))
    })
}

/// A configuration and a random-only script for the `p2_timers` program.
pub fn timer_random_case() -> impl Strategy<Value = (ModelConfig, Vec<TimerOp>)> {
    (model_config(), vec(timer_random_op(), 0..10))
}
