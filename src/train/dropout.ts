/**
 * Dropout masks as data. The gradient graph takes each dropout site's mask as an input, so the forward and backward
 * passes of a step use the same mask and a step can be replayed: the mask of step s at site k is a pure function of
 * (seed, s, k) (`counterState`), whatever ran before. Values are 0 (dropped) or 1/(1−p) (kept, rescaled as
 * torch.nn.Dropout does in training), each kept with probability 1−p (exactly 1 − ⌈p·2³²⌉/2³²).
 */
import { counterState } from './random.ts';

/** Checks a dropout probability: a number in [0, 1]. */
function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability 'p' must be in [0, 1], got ${p}`);
}

/**
 * Fills `out` with the mask of `site` at `step` and returns it. The hot loop keeps the sfc32 state in locals: about
 * 2 ns a value into a reused buffer (10M values in ~20 ms on these machines; a fresh 40 MB buffer adds ~100 ms of
 * first-touch page faults, so reuse buffers across steps).
 */
export function dropoutMaskInto(out: Float32Array, seed: number, step: number, site: string, p: number): Float32Array {
  checkProbability(p);
  const n = out.length;
  if (p === 0) return out.fill(1);
  if (p === 1) return out.fill(0);
  // The kept value's float32 bits, written through an int32 view: storing one int per value is about 3× faster in
  // V8 than converting a double to float32 per store.
  const keepBits = new Int32Array(Float32Array.of(1 / (1 - p)).buffer)[0]!;
  const bits = new Int32Array(out.buffer, out.byteOffset, n);
  // Keep when the unsigned 32-bit draw is at or above ⌈p·2³²⌉; compared as signed (draw ^ 2³¹ against threshold − 2³¹)
  // so the loop stays in int32 arithmetic.
  const threshold = (Math.min(Math.ceil(p * 2 ** 32), 2 ** 32 - 1) - 2 ** 31) | 0;
  const state = counterState(seed, `train/dropout/${site}`, step);
  // `| 0` keeps the state in int32 registers (a double-typed start would make V8 compile the loop in float64).
  let a = state[0] | 0,
    b = state[1] | 0,
    c = state[2] | 0,
    d = state[3] | 0;
  for (let i = 0; i < n; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    bits[i] = (t ^ 0x80000000) >= threshold ? keepBits : 0;
  }
  return out;
}

/** The dropout mask of `site` at `step`: `size` values, each 0 or 1/(1−p). */
export function dropoutMask(seed: number, step: number, site: string, size: number, p: number): Float32Array {
  if (!(Number.isSafeInteger(size) && size >= 0)) throw new RangeError(`'size' must be a non-negative integer, got ${size}`);
  return dropoutMaskInto(new Float32Array(size), seed, step, site, p);
}
