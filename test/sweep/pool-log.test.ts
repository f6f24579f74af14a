/**
 * A point's own log lines reach the runner's log with the point they are of, in this process (`--jobs 1`) and from
 * a pool's worker processes (`--jobs N`, `compress worker`), where several points run at once.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { inProcessRunner, workerPool, type PointRunner } from '../../src/sweep/pool.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
const lockEnv = process.env[TIMING_LOCK_ENV];
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
  process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock');
});
afterAll(() => {
  if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
  else process.env[TIMING_LOCK_ENV] = lockEnv;
  t?.cleanup();
});

describe('a runner of points', () => {
  it('gives each log line of a point with the point, in this process and from a worker process', async () => {
    // (a point whose only stage an earlier run finished says it reuses it)
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'ffn', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      eval: { threads: 1 },
      keepModels: true,
    };
    for (const [name, make] of [
      ['in this process', (log) => inProcessRunner(1, log)],
      ['in a worker process', (log) => workerPool(1, 1, log)],
    ] as Array<[string, (log: (line: string, point: { key: string }) => void) => PointRunner]>) {
      const points = await planSweep(parseSweep(doc, t.sweepFile, `${name}.yaml`), { glueDir: t.glueDir, workDir: join(t.root, name) });
      const point = points.find((p) => p.label === 'ffn');
      const lines: Array<[string, string | undefined]> = [];
      const runner = make((line, p) => lines.push([line, p?.key]));
      try {
        await runner.run(point!);
        await runner.run(point!); // goes on from the first run's stage, and says so
      } finally {
        await runner.close();
      }
      expect(lines.length, name).toBeGreaterThan(0);
      expect(
        lines.filter(([, key]) => key !== point!.key),
        name,
      ).toEqual([]);
    }
  });
});
