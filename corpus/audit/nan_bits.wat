;; Float operations whose NaN bit patterns differ between CPUs unless NaNs are
;; canonicalized; the results are stored in exported globals and memory.
(module
  (memory (export "memory") 1)
  (global (export "f32_nan") (mut f32) (f32.const 0))
  (global (export "f64_nan") (mut f64) (f64.const 0))
  (func (export "_start")
    (global.set 0 (f32.div (f32.const 0) (f32.const 0)))
    (global.set 1 (f64.sqrt (f64.const -1)))
    (f32.store (i32.const 0) (f32.add (f32.const nan:0x200000) (f32.const 1)))
    (f64.store (i32.const 8) (f64.mul (f64.const -nan:0x4000000000000) (f64.const 2)))
    (v128.store (i32.const 16) (f32x4.div (v128.const f32x4 0 0 0 0) (v128.const f32x4 0 0 0 0)))))
