/**
 * Truncated SVD of a tall matrix W [rows, cols] (rows ≫ cols, e.g. a 30522 × 768 word embedding) through the
 * eigen-decomposition of its Gram matrix WᵀW: with WᵀW = V Λ Vᵀ, the best rank-k approximation is W Vₖ Vₖᵀ, so
 * W ≈ A·B with A = W Vₖ [rows, k] and B = Vₖᵀ [k, cols]. Cost: rows·cols²/2 for the Gram matrix, ~cols³ for the
 * eigen-decomposition, rows·cols·k for A; everything in float64, the factors returned as float32.
 *
 * Row weights dᵢ ≥ 0 (e.g. how often each token occurs) make it the best rank-k approximation in the weighted norm
 * Σᵢ dᵢ‖wᵢ − âᵢ‖² (the leading eigenvectors of WᵀDW; each row is still projected on them, its best fit in that
 * subspace), so frequent rows are kept more exactly than rows never used: the frequency-weighted low-rank
 * approximation of GroupReduce (Chen et al. 2018), with one rank for all rows.
 *
 * The Gram route squares the condition number, so singular values below ~1e-7·σ₁ are not resolved; that does not
 * matter for the factors (A is W projected on the leading eigenvectors, which are orthonormal to machine
 * precision: at full rank A·B reproduces W to float32 rounding).
 */
import { gramMatrix } from './gram.ts';
import { symmetricEigen } from './symmetric-eigen.ts';

export interface LowRankFactors {
  rows: number;
  cols: number;
  rank: number;
  /** W·Vₖ, row-major [rows, rank]. */
  a: Float32Array;
  /** Vₖᵀ (orthonormal rows), row-major [rank, cols]. */
  b: Float32Array;
  /** Singular values of W (of D^½W with row weights D), largest first (cols of them; tiny ones resolved to ~1e-7·σ₁). */
  singularValues: Float64Array;
  /** ‖W − A·B‖_F / ‖W‖_F of the truncation (0 for an all-zero W); unweighted: √(Σ_{i≥k} σᵢ² / Σ σᵢ²). */
  relativeError: number;
  /** With row weights: the same error in the weighted norm, ‖D^½(W − A·B)‖_F / ‖D^½W‖_F. */
  weightedRelativeError?: number;
}

/** Relative tolerance below which a singular value counts as zero for `numericalRank`. */
export const RANK_TOLERANCE = 1e-5;

/** The rank-`rank` factors A·B of W [rows, cols] (row-major), optionally in the norm of row weights. Pure. */
export function lowRankFactors(w: Float32Array, rows: number, cols: number, rank: number, rowWeights?: Float64Array): LowRankFactors {
  if (!Number.isInteger(rank) || rank < 1 || rank > cols) throw new RangeError(`lowRankFactors: rank ${rank} outside 1..${cols}`);
  if (rowWeights?.some((d) => !(d >= 0 && Number.isFinite(d)))) throw new RangeError('lowRankFactors: row weights must be finite and ≥ 0');
  const { values, vectors } = symmetricEigen(gramMatrix(w, rows, cols, rowWeights), cols);
  const b = new Float32Array(rank * cols);
  for (let k = 0; k < rank; k++) {
    const v = vectors.subarray(k * cols, (k + 1) * cols);
    const sign = largestEntrySign(v);
    for (let c = 0; c < cols; c++) b[k * cols + c] = sign * v[c];
  }
  const basis = Float64Array.from(b);
  const a = projectRows(w, rows, cols, basis, rank);
  const energy = values.map((x) => Math.max(x, 0));
  let total = 0;
  let tail = 0;
  for (let i = 0; i < cols; i++) {
    total += energy[i];
    if (i >= rank) tail += energy[i];
  }
  const spectral = total > 0 ? Math.sqrt(tail / total) : 0;
  return {
    rows,
    cols,
    rank,
    a,
    b,
    singularValues: energy.map(Math.sqrt),
    ...(rowWeights ? { relativeError: projectionError(w, a), weightedRelativeError: spectral } : { relativeError: spectral }),
  };
}

/** ‖W − A·B‖_F / ‖W‖_F for A = W·Bᵀ with orthonormal rows of B: √((‖W‖² − ‖A‖²) / ‖W‖²). */
function projectionError(w: Float32Array, a: Float32Array): number {
  let total = 0;
  for (const x of w) total += x * x;
  let kept = 0;
  for (const x of a) kept += x * x;
  return total > 0 ? Math.sqrt(Math.max(0, total - kept) / total) : 0;
}

/**
 * The same product A·B with the scale split evenly between the factors: column k of A divided and row k of B
 * multiplied by √‖A₍:,k₎‖ (√σₖ for the plain SVD), so A = U√Σ and B = √ΣVᵀ. The model computes the same thing, but
 * training moves both factors at comparable rates: AdamW steps every entry by about the learning rate, and with
 * B = Vᵀ (rows of norm 1) an entry of A changes a token's vector by that much only, while A holds entries of the
 * table's own scale. Pure: returns new arrays.
 */
export function balancedFactors(f: Pick<LowRankFactors, 'a' | 'b' | 'rows' | 'cols' | 'rank'>): { a: Float32Array; b: Float32Array } {
  const { rows, cols, rank } = f;
  const a = Float32Array.from(f.a);
  const b = Float32Array.from(f.b);
  for (let k = 0; k < rank; k++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += a[i * rank + k]! ** 2;
    const c = Math.sqrt(Math.sqrt(s));
    if (!(c > 0)) continue;
    for (let i = 0; i < rows; i++) a[i * rank + k] = a[i * rank + k]! / c;
    for (let j = 0; j < cols; j++) b[k * cols + j] = b[k * cols + j]! * c;
  }
  return { a, b };
}

/** Number of singular values above `tolerance`·σ₁ (0 for an all-zero matrix). */
export function numericalRank(singularValues: Float64Array, tolerance = RANK_TOLERANCE): number {
  const top = singularValues[0] ?? 0;
  if (!(top > 0)) return 0;
  let n = 0;
  for (const s of singularValues) if (s > tolerance * top) n++;
  return n;
}

/** ±1 so that the entry of largest magnitude is positive: a deterministic sign for an eigenvector. */
function largestEntrySign(v: Float64Array): 1 | -1 {
  let best = 0;
  for (const x of v) if (Math.abs(x) > Math.abs(best)) best = x;
  return best < 0 ? -1 : 1;
}

/** W·basisᵀ: row r of the result holds the dot products of row r of W with each of the `k` basis rows. */
function projectRows(w: Float32Array, rows: number, cols: number, basis: Float64Array, k: number): Float32Array {
  const out = new Float32Array(rows * k);
  const x0 = new Float64Array(cols);
  const x1 = new Float64Array(cols);
  for (let r = 0; r < rows; r += 2) {
    const two = r + 1 < rows;
    x0.set(w.subarray(r * cols, (r + 1) * cols));
    if (two) x1.set(w.subarray((r + 1) * cols, (r + 2) * cols));
    for (let j = 0; j < k; j++) {
      const o = j * cols;
      let s0 = 0,
        s1 = 0;
      for (let c = 0; c < cols; c++) {
        const y = basis[o + c];
        s0 += x0[c] * y;
        s1 += x1[c] * y;
      }
      out[r * k + j] = s0;
      if (two) out[(r + 1) * k + j] = s1;
    }
  }
  return out;
}
