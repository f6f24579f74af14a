/** Combining the same weight of several layers into one tensor, and measuring how far each layer moves. Pure. */
import type { Tensor } from '../onnx/graph.ts';
import { floatTensorLike, readFloat32 } from '../onnx/tensor.ts';
import { quotedText } from '../errors.ts';

/** Element-wise mean of same-shaped float tensors (accumulated in float64), typed like the first, named `name`. */
export function meanTensor(tensors: readonly Tensor[], name: string): Tensor {
  if (!tensors.length) throw new RangeError('meanTensor: no tensors');
  const first = tensors[0];
  const acc = new Float64Array(readFloat32(first));
  for (const t of tensors.slice(1)) {
    const v = readFloat32(t);
    if (v.length !== acc.length) throw new RangeError(`meanTensor: ${quotedText(t.name)} has ${v.length} elements, ${quotedText(first.name)} ${acc.length}`);
    for (let i = 0; i < acc.length; i++) acc[i] += v[i];
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i] / tensors.length;
  return floatTensorLike(first, name, first.dims, out);
}

/** Σ xᵢ² and Σ (xᵢ − yᵢ)² of two equal-length float tensors: the parts of a relative Frobenius distance. */
export function squaredNormAndDistance(x: Tensor, y: Tensor): { norm2: number; dist2: number } {
  const a = readFloat32(x);
  const b = readFloat32(y);
  if (a.length !== b.length) throw new RangeError(`${quotedText(x.name)} and ${quotedText(y.name)} differ in size`);
  let norm2 = 0;
  let dist2 = 0;
  for (let i = 0; i < a.length; i++) {
    norm2 += a[i] * a[i];
    const d = a[i] - b[i];
    dist2 += d * d;
  }
  return { norm2, dist2 };
}
