/**
 * Dynamic int8 (mode int8 and int8-group:G) on a built BERT: the output loads and runs in onnxruntime, its logits
 * stay close to fp32, every projection and embedding table can be read back and dequantizes to the original within
 * the reported error, per-tensor and per-channel both work, and the input model is left untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, loadModel, modelSize, readFloat32, saveModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { ModelLoadError, NotBertError, SettingsError } from '../../src/errors.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { quantizedEmbeddings, quantizedProjections, type TensorRecord } from '../../src/quantize/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { expectWeightsReadBack, quantize, relativeDiff } from './helpers.ts';

describe('quantize int8 (dynamic)', () => {
  const model = tinyBert({}, { std: 0.1, seed: 3 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);
  let ref: Record<string, Float32Array>;
  beforeAll(async () => {
    ref = await outputsOf(model, feeds);
  });

  it.each(['contrib', 'standard'])('format %s: runs in onnxruntime close to fp32, weights read back', async (format) => {
    const bytes = encodeModel(model);
    const { model: q, report } = await quantize(model, s, { mode: 'int8', format });
    expect(encodeModel(model)).toEqual(bytes);
    const ops = new Set(q.graph.nodes.map((n) => n.opType));
    if (format === 'contrib') {
      const count = (op: string) => q.graph.nodes.filter((n) => n.opType === op).length;
      // Q, K and V share one DynamicQuantizeLinear per layer; every other projection quantizes its own input
      expect(count('DynamicQuantizeLinear')).toBe(s.numLayers);
      expect(count('MatMulIntegerToFloat')).toBe(3 * s.numLayers);
      expect(count('DynamicQuantizeMatMul')).toBe(3 * s.numLayers + 2);
      // and every bias is added by the product op itself
      const biasAdds = [...s.layers.flatMap((l) => [l.attention!.q!, l.ffn.in, l.ffn.out]), s.pooler!.dense].map((lin) => lin.biasNode).filter(Boolean);
      expect(biasAdds.length).toBeGreaterThan(0);
      for (const name of biasAdds) expect(q.graph.nodes.some((n) => n.name === name)).toBe(false);
    } else expect([...ops].filter((o) => ['DynamicQuantizeLinear', 'MatMulInteger'].includes(o)).length).toBe(2);
    expect(q.graph.nodes.filter((n) => n.opType === 'MatMul').length).toBe(2 * s.numLayers); // Q·Kᵀ and P·V only
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.03);
    // with onnxruntime's optimizations (fusions) too
    expect(relativeDiff(ref, { logits: (await outputsOf(q, feeds, 'all')).logits! })).toBeLessThan(0.03);
    const d = report.details as { quantized: TensorRecord[]; keptFloat: unknown[]; bytesBefore: number; bytesAfter: number };
    expect(d.quantized).toHaveLength(s.numLayers * 6 + 2 + 3);
    expect(d.keptFloat).toEqual([]);
    expect(d.bytesAfter).toBe(modelSize(q).bytes);
    expect(d.bytesAfter / d.bytesBefore).toBeLessThan(0.35);
    for (const r of d.quantized) expect(r.maxAbsError).toBeLessThanOrEqual(r.maxAbs / 254 + 1e-7);
    const other = (report.details as { otherFloat: { bytes: number; tensors: number; reason: string } }).otherFloat;
    expect(other.tensors).toBeGreaterThan(0);
    expect(other.reason).toMatch(/biases, LayerNorm/);
    expect(report.summary).toMatch(/^int8: .* MB → .* MB \(\d+\.\d%\), 17 tensors quantized, max abs error/);
    expectWeightsReadBack(model, s, q, d.quantized);
  });

  it('quantizes per tensor too (more error, same bytes but the scales)', async () => {
    const perChannel = await quantize(model, s, { mode: 'int8' });
    const perTensor = await quantize(model, s, { mode: 'int8', perChannel: false });
    const rc = (perChannel.report.details as { quantized: TensorRecord[] }).quantized;
    const rt = (perTensor.report.details as { quantized: TensorRecord[] }).quantized;
    for (const r of rt) {
      const c = rc.find((x) => x.tensor === r.tensor)!;
      expect(r.maxAbsError).toBeGreaterThanOrEqual(c.maxAbsError - 1e-9);
      expect(r.bytesAfter).toBeLessThanOrEqual(c.bytesAfter);
    }
    expect(rt.find((r) => r.target === 'embeddings.word')!.scheme).toBe('int8 per-tensor');
    expect(relativeDiff(ref, await outputsOf(perTensor.model, feeds))).toBeLessThan(0.05);
    expectWeightsReadBack(model, s, perTensor.model, rt);
  });

  it('leaves the embedding tables float with embeddings: false, and says so', async () => {
    const { model: q, report } = await quantize(model, s, { mode: 'int8', embeddings: false });
    const kept = (report.details as { keptFloat: Array<{ target: string; reason: string }> }).keptFloat;
    expect(kept.map((k) => k.target).sort()).toEqual(['embeddings.position', 'embeddings.token_type', 'embeddings.word']);
    expect(kept[0].reason).toBe('kept float by the setting embeddings: false, flag --no-quantize-embeddings');
    expect(q.graph.initializers.get(s.embeddings.word.weight)).toBe(model.graph.initializers.get(s.embeddings.word.weight));
    expect(quantizedEmbeddings(q)).toEqual([]);
  });

  it('says which weights it stores in more bytes than float (a 4-byte scale a row of a 1-wide table), and how to store fewer', async () => {
    // hidden 1: each table row is 1 value (5 bytes int8 per row against 4 in float), each projection but the FFN
    // output reads 1 input (a scale per output channel); the FFN output (4 inputs) and the pooler's head do not grow
    const narrow = tinyBert({ hiddenSize: 1, numHeads: 1, intermediateSize: 4 }, { seed: 3 });
    const { report } = await quantize(narrow, findBert(narrow), { mode: 'int8' });
    const records = (report.details as { quantized: TensorRecord[] }).quantized;
    const grown = records.filter((r) => r.bytesAfter > r.bytesBefore);
    expect(grown.length).toBeGreaterThan(3);
    const [vocab] = grown[0]!.dims;
    expect(report.summary).toContain(
      `, ${grown.length} larger than in float (embeddings.word, embeddings.position, embeddings.token_type, … (${grown.length - 3} more): int8 per-row, embeddings.word ${5 * vocab!} B against ${4 * vocab!} B, a 4-byte scale for each row of 1 value; perChannel false, flag --per-tensor, stores one scale a tensor)`,
    );
    // at this test's width (32) nothing grows, and nothing is said
    expect((await quantize(model, s, { mode: 'int8' })).report.summary).not.toContain('larger than in float');
  });

  it('int8-group:G uses one scale per G output channels (one group per head)', async () => {
    const { model: q, report } = await quantize(model, s, { mode: 'int8-group:8' });
    const d = report.details as { quantized: TensorRecord[]; notes: string[] };
    expect(d.quantized.find((r) => r.target === 'layer0.attention.q')!.scheme).toBe('int8 group 8');
    const qproj = quantizedProjections(q).find((p) => p.inFeatures === 32 && p.outFeatures === 32)!;
    const node = q.graph.nodes.find((n) => n.name === qproj.node)!;
    const scales = q.graph.initializers.get(node.inputs[node.opType === 'MatMulIntegerToFloat' ? 3 : 2])!;
    const values = readFloat32(scales);
    for (let c = 0; c < 32; c++) expect(values[c]).toBe(values[c - (c % 8)]);
    expect(d.notes.some((n) => /head\.0: 8 does not divide its 2 outputs/.test(n))).toBe(true);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.05);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses a weight holding %s in one line (not stored as 0, nor its channel zeroed)', async (_, bad) => {
    const broken = cloneModel(model);
    const name = s.layers[0].attention!.q!.weight;
    const values = readFloat32(broken.graph.initializers.get(name)!).slice();
    values[5] = bad;
    broken.graph.initializers.set(name, float32Tensor(name, broken.graph.initializers.get(name)!.dims, values));
    for (const mode of ['int8', 'int8-group:4', 'int4-block:16']) {
      await expect(quantize(broken, s, { mode })).rejects.toThrow(ModelLoadError);
      await expect(quantize(broken, s, { mode })).rejects.toThrow(
        new RegExp(
          `^quantize ${mode}: weight '${name}' \\(layer0\\.attention\\.q\\) holds 1 non-finite value \\(NaN or Infinity; the first at index 5, ${bad}\\)`,
        ),
      );
    }
  });

  it('rejects a group size that does not divide a layer projection', async () => {
    await expect(quantize(model, s, { mode: 'int8-group:5' })).rejects.toThrow(SettingsError);
    await expect(quantize(model, s, { mode: 'int8-group:5' })).rejects.toThrow(
      /group size 5 does not divide the 32 outputs of layer0\.attention\.output \(the largest group size below it that divides every projection here: 4\)$/,
    );
    // an FFN width (50) that the head size (12) does not divide: the suggestion divides both
    const odd = tinyBert({ hiddenSize: 24, numHeads: 2, intermediateSize: 50 }, { seed: 3 });
    await expect(quantize(odd, findBert(odd), { mode: 'int8-group:16' })).rejects.toThrow(/every projection here: 2\)$/);
    await expect(quantize(odd, findBert(odd), { mode: 'int8-group:12' })).rejects.toThrow(/does not divide the 50 outputs of layer0\.ffn\.in \(.*: 2\)$/);
    // (an FFN of one neuron, as prune-ffn leaves at a ratio near 1: one output)
    const one = tinyBert({ intermediateSize: 1 }, { seed: 3 });
    await expect(quantize(one, findBert(one), { mode: 'int8-group:2' })).rejects.toThrow(
      /group size 2 does not divide the 1 output of layer0\.ffn\.in \(no group size above 1 divides every projection here: use int8\)$/,
    );
    // (with one scale per tensor asked for the tables, the per-channel mode is int8-group:1: int8 would be per tensor)
    await expect(quantize(one, findBert(one), { mode: 'int8-group:2', perChannel: false })).rejects.toThrow(
      /every projection here: use int8-group:1, a scale per channel \(int8 with perChannel false takes one per tensor\)\)$/,
    );
  });

  it('survives saveModel / loadModel with the same outputs', async () => {
    const { model: q } = await quantize(model, s, { mode: 'int8' });
    const dir = mkdtempSync(join(tmpdir(), 'quantize-'));
    try {
      saveModel(q, join(dir, 'q.onnx'));
      const back = loadModel(join(dir, 'q.onnx'));
      const a = await outputsOf(q, feeds);
      const b = await outputsOf(back, feeds);
      expect(relativeDiff(a, b)).toBe(0);
      expect(modelSize(back)).toEqual(modelSize(q));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('discovery understands the output, or refuses it cleanly (a NotBertError) while the weights stay findable', async () => {
    const { model: q, report } = await quantize(model, s, { mode: 'int8' });
    let structure: BertStructure | undefined;
    try {
      structure = findBert(q);
    } catch (e) {
      expect(e).toBeInstanceOf(NotBertError);
    }
    if (structure) {
      expect(structure.numLayers).toBe(s.numLayers);
      for (const l of structure.layers)
        for (const lin of [l.attention!.q!, l.attention!.output, l.ffn.in, l.ffn.out]) expect(q.graph.initializers.has(lin.weight)).toBe(true);
    }
    expectWeightsReadBack(model, s, q, (report.details as { quantized: TensorRecord[] }).quantized);
  });
});
