/**
 * A graph that declares a token_type_ids input and never reads it (an export of a model whose forward takes
 * token_type_ids and computes zeros in their place): onnxruntime runs it only with every declared input fed, so each
 * path that feeds a model feeds that input too (its values change no output), where compress's run check, bench,
 * calibration measures, a TinyBERT teacher's features and the transformers.js export fed only the inputs discovery
 * read and onnxruntime refused the run ("input 'token_type_ids' is missing in 'feeds'").
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { modelInputs } from '../../src/bert/model-inputs.ts';
import { benchModels } from '../../src/bench/run.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { DataType, loadModel, type Model } from '../../src/onnx/index.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { type DistillSettings, runTraining } from '../../src/train/run.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert } from '../helpers/models.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-unread-types-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The tiny BERT whose token type lookup reads ConstantOfShape(Shape(input_ids)) of int64 0 while `names` stay declared
 * inputs no node reads (token_type_ids; a position_ids too, say).
 */
function withUnreadTypes(model: Model, names: readonly string[] = []): Model {
  const g = model.graph;
  const value = { type: 'tensor' as const, value: { name: 'v', dataType: 7, dims: [1], data: new Uint8Array(BigInt64Array.of(0n).buffer) } };
  for (const n of g.nodes) n.inputs = n.inputs.map((v) => (v === 'token_type_ids' ? 'zero_types' : v));
  g.nodes.unshift(
    { name: 'shape', opType: 'Shape', domain: '', inputs: ['input_ids'], outputs: ['input_shape'], attributes: {} },
    { name: 'zeros', opType: 'ConstantOfShape', domain: '', inputs: ['input_shape'], outputs: ['zero_types'], attributes: { value } },
  );
  for (const name of names) g.inputs.push({ name, elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] });
  return model;
}

const INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];
const inputNames = (path: string) => loadModel(path).graph.inputs.map((v) => v.name);
const folder = writeModelFolder(join(work, 'model'), withUnreadTypes(tinyBert({}, { seed: 3, std: 0.3 })));
const input = join(folder, 'model.onnx');

describe('a graph that declares a token_type_ids input it never reads', () => {
  it('has it among its encoder inputs, unread, fed as token types (an unread position_ids as positions)', async () => {
    const m = withUnreadTypes(tinyBert({}, { seed: 3, std: 0.3 }), ['position_ids']);
    const s = findBert(m);
    expect(s.inputs.tokenTypeIds).toBeUndefined();
    expect(modelInputs(m, s).map((i) => [i.name, i.role, i.unread ?? false])).toEqual([
      ['input_ids', 'ids', false],
      ['attention_mask', 'mask', false],
      ['token_type_ids', 'types', true],
      ['position_ids', 'positions', true],
    ]);
    // (its outputs are the graph's with its token types fed as zeros)
    const batch = paddedBatch([6, 3, 5], 128, 7, 2);
    const zeroed = { ...batch, tokenTypeIds: batch.tokenTypeIds.map((r) => r.map(() => 0)) };
    const same = tinyBert({}, { seed: 3, std: 0.3 });
    expect(maxRowDiff((await batchLogits(loadModel(input), batch)).rows, (await batchLogits(same, zeroed)).rows)).toBeLessThan(1e-6);
  });

  it('is compressed (the run check feeds it) into a model that declares it too', async () => {
    const output = join(work, 'pruned', 'model.onnx');
    await compressFile({ input, output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(inputNames(output)).toEqual(INPUTS);
  });

  it('is measured on calibration batches (ablation head importance)', async () => {
    const calibration = syntheticCalibration([3, 2], 128, { classes: 2 });
    const result = await runPipeline(loadModel(input), [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }], { calibration });
    expect(result.model.graph.inputs.map((v) => v.name)).toEqual(INPUTS);
  });

  it('is benchmarked', async () => {
    const result = await benchModels({ model: folder, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 });
    expect(result.shapes.map((s) => [s.batch, s.seq])).toEqual([[1, 8]]);
  });

  it('is exported for transformers.js, which feeds the token_type_ids its tokenizer returns', async () => {
    const output = join(work, 'transformers-js');
    await compressToTransformersJs({ input, output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(inputNames(join(output, 'onnx', 'model.onnx'))).toEqual(INPUTS);
  });

  it('is a TinyBERT teacher whose intermediate features are computed', async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const output = join(work, 'tinybert', 'model.onnx');
    const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };
    const run = { task: 'SST-2', glueDir, output, settings, cacheDir: join(work, 'cache'), log: () => {} };
    const { lineage } = await runTraining({ ...run, student: 'every-other', teacher: folder, distill: { intermediate: 'tinybert' } });
    expect(lineage!.epochs).toHaveLength(1);
  });
});

describe('a student of a graph that declares a token_type_ids input it never reads', () => {
  const glueDir = join(work, 'glue-students');
  writeGlueTask(glueDir, 'STS-B', 12, ['train', 'dev']);
  const regression = writeModelFolder(join(work, 'regression'), withUnreadTypes(tinyBert({ numLabels: 1 }, { seed: 3, std: 0.3 })), { regression: true });
  const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0, lr: 1e-3 };

  /** Trains; the model written declares the original's inputs, and eval scores it as the run's best dev epoch. */
  async function written(name: string, opts: { student: string; teacher?: string; distill?: Partial<DistillSettings> }): Promise<string> {
    const output = join(work, name, 'model.onnx');
    const { lineage } = await runTraining({ task: 'STS-B', glueDir, output, settings, cacheDir: join(work, 'cache'), log: () => {}, ...opts });
    const model = loadModel(output);
    // (names, element types and dynamic [batch, seq] dimensions: a BiLSTM names its dimensions its own way)
    const io = (m: Model) => m.graph.inputs.map((v) => [v.name, v.elemType, v.shape?.map((d) => typeof d)]);
    expect(io(model)).toEqual(io(loadModel(join(regression, 'model.onnx'))));
    const result = await evaluate({ model: output, tasks: ['STS-B'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
    return output;
  }

  it.each([
    ['trained', { student: regression }],
    ['every-other', { student: 'every-other', teacher: regression, distill: {} }],
    ['bert:…', { student: 'bert:layers=1,hidden=16,heads=2,intermediate=32', teacher: regression, distill: {} }],
    ['bilstm:…', { student: 'bilstm:hidden=4,embedding=8', teacher: regression, distill: {} }],
    ['TinyBERT', { student: 'every-other', teacher: regression, distill: { intermediate: 'tinybert' as const } }],
  ])('the %s model written declares it too, unread, and is fed as the original', async (name, opts) => {
    const output = await written(`student-${name}`, opts);
    const model = loadModel(output);
    expect(model.graph.nodes.some((n) => n.inputs.includes('token_type_ids'))).toBe(false);
  });

  it("keeps the original's fixed sizes and element type in it", async () => {
    const model = withUnreadTypes(tinyBert({ numLabels: 1 }, { seed: 3, std: 0.3 }));
    for (const v of model.graph.inputs) v.shape = [1, 16];
    model.graph.inputs.find((v) => v.name === 'token_type_ids')!.elemType = DataType.INT32;
    const fixed = writeModelFolder(join(work, 'fixed'), model, { regression: true });
    const output = join(work, 'fixed-student', 'model.onnx');
    await runTraining({
      task: 'STS-B',
      student: 'every-other',
      teacher: fixed,
      distill: {},
      glueDir,
      output,
      settings,
      cacheDir: join(work, 'cache'),
      log: () => {},
    });
    expect(loadModel(output).graph.inputs.map((v) => [v.name, v.elemType, v.shape])).toEqual([
      ['input_ids', DataType.INT64, [1, 16]],
      ['attention_mask', DataType.INT64, [1, 16]],
      ['token_type_ids', DataType.INT32, [1, 16]],
    ]);
  });

  it('and so does a general-stage student of it, and its task stage', async () => {
    const corpus = join(work, 'corpus.txt');
    writeFileSync(corpus, 'the man runs\tthe dog sits\na cat eats .\n'.repeat(8));
    const student = 'bert:layers=1,hidden=16,heads=2,intermediate=32';
    const output = join(work, 'general', 'model.onnx');
    const distill = { stage: 'general' as const, intermediate: 'tinybert' as const, corpus };
    await runTraining({ student, teacher: regression, glueDir, output, cacheDir: join(work, 'cache'), distill, settings, log: () => {} });
    expect(inputNames(output)).toEqual(INPUTS);
    await written('general-task', { student: join(work, 'general'), teacher: regression, distill: { intermediate: 'tinybert' } });
  });
});

describe('a graph whose token_type_ids input only a dead node takes (a Cast whose result nothing reads)', () => {
  /** withUnreadTypes with a Cast of token_type_ids to int64 that no node or output reads (an exporter's leftover). */
  function withDeadCast(model: Model): Model {
    withUnreadTypes(model);
    const to = { type: 'int' as const, value: DataType.INT64 };
    model.graph.nodes.unshift({ name: 'types_cast', opType: 'Cast', domain: '', inputs: ['token_type_ids'], outputs: ['types_int64'], attributes: { to } });
    return model;
  }
  const dead = writeModelFolder(join(work, 'dead-cast'), withDeadCast(tinyBert({}, { seed: 3, std: 0.3 })));

  it('has it among its encoder inputs, unread, fed as token types', () => {
    const m = withDeadCast(tinyBert({}, { seed: 3, std: 0.3 }));
    expect(modelInputs(m).map((i) => [i.name, i.role, i.unread ?? false])).toEqual([
      ['input_ids', 'ids', false],
      ['attention_mask', 'mask', false],
      ['token_type_ids', 'types', true],
    ]);
  });

  it('is compressed (the run check feeds it) into a model that declares it', async () => {
    const output = join(work, 'dead-cast-pruned', 'model.onnx');
    await compressFile({ input: join(dead, 'model.onnx'), output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(inputNames(output)).toEqual(INPUTS);
  });

  it('gives a student that declares it, unread', async () => {
    const glueDir = join(work, 'glue-dead-cast');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const output = join(work, 'dead-cast-student', 'model.onnx');
    const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };
    const student = 'bert:layers=1,hidden=16,heads=2,intermediate=32';
    await runTraining({ task: 'SST-2', glueDir, output, settings, student, teacher: dead, distill: {}, cacheDir: join(work, 'cache'), log: () => {} });
    expect(inputNames(output)).toEqual(INPUTS);
  });
});

describe('a BiLSTM student of a graph that declares position ids (declared unread, as the original)', () => {
  it('is evaluated and has them among its inputs, unread, fed as positions', async () => {
    const glueDir = join(work, 'glue-bilstm-positions');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const teacher = writeModelFolder(join(work, 'positions'), withUnreadTypes(tinyBert({}, { seed: 3, std: 0.3 }), ['position_ids']));
    const output = join(work, 'bilstm-positions', 'model.onnx');
    const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };
    const run = { task: 'SST-2', glueDir, output, settings, cacheDir: join(work, 'cache'), log: () => {} };
    await runTraining({ ...run, student: 'bilstm:hidden=4,embedding=8', teacher, distill: {} });
    const student = loadModel(output);
    expect(modelInputs(student).map((i) => [i.name, i.role, i.unread ?? false])).toEqual([
      ['input_ids', 'ids', false],
      ['attention_mask', 'mask', false],
      ['token_type_ids', 'types', false],
      ['position_ids', 'positions', true],
    ]);
    const result = await evaluate({ model: output, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics).toHaveProperty('accuracy');
  });
});

/**
 * Expects compress (a pass and its run check), eval, bench, train and distill (every-other and bilstm:… students) of
 * the model folder `model` to be refused with `refusal`, before writing anything (outputs under `name`-…).
 */
async function expectRefusedByEveryCommand(model: string, glueDir: string, name: string, refusal: string): Promise<void> {
  const output = (kind: string) => join(work, `${name}-${kind}`, 'model.onnx');
  const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };
  const run = { task: 'SST-2', glueDir, settings, cacheDir: join(work, 'cache'), log: () => {} };
  const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
  await expect(compressFile({ input: join(model, 'model.onnx'), output: output('pruned'), steps })).rejects.toThrow(refusal);
  await expect(evaluate({ model, tasks: ['SST-2'], glueDir, threads: 1 })).rejects.toThrow(refusal);
  await expect(benchModels({ model, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 })).rejects.toThrow(refusal);
  await expect(runTraining({ ...run, student: model, output: output('trained') })).rejects.toThrow(refusal);
  await expect(runTraining({ ...run, student: 'every-other', teacher: model, distill: {}, output: output('every-other') })).rejects.toThrow(refusal);
  await expect(runTraining({ ...run, student: 'bilstm:hidden=4,embedding=8', teacher: model, distill: {}, output: output('bilstm') })).rejects.toThrow(refusal);
  for (const kind of ['pruned', 'trained', 'every-other', 'bilstm']) expect(existsSync(output(kind)), kind).toBe(false);
}

describe('a graph that declares an input of another name it never reads (special_tokens_mask)', () => {
  /** The one line every command refuses it with (it was onnxruntime's missing feed in some, "not an encoder input" in others). */
  const refusal =
    "model input 'special_tokens_mask' is declared and never read (no output depends on it), and bert-compress feeds only token ids, an attention mask, token types and position ids, one input each: export the model without 'special_tokens_mask'";
  const withMask = (model: Model): Model => {
    model.graph.inputs.push({ name: 'special_tokens_mask', elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] });
    return model;
  };
  const masked = writeModelFolder(join(work, 'special-tokens-mask'), withMask(tinyBert({}, { seed: 3, std: 0.3 })));
  const glueDir = join(work, 'glue-special-tokens-mask');
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

  it('is refused in one line by compress, eval, bench, train and distill', async () => {
    await expectRefusedByEveryCommand(masked, glueDir, 'special-tokens-mask', refusal);
  });

  it("is refused by a sweep's plan in the same line, after the file and the model, before any point runs", async () => {
    const file = join(work, 'special-tokens-mask.yaml');
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const spec = parseSweep(
      { name: 'stm', models: [{ path: masked, tasks: ['SST-2'] }], calibration: false, pipelines: [{ name: 'ffn', steps }] },
      file,
      'stm.yaml',
    );
    await expect(planSweep(spec, { glueDir, workDir: join(work, 'special-tokens-mask-sweep') })).rejects.toThrow(
      `stm.yaml: models[0] 'special-tokens-mask': ${refusal}`,
    );
  });

  it('is refused in the same line in a graph discovery does not read (fed by input names)', () => {
    const model = withMask(tinyBert({}, { seed: 3, std: 0.3 }));
    model.graph.nodes = [
      { name: 'cast', opType: 'Cast', domain: '', inputs: ['input_ids'], outputs: ['logits'], attributes: { to: { type: 'int', value: DataType.FLOAT } } },
    ];
    model.graph.initializers.clear();
    expect(() => modelInputs(model)).toThrow(refusal);
  });
});

describe('a graph that reads an input of another name (special_tokens_mask, added to its logits times 0)', () => {
  const refusal =
    "model input 'special_tokens_mask' is read by the graph, and bert-compress feeds only token ids, an attention mask, token types and position ids, one input each: export a model that does not read 'special_tokens_mask'";
  /** The tiny BERT whose logits are logits + 0 × ReduceSum(Cast(special_tokens_mask)). */
  const readingMask = (model: Model): Model => {
    const g = model.graph;
    g.inputs.push({ name: 'special_tokens_mask', elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] });
    const out = g.outputs[0]!.name;
    const last = g.nodes.find((n) => n.outputs.includes(out))!;
    last.outputs = last.outputs.map((o) => (o === out ? 'logits_before_mask' : o));
    g.initializers.set('mask_zero', { name: 'mask_zero', dataType: DataType.FLOAT, dims: [], data: new Uint8Array(Float32Array.of(0).buffer) });
    const node = (name: string, opType: string, inputs: string[], output: string, attributes = {}) => ({
      name,
      opType,
      domain: '',
      inputs,
      outputs: [output],
      attributes,
    });
    g.nodes.push(
      node('mask_cast', 'Cast', ['special_tokens_mask'], 'mask_float', { to: { type: 'int' as const, value: DataType.FLOAT } }),
      node('mask_sum', 'ReduceSum', ['mask_float'], 'mask_sum', { keepdims: { type: 'int' as const, value: 0 } }),
      node('mask_times_zero', 'Mul', ['mask_sum', 'mask_zero'], 'mask_term'),
      node('mask_add', 'Add', ['logits_before_mask', 'mask_term'], out),
    );
    return model;
  };
  const reading = writeModelFolder(join(work, 'reads-special-tokens-mask'), readingMask(tinyBert({}, { seed: 3, std: 0.3 })));
  const glueDir = join(work, 'glue-reads-special-tokens-mask');
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

  it('is refused in one line by compress, eval, bench, train and distill (train wrote a student without it)', async () => {
    await expectRefusedByEveryCommand(reading, glueDir, 'reads-special-tokens-mask', refusal);
  });

  it('is fed where the caller says it feeds it (head masks a pass adds)', () => {
    const model = readingMask(tinyBert({}, { seed: 3, std: 0.3 }));
    expect(modelInputs(model, undefined, ['special_tokens_mask']).map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
  });
});
