/**
 * A projection whose weight is an embedding table read transposed (an MLM decoder tied to the word embedding): when
 * the table is already stored int8 with the scales the projection needs (per row against per output channel, or one
 * scale for both), the projection can read those int8 values instead of a second quantized copy, and the file holds
 * the table once. The dynamic int8 and the QDQ formulations both use it.
 */
import { readFloat32 } from '../../onnx/tensor.ts';
import type { RewriteContext, TensorRecord, WeightScheme } from '../registry.ts';
import type { Projection } from './projection.ts';
import { tableKey } from './embedding.ts';

export interface TiedTable {
  /** The table's int8 initializer, [out, in] for the projection. */
  values: string;
  /** The per-row scales as one scale per output channel, or (one scale) the table's scalar scale initializer. */
  scales: Float32Array | string;
  /** The table's int8 zero point initializer (per tensor, opset >= 10), if it has one. */
  zeroPoint?: string;
  /** The table's record, for the projection's record. */
  record: TensorRecord;
}

/** The int8 table `p` can read instead of a copy of its own (stored with the scheme's range), or undefined. */
export function tiedTable(p: Projection, scheme: WeightScheme & { kind: 'int8' }, ctx: RewriteContext): TiedTable | undefined {
  const lin = p.linear;
  const granularity = scheme.granularity.kind;
  if (lin.layout !== 'out_in' || p.alpha !== 1 || (granularity !== 'channel' && granularity !== 'tensor')) return undefined;
  const table = ctx.weights.get(tableKey(lin.weight, granularity === 'channel', scheme.reduceRange));
  if (!table) return undefined;
  const [values, scale, zeroPoint] = table.names;
  const stored = ctx.edit.graph.initializers.get(values);
  const scales = ctx.edit.graph.initializers.get(scale);
  if (!stored || !scales || stored.dims[0] !== lin.outFeatures || stored.dims[1] !== lin.inFeatures) return undefined;
  return {
    values,
    scales: granularity === 'channel' ? readFloat32(scales) : scale,
    ...(zeroPoint ? { zeroPoint } : {}),
    record: table.record,
  };
}
