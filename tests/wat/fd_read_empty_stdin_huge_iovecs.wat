;; Issue 26: three `fd_read`s on empty stdin, each with 1,000 iovecs: the
;; first `{0x100, 1}`, the other 999 `{0, 16 MiB}` (all of memory). Each
;; call returns errno 0 and 0 bytes read, so the tracer must record the
;; 4-byte `nread` and nothing else. A tracer that recorded every iovec as
;; written hashed 3 x 999 x 16 MiB per run (80 s for `audit --runs 2`).
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 256)
  (func (export "_start")
    (local $i i32)
    ;; iovec 0 at 0x1000: {0x100, 1}
    (i32.store (i32.const 0x1000) (i32.const 0x100))
    (i32.store (i32.const 0x1004) (i32.const 1))
    ;; iovecs 1..999: {0, 16 MiB}
    (local.set $i (i32.const 1))
    (loop $fill
      (i32.store (i32.add (i32.const 0x1000) (i32.shl (local.get $i) (i32.const 3)))
        (i32.const 0))
      (i32.store (i32.add (i32.const 0x1004) (i32.shl (local.get $i) (i32.const 3)))
        (i32.const 0x1000000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 1000))))
    (local.set $i (i32.const 0))
    (loop $read
      ;; errno 0 expected: anything else is a bug worth a trap
      (if (call $fd_read (i32.const 0) (i32.const 0x1000) (i32.const 1000) (i32.const 0x10))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $read (i32.lt_u (local.get $i) (i32.const 3))))))
