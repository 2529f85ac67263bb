;; The row primitives and the gate nonlinearities of the event kernels (model/group-kernel.ts) in WebAssembly
;; SIMD (f32x4), and the optimiser updates (model/optim.ts, f64x2). Pointers are byte offsets into the kernel's
;; memory; lengths count floats. Multiplies and adds stay separate (no fused multiply-add), so results do not
;; depend on the CPU (relaxed SIMD's fused f32x4.relaxed_madd was measured: no faster here, bench/relaxed-fma.mjs).
;; After editing, run `npm run build:wasm` (regenerates model/simd-wasm.ts; a test checks they agree).
(module
  (memory (import "env" "memory") 1)

  ;; dst[k] += a·src[k], k < len, in blocks of 16, then 4, then one by one. Columns are independent, so a
  ;; column's value does not depend on len.
  (func $axpy (export "axpy") (param $dst i32) (param $a f32) (param $src i32) (param $len i32)
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
  (func $dot (export "dot") (param $w i32) (param $d i32) (param $len i32) (result f32)
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
;; Many axpys of one source row (it stays in the L1 cache): for k < count, dst_k += a_k·src, with dst_k the i32
  ;; at $dsts + 4k and a_k the f32 at $as + 4k. The same arithmetic as count calls of axpy, in order.
  (func (export "axpyMany") (param $src i32) (param $len i32) (param $dsts i32) (param $as i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dsts) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $dsts) (local.get $end)))
      (call $axpy (i32.load (local.get $dsts)) (f32.load (local.get $as)) (local.get $src) (local.get $len))
      (local.set $dsts (i32.add (local.get $dsts) (i32.const 4)))
      (local.set $as (i32.add (local.get $as) (i32.const 4)))
      (br $next))))

  ;; Many sources into one destination row, kept in registers 16 columns at a time: dst += Σ_k a_k·src_k, with
  ;; src_k = $srcOff + the i32 at $srcs + 4k and a_k the f32 at $as + 4k, added in k order: column by column the
  ;; same arithmetic as count calls of axpy.
  (func (export "gather") (param $dst i32) (param $len i32) (param $srcs i32) (param $as i32) (param $count i32) (param $srcOff i32)
    (local $end i32) (local $end4 i32) (local $end16 i32) (local $col i32) (local $k i32) (local $p i32) (local $a v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $s f32)
    (local.set $end (i32.shl (local.get $len) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2)))
    (local.set $end16 (i32.shl (i32.and (local.get $len) (i32.const -16)) (i32.const 2)))
    (local.set $count (i32.shl (local.get $count) (i32.const 2)))
    (local.set $dst (i32.sub (local.get $dst) (local.get $srcOff)))
    ;; $col: byte offset of the block within the rows, plus $srcOff (so $dst + $col is the destination)
    (local.set $col (local.get $srcOff))
    (local.set $end (i32.add (local.get $end) (local.get $srcOff)))
    (local.set $end4 (i32.add (local.get $end4) (local.get $srcOff)))
    (local.set $end16 (i32.add (local.get $end16) (local.get $srcOff)))
    (block $done16 (loop $sixteen
      (br_if $done16 (i32.ge_u (local.get $col) (local.get $end16)))
      (local.set $p (i32.add (local.get $dst) (local.get $col)))
      (local.set $s0 (v128.load (local.get $p)))
      (local.set $s1 (v128.load offset=16 (local.get $p)))
      (local.set $s2 (v128.load offset=32 (local.get $p)))
      (local.set $s3 (v128.load offset=48 (local.get $p)))
      (local.set $k (i32.const 0))
      (block $done (loop $item
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $a (f32x4.splat (f32.load (i32.add (local.get $as) (local.get $k)))))
        (local.set $p (i32.add (i32.load (i32.add (local.get $srcs) (local.get $k))) (local.get $col)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $a) (v128.load (local.get $p)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $p)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $p)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $p)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $item)))
      (local.set $p (i32.add (local.get $dst) (local.get $col)))
      (v128.store (local.get $p) (local.get $s0))
      (v128.store offset=16 (local.get $p) (local.get $s1))
      (v128.store offset=32 (local.get $p) (local.get $s2))
      (v128.store offset=48 (local.get $p) (local.get $s3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br $sixteen)))
    (block $done4 (loop $four
      (br_if $done4 (i32.ge_u (local.get $col) (local.get $end4)))
      (local.set $s0 (v128.load (i32.add (local.get $dst) (local.get $col))))
      (local.set $k (i32.const 0))
      (block $done (loop $item
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
          (f32x4.splat (f32.load (i32.add (local.get $as) (local.get $k))))
          (v128.load (i32.add (i32.load (i32.add (local.get $srcs) (local.get $k))) (local.get $col))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $item)))
      (v128.store (i32.add (local.get $dst) (local.get $col)) (local.get $s0))
      (local.set $col (i32.add (local.get $col) (i32.const 16)))
      (br $four)))
    (block $done1 (loop $one
      (br_if $done1 (i32.ge_u (local.get $col) (local.get $end)))
      (local.set $s (f32.load (i32.add (local.get $dst) (local.get $col))))
      (local.set $k (i32.const 0))
      (block $done (loop $item
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $s (f32.add (local.get $s) (f32.mul
          (f32.load (i32.add (local.get $as) (local.get $k)))
          (f32.load (i32.add (i32.load (i32.add (local.get $srcs) (local.get $k))) (local.get $col))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $item)))
      (f32.store (i32.add (local.get $dst) (local.get $col)) (local.get $s))
      (local.set $col (i32.add (local.get $col) (i32.const 4)))
      (br $one))))

  ;; Many dots of one weight row (it stays in the L1 cache): out_k = f32(scale·dot(w, d_k, len))
  ;; with the product in float64 (as JavaScript would), d_k the i32 at $ds + 4k, out_k the f32 at $out + 4k.
  (func (export "dotMany") (param $w i32) (param $len i32) (param $ds i32) (param $out i32) (param $count i32) (param $scale f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $ds) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $ds) (local.get $end)))
      (f32.store (local.get $out)
        (f32.demote_f64 (f64.mul (local.get $scale) (f64.promote_f32 (call $dot (local.get $w) (i32.load (local.get $ds)) (local.get $len))))))
      (local.set $ds (i32.add (local.get $ds) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $next))))

  ;; The forward state update of one batch element (evnn and gru cells), unit by unit in float64 and rounded
  ;; to float32 as the JavaScript it replaces did (so the same bits): h = v_{t−1} (minus ϑ after an event, egru;
  ;; 0 at t = 0: prev = −1), v = f32(z·h + (1 − z)·g) into $v; the events (unitStart + j, v) with v > ϑ (gru: every
  ;; unit) into $evIdx (i32) / $evVal (f32), and the egru's near-threshold units (v ≤ ϑ, |v − ϑ| < $win) into
  ;; $nearIdx (i32), both in unit order. Stores [events, near] as i32 at $counts; returns the events.
  (func (export "cellForward")
    (param $gate i32) (param $prev i32) (param $thr i32) (param $v i32) (param $n i32) (param $gru i32) (param $win f64)
    (param $unitStart i32) (param $evIdx i32) (param $evVal i32) (param $nearIdx i32) (param $counts i32) (result i32)
    (local $j i32) (local $end i32) (local $n4 i32) (local $z f64) (local $h f64) (local $th f64) (local $x f32)
    (local $ev i32) (local $near i32)
    (local $end4 i32) (local $z4 v128) (local $g4 v128) (local $th4 v128) (local $p4 v128) (local $x4 v128)
    (local $zl v128) (local $zh v128) (local $hl v128) (local $hh v128) (local $tl v128) (local $th2 v128)
    (local $evMask v128) (local $nearMask v128) (local $evBits i32) (local $nearBits i32) (local $idx i32) (local $win2 v128)
    (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (local.get $n4))
    ;; 4 units at a time: the same float64 arithmetic as the loop below, in two f64x2 halves; events and
    ;; near-threshold units appended without branches (each lane's index is written, the count moves only where
    ;; it belongs)
    (local.set $end4 (i32.and (local.get $n4) (i32.const -16)))
    (local.set $win2 (f64x2.splat (local.get $win)))
    (block $done4 (loop $unit4
      (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
      (local.set $z4 (v128.load (i32.add (local.get $gate) (local.get $j))))
      (local.set $g4 (v128.load (i32.add (i32.add (local.get $gate) (i32.shl (local.get $n4) (i32.const 1))) (local.get $j))))
      (local.set $th4 (v128.load (i32.add (local.get $thr) (local.get $j))))
      (local.set $tl (f64x2.promote_low_f32x4 (local.get $th4)))
      (local.set $th2 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $th4) (local.get $th4))))
      (local.set $hl (v128.const f64x2 0 0))
      (local.set $hh (v128.const f64x2 0 0))
      (if (i32.ne (local.get $prev) (i32.const -1))
        (then
          (local.set $p4 (v128.load (i32.add (local.get $prev) (local.get $j))))
          (local.set $hl (f64x2.promote_low_f32x4 (local.get $p4)))
          (local.set $hh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p4) (local.get $p4))))
          (if (i32.eqz (local.get $gru))
            (then
              (local.set $hl (v128.bitselect (f64x2.sub (local.get $hl) (local.get $tl)) (local.get $hl) (f64x2.gt (local.get $hl) (local.get $tl))))
              (local.set $hh (v128.bitselect (f64x2.sub (local.get $hh) (local.get $th2)) (local.get $hh) (f64x2.gt (local.get $hh) (local.get $th2))))))))
      ;; x = z·h + (1 − z)·g in float64, rounded to float32
      (local.set $zl (f64x2.promote_low_f32x4 (local.get $z4)))
      (local.set $zh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z4) (local.get $z4))))
      (local.set $hl (f64x2.add (f64x2.mul (local.get $zl) (local.get $hl))
        (f64x2.mul (f64x2.sub (v128.const f64x2 1 1) (local.get $zl)) (f64x2.promote_low_f32x4 (local.get $g4)))))
      (local.set $hh (f64x2.add (f64x2.mul (local.get $zh) (local.get $hh))
        (f64x2.mul (f64x2.sub (v128.const f64x2 1 1) (local.get $zh))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g4) (local.get $g4))))))
      (local.set $x4 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (local.get $hl)) (f32x4.demote_f64x2_zero (local.get $hh))))
      (v128.store (i32.add (local.get $v) (local.get $j)) (local.get $x4))
      ;; events: x > ϑ (every unit for the GRU); near: not an event and |x − ϑ| < window, in float64
      (local.set $evMask (if (result v128) (local.get $gru) (then (v128.const i32x4 -1 -1 -1 -1)) (else (f32x4.gt (local.get $x4) (local.get $th4)))))
      (local.set $nearMask (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
        (f64x2.lt (f64x2.abs (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x4)) (local.get $tl))) (local.get $win2))
        (f64x2.lt (f64x2.abs (f64x2.sub
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x4) (local.get $x4))) (local.get $th2))) (local.get $win2))))
      (local.set $evBits (i32x4.bitmask (local.get $evMask)))
      (local.set $nearBits (i32x4.bitmask (v128.andnot (local.get $nearMask) (local.get $evMask))))
      ;; lane 0: written unconditionally, counted only where it is an event / a near-threshold unit
      (local.set $idx (i32.add (local.get $unitStart) (i32.add (i32.shr_u (local.get $j) (i32.const 2)) (i32.const 0))))
      (i32.store (i32.add (local.get $evIdx) (i32.shl (local.get $ev) (i32.const 2))) (local.get $idx))
      (f32.store (i32.add (local.get $evVal) (i32.shl (local.get $ev) (i32.const 2))) (f32x4.extract_lane 0 (local.get $x4)))
      (local.set $ev (i32.add (local.get $ev) (i32.and (i32.shr_u (local.get $evBits) (i32.const 0)) (i32.const 1))))
      (i32.store (i32.add (local.get $nearIdx) (i32.shl (local.get $near) (i32.const 2))) (local.get $idx))
      (local.set $near (i32.add (local.get $near) (i32.and (i32.shr_u (local.get $nearBits) (i32.const 0)) (i32.const 1))))
      ;; lane 1: written unconditionally, counted only where it is an event / a near-threshold unit
      (local.set $idx (i32.add (local.get $unitStart) (i32.add (i32.shr_u (local.get $j) (i32.const 2)) (i32.const 1))))
      (i32.store (i32.add (local.get $evIdx) (i32.shl (local.get $ev) (i32.const 2))) (local.get $idx))
      (f32.store (i32.add (local.get $evVal) (i32.shl (local.get $ev) (i32.const 2))) (f32x4.extract_lane 1 (local.get $x4)))
      (local.set $ev (i32.add (local.get $ev) (i32.and (i32.shr_u (local.get $evBits) (i32.const 1)) (i32.const 1))))
      (i32.store (i32.add (local.get $nearIdx) (i32.shl (local.get $near) (i32.const 2))) (local.get $idx))
      (local.set $near (i32.add (local.get $near) (i32.and (i32.shr_u (local.get $nearBits) (i32.const 1)) (i32.const 1))))
      ;; lane 2: written unconditionally, counted only where it is an event / a near-threshold unit
      (local.set $idx (i32.add (local.get $unitStart) (i32.add (i32.shr_u (local.get $j) (i32.const 2)) (i32.const 2))))
      (i32.store (i32.add (local.get $evIdx) (i32.shl (local.get $ev) (i32.const 2))) (local.get $idx))
      (f32.store (i32.add (local.get $evVal) (i32.shl (local.get $ev) (i32.const 2))) (f32x4.extract_lane 2 (local.get $x4)))
      (local.set $ev (i32.add (local.get $ev) (i32.and (i32.shr_u (local.get $evBits) (i32.const 2)) (i32.const 1))))
      (i32.store (i32.add (local.get $nearIdx) (i32.shl (local.get $near) (i32.const 2))) (local.get $idx))
      (local.set $near (i32.add (local.get $near) (i32.and (i32.shr_u (local.get $nearBits) (i32.const 2)) (i32.const 1))))
      ;; lane 3: written unconditionally, counted only where it is an event / a near-threshold unit
      (local.set $idx (i32.add (local.get $unitStart) (i32.add (i32.shr_u (local.get $j) (i32.const 2)) (i32.const 3))))
      (i32.store (i32.add (local.get $evIdx) (i32.shl (local.get $ev) (i32.const 2))) (local.get $idx))
      (f32.store (i32.add (local.get $evVal) (i32.shl (local.get $ev) (i32.const 2))) (f32x4.extract_lane 3 (local.get $x4)))
      (local.set $ev (i32.add (local.get $ev) (i32.and (i32.shr_u (local.get $evBits) (i32.const 3)) (i32.const 1))))
      (i32.store (i32.add (local.get $nearIdx) (i32.shl (local.get $near) (i32.const 2))) (local.get $idx))
      (local.set $near (i32.add (local.get $near) (i32.and (i32.shr_u (local.get $nearBits) (i32.const 3)) (i32.const 1))))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $unit4)))
    ;; the last n mod 4 units
    (block $done (loop $unit
      (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
      (local.set $z (f64.promote_f32 (f32.load (i32.add (local.get $gate) (local.get $j)))))
      (local.set $th (f64.promote_f32 (f32.load (i32.add (local.get $thr) (local.get $j)))))
      (local.set $h (f64.const 0))
      (if (i32.ne (local.get $prev) (i32.const -1))
        (then
          (local.set $h (f64.promote_f32 (f32.load (i32.add (local.get $prev) (local.get $j)))))
          (if (i32.and (i32.eqz (local.get $gru)) (f64.gt (local.get $h) (local.get $th)))
            (then (local.set $h (f64.sub (local.get $h) (local.get $th)))))))
      (local.set $x (f32.demote_f64 (f64.add
        (f64.mul (local.get $z) (local.get $h))
        (f64.mul (f64.sub (f64.const 1) (local.get $z))
          (f64.promote_f32 (f32.load (i32.add (i32.add (local.get $gate) (i32.shl (local.get $n4) (i32.const 1))) (local.get $j))))))))
      (f32.store (i32.add (local.get $v) (local.get $j)) (local.get $x))
      (if (i32.or (local.get $gru) (f64.gt (f64.promote_f32 (local.get $x)) (local.get $th)))
        (then
          (i32.store (i32.add (local.get $evIdx) (i32.shl (local.get $ev) (i32.const 2)))
            (i32.add (local.get $unitStart) (i32.shr_u (local.get $j) (i32.const 2))))
          (f32.store (i32.add (local.get $evVal) (i32.shl (local.get $ev) (i32.const 2))) (local.get $x))
          (local.set $ev (i32.add (local.get $ev) (i32.const 1))))
        (else
          (if (f64.lt (f64.abs (f64.sub (f64.promote_f32 (local.get $x)) (local.get $th))) (local.get $win))
            (then
              (i32.store (i32.add (local.get $nearIdx) (i32.shl (local.get $near) (i32.const 2)))
                (i32.add (local.get $unitStart) (i32.shr_u (local.get $j) (i32.const 2))))
              (local.set $near (i32.add (local.get $near) (i32.const 1)))))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $unit)))
    (i32.store (local.get $counts) (local.get $ev))
    (i32.store offset=4 (local.get $counts) (local.get $near))
    (local.get $ev))

  ;; The elementwise backward step of one batch element (evnn and gru cells), float32, for the first n − n mod 4
  ;; units, 4 at a time (the caller runs the last n mod 4 through this code too, staged as a group of 4, so a
  ;; unit's values do not depend on the group split). For unit j (pointers are byte offsets, n floats each unless
  ;; said): gate = [z | r | g] (3n), rg = rh_g, cur = v_t, prev = v_{t−1} (−1 at t = 0: h = 0), thr = ϑ,
  ;; dy = dL/dy_t, carry = dL/dh_t in, dL/dh_{t−1} out; dw = [dz | dr | dg] and drh = [dz | dr | dg·r] (3n each)
  ;; out; gthr += dL/dϑ. $gru = 1: the dense GRU (no threshold, every unit active). Returns the backward-active
  ;; units (an event, or |v − ϑ| < $win = 1/s); hp = γ·(1 − s·|v − ϑ|) is the pseudo-derivative.
  (func (export "cellBackward")
    (param $gate i32) (param $rg i32) (param $cur i32) (param $prev i32) (param $thr i32) (param $dy i32)
    (param $carry i32) (param $dw i32) (param $drh i32) (param $gthr i32) (param $n i32)
    (param $gamma f32) (param $sup f32) (param $win f32) (param $coef f32) (param $gru i32) (result i32)
    (local $j i32) (local $end i32) (local $n4 i32) (local $count v128) (local $p i32)
    (local $z v128) (local $r v128) (local $g v128) (local $v v128) (local $h v128) (local $th v128) (local $o v128)
    (local $dist v128) (local $inw v128) (local $hp v128) (local $dyj v128) (local $dh v128) (local $dv v128)
    (local $dz v128) (local $dg v128) (local $dr v128) (local $act v128)
    (local $one v128) (local $vgamma v128) (local $vsup v128) (local $vwin v128) (local $vcoef v128)
    (local.set $one (v128.const f32x4 1 1 1 1))
    (local.set $vgamma (f32x4.splat (local.get $gamma)))
    (local.set $vsup (f32x4.splat (local.get $sup)))
    (local.set $vwin (f32x4.splat (local.get $win)))
    (local.set $vcoef (f32x4.splat (local.get $coef)))
    (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done (loop $group
      (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
      (local.set $p (i32.add (local.get $gate) (local.get $j)))
      (local.set $z (v128.load (local.get $p)))
      (local.set $r (v128.load (i32.add (local.get $p) (local.get $n4))))
      (local.set $g (v128.load (i32.add (i32.add (local.get $p) (local.get $n4)) (local.get $n4))))
      (local.set $v (v128.load (i32.add (local.get $cur) (local.get $j))))
      (local.set $dyj (v128.load (i32.add (local.get $dy) (local.get $j))))
      (local.set $dh (v128.load (i32.add (local.get $carry) (local.get $j))))
      (local.set $th (v128.load (i32.add (local.get $thr) (local.get $j))))
      (local.set $h (v128.const i32x4 0 0 0 0))
      (if (i32.ne (local.get $prev) (i32.const -1))
        (then
          (local.set $h (v128.load (i32.add (local.get $prev) (local.get $j))))
          ;; egru: h = v_{t−1} − ϑ where v_{t−1} > ϑ (the reset after an event)
          (if (i32.eqz (local.get $gru))
            (then (local.set $h (f32x4.sub (local.get $h) (v128.and (local.get $th) (f32x4.gt (local.get $h) (local.get $th)))))))))
      (if (local.get $gru)
        (then
          (local.set $dv (f32x4.add (local.get $dyj) (local.get $dh)))
          (local.set $act (v128.const i32x4 -1 -1 -1 -1)))
        (else
          (local.set $o (v128.and (f32x4.gt (local.get $v) (local.get $th)) (local.get $one)))
          (local.set $dist (f32x4.abs (f32x4.sub (local.get $v) (local.get $th))))
          (local.set $inw (f32x4.lt (local.get $dist) (local.get $vwin)))
          (local.set $hp (v128.and (local.get $inw)
            (f32x4.mul (local.get $vgamma) (f32x4.sub (local.get $one) (f32x4.mul (local.get $vsup) (local.get $dist))))))
          (local.set $act (v128.or (local.get $inw) (f32x4.gt (local.get $v) (local.get $th))))
          ;; dv = dy·(o + v·hp) + dh·(1 − ϑ·hp) + coef·hp
          (local.set $dv (f32x4.add (f32x4.add
            (f32x4.mul (local.get $dyj) (f32x4.add (local.get $o) (f32x4.mul (local.get $v) (local.get $hp))))
            (f32x4.mul (local.get $dh) (f32x4.sub (local.get $one) (f32x4.mul (local.get $th) (local.get $hp)))))
            (f32x4.mul (local.get $vcoef) (local.get $hp))))
          ;; dϑ += −dy·v·hp + dh·(ϑ·hp − o) − coef·hp
          (local.set $p (i32.add (local.get $gthr) (local.get $j)))
          (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
            (f32x4.sub (f32x4.add
              (f32x4.neg (f32x4.mul (f32x4.mul (local.get $dyj) (local.get $v)) (local.get $hp)))
              (f32x4.mul (local.get $dh) (f32x4.sub (f32x4.mul (local.get $th) (local.get $hp)) (local.get $o))))
              (f32x4.mul (local.get $vcoef) (local.get $hp)))))))
      (local.set $count (i32x4.sub (local.get $count) (local.get $act)))
      ;; dz = dv·(h − g)·z·(1 − z); dg = dv·(1 − z)·(1 − g²); dr = dg·rh_g·r·(1 − r)
      (local.set $dz (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dv) (f32x4.sub (local.get $h) (local.get $g))) (local.get $z))
        (f32x4.sub (local.get $one) (local.get $z))))
      (local.set $dg (f32x4.mul (f32x4.mul (local.get $dv) (f32x4.sub (local.get $one) (local.get $z)))
        (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
      (local.set $dr (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dg) (v128.load (i32.add (local.get $rg) (local.get $j))))
        (local.get $r)) (f32x4.sub (local.get $one) (local.get $r))))
      (v128.store (i32.add (local.get $carry) (local.get $j)) (f32x4.mul (local.get $dv) (local.get $z)))
      (local.set $p (i32.add (local.get $dw) (local.get $j)))
      (v128.store (local.get $p) (local.get $dz))
      (v128.store (i32.add (local.get $p) (local.get $n4)) (local.get $dr))
      (v128.store (i32.add (i32.add (local.get $p) (local.get $n4)) (local.get $n4)) (local.get $dg))
      (local.set $p (i32.add (local.get $drh) (local.get $j)))
      (v128.store (local.get $p) (local.get $dz))
      (v128.store (i32.add (local.get $p) (local.get $n4)) (local.get $dr))
      (v128.store (i32.add (i32.add (local.get $p) (local.get $n4)) (local.get $n4)) (f32x4.mul (local.get $dg) (local.get $r)))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $group)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $count)) (i32x4.extract_lane 1 (local.get $count)))
      (i32.add (i32x4.extract_lane 2 (local.get $count)) (i32x4.extract_lane 3 (local.get $count)))))

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

  ;; dst[k] = src[k], k < len (blocks of 4, then one by one); the ranges do not overlap.
  (func (export "copy") (param $dst i32) (param $src i32) (param $len i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
    (block $d4 (loop $l4
      (br_if $d4 (i32.ge_u (local.get $dst) (local.get $end4)))
      (v128.store (local.get $dst) (v128.load (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br $l4)))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $dst) (local.get $end)))
      (f32.store (local.get $dst) (f32.load (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (br $l1))))

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

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Optimiser updates (model/optim.ts) over `pairs` pairs of floats, two lanes of float64 (f64x2) rounded to
  ;; float32 on store: the operations and their order are those of the JavaScript loops in model/optim.ts
  ;; (which also update an odd last element and tensors outside this memory), each correctly rounded, so the
  ;; same bits.

  ;; Adam with AdamW decay, in place at $p (parameters), $m and $v (moments), from $g (gradients):
  ;; gᵢ = g·scale; m ← b1·m + c1·gᵢ; v ← b2·v + (c2·gᵢ)·gᵢ; p ← p·decay − (rate·m) / (√(v·ibc2) + eps), the last
  ;; with m and v before their rounding (c = 1 − b; rate = lr / bc1 and ibc2 = 1 / bc2 fold in the bias corrections).
  (func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $pairs i32)
    (param $scale f64) (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $decay f64)
    (param $rate f64) (param $ibc2 f64) (param $eps f64)
    (local $end i32) (local $vscale v128) (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128)
    (local $vdecay v128) (local $vrate v128) (local $vibc2 v128) (local $veps v128) (local $gi v128) (local $mi v128)
    (local $vi v128)
    (local.set $vscale (f64x2.splat (local.get $scale)))
    (local.set $vb1 (f64x2.splat (local.get $b1)))
    (local.set $vc1 (f64x2.splat (local.get $c1)))
    (local.set $vb2 (f64x2.splat (local.get $b2)))
    (local.set $vc2 (f64x2.splat (local.get $c2)))
    (local.set $vdecay (f64x2.splat (local.get $decay)))
    (local.set $vrate (f64x2.splat (local.get $rate)))
    (local.set $vibc2 (f64x2.splat (local.get $ibc2)))
    (local.set $veps (f64x2.splat (local.get $eps)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $pairs) (i32.const 3))))
    (block $done (loop $pair
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $gi (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))) (local.get $vscale)))
      (local.set $mi (f64x2.add
        (f64x2.mul (local.get $vb1) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $m))))
        (f64x2.mul (local.get $vc1) (local.get $gi))))
      (local.set $vi (f64x2.add
        (f64x2.mul (local.get $vb2) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $v))))
        (f64x2.mul (f64x2.mul (local.get $vc2) (local.get $gi)) (local.get $gi))))
      (v128.store64_lane 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $mi)))
      (v128.store64_lane 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vi)))
      (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub
        (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (local.get $vdecay))
        (f64x2.div (f64x2.mul (local.get $vrate) (local.get $mi))
          (f64x2.add (f64x2.sqrt (f64x2.mul (local.get $vi) (local.get $vibc2))) (local.get $veps))))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $g (i32.add (local.get $g) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 8)))
      (local.set $v (i32.add (local.get $v) (i32.const 8)))
      (br $pair))))

  ;; SGD in place at $p (parameters) and $buf (momentum buffers, untouched when $mu = 0), from $g (gradients):
  ;; d = g·scale + l2·p; with momentum d ← mu·buf + d and buf ← d; p ← p − lr·d (d before its rounding).
  (func (export "sgd") (param $p i32) (param $g i32) (param $buf i32) (param $pairs i32)
    (param $scale f64) (param $l2 f64) (param $mu f64) (param $lr f64)
    (local $end i32) (local $momentum i32) (local $vscale v128) (local $vl2 v128) (local $vmu v128) (local $vlr v128)
    (local $pi v128) (local $d v128)
    (local.set $momentum (f64.ne (local.get $mu) (f64.const 0)))
    (local.set $vscale (f64x2.splat (local.get $scale)))
    (local.set $vl2 (f64x2.splat (local.get $l2)))
    (local.set $vmu (f64x2.splat (local.get $mu)))
    (local.set $vlr (f64x2.splat (local.get $lr)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $pairs) (i32.const 3))))
    (block $done (loop $pair
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $pi (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))))
      (local.set $d (f64x2.add
        (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))) (local.get $vscale))
        (f64x2.mul (local.get $vl2) (local.get $pi))))
      (if (local.get $momentum)
        (then
          (local.set $d (f64x2.add
            (f64x2.mul (local.get $vmu) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $buf)))) (local.get $d)))
          (v128.store64_lane 0 (local.get $buf) (f32x4.demote_f64x2_zero (local.get $d)))
          (local.set $buf (i32.add (local.get $buf) (i32.const 8)))))
      (v128.store64_lane 0 (local.get $p)
        (f32x4.demote_f64x2_zero (f64x2.sub (local.get $pi) (f64x2.mul (local.get $vlr) (local.get $d)))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $g (i32.add (local.get $g) (i32.const 8)))
      (br $pair))))

  ;; Σ g² over n floats at $g in float64 (each square exact): four running sums, lanes of two f64x2 over blocks
  ;; of four, added pairwise, then the last n mod 4 in order.
  (func (export "sumSquares") (param $g i32) (param $n i32) (result f64)
    (local $end i32) (local $end4 i32) (local $a v128) (local $b v128) (local $x v128) (local $s f64) (local $y f64)
    (local.set $end (i32.add (local.get $g) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $g) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $four
      (br_if $done4 (i32.ge_u (local.get $g) (local.get $end4)))
      (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))))
      (local.set $a (f64x2.add (local.get $a) (f64x2.mul (local.get $x) (local.get $x))))
      (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $g))))
      (local.set $b (f64x2.add (local.get $b) (f64x2.mul (local.get $x) (local.get $x))))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (br $four)))
    (local.set $a (f64x2.add (local.get $a) (local.get $b)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    (block $done1 (loop $one
      (br_if $done1 (i32.ge_u (local.get $g) (local.get $end)))
      (local.set $y (f64.promote_f32 (f32.load (local.get $g))))
      (local.set $s (f64.add (local.get $s) (f64.mul (local.get $y) (local.get $y))))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (br $one)))
    (local.get $s))
)
