//! How statuses are classified, fingerprinted and shown.

use super::*;

/// An outcome that ended with `result` after `calls` host calls; every other
/// field is empty.
fn ended(result: wasmtime::Result<()>, calls: u64) -> Outcome {
    let (status, trap_message) = Status::classify(result, calls);
    Outcome {
        status,
        trap_message,
        stdout: Vec::new(),
        stderr: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        fuel_consumed: 0,
        host_calls: calls,
        trace_digest: [0; 32],
        events: Vec::new(),
        memory: None,
        filesystems: Vec::new(),
    }
}

fn host_error(message: &str, calls: u64) -> Fingerprint {
    Fingerprint::of(&ended(
        Err(wasmtime::Error::msg(message.to_string())),
        calls,
    ))
}

fn wasm_trap(trap: wasmtime::Trap, calls: u64) -> Fingerprint {
    Fingerprint::of(&ended(Err(trap.into()), calls))
}

#[test]
fn host_errors_worded_differently_have_one_fingerprint() {
    // The same out-of-bounds pointer, as two backends might word it.
    let a = host_error("pointer not valid: out of bounds", 3);
    let b = host_error("Invalid argument: memory access out of bounds", 3);
    assert_eq!(a.status(), "trap host error after 3 calls");
    assert_eq!(a.digest, b.digest);
    assert_eq!(first_difference(&a, &b, None), None);
    assert_eq!(first_difference(&a, &b, Some(&["status"])), None);
    // The wording is still there to show.
    assert_eq!(
        a.status_text(),
        "trap host error after 3 calls: pointer not valid: out of bounds"
    );
}

#[test]
fn host_errors_after_different_call_counts_differ() {
    let a = host_error("out of bounds", 3);
    let b = host_error("out of bounds", 4);
    assert_ne!(a.digest, b.digest);
    assert!(first_difference(&a, &b, None).is_some());
}

#[test]
fn a_wasm_trap_and_a_host_error_differ_and_the_difference_shows_the_message() {
    let trap = wasm_trap(wasmtime::Trap::UnreachableCodeReached, 1);
    let host = host_error("Invalid enum value Clockid", 1);
    assert_eq!(trap.status(), "trap UnreachableCodeReached after 1 calls");
    assert_ne!(trap.digest, host.digest);
    let difference = first_difference(&trap, &host, Some(&["status"])).expect("differ");
    assert_eq!(
        difference,
        Difference::Field {
            name: "status".into(),
            expected: "trap UnreachableCodeReached after 1 calls".into(),
            actual: "trap host error after 1 calls: Invalid enum value Clockid".into(),
        }
    );
    assert!(
        difference
            .to_string()
            .contains("Invalid enum value Clockid"),
        "{difference}"
    );
}

#[test]
fn wasm_traps_keep_their_kind_and_have_no_message() {
    let (status, message) = Status::classify(Err(wasmtime::Trap::OutOfFuel.into()), 2);
    assert_eq!(
        status,
        Status::Trapped {
            kind: "OutOfFuel".into(),
            after_calls: 2
        }
    );
    assert_eq!(message, None);
}

#[test]
fn proc_exit_stays_an_exit_status() {
    let (status, message) = Status::classify(Err(wasmtime_wasi::I32Exit(7).into()), 1);
    assert_eq!((status, message), (Status::Exited(7), None));
}

#[test]
fn stack_overflow_is_poisoned() {
    let fingerprint = wasm_trap(wasmtime::Trap::StackOverflow, 0);
    assert!(fingerprint.is_poisoned());
    assert_eq!(fingerprint.status(), "poisoned (stack overflow)");
    assert!(!host_error("out of bounds", 0).is_poisoned());
}

/// wasmtime's count limits are the same on every host (the Store's limits
/// say 100): a result like any other, however its text reads.
#[test]
fn a_resource_limit_error_is_a_trap_not_poisoning() {
    let limit = host_error("resource limit exceeded: memory count too high at 101", 0);
    assert!(!limit.is_poisoned());
    assert_eq!(limit.status(), "trap host error after 0 calls");
    // Poisoning is never read from the wording.
    assert!(!host_error("out of memory", 0).is_poisoned());
}

#[test]
fn the_host_out_of_memory_is_poisoned_by_its_type() {
    use crate::engine::{DeterministicLimits, HostExhausted};
    use wasmtime::ResourceLimiter;
    let mut limits = DeterministicLimits::new();
    let failed = limits
        .memory_grow_failed(wasmtime::Error::msg("mmap: os error 12"))
        .expect_err("a failed growth traps");
    assert!(failed.is::<HostExhausted>());
    let (status, message) = Status::classify(Err(failed), 4);
    assert_eq!(
        status,
        Status::Poisoned("host out of memory: memory growth".into())
    );
    assert_eq!(message, None);
    let table = limits
        .table_grow_failed(wasmtime::Error::msg("failed"))
        .expect_err("a failed growth traps");
    assert_eq!(
        Status::of(Err(table), 0),
        Status::Poisoned("host out of memory: table growth".into())
    );
    let oom = wasmtime::Error::from(wasmtime::OutOfMemory::new(1 << 30)).context("instantiate");
    assert_eq!(
        Status::of(Err(oom), 0),
        Status::Poisoned("host out of memory".into())
    );
    let io = wasmtime::Error::new(std::io::Error::from(std::io::ErrorKind::OutOfMemory));
    assert!(matches!(Status::of(Err(io), 0), Status::Poisoned(_)));
}

#[test]
fn long_values_are_shortened_at_a_character_boundary() {
    // Byte 80 falls inside the second byte of an `é`.
    let value = format!("a{}", "é".repeat(60));
    let short = shorten(&value);
    assert_eq!(short, format!("a{}... (121 bytes)", "é".repeat(39)));
    assert_eq!(shorten("short"), "short");
    let ascii = "x".repeat(100);
    assert_eq!(
        shorten(&ascii),
        format!("{}... (100 bytes)", "x".repeat(80))
    );
}
