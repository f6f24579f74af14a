/**
 * Models that call model-local functions (ModelProto.functions, as torch's dynamo exporter and onnxscript write them:
 * one per module or aten op) hide their ops from discovery inside the functions: loading keeps them, and the calls,
 * as written; inlineLocalFunctions replaces the calls by the functions' nodes, as the commands and runPipeline do
 * before discovery reads the model (so a model they write is a plain graph), and findBert given such a model as it is
 * refuses it in one line that names the call and says how to inline the functions.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError, UserError } from '../../src/errors.ts';
import { compressFile } from '../../src/export/compress.ts';
import { callsLocalFunctions, cloneModel, decodeModel, inlineLocalFunctions, int64Tensor, loadModel, saveModel, type Model } from '../../src/onnx/index.ts';
import { runPipeline } from '../../src/pass/index.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import { graphFromProto } from '../../src/onnx/proto.ts';
import type { IFunctionProto } from '../../src/onnx/schema.ts';
import { batchLogits, maxRowDiff, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';
import { outputsOf } from '../helpers/run-model.ts';
import { Tensor } from 'onnxruntime-node';

const T = { FLOAT: 1, INTS: 7 };

/**
 * The LayerNorm function torch's dynamo exporter writes in spirit: (x, scale, bias) → y, its ε the call's `epsilon`
 * attribute (ref_attr_name), its values named as the graph's may be ('x', the graph's names reused inside).
 */
function layerNormFunction(opset: number): IFunctionProto {
  return {
    name: 'LayerNorm',
    domain: 'pkg.test',
    input: ['x', 'scale', 'bias'],
    output: ['y'],
    attribute: ['epsilon'],
    opsetImport: [{ domain: '', version: opset }],
    node: [
      { opType: 'ReduceMean', input: ['x'], output: ['mean'], attribute: [{ name: 'axes', type: T.INTS, ints: [-1] }] },
      { opType: 'Sub', input: ['x', 'mean'], output: ['d'] },
      { opType: 'Mul', input: ['d', 'd'], output: ['d2'] },
      { opType: 'ReduceMean', input: ['d2'], output: ['var'], attribute: [{ name: 'axes', type: T.INTS, ints: [-1] }] },
      { opType: 'Constant', input: [], output: ['eps'], attribute: [{ name: 'value_float', type: T.FLOAT, refAttrName: 'epsilon' }] },
      { opType: 'Add', input: ['var', 'eps'], output: ['ve'] },
      { opType: 'Sqrt', input: ['ve'], output: ['std'] },
      { opType: 'Div', input: ['d', 'std'], output: ['n'] },
      { opType: 'Mul', input: ['n', 'scale'], output: ['s'] },
      { opType: 'Add', input: ['s', 'bias'], output: ['y'] },
    ],
  };
}

/** `model` with each of its LayerNorms a call of the local function LayerNorm (the function given). */
function withLayerNormCalls(model: Model, fn: IFunctionProto): Model {
  const m = cloneModel(model);
  const s = findBert(m);
  const norms = [s.embeddings.norm, ...s.layers.flatMap((l) => [l.attentionNorm, l.outputNorm])];
  const g = m.graph;
  for (const [i, norm] of norms.entries()) {
    if (norm?.kind !== 'pattern') throw new Error('a LayerNorm of the tiny BERT is not decomposed');
    const first = g.nodes.find((n) => n.name === norm.nodes[0])!;
    const call = {
      name: `/layer_norm_${i}`,
      opType: 'LayerNorm',
      domain: 'pkg.test',
      inputs: [first.inputs[0]!, norm.scale, norm.bias],
      outputs: [norm.output],
      attributes: { epsilon: { type: 'float' as const, value: 1e-12 } },
    };
    const at = g.nodes.indexOf(first);
    g.nodes = g.nodes.filter((n) => !norm.nodes.includes(n.name));
    g.nodes.splice(Math.min(at, g.nodes.length), 0, call);
  }
  m.opsetImports.push({ domain: 'pkg.test', version: 1 });
  m.unmodelled = { ...m.unmodelled, functions: [fn] };
  return m;
}

describe('models calling local functions', () => {
  const model = tinyBert({}, { seed: 6, std: 0.2 });
  const opset = model.opsetImports.find((o) => o.domain === '')!.version;
  const line =
    "m: node '/layer_norm_0' calls the model's local function 'pkg.test.LayerNorm' (as torch's dynamo exporter writes modules), which discovery does not read: inline the functions first, with inlineLocalFunctions(model) (bert-compress/onnx), as the commands and runPipeline do";

  it('are refused by findBert as they are, in one line naming the call and the function, read from a file or built in memory', async () => {
    const called = withLayerNormCalls(model, layerNormFunction(opset));
    // (a valid model: onnxruntime runs it, with the tiny BERT's logits)
    const batch = paddedBatch([7, 4, 1, 6], 32);
    expect(maxRowDiff((await batchLogits(called, batch)).rows, (await batchLogits(model, batch)).rows)).toBeLessThan(1e-5);
    expect(() => findBert(called, { label: 'm' })).toThrow(new NotBertError(line));
    expect(() => findBert(decodeModel(encodeModel(called)), { label: 'm' })).toThrow(new NotBertError(line));
  });

  it('reads a model whose functions no node calls as before', () => {
    const m = cloneModel(model);
    m.unmodelled = { functions: [layerNormFunction(opset)] };
    expect(findBert(m).numLayers).toBe(2);
  });
});

/** A function Norm of (x, scale, bias) calling LayerNorm (a call inside a function) with its own ε, by default 1e-12. */
function outerFunction(opset: number): IFunctionProto {
  return {
    name: 'Norm',
    domain: 'pkg.outer',
    input: ['x', 'scale', 'bias'],
    output: ['y'],
    attribute: [],
    attributeProto: [{ name: 'epsilon', type: T.FLOAT, f: 1e-12 }],
    opsetImport: [
      { domain: '', version: opset },
      { domain: 'pkg.test', version: 1 },
    ],
    node: [
      { opType: 'Identity', input: ['x'], output: ['x1'] },
      {
        name: 'inner',
        opType: 'LayerNorm',
        domain: 'pkg.test',
        input: ['x1', 'scale', 'bias'],
        output: ['y'],
        attribute: [{ name: 'epsilon', type: T.FLOAT, refAttrName: 'epsilon' }],
      },
    ],
  };
}

describe('inlineLocalFunctions', () => {
  const model = tinyBert({}, { seed: 6, std: 0.2 });
  const opset = model.opsetImports.find((o) => o.domain === '')!.version;
  const batch = paddedBatch([7, 4, 1, 6], 32);
  const ln = layerNormFunction(opset);
  const unused = { ...layerNormFunction(opset), name: 'Unused' };

  it('gives a plain graph discovery reads, with the same outputs, the functions called dropped and the others kept', async () => {
    const called = withLayerNormCalls(model, ln);
    called.unmodelled = { functions: [ln, unused] };
    expect(callsLocalFunctions(called)).toBe(true);
    const plain = inlineLocalFunctions(called);
    expect(callsLocalFunctions(plain)).toBe(false);
    expect(called.unmodelled?.functions).toEqual([ln, unused]); // (the model given is not changed)
    expect((plain.unmodelled!.functions as IFunctionProto[]).map((f) => f.name)).toEqual(['Unused']);
    expect(plain.graph.nodes.some((n) => n.domain === 'pkg.test')).toBe(false);
    expect(plain.graph.nodes.map((n) => n.name)).toContain('/layer_norm_0/Add_9');
    // (ε from the call's attribute, through ref_attr_name)
    const eps = plain.graph.nodes.find((n) => n.name === '/layer_norm_0/Constant_4')!;
    expect(eps.attributes.value_float).toEqual({ type: 'float', value: 1e-12 });
    const s = findBert(plain);
    expect([s.numLayers, s.numHeads, s.hiddenSize]).toEqual([2, 4, 32]);
    expect(findBert(decodeModel(encodeModel(plain))).numLayers).toBe(2);
    expect(maxRowDiff((await batchLogits(plain, batch)).rows, (await batchLogits(model, batch)).rows)).toBeLessThan(1e-5);
    // a model calling none is given back as it is
    expect(inlineLocalFunctions(model)).toBe(model);
  });

  it('inlines a call inside a function, an attribute the function defaults, and drops the domains only functions named', async () => {
    const called = withLayerNormCalls(model, ln);
    for (const n of called.graph.nodes) {
      if (n.domain !== 'pkg.test') continue;
      n.domain = 'pkg.outer';
      n.opType = 'Norm';
      n.attributes = {};
    }
    called.opsetImports.push({ domain: 'pkg.outer', version: 1 });
    called.unmodelled = { functions: [outerFunction(opset), ln] };
    const batchRows = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(called, batch)).rows, batchRows)).toBeLessThan(1e-5);
    const plain = inlineLocalFunctions(called);
    expect(plain.unmodelled?.functions).toBeUndefined();
    expect(plain.opsetImports.map((o) => o.domain)).toEqual(model.opsetImports.map((o) => o.domain));
    expect(plain.graph.nodes.map((n) => n.name)).toContain('/layer_norm_0/inner/Add_9');
    expect(findBert(plain).numLayers).toBe(2);
    expect(maxRowDiff((await batchLogits(plain, batch)).rows, batchRows)).toBeLessThan(1e-5);
  });

  it('gives an attribute the function takes from the call to a node inside a subgraph of its body (an If branch)', async () => {
    // (the ε Constant of LayerNorm inside both branches of an If on a true condition: onnx.inliner resolves a ref_attr_name
    // in a body's subgraphs too; left unresolved, the graph's node keeps a reference to an attribute no function gives)
    const branch = (name: string) => ({
      name,
      node: [{ opType: 'Constant', input: [], output: [`${name}_eps`], attribute: [{ name: 'value_float', type: T.FLOAT, refAttrName: 'epsilon' }] }],
      output: [{ name: `${name}_eps`, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [] } } } }],
    });
    const nodes = ln.node!.flatMap((n) =>
      n.opType !== 'Constant'
        ? [n]
        : [
            { opType: 'Constant', input: [], output: ['yes'], attribute: [{ name: 'value', type: 4, t: { dims: [], dataType: 9, int32Data: [1] } }] },
            {
              opType: 'If',
              input: ['yes'],
              output: ['eps'],
              attribute: [
                { name: 'then_branch', type: 5, g: branch('then') },
                { name: 'else_branch', type: 5, g: branch('else') },
              ],
            },
          ],
    );
    const called = withLayerNormCalls(model, { ...ln, node: nodes });
    const batchRows = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(called, batch)).rows, batchRows)).toBeLessThan(1e-5);
    const plain = inlineLocalFunctions(called);
    expect(maxRowDiff((await batchLogits(decodeModel(encodeModel(plain)), batch)).rows, batchRows)).toBeLessThan(1e-5);
  });

  it("names the values it inlines apart from the inputs and initializers of the graph's subgraphs (a Loop body)", async () => {
    // (a call inside a Loop body whose loop-carried input is named as the inlined value would be, 'call/mean': the
    // inlined Add must not write the body's input, which onnxruntime refuses as a second definition of it)
    const twice: IFunctionProto = {
      name: 'Twice',
      domain: 'pkg.test',
      input: ['x'],
      output: ['y'],
      opsetImport: [{ domain: '', version: opset }],
      node: [
        { opType: 'Add', input: ['x', 'x'], output: ['mean'] },
        { opType: 'Mul', input: ['mean', 'x'], output: ['y'] },
      ],
    };
    const scalar = (name: string, elemType: number) => ({ name, elemType, shape: [] });
    const body = {
      name: 'body',
      inputs: [scalar('i', 7), scalar('c', 9), { name: 'call/mean', elemType: 1, shape: [2] }],
      outputs: [scalar('c_out', 9), { name: 'carried', elemType: 1, shape: [2] }],
      nodes: [onnxNode('keep', 'Identity', ['c'], ['c_out']), { ...onnxNode('call', 'Twice', ['call/mean'], ['carried']), domain: 'pkg.test' }],
      initializers: new Map(),
      valueInfo: [],
    };
    const m: Model = {
      irVersion: 8,
      opsetImports: [
        { domain: '', version: opset },
        { domain: 'pkg.test', version: 1 },
      ],
      producerName: '',
      producerVersion: '',
      domain: '',
      modelVersion: 0,
      docString: '',
      metadataProps: {},
      graph: {
        name: 'g',
        inputs: [{ name: 'a', elemType: 1, shape: [2] }],
        outputs: [{ name: 'out', elemType: 1, shape: [2] }],
        nodes: [onnxNode('loop', 'Loop', ['trips', '', 'a'], ['out'], { body: { type: 'graph', value: body } })],
        initializers: new Map([['trips', int64Tensor('trips', [], [1])]]),
        valueInfo: [],
      },
      unmodelled: { functions: [twice] },
    };
    const feeds = { a: new Tensor('float32', Float32Array.from([1, 3]), [2]) };
    expect(Array.from((await outputsOf(m, feeds)).out!)).toEqual([2, 18]); // (2a², as written)
    const plain = inlineLocalFunctions(m);
    expect(callsLocalFunctions(plain)).toBe(false);
    expect(Array.from((await outputsOf(decodeModel(encodeModel(plain)), feeds)).out!)).toEqual([2, 18]);
  });

  it("inlines a function of another ai.onnx opset whose ops mean the same at the model's, keeping the model's opset", async () => {
    // (opset 13 and 15 around the tiny BERT's 14: Add, Sub, Mul and Div version 14 added types only; ReduceMean, Sqrt
    // and Constant are version 13 at all three)
    const logits = (await batchLogits(model, batch)).rows;
    for (const version of [opset - 1, opset + 1]) {
      const plain = inlineLocalFunctions(withLayerNormCalls(model, { ...ln, opsetImport: [{ domain: '', version }] }));
      expect(plain.opsetImports.find((o) => o.domain === '')?.version).toBe(opset);
      expect(findBert(plain).numLayers).toBe(2);
      expect(maxRowDiff((await batchLogits(plain, batch)).rows, logits)).toBeLessThan(1e-5);
    }
  });

  it("inlines a function at opset 18 (torchlib's) into a model at opset 21, its Shape, Reshape and CastLike versions there adding types only", async () => {
    const fn: IFunctionProto = {
      name: 'Flat',
      domain: 'pkg.test',
      input: ['x'],
      output: ['y'],
      opsetImport: [{ domain: '', version: 18 }],
      node: [
        { opType: 'Constant', input: [], output: ['minus_one'], attribute: [{ name: 'value_ints', type: T.INTS, ints: [-1] }] },
        { opType: 'Shape', input: ['x'], output: ['s'], attribute: [{ name: 'start', type: 2, i: -1 }] },
        { opType: 'Concat', input: ['minus_one', 's'], output: ['to'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
        { opType: 'Reshape', input: ['x', 'to'], output: ['r'] },
        { opType: 'CastLike', input: ['r', 'x'], output: ['y'] },
      ],
    };
    const m: Model = {
      irVersion: 10,
      opsetImports: [
        { domain: '', version: 21 },
        { domain: 'pkg.test', version: 1 },
      ],
      producerName: '',
      producerVersion: '',
      domain: '',
      modelVersion: 0,
      docString: '',
      metadataProps: {},
      graph: {
        name: 'g',
        inputs: [{ name: 'a', elemType: 1, shape: [2, 2, 3] }],
        outputs: [{ name: 'out', elemType: 1, shape: [4, 3] }],
        nodes: [{ ...onnxNode('call', 'Flat', ['a'], ['out']), domain: 'pkg.test' }],
        initializers: new Map(),
        valueInfo: [],
      },
      unmodelled: { functions: [fn] },
    };
    const plain = inlineLocalFunctions(m);
    expect(plain.opsetImports).toEqual([{ domain: '', version: 21 }]);
    const a = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from((await outputsOf(decodeModel(encodeModel(plain)), { a: new Tensor('float32', a, [2, 2, 3]) })).out!)).toEqual(Array.from(a));
  });

  it("refuses one with an op that means another thing at the model's opset, takes what the model's version does not, or is none there, in one line", () => {
    const refusal = (version: number, why: string) =>
      new UserError(
        `the model's local function 'pkg.test.LayerNorm' imports opset ${version} of 'ai.onnx' where the model imports opset ${opset}: ${why} (onnx.inliner.inline_local_functions with convert_version in Python)`,
      );
    // (opset 18: ReduceMean takes its axes as an input)
    const axes = { opType: 'Constant', input: [], output: ['axes'], attribute: [{ name: 'value_ints', type: T.INTS, ints: [-1] }] };
    const reduce18 = ln.node!.flatMap((n) =>
      n.opType === 'ReduceMean' ? [{ ...n, name: `mean_of_${n.input![0]}`, input: [n.input![0]!, 'axes'], attribute: [] }] : [n],
    );
    expect(() => inlineLocalFunctions(withLayerNormCalls(model, { ...ln, opsetImport: [{ domain: '', version: 18 }], node: [axes, ...reduce18] }))).toThrow(
      refusal(18, `its ReduceMean 'mean_of_x' means another thing at opset ${opset} (version 18 at opset 18, 13 at opset ${opset}: version 18 changed it)`),
    );
    // (opset 15: Shape's start, which opset 14's Shape, version 13, does not take)
    const shape = { opType: 'Shape', input: ['x'], output: ['last'], attribute: [{ name: 'start', type: 2, i: -1 }] };
    expect(() =>
      inlineLocalFunctions(withLayerNormCalls(model, { ...ln, opsetImport: [{ domain: '', version: opset + 1 }], node: [...ln.node!, shape] })),
    ).toThrow(refusal(opset + 1, `its Shape takes attribute start, which version 15 added (version 15 at opset 15, 13 at opset ${opset})`));
    // (opset 20: Gelu, an op since opset 20)
    const gelu = { opType: 'Gelu', input: ['y'], output: ['g'] };
    expect(() =>
      inlineLocalFunctions(withLayerNormCalls(model, { ...ln, opsetImport: [{ domain: '', version: 20 }], node: [...reduce18, axes, gelu] })),
    ).toThrow(
      refusal(20, `its ReduceMean 'mean_of_x' means another thing at opset ${opset} (version 18 at opset 20, 13 at opset ${opset}: version 18 changed it)`),
    );
    expect(() => inlineLocalFunctions(withLayerNormCalls(model, { ...ln, opsetImport: [{ domain: '', version: 20 }], node: [gelu, ...ln.node!] }))).toThrow(
      refusal(20, `its Gelu is no ai.onnx op at opset ${opset}`),
    );
  });

  /** A model at ai.onnx opset `opset` whose graph is one call (attributes `attributes`) of function F at `fnOpset`. */
  const callOfFunctionAt = (
    opset: number,
    fnOpset: number,
    node: IFunctionProto['node'],
    attributes: NonNullable<IFunctionProto['attributeProto']> = [],
  ): Model => ({
    irVersion: 10,
    opsetImports: [
      { domain: '', version: opset },
      { domain: 'pkg.test', version: 1 },
    ],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadataProps: {},
    graph: {
      name: 'g',
      inputs: [
        { name: 'a', elemType: 1, shape: [2] },
        { name: 'b', elemType: 1, shape: [2] },
      ],
      outputs: [{ name: 'out', elemType: 1, shape: [2] }],
      nodes: [
        {
          ...onnxNode('call', 'F', ['a', 'b'], ['out']),
          domain: 'pkg.test',
          ...(attributes.length ? { attributes: graphFromProto({ node: [{ opType: 'X', attribute: attributes }] }).nodes[0]!.attributes } : {}),
        },
      ],
      initializers: new Map(),
      valueInfo: [],
    },
    unmodelled: {
      functions: [
        { name: 'F', domain: 'pkg.test', input: ['x', 'y'], output: ['z'], attribute: ['dtype'], opsetImport: [{ domain: '', version: fnOpset }], node },
      ],
    },
  });
  const fRefusal = (fnOpset: number, opset: number, why: string) =>
    new UserError(
      `the model's local function 'pkg.test.F' imports opset ${fnOpset} of 'ai.onnx' where the model imports opset ${opset}: ${why} (onnx.inliner.inline_local_functions with convert_version in Python)`,
    );

  it('refuses a function or a model at an opset past the op versions it knows (ONNX v1.22.0: opset 27), in one line', () => {
    const add = [{ opType: 'Add', input: ['x', 'y'], output: ['z'] }];
    // (Add is version 14 at opsets 21 and 27 alike: inlined)
    expect(inlineLocalFunctions(callOfFunctionAt(21, 27, add)).graph.nodes.map((n) => n.opType)).toEqual(['Add']);
    const past = (n: number) =>
      `opset ${n} is past opset 27, the latest whose op versions bert-compress knows (ONNX v1.22.0): which of its ops it changed is not known here`;
    expect(() => inlineLocalFunctions(callOfFunctionAt(21, 28, add))).toThrow(fRefusal(28, 21, past(28)));
    expect(() => inlineLocalFunctions(callOfFunctionAt(28, 21, add))).toThrow(fRefusal(21, 28, past(28)));
  });

  it('refuses a CastLike across version 24 (which casts infinities to float8 E4M3FNUZ and E5M2FNUZ by other rules) from opset 19 on, in one line', () => {
    const castLike = [{ opType: 'CastLike', name: 'c', input: ['x', 'y'], output: ['z'] }];
    // (before opset 19 no float8 type: what CastLike-19 to 25 cast alike)
    expect(inlineLocalFunctions(callOfFunctionAt(24, 18, castLike)).graph.nodes.map((n) => n.opType)).toEqual(['CastLike']);
    expect(inlineLocalFunctions(callOfFunctionAt(21, 23, castLike)).graph.nodes.map((n) => n.opType)).toEqual(['CastLike']);
    const why = (a: number, b: number, fnOpset: number, opset: number) =>
      `its CastLike 'c' casts to its input 1's type, which may be a float8 type that version 24 casts infinities to by other rules (version ${a} at opset ${fnOpset}, ${b} at opset ${opset})`;
    expect(() => inlineLocalFunctions(callOfFunctionAt(24, 23, castLike))).toThrow(fRefusal(23, 24, why(23, 24, 23, 24)));
    expect(() => inlineLocalFunctions(callOfFunctionAt(21, 25, castLike))).toThrow(fRefusal(25, 21, why(25, 21, 25, 21)));
  });

  it('refuses a Cast to a type past float16 across versions, its type written or given by the call (ref_attr_name), in one line', () => {
    const cast = (to: IFunctionProto['node']) => to;
    const written = cast([{ opType: 'Cast', name: 'c', input: ['x'], output: ['z'], attribute: [{ name: 'to', type: 2, i: 17 }] }]);
    const byCall = cast([{ opType: 'Cast', name: 'c', input: ['x'], output: ['z'], attribute: [{ name: 'to', type: 2, refAttrName: 'dtype' }] }]);
    const why = `its Cast 'c' casts to data type 17, which later versions cast by other rules (version 19 at opset 19, 21 at opset 21)`;
    expect(() => inlineLocalFunctions(callOfFunctionAt(21, 19, written))).toThrow(fRefusal(19, 21, why));
    expect(() => inlineLocalFunctions(callOfFunctionAt(21, 19, byCall, [{ name: 'dtype', type: 2, i: 17 }]))).toThrow(fRefusal(19, 21, why));
    // (float, as written or given: inlined, the call's type given to the Cast)
    expect(inlineLocalFunctions(callOfFunctionAt(21, 19, byCall, [{ name: 'dtype', type: 2, i: 1 }])).graph.nodes[0]!.attributes.to).toEqual({
      type: 'int',
      value: 1,
    });
  });

  it('inlines into an earlier opset a function whose node writes an attribute a later version added at its default (torch writes Reshape allowzero 0), dropping it', async () => {
    const reshape = (allowzero: number) => [
      { opType: 'Constant', input: [], output: ['shape'], attribute: [{ name: 'value_ints', type: T.INTS, ints: [2] }] },
      { opType: 'Reshape', name: 'r', input: ['x', 'shape'], output: ['z'], attribute: [{ name: 'allowzero', type: 2, i: allowzero }] },
    ];
    const plain = inlineLocalFunctions(callOfFunctionAt(13, 14, reshape(0)));
    expect(plain.graph.nodes.find((n) => n.opType === 'Reshape')!.attributes).toEqual({});
    const feeds = { a: new Tensor('float32', Float32Array.from([1, 2]), [2]), b: new Tensor('float32', Float32Array.from([3, 4]), [2]) };
    expect(Array.from((await outputsOf(decodeModel(encodeModel(plain)), feeds)).out!)).toEqual([1, 2]);
    // (allowzero 1, another meaning: refused as before; a Shape's start 0 and a Cast's saturate 1 are their defaults too)
    expect(() => inlineLocalFunctions(callOfFunctionAt(13, 14, reshape(1)))).toThrow(
      fRefusal(14, 13, "its Reshape 'r' takes attribute allowzero, which version 14 added (version 14 at opset 14, 13 at opset 13)"),
    );
    const shape = [{ opType: 'Shape', input: ['x'], output: ['z'], attribute: [{ name: 'start', type: 2, i: 0 }] }];
    expect(inlineLocalFunctions(callOfFunctionAt(14, 15, shape)).graph.nodes[0]!.attributes).toEqual({});
    const cast = [
      {
        opType: 'Cast',
        input: ['x'],
        output: ['z'],
        attribute: [
          { name: 'to', type: 2, i: 1 },
          { name: 'saturate', type: 2, i: 1 },
        ],
      },
    ];
    expect(inlineLocalFunctions(callOfFunctionAt(18, 19, cast)).graph.nodes[0]!.attributes).toEqual({ to: { type: 'int', value: 1 } });
  });

  it('refuses two functions importing two versions of a domain the model does not import, naming the function that imports the other', () => {
    // (Norm calls LayerNorm; each imports pkg.extra, which the model does not: the first read, Norm, gives the inlined
    // graph its version, and LayerNorm's other one is refused, naming Norm, not the model, as importing it)
    const called = withLayerNormCalls(model, ln);
    for (const n of called.graph.nodes) {
      if (n.domain !== 'pkg.test') continue;
      n.domain = 'pkg.outer';
      n.opType = 'Norm';
      n.attributes = {};
    }
    called.opsetImports.push({ domain: 'pkg.outer', version: 1 });
    const outer = outerFunction(opset);
    const extra = (f: IFunctionProto, version: number) => ({ ...f, opsetImport: [...f.opsetImport!, { domain: 'pkg.extra', version }] });
    called.unmodelled = { functions: [extra(outer, 2), extra(ln, 1)] };
    expect(() => inlineLocalFunctions(called)).toThrow(
      new UserError(
        "the model's local function 'pkg.test.LayerNorm' imports opset 1 of 'pkg.extra' where the model's local function 'pkg.outer.Norm' imports opset 2 (the model imports none of 'pkg.extra'): its ops cannot be inlined into the graph as they are (onnx.inliner.inline_local_functions with convert_version in Python)",
      ),
    );
    // (one version in both: inlined, the model importing it from then on)
    called.unmodelled = { functions: [extra(outer, 2), extra(ln, 2)] };
    expect(inlineLocalFunctions(called).opsetImports.find((o) => o.domain === 'pkg.extra')).toEqual({ domain: 'pkg.extra', version: 2 });
  });

  it('lets the passes run on such a model as on its plain graph, and compressFile write a plain graph', async () => {
    const called = withLayerNormCalls(model, ln);
    for (const steps of [[{ pass: 'prune-heads', settings: { ratio: 0.5 } }], [{ pass: 'quantize', settings: { mode: 'int8' } }]]) {
      const a = await runPipeline(called, steps);
      const b = await runPipeline(model, steps);
      expect(callsLocalFunctions(a.model)).toBe(false);
      expect(a.model.unmodelled?.functions).toBeUndefined();
      expect(a.structure.numHeads).toBe(b.structure.numHeads);
      expect(maxRowDiff((await batchLogits(a.model, batch)).rows, (await batchLogits(b.model, batch)).rows)).toBeLessThan(1e-5);
    }
    const dir = mkdtempSync(join(tmpdir(), 'local-functions-compress-'));
    try {
      saveModel(called, join(dir, 'model.onnx'));
      await compressFile({ input: join(dir, 'model.onnx'), output: join(dir, 'out.onnx'), steps: [{ pass: 'prune-heads', settings: { ratio: 0.5 } }] });
      const out = loadModel(join(dir, 'out.onnx'));
      expect(out.unmodelled?.functions).toBeUndefined();
      expect(findBert(out).layers.map((l) => l.attention?.numHeads)).toEqual([2, 2]);
      // (loading keeps the input's calls as written)
      expect(callsLocalFunctions(loadModel(join(dir, 'model.onnx')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
