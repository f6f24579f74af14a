/**
 * Reproducible randomness for training. Every random choice is a pure function of the run's seed and where it is
 * made (a stream name and a counter such as the step), never of how many numbers were drawn before: a run resumed
 * from a checkpoint at step s draws exactly what the uninterrupted run drew from step s on.
 *
 * The generator is sfc32, as in `src/bert/random.ts` (`Rng`), which is reused for the few, named streams (data
 * order, subsets). Streams drawn once per step (dropout masks) need more than `Rng`'s 32-bit stream key, where two of
 * a few million (step, site) streams would share a key by the birthday bound: `counterState` builds the 128-bit
 * sfc32 state from the name's key and the counter separately, so distinct (name, counter) pairs always start from
 * distinct states.
 */
import { Rng, streamKey } from '../bert/random.ts';

/** The four 32-bit words of an sfc32 generator's state (a, b, c, counter d). */
export type Sfc32State = [number, number, number, number];

/** murmur3's 32-bit finalizer: a bijection on 32-bit values that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The starting state of stream (seed, name, counter), warmed up. `counter` is a non-negative safe integer (a step);
 * its low and high 32 bits fill two state words through bijections, so two counters never give the same state, and
 * sfc32's step is invertible, so their sequences never merge.
 */
export function counterState(seed: number, name: string, counter: number): Sfc32State {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`'counter' must be a non-negative safe integer, got ${counter}`);
  const rng = Rng.fromState([fmix32(streamKey(seed, name)), fmix32((counter >>> 0) ^ 0x6a09e667), fmix32(Math.floor(counter / 2 ** 32) ^ 0xbb67ae85), 1]);
  for (let i = 0; i < 12; i++) rng.nextUint32();
  return rng.state();
}

/** A uniform integer in [0, n) from `rng`, without modulo bias (rejection of the top partial range). */
export function uniformIndex(rng: Rng, n: number): number {
  if (!(Number.isInteger(n) && n > 0 && n <= 2 ** 32)) throw new RangeError(`'n' must be an integer in [1, 2^32], got ${n}`);
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const u = rng.nextUint32();
    if (u < limit) return u % n;
  }
}

/** A uniformly random permutation of 0…n−1 (Fisher–Yates) drawn from `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  if (!(Number.isInteger(n) && n >= 0 && n < 2 ** 31)) throw new RangeError(`'n' must be an integer in [0, 2^31), got ${n}`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = uniformIndex(rng, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** The order in which epoch `epoch` visits n examples: a permutation that depends only on (n, seed, epoch). */
export function shuffledOrder(n: number, seed: number, epoch: number): Int32Array {
  if (!(Number.isSafeInteger(epoch) && epoch >= 0)) throw new RangeError(`'epoch' must be a non-negative integer, got ${epoch}`);
  return permutation(n, new Rng(seed, `train/shuffle/${epoch}`));
}
