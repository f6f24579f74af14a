/**
 * A tokenizer.json whose pre-tokenizer holds a Punctuation of a behavior other than Contiguous, written for
 * transformers.js: @huggingface/tokenizers ignores the behavior and gives a run of punctuation as one pre-token, so the
 * folder's tokenizer.json writes it as a Split that transformers.js (and tokenizers) split as eval does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { exportedIds, tokenizerFolder, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-punctuation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', ',', '>', '<', 'a,', ',b', ',,', '><', 'b,', '«'];
const TEXTS = ['a,, b><', ',,a>< b', 'a,b, a«b»,', 'b ,a$b'];

/** A Hugging Face folder of a tiny BERT whose tokenizer.json splits on white space, then with `punctuation`. */
const folder = (name: string, punctuation: object) =>
  tokenizerFolder(
    root,
    name,
    tokenizerJson(VOCAB, { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, punctuation] }, model: wordPieceModel(VOCAB) }),
  );

describe('--format transformers.js of a Punctuation pre-tokenizer', () => {
  it("gives in transformers.js eval's ids for each behavior (Isolated where none is written; a Split where @huggingface/tokenizers grouped a run of punctuation as Contiguous)", async () => {
    for (const behavior of [undefined, 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
      const name = behavior ?? 'default';
      const hf = folder(name, { type: 'Punctuation', ...(behavior ? { behavior } : {}) });
      const { out, theirs, ours } = await exportedIds(hf);
      for (const text of TEXTS) expect([behavior, text, theirs(text)]).toEqual([behavior, text, ours(text)]);
      const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).pre_tokenizer.pretokenizers[1];
      expect([behavior, written.type]).toEqual([behavior, behavior === 'Contiguous' ? 'Punctuation' : 'Split']);
    }
    // (what eval gives, as tokenizers 0.23 does: each punctuation character alone by default)
    expect(loadTokenizer(join(root, 'default')).encode(TEXTS[0]!, null, 64).ids).toEqual([2, 5, 7, 7, 6, 8, 9, 3]);
  }, 30_000);
});
