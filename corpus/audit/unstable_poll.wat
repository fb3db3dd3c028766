;; The preview0 (wasi_unstable) poll_oneoff layout: 56-byte subscriptions.
(module
  (import "wasi_unstable" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100)
    "\07\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\ad\de\00\00\00\00\00\00\01\00\00\00\00\00\00\00\e8\03\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"
    "\08\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\ad\de\00\00\00\00\00\00\01\00\00\00\00\00\00\00\d0\07\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
  (func (export "_start")
    (drop (call $poll (i32.const 0x100) (i32.const 0x400) (i32.const 2) (i32.const 0x500)))
    (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0x508)))))
