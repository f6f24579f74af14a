/**
 * `compress sweep --queue` says the plan's warning lines, as a local sweep and its --dry-run do (here: share-layers
 * after prune-heads by ratio, which fails unless the scores leave the layers as many heads), where the coordinator
 * planned without them and the lines were lost. Its plan does not judge the points by the coordinator's memory, which
 * is not the workers' (an eval batch a local run refuses for this machine's memory is queued).
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { largestActivationBytes } from '../../src/bert/input-limits.ts';
import { discovered } from '../../src/bert/model-inputs.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { runMain } from '../helpers/cli.ts';
import { writeQuickSweep } from '../sweep/tiny-sweep.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** The machine's memory as the plan reads it (node:os totalmem), set per test. */
const memory = vi.hoisted(() => ({ bytes: undefined as number | undefined }));
vi.mock('node:os', async (original) => {
  const os = await original<typeof import('node:os')>();
  const totalmem = () => memory.bytes ?? os.totalmem();
  return { ...os, totalmem, default: { ...os, totalmem } };
});

/** This file's database on a shared Redis. */
const DB = 10;

describe.skipIf(redisSkipReason !== null)(`compress sweep --queue: the plan's warnings${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { rows: 8, pipelines: ['baseline'] });

  it('are said before the points are queued, as a local sweep says them', async () => {
    // (tiny-sst2: 2 layers of 4 heads; a ratio of 0.75 leaves 2, one in each layer or both in one)
    const file = writeQuickSweep(
      q.t.root,
      'uneven',
      `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - name: shared
    steps: [{pass: prune-heads, settings: {ratio: 0.75, importance: magnitude}}, {pass: share-layers, settings: {share: all}}]
`,
    );
    const warning = `warning: ${file}: pipeline 'shared' on model 'tiny-sst2', step 2 (share-layers): prune-heads by ratio before it (step 1) chooses the heads it removes when it runs, and the point fails unless it leaves the layers of each group share-layers joins (layers 0-1) as many heads, as layers sharing weights must: share layers before pruning heads, or list the heads to prune`;
    const dry = await runMain(['sweep', file, '--store', join(q.t.root, 'dry.sqlite'), '--dry-run']);
    expect(dry.stderr.split('\n')).toContain(warning);
    // (--follow: the plan is made, nothing is queued, and the call ends at once, saying so)
    const r = await runMain(['sweep', file, '--store', join(q.t.root, 'queued.sqlite'), '--queue', q.redis.url(DB), '--follow']);
    expect(r.stderr.split('\n').filter((l) => l === warning)).toHaveLength(1);
    expect(r.stderr).toMatch(/none of the 2 points of sweep 'uneven' still to do is queued there: run without --follow to queue them/);
  }, 60_000);

  it("are not judged by the coordinator's memory: an eval batch too large for this machine is queued, which a local run refuses", async () => {
    // (memory for one example of up to 16 tokens: the 8 SST-2 dev examples in one batch (eval.batchSize 32) do not fit)
    memory.bytes = largestActivationBytes(discovered(loadModel(join(q.t.root, 'models', 'tiny-sst2', 'model.onnx')))!, 1, 16);
    try {
      const file = writeQuickSweep(q.t.root, 'memory', `models: [{path: models/tiny-sst2, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n`);
      const local = await runMain(['sweep', file, '--store', join(q.t.root, 'local.sqlite'), '--dry-run']);
      expect(local.code).not.toBe(0);
      expect(local.stderr).toMatch(/eval\.batchSize 32: a batch of 8 SST-2 dev examples .* more than this machine's .* of memory/);
      const r = await runMain(['sweep', file, '--store', join(q.t.root, 'memory.sqlite'), '--queue', q.redis.url(DB), '--follow']);
      expect(r.stderr).not.toMatch(/of memory/);
      expect(r.stderr).toMatch(/the 1 point of sweep 'memory' still to do is not queued there: run without --follow to queue it/);
    } finally {
      memory.bytes = undefined;
    }
  }, 60_000);
});
