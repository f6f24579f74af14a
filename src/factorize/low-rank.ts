/**
 * Truncated SVD of a tall matrix W [rows, cols] (rows ≫ cols, e.g. a 30522 × 768 word embedding) through the
 * eigen-decomposition of its Gram matrix WᵀW: with WᵀW = V Λ Vᵀ, the best rank-k approximation is W Vₖ Vₖᵀ, so
 * W ≈ A·B with A = W Vₖ [rows, k] and B = Vₖᵀ [k, cols]. Cost: rows·cols²/2 for the Gram matrix, ~cols³ for the
 * eigen-decomposition, rows·cols·k for A; everything in float64, the factors returned as float32.
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
  /** Singular values of W, largest first (cols of them; tiny ones are resolved only to ~1e-7·σ₁). */
  singularValues: Float64Array;
  /** ‖W − A·B‖_F / ‖W‖_F of the truncation (0 for an all-zero W): √(Σ_{i≥k} σᵢ² / Σ σᵢ²). */
  relativeError: number;
}

/** Relative tolerance below which a singular value counts as zero for `numericalRank`. */
export const RANK_TOLERANCE = 1e-5;

/** The rank-`rank` factors A·B of W [rows, cols] (row-major). Pure. */
export function lowRankFactors(w: Float32Array, rows: number, cols: number, rank: number): LowRankFactors {
  if (!Number.isInteger(rank) || rank < 1 || rank > cols) throw new RangeError(`lowRankFactors: rank ${rank} outside 1..${cols}`);
  const { values, vectors } = symmetricEigen(gramMatrix(w, rows, cols), cols);
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
  return {
    rows,
    cols,
    rank,
    a,
    b,
    singularValues: energy.map(Math.sqrt),
    relativeError: total > 0 ? Math.sqrt(tail / total) : 0,
  };
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
