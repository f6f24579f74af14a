/**
 * Broadcasting that the shape probe cannot see: a symbolic dim that is 1 at run time on one side of a broadcast
 * only (or bound to 1 at probe time and larger at run time). The probe feeds give the two symbolic dims the same
 * size, so the probe sees no broadcast; the training graph must still sum the gradient over the axis when it is
 * broadcast at run time (it returned the unsummed gradient, which Softmax along that axis turned into a wrong
 * one), and must not sum it when it is not. Checked against finite differences in float64 at run-time shapes.
 */
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/gradients/index.ts';
import { createModel, DataType } from '../../src/onnx/index.ts';
import { buildBert } from '../../src/bert/build.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { TINY_CONFIG } from '../helpers/models.ts';
import { Tensor, type Feeds } from '../../src/runtime/session.ts';
import { attr, float64Tensor, gradCheck, node, randomTensor as r, randomValues, toFloat64, weightedLossModel } from '../helpers/gradcheck.ts';

const H = 2;

function f64(dims: number[], seed: number): Tensor {
  return new Tensor(
    'float64',
    Float64Array.from(
      randomValues(
        dims.reduce((a, b) => a * b, 1),
        seed,
      ),
    ),
    dims,
  );
}

/** The float32 feeds of the float32 graph weightedLossModel probes. */
function f32(feeds: Feeds): Feeds {
  return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new Tensor('float32', Float32Array.from(t.data as Float64Array), t.dims)]));
}

/** x [N, S, H] + Softmax(z·W along axis 1) with z [N, T, H]: T and S are different symbolic dims. */
async function addModel(probe: Feeds) {
  const built = await weightedLossModel(
    {
      inputs: [
        { name: 'x', elemType: DataType.FLOAT, shape: ['N', 'S', H] },
        { name: 'z', elemType: DataType.FLOAT, shape: ['N', 'T', H] },
      ],
      nodes: [
        node('Mul', ['z', 'w'], ['zw']),
        node('Softmax', ['zw'], ['b'], { axis: attr.int(1) }),
        node('Mul', ['x', 'v'], ['xv']),
        node('Add', ['xv', 'b'], ['y']),
      ],
      initializers: [r('w', [H], 1), r('v', [H], 2)],
      outputs: 'y',
    },
    f32(probe),
  );
  return { model: toFloat64(built.model), loss: built.loss };
}

/** MatMul of a [B1, 2, K] and Softmax(z·W along axis 0) with z [B2, K, 3]: B1 and B2 different symbolic dims. */
async function matmulModel(probe: Feeds) {
  const built = await weightedLossModel(
    {
      inputs: [
        { name: 'x', elemType: DataType.FLOAT, shape: ['B1', 2, H] },
        { name: 'z', elemType: DataType.FLOAT, shape: ['B2', H, 3] },
      ],
      nodes: [
        node('Mul', ['x', 'v'], ['a']),
        node('Mul', ['z', 'w'], ['zw']),
        node('Softmax', ['zw'], ['b'], { axis: attr.int(0) }),
        node('MatMul', ['a', 'b'], ['y']),
      ],
      initializers: [r('v', [H], 1), r('w', [3], 2)],
      outputs: 'y',
    },
    f32(probe),
  );
  return { model: toFloat64(built.model), loss: built.loss };
}

describe('gradients of broadcasts the probe does not see', () => {
  it('Add: T equal to S at probe time, 1 at run time (and equal to S again)', async () => {
    const probe = { x: f64([2, 3, H], 1), z: f64([2, 3, H], 2) };
    const { model, loss } = await addModel(probe);
    for (const t of [1, 3]) {
      const res = await gradCheck(model, { loss, feeds: { x: f64([2, 3, H], 3), z: f64([2, t, H], 4) }, probeFeeds: probe, samples: H });
      expect(res.worst, `T = ${t}: ${JSON.stringify(res.perParameter)}`).toBeLessThan(1e-6);
    }
  });

  it('Add: T bound to 1 at probe time, 1 or equal to S at run time', async () => {
    const probe = { x: f64([2, 3, H], 1), z: f64([2, 1, H], 2) };
    const { model, loss } = await addModel(probe);
    for (const t of [1, 3]) {
      const res = await gradCheck(model, { loss, feeds: { x: f64([2, 3, H], 3), z: f64([2, t, H], 4) }, probeFeeds: probe, samples: H });
      expect(res.worst, `T = ${t}: ${JSON.stringify(res.perParameter)}`).toBeLessThan(1e-6);
    }
  });

  it('MatMul: batch B2 equal to B1 at probe time, 1 at run time', async () => {
    const probe = { x: f64([2, 2, H], 1), z: f64([2, H, 3], 2) };
    const { model, loss } = await matmulModel(probe);
    for (const b2 of [1, 2]) {
      const res = await gradCheck(model, { loss, feeds: { x: f64([2, 2, H], 3), z: f64([b2, H, 3], 4) }, probeFeeds: probe, samples: 3 });
      expect(res.worst, `B2 = ${b2}: ${JSON.stringify(res.perParameter)}`).toBeLessThan(1e-6);
    }
  });

  it('tests axes at run time only where the probe sizes are ambiguous (not under the default probe)', async () => {
    const probe = { x: f64([2, 3, H], 1), z: f64([2, 3, H], 2) };
    const { model, loss } = await addModel(probe);
    const ops = async (probeFeeds?: Feeds) =>
      (await buildGradientGraph(model, { loss, parameters: ['w', 'v'], probeFeeds })).model.graph.nodes.map((n) => n.opType);
    expect(await ops(probe)).toContain('Compress');
    // the default probe gives S and T different sizes, and the graph's Add cannot run on them; a loss without
    // weightedLossModel's fixed weights (shaped like the probe's y, which tie N and S to the probe's sizes)
    const same = createModel(
      {
        name: 'g',
        inputs: [{ name: 'x', elemType: DataType.DOUBLE, shape: ['N', 'S', H] }],
        nodes: [
          node('Mul', ['x', 'v'], ['xv']),
          node('Softmax', ['xv'], ['y'], { axis: attr.int(1) }),
          node('Mul', ['y', 'y'], ['y2']),
          node('ReduceSum', ['y2'], ['loss'], { keepdims: attr.int(0) }),
        ],
        initializers: new Map([['v', float64Tensor('v', [1, H], [0.5, -1])]]),
        outputs: [{ name: 'loss', elemType: DataType.DOUBLE }],
        valueInfo: [],
      },
      [{ domain: '', version: 17 }],
    );
    const plain = await buildGradientGraph(same, { loss: 'loss', parameters: ['v'] });
    expect(plain.model.graph.nodes.map((n) => n.opType)).not.toContain('Compress');
  });

  it('adds no run-time test to a tiny BERT training graph under the default probe', async () => {
    const forward = buildBert(
      { ...TINY_CONFIG, numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 40, maxPositions: 16 },
      { kind: 'random', seed: 5 },
    );
    const withLoss = appendLoss(forward, 'logits', 2, [
      { kind: 'hard-ce', weight: 0.5 },
      { kind: 'soft-ce', weight: 0.5, temperature: 2 },
    ]);
    const parameters = [...withLoss.model.graph.initializers.values()].filter((t) => t.dataType === DataType.FLOAT).map((t) => t.name);
    const gg = await buildGradientGraph(withLoss.model, { loss: withLoss.loss, parameters });
    expect(gg.model.graph.nodes.map((n) => n.opType)).not.toContain('Compress');
  });
});

/**
 * A symbolic dim broadcast against a FIXED dim of the same probe size: the default probe gives the batch 2 (or the
 * second symbolic dim 3), a parameter has 2 (or 3) there, and at run time the symbolic dim is 1. The probe cannot
 * see the broadcast; a second probe with every symbolic dim at another size fails on such a graph, and the gradient
 * is then tested at run time on the symbolic sizes' axes.
 */
describe('gradients of a symbolic dim broadcast against a fixed dim of its probe size', () => {
  it('Linear then + p [2, H]: batch 2 at probe time, 1 at run time (the weight gradient failed in a MatMul)', async () => {
    const built = await weightedLossModel({
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['B', H] }],
      nodes: [node('MatMul', ['x', 'w'], ['a']), node('Add', ['a', 'p'], ['y'])],
      initializers: [r('w', [H, H], 1), r('p', [2, H], 2)],
      outputs: 'y',
    });
    const model = toFloat64(built.model);
    for (const b of [1, 2]) {
      const res = await gradCheck(model, { loss: built.loss, feeds: { x: f64([b, H], 3) }, samples: 4 });
      expect(res.worst, `B = ${b}: ${JSON.stringify(res.perParameter)}`).toBeLessThan(1e-6);
    }
  });

  it('Softmax along T then + p [1, 3, H]: T 3 at probe time, 1 at run time (the gradient was not summed)', async () => {
    const built = await weightedLossModel({
      inputs: [{ name: 'z', elemType: DataType.FLOAT, shape: ['N', 'T', H] }],
      nodes: [node('Mul', ['z', 'w'], ['zw']), node('Softmax', ['zw'], ['b'], { axis: attr.int(1) }), node('Add', ['b', 'p'], ['y'])],
      initializers: [r('w', [H], 1), r('p', [1, 3, H], 2)],
      outputs: 'y',
    });
    const model = toFloat64(built.model);
    for (const t of [1, 3]) {
      const res = await gradCheck(model, { loss: built.loss, feeds: { z: f64([2, t, H], 4) }, samples: H });
      expect(res.worst, `T = ${t}: ${JSON.stringify(res.perParameter)}`).toBeLessThan(1e-6);
    }
  });
});
