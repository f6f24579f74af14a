/**
 * The erf GELU differentiated as one function (src/gradients/gelu.ts): the gradients of the node-by-node rules, in
 * fewer passes over the GELU's tensor, found in every layer of a BERT the builder writes, and left to the node rules
 * where one of its inner values is read elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/gradients/index.ts';
import { findErfGelus } from '../../src/gradients/gelu.ts';
import { buildBert } from '../../src/bert/build.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { encodeModel, float32Tensor, type Model } from '../../src/onnx/index.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { attr, node, randomTensor, weightedLossModel } from '../helpers/gradcheck.ts';
import { TINY_CONFIG } from '../helpers/models.ts';

/** x = p + b (p [4, 6], b [6]), then torch's erf GELU of x: y = (x · (1 + erf(x / √2))) · 0.5. */
async function geluModel(): Promise<{ model: Model; loss: string }> {
  return weightedLossModel({
    nodes: [
      node('Add', ['p', 'b'], ['x']),
      node('Div', ['x', 's'], ['u']),
      node('Erf', ['u'], ['e']),
      node('Add', ['e', 'one'], ['a']),
      node('Mul', ['x', 'a'], ['xa']),
      node('Mul', ['xa', 'half'], ['y']),
    ],
    initializers: [
      randomTensor('p', [4, 6], 1, { lo: -4, hi: 4 }),
      randomTensor('b', [6], 2),
      float32Tensor('s', [], [Math.SQRT2]),
      float32Tensor('one', [], [1]),
      float32Tensor('half', [], [0.5]),
    ],
    outputs: 'y',
  });
}

async function gradients(model: Model, loss: string, keep: string[] = [], parameters = ['p', 'b']) {
  const gg = await buildGradientGraph(model, { loss, parameters, keep });
  const session = await openSession(encodeModel(gg.model), { threads: 1 });
  try {
    const feeds = Object.fromEntries(
      [...gg.parameterInfo].map(([name, info]) => {
        const t = model.graph.initializers.get(name)!;
        return [name, new Tensor('float32', new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)), info.dims)];
      }),
    );
    const out = await session.run(feeds);
    const backward = gg.model.graph.nodes.filter((n) => n.name.startsWith('grad/')).map((n) => n.opType);
    const grads = Object.fromEntries([...gg.dense].map(([name, output]) => [name, out[output]!.data as Float32Array]));
    return { p: grads.p!, b: grads.b!, grads, unused: gg.unused, backward };
  } finally {
    await session.release();
  }
}

const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;

describe('erf GELU gradient', () => {
  it("is the node rules' gradient in six passes: no Div, no Sum of x's two contributions", async () => {
    const { model, loss } = await geluModel();
    const fused = await gradients(model, loss);
    // 'u' read by the loss's outputs as well: the GELU is not taken as one, each node's rule runs
    const byNodes = await gradients(model, loss, ['u']);
    for (const k of ['p', 'b'] as const) {
      const worst = Math.max(...Array.from(fused[k], (v, i) => Math.abs(v - byNodes[k][i]!) / (1e-3 + Math.abs(byNodes[k][i]!))));
      expect(worst, k).toBeLessThan(2e-6);
    }
    expect(fused.p.some((v) => Math.abs(v) > 0.1)).toBe(true);
    // x's gradient: g·0.5, u·u, c − u², exp, x·exp, a + that, times g·0.5; the node rules add Div(g, √2), the Mul
    // rule's second product and the Sum of x's contributions
    expect([count(fused.backward, 'Div'), count(fused.backward, 'Sum'), count(fused.backward, 'Exp')]).toEqual([0, 0, 1]);
    expect([count(byNodes.backward, 'Div'), count(byNodes.backward, 'Sum'), count(byNodes.backward, 'Exp')]).toEqual([1, 1, 1]);
    const elementwise = (ops: string[]) => ops.filter((o) => ['Mul', 'Sub', 'Add', 'Exp', 'Div', 'Sum'].includes(o)).length;
    // (and one Mul each for the loss's weights)
    expect(elementwise(fused.backward)).toBe(1 + 7);
    expect(elementwise(byNodes.backward)).toBe(1 + 9);
  });

  it('is left to the node rules where one of its constants is a parameter: that parameter gets its gradient', async () => {
    const { model, loss } = await geluModel();
    for (const constant of ['half', 's', 'one']) {
      const parameters = ['p', 'b', constant];
      const trained = await gradients(model, loss, [], parameters);
      const byNodes = await gradients(model, loss, ['u'], parameters);
      expect(trained.unused, constant).toEqual([]);
      expect(Object.keys(trained.grads).sort(), constant).toEqual([...parameters].sort());
      for (const k of parameters) expect(Array.from(trained.grads[k]!), `${constant}: ${k}`).toEqual(Array.from(byNodes.grads[k]!));
    }
  });

  it("reads its constants from Constant nodes in their scalar form (value_float), as the builder's other rules do", async () => {
    const { model, loss } = await geluModel();
    const scalars = { s: Math.SQRT2, one: 1, half: 0.5 };
    for (const name of Object.keys(scalars)) model.graph.initializers.delete(name);
    model.graph.nodes.unshift(...Object.entries(scalars).map(([name, v]) => node('Constant', [], [name], { value_float: attr.float(v) })));
    const gelus = [...findErfGelus(model.graph, new Set([loss])).values()];
    expect(gelus.map((p) => [p.x, p.k, p.s])).toEqual([['x', 0.5, Math.fround(Math.SQRT2)]]);
    // (the builder writes its gradient as one function: no Div of the node rules)
    expect(count((await gradients(model, loss)).backward, 'Div')).toBe(0);
  });

  it('is found in every layer of a BERT (torch erf GELU), not in the tanh approximation', () => {
    const erf = buildBert({ ...TINY_CONFIG, numLayers: 3 }, { kind: 'random', seed: 1 });
    const gelus = [...findErfGelus(erf.graph, new Set()).values()];
    expect(gelus.map((p) => p.x)).toEqual([0, 1, 2].map((l) => `/bert/encoder/layer.${l}/intermediate/dense/Add_output_0`));
    expect(gelus.every((p) => p.k === 0.5 && Math.abs(p.s - Math.SQRT2) < 1e-6)).toBe(true);
    const tanh = buildBert({ ...TINY_CONFIG, numLayers: 3, activation: 'gelu_tanh' }, { kind: 'random', seed: 1 });
    expect(findErfGelus(tanh.graph, new Set()).size).toBe(0);
    // an inner value that is a graph output (or kept, or the loss) leaves that GELU to the node rules
    const inner = [...findErfGelus(erf.graph, new Set()).values()][1]!.u;
    expect(findErfGelus(erf.graph, new Set([inner])).size).toBe(2);
  });

  it("gives a BERT's training graph the gradients of the node rules, every parameter", async () => {
    const forward = buildBert({ ...TINY_CONFIG, numLayers: 2 }, { kind: 'random', seed: 3, std: 0.5 });
    const withLoss = appendLoss(forward, 'logits', 2, [{ kind: 'hard-ce', weight: 1 }]);
    const parameters = [...withLoss.model.graph.initializers.values()].filter((t) => t.dataType === 1 && t.dims.length > 0).map((t) => t.name);
    const inner = [...findErfGelus(withLoss.model.graph, new Set()).values()].map((p) => p.u);
    expect(inner).toHaveLength(2);
    const batch = 3;
    const seq = 5;
    const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(1 + ((i * 7) % (TINY_CONFIG.vocabSize - 1))));
    const feeds = {
      input_ids: new Tensor('int64', ids, [batch, seq]),
      attention_mask: new Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
      token_type_ids: new Tensor('int64', new BigInt64Array(batch * seq), [batch, seq]),
      'target.labels': new Tensor(
        'float32',
        Float32Array.from({ length: batch * 2 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
        [batch, 2],
      ),
    };
    const run = async (keep: string[]) => {
      const gg = await buildGradientGraph(withLoss.model, { loss: withLoss.loss, parameters, keep });
      const session = await openSession(encodeModel(gg.model), { threads: 1 });
      try {
        const params = Object.fromEntries(
          [...gg.parameterInfo].map(([name, info]) => {
            const t = withLoss.model.graph.initializers.get(name)!;
            return [name, new Tensor('float32', new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)), info.dims)];
          }),
        );
        const out = await session.run({ ...feeds, ...params });
        return new Map([...gg.dense].map(([p, o]) => [p, out[o]!.data as Float32Array]));
      } finally {
        await session.release();
      }
    };
    const fused = await run([]);
    const byNodes = await run(inner);
    expect([...fused.keys()]).toEqual([...byNodes.keys()]);
    const scale = Math.max(...[...byNodes.values()].flatMap((g) => Array.from(g, Math.abs)));
    for (const [p, g] of fused) {
      const ref = byNodes.get(p)!;
      const worst = Math.max(0, ...Array.from(g, (v, i) => Math.abs(v - ref[i]!)));
      expect(worst, p).toBeLessThan(1e-5 * scale);
    }
  });
});
