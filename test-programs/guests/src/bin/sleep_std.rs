//! `std::thread::sleep(5 s)`, printing both clocks before and after.
use test_programs_guests::*;

fn main() {
    let (m0, w0) = (monotonic_now(), wall_now());
    let start = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_secs(5));
    let elapsed = start.elapsed();
    let (m1, w1) = (monotonic_now(), wall_now());
    println!("before monotonic={m0} wall={w0}");
    println!("after monotonic={m1} wall={w1}");
    println!("elapsed {}", elapsed.as_nanos());
    assert!(elapsed >= std::time::Duration::from_secs(5));
}
