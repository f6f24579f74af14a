/**
 * Training and distilling a static-shape export (inputs fixed at [batch, seq], as some exporters write; a keras
 * export's fixed length): the model written keeps the batch size and sequence length the original fixes, in its
 * inputs and outputs, so it drops in where the original ran, where it was written with dynamic axes. It evaluates
 * as the run's last dev epoch scored it, and compress checks it in onnxruntime at its fixed shape.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import type { Dim } from '../../src/onnx/graph.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-static-shape-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };

/** A tiny SST-2 model folder whose inputs are [batch, seq] and logits [batch, 2] (a number fixes the dimension). */
function shapedModel(name: string, batch: Dim, seq: Dim): string {
  const model = tinyBert({}, { std: 0.2 });
  for (const input of model.graph.inputs) input.shape = [batch, seq];
  model.graph.outputs[0]!.shape = [batch, 2];
  return writeModelFolder(join(work, name), model);
}

const shapes = (m: Model) => ({
  inputs: m.graph.inputs.map((v) => [v.name, v.shape]),
  outputs: m.graph.outputs.map((v) => [v.name, v.shape]),
});

describe('training a model whose inputs fix the batch size and the sequence length', () => {
  it('writes the trained model at [1, 16] as the original, which eval scores as training did and compress checks at [1, 16]', async () => {
    const dir = shapedModel('static-1x16', 1, 16);
    const output = join(work, 'trained', 'model.onnx');
    const { lineage } = await runTraining({ task: 'SST-2', student: dir, glueDir, output, settings, log: () => {} });
    expect(shapes(loadModel(output))).toEqual({
      inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => [n, [1, 16]]),
      outputs: [['logits', [1, 2]]],
    });
    const result = await evaluate({ model: output, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
    const compressed = await compressFile({
      input: output,
      output: join(work, 'pruned', 'model.onnx'),
      steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }],
    });
    expect([compressed.check.batch, compressed.check.seq]).toEqual([1, 16]);
  });

  it('keeps a fixed sequence length with a dynamic batch (a keras export), and a dynamic model stays dynamic', async () => {
    const keras = join(work, 'trained-keras', 'model.onnx');
    await runTraining({ task: 'SST-2', student: shapedModel('keras', 'batch', 12), glueDir, output: keras, maxLength: 12, settings, log: () => {} });
    expect(shapes(loadModel(keras)).inputs.map(([, s]) => s)).toEqual(Array(3).fill(['batch_size', 12]));
    expect(shapes(loadModel(keras)).outputs).toEqual([['logits', ['batch_size', 2]]]);
    const dynamic = join(work, 'trained-dynamic', 'model.onnx');
    await runTraining({ task: 'SST-2', student: shapedModel('dynamic', 'batch', 'seq'), glueDir, output: dynamic, settings, log: () => {} });
    expect(shapes(loadModel(dynamic)).inputs.map(([, s]) => s)).toEqual(Array(3).fill(['batch_size', 'sequence_length']));
  });
});

describe('distilling from a static-shape teacher', () => {
  it.each([
    ['every-other', [1, 16], ['input_ids', 'attention_mask', 'token_type_ids'], [1, 2]],
    ['bert:layers=1,hidden=16,heads=2,intermediate=32', [1, 16], ['input_ids', 'attention_mask', 'token_type_ids'], [1, 2]],
    // (a BiLSTM is another graph, with other inputs: it keeps its dynamic axes)
    ['bilstm:hidden=4,embedding=8', ['batch', 'sequence'], ['input_ids', 'attention_mask'], ['batch', 2]],
  ])('writes the %s student with inputs %j, which eval runs', async (student, input, names, logits) => {
    const teacher = shapedModel(`teacher-${student}`, 1, 16);
    const output = join(work, `distilled-${student}`, 'model.onnx');
    await runTraining({ task: 'SST-2', student, teacher, glueDir, output, cacheDir: join(work, 'cache'), distill: {}, settings, log: () => {} });
    expect(shapes(loadModel(output))).toEqual({ inputs: names.map((n) => [n, input]), outputs: [['logits', logits]] });
    const result = await evaluate({ model: output, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics.accuracy).toBeGreaterThanOrEqual(0);
  });
});
