/**
 * A sweep's plan reads the structure of its models, a distill step's named teacher and a student model (with
 * intermediate KD) without reading their files whole (loadModelShapes: dims, not weights; BERT-large's 1.3 GB were
 * read and decoded for each at every plan), and still refuses what their depths refuse.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, readFileSync: vi.fn(fs.readFileSync) };
});

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'plan-model-reads-'));
  for (const layers of [2, 3, 4]) writeModelFolder(join(root, 'models', `l${layers}`), tinyBert({ numLayers: layers }, { seed: layers }));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16, intermediate: 'tinybert' };

/** Plans a sweep of model l4 with `settings`' distill step; its refusal, or undefined; and whether a model file was read whole. */
async function plan(settings: Record<string, unknown>): Promise<{ refusal?: string; readWhole: boolean }> {
  const spec = parseSweep(
    {
      name: 'reads',
      models: [{ path: 'models/l4', tasks: ['SST-2'] }],
      calibration: false,
      pipelines: [{ name: 'kd', steps: [{ pass: 'distill', settings: { ...KD, ...settings } }] }],
    },
    join(root, 'reads.yaml'),
    'reads.yaml',
  );
  vi.mocked(readFileSync).mockClear();
  let refusal: string | undefined;
  try {
    await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
  } catch (e) {
    refusal = (e as Error).message;
  }
  return { refusal, readWhole: vi.mocked(readFileSync).mock.calls.some(([path]) => String(path).endsWith('model.onnx')) };
}

describe("a sweep's plan reads its models' structure without their weights", () => {
  it('a named teacher and a student model: planned, or refused on their depths, reading no model whole', async () => {
    expect(await plan({ teacher: 'models/l2', student: 'models/l2' })).toEqual({ readWhole: false });
    const refused = await plan({ teacher: 'models/l4', student: 'models/l3' });
    expect(refused.readWhole).toBe(false);
    expect(refused.refusal).toMatch(/4 teacher layers are not a multiple of 3 student layers/);
  });
});
