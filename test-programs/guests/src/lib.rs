//! Helpers shared by the guest programs: raw preview1 calls on p1, the
//! preview2 bindings on p2, behind one small API.

/// `n` bytes from the secure random source (`random_get` /
/// `wasi:random/random.get-random-bytes`), requested in one call.
pub fn secure_random(n: usize) -> Vec<u8> {
    #[cfg(target_env = "p1")]
    {
        let mut buf = vec![0u8; n];
        unsafe { wasip1::random_get(buf.as_mut_ptr(), n).expect("random_get") };
        buf
    }
    #[cfg(target_env = "p2")]
    {
        wasip2::random::random::get_random_bytes(n as u64)
    }
}

/// Monotonic clock reading in nanoseconds.
pub fn monotonic_now() -> u64 {
    #[cfg(target_env = "p1")]
    {
        unsafe { wasip1::clock_time_get(wasip1::CLOCKID_MONOTONIC, 1).expect("clock") }
    }
    #[cfg(target_env = "p2")]
    {
        wasip2::clocks::monotonic_clock::now()
    }
}

/// Wall clock reading in nanoseconds since the epoch.
pub fn wall_now() -> u64 {
    #[cfg(target_env = "p1")]
    {
        unsafe { wasip1::clock_time_get(wasip1::CLOCKID_REALTIME, 1).expect("clock") }
    }
    #[cfg(target_env = "p2")]
    {
        let t = wasip2::clocks::wall_clock::now();
        t.seconds * 1_000_000_000 + u64::from(t.nanoseconds)
    }
}

/// Clock resolutions (monotonic, wall) in nanoseconds.
pub fn resolutions() -> (u64, u64) {
    #[cfg(target_env = "p1")]
    unsafe {
        (
            wasip1::clock_res_get(wasip1::CLOCKID_MONOTONIC).expect("res"),
            wasip1::clock_res_get(wasip1::CLOCKID_REALTIME).expect("res"),
        )
    }
    #[cfg(target_env = "p2")]
    {
        let w = wasip2::clocks::wall_clock::resolution();
        (
            wasip2::clocks::monotonic_clock::resolution(),
            w.seconds * 1_000_000_000 + u64::from(w.nanoseconds),
        )
    }
}

/// Hex encoding for printing bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
