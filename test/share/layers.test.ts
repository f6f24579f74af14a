import { describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { layerParamNames, randomBertWeights } from '../../src/bert/build-weights.ts';
import type { BertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { cloneModel, encodeModel, float32Tensor, loadModel, modelSize, readFloat32, type Model } from '../../src/onnx/index.ts';
import { applyHeadPruning } from '../../src/prune/index.ts';
import { shareLayersPass, layerWeights, checkGroupShapes, checkGroupWidths, type ShareLayersDetails } from '../../src/share/index.ts';
import { factorizeEmbeddingsPass } from '../../src/factorize/index.ts';
import { lcg, maxAbsDiff } from '../helpers/feeds.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { FIXTURE_MODELS, TEACHERS, fixture, hasFixtures, hasTeachers } from '../helpers/paths.ts';
import { runModel } from '../helpers/run-model.ts';
import { meanTensor, squaredNormAndDistance } from '../../src/share/combine.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';

const pass = shareLayersPass;

async function share(model: Model, settings: Record<string, unknown>) {
  const r = await pass.run(model, findBert(model), pass.parse(settings), {});
  return { ...r, details: r.report.details as unknown as ShareLayersDetails };
}

const CONFIG: BertConfig = tinyBertConfig({ numLayers: 4 });
const LAYER_ROLES = ['query', 'key', 'value', 'attentionOutput', 'attentionNorm', 'intermediate', 'output', 'outputNorm'] as const;

/** Seeded weights with random (not zero / one) biases and LayerNorm parameters, so averaging them is visible. */
function weights(config: BertConfig): Map<string, Float32Array> {
  const w = randomBertWeights(config, { seed: 3 });
  const r = lcg(9);
  for (const [name, v] of w) if (/(bias|LayerNorm\.weight)$/.test(name)) for (let i = 0; i < v.length; i++) v[i] += 0.1 * (r() - 0.5);
  return w;
}

/** The weights with every layer of each group replaced by the group's element-wise mean (float64, then float32). */
function groupMeans(config: BertConfig, w: Map<string, Float32Array>, groups: number[][]): Map<string, Float32Array> {
  const out = new Map(w);
  for (const group of groups) {
    for (const role of LAYER_ROLES) {
      for (const suffix of ['weight', 'bias']) {
        const names = group.map((l) => `${layerParamNames(l)[role]}.${suffix}`);
        const acc = new Float64Array(w.get(names[0])!.length);
        for (const n of names) w.get(n)!.forEach((x, i) => (acc[i] += x));
        const mean = Float32Array.from(acc, (x) => x / group.length);
        for (const n of names) out.set(n, mean);
      }
    }
  }
  return out;
}

const build = (w: Map<string, Float32Array>) => buildBert(CONFIG, { kind: 'given', tensors: w });

/** The model with each layer's query weight stored transposed and read through Identity → Transpose → MatMul. */
function withChainedQueryWeights(m: Model): Model {
  const out = cloneModel(m);
  const g = out.graph;
  for (const layer of findBert(m).layers) {
    const q = layer.attention!.q!;
    const t = g.initializers.get(q.weight)!;
    const [rows, cols] = t.dims;
    const v = readFloat32(t);
    const tv = new Float32Array(v.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) tv[j * rows + i] = v[i * cols + j];
    const name = `${q.weight}_t`;
    g.initializers.set(name, float32Tensor(name, [cols, rows], tv));
    const mm = g.nodes.find((n) => n.name === q.node)!;
    const i = layer.index;
    g.nodes.splice(
      g.nodes.indexOf(mm),
      0,
      { name: `chain_id_${i}`, opType: 'Identity', domain: '', inputs: [name], outputs: [`chain_id_${i}_out`], attributes: {} },
      {
        name: `chain_t_${i}`,
        opType: 'Transpose',
        domain: '',
        inputs: [`chain_id_${i}_out`],
        outputs: [`chain_t_${i}_out`],
        attributes: { perm: { type: 'ints', value: [1, 0] } },
      },
    );
    mm.inputs = mm.inputs.map((x) => (x === q.weight ? `chain_t_${i}_out` : x));
    g.initializers.delete(q.weight);
  }
  return out;
}

describe('share-layers on a built BERT', () => {
  const w = weights(CONFIG);
  const model = build(w);

  it("one group per layer ('groups:L') is a no-op: logits equal within 1e-5", async () => {
    const { model: out, details } = await share(model, { share: 'groups:4' });
    expect(details.groups).toEqual([[0], [1], [2], [3]]);
    expect(details.layerDrift).toEqual([0, 0, 0, 0]);
    expect(details.encoderBytesAfter).toBe(details.encoderBytesBefore);
    const [a, b] = [await runModel(model, { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
  });

  it('groups of one layer each share nothing: the report says so and the model is unchanged', async () => {
    const { model: out, report } = await share(model, { share: 'groups:4' });
    expect(report.summary).toBe("nothing to share: groups:4 makes each of the model's 4 layers a group of its own; model unchanged");
    expect([...out.graph.initializers.keys()]).toEqual([...model.graph.initializers.keys()]);
    const one = buildBert(tinyBertConfig({ numLayers: 1 }), { kind: 'random', seed: 1 });
    const r = await share(one, { share: 'all' });
    expect(r.report.summary).toBe('nothing to share: the model has 1 encoder layer; model unchanged');
    expect(encodeModel(r.model)).toEqual(encodeModel(one));
  });

  it("'all' from mean computes exactly the model whose layers are all the mean layer, with encoder bytes ÷ L", async () => {
    const { model: out, details, report } = await share(model, { share: 'all', from: 'mean' });
    const reference = build(groupMeans(CONFIG, w, [[0, 1, 2, 3]]));
    const [a, b] = [await runModel(reference, { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
    expect(details.encoderBytesAfter).toBe(details.encoderBytesBefore / 4);
    expect(details.modelBytesBefore - details.modelBytesAfter).toBe((details.encoderBytesBefore * 3) / 4);
    expect(encodeModel(model).byteLength - encodeModel(out).byteLength).toBeGreaterThan(0.99 * ((details.encoderBytesBefore * 3) / 4));
    expect(details.layerDrift.every((d) => d > 0 && d < 2)).toBe(true);
    expect(report.summary).toMatch(/shared 4 layers as 1 group of 4 \(mean\)/);
  });

  it("'groups:3' of 4 layers groups them as ALBERT's num_hidden_groups 3 does ([0, 1], [2], [3]), and matches the model of those group means", async () => {
    const { model: out, details, report } = await share(model, { share: 'groups:3' });
    expect(details.groups).toEqual([[0, 1], [2], [3]]);
    const reference = build(groupMeans(CONFIG, w, details.groups));
    const [a, b] = [await runModel(reference, { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
    expect(details.encoderBytesAfter).toBe((details.encoderBytesBefore * 3) / 4);
    expect(report.summary).toMatch(/^shared 4 layers as 3 groups of 2, 1, 1 \(mean\)/);
  });

  it('every layer of the output reads the same initializers, and discovery still finds 4 layers', async () => {
    const { model: out, details } = await share(model, { share: 'all' });
    const s = findBert(out);
    expect(s.numLayers).toBe(4);
    const names = s.layers.map((l) => layerWeights(l).map((x) => x.initializer));
    for (const n of names) expect(n).toEqual(names[0]);
    expect(names[0]).toEqual(Object.values(details.sharedInitializers[0]));
    expect(names[0].every((n) => n.startsWith('shared.layers0-3.'))).toBe(true);
  });

  it("'groups:2' from 'layer:1' copies layers 1 and 3, and matches the model built that way", async () => {
    const { model: out, details } = await share(model, { share: 'groups:2', from: 'layer:1' });
    expect(details.groups).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(details.layerDrift[1]).toBe(0);
    expect(details.layerDrift[3]).toBe(0);
    expect(details.encoderBytesAfter).toBe(details.encoderBytesBefore / 2);
    const copied = new Map(w);
    for (const [from, to] of [
      [1, 0],
      [3, 2],
    ]) {
      for (const role of LAYER_ROLES)
        for (const sfx of ['weight', 'bias']) copied.set(`${layerParamNames(to)[role]}.${sfx}`, w.get(`${layerParamNames(from)[role]}.${sfx}`)!);
    }
    const [a, b] = [await runModel(build(copied), { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
    const s = findBert(out);
    expect(s.layers[0].ffn.in.weight).toBe(s.layers[1].ffn.in.weight);
    expect(s.layers[1].ffn.in.weight).not.toBe(s.layers[2].ffn.in.weight);
    expect(Array.from(readFloat32(out.graph.initializers.get(s.layers[0].attentionNorm.scale)!))).toEqual(
      Array.from(w.get('bert.encoder.layer.1.attention.output.LayerNorm.weight')!),
    );
  });

  it('identical layers: sharing all of them changes nothing but the size', async () => {
    const same = new Map(w);
    for (let l = 1; l < 4; l++)
      for (const role of LAYER_ROLES)
        for (const sfx of ['weight', 'bias']) same.set(`${layerParamNames(l)[role]}.${sfx}`, w.get(`${layerParamNames(0)[role]}.${sfx}`)!);
    const m = build(same);
    const { model: out, details } = await share(m, { share: 'all' });
    expect(details.layerDrift).toEqual([0, 0, 0, 0]);
    const [a, b] = [await runModel(m, { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
  });

  it('weights read through Identity → Transpose chains (pre-transposed exports) are shared too', async () => {
    const chained = withChainedQueryWeights(model);
    const s = findBert(chained);
    expect(s.layers[0].attention!.q!.weight).toBe(`${findBert(model).layers[0].attention!.q!.weight}_t`);
    const { model: out } = await share(chained, { share: 'all' });
    const { model: plain } = await share(model, { share: 'all' });
    const [a, b] = [await runModel(plain, { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
    const transposes = out.graph.nodes.filter((n) => n.opType === 'Transpose' && n.name.startsWith('chain_t_'));
    expect(transposes).toHaveLength(4);
    expect(new Set(out.graph.nodes.filter((n) => n.name.startsWith('chain_id_')).map((n) => n.inputs[0])).size).toBe(1);
  });

  it('leaves the input model untouched', async () => {
    const nodes = model.graph.nodes.map((n) => n.inputs.join(','));
    const inits = [...model.graph.initializers.keys()];
    await share(model, { share: 'all' });
    expect(model.graph.nodes.map((n) => n.inputs.join(','))).toEqual(nodes);
    expect([...model.graph.initializers.keys()]).toEqual(inits);
  });

  it('settings that do not fit the model are SettingsErrors', async () => {
    await expect(share(model, { share: 'groups:5' })).rejects.toThrow(/: 5 groups are more than the model's 4 layers \(flag --share-layers\)$/);
    await expect(share(model, { share: 'groups:2', from: 'layer:2' })).rejects.toBeInstanceOf(SettingsError);
    await expect(share(model, { share: 'groups:3', from: 'layer:1' })).rejects.toThrow(
      /share-layers: from 'layer:1': its smallest group has 1 layer \(position 0\)/,
    );
  });

  it('layers pruned differently cannot share: the error names the layers', async () => {
    const m = tinyBert({ numLayers: 4 });
    const pruned = applyHeadPruning(m, findBert(m), { 2: [0] });
    await expect(share(pruned, { share: 'all' })).rejects.toThrow(
      /^share-layers: layers 0 and 2 cannot share weights: layer 0 has 4 attention heads and layer 2 has 3 \(pruned differently\); layers of a group must have the same shapes \(choose groups that keep them apart, or prune heads alike\)$/,
    );
    await expect(share(pruned, { share: 'groups:2' })).rejects.toThrow(/layers 2 and 3 cannot share weights: layer 2 has 3 attention heads and layer 3 has 4/);
    // the tensors' own check, behind it, names the weight and its dims
    const s = findBert(pruned);
    expect(() => checkGroupShapes(pruned.graph, [[0, 1, 2, 3]], s.layers.map(layerWeights))).toThrow(
      /layers 0 and 2 differ in attention\.q\.weight: \[32,32\] float32 in_out vs \[32,24\] float32 in_out/,
    );
    // FFN widths are compared the same way (prune-ffn keeps equal widths; another tool may not)
    const heads = findBert(m).layers.map((l) => l.attention!.numHeads);
    const narrower = [64, 48];
    expect(() => checkGroupWidths(heads, [[0, 1]], narrower)).toThrow(
      /^share-layers: layers 0 and 1 cannot share weights: layer 0 has 64 FFN neurons and layer 1 has 48 \(pruned differently\); .*or prune FFN neurons alike\)$/,
    );
    expect(() => checkGroupWidths(heads, [[0], [1]], narrower)).not.toThrow();
    // one head, one neuron: in the singular
    expect(() => checkGroupWidths([1, 2], [[0, 1]])).toThrow(/: layer 0 has 1 attention head and layer 1 has 2 \(pruned differently\)/);
    expect(() => checkGroupWidths([2, 2], [[0, 1]], [1, 4])).toThrow(/: layer 0 has 1 FFN neuron and layer 1 has 4 \(pruned differently\)/);
    // Pruned alike within each group: fine.
    const alike = applyHeadPruning(m, findBert(m), { 2: [0], 3: [1] });
    const { model: out } = await share(alike, { share: 'groups:2' });
    expect((await runModel(out, { vocab: 128 })).logits.every(Number.isFinite)).toBe(true);
  });

  it('weights a shared model reads as one copy stay one copy when asked for more groups (copies would only grow it), and the report says nothing was shared', async () => {
    const { model: halves } = await share(model, { share: 'groups:2' });
    const { model: all } = await share(model, { share: 'all' });
    const kept = (n: number) =>
      `, and ${n} weights that layers of different groups already read as one copy stay shared (splitting would only copy them); model unchanged`;
    for (const [from, more, groups, summary] of [
      [halves, 'groups:4', 2, `nothing to share: groups:4 makes each of the model's 4 layers a group of its own${kept(32)}`],
      [all, 'groups:2', 1, `nothing to share: the model's 4 layers already read one copy of each weight as 2 groups of 2${kept(16)}`],
      [all, 'groups:4', 1, `nothing to share: groups:4 makes each of the model's 4 layers a group of its own${kept(16)}`],
    ] as const) {
      const r = await share(from, { share: more });
      expect(modelSize(r.model), more).toEqual(modelSize(from));
      expect(new Set(findBert(r.model).layers.map((l) => l.ffn.in.weight)).size).toBe(groups);
      expect(r.details.keptAcrossGroups.length).toBe(16 * groups);
      expect(r.report.summary).toBe(summary);
    }
    // one weight every layer reads as one copy, the rest each layer's own: the rest is shared, that one stays one copy
    const partly = cloneModel(model);
    const ffnIn = findBert(model).layers.map((l) => l.ffn.in.weight);
    for (const n of partly.graph.nodes) n.inputs = n.inputs.map((x) => (ffnIn.includes(x) ? ffnIn[0] : x));
    const r = await share(partly, { share: 'groups:2' });
    expect(r.details.keptAcrossGroups).toEqual([ffnIn[0]]);
    expect(modelSize(r.model).params).toBeLessThan(modelSize(partly).params);
    expect(r.report.summary).toMatch(
      /^shared 4 layers as 2 groups of 2 \(mean\): encoder weights .* → .*; 1 weight that layers of different groups already read as one copy stays shared \(splitting would only copy it\)$/,
    );
    // the same groups again: nothing to share, and the report says so instead of 'shared'
    for (const [from, same, text] of [
      [all, 'all', '1 group of 4'],
      [halves, 'groups:2', '2 groups of 2'],
    ] as const) {
      const again = await share(from, { share: same });
      expect(again.report.summary).toBe(`nothing to share: the model's 4 layers already read one copy of each weight as ${text}; model unchanged`);
      expect(modelSize(again.model)).toEqual(modelSize(from));
    }
    // the same or coarser groups: nothing to keep apart
    for (const same of ['groups:2', 'all']) {
      const again = await share(halves, { share: same });
      expect(again.details.keptAcrossGroups).toEqual([]);
      expect(modelSize(again.model).params).toBeLessThanOrEqual(modelSize(halves).params);
    }
  });
});

describe('share-layers on an IR 3 model (every initializer is also a graph input)', () => {
  it('lists each shared weight once among the graph inputs, also when groups already read one copy', async () => {
    const m = tinyBert({ numLayers: 4 });
    m.irVersion = 3;
    for (const [name, t] of m.graph.initializers) m.graph.inputs.push({ name, elemType: t.dataType, shape: [...t.dims] });
    const { model: halves } = await share(m, { share: 'groups:2' });
    for (const again of ['groups:2', 'groups:4', 'all']) {
      const { model: out } = await share(halves, { share: again });
      const names = out.graph.inputs.map((i) => i.name);
      expect(
        names.filter((n, i) => names.indexOf(n) !== i),
        again,
      ).toEqual([]);
      for (const name of out.graph.initializers.keys()) expect(names, again).toContain(name);
    }
  });
});

describe('share-layers, then quantize', () => {
  it('int8: each shared weight is quantized and stored once, and the summary counts it once, with its readers', async () => {
    registerAllPasses();
    const model = tinyBert({ numLayers: 4 });
    const { model: q, reports } = await runPipeline(model, [
      { pass: 'share-layers', settings: { share: 'all' } },
      { pass: 'quantize', settings: { mode: 'int8' } },
    ]);
    const int8 = [...q.graph.initializers.values()].filter((t) => t.dataType === DataType.INT8 && t.dims.length === 2);
    // 6 shared projections, pooler, classifier, 3 embedding tables; read by 4 × 6 + 2 + 3 = 29 nodes
    expect(int8).toHaveLength(11);
    const quantize = reports.find((r) => r.pass === 'quantize')!;
    expect(quantize.summary).toMatch(/, 11 tensors quantized \(read by 29 nodes: shared or tied weights are stored once\), /);
  });
});

describe.skipIf(!hasFixtures)('share-layers on exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  for (const f of FIXTURE_MODELS) {
    it(`${f.file}: groups:L is a no-op; 'all' runs, shrinks and is discovered`, async () => {
      const m = await loadModel(fixture(f.file));
      const L = findBert(m).numLayers;
      const opts = { vocab: f.vocab, seq: f.seq ?? 9 };
      const before = await runModel(m, opts);
      const same = await runModel((await share(m, { share: `groups:${L}` })).model, opts);
      for (const k of Object.keys(before)) expect(maxAbsDiff(before[k], same[k])).toBeLessThan(1e-5);

      const { model: out, details } = await share(m, { share: 'all' });
      expect(details.encoderBytesAfter).toBeLessThan(details.encoderBytesBefore);
      expect(details.modelBytesAfter).toBeLessThan(details.modelBytesBefore);
      const after = await runModel(out, opts);
      for (const k of Object.keys(before)) expect(after[k].every(Number.isFinite)).toBe(true);
      const s = findBert(out);
      expect(s.numLayers).toBe(L);
      expect(new Set(s.layers.map((l) => l.ffn.in.weight)).size).toBe(1);
    });
  }
});

describe.skipIf(!hasTeachers)('share-layers on the SST-2 teacher (4 layers, hidden 256) (needs ../shared/teachers)', () => {
  it("'all': encoder bytes ÷ 4, the file shrinks by the rest, runs in onnxruntime, discovery OK", async () => {
    const m = await loadModel(`${TEACHERS}/sst2-L4H256/model.onnx`);
    const { model: out, details } = await share(m, { share: 'all' });
    // 4 × (4·256² + 2·256·1024 + biases + LayerNorms) float32 values.
    const perLayer = 4 * (4 * 256 * 256 + 2 * 256 * 1024 + 4 * 256 + 1024 + 256 + 4 * 256);
    expect(details.encoderBytesBefore).toBe(4 * perLayer);
    expect(details.encoderBytesAfter).toBe(perLayer);
    const saved = encodeModel(m).byteLength - encodeModel(out).byteLength;
    expect(Math.abs(saved - 3 * perLayer) / (3 * perLayer)).toBeLessThan(0.01);
    const logits = (await runModel(out, { vocab: 30522, seq: 16 })).logits;
    expect(logits.length).toBe(4);
    expect(logits.every(Number.isFinite)).toBe(true);
    const s = findBert(out);
    expect(s.numLayers).toBe(4);
    expect(new Set(s.layers.map((l) => l.attention!.q!.weight)).size).toBe(1);
  });

  it('after factorize-embeddings (rank 64): both savings add up, runs, discovery OK', async () => {
    const m = await loadModel(`${TEACHERS}/sst2-L4H256/model.onnx`);
    const f = await factorizeEmbeddingsPass.run(m, findBert(m), { rank: 64 }, {});
    const { model: out, details } = await share(f.model, { share: 'all' });
    expect(details.modelBytesAfter).toBe(modelSize(m).bytes - (30522 * 192 - 64 * 256) * 4 - (details.encoderBytesBefore * 3) / 4);
    expect((await runModel(out, { vocab: 30522, seq: 16 })).logits.every(Number.isFinite)).toBe(true);
    const s = findBert(out);
    expect(s.embeddings.word.projection?.inFeatures).toBe(64);
    expect(new Set(s.layers.map((l) => l.ffn.out.weight)).size).toBe(1);
  });

  it("'groups:4' leaves the logits equal within 1e-5", async () => {
    const m = await loadModel(`${TEACHERS}/sst2-L4H256/model.onnx`);
    const { model: out } = await share(m, { share: 'groups:4', from: 'mean' });
    const [a, b] = [await runModel(m, { vocab: 30522, seq: 16 }), await runModel(out, { vocab: 30522, seq: 16 })];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
  });
});

describe("share-layers' messages", () => {
  it("quote a weight's name as a shell takes it (quotedText), where plain quotes showed a quote in it as it is", () => {
    const a = float32Tensor("layer's.weight", [2], new Float32Array([1, 2]));
    const b = float32Tensor('other', [3], new Float32Array([1, 2, 3]));
    expect(() => meanTensor([a, b], 'shared')).toThrow("meanTensor: 'other' has 3 elements, 'layer'\\''s.weight' 2");
    expect(() => squaredNormAndDistance(a, b)).toThrow("'layer'\\''s.weight' and 'other' differ in size");
  });
});
