/**
 * 4-bit block-wise weights in the layout of onnxruntime's com.microsoft MatMulNBits (bits = 4):
 * - the weight W is K × N (K input features, N outputs); each output column n is cut along K into
 *   kBlocks = ceil(K / B) blocks of B weights (the last block padded with code 0, as onnxruntime's quantizer leaves
 *   its zeroed buffer: MatMulNBits reads the first K codes of a column only);
 * - B (uint8) is [N, kBlocks, B / 2]: the codes of column n, block b, in K order, two per byte, the first of each
 *   pair in the low nibble;
 * - scales (float) are [N, kBlocks] (row-major: index n · kBlocks + b);
 * - zero points, when stored, are uint8 [N, ceil(kBlocks / 2)]: each column's block zero points packed like B
 *   (low nibble first), every column starting on a new byte, an odd count's last high nibble 8. Omitted, the zero
 *   point is 8.
 * w ≈ (code - zero point) · scale.
 *
 * Codes, scales and zero points are onnxruntime's MatMul4BitsQuantizer's (quantize_matmul_4bits: MLAS's
 * BlockwiseQuantizer, q4_dq.cpp), in float32 arithmetic: symmetric blocks take the block's max if its magnitude
 * exceeds the min's, else its min, v: scale = v / -8, so v maps to code 0 exactly and every code 0..15 is usable
 * (the scale may be negative, as in llama.cpp's Q4_0); asymmetric blocks span [min(w, 0), max(w, 0)] with 16 levels:
 * scale = (max - min) / 15 and a per-block zero point roundf(-min / scale); code = roundf(w · (1 / scale) + zero
 * point) within 0..15 (roundf: halves away from zero). An all-zero block has scale 0 (-0 symmetric).
 */
import { roundHalfAway } from './rounding.ts';

export interface Int4Blocks {
  /** Input features (rows of W). */
  K: number;
  /** Output features (columns of W). */
  N: number;
  blockSize: number;
  kBlocks: number;
  /** uint8 [N, kBlocks, blockSize / 2]. */
  packed: Uint8Array;
  /** float [N, kBlocks]. */
  scales: Float32Array;
  /** uint8 [N, ceil(kBlocks / 2)] packed 4-bit zero points; undefined for symmetric blocks (zero point 8). */
  zeroPoints?: Uint8Array;
  /** max |w - dequantized w|. */
  maxAbsError: number;
  maxAbs: number;
}

/** Bytes of the packed codes per column block. */
export const blobSize = (blockSize: number) => blockSize / 2;

/** Packs 4-bit codes two per byte, low nibble first (an odd count leaves the last high nibble 0). */
export function packNibbles(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] & 0x0f;
    out[i >> 1] |= i & 1 ? c << 4 : c;
  }
  return out;
}

/** The code at `index` of nibble-packed bytes. */
export function nibble(bytes: Uint8Array, index: number): number {
  const b = bytes[index >> 1];
  return index & 1 ? b >> 4 : b & 0x0f;
}

/** Quantizes W ([K, N], row-major: in × out) into MatMulNBits blocks. */
export function quantizeInt4Blocks(w: Float32Array, K: number, N: number, blockSize: number, symmetric: boolean): Int4Blocks {
  if (w.length !== K * N) throw new RangeError(`quantizeInt4Blocks: ${w.length} values for [${K}, ${N}]`);
  const f32 = Math.fround;
  const kBlocks = Math.ceil(K / blockSize);
  const blob = blobSize(blockSize);
  const packed = new Uint8Array(N * kBlocks * blob);
  const scales = new Float32Array(N * kBlocks);
  const zpRow = Math.ceil(kBlocks / 2);
  const zeroPoints = symmetric ? undefined : new Uint8Array(N * zpRow);
  let maxAbsError = 0;
  let maxAbs = 0;
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < kBlocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = k0; k < k1; k++) {
        const x = w[k * N + n];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      let scale: number;
      let zp: number;
      if (symmetric) {
        scale = f32(-(Math.abs(hi) > Math.abs(lo) ? hi : lo) / 8);
        zp = 8;
      } else {
        lo = Math.min(lo, 0);
        hi = Math.max(hi, 0);
        scale = f32(f32(hi - lo) / 15);
        const zf = scale !== 0 ? -f32(lo / scale) : lo;
        zp = zf < 0 ? 0 : zf > 15 ? 15 : roundHalfAway(zf);
        zeroPoints![n * zpRow + (b >> 1)] |= b & 1 ? zp << 4 : zp;
      }
      scales[n * kBlocks + b] = scale;
      const reciprocal = scale !== 0 ? f32(1 / scale) : 0;
      const base = (n * kBlocks + b) * blob;
      for (let k = k0; k < k1; k++) {
        const x = w[k * N + n];
        const code = Math.max(0, Math.min(15, roundHalfAway(f32(f32(x * reciprocal) + zp))));
        maxAbs = Math.max(maxAbs, Math.abs(x));
        maxAbsError = Math.max(maxAbsError, Math.abs(x - f32((code - zp) * scale)));
        const i = k - k0;
        packed[base + (i >> 1)] |= i & 1 ? code << 4 : code;
      }
    }
    // an odd count of blocks: the last zero point byte's high nibble, which no block reads, is 8 as onnxruntime's
    if (zeroPoints && kBlocks % 2 === 1) zeroPoints[n * zpRow + zpRow - 1] |= 8 << 4;
  }
  return { K, N, blockSize, kBlocks, packed, scales, zeroPoints, maxAbsError, maxAbs };
}

/** The [K, N] float weight the blocks stand for (what MatMulNBits multiplies by). */
export function dequantizeInt4Blocks(q: Int4Blocks): Float32Array {
  const { K, N, blockSize, kBlocks } = q;
  const blob = blobSize(blockSize);
  const zpRow = Math.ceil(kBlocks / 2);
  const out = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < kBlocks; b++) {
      const scale = q.scales[n * kBlocks + b];
      const zp = q.zeroPoints ? nibble(q.zeroPoints.subarray(n * zpRow, (n + 1) * zpRow), b) : 8;
      const block = q.packed.subarray((n * kBlocks + b) * blob, (n * kBlocks + b + 1) * blob);
      for (let i = 0; i < blockSize; i++) {
        const k = b * blockSize + i;
        if (k < K) out[k * N + n] = (nibble(block, i) - zp) * scale;
      }
    }
  }
  return out;
}

/**
 * Whether MatMulNBits blocks of `blockSize` store a K×N weight in fewer bytes than float32: quantize int4-block leaves
 * a projection float otherwise (blocks wider than a narrow model's input pad every column).
 */
export function int4StoresLess(K: number, N: number, blockSize: number, symmetric: boolean): boolean {
  return int4WeightBytes(K, N, blockSize, symmetric) < 4 * K * N;
}

/** Bytes of a MatMulNBits weight (codes, float scales, packed zero points when asymmetric). */
export function int4WeightBytes(K: number, N: number, blockSize: number, symmetric: boolean): number {
  const kBlocks = Math.ceil(K / blockSize);
  return N * kBlocks * blobSize(blockSize) + 4 * N * kBlocks + (symmetric ? 0 : N * Math.ceil(kBlocks / 2));
}
