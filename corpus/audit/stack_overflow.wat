;; Unbounded recursion: where the native stack runs out depends on the host,
;; so the audit reports the run as poisoned instead of comparing it. With
;; `--max-stack` it traps at the same depth everywhere (deterministic).
(module
  (memory (export "memory") 1)
  (func $deeper (param i32) (result i32)
    (i32.add (call $deeper (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "_start") (drop (call $deeper (i32.const 0)))))
