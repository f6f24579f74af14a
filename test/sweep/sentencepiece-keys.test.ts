/**
 * A sweep point's key, its data-change check and its tokenizer reading hash a folder's SentencePiece model
 * (spiece.model, sentencepiece.bpe.model) only where it is read: where the folder has no tokenizer.json, vocab.txt or
 * vocab.json with merges.txt (src/eval/tokenizer.ts reads those first). transformers' save_pretrained writes one
 * beside XLM-R's and ALBERT's tokenizer.json, so a store of such a folder keeps the keys it had before SentencePiece
 * models were side files, while a SentencePiece-only folder's key changes with its model.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { currentHashes, dataChange } from '../../src/sweep/stale.ts';
import { ALBERT_SPECIAL_PIECES, sentencePieceModelBytes, type TestPiece } from '../helpers/sentencepiece-model.ts';
import { clockAhead, storedPlans, writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

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
afterEach(() => {
  vi.useRealTimers();
  t?.cleanup();
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
