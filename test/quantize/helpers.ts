/** Shared pieces of the quantize tests: running the pass from raw settings, synthetic calibration batches. */
import type { Model } from '../../src/onnx/index.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import type { CalibrationBatch, CalibrationSource, PassResult } from '../../src/pass/pass.ts';
import { expect } from 'vitest';
import { readFloat32 } from '../../src/onnx/index.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { quantizePass, quantizedEmbeddings, quantizedProjections, type TensorRecord } from '../../src/quantize/index.ts';
import { weightInOut } from '../../src/quantize/graph-edit.ts';
import { paddedBatch } from '../helpers/models.ts';
import { lcg } from '../helpers/feeds.ts';

/** Parses `settings` and runs the quantize pass. */
export function quantize(model: Model, s: BertStructure, settings: Record<string, unknown>, calibration?: CalibrationSource): Promise<PassResult> {
  return quantizePass.run(model, s, quantizePass.parse(settings), calibration ? { calibration } : {});
}

/**
 * A copy of `model` whose layer 1 FFN input weights are ±3e38: their products overflow, so the model computes ±Infinity
 * and NaN from that layer on (the non-finite refusals' input).
 */
export function overflowingModel(model: Model, s: BertStructure): Model {
  const overflowing = cloneModel(model);
  const w = s.layers[1].ffn.in.weight;
  const t = overflowing.graph.initializers.get(w)!;
  overflowing.graph.initializers.set(
    w,
    float32Tensor(
      w,
      t.dims,
      readFloat32(t).map((v) => (v > 0 ? 3e38 : -3e38)),
    ),
  );
  return overflowing;
}

/**
 * `count` padded batches of random ids below `vocab`, with seeded class labels in [0, numLabels). With `fixedLength`
 * every batch is exactly that long (keras2onnx graphs fix the sequence length).
 */
export function syntheticCalibration(vocab: number, numLabels: number, count = 3, seed = 11, fixedLength?: number): CalibrationSource {
  const rand = lcg(seed);
  const batches: CalibrationBatch[] = [];
  for (let b = 0; b < count; b++) {
    const lengths = [16, 11, 6, 9].map((l) => l - (b % 3)).map((l, i) => (fixedLength ? (i === 0 ? fixedLength : Math.min(l, fixedLength)) : l));
    const t = paddedBatch(lengths, vocab, seed + b);
    const seq = t.inputIds[0].length;
    const flat = (rows: number[][]) => BigInt64Array.from(rows.flat(), (v) => BigInt(v));
    batches.push({
      inputIds: flat(t.inputIds),
      attentionMask: flat(t.attentionMask),
      tokenTypeIds: flat(t.tokenTypeIds),
      batch: lengths.length,
      seq,
      labels: Float32Array.from(lengths, () => Math.floor(rand() * numLabels)),
      regression: false,
    });
  }
  return { task: 'synthetic', batches };
}

export { relativeDiff } from '../helpers/run-model.ts';

/** Every Linear and table of `s` is quantized in `q` and dequantizes to its original within the reported error. */
export function expectWeightsReadBack(original: Model, s: BertStructure, q: Model, records: readonly TensorRecord[]): void {
  const projections = quantizedProjections(q);
  const linears = [
    ...s.layers.flatMap((l) => [l.attention?.q, l.attention?.k, l.attention?.v, l.attention?.output, l.ffn.in, l.ffn.out]),
    s.pooler?.dense,
    ...(s.head?.linears ?? []),
  ].filter((l) => l !== undefined);
  for (const lin of linears) {
    const rec = records.find((r) => r.tensor === lin.weight);
    expect(rec, `record of ${lin.weight}`).toBeDefined();
    const want = weightInOut(original.graph, lin)!;
    const p = projections.find(
      (x) => x.inFeatures === lin.inFeatures && x.outFeatures === lin.outFeatures && arrayDiff(x.dequantized(), want) <= rec!.maxAbsError * (1 + 1e-5) + 1e-7,
    );
    expect(p, `a quantized projection for ${lin.node}`).toBeDefined();
  }
  for (const e of quantizedEmbeddings(q)) {
    const rec = records.find((r) => r.node === e.gather)!;
    expect(rec).toBeDefined();
    expect(arrayDiff(e.dequantized(), readFloat32(original.graph.initializers.get(rec.tensor)!))).toBeLessThanOrEqual(rec.maxAbsError * (1 + 1e-5) + 1e-7);
  }
}

function arrayDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
