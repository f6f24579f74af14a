;; The fill loop of dropout.ts's `dropoutMaskInto`: sfc32 from state (a, b, c, d), one draw per value, each value the
;; float32 bits of 1/(1−p) when the draw (as a signed int, xor 2³¹) is at or above `threshold`, else 0. Same
;; operations in the same order as the TypeScript loop, so the same bits (test/train/dropout.test.ts checks that),
;; about twice as fast (the loop runs at sfc32's dependency chain; the TypeScript one pays V8's loop overhead).
;;
;; Arguments: the byte offset of the first value in the imported memory (4-byte aligned), the number of values, the
;; state, the threshold and the kept value's bits.
;;
;; Regenerate src/train/dropout-wasm.ts after an edit: npm run wasm
(module
  (import "env" "memory" (memory 1))
  (func (export "fill")
    (param $p i32) (param $n i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32)
    (param $threshold i32) (param $keep i32)
    (local $end i32) (local $t i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (loop $next
        (local.set $t (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $d)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (local.set $a (i32.xor (local.get $b) (i32.shr_u (local.get $b) (i32.const 9))))
        (local.set $b (i32.add (local.get $c) (i32.shl (local.get $c) (i32.const 3))))
        (local.set $c (i32.add (i32.rotl (local.get $c) (i32.const 21)) (local.get $t)))
        (i32.store (local.get $p)
          (select (local.get $keep) (i32.const 0)
            (i32.ge_s (i32.xor (local.get $t) (i32.const 0x80000000)) (local.get $threshold))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $next (i32.lt_u (local.get $p) (local.get $end)))))))
