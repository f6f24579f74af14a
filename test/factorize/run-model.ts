/** Running an in-memory model in onnxruntime on deterministic encoder inputs, for the factorize and share tests. */
import { encodeModel, type Model } from '../../src/onnx/index.ts';
import { openSession } from '../../src/runtime/session.ts';
import { encoderFeeds, runAll } from '../helpers/feeds.ts';

export interface RunOptions {
  /** Ids are drawn below this. */
  vocab: number;
  batch?: number;
  seq?: number;
  seed?: number;
}

/** Every output of `model` on a seeded padded batch (ids, mask, token types by input name). */
export async function runModel(model: Model, opts: RunOptions): Promise<Record<string, Float32Array>> {
  const session = await openSession(encodeModel(model));
  try {
    const feeds = encoderFeeds(session, { batch: opts.batch ?? 2, seq: opts.seq ?? 9, vocab: opts.vocab, seed: opts.seed });
    return await runAll(session, feeds);
  } finally {
    await session.release();
  }
}

/** Largest |a − b| over every output, relative to the largest |a|. */
export function relativeMaxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let diff = 0;
  let scale = 0;
  for (const k of Object.keys(a)) {
    const x = a[k];
    const y = b[k];
    if (!y || y.length !== x.length) return Infinity;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(x[i]));
    }
  }
  return scale > 0 ? diff / scale : diff;
}
