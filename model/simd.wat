;; The two row primitives of the event kernels (model/group-kernel.ts) in WebAssembly SIMD (f32x4).
;; Pointers are byte offsets into the kernel's own memory; lengths count floats. Multiplies and adds stay
;; separate (no fused multiply-add), so results do not depend on the CPU.
;; After editing, run `npm run build:wasm` (regenerates model/simd-wasm.ts; a test checks they agree).
(module
  (memory (import "env" "memory") 1)

  ;; dst[k] += a·src[k], k < len, in blocks of 16, then 4, then one by one. Columns are independent, so a
  ;; column's value does not depend on len.
  (func (export "axpy") (param $dst i32) (param $a f32) (param $src i32) (param $len i32)
    (local $va v128) (local $end i32) (local $end4 i32) (local $end16 i32)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $len) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $sixteen
        (br_if $done16 (i32.ge_u (local.get $dst) (local.get $end16)))
        (v128.store (local.get $dst)
          (f32x4.add (v128.load (local.get $dst)) (f32x4.mul (local.get $va) (v128.load (local.get $src)))))
        (v128.store offset=16 (local.get $dst)
          (f32x4.add (v128.load offset=16 (local.get $dst)) (f32x4.mul (local.get $va) (v128.load offset=16 (local.get $src)))))
        (v128.store offset=32 (local.get $dst)
          (f32x4.add (v128.load offset=32 (local.get $dst)) (f32x4.mul (local.get $va) (v128.load offset=32 (local.get $src)))))
        (v128.store offset=48 (local.get $dst)
          (f32x4.add (v128.load offset=48 (local.get $dst)) (f32x4.mul (local.get $va) (v128.load offset=48 (local.get $src)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (br $sixteen)))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $dst) (local.get $end4)))
        (v128.store (local.get $dst)
          (f32x4.add (v128.load (local.get $dst)) (f32x4.mul (local.get $va) (v128.load (local.get $src)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $four)))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst)
          (f32.add (f32.load (local.get $dst)) (f32.mul (local.get $a) (f32.load (local.get $src)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br $one))))

  ;; Σ_k w[k]·d[k], k < len: two vector accumulators over blocks of 8, one block of 4, then the scalar tail.
  (func (export "dot") (param $w i32) (param $d i32) (param $len i32) (result f32)
    (local $s0 v128) (local $s1 v128) (local $end i32) (local $end8 i32) (local $s f32)
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $end8 (i32.add (local.get $w) (i32.shl (i32.and (local.get $len) (i32.const -8)) (i32.const 2))))
    (block $done8
      (loop $eight
        (br_if $done8 (i32.ge_u (local.get $w) (local.get $end8)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $w)) (v128.load (local.get $d)))))
        (local.set $s1 (f32x4.add (local.get $s1)
          (f32x4.mul (v128.load offset=16 (local.get $w)) (v128.load offset=16 (local.get $d)))))
        (local.set $w (i32.add (local.get $w) (i32.const 32)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br $eight)))
    (if (i32.le_u (i32.add (local.get $w) (i32.const 16)) (local.get $end))
      (then
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $w)) (v128.load (local.get $d)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))))
    (local.set $s0 (f32x4.add (local.get $s0) (local.get $s1)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
      (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $w)) (f32.load (local.get $d)))))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (br $one)))
    (local.get $s))
)
