/**
 * `compress sweep --queue`'s closing lines name the failed points a rerun retries apart from those whose input the code
 * running now refuses (an XLM folder of vocab.json and merges.txt), as a local sweep's do: the queue's coordinator is
 * stood in for by the summary it gives back, its failed points planned from a real sweep file and judged as it judges
 * them (failedPoint).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { QueuedSweepSummary } from '../../src/queue/index.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { failedPoint } from '../../src/sweep/run.ts';
import { tokenizerRefusals } from '../../src/sweep/stale.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { writeQuickSweep, writeTinySweep, writeXlmModel } from '../sweep/tiny-sweep.ts';
import { runMain } from '../helpers/cli.ts';

const coordinator = vi.hoisted(() => ({ summary: undefined as QueuedSweepSummary | undefined }));
vi.mock('../../src/queue/index.ts', async (original) => ({
  ...(await original<typeof import('../../src/queue/index.ts')>()),
  runQueuedSweep: async () => coordinator.summary,
}));

describe('compress sweep --queue: its failed points', () => {
  const t = writeTinySweep({ rows: 8 });
  afterAll(() => t.cleanup());

  /**
   * The coordinator's summary of `failed` (each failed with 'failed', judged refused or not as it judges them), as
   * runQueuedSweep gives it back.
   */
  const refusal = tokenizerRefusals();
  const summaryOf = (failed: SweepPoint[]): QueuedSweepSummary => ({
    store: join(t.root, 'queued.sqlite'),
    total: failed.length,
    alreadyDone: 0,
    stale: [],
    contended: { kept: [], recomputed: [], again: [], first: [] },
    sweep: 'queued',
    sweeps: ['queued'],
    ran: 0,
    byOthers: 0,
    failed: failed.map((point) => failedPoint(point, 'failed', refusal)),
    seconds: 1,
    added: failed.length,
    alreadyQueued: 0,
    notQueued: [],
    left: 0,
    withdrawn: 0,
    letGo: 0,
    unqueued: 0,
  });

  it("names a failed point whose input the code running now refuses apart, where it said 'rerun without --follow to retry them' of it", async () => {
    writeXlmModel(t.root);
    const file = writeQuickSweep(
      t.root,
      'queued',
      'models: [{path: models/tiny-sst2, tasks: [SST-2]}, {path: models/tiny-xlm, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n',
    );
    const points = await planSweep(parseSweepFile(file), { glueDir: t.glueDir, workDir: join(t.root, 'out') });
    coordinator.summary = summaryOf(points);
    const r = await runMain(['sweep', file, '--store', join(t.root, 'queued.sqlite'), '--queue', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'failed (errors above; rerun without --follow to retry it): tiny-sst2 · baseline',
      'failed (errors above; the bert-compress running now refuses their input, so a rerun of the sweep fails at them too until it is given as the error asks): tiny-xlm · baseline',
    ]);
  });

  it('names the first four failed points of each line and counts the rest, as the stale and contended lines do, where it listed every failed point', async () => {
    const file = writeQuickSweep(t.root, 'many', 'models: [{path: models/tiny-sst2, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    const [point] = await planSweep(parseSweepFile(file), { glueDir: t.glueDir, workDir: join(t.root, 'out') });
    const labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    coordinator.summary = summaryOf(labels.map((label) => ({ ...point!, key: `${point!.key}-${label}`, label })));
    const r = await runMain(['sweep', file, '--store', join(t.root, 'many.sqlite'), '--queue', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'failed (errors above; rerun without --follow to retry them): tiny-sst2 · a, tiny-sst2 · b, tiny-sst2 · c, tiny-sst2 · d, … (3 more)',
    ]);
  });
});
