/**
 * Discovery names a feed-forward activation by what its ops compute, not by which ops they are: hidden_act 'tanh'
 * (one Tanh node) is not the tanh GELU, x·Sigmoid(1.702x) (quick_gelu) is not SiLU. A misnamed tanh
 * was fused into FastGelu by --optimize and rebuilt as gelu_new by train and distill.
 */
import { describe, expect, it } from 'vitest';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { Model, Node } from '../../src/onnx/index.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert, onnxNode } from '../helpers/models.ts';
import { refusal } from '../helpers/refusal.ts';

registerAllPasses();

/** A tiny ReLU BERT whose every Relu node is replaced by the nodes `replace` returns (reading x, writing y). */
function withActivation(replace: (x: string, y: string, i: number) => { nodes: Node[]; constants?: Record<string, number> }): Model {
  const m = tinyBert({ activation: 'relu' }, { seed: 4, std: 0.3 });
  const g = m.graph;
  let i = 0;
  g.nodes = g.nodes.flatMap((n) => {
    if (n.opType !== 'Relu') return [n];
    const { nodes, constants = {} } = replace(n.inputs[0], n.outputs[0], i++);
    for (const [name, v] of Object.entries(constants)) {
      g.initializers.set(name, { name, dataType: 1, dims: [], data: new Uint8Array(Float32Array.of(v).buffer) });
    }
    return nodes;
  });
  expect(i).toBe(2);
  return m;
}

const batch = paddedBatch([7, 3, 5], 128);

describe('feed-forward activations are named by the values they compute', () => {
  it("a lone Tanh is 'tanh': --optimize leaves it as it is, the canonical rebuild keeps it", async () => {
    const m = withActivation((x, y, i) => ({ nodes: [onnxNode(`tanh${i}`, 'Tanh', [x], [y])] }));
    expect(findBert(m).layers.map((l) => l.ffn.activation)).toEqual(['tanh', 'tanh']);
    const res = await runPipeline(m, [{ pass: 'optimize', settings: { rewrites: 'default' } }]);
    expect(res.model.graph.nodes.some((n) => n.opType === 'FastGelu')).toBe(false);
    expect(maxRowDiff((await batchLogits(res.model, batch)).rows, (await batchLogits(m, batch)).rows)).toBeLessThan(1e-5);
    expect(canonicalBert(m).config.activation).toBe('tanh');
  });

  it("x·Sigmoid(x) is SiLU; x·Sigmoid(1.702x) is quick_gelu; a lone Sigmoid is 'other': the passes take it, the canonical rebuild refuses it", async () => {
    const silu = withActivation((x, y, i) => ({ nodes: [onnxNode(`sig${i}`, 'Sigmoid', [x], [`s${i}`]), onnxNode(`mul${i}`, 'Mul', [x, `s${i}`], [y])] }));
    expect(findBert(silu).layers[0].ffn.activation).toBe('silu');
    const quick = withActivation((x, y, i) => ({
      nodes: [
        onnxNode(`scale${i}`, 'Mul', [x, 'k'], [`k${i}`]),
        onnxNode(`sig${i}`, 'Sigmoid', [`k${i}`], [`s${i}`]),
        onnxNode(`mul${i}`, 'Mul', [x, `s${i}`], [y]),
      ],
      constants: { k: 1.702 },
    }));
    expect(findBert(quick).layers.map((l) => l.ffn.activation)).toEqual(['quick_gelu', 'quick_gelu']);
    const sigmoid = withActivation((x, y, i) => ({ nodes: [onnxNode(`sig${i}`, 'Sigmoid', [x], [y])] }));
    for (const m of [sigmoid]) {
      expect(findBert(m).layers.map((l) => l.ffn.activation)).toEqual(['other', 'other']);
      const res = await runPipeline(m, [{ pass: 'optimize', settings: { rewrites: 'default' } }]);
      expect(maxRowDiff((await batchLogits(res.model, batch)).rows, (await batchLogits(m, batch)).rows)).toBeLessThan(1e-5);
      expect(refusal(() => canonicalBert(m))).toMatch(
        /FFN activation \(element-wise ops that compute no activation discovery names\) is not one the builder writes/,
      );
    }
  });

  it("the tanh GELU with another constant (0.5·x·(1 + tanh(x))) is not gelu_tanh: 'other', left as it is by --optimize", async () => {
    const m = withActivation((x, y, i) => ({
      nodes: [
        onnxNode(`t${i}`, 'Tanh', [x], [`t${i}`]),
        onnxNode(`a${i}`, 'Add', [`t${i}`, 'one'], [`a${i}`]),
        onnxNode(`m${i}`, 'Mul', [x, `a${i}`], [`m${i}`]),
        onnxNode(`h${i}`, 'Mul', [`m${i}`, 'half'], [y]),
      ],
      constants: { one: 1, half: 0.5 },
    }));
    expect(findBert(m).layers[0].ffn.activation).toBe('other');
    const res = await runPipeline(m, [{ pass: 'optimize', settings: { rewrites: 'default' } }]);
    expect(res.model.graph.nodes.some((n) => n.opType === 'FastGelu')).toBe(false);
    expect(maxRowDiff((await batchLogits(res.model, batch)).rows, (await batchLogits(m, batch)).rows)).toBeLessThan(1e-5);
  });

  it("transformers' gelu_fast as torch exports it (no Pow: x·x) is gelu_tanh, and --optimize fuses it exactly", async () => {
    // 0.5 · x · (1 + tanh(x · 0.7978845608 · (1 + 0.044715 · x · x)))
    const m = withActivation((x, y, i) => ({
      nodes: [
        onnxNode(`xx${i}`, 'Mul', [x, x], [`xx${i}`]),
        onnxNode(`c${i}`, 'Mul', [`xx${i}`, 'k3'], [`c${i}`]),
        onnxNode(`one${i}`, 'Add', [`c${i}`, 'one'], [`p${i}`]),
        onnxNode(`xs${i}`, 'Mul', [x, 'k1'], [`xs${i}`]),
        onnxNode(`in${i}`, 'Mul', [`xs${i}`, `p${i}`], [`in${i}`]),
        onnxNode(`t${i}`, 'Tanh', [`in${i}`], [`t${i}`]),
        onnxNode(`a${i}`, 'Add', [`t${i}`, 'one'], [`a${i}`]),
        onnxNode(`h${i}`, 'Mul', [x, 'half'], [`h${i}`]),
        onnxNode(`m${i}`, 'Mul', [`h${i}`, `a${i}`], [y]),
      ],
      constants: { k1: 0.7978845608, k3: 0.044715, one: 1, half: 0.5 },
    }));
    expect(findBert(m).layers.map((l) => l.ffn.activation)).toEqual(['gelu_tanh', 'gelu_tanh']);
    const res = await runPipeline(m, [{ pass: 'optimize', settings: { rewrites: 'default' } }]);
    expect(res.model.graph.nodes.filter((n) => n.opType === 'FastGelu')).toHaveLength(2);
    expect(maxRowDiff((await batchLogits(res.model, batch)).rows, (await batchLogits(m, batch)).rows)).toBeLessThan(1e-5);
  });

  it('the builder’s GELUs keep their names', () => {
    for (const activation of ['gelu', 'gelu_tanh', 'relu'] as const) {
      expect(findBert(tinyBert({ activation })).layers.map((l) => l.ffn.activation)).toEqual([activation, activation]);
    }
  });
});
