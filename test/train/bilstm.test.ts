import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import type { Model } from '../../src/onnx/graph.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { encodeModel, saveModel } from '../../src/onnx/save.ts';
import { TOKENIZER_FILES, copyModelFiles } from '../../src/eval/model-files.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { getTask } from '../../src/glue/registry.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import {
  bilstmDropoutMasks,
  bilstmParameterCount,
  bilstmTrainingGraph,
  bilstmWeightShapes,
  exportBilstm,
  importBilstm,
  parseBilstmSpec,
  randomBilstmWeights,
  resolveBilstmConfig,
  teacherWordEmbeddings,
  bilstmConfigJson,
  type BilstmConfig,
} from '../../src/train/students/bilstm.ts';
import { Rng } from '../../src/bert/random.ts';
import { appendLoss, buildGradientGraph } from '../../src/gradients/index.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';
import { findBert } from '../../src/bert/discover.ts';
import { quantizeModel, parseQuantizeSettings } from '../../src/quantize/index.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { checkStudentFits, makeStudent } from '../../src/train/students/index.ts';
import { initialParameters } from '../../src/train/student.ts';
import { runTraining, type DistillSettings } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const hasTeacher = existsSync(join(TEACHER, 'model.onnx'));

/** The ops the reverse-mode differentiator has rules for. */
const DIFFERENTIABLE_OPS = new Set([
  'MatMul',
  'Gemm',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Sigmoid',
  'Tanh',
  'Relu',
  'Gather',
  'Split',
  'Concat',
  'Unsqueeze',
  'Squeeze',
  'Reshape',
  'Transpose',
  'ReduceMax',
  'ReduceSum',
  'Where',
  'Cast',
  'Equal',
  'Not',
  'Less',
  'Shape',
  'Constant',
  'Expand',
]);

/** Random ids in [1, V) for the first `lengths[r]` positions of each row, pad id 0 (or random ids) after; mask 1/0. */
function batch(config: BilstmConfig, lengths: number[], seq: number, seed: number, padGarbage = false): { ids: number[]; mask: number[] } {
  const rng = new Rng(seed, 'batch');
  const garbage = new Rng(seed, 'padding');
  const ids: number[] = [];
  const mask: number[] = [];
  for (const n of lengths) {
    for (let t = 0; t < seq; t++) {
      const real = t < n;
      ids.push(real ? 1 + rng.nextInt(config.vocabSize - 1) : padGarbage ? 1 + garbage.nextInt(config.vocabSize - 1) : 0);
      mask.push(real ? 1 : 0);
    }
  }
  return { ids, mask };
}

async function run(
  model: Model,
  rows: number,
  seq: number,
  data: { ids: number[]; mask: number[] },
  extra: Record<string, Tensor> = {},
): Promise<Float32Array> {
  const session = await openSession(encodeModel(model), { threads: 1 });
  try {
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(data.ids, BigInt), [rows, seq]),
      attention_mask: new Tensor('int64', BigInt64Array.from(data.mask, BigInt), [rows, seq]),
      ...extra,
    };
    const out = await session.run(feeds, ['logits']);
    expect(out.logits!.dims).toEqual([rows, model.graph.outputs[0]!.shape![1]]);
    return out.logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** A plain-JS forward pass in float64, written from the paper's description, to check both graphs against. */
function reference(config: BilstmConfig, weights: Map<string, Float32Array>, lengths: number[], ids: number[], seq: number): Float64Array {
  const { embeddingSize: E, hiddenSize: H, mlpSize: M, numLabels: K } = config;
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const out = new Float64Array(lengths.length * K);
  lengths.forEach((n, r) => {
    const x = (t: number) => weights.get('embedding.weight')!.subarray(ids[r * seq + t]! * E, (ids[r * seq + t]! + 1) * E);
    const pooled = new Float64Array(2 * H).fill(-Infinity);
    for (const [dir, d] of (['fw', 'bw'] as const).entries()) {
      const W = weights.get(`lstm.${d}.W`)!;
      const R = weights.get(`lstm.${d}.R`)!;
      const b = weights.get(`lstm.${d}.b`)!;
      let h = new Float64Array(H);
      let c = new Float64Array(H);
      for (let k = 0; k < n; k++) {
        const t = d === 'fw' ? k : n - 1 - k; // only real tokens; backward starts at the last one
        const xt = x(t);
        const z = new Float64Array(4 * H);
        for (let j = 0; j < 4 * H; j++) {
          let s = b[j]!;
          for (let e = 0; e < E; e++) s += xt[e]! * W[e * 4 * H + j]!;
          for (let e = 0; e < H; e++) s += h[e]! * R[e * 4 * H + j]!;
          z[j] = s;
        }
        const h2 = new Float64Array(H);
        const c2 = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          c2[j] = sig(z[H + j]!) * c[j]! + sig(z[j]!) * Math.tanh(z[2 * H + j]!);
          h2[j] = sig(z[3 * H + j]!) * Math.tanh(c2[j]!);
          pooled[dir * H + j] = Math.max(pooled[dir * H + j]!, h2[j]!);
        }
        h = h2;
        c = c2;
      }
    }
    const w0 = weights.get('mlp.0.weight')!;
    const hidden = Array.from({ length: M }, (_, m) => {
      let s = weights.get('mlp.0.bias')![m]!;
      for (let i = 0; i < 2 * H; i++) s += pooled[i]! * w0[i * M + m]!;
      return Math.max(0, s);
    });
    const w2 = weights.get('mlp.2.weight')!;
    for (let k = 0; k < K; k++) {
      let s = weights.get('mlp.2.bias')![k]!;
      for (let m = 0; m < M; m++) s += hidden[m]! * w2[m * K + k]!;
      out[r * K + k] = s;
    }
  });
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('parseBilstmSpec', () => {
  it('reads bilstm:hidden=H,embedding=E (and mlp=M)', () => {
    expect(parseBilstmSpec('bilstm:hidden=150,embedding=64')).toEqual({ hiddenSize: 150, embeddingSize: 64 });
    expect(parseBilstmSpec('bilstm:hidden=300')).toEqual({ hiddenSize: 300 });
    expect(parseBilstmSpec(' BiLSTM: embedding=32 , hidden=16, mlp=8 ')).toEqual({ hiddenSize: 16, embeddingSize: 32, mlpSize: 8 });
  });
  it.each([
    ['bilstm', /needs hidden=H/],
    ['bilstm:embedding=64', /needs hidden=H/],
    ['bilstm:hidden=0', /hidden 0: expected an integer from 1 to 2\^53 − 1/],
    ['bilstm:hidden=1.5', /hidden 1.5: expected an integer from 1 to 2\^53 − 1/],
    ['bilstm:hidden=', /hidden '': expected an integer from 1 to 2\^53 − 1/],
    ['bilstm:hidden=64,layers=2', /unknown setting 'layers=2'/],
    // names of Object.prototype are no settings
    ['bilstm:hidden=64,constructor=3', /unknown setting 'constructor=3'/],
    ['bilstm:hidden=64,__proto__=3', /unknown setting '__proto__=3'/],
    ['bilstm:hidden=64,hidden=32', /given twice/],
    ['lstm:hidden=64', /not a bilstm:… student/],
  ])('refuses %s in one line', (spec, message) => {
    let err: unknown;
    try {
      parseBilstmSpec(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
  it('resolves defaults: embedding 300, mlp = hidden', () => {
    const c = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=64'), { vocabSize: 100, numLabels: 2, maxLength: 32 });
    expect(c).toEqual({ vocabSize: 100, embeddingSize: 300, hiddenSize: 64, mlpSize: 64, numLabels: 2, maxLength: 32 });
  });
});

describe('a student too large for the machine', () => {
  it.each([
    ['bilstm:hidden=1000000', /^student 'bilstm:hidden=1000000': [\d,]+ parameters would take [\d,]+ GB as float32 weights alone, more than this machine's/],
    [
      'bert:layers=1,hidden=99999999999,heads=1',
      /^student 'bert:layers=1,hidden=99999999999,heads=1': [\d,]+ parameters would take [\d,]+ GB as float32 weights alone/,
    ],
  ])('%s is refused in one line before its weights are allocated', (spec, message) => {
    const teacher = tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32, vocabSize: 40, maxPositions: 12, numLabels: 2 });
    let err: unknown;
    try {
      makeStudent({ spec, teacher, maxLength: 8, seed: 1, numLabels: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/of memory; give smaller sizes$/);
  });
  it('counts what it checks: a student that fits is made, one a byte over is refused', () => {
    const teacher = tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32, vocabSize: 40, maxPositions: 12, numLabels: 2 });
    for (const spec of ['bilstm:hidden=8,embedding=16', 'bert:layers=1,hidden=8,heads=2,intermediate=16']) {
      const params = [...initialParameters(makeStudent({ spec, teacher, maxLength: 8, seed: 1, numLabels: 2 }).student.forward(false)).values()].reduce(
        (n, w) => n + w.length,
        0,
      );
      expect(() => checkStudentFits(spec, params, 4 * params)).not.toThrow();
      expect(() => checkStudentFits(spec, params, 4 * params - 1)).toThrow(/give smaller sizes/);
    }
  });
});

describe('randomBilstmWeights', () => {
  const config = resolveBilstmConfig({ hiddenSize: 8, embeddingSize: 6, mlpSize: 5 }, { vocabSize: 20, numLabels: 3, maxLength: 4 });
  it('has every named weight with its shape, seeded and within the documented ranges', () => {
    const w = randomBilstmWeights(config, 1);
    expect([...bilstmWeightShapes(config)]).toEqual([
      ['embedding.weight', [20, 6]],
      ['lstm.fw.W', [6, 32]],
      ['lstm.fw.R', [8, 32]],
      ['lstm.fw.b', [32]],
      ['lstm.bw.W', [6, 32]],
      ['lstm.bw.R', [8, 32]],
      ['lstm.bw.b', [32]],
      ['mlp.0.weight', [16, 5]],
      ['mlp.0.bias', [5]],
      ['mlp.2.weight', [5, 3]],
      ['mlp.2.bias', [3]],
    ]);
    for (const [name, dims] of bilstmWeightShapes(config)) expect(w.get(name)!.length).toBe(dims.reduce((a, b) => a * b));
    expect(bilstmParameterCount(config)).toBe(120 + 2 * (192 + 256 + 32) + 80 + 5 + 15 + 3);
    const bound = 1 / Math.sqrt(8);
    for (const v of w.get('lstm.bw.R')!) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    for (const v of w.get('mlp.0.weight')!) expect(Math.abs(v)).toBeLessThanOrEqual(Math.sqrt(6 / 21));
    expect([...w.get('mlp.2.bias')!]).toEqual([0, 0, 0]);
    expect(randomBilstmWeights(config, 1).get('lstm.fw.W')).toEqual(w.get('lstm.fw.W'));
    expect(randomBilstmWeights(config, 2).get('lstm.fw.W')).not.toEqual(w.get('lstm.fw.W'));
  });
  it('copies a given embedding table, and refuses one of the wrong size', () => {
    const table = Float32Array.from({ length: 120 }, (_, i) => i);
    expect(randomBilstmWeights(config, 1, { embedding: table }).get('embedding.weight')).toEqual(table);
    expect(() => randomBilstmWeights(config, 1, { embedding: new Float32Array(119) })).toThrow(SettingsError);
  });
  it("starts from the teacher's table when the widths agree, and from random embeddings when the teacher's is quantized or factorized", async () => {
    const teacher = tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32, vocabSize: 40, maxPositions: 12, numLabels: 2 });
    const spec = 'bilstm:hidden=8,embedding=16';
    const embeddingOf = (t: Model) =>
      initialParameters(makeStudent({ spec, teacher: t, maxLength: 8, seed: 1, numLabels: 2 }).student.forward(false)).get('embedding.weight')!;
    expect(embeddingOf(teacher)).toEqual(teacherWordEmbeddings(teacher).data);
    const int8 = (await quantizeModel(teacher, findBert(teacher), parseQuantizeSettings({ mode: 'int8' }))).model;
    registerAllPasses();
    const factorized = (await runPipeline(teacher, [{ pass: 'factorize-embeddings', settings: { rank: 4 } }])).model;
    for (const t of [int8, factorized]) {
      expect(() => teacherWordEmbeddings(t)).toThrow(/are (quantized|factorized)/);
      const e = embeddingOf(t);
      expect(e.length).toBe(40 * 16);
      expect(e).not.toEqual(teacherWordEmbeddings(teacher).data);
    }
  });
  it.skipIf(!hasTeacher)("reads the teacher's word embeddings (needs ../shared/teachers/sst2-L2H256)", () => {
    const t = teacherWordEmbeddings(loadModel(join(TEACHER, 'model.onnx')));
    expect([t.vocabSize, t.width]).toEqual([30522, 256]);
    expect(t.data.length).toBe(30522 * 256);
  });
});

describe('training graph and exported model', () => {
  const config: BilstmConfig = { vocabSize: 50, embeddingSize: 12, hiddenSize: 10, mlpSize: 7, numLabels: 3, maxLength: 9 };
  const weights = randomBilstmWeights(config, 7, { embeddingStd: 0.5 });
  const lengths = [9, 1, 5, 9, 3, 1];
  const data = batch(config, lengths, 9, 3);
  const ref = reference(config, weights, lengths, data.ids, 9);

  it('uses only differentiable ops, float32 weight initializers, and fixed [batch, L] inputs', () => {
    const model = bilstmTrainingGraph(config, weights, { dropout: true });
    const ops = new Set(model.graph.nodes.map((n) => n.opType));
    for (const op of ops) expect(DIFFERENTIABLE_OPS.has(op), op).toBe(true);
    expect([...model.graph.initializers.keys()].sort()).toEqual([...bilstmWeightShapes(config).keys()].sort());
    for (const t of model.graph.initializers.values()) expect(t.dataType).toBe(DataType.FLOAT);
    expect(model.graph.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['input_ids', ['batch', 9]],
      ['attention_mask', ['batch', 9]],
      ['dropout_mask.0', ['batch', 9, 12]],
      ['dropout_mask.1', ['batch', 20]],
    ]);
    expect(bilstmDropoutMasks(config).map((m) => m.name)).toEqual(['dropout_mask.0', 'dropout_mask.1']);
  });

  it('computes the reference BiLSTM; the exported LSTM node gives the same logits within 1e-5', async () => {
    const trained = await run(bilstmTrainingGraph(config, weights), lengths.length, 9, data);
    const exported = await run(exportBilstm(config, weights), lengths.length, 9, data);
    expectClose(trained, ref, 1e-5);
    expectClose(exported, ref, 1e-5);
    expectClose(exported, trained, 1e-5);
  });

  it('a saved student reads back bit for bit (trained further as a BiLSTM, also from a folder as --student)', async () => {
    const back = importBilstm(exportBilstm(config, weights), 9)!;
    expect(back.config).toEqual(config);
    expect([...back.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, w] of weights) expect(back.weights.get(name), name).toEqual(w);
    const dir = mkdtempSync(join(tmpdir(), 'bilstm-saved-'));
    try {
      saveModel(exportBilstm(config, weights), join(dir, 'model.onnx'));
      const { student } = makeStudent({ spec: dir, maxLength: 9, seed: 1 });
      expect(student.kind).toBe('bilstm');
      expectClose(await run(student.forward(false), lengths.length, 9, data), ref, 1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(importBilstm(tinyBert(), 9)).toBeUndefined();
  });

  it('ignores what the padding holds, and with all-ones dropout masks is the same function', async () => {
    const garbage = batch(config, lengths, 9, 3, true);
    expect(garbage.ids).not.toEqual(data.ids);
    const rows = lengths.length;
    const ones = Object.fromEntries(
      bilstmDropoutMasks(config).map((m) => {
        const dims = m.shape.map((d) => (d === 'batch' ? rows : d));
        return [m.name, new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(1), dims)];
      }),
    );
    expectClose(await run(bilstmTrainingGraph(config, weights, { dropout: true }), rows, 9, garbage, ones), ref, 1e-5);
    expectClose(await run(exportBilstm(config, weights), rows, 9, garbage), ref, 1e-5);
  });

  it('dropout masks change the logits (masks are used)', async () => {
    const rows = lengths.length;
    const rng = new Rng(5, 'masks');
    const feeds = Object.fromEntries(
      bilstmDropoutMasks(config).map((m) => {
        const dims = m.shape.map((d) => (d === 'batch' ? rows : d));
        const v = Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => (rng.nextFloat() < 0.5 ? 0 : 2));
        return [m.name, new Tensor('float32', v, dims)];
      }),
    );
    const dropped = await run(bilstmTrainingGraph(config, weights, { dropout: true }), rows, 9, data, feeds);
    let diff = 0;
    for (let i = 0; i < dropped.length; i++) diff = Math.max(diff, Math.abs(dropped[i]! - ref[i]!));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('the exported model takes any sequence length (dynamic [batch, seq])', async () => {
    const short = [5, 1, 3];
    const d = batch(config, short, 5, 11);
    const ref5 = reference(config, weights, short, d.ids, 5);
    expectClose(await run(exportBilstm(config, weights), short.length, 5, d), ref5, 1e-5);
    const one = batch(config, [1], 1, 12);
    expectClose(await run(exportBilstm(config, weights), 1, 1, one), reference(config, weights, [1], one.ids, 1), 1e-5);
  });

  it('its gradient takes each step and gate back with one Concat, never a scatter into a tensor of all the steps', async () => {
    const forward = bilstmTrainingGraph(config, weights, { dropout: true });
    const withLoss = appendLoss(forward, 'logits', config.numLabels, [{ kind: 'hard-ce', weight: 1 }]);
    // the embedding table left out: its own gradient is a scatter of the looked-up rows (made sparse in training)
    const parameters = [...bilstmWeightShapes(config).keys()].filter((name) => name !== 'embedding.weight');
    const gg = await buildGradientGraph(withLoss.model, { loss: withLoss.loss, parameters });
    const ops = gg.model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'ScatterND')).toEqual([]);
    // one Split of each direction's steps and one of the masks', and one of the gates per step (both directions
    // at once), each undone by one Concat
    expect(forward.graph.nodes.filter((n) => n.opType === 'Split')).toHaveLength(3 + config.maxLength);
  });

  it('keeps the unrolled graph to about 21 nodes a step (both directions in one cell chain) at L = 64', () => {
    const c64: BilstmConfig = { ...config, maxLength: 64 };
    const w64 = randomBilstmWeights(c64, 1);
    const train = bilstmTrainingGraph(c64, w64).graph.nodes.length;
    const withDropout = bilstmTrainingGraph(c64, w64, { dropout: true }).graph.nodes.length;
    const exported = exportBilstm(c64, w64).graph.nodes.length;
    console.log(`BiLSTM nodes at L=64: training ${train}, with dropout ${withDropout}, exported ${exported}`);
    expect(train).toBeLessThan(22 * 64);
    expect(withDropout).toBe(train + 2);
    expect(exported).toBeLessThan(40);
  });
});

describe.skipIf(!hasGlue || !hasTeacher)('exported student folder on GLUE (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bilstm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is evaluated by the GLUE harness on SST-2 dev (model_type bilstm, teacher tokenizer)', async () => {
    const teacherConfig = JSON.parse(readFileSync(join(TEACHER, 'config.json'), 'utf8')) as { vocab_size: number; id2label: Record<string, string> };
    const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=16,embedding=16'), { vocabSize: teacherConfig.vocab_size, numLabels: 2, maxLength: 64 });
    const weights = randomBilstmWeights(config, 3);
    // The folder a distillation writes (src/train/run.ts): the exported model, config.json, the teacher's tokenizer.
    const model = exportBilstm(config, weights);
    saveModel(model, join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
    expect(copyModelFiles(TEACHER, dir, TOKENIZER_FILES).sort()).toEqual(['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(json).toMatchObject({ model_type: 'bilstm', num_labels: 2, max_length: 64, id2label: { 0: 'negative', 1: 'positive' } });

    const result = await evaluate({ model: dir, tasks: ['sst2'], glueDir: GLUE_DIR, threads: 1 });
    expect(result.maxLength).toBe(64);
    const task = result.tasks[0]!;
    expect(task.examples).toBe(872);
    // The harness's predictions are the argmax of the model's logits on the tokenized sentences, label 0 = negative.
    const tokenizer = loadTokenizer(TEACHER);
    const dev = loadSplit(getTask('SST-2'), 'dev', GLUE_DIR).examples.slice(0, 24);
    const session = await openSession(encodeModel(model), { threads: 1 });
    for (const [i, e] of dev.entries()) {
      const ids = tokenizer.encode(e.textA, e.textB, 64).ids;
      const feed = (v: readonly number[]) => new Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
      const out = (await session.run({ input_ids: feed(ids), attention_mask: feed(ids.map(() => 1)) })).logits.data as Float32Array;
      expect(task.predictions[i]).toBe(out[1] > out[0] ? 1 : 0);
    }
    await session.release();
  });
});

describe('intermediate-layer distillation of a BiLSTM student', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bilstm-intermediate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const teacher = writeModelFolder(join(dir, 'teacher'), tinyBert());
  const glueDir = join(dir, 'glue');
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
  const run = (distill: Partial<DistillSettings>, output: string) =>
    runTraining({
      task: 'SST-2',
      teacher,
      student: 'bilstm:hidden=4,embedding=8',
      glueDir,
      cacheDir: join(dir, 'cache'),
      output: join(dir, output, 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      distill,
    });

  it('is refused in one line saying a BiLSTM has no layers to match, not that its graph has no attention blocks', async () => {
    await expect(run({ intermediate: 'tinybert' }, 'task')).rejects.toThrow(
      new SettingsError('--intermediate matches encoder layers, and a Distilled BiLSTM student has none: leave out --intermediate (prediction-layer KD)'),
    );
    await expect(run({ stage: 'general', intermediate: 'tinybert' }, 'general')).rejects.toThrow(
      /^--stage general distils intermediate layers, and a Distilled BiLSTM student has none: distil it on --task/,
    );
    expect(existsSync(join(dir, 'task'))).toBe(false);
    expect(existsSync(join(dir, 'general'))).toBe(false);
    expect(existsSync(join(dir, 'cache'))).toBe(false);
  });
});

describe("a BiLSTM student's config.json labels", () => {
  it("orders the source's id2label keys as transformers reads them (int(key)), a later key of the same id winning", () => {
    const teacher = tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32, vocabSize: 40, maxPositions: 12, numLabels: 2 });
    const { student } = makeStudent({ spec: 'bilstm:hidden=4,embedding=4,mlp=4', teacher, maxLength: 8, seed: 1, numLabels: 2 });
    // '１' (a fullwidth digit) is int('１') == 1 in Python; ' 0' is 0; '00' names label 0 again, after ' 0'
    const json = student.configJson({ id2label: { '１': 'positive', ' 0': 'neg', '00': 'negative' } });
    expect(json.id2label).toEqual({ 0: 'negative', 1: 'positive' });
    expect(json.label2id).toEqual({ negative: 0, positive: 1 });
  });
});
