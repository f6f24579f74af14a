/**
 * A small, fast, deterministic PRNG for seeded model weights: sfc32 (Chris Doty-Humphrey's Small Fast Counting
 * generator, 32-bit), seeded through splitmix32, with normals by Marsaglia's polar method. The same seed gives the same numbers on
 * every platform and Node version (only 32-bit integer ops and IEEE double math are used; Math.log/cos/sin are
 * not bit-specified by ECMAScript, but V8 uses the same fdlibm ports everywhere).
 *
 * Streams are keyed by (seed, name) so each parameter of a model gets its own stream: a model's weights do not
 * depend on the order they are generated in, nor on the other parameters' sizes.
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit state. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a hash of a string (UTF-16 code units), mixed with a numeric seed: the key of a named stream. */
export function streamKey(seed: number, name = ''): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer (got ${seed})`);
  let h = 0x811c9dc5;
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  for (const w of [lo, hi]) {
    for (let s = 0; s < 32; s += 8) h = Math.imul(h ^ ((w >>> s) & 0xff), 0x01000193);
  }
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A seeded sfc32 generator. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator started from a raw sfc32 state [a, b, c, d] (e.g. a counter-based stream's, src/train/random.ts). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = Object.create(Rng.prototype) as Rng;
    [r.a, r.b, r.c, r.d] = [state[0] | 0, state[1] | 0, state[2] | 0, state[3] | 0];
    return r;
  }

  /** The raw sfc32 state [a, b, c, d]. */
  state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.d];
  }

  /** A generator for `seed` (a safe integer), optionally keyed by a stream name. */
  constructor(seed: number, name = '') {
    let s = streamKey(seed, name);
    this.a = s = splitmix32(s);
    this.b = s = splitmix32(s);
    this.c = s = splitmix32(s);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform double in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** One standard normal sample (Marsaglia's polar method; the second value of the pair is discarded). */
  nextNormal(): number {
    for (;;) {
      const u = (this.nextUint32() | 0) / 2147483648;
      const v = (this.nextUint32() | 0) / 2147483648;
      const s = u * u + v * v;
      if (s < 1 && s !== 0) return u * Math.sqrt((-2 * Math.log(s)) / s);
    }
  }

  /**
   * Fills `out` with normal(mean, std) samples, two per accepted pair of Marsaglia's polar method (no trigonometry:
   * about 11 ns a value). This is the hot loop of seeded model building (110M values for BERT-base), so the
   * generator state lives in locals.
   */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    let { a, b, c, d } = this;
    const n = out.length;
    const INV = 1 / 2147483648;
    let i = 0;
    while (i < n) {
      let t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const u = t * INV; // uniform in [-1, 1)
      t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const v = t * INV;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const m = std * Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = mean + u * m;
      if (i < n) out[i++] = mean + v * m;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Fills `out` with uniform samples in [lo, hi). */
  fillUniform(out: Float32Array | Float64Array, lo = 0, hi = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.nextFloat();
  }
}
