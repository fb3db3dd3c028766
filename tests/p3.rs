//! WASI 0.3 components (`crate::p3`): virtual-time waits racing, the
//! executor's deadlock rule, seeded random, the filesystem through streams
//! (and stock's agreement on it), and the
//! stock fixture that shows the auditor catches 0.3 nondeterminism.

use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{
    self, AuditConfig, Backend, Compiled, Outcome, RunSpec, Status, Strategy, Verdict,
};
use deterministic_wasi_ctx::fs::VirtualFs;
use std::path::Path;

#[cfg(not(wasmtime_50))]
const REPO: &str = env!("CARGO_MANIFEST_DIR");
#[cfg(wasmtime_50)]
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn both_strategies() -> AuditConfig {
    AuditConfig {
        strategies: vec![Strategy::Cranelift, Strategy::Pulley],
        ..AuditConfig::default()
    }
}

fn audit_wat(wat: &str, config: &AuditConfig) -> audit::Report {
    let wasm = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}"));
    audit::audit(&wasm, config).expect("audit")
}

fn assert_deterministic(report: &audit::Report) {
    assert_eq!(
        report.verdict(),
        Verdict::Deterministic,
        "{:?}",
        report.divergence
    );
}

fn events(outcome: &Outcome) -> Vec<String> {
    outcome.events.iter().map(|e| e.to_string()).collect()
}

fn timers() -> String {
    std::fs::read_to_string(Path::new(REPO).join("corpus/audit/p3_timers.wat")).unwrap()
}

/// The bundled race: the 10 ms wait started second completes first, each at
/// its exact virtual time, and virtual time moves only when both wait.
#[test]
fn racing_waits_complete_earliest_first_at_exact_virtual_times() {
    let report = audit_wat(&timers(), &both_strategies());
    assert_deterministic(&report);
    assert_eq!(report.outcome.status, Status::Exited(0));
    assert_eq!(
        events(&report.outcome),
        [
            "wasi:clocks/monotonic-clock.now() -> 0",
            "wasi:clocks/monotonic-clock.wait-for(20000000) -> 20000000",
            "wasi:clocks/monotonic-clock.wait-for(10000000) -> 10000000",
            "timer-fired(10000000) -> 10000000",
            "wasi:clocks/monotonic-clock.now() -> 10000000",
            "timer-fired(20000000) -> 20000000",
            "wasi:clocks/monotonic-clock.now() -> 20000000",
        ]
    );
}

/// The fixture that proves the auditor can fail on 0.3: stock's waits are
/// real tokio sleeps, so the clock readings (and the fuel the guest burns
/// from them) differ run to run.
#[test]
fn stock_waits_diverge() {
    let mut config = AuditConfig::default();
    config.spec.stock = true;
    let report = audit_wat(&timers(), &config);
    let divergence = report.divergence.expect("stock 0.3 timers must diverge");
    assert!(
        divergence.to_string().contains("fuel consumed"),
        "{divergence}"
    );
}

/// A task waiting on an empty waitable set with no timer pending can never
/// resume: the same error every run, not a hang.
#[test]
fn waiting_forever_is_a_deterministic_deadlock() {
    let wat = r#"(component
      (core func $waitable-set.new (canon waitable-set.new))
      (core module $m
        (import "" "waitable-set.new" (func $new (result i32)))
        (func (export "run") (result i32)
          (i32.or (i32.const 2) (i32.shl (call $new) (i32.const 4))))
        (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
      (core instance $i (instantiate $m
        (with "" (instance (export "waitable-set.new" (func $waitable-set.new))))))
      (func $run async (result (result))
        (canon lift (core func $i "run") async (callback (core func $i "cb"))))
      (instance $run (export "run" (func $run)))
      (export "wasi:cli/run@0.3.0" (instance $run)))"#;
    let report = audit_wat(wat, &both_strategies());
    assert_deterministic(&report);
    assert!(
        matches!(report.outcome.status, Status::Trapped { .. }),
        "{:?}",
        report.outcome.status
    );
    let message = report.outcome.trap_message.clone().unwrap_or_default();
    assert!(
        message.starts_with("deadlock: every task waits"),
        "{message}"
    );
}

/// `get-random-u64` then `get-insecure-seed`, exiting with the low byte of
/// the draw.
const RANDOM: &str = r#"(component
  (import "wasi:random/random@0.3.0" (instance $random
    (export "get-random-u64" (func (result u64)))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (alias export $random "get-random-u64" (func $draw))
  (alias export $exit "exit-with-code" (func $exit-with-code))
  (core func $draw (canon lower (func $draw)))
  (core func $exit-with-code (canon lower (func $exit-with-code)))
  (core module $m
    (import "" "draw" (func $draw (result i64)))
    (import "" "exit" (func $exit (param i32)))
    (func (export "run") (result i32)
      (call $exit (i32.and (i32.wrap_i64 (call $draw)) (i32.const 0xff)))
      unreachable)
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "draw" (func $draw))
      (export "exit" (func $exit-with-code))))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))"#;

/// 0.3's random is the seeded secure stream: the same draw as the context's
/// own stream, and a different one for another seed.
#[test]
fn random_is_the_seeded_stream() {
    let draw = |seed: u64| {
        let mut config = AuditConfig::default();
        config.spec.config = DeterminismConfig::new().seed(seed);
        let report = audit_wat(RANDOM, &config);
        assert_eq!(report.verdict(), Verdict::Deterministic);
        let expected = deterministic_wasi_ctx::random::secure_stream(seed).next_u64();
        assert_eq!(
            events(&report.outcome),
            [format!(
                "wasi:random/random.get-random-u64() -> {}",
                expected as i64
            )]
        );
        assert_eq!(
            report.outcome.status,
            Status::Exited(i32::from(expected as u8))
        );
        expected
    };
    assert_ne!(draw(1), draw(2));
}

/// Asks for the preopens and exits with their count.
const PREOPENS: &str = r#"(component
  (import "wasi:filesystem/types@0.3.0" (instance $types
    (export "descriptor" (type (sub resource)))))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.3.0" (instance $preopens
    (alias outer 1 $descriptor (type $d))
    (export "descriptor" (type $descriptor (eq $d)))
    (type $own (own $descriptor))
    (export "get-directories" (func (result (list (tuple $own string)))))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (alias export $preopens "get-directories" (func $get-directories))
  (alias export $exit "exit-with-code" (func $exit-with-code))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 8))))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (core func $get-directories (canon lower (func $get-directories)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $exit-with-code (canon lower (func $exit-with-code)))
  (core module $m
    (import "" "get-directories" (func $get (param i32)))
    (import "" "exit" (func $exit (param i32)))
    (import "libc" "memory" (memory 1))
    (func (export "run") (result i32)
      (call $get (i32.const 16))
      (call $exit (i32.load (i32.const 20)))
      unreachable)
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "get-directories" (func $get-directories))
      (export "exit" (func $exit-with-code))))
    (with "libc" (instance $libc))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))"#;

/// Without preopens the list is empty (a preopen's listing is in
/// `files_through_streams_and_futures`).
#[test]
fn no_preopens_no_directories() {
    let none = audit_wat(PREOPENS, &AuditConfig::default());
    assert_eq!(none.outcome.status, Status::Exited(0));
    assert_eq!(
        events(&none.outcome),
        ["wasi:filesystem/preopens.get-directories() -> 0"]
    );
}

fn files() -> String {
    std::fs::read_to_string(Path::new(REPO).join("tests/p3/files.wat")).unwrap()
}

/// The tree `tests/p3/files.wat` expects: `in.txt` and a directory `d`.
fn files_config() -> DeterminismConfig {
    let tree = VirtualFs::new()
        .file("in.txt", "hello from the tree")
        .dir("d");
    DeterminismConfig::new().preopen("/", tree)
}

/// `wasi:filesystem@0.3.0` over the virtual tree: a file written through a
/// stream, read back through another in reads of the exact sizes asked, a
/// listing as a stream of entries, and every future ok. The same on both
/// strategies and in fresh Stores and Engines; the new file is in the final
/// tree and every stream read in the trace.
#[test]
fn files_through_streams_and_futures() {
    let mut config = both_strategies();
    config.spec.config = files_config();
    let report = audit_wat(&files(), &config);
    assert_deterministic(&report);
    // Byte-stream reads and writes complete at once with the amounts asked.
    // The six operations that wait are those whose values hold strings (the
    // three futures' `result<_, error-code>`, whose `other` case has one,
    // and the three reads that deliver an entry): wasmtime lowers such
    // values into the guest on a later turn of its event loop, which the
    // driver runs in a fixed order.
    assert_eq!(
        report.outcome.status,
        Status::Exited(106),
        "{:?}",
        report.outcome.trap_message
    );
    let (path, tree) = &report.outcome.filesystems[0];
    assert_eq!(path, "/");
    assert_eq!(
        tree.read_file("out.txt").as_deref(),
        Some(&b"hello 0.3\n"[..])
    );
    let calls = events(&report.outcome);
    let reads: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("wasi:filesystem/file-stream.read"))
        .collect();
    assert_eq!(reads.len(), 3, "{calls:#?}");
    let writes = calls
        .iter()
        .filter(|c| c.starts_with("wasi:filesystem/file-stream.write"))
        .count();
    assert_eq!(writes, 2, "{calls:#?}");
    // The listing as the call took it, sorted by name: `d` (a directory,
    // case 3 as preview2 numbers it), `in.txt`, `out.txt` (regular files).
    let listing = calls
        .iter()
        .find(|c| c.contains("read-directory"))
        .expect("read-directory in the trace");
    assert_eq!(
        listing,
        "wasi:filesystem/types.[method]descriptor.read-directory(0) -> [0, 3, 3, 6, 6], \
         wrote 1 bytes @0x0: 64, wrote 6 bytes @0x0: 69 6e 2e 74 78 74, \
         wrote 7 bytes @0x0: 6f 75 74 2e 74 78 74"
    );
}

/// Stock wasmtime-wasi's 0.3 filesystem, on a host copy of the same tree,
/// gives the program the same answers (every amount, entry and future as
/// expected) and leaves the same file; only more of its operations wait
/// (its file I/O runs on background tasks), which the crate's never do.
#[test]
fn stock_files_agree() {
    let wasm = wat::parse_str(files()).unwrap();
    let engine = Strategy::Cranelift.engine().expect("engine");
    let compiled = Compiled::new(&engine, &wasm).expect("compiles");
    let spec = |stock| RunSpec {
        stock,
        config: files_config(),
        ..AuditConfig::default().spec
    };
    let mut waits = Vec::new();
    for stock in [false, true] {
        let outcome = compiled.run(&engine, Backend::WasmtimeWasi, &spec(stock));
        match outcome.status {
            Status::Exited(code) if code >= 106 => waits.push(code - 100),
            other => panic!("stock {stock}: {other:?} {:?}", outcome.trap_message),
        }
        let (_, tree) = &outcome.filesystems[0];
        assert_eq!(
            tree.read_file("out.txt").as_deref(),
            Some(&b"hello 0.3\n"[..])
        );
        assert_eq!(
            tree.read_file("in.txt").as_deref(),
            Some(&b"hello from the tree"[..])
        );
    }
    assert_eq!(waits[0], 6);
    assert!(waits[1] >= 6, "{waits:?}");
}

/// Creates a TCP and a UDP socket; exits with 100 + the TCP error's case +
/// 20 x the UDP error's case when both are refused, 1 if either succeeds.
const SOCKETS: &str = r#"(component
  (import "wasi:sockets/types@0.3.0" (instance $sockets
    (type $family (enum "ipv4" "ipv6"))
    (export "ip-address-family" (type $f (eq $family)))
    (type $error (variant (case "access-denied") (case "not-supported")
      (case "invalid-argument") (case "out-of-memory") (case "timeout")
      (case "invalid-state") (case "address-not-bindable") (case "address-in-use")
      (case "remote-unreachable") (case "connection-refused") (case "connection-broken")
      (case "connection-reset") (case "connection-aborted") (case "datagram-too-large")
      (case "other" (option string))))
    (export "error-code" (type $e (eq $error)))
    (export "tcp-socket" (type $tcp (sub resource)))
    (export "udp-socket" (type $udp (sub resource)))
    (export "[static]tcp-socket.create"
      (func (param "address-family" $f) (result (result (own $tcp) (error $e)))))
    (export "[static]udp-socket.create"
      (func (param "address-family" $f) (result (result (own $udp) (error $e)))))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (alias export $sockets "[static]tcp-socket.create" (func $tcp))
  (alias export $sockets "[static]udp-socket.create" (func $udp))
  (alias export $exit "exit-with-code" (func $exit-with-code))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 8))))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (core func $tcp (canon lower (func $tcp)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $udp (canon lower (func $udp)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $exit-with-code (canon lower (func $exit-with-code)))
  (core module $m
    (import "" "tcp" (func $tcp (param i32 i32)))
    (import "" "udp" (func $udp (param i32 i32)))
    (import "" "exit" (func $exit (param i32)))
    (import "libc" "memory" (memory 1))
    (func (export "run") (result i32)
      (call $tcp (i32.const 0) (i32.const 16))
      (call $udp (i32.const 1) (i32.const 32))
      (if (i32.or (i32.eqz (i32.load8_u (i32.const 16)))
                  (i32.eqz (i32.load8_u (i32.const 32))))
        (then (call $exit (i32.const 1))))
      (call $exit (i32.add (i32.const 100)
        (i32.add (i32.load8_u (i32.const 20))
                 (i32.mul (i32.const 20) (i32.load8_u (i32.const 36))))))
      unreachable)
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "tcp" (func $tcp))
      (export "udp" (func $udp))
      (export "exit" (func $exit-with-code))))
    (with "libc" (instance $libc))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))"#;

/// No host network: both sockets are `access-denied` (case 0), every run.
#[test]
fn sockets_are_denied() {
    let report = audit_wat(SOCKETS, &both_strategies());
    assert_deterministic(&report);
    assert_eq!(report.outcome.status, Status::Exited(100));
}

/// Writes `hello` and then ` 0.3\n` to stdout through one stream, and exits
/// with 10 x (bytes the first write completed) + (bytes the second).
const STDOUT: &str = r#"(component
  (import "wasi:cli/stdout@0.3.0" (instance $stdout
    (type $error (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type $e (eq $error)))
    (export "write-via-stream"
      (func (param "data" (stream u8)) (result (future (result (error $e))))))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (alias export $stdout "write-via-stream" (func $write-via-stream))
  (alias export $stdout "error-code" (type $error-code))
  (alias export $exit "exit-with-code" (func $exit-with-code))
  (type $bytes (stream u8))
  (type $done (future (result (error $error-code))))
  (core module $libc
    (memory (export "memory") 1)
    (data (i32.const 100) "hello 0.3\n"))
  (core instance $libc (instantiate $libc))
  (core func $write-via-stream (canon lower (func $write-via-stream)))
  (core func $exit-with-code (canon lower (func $exit-with-code)))
  (core func $stream.new (canon stream.new $bytes))
  (core func $stream.write (canon stream.write $bytes async
    (memory (core memory $libc "memory"))))
  (core func $stream.drop-writable (canon stream.drop-writable $bytes))
  (core func $future.drop-readable (canon future.drop-readable $done))
  (core module $m
    (import "" "write-via-stream" (func $write-via-stream (param i32) (result i32)))
    (import "" "exit" (func $exit (param i32)))
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "" "future.drop-readable" (func $future.drop-readable (param i32)))
    (func $written (param $status i32) (result i32)
      ;; COMPLETED (0) with the count above the low 4 bits; anything else
      ;; (BLOCKED is -1) counts as 9.
      (if (result i32) (i32.eqz (i32.and (local.get $status) (i32.const 0xf)))
        (then (i32.shr_u (local.get $status) (i32.const 4)))
        (else (i32.const 9))))
    (func (export "run") (result i32)
      (local $pair i64) (local $writer i32) (local $first i32) (local $second i32)
      (local.set $pair (call $stream.new))
      (local.set $writer (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
      (call $future.drop-readable (call $write-via-stream (i32.wrap_i64 (local.get $pair))))
      (local.set $first (call $written (call $stream.write (local.get $writer) (i32.const 100) (i32.const 5))))
      (local.set $second (call $written (call $stream.write (local.get $writer) (i32.const 105) (i32.const 5))))
      (call $stream.drop-writable (local.get $writer))
      (call $exit (i32.add (i32.mul (local.get $first) (i32.const 10)) (local.get $second)))
      unreachable)
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "write-via-stream" (func $write-via-stream))
      (export "exit" (func $exit-with-code))
      (export "stream.new" (func $stream.new))
      (export "stream.write" (func $stream.write))
      (export "stream.drop-writable" (func $stream.drop-writable))
      (export "future.drop-readable" (func $future.drop-readable))))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))"#;

/// Stream writes to stdout complete at once and whole, every run: the
/// captured output is always ready, so no write is ever short or blocked.
#[test]
fn stdout_stream_writes_complete_whole() {
    let report = audit_wat(STDOUT, &both_strategies());
    assert_deterministic(&report);
    assert_eq!(report.outcome.stdout, b"hello 0.3\n");
    assert_eq!(report.outcome.status, Status::Exited(55));
}

/// The `race` guest's configuration: stdin of 13 bytes and an empty tree
/// preopened as `/`.
fn race_config() -> DeterminismConfig {
    DeterminismConfig::new()
        .stdin("hello, stdin\n")
        .preopen("/", VirtualFs::new())
}

/// What `race` prints under the crate, every run: the writes and reads
/// complete at once (virtual time 0) in the order the guest started them,
/// reads return what the guest's 16 KiB buffer holds (`big`: 16,384 +
/// 16,384 + 7,232), and time moves only when everything left waits, to the
/// earliest timer each time: the fast timer, the sleeper, the slow timer.
const RACE_STDOUT: &str = "\
+0 wrote empty
+0 wrote small
+0 wrote one
+0 wrote big
+0 stdin 13 bytes
+0 read empty: 0 bytes in 0 reads
+0 read small: 5 bytes in 1 reads
+0 read one: 16384 bytes in 1 reads
+0 read big: 40000 bytes in 3 reads
+10000000 fast timer
+20000000 sleeper wrote late
+30000000 slow timer
random 92d6e5d942f4ad9b
listing [\"big\", \"empty\", \"late\", \"one\", \"small\"]
";

/// A guest built with wit-bindgen's async support
/// (`test-programs/p3/guests/examples/race.rs`) that races two timers, a
/// sleeping subtask, a read of stdin and four file reads: the same order and
/// virtual times on both strategies, in fresh Stores and Engines, and the
/// files it wrote in the final tree.
#[test]
fn racing_timers_streams_and_file_reads_complete_in_one_order() {
    let wasm = std::fs::read(test_programs_p3::P3_RACE).expect("the race component");
    let mut config = both_strategies();
    config.spec.config = race_config();
    let report = audit::audit(&wasm, &config).expect("audit");
    assert_deterministic(&report);
    assert_eq!(
        report.outcome.status,
        Status::Exited(0),
        "{:?}",
        report.outcome.trap_message
    );
    assert_eq!(String::from_utf8_lossy(&report.outcome.stdout), RACE_STDOUT);
    let (_, tree) = &report.outcome.filesystems[0];
    assert_eq!(tree.read_file("big").map(|b| b.len()), Some(40_000));
    assert_eq!(
        tree.read_file("late").as_deref(),
        Some(&b"written after 20 ms"[..])
    );
    // The stdio streams are traced: stdin in the guest's 4-byte reads, to
    // the end, and stdout's one write, whole.
    let stdio: Vec<String> = events(&report.outcome)
        .into_iter()
        .filter(|e| e.starts_with("wasi:cli/"))
        .collect();
    assert_eq!(
        stdio,
        [
            "wasi:cli/stdin.read(4) -> 4, wrote 4 bytes @0x0: 68 65 6c 6c",
            "wasi:cli/stdin.read(4) -> 4, wrote 4 bytes @0x0: 6f 2c 20 73",
            "wasi:cli/stdin.read(4) -> 4, wrote 4 bytes @0x0: 74 64 69 6e",
            "wasi:cli/stdin.read(4) -> 1, wrote 1 bytes @0x0: 0a",
            "wasi:cli/stdin.read(4) -> 0",
            "wasi:cli/stdout.write(358) -> 358",
        ]
    );
    // Every wait is in the trace, each timer firing at its exact time.
    let fired: Vec<String> = events(&report.outcome)
        .into_iter()
        .filter(|e| e.starts_with("timer-fired"))
        .collect();
    assert_eq!(
        fired,
        [
            "timer-fired(10000000) -> 10000000",
            "timer-fired(20000000) -> 20000000",
            "timer-fired(30000000) -> 30000000",
        ]
    );
}

/// The same guest under stock wasmtime-wasi: real timers and the host's
/// entropy, so its output differs from run to run and the auditor says so.
#[test]
fn racing_guest_diverges_under_stock() {
    let wasm = std::fs::read(test_programs_p3::P3_RACE).expect("the race component");
    let mut config = AuditConfig::default();
    config.spec.config = race_config();
    config.spec.stock = true;
    let report = audit::audit(&wasm, &config).expect("audit");
    let divergence = report.divergence.expect("stock must diverge");
    assert!(divergence.to_string().contains("stdout"), "{divergence}");
    assert_eq!(report.outcome.status, Status::Exited(0));
}

/// `times`' configuration: an empty tree, the wall clock at 10^9 s.
fn times_config() -> DeterminismConfig {
    DeterminismConfig::new()
        .wall_start(std::time::Duration::from_secs(1_000_000_000))
        .preopen("/", VirtualFs::new())
}

/// `set-times-at`, `set-times` and their stats through WASI 0.3 (the
/// `times` guest): an instant is kept to the nanosecond, `now` is the
/// virtual wall clock, and an instant before 1970 is `overflow` (the tree
/// keeps nanoseconds since 1970), every run; the trace carries the four
/// numbers of both times.
#[test]
fn times_are_set_in_virtual_time_and_before_1970_is_overflow() {
    let wasm = std::fs::read(test_programs_p3::P3_TIMES).expect("the times component");
    let mut config = both_strategies();
    config.spec.config = times_config();
    let report = audit::audit(&wasm, &config).expect("audit");
    assert_deterministic(&report);
    assert_eq!(report.outcome.status, Status::Exited(0));
    assert_eq!(
        String::from_utf8_lossy(&report.outcome.stdout),
        "after set-times-at: atime 1000.000000005 mtime 1000000000.000000000 ctime 1000000000.000000000\n\
         after set-times: atime 1000.000000005 mtime 1000000000.000000000 ctime 1000000000.000000000\n\
         before 1970: Err(ErrorCode::Overflow)\n"
    );
    let calls = events(&report.outcome);
    assert!(
        calls.contains(
            &"wasi:filesystem/types.[method]descriptor.set-times-at(0, 0, 1000, 5, 0, -1) -> 0, \
              wrote 1 bytes @0x0: 66"
                .to_string()
        ),
        "{calls:#?}"
    );
}

/// Stock wasmtime-wasi on the same guest: 46 panics on the instant before
/// 1970 (an unwrapped error in a blocking task), which the auditor reports
/// as the run's error instead of going down; 50 sets the host file's time
/// to it.
#[test]
fn stock_on_a_time_before_1970_panics_on_46_and_the_audit_goes_on() {
    let wasm = std::fs::read(test_programs_p3::P3_TIMES).expect("the times component");
    let mut config = AuditConfig::default();
    config.spec.config = times_config();
    config.spec.stock = true;
    let report = audit::audit(&wasm, &config).expect("audit");
    let outcome = &report.outcome;
    if deterministic_wasi_ctx::engine::WASMTIME_MAJOR < 50 {
        let message = outcome.trap_message.as_deref().unwrap_or_default();
        assert!(
            message.contains("stock wasmtime-wasi panicked") && message.contains("SystemTimeError"),
            "{:?}: {message}",
            outcome.status
        );
    } else {
        assert_eq!(outcome.status, Status::Exited(0));
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        assert!(stdout.ends_with("before 1970: Ok(())\n"), "{stdout}");
    }
}
