/**
 * Discovery on graphs made here: ORT fusions no fixture has (EmbedLayerNormalization, FastGelu, Gelu, plain
 * LayerNormalization), derived from the ORT-fused fixture; and graphs that must be refused (non-BERT nets, broken
 * BERTs, unsupported fused ops), each with a one-line message naming what was not understood.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import { buildBert } from '../../src/bert/build.ts';
import { summarize } from '../../src/bert/summary.ts';
import { bertConfig } from '../../src/bert/config.ts';
import { NotBertError } from '../../src/errors.ts';
import {
  cloneModel,
  createModel,
  encodeModel,
  float32Tensor,
  loadModel,
  modelSize,
  pruneGraph,
  removeDeadNodes,
  type Graph,
  type Model,
  type Node,
  type Tensor,
} from '../../src/onnx/index.ts';
import { openSession } from '../../src/runtime/session.ts';
import { encoderFeeds, runAll } from '../helpers/feeds.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';

const MS = 'com.microsoft';

function node(name: string, opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = {}, domain = ''): Node {
  return { name, opType, domain, inputs, outputs, attributes };
}

function model(nodes: Node[], inputs: Graph['inputs'], outputs: string[], initializers: Tensor[]): Model {
  const graph: Graph = {
    name: 'test_graph',
    nodes,
    inputs,
    outputs: outputs.map((name) => ({ name, elemType: 1 })),
    initializers: new Map(initializers.map((t) => [t.name, t])),
    valueInfo: [],
  };
  return createModel(
    graph,
    [
      { domain: '', version: 17 },
      { domain: MS, version: 1 },
    ],
    { producerName: 'test' },
  );
}

const filled = (name: string, dims: number[]) =>
  float32Tensor(
    name,
    dims,
    Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) * 0.01),
  );

/** Calls findBert and returns the NotBertError it throws. */
function refusal(m: Model): NotBertError {
  try {
    findBert(m, { label: 'm.onnx' });
  } catch (e) {
    expect(e).toBeInstanceOf(NotBertError);
    const err = e as NotBertError;
    expect(err.message).not.toContain('\n');
    expect(err.message.startsWith('m.onnx: ')).toBe(true);
    return err;
  }
  throw new Error('findBert accepted the graph');
}

/** Replaces each node for which `f` returns nodes with those nodes (in place), then drops dead nodes. */
function rewrite(m: Model, f: (n: Node) => Node[] | undefined): Model {
  const out = cloneModel(m);
  out.graph.nodes = out.graph.nodes.flatMap((n) => f(n) ?? [n]);
  removeDeadNodes(out.graph);
  return out;
}

describe.skipIf(!hasFixtures)('findBert on ORT fusions derived from the fused fixture (needs ../shared/fixtures/onnx)', () => {
  const fused = () => loadModel(fixture('bert-toy-pretraining-ort-fused.onnx'));

  /** The fused fixture with its embeddings (Gathers, Adds, SkipLayerNormalization) folded into one EmbedLayerNormalization. */
  const withEmbedLayerNorm = (): Model => {
    const eps = { epsilon: { type: 'float' as const, value: 1e-12 } };
    const toInt32 = { to: { type: 'int' as const, value: 6 } };
    const m = rewrite(fused(), (n) => {
      if (n.name === 'SkipLayerNormalization') {
        return [
          node('ids_int32', 'Cast', ['input_ids'], ['input_ids_int32'], toInt32),
          node('types_int32', 'Cast', ['token_type_ids'], ['token_type_ids_int32'], toInt32),
          node('mask_int32', 'Cast', ['input_mask'], ['input_mask_int32'], toInt32),
          node(
            'EmbedLayerNorm_0',
            'EmbedLayerNormalization',
            [
              'input_ids_int32',
              'token_type_ids_int32',
              'bert.embeddings.word_embeddings.weight',
              'bert.embeddings.position_embeddings.weight',
              'bert.embeddings.token_type_embeddings.weight',
              'bert.embeddings.LayerNorm.weight',
              'bert.embeddings.LayerNorm.bias',
              'input_mask_int32',
            ],
            [n.outputs[0], 'mask_index'],
            eps,
            MS,
          ),
        ];
      }
      if (n.opType === 'Attention') return [{ ...n, inputs: n.inputs.map((x) => (x === 'Mask_Int32' ? 'mask_index' : x)) }];
      return undefined;
    });
    pruneGraph(m.graph);
    return m;
  };

  it('EmbedLayerNormalization holding the whole embeddings block (ids, token types and mask through Casts)', () => {
    const m = withEmbedLayerNorm();
    expect(m.graph.nodes.some((n) => n.opType === 'Gather' && n.inputs[0].includes('embeddings'))).toBe(false);
    const s = findBert(m);
    expect(s.embeddings.fusedNode).toBe('EmbedLayerNorm_0');
    expect(s.embeddings.word).toEqual({ weight: 'bert.embeddings.word_embeddings.weight', rows: 99 });
    expect(s.embeddings.position?.rows).toBe(512);
    expect(s.embeddings.tokenType?.rows).toBe(16);
    expect(s.embeddings.norm).toMatchObject({ kind: 'op', nodes: ['EmbedLayerNorm_0'], scale: 'bert.embeddings.LayerNorm.weight' });
    expect(s.inputs).toEqual({ inputIds: 'input_ids', tokenTypeIds: 'token_type_ids', attentionMask: 'input_mask' });
    expect([s.numLayers, s.numHeads, s.headSize, s.hiddenSize, s.intermediateSize, s.vocabSize]).toEqual([5, 4, 8, 32, 37, 99]);
    expect(s.layers[0].input).toBe(s.embeddings.output);
    expect(structureProblems(m, s)).toEqual([]);
  });

  it("the EmbedLayerNormalization graph is a real one: onnxruntime computes the fixture's outputs with it", async () => {
    const a = await openSession(encodeModel(fused()), { graphOptimizationLevel: 'disabled' });
    const b = await openSession(encodeModel(withEmbedLayerNorm()), { graphOptimizationLevel: 'disabled' });
    try {
      const feeds = encoderFeeds(a, { batch: 2, seq: 9, vocab: 99 });
      const [ra, rb] = [await runAll(a, feeds), await runAll(b, feeds)];
      for (const k of Object.keys(ra)) {
        const diff = ra[k].reduce((d, v, i) => Math.max(d, Math.abs(v - rb[k][i])), 0);
        expect(diff).toBeLessThan(1e-5);
      }
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('FastGelu with the FFN bias as its second input', () => {
    const m = rewrite(fused(), (n) => (n.opType === 'BiasGelu' ? [{ ...n, opType: 'FastGelu' }] : undefined));
    const s = findBert(m);
    for (const l of s.layers) {
      expect(l.ffn.activation).toBe('gelu_tanh');
      expect(l.ffn.in.bias).toBe(`bert.encoder.layer.${l.index}.intermediate.dense.bias`);
      expect(l.ffn.activationNodes).toHaveLength(1);
    }
    expect(structureProblems(m, s)).toEqual([]);
  });

  it('Add + Gelu (com.microsoft), and Add + Add + LayerNormalization instead of SkipLayerNormalization', () => {
    const m = rewrite(fused(), (n) => {
      if (n.opType === 'BiasGelu') {
        return [node(`${n.name}_add`, 'Add', [n.inputs[0], n.inputs[1]], [`${n.name}_sum`]), node(n.name, 'Gelu', [`${n.name}_sum`], n.outputs, {}, MS)];
      }
      if (n.opType === 'SkipLayerNormalization') {
        const [x, skip, gamma, beta, bias] = n.inputs;
        const pre: Node[] = [];
        let y = x;
        if (bias) {
          pre.push(node(`${n.name}_bias`, 'Add', [x, bias], [`${n.name}_biased`]));
          y = `${n.name}_biased`;
        }
        return [
          ...pre,
          node(`${n.name}_residual`, 'Add', [y, skip], [`${n.name}_sum`]),
          node(n.name, 'LayerNormalization', [`${n.name}_sum`, gamma, beta], [n.outputs[0]], {
            epsilon: n.attributes.epsilon,
            axis: { type: 'int', value: -1 },
          }),
        ];
      }
      return undefined;
    });
    const s = findBert(m);
    expect(s.embeddings.norm.kind).toBe('op');
    for (const l of s.layers) {
      expect(l.attentionNorm.kind).toBe('op');
      expect(l.outputNorm.kind).toBe('op');
      expect(l.ffn.activation).toBe('gelu');
      expect(l.ffn.in.biasNode).toBe(`${l.ffn.activationNodes[0]}_add`);
      expect(l.attention!.output.biasNode).toMatch(/_bias$/);
    }
    expect(structureProblems(m, s)).toEqual([]);
  });
});

describe('findBert refuses what is not a BERT-family encoder', () => {
  it('an MLP of MatMul / Relu', () => {
    const m = model(
      [node('mm1', 'MatMul', ['x', 'w1'], ['h']), node('relu', 'Relu', ['h'], ['r']), node('mm2', 'MatMul', ['r', 'w2'], ['y'])],
      [{ name: 'x', elemType: 1, shape: [1, 4] }],
      ['y'],
      [filled('w1', [4, 8]), filled('w2', [8, 2])],
    );
    expect(refusal(m).message).toBe('m.onnx: no attention blocks found (no Softmax or Attention node): not a BERT-family encoder');
  });

  it('an LSTM', () => {
    const m = model(
      [node('lstm', 'LSTM', ['x', 'w', 'r'], ['y'], { hidden_size: { type: 'int', value: 3 } })],
      [{ name: 'x', elemType: 1, shape: [5, 1, 4] }],
      ['y'],
      [filled('w', [1, 12, 4]), filled('r', [1, 12, 3])],
    );
    expect(refusal(m).message).toMatch(/no attention blocks found \(no Softmax or Attention node\): not a BERT-family encoder$/);
  });

  it('a Conv net with a Softmax classifier', () => {
    const m = model(
      [
        node('conv', 'Conv', ['x', 'k'], ['c']),
        node('relu', 'Relu', ['c'], ['r']),
        node('pool', 'GlobalAveragePool', ['r'], ['p']),
        node('flat', 'Flatten', ['p'], ['f']),
        node('fc', 'Gemm', ['f', 'w'], ['z'], { transB: { type: 'int', value: 1 } }),
        node('probs', 'Softmax', ['z'], ['y']),
      ],
      [{ name: 'x', elemType: 1, shape: [1, 3, 8, 8] }],
      ['y'],
      [filled('k', [4, 3, 3, 3]), filled('w', [2, 4])],
    );
    expect(refusal(m).message).toBe("m.onnx: no attention blocks found (Softmax 'probs' does not follow a Q·Kᵀ MatMul): not a BERT-family encoder");
  });

  it('an unsupported fused attention op', () => {
    const m = model([node('mha', 'MultiHeadAttention', ['x'], ['y'], {}, MS)], [{ name: 'x', elemType: 1 }], ['y'], []);
    expect(refusal(m).message).toBe("m.onnx: com.microsoft MultiHeadAttention node 'mha' is not supported");
  });

  it('a QAttention that does not read a quantized input', () => {
    const m = model(
      [node('qa', 'QAttention', ['x', 'w', 'b'], ['y'], { num_heads: { type: 'int', value: 2 } }, MS)],
      [{ name: 'x', elemType: 1 }],
      ['y'],
      [filled('w', [4, 12]), filled('b', [12])],
    );
    expect(refusal(m).message).toBe("m.onnx: fused QAttention 'qa': its input is not quantized by a DynamicQuantizeLinear or QuantizeLinear");
  });
});

describe('findBert refuses broken BERTs, naming the pattern', () => {
  const bert = () =>
    buildBert(bertConfig({ numLayers: 2, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 50, maxPositions: 16 }), { kind: 'random', seed: 3 });

  it('a residual Add that is not an Add', () => {
    const m = bert();
    const s = findBert(m);
    const proj = s.layers[1].attention!.output.output;
    const residual = m.graph.nodes.find((n) => n.opType === 'Add' && n.inputs.includes(proj) && n.inputs.includes(s.layers[1].input))!;
    residual.opType = 'Mul';
    expect(refusal(m).message).toMatch(
      /^m\.onnx: layer 1 \(attention at '[^']+'\): no residual Add \+ LayerNorm after the attention output projection '[^']+'/,
    );
  });

  it('an unknown activation between the FFN projections', () => {
    const m = bert();
    m.graph.nodes.find((n) => n.opType === 'Erf')!.opType = 'Sin';
    expect(refusal(m).message).toMatch(
      /^m\.onnx: layer 0 .*: feed-forward activation not understood \(ops between the projections: Div, Sin, Add, Mul, Mul\)$/,
    );
  });

  it('a query projection whose weight is not a constant', () => {
    const m = bert();
    const s = findBert(m);
    const q = m.graph.nodes.find((n) => n.name === s.layers[0].attention!.q!.node)!;
    m.graph.inputs.push({ name: 'runtime_weight', elemType: 1, shape: [16, 16] });
    q.inputs[1] = 'runtime_weight';
    expect(refusal(m).message).toMatch(/attention at Softmax '[^']+': the query Reshape '[^']+' does not read a dense projection/);
  });

  it('a Softmax over Q·K without the head-splitting transposes', () => {
    const m = bert();
    const s = findBert(m);
    const softmax = m.graph.nodes.find((n) => n.name === s.layers[0].attention!.softmax)!;
    // Walk back Softmax ← Add(mask) ← Div(scale) ← MatMul(Q, Kᵀ), then let the scores come from Q·Q.
    const producer = (v: string) => m.graph.nodes.find((n) => n.outputs.includes(v))!;
    const add = producer(softmax.inputs[0]);
    const div = producer(add.inputs[0]);
    const qk = producer(div.inputs[0]);
    expect([add.opType, div.opType, qk.opType]).toEqual(['Add', 'Div', 'MatMul']);
    qk.inputs[1] = qk.inputs[0];
    expect(refusal(m).message).toMatch(/Q·Kᵀ MatMul '[^']+' has operand layouts \[0,2,1,3\] and \[0,2,1,3\], expected \[0,2,1,3\] and \[0,2,3,1\]/);
  });

  it('layers that do not chain', () => {
    const m = bert();
    const s = findBert(m);
    // Layer 1's Q, K and V read the embeddings instead of layer 0's output.
    for (const n of m.graph.nodes) n.inputs = n.inputs.map((x) => (x === s.layers[0].output ? s.embeddings.output : x));
    expect(refusal(m).message).toMatch(/layer 1 \(attention at '[^']+'\) reads '[^']+', not the output '[^']+' of layer 0/);
  });
});

describe('findBert: heads on a built encoder', () => {
  const encoder = () => {
    const m = buildBert(bertConfig({ numLayers: 2, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 50, maxPositions: 16 }), {
      kind: 'random',
      seed: 5,
    });
    return { m, s: findBert(m) };
  };

  it('a token classifier on every position: no pooler, token-classification', () => {
    const { m, s } = encoder();
    const last = s.layers[1].output;
    m.graph.nodes.push(node('tok/MatMul', 'MatMul', [last, 'tok.weight'], ['tok_mm']), node('tok/Add', 'Add', ['tok_mm', 'tok.bias'], ['token_logits']));
    for (const t of [filled('tok.weight', [16, 5]), filled('tok.bias', [5])]) m.graph.initializers.set(t.name, t);
    m.graph.outputs = [{ name: 'token_logits', elemType: 1 }];
    removeDeadNodes(m.graph);
    const found = findBert(m);
    expect(found.pooler).toBeUndefined();
    expect(found.head).toMatchObject({ kind: 'token-classification', numLabels: 5, outputs: ['token_logits'] });
    expect(found.head!.linears[0]).toMatchObject({ node: 'tok/MatMul', bias: 'tok.bias', biasNode: 'tok/Add', layout: 'in_out' });
  });

  it('an encoder whose outputs are the hidden states and the pooled vector: pooler, no head', () => {
    const { m, s } = encoder();
    const pooled = m.graph.nodes.find((n) => n.opType === 'Tanh')!.outputs[0];
    m.graph.outputs = [
      { name: s.layers[1].output, elemType: 1 },
      { name: pooled, elemType: 1 },
    ];
    removeDeadNodes(m.graph);
    const found = findBert(m);
    expect(found.pooler?.activation).toBe('tanh');
    expect(found.head).toBeUndefined();
    expect(found.numLayers).toBe(2);
  });
});

describe('findBert: factorized embeddings', () => {
  it('reads MatMul(Gather(A, ids), B) as the word table A with projection B', () => {
    const m = buildBert(bertConfig({ numLayers: 2, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 50, maxPositions: 16 }), {
      kind: 'random',
      seed: 5,
    });
    const before = findBert(m);
    const gather = m.graph.nodes.find((n) => n.name === before.embeddings.word.gather)!;
    const out = gather.outputs[0];
    m.graph.initializers.set('word_a', filled('word_a', [50, 4]));
    m.graph.initializers.set('word_b', filled('word_b', [4, 16]));
    m.graph.initializers.delete(before.embeddings.word.weight);
    gather.inputs[0] = 'word_a';
    gather.outputs[0] = 'word_narrow';
    m.graph.nodes.splice(m.graph.nodes.indexOf(gather) + 1, 0, node('word_factor_matmul', 'MatMul', ['word_narrow', 'word_b'], [out]));
    const s = findBert(m);
    expect(s.embeddings.word).toMatchObject({ weight: 'word_a', gather: gather.name, rows: 50 });
    expect(s.embeddings.word.projection).toMatchObject({ node: 'word_factor_matmul', weight: 'word_b', layout: 'in_out', inFeatures: 4, outFeatures: 16 });
    expect([s.hiddenSize, s.vocabSize, s.numLayers]).toEqual([16, 50, 2]);
    expect(structureProblems(m, s)).toEqual([]);
    const sum = summarize(m, s);
    expect(sum.embeddings.word.params).toBe(50 * 4 + 4 * 16);
    expect(sum.params).toBe(modelSize(m).params);
  });

  it.skipIf(!hasFixtures)('keeps a pretraining head whose tied decoder now reads the product of the factors (needs ../shared/fixtures/onnx)', () => {
    const m = loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const before = findBert(m);
    const word = before.embeddings.word;
    const gather = m.graph.nodes.find((n) => n.name === word.gather)!;
    const out = gather.outputs[0];
    m.graph.initializers.set('word_a', filled('word_a', [99, 8]));
    m.graph.initializers.set('word_b', filled('word_b', [8, 32]));
    gather.inputs[0] = 'word_a';
    gather.outputs[0] = 'word_narrow';
    m.graph.nodes.splice(m.graph.nodes.indexOf(gather) + 1, 0, node('word_factor_matmul', 'MatMul', ['word_narrow', 'word_b'], [out]));
    // The decoder read Transpose(W); it now reads Transpose(A·B).
    m.graph.nodes.splice(0, 0, node('word_product', 'MatMul', ['word_a', 'word_b'], ['word_full']));
    for (const n of m.graph.nodes) if (n.opType === 'Transpose') n.inputs = n.inputs.map((x) => (x === word.weight ? 'word_full' : x));
    m.graph.initializers.delete(word.weight);
    const s = findBert(m);
    expect(s.embeddings.word).toMatchObject({ weight: 'word_a', rows: 99 });
    expect(s.head).toMatchObject({ kind: 'pretraining', numLabels: 2, outputs: ['prediction_scores', 'seq_relationship_score'] });
    expect(structureProblems(m, s)).toEqual([]);
  });
});
