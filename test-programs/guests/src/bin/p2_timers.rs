//! Runs a timer / clock / random script read from stdin, one operation per
//! line, and prints one result line per operation. Property tests generate
//! the scripts and compare the output with a model.
//!
//! | line | preview2 | preview1 | output |
//! |---|---|---|---|
//! | `now` | `monotonic-clock.now` | `clock_time_get(monotonic)` | `now <ns>` |
//! | `wall` | `wall-clock.now` | `clock_time_get(realtime)` | `wall <s> <ns>` |
//! | `res` | both `resolution`s | both `clock_res_get`s | `res <mono ns> <wall ns>` |
//! | `sleep <ns>` | `subscribe-duration` + `block` | one relative clock `poll_oneoff` | `slept` |
//! | `poll <t> ...` | one pollable per `t`, then `poll` | one clock subscription per `t` (userdata = index) | `poll <ready indices, sorted>` |
//! | `ready <t>` | the pollable's `ready` | `poll_oneoff` of the clock and a stdout write subscription | `ready true\|false` |
//! | `random <n>` | `get-random-bytes` | `random_get` | `random <hex>` |
//! | `u64` | `get-random-u64` | unsupported | `u64 <n>` |
//! | `insecure <n>` | `get-insecure-random-bytes` | unsupported | `insecure <hex>` |
//! | `insecure-u64` | `get-insecure-random-u64` | unsupported | `insecure-u64 <n>` |
//! | `insecure-seed` | `insecure-seed` | unsupported | `insecure-seed <lo> <hi>` |
//!
//! A timer `t` is `d:<ns>` (a duration: `subscribe-duration` / a relative
//! monotonic subscription) or `i:<ns>` (an instant: `subscribe-instant` / an
//! absolute monotonic subscription). An operation this target cannot perform
//! prints `<op> unsupported`, a failed preview1 call `<op> errno <n>`, and a
//! line that does not parse `bad <line>`.
use std::io::Read as _;
use test_programs_guests::*;

/// One timer of a `poll` or `ready` line.
#[derive(Clone, Copy)]
enum Timer {
    Duration(u64),
    Instant(u64),
}

fn parse_timer(word: &str) -> Option<Timer> {
    let (kind, value) = word.split_once(':')?;
    let value = value.parse().ok()?;
    match kind {
        "d" => Some(Timer::Duration(value)),
        "i" => Some(Timer::Instant(value)),
        _ => None,
    }
}

fn main() {
    let mut script = String::new();
    std::io::stdin()
        .read_to_string(&mut script)
        .expect("read stdin");
    for line in script.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let result = match words.as_slice() {
            [] => continue,
            ["now"] => Some(format!("now {}", monotonic_now())),
            ["wall"] => Some(wall()),
            ["res"] => {
                let (mono, wall) = resolutions();
                Some(format!("res {mono} {wall}"))
            }
            ["sleep", ns] => ns.parse().ok().map(sleep),
            ["poll", timers @ ..] if !timers.is_empty() => timers
                .iter()
                .map(|w| parse_timer(w))
                .collect::<Option<Vec<_>>>()
                .map(|t| poll(&t)),
            ["ready", timer] => parse_timer(timer).map(ready),
            ["random", n] => n
                .parse()
                .ok()
                .map(|n| format!("random {}", hex(&secure_random(n)))),
            [op @ ("u64" | "insecure-u64" | "insecure-seed")] => Some(random_op(op, None)),
            [op @ "insecure", n] => n.parse().ok().map(|n| random_op(op, Some(n))),
            _ => None,
        };
        match result {
            Some(out) => println!("{out}"),
            None => println!("bad {line}"),
        }
    }
}

/// `wall <seconds> <nanoseconds>`.
fn wall() -> String {
    #[cfg(target_env = "p1")]
    {
        match unsafe { wasip1::clock_time_get(wasip1::CLOCKID_REALTIME, 1) } {
            Ok(ns) => format!("wall {} {}", ns / 1_000_000_000, ns % 1_000_000_000),
            Err(e) => format!("wall errno {}", e.raw()),
        }
    }
    #[cfg(target_env = "p2")]
    {
        let t = wasip2::clocks::wall_clock::now();
        format!("wall {} {}", t.seconds, t.nanoseconds)
    }
}

#[cfg(target_env = "p1")]
fn clock_sub(userdata: u64, timer: Timer) -> wasip1::Subscription {
    let (timeout, flags) = match timer {
        Timer::Duration(d) => (d, 0),
        Timer::Instant(t) => (t, wasip1::SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME),
    };
    wasip1::Subscription {
        userdata,
        u: wasip1::SubscriptionU {
            tag: wasip1::EVENTTYPE_CLOCK.raw(),
            u: wasip1::SubscriptionUU {
                clock: wasip1::SubscriptionClock {
                    id: wasip1::CLOCKID_MONOTONIC,
                    timeout,
                    precision: 0,
                    flags,
                },
            },
        },
    }
}

/// Runs `poll_oneoff` and returns the userdata of the clock events, sorted.
#[cfg(target_env = "p1")]
fn poll_oneoff(subs: &[wasip1::Subscription]) -> Result<Vec<u64>, wasip1::Errno> {
    let empty = wasip1::Event {
        userdata: 0,
        error: wasip1::ERRNO_SUCCESS,
        type_: wasip1::EVENTTYPE_CLOCK,
        fd_readwrite: wasip1::EventFdReadwrite {
            nbytes: 0,
            flags: 0,
        },
    };
    let mut events = vec![empty; subs.len()];
    let n = unsafe { wasip1::poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len())? };
    let mut fired: Vec<u64> = events[..n]
        .iter()
        .filter(|e| e.type_ == wasip1::EVENTTYPE_CLOCK)
        .map(|e| e.userdata)
        .collect();
    fired.sort_unstable();
    Ok(fired)
}

fn sleep(ns: u64) -> String {
    #[cfg(target_env = "p1")]
    {
        match poll_oneoff(&[clock_sub(0, Timer::Duration(ns))]) {
            Ok(_) => "slept".to_string(),
            Err(e) => format!("sleep errno {}", e.raw()),
        }
    }
    #[cfg(target_env = "p2")]
    {
        wasip2::clocks::monotonic_clock::subscribe_duration(ns).block();
        "slept".to_string()
    }
}

#[cfg(target_env = "p2")]
fn pollable(timer: Timer) -> wasip2::io::poll::Pollable {
    use wasip2::clocks::monotonic_clock::{subscribe_duration, subscribe_instant};
    match timer {
        Timer::Duration(d) => subscribe_duration(d),
        Timer::Instant(t) => subscribe_instant(t),
    }
}

fn poll(timers: &[Timer]) -> String {
    #[cfg(target_env = "p1")]
    let ready: Result<Vec<u64>, String> = {
        let subs: Vec<_> = (0u64..)
            .zip(timers)
            .map(|(i, &t)| clock_sub(i, t))
            .collect();
        poll_oneoff(&subs).map_err(|e| format!("poll errno {}", e.raw()))
    };
    #[cfg(target_env = "p2")]
    let ready: Result<Vec<u64>, String> = {
        let pollables: Vec<_> = timers.iter().map(|&t| pollable(t)).collect();
        let refs: Vec<&wasip2::io::poll::Pollable> = pollables.iter().collect();
        let mut ready: Vec<u64> = wasip2::io::poll::poll(&refs)
            .into_iter()
            .map(u64::from)
            .collect();
        ready.sort_unstable();
        Ok(ready)
    };
    match ready {
        Ok(ready) => std::iter::once("poll".to_string())
            .chain(ready.iter().map(u64::to_string))
            .collect::<Vec<_>>()
            .join(" "),
        Err(e) => e,
    }
}

fn ready(timer: Timer) -> String {
    #[cfg(target_env = "p1")]
    {
        // A stdout write subscription is ready at once, so this never waits.
        let write = wasip1::Subscription {
            userdata: 1,
            u: wasip1::SubscriptionU {
                tag: wasip1::EVENTTYPE_FD_WRITE.raw(),
                u: wasip1::SubscriptionUU {
                    fd_write: wasip1::SubscriptionFdReadwrite { file_descriptor: 1 },
                },
            },
        };
        match poll_oneoff(&[clock_sub(0, timer), write]) {
            Ok(fired) => format!("ready {}", fired.contains(&0)),
            Err(e) => format!("ready errno {}", e.raw()),
        }
    }
    #[cfg(target_env = "p2")]
    {
        format!("ready {}", pollable(timer).ready())
    }
}

fn random_op(op: &str, len: Option<u64>) -> String {
    #[cfg(target_env = "p1")]
    {
        let _ = len;
        format!("{op} unsupported")
    }
    #[cfg(target_env = "p2")]
    {
        use wasip2::random::{insecure, insecure_seed, random};
        match (op, len) {
            ("u64", _) => format!("u64 {}", random::get_random_u64()),
            ("insecure-u64", _) => {
                format!("insecure-u64 {}", insecure::get_insecure_random_u64())
            }
            ("insecure-seed", _) => {
                let (lo, hi) = insecure_seed::insecure_seed();
                format!("insecure-seed {lo} {hi}")
            }
            (_, Some(n)) => format!("insecure {}", hex(&insecure::get_insecure_random_bytes(n))),
            _ => format!("bad {op}"),
        }
    }
}
