/**
 * A distill step whose student model has no classifier (a bare encoder: the step puts one on its pooler): the model
 * it trains has the pooler and that classifier outside its layers, which the plan names as the point does, where it
 * kept the student's (the pooler alone) and a quantize step's refusal named one weight fewer than the point's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { runTraining } from '../../src/train/run.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';

const root = mkdtempSync(join(tmpdir(), 'trained-head-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// (hidden 16: int4-block:128 leaves the projections of input width 16 float, the FFN's output of width 32 it stores)
const shape = { hiddenSize: 16, numHeads: 2, intermediateSize: 64 };
const teacher = writeModelFolder(join(root, 'models', 'teacher'), tinyBert(shape, { seed: 1 }));
const general = writeModelFolder(join(root, 'models', 'general'), tinyBert({ ...shape, numLayers: 1 }, { seed: 2 }));
saveModel(encoderOnly(tinyBert({ ...shape, numLayers: 1 }, { seed: 9 })), join(general, 'model.onnx'));
const glueDir = join(root, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const settings = { epochs: 1, batchSize: 4, maxExamples: 8 };
const graphSteps = [
  { pass: 'prune-ffn', settings: { ratio: 0.5 } },
  { pass: 'quantize', settings: { mode: 'int4-block:128' } },
  { pass: 'quantize', settings: { mode: 'int4-block:128' } },
];

describe('the plan after a distill step that gives a bare student model a classifier', () => {
  it("names the trained model's weights outside its layers as the point does (the pooler and the new classifier)", async () => {
    const planned = await planRefusal(root, 'v', ['teacher'], 'kd', [{ pass: 'distill', settings: { ...settings, student: 'models/general' } }, ...graphSteps]);
    // the point: the student distilled, then the graph steps on it
    const output = join(root, 'trained', 'model.onnx');
    await runTraining({
      task: 'SST-2',
      teacher,
      student: general,
      glueDir,
      cacheDir: join(root, 'cache'),
      output,
      settings: { epochs: 1, batchSize: 4, threads: 1 },
    });
    const point = await compressFile({ input: output, output: join(root, 'out', 'model.onnx'), steps: graphSteps }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    // (the projections of input width 16: layer 0's attention and ffn.in, the pooler and the classifier)
    const float =
      'layer0.attention.q, layer0.attention.k, layer0.attention.v, … (4 more): 4-bit blocks of 128 on its input width 16 would store more bytes than float (use a block of at most 64)';
    expect(point).toMatch(/^quantize int4-block:128: quantizes no weight of this model/);
    expect(point).toContain(`; ${float};`);
    expect(planned).toMatch(/step 4 \(quantize\): quantize int4-block:128: quantizes no weight of this model/);
    expect(planned).toContain(`(${float};`);
  });
});
