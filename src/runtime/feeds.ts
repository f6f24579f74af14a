/** Integer id inputs ([batch, seq] token ids, masks, token types) as onnxruntime tensors of the declared type. */
import { Tensor, type Feeds } from './session.ts';

/** One id input: its graph name, element type, dims and values (row-major; int64 values are used as they are). */
export interface IdInput {
  name: string;
  type: 'int64' | 'int32';
  dims: readonly number[];
  values: ArrayLike<number> | BigInt64Array;
}

export function idTensor(input: IdInput): Tensor {
  const dims = [...input.dims];
  const v = input.values;
  if (input.type === 'int32') return new Tensor('int32', v instanceof BigInt64Array ? Int32Array.from(v, Number) : Int32Array.from(v), dims);
  return new Tensor('int64', v instanceof BigInt64Array ? v : BigInt64Array.from(Array.from(v), (x) => BigInt(x)), dims);
}

export function idFeeds(inputs: readonly IdInput[]): Feeds {
  return Object.fromEntries(inputs.map((i) => [i.name, idTensor(i)]));
}
