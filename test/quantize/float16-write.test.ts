/**
 * quantize mode float16 writes a float16 model as onnxconverter-common's convert_float_to_float16(keep_io_types=True)
 * does: every float32 tensor float16 (clamped to ±1e4, nonzero magnitudes below 1e-7 to ±1e-7), graph inputs and
 * outputs float32 through Casts, the converter's blocked ops (Max, TopK, Range…) float32 behind Casts. The result is
 * read back and discovered as the same BERT, scored as the float32 one, and written by --format transformers.js as
 * onnx/model_fp16.onnx (dtype fp16). An int8, float16 or Distilled BiLSTM model is refused in one line.
 *
 * Tolerance of the tiny model's logits: float16 keeps 11 significant bits (relative step 2^-11 ≈ 4.9e-4) in every
 * weight and in every activation onnxruntime computes in float16; the tiny model (std 0.2 weights, logits of a few
 * units) moves by ~3e-3 measured. 2e-2 of the largest logit leaves room for that and still catches a wrong cast, a
 * dropped bias or a swapped tensor (which move logits by their own size).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { cloneModel, createModel, type Graph, type Model, type Node } from '../../src/onnx/graph.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { float32Tensor, int64Tensor, readFloat32 } from '../../src/onnx/tensor.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { convertToFloat16 } from '../../src/quantize/float16.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { bilstmConfigJson, exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { maxAbs, maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-float16-write-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const float16 = { pass: 'quantize', settings: { mode: 'float16' } };
const source = tinyBert({}, { std: 0.2 });
const folder = writeModelFolder(join(work, 'fp32'), source);
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 24);

describe('quantize float16', () => {
  it('stores every float32 tensor in float16 (half the bytes), keeps the inputs and outputs float32, and scores as the float32 model', async () => {
    const output = join(work, 'fp16', 'model.onnx');
    const lineage = await compressFile({ input: join(folder, 'model.onnx'), output, steps: [float16] });
    const model = loadModel(output);
    const types = [...model.graph.initializers.values()].map((t) => t.dataType);
    expect(types).not.toContain(DataType.FLOAT);
    expect(types).toContain(DataType.FLOAT16);
    expect(model.graph.inputs.map((v) => [v.name, v.elemType])).toEqual(source.graph.inputs.map((v) => [v.name, v.elemType]));
    expect(model.graph.outputs.map((v) => [v.name, v.elemType])).toEqual([['logits', DataType.FLOAT]]);
    const last = model.graph.nodes.find((n) => n.outputs.includes('logits'))!;
    expect([last.opType, last.attributes.to]).toEqual(['Cast', { type: 'int', value: DataType.FLOAT }]);
    expect(lineage.after.bytes / lineage.before.bytes).toBeGreaterThan(0.49);
    expect(lineage.after.bytes / lineage.before.bytes).toBeLessThan(0.51);
    expect(lineage.passes[0].report.summary).toMatch(/^float16: .* \(50\.\d%\), \d+ tensors stored float16, float32 inputs and outputs kept through Casts/);
    expect(lineage.passes[0].step.settings).toMatchObject({ mode: 'float16' });

    // re-read and discovered as the same BERT
    const before = findBert(source);
    const after = findBert(model);
    expect(after.layers.map((l) => [l.attention?.numHeads, l.attention?.headSize, l.ffn?.intermediateSize])).toEqual(
      before.layers.map((l) => [l.attention?.numHeads, l.attention?.headSize, l.ffn?.intermediateSize]),
    );
    const shape = (b: typeof before) => [b.hiddenSize, b.vocabSize, b.maxPositions, b.head?.kind, b.head?.numLabels, b.head?.outputs];
    expect(shape(after)).toEqual(shape(before));

    const feeds = sampleFeeds(source, before, 3, 12);
    const [a, b] = await Promise.all([outputsOf(source, feeds), outputsOf(model, feeds)]);
    expect(maxDiff(b, a)).toBeLessThan(2e-2 * Math.max(1, maxAbs(a)));
    expect(maxDiff(b, a)).toBeGreaterThan(0); // (float16 rounding: it is not the float32 model written again)

    writeFileSync(join(work, 'fp16', 'vocab.txt'), readFileSync(join(folder, 'vocab.txt')));
    const [f32, f16] = await Promise.all([folder, join(work, 'fp16')].map((m) => evaluate({ model: m, tasks: ['sst2'], glueDir, threads: 1 })));
    expect(f16.tasks[0].predictions).toEqual(f32.tasks[0].predictions);
  });

  it('computes each decomposed LayerNorm’s variance in float32: x − mean cast to float32, square, ReduceMean, epsilon and Sqrt reading float32, the Sqrt cast back', async () => {
    // in float16 the square of |x − mean| > 256 is Infinity on a runtime computing float16 in float16 (onnxruntime's
    // CPU provider computes these ops in float32 itself, so running the model cannot show it: the graph is read)
    const { model: half, report } = convertToFloat16(source, { mode: 'float16' });
    const producer = new Map(half.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const readers = (v: string) => half.graph.nodes.filter((n) => n.inputs.includes(v));
    const castTo = (n: { opType: string; attributes: Record<string, unknown> } | undefined) =>
      n?.opType === 'Cast' ? (n.attributes.to as { value: number }).value : undefined;
    const pows = half.graph.nodes.filter((n) => n.opType === 'Pow');
    expect(pows).toHaveLength(5); // (the embeddings' LayerNorm and two per layer)
    for (const pow of pows) {
      expect(castTo(producer.get(pow.inputs[0]))).toBe(DataType.FLOAT);
      expect(castTo(producer.get(pow.inputs[1]))).toBe(DataType.FLOAT);
      const chain = [pow];
      for (const op of ['ReduceMean', 'Add', 'Sqrt']) {
        const next = readers(chain[chain.length - 1].outputs[0]);
        expect(next.map((n) => n.opType)).toEqual([op]);
        chain.push(next[0]);
      }
      const epsilon = chain[2].inputs.find((i) => i !== chain[1].outputs[0])!;
      expect(castTo(producer.get(epsilon))).toBe(DataType.FLOAT);
      expect(readers(chain[3].outputs[0]).map(castTo)).toEqual([DataType.FLOAT16]);
    }
    expect(report.summary).toMatch(/, the variance of 5 decomposed LayerNorms computed in float32 \(square, ReduceMean, epsilon, Sqrt\)$/);
    expect(report.details).toMatchObject({ layerNormVariancesFloat32: 5, keptFloat32: [] });
    // still the same BERT, computing as the float32 one
    expect(findBert(half).layers.map((l) => l.attentionNorm?.kind)).toEqual(findBert(source).layers.map((l) => l.attentionNorm?.kind));
    const feeds = sampleFeeds(source, findBert(source), 2, 9);
    const [a, b] = await Promise.all([outputsOf(source, feeds), outputsOf(half, feeds)]);
    expect(maxDiff(b, a)).toBeLessThan(2e-2 * Math.max(1, maxAbs(a)));
  });

  it('keeps value_info true to the graph: a value a float32-kept node writes declared float32 under its new name, none left for a value it removed', async () => {
    // shape inference's value_info for each LayerNorm's x − mean, square, variance, variance + epsilon and its Sqrt
    const declared = cloneModel(source);
    const pows = declared.graph.nodes.filter((n) => n.opType === 'Pow');
    const readers = (g: Graph, v: string) => g.nodes.filter((n) => n.inputs.includes(v));
    for (const pow of pows) {
      let values = [pow.inputs[0], pow.outputs[0]];
      for (let i = 0; i < 3; i++) values = [...values, readers(declared.graph, values.at(-1)!)[0]!.outputs[0]!];
      for (const name of values)
        declared.graph.valueInfo.push({
          name,
          elemType: DataType.FLOAT,
          shape: ['batch', 'seq', name === pow.inputs[0] || name === pow.outputs[0] ? findBert(source).hiddenSize : 1],
        });
    }
    expect(declared.graph.valueInfo).toHaveLength(5 * pows.length);
    const { model: half } = convertToFloat16(declared, { mode: 'float16' });
    const g = half.graph;
    const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const kept = new Set(['Pow', 'ReduceMean', 'Add', 'Sqrt']);
    const castTo = (n: Node | undefined) => (n?.opType === 'Cast' ? (n.attributes.to as { value: number }).value : undefined);
    // (a node of a variance computes float32, reading Casts to float32 and the variance's nodes before it; x − mean float16)
    const float32Node = (n: Node | undefined): boolean =>
      n !== undefined && kept.has(n.opType) && n.inputs.every((i) => castTo(producer.get(i)) === DataType.FLOAT || float32Node(producer.get(i)));
    const written = (name: string): number | undefined => castTo(producer.get(name)) ?? (float32Node(producer.get(name)) ? DataType.FLOAT : DataType.FLOAT16);
    for (const v of g.valueInfo) {
      expect(producer.has(v.name), `value_info ${v.name}: no node writes it`).toBe(true);
      expect([v.name, v.elemType]).toEqual([v.name, written(v.name)]);
    }
    // per LayerNorm: x − mean (float16), and in float32 the square, the variance, + epsilon and the Sqrt, whose float16 copy the Div reads
    const types = g.valueInfo.map((v) => v.elemType);
    expect(types.filter((t) => t === DataType.FLOAT16)).toHaveLength(2 * pows.length);
    expect(types.filter((t) => t === DataType.FLOAT)).toHaveLength(4 * pows.length);
    const feeds = sampleFeeds(source, findBert(source), 2, 9);
    const [a, b] = await Promise.all([outputsOf(source, feeds), outputsOf(half, feeds)]);
    expect(maxDiff(b, a)).toBeLessThan(2e-2 * Math.max(1, maxAbs(a)));
  });

  it('clamps as onnxconverter-common does, keeps its blocked ops float32 behind Casts, and leaves integer values alone', async () => {
    // y = Max(x · c, floor), positions = Range(0, n, 1): c holds values float16 cannot hold
    const c = [1e5, -1e5, 1e-12, -1e-12, 0, 2.5];
    const model = createModel(
      {
        name: 'g',
        nodes: [
          { name: 'mul', opType: 'Mul', domain: '', inputs: ['x', 'c'], outputs: ['xc'], attributes: {} },
          { name: 'max', opType: 'Max', domain: '', inputs: ['xc', 'floor'], outputs: ['y'], attributes: {} },
          { name: 'range', opType: 'Range', domain: '', inputs: ['zero', 'n', 'one'], outputs: ['positions'], attributes: {} },
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [6] }],
        outputs: [
          { name: 'y', elemType: DataType.FLOAT, shape: [6] },
          { name: 'positions', elemType: DataType.INT64, shape: [null] },
        ],
        initializers: new Map([
          ['c', float32Tensor('c', [6], c)],
          ['floor', float32Tensor('floor', [1], [-2e4])],
          ['zero', int64Tensor('zero', [], [0])],
          ['n', int64Tensor('n', [], [3])],
          ['one', int64Tensor('one', [], [1])],
        ]),
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: half, report } = convertToFloat16(model, { mode: 'float16' });
    const init = half.graph.initializers;
    expect(readFloat32(init.get('c')!).map((v) => Number(v.toPrecision(3)))).toEqual(Float32Array.from([1e4, -1e4, 1.19e-7, -1.19e-7, 0, 2.5]));
    expect(readFloat32(init.get('floor')!)).toEqual(Float32Array.from([-1e4]));
    expect([init.get('n')!.dataType, init.get('c')!.dataType]).toEqual([DataType.INT64, DataType.FLOAT16]);
    // Max reads float32 through Casts and is cast back; Range reads int64 only: no Cast
    const ops = half.graph.nodes.map((n) => `${n.opType}${n.opType === 'Cast' ? `:${n.attributes.to?.value}` : ''}`);
    expect(ops).toEqual(['Cast:10', 'Mul', 'Cast:1', 'Cast:1', 'Max', 'Cast:10', 'Range', 'Cast:1']);
    expect(report.summary).toMatch(/, 5 values clamped to float16's range .*, 1 node kept float32 behind Casts \(max\)$/);
    const x = new Float32Array([1, 1, 1e6, 1e6, 5, 2]);
    const out = await outputsOf(half, { x: new Tensor('float32', x, [6]) });
    expect(Array.from(out.y, (v) => Number(v.toPrecision(3)))).toEqual([1e4, -1e4, 0.119, -0.119, 0, 5]);
  });

  it('keeps an output read inside the graph, an output that is an initializer and ConstantOfShape’s default float32 zero consistent in float16', async () => {
    // y = x + zeros(shape(x)) (ConstantOfShape without a value: float32 0), z = y · w; outputs y (read by the Mul), z, w
    const model = createModel(
      {
        name: 'g',
        nodes: [
          { name: 'shape', opType: 'Shape', domain: '', inputs: ['x'], outputs: ['s'], attributes: {} },
          { name: 'zeros', opType: 'ConstantOfShape', domain: '', inputs: ['s'], outputs: ['zero'], attributes: {} },
          { name: 'add', opType: 'Add', domain: '', inputs: ['x', 'zero'], outputs: ['y'], attributes: {} },
          { name: 'mul', opType: 'Mul', domain: '', inputs: ['y', 'w'], outputs: ['z'], attributes: {} },
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [3] }],
        outputs: ['y', 'z', 'w'].map((name) => ({ name, elemType: DataType.FLOAT, shape: [3] })),
        initializers: new Map([['w', float32Tensor('w', [3], [0.5, -2, 3])]]),
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: half } = convertToFloat16(model, { mode: 'float16' });
    expect(half.graph.outputs.map((v) => [v.name, v.elemType])).toEqual(['y', 'z', 'w'].map((n) => [n, DataType.FLOAT]));
    const feeds = { x: new Tensor('float32', new Float32Array([1, 2, 3]), [3]) };
    const [a, b] = await Promise.all([outputsOf(model, feeds), outputsOf(half, feeds)]);
    expect(b).toEqual(a);
    expect(b.z).toEqual(Float32Array.from([0.5, -4, 9]));
  });

  it('renames a float32 graph input or output that an If branch reads from the outer graph to its float16 copy', async () => {
    // y = If(flag, then: x + c, else: y0 · c), y0 = x · x (a graph output too): both branches read outer float values the
    // top graph renames (the input x, the output y0)
    const branch = (name: string, op: string, a: string): Graph => ({
      name,
      nodes: [{ name: `${name}_op`, opType: op, domain: '', inputs: [a, 'c'], outputs: [`${name}_out`], attributes: {} }],
      inputs: [],
      outputs: [{ name: `${name}_out`, elemType: DataType.FLOAT, shape: [3] }],
      initializers: new Map([['c', float32Tensor('c', [3], [0.5, -2, 3])]]),
      valueInfo: [],
    });
    const model = createModel(
      {
        name: 'g',
        nodes: [
          { name: 'square', opType: 'Mul', domain: '', inputs: ['x', 'x'], outputs: ['y0'], attributes: {} },
          {
            name: 'if',
            opType: 'If',
            domain: '',
            inputs: ['flag'],
            outputs: ['y'],
            attributes: {
              then_branch: { type: 'graph', value: branch('then', 'Add', 'x') },
              else_branch: { type: 'graph', value: branch('else', 'Mul', 'y0') },
            },
          },
        ],
        inputs: [
          { name: 'x', elemType: DataType.FLOAT, shape: [3] },
          { name: 'flag', elemType: DataType.BOOL, shape: [] },
        ],
        outputs: ['y', 'y0'].map((name) => ({ name, elemType: DataType.FLOAT, shape: [3] })),
        initializers: new Map(),
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: half } = convertToFloat16(model, { mode: 'float16' });
    for (const flag of [true, false]) {
      const feeds = { x: new Tensor('float32', new Float32Array([1, 2, 3]), [3]), flag: new Tensor('bool', new Uint8Array([flag ? 1 : 0]), []) };
      const [a, b] = await Promise.all([outputsOf(model, feeds), outputsOf(half, feeds)]);
      expect(b).toEqual(a);
      expect(b.y).toEqual(Float32Array.from(flag ? [1.5, 0, 6] : [0.5, -8, 27]));
    }
  });

  it('reads the type of an If’s output from its branches, so a blocked op reading it (Max) reads it cast to float32', async () => {
    // y = Max(If(flag, then: x + c, else: x · c), floor): the If's first input is its bool condition, not its output's type
    const branch = (name: string, op: string): Graph => ({
      name,
      nodes: [{ name: `${name}_op`, opType: op, domain: '', inputs: ['x', 'c'], outputs: [`${name}_out`], attributes: {} }],
      inputs: [],
      outputs: [{ name: `${name}_out`, elemType: DataType.FLOAT, shape: [3] }],
      initializers: new Map([['c', float32Tensor('c', [3], [0.5, -2, 3])]]),
      valueInfo: [],
    });
    const model = createModel(
      {
        name: 'g',
        nodes: [
          {
            name: 'if',
            opType: 'If',
            domain: '',
            inputs: ['flag'],
            outputs: ['t'],
            attributes: { then_branch: { type: 'graph', value: branch('then', 'Add') }, else_branch: { type: 'graph', value: branch('else', 'Mul') } },
          },
          { name: 'max', opType: 'Max', domain: '', inputs: ['t', 'floor'], outputs: ['y'], attributes: {} },
        ],
        inputs: [
          { name: 'x', elemType: DataType.FLOAT, shape: [3] },
          { name: 'flag', elemType: DataType.BOOL, shape: [] },
        ],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [3] }],
        initializers: new Map([['floor', float32Tensor('floor', [1], [0])]]),
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: half, report } = convertToFloat16(model, { mode: 'float16' });
    expect(report.details?.keptFloat32).toEqual(['max']);
    for (const flag of [true, false]) {
      const feeds = { x: new Tensor('float32', new Float32Array([1, 2, 3]), [3]), flag: new Tensor('bool', new Uint8Array([flag ? 1 : 0]), []) };
      const [a, b] = await Promise.all([outputsOf(model, feeds), outputsOf(half, feeds)]);
      expect(b).toEqual(a);
      expect(b.y).toEqual(Float32Array.from(flag ? [1.5, 0, 6] : [0.5, 0, 9]));
    }
  });

  it('finds a decomposed LayerNorm whose exponent and epsilon are Constant nodes in their scalar or one-element list forms (value_float, value_floats)', async () => {
    const op = (name: string, opType: string, inputs: string[]) => ({ name, opType, domain: '', inputs, outputs: [name], attributes: {} });
    const mean = (name: string, input: string) => ({ ...op(name, 'ReduceMean', [input]), attributes: { axes: { type: 'ints' as const, value: [-1] } } });
    const model = createModel(
      {
        name: 'g',
        nodes: [
          { ...op('two', 'Constant', []), attributes: { value_float: { type: 'float', value: 2 } } },
          { ...op('eps', 'Constant', []), attributes: { value_floats: { type: 'floats', value: [1e-5] } } },
          mean('mean', 'x'),
          op('d', 'Sub', ['x', 'mean']),
          op('sq', 'Pow', ['d', 'two']),
          mean('var', 'sq'),
          op('ve', 'Add', ['var', 'eps']),
          op('sd', 'Sqrt', ['ve']),
          op('y', 'Div', ['d', 'sd']),
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [2, 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [2, 4] }],
        initializers: new Map(),
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: half, report } = convertToFloat16(model, { mode: 'float16' });
    expect(report.summary).toMatch(/, the variance of 1 decomposed LayerNorm computed in float32 \(square, ReduceMean, epsilon, Sqrt\)$/);
    const feeds = { x: new Tensor('float32', Float32Array.from([0.5, -1, 2, 0.25, -0.5, 1.5, 3, -2]), [2, 4]) };
    const [a, b] = await Promise.all([outputsOf(model, feeds), outputsOf(half, feeds)]);
    expect(maxDiff(a, b)).toBeLessThan(1e-2 * maxAbs(a));
  });

  it('types a Reshape of a contrib op’s output (unknown) as unknown, not as its int64 shape, so the LayerNorm after it stays consistent (--optimize’s BiasGelu in keras’s Tensordot)', async () => {
    // y = LayerNorm(MatMul(Reshape(com.microsoft Gelu(x), shape), w)) with the LayerNorm decomposed: Reshape's first
    // known input was its int64 shape, so the MatMul and the LayerNorm read as int64 and the variance's epsilon Add
    // mixed float32 and float16 (onnxruntime refused the model)
    const op = (name: string, opType: string, inputs: string[], domain = '') => ({ name, opType, domain, inputs, outputs: [name], attributes: {} });
    const model = createModel(
      {
        name: 'g',
        nodes: [
          op('gelu', 'Gelu', ['x'], 'com.microsoft'),
          op('flat', 'Reshape', ['gelu', 'shape']),
          op('h', 'MatMul', ['flat', 'w']),
          { ...op('mean', 'ReduceMean', ['h']), attributes: { axes: { type: 'ints', value: [-1] } } },
          op('d', 'Sub', ['h', 'mean']),
          op('sq', 'Mul', ['d', 'd']),
          { ...op('var', 'ReduceMean', ['sq']), attributes: { axes: { type: 'ints', value: [-1] } } },
          op('ve', 'Add', ['var', 'eps']),
          op('sd', 'Sqrt', ['ve']),
          { ...op('y', 'Div', ['d', 'sd']), outputs: ['y'] },
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [2, 2, 2] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [2, 4] }],
        initializers: new Map([
          ['shape', int64Tensor('shape', [2], [2, 4])],
          ['w', float32Tensor('w', [4, 4], [1, -2, 0.5, 3, 0, 1, 2, -1, 4, 0.25, -3, 1, -1, 2, 1, 0])],
          ['eps', float32Tensor('eps', [], [1e-5])],
        ]),
        valueInfo: [],
      },
      [
        { domain: '', version: 14 },
        { domain: 'com.microsoft', version: 1 },
      ],
    );
    const { model: half, report } = convertToFloat16(model, { mode: 'float16' });
    expect(report.summary).toMatch(/, the variance of 1 decomposed LayerNorm computed in float32 \(square, ReduceMean, epsilon, Sqrt\)$/);
    const feeds = { x: new Tensor('float32', Float32Array.from([0.5, -1, 2, 0.25, -0.5, 1.5, 3, -2]), [2, 2, 2]) };
    const [a, b] = await Promise.all([outputsOf(model, feeds), outputsOf(half, feeds)]);
    expect(maxDiff(a, b)).toBeLessThan(1e-2 * maxAbs(a));
  });

  it('stores an initializer listed as a graph input too (IR 3, torch’s keep_initializers_as_inputs) in float16 under its name, the input typed as it', async () => {
    const model = createModel(
      {
        name: 'g',
        nodes: [{ name: 'mul', opType: 'Mul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: {} }],
        inputs: ['x', 'w'].map((name) => ({ name, elemType: DataType.FLOAT, shape: [3] })),
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [3] }],
        initializers: new Map([['w', float32Tensor('w', [3], [0.5, -2, 3])]]),
        valueInfo: [],
      },
      [{ domain: '', version: 9 }],
      { irVersion: 3 },
    );
    const { model: half } = convertToFloat16(model, { mode: 'float16' });
    expect(half.graph.inputs.map((v) => [v.name, v.elemType])).toEqual([
      ['x', DataType.FLOAT],
      ['w', DataType.FLOAT16],
    ]);
    expect([...half.graph.initializers.values()].map((t) => [t.name, t.dataType])).toEqual([['w', DataType.FLOAT16]]);
    const feeds = { x: new Tensor('float32', new Float32Array([1, 2, 3]), [3]) };
    const [a, b] = await Promise.all([outputsOf(model, feeds), outputsOf(half, feeds)]);
    expect(b).toEqual(a);
  });

  it('refuses an int8 model, a float16 model, a Distilled BiLSTM student and the integer modes’ settings in one line', async () => {
    const int8 = join(work, 'int8', 'model.onnx');
    await compressFile({ input: join(folder, 'model.onnx'), output: int8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    await expect(compressFile({ input: int8, output: join(work, 'refused-int8', 'a.onnx'), steps: [float16] })).rejects.toThrow(
      /^quantize float16: every weight is already quantized \(8 bits, [a-z-]+\): quantize the float model instead$/,
    );
    const half = writeModelFolder(join(work, 'half'), toFloat16(source));
    await expect(compressFile({ input: join(half, 'model.onnx'), output: join(work, 'refused-half', 'b.onnx'), steps: [float16] })).rejects.toThrow(
      /^quantize float16: weight '[^']+' \([^)]+\) is float16 already: the model is stored in float16$/,
    );
    const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=16'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
    const student = writeModelFolder(join(work, 'bilstm'), exportBilstm(config, randomBilstmWeights(config, 5)));
    writeFileSync(join(student, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
    await expect(compressFile({ input: join(student, 'model.onnx'), output: join(work, 'refused', 'c.onnx'), steps: [float16] })).rejects.toThrow(
      new SettingsError(
        'quantize float16: the model is a recurrent model (a Distilled BiLSTM student), and mode float16 converts BERT-family models only: use --quantize int8',
      ),
    );
    expect(existsSync(join(work, 'refused'))).toBe(false);
    for (const [setting, value] of [
      ['perChannel', false],
      ['embeddings', false],
      ['format', 'standard'],
      ['attention', false],
      ['reduceRange', true],
    ] as const) {
      expect(() => quantizePass.parse({ mode: 'float16', [setting]: value })).toThrow(
        new RegExp(`${setting}.*mode float16 stores every float32 tensor in float16`),
      );
    }
    // Optimum's and transformers.js's name for it reads as float16
    expect(quantizePass.check({ mode: 'fp16' }).mode).toBe('float16');
  });

  it('--format transformers.js writes onnx/model_fp16.onnx, dtype fp16 by default, and eval loads that file', async () => {
    const out = join(work, 'tjs');
    const written = await compressToTransformersJs({ input: join(folder, 'model.onnx'), output: out, steps: [float16] });
    expect(written.models).toEqual([
      { dtype: 'fp32', file: 'onnx/model.onnx' },
      { dtype: 'fp16', file: 'onnx/model_fp16.onnx' },
    ]);
    expect(written.defaultDtype).toBe('fp16');
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config']).toEqual({ dtype: 'fp16' });
    const fp16: Model = loadModel(join(out, 'onnx', 'model_fp16.onnx'));
    expect(fp16.graph.initializers.get([...fp16.graph.initializers.keys()][0])?.dataType).not.toBe(DataType.FLOAT);
    const result = await evaluate({ model: out, tasks: ['sst2'], glueDir, threads: 1 });
    expect(result.transformersJs).toEqual({ dtype: 'fp16', from: 'config.json' });
  });
});
