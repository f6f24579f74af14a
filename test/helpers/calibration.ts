/** Synthetic calibration sources for passes that measure a model (head importance, quantization ranges). */
import type { CalibrationBatch, CalibrationSource } from '../../src/pass/pass.ts';
import { paddedBatch } from './models.ts';
import { lcg } from './feeds.ts';

/** Calibration batches of the given sizes (uneven, padded), seeded labels: class indices or scores. */
export function syntheticCalibration(sizes: number[], vocab: number, labels: { classes: number } | 'regression', seed = 5): CalibrationSource {
  const rand = lcg(seed);
  const batches: CalibrationBatch[] = sizes.map((n, b) => {
    const lengths = Array.from({ length: n }, (_, i) => 4 + ((i * 3 + b) % 6));
    const t = paddedBatch(lengths, vocab, seed + b);
    const flat = (rows: number[][]) => BigInt64Array.from(rows.flat(), (v) => BigInt(v));
    return {
      inputIds: flat(t.inputIds),
      attentionMask: flat(t.attentionMask),
      tokenTypeIds: flat(t.tokenTypeIds),
      batch: n,
      seq: t.inputIds[0].length,
      labels: Float32Array.from(lengths, () => (labels === 'regression' ? rand() * 4 - 2 : Math.floor(rand() * labels.classes))),
      regression: labels === 'regression',
    };
  });
  return { task: 'synthetic', batches };
}
