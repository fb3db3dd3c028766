//! Prints two 1-byte reads and one 32-byte read of the secure random source.
use test_programs_guests::*;

fn main() {
    let a = secure_random(1)[0];
    let b = secure_random(1)[0];
    println!("first {a} second {b}");
    println!("then {}", hex(&secure_random(32)));
    #[cfg(target_env = "p2")]
    {
        let (lo, hi) = wasip2::random::insecure_seed::insecure_seed();
        println!("insecure-seed {lo:016x}{hi:016x}");
        println!("insecure {}", hex(&wasip2::random::insecure::get_insecure_random_bytes(16)));
    }
}
