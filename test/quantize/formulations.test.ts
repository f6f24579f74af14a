/**
 * The int8 graphs the int8-formulations benchmark compares (bench/int8-forms.ts) are what they claim to be: the
 * quantize_dynamic graph has one MatMulInteger per constant-weight MatMul, one DynamicQuantizeLinear per activation
 * (Q, K and V share theirs), per-tensor int8 weights with zero points, float Gemms and tables; the former default is
 * one DynamicQuantizeMatMul per projection computing what the current default computes; each runs close to fp32.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { DataType, readNumbers, type Model } from '../../src/onnx/index.ts';
import { OPTIMIZE, optimizeModel } from '../../src/optimize/index.ts';
import { quantizeModel, parseQuantizeSettings } from '../../src/quantize/index.ts';
import { attentionOverInt8, ortQuantizeDynamic, perProjectionDynamicMatMul } from '../../bench/int8-forms.ts';
import { tinyBert } from '../helpers/models.ts';
import { INT8_SATURATES, outputsOf, relativeDiff, sampleFeeds } from '../helpers/run-model.ts';

const count = (m: Model, op: string) => m.graph.nodes.filter((n) => n.opType === op).length;

describe('int8 formulations of the benchmark', () => {
  const model = tinyBert({ numLayers: 2 }, { std: 0.1, seed: 5 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);
  let ref: Record<string, Float32Array>;
  let def: Model;
  beforeAll(async () => {
    ref = await outputsOf(model, feeds);
    def = (await quantizeModel(model, s, parseQuantizeSettings({ mode: 'int8' }))).model;
  });

  it("quantize_dynamic's graph: MatMulInteger per constant-weight MatMul, shared activation quantizers, float Gemms and tables", async () => {
    const q = ortQuantizeDynamic(model);
    const constMatMuls = model.graph.nodes.filter((n) => n.opType === 'MatMul' && model.graph.initializers.has(n.inputs[1])).length;
    expect(constMatMuls).toBe(6 * s.numLayers);
    expect(count(q, 'MatMulInteger')).toBe(constMatMuls);
    expect(count(q, 'DynamicQuantizeLinear')).toBe(4 * s.numLayers);
    expect(count(q, 'MatMul')).toBe(2 * s.numLayers); // Q·Kᵀ and P·V stay float (constant B only)
    expect(count(q, 'Gemm')).toBe(count(model, 'Gemm'));
    expect(q.graph.initializers.get(s.embeddings.word.weight)?.dataType).toBe(DataType.FLOAT);
    for (const n of q.graph.nodes.filter((x) => x.opType === 'MatMulInteger')) {
      expect(q.graph.initializers.get(n.inputs[1])?.dataType).toBe(DataType.INT8);
      const zero = q.graph.initializers.get(n.inputs[3])!;
      expect([zero.dataType, zero.dims, readNumbers(zero)]).toEqual([DataType.INT8, [], [0]]);
    }
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.03);
  });

  it('the former default (DynamicQuantizeMatMul per projection) computes what the default computes', async () => {
    const former = perProjectionDynamicMatMul(def);
    expect(count(former, 'DynamicQuantizeMatMul')).toBe(6 * s.numLayers + 2);
    expect(count(former, 'MatMulIntegerToFloat') + count(former, 'DynamicQuantizeLinear')).toBe(0);
    expect(former.graph.nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul').every((n) => n.inputs.length === 3)).toBe(true);
    expect(relativeDiff(await outputsOf(def, feeds), await outputsOf(former, feeds))).toBeLessThan(1e-6);
  });

  it('Attention over DequantizeLinear(int8 weights) runs in place of QAttention, close to fp32', async () => {
    // (where int8 products saturate, with reduceRange: this graph's DequantizeLinear keeps outputsOf from onnxruntime's
    // x64quantprecision, see test/helpers/run-model.ts)
    const base = INT8_SATURATES ? (await quantizeModel(model, s, parseQuantizeSettings({ mode: 'int8', reduceRange: true }))).model : def;
    const fused = optimizeModel(base, findBert(base), OPTIMIZE.parse({ rewrites: 'attention' })).model;
    const a = attentionOverInt8(fused);
    expect(count(a, 'QAttention')).toBe(0);
    expect(count(a, 'Attention')).toBe(s.numLayers);
    expect(count(a, 'DequantizeLinear')).toBeGreaterThanOrEqual(s.numLayers);
    expect(relativeDiff(ref, await outputsOf(a, feeds))).toBeLessThan(0.03);
  });
});
