//! Busy-waits on the monotonic clock until 1 ms has passed, giving up after
//! 100,000 reads: it finishes by time only if reads advance the clock (the
//! `Tick` policy); otherwise it gives up, the same way every run.
use test_programs_guests::*;

fn main() {
    let start = monotonic_now();
    let mut reads = 1u64;
    while monotonic_now() - start < 1_000_000 {
        reads += 1;
        if reads == 100_000 {
            println!("gave up after {reads} reads");
            return;
        }
    }
    println!("reads {reads}");
}
