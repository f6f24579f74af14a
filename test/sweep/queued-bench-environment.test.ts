/**
 * A sweep's plan refuses a benchmark setting of its environment that a benchmark does not take
 * (BERT_COMPRESS_MACHINE_LOAD=no, BERT_COMPRESS_TIMING_LOCK naming a folder) before any point runs, since every point
 * benchmarks in this process's environment. A queued sweep's points benchmark on the workers, each checking its own
 * environment before it connects (test/queue/worker-flags.test.ts), and the coordinator benchmarks nothing: its plan
 * (--queue, its --dry-run too) refused the coordinator's value all the same, a point that would run refused.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { planSweepFile } from '../../src/sweep/run.ts';
import { runMain } from '../helpers/cli.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a queued sweep's plan and the coordinator's benchmark environment", () => {
  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    ['BERT_COMPRESS_MACHINE_LOAD no', () => ({ BERT_COMPRESS_MACHINE_LOAD: 'no' }), /^BERT_COMPRESS_MACHINE_LOAD 'no': expected off /],
    ['BERT_COMPRESS_TIMING_LOCK naming a folder', () => ({ BERT_COMPRESS_TIMING_LOCK: t.root }), /^BERT_COMPRESS_TIMING_LOCK: .* is a folder, not a lock file/],
  ];

  it.each(cases)('%s: a local plan refuses it, a queued plan plans the points', async (_, env, line) => {
    const store = join(t.root, 'env.sqlite');
    for (const [name, value] of Object.entries(env())) vi.stubEnv(name, value);
    await expect(planSweepFile({ file: t.sweepFile, store })).rejects.toThrow(line);
    const { points } = await planSweepFile({ file: t.sweepFile, store, queued: true });
    expect(points.length).toBeGreaterThan(1);
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
