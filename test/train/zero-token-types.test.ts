/**
 * Training and distilling a graph without a token_type_ids input (a BERT export whose token types are
 * ConstantOfShape(Shape(input_ids)) zeros, a DistilBERT teacher of a `bert:…` student): the model written keeps the
 * original's interface (no token_type_ids input) and training, dev evaluation and distillation feed it what it sees in
 * use, type 0 for every token, where it was written with a token_type_ids input and trained on the second sentence's
 * type 1 that it never sees in use. Every student kind; eval of the written student equals the run's best dev epoch.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBert, randomBertWeights } from '../../src/bert/build.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { runTraining, type TrainLineage, type TrainRunOptions } from '../../src/train/run.ts';
import { bertStudent, makeStudent } from '../../src/train/students/index.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert, TINY_CONFIG } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-zero-types-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// STS-B: a sentence-pair task, so the tokenizer gives the second sentence type 1
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 12, ['train', 'dev']);
const settings = { epochs: 2, batchSize: 4, threads: 1, dropout: 0, lr: 1e-3 };

/** `model` with its token_type_ids input replaced by ConstantOfShape(Shape(input_ids)) of int64 0 (torch.zeros(input_shape)). */
function withZeroTypes(model: Model): Model {
  const g = model.graph;
  g.inputs = g.inputs.filter((v) => v.name !== 'token_type_ids');
  const value = { type: 'tensor' as const, value: { name: 'v', dataType: 7, dims: [1], data: new Uint8Array(BigInt64Array.of(0n).buffer) } };
  g.nodes.unshift(
    { name: 'shape', opType: 'Shape', domain: '', inputs: ['input_ids'], outputs: ['input_shape'], attributes: {} },
    { name: 'zeros', opType: 'ConstantOfShape', domain: '', inputs: ['input_shape'], outputs: ['token_type_ids'], attributes: { value } },
  );
  return model;
}

/** A tiny STS-B model folder without a token_type_ids input (its type table's row 1 far from row 0). */
function zeroTypesFolder(name: string, typeVocabSize = 2): string {
  return writeModelFolder(join(work, name), withZeroTypes(tinyBert({ numLabels: 1, typeVocabSize }, { seed: 3, std: 0.3 })), { regression: true });
}

/** A tiny STS-B DistilBERT folder (no token types at all). */
function distilbertFolder(name: string): string {
  const config: ExtendedBertConfig = { ...TINY_CONFIG, numLabels: 1, family: 'distilbert' };
  const model = buildBert(config, { kind: 'given', tensors: randomBertWeights(config, { seed: 4, std: 0.3 }) });
  return writeModelFolder(join(work, name), model, { regression: true });
}

const inputNames = (path: string) => loadModel(path).graph.inputs.map((v) => v.name);

/** Runs training, then checks the written model's inputs and that eval scores it as the run's best dev epoch. */
async function trained(name: string, opts: Omit<TrainRunOptions, 'output' | 'glueDir' | 'settings' | 'log'>, inputs: string[]): Promise<string> {
  const output = join(work, name, 'model.onnx');
  const { lineage } = await runTraining({ task: 'STS-B', glueDir, output, settings, cacheDir: join(work, 'cache'), log: () => {}, ...opts });
  expect(inputNames(output)).toEqual(inputs);
  const result = await evaluate({ model: output, tasks: ['STS-B'], glueDir, threads: 1 });
  expect(result.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
  return output;
}

const NO_TYPES = ['input_ids', 'attention_mask'];
const WITH_TYPES = ['input_ids', 'attention_mask', 'token_type_ids'];

describe('a graph whose token types are computed zeros (no token_type_ids input)', () => {
  it('is trained and written without a token_type_ids input, and trains again as one', async () => {
    const first = await trained('trained', { student: zeroTypesFolder('model') }, NO_TYPES);
    await trained('trained-again', { student: join(first, '..') }, NO_TYPES);
  });

  it.each([
    ['every-other', {}],
    ['bert:layers=1,hidden=16,heads=2,intermediate=32', {}],
    ['every-other', { intermediate: 'tinybert' as const }],
  ])('as a teacher, its %s student (%j) is written without one', async (student, distill) => {
    const teacher = zeroTypesFolder(`teacher-${student}-${Object.keys(distill).length}`);
    await trained(`distilled-${student}-${Object.keys(distill).length}`, { student, teacher, distill }, NO_TYPES);
  });

  it('a general-stage student of it is written without one, and so is its task stage', async () => {
    const teacher = zeroTypesFolder('teacher-general');
    const corpus = join(work, 'corpus.txt');
    writeFileSync(corpus, 'the man runs\tthe dog sits\na cat eats .\n'.repeat(8));
    const output = join(work, 'general', 'model.onnx');
    await runTraining({
      student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
      teacher,
      glueDir,
      output,
      cacheDir: join(work, 'cache'),
      distill: { stage: 'general', intermediate: 'tinybert', corpus },
      settings,
      log: () => {},
    });
    expect(inputNames(output)).toEqual(NO_TYPES);
    await trained('general-task', { student: join(work, 'general'), teacher, distill: { intermediate: 'tinybert' } }, NO_TYPES);
  });

  it("with a single token type, evaluates and trains on sentence pairs (the tokenizer's type 1 is never looked up)", async () => {
    const student = zeroTypesFolder('one-type', 1);
    const result = await evaluate({ model: student, tasks: ['STS-B'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics.pearson).toEqual(expect.any(Number));
    await trained('trained-one-type', { student }, NO_TYPES);
    await trained('distilled-one-type', { student: 'bert:layers=1,hidden=16,heads=2,intermediate=32', teacher: student, distill: {} }, NO_TYPES);
  });

  it('a student model given by path keeps its own interface: a token_type_ids input where it has one', async () => {
    const teacher = zeroTypesFolder('teacher-of-path');
    const student = writeModelFolder(join(work, 'student-with-types'), tinyBert({ numLabels: 1, numLayers: 1 }, { seed: 6 }), { regression: true });
    await trained('distilled-path', { student, teacher, distill: {} }, WITH_TYPES);
  });

  it('a bert:… student of a DistilBERT teacher is written without one', async () => {
    await trained(
      'distilled-distilbert',
      { student: 'bert:layers=1,hidden=16,heads=2,intermediate=32', teacher: distilbertFolder('distilbert'), distill: {} },
      NO_TYPES,
    );
  });
});

describe('a sweep of a graph without a token_type_ids input', () => {
  it("writes its train and distill steps' students without one, each evaluated as its run's best dev epoch", async () => {
    zeroTypesFolder('sweep-model');
    const file = join(work, 'sweep.yaml');
    writeFileSync(
      file,
      `name: zero-types
glueDir: glue
models:
  - {path: sweep-model, tasks: [STS-B]}
pipelines:
  - name: ffn+train
    steps:
      - {pass: prune-ffn, settings: {ratio: 0.5}}
      - {pass: train, settings: {epochs: 2, batchSize: 4, dropout: 0, lr: 0.001}}
  - name: kd
    steps:
      - {pass: distill, settings: {student: 'bert:layers=1,hidden=16,heads=2,intermediate=32', teacher: sweep-model, epochs: 2, batchSize: 4, dropout: 0}}
bench: {batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1}
eval: {threads: 1}
`,
    );
    const summary = await runSweep({ file, store: join(work, 'sweep.sqlite'), cacheDir: join(work, 'cache') });
    expect(summary.failed).toEqual([]);
    const store = SweepStore.open(join(work, 'sweep.sqlite'), { readonly: true });
    const rows = store.finished().filter((r) => r.label !== 'baseline');
    store.close();
    expect(rows.map((r) => r.label).sort()).toEqual(['ffn+train', 'kd']);
    for (const r of rows) {
      const output = r.result.output!;
      expect(inputNames(output)).toEqual(NO_TYPES);
      const lineage = JSON.parse(readFileSync(`${output}.json`, 'utf8')) as TrainLineage;
      expect(r.result.eval.tasks['STS-B']!.metrics).toEqual(lineage.epochs[lineage.bestEpoch - 1]!.metrics);
    }
  });
});

describe('the canonical rebuild of a graph without a token_type_ids input', () => {
  it('computes type 0 for every token, as the graph does, in the student it makes', async () => {
    const model = withZeroTypes(tinyBert({}, { seed: 5, std: 0.3 }));
    const student = bertStudent(canonicalBert(model), 'test');
    for (const dropout of [false, true]) expect(student.forward(dropout).graph.inputs.map((v) => v.name)).not.toContain('token_type_ids');
    expect(student.inputs.types).toBeUndefined();
    const batch = paddedBatch([6, 3, 5], 128, 7, 2); // (types 1 in each row's second half: the graph reads none)
    const written = student.export(new Map());
    expect(findBert(written).inputs.tokenTypeIds).toBeUndefined();
    expect(maxRowDiff((await batchLogits(written, batch)).rows, (await batchLogits(model, batch)).rows)).toBeLessThan(1e-5);
    const { student: made } = makeStudent({ spec: 'bert:layers=1', teacher: model, maxLength: 16, seed: 1 });
    expect(made.forward(false).graph.inputs.map((v) => v.name)).toEqual(NO_TYPES);
  });
});
