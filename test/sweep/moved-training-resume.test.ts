/**
 * A sweep stopped in a train step (a checkpoint in the point's work folder), its folder then moved: the rerun from
 * the new place resumes the step from its checkpoint, where the checkpoint's job named the student by the path it was
 * read from (the model's, in the old place) and the rerun trained again from the start.
 */
import { cpSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

describe('a sweep folder moved while a train step is stopped', () => {
  it('resumes the step from its checkpoint in the new place', async () => {
    const a = join(t.root, 'a');
    mkdirSync(a);
    writeTinySst2(join(a, 'models', 'tiny'), 3);
    cpSync(t.glueDir, join(a, 'glue'), { recursive: true });
    writeQuickSweep(
      a,
      'moving',
      'models: [{path: models/tiny, tasks: [SST-2]}]\ncalibration: false\npipelines:\n  - {name: ft, steps: [{pass: train, settings: {epochs: 3, maxExamples: 8, batchSize: 2, checkpointEvery: 1}}]}\n',
    );
    const stop = new AbortController();
    const first = await runSweep({
      file: join(a, 'moving.yaml'),
      store: join(a, 's.sqlite'),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'log' && e.line.startsWith('epoch 1:')) stop.abort();
      },
    });
    expect(first).toMatchObject({ interrupted: true, stoppedTraining: [{ checkpoint: true }], failed: [] });

    const b = join(t.root, 'b');
    renameSync(a, b);
    const lines: string[] = [];
    const rerun = await runSweep({
      file: join(b, 'moving.yaml'),
      store: join(b, 's.sqlite'),
      onEvent: (e) => {
        if (e.type === 'log') lines.push(e.line);
      },
    });
    expect(rerun).toMatchObject({ ran: 1, failed: [] });
    expect(lines.filter((l) => /resuming/.test(l))).toEqual(['resuming from step 4 (epoch 2)']);
    expect(lines.filter((l) => l.startsWith('epoch '))).toEqual([expect.stringMatching(/^epoch 2: /), expect.stringMatching(/^epoch 3: /)]);
  });
});
