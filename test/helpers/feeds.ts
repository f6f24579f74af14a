/** Deterministic encoder inputs for any BERT-family session: ids, a padded mask, token types. */
import { Tensor, type Session } from '../../src/runtime/session.ts';

/** A tiny LCG so tests are reproducible without a dependency. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function encoderFeeds(session: Session, opts: { batch: number; seq: number; vocab: number; seed?: number }): Record<string, Tensor> {
  const rand = lcg(opts.seed ?? 1);
  const { batch, seq } = opts;
  const n = batch * seq;
  const lengths = Array.from({ length: batch }, (_, b) => Math.max(2, seq - ((b * 3) % Math.max(1, seq - 1))));
  const feeds: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    const type = session.inputTypes[name] ?? 'int64';
    const vals = new Array<number>(n);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < seq; t++) {
        const i = b * seq + t;
        const pad = t >= lengths[b];
        if (/mask/i.test(name)) vals[i] = pad ? 0 : 1;
        else if (/type|segment/i.test(name)) vals[i] = t >= lengths[b] / 2 && !pad ? 1 : 0;
        else vals[i] = pad ? 0 : 1 + Math.floor(rand() * (opts.vocab - 1));
      }
    }
    feeds[name] =
      type === 'int32'
        ? new Tensor('int32', Int32Array.from(vals), [batch, seq])
        : new Tensor(
            'int64',
            BigInt64Array.from(vals, (v) => BigInt(v)),
            [batch, seq],
          );
  }
  return feeds;
}

/** Runs a session and returns every output as a Float32Array. */
export async function runAll(session: Session, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const out = await session.run(feeds);
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
  return res;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** True when two float arrays are bit-for-bit identical (NaNs compared by bits). */
export function bitIdentical(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
