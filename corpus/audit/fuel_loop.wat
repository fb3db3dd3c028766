;; Loops forever after one host call: fuel stops it with the same trap, after
;; the same amount of work, in every run.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (global (export "iterations") (mut i64) (i64.const 0))
  (func (export "_start")
    (drop (call $yield))
    (loop $forever
      (global.set 0 (i64.add (global.get 0) (i64.const 1)))
      (br $forever))))
