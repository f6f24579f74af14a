/**
 * Training and distilling a static-shape export (inputs fixed at [batch, seq], as some exporters write; a keras
 * export's fixed length): the model written keeps the batch size and sequence length the original fixes, in its
 * inputs and outputs, so it drops in where the original ran, where it was written with dynamic axes. It evaluates
 * as the run's last dev epoch scored it, and compress checks it in onnxruntime at its fixed shape. A TensorFlow
 * export's int32 inputs, their names and order, and its scores output's name are kept too, where the model written
 * took int64 input_ids, attention_mask, token_type_ids and wrote logits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import type { Dim } from '../../src/onnx/graph.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { findBert } from '../../src/bert/discover.ts';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { originalIo, withOriginalIo } from '../../src/train/original-io.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';
import { maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';
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

// (a graph whose inputs fix more than 128 tokens: trained at its length where nothing else gives one, as eval and
// calibration read it, where training cut at 128 and wrote max_length 128 into a model its inputs fixed at 160, so a
// sweep compared the model at 160 with what it made of it at 128)
describe('training or distilling from a model whose inputs fix a length past 128', () => {
  it.each([['train'], ['distill']])('%s runs at its length, as eval reads the model, and writes it as max_length', async (name) => {
    const model = tinyBert({ maxPositions: 256 }, { std: 0.2 });
    for (const input of model.graph.inputs) input.shape = ['batch', 160];
    model.graph.outputs[0]!.shape = ['batch', 2];
    const dir = writeModelFolder(join(work, `fixed-160-${name}`), model);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }));
    expect((await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1 })).maxLength).toBe(160);
    const output = join(work, `trained-fixed-160-${name}`, 'model.onnx');
    const models = name === 'distill' ? { teacher: dir, student: 'bert:layers=1,hidden=16,heads=2,intermediate=32', distill: {} } : { student: dir };
    const { lineage } = await runTraining({ task: 'SST-2', glueDir, output, cacheDir: join(work, 'cache'), settings, log: () => {}, ...models });
    expect(lineage!.data.maxLength).toBe(160);
    expect(JSON.parse(readFileSync(join(work, `trained-fixed-160-${name}`, 'config.json'), 'utf8')).max_length).toBe(160);
    expect(shapes(loadModel(output)).inputs.map(([, s]) => s)).toEqual(Array(3).fill(['batch_size', 160]));
  });

  it('does not resume at that length the checkpoints of a run at 128 (as the code before it ran such a model): refused, saying the data differ', async () => {
    const model = tinyBert({ maxPositions: 256 }, { std: 0.2 });
    for (const input of model.graph.inputs) input.shape = ['batch', 160];
    model.graph.outputs[0]!.shape = ['batch', 2];
    const dir = writeModelFolder(join(work, 'fixed-160-resume'), model);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }));
    const output = join(work, 'trained-fixed-160-resume', 'model.onnx');
    const run = { task: 'SST-2', glueDir, output, cacheDir: join(work, 'cache'), student: dir, log: () => {} };
    const controller = new AbortController();
    const older = { ...settings, epochs: 2, checkpointEvery: 1, evalEachEpoch: false };
    // (the run the older code made of no --max-length: 128)
    const stopped = await runTraining({
      ...run,
      settings: older,
      maxLength: 128,
      signal: controller.signal,
      onStep: (s) => (s.step === 1 ? controller.abort() : undefined),
    });
    expect(stopped.interrupted).toBe(true);
    const workDir = `${output}.train`;
    await expect(runTraining({ ...run, settings: older })).rejects.toThrow(
      `${workDir} holds the checkpoints (step 1) of a run with other training data (file, --max-examples, --max-length or augmentation): rerun with the settings it was started with to resume it, or remove ${workDir} to start over`,
    );
    // (given the length it ran at, it resumes)
    const logs: string[] = [];
    const resumed = await runTraining({ ...run, settings: older, maxLength: 128, log: (line) => logs.push(line) });
    expect([resumed.lineage!.data.maxLength, resumed.interrupted]).toEqual([128, false]);
    expect(logs).toContain('resuming from step 1 (epoch 1)');
  });
});

describe('distilling from a static-shape teacher', () => {
  it.each([
    ['every-other', [1, 16], ['input_ids', 'attention_mask', 'token_type_ids'], [1, 2]],
    ['bert:layers=1,hidden=16,heads=2,intermediate=32', [1, 16], ['input_ids', 'attention_mask', 'token_type_ids'], [1, 2]],
    // (a BiLSTM reads no token types: declared unread, as the teacher's, at the teacher's sizes)
    ['bilstm:hidden=4,embedding=8', [1, 16], ['input_ids', 'attention_mask', 'token_type_ids'], [1, 2]],
  ])('writes the %s student with inputs %j, which eval scores as the run did', async (student, input, names, logits) => {
    const teacher = shapedModel(`teacher-${student}`, 1, 16);
    const output = join(work, `distilled-${student}`, 'model.onnx');
    const { lineage } = await runTraining({
      task: 'SST-2',
      student,
      teacher,
      glueDir,
      output,
      cacheDir: join(work, 'cache'),
      distill: {},
      settings,
      log: () => {},
    });
    expect(shapes(loadModel(output))).toEqual({ inputs: names.map((n) => [n, input]), outputs: [['logits', logits]] });
    const result = await evaluate({ model: output, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
  });

  it("writes a BiLSTM student of a keras teacher with the teacher's fixed length, int32 inputs, input names exporters use and scores name, which eval scores as the run did and trains again", async () => {
    const teacher = tensorflowModel('bilstm-tensorflow-teacher', 'N', 12);
    const output = join(work, 'distilled-bilstm-tensorflow', 'model.onnx');
    const run = { task: 'SST-2', teacher, glueDir, maxLength: 12, cacheDir: join(work, 'cache'), distill: {}, settings, log: () => {} };
    const { lineage } = await runTraining({ ...run, student: 'bilstm:hidden=4,embedding=8', output });
    // (segment_ids, the token types, declared and not read; the batch stays dynamic, as the teacher's)
    const expected = {
      inputs: [
        ['attention_mask:0', DataType.INT32, ['batch', 12]],
        ['input_ids', DataType.INT32, ['batch', 12]],
        ['segment_ids', DataType.INT32, ['batch', 12]],
      ],
      outputs: [['output_1', ['batch', 2]]],
    };
    expect(io(loadModel(output))).toEqual(expected);
    const result = await evaluate({ model: output, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
    const again = join(work, 'distilled-bilstm-again', 'model.onnx');
    await runTraining({ ...run, student: join(work, 'distilled-bilstm-tensorflow'), output: again });
    expect(io(loadModel(again))).toEqual(expected);
    // quantize int8 keeps its inputs and output, and its run check feeds them at their fixed length
    const int8 = join(work, 'distilled-bilstm-int8', 'model.onnx');
    const compressed = await compressFile({ input: output, output: int8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(io(loadModel(int8))).toEqual(expected);
    expect(compressed.check.seq).toBe(12);
    expect(compressed.check.drift[0]!.maxAbsDiff).toBeLessThan(0.05);
    expect((await evaluate({ model: int8, tasks: ['SST-2'], glueDir, threads: 1 })).tasks[0]!.examples).toBe(result.tasks[0]!.examples);
  });
});

/**
 * A tiny SST-2 model folder as a TensorFlow exporter writes one: int32 inputs, some under names of its own, the
 * attention mask first (as keras2onnx orders them), read through Casts to int64, and its scores as `output_1`;
 * inputs [batch, seq].
 */
function tensorflowModel(name: string, batch: Dim, seq: Dim): string {
  const model = tinyBert({}, { std: 0.2 });
  const g = model.graph;
  const names: Record<string, string> = { input_ids: 'input_ids', attention_mask: 'attention_mask:0', token_type_ids: 'segment_ids' };
  g.nodes.unshift(
    ...g.inputs.map((v) => ({
      name: `cast_${v.name}`,
      opType: 'Cast',
      domain: '',
      inputs: [names[v.name]!],
      outputs: [`${v.name}_cast`],
      attributes: { to: { type: 'int' as const, value: DataType.INT64 } },
    })),
  );
  for (const n of g.nodes.slice(g.inputs.length)) n.inputs = n.inputs.map((i) => (names[i] ? `${i}_cast` : i));
  g.inputs = ['attention_mask', 'input_ids', 'token_type_ids'].map((n) => ({ name: names[n]!, elemType: DataType.INT32, shape: [batch, seq] }));
  for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === 'logits' ? 'output_1' : o));
  g.outputs = [{ name: 'output_1', elemType: DataType.FLOAT, shape: [batch, 2] }];
  return writeModelFolder(join(work, name), model);
}

const io = (m: Model) => ({
  inputs: m.graph.inputs.map((v) => [v.name, v.elemType, v.shape]),
  outputs: m.graph.outputs.map((v) => [v.name, v.shape]),
});

describe('training a model exported with int32 inputs of its own names (a TensorFlow export)', () => {
  it('writes them, in its order, and its scores output name, so the trained model drops in; eval scores it as training did, and it trains again', async () => {
    const dir = tensorflowModel('tensorflow', 'N', 12);
    const expected = {
      inputs: [
        ['attention_mask:0', DataType.INT32, ['batch_size', 12]],
        ['input_ids', DataType.INT32, ['batch_size', 12]],
        ['segment_ids', DataType.INT32, ['batch_size', 12]],
      ],
      outputs: [['output_1', ['batch_size', 2]]],
    };
    const output = join(work, 'trained-tensorflow', 'model.onnx');
    const { lineage } = await runTraining({ task: 'SST-2', student: dir, glueDir, output, maxLength: 12, settings, log: () => {} });
    expect(io(loadModel(output))).toEqual(expected);
    const result = await evaluate({ model: output, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
    for (const steps of [[{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], [{ pass: 'quantize', settings: { mode: 'int8' } }]]) {
      const compressed = join(work, `tensorflow-${steps[0]!.pass}`, 'model.onnx');
      await compressFile({ input: output, output: compressed, steps });
      expect(io(loadModel(compressed)).inputs).toEqual(expected.inputs);
    }
    const again = join(work, 'trained-again', 'model.onnx');
    await runTraining({ task: 'SST-2', student: join(work, 'trained-tensorflow'), glueDir, output: again, maxLength: 12, settings, log: () => {} });
    expect(io(loadModel(again))).toEqual(expected);
    const distilled = join(work, 'distilled-tensorflow', 'model.onnx');
    await runTraining({
      task: 'SST-2',
      student: 'every-other',
      teacher: dir,
      glueDir,
      output: distilled,
      maxLength: 12,
      cacheDir: join(work, 'cache'),
      distill: {},
      settings,
      log: () => {},
    });
    expect(io(loadModel(distilled))).toEqual(expected);
  });
});

describe.skipIf(!hasFixtures)('the keras2onnx MRPC export (int32 [N, 7], output_1; needs ../shared/fixtures/onnx)', () => {
  it('rebuilt as training rebuilds it and given its inputs and outputs: fed what the export is fed, it gives its scores', async () => {
    const original = loadModel(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const written = withOriginalIo(rebuildCanonical(original), originalIo(original));
    expect(io(written)).toEqual({
      inputs: ['attention_mask', 'input_ids', 'token_type_ids'].map((n) => [n, DataType.INT32, ['batch_size', 7]]),
      outputs: [['output_1', ['batch_size', 2]]],
    });
    const feeds = sampleFeeds(original, findBert(original), 3, 7);
    expect(Object.values(feeds).map((t) => t.type)).toEqual(['int32', 'int32', 'int32']);
    expect(maxDiff(await outputsOf(written, feeds), await outputsOf(original, feeds))).toBeLessThan(1e-5);
  });
});

describe('a bare encoder given a new classifier', () => {
  it("writes its scores as logits, not under the name of the encoder's pooler output (output_1)", async () => {
    const bare = encoderOnly(tinyBert({}, { std: 0.2 }));
    const names = ['output_0', 'output_1'];
    const renamed = new Map(bare.graph.outputs.map((o, i) => [o.name, names[i]!]));
    for (const n of bare.graph.nodes) {
      n.inputs = n.inputs.map((i) => renamed.get(i) ?? i);
      n.outputs = n.outputs.map((o) => renamed.get(o) ?? o);
    }
    for (const o of bare.graph.outputs) o.name = renamed.get(o.name)!;
    const dir = writeModelFolder(join(work, 'bare'), bare);
    const output = join(work, 'trained-bare', 'model.onnx');
    await runTraining({ task: 'SST-2', student: dir, glueDir, output, settings, log: () => {} });
    expect(io(loadModel(output)).outputs).toEqual([['logits', ['batch_size', 2]]]);
  });
});
