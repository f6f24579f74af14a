import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { getTask, loadSplit } from '../../src/glue/index.ts';
import { epochBatch, loadTrainingSet, makeBatch } from '../../src/train/data.ts';
import { shuffledOrder } from '../../src/train/random.ts';
import { GLUE_DIR, TEACHERS } from '../helpers/paths.ts';

const SST2_TEACHER = join(TEACHERS, 'sst2-L4H256');
const STSB_TEACHER = join(TEACHERS, 'stsb-L4H256');
const ready =
  existsSync(join(GLUE_DIR, 'SST-2', 'train.tsv')) && existsSync(join(GLUE_DIR, 'STS-B', 'train.tsv')) && existsSync(join(SST2_TEACHER, 'tokenizer.json'));

const tmp = mkdtempSync(join(tmpdir(), 'bert-compress-train-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!ready)('loadTrainingSet (needs ../shared/glue and ../shared/teachers)', () => {
  const tokenizer = ready ? loadTokenizer(SST2_TEACHER) : undefined!;
  const sst2 = (extra: Partial<Parameters<typeof loadTrainingSet>[0]> = {}) =>
    loadTrainingSet({ task: 'sst2', glueDir: GLUE_DIR, tokenizer, modelConfig: SST2_TEACHER, maxExamples: 500, seed: 1, ...extra });
  const file = ready ? loadSplit(getTask('SST-2'), 'train', GLUE_DIR) : undefined!;

  it('tokenizes a seeded subset of SST-2 train with the model tokenizer and its max_length', () => {
    const set = sst2();
    expect(set.task.name).toBe('SST-2');
    expect(set.split).toBe('train');
    expect(set.regression).toBe(false);
    expect(set.numLabels).toBe(2);
    expect(set.maxLength).toBe(64); // the teacher's config.json max_length
    expect(set.padId).toBe(0);
    expect(set.examples.length).toBe(500);
    expect(set.sha256).toMatch(/^[0-9a-f]{64}$/);
    // File order, distinct rows, spread over the whole file (a permutation, not the first 500 rows).
    const rows = Array.from(set.sourceRows);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(new Set(rows).size).toBe(500);
    expect(rows.at(-1)!).toBeGreaterThan(60_000);
    set.examples.forEach((e, i) => {
      const source = file.examples[rows[i]!]!;
      const enc = tokenizer.encode(source.textA, source.textB, 64);
      expect(Array.from(e.ids)).toEqual(enc.ids);
      expect(Array.from(e.typeIds)).toEqual(enc.typeIds);
      expect(e.label).toBe(source.label);
      expect(e.ids.length).toBeLessThanOrEqual(64);
    });
  });

  it('is reproducible, nested in larger budgets, and hashed on what it contains', () => {
    const a = sst2();
    const b = sst2();
    expect(b.sha256).toBe(a.sha256);
    expect(b.sourceRows).toEqual(a.sourceRows);
    const small = sst2({ maxExamples: 200 });
    const inA = new Set(a.sourceRows);
    expect(Array.from(small.sourceRows).every((r) => inA.has(r))).toBe(true);
    expect(small.sha256).not.toBe(a.sha256);
    const otherSeed = sst2({ seed: 2 });
    expect(otherSeed.sourceRows).not.toEqual(a.sourceRows);
    expect(otherSeed.sha256).not.toBe(a.sha256);
    expect(sst2({ maxLength: 32 }).sha256).not.toBe(a.sha256);
  });

  it('maps labels to the model output order of config.json id2label', () => {
    writeFileSync(join(tmp, 'config-swapped.json'), JSON.stringify({ num_labels: 2, id2label: { 0: 'positive', 1: 'negative' }, max_length: 64 }));
    const a = sst2();
    const b = sst2({ modelConfig: join(tmp, 'config-swapped.json') });
    expect(b.labelMapping.outputToLabel).toEqual([1, 0]);
    expect(b.examples.map((e) => e.label)).toEqual(a.examples.map((e) => 1 - e.label));
    expect(b.sha256).not.toBe(a.sha256);
    writeFileSync(join(tmp, 'config-3.json'), JSON.stringify({ num_labels: 3 }));
    expect(() => sst2({ modelConfig: join(tmp, 'config-3.json') })).toThrow(/SST-2 has 2 labels/);
  });

  it('reads STS-B train as a regression on sentence pairs with float scores', () => {
    const set = loadTrainingSet({ task: 'STS-B', glueDir: GLUE_DIR, tokenizer: STSB_TEACHER, modelConfig: STSB_TEACHER });
    const source = loadSplit(getTask('STS-B'), 'train', GLUE_DIR);
    expect(set.regression).toBe(true);
    expect(set.numLabels).toBe(1);
    expect(set.maxLength).toBe(128);
    expect(set.examples.length).toBe(5749);
    expect(set.examples.map((e) => e.label)).toEqual(source.examples.map((e) => e.label));
    expect(set.examples.some((e) => !Number.isInteger(e.label))).toBe(true);
    // Pairs: [CLS] A [SEP] B [SEP], token type 1 on the second segment.
    const e = set.examples[0]!;
    expect(e.ids[0]).toBe(101);
    expect(e.ids.at(-1)).toBe(102);
    expect(e.typeIds.at(-1)).toBe(1);
    expect(e.typeIds[0]).toBe(0);
  });

  it('refuses an unlabelled split, a group name and a bad budget', () => {
    expect(() => loadTrainingSet({ task: 'sst2', split: 'test' as 'train', glueDir: GLUE_DIR, tokenizer })).toThrow(SettingsError);
    expect(() => loadTrainingSet({ task: 'mnli', glueDir: GLUE_DIR, tokenizer })).toThrow(/names MNLI-m and MNLI-mm/);
    expect(() => sst2({ maxExamples: 0 })).toThrow(/--max-examples 0/);
  });

  it('can train on dev', () => {
    const set = sst2({ split: 'dev', maxExamples: undefined });
    expect(set.examples.length).toBe(872);
    expect(set.file.endsWith(join('SST-2', 'dev.tsv'))).toBe(true);
  });
});

describe.skipIf(!ready)('epochBatch (needs ../shared/glue and ../shared/teachers)', () => {
  const set = ready
    ? loadTrainingSet({ task: 'sst2', glueDir: GLUE_DIR, tokenizer: SST2_TEACHER, modelConfig: SST2_TEACHER, maxExamples: 70, seed: 3 })
    : undefined!;

  it('cuts an order into batches padded to their longest example', () => {
    const order = shuffledOrder(set.examples.length, 3, 0);
    const batches = [0, 1, 2].map((b) => epochBatch(set, order, 32, b));
    expect(batches.map((b) => b.size)).toEqual([32, 32, 6]);
    expect(Array.from(batches.flatMap((b) => Array.from(b.indices)))).toEqual(Array.from(order));
    for (const b of batches) {
      expect(b.seq).toBe(Math.max(...Array.from(b.indices, (i) => set.examples[i]!.ids.length)));
      expect(b.inputIds.length).toBe(b.size * b.seq);
      expect(b.attentionMask.length).toBe(b.size * b.seq);
      expect(b.tokenTypeIds.length).toBe(b.size * b.seq);
      b.indices.forEach((ex, r) => {
        const e = set.examples[ex]!;
        const row = (a: BigInt64Array) => Array.from(a.subarray(r * b.seq, (r + 1) * b.seq), Number);
        const pad = b.seq - e.ids.length;
        expect(row(b.inputIds)).toEqual([...e.ids, ...new Array<number>(pad).fill(set.padId)]);
        expect(row(b.attentionMask)).toEqual([...new Array<number>(e.ids.length).fill(1), ...new Array<number>(pad).fill(0)]);
        expect(row(b.tokenTypeIds)).toEqual([...e.typeIds, ...new Array<number>(pad).fill(0)]);
        expect(b.labels[r]).toBe(e.label);
      });
    }
  });

  it('refuses bad sizes, batch numbers or indices', () => {
    const order = shuffledOrder(set.examples.length, 3, 1);
    expect(() => epochBatch(set, order, 0, 0)).toThrow(RangeError);
    expect(() => epochBatch(set, order, 32, 3)).toThrow(/batch 3 is outside the order's 3 batches/);
    expect(() => epochBatch(set, order, 32, -1)).toThrow(RangeError);
    expect(() => makeBatch(set, [70])).toThrow(/outside the set/);
    expect(() => makeBatch(set, [])).toThrow(RangeError);
  });

  it('carries float regression targets', () => {
    const stsb = loadTrainingSet({ task: 'stsb', glueDir: GLUE_DIR, tokenizer: STSB_TEACHER, modelConfig: STSB_TEACHER, maxExamples: 8 });
    const b = makeBatch(stsb, [0, 1, 2]);
    expect(Array.from(b.labels)).toEqual([0, 1, 2].map((i) => Math.fround(stsb.examples[i]!.label)));
  });
});
