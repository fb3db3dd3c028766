;; memory.grow, one page at a time: wasmtime 50 can charge fuel per page
;; grown; the deterministic engine sets that cost to 0 on every major, so
;; the fuel is the same on 46 and 50 (README, "Wasmtime versions").
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    (loop $grow
      (drop (memory.grow (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $grow (i32.lt_u (local.get $i) (i32.const 15))))
    (i32.store (i32.const 0) (memory.size))))
