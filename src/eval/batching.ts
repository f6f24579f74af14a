/**
 * Batches bucketed by length with dynamic padding: examples are sorted by token count (longest first, ties in
 * file order), cut into batches of `batchSize`, and each batch is padded only to its own longest example. Results
 * are put back in file order by the batch's `indices`.
 */
import { totalmem } from 'node:os';
import { largestActivationBytes } from '../bert/input-limits.ts';
import { gigabytes } from '../units.ts';
import { tokenFeeds, type ModelInput, type TokenBatch } from '../bert/model-inputs.ts';
import type { BertStructure } from '../bert/structure.ts';
import { groupedDigits, MemoryRefusal } from '../errors.ts';
import type { Feeds } from '../runtime/session.ts';
import type { TextEncoding } from './tokenizer.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Throws a SettingsError when the largest batch of `lengths` (the examples' token counts; `padTo`: a length the graph
 * fixes) would have one activation larger than `memoryBytes` (the machine's memory), as bench refuses a shape
 * (bench/inputs.ts checkShapesFit): a batch holds at most `batchSize` examples, as many as there are, padded to the
 * longest. `what` names the examples ('SST-2 dev'), `model` the model.
 */
export function checkBatchFits(
  structure: Pick<BertStructure, 'intermediateSize' | 'numHeads' | 'hiddenSize'>,
  batchSize: number,
  lengths: ArrayLike<number>,
  padTo: number | undefined,
  labels: { what: string; model: string },
  memoryBytes: number = totalmem(),
): void {
  const rows = Math.min(batchSize, lengths.length);
  let seq = padTo ?? 0;
  if (padTo === undefined) for (let i = 0; i < lengths.length; i++) seq = Math.max(seq, lengths[i]!);
  const bytes = largestActivationBytes(structure, rows, seq);
  if (bytes > memoryBytes) {
    throw new MemoryRefusal(
      `--batch-size ${batchSize}: a batch of ${groupedDigits(rows)} ${labels.what} examples of up to ${seq} tokens would take ${gigabytes(bytes)} in one activation of ${labels.model}, more than this machine's ${gigabytes(memoryBytes)} of memory; give a smaller --batch-size`,
    );
  }
}

/** Example indices of each batch, longest examples first. */
export function planBatches(lengths: ArrayLike<number>, batchSize: number): number[][] {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`'batchSize' must be a positive integer, got ${batchSize}`);
  const order = Array.from({ length: lengths.length }, (_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

/** The padded length of a batch: its longest example. */
export function batchSequenceLength(encodings: readonly TextEncoding[], indices: readonly number[]): number {
  let max = 0;
  for (const i of indices) max = Math.max(max, encodings[i]!.ids.length);
  return max;
}

/**
 * The token rows of one batch, padded to its longest example (or to `padTo` when longer: a graph that fixes the
 * sequence length): padding positions get `padId` in the ids, 0 in the mask and 0 in token types.
 */
export function tokenBatch(encodings: readonly TextEncoding[], indices: readonly number[], padId: number, padTo = 0): TokenBatch {
  const rows = indices.length;
  const seq = Math.max(padTo, batchSequenceLength(encodings, indices));
  // On little-endian hosts int64 values are written as (low, high) int32 pairs: ids, mask and types are small and
  // non-negative, so the high half stays 0. This avoids creating a BigInt per element.
  const fill = (value: (e: TextEncoding, t: number) => number, pad: number): BigInt64Array => {
    const stride = LITTLE_ENDIAN ? 2 : 1;
    const values = new Int32Array(rows * seq * stride);
    indices.forEach((example, r) => {
      const e = encodings[example]!;
      const n = e.ids.length;
      let at = r * seq * stride;
      for (let t = 0; t < seq; t++, at += stride) values[at] = t < n ? value(e, t) : pad;
    });
    return LITTLE_ENDIAN ? new BigInt64Array(values.buffer) : BigInt64Array.from(values, (v) => BigInt(v));
  };
  return {
    batch: rows,
    seq,
    inputIds: fill((e, t) => e.ids[t]!, padId),
    attentionMask: fill(() => 1, 0),
    tokenTypeIds: fill((e, t) => e.typeIds[t]!, 0),
  };
}

/** The feeds of one batch for the model's `inputs` (see `tokenBatch`). */
export function buildFeeds(encodings: readonly TextEncoding[], indices: readonly number[], inputs: readonly ModelInput[], padId: number, padTo = 0): Feeds {
  return tokenFeeds(inputs, tokenBatch(encodings, indices, padId, padTo));
}
