/**
 * The Splits a transformers.js export writes for a Punctuation pre-tokenizer, a BertPreTokenizer and a Whitespace
 * pre-tokenizer name tokenizers' own characters: Unicode 8.0's punctuation (the unicode_categories crate's) and the
 * regex crate's Unicode 16.0 `\w`, as ranges that JS and Oniguruma read alike, where they wrote `\p{P}` and
 * `\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`, which transformers.js passes to the JS engine, read by its own
 * Unicode (17.0 on Node 20.20): 143 punctuation characters and 4,699 word characters apart, each a text whose
 * transformers.js ids differed from eval's (`a؝b` split at U+061D, Po since 14.0; `a࢏b` joined at U+088F, a letter
 * since 17.0). A BertPreTokenizer behind BERT's own BertNormalizer (the export of every BERT folder) was kept, and
 * transformers.js's BertPreTokenizer splits on `\p{P}` (`a؝b` in three; `a᙭b`, U+166D Po in 8.0 and So since, in one).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportedIds, SPECIALS, tokenizerFolder, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-tjs-unicode-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = [...SPECIALS, 'a', 'b', '##b'];
/** Characters read otherwise by Unicode 8.0 or 16.0 than by Node 20.20's 17.0, and some read alike (',', 'é', '𐐀'). */
const CHARACTERS = ['\u061d', '\u2e43', '\u{11b00}', '\u166d', '\u088f', '\u0c5c', '\u{10940}', ',', '\u00e9', '\u{10400}', '\u3001'];
/** BERT's own normalizer (bert-base-uncased's tokenizer.json): the text cleaned, Chinese characters spaced, lower-cased. */
const BERT_NORMALIZER = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true };

describe('--format transformers.js writes the characters tokenizers splits on, not the JS engine’s Unicode classes', () => {
  it.each([
    ['Punctuation', { type: 'Punctuation', behavior: 'Removed' }, null],
    ['BertPreTokenizer', { type: 'BertPreTokenizer' }, null],
    ['BertPreTokenizer behind BERT’s BertNormalizer', { type: 'BertPreTokenizer' }, BERT_NORMALIZER],
    ['Whitespace', { type: 'Whitespace' }, null],
  ])('%s: transformers.js gives eval’s ids for each character', async (name, pre, normalizer) => {
    const folder = name.replace(/\W+/g, '-');
    const hf = tokenizerFolder(root, folder, tokenizerJson(VOCAB, { normalizer, pre_tokenizer: pre, model: wordPieceModel(VOCAB) }));
    const { out, theirs, ours } = await exportedIds(hf);
    for (const c of CHARACTERS) expect([c, theirs(`a${c}b`)]).toEqual([c, ours(`a${c}b`)]);
    const written = JSON.stringify(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).pre_tokenizer);
    expect(written).toContain('"type":"Split"');
    expect(written).not.toMatch(/\\\\p\{(?:P|Alphabetic)\}/);
  });
});
