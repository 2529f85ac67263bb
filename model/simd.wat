;; The row primitives and the gate nonlinearities of the event kernels (model/group-kernel.ts) in WebAssembly
;; SIMD (f32x4). Pointers are byte offsets into the kernel's memory; lengths count floats. Multiplies and adds
;; stay separate (no fused multiply-add), so results do not depend on the CPU.
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
;; ---------------------------------------------------------------------------------------------------------
  ;; Gate nonlinearities in float32, 4 lanes at a time. The scalar tail runs the same vector code on a splatted
  ;; value, so a unit's gate does not depend on where it falls in a block (nor on the group split).

  ;; e^x (Cephes expf, ≤ 2 ulp for x in [−87.3, 88.3]): x = k·ln2 + r with ln2 in two parts, e^r by a degree-6
  ;; polynomial, 2^k through the exponent bits; x is clamped to that range so that 2^k stays a normal float (so
  ;; σ(x) bottoms out at ~4.5e−39 for x < −88.3 instead of reaching 0, harmless next to float32's rounding).
  ;; NaN stays NaN.
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88.3 88.3 88.3 88.3)))
    (local.set $k (f32x4.floor (f32x4.add (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 0.5 0.5 0.5 0.5))))
    (local.set $r (f32x4.sub
      (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; σ(x) = 1 / (1 + e^−x)
  (func $sigmoid (param $x v128) (result v128)
    (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp (f32x4.neg (local.get $x))))))

  ;; tanh(x) (Cephes tanhf): an odd polynomial for |x| < 0.625, else 1 − 2/(e^2|x| + 1) with the sign of x
  (func $tanh (param $x v128) (result v128)
    (local $z v128) (local $small v128) (local $e v128) (local $big v128)
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $small (f32x4.add (f32x4.mul (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3) (local.get $z)) (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1)))
    (local.set $small (f32x4.add (f32x4.mul (f32x4.mul (local.get $small) (local.get $z)) (local.get $x)) (local.get $x)))
    (local.set $e (call $exp (f32x4.add (f32x4.abs (local.get $x)) (f32x4.abs (local.get $x)))))
    (local.set $big (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.div (v128.const f32x4 2 2 2 2) (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1)))))
    (local.set $big (v128.bitselect (local.get $x) (local.get $big) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)))
    (v128.bitselect (local.get $small) (local.get $big)
      (f32x4.lt (f32x4.abs (local.get $x)) (v128.const f32x4 0.625 0.625 0.625 0.625))))

  ;; The gates of one batch element from its pre-activations a = [a_z | a_r | a_g] (3n floats) and c (n floats):
  ;; dst = [σ(a_z) | σ(a_r) | tanh(a_g + ρ·c)], ρ = σ(a_r) when $mode is 1 (evnn, gru: c = rh_g), 1 when $mode is 0
  ;; (paper: c = the recurrent part of g, reset messages included); $mode 2: the two σ blocks only.
  ;; dst may not overlap a or c.
  (func (export "gates") (param $dst i32) (param $a i32) (param $c i32) (param $n i32) (param $mode i32)
    (local $end i32) (local $end4 i32) (local $r i32) (local $rho v128)
    ;; σ over the 2n floats of a_z | a_r
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (i32.shl (local.get $n) (i32.const 1)) (i32.const -4)) (i32.const 2))))
    (block $d4 (loop $l4
      (br_if $d4 (i32.ge_u (local.get $dst) (local.get $end4)))
      (v128.store (local.get $dst) (call $sigmoid (v128.load (local.get $a))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (br $l4)))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $dst) (local.get $end)))
      (f32.store (local.get $dst) (f32x4.extract_lane 0 (call $sigmoid (f32x4.splat (f32.load (local.get $a))))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br $l1)))
    ;; tanh over the n floats of a_g; $r walks σ(a_r), n floats back
    (if (i32.eq (local.get $mode) (i32.const 2)) (then (return)))
    (local.set $r (i32.sub (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $e4 (loop $m4
      (br_if $e4 (i32.ge_u (local.get $dst) (local.get $end4)))
      (local.set $rho (if (result v128) (local.get $mode) (then (v128.load (local.get $r))) (else (v128.const f32x4 1 1 1 1))))
      (v128.store (local.get $dst)
        (call $tanh (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $rho) (v128.load (local.get $c))))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (local.set $r (i32.add (local.get $r) (i32.const 16)))
      (br $m4)))
    (block $e1 (loop $m1
      (br_if $e1 (i32.ge_u (local.get $dst) (local.get $end)))
      (local.set $rho (if (result v128) (local.get $mode) (then (f32x4.splat (f32.load (local.get $r)))) (else (v128.const f32x4 1 1 1 1))))
      (f32.store (local.get $dst) (f32x4.extract_lane 0
        (call $tanh (f32x4.add (f32x4.splat (f32.load (local.get $a))) (f32x4.mul (local.get $rho) (f32x4.splat (f32.load (local.get $c))))))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $c (i32.add (local.get $c) (i32.const 4)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $m1))))
)
