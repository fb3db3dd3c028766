//! Busy-waits on the monotonic clock until 1 ms has passed: terminates only if
//! reads advance time (the `Tick` policy).
use test_programs_guests::*;

fn main() {
    let start = monotonic_now();
    let mut reads = 1u64;
    while monotonic_now() - start < 1_000_000 {
        reads += 1;
    }
    println!("reads {reads}");
}
