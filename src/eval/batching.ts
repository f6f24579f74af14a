/**
 * Batches bucketed by length with dynamic padding: examples are sorted by token count (longest first, ties in
 * file order), cut into batches of `batchSize`, and each batch is padded only to its own longest example. Results
 * are put back in file order by the batch's `indices`.
 */
import { Tensor, type Feeds } from '../runtime/session.ts';
import type { ModelInput } from './model-inputs.ts';
import type { TextEncoding } from './tokenizer.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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
 * Builds the feeds of one batch: for each declared input, a [batch, seq] tensor of its element type. Padding
 * positions get `padId` in input_ids, 0 in the mask and 0 in token types.
 */
export function buildFeeds(
  encodings: readonly TextEncoding[],
  indices: readonly number[],
  inputs: readonly ModelInput[],
  padId: number,
): Feeds {
  const rows = indices.length;
  const seq = batchSequenceLength(encodings, indices);
  const feeds: Feeds = {};
  for (const input of inputs) {
    // On little-endian hosts int64 values are written as (low, high) int32 pairs: ids, mask and types are small
    // and non-negative, so the high half stays 0. This avoids creating a BigInt per element.
    const pairs = input.elementType === 'int64' && LITTLE_ENDIAN;
    const stride = pairs ? 2 : 1;
    const values = new Int32Array(rows * seq * stride);
    const pad = input.role === 'ids' ? padId : 0;
    indices.forEach((example, r) => {
      const e = encodings[example]!;
      const source = input.role === 'ids' ? e.ids : input.role === 'types' ? e.typeIds : null;
      const n = e.ids.length;
      let at = r * seq * stride;
      for (let t = 0; t < seq; t++, at += stride) values[at] = t < n ? (source ? source[t]! : 1) : pad;
    });
    feeds[input.name] = input.elementType === 'int32'
      ? new Tensor('int32', values, [rows, seq])
      : new Tensor('int64', pairs ? new BigInt64Array(values.buffer) : BigInt64Array.from(values, (v) => BigInt(v)), [rows, seq]);
  }
  return feeds;
}
