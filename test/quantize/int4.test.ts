/** 4-bit block-wise projections (mode int4-block:B, com.microsoft MatMulNBits) on a built BERT. */
import { beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { modelSize } from '../../src/onnx/size.ts';
import { quantizedProjections, type TensorRecord } from '../../src/quantize/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { expectWeightsReadBack, quantize, relativeDiff } from './helpers.ts';

describe('quantize int4-block', () => {
  const model = tinyBert({}, { std: 0.1, seed: 3 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);
  let ref: Record<string, Float32Array>;
  beforeAll(async () => {
    ref = await outputsOf(model, feeds);
  });

  it('a block so much wider than a projection input that its padding outweighs the floats leaves it float, saying why', async () => {
    const { model: q, report } = await quantize(model, s, { mode: 'int4-block:256' });
    const d = report.details as { quantized: TensorRecord[]; keptFloat: Array<{ target: string; reason: string }> };
    // width 32 (hidden): 4-bit blocks of 256 store 132 bytes a column against 128 in float; width 64 (FFN out): 132 against 256
    const projections = d.quantized.filter((r) => !r.target.startsWith('embeddings.'));
    expect(projections.map((r) => r.target)).toEqual(s.layers.map((l) => `layer${l.index}.ffn.out`));
    expect(projections.every((r) => r.dims[0] === 64)).toBe(true);
    // the largest block size that stores fewer bytes on width 32: 128 (68 bytes a column; 32 and 64 too)
    const wide = d.keptFloat.filter((k) =>
      /4-bit blocks of 256 on its input width 32 would store more bytes than float \(use a block of at most 128\)/.test(k.reason),
    );
    expect(wide.length).toBe(s.numLayers * 5 + 2);
    // (the summary names the first three and how many more)
    expect(report.summary).toContain(
      `(${wide
        .slice(0, 3)
        .map((k) => k.target)
        .join(', ')}, … (${wide.length - 3} more): 4-bit blocks of 256`,
    );
    expect(modelSize(q).bytes).toBeLessThan(modelSize(model).bytes);
  });

  it('an input too narrow for any block size MatMulNBits takes is said so, not given a block size it refuses', async () => {
    // hidden 2 (as a tiny DistilBERT fixture has): blocks of 16 store 12 bytes a column against 8 in float
    const narrow = tinyBert({ hiddenSize: 2, numHeads: 1, intermediateSize: 64 });
    const { report } = await quantize(narrow, findBert(narrow), { mode: 'int4-block:16' });
    const d = report.details as { keptFloat: Array<{ target: string; reason: string }> };
    const reasons = new Set(d.keptFloat.filter((k) => !k.target.startsWith('embeddings.')).map((k) => k.reason));
    expect([...reasons]).toContain(
      '4-bit blocks of 16 on its input width 2 would store more bytes than float (so would every block size MatMulNBits takes, 16 the smallest)',
    );
    expect([...reasons].some((r) => /at most 2\b/.test(r))).toBe(false);
  });

  it('refuses in one line, each reason once, where it would quantize no weight and write the model unchanged', async () => {
    // every input 2 wide (FFN 2 too): no projection takes blocks of 16; the tables left float by the setting
    const narrow = tinyBert({ hiddenSize: 2, numHeads: 1, intermediateSize: 2 });
    await expect(quantize(narrow, findBert(narrow), { mode: 'int4-block:16', embeddings: false })).rejects.toThrow(
      new SettingsError(
        'quantize int4-block:16: quantizes no weight of this model, which it would write unchanged (embeddings.word, embeddings.position, embeddings.token_type: kept float by the setting embeddings: false, flag --no-quantize-embeddings; layer0.attention.q, layer0.attention.k, layer0.attention.v, … (11 more): 4-bit blocks of 16 on its input width 2 would store more bytes than float (so would every block size MatMulNBits takes, 16 the smallest))',
      ),
    );
    // with its tables stored int8, the run quantizes them and writes the model
    const { report } = await quantize(narrow, findBert(narrow), { mode: 'int4-block:16' });
    expect((report.details as { quantized: TensorRecord[] }).quantized.map((r) => r.target)).toEqual([
      'embeddings.word',
      'embeddings.position',
      'embeddings.token_type',
    ]);
  });

  it.each([
    [16, true],
    [16, false],
    [32, true],
    [64, true],
  ])('block %i (symmetric %s): runs in onnxruntime, looser but close to fp32', async (block, symmetric) => {
    const { model: q, report } = await quantize(model, s, { mode: `int4-block:${block}`, symmetric });
    const nbits = q.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits).toHaveLength(s.numLayers * 6 + 2);
    expect(nbits.every((n) => n.attributes.block_size?.type === 'int' && n.attributes.block_size.value === block)).toBe(true);
    expect(nbits.every((n) => n.inputs.length === (symmetric ? 3 : 4))).toBe(true);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.3);
    const records = (report.details as { quantized: TensorRecord[] }).quantized;
    expectWeightsReadBack(model, s, q, records);
    expect(quantizedProjections(q).every((p) => p.op === 'MatMulNBits')).toBe(true);
  });

  it('is smaller than int8 and less exact', async () => {
    const int8 = await quantize(model, s, { mode: 'int8', embeddings: false });
    const int4 = await quantize(model, s, { mode: 'int4-block:32', embeddings: false });
    const d8 = int8.report.details as { bytesAfter: number; quantized: TensorRecord[] };
    const d4 = int4.report.details as { bytesAfter: number; quantized: TensorRecord[] };
    expect(d4.bytesAfter).toBeLessThan(d8.bytesAfter);
    const err = (d: { quantized: TensorRecord[] }) => Math.max(...d.quantized.map((r) => r.maxAbsError / r.maxAbs));
    expect(err(d4)).toBeGreaterThan(err(d8));
    expect(relativeDiff(ref, await outputsOf(int8.model, feeds))).toBeLessThan(relativeDiff(ref, await outputsOf(int4.model, feeds)));
  });
});
