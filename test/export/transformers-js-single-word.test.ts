/**
 * An added token marked single_word, which tokenizers finds only as a word of its own and @huggingface/tokenizers
 * (transformers.js) wherever the text holds it: --format transformers.js warns of it in one line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { exportedIds, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-single-word-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const added = (id: number, content: string, singleWord: boolean) => ({
  id,
  content,
  single_word: singleWord,
  lstrip: false,
  rstrip: false,
  normalized: true,
  special: false,
});

describe('--format transformers.js of a tokenizer with an added token marked single_word', () => {
  it("warns in one line naming the token, since transformers.js finds it inside a word ('abab' as ab ab) where eval, as tokenizers, reads the word", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b'];
    const json = tokenizerJson(vocab, { pre_tokenizer: { type: 'BertPreTokenizer' } });
    (json.added_tokens as object[]).push(added(7, 'ab', true));
    const hf = tokenizerFolder(root, 'single-word', json);
    const { out, theirs, ours } = await exportedIds(hf);
    // (what eval gives, as tokenizers 0.23.2 does: 'abab' is one word, unknown to the WordLevel)
    expect(ours('ab abab')).toEqual([2, 7, 1, 3]);
    expect(theirs('ab abab')).toEqual([2, 7, 7, 7, 3]);
    const { notes } = await exportToTransformersJs(hf, `${out}-again`);
    expect(notes).toEqual([
      `warning: ${out}-again: its tokenizer's added token 'ab' is single_word, which transformers.js ignores where transformers and compress eval read it: transformers.js also finds such a token inside a word and gives other ids there (classify with compress eval, or give a tokenizer without single_word)`,
    ]);
  }, 30_000);

  it('warns of nothing where no added token is single_word', async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b'];
    const json = tokenizerJson(vocab, { pre_tokenizer: { type: 'BertPreTokenizer' } });
    (json.added_tokens as object[]).push(added(7, 'ab', false));
    const hf = tokenizerFolder(root, 'not-single-word', json);
    const { notes } = await exportToTransformersJs(hf, `${hf}-tjs`);
    expect(notes).toEqual([]);
  }, 30_000);
});
