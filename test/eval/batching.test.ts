import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { buildFeeds, planBatches } from '../../src/eval/batching.ts';
import { sessionInputs } from '../../src/bert/model-inputs.ts';

const enc = (ids: number[], typeIds?: number[]) => ({ ids, typeIds: typeIds ?? ids.map(() => 0) });

describe('planBatches', () => {
  it('sorts by length (longest first, ties in file order) and cuts into batches', () => {
    expect(planBatches([3, 9, 3, 5, 9], 2)).toEqual([[1, 4], [3, 0], [2]]);
  });
  it('covers every example once', () => {
    const lengths = Array.from({ length: 101 }, (_, i) => (i * 37) % 17);
    const flat = planBatches(lengths, 8).flat();
    expect(flat.slice().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  });
  it('refuses a batch size below 1', () => {
    expect(() => planBatches([1], 0)).toThrow(RangeError);
  });
});

describe('buildFeeds', () => {
  const encodings = [enc([101, 7, 102]), enc([101, 5, 6, 102, 9, 102], [0, 0, 0, 0, 1, 1])];

  it('pads each batch to its longest example, mask 0 and type 0 on padding', () => {
    const inputs = sessionInputs({
      inputNames: ['input_ids', 'attention_mask', 'token_type_ids'],
      inputTypes: { input_ids: 'int64', attention_mask: 'int64', token_type_ids: 'int64' },
    });
    const feeds = buildFeeds(encodings, [1, 0], inputs, 0);
    expect(feeds.input_ids!.dims).toEqual([2, 6]);
    expect(feeds.input_ids!.type).toBe('int64');
    expect(Array.from(feeds.input_ids!.data as BigInt64Array, Number)).toEqual([101, 5, 6, 102, 9, 102, 101, 7, 102, 0, 0, 0]);
    expect(Array.from(feeds.attention_mask!.data as BigInt64Array, Number)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(feeds.token_type_ids!.data as BigInt64Array, Number)).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('feeds only declared inputs, in their declared element type, with the pad id', () => {
    const inputs = sessionInputs({ inputNames: ['attention_mask', 'input_ids'], inputTypes: { attention_mask: 'int32', input_ids: 'int32' } });
    const feeds = buildFeeds(encodings, [0, 1], inputs, 1);
    expect(Object.keys(feeds).sort()).toEqual(['attention_mask', 'input_ids']);
    expect(feeds.input_ids!.type).toBe('int32');
    expect(Array.from(feeds.input_ids!.data as Int32Array)).toEqual([101, 7, 102, 1, 1, 1, 101, 5, 6, 102, 9, 102]);
  });

  it('recognises other exporters input names and refuses unknown ones', () => {
    const inputs = sessionInputs({ inputNames: ['input_ids', 'token_type_ids', 'input_mask'], inputTypes: {} });
    expect(inputs.map((i) => [i.role, i.elementType])).toEqual([
      ['ids', 'int64'],
      ['types', 'int64'],
      ['mask', 'int64'],
    ]);
    expect(() => sessionInputs({ inputNames: ['input_ids', 'pixel_values'], inputTypes: {} })).toThrow(SettingsError);
    expect(() => sessionInputs({ inputNames: ['input_ids'], inputTypes: { input_ids: 'float32' } })).toThrow(/element type float32/);
  });
});
