/**
 * Finite-difference checks of the reduction rules (src/gradients/rules/reduce.ts), all in float64: ReduceSum /
 * ReduceMean / ReduceMax in their attribute (≤ 17) and input (18+) forms, Softmax and LogSoftmax on several axes,
 * LayerNormalization over the last one or two axes, with and without bias.
 */
import { describe, expect, it } from 'vitest';
import * as reduce from '../../src/gradients/rules/reduce.ts';
import { DataType, float32Tensor, int64Tensor, readNumbers } from '../../src/onnx/index.ts';
import { buildGradientGraph, GradientError } from '../../src/gradients/index.ts';
import { analyticGradients, attr, node, randomTensor as r, weightedLossModel, type RuleCase, describeRuleFamily } from '../helpers/gradcheck.ts';

const X = [2, 3, 4];

/** A reduction of x [2, 3, 4]; `axes` as an int64 input (opset 13+ ReduceSum, 18+ others) or an attribute. */
function red(op: string, axes: number[] | undefined, keepdims: number, form: 'input' | 'attr', opset = 17): RuleCase {
  const inputs = form === 'input' && axes ? ['x', 'axes'] : ['x'];
  const attrs = { keepdims: attr.int(keepdims), ...(form === 'attr' && axes ? { axes: attr.ints(axes) } : {}) };
  return {
    name: `${op} axes=${axes ? `[${axes}]` : 'none'} (${form}) keepdims=${keepdims} opset ${opset}`,
    opset,
    nodes: [node(op, inputs, ['y'], attrs)],
    // ReduceMax: values spread out so no two candidates for a maximum are within the perturbation of each other.
    initializers: [r('x', X, 1, { lo: -2, hi: 2 }), ...(form === 'input' && axes ? [int64Tensor('axes', [axes.length], axes)] : [])],
    params: ['x'],
    outputs: 'y',
  };
}

function softmax(op: string, axis: number | undefined, opset: number, dims = X): RuleCase {
  return {
    name: `${op} axis=${axis ?? 'default'} opset ${opset} on [${dims}]`,
    opset,
    nodes: [node(op, ['x'], ['y'], axis === undefined ? {} : { axis: attr.int(axis) })],
    initializers: [r('x', dims, 1, { lo: -2, hi: 2 })],
    params: ['x'],
    outputs: 'y',
  };
}

/** LayerNormalization of x [2, 3, 4]; γ / β of the normalized shape unless given (smaller: broadcast to it). */
function layerNorm(axis: number, bias: boolean, opset = 17, epsilon = 1e-5, scaleDims?: number[], biasDims?: number[]): RuleCase {
  const normDims = X.slice((axis + X.length) % X.length);
  const sd = scaleDims ?? normDims;
  const bd = biasDims ?? normDims;
  return {
    name: `LayerNormalization axis=${axis} ${bias ? 'with' : 'without'} bias opset ${opset}${scaleDims ? ` γ [${sd}] β [${bd}]` : ''}`,
    opset,
    nodes: [node('LayerNormalization', bias ? ['x', 'scale', 'bias'] : ['x', 'scale'], ['y'], { axis: attr.int(axis), epsilon: attr.float(epsilon) })],
    initializers: [r('x', X, 1, { lo: -2, hi: 2 }), r('scale', sd, 2, { lo: 0.5, hi: 1.5 }), ...(bias ? [r('bias', bd, 3)] : [])],
    params: bias ? ['x', 'scale', 'bias'] : ['x', 'scale'],
    outputs: 'y',
  };
}

const CASES: RuleCase[] = [
  red('ReduceSum', [1], 1, 'input', 13),
  red('ReduceSum', [0, 2], 0, 'input'),
  red('ReduceSum', [-1, 0], 0, 'input'),
  red('ReduceSum', undefined, 0, 'input'),
  red('ReduceSum', undefined, 1, 'input'),
  {
    ...red('ReduceSum', undefined, 1, 'input'),
    name: 'ReduceSum noop_with_empty_axes=1 (identity)',
    nodes: [node('ReduceSum', ['x'], ['y'], { noop_with_empty_axes: attr.int(1) })],
  },
  red('ReduceMean', [1], 0, 'attr'),
  red('ReduceMean', [-1], 1, 'attr'),
  red('ReduceMean', [0, 2], 0, 'attr'),
  red('ReduceMean', undefined, 0, 'attr'),
  red('ReduceMean', [0, -1], 1, 'input', 18),
  red('ReduceMean', undefined, 1, 'input', 18),
  red('ReduceMax', [1], 0, 'attr'),
  red('ReduceMax', [-1], 1, 'attr'),
  red('ReduceMax', undefined, 0, 'attr'),
  red('ReduceMax', [0, 2], 1, 'input', 18),
  // Two tied maxima share the gradient evenly (central differences see half of it at each), as torch's amax does.
  {
    name: 'ReduceMax axes=[1] with a tie in each row',
    nodes: [node('ReduceMax', ['x'], ['y'], { axes: attr.ints([1]), keepdims: attr.int(0) })],
    initializers: [float32Tensor('x', [2, 3], [1, 1, -1, 0.5, -2, 0.5])],
    params: ['x'],
    outputs: 'y',
  },
  {
    name: 'ReduceMax over all axes with a tie',
    nodes: [node('ReduceMax', ['x'], ['y'], { keepdims: attr.int(1) })],
    initializers: [float32Tensor('x', [2, 2], [1, -1, 0.5, 1])],
    params: ['x'],
    outputs: 'y',
  },
  softmax('Softmax', -1, 17),
  softmax('Softmax', 1, 13),
  softmax('Softmax', 0, 17),
  softmax('Softmax', undefined, 13),
  softmax('Softmax', 1, 13, [3, 5]),
  softmax('LogSoftmax', -1, 17),
  softmax('LogSoftmax', 1, 13),
  softmax('LogSoftmax', undefined, 14, [3, 5]),
  layerNorm(-1, true),
  // axes from a Constant node written in its list form (value_ints), as a constant: where the gradient builder read
  // only a Constant's `value` tensor and refused 'axes must be a constant to differentiate'
  {
    name: 'ReduceSum axes=[1] from a Constant node (value_ints) keepdims=0 opset 13',
    opset: 13,
    nodes: [node('Constant', [], ['axes'], { value_ints: attr.ints([1]) }), node('ReduceSum', ['x', 'axes'], ['y'], { keepdims: attr.int(0) })],
    initializers: [r('x', X, 1, { lo: -2, hi: 2 })],
    params: ['x'],
    outputs: 'y',
  },
  {
    name: 'ReduceMean axes=[-1] from a Constant node (value_ints) keepdims=1 opset 18',
    opset: 18,
    nodes: [node('Constant', [], ['axes'], { value_ints: attr.ints([-1]) }), node('ReduceMean', ['x', 'axes'], ['y'], { keepdims: attr.int(1) })],
    initializers: [r('x', X, 1, { lo: -2, hi: 2 })],
    params: ['x'],
    outputs: 'y',
  },
  layerNorm(-1, false),
  layerNorm(1, true),
  layerNorm(1, false),
  layerNorm(-1, true, 18, 1e-12),
  // γ / β smaller than the normalized shape [3, 4]: onnxruntime broadcasts them; their gradients sum over it.
  layerNorm(1, true, 17, 1e-5, [4], [4]),
  layerNorm(1, true, 17, 1e-5, [1, 4], [3, 1]),
  {
    name: 'LayerNormalization of a computed input (x·W), float64',
    nodes: [node('MatMul', ['a', 'w'], ['x']), node('LayerNormalization', ['x', 'scale', 'bias'], ['y'], { axis: attr.int(-1) })],
    initializers: [r('a', [2, 3, 4], 1), r('w', [4, 5], 2), r('scale', [5], 3, { lo: 0.5, hi: 1.5 }), r('bias', [5], 4)],
    params: ['a', 'w', 'scale', 'bias'],
    outputs: 'y',
  },
];

describeRuleFamily('reduction', reduce, CASES);

describe('ReduceMax gradient at ties', () => {
  it("splits a row's gradient evenly among three tied maxima (each 1/3, the row summing to its whole gradient)", async () => {
    const { model, loss } = await weightedLossModel({
      nodes: [node('ReduceMax', ['x'], ['y'], { axes: attr.ints([1]), keepdims: attr.int(0) })],
      initializers: [float32Tensor('x', [2, 4], [0.25, 0.25, -1, 0.25, 2, 0, 1, -3])],
      outputs: 'y',
    });
    const w = readNumbers(model.graph.initializers.get('loss_w0')!);
    const { x } = await analyticGradients(model, loss, ['x']);
    const want = [w[0] / 3, w[0] / 3, 0, w[0] / 3, w[1], 0, 0, 0];
    [...x].forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
  });
});

describe('reduction gradient rules: refusals', () => {
  it('rejects an opset-11 Softmax graph (forward opset < 13) with a GradientError', async () => {
    // Opset 11 nodes (ReduceSum/Squeeze/Split axes as attributes) cannot sit in an opset-17 training graph, so the
    // builder refuses the whole graph up front instead of differentiating Softmax(axis = last) there.
    const { model, loss } = await weightedLossModel(softmax('Softmax', 2, 11));
    await expect(buildGradientGraph(model, { loss, parameters: ['x'] })).rejects.toThrow(GradientError);
    await expect(buildGradientGraph(model, { loss, parameters: ['x'] })).rejects.toThrow(/opset 11.*opset 13/);
  });

  it('refuses a reduction whose axes are not a constant, naming the node', async () => {
    const { model, loss } = await weightedLossModel({
      inputs: [{ name: 'axes', elemType: DataType.INT64, shape: [1] }],
      nodes: [node('ReduceSum', ['x', 'axes'], ['y'], { keepdims: attr.int(1) }, 'sum_by_input')],
      initializers: [r('x', X, 1)],
      outputs: 'y',
    });
    await expect(buildGradientGraph(model, { loss, parameters: ['x'] })).rejects.toThrow(
      /^ReduceSum node 'sum_by_input': axes must be a constant to differentiate$/,
    );
  });

  it('refuses a LayerNormalization whose Mean / InvStdDev outputs reach the loss', async () => {
    const { model, loss } = await weightedLossModel({
      nodes: [node('LayerNormalization', ['x', 'scale'], ['y', 'mean', 'inv'], {}, 'ln')],
      initializers: [r('x', X, 1), r('scale', [4], 2)],
      outputs: ['y', 'inv'],
    });
    await expect(buildGradientGraph(model, { loss, parameters: ['x', 'scale'] })).rejects.toThrow(
      /^LayerNormalization node 'ln': its Mean \/ InvStdDev outputs reach the loss/,
    );
  });

  it("reads a float32 node's own Mean and InvStdDev (added to the node where the graph left them out), not recomputed statistics", async () => {
    for (const outputs of [['y'], ['y', 'mean', 'inv']]) {
      const { model, loss } = await weightedLossModel({
        nodes: [node('LayerNormalization', ['x', 'scale', 'bias'], outputs, { axis: attr.int(-1) }, 'ln')],
        initializers: [r('x', X, 1, { lo: -2, hi: 2 }), r('scale', [4], 2, { lo: 0.5, hi: 1.5 }), r('bias', [4], 3)],
        outputs: 'y',
      });
      const gg = await buildGradientGraph(model, { loss, parameters: ['x', 'scale', 'bias'] });
      const ln = gg.model.graph.nodes.find((n) => n.name === 'ln')!;
      expect(ln.outputs).toHaveLength(3);
      if (outputs.length === 3) expect(ln.outputs).toEqual(outputs);
      expect(model.graph.nodes.find((n) => n.name === 'ln')!.outputs).toEqual(outputs); // the forward graph is left as it was
      const backward = gg.model.graph.nodes.filter((n) => n.name.startsWith('grad/')).map((n) => n.opType);
      // mean(g·γ) and mean(g·γ·x̂) only: no ReduceMean of x, of (x − μ)², no √ or reciprocal
      expect(backward.filter((o) => o === 'ReduceMean')).toHaveLength(2);
      expect(backward.filter((o) => o === 'Sqrt' || o === 'Reciprocal')).toHaveLength(0);
      const { x } = await analyticGradients(model, loss, ['x']);
      expect(x.some((v) => Math.abs(v) > 0.01)).toBe(true);
    }
  });
});
