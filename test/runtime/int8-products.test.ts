/**
 * The int8 weights whose products onnxruntime adds in saturating 16-bit pairs on x86 CPUs without VNNI
 * (saturatingInt8Weights), and the graph its x64quantprecision rewrite takes (exactInt8Graph): weights several
 * products read copied for each, a per-axis DequantizeLinear without zero point given zeros.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { OPTIMIZE, optimizeModel } from '../../src/optimize/index.ts';
import { encodeModel, type Model, type Node } from '../../src/onnx/index.ts';
import { float32Tensor, int8Tensor, uint8Tensor } from '../../src/onnx/tensor.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { parseQuantizeSettings, quantizeModel } from '../../src/quantize/index.ts';
import { exactInt8Graph, saturatingInt8Weights } from '../../src/runtime/int8-products.ts';
import { floatValues, sessionOptions } from '../../src/runtime/session.ts';
import { attentionOverInt8 } from '../../bench/int8-forms.ts';
import { tinyBert } from '../helpers/models.ts';
import { INT8_SATURATES, sampleFeeds } from '../helpers/run-model.ts';

registerAllPasses();

const model = tinyBert({ numLayers: 2 }, { std: 0.1, seed: 5 });
const s = findBert(model);
const quantized = async (settings: Record<string, unknown>) => (await quantizeModel(model, s, parseQuantizeSettings(settings))).model;

/** The first output of `m` on the sample feeds, in a session opened with `opts`. */
async function logits(m: Model, opts: ort.InferenceSession.SessionOptions): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(m), opts);
  try {
    return floatValues((await session.run(sampleFeeds(m, s)))[session.outputNames[0]!]!);
  } finally {
    await session.release();
  }
}

/** Attention over DequantizeLinear(int8 weights, per axis, no zero point): bench/int8-forms.ts's form. */
async function overInt8(): Promise<Model> {
  const q = await quantized({ mode: 'int8' });
  return attentionOverInt8(optimizeModel(q, findBert(q), OPTIMIZE.parse({ rewrites: 'attention' })).model);
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('saturatingInt8Weights', () => {
  it("names the full-range int8 weights of int8 products, none of a float model's or a 7-bit one's", async () => {
    expect(saturatingInt8Weights(model)).toEqual([]);
    const int8 = await quantized({ mode: 'int8' });
    const names = saturatingInt8Weights(int8);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(int8.graph.initializers.get(n)!.dataType).toBe(3);
    expect(saturatingInt8Weights(await quantized({ mode: 'int8', reduceRange: true }))).toEqual([]);
  });

  it('counts an int8 weight a DequantizeLinear gives a MatMul of dequantized operands (int8-static, per channel or per tensor)', async () => {
    const perAxis = await overInt8();
    // (its DequantizeLinear feeds Attention, no MatMul: not fused into an int8 product)
    const dq = perAxis.graph.nodes.filter((n) => n.opType === 'DequantizeLinear');
    expect(dq.length).toBeGreaterThan(0);
    const viaMatMul = structuredClone(perAxis);
    const fed = viaMatMul.graph.nodes.find((n) => n.opType === 'DequantizeLinear')!;
    viaMatMul.graph.nodes.push({
      name: 'probe',
      opType: 'MatMul',
      domain: '',
      inputs: [fed.outputs[0]!, fed.outputs[0]!],
      outputs: ['probe_out'],
      attributes: {},
    });
    expect(saturatingInt8Weights(viaMatMul)).toContain(fed.inputs[0]);
    const perTensor = structuredClone(viaMatMul);
    const scale = perTensor.graph.initializers.get(fed.inputs[1]!)!;
    perTensor.graph.initializers.set(scale.name, { ...scale, dims: [], data: scale.data.slice(0, 4) });
    expect(saturatingInt8Weights(perTensor)).toContain(fed.inputs[0]);
  });

  // x [1, 8] (255s) · w [8, 2] (127s): 259080 in 32 bits; 4 pairs of 255 · 127 · 2 saturated at 32767: 131068
  it.each([
    ['per tensor', false, false, ['w'], 131068],
    ['per axis', true, false, ['w'], 131068],
    ['per tensor, float operand (weight-only int8)', false, true, [], 259080],
    ['per axis, float operand (weight-only int8)', true, true, [], 259080],
  ])(
    'a DequantizeLinear of an int8 weight %s: counted where onnxruntime fuses it into an int8 product, whose sums saturate here',
    async (_, perAxis, floatOperand, names, saturated) => {
      const m = qdqMatMul(perAxis, floatOperand);
      expect(saturatingInt8Weights(m)).toEqual(names);
      if (process.arch !== 'x64') return;
      const x = { x: new ort.Tensor('float32', new Float32Array(8).fill(255), [1, 8]) };
      const run = async (g: Model, opts: ort.InferenceSession.SessionOptions) => {
        const session = await ort.InferenceSession.create(encodeModel(g), opts);
        try {
          return [...floatValues((await session.run(x)).y!)];
        } finally {
          await session.release();
        }
      };
      expect(await run(m, sessionOptions({ threads: 1 }))).toEqual(INT8_SATURATES ? [saturated, saturated] : [259080, 259080]);
      expect(await run(exactInt8Graph(m) ?? m, sessionOptions({ threads: 1, x64QuantPrecision: true }))).toEqual([259080, 259080]);
    },
  );
});

describe.runIf(process.arch === 'x64')('exactInt8Graph: QLinearMatMul', () => {
  // x [1, 8] (255s) · w [8, 2] (127s) = 259080 in 32 bits (127 · 2048 as y's uint8 rounds it), 4 · 32767 saturated (64 · 2048)
  it.each([
    [13, 131072],
    [21, 131072],
  ])(
    'at opset %i, sums in 32 bits with the rewrite (which takes QLinearMatMul-10 alone: at 21, exactInt8Graph stores its weight as uint8 + 128)',
    async (opset, saturated) => {
      const m = qlinearMatMul(opset);
      expect(saturatingInt8Weights(m)).toEqual(['w']);
      const x = { x: new ort.Tensor('float32', new Float32Array(8).fill(255), [1, 8]) };
      const run = async (g: Model, opts: ort.InferenceSession.SessionOptions) => {
        const session = await ort.InferenceSession.create(encodeModel(g), opts);
        try {
          return [...floatValues((await session.run(x)).y!)];
        } finally {
          await session.release();
        }
      };
      expect(await run(m, sessionOptions({ threads: 1 }))).toEqual(INT8_SATURATES ? [saturated, saturated] : [260096, 260096]);
      expect(await run(exactInt8Graph(m) ?? m, sessionOptions({ threads: 1, x64QuantPrecision: true }))).toEqual([260096, 260096]);
      if (opset < 21) expect(exactInt8Graph(m)).toBeUndefined();
    },
  );
});

/** y = QLinearMatMul(x quantized to uint8, w int8 [8, 2] of 127s), y's scale 2048, at `opset`. */
function qlinearMatMul(opset: number): Model {
  const inits = [
    float32Tensor('xs', [], [1]),
    uint8Tensor('xz', [], [0]),
    int8Tensor('w', [8, 2], new Array(16).fill(127)),
    float32Tensor('ws', [], [1]),
    int8Tensor('wz', [], [0]),
    float32Tensor('ys', [], [2048]),
    uint8Tensor('yz', [], [0]),
  ];
  const node = (opType: string, inputs: string[], outputs: string[]): Node => ({ name: outputs[0]!, opType, domain: '', inputs, outputs, attributes: {} });
  return {
    ...qdqMatMul(false, false),
    opsetImports: [{ domain: '', version: opset }],
    graph: {
      ...qdqMatMul(false, false).graph,
      nodes: [
        node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']),
        node('QLinearMatMul', ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz'], ['yq']),
        node('DequantizeLinear', ['yq', 'ys', 'yz'], ['y']),
      ],
      initializers: new Map(inits.map((t) => [t.name, t])),
    },
  };
}

/** y = x · DequantizeLinear(w int8 [8, 2] of 127s), x through a QuantizeLinear → DequantizeLinear pair (uint8) or float. */
function qdqMatMul(perAxis: boolean, floatOperand: boolean): Model {
  const inits = [
    float32Tensor('xs', [], [1]),
    uint8Tensor('xz', [], [0]),
    int8Tensor('w', [8, 2], new Array(16).fill(127)),
    float32Tensor('ws', perAxis ? [2] : [], perAxis ? [1, 1] : [1]),
    int8Tensor('wz', perAxis ? [2] : [], perAxis ? [0, 0] : [0]),
  ];
  const node = (opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = {}): Node => ({
    name: outputs[0]!,
    opType,
    domain: '',
    inputs,
    outputs,
    attributes,
  });
  return {
    irVersion: 10,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 'test',
    producerVersion: '',
    domain: '',
    modelVersion: 1,
    docString: '',
    metadataProps: {},
    graph: {
      name: 'qdq',
      nodes: [
        ...(floatOperand
          ? [node('Identity', ['x'], ['xd'])]
          : [node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd'])]),
        node('DequantizeLinear', ['w', 'ws', 'wz'], ['wd'], perAxis ? { axis: { type: 'int', value: 1 } } : {}),
        node('MatMul', ['xd', 'wd'], ['y']),
      ],
      inputs: [{ name: 'x', elemType: 1, shape: [1, 8] }],
      outputs: [{ name: 'y', elemType: 1, shape: [1, 2] }],
      initializers: new Map(inits.map((t) => [t.name, t])),
      valueInfo: [],
    },
  };
}

describe.runIf(process.arch === 'x64')("exactInt8Graph: the graph onnxruntime's x64quantprecision takes", () => {
  const precise = { ...sessionOptions({ threads: 1, x64QuantPrecision: true }) };

  it("gives each int8 product its own copy of a weight several read (share-layers, then int8), which the rewrite fails on ('Attempt to replace the existing tensor')", async () => {
    const shared = (
      await runPipeline(tinyBert({ numLayers: 3 }, { std: 0.2 }), [
        { pass: 'share-layers', settings: { share: 'all' } },
        { pass: 'quantize', settings: { mode: 'int8' } },
      ])
    ).model;
    await expect(logits(shared, precise)).rejects.toThrow(/Attempt to replace the existing tensor/);
    const copy = exactInt8Graph(shared)!;
    expect(copy).toBeDefined();
    expect(copy.graph.initializers.size).toBeGreaterThan(shared.graph.initializers.size);
    const exact = await logits(copy, precise);
    // the same weights: without the rewrite, the copy computes what the model computes
    expect(maxDiff(await logits(copy, sessionOptions({ threads: 1 })), await logits(shared, sessionOptions({ threads: 1 })))).toBe(0);
    expect(exact.every(Number.isFinite)).toBe(true);
    // the model it was given is left as it was
    expect(exactInt8Graph(await quantized({ mode: 'int8' }))).toBeUndefined();
  });

  it('gives a per-axis DequantizeLinear without zero point its zeros, which the rewrite leaves a scalar that the op refuses as it runs', async () => {
    const form = await overInt8();
    await expect(logits(form, precise)).rejects.toThrow(/zero_point/);
    const copy = exactInt8Graph(form)!;
    const fp32 = await logits(model, sessionOptions({ threads: 1 }));
    const exact = maxDiff(await logits(copy, precise), fp32);
    const fast = maxDiff(await logits(form, sessionOptions({ threads: 1 })), fp32);
    // (0.004 from fp32 here, as int8 weights and activations give; the default session on this AVX2-only EPYC: 0.021,
    // its products saturating)
    expect(exact).toBeLessThan(0.01);
    if (INT8_SATURATES) expect(fast).toBeGreaterThan(2 * exact);
  });
});

describe('sessionOptions x64QuantPrecision', () => {
  it("sets onnxruntime's session.x64quantprecision, beside the spinning settings, at level 'extended' at least (a level-2 rewrite)", () => {
    const o = sessionOptions({ x64QuantPrecision: true, spinning: false, graphOptimizationLevel: 'disabled' });
    expect(o.extra).toEqual({ session: { intra_op: { allow_spinning: '0' }, x64quantprecision: '1' } });
    expect(o.graphOptimizationLevel).toBe('extended');
    expect(sessionOptions({ x64QuantPrecision: true }).graphOptimizationLevel).toBe('all');
    expect(sessionOptions({}).extra).toBeUndefined();
  });
});
