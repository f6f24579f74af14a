import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { balancedFactors, gramMatrix, lowRankFactors, numericalRank, symmetricEigen } from '../../src/factorize/index.ts';
import { lcg } from '../helpers/feeds.ts';

/** A [rows, cols] matrix with entries uniform in [-0.5, 0.5). */
function randomMatrix(rows: number, cols: number, seed = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: rows * cols }, () => r() - 0.5);
}

/** X·Y for row-major X [n, k] and Y [k, m]. */
function matmul(x: ArrayLike<number>, y: ArrayLike<number>, n: number, k: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * y[t * m + j];
      out[i * m + j] = s;
    }
  }
  return out;
}

/** ‖x − y‖_F / ‖x‖_F. */
function relativeDistance(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += x[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('gramMatrix', () => {
  it('equals WᵀW computed naively, for sizes that are not multiples of the block or the 2×2 tile', () => {
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [130, 7],
      [257, 16],
    ]) {
      const w = randomMatrix(rows, cols, rows + cols);
      const g = gramMatrix(w, rows, cols);
      for (let i = 0; i < cols; i++) {
        for (let j = 0; j < cols; j++) {
          let s = 0;
          for (let r = 0; r < rows; r++) s += w[r * cols + i] * w[r * cols + j];
          expect(g[i * cols + j]).toBeCloseTo(s, 10);
        }
      }
    }
  });

  it('rejects a length that does not match the shape', () => {
    expect(() => gramMatrix(new Float32Array(5), 2, 3)).toThrow(RangeError);
  });
});

describe('symmetricEigen', () => {
  it('diagonal matrix: eigenvalues largest first with unit vectors', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
    expect(Array.from(values)).toEqual([3, 2, 1]);
    expect(Math.abs(vectors[0 * 3 + 1])).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[1 * 3 + 2])).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[2 * 3 + 0])).toBeCloseTo(1, 12);
  });

  it('random symmetric matrix: A·v = λ·v and the vectors are orthonormal', () => {
    const n = 40;
    const w = randomMatrix(60, n, 3);
    const a = gramMatrix(w, 60, n);
    const { values, vectors } = symmetricEigen(a, n);
    const scale = values[0];
    for (let k = 0; k < n; k++) {
      if (k > 0) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += a[i * n + j] * vectors[k * n + j];
        expect(Math.abs(s - values[k] * vectors[k * n + i]) / scale).toBeLessThan(1e-12);
      }
      for (let m = 0; m <= k; m++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += vectors[k * n + j] * vectors[m * n + j];
        expect(dot).toBeCloseTo(m === k ? 1 : 0, 12);
      }
    }
  });

  it('repeated eigenvalues and the zero matrix', () => {
    const id = symmetricEigen(Float64Array.from([2, 0, 0, 2]), 2);
    expect(Array.from(id.values)).toEqual([2, 2]);
    const zero = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    expect(symmetricEigen(new Float64Array(0), 0).values.length).toBe(0);
  });
});

describe('lowRankFactors', () => {
  it('singular values agree with ml-matrix SVD, and the reported error is the true ‖W − AB‖/‖W‖', () => {
    const [rows, cols] = [120, 24];
    const w = randomMatrix(rows, cols, 5);
    const svd = new SingularValueDecomposition(new Matrix(Array.from({ length: rows }, (_, r) => Array.from(w.subarray(r * cols, (r + 1) * cols)))));
    for (const rank of [1, 6, 23]) {
      const f = lowRankFactors(w, rows, cols, rank);
      svd.diagonal.forEach((s, i) => expect(f.singularValues[i]).toBeCloseTo(s, 8));
      const ab = matmul(f.a, f.b, rows, rank, cols);
      expect(f.relativeError).toBeCloseTo(relativeDistance(w, ab), 6);
      // Eckart–Young: the error of the best rank-k approximation is the tail of the singular values.
      const tail = svd.diagonal.slice(rank).reduce((s, x) => s + x * x, 0);
      const all = svd.diagonal.reduce((s, x) => s + x * x, 0);
      expect(f.relativeError).toBeCloseTo(Math.sqrt(tail / all), 8);
    }
  });

  it('rank = numerical rank reconstructs a rank-deficient W within 1e-4 relative', () => {
    const [rows, cols, r] = [300, 32, 7];
    const w = matmul(randomMatrix(rows, r, 8), randomMatrix(r, cols, 9), rows, r, cols);
    const full = lowRankFactors(w, rows, cols, r);
    expect(numericalRank(full.singularValues)).toBe(r);
    expect(relativeDistance(w, matmul(full.a, full.b, rows, r, cols))).toBeLessThan(1e-4);
    expect(full.relativeError).toBeLessThan(1e-4);
    // One fewer loses a whole direction.
    expect(lowRankFactors(w, rows, cols, r - 1).relativeError).toBeGreaterThan(1e-2);
  });

  it('B has orthonormal rows and A = W·Bᵀ', () => {
    const [rows, cols, rank] = [50, 10, 4];
    const w = randomMatrix(rows, cols, 11);
    const f = lowRankFactors(w, rows, cols, rank);
    for (let i = 0; i < rank; i++) {
      for (let j = 0; j < rank; j++) {
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += f.b[i * cols + c] * f.b[j * cols + c];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 6);
      }
    }
    const bt = new Float32Array(cols * rank);
    for (let i = 0; i < rank; i++) for (let c = 0; c < cols; c++) bt[c * rank + i] = f.b[i * cols + c];
    expect(relativeDistance(f.a, matmul(w, bt, rows, cols, rank))).toBeLessThan(1e-6);
  });

  it('is deterministic (eigenvector signs are fixed)', () => {
    const w = randomMatrix(40, 8, 2);
    const x = lowRankFactors(w, 40, 8, 3);
    const y = lowRankFactors(Float32Array.from(w), 40, 8, 3);
    expect(Array.from(x.a)).toEqual(Array.from(y.a));
    expect(Array.from(x.b)).toEqual(Array.from(y.b));
  });

  it('all-zero matrix: zero error, zero numerical rank, no NaN', () => {
    const f = lowRankFactors(new Float32Array(20 * 4), 20, 4, 2);
    expect(f.relativeError).toBe(0);
    expect(numericalRank(f.singularValues)).toBe(0);
    expect(f.a.every((x) => x === 0)).toBe(true);
    expect(f.b.every(Number.isFinite)).toBe(true);
  });

  it('wide matrix (fewer rows than columns)', () => {
    const w = randomMatrix(3, 8, 4);
    const f = lowRankFactors(w, 3, 8, 3);
    expect(numericalRank(f.singularValues)).toBe(3);
    expect(relativeDistance(w, matmul(f.a, f.b, 3, 3, 8))).toBeLessThan(1e-5);
  });

  it('row weights: the best fit in the weighted norm (SVD of D^½W), rows projected unweighted, both errors reported', () => {
    const [rows, cols, rank] = [90, 12, 3];
    const w = randomMatrix(rows, cols, 21);
    const weights = Float64Array.from({ length: rows }, (_, r) => (r % 9 === 0 ? 400 : 1));
    const f = lowRankFactors(w, rows, cols, rank, weights);
    // Singular values of D^½W, as ml-matrix computes them.
    const scaled = Array.from({ length: rows }, (_, r) => Array.from(w.subarray(r * cols, (r + 1) * cols), (x) => x * Math.sqrt(weights[r])));
    const svd = new SingularValueDecomposition(new Matrix(scaled));
    svd.diagonal.forEach((s, i) => expect(f.singularValues[i]).toBeCloseTo(s, 6));
    const ab = matmul(f.a, f.b, rows, rank, cols);
    expect(f.relativeError).toBeCloseTo(relativeDistance(w, ab), 6);
    const weighted = (x: Float32Array) => {
      let num = 0,
        den = 0;
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          num += weights[r] * (w[r * cols + c] - x[r * cols + c]) ** 2;
          den += weights[r] * w[r * cols + c] ** 2;
        }
      return Math.sqrt(num / den);
    };
    expect(f.weightedRelativeError).toBeCloseTo(weighted(ab), 6);
    // The heavy rows are fitted better than by the unweighted SVD, the unweighted error is worse: a real trade.
    const plain = lowRankFactors(w, rows, cols, rank);
    const plainAb = matmul(plain.a, plain.b, rows, rank, cols);
    expect(plain.weightedRelativeError).toBeUndefined();
    expect(weighted(ab)).toBeLessThan(weighted(plainAb) - 0.05);
    expect(f.relativeError).toBeGreaterThan(plain.relativeError);
    // Equal weights change nothing.
    const even = lowRankFactors(w, rows, cols, rank, new Float64Array(rows).fill(3));
    expect(relativeDistance(plainAb, matmul(even.a, even.b, rows, rank, cols))).toBeLessThan(1e-5);
  });

  it('rejects negative, non-finite or miscounted row weights', () => {
    const w = randomMatrix(4, 3);
    expect(() => lowRankFactors(w, 4, 3, 1, Float64Array.from([1, -1, 1, 1]))).toThrow(RangeError);
    expect(() => lowRankFactors(w, 4, 3, 1, Float64Array.from([1, Number.NaN, 1, 1]))).toThrow(RangeError);
    expect(() => lowRankFactors(w, 4, 3, 1, Float64Array.from([1, 1]))).toThrow(RangeError);
  });

  it('balancedFactors: the same product, with ‖A column k‖ = ‖B row k‖ = √σₖ', () => {
    const [rows, cols, rank] = [70, 12, 5];
    const w = randomMatrix(rows, cols, 17);
    const f = lowRankFactors(w, rows, cols, rank);
    const g = balancedFactors(f);
    expect(relativeDistance(matmul(f.a, f.b, rows, rank, cols), matmul(g.a, g.b, rows, rank, cols))).toBeLessThan(1e-6);
    for (let k = 0; k < rank; k++) {
      let ca = 0,
        rb = 0;
      for (let i = 0; i < rows; i++) ca += g.a[i * rank + k] ** 2;
      for (let j = 0; j < cols; j++) rb += g.b[k * cols + j] ** 2;
      expect(Math.sqrt(ca)).toBeCloseTo(Math.sqrt(f.singularValues[k]), 4);
      expect(Math.sqrt(rb)).toBeCloseTo(Math.sqrt(f.singularValues[k]), 4);
    }
    // The inputs are not modified; an all-zero column stays zero (no division by zero).
    expect(Array.from(f.b.subarray(0, cols)).reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 5);
    const zero = balancedFactors(lowRankFactors(new Float32Array(20 * 4), 20, 4, 2));
    expect([...zero.a, ...zero.b].every(Number.isFinite)).toBe(true);
  });

  it('rejects ranks outside 1..cols', () => {
    const w = randomMatrix(4, 3);
    for (const rank of [0, -1, 4, 1.5]) expect(() => lowRankFactors(w, 4, 3, rank)).toThrow(RangeError);
  });
});
