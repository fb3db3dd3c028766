;; Writes a line and exits with status 7.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bye\n")
  (data (i32.const 0x80) "\00\00\00\00\04\00\00\00")
  (func (export "_start")
    (drop (call $write (i32.const 1) (i32.const 0x80) (i32.const 1) (i32.const 0x90)))
    (call $exit (i32.const 7))))
