/**
 * Removing heads must compute exactly what masking those heads computes in the original model: the pruned
 * model's outputs equal the original's with zeros on the removed heads' features (the head mask of Michel et
 * al.), on built models, the trained teacher and every exporter fixture discovery understands.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cloneModel, DataType, loadModel, pruneGraph, readFloat32, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { applyHeadPruning, parseHeadList, pruneHeadsPass, selectHeads } from '../../src/prune/heads.ts';
import { withHeadMasks, magnitudeScores, randomScores, headScores } from '../../src/prune/head-importance.ts';
import { SettingsError } from '../../src/errors.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { optimizeModel } from '../../src/optimize/index.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { buildBert } from '../../src/bert/build.ts';
import { sampleFeeds, outputsOf, maxDiff, maxAbs } from '../helpers/run-model.ts';
import { FIXTURES, TEACHERS, hasFixtures, hasTeachers } from '../helpers/paths.ts';
import { syntheticCalibration } from '../quantize/helpers.ts';
import { syntheticCalibration as classCalibration } from '../helpers/calibration.ts';

async function expectPruningEqualsMasking(model: Model, drop: Record<number, number[]>) {
  const s = findBert(model);
  const pruned = applyHeadPruning(model, s, drop);
  const after = findBert(pruned);
  expect(structureProblems(pruned, after)).toEqual([]);
  for (const l of s.layers) {
    const left = (l.attention?.numHeads ?? 0) - (drop[l.index]?.length ?? 0);
    expect(after.layers[l.index].attention?.numHeads ?? 0, `layer ${l.index}`).toBe(left);
    if (left === 0) expect(after.layers[l.index].attention, `layer ${l.index} has no attention block`).toBeUndefined();
  }
  const { model: masked, inputs, layers } = withHeadMasks(model, s);
  const feeds = sampleFeeds(model, s);
  const maskFeeds = Object.fromEntries(
    inputs.map((name, i) => {
      const l = s.layers[layers[i]].attention!;
      const m = new Float32Array(l.numHeads * l.headSize).fill(1);
      for (const h of drop[layers[i]] ?? []) m.fill(0, h * l.headSize, (h + 1) * l.headSize);
      return [name, new Tensor('float32', m, [m.length])];
    }),
  );
  const want = await outputsOf(masked, { ...feeds, ...maskFeeds });
  const got = await outputsOf(pruned, feeds);
  expect(maxDiff(want, got)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
  // (the unpruned model's outputs, run only by the tests that check that the pruning changed them)
  const original = () => outputsOf(model, feeds);
  return { original, got, s, pruned, after };
}

/** Every head of layer 0: the layer loses its attention block, rediscovered with the same FFN and norms. */
async function expectLayerZeroHeadless(model: Model) {
  const s = findBert(model);
  const { after, pruned } = await expectPruningEqualsMasking(model, { 0: Array.from({ length: s.layers[0].attention!.numHeads }, (_, h) => h) });
  const [l0, was] = [after.layers[0], s.layers[0]];
  expect(l0.attention).toBeUndefined();
  expect(l0.input).toBe(after.embeddings.output);
  expect(l0.ffn.intermediateSize).toBe(was.ffn.intermediateSize);
  expect(l0.ffn.activation).toBe(was.ffn.activation);
  expect([l0.ffn.in.weight, l0.ffn.out.weight, l0.attentionNorm.scale, l0.outputNorm.scale]).toEqual([
    was.ffn.in.weight,
    was.ffn.out.weight,
    was.attentionNorm.scale,
    was.outputNorm.scale,
  ]);
  // the bias that replaces the block is the output projection's
  expect(l0.attentionBias).toBe(was.attention!.output.bias);
  expect([after.numLayers, after.numHeads, after.headSize, after.hiddenSize]).toEqual([s.numLayers, s.numHeads, s.headSize, s.hiddenSize]);
  for (const l of after.layers.slice(1)) expect(l.attention?.numHeads).toBe(s.layers[l.index].attention!.numHeads);
  return { s, after, pruned };
}

describe('prune-heads', () => {
  it('removing heads equals masking them (built model, several layers)', async () => {
    const model = tinyBert({ numLayers: 3 }, { std: 0.2 });
    const { original, got, pruned } = await expectPruningEqualsMasking(model, { 0: [1, 3], 2: [0] });
    expect(maxDiff(await original(), got)).toBeGreaterThan(1e-4); // it did change the function
    const s0 = findBert(model),
      s1 = findBert(pruned);
    // q, k, v lose 3 heads × 8 features of width and the output projection as many rows
    expect(s1.layers[0].attention!.q!.outFeatures).toBe(s0.layers[0].attention!.q!.outFeatures - 16);
    expect(s1.layers[0].attention!.output.inFeatures).toBe(16);
  });

  it('ratio 0 is a no-op within 1e-5', async () => {
    const model = tinyBert({}, { std: 0.2 });
    const s = findBert(model);
    const res = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0 }), {});
    const feeds = sampleFeeds(model, s);
    expect(maxDiff(await outputsOf(model, feeds), await outputsOf(res.model, feeds))).toBeLessThan(1e-5);
  });

  it('says when the per-layer minimum keeps a ratio from removing its share of the heads', async () => {
    const model = tinyBert({}, { std: 0.2 });
    const s = findBert(model);
    const capped = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.9, minHeadsPerLayer: 2 }), {});
    expect(capped.report.summary).toBe('removed 4 of 8 heads by magnitude importance (ratio 0.9 asks for 7; at least 2 per layer stay)');
    const met = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, minHeadsPerLayer: 1 }), {});
    expect(met.report.summary).toBe('removed 4 of 8 heads by magnitude importance');
  });

  it('refuses a ratio that rounds to every head of the model, unless a per-layer minimum keeps some', async () => {
    // (1 layer of 1 head: 0.5 rounded half up was the one head; 2 layers of 1 head: 0.8 rounds to both)
    const one = tinyBert({ numLayers: 1, numHeads: 1, hiddenSize: 16 }, { std: 0.2 });
    const run = (m: Model, settings: Record<string, unknown>) => pruneHeadsPass.run(m, findBert(m), pruneHeadsPass.parse(settings), {});
    await expect(run(one, { ratio: 0.5 })).rejects.toThrow(
      new SettingsError(
        'prune-heads: ratio 0.5 rounds to every head of the model (1 of 1), leaving no attention in any layer, where a ratio (below 1) keeps some: give one below 0.5, or list the heads to remove them all',
      ),
    );
    const two = tinyBert({ numHeads: 1, hiddenSize: 16 }, { std: 0.2 });
    await expect(run(two, { ratio: 0.8 })).rejects.toThrow(/^prune-heads: ratio 0\.8 rounds to every head of the model \(2 of 2\), .* give one below 0\.75,/);
    // the plan asks the same of the shape it knows
    const shape = { numLayers: 2, heads: [1, 1], shared: [[0], [1]] };
    expect(() => pruneHeadsPass.checkShape!(pruneHeadsPass.parse({ ratio: 0.8 }), shape)).toThrow(/rounds to every head/);
    expect(() => pruneHeadsPass.checkShape!(pruneHeadsPass.parse({ ratio: 0.7 }), shape)).not.toThrow();
    expect((await run(two, { ratio: 0.7 })).report.summary).toBe('removed 1 of 2 heads by magnitude importance');
    expect((await run(two, { ratio: 0.8, minHeadsPerLayer: 1 })).report.summary).toMatch(/^removed 0 of 2 heads/);
    expect((await run(one, { heads: '0:0' })).report.summary).toBe('removed 1 of 1 heads');
  });

  it('selects the lowest-scoring heads globally, respecting a per-layer minimum', () => {
    const scores = [
      [0.9, 0.1, 0.5],
      [0.2, 0.8, 0.3],
    ];
    expect(selectHeads(scores, 0.5)).toEqual({ 0: [1], 1: [0, 2] });
    expect(selectHeads(scores, 0.5, 2)).toEqual({ 0: [1], 1: [0] });
  });

  it('parses explicit head lists and refuses bad ones', () => {
    expect(parseHeadList('0:1,2;3:0')).toEqual({ 0: [1, 2], 3: [0] });
    expect(() => parseHeadList('0-1')).toThrow(SettingsError);
    expect(() => pruneHeadsPass.parse({ ratio: 1 })).toThrow(/\[0, 1\)/);
    expect(() => pruneHeadsPass.parse({ ratio: -0.1 })).toThrow(SettingsError);
    expect(() => pruneHeadsPass.parse({ ratio: 0.2, importance: 'vibes' })).toThrow(/expected one of/);
  });

  it('refuses heads and layers the model lacks in one line naming the pass and what the model has', async () => {
    const model = tinyBert({ numLayers: 3 });
    const s = findBert(model);
    const run = (heads: string) => pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ heads }), {});
    await expect(run('0:9')).rejects.toThrow(/^prune-heads: layer 0 has heads 0-3; cannot remove head 9$/);
    await expect(run('7:0')).rejects.toThrow(/^prune-heads: layer 7 does not exist: the model has layers 0-2$/);
    const one = tinyBert({ numLayers: 1 });
    await expect(pruneHeadsPass.run(one, findBert(one), pruneHeadsPass.parse({ heads: '1:0' }), {})).rejects.toThrow(
      /^prune-heads: layer 1 does not exist: the model has layer 0$/,
    );
  });

  it('magnitude and random scores have one score per head', () => {
    const model = tinyBert();
    const s = findBert(model);
    expect(magnitudeScores(model, s).map((r) => r.length)).toEqual([4, 4]);
    expect(randomScores(s, 1)).toEqual(randomScores(s, 1));
    expect(randomScores(s, 1)).not.toEqual(randomScores(s, 2));
  });

  it('random importance refuses a seed of 2^32 or more, whose draws would repeat those of the seed modulo 2^32', async () => {
    const model = tinyBert();
    const s = findBert(model);
    expect(randomScores(s, 2 ** 32 - 1)).not.toEqual(randomScores(s, 0));
    expect(() => randomScores(s, 2 ** 32)).toThrow(/^prune-heads: importance random takes a seed from 0 to 4294967295 \(got 4294967296\)/);
    expect(() => pruneHeadsPass.parse({ ratio: 0.5, importance: 'random', seed: 2 ** 32 })).toThrow(/seed.*an integer from 0 to 4294967295/);
    // the run's seed (a sweep's, a library caller's) where the pass names none
    await expect(pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, importance: 'random' }), { seed: 2 ** 33 })).rejects.toThrow(
      /importance random takes a seed from 0 to 4294967295 \(got 8589934592\)/,
    );
  });

  it('random importance draws apart for every seed below 2^32, and as before where the seed times its constant was exact', () => {
    const s = findBert(tinyBert());
    // seed 0 and the seed whose product with the constant is 1 modulo 2^32; two seeds whose float products past 2^53
    // rounded to the same low 32 bits
    expect(randomScores(s, 244002641)).not.toEqual(randomScores(s, 0));
    expect(randomScores(s, 4294364789)).not.toEqual(randomScores(s, 4294000000));
    // a seed whose product stays below 2^53 (the default 0, a sweep's 7, 3393263) draws as version 5 did
    const v5 = (seed: number) => {
      let x = (seed * 2654435761) >>> 0 || 1;
      const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
      return s.layers.map((l) => Array.from({ length: l.attention?.numHeads ?? 0 }, rand));
    };
    for (const seed of [0, 1, 7, 3393263]) expect(randomScores(s, seed)).toEqual(v5(seed));
  });

  it("magnitude is the L2 norm of a head's Q, K, V columns and output-projection rows", () => {
    const model = tinyBert({}, { std: 0.2 });
    const s = findBert(model);
    const a = s.layers[1].attention!;
    const d = a.headSize;
    let sq = 0;
    for (const lin of [a.q!, a.k!, a.v!, a.output]) {
      const t = model.graph.initializers.get(lin.weight)!;
      const w = readFloat32(t);
      const [r, c] = t.dims;
      for (let i = 0; i < r; i++)
        for (let j = 0; j < c; j++) {
          // head 2's features: columns of the [in, out] Q/K/V weights, rows of the [in, out] output weight
          const feature = lin === a.output ? i : j;
          if (feature >= 2 * d && feature < 3 * d) sq += w[i * c + j] ** 2;
        }
    }
    expect(magnitudeScores(model, s)[1][2]).toBeCloseTo(Math.sqrt(sq), 5);
  });

  it('does not change the input model', async () => {
    const model = tinyBert();
    const before = [...model.graph.initializers.values()].map((t) => t.data.byteLength);
    applyHeadPruning(model, findBert(model), { 0: [0] });
    expect([...model.graph.initializers.values()].map((t) => t.data.byteLength)).toEqual(before);
  });

  it.skipIf(!hasTeachers)('on the trained teacher: removing heads equals masking them (needs ../shared/teachers)', async () => {
    await expectPruningEqualsMasking(loadModel(join(TEACHERS, 'sst2-L4H256/model.onnx')), { 0: [0], 1: [1, 2], 3: [3] });
  });

  describe.skipIf(!hasFixtures)('on every exporter fixture (needs ../shared/fixtures/onnx)', () => {
    for (const file of [
      'bert-toy-pretraining-torch11-op12.onnx',
      'bert-toy-pretraining-ort-fused.onnx',
      'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx',
      'bert-large-qa-squad-tiny-keras2onnx-op11.onnx',
      'distilbert-seqcls-tiny-torch110-op11.onnx',
      'xlmroberta-crossencoder-tiny-torch27-op14.onnx',
    ]) {
      it(file, async () => {
        const model = loadModel(join(FIXTURES, file));
        const s = findBert(model);
        // one head from every layer that has more than one, two from layer 0 if it has three or more
        const drop: Record<number, number[]> = {};
        for (const l of s.layers) if (l.attention!.numHeads > 1) drop[l.index] = [l.index % l.attention!.numHeads];
        await expectPruningEqualsMasking(model, drop);
      });
      it(`${file}: every head of layer 0`, async () => {
        await expectLayerZeroHeadless(loadModel(join(FIXTURES, file)));
      });
    }
  });
});

describe.skipIf(!hasFixtures)('loss-based importance needs a sequence classifier (needs ../shared/fixtures/onnx)', () => {
  it.each([
    ['bert-toy-pretraining-torch11-op12.onnx', 'a pretraining head (MLM + NSP), outputs prediction_scores, seq_relationship_score'],
    ['bert-large-qa-squad-tiny-keras2onnx-op11.onnx', 'a question-answering head (span start and end scores per token), outputs output_1, output_2'],
  ])('%s: ablation and gradient are refused in one line (before, ablation took a loss over every token of the first output)', async (file, what) => {
    const model = loadModel(join(FIXTURES, file));
    const s = findBert(model);
    const calibration = classCalibration([3, 2], 20, { classes: 2 });
    for (const importance of ['ablation', 'gradient'] as const) {
      const message = `prune-heads: importance '${importance}' measures a loss on a sequence classifier's class scores, but the model has ${what}; use importance 'magnitude' (--importance magnitude) or 'confidence'`;
      await expect(pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, importance }), { calibration })).rejects.toThrow(message);
      await expect(headScores(importance, model, s, { calibration })).rejects.toThrow(message);
    }
    expect((await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5 }), {})).report.summary).toMatch(
      /^removed \d+ of \d+ heads by magnitude importance$/,
    );
  });
});

/**
 * `model` with its equal one-element int64 constants merged into one each, as onnxsim and onnxoptimizer's
 * eliminate_duplicate_initializer (initializers) or a constant-deduplicating exporter (Constant nodes) leave it: a
 * head-splitting Concat then reads one constant twice where the head count equals the head size.
 */
function mergedShapeConstants(model: Model, as: 'initializer' | 'constant-node'): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const first = new Map<string, string>();
  const rename = new Map<string, string>();
  for (const n of g.nodes) {
    const t = n.opType === 'Constant' && n.attributes.value?.type === 'tensor' ? n.attributes.value.value : undefined;
    if (t?.dataType !== DataType.INT64 || t.dims.length !== 1 || t.dims[0] !== 1) continue;
    const key = String(new BigInt64Array(t.data.slice().buffer)[0]);
    const kept = first.get(key);
    if (kept) rename.set(n.outputs[0]!, kept);
    else {
      first.set(key, n.outputs[0]!);
      if (as === 'initializer') g.initializers.set(n.outputs[0]!, { ...t, name: n.outputs[0]! });
    }
  }
  for (const n of g.nodes) n.inputs = n.inputs.map((x) => rename.get(x) ?? x);
  if (as === 'initializer') g.nodes = g.nodes.filter((n) => !(n.opType === 'Constant' && g.initializers.has(n.outputs[0]!)));
  pruneGraph(g);
  return m;
}

describe('prune-heads: shape constants merged', () => {
  for (const as of ['initializer', 'constant-node'] as const) {
    it(`8 heads of width 8, one ${as} [8] read as both by each head-splitting Concat: only the head count changes`, async () => {
      const model = mergedShapeConstants(tinyBert({ numLayers: 2, hiddenSize: 64, numHeads: 8 }, { std: 0.2 }), as);
      const split = model.graph.nodes.find((n) => n.opType === 'Concat' && new Set(n.inputs).size < n.inputs.length);
      expect(split, 'a Concat reads one constant twice').toBeDefined();
      const { original, got } = await expectPruningEqualsMasking(model, { 0: [1, 3], 1: [0] });
      expect(maxDiff(await original(), got)).toBeGreaterThan(1e-4);
    });
    // (one layer: the [8] is read by that layer's Concats alone, each reading it at two inputs, so the edit copies it
    // for the head-count inputs rather than change it in place for every reader)
    it(`one layer, 8 heads of width 8, one ${as} [8] read by its Concats alone: the head size is kept`, async () => {
      const model = mergedShapeConstants(tinyBert({ numLayers: 1, hiddenSize: 64, numHeads: 8 }, { std: 0.2 }), as);
      const split = model.graph.nodes.find((n) => n.opType === 'Concat' && new Set(n.inputs).size < n.inputs.length);
      expect(split, 'a Concat reads one constant twice').toBeDefined();
      const { original, got } = await expectPruningEqualsMasking(model, { 0: [1, 3, 6] });
      expect(maxDiff(await original(), got)).toBeGreaterThan(1e-4);
    });
  }
});

describe('prune-heads: every head of a layer', () => {
  it('built model: layer 0 loses its attention block; outputs equal masking all its heads', async () => {
    const model = tinyBert({ numLayers: 3 }, { std: 0.2 });
    const { original, got } = await expectPruningEqualsMasking(model, { 0: [0, 1, 2, 3], 2: [1] });
    expect(maxDiff(await original(), got)).toBeGreaterThan(1e-4);
    await expectLayerZeroHeadless(model);
  });

  it('ELECTRA with narrow embeddings (embeddings_project): layer 0 headless, the projection still found as the mapping', async () => {
    const model = buildBert({ ...tinyBertConfig({ numLayers: 2 }), family: 'electra', embeddingSize: 16 }, { kind: 'random', seed: 2, std: 0.2 });
    expect(findBert(model).embeddings.mapping).toBeDefined();
    await expectLayerZeroHeadless(model);
    const pruned = applyHeadPruning(model, findBert(model), { 0: [0, 1, 2, 3] });
    expect(findBert(pruned).embeddings.mapping?.weight).toBe(findBert(model).embeddings.mapping?.weight);
  });

  it('built model: the residual Add reads the output bias directly (no Mul by zero)', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const s = findBert(model);
    const pruned = applyHeadPruning(model, s, { 0: [0, 1, 2, 3] });
    const bias = s.layers[0].attention!.output.bias!;
    const residual = pruned.graph.nodes.find((n) => n.opType === 'Add' && n.inputs.includes(bias))!;
    expect(residual.inputs).toContain(s.layers[0].input);
    expect(pruned.graph.nodes.some((n) => n.name.startsWith('NoHeads_'))).toBe(false);
  });

  it('every layer: no attention left at all, still discovered and run', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const s = findBert(model);
    const { after } = await expectPruningEqualsMasking(model, { 0: [0, 1, 2, 3], 1: [0, 1, 2, 3] });
    expect(after.layers.map((l) => l.attention)).toEqual([undefined, undefined]);
    expect([after.numHeads, after.headSize, after.numLayers, after.intermediateSize]).toEqual([0, 0, 2, s.intermediateSize]);
    expect(after.inputs).toEqual(s.inputs);
  });

  it('a layer without attention has no heads to prune: explicit heads are refused, a ratio skips it', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const pruned = applyHeadPruning(model, findBert(model), { 0: [0, 1, 2, 3] });
    const s = findBert(pruned);
    expect(() => applyHeadPruning(pruned, s, { 0: [1] })).toThrow(SettingsError);
    expect(() => applyHeadPruning(pruned, s, { 0: [1] })).toThrow(
      /^prune-heads: layer 0 has no attention heads left \(all were pruned\); cannot remove head 1$/,
    );
    await expect(pruneHeadsPass.run(pruned, s, pruneHeadsPass.parse({ heads: '0:0' }), {})).rejects.toThrow(SettingsError);
    expect(magnitudeScores(pruned, s).map((r) => r.length)).toEqual([0, 4]);
    expect(randomScores(s, 3).map((r) => r.length)).toEqual([0, 4]);
    const res = await pruneHeadsPass.run(pruned, s, pruneHeadsPass.parse({ ratio: 0.5 }), {});
    expect(res.report.summary).toMatch(/removed 2 of 4 heads/);
    expect((res.report.details as { headsPerLayer: number[] }).headsPerLayer).toEqual([0, 2]);
    expect(findBert(res.model).layers.map((l) => l.attention?.numHeads ?? 0)).toEqual([0, 2]);
  });

  it('ablation and confidence scores leave a layer without attention an empty row', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const pruned = applyHeadPruning(model, findBert(model), { 1: [0, 1, 2, 3] });
    const s = findBert(pruned);
    const calibration = syntheticCalibration(128, 2, 1);
    for (const method of ['ablation', 'confidence'] as const) {
      const scores = await headScores(method, pruned, s, { calibration });
      expect(
        scores.map((r) => r.length),
        method,
      ).toEqual([4, 0]);
      expect(scores[0].every(Number.isFinite)).toBe(true);
    }
  });

  it('confidence scores a first-token last layer per example, on the scale of the other layers', async () => {
    // optimize's first-token layer attends from one token of each example: its sums were divided by every token,
    // which shrank its scores by the mean length and ranked its heads first for removal
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const optimized = optimizeModel(model, findBert(model), { rewrites: new Set(['first-token']) }).model;
    const s = findBert(optimized);
    expect(s.layers[1].firstToken).toBeDefined();
    const calibration = syntheticCalibration(128, 2, 1);
    const [plain, first] = [
      await headScores('confidence', model, findBert(model), { calibration }),
      await headScores('confidence', optimized, s, { calibration }),
    ];
    expect(first[0]).toEqual(plain[0]);
    // a head's score is a mean of largest attention probabilities over at most 16 keys: at least 1/16
    for (const row of first) for (const v of row) expect(v).toBeGreaterThanOrEqual(1 / 16);
  });

  it.skipIf(!hasTeachers)('the trained teacher: layer 0 without attention equals masking its heads (needs ../shared/teachers)', async () => {
    const model = loadModel(join(TEACHERS, 'sst2-L4H256/model.onnx'));
    await expectLayerZeroHeadless(model);
  });

  it.skipIf(!hasFixtures)('the ORT-fused fixture: SkipLayerNormalization keeps the bias, reads Mul(input, 0) (needs ../shared/fixtures/onnx)', async () => {
    const model = loadModel(join(FIXTURES, 'bert-toy-pretraining-ort-fused.onnx'));
    const { pruned, after } = await expectLayerZeroHeadless(model);
    const sln = pruned.graph.nodes.find((n) => n.name === after.layers[0].attentionNorm.nodes[0])!;
    expect(sln.opType).toBe('SkipLayerNormalization');
    expect(sln.inputs[4]).toBe(after.layers[0].attentionBias);
    expect(pruned.graph.nodes.some((n) => n.opType === 'Mul' && n.inputs.includes(after.layers[0].input) && n.outputs.includes(sln.inputs[0]))).toBe(true);
  });
});

describe('prune-heads after quantization', () => {
  it('is refused: prune heads before quantizing', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const { model: q } = await quantizePass.run(model, findBert(model), quantizePass.parse({ mode: 'int8' }), {});
    const s = findBert(q);
    for (const settings of [{ heads: '0:1' }, { ratio: 0.25 }]) {
      const run = pruneHeadsPass.run(q, s, pruneHeadsPass.parse(settings), {});
      await expect(run).rejects.toThrow(SettingsError);
      await expect(pruneHeadsPass.run(q, s, pruneHeadsPass.parse(settings), {})).rejects.toThrow(
        /layer 0's attention weights are quantized \(matmul-integer-to-float, 8-bit\).*prune heads before quantizing/,
      );
    }
    expect(() => applyHeadPruning(q, s, { 1: [0] })).toThrow(/prune heads before quantizing/);
  });
});
