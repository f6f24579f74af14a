/**
 * The optimize pass on a built BERT: every rewrite computes what the input computes (float: within rounding; int8:
 * the fused attention exactly, the first-token last layer within the int8 error), the output is discovered as an
 * ORT-fused graph with the same geometry, it composes with quantize in either order, other passes compress it
 * further or refuse it in one line, and blocks it cannot rewrite are left as they were with the reason reported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { encodeModel, type Model } from '../../src/onnx/index.ts';
import { modelSize } from '../../src/onnx/size.ts';
import { OPTIMIZE, optimizeModel, parseRewrites, type SkippedRewrite } from '../../src/optimize/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { quantizeModel, parseQuantizeSettings, type FloatRecord } from '../../src/quantize/index.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { attr } from '../../src/quantize/graph-edit.ts';
import { SettingsError } from '../../src/errors.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf, relativeDiff, sampleFeeds } from '../helpers/run-model.ts';

registerAllPasses();

const optimize = (m: Model, rewrites: unknown, s: BertStructure = findBert(m)) => optimizeModel(m, s, OPTIMIZE.parse({ rewrites }));
const int8 = async (m: Model, s: BertStructure = findBert(m)) => (await quantizeModel(m, s, parseQuantizeSettings({ mode: 'int8' }))).model;
const ops = (m: Model) => m.graph.nodes.map((n) => n.opType);
const count = (m: Model, op: string) => ops(m).filter((o) => o === op).length;
const skipped = (r: { report: { details?: Record<string, unknown> } }) => (r.report.details as { leftAsTheyWere: SkippedRewrite[] }).leftAsTheyWere;

/** Outputs with onnxruntime's own optimizations on (the level sessions use), as Float32Arrays. */
async function optimizedOutputs(m: Model, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const s = await openSession(encodeModel(m), { graphOptimizationLevel: 'all' });
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)]));
  } finally {
    await s.release();
  }
}

describe('optimize settings', () => {
  it('applies the default rewrites for a bare --optimize, all of them for all, or the ones listed (in pass order)', () => {
    expect([...OPTIMIZE.parse({ rewrites: true }).rewrites]).toEqual(['first-token', 'gelu']);
    expect(OPTIMIZE.parse({}).rewrites).toEqual(new Set(parseRewrites('default')));
    expect(OPTIMIZE.parse({ rewrites: 'all' }).rewrites.has('skip-layernorm')).toBe(true);
    expect(OPTIMIZE.check({ rewrites: 'gelu,first-token' })).toEqual({ rewrites: 'default' });
    expect(OPTIMIZE.check({ rewrites: 'first-token,attention,gelu,embed-layernorm,skip-layernorm' })).toEqual({ rewrites: 'all' });
    expect([...OPTIMIZE.parse({ rewrites: 'gelu, attention' }).rewrites]).toEqual(['attention', 'gelu']);
    expect(OPTIMIZE.check({ rewrites: 'gelu,attention' })).toEqual({ rewrites: 'attention,gelu' });
  });

  it('refuses an unknown rewrite or setting in one line naming it', () => {
    expect(() => OPTIMIZE.parse({ rewrites: 'attention,fast' })).toThrow(SettingsError);
    expect(() => OPTIMIZE.parse({ rewrites: 'attention,fast' })).toThrow(
      /^optimize: rewrites 'attention,fast': unknown rewrite 'fast' \(expected default \| all \| [^\n]*\) \(flag --optimize\)$/,
    );
    // (a rewrite reads in any letter case, and an unknown one is quoted as typed)
    expect(OPTIMIZE.check({ rewrites: ' Attention,GELU' })).toEqual({ rewrites: 'attention,gelu' });
    expect(() => OPTIMIZE.parse({ rewrites: 'Attention,Fast' })).toThrow(/: unknown rewrite 'Fast' \(expected /);
    // (quoted as a shell takes it, quotedText, where plain quotes showed 'it's' as it is)
    expect(() => OPTIMIZE.parse({ rewrites: "gelu,it's" })).toThrow(/^optimize: rewrites 'gelu,it'\\''s': unknown rewrite 'it'\\''s' \(expected /);
    expect(() => OPTIMIZE.parse({ rewrites: ',' })).toThrow(/no rewrite is named/);
    expect(() => OPTIMIZE.parse({ rewrites: 'all', level: 2 })).toThrow(/^optimize: unknown setting 'level'/);
  });
});

describe('optimize a float BERT', () => {
  const model = tinyBert({ numLayers: 3 }, { std: 0.1, seed: 3 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);
  let ref: Record<string, Float32Array>;
  beforeAll(async () => {
    ref = await outputsOf(model, feeds);
  });

  it('all rewrites: the fused ops compute the same logits, and discovery reads the result with the same geometry', async () => {
    const before = encodeModel(model);
    const r = optimize(model, 'all', s);
    expect(encodeModel(model)).toEqual(before);
    expect(count(r.model, 'Attention')).toBe(2); // the last layer queries its first token only
    expect(count(r.model, 'SkipLayerNormalization')).toBe(6);
    expect(count(r.model, 'BiasGelu')).toBe(3);
    expect(count(r.model, 'EmbedLayerNormalization')).toBe(1);
    expect(count(r.model, 'Softmax')).toBe(1);
    expect(r.model.graph.nodes.length).toBeLessThan(model.graph.nodes.length / 3);
    expect(relativeDiff(ref, await outputsOf(r.model, feeds))).toBeLessThan(1e-5);
    expect(relativeDiff(ref, await optimizedOutputs(r.model, feeds))).toBeLessThan(1e-5);

    const f = findBert(r.model);
    expect(f.exporter).toBe('ort-fused');
    expect([f.numLayers, f.hiddenSize, f.numHeads, f.headSize, f.intermediateSize, f.vocabSize]).toEqual([
      s.numLayers,
      s.hiddenSize,
      s.numHeads,
      s.headSize,
      s.intermediateSize,
      s.vocabSize,
    ]);
    expect(f.inputs).toEqual(s.inputs);
    expect(f.embeddings.fusedNode).toBeDefined();
    expect(f.layers.map((l) => l.attention?.kind)).toEqual(['fused', 'fused', 'unfused']);
    expect(f.layers.map((l) => l.attentionNorm.kind)).toEqual(['skip-op', 'skip-op', 'skip-op']);
    expect(f.layers.map((l) => !!l.firstToken)).toEqual([false, false, true]);
    expect(f.head?.kind).toBe('sequence-classification');
    expect(skipped(r)).toEqual([{ rewrite: 'attention', where: 'layer 2', reason: expect.stringMatching(/first token only/) }]);
    expect(r.report.summary).toMatch(
      /^wrote 1 first-token last layer, 2 Attention, 3 BiasGelu, 1 EmbedLayerNormalization, 6 SkipLayerNormalization; 1 left as they were/,
    );
  });

  it("the fused Attention masks padding with the graph's own constant: a row whose mask is all zeros gives the same logits", async () => {
    // the built graph adds (1 - mask) · float32 min; the fused ops' default mask_filter_value is -10000, which on a
    // fully masked row keeps the scores' differences where float32 min evens them out
    const mask = s.inputs.attentionMask!;
    const data = BigInt64Array.from(feeds[mask].data as BigInt64Array);
    const seq = feeds[mask].dims[1];
    data.fill(0n, seq, 2 * seq); // row 1: nothing to attend
    const padded = { ...feeds, [mask]: new Tensor('int64', data, feeds[mask].dims) };
    const r = optimize(model, 'attention', s);
    expect(r.model.graph.nodes.filter((n) => n.opType === 'Attention').map((n) => n.attributes.mask_filter_value)).toEqual([
      attr.float(-3.4028234663852886e38),
      attr.float(-3.4028234663852886e38),
      attr.float(-3.4028234663852886e38),
    ]);
    const want = await outputsOf(model, padded);
    expect(relativeDiff(want, await outputsOf(r.model, padded))).toBeLessThan(1e-5);
    const q = await int8(model);
    const qFused = optimize(q, 'attention');
    expect(count(qFused.model, 'QAttention')).toBe(3);
    expect(relativeDiff(await outputsOf(q, padded), await outputsOf(qFused.model, padded))).toBeLessThan(1e-5);
  });

  it('first-token: the last layer computes the pooled token only, with the same logits', async () => {
    const r = optimize(model, 'first-token', s);
    const f = findBert(r.model);
    const last = f.layers[2];
    expect(last.firstToken).toBeDefined();
    expect(r.model.graph.nodes.find((n) => n.outputs.includes(last.firstToken!))?.opType).toBe('Slice');
    expect(f.layers.slice(0, 2).every((l) => !l.firstToken)).toBe(true);
    // the queries and the residual read the first token; keys and values every token
    const reads = (name: string) => r.model.graph.nodes.find((n) => n.name === name)!.inputs[0];
    expect(reads(last.attention!.q!.node)).toBe(last.firstToken);
    expect(reads(last.attention!.k!.node)).toBe(last.input);
    expect(relativeDiff(ref, await outputsOf(r.model, feeds))).toBeLessThan(1e-5);
    // applied once: a second run finds nothing left to rewrite
    const again = optimize(r.model, 'first-token');
    expect(again.report.summary).toMatch(/^nothing left to rewrite/);
  });

  it('other passes compress the optimized model further (both the default and the fully fused form)', async () => {
    for (const rewrites of ['default', 'all']) {
      const optimized = optimize(model, rewrites, s).model;
      for (const step of [
        { pass: 'prune-heads', settings: { ratio: 0.25 } },
        { pass: 'prune-ffn', settings: { ratio: 0.25 } },
        { pass: 'drop-layers', settings: { layers: '2' } },
        { pass: 'drop-layers', settings: { layers: '0' } },
        { pass: 'quantize', settings: { mode: 'int8' } },
        ...(rewrites === 'default' ? [{ pass: 'share-layers', settings: { share: 'all' } }] : []),
      ]) {
        const res = await runPipeline(optimized, [step]);
        expect(res.structure.numLayers, `${rewrites} ${step.pass}`).toBe(step.pass === 'drop-layers' ? 2 : 3);
        const out = await outputsOf(res.model, feeds);
        expect(relativeDiff(ref, out), `${rewrites} ${step.pass}`).toBeLessThan(1);
      }
    }
  });

  it('pruning every head of the first-token last layer leaves a layer without attention that discovery still reads', async () => {
    const pruned = (await runPipeline(model, [{ pass: 'prune-heads', settings: { heads: '2:0,1,2,3' } }])).model;
    // with skip-layernorm (all) the residual LayerNorm is a SkipLayerNormalization, which needs the constant in the
    // shape of the first token's residual, [batch, 1, hidden], not the layer input's
    for (const rewrites of ['default', 'all', 'first-token,skip-layernorm']) {
      const optimized = optimize(model, rewrites, s).model;
      const res = await runPipeline(optimized, [{ pass: 'prune-heads', settings: { heads: '2:0,1,2,3' } }]);
      const last = res.structure.layers[2];
      expect(last.attention, rewrites).toBeUndefined();
      expect(last.firstToken, rewrites).toBeDefined();
      expect(relativeDiff(await outputsOf(pruned, feeds), await outputsOf(res.model, feeds)), rewrites).toBeLessThan(1e-5);
    }
  });

  it('a pass that cannot read a fused form refuses in one line', async () => {
    const optimized = optimize(model, 'all', s).model;
    // layers 0 and 1 hold a packed Attention, the first-token last layer separate Q/K/V
    await expect(runPipeline(optimized, [{ pass: 'share-layers', settings: { share: 'all' } }])).rejects.toThrow(
      /^share-layers: layers 0 and 2 cannot share weights: layer 0's attention is fused \(com\.microsoft Attention, packed QKV\) and layer 2's is not [^\n]*; share layers before --optimize$/,
    );
  });

  it('a float pass that cannot read the fused embeddings refuses in one line', async () => {
    const optimized = optimize(model, 'all', s).model;
    const run = runPipeline(optimized, [{ pass: 'factorize-embeddings', settings: { rank: 8 } }]);
    await expect(run).rejects.toThrow(SettingsError);
    await expect(runPipeline(optimized, [{ pass: 'factorize-embeddings', settings: { rank: 8 } }])).rejects.toThrow(
      /^factorize-embeddings: [^\n]*EmbedLayerNormalization[^\n]*; factorize before --optimize [^\n]*$/,
    );
  });

  it('quantize after optimize: Attention becomes QAttention, the tables inside EmbedLayerNormalization stay float with the reason', async () => {
    const optimized = optimize(model, 'all', s).model;
    const q = await quantizeModel(optimized, findBert(optimized), parseQuantizeSettings({ mode: 'int8' }));
    expect(count(q.model, 'QAttention')).toBe(2);
    const kept = (q.report.details as { keptFloat: FloatRecord[] }).keptFloat;
    expect(kept.map((k) => k.target).sort()).toEqual(['embeddings.position', 'embeddings.token_type', 'embeddings.word']);
    expect(kept[0].reason).toMatch(/EmbedLayerNormalization[^\n]*quantize before --optimize/);
    // the summary line says why, not only how many
    expect(q.report.summary).toMatch(
      /, 3 left float \(embeddings\.word, embeddings\.position, embeddings\.token_type: the table is read by com\.microsoft EmbedLayerNormalization '[^']+', which takes float tables \(quantize before --optimize to store it int8\)\), max abs error /,
    );
    expect(relativeDiff(ref, await outputsOf(q.model, feeds))).toBeLessThan(0.03);
  });

  it('shared layers share the packed attention weights; pruned heads fuse with their own head count', async () => {
    const shared = (await runPipeline(model, [{ pass: 'share-layers', settings: { share: 'all' } }])).model;
    const fusedShared = optimize(shared, 'attention');
    const weights = new Set(fusedShared.model.graph.nodes.filter((n) => n.opType === 'Attention').map((n) => n.inputs[1]));
    expect(weights.size).toBe(1);
    expect(relativeDiff(await outputsOf(shared, feeds), await outputsOf(fusedShared.model, feeds))).toBeLessThan(1e-5);

    // with the first-token last layer (which keeps Q/K/V apart) no layer packs the shared weights: they are stored once
    for (const shape of [shared, await int8(shared)]) {
      const all = optimize(shape, 'all');
      expect(count(all.model, 'Attention') + count(all.model, 'QAttention')).toBe(0);
      expect(modelSize(all.model).params).toBe(modelSize(shape).params);
      expect(skipped(all).filter((k) => k.rewrite === 'attention')).toEqual([
        { rewrite: 'attention', where: 'layer 0', reason: 'its Q/K/V weights are shared with layer 2, which stays unfused (fusing would store them twice)' },
        { rewrite: 'attention', where: 'layer 1', reason: 'its Q/K/V weights are shared with layer 2, which stays unfused (fusing would store them twice)' },
        { rewrite: 'attention', where: 'layer 2', reason: 'it queries the first token only (first-token), which the fused Attention cannot' },
      ]);
      expect(all.report.summary).toContain(
        'left as they were (layer 0, layer 1, attention: its Q/K/V weights are shared with layer 2, which stays unfused (fusing would store them twice); layer 2, attention: it queries the first token only (first-token), which the fused Attention cannot',
      );
    }

    const pruned = (await runPipeline(model, [{ pass: 'prune-heads', settings: { heads: '0:1;1:0,2,3' } }])).model;
    const fusedPruned = optimize(pruned, 'attention');
    const heads = fusedPruned.model.graph.nodes.filter((n) => n.opType === 'Attention').map((n) => n.attributes.num_heads);
    expect(heads).toEqual([
      { type: 'int', value: 3 },
      { type: 'int', value: 1 },
      { type: 'int', value: 4 },
    ]);
    expect(relativeDiff(await outputsOf(pruned, feeds), await outputsOf(fusedPruned.model, feeds))).toBeLessThan(1e-5);
  });
});

describe('optimize a dynamic int8 BERT', () => {
  const model = tinyBert({ numLayers: 3 }, { std: 0.1, seed: 3 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);
  let q: Model;
  let qRef: Record<string, Float32Array>;
  let ref: Record<string, Float32Array>;
  beforeAll(async () => {
    q = await int8(model, s);
    qRef = await outputsOf(q, feeds);
    ref = await outputsOf(model, feeds);
  });

  it('attention: QAttention over the packed int8 weights computes exactly what the unfused int8 graph does', async () => {
    const r = optimize(q, 'attention');
    expect(count(r.model, 'QAttention')).toBe(3);
    expect(count(r.model, 'MatMulIntegerToFloat')).toBe(0);
    expect(relativeDiff(qRef, await outputsOf(r.model, feeds))).toBe(0);
    const f = findBert(r.model);
    expect(f.layers.every((l) => l.attention?.fused?.quantization?.kind === 'qattention')).toBe(true);
    // the weights stay int8 and as many bytes
    const int8Bytes = (m: Model) => [...m.graph.initializers.values()].filter((t) => t.dataType === 3).reduce((n, t) => n + t.data.byteLength, 0);
    expect(int8Bytes(r.model)).toBe(int8Bytes(q));
  });

  it('the int8 tables stay unfused, with the reason; the optimized int8 graph stays within the int8 error of fp32', async () => {
    const r = optimize(q, 'first-token,gelu,embed-layernorm');
    expect(count(r.model, 'EmbedLayerNormalization')).toBe(0);
    expect(skipped(r)).toContainEqual({ rewrite: 'embed-layernorm', where: 'embeddings', reason: expect.stringMatching(/stored int8/) });
    expect(findBert(r.model).layers[2].firstToken).toBeDefined();
    const out = await outputsOf(r.model, feeds);
    expect(relativeDiff(qRef, out)).toBeLessThan(0.03);
    expect(relativeDiff(ref, out)).toBeLessThan(0.03);
    expect(relativeDiff(ref, await optimizedOutputs(r.model, feeds))).toBeLessThan(0.03);
  });

  it('all after int8 names each block left as it was in the summary, each reason once with where it applies', async () => {
    const r = optimize(q, 'all');
    expect(skipped(r).map((k) => k.rewrite)).toEqual(['attention', 'embed-layernorm']);
    expect(r.report.summary).toMatch(
      /; 2 left as they were \(layer 2, attention: it queries the first token only [^;]*; embeddings, embed-layernorm: the word table is stored int8 [^;]*\); \d+ → \d+ nodes$/,
    );
  });

  it('format standard (MatMulInteger) queries are left unsliced, with the reason', async () => {
    const standard = (await quantizeModel(model, s, parseQuantizeSettings({ mode: 'int8', format: 'standard' }))).model;
    const r = optimize(standard, 'first-token');
    expect(r.report.summary).toMatch(/^nothing left to rewrite; 1 left as they were \(layer 2, first-token: the query projection is MatMulInteger/);
  });
});
