;; The AdamW update of optimizer.ts's `update`, four float32 values at a time with WebAssembly SIMD: each value is
;; widened to float64, computed with the same operations in the same order as the TypeScript loop, and rounded to
;; float32 once when stored, so the results are bit-identical to it (test/train/adamw-wasm.test.ts checks that).
;;
;;   g ← g·gradScale;  m ← β₁m + (1−β₁)g;  v ← β₂v + ((1−β₂)g)g;  p ← p·decay − (stepSize·m)/(√v + epsHat)
;;
;; Arguments: byte offsets of p, m, v and g in the imported memory (any alignment), the number of groups of four
;; values, then the float64 coefficients. The caller updates the values after the last full group itself.
;;
;; `sumsq` is optimizer.ts's `sumOfSquares` of one array in the same memory: the squares of its float32 values summed
;; in float64 into four partial sums (positions i mod 4; the values after the last full group into the first), then
;; (s0 + s1) + (s2 + s3), the TypeScript loop's operations in its order, so it returns the same bits.
;;
;; `addrow` is optimizer.ts's `scatterAddRows` for one row: dst[i] += src[i] for n float32 values, each sum rounded to
;; float32 (the TypeScript loop's float64 sum of two float32 values, rounded once, is the same value).
;;
;; Regenerate src/train/adamw-wasm.ts after an edit: npm run wasm
(module
  (import "env" "memory" (memory 1))
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $groups i32)
    (param $beta1 f64) (param $beta2 f64) (param $a1 f64) (param $a2 f64)
    (param $decay f64) (param $stepSize f64) (param $epsHat f64) (param $gradScale f64)
    (local $at i32) (local $end i32)
    (local $g4 v128) (local $m4 v128) (local $v4 v128) (local $p4 v128)
    (local $gl v128) (local $gh v128) (local $ml v128) (local $mh v128) (local $vl v128) (local $vh v128)
    (local $B1 v128) (local $B2 v128) (local $A1 v128) (local $A2 v128)
    (local $D v128) (local $S v128) (local $E v128) (local $G v128)
    (local.set $B1 (f64x2.splat (local.get $beta1)))
    (local.set $B2 (f64x2.splat (local.get $beta2)))
    (local.set $A1 (f64x2.splat (local.get $a1)))
    (local.set $A2 (f64x2.splat (local.get $a2)))
    (local.set $D (f64x2.splat (local.get $decay)))
    (local.set $S (f64x2.splat (local.get $stepSize)))
    (local.set $E (f64x2.splat (local.get $epsHat)))
    (local.set $G (f64x2.splat (local.get $gradScale)))
    (local.set $end (i32.shl (local.get $groups) (i32.const 4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $g4 (v128.load (i32.add (local.get $g) (local.get $at))))
        (local.set $m4 (v128.load (i32.add (local.get $m) (local.get $at))))
        (local.set $v4 (v128.load (i32.add (local.get $v) (local.get $at))))
        (local.set $p4 (v128.load (i32.add (local.get $p) (local.get $at))))
        ;; gi = g·gradScale, for values 0–1 (low) and 2–3 (high: shuffled down into the low half, then widened)
        (local.set $gl (f64x2.mul (f64x2.promote_low_f32x4 (local.get $g4)) (local.get $G)))
        (local.set $gh (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $g4) (local.get $g4))) (local.get $G)))
        ;; mi = β₁m + (1−β₁)gi
        (local.set $ml (f64x2.add (f64x2.mul (local.get $B1) (f64x2.promote_low_f32x4 (local.get $m4)))
                                  (f64x2.mul (local.get $A1) (local.get $gl))))
        (local.set $mh (f64x2.add (f64x2.mul (local.get $B1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $m4) (local.get $m4))))
                                  (f64x2.mul (local.get $A1) (local.get $gh))))
        ;; vi = β₂v + ((1−β₂)gi)gi
        (local.set $vl (f64x2.add (f64x2.mul (local.get $B2) (f64x2.promote_low_f32x4 (local.get $v4)))
                                  (f64x2.mul (f64x2.mul (local.get $A2) (local.get $gl)) (local.get $gl))))
        (local.set $vh (f64x2.add (f64x2.mul (local.get $B2) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v4) (local.get $v4))))
                                  (f64x2.mul (f64x2.mul (local.get $A2) (local.get $gh)) (local.get $gh))))
        ;; m, v stored as float32 (the float64 mi, vi feed p's update, as in the TypeScript loop)
        (v128.store (i32.add (local.get $m) (local.get $at))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $ml)) (f32x4.demote_f64x2_zero (local.get $mh))))
        (v128.store (i32.add (local.get $v) (local.get $at))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $vl)) (f32x4.demote_f64x2_zero (local.get $vh))))
        ;; p = p·decay − (stepSize·mi)/(√vi + epsHat)
        (v128.store (i32.add (local.get $p) (local.get $at))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.sub (f64x2.mul (f64x2.promote_low_f32x4 (local.get $p4)) (local.get $D))
                         (f64x2.div (f64x2.mul (local.get $S) (local.get $ml))
                                    (f64x2.add (f64x2.sqrt (local.get $vl)) (local.get $E)))))
            (f32x4.demote_f64x2_zero
              (f64x2.sub (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $p4) (local.get $p4))) (local.get $D))
                         (f64x2.div (f64x2.mul (local.get $S) (local.get $mh))
                                    (f64x2.add (f64x2.sqrt (local.get $vh)) (local.get $E)))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))
  (func (export "sumsq") (param $a i32) (param $n i32) (result f64)
    (local $at i32) (local $end i32) (local $x4 v128) (local $lo v128) (local $hi v128) (local $s0 f64) (local $x f64)
    (local.set $end (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $x4 (v128.load (i32.add (local.get $a) (local.get $at))))
        ;; lanes (s0, s1) and (s2, s3)
        (local.set $lo (f64x2.add (local.get $lo)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x4)) (f64x2.promote_low_f32x4 (local.get $x4)))))
        (local.set $hi (f64x2.add (local.get $hi)
          (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x4) (local.get $x4)))
                     (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x4) (local.get $x4))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))
    ;; the values after the last full group, into s0
    (local.set $s0 (f64x2.extract_lane 0 (local.get $lo)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $tail
      (loop $more
        (br_if $tail (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $a) (local.get $at)))))
        (local.set $s0 (f64.add (local.get $s0) (f64.mul (local.get $x) (local.get $x))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $more)))
    (f64.add (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $lo)))
             (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))
  (func (export "addrow") (param $dst i32) (param $src i32) (param $n i32)
    (local $at i32) (local $end i32)
    (local.set $end (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (v128.store (i32.add (local.get $dst) (local.get $at))
          (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $at))) (v128.load (i32.add (local.get $src) (local.get $at)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $tail
      (loop $more
        (br_if $tail (i32.ge_u (local.get $at) (local.get $end)))
        (f32.store (i32.add (local.get $dst) (local.get $at))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $at))) (f32.load (i32.add (local.get $src) (local.get $at)))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $more)))))
