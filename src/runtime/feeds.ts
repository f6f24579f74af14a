/** Integer id inputs ([batch, seq] token ids, masks, token types) as onnxruntime tensors of the declared type. */
import { Tensor, type Feeds } from './session.ts';

/** One id input: its graph name, element type, dims and values (row-major). */
export interface IdInput {
  name: string;
  type: 'int64' | 'int32';
  dims: readonly number[];
  values: ArrayLike<number>;
}

export function idTensor(input: IdInput): Tensor {
  const dims = [...input.dims];
  return input.type === 'int32'
    ? new Tensor('int32', Int32Array.from(input.values), dims)
    : new Tensor('int64', BigInt64Array.from(Array.from(input.values), (v) => BigInt(v)), dims);
}

export function idFeeds(inputs: readonly IdInput[]): Feeds {
  return Object.fromEntries(inputs.map((i) => [i.name, idTensor(i)]));
}
