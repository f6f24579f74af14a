/**
 * Discovery of layers without attention (every head pruned): the layer is found on the residual stream as
 * LayerNorm(input + constant) then a feed-forward block, in each form prune-heads writes or wrote (the bias read by
 * the residual Add, Mul(input, 0) [+ bias], a SkipLayerNormalization keeping the bias), with `attention` absent
 * and `attentionBias` naming the constant; a model with no attention at all is found too. Pipelines and the other
 * passes keep working on such models.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { findBert, NO_LAYERS } from '../../src/bert/discover.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import { summarize } from '../../src/bert/summary.ts';
import { inspectModel } from '../../src/bert/inspect.ts';
import { applyHeadPruning } from '../../src/prune/heads.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { compressFile } from '../../src/export/compress.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, float32Tensor, loadModel, modelSize, removeDeadNodes, type Model, type Node } from '../../src/onnx/index.ts';
import { tinyBert, writeTinyBert, onnxNode } from '../helpers/models.ts';
import { maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';

registerAllPasses();

/** A 3-layer tiny BERT with every head of layer 0 pruned (the residual Add reads the output bias directly). */
function headlessTiny(): { model: Model; pruned: Model; bias: string } {
  const model = tinyBert({ numLayers: 3 }, { std: 0.2 });
  const s = findBert(model);
  return { model, pruned: applyHeadPruning(model, s, { 0: [0, 1, 2, 3] }), bias: s.layers[0].attention!.output.bias! };
}

/** The residual Add of layer 0 in a pruned tiny BERT: Add(input, bias). */
function residualAdd(m: Model, bias: string): Node {
  return m.graph.nodes.find((n) => n.opType === 'Add' && n.inputs.includes(bias))!;
}

describe('findBert on a layer without attention', () => {
  it('finds layer 0 by its LayerNorm(input + bias) and feed-forward block', () => {
    const { model, pruned, bias } = headlessTiny();
    const s0 = findBert(model);
    const s = findBert(pruned);
    expect(structureProblems(pruned, s)).toEqual([]);
    expect(s.numLayers).toBe(3);
    expect([s.numHeads, s.headSize, s.hiddenSize, s.intermediateSize, s.vocabSize]).toEqual([4, 8, 32, 64, 128]);
    const l0 = s.layers[0];
    expect(l0.attention).toBeUndefined();
    expect(l0.attentionBias).toBe(bias);
    expect(l0.input).toBe(s.embeddings.output);
    expect(l0.output).toBe(s0.layers[0].output);
    expect(l0.ffn).toEqual(s0.layers[0].ffn);
    expect(l0.outputNorm).toEqual(s0.layers[0].outputNorm);
    expect(l0.attentionNorm.scale).toBe(s0.layers[0].attentionNorm.scale);
    expect(s.layers[1].attention).toEqual(s0.layers[1].attention);
    expect(s.inputs).toEqual(s0.inputs);
    expect(s.head).toEqual(s0.head);
  });

  it('summary and inspect report the layer: the bias as its attention, counted once', () => {
    const { pruned } = headlessTiny();
    const s = findBert(pruned);
    const sum = summarize(pruned, s);
    expect(sum.layers[0].attention).toEqual({ params: 32, bytes: 128, bias: { params: 32, bytes: 128 } });
    expect({ params: sum.params, bytes: sum.bytes }).toEqual(modelSize(pruned));
    const r = inspectModel(pruned, 'pruned', s);
    expect(r.layers.map((l) => [l.attentionKind, l.numHeads, l.headSize])).toEqual([
      ['none', 0, 0],
      ['unfused', 4, 8],
      ['unfused', 4, 8],
    ]);
    expect(r.layers[0].weights).toBe('float');
  });

  it('reads the Mul(input, 0) + bias form (what older prune-heads wrote) and Mul(input, 0) without a bias', async () => {
    const { pruned, bias } = headlessTiny();
    const feeds = sampleFeeds(pruned, findBert(pruned));
    const want = await outputsOf(pruned, feeds);
    const rewrite = (withBias: boolean): Model => {
      const m = cloneModel(pruned);
      const g = m.graph;
      const add = residualAdd(m, bias);
      const x = add.inputs.find((v) => v !== bias)!;
      g.initializers.set('zero', float32Tensor('zero', [], [0]));
      const branch = [onnxNode('mul0', 'Mul', ['zero', x], ['x0'])];
      if (withBias) branch.push(onnxNode('addb', 'Add', [bias, 'x0'], ['x0b']));
      g.nodes.splice(g.nodes.indexOf(add), 0, ...branch);
      add.inputs = [x, withBias ? 'x0b' : 'x0'];
      return m;
    };
    const old = rewrite(true);
    const s = findBert(old);
    expect(s.layers[0].attention).toBeUndefined();
    expect(s.layers[0].attentionBias).toBe(bias);
    expect(structureProblems(old, s)).toEqual([]);
    expect(maxDiff(want, await outputsOf(old, feeds))).toBeLessThan(1e-6);
    const none = rewrite(false);
    const t = findBert(none);
    expect(t.layers[0].attention).toBeUndefined();
    expect(t.layers[0].attentionBias).toBeUndefined();
    expect(t.numLayers).toBe(3);
  });

  it('every layer without attention: found from the embeddings, the unused mask input kept', async () => {
    const model = tinyBert({ numLayers: 3 }, { std: 0.2 });
    const pruned = applyHeadPruning(model, findBert(model), { 0: [0, 1, 2, 3], 1: [0, 1, 2, 3], 2: [0, 1, 2, 3] });
    const s = findBert(pruned);
    expect(s.layers.map((l) => l.attention)).toEqual([undefined, undefined, undefined]);
    expect([s.numLayers, s.numHeads, s.headSize, s.intermediateSize]).toEqual([3, 0, 0, 64]);
    expect(s.inputs.attentionMask).toBe(findBert(model).inputs.attentionMask);
    expect(structureProblems(pruned, s)).toEqual([]);
    const out = await outputsOf(pruned, sampleFeeds(pruned, s));
    expect(Object.values(out)[0].every(Number.isFinite)).toBe(true);
  });

  it.skipIf(!hasFixtures)(
    'ORT-fused: SkipLayerNormalization(Mul(input, 0), input, …, bias); the bias may also come before it (needs ../shared/fixtures/onnx)',
    async () => {
      const model = loadModel(join(FIXTURES, 'bert-toy-pretraining-ort-fused.onnx'));
      const s0 = findBert(model);
      const pruned = applyHeadPruning(model, s0, { 0: [0, 1, 2, 3] });
      const s = findBert(pruned);
      expect(s.exporter).toBe('ort-fused');
      expect(s.layers[0].attention).toBeUndefined();
      expect(s.layers[0].attentionNorm.kind).toBe('skip-op');
      expect(s.layers[0].attentionBias).toBe(s0.layers[0].attention!.output.bias);
      expect(s.layers.slice(1).every((l) => l.attention?.kind === 'fused')).toBe(true);
      expect(structureProblems(pruned, s)).toEqual([]);
      // The bias added before the SkipLayerNormalization instead of by it.
      const moved = cloneModel(pruned);
      const sln = moved.graph.nodes.find((n) => n.name === s.layers[0].attentionNorm.nodes[0])!;
      const b = sln.inputs[4];
      moved.graph.nodes.splice(moved.graph.nodes.indexOf(sln), 0, onnxNode('addb', 'Add', [sln.inputs[0], b], ['zb']));
      sln.inputs = [...sln.inputs.slice(0, 4)];
      sln.inputs[0] = 'zb';
      const m = findBert(moved);
      expect(m.layers[0].attentionBias).toBe(b);
      const feeds = sampleFeeds(pruned, s);
      expect(maxDiff(await outputsOf(pruned, feeds), await outputsOf(moved, feeds))).toBeLessThan(1e-5);
      // Both: refused, naming the node.
      const both = cloneModel(moved);
      both.graph.nodes.find((n) => n.name === sln.name)!.inputs.push(b);
      expect(() => findBert(both)).toThrow(/SkipLayerNormalization '[^']+': both '[^']+' and its bias input '[^']+' are added in place of attention/);
    },
  );
});

describe('findBert refuses broken layers without attention', () => {
  it('an unknown activation in the feed-forward block names the layer', () => {
    const { pruned } = headlessTiny();
    const s = findBert(pruned);
    const erf = pruned.graph.nodes.find((n) => n.opType === 'Erf' && s.layers[0].ffn.activationNodes.includes(n.name))!;
    erf.opType = 'Sin';
    let err: unknown;
    try {
      findBert(pruned, { label: 'm.onnx' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotBertError);
    expect((err as Error).message).toMatch(/^m\.onnx: layer 0 \(no attention; LayerNorm '[^']+'\): feed-forward activation not understood/);
  });

  it('embeddings with no layer after them: a model of no encoder layers', () => {
    const model = tinyBert({ numLayers: 1 });
    const s = findBert(model);
    const m = cloneModel(model);
    m.graph.outputs = [{ name: s.embeddings.output, elemType: 1 }];
    removeDeadNodes(m.graph);
    expect(() => findBert(m, { label: 'm.onnx' })).toThrow(`m.onnx: ${NO_LAYERS}`);
  });
});

describe('passes on a model with a layer without attention', () => {
  const tiny = writeTinyBert({ numLayers: 3 }, { std: 0.2 });
  afterAll(() => tiny.cleanup());

  it('compress --prune-heads "0:0,1,2,3": the pipeline rediscovers the output, onnxruntime runs it', async () => {
    const out = join(tiny.dir, 'headless.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'prune-heads', settings: { heads: '0:0,1,2,3' } }] });
    expect(lineage.passes[0].report.details?.headsPerLayer).toEqual([0, 4, 4]);
    expect(findBert(loadModel(out)).layers[0].attention).toBeUndefined();
  });

  it('then prune-ffn, drop-layers, factorize-embeddings and int8-free passes compose', async () => {
    const res = await runPipeline(tiny.model, [
      { pass: 'prune-heads', settings: { heads: '0:0,1,2,3' } },
      { pass: 'prune-ffn', settings: { ratio: 0.25 } },
      { pass: 'factorize-embeddings', settings: { rank: 16 } },
      { pass: 'prune-heads', settings: { ratio: 0.25 } },
      { pass: 'drop-layers', settings: { layers: '2' } },
    ]);
    const s = res.structure;
    expect(s.numLayers).toBe(2);
    expect(s.layers[0].attention).toBeUndefined();
    expect(s.layers[0].ffn.intermediateSize).toBe(48);
    expect(s.embeddings.word.projection?.inFeatures).toBe(16);
    expect(structureProblems(res.model, s)).toEqual([]);
    const out = await outputsOf(res.model, sampleFeeds(res.model, s));
    expect(Object.values(out)[0].every(Number.isFinite)).toBe(true);
  });

  it('dropping the layer without attention leaves a model with attention everywhere', async () => {
    const res = await runPipeline(tiny.model, [
      { pass: 'prune-heads', settings: { heads: '1:0,1,2,3' } },
      { pass: 'drop-layers', settings: { layers: '1' } },
    ]);
    expect(res.structure.layers.map((l) => l.attention?.numHeads)).toEqual([4, 4]);
  });
});
