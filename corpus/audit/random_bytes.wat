;; Writes 2 x 1 byte and 1 x 32 bytes of random_get output to stdout.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x80) "\00\00\00\00\22\00\00\00")
  (func (export "_start")
    (drop (call $random (i32.const 0) (i32.const 1)))
    (drop (call $random (i32.const 1) (i32.const 1)))
    (drop (call $random (i32.const 2) (i32.const 32)))
    (drop (call $write (i32.const 1) (i32.const 0x80) (i32.const 1) (i32.const 0x90)))))
