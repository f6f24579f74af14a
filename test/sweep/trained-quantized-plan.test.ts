/**
 * A sweep's train and distill steps on a model stored quantized (int8 dynamic, int4 blocks): the plan refuses, before
 * any point runs and in training's own words (the canonical rebuild's), a step that would rebuild it (train of the
 * model, distill of it as the student by default or by path, every-other of it as the teacher), where --dry-run
 * listed the point and it failed when it ran. A quantized teacher of a bert:… or bilstm:… student (its forward pass
 * only) and a float16 model (trained in float32) plan.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRefusal, writeQuantizedModels } from './plan-refusal.ts';
import { tinyBert } from '../helpers/models.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { removeDeadNodes, removeUnusedInitializers } from '../../src/onnx/analysis.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { makeStudent } from '../../src/train/students/index.ts';

let root: string;
beforeAll(async () => {
  root = await writeQuantizedModels('trained-quantized-plan-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const on = (model: string, steps: unknown[]) => planRefusal(root, 'q', [model], 'p', steps);
const train = (pass: 'train' | 'distill', settings: Record<string, unknown> = {}) => ({ pass, settings: { epochs: 1, maxExamples: 4, ...settings } });
const model = (folder: string) => join(root, 'models', folder);
const at = (m: string, pass: string) => `${join(root, 'q.yaml')}: pipeline 'p' on model '${m}', step 1 (${pass}): `;
const REBUILD = 'canonical rebuild: the word embedding is stored quantized (gather-scale); train before quantizing (rebuild the float model)';
/** The refusal of a model whose lineage names the float model it was quantized from, `float`, which it names. */
const rebuildFrom = (float: string) =>
  `canonical rebuild: the word embedding is stored quantized (gather-scale); train before quantizing (train the float model it was quantized from, ${float})`;
const TINY = () => join(model('tiny'), 'model.onnx');

describe("a sweep's plan refuses training a model stored quantized, in training's words", () => {
  it('refuses a train or distill step whose student is the sweep model stored quantized, naming the float model its lineage names, where it said "rebuild the float model" without naming it', async () => {
    for (const q of ['int8', 'int4']) {
      const onnx = join(model(q), 'model.onnx');
      expect(await on(q, [train('train')])).toBe(`${at(q, 'train')}${onnx}: ${rebuildFrom(TINY())}`);
      expect(await on(q, [train('distill', { teacher: model('tiny') })])).toBe(`${at(q, 'distill')}${onnx}: ${rebuildFrom(TINY())}`);
    }
  });

  it('refuses a quantized student model given by path, and every-other of a quantized teacher', async () => {
    expect(await on('tiny', [train('distill', { student: model('int8') })])).toBe(`${at('tiny', 'distill')}${model('int8')}: ${rebuildFrom(TINY())}`);
    expect(await on('int4', [train('distill', { student: 'every-other' })])).toBe(
      `${at('int4', 'distill')}distill.student every-other copies the teacher's layers: ${REBUILD}`,
    );
    expect(await on('tiny', [train('distill', { student: 'every-other', teacher: model('int8') })])).toBe(
      `${at('tiny', 'distill')}distill.student every-other copies the teacher's layers: ${REBUILD}`,
    );
  });

  it('plans what training takes: a quantized teacher of a bert: or bilstm: student, a float16 model, the float model', async () => {
    expect(await on('int8', [train('distill', { student: 'bert:layers=1' })])).toBeUndefined();
    expect(await on('int4', [train('distill', { student: 'bilstm:hidden=8' })])).toBeUndefined();
    expect(await on('tiny', [train('distill', { student: 'bert:layers=1', teacher: model('int8') })])).toBeUndefined();
    for (const m of ['fp16', 'tiny']) {
      expect(await on(m, [train('train')])).toBeUndefined();
      expect(await on(m, [train('distill', { student: 'every-other' })])).toBeUndefined();
    }
    expect(await on('tiny', [train('distill', { student: model('fp16') })])).toBeUndefined();
  });
});

describe('a step after drop-layers on a model stored quantized', () => {
  it('is asked of the model drop-layers leaves (its graph followed, layers renumbered), as the point would refuse it', async () => {
    const onnx = join(model('int8'), 'model.onnx');
    // (named as the step's output, which the point trains, not as the sweep's model file)
    expect(await on('int8', [{ pass: 'drop-layers', settings: { layers: '0' } }, train('train')])).toBe(
      `${join(root, 'q.yaml')}: pipeline 'p' on model 'int8', step 2 (train): the output of step 1 (drop-layers) from ${onnx}: ${REBUILD}`,
    );
    expect(await on('int4', [{ pass: 'drop-layers', settings: { keep: '1' } }, train('distill', { teacher: model('tiny') })])).toBe(
      `${join(root, 'q.yaml')}: pipeline 'p' on model 'int4', step 2 (distill): the output of step 1 (drop-layers) from ${join(model('int4'), 'model.onnx')}: ${REBUILD}`,
    );
    expect(
      await on('int8', [
        { pass: 'drop-layers', settings: { layers: '0' } },
        { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      ]),
    ).toBe(
      `${join(root, 'q.yaml')}: pipeline 'p' on model 'int8', step 2 (prune-ffn): prune-ffn: layer 0's feed-forward weights are quantized (dynamic-int8, 8-bit) and cannot be sliced; prune FFN neurons before quantizing`,
    );
    expect(await on('fp16', [{ pass: 'drop-layers', settings: { layers: '0' } }, train('train')])).toBeUndefined();
    expect(
      await on('tiny', [
        { pass: 'drop-layers', settings: { layers: '0' } },
        { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      ]),
    ).toBeUndefined();
  });
});

describe('a student model without a classifier or a pooler to put one on', () => {
  /** An encoder that outputs last_hidden_state alone (no classifier, no pooler) under models/bare, and quantized under models/bare-int8. */
  beforeAll(async () => {
    const bare = encoderOnly(tinyBert({}, { seed: 9 }));
    bare.graph.outputs = bare.graph.outputs.slice(0, 1);
    removeDeadNodes(bare.graph);
    removeUnusedInitializers(bare.graph);
    const float = join(model('bare'), 'model.onnx');
    mkdirSync(model('bare'), { recursive: true });
    saveModel(bare, float);
    copyFileSync(join(model('tiny'), 'vocab.txt'), join(model('bare'), 'vocab.txt'));
    await compressFile({ input: float, output: join(model('bare-int8'), 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
  });
  const student = (dir: string) => () =>
    makeStudent({ spec: dir, teacher: loadModel(join(model('tiny'), 'model.onnx')), numLabels: 2, seed: 1, maxLength: 16 });

  it('stored quantized: refused by training as stored quantized, in the words the plan refuses it with, where training said it had no pooler', async () => {
    const words = `${model('bare-int8')}: ${rebuildFrom(join(model('bare'), 'model.onnx'))}`;
    expect(student(model('bare-int8'))).toThrow(words);
    expect(await on('tiny', [train('distill', { student: model('bare-int8') })])).toBe(`${at('tiny', 'distill')}${words}`);
  });

  it('in float: refused by the plan in the words training refuses it with, where the point failed when it ran', async () => {
    const words = `student ${model('bare')} has no classifier, and it has no pooler (dense + tanh on the first token) to put one on: give a BERT or ALBERT encoder with its pooler, or a sequence classifier`;
    expect(student(model('bare'))).toThrow(words);
    expect(await on('tiny', [train('distill', { student: model('bare') })])).toBe(`${at('tiny', 'distill')}${words}`);
  });

  it("as a sweep's model: refused without the advice to give it as a distill step's student, which training refuses", async () => {
    expect(await on('bare', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }])).toBe(
      `${join(root, 'q.yaml')}: models[0] 'bare' is encoder-only (outputs last_hidden_state; no classifier): a sweep's model needs a classifier (every point evaluates it), and it has no pooler (dense + tanh on the first token) to put one on: give a BERT or ALBERT encoder with its pooler, or a sequence classifier`,
    );
  });
});

describe('an encoder with its pooler stored quantized, as a sweep model', () => {
  it("is refused without the advice to give it as a distill step's student, which training refuses: the float model it was quantized from is to get the classifier", async () => {
    const float = join(model('pooled'), 'model.onnx');
    mkdirSync(model('pooled'), { recursive: true });
    saveModel(encoderOnly(tinyBert({}, { seed: 9 })), float);
    copyFileSync(join(model('tiny'), 'vocab.txt'), join(model('pooled'), 'vocab.txt'));
    await compressFile({ input: float, output: join(model('pooled-int8'), 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    // (as a distill step's student, training refuses it: the canonical rebuild reads no weight stored quantized)
    expect(await on('tiny', [train('distill', { student: model('pooled-int8') })])).toBe(
      `${at('tiny', 'distill')}${model('pooled-int8')}: ${rebuildFrom(float)}`,
    );
    expect(await on('pooled-int8', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }])).toBe(
      `${join(root, 'q.yaml')}: models[0] 'pooled-int8' is encoder-only (outputs last_hidden_state, pooler_output; no classifier): a sweep's model needs a classifier (every point evaluates it); the word embedding is stored quantized (gather-scale), which training cannot read, so compress distill --stage task cannot give it one: give one to ${float}, the float model it was quantized from, first (compress distill --stage task), then quantize the result`,
    );
  });
});
