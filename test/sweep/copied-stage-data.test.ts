/**
 * A point stopped after its last stage (its model written with external data, its stage recorded) in a sweep folder
 * that is then copied: the rerun in the copy goes on from that stage and takes the data file beside the model in the
 * copy (its file bytes; removed with the model when models are not kept), where it took the one at the path the stage
 * record names in the original folder: it removed that file (the original's model then lacked its weights), and in a
 * folder moved, not copied, counted the point's data as 0 bytes.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

// Every model a stage saves keeps its weights in external data (as one past 1.8 GiB does): the sweep has no setting for it.
vi.mock('../../src/onnx/save.ts', async (original) => {
  const save = await original<typeof import('../../src/onnx/save.ts')>();
  return {
    ...save,
    saveModel: (...[model, path, opts]: Parameters<typeof save.saveModel>) =>
      save.saveModel(model, path, opts?.externalData === 'auto' ? { ...opts, externalData: true } : opts),
  };
});

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

/** The files under `dir`, recursively, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('a point stopped after its last stage, its sweep folder copied', () => {
  it('goes on in the copy with the data file beside its model there, leaving the original folder as it was', async () => {
    const a = join(t.root, 'a');
    mkdirSync(a);
    writeTinySst2(join(a, 'models', 'tiny'), 3);
    cpSync(t.glueDir, join(a, 'glue'), { recursive: true });
    writeQuickSweep(
      a,
      'copied',
      'models: [{path: models/tiny, tasks: [SST-2]}]\ncalibration: false\npipelines:\n  - {name: ffn, steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}\n',
    );
    const stop = new AbortController();
    const first = await runSweep({
      file: join(a, 'copied.yaml'),
      store: join(a, 's.sqlite'),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'stage' && e.stage === 'eval' && e.point.label === 'ffn') stop.abort();
      },
    });
    expect(first).toMatchObject({ interrupted: true, failed: [] });
    const work = join(a, 's-models');
    const left = filesUnder(work);
    expect(left.filter((f) => f.endsWith('model.onnx.data'))).toHaveLength(1);
    const dataName = left.find((f) => f.endsWith('model.onnx.data'))!;
    const bytes = statSync(join(work, dataName)).size + statSync(join(work, dataName.replace(/\.data$/, ''))).size;

    const b = join(t.root, 'b');
    cpSync(a, b, { recursive: true });
    const lines: string[] = [];
    let fileBytes: number | undefined;
    const rerun = await runSweep({
      file: join(b, 'copied.yaml'),
      store: join(b, 's.sqlite'),
      onEvent: (e) => {
        if (e.type === 'log') lines.push(e.line);
        if (e.type === 'finished' && e.point.label === 'ffn') fileBytes = e.result.fileBytes;
      },
    });
    expect(rerun).toMatchObject({ alreadyDone: 1, ran: 1, failed: [] });
    expect(
      lines.filter((l) => l.startsWith('reusing the output of stage 1 of 1 (prune-ffn)')),
      lines.join('\n'),
    ).toHaveLength(1);
    // the original folder as the stopped run left it; the copy's point folder without its model (models not kept)
    expect(fileBytes).toBe(bytes);
    expect(filesUnder(work)).toEqual(left);
    expect(existsSync(join(b, 's-models', dataName))).toBe(false);
  });
});
