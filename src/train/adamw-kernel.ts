/**
 * How AdamW's element-wise update runs, and where its moments live. Two kernels compute the same values bit for
 * bit (test/train/adamw-wasm.test.ts):
 * - `wasm` (the default): the WebAssembly SIMD loop of adamw.wat, four values at a time in float64, about twice as
 *   fast as the TypeScript loop. Its moments live in one WebAssembly memory sized when the optimizer is made (two
 *   values per parameter value, plus two scratch areas of at most SCRATCH_VALUES, plus the arrays it is asked to
 *   host) and never grown, so the views handed out stay valid. A parameter or gradient the kernel hosts (`host`: a
 *   view of its memory) is updated or read where it is; one kept elsewhere is copied into a scratch area a piece at
 *   a time and, for a parameter, back (native copies, a few bytes per value against the kernel's work). The trainer
 *   hosts every parameter and dense gradient, and onnxruntime writes the gradients into their views.
 * - `js`: the TypeScript loop (`update`), with moments in ordinary arrays. Used when asked for, or when the memory
 *   would exceed WebAssembly's 4 GiB (over ~450M parameter values).
 */
import { ADAMW_WASM_BASE64 } from './adamw-wasm.ts';

/** The scalars of one update of one parameter. */
export interface Coefficients {
  beta1: number;
  beta2: number;
  /** 1 − lr·wd (1 without decay). */
  decay: number;
  /** lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ): the step size with the second moment's bias correction moved into the numerator. */
  stepSize: number;
  /** ε·√(1 − β₂ᵗ), the ε of the same rearranged quotient. */
  epsHat: number;
  /** Factor applied to every gradient value as it is read (clipping's scale; 1 otherwise). */
  gradScale: number;
}

/**
 * Applies the AdamW update to `len` elements: p, m, v from `at`, gradients from `gAt`. (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ)
 * + ε) is computed as (lr·√(1−β₂ᵗ)/(1−β₁ᵗ))·m/(√v + ε·√(1−β₂ᵗ)): the same value with one division per element
 * instead of two (about 30% faster here). Each value in float64, stored as float32.
 */
export function update(p: Float32Array, m: Float32Array, v: Float32Array, at: number, g: Float32Array, gAt: number, len: number, k: Coefficients): void {
  const { beta1, beta2, epsHat, decay, stepSize, gradScale } = k;
  const a1 = 1 - beta1;
  const a2 = 1 - beta2;
  for (let i = 0; i < len; i++) {
    const j = at + i;
    const gi = g[gAt + i] * gradScale;
    const mi = beta1 * m[j] + a1 * gi;
    const vi = beta2 * v[j] + a2 * gi * gi;
    m[j] = mi;
    v[j] = vi;
    p[j] = p[j] * decay - (stepSize * mi) / (Math.sqrt(vi) + epsHat);
  }
}

export type KernelName = 'wasm' | 'js';

/** The first and second moments of one parameter. */
export interface Moments {
  readonly m: Float32Array;
  readonly v: Float32Array;
}

export interface UpdateKernel {
  readonly name: KernelName;
  /** Zeroed moments for a parameter of `length` values (call once per parameter). */
  moments(length: number): Moments;
  /** Updates all of `p` (moments `mo`) with `g`. */
  dense(p: Float32Array, mo: Moments, g: Float32Array, k: Coefficients): void;
  /** Updates rows `rows` of the [rows, width] table `p` with `rowGrads` (rows.length × width, in `rows`' order). */
  rows(p: Float32Array, mo: Moments, rows: ArrayLike<number>, rowGrads: Float32Array, width: number, k: Coefficients): void;
  /**
   * A zeroed array of `length` values in the kernel's own memory (64-byte aligned), for a parameter or a gradient
   * that `dense`/`rows` then read and write in place; undefined when the kernel hosts nothing (js) or its room for
   * hosted arrays (`hostValues` of `updateKernel`) is used up.
   */
  host(length: number): Float32Array | undefined;
  /**
   * optimizer.ts `squares(a)` (the sum of the squares of `a`'s values, four partial sums) with the same bits, computed
   * by the kernel where `a` is in its memory (a hosted array); undefined for an array elsewhere, or by the js kernel.
   */
  squares(a: Float32Array): number | undefined;
  /**
   * optimizer.ts `scatterAddRows(target, indices, rowGrads, width)` with the same bits, by the kernel where `target` is
   * in its memory (the rows copied into a scratch area a piece at a time); false (nothing done) otherwise, or by the
   * js kernel. Indices are checked as scatterAddRows checks them, before any row is added.
   */
  scatterAdd(target: Float32Array, indices: BigInt64Array | Int32Array, rowGrads: Float32Array, width: number): boolean;
}

function jsKernel(): UpdateKernel {
  return {
    name: 'js',
    moments: (length) => ({ m: new Float32Array(length), v: new Float32Array(length) }),
    dense: (p, mo, g, k) => update(p, mo.m, mo.v, 0, g, 0, p.length, k),
    rows(p, mo, rows, rowGrads, width, k) {
      for (let r = 0; r < rows.length; r++) update(p, mo.m, mo.v, rows[r] * width, rowGrads, r * width, width, k);
    },
    host: () => undefined,
    squares: () => undefined,
    scatterAdd: () => false,
  };
}

type AdamwExport = (
  p: number,
  m: number,
  v: number,
  g: number,
  groups: number,
  beta1: number,
  beta2: number,
  a1: number,
  a2: number,
  decay: number,
  stepSize: number,
  epsHat: number,
  gradScale: number,
) => void;

type SumsqExport = (a: number, n: number) => number;
type AddrowExport = (dst: number, src: number, n: number) => void;

let compiled: WebAssembly.Module | undefined;
const PAGE = 65536;
const MAX_PAGES = 65536;

/** Values rounded up to a multiple of 4 (16-byte regions). */
const padded = (n: number) => Math.ceil(n / 4) * 4;
/** Values rounded up to a multiple of 16 (64-byte regions, the alignment of a hosted array). */
const aligned = (n: number) => Math.ceil(n / 16) * 16;

/** The room `host` needs for arrays of `lengths` (values, alignment included): `updateKernel`'s `hostValues`. */
export function hostedValues(lengths: Iterable<number>): number {
  let sum = 0;
  for (const n of lengths) sum += aligned(n);
  return sum;
}

/**
 * Values of each of the two scratch areas (a parameter's values, a gradient's) through which the wasm kernel updates
 * arrays kept outside its memory, a piece at a time: 1 MB each, where areas the size of the largest parameter
 * (an embedding table: 0.75× the weights of a BERT of hidden 512, 0.43× of BERT-base's) stayed allocated through
 * training. The update is element-wise, so the pieces give the bits of one pass. (256 KB areas made the trainer's
 * row-sparse update of a 256-wide table ~20% slower: 1.2 against 1.0 ms for 700 rows; 1 MB ones are as fast as
 * one copy, and faster for 2,000 rows of 768: 4.8 against 5.1 ms.)
 */
export const SCRATCH_VALUES = 262144;

/** A dense update as the rows path sees it: row 0 of a table of one row (an Int32Array, as the trainer's row ids are). */
const FIRST_ROW = Int32Array.of(0);

/**
 * The wasm kernel for parameters of `lengths` (and `hostValues` to host), or undefined when its memory does not fit.
 * `scratchValues` (a multiple of 4) bounds the scratch areas (tests make it small to reach every piece's edge).
 */
function wasmKernel(lengths: readonly number[], hostValues: number, scratchValues: number): UpdateKernel | undefined {
  const scratch = Math.min(padded(Math.max(0, ...lengths)), scratchValues);
  const values = aligned(2 * scratch + 2 * lengths.reduce((s, n) => s + padded(n), 0)) + hostValues;
  const pages = Math.max(1, Math.ceil((values * 4) / PAGE));
  if (pages > MAX_PAGES) return undefined;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return undefined;
  }
  compiled ??= new WebAssembly.Module(Buffer.from(ADAMW_WASM_BASE64, 'base64'));
  const { exports } = new WebAssembly.Instance(compiled, { env: { memory } });
  const adamw = exports.adamw as AdamwExport;
  const sumsq = exports.sumsq as SumsqExport;
  const addrow = exports.addrow as AddrowExport;
  const heap = new Float32Array(memory.buffer);
  const scratchP = 0;
  const scratchG = scratch;
  let next = 2 * scratch;
  /** The hosted arrays come last, from a 64-byte boundary. */
  let nextHosted = aligned(2 * scratch + 2 * lengths.reduce((s, n) => s + padded(n), 0));
  const hostedEnd = nextHosted + hostValues;
  const inHeap = (a: Float32Array) => a.buffer === memory.buffer;
  const run = (p: number, m: number, v: number, g: number, groups: number, k: Coefficients) =>
    adamw(4 * p, 4 * m, 4 * v, 4 * g, groups, k.beta1, k.beta2, 1 - k.beta1, 1 - k.beta2, k.decay, k.stepSize, k.epsHat, k.gradScale);
  /** Where an array of the heap (moments made by `moments()`, a hosted array) starts, in values. */
  const offsetOf = (a: Float32Array): number => {
    if (a.buffer !== memory.buffer) throw new Error("array not in this kernel's memory");
    return a.byteOffset / 4;
  };
  /**
   * Updates values [at, at + len) of rows `rows[r0..r1)` of a [rows, width] table (the whole array: one row of
   * `width` = its length), `len` a multiple of 4: the rows' values and gradients kept outside the memory are copied
   * into the scratch areas (row r at (r − r0)·width) and the values back, `(r1 − r0 − 1)·width + len` ≤ the areas.
   */
  const piece = (
    p: Float32Array,
    mo: Moments,
    rows: ArrayLike<number>,
    r0: number,
    r1: number,
    g: Float32Array,
    width: number,
    at: number,
    len: number,
    k: Coefficients,
  ) => {
    const hostedP = inHeap(p);
    const hostedG = inHeap(g);
    const m = offsetOf(mo.m);
    const v = offsetOf(mo.v);
    const pBase = hostedP ? offsetOf(p) : 0;
    const gBase = hostedG ? offsetOf(g) : 0;
    if (!hostedG) heap.set(g.subarray(r0 * width + at, (r1 - 1) * width + at + len), scratchG);
    for (let r = r0; r < r1; r++) {
      const from = rows[r] * width + at;
      const inScratch = (r - r0) * width;
      if (!hostedP) heap.set(p.subarray(from, from + len), scratchP + inScratch);
      const gAt = hostedG ? gBase + r * width + at : scratchG + inScratch;
      run(hostedP ? pBase + from : scratchP + inScratch, m + from, v + from, gAt, len / 4, k);
      if (!hostedP) p.set(heap.subarray(scratchP + inScratch, scratchP + inScratch + len), from);
    }
  };
  /** `piece` over rows `rows` of `width` values, as many whole rows at a time as the scratch areas hold, or a row in pieces. */
  const update4 = (p: Float32Array, mo: Moments, rows: ArrayLike<number>, g: Float32Array, width: number, k: Coefficients) => {
    const full = width - (width % 4);
    if (full === 0) return;
    // (everything in the memory: one call per row, no copies)
    const span = inHeap(p) && inHeap(g) ? full : Math.min(full, scratch);
    const perGroup = span === full && !(inHeap(p) && inHeap(g)) ? Math.max(1, Math.floor(scratch / width)) : 1;
    for (let r0 = 0; r0 < rows.length; r0 += perGroup) {
      const r1 = Math.min(rows.length, r0 + perGroup);
      for (let at = 0; at < full; at += span) piece(p, mo, rows, r0, r1, g, width, at, Math.min(span, full - at), k);
    }
  };
  return {
    name: 'wasm',
    moments(length) {
      const at = next;
      next += 2 * padded(length);
      if (next > heap.length) throw new Error(`wasm AdamW: moments beyond the memory sized for the parameters`);
      return { m: heap.subarray(at, at + length), v: heap.subarray(at + padded(length), at + padded(length) + length) };
    },
    host(length) {
      if (nextHosted + length > hostedEnd) return undefined;
      const at = nextHosted;
      nextHosted += aligned(length);
      return heap.subarray(at, at + length);
    },
    dense(p, mo, g, k) {
      const n = p.length;
      const full = n - (n % 4);
      update4(p, mo, FIRST_ROW, g, n, k);
      if (full < n) update(p, mo.m, mo.v, full, g, full, n - full, k);
    },
    rows(p, mo, rows, rowGrads, width, k) {
      const full = width - (width % 4);
      update4(p, mo, rows, rowGrads, width, k);
      if (full < width) for (let r = 0; r < rows.length; r++) update(p, mo.m, mo.v, rows[r] * width + full, rowGrads, r * width + full, width - full, k);
    },
    squares: (a) => (inHeap(a) ? sumsq(a.byteOffset, a.length) : undefined),
    scatterAdd(target, indices, rowGrads, width) {
      if (!inHeap(target) || width > scratch) return false;
      const rows = checkedRows(target, indices, rowGrads, width);
      const perPiece = Math.floor(scratch / width);
      const dst = target.byteOffset;
      for (let r0 = 0; r0 < rows.length; r0 += perPiece) {
        const r1 = Math.min(rows.length, r0 + perPiece);
        const src = inHeap(rowGrads) ? rowGrads.byteOffset + 4 * r0 * width : 4 * scratchG;
        if (!inHeap(rowGrads)) heap.set(rowGrads.subarray(r0 * width, r1 * width), scratchG);
        for (let r = r0; r < r1; r++) addrow(dst + 4 * rows[r]! * width, src + 4 * (r - r0) * width, width);
      }
      return true;
    },
  };
}

/**
 * The row of each index of a scatter-add of `rowGrads` (indices.length × width) into the [rows, width] table `target`,
 * checked as optimizer.ts `scatterAddRows` checks them (the same errors).
 */
export function checkedRows(target: Float32Array, indices: BigInt64Array | Int32Array, rowGrads: Float32Array, width: number): Int32Array {
  const n = indices.length;
  if (!(Number.isInteger(width) && width > 0 && target.length % width === 0)) throw new RangeError(`'width' ${width} does not divide the table into rows`);
  if (rowGrads.length !== n * width) throw new RangeError(`'rowGrads' has ${rowGrads.length} values; ${n} indices × ${width} need ${n * width}`);
  const count = target.length / width;
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = Number(indices[i]);
    if (!(Number.isInteger(id) && id >= 0 && id < count)) throw new RangeError(`index ${id} at position ${i} is outside [0, ${count})`);
    rows[i] = id;
  }
  return rows;
}

/**
 * The kernel asked for, for parameters of `lengths`, with room to host `hostValues` values (`hostedValues`). 'wasm'
 * falls back to hosting nothing when that room does not fit its memory, and to 'js' when the moments alone do not.
 */
export function updateKernel(name: KernelName, lengths: readonly number[], hostValues = 0, scratchValues = SCRATCH_VALUES): UpdateKernel {
  if (name !== 'wasm') return jsKernel();
  if (!(Number.isInteger(scratchValues) && scratchValues > 0 && scratchValues % 4 === 0))
    throw new RangeError(`scratchValues ${scratchValues} is not a positive multiple of 4`);
  return (hostValues > 0 ? wasmKernel(lengths, hostValues, scratchValues) : undefined) ?? wasmKernel(lengths, 0, scratchValues) ?? jsKernel();
}
