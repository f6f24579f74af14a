/**
 * A sweep point's key, its data-change check and its tokenizer reading hash a folder's SentencePiece model
 * (spiece.model, sentencepiece.bpe.model) only where it is read: where the folder has no tokenizer.json, vocab.txt or
 * vocab.json with merges.txt (src/eval/tokenizer.ts reads those first). transformers' save_pretrained writes one
 * beside XLM-R's and ALBERT's tokenizer.json, so a store of such a folder keeps the keys it had before SentencePiece
 * models were side files, while a SentencePiece-only folder's key changes with its model. A SentencePiece-only folder
 * that a change of the reading touched (tokenizer reading version 3) is stale in a store the older reading wrote.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { TOKENIZER_READINGS, tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { currentHashes, dataChange } from '../../src/sweep/stale.ts';
import { ALBERT_SPECIAL_PIECES, identityCharsmap, sentencePieceModelBytes, type TestPiece } from '../helpers/sentencepiece-model.ts';
import { clockAhead, storedPlans, writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { PRECOMPILED_READING, readingVersionApartFromPairs } from '../helpers/tokenizer-readings.ts';

/** An ALBERT-style model (its own ids): <pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4, then pieces of `score`. */
const pieces = (score: number): TestPiece[] => [
  ...ALBERT_SPECIAL_PIECES,
  { piece: '▁', score: -2 },
  { piece: '▁the', score },
  { piece: '▁movie', score: -1.5 },
];

let t: TinySweep;
let model: string;
let file: string;
beforeEach(() => {
  t = writeTinySweep({ rows: 8 });
  model = writeTinySst2(join(t.root, 'models', 'spm'), 3);
  file = writeQuickSweep(t.root, 'spm-keys', 'models: [{path: models/spm, tasks: [SST-2]}]\npipelines: [baseline]\n');
  clockAhead();
});
/** The changes of the code running now, put back after a test that plays the code before one of them. */
const readings = TOKENIZER_READINGS as Array<(typeof TOKENIZER_READINGS)[number]>;
const released = [...readings];
afterEach(() => {
  readings.splice(0, readings.length, ...released);
  vi.useRealTimers();
  t?.cleanup();
});

/** `dir` as a SentencePiece-only folder: its vocab.txt gone, `models` (file name → bytes) and tokenizer_config.json's class. */
function sentencePieceOnly(dir: string, models: Record<string, Buffer>, tokenizerClass: string): string {
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'vocab.txt'), { force: true });
  for (const [name, bytes] of Object.entries(models)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: tokenizerClass }));
  return dir;
}

/** ALBERT's pieces with '²,' (whose comma follows a digit Python's isdigit takes and \p{Nd} does not) as its last. */
const superscriptComma: TestPiece[] = [...ALBERT_SPECIAL_PIECES, { piece: '▁', score: -2 }, { piece: '▁the', score: -1 }, { piece: '²,', score: -1 }];

it("is at tokenizer reading version 3 for an ALBERT SentencePiece-only folder with a piece like '²,' or holding both models, or a model whose Metaspace split changes, where the number-comma rule, the file read or the split changed; at 1 for the others", () => {
  const albert = (name: string, p: TestPiece[], other?: Buffer) =>
    sentencePieceOnly(
      join(t.root, name),
      { 'spiece.model': sentencePieceModelBytes(p), ...(other ? { 'sentencepiece.bpe.model': other } : {}) },
      'AlbertTokenizer',
    );
  const xlmr = (name: string, p: TestPiece[], other?: Buffer) =>
    sentencePieceOnly(
      join(t.root, name),
      // (with a precompiled charsmap, as XLM-R's has: its Strip follows the Precompiled, read as before)
      { 'sentencepiece.bpe.model': sentencePieceModelBytes(p, { charsmap: identityCharsmap() }), ...(other ? { 'spiece.model': other } : {}) },
      'XLMRobertaTokenizer',
    );
  const xlmrPieces: TestPiece[] = [
    { piece: '<unk>', score: 0, type: 2 },
    { piece: '<s>', score: 0, type: 3 },
    { piece: '</s>', score: 0, type: 3 },
    { piece: '▁', score: -2 },
    { piece: '²,', score: -1 },
  ];
  for (const pairs of [false, true]) {
    expect(readingVersionApartFromPairs(albert('albert-superscript', superscriptComma), pairs)).toBe(3);
    expect(readingVersionApartFromPairs(albert('albert-circled', [...pieces(-1), { piece: '▁①,', score: -1 }]), pairs)).toBe(3);
    // (both read as before: a decimal digit's comma was lowered already; the rule is ALBERT's alone)
    expect(readingVersionApartFromPairs(albert('albert-decimal', [...pieces(-1), { piece: '▁1,', score: -1 }, { piece: '٣,', score: -1 }]), pairs)).toBe(1);
    // (XLM-R's folders with a charsmap: version 27, every Precompiled's charsmap read, left out but where said)
    expect(readingVersionApartFromPairs(xlmr('xlmr-superscript', xlmrPieces), pairs)).toBe(PRECOMPILED_READING);
    expect(readingVersionApartFromPairs(xlmr('xlmr-superscript', xlmrPieces), pairs, [PRECOMPILED_READING])).toBe(1);
    // (an ALBERT folder holding both read sentencepiece.bpe.model; an XLM-R one reads it still)
    expect(readingVersionApartFromPairs(albert('albert-both', pieces(-1), sentencePieceModelBytes(pieces(-1))), pairs)).toBe(3);
    expect(readingVersionApartFromPairs(xlmr('xlmr-both', xlmrPieces, sentencePieceModelBytes(pieces(-1))), pairs, [PRECOMPILED_READING])).toBe(1);
    // (its Metaspace splits before each ▁: a model without a lone ▁ piece, or with a piece holding ▁ after its start)
    expect(readingVersionApartFromPairs(xlmr('xlmr-no-lone', [...xlmrPieces.slice(0, 3), { piece: '▁a', score: -1 }]), pairs, [PRECOMPILED_READING])).toBe(3);
    expect(readingVersionApartFromPairs(xlmr('xlmr-inside', [...xlmrPieces.slice(0, 4), { piece: 'a▁b', score: -1 }]), pairs, [PRECOMPILED_READING])).toBe(3);
    expect(readingVersionApartFromPairs(model, pairs)).toBe(1);
  }
});

it('is at tokenizer reading version 3 for a folder whose tokenizer_config.json says remove_space true, no longer applied; at 1 with it false', () => {
  const folder = (name: string, removeSpace: boolean) => {
    const dir = sentencePieceOnly(join(t.root, name), { 'spiece.model': sentencePieceModelBytes(pieces(-1)) }, 'AlbertTokenizer');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'AlbertTokenizer', remove_space: removeSpace }));
    return dir;
  };
  expect(tokenizerReadingVersion(folder('albert-remove-space', true), false)).toBe(3);
  expect(tokenizerReadingVersion(folder('albert-keep-space', false), false)).toBe(1);
});

it("a stored point of an ALBERT SentencePiece-only folder with a '²,' piece is stale in a store the older reading wrote; a BERT folder's point keeps its key", async () => {
  sentencePieceOnly(model, { 'spiece.model': sentencePieceModelBytes(superscriptComma) }, 'AlbertTokenizer');
  writeTinySst2(join(t.root, 'models', 'bert'), 4);
  const both = writeQuickSweep(
    t.root,
    'spm-reading',
    'models: [{path: models/spm, tasks: [SST-2]}, {path: models/bert, tasks: [SST-2]}]\npipelines: [baseline]\n',
  );
  clockAhead();
  const store = join(t.root, 'store.sqlite');
  // (the code before version 3: no change had touched either folder)
  readings.splice(0, readings.length, ...released.filter((r) => r.version < 3));
  expect(await runSweep({ file: both, store })).toMatchObject({ total: 2, ran: 2, failed: [] });
  const before = storedPlans(store);
  expect(before.map((p) => [p.model.name, p.versions.tokenizer]).sort()).toEqual([
    ['bert', undefined],
    ['spm', undefined],
  ]);
  readings.splice(0, readings.length, ...released);
  const kept = await runSweep({ file: both, store });
  expect(kept).toMatchObject({ total: 2, alreadyDone: 1, ran: 0, failed: [] });
  expect(kept.stale.map((s) => [s.point.model.name, s.stored.map((o) => o.key), s.change])).toEqual([
    ['spm', [before.find((p) => p.model.name === 'spm')!.key], 'tokenizer reading v1 → v3'],
  ]);
  const rerun = await runSweep({ file: both, store, rerunStale: true });
  expect(rerun).toMatchObject({ total: 2, alreadyDone: 1, ran: 1, failed: [] });
  const after = storedPlans(store);
  expect(after.find((p) => p.model.name === 'spm')!.versions.tokenizer).toBe(3);
  expect(after.find((p) => p.model.name === 'bert')).toEqual(before.find((p) => p.model.name === 'bert'));
});

it('a SentencePiece model beside vocab.txt is not in the key: a store written without it keeps its point', async () => {
  const store = join(t.root, 'store.sqlite');
  // (the store as written before SentencePiece models were side files: the model left out of the folder then)
  expect(await runSweep({ file, store })).toMatchObject({ total: 1, ran: 1, failed: [] });
  const [before] = storedPlans(store);
  writeFileSync(join(model, 'spiece.model'), sentencePieceModelBytes(pieces(-1)));
  clockAhead();
  expect(await runSweep({ file, store })).toMatchObject({ total: 1, alreadyDone: 1, ran: 0, stale: [], failed: [] });
  expect(dataChange(before, currentHashes())).toBeUndefined();
  expect(tokenizerReadingVersion(model, false, before!.data!.model)).toBe(1);
  // (edited: still not read)
  writeFileSync(join(model, 'spiece.model'), sentencePieceModelBytes(pieces(-3)));
  clockAhead();
  expect(await runSweep({ file, store })).toMatchObject({ alreadyDone: 1, ran: 0, stale: [] });
  expect(dataChange(before, currentHashes())).toBeUndefined();
});

it("a SentencePiece-only folder's key holds its model: edited, the point is another one", async () => {
  rmSync(join(model, 'vocab.txt'));
  writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'AlbertTokenizer' }));
  writeFileSync(join(model, 'spiece.model'), sentencePieceModelBytes(pieces(-1)));
  clockAhead();
  const store = join(t.root, 'store.sqlite');
  expect(await runSweep({ file, store })).toMatchObject({ total: 1, ran: 1, failed: [] });
  const [before] = storedPlans(store);
  expect(Object.keys(before!.data!.model!)).toContain('spiece.model');
  writeFileSync(join(model, 'spiece.model'), sentencePieceModelBytes(pieces(-3)));
  clockAhead();
  expect(dataChange(before, currentHashes())).toBe(`data changed: ${join(model, 'spiece.model')} (model folder) edited`);
  expect(tokenizerReadingVersion(model, false, before!.data!.model)).toBeUndefined();
  expect(await runSweep({ file, store })).toMatchObject({ total: 1, alreadyDone: 0, ran: 1, failed: [] });
  // (a vocab.txt written beside it since is read instead: a change)
  writeFileSync(join(model, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nmovie\n');
  const [after] = storedPlans(store).filter((p) => p.key !== before!.key);
  expect(dataChange(after, currentHashes())).toBe(`data changed: ${join(model, 'vocab.txt')} (model folder) added`);
});
