//! Hostile guests against every function this crate overrides
//! (`poll_oneoff`, `sched_yield`, under both module names): each gets an errno
//! or a trap, never a host panic, never a write outside the declared output
//! slots, and the same answer on both preview1 backends.

mod common;

use common::*;
use deterministic_wasi_ctx::DeterminismConfig;

const SUBS: u32 = 0x100;
const EVENTS: u32 = 0x400;
const NEVENTS: u32 = 0x4f0;
const ERRNO_AT: u32 = 0x10;
const SENTINEL: u8 = 0xaa;

/// One subscription record in the preview1 layout.
fn clock_sub(userdata: u64, id: u32, timeout: u64, flags: u16) -> Vec<u8> {
    let mut r = vec![0u8; 48];
    r[0..8].copy_from_slice(&userdata.to_le_bytes());
    r[8] = 0;
    r[16..20].copy_from_slice(&id.to_le_bytes());
    r[24..32].copy_from_slice(&timeout.to_le_bytes());
    r[40..42].copy_from_slice(&flags.to_le_bytes());
    r
}

fn fd_sub(userdata: u64, tag: u8, fd: u32) -> Vec<u8> {
    let mut r = vec![0u8; 48];
    r[0..8].copy_from_slice(&userdata.to_le_bytes());
    r[8] = tag;
    r[16..20].copy_from_slice(&fd.to_le_bytes());
    r
}

fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// A module whose `_start` calls `module_name.poll_oneoff(subs, events, n,
/// nevents)` with `subs` bytes at [`SUBS`], sentinels over the output area,
/// and stores the errno at [`ERRNO_AT`]; then reads the monotonic clock into
/// 0x20.
fn poll_module(module_name: &str, subs: &[u8], args: (u32, u32, u32, u32), memory: bool) -> String {
    let (s, e, n, ne) = args;
    let export = if memory { "(export \"memory\")" } else { "" };
    format!(
        r#"(module
  (import "{module_name}" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory {export} 1)
  (data (i32.const {SUBS}) "{subs}")
  (data (i32.const {EVENTS}) "{sentinel}")
  (func (export "_start")
    (i32.store (i32.const {ERRNO_AT})
      (call $poll (i32.const {s}) (i32.const {e}) (i32.const {n}) (i32.const {ne})))
    (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0x20)))))"#,
        subs = wat_bytes(subs),
        sentinel = wat_bytes(&[SENTINEL; 0x100]),
    )
}

/// Runs the module on every preview1 backend (three Stores each; both
/// backends but in the wasmtime-50 adapter, which has no wasi-common) and
/// checks they agree.
fn run(wat: &str) -> Outcome {
    let module = wasmtime::Module::new(engine(), wat).expect("valid module");
    let config = DeterminismConfig::new();
    let mut runs = P1_BACKENDS.into_iter().map(|backend| {
        let name = format!("{backend:?}");
        let outcome = same_in_three_stores(&name, || run_p1(&module, &config, backend));
        (name, outcome)
    });
    let (first, a) = runs.next().expect("at least one backend");
    for (name, b) in runs {
        assert_eq!(
            a.exit.is_ok(),
            b.exit.is_ok(),
            "{first} {:?} vs {name} {:?}",
            a.exit,
            b.exit
        );
        if let Some(at) =
            (0..a.memory.len().max(b.memory.len())).find(|&i| a.memory.get(i) != b.memory.get(i))
        {
            let window = |m: &[u8]| m[at.min(m.len())..(at + 16).min(m.len())].to_vec();
            panic!(
                "backends wrote different memory at {at:#x}: {first} {:?}, {name} {:?}",
                window(&a.memory),
                window(&b.memory)
            );
        }
    }
    a
}

fn u32_at(memory: &[u8], at: u32) -> u32 {
    u32::from_le_bytes(memory[at as usize..at as usize + 4].try_into().unwrap())
}

fn u64_at(memory: &[u8], at: u32) -> u64 {
    u64::from_le_bytes(memory[at as usize..at as usize + 8].try_into().unwrap())
}

/// Everything in the output area except the first `events` events and the
/// 4-byte `nevents` slot still holds the sentinel.
fn assert_only_declared_writes(memory: &[u8], events: u32, wrote_nevents: bool) {
    for at in EVENTS + events * 32..EVENTS + 0x100 {
        let in_nevents = wrote_nevents && (NEVENTS..NEVENTS + 4).contains(&at);
        if !in_nevents {
            assert_eq!(
                memory[at as usize], SENTINEL,
                "byte {at:#x} was overwritten"
            );
        }
    }
}

fn poll(subs: &[u8], n: u32) -> Outcome {
    run(&poll_module(
        "wasi_snapshot_preview1",
        subs,
        (SUBS, EVENTS, n, NEVENTS),
        true,
    ))
}

#[test]
fn sleep_writes_one_event_and_a_four_byte_count() {
    let out = poll(&clock_sub(0x1234, 1, 2_000, 0), 1);
    assert_eq!(out.exit, Ok(0));
    let m = &out.memory;
    assert_eq!(u32_at(m, ERRNO_AT), 0);
    assert_eq!(u32_at(m, NEVENTS), 1);
    assert_eq!(u64_at(m, EVENTS), 0x1234);
    assert_eq!(u64_at(m, 0x20), 2_000, "sleep advances the clock exactly");
    assert_only_declared_writes(m, 1, true);
}

#[test]
fn zero_subscriptions_is_einval_and_writes_nothing() {
    let out = poll(&[], 0);
    assert_eq!(u32_at(&out.memory, ERRNO_AT), 28);
    assert_only_declared_writes(&out.memory, 0, false);
    assert_eq!(
        u32_at(&out.memory, NEVENTS),
        u32::from_le_bytes([SENTINEL; 4])
    );
}

#[test]
fn unknown_tag_is_einval_not_a_panic() {
    for tag in [3u8, 7, 0xff] {
        let mut subs = fd_sub(1, tag, 1);
        subs.extend(clock_sub(2, 1, 5, 0));
        for n in [1, 2] {
            let out = poll(&subs, n);
            assert_eq!(out.exit, Ok(0), "tag {tag}");
            assert_eq!(u32_at(&out.memory, ERRNO_AT), 28, "tag {tag}");
            assert_only_declared_writes(&out.memory, 0, false);
        }
    }
}

#[test]
fn bad_clock_id_and_flags_are_einval() {
    let mut subs = clock_sub(1, 9, 5, 1);
    subs.extend(clock_sub(2, 1, 5, 0));
    assert_eq!(u32_at(&poll(&subs, 2).memory, ERRNO_AT), 28);
    let mut subs = clock_sub(1, 1, 5, 0x10);
    subs.extend(clock_sub(2, 1, 5, 0));
    assert_eq!(u32_at(&poll(&subs, 2).memory, ERRNO_AT), 28);
    let mut subs = clock_sub(1, 2, 5, 1); // process cputime
    subs.extend(clock_sub(2, 1, 5, 0));
    assert_eq!(u32_at(&poll(&subs, 2).memory, ERRNO_AT), 28);
}

#[test]
fn absolute_realtime_is_enotsup() {
    let mut subs = clock_sub(1, 0, 5, 1);
    subs.extend(clock_sub(2, 1, 5, 0));
    assert_eq!(u32_at(&poll(&subs, 2).memory, ERRNO_AT), 58);
}

#[test]
fn unknown_fd_is_ebadf() {
    let mut subs = fd_sub(1, 1, 9);
    subs.extend(clock_sub(2, 1, 5, 0));
    assert_eq!(u32_at(&poll(&subs, 2).memory, ERRNO_AT), 8);
}

#[test]
fn fd_subscriptions_are_ready_and_time_stays() {
    let mut subs = clock_sub(1, 1, 5_000, 0);
    subs.extend(fd_sub(2, 2, 1));
    subs.extend(fd_sub(3, 1, 0));
    let out = poll(&subs, 3);
    let m = &out.memory;
    assert_eq!(u32_at(m, ERRNO_AT), 0);
    assert_eq!(u32_at(m, NEVENTS), 2);
    // reads before writes, as wasi-common orders them
    assert_eq!(u64_at(m, EVENTS), 3);
    assert_eq!(m[EVENTS as usize + 10], 1);
    assert_eq!(u64_at(m, EVENTS + 32), 2);
    assert_eq!(m[EVENTS as usize + 32 + 10], 2);
    assert_eq!(u64_at(m, 0x20), 0);
    assert_only_declared_writes(m, 2, true);
}

#[test]
fn earliest_of_several_timers_fires() {
    let mut subs = clock_sub(1, 1, 9_000, 0);
    subs.extend(clock_sub(2, 1, 4_000, 1)); // absolute 4 us
    subs.extend(clock_sub(3, 0, 7_000, 0)); // relative realtime
    let out = poll(&subs, 3);
    let m = &out.memory;
    assert_eq!(u32_at(m, NEVENTS), 1);
    assert_eq!(u64_at(m, EVENTS), 2);
    assert_eq!(u64_at(m, 0x20), 4_000);
    assert_only_declared_writes(m, 1, true);
}

#[test]
fn extreme_timeouts_saturate() {
    let out = poll(&clock_sub(1, 1, u64::MAX, 0), 1);
    assert_eq!(u64_at(&out.memory, 0x20), u64::MAX);
    let mut subs = clock_sub(1, 1, u64::MAX, 1);
    subs.extend(clock_sub(2, 1, u64::MAX, 0));
    let out = poll(&subs, 2);
    assert_eq!(u32_at(&out.memory, ERRNO_AT), 0);
    assert_eq!(u64_at(&out.memory, 0x20), u64::MAX);
}

#[test]
fn out_of_bounds_pointers_trap() {
    let cases = [
        (0xffff_fff0, EVENTS, 2, NEVENTS), // subscriptions past the end
        (SUBS, 0xffff_ff00, 1, NEVENTS),   // events past the end
        (SUBS, EVENTS, 1, 0xffff_fffe),    // nevents past the end
        (SUBS + 4, EVENTS, 1, NEVENTS),    // misaligned subscriptions
        (SUBS, EVENTS, 1, NEVENTS + 1),    // misaligned nevents
    ];
    for (s, e, n, ne) in cases {
        let out = run(&poll_module(
            "wasi_snapshot_preview1",
            &clock_sub(1, 1, 5, 0),
            (s, e, n, ne),
            true,
        ));
        assert!(
            out.exit.is_err(),
            "({s:#x}, {e:#x}, {n}, {ne:#x}) did not trap: {out:?}"
        );
    }
}

#[test]
fn huge_counts_stop_at_the_first_bad_record() {
    // The records after the first run into the sentinel bytes (tag 0xaa):
    // EINVAL at that record, long before the count is reached.
    let out = poll(&clock_sub(1, 1, 5, 0), u32::MAX);
    assert_eq!(out.exit, Ok(0));
    assert_eq!(u32_at(&out.memory, ERRNO_AT), 28);
    assert_only_declared_writes(&out.memory, 0, false);
    // With zeroed records all the way to the end of memory: a trap.
    let out = run(&poll_module(
        "wasi_snapshot_preview1",
        &clock_sub(1, 1, 5, 0),
        (0x8000, EVENTS, u32::MAX, NEVENTS),
        true,
    ));
    assert!(out.exit.is_err(), "{out:?}");
}

#[test]
fn missing_memory_export_traps() {
    let module = wasmtime::Module::new(
        engine(),
        poll_module(
            "wasi_snapshot_preview1",
            &clock_sub(1, 1, 5, 0),
            (SUBS, EVENTS, 1, NEVENTS),
            false,
        ),
    )
    .expect("valid");
    for backend in P1_BACKENDS {
        let out = run_p1(&module, &DeterminismConfig::new(), backend);
        let trap = out.exit.expect_err("must trap");
        assert!(trap.contains("memory"), "{backend:?}: {trap}");
    }
}

#[test]
fn preview0_layout_is_read_as_preview0() {
    // wasi_unstable subscriptions are 56 bytes: the clock payload starts with
    // an 8-byte identifier.
    let p0 = |userdata: u64, timeout: u64| {
        let mut r = vec![0u8; 56];
        r[0..8].copy_from_slice(&userdata.to_le_bytes());
        r[16..24].copy_from_slice(&0xdead_u64.to_le_bytes());
        r[24..28].copy_from_slice(&1u32.to_le_bytes());
        r[32..40].copy_from_slice(&timeout.to_le_bytes());
        r
    };
    let mut subs = p0(7, 3_000);
    subs.extend(p0(8, 1_000));
    let out = run(&poll_module(
        "wasi_unstable",
        &subs,
        (SUBS, EVENTS, 2, NEVENTS),
        true,
    ));
    let m = &out.memory;
    assert_eq!(u32_at(m, ERRNO_AT), 0);
    assert_eq!(u32_at(m, NEVENTS), 1);
    assert_eq!(u64_at(m, EVENTS), 8);
    assert_eq!(u64_at(m, 0x20), 1_000);
}

#[test]
fn sched_yield_returns_success() {
    for module_name in ["wasi_snapshot_preview1", "wasi_unstable"] {
        let wat = format!(
            r#"(module
              (import "{module_name}" "sched_yield" (func $y (result i32)))
              (memory (export "memory") 1)
              (func (export "_start") (i32.store (i32.const 0) (i32.add (call $y) (i32.const 5)))))"#
        );
        let out = run(&wat);
        assert_eq!(u32_at(&out.memory, 0), 5);
    }
}

/// The preview2 functions this crate replaces, given extreme inputs through
/// the `p2_timers` guest: saturation instead of overflow, a clean trap for an
/// oversized random request, and no host panic.
#[test]
fn preview2_overrides_take_extreme_inputs() {
    let component = component(test_programs::P2_P2_TIMERS);
    let run = |stdin: &str| {
        same_in_three_stores(stdin, || {
            run_p2(
                &component,
                &DeterminismConfig::new().stdin(stdin.to_string()),
            )
        })
    };
    let out = run("sleep 18446744073709551615\nnow\nsleep 5\nnow\n");
    assert_eq!(out.exit, Ok(0), "{out:?}");
    assert!(
        out.stdout.contains(&format!("now {}", u64::MAX)),
        "{}",
        out.stdout
    );
    let out = run("poll i:18446744073709551615 d:18446744073709551615\nnow\n");
    assert_eq!(out.exit, Ok(0), "{out:?}");
    assert!(
        out.stdout.contains(&format!("now {}", u64::MAX)),
        "{}",
        out.stdout
    );
    let out = run("insecure 100000000000\n");
    let trap = out.exit.expect_err("an oversized request traps");
    assert!(trap.contains("more than the limit"), "{trap}");
}
