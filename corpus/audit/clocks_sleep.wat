;; Reads both clocks, sleeps 1.5 s (one relative timer), reads them again and
;; writes the four 8-byte readings to stdout.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; subscription at 0x100: monotonic, relative, 1.5 s
  (data (i32.const 0x100) "\01\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\2f\68\59\00\00\00\00")
  ;; iovec at 0x80: 32 bytes at 0x0
  (data (i32.const 0x80) "\00\00\00\00\20\00\00\00")
  (func (export "_start")
    (drop (call $now (i32.const 0) (i64.const 1) (i32.const 0)))
    (drop (call $now (i32.const 1) (i64.const 1) (i32.const 8)))
    (drop (call $poll (i32.const 0x100) (i32.const 0x200) (i32.const 1) (i32.const 0x300)))
    (drop (call $now (i32.const 0) (i64.const 1) (i32.const 16)))
    (drop (call $now (i32.const 1) (i64.const 1) (i32.const 24)))
    (drop (call $write (i32.const 1) (i32.const 0x80) (i32.const 1) (i32.const 0x90)))))
