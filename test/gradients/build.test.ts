/**
 * The graph builder around the rules (src/gradients/build.ts): row-sparse embedding gradients against the dense
 * gradient of the same graph, summed contributions of a shared weight, unused parameters, and the errors it
 * raises (one line, naming the value or node at fault).
 */
import { describe, expect, it } from 'vitest';
import { buildGradientGraph, gradOutputName, GradientError } from '../../src/gradients/index.ts';
import { DataType, encodeModel, int64Tensor, type Model } from '../../src/onnx/index.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { attr, boolTensor, checkRuleCase, gradCheck, node, randomTensor as r, toFloat64, weightedLossModel } from '../helpers/gradcheck.ts';

async function run(model: Model, feeds: Feeds): Promise<Record<string, Tensor>> {
  const session = await openSession(encodeModel(model), { graphOptimizationLevel: 'disabled', threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function f64(model: Model, name: string): Tensor {
  const t = model.graph.initializers.get(name)!;
  return new Tensor('float64', new Float64Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)), t.dims);
}

/** The graph's one error, as a promise of its message. */
async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GradientError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a GradientError');
}

describe('sparse embedding gradients', () => {
  it('scatter-add of grad_rows by grad_ids equals the dense gradient (repeated, negative and int32 ids, two lookups)', async () => {
    const ids = [1, 4, 1, 0, -1, 4];
    const feeds: Feeds = {
      ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [2, 3]),
      tids: new Tensor('int32', Int32Array.from([0, 1, 1, 0, 0, 1]), [2, 3]),
    };
    const built = await weightedLossModel(
      {
        inputs: [
          { name: 'ids', elemType: DataType.INT64, shape: ['batch', 'seq'] },
          { name: 'tids', elemType: DataType.INT32, shape: ['batch', 'seq'] },
        ],
        nodes: [
          node('Gather', ['table', 'ids'], ['e1']),
          node('Gather', ['table', 'pos'], ['e2']),
          node('Gather', ['types', 'tids'], ['e3']),
          node('Add', ['e1', 'e2'], ['e12']),
          node('Add', ['e12', 'e3'], ['h']),
          node('Tanh', ['h'], ['t']),
          node('MatMul', ['t', 'w'], ['y']),
        ],
        initializers: [r('table', [6, 3], 1), r('types', [2, 3], 2), int64Tensor('pos', [3], [0, 2, -3]), r('w', [3, 2], 3)],
        outputs: 'y',
      },
      feeds,
    );
    const model = toFloat64(built.model);
    const params = ['table', 'types', 'w'];
    const dense = await buildGradientGraph(model, { loss: built.loss, parameters: params, probeFeeds: feeds });
    const sparse = await buildGradientGraph(model, { loss: built.loss, parameters: params, sparse: ['table', 'types'], probeFeeds: feeds });
    expect([...dense.dense.keys()]).toEqual(params);
    expect([...sparse.dense.keys()]).toEqual(['w']);
    expect(sparse.sparse.map((s) => s.parameter).sort()).toEqual(['table', 'table', 'types']);
    expect(sparse.unused).toEqual([]);

    const all: Feeds = { ...feeds };
    for (const p of params) all[p] = f64(model, p);
    const d = await run(dense.model, all);
    const s = await run(sparse.model, all);
    expect(Number(s[built.loss].data[0])).toBeCloseTo(Number(d[built.loss].data[0]), 12);
    expect(Array.from(s[gradOutputName('w')].data as Float64Array)).toEqual(Array.from(d[gradOutputName('w')].data as Float64Array));

    for (const p of ['table', 'types']) {
      const [rows, width] = sparse.parameterInfo.get(p)!.dims;
      const acc = new Float64Array(rows * width);
      for (const g of sparse.sparse.filter((x) => x.parameter === p)) {
        expect(s[g.ids].type).toBe('int64');
        const gi = Array.from(s[g.ids].data as BigInt64Array, Number);
        const gr = s[g.rows].data as Float64Array;
        expect(gr.length).toBe(gi.length * width);
        for (const [k, id] of gi.entries()) {
          expect(id).toBeGreaterThanOrEqual(0);
          expect(id).toBeLessThan(rows);
          for (let c = 0; c < width; c++) acc[id * width + c] += gr[k * width + c];
        }
      }
      const want = d[gradOutputName(p)].data as Float64Array;
      for (let i = 0; i < acc.length; i++) expect(acc[i]).toBeCloseTo(want[i], 12);
      // the dense gradient is not trivially zero on the rows the lookups touched
      expect(want.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    }
  });

  it('a sparse table no Gather reaches is reported unused; errors name the sparse parameter', async () => {
    const built = await weightedLossModel({
      nodes: [node('Gather', ['table', 'ids'], ['e']), node('MatMul', ['e', 'w'], ['y']), node('Gather', ['other', 'ids'], ['dead'])],
      initializers: [r('table', [4, 3], 1), r('other', [4, 3], 2), r('w', [3, 2], 3), int64Tensor('ids', [2], [0, 3])],
      outputs: 'y',
    });
    const gg = await buildGradientGraph(built.model, { loss: built.loss, parameters: ['table', 'other', 'w'], sparse: ['table', 'other'] });
    expect(gg.unused).toEqual(['other']);
    expect(await errorOf(buildGradientGraph(built.model, { loss: built.loss, parameters: ['w'], sparse: ['table'] }))).toMatch(
      /sparse parameter 'table' is not among the parameters/,
    );

    const axis1 = await weightedLossModel({
      nodes: [node('Gather', ['table', 'ids'], ['y'], { axis: attr.int(1) })],
      initializers: [r('table', [4, 3], 1), int64Tensor('ids', [2], [0, 2])],
      outputs: 'y',
    });
    expect(await errorOf(buildGradientGraph(axis1.model, { loss: axis1.loss, parameters: ['table'], sparse: ['table'] }))).toMatch(
      /sparse parameter 'table' is gathered along an axis other than 0 by 'Gather:y'/,
    );

    const dense = await weightedLossModel({
      nodes: [
        node('Gather', ['table', 'ids'], ['e']),
        node('Mul', ['table', 'table'], ['sq']),
        node('ReduceSum', ['sq'], ['s'], { keepdims: attr.int(1) }),
        node('Mul', ['e', 's'], ['y']),
      ],
      initializers: [r('table', [4, 3], 1), int64Tensor('ids', [2], [0, 2])],
      outputs: 'y',
    });
    expect(await errorOf(buildGradientGraph(dense.model, { loss: dense.loss, parameters: ['table'], sparse: ['table'] }))).toMatch(
      /sparse parameter 'table' is read by nodes other than Gather/,
    );
  });
});

describe('gradient graph builder', () => {
  it('a weight read by two MatMuls gets the sum of both contributions', async () => {
    const c = {
      name: 'shared weight',
      nodes: [node('MatMul', ['a', 'w'], ['p']), node('MatMul', ['b', 'w'], ['q']), node('Tanh', ['q'], ['tq']), node('Add', ['p', 'tq'], ['y'])],
      initializers: [r('a', [2, 3, 4], 1), r('b', [3, 4], 2), r('w', [4, 5], 3)],
      params: ['a', 'b', 'w'],
      outputs: 'y',
    };
    const res = await checkRuleCase(c);
    expect(res.worst).toBeLessThan(res.tol);

    // the gradient output is one Sum of the two MatMuls' weight gradients
    const built = await weightedLossModel(c);
    const gg = await buildGradientGraph(toFloat64(built.model), { loss: built.loss, parameters: ['w'] });
    const byOutput = new Map(gg.model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const exposed = byOutput.get(gradOutputName('w'))!;
    expect(exposed.opType).toBe('Identity');
    const sum = byOutput.get(exposed.inputs[0])!;
    expect(sum.opType).toBe('Sum');
    expect(sum.inputs).toHaveLength(2);
  });

  it('reports parameters the loss does not depend on (no path, or only through a zero-gradient op)', async () => {
    const built = await weightedLossModel({
      nodes: [node('Mul', ['a', 'b'], ['y']), node('Tanh', ['c'], ['dead']), node('Sign', ['d'], ['sd']), node('Mul', ['y', 'sd'], ['y2'])],
      initializers: [r('a', [2, 3], 1), r('b', [2, 3], 2), r('c', [2, 3], 3), r('d', [2, 3], 4, { minAbs: 0.1 })],
      outputs: 'y2',
    });
    const gg = await buildGradientGraph(built.model, { loss: built.loss, parameters: ['a', 'b', 'c', 'd'] });
    expect(gg.unused).toEqual(['c', 'd']);
    expect([...gg.dense.keys()]).toEqual(['a', 'b']);
    expect(gg.model.graph.outputs.map((o) => o.name)).toEqual([built.loss, gradOutputName('a'), gradOutputName('b')]);
    // the unused parameters are still inputs of the training graph
    expect(gg.model.graph.inputs.map((i) => i.name)).toEqual(['a', 'b', 'c', 'd']);
    const check = await gradCheck(toFloat64(built.model), { loss: built.loss, parameters: ['a', 'b', 'c', 'd'], feeds: {}, samples: 6 });
    expect(check.worst).toBeLessThan(1e-6);
  });

  it('refuses a node with a subgraph that reads a parameter from the outer graph, where it reported the parameter unused', async () => {
    const branch = (name: string, op: string) => ({
      name,
      nodes: [node(op, ['x'], [`${name}_y`])],
      inputs: [],
      outputs: [{ name: `${name}_y`, elemType: DataType.FLOAT, shape: [2, 3] }],
      initializers: new Map(),
      valueInfo: [],
    });
    const built = await weightedLossModel({
      nodes: [
        node(
          'If',
          ['c'],
          ['y'],
          { then_branch: { type: 'graph', value: branch('t', 'Tanh') }, else_branch: { type: 'graph', value: branch('e', 'Sigmoid') } },
          'the_if',
        ),
        node('Add', ['y', 'b'], ['z']),
      ],
      initializers: [r('x', [2, 3], 1), r('b', [2, 3], 2), boolTensor('c', [], [true])],
      outputs: 'z',
    });
    expect(await errorOf(buildGradientGraph(built.model, { loss: built.loss, parameters: ['x', 'b'] }))).toBe(
      "node 'the_if': no gradient rule for op If (a node with a subgraph, whose values reach the loss)",
    );
    // b alone: the If reads no parameter, so it stops nothing
    const gg = await buildGradientGraph(built.model, { loss: built.loss, parameters: ['b'] });
    expect([...gg.dense.keys()]).toEqual(['b']);
  });

  it('refuses a Dropout in training mode (it drops at random), where its gradient was the identity', async () => {
    const dropout = (mode: boolean, ratio = 0.5) =>
      weightedLossModel({
        nodes: [node('Dropout', ['x', 'ratio', 'mode'], ['y'], {}, 'the_dropout')],
        initializers: [r('x', [2, 3], 1), r('ratio', [], 2, { lo: ratio, hi: ratio }), boolTensor('mode', [], [mode])],
        outputs: 'y',
      });
    const on = await dropout(true);
    expect(await errorOf(buildGradientGraph(on.model, { loss: on.loss, parameters: ['x'] }))).toBe(
      "Dropout node 'the_dropout': training_mode is on or not a constant false, and its ratio not a constant 0; only a Dropout that drops nothing is differentiable",
    );
    const off = await dropout(false);
    const check = await gradCheck(toFloat64(off.model), { loss: off.loss, parameters: ['x'], feeds: {}, samples: 6 });
    expect(check.worst).toBeLessThan(1e-6);
  });

  it('differentiates a Dropout in training mode at a constant ratio 0 as the identity (onnxruntime copies its input there), where it refused it', async () => {
    // (torch.onnx.export writes a dropout of p = 0 in training mode so: ratio 0, training_mode true)
    const zero = await weightedLossModel({
      nodes: [node('Dropout', ['x', 'ratio', 'mode'], ['y'], {}, 'the_dropout')],
      initializers: [r('x', [2, 3], 1), r('ratio', [], 2, { lo: 0, hi: 0 }), boolTensor('mode', [], [true])],
      outputs: 'y',
    });
    const check = await gradCheck(toFloat64(zero.model), { loss: zero.loss, parameters: ['x'], feeds: {}, samples: 6 });
    expect(check.worst).toBeLessThan(1e-6);
  });

  it('differentiates a graph that lists its initializers as inputs too (older exports)', async () => {
    const built = await weightedLossModel({
      nodes: [node('Reshape', ['x', 'shape'], ['flat']), node('Tanh', ['flat'], ['y'])],
      initializers: [r('x', [2, 3], 1), int64Tensor('shape', [1], [6])],
      outputs: 'y',
    });
    const model = toFloat64(built.model);
    // x and the int64 shape are listed as inputs as well: the training graph listed x twice (onnxruntime refused
    // it), and the probe fed both (0.5s and zeros) where their initializers give their values
    model.graph.inputs = [
      { name: 'x', elemType: DataType.DOUBLE, shape: [2, 3] },
      { name: 'shape', elemType: DataType.INT64, shape: [1] },
    ];
    const gg = await buildGradientGraph(model, { loss: built.loss, parameters: ['x'] });
    expect(gg.model.graph.inputs.map((i) => i.name)).toEqual(['shape', 'x']);
    const check = await gradCheck(model, { loss: built.loss, parameters: ['x'], feeds: {}, samples: 6 });
    expect(check.worst).toBeLessThan(1e-6);
  });

  it('raises one-line GradientErrors naming what is at fault', async () => {
    const base = await weightedLossModel({
      nodes: [node('Gather', ['x', 'k'], ['xk']), node('Tanh', ['xk'], ['y'])],
      initializers: [r('x', [2, 3], 1), int64Tensor('k', [2], [1, 0])],
      outputs: 'y',
    });
    // loss not a scalar
    expect(await errorOf(buildGradientGraph(base.model, { loss: 'y', parameters: ['x'] }))).toBe("loss 'y' must be a scalar (it has dims [2, 3])");
    // an integer loss (it depends on x, through ArgMax): named as such, where it read 'does not depend on any parameter'
    const argmax = await weightedLossModel({
      nodes: [
        node('ArgMax', ['x'], ['am'], { keepdims: attr.int(0) }),
        node('ReduceSum', ['am'], ['isum'], { keepdims: attr.int(0) }),
        node('Tanh', ['x'], ['t']),
      ],
      initializers: [r('x', [2, 3], 1)],
      outputs: 't',
    });
    expect(await errorOf(buildGradientGraph(argmax.model, { loss: 'isum', parameters: ['x'] }))).toMatch(
      /^loss 'isum' must be a float32 or float64 value \(it is int64\)$/,
    );
    // a non-float parameter, a parameter that is no initializer, a loss that is no value
    expect(await errorOf(buildGradientGraph(base.model, { loss: base.loss, parameters: ['k'] }))).toBe("parameter 'k' is not a float tensor");
    // a float16 parameter: named, with its type by name, where a rule failed later on 'element type 10'
    const half = { ...base.model, graph: { ...base.model.graph, initializers: new Map(base.model.graph.initializers) } };
    half.graph.initializers.set('h', { name: 'h', dataType: DataType.FLOAT16, dims: [2], data: new Uint8Array(4) });
    expect(await errorOf(buildGradientGraph(half, { loss: base.loss, parameters: ['h'] }))).toBe(
      "parameter 'h' is float16: gradients are float32 or float64 only (convert the model to float32)",
    );
    expect(await errorOf(buildGradientGraph(base.model, { loss: base.loss, parameters: ['nope'] }))).toBe(
      "parameter 'nope' is not an initializer of the graph",
    );
    expect(await errorOf(buildGradientGraph(base.model, { loss: 'nope', parameters: ['x'] }))).toBe("loss 'nope' is not a value of the graph");
    // (a name holding a quote or a line break quoted as a shell takes it, quotedText, where plain quotes showed it as it is)
    expect(await errorOf(buildGradientGraph(base.model, { loss: "it's", parameters: ['x'] }))).toBe("loss 'it'\\''s' is not a value of the graph");
    expect(await errorOf(buildGradientGraph(base.model, { loss: base.loss, parameters: ['a\nb'] }))).toBe(
      "parameter $'a\\nb' is not an initializer of the graph",
    );
    // a parameter listed twice (it crashed with a TypeError) and a kept value that is no value (onnxruntime refused
    // the training graph later)
    expect(await errorOf(buildGradientGraph(base.model, { loss: base.loss, parameters: ['x', 'x'] }))).toBe("parameter 'x' is listed twice");
    expect(await errorOf(buildGradientGraph(base.model, { loss: base.loss, parameters: ['x'], keep: ['xk', 'nope'] }))).toBe(
      "kept value 'nope' is not a value of the graph",
    );
    // an op without a rule
    const sin = await weightedLossModel({ nodes: [node('Sin', ['x'], ['y'], {}, 'the_sine')], initializers: [r('x', [2, 3], 1)], outputs: 'y' });
    expect(await errorOf(buildGradientGraph(sin.model, { loss: sin.loss, parameters: ['x'] }))).toBe("node 'the_sine': no gradient rule for op Sin");
    // an unnamed node (ONNX names are optional) is named by the value it writes
    const unnamed = await weightedLossModel({ nodes: [node('Sin', ['x'], ['y'], {}, '')], initializers: [r('x', [2, 3], 1)], outputs: 'y' });
    expect(await errorOf(buildGradientGraph(unnamed.model, { loss: unnamed.loss, parameters: ['x'] }))).toBe(
      "node (unnamed, writing 'y'): no gradient rule for op Sin",
    );
    // a rule that does not handle the node's form
    const max3 = await weightedLossModel({ nodes: [node('Max', ['x', 'x', 'x'], ['y'], {}, 'max3')], initializers: [r('x', [2, 3], 1)], outputs: 'y' });
    expect(await errorOf(buildGradientGraph(max3.model, { loss: max3.loss, parameters: ['x'] }))).toMatch(/^Max node 'max3': /);
    const stepped = await weightedLossModel({
      nodes: [node('Slice', ['x', 's', 'e', 'a', 'st'], ['y'], {}, 'stepped')],
      initializers: [r('x', [4, 3], 1), int64Tensor('s', [1], [0]), int64Tensor('e', [1], [4]), int64Tensor('a', [1], [0]), int64Tensor('st', [1], [2])],
      outputs: 'y',
    });
    expect(await errorOf(buildGradientGraph(stepped.model, { loss: stepped.loss, parameters: ['x'] }))).toBe(
      "Slice node 'stepped': steps other than a constant 1 are not differentiable here",
    );
    // a forward graph the probe cannot run (two symbolic dims broadcast against each other get sizes 3 and 5): named as
    // the probe's failure, where onnxruntime's multi-line error came through as a plain Error
    const mismatched = {
      ...sin.model,
      graph: {
        ...sin.model.graph,
        inputs: [
          { name: 'p', elemType: DataType.FLOAT, shape: ['N', 'S'] },
          { name: 'q', elemType: DataType.FLOAT, shape: ['N', 'T'] },
        ],
        nodes: [node('Add', ['p', 'q'], ['pq']), node('Mul', ['pq', 'x'], ['y']), ...sin.model.graph.nodes.slice(1)],
        initializers: new Map([['x', r('x', [1, 1], 1)], ...[...sin.model.graph.initializers].filter(([k]) => k !== 'x')]),
      },
    };
    expect(await errorOf(buildGradientGraph(mismatched, { loss: sin.loss, parameters: ['x'] }))).toMatch(
      /^gradient probe: the forward graph does not run on probe inputs with symbolic dims set to 2, 3, 5… \(p \[2, 3\], q \[2, 5\]\): .*Add.*\(give probeFeeds with sizes the graph accepts\)$/,
    );
    // inputs the probe cannot fill
    const shapeless = { ...sin.model, graph: { ...sin.model.graph, inputs: [{ name: 'p', elemType: DataType.FLOAT }] } };
    expect(await errorOf(buildGradientGraph(shapeless, { loss: sin.loss, parameters: ['x'] }))).toBe(
      "gradient probe: input 'p' has no shape (give probeFeeds)",
    );
    const halfInput = { ...sin.model, graph: { ...sin.model.graph, inputs: [{ name: 'p', elemType: DataType.FLOAT16, shape: [2] }] } };
    expect(await errorOf(buildGradientGraph(halfInput, { loss: sin.loss, parameters: ['x'] }))).toBe(
      "gradient probe: input 'p' is float16, which the probe cannot fill (give probeFeeds)",
    );
    // a float16 value on the path from a parameter: named with its node and type, where it read 'element type 10'
    const island = await weightedLossModel({
      nodes: [
        node('Cast', ['x'], ['h'], { to: attr.int(DataType.FLOAT16) }),
        node('Tanh', ['h'], ['t'], {}, 'half_tanh'),
        node('Cast', ['t'], ['y'], { to: attr.int(DataType.FLOAT) }),
      ],
      initializers: [r('x', [2, 3], 1)],
      outputs: 'y',
    });
    expect(await errorOf(buildGradientGraph(island.model, { loss: island.loss, parameters: ['x'] }))).toBe(
      "node 'half_tanh' (Tanh): gradients of float16 values are not supported (float32 or float64 only)",
    );
    // a loss that does not depend on the parameters
    const unused = await weightedLossModel({
      nodes: [node('Gather', ['x', 'k'], ['xk']), node('Tanh', ['xk'], ['y'])],
      initializers: [r('x', [2, 3], 1), int64Tensor('k', [2], [1, 0]), r('u', [2], 2)],
      outputs: 'y',
    });
    expect(await errorOf(buildGradientGraph(unused.model, { loss: unused.loss, parameters: ['u'] }))).toBe(
      `loss '${unused.loss}' does not depend on any parameter`,
    );
    // none given: said so, where it said the loss 'does not depend on any parameter'
    expect(await errorOf(buildGradientGraph(base.model, { loss: base.loss, parameters: [] }))).toBe(
      'parameters: none given: list the initializers to differentiate the loss by',
    );
  });
});
