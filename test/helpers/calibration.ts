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

/**
 * The same examples as `source`, batched by length (shortest first, `batchSize` a batch) and each batch cut to its
 * longest example: a model scores each example as before (its padding is masked), with less padding to run. For
 * tests that run a calibration many times (ablation: once per head); right-padded batches only.
 */
export function byLength(source: CalibrationSource, batchSize = 32): CalibrationSource {
  const rows: Array<{ ids: bigint[]; types: bigint[]; length: number; label: number; regression: boolean }> = [];
  for (const b of source.batches) {
    for (let i = 0; i < b.batch; i++) {
      const mask = b.attentionMask.subarray(i * b.seq, (i + 1) * b.seq);
      const length = mask.indexOf(0n) === -1 ? b.seq : mask.indexOf(0n);
      if (mask.subarray(length).some((m) => m !== 0n)) throw new Error('byLength: a batch that is not right-padded');
      const cut = (a: BigInt64Array) => [...a.subarray(i * b.seq, i * b.seq + length)];
      rows.push({ ids: cut(b.inputIds), types: cut(b.tokenTypeIds), length, label: b.labels[i]!, regression: b.regression });
    }
  }
  rows.sort((a, b) => a.length - b.length);
  // (padding by the source's own pad id)
  const first = source.batches.find((b) => b.attentionMask.includes(0n));
  const pad = first ? first.inputIds[first.attentionMask.indexOf(0n)]! : 0n;
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const chunk = rows.slice(start, start + batchSize);
    const seq = chunk[chunk.length - 1]!.length;
    const padded = (row: bigint[], fill: bigint) => [...row, ...Array<bigint>(seq - row.length).fill(fill)];
    batches.push({
      inputIds: BigInt64Array.from(chunk.flatMap((r) => padded(r.ids, pad))),
      attentionMask: BigInt64Array.from(chunk.flatMap((r) => padded(Array<bigint>(r.length).fill(1n), 0n))),
      tokenTypeIds: BigInt64Array.from(chunk.flatMap((r) => padded(r.types, 0n))),
      batch: chunk.length,
      seq,
      labels: Float32Array.from(chunk, (r) => r.label),
      regression: chunk[0]!.regression,
    });
  }
  return { ...source, batches };
}
