/** Running in-memory models on the same sample inputs, for before/after comparisons in pass tests. */
import type { Model } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/index.ts';
import { floatValues, openSession, type Feeds } from '../../src/runtime/session.ts';
import { idFeeds } from '../../src/runtime/feeds.ts';
import { encoderFeeds, runAll } from './feeds.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import type { BertStructure } from '../../src/bert/structure.ts';

export function sampleFeeds(model: Model, s: BertStructure, batch = 3, seq = 12): Feeds {
  return idFeeds(sampleInputs(model, s, { batch, seq }));
}

/** Every output of `model` on `feeds` (plus extra feeds such as head masks), as Float32Arrays (float16 ones decoded). */
export async function outputsOf(model: Model, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const s = await openSession(encodeModel(model), { graphOptimizationLevel: 'disabled' });
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, floatValues(v)]));
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

/** max |a − b| / max |a| over every output. */
export function relativeDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  return maxDiff(a, b) / Math.max(maxAbs(a), 1e-12);
}

/**
 * Every output of `model` on a seeded padded batch whose inputs are chosen by name (ids, mask, token types), for
 * graphs whose structure is not the point of the test.
 */
export async function runModel(model: Model, opts: { vocab: number; batch?: number; seq?: number; seed?: number }): Promise<Record<string, Float32Array>> {
  const session = await openSession(encodeModel(model));
  try {
    return await runAll(session, encoderFeeds(session, { batch: opts.batch ?? 2, seq: opts.seq ?? 9, vocab: opts.vocab, seed: opts.seed }));
  } finally {
    await session.release();
  }
}
