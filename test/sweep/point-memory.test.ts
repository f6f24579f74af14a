/**
 * What a sweep point keeps while its first stage, a train step, trains: the point's model it read to check before any
 * work (compress's check of its input: a model computing NaN refused first) is dropped once checked, where the point
 * kept that copy of the model to the end of the training stage (a train stage after passes holds none either).
 */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { writeQuickSweep, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

/** Each model the point read through loadInput, weakly held. */
const read = vi.hoisted(() => [] as Array<WeakRef<object>>);
/** At each training step, whether a model read through loadInput was still held. */
const alive = vi.hoisted(() => [] as boolean[]);

vi.mock('../../src/export/compress.ts', async (importOriginal) => {
  const compress = await importOriginal<typeof import('../../src/export/compress.ts')>();
  return {
    ...compress,
    loadInput: (...args: Parameters<typeof compress.loadInput>) => {
      const loaded = compress.loadInput(...args);
      read.push(new WeakRef(loaded.model));
      return loaded;
    },
  };
});
vi.mock('../../src/train/run.ts', async (importOriginal) => {
  const run = await importOriginal<typeof import('../../src/train/run.ts')>();
  return {
    ...run,
    runTraining: (o: Parameters<typeof run.runTraining>[0]) =>
      run.runTraining({
        ...o,
        onStep: (...a: Parameters<NonNullable<typeof o.onStep>>) => {
          gc();
          alive.push(read.some((r) => r.deref() !== undefined));
          o.onStep?.(...a);
        },
      }),
  };
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 16, pipelines: ['baseline'] });
});
afterAll(() => t?.cleanup());

describe('a sweep point whose first stage trains', () => {
  it('does not keep the model it checked before training while it trains', async () => {
    const file = writeQuickSweep(
      t.root,
      'memory',
      `models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
pipelines:
  - name: trained
    steps: [{pass: train, settings: {epochs: 1, batchSize: 8, maxExamples: 8, maxLength: 16, dropout: 0}}]
  - name: pruned-trained
    steps: [{pass: prune-ffn, settings: {ratio: 0.5}}, {pass: train, settings: {epochs: 1, batchSize: 8, maxExamples: 8, maxLength: 16, dropout: 0}}]
`,
    );
    const summary = await runSweep({ file, store: join(t.root, 'memory.sqlite') });
    expect(summary.failed).toEqual([]);
    expect(read.length).toBeGreaterThan(0); // (the point's model was read through loadInput, and checked)
    expect(alive.length).toBeGreaterThan(0);
    expect(alive.every((held) => !held)).toBe(true);
  }, 120_000);
});
