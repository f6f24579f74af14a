/**
 * Models that call model-local functions (ModelProto.functions, as torch's dynamo exporter and onnxscript write them:
 * one per module or aten op) hide their ops from discovery inside the functions: such a model is refused in one line
 * that names the call and says how to inline the functions (loading keeps them, and the calls, as written).
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, decodeModel, type Model } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import type { IFunctionProto } from '../../src/onnx/schema.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert } from '../helpers/models.ts';

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
    "m: node '/layer_norm_0' calls the model's local function 'pkg.test.LayerNorm' (as torch's dynamo exporter writes modules), which discovery does not read: inline the functions first (in Python: onnx.save(onnx.inliner.inline_local_functions(onnx.load(path)), path))";

  it('are refused in one line naming the call and the function, read from a file or built in memory', async () => {
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
