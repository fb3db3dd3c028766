//! Waits on several timers at once and prints which fired, in order.
//! p1: `poll_oneoff` with two relative monotonic timers (3 s, 1 s) and an
//! absolute one; p2: `subscribe-duration` / `subscribe-instant` + `poll`.
use test_programs_guests::*;

#[cfg(target_env = "p1")]
fn main() {
    use wasip1::*;
    let clock = |userdata, timeout, flags| Subscription {
        userdata,
        u: SubscriptionU {
            tag: EVENTTYPE_CLOCK.raw(),
            u: SubscriptionUU {
                clock: SubscriptionClock {
                    id: CLOCKID_MONOTONIC,
                    timeout,
                    precision: 0,
                    flags,
                },
            },
        },
    };
    let subs = [
        clock(30, 3_000_000_000, 0),
        clock(10, 1_000_000_000, 0),
        clock(99, 10_000_000_000, SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME),
    ];
    for round in 0..2 {
        let mut events = [Event {
            userdata: 0,
            error: ERRNO_SUCCESS,
            type_: EVENTTYPE_CLOCK,
            fd_readwrite: EventFdReadwrite { nbytes: 0, flags: 0 },
        }; 3];
        let n = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len()) }
            .expect("poll_oneoff");
        let fired: Vec<u64> = events[..n].iter().map(|e| e.userdata).collect();
        println!("round {round} fired {fired:?} at {}", monotonic_now());
    }
    // A write subscription on stdout is ready at once; time does not move.
    let before = monotonic_now();
    let subs = [
        clock(1, 1_000_000_000, 0),
        Subscription {
            userdata: 2,
            u: SubscriptionU {
                tag: EVENTTYPE_FD_WRITE.raw(),
                u: SubscriptionUU { fd_write: SubscriptionFdReadwrite { file_descriptor: 1 } },
            },
        },
    ];
    let mut events = [Event {
        userdata: 0,
        error: ERRNO_SUCCESS,
        type_: EVENTTYPE_CLOCK,
        fd_readwrite: EventFdReadwrite { nbytes: 0, flags: 0 },
    }; 2];
    let n = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2) }.expect("poll_oneoff");
    let fired: Vec<u64> = events[..n].iter().map(|e| e.userdata).collect();
    println!("fd round fired {fired:?} moved {}", monotonic_now() - before);
}

#[cfg(target_env = "p2")]
fn main() {
    use wasip2::clocks::monotonic_clock::{subscribe_duration, subscribe_instant};
    use wasip2::io::poll::poll;
    let slow = subscribe_duration(3_000_000_000);
    let fast = subscribe_duration(1_000_000_000);
    let absolute = subscribe_instant(10_000_000_000);
    for round in 0..2 {
        let ready = poll(&[&slow, &fast, &absolute]);
        println!("round {round} ready {ready:?} at {}", monotonic_now());
    }
    absolute.block();
    println!("block at {}", monotonic_now());
    println!("ready-check {}", subscribe_duration(1).ready());
}
