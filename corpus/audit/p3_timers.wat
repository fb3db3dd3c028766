;; A WASI 0.3 command whose two timers race: `run` starts
;; `wait-for(20 ms)` (A), then `wait-for(10 ms)` (B), as concurrent subtasks,
;; and waits for both. Under the deterministic context B completes first, at
;; exactly 10 ms of virtual time, then A at exactly 20 ms; the callback checks
;; both and `run` returns `ok` (exit 0). Any other order or time exits with
;; code 10 * (first to complete) + (second), plus 50 if a time was not exact.
;; The clock readings also show in the fuel: the last callback loops
;; (sum of both elapsed times mod 65,536) times. Stock wasmtime-wasi (real
;; tokio sleeps) gets the order right but not the times, and its readings
;; differ run to run, so its runs diverge in fuel.
(component
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (export "now" (func (result u64)))
    (export "wait-for" (func async (param "how-long" u64)))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (alias export $clock "now" (func $now))
  (alias export $clock "wait-for" (func $wait-for))
  (alias export $exit "exit-with-code" (func $exit-with-code))

  (core func $now (canon lower (func $now)))
  (core func $wait-for (canon lower (func $wait-for) async))
  (core func $exit-with-code (canon lower (func $exit-with-code)))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable.join (canon waitable.join))
  (core func $subtask.drop (canon subtask.drop))
  (core func $task.return (canon task.return (result (result))))

  (core module $m
    (import "" "now" (func $now (result i64)))
    (import "" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "" "exit-with-code" (func $exit-with-code (param i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    (import "" "task.return" (func $task.return (param i32)))

    (global $start (mut i64) (i64.const 0))
    (global $a (mut i32) (i32.const 0))
    (global $b (mut i32) (i32.const 0))
    (global $set (mut i32) (i32.const 0))
    (global $order (mut i32) (i32.const 0))
    (global $inexact (mut i32) (i32.const 0))
    (global $done (mut i32) (i32.const 0))
    (global $elapsed-sum (mut i64) (i64.const 0))

    ;; Starts a wait; it must be STARTED (1), not already RETURNED.
    (func $start-wait (param $nanos i64) (result i32)
      (local $status i32)
      (local.set $status (call $wait-for (local.get $nanos)))
      (if (i32.ne (i32.and (local.get $status) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (i32.shr_u (local.get $status) (i32.const 4)))

    ;; Burns fuel in proportion to `n`.
    (func $spin (param $n i32)
      (block $out
        (loop $again
          (br_if $out (i32.eqz (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $again))))

    ;; WAIT (2) on the set.
    (func $wait (result i32)
      (i32.or (i32.const 2) (i32.shl (global.get $set) (i32.const 4))))

    (func (export "run") (result i32)
      (global.set $start (call $now))
      (global.set $a (call $start-wait (i64.const 20000000)))
      (global.set $b (call $start-wait (i64.const 10000000)))
      (global.set $set (call $waitable-set.new))
      (call $waitable.join (global.get $a) (global.get $set))
      (call $waitable.join (global.get $b) (global.get $set))
      (call $wait))

    ;; One subtask event (1) with its state RETURNED (2): which timer, and
    ;; how much virtual time has passed since `run` started.
    (func (export "cb") (param $event i32) (param $subtask i32) (param $state i32) (result i32)
      (local $elapsed i64)
      (local $which i32)
      (local $expected i64)
      (if (i32.or (i32.ne (local.get $event) (i32.const 1))
                  (i32.ne (local.get $state) (i32.const 2)))
        (then unreachable))
      (local.set $elapsed (i64.sub (call $now) (global.get $start)))
      (if (i32.eq (local.get $subtask) (global.get $a))
        (then (local.set $which (i32.const 1))
              (local.set $expected (i64.const 20000000)))
        (else (local.set $which (i32.const 2))
              (local.set $expected (i64.const 10000000))))
      (if (i64.ne (local.get $elapsed) (local.get $expected))
        (then (global.set $inexact (i32.const 50))))
      (global.set $elapsed-sum (i64.add (global.get $elapsed-sum) (local.get $elapsed)))
      (global.set $order
        (i32.add (i32.mul (global.get $order) (i32.const 10)) (local.get $which)))
      (call $subtask.drop (local.get $subtask))
      (global.set $done (i32.add (global.get $done) (i32.const 1)))
      (if (i32.lt_u (global.get $done) (i32.const 2))
        (then (return (call $wait))))
      (call $spin (i32.wrap_i64 (i64.and (global.get $elapsed-sum) (i64.const 0xffff))))
      (if (i32.and (i32.eq (global.get $order) (i32.const 21))
                   (i32.eqz (global.get $inexact)))
        (then
          (call $task.return (i32.const 0))
          (return (i32.const 0))))
      (call $exit-with-code (i32.add (global.get $order) (global.get $inexact)))
      unreachable))

  (core instance $i (instantiate $m
    (with "" (instance
      (export "now" (func $now))
      (export "wait-for" (func $wait-for))
      (export "exit-with-code" (func $exit-with-code))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable.join" (func $waitable.join))
      (export "subtask.drop" (func $subtask.drop))
      (export "task.return" (func $task.return))))))

  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))
