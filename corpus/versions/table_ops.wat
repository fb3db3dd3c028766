;; table.grow, table.fill and table.copy with null references made in code
;; (no constant expression): both majors charge the same fuel.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "_start")
    (drop (table.grow $t (ref.null func) (i32.const 63)))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 64))
    (table.copy $t $t (i32.const 10) (i32.const 0) (i32.const 40))
    (i32.store (i32.const 0) (table.size $t))))
