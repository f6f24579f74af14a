/**
 * A sweep's plan refuses a benchmark setting of its environment that a benchmark does not take
 * (BERT_COMPRESS_MACHINE_LOAD=no, BERT_COMPRESS_TIMING_LOCK naming a folder) before any point runs, since every point
 * benchmarks in this process's environment. A queued sweep's points benchmark on the workers, each checking its own
 * environment before it connects (test/queue/worker-flags.test.ts), and the coordinator benchmarks nothing: its plan
 * (--queue, its --dry-run too) refused the coordinator's value all the same, a point that would run refused.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSweepFile } from '../../src/sweep/run.ts';
import { runMain } from '../helpers/cli.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

/** `env` set for `work`, then put back. */
async function withEnv<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("a queued sweep's plan and the coordinator's benchmark environment", () => {
  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    ['BERT_COMPRESS_MACHINE_LOAD no', () => ({ BERT_COMPRESS_MACHINE_LOAD: 'no' }), /^BERT_COMPRESS_MACHINE_LOAD 'no': expected off /],
    ['BERT_COMPRESS_TIMING_LOCK naming a folder', () => ({ BERT_COMPRESS_TIMING_LOCK: t.root }), /^BERT_COMPRESS_TIMING_LOCK: .* is a folder, not a lock file/],
  ];

  it.each(cases)('%s: a local plan refuses it, a queued plan plans the points', async (_, env, line) => {
    const store = join(t.root, 'env.sqlite');
    await withEnv(env(), async () => {
      await expect(planSweepFile({ file: t.sweepFile, store })).rejects.toThrow(line);
      const { points } = await planSweepFile({ file: t.sweepFile, store, queued: true });
      expect(points.length).toBeGreaterThan(1);
    });
  });

  it.each(cases)('%s: compress sweep --dry-run --queue plans the points (exit 0); without --queue, exit 2 in one line', async (_, env, line) => {
    const dry = (queue: string[]) => runMain(['sweep', t.sweepFile, '--store', join(t.root, 'dry.sqlite'), '--dry-run', ...queue], env());
    const queued = await dry(['--queue', 'redis://127.0.0.1:1']);
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(0);
    const local = await dry([]);
    expect(local.code).toBe(2);
    expect(local.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(local.stderr.replace(/^compress: /, '')).toMatch(line);
  });
});
