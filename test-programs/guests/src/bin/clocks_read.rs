//! Reads both clocks and their resolutions; with nothing sleeping, repeated
//! reads under the default policy return the same values.
use test_programs_guests::*;

fn main() {
    let (mono_res, wall_res) = resolutions();
    println!("resolution monotonic={mono_res} wall={wall_res}");
    let (m1, w1) = (monotonic_now(), wall_now());
    let (m2, w2) = (monotonic_now(), wall_now());
    println!("monotonic {m1} {m2}");
    println!("wall {w1} {w2}");
    assert!(m2 >= m1, "monotonic clock went backwards");
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch");
    println!("std wall {}", since_epoch.as_nanos());
}
