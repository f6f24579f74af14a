/**
 * The Gram matrix WᵀW of a tall row-major float32 matrix, accumulated in float64. Blocked so the hot loop runs
 * over contiguous memory: each block of `BLOCK` rows is transposed into a float64 scratch buffer, and a 2×2
 * register tile of dot products (length `BLOCK`) updates the upper triangle. About 3 s for 30522 × 768 on one
 * core of a current x86 machine.
 */

/** Rows per block: a 768 × 128 float64 scratch buffer (768 KiB) stays in L2. */
const BLOCK = 128;

/**
 * WᵀW for W of shape [rows, cols] (row-major), as a dense symmetric [cols, cols] float64 matrix (row-major); with
 * `rowWeights` (one ≥ 0 per row), Σᵢ dᵢ·wᵢᵀwᵢ = WᵀDW. Pure: `w` is only read.
 */
export function gramMatrix(w: Float32Array | Float64Array, rows: number, cols: number, rowWeights?: Float64Array): Float64Array {
  if (w.length !== rows * cols) throw new RangeError(`gramMatrix: ${w.length} values for a [${rows}, ${cols}] matrix`);
  if (rowWeights && rowWeights.length !== rows) throw new RangeError(`gramMatrix: ${rowWeights.length} row weights for ${rows} rows`);
  const g = new Float64Array(cols * cols);
  const t = new Float64Array(cols * BLOCK);
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const m = Math.min(BLOCK, rows - r0);
    transposeBlock(w, r0, m, cols, t, rowWeights);
    accumulateUpper(t, m, cols, g);
  }
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) g[i * cols + j] = g[j * cols + i];
  return g;
}

/**
 * Copies rows [r0, r0 + m) of `w` into `t` as [cols, BLOCK] (column i of the block is row i of `t`), each row scaled
 * by the square root of its weight when weights are given.
 */
function transposeBlock(w: Float32Array | Float64Array, r0: number, m: number, cols: number, t: Float64Array, rowWeights?: Float64Array): void {
  for (let k = 0; k < m; k++) {
    const base = (r0 + k) * cols;
    const scale = rowWeights ? Math.sqrt(rowWeights[r0 + k]!) : 1;
    for (let i = 0; i < cols; i++) t[i * BLOCK + k] = w[base + i] * scale;
  }
}

/** g[i][j] += Σₖ t[i][k]·t[j][k] for j ≥ i, over the first m entries of each row of `t`. */
function accumulateUpper(t: Float64Array, m: number, cols: number, g: Float64Array): void {
  for (let i = 0; i < cols; i += 2) {
    const i1 = i + 1 < cols ? i + 1 : i;
    const a0 = i * BLOCK;
    const a1 = i1 * BLOCK;
    for (let j = i; j < cols; j += 2) {
      const j1 = j + 1 < cols ? j + 1 : j;
      const b0 = j * BLOCK;
      const b1 = j1 * BLOCK;
      let s00 = 0,
        s01 = 0,
        s10 = 0,
        s11 = 0;
      for (let k = 0; k < m; k++) {
        const x0 = t[a0 + k],
          x1 = t[a1 + k],
          y0 = t[b0 + k],
          y1 = t[b1 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      g[i * cols + j] += s00;
      if (j1 !== j) g[i * cols + j1] += s01;
      // (i1, j) with j = i is the lower-triangle twin of (i, i1): skip it, the symmetric fill-in writes it.
      if (i1 !== i && j !== i) g[i1 * cols + j] += s10;
      if (i1 !== i && j1 !== j) g[i1 * cols + j1] += s11;
    }
  }
}
