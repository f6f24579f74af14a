/**
 * --format transformers.js warns in one line of an added token of normalized false that transformers.js also finds in
 * a text its normalizer turns into the token's content, where tokenizers (and compress eval) looks for it in the text
 * as written only (added_vocabulary.rs, split_with_indices): 'TOK' under a Lowercase is the token 'tok' in
 * transformers.js, [UNK] in tokenizers (the tokenizers 0.23.2 node binding gives [2, 1, 3]).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { SPECIALS, tokenizerFolder, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-tjs-added-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, a 5, b 6; the added token 7)
const TOKENS = [...SPECIALS, 'a', 'b'];

let n = 0;
/** The tiny BERT folder of a WordPiece tokenizer over TOKENS with `normalizer` and the added token `content` (id 7), exported. */
async function exported(normalizer: unknown, content: string, normalized: boolean) {
  const json = tokenizerJson(TOKENS, { normalizer, pre_tokenizer: { type: 'WhitespaceSplit' }, model: wordPieceModel(TOKENS) });
  const added = [...(json.added_tokens as object[]), { id: 7, content, single_word: false, lstrip: false, rstrip: false, normalized, special: false }];
  const hf = tokenizerFolder(root, String(n++), { ...json, added_tokens: added });
  const out = `${hf}-tjs`;
  const { notes } = await exportToTransformersJs(hf, out);
  const theirs = await AutoTokenizer.from_pretrained(out);
  return {
    out,
    notes: notes.filter((line) => line.includes('normalized false')),
    theirs: (text: string) => Array.from((theirs(text).input_ids as unknown as { data: BigInt64Array }).data, Number),
    ours: (text: string) => [...loadTokenizer(hf).encode(text, null, 64).ids],
  };
}

describe('--format transformers.js of an added token of normalized false', () => {
  it('warns in one line where transformers.js finds it in a text the normalizer turns into it (a Lowercase, an NFKC)', async () => {
    const lower = await exported({ type: 'Lowercase' }, 'tok', false);
    // (what the warning says: transformers.js reads TOK as the token, tokenizers and eval as [UNK])
    expect(lower.theirs('TOK')).toEqual([2, 7, 3]);
    expect(lower.ours('TOK')).toEqual([2, 1, 3]);
    expect(lower.theirs('tok a')).toEqual(lower.ours('tok a'));
    expect(lower.notes).toEqual([
      `warning: ${lower.out}: its tokenizer's added token 'tok' (in 'TOK') is normalized false, which transformers and compress eval find only in the text as written, where transformers.js also reads a text its normalizer turns into the token's content as the token and gives other ids there (classify such texts with compress eval)`,
    ]);
    const nfkc = await exported({ type: 'NFKC' }, '<s>', false);
    expect(nfkc.theirs('＜ｓ＞')).not.toEqual(nfkc.ours('＜ｓ＞'));
    expect(nfkc.notes).toHaveLength(1);
    expect(nfkc.notes[0]).toContain(`'<s>' (in '＜ｓ＞')`);
  });

  it('says nothing where both find it alike: normalized true, no normalizer, or none turning another text into it', async () => {
    const normalized = await exported({ type: 'Lowercase' }, 'tok', true);
    expect(normalized.theirs('TOK')).toEqual(normalized.ours('TOK'));
    expect(normalized.notes).toEqual([]);
    expect((await exported(null, 'tok', false)).notes).toEqual([]);
    // (BERT's special tokens under a Lowercase: no text lower-cases to [CLS])
    expect((await exported({ type: 'Lowercase' }, 'TOK', false)).notes).toEqual([]);
  });
});
