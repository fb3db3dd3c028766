;; poll_oneoff with two timers (3 s relative, 2 s absolute) and then with a
;; timer plus a stdout write subscription; events stay in exported memory.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "errno_sum") (mut i32) (i32.const 0))
  (data (i32.const 0x100)
    "\0a\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\5e\d0\b2\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"
    "\0b\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\94\35\77\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00"
    "\0c\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
  (func (export "_start")
    (global.set 0 (call $poll (i32.const 0x100) (i32.const 0x400) (i32.const 2) (i32.const 0x500)))
    (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0x508)))
    (global.set 0 (i32.add (global.get 0)
      (call $poll (i32.const 0x130) (i32.const 0x600) (i32.const 2) (i32.const 0x700))))
    (drop (call $now (i32.const 1) (i64.const 1) (i32.const 0x708)))))
