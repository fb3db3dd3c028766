;; memory.fill, memory.copy and memory.init of a passive segment: both
;; majors charge the same fuel per byte.
(module
  (memory (export "memory") 1)
  (data $d "0123456789abcdef0123456789abcdef")
  (func (export "_start")
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 4000))
    (memory.copy (i32.const 8000) (i32.const 100) (i32.const 3000))
    (memory.init $d (i32.const 20000) (i32.const 0) (i32.const 32))
    (data.drop $d)))
