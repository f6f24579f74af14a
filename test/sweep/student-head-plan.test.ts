/**
 * A distill step's student model whose head the canonical rebuild cannot read, and which has no pooler to put a new
 * classifier on (a BertForMaskedLM or BertForTokenClassification checkpoint: a token-level head, no pooler), is refused
 * by the sweep's plan, before any point runs, in training's words (the rebuild's), naming the step, where --dry-run
 * listed the point and it failed when it made the student. A pretraining checkpoint with its pooler (MLM + NSP) plans:
 * the step puts a new classifier on its pooler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { removeDeadNodes, removeUnusedInitializers } from '../../src/onnx/analysis.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { cloneModel, type Model } from '../../src/onnx/graph.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { distillStudent, planRefusal } from './plan-refusal.ts';

/**
 * `model` with a token-level projection of `width` outputs on its last encoder layer (an MLM head where `width` is its
 * vocabulary); its other outputs (the classifier on its pooler) kept only where `keep`, else dropped with the pooler.
 */
function withTokenHead(model: Model, width: number, keep: boolean): Model {
  const m = cloneModel(model);
  const s = findBert(m);
  const weight = 'token_head.weight';
  m.graph.initializers.set(weight, float32Tensor(weight, [s.hiddenSize, width], new Float32Array(s.hiddenSize * width).fill(0.01)));
  m.graph.nodes.push({
    name: '/token_head/MatMul',
    opType: 'MatMul',
    domain: '',
    inputs: [s.layers.at(-1)!.output, weight],
    outputs: ['token_scores'],
    attributes: {},
  });
  const scores = { name: 'token_scores', elemType: DataType.FLOAT, shape: ['batch_size', 'sequence_length', width] };
  m.graph.outputs = keep ? [...m.graph.outputs, scores] : [scores];
  removeDeadNodes(m.graph);
  removeUnusedInitializers(m.graph);
  return m;
}

let root: string;
let pretraining: Model;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'student-head-plan-'));
  const teacher = tinyBert({}, { seed: 1 });
  const vocab = findBert(teacher).vocabSize;
  writeModelFolder(join(root, 'models', 'teacher'), teacher);
  writeModelFolder(join(root, 'models', 'mlm'), withTokenHead(tinyBert({ numLayers: 1 }, { seed: 2 }), vocab, false));
  writeModelFolder(join(root, 'models', 'tokens'), withTokenHead(tinyBert({ numLayers: 1 }, { seed: 3 }), 3, false));
  pretraining = withTokenHead(tinyBert({ numLayers: 1 }, { seed: 4 }), vocab, true);
  writeModelFolder(join(root, 'models', 'pretraining'), pretraining);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = () => join(root, 'head.yaml');
const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16 };
const refusal = (student: string) => planRefusal(root, 'head', ['teacher'], 'kd', [{ pass: 'distill', settings: { ...KD, student: `models/${student}` } }]);
const rebuild = (student: string, head: string) =>
  `${join(root, 'models', student)}: canonical rebuild: the model has ${head} head: only sequence classifiers are rebuilt`;

describe("a sweep's plan refuses a distill step's student model whose head the rebuild cannot read and that has no pooler", () => {
  it('an MLM head without a pooler (BertForMaskedLM), in the words training refuses it with', async () => {
    expect(await refusal('mlm')).toBe(`${file()}: pipeline 'kd' on model 'teacher', step 1 (distill): ${rebuild('mlm', 'an unknown')}`);
    await expect(distillStudent(root, 'mlm', KD)).rejects.toThrow(rebuild('mlm', 'an unknown'));
  });

  it('a token-classification head (BertForTokenClassification)', async () => {
    expect(await refusal('tokens')).toBe(`${file()}: pipeline 'kd' on model 'teacher', step 1 (distill): ${rebuild('tokens', 'a token-classification')}`);
  });

  it('plans a pretraining checkpoint with its pooler (MLM + NSP): the step gives it a new classifier there', async () => {
    expect(findBert(pretraining).head?.kind).toBe('pretraining');
    expect(await refusal('pretraining')).toBeUndefined();
  });
});
