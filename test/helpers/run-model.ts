/** Running in-memory models on the same sample inputs, for before/after comparisons in pass tests. */
import type { Model } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/index.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import type { BertStructure } from '../../src/bert/structure.ts';

export function sampleFeeds(model: Model, s: BertStructure, batch = 3, seq = 12): Feeds {
  const feeds: Feeds = {};
  for (const i of sampleInputs(model, s, { batch, seq })) {
    feeds[i.name] = i.type === 'int32'
      ? new Tensor('int32', Int32Array.from(i.values), i.dims)
      : new Tensor('int64', BigInt64Array.from(i.values, (v) => BigInt(v)), i.dims);
  }
  return feeds;
}

/** Every output of `model` on `feeds` (plus extra feeds such as head masks), as Float32Arrays. */
export async function outputsOf(model: Model, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const s = await openSession(encodeModel(model), { graphOptimizationLevel: 'disabled' });
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)]));
  } finally {
    await s.release();
  }
}

export function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let m = 0;
  for (const k of Object.keys(b)) {
    if (!a[k] || a[k].length !== b[k].length) return Infinity;
    for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  }
  return m;
}

/** Largest absolute output value, to put a difference in scale. */
export function maxAbs(a: Record<string, Float32Array>): number {
  let m = 0;
  for (const v of Object.values(a)) for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}
