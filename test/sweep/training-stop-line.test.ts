/**
 * A sweep's train or distill step stopped (Ctrl-C, SIGTERM): the point's line names the step as the sweep file counts
 * its steps, from 1 with its pass ('step 2 (train)'), as the plan's refusals and a step's epochs refusal name it. It
 * said 'train step 1' of the second step (the step's index in the pipeline, counted from 0).
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8, pipelines: ['baseline'] });
});
afterAll(() => t?.cleanup());

/** The lines a sweep of `steps` (YAML flow list) on a tiny SST-2 model says, stopped at the first line `stopAt` matches. */
async function stoppedLines(name: string, steps: string, stopAt: RegExp): Promise<string[]> {
  const dir = join(t.root, name);
  mkdirSync(dir);
  writeTinySst2(join(dir, 'models', 'tiny'), 3);
  cpSync(t.glueDir, join(dir, 'glue'), { recursive: true });
  writeQuickSweep(dir, name, `models: [{path: models/tiny, tasks: [SST-2]}]\ncalibration: false\npipelines:\n  - {name: p, steps: ${steps}}\n`);
  const stop = new AbortController();
  const lines: string[] = [];
  const summary = await runSweep({
    file: join(dir, `${name}.yaml`),
    store: join(dir, 's.sqlite'),
    signal: stop.signal,
    onEvent: (e) => {
      if (e.type !== 'log') return;
      lines.push(e.line);
      if (stopAt.test(e.line)) stop.abort();
    },
  });
  expect(summary).toMatchObject({ interrupted: true, failed: [] });
  return lines;
}

describe("a stopped training step's line", () => {
  it('names a train step after a graph step as step 2 (train), with a checkpoint', async () => {
    const lines = await stoppedLines(
      'after-ffn',
      '[{pass: prune-ffn, settings: {ratio: 0.5}}, {pass: train, settings: {epochs: 3, maxExamples: 8, batchSize: 2, checkpointEvery: 1}}]',
      /^epoch 1:/,
    );
    expect(lines.filter((l) => / stopped /.test(l))).toEqual(['tiny · p: step 2 (train) stopped with a checkpoint']);
  });

  it("names a pipeline's first step, a distill stopped before its first training step, as step 1 (distill)", async () => {
    const lines = await stoppedLines(
      'first-distill',
      '[{pass: distill, settings: {student: every-other, epochs: 1, maxExamples: 8, batchSize: 4}}]',
      /^teacher outputs on \d+ examples: computing/,
    );
    expect(lines.filter((l) => / stopped /.test(l))).toEqual([
      "tiny · p: step 1 (distill) stopped before its first training step (no checkpoint: a rerun computes the teacher's outputs again)",
    ]);
  });
});
