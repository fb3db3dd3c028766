;; Grows memory until it fails: the Store limit (256 MiB) decides where, not
;; the host's address space.
(module
  (memory (export "memory") 1)
  (global (export "pages") (mut i32) (i32.const 1))
  (func (export "_start")
    (loop $grow
      (if (i32.ne (memory.grow (i32.const 256)) (i32.const -1))
        (then
          (global.set 0 (memory.size))
          (br $grow))))))
