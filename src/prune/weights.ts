/** Slicing weight tensors: keep some rows or columns of a matrix, some entries of a vector. Pure functions. */
import type { Tensor } from '../onnx/graph.ts';
import { floatTensorLike, readFloat32 } from '../onnx/tensor.ts';
import { quotedText } from '../errors.ts';

/** Keeps the listed rows of a [rows, cols] matrix. */
export function keepRows(t: Tensor, rows: readonly number[], name = t.name): Tensor {
  const [r, c] = t.dims;
  if (t.dims.length !== 2) throw new Error(`keepRows: ${quotedText(t.name)} is not a matrix (dims [${t.dims}])`);
  const src = readFloat32(t);
  const out = new Float32Array(rows.length * c);
  rows.forEach((row, i) => {
    if (row < 0 || row >= r) throw new RangeError(`keepRows: row ${row} outside ${quotedText(t.name)} (${r} rows)`);
    out.set(src.subarray(row * c, row * c + c), i * c);
  });
  return floatTensorLike(t, name, [rows.length, c], out);
}

/** Keeps the listed columns of a [rows, cols] matrix. */
export function keepColumns(t: Tensor, cols: readonly number[], name = t.name): Tensor {
  const [r, c] = t.dims;
  if (t.dims.length !== 2) throw new Error(`keepColumns: ${quotedText(t.name)} is not a matrix (dims [${t.dims}])`);
  const src = readFloat32(t);
  const out = new Float32Array(r * cols.length);
  for (const col of cols) if (col < 0 || col >= c) throw new RangeError(`keepColumns: column ${col} outside ${quotedText(t.name)} (${c} columns)`);
  for (let i = 0; i < r; i++) {
    const base = i * c;
    const o = i * cols.length;
    for (let j = 0; j < cols.length; j++) out[o + j] = src[base + cols[j]];
  }
  return floatTensorLike(t, name, [r, cols.length], out);
}

/** Keeps the listed entries of a vector. */
export function keepEntries(t: Tensor, idx: readonly number[], name = t.name): Tensor {
  if (t.dims.length !== 1) throw new Error(`keepEntries: ${quotedText(t.name)} is not a vector (dims [${t.dims}])`);
  const src = readFloat32(t);
  for (const i of idx) if (i < 0 || i >= src.length) throw new RangeError(`keepEntries: entry ${i} outside ${quotedText(t.name)} (${src.length} entries)`);
  return floatTensorLike(
    t,
    name,
    [idx.length],
    Float32Array.from(idx, (i) => src[i]),
  );
}

/** Indices of the units (heads, neurons) to keep, expanded to feature indices: unit u covers [u*size, (u+1)*size). */
export function unitFeatures(units: readonly number[], size: number, offset = 0): number[] {
  const out: number[] = [];
  for (const u of units) for (let i = 0; i < size; i++) out.push(offset + u * size + i);
  return out;
}

/**
 * Sum of squares of every output feature (side 'out') or input feature (side 'in') of a projection's weight: the
 * columns of an [in, out] matrix for outputs, its rows for inputs, and the other way round for [out, in].
 */
export function featureSquares(weight: Tensor, layout: 'in_out' | 'out_in', side: 'out' | 'in'): Float64Array {
  const w = readFloat32(weight);
  const [r, c] = weight.dims;
  const featureIsColumn = (layout === 'in_out') === (side === 'out');
  const s = new Float64Array(featureIsColumn ? c : r);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) s[featureIsColumn ? j : i] += w[i * c + j] ** 2;
  return s;
}

/** Sums `perFeature` over consecutive units of `size` features (e.g. a head's headSize features). */
export function unitSums(perFeature: ArrayLike<number>, size: number): Float64Array {
  const out = new Float64Array(Math.floor(perFeature.length / size));
  for (let i = 0; i < out.length * size; i++) out[Math.floor(i / size)] += perFeature[i];
  return out;
}
