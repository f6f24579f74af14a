/**
 * Attention as onnxscript's torchlib writes aten::scaled_dot_product_attention (what torch.onnx.export(dynamo=True)
 * makes of transformers' SDPA attention), in the graph or in a local function the graph calls: discovery follows K
 * through the Reshape → Transpose → Reshape that swaps its last two axes, and the scale Sqrt(CastLike(1 / Sqrt(head
 * size))) on Q and on Kᵀ, and the passes run on it. The graphs are built here as torchlib's source writes them
 * (github.com/microsoft/onnxscript, onnxscript/function_libs/torch_lib/ops/nn.py at a39c0a5d:
 * _attention_scale L1730–1745, aten_scaled_dot_product_attention L1807–1864, the float-mask form
 * _aten_scaled_dot_product_attention_float_mask_onnx L2104–2137, the no-mask form L2023–2055); no torch here, so no real export was read.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, decodeModel, float32Tensor, inlineLocalFunctions, int64Tensor, type Model, type Node } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import type { IFunctionProto } from '../../src/onnx/schema.ts';
import { graphToProto } from '../../src/onnx/proto.ts';
import { runPipeline } from '../../src/pass/index.ts';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { batchLogits, maxRowDiff, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

const constant = (name: string, out: string, value: ReturnType<typeof int64Tensor>): Node => ({
  name,
  opType: 'Constant',
  domain: '',
  inputs: [],
  outputs: [out],
  attributes: { value: { type: 'tensor', value } },
});
const node = onnxNode;

/**
 * The nodes torchlib writes for scaled_dot_product_attention(query, key, value, attn_mask) with a float mask and no
 * scale (nn.py L1730–1745, L1848–1864, L2104–2137), every name prefixed by `p`: `out` the context [B, H, S, D].
 */
function sdpaNodes(p: string, query: string, key: string, value: string, mask: string | undefined, out: string, bool = false): Node[] {
  const v = (n: string) => `${p}${n}`;
  return [
    // _attention_scale: 1 / sqrt(query.size(-1)), then CastLike(scale, query)
    node(v('Shape_q'), 'Shape', [query], [v('q_shape')]),
    constant(v('Constant_m1'), v('m1'), int64Tensor('', [1], [-1])),
    node(v('Gather_q'), 'Gather', [v('q_shape'), v('m1')], [v('q_last_dim')]),
    node(v('CastLike_e'), 'CastLike', [v('q_last_dim'), query], [v('embedding_size')]),
    node(v('Constant_one'), 'Constant', [], [v('one')], { value_float: { type: 'float', value: 1 } }),
    node(v('CastLike_one'), 'CastLike', [v('one'), query], [v('cast_one')]),
    node(v('Sqrt_e'), 'Sqrt', [v('embedding_size')], [v('sqrt_e')]),
    node(v('Div_scale'), 'Div', [v('cast_one'), v('sqrt_e')], [v('scale0')]),
    node(v('CastLike_scale'), 'CastLike', [v('scale0'), query], [v('scale')]),
    // swap the last two axes of key through a 3-D Transpose
    node(v('Shape_k'), 'Shape', [key], [v('key_shape')]),
    constant(v('Constant_max'), v('max'), int64Tensor('', [1], [INT64_MAX])),
    node(v('Slice_last'), 'Slice', [v('key_shape'), v('m1'), v('max')], [v('key_last_dim')]),
    constant(v('Constant_m2'), v('m2'), int64Tensor('', [1], [-2])),
    node(v('Slice_second'), 'Slice', [v('key_shape'), v('m2'), v('m1')], [v('key_second_last_dim')]),
    constant(v('Constant_min'), v('min'), int64Tensor('', [1], [INT64_MIN])),
    node(v('Slice_first'), 'Slice', [v('key_shape'), v('min'), v('m2')], [v('key_first_dims')]),
    node(v('Concat_sq'), 'Concat', [v('m1'), v('key_second_last_dim'), v('key_last_dim')], [v('key_squeezed_shape')], { axis: { type: 'int', value: 0 } }),
    node(v('Reshape_sq'), 'Reshape', [key, v('key_squeezed_shape')], [v('key_squeezed')]),
    node(v('Transpose_sq'), 'Transpose', [v('key_squeezed')], [v('key_squeezed_transposed')], { perm: { type: 'ints', value: [0, 2, 1] } }),
    node(v('Concat_t'), 'Concat', [v('key_first_dims'), v('key_last_dim'), v('key_second_last_dim')], [v('key_transposed_shape')], {
      axis: { type: 'int', value: 0 },
    }),
    node(v('Reshape_t'), 'Reshape', [v('key_squeezed_transposed'), v('key_transposed_shape')], [v('key_transposed')]),
    // Q and Kᵀ each scaled by sqrt(scale)
    node(v('Sqrt_q'), 'Sqrt', [v('scale')], [v('sqrt_scale_q')]),
    node(v('Mul_q'), 'Mul', [query, v('sqrt_scale_q')], [v('query_scaled')]),
    node(v('Sqrt_k'), 'Sqrt', [v('scale')], [v('sqrt_scale_k')]),
    // (the no-mask form casts that like Kᵀ: nn.py L2048)
    ...(mask ? [] : [node(v('CastLike_k'), 'CastLike', [v('sqrt_scale_k'), v('key_transposed')], [v('sqrt_scale_k_cast')])]),
    node(v('Mul_k'), 'Mul', [v('key_transposed'), v(mask ? 'sqrt_scale_k' : 'sqrt_scale_k_cast')], [v('key_transposed_scaled')]),
    node(v('MatMul_qk'), 'MatMul', [v('query_scaled'), v('key_transposed_scaled')], [v('qk')]),
    // (a Boolean mask made the scores' addend: nn.py L2086–2088)
    ...(mask && bool
      ? [
          constant(v('Constant_zero'), v('zero'), float32Tensor('', [], [0])),
          constant(v('Constant_neg'), v('neg_inf'), float32Tensor('', [], [-3.4028234663852886e38])),
          node(v('Where_mask'), 'Where', [mask, v('zero'), v('neg_inf')], [v('attn_mask')]),
        ]
      : []),
    ...(mask ? [node(v('Add_mask'), 'Add', [v('qk'), bool ? v('attn_mask') : mask], [v('masked')])] : []),
    node(v('Softmax'), 'Softmax', [v(mask ? 'masked' : 'qk')], [v('attn_weight')], { axis: { type: 'int', value: -1 } }),
    // (and the rows all masked, NaN, made 0: nn.py L2098)
    ...(bool
      ? [
          node(v('IsNaN'), 'IsNaN', [v('attn_weight')], [v('nan')]),
          node(v('Where_nan'), 'Where', [v('nan'), v('zero'), v('attn_weight')], [v('attn_weight_0')]),
        ]
      : []),
    node(v('MatMul_v'), 'MatMul', [v(bool ? 'attn_weight_0' : 'attn_weight'), value], [out]),
  ];
}

/** The local function torchlib's aten_scaled_dot_product_attention is when the exporter keeps it as one. */
const SDPA_FUNCTION = { name: 'aten_scaled_dot_product_attention', domain: 'pkg.onnxscript.torch_lib' };

/**
 * `model` (the tiny BERT, whose attention is written as torch.onnx.export's TorchScript exporter writes it) with each
 * attention's scores and context written as torchlib writes scaled_dot_product_attention: K split into heads as
 * transformers' SDPA attention splits it ([B, H, S, D], a Transpose [0, 2, 1, 3]); the ops in the graph, or in a local
 * function each layer calls (`asFunction`). Opset 15 (CastLike's), IR 8.
 */
function withTorchlibSdpa(model: Model, asFunction = false, mask: 'float' | 'bool' | 'none' = 'float'): Model {
  const m = cloneModel(model);
  m.irVersion = 8;
  m.opsetImports = m.opsetImports.map((o) => (o.domain === '' ? { ...o, version: 15 } : o));
  const s = findBert(m);
  const g = m.graph;
  const producer = (v: string) => g.nodes.find((n) => n.outputs.includes(v))!;
  // (a Boolean mask [B, 1, 1, S], true where a token is attended to: what transformers ≥ 4.53 gives SDPA)
  const boolMask = '/bool_mask';
  if (mask === 'bool') g.initializers.set('/bool_mask_axes', int64Tensor('/bool_mask_axes', [2], [1, 2]));
  if (mask === 'bool')
    g.nodes.unshift(
      node('/bool_mask/Unsqueeze', 'Unsqueeze', [s.inputs.attentionMask!, '/bool_mask_axes'], ['/bool_mask_4d']),
      node('/bool_mask/Cast', 'Cast', ['/bool_mask_4d'], [boolMask], { to: { type: 'int', value: 9 } }),
    );
  for (const [i, layer] of s.layers.entries()) {
    const softmax = g.nodes.find((n) => n.name === layer.attention!.softmax)!;
    const add = producer(softmax.inputs[0]!);
    const div = producer(add.inputs[0]!);
    const floatMask = add.inputs[1]!;
    const qk = producer(div.inputs[0]!);
    const kTranspose = producer(qk.inputs[1]!);
    const context = g.nodes.find((n) => n.opType === 'MatMul' && n.inputs[0] === softmax.outputs[0])!;
    const p = `/sdpa_${i}/`;
    const key = `${p}key_heads`;
    const heads = node(`${p}Transpose_key`, 'Transpose', [kTranspose.inputs[0]!], [key], { perm: { type: 'ints', value: [0, 2, 1, 3] } });
    const [query, value, out] = [qk.inputs[0]!, context.inputs[1]!, context.outputs[0]!];
    const call: Node = {
      name: `${p}sdpa`,
      opType: SDPA_FUNCTION.name,
      domain: SDPA_FUNCTION.domain,
      inputs: [query, key, value, ...(mask === 'none' ? [] : [mask === 'bool' ? boolMask : floatMask])],
      outputs: [out],
      attributes: {},
    };
    const replaced = [kTranspose, qk, div, add, softmax, context];
    const at = g.nodes.indexOf(context);
    const added = [
      heads,
      ...(asFunction ? [call] : sdpaNodes(p, query, key, value, mask === 'none' ? undefined : mask === 'bool' ? boolMask : floatMask, out, mask === 'bool')),
    ];
    g.nodes.splice(at + 1, 0, ...added);
    g.nodes = g.nodes.filter((n) => !replaced.includes(n));
  }
  if (asFunction) {
    // (the function's body: the same nodes, named as inside a function)
    const body = sdpaNodes('', 'query', 'key', 'value', mask === 'none' ? undefined : 'attn_mask_in', 'out', mask === 'bool');
    const fn: IFunctionProto = {
      ...SDPA_FUNCTION,
      input: ['query', 'key', 'value', ...(mask === 'none' ? [] : ['attn_mask_in'])],
      output: ['out'],
      opsetImport: [{ domain: '', version: 15 }],
      node: graphToProto({ name: '', nodes: body, inputs: [], outputs: [], initializers: new Map(), valueInfo: [] }).node,
    };
    m.opsetImports.push({ domain: SDPA_FUNCTION.domain, version: 1 });
    m.unmodelled = { ...m.unmodelled, functions: [fn] };
  }
  return m;
}

/**
 * `m` (withTorchlibSdpa's graph) with the target shapes of each swap of Kᵀ's axes folded into constants, as
 * onnxscript's optimizer writes them for an export with static shapes (Constant nodes of value_ints).
 */
function withFoldedSwaps(m: Model, shapes: { inner: number[]; outer: number[] }): Model {
  const folded = cloneModel(m);
  const g = folded.graph;
  const added: Node[] = [];
  for (const n of g.nodes) {
    const which = n.name.endsWith('/Reshape_sq') ? 'inner' : n.name.endsWith('/Reshape_t') ? 'outer' : undefined;
    if (!which) continue;
    const name = `${n.name.replace(/Reshape_(sq|t)$/, 'Constant_$1')}_folded`;
    added.push(node(name, 'Constant', [], [`${name}_out`], { value_ints: { type: 'ints', value: shapes[which] } }));
    n.inputs[1] = `${name}_out`;
  }
  g.nodes.unshift(...added);
  return folded;
}

/** `m` with its inputs declared of the sizes `dims` (a number fixes an axis). */
function withFixedInputs(m: Model, dims: Array<number | string>): Model {
  const fixed = cloneModel(m);
  fixed.graph.inputs = fixed.graph.inputs.map((v) => ({ ...v, shape: [...dims] }));
  return fixed;
}

describe("torchlib's scaled_dot_product_attention", () => {
  const model = tinyBert({}, { seed: 6, std: 0.2 });
  const batch = paddedBatch([7, 4, 1, 6], 32);
  const sdpa = withTorchlibSdpa(model);

  it("is read as the attention it is: heads, head size and scale; the graph gives the tiny BERT's logits", async () => {
    const logits = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(sdpa, batch)).rows, logits)).toBeLessThan(1e-5);
    const s = findBert(sdpa);
    const plain = findBert(model);
    expect([s.numLayers, s.numHeads, s.headSize]).toEqual([2, 4, 8]);
    for (const [i, l] of s.layers.entries()) {
      expect(l.attention?.kind).toBe('unfused');
      expect(l.attention?.scale).toBeCloseTo(plain.layers[i]!.attention!.scale!, 6);
      expect(l.attention?.q?.weight).toBe(plain.layers[i]!.attention!.q?.weight);
      expect(l.attention?.k?.weight).toBe(plain.layers[i]!.attention!.k?.weight);
    }
    expect(findBert(decodeModel(encodeModel(sdpa))).numHeads).toBe(4);
  });

  it('in a local function the graph calls, is read once inlined, with the same logits', async () => {
    const called = withTorchlibSdpa(model, true);
    expect(called.graph.nodes.filter((n) => n.opType === SDPA_FUNCTION.name)).toHaveLength(2);
    const logits = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(called, batch)).rows, logits)).toBeLessThan(1e-5);
    const plain = inlineLocalFunctions(called);
    expect(findBert(plain).numHeads).toBe(4);
    expect(maxRowDiff((await batchLogits(plain, batch)).rows, logits)).toBeLessThan(1e-5);
  });

  it('without a mask (torchlib casting the scale like Kᵀ) is read too, with the logits of unpadded text', async () => {
    const unmasked = withTorchlibSdpa(model, false, 'none');
    const full = paddedBatch([6, 6, 6], 32);
    expect(maxRowDiff((await batchLogits(unmasked, full)).rows, (await batchLogits(model, full)).rows)).toBeLessThan(1e-5);
    const s = findBert(unmasked);
    expect([s.numHeads, s.headSize]).toEqual([4, 8]);
    expect(s.layers[0]!.attention?.scale).toBeCloseTo(findBert(model).layers[0]!.attention!.scale!, 6);
  });

  it('with a Boolean mask (its NaN rows made 0 after the Softmax) is read too, in the graph or a function, with the logits and passes of the tiny BERT', async () => {
    const logits = (await batchLogits(model, batch)).rows;
    for (const asFunction of [false, true]) {
      const bool = withTorchlibSdpa(model, asFunction, 'bool');
      expect(maxRowDiff((await batchLogits(bool, batch)).rows, logits)).toBeLessThan(1e-5);
      const s = inlineLocalFunctions(bool);
      expect(findBert(s).inputs.attentionMask).toBe('attention_mask');
      for (const steps of [
        [{ pass: 'prune-heads', settings: { ratio: 0.5 } }],
        [{ pass: 'quantize', settings: { mode: 'int8' } }],
        [{ pass: 'optimize', settings: {} }],
      ]) {
        const a = await runPipeline(bool, steps);
        const b = await runPipeline(model, steps);
        expect(maxRowDiff((await batchLogits(a.model, batch)).rows, (await batchLogits(b.model, batch)).rows)).toBeLessThan(1e-4);
      }
    }
  });

  it('with the sizes of Kᵀ folded into constants (a static-shape export) and the inputs of those sizes, is read, and pruning heads rewrites the head count there', async () => {
    // (batch 4, sequence 7: what paddedBatch([7, 4, 1, 6]) gives; the inputs fixed so, as such an export declares them)
    const fixed = withFixedInputs(withFoldedSwaps(sdpa, { inner: [-1, 7, 8], outer: [4, 4, 8, 7] }), [4, 7]);
    const logits = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(fixed, batch)).rows, logits)).toBeLessThan(1e-5);
    const s = findBert(fixed);
    expect([s.numHeads, s.headSize]).toEqual([4, 8]);
    // (the head count of each outer shape, element 1, recorded for pruning to rewrite)
    expect(s.layers[0]!.attention!.headShapeConstants).toContainEqual(
      expect.objectContaining({ name: '/sdpa_0/Constant_t_folded', index: 1, meaning: 'num-heads', value: 4 }),
    );
    for (const steps of [[{ pass: 'prune-heads', settings: { heads: '0:1,2;1:0' } }], [{ pass: 'quantize', settings: { mode: 'int8' } }]]) {
      const a = await runPipeline(fixed, steps);
      const b = await runPipeline(model, steps);
      expect(a.structure.layers.map((l) => l.attention?.numHeads)).toEqual(b.structure.layers.map((l) => l.attention?.numHeads));
      expect(maxRowDiff((await batchLogits(a.model, batch)).rows, (await batchLogits(b.model, batch)).rows)).toBeLessThan(1e-4);
    }
  });

  it("with the head size folded into constants and the batch and sequence read off K (an optimizer that knows K's last axis), is read and runs at any size", async () => {
    const partly = cloneModel(sdpa);
    const g = partly.graph;
    g.initializers.set('head_size', int64Tensor('head_size', [1], [8]));
    for (const n of g.nodes) {
      if (n.name.endsWith('/Concat_sq')) n.inputs[2] = 'head_size';
      if (n.name.endsWith('/Concat_t')) n.inputs[1] = 'head_size';
    }
    expect(findBert(partly).headSize).toBe(8);
    for (const b of [batch, paddedBatch([9, 3], 32)]) {
      expect(maxRowDiff((await batchLogits(partly, b)).rows, (await batchLogits(model, b)).rows)).toBeLessThan(1e-5);
    }
    const pruned = await runPipeline(partly, [{ pass: 'prune-heads', settings: { ratio: 0.5 } }]);
    expect(pruned.structure.numHeads).toBe(2);
  });

  it("with the sizes of Kᵀ folded into constants where the inputs take any size, or sizes that are not K's, is refused in one line", () => {
    const static47 = { inner: [-1, 7, 8], outer: [4, 4, 8, 7] };
    const swap =
      "Reshape '/sdpa_0/Reshape_sq' holds the sequence length of '/sdpa_0/key_heads' as the constant 7 (as an export with static shapes folds it into the swap of Kᵀ's axes)";
    expect(() => findBert(withFoldedSwaps(sdpa, static47), { label: 'm' })).toThrow(
      new NotBertError(
        `m: ${swap}, where the token ids input 'input_ids' ['batch_size', 'sequence_length'] takes any: the model runs at sequence length 7 only; export it with dynamic shapes (torch.onnx.export(..., dynamo=True, dynamic_shapes=...)), or fix the input's sequence length to 7`,
      ),
    );
    // (the batch alone fixed: the sequence length still taken as any; both fixed to other sizes: not the swap)
    expect(() => findBert(withFixedInputs(withFoldedSwaps(sdpa, static47), [4, 'sequence']), { label: 'm' })).toThrow(
      /takes any: the model runs at sequence length 7 only/,
    );
    expect(() => findBert(withFixedInputs(withFoldedSwaps(sdpa, { inner: [-1, 14, 8], outer: [2, 4, 8, 14] }), [4, 7]), { label: 'm' })).toThrow(
      new NotBertError(
        "m: Reshape '/sdpa_0/Reshape_sq' holds the sequence length of '/sdpa_0/key_heads' as the constant 14 (as an export with static shapes folds it into the swap of Kᵀ's axes), where the token ids input 'input_ids' [4, 7] fixes it to 7: the reshape is not the swap of its axes",
      ),
    );
    // (head count and head size exchanged in the outer shape: the same number of elements, another reshape)
    expect(() => findBert(withFixedInputs(withFoldedSwaps(sdpa, { inner: [-1, 7, 8], outer: [4, 8, 4, 7] }), [4, 7]), { label: 'm' })).toThrow(
      new NotBertError(
        "m: attention at Softmax '/sdpa_0/Softmax': Reshape '/sdpa_0/Reshape_t', which swaps the last two axes of '/sdpa_0/key_heads' (as onnxscript's scaled_dot_product_attention writes Kᵀ), holds 8 for its head count, which is 4: it is no such swap",
      ),
    );
    // (a size neither read off K's shape nor a constant: not followed)
    const other = cloneModel(sdpa);
    other.graph.nodes.find((n) => n.name === '/sdpa_0/Concat_t')!.inputs[1] = '/sdpa_0/q_last_dim';
    expect(() => findBert(other, { label: 'm' })).toThrow(
      new NotBertError(
        "m: Reshape '/sdpa_0/Reshape_sq' → Transpose '/sdpa_0/Transpose_sq' [0, 2, 1] → Reshape '/sdpa_0/Reshape_t' swaps axes of '/sdpa_0/key_heads' (as onnxscript's scaled_dot_product_attention writes Kᵀ) to shapes that are not Concat([-1], its axes -2 and -1) and Concat(its axes before -2, -1, -2), each size read off its shape or a constant, which discovery does not follow",
      ),
    );
  });

  it('keeps its outputs through the optimize pass (first-token last layer, and every rewrite) and the canonical rebuild training reads', async () => {
    const logits = (await batchLogits(sdpa, batch)).rows;
    for (const settings of [{}, { rewrites: 'all' }]) {
      const res = await runPipeline(sdpa, [{ pass: 'optimize', settings }]);
      expect(maxRowDiff((await batchLogits(res.model, batch)).rows, logits)).toBeLessThan(1e-4);
    }
    expect(maxRowDiff((await batchLogits(rebuildCanonical(sdpa), batch)).rows, logits)).toBeLessThan(1e-4);
  });

  it('is written in float16 (quantize float16) as a model onnxruntime loads, its CastLikes of the query Casts to float16', async () => {
    // (onnxruntime's CPU provider computes Div and Sqrt of float16 in float32 (no float16 kernel) and refused a float16
    // CastLike reading one: 'Type (tensor(float)) of output arg (InsertedPrecisionFreeCast_/sdpa_0/scale) … (tensor(float16))')
    const steps = [{ pass: 'quantize', settings: { mode: 'float16' } }];
    for (const mask of ['float', 'bool', 'none'] as const) {
      const full = mask === 'none' ? paddedBatch([6, 6, 6], 32) : batch;
      const half = await runPipeline(withTorchlibSdpa(model, mask === 'bool', mask), steps);
      const plain = await runPipeline(model, steps);
      expect(maxRowDiff((await batchLogits(half.model, full)).rows, (await batchLogits(plain.model, full)).rows)).toBeLessThan(1e-2);
      expect(half.model.graph.nodes.filter((n) => n.opType === 'CastLike')).toEqual([]);
    }
  });

  it.each([
    ['prune-heads by list', [{ pass: 'prune-heads', settings: { heads: '0:1,2;1:0' } }]],
    ['prune-heads by ratio', [{ pass: 'prune-heads', settings: { ratio: 0.5 } }]],
    ['prune-ffn', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]],
    ['quantize int8', [{ pass: 'quantize', settings: { mode: 'int8' } }]],
    ['drop-layers', [{ pass: 'drop-layers', settings: { layers: '1' } }]],
  ])('takes %s as the same model written by the TorchScript exporter does', async (_, steps) => {
    for (const input of [sdpa, withTorchlibSdpa(model, true)]) {
      const a = await runPipeline(input, steps);
      const b = await runPipeline(model, steps);
      expect(a.structure.layers.map((l) => l.attention?.numHeads)).toEqual(b.structure.layers.map((l) => l.attention?.numHeads));
      expect(maxRowDiff((await batchLogits(a.model, batch)).rows, (await batchLogits(b.model, batch)).rows)).toBeLessThan(1e-4);
    }
  });
});
