/**
 * --format transformers.js writes a post-processor's special tokens whose ids (a TemplateProcessing's special_tokens
 * entry, a BertProcessing's cls and sep) are not their texts' as texts transformers.js gives those ids, one per id, so
 * that transformers.js gives the ids tokenizers (and compress eval) gives; it warns only of an id no text has there.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { SPECIALS, TEMPLATE_OWN_IDS as OWN_IDS, templateOf as template, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-tjs-special-ids-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, a 5, b 6)
const TOKENS = [...SPECIALS, 'a', 'b'];

let n = 0;
/** The folder of a tiny BERT whose tokenizer's post-processor is `post`, exported: ids and types by transformers.js and eval, its notes. */
async function exported(post: unknown) {
  const hf = tokenizerFolder(root, String(n++), { ...tokenizerJson(TOKENS, { pre_tokenizer: { type: 'WhitespaceSplit' } }), post_processor: post });
  const out = `${hf}-tjs`;
  const { notes } = await exportToTransformersJs(hf, out);
  const theirs = await AutoTokenizer.from_pretrained(out);
  const numbers = (t: unknown) => Array.from((t as { data: BigInt64Array }).data, Number);
  return {
    out,
    notes: notes.filter((line) => line.includes('special tokens')),
    written: JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as Record<string, unknown>,
    theirs: (a: string, b: string | null) => {
      const e = theirs(a, b === null ? {} : { text_pair: b });
      return { ids: numbers(e.input_ids), typeIds: numbers(e.token_type_ids) };
    },
    ours: (dir: string, a: string, b: string | null) => loadTokenizer(dir).encode(a, b, 64),
    hf,
  };
}

describe('--format transformers.js of special tokens whose ids are not their texts', () => {
  it("writes each id as a text transformers.js gives it, so that it gives tokenizers' ids (single and pair, alone or in a Sequence)", async () => {
    for (const post of [
      OWN_IDS,
      { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }, OWN_IDS] },
    ]) {
      const e = await exported(post);
      // (the tokenizers 0.23.2 binding: [1,2,1,5,6,3] and [6,5,3,6,5,4,5] types [0,0,0,1,1,1,1], the ids eval gives)
      for (const [a, b] of [
        ['a b', null],
        ['a', 'b a'],
      ] as const) {
        expect(e.theirs(a, b)).toEqual(e.ours(e.hf, a, b));
        expect(e.ours(e.out, a, b)).toEqual(e.ours(e.hf, a, b)); // (the folder written reads as its source)
      }
      expect(e.theirs('a b', null).ids).toEqual([1, 2, 1, 5, 6, 3]);
      expect(e.notes).toEqual([]);
    }
  });

  it("writes a BertProcessing's cls and sep as the texts of their ids", async () => {
    const e = await exported({ type: 'BertProcessing', sep: ['[SEP]', 4], cls: ['[CLS]', 6] });
    expect(e.theirs('a', 'b a')).toEqual({ ids: [6, 5, 4, 6, 5, 4], typeIds: [0, 0, 0, 1, 1, 1] });
    expect(e.theirs('a b', null)).toEqual(e.ours(e.hf, 'a b', null));
    expect(e.written.post_processor).toEqual({ type: 'BertProcessing', sep: ['[MASK]', 4], cls: ['b', 6] });
    expect(e.notes).toEqual([]);
  });

  it('warns in one line where an id has no text in transformers.js (past its vocabulary), writing the others', async () => {
    const e = await exported(
      template({
        X: { id: 'X', ids: [1, 2, 1], tokens: ['x', 'y', 'x'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        '[CLS]': { id: '[CLS]', ids: [6], tokens: ['[CLS]'] },
        Y: { id: 'Y', ids: [20], tokens: ['Y'] },
      }),
    );
    // (single: X written; pair: [CLS] written, Y's 20 has no text: transformers.js gives Y's, the unknown token 1)
    expect(e.theirs('a b', null)).toEqual(e.ours(e.hf, 'a b', null));
    expect(e.ours(e.hf, 'a', 'b').ids).toEqual([6, 5, 3, 6, 20]);
    expect(e.theirs('a', 'b').ids).toEqual([6, 5, 3, 6, 1]);
    expect(e.notes).toEqual([
      `warning: ${e.out}: its tokenizer's post-processor gives special tokens the ids its tokenizer.json lists (a TemplateProcessing's special_tokens, a BertProcessing's cls and sep), and transformers.js, which gives a special token the id of its text, has no text of some of them (an id past its vocabulary, a piece listed twice): transformers.js gives such a token its text's id (the unknown token where it is none) where transformers and compress eval give the ids listed (classify with compress eval, or give them ids of the vocabulary)`,
    ]);
  });

  it("leaves a special token whose text is the entry of one left (no text of its ids), which tokenizers reads as that entry's", async () => {
    // (X's ids are [UNK] [CLS] [UNK]'s, but [CLS]'s entry, of 20, which no text has, stays: X stays too)
    const e = await exported(
      template({
        X: { id: 'X', ids: [1, 2, 1], tokens: ['x', 'y', 'x'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        '[CLS]': { id: '[CLS]', ids: [20], tokens: ['[CLS]'] },
        Y: { id: 'Y', ids: [5], tokens: ['Y'] },
      }),
    );
    for (const [a, b] of [
      ['a b', null],
      ['a', 'b'],
    ] as const)
      expect(e.ours(e.out, a, b)).toEqual(e.ours(e.hf, a, b));
    expect(e.ours(e.out, 'a', 'b').ids).toEqual([20, 5, 3, 6, 5]);
    expect(e.theirs('a b', null).ids).toEqual([1, 5, 6, 3]);
    expect(e.notes).toHaveLength(1);
  });

  it("leaves a template whose special tokens are their texts' ids as it is", async () => {
    const post = template({
      X: { id: 'X', ids: [1], tokens: ['X'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
      Y: { id: 'Y', ids: [1], tokens: ['Y'] },
    });
    const e = await exported(post);
    expect(e.written.post_processor).toEqual(post);
    expect(e.notes).toEqual([]);
  });
});
