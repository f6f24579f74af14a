/**
 * FFN neuron pruning equals zeroing those neurons (GELU(0) = 0, so a neuron with a zero input column and bias
 * contributes nothing); dropping a layer equals skipping it.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cloneModel, float32Tensor, int64Tensor, loadModel, readFloat32, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { pruneFfnPass, ffnNeuronScores } from '../../src/prune/ffn.ts';
import { dropLayersPass, layersToDrop } from '../../src/prune/layers.ts';
import { SettingsError } from '../../src/errors.ts';
import { onnxNode, tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { buildBert, randomBertWeights } from '../../src/bert/build.ts';
import { sampleFeeds, outputsOf, maxDiff, maxAbs } from '../helpers/run-model.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';
import { optimizeModel } from '../../src/optimize/index.ts';

/** A copy of the model with the listed FFN neurons silenced (input column and bias entry zeroed). */
function zeroNeurons(model: Model, keepPerLayer: Map<number, Set<number>>): Model {
  const m = cloneModel(model);
  const s = findBert(model);
  for (const l of s.layers) {
    const keep = keepPerLayer.get(l.index)!;
    const lin = l.ffn.in;
    const t = m.graph.initializers.get(lin.weight)!;
    const w = readFloat32(t).slice();
    const [r, c] = t.dims;
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        const neuron = lin.layout === 'in_out' ? j : i;
        if (!keep.has(neuron)) w[i * c + j] = 0;
      }
    m.graph.initializers.set(lin.weight, float32Tensor(lin.weight, t.dims, w));
    if (lin.bias) {
      const b = readFloat32(m.graph.initializers.get(lin.bias)!).slice();
      for (let j = 0; j < b.length; j++) if (!keep.has(j)) b[j] = 0;
      m.graph.initializers.set(lin.bias, float32Tensor(lin.bias, [b.length], b));
    }
  }
  return m;
}

/**
 * `model` with each layer's FFN input projection a keras Tensordot of a static-shape export, Reshape(x → [-1, 32]) ·
 * MatMul(W) · Reshape(→ [-1, 12, 12]) (sequence 12, FFN width 12), the second shape one constant (`folded`), or a Concat of [-1] and one [12] that every layer's Concat reads twice
 * (`merged`, equal constants merged as onnxsim does).
 */
function withStaticFfnReshape(model: Model, form: 'folded' | 'merged'): Model {
  const m = cloneModel(model);
  const g = m.graph;
  g.initializers.set('hidden_shape', int64Tensor('hidden_shape', [2], [-1, 32]));
  if (form === 'folded') g.initializers.set('static_shape', int64Tensor('static_shape', [3], [-1, 12, 12]));
  else {
    g.initializers.set('minus_one', int64Tensor('minus_one', [1], [-1]));
    g.initializers.set('twelve', int64Tensor('twelve', [1], [12]));
  }
  for (const l of findBert(model).layers) {
    const mm = g.nodes.find((n) => n.name === l.ffn.in.node)!;
    const [x, y] = [mm.inputs[0]!, mm.outputs[0]!];
    mm.inputs[0] = `${x}_flat_${l.index}`;
    mm.outputs[0] = `${y}_flat`;
    const shape = form === 'folded' ? 'static_shape' : `ffn_${l.index}_shape`;
    const added = [
      onnxNode(`ffn_${l.index}_flatten`, 'Reshape', [x, 'hidden_shape'], [mm.inputs[0]]),
      mm,
      onnxNode(`ffn_${l.index}_unflatten`, 'Reshape', [`${y}_flat`, shape], [y]),
    ];
    if (form === 'merged') added.unshift(onnxNode(shape, 'Concat', ['minus_one', 'twelve', 'twelve'], [shape], { axis: { type: 'int', value: 0 } }));
    g.nodes.splice(g.nodes.indexOf(mm), 1, ...added);
  }
  return m;
}

function keptNeurons(model: Model, ratio: number): Map<number, Set<number>> {
  const s = findBert(model);
  const scores = ffnNeuronScores(model, s);
  return new Map(
    s.layers.map((l) => {
      const n = l.ffn.intermediateSize;
      const k = n - Math.round(ratio * n);
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[l.index][b] - scores[l.index][a] || a - b);
      return [l.index, new Set(order.slice(0, k))];
    }),
  );
}

describe('prune-ffn', () => {
  it('removing neurons equals zeroing them', async () => {
    const model = tinyBert({}, { std: 0.2 });
    const s = findBert(model);
    const res = await pruneFfnPass.run(model, s, pruneFfnPass.parse({ ratio: 0.5 }), {});
    expect(findBert(res.model).layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
    const feeds = sampleFeeds(model, s);
    const want = await outputsOf(zeroNeurons(model, keptNeurons(model, 0.5)), feeds);
    expect(maxDiff(want, await outputsOf(res.model, feeds))).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
  });

  it.skipIf(!hasFixtures)('works on keras graphs, whose reshapes hold the FFN width (needs ../shared/fixtures/onnx)', async () => {
    const model = loadModel(join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const s = findBert(model);
    const res = await pruneFfnPass.run(model, s, pruneFfnPass.parse({ ratio: 0.25 }), {});
    const feeds = sampleFeeds(model, s);
    const want = await outputsOf(zeroNeurons(model, keptNeurons(model, 0.25)), feeds);
    expect(maxDiff(want, await outputsOf(res.model, feeds))).toBeLessThan(1e-5);
  });

  for (const form of ['one constant [-1, 12, 12]', 'a Concat reading one merged [12] twice'] as const)
    it(`rewrites only the FFN width of a static reshape whose sequence length equals it (${form}, as onnxsim leaves it)`, async () => {
      // A static-shape export reshapes the FFN's product to [-1, seq, width]; at seq = width (12) the width constant
      // was rewritten at both places (and a merged [12] read twice by one Concat twice over): onnxruntime then failed
      const model = tinyBert({ intermediateSize: 12 }, { std: 0.2 });
      const reshaped = withStaticFfnReshape(model, form === 'one constant [-1, 12, 12]' ? 'folded' : 'merged');
      const o = pruneFfnPass.parse({ ratio: 0.5 });
      const want = await pruneFfnPass.run(model, findBert(model), o, {});
      const got = await pruneFfnPass.run(reshaped, findBert(reshaped), o, {});
      expect(findBert(got.model).layers.map((l) => l.ffn.intermediateSize)).toEqual([6, 6]);
      const feeds = sampleFeeds(model, findBert(model), 2, 12);
      const expected = await outputsOf(want.model, feeds);
      expect(maxDiff(await outputsOf(got.model, feeds), expected)).toBeLessThan(1e-5 * Math.max(1, maxAbs(expected)));
    });

  it('refuses FFN weights holding NaN in one line, where the neurons were ranked by NaN', async () => {
    const model = cloneModel(tinyBert({}, { std: 0.2 }));
    const s = findBert(model);
    const out = s.layers[1].ffn.out;
    const t = model.graph.initializers.get(out.weight)!;
    const w = readFloat32(t).slice();
    w[out.layout === 'in_out' ? 5 * out.outFeatures : 5] = Number.NaN; // neuron 5's weight
    model.graph.initializers.set(out.weight, float32Tensor(out.weight, t.dims, w));
    await expect(pruneFfnPass.run(model, s, pruneFfnPass.parse({ ratio: 0.5 }), {})).rejects.toThrow(
      /^prune-ffn: neuron 5 of layer 1 scores NaN: its FFN weights hold NaN or Infinity; fix or retrain the model before pruning it$/,
    );
  });

  it('slices a bias that layers share (exporter-deduplicated) once per layer, where one fused into a BiasGelu read it', async () => {
    // torch's exporter stores equal tensors once: layer 1 reads layer 0's FFN bias through an Identity. optimize's
    // gelu rewrite fuses layer 0's bias into a BiasGelu, which no longer reads it on the projection's path: that
    // layer sliced it in place for every reader, and layer 1 sliced the sliced copy again (entries past its end: NaN)
    const model = cloneModel(tinyBert({}, { std: 0.2 }));
    const s = findBert(model);
    const [b0, b1] = s.layers.map((l) => l.ffn.in.bias!);
    model.graph.initializers.delete(b1!);
    model.graph.nodes.unshift({ name: 'dedup', opType: 'Identity', domain: '', inputs: [b0!], outputs: [b1!], attributes: {} });
    const fused = optimizeModel(model, findBert(model), { rewrites: new Set(['gelu']) }).model;
    expect(fused.graph.nodes.some((n) => n.opType === 'BiasGelu' && n.inputs.includes(b0!))).toBe(true);
    const o = pruneFfnPass.parse({ ratio: 0.5 });
    const [plain, optimized] = [(await pruneFfnPass.run(model, findBert(model), o, {})).model, (await pruneFfnPass.run(fused, findBert(fused), o, {})).model];
    const feeds = sampleFeeds(model, s);
    const want = await outputsOf(plain, feeds);
    const got = await outputsOf(optimized, feeds);
    expect(maxDiff(want, got)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
  });

  it('refuses a ratio outside [0, 1)', () => {
    expect(() => pruneFfnPass.parse({ ratio: 1 })).toThrow(SettingsError);
    expect(() => pruneFfnPass.parse({ ratio: 'x' })).toThrow(SettingsError);
  });
});

describe('drop-layers', () => {
  it('dropping a layer equals a model built without it', async () => {
    const three = tinyBertConfig({ numLayers: 3 });
    const weights = randomBertWeights(three, { seed: 5, std: 0.2 });
    const model = buildBert(three, { kind: 'given', tensors: weights });
    const s = findBert(model);
    const res = await dropLayersPass.run(model, s, dropLayersPass.parse({ layers: '1' }), {});
    expect(findBert(res.model).numLayers).toBe(2);
    // the same weights with layer 2 renumbered as layer 1, built as a 2-layer BERT
    const two = new Map<string, Float32Array>();
    for (const [name, w] of weights) {
      if (name.includes('encoder.layer.1.')) continue;
      two.set(name.replace('encoder.layer.2.', 'encoder.layer.1.'), w);
    }
    const expected = buildBert(tinyBertConfig({ numLayers: 2 }), { kind: 'given', tensors: two });
    const feeds = sampleFeeds(model, s);
    const want = await outputsOf(expected, feeds);
    expect(maxDiff(want, await outputsOf(res.model, feeds))).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
    expect(maxDiff(want, await outputsOf(model, feeds))).toBeGreaterThan(1e-4);
  });

  it('keeps every other layer like DistilBERT', () => {
    const s = findBert(tinyBert({ numLayers: 6 }));
    expect(layersToDrop(s, dropLayersPass.parse({ keep: 'every-other' }))).toEqual([1, 3, 5]);
    expect(layersToDrop(s, dropLayersPass.parse({ keep: '0,5' }))).toEqual([1, 2, 3, 4]);
  });

  it('keeping every layer drops none, and says so', async () => {
    const model = tinyBert({ numLayers: 2 });
    const r = await dropLayersPass.run(model, findBert(model), dropLayersPass.parse({ keep: '0,1' }), {});
    expect(r.report.summary).toBe('no layer dropped (every layer is kept); 2 of 2 left');
  });

  it("keeps a graph output that was a dropped layer's output: an encoder-only model's last_hidden_state now gives the layer below", async () => {
    const three = tinyBertConfig({ numLayers: 3 });
    const weights = randomBertWeights(three, { seed: 5, std: 0.2 });
    const model = encoderOnly(buildBert(three, { kind: 'given', tensors: weights }));
    const s = findBert(model);
    expect(model.graph.outputs.map((o) => o.name)).toContain(s.layers[2].output);
    const res = await dropLayersPass.run(model, s, dropLayersPass.parse({ layers: '2' }), {});
    expect(res.report.summary).toBe(`dropped layers 2; 2 of 3 left; graph output '${s.layers[2].output}' now gives layer 1's output`);
    expect(res.model.graph.outputs.map((o) => o.name)).toEqual(model.graph.outputs.map((o) => o.name));
    expect(findBert(res.model).numLayers).toBe(2);
    // as the same model built with 2 layers gives them
    const two = new Map([...weights].filter(([name]) => !name.includes('encoder.layer.2.')));
    const expected = encoderOnly(buildBert(tinyBertConfig({ numLayers: 2 }), { kind: 'given', tensors: two }));
    const feeds = sampleFeeds(model, s);
    const want = await outputsOf(expected, feeds);
    expect(Object.keys(want).sort()).toEqual(res.model.graph.outputs.map((o) => o.name).sort());
    expect(maxDiff(want, await outputsOf(res.model, feeds))).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
    expect(maxDiff(want, await outputsOf(model, feeds))).toBeGreaterThan(1e-4);
  });

  it("quotes a kept graph output's name as a shell takes it (quotedText), where it wrote the name in plain quotes by hand", async () => {
    const model = cloneModel(tinyBert({ numLayers: 2 }));
    const from = findBert(model).layers[1].output;
    const name = "layer's\nout";
    for (const n of model.graph.nodes) n.outputs = n.outputs.map((o) => (o === from ? name : o));
    for (const n of model.graph.nodes) n.inputs = n.inputs.map((i) => (i === from ? name : i));
    model.graph.outputs.push({ name, elemType: 1 });
    const res = await dropLayersPass.run(model, findBert(model), dropLayersPass.parse({ layers: '1' }), {});
    expect(res.report.summary).toBe(`dropped layers 1; 1 of 2 left; graph output $'layer\\'s\\nout' now gives layer 0's output`);
  });

  it('keeps every exported hidden state: a dropped one gives the kept layer below it, or the embeddings', async () => {
    const model = cloneModel(tinyBert({ numLayers: 3 }, { std: 0.2 }));
    const s = findBert(model);
    for (const l of s.layers) model.graph.outputs.push({ name: l.output, elemType: 1 });
    model.graph.outputs.push({ name: s.layers[0].input, elemType: 1 });
    const res = await dropLayersPass.run(model, s, dropLayersPass.parse({ layers: '0,1' }), {});
    expect(res.report.summary).toBe(
      `dropped layers 0, 1; 1 of 3 left; graph output '${s.layers[0].output}' now gives the embeddings; graph output '${s.layers[1].output}' now gives the embeddings`,
    );
    expect(res.model.graph.outputs.map((o) => o.name)).toEqual(model.graph.outputs.map((o) => o.name));
    const feeds = sampleFeeds(model, s);
    const got = await outputsOf(res.model, feeds);
    const before = await outputsOf(model, feeds);
    const embeddings = s.layers[0].input;
    expect([...got[s.layers[0].output]]).toEqual([...before[embeddings]]);
    expect([...got[s.layers[1].output]]).toEqual([...before[embeddings]]);
    expect([...got[embeddings]]).toEqual([...before[embeddings]]);
    expect(maxDiff({ x: got[s.layers[2].output] }, { x: before[s.layers[2].output] })).toBeGreaterThan(1e-4); // layer 2 now reads the embeddings
    expect(findBert(res.model).numLayers).toBe(1);
  });

  it('refuses impossible layer lists', () => {
    const s = findBert(tinyBert({ numLayers: 2 }));
    expect(() => layersToDrop(s, { drop: [2] })).toThrow(/^drop-layers: layer 2 does not exist: the model has layers 0-1$/);
    expect(() => layersToDrop(s, { keep: [0, 3] })).toThrow(/^drop-layers: layer 3 does not exist: the model has layers 0-1$/);
    expect(() => layersToDrop(s, { drop: [0, 1] })).toThrow(/^drop-layers: cannot drop all 2 layers \(keep at least one\)$/);
    expect(() => dropLayersPass.parse({ layers: 'a,b' })).toThrow(SettingsError);
  });
});
