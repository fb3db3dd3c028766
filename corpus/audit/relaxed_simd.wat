;; Relaxed SIMD instructions whose results are implementation-defined unless
;; the engine makes them deterministic.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (v128.store (i32.const 0)
      (i32x4.relaxed_trunc_f32x4_s (v128.const f32x4 nan 3e9 -3e9 1.5)))
    (v128.store (i32.const 16)
      (f32x4.relaxed_madd (v128.const f32x4 1e38 1 2 3) (v128.const f32x4 10 1 2 3) (v128.const f32x4 -3e38 1 2 3)))
    (v128.store (i32.const 32)
      (i8x16.relaxed_swizzle (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
                             (v128.const i8x16 0 200 16 128 255 5 6 7 8 9 10 11 12 13 14 15)))
    (v128.store (i32.const 48)
      (f32x4.relaxed_min (v128.const f32x4 -0 nan 1 2) (v128.const f32x4 0 1 nan 2)))))
