/**
 * Broadcasting that the shape probe cannot see: a symbolic dim that is 1 at run time on one side of a broadcast
 * only (or bound to 1 at probe time and larger at run time). The probe feeds give the two symbolic dims the same
 * size, so the probe sees no broadcast; the training graph must still sum the gradient over the axis when it is
 * broadcast at run time (it returned the unsummed gradient, which Softmax along that axis turned into a wrong
 * one), and must not sum it when it is not. Checked against finite differences in float64 at run-time shapes.
 */
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/gradients/index.ts';
import { DataType } from '../../src/onnx/index.ts';
import { Tensor, type Feeds } from '../../src/runtime/session.ts';
import { attr, gradCheck, node, randomTensor as r, randomValues, toFloat64, weightedLossModel } from '../helpers/gradcheck.ts';

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
    // the default probe gives S and T different sizes, and the graph's Add cannot run on them
    const same = await weightedLossModel({
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 'S', H] }],
      nodes: [node('Mul', ['x', 'v'], ['xv']), node('Softmax', ['xv'], ['y'], { axis: attr.int(1) })],
      initializers: [r('v', [1, H], 2)],
      outputs: 'y',
    });
    const plain = await buildGradientGraph(toFloat64(same.model), { loss: same.loss, parameters: ['v'] });
    expect(plain.model.graph.nodes.map((n) => n.opType)).not.toContain('Compress');
  });
});
