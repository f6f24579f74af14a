/**
 * A tokenizer.json whose pre-tokenizer holds a Punctuation of a behavior other than Contiguous, written for
 * transformers.js: @huggingface/tokenizers ignores the behavior and gives a run of punctuation as one pre-token, so the
 * folder's tokenizer.json writes it as a Split that transformers.js (and tokenizers) split as eval does.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBertConfig } from '../helpers/models.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-punctuation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', ',', '>', '<', 'a,', ',b', ',,', '><', 'b,', '«'];
const TEXTS = ['a,, b><', ',,a>< b', 'a,b, a«b»,', 'b ,a$b'];

/** A Hugging Face folder of a tiny BERT whose tokenizer.json splits on white space, then with `punctuation`. */
function folder(name: string, punctuation: object): string {
  const config = tinyBertConfig();
  const hf = join(root, name);
  writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
  const tokenizer = {
    version: '1.0',
    added_tokens: VOCAB.slice(0, 5).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, punctuation] },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: null,
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
  writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizer));
  return hf;
}

describe('--format transformers.js of a Punctuation pre-tokenizer', () => {
  it("gives in transformers.js eval's ids for each behavior (Isolated where none is written; a Split where @huggingface/tokenizers grouped a run of punctuation as Contiguous)", async () => {
    for (const behavior of [undefined, 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
      const name = behavior ?? 'default';
      const hf = folder(name, { type: 'Punctuation', ...(behavior ? { behavior } : {}) });
      const out = join(root, `${name}-tjs`);
      await exportToTransformersJs(hf, out);
      const theirs = await AutoTokenizer.from_pretrained(out);
      const ours = loadTokenizer(hf);
      for (const text of TEXTS) {
        const ids = Array.from(theirs(text).input_ids.data as BigInt64Array, Number);
        expect([behavior, text, ids]).toEqual([behavior, text, ours.encode(text, null, 64).ids]);
      }
      const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).pre_tokenizer.pretokenizers[1];
      expect([behavior, written.type]).toEqual([behavior, behavior === 'Contiguous' ? 'Punctuation' : 'Split']);
    }
    // (what eval gives, as tokenizers 0.23 does: each punctuation character alone by default)
    expect(loadTokenizer(join(root, 'default')).encode(TEXTS[0]!, null, 64).ids).toEqual([2, 5, 7, 7, 6, 8, 9, 3]);
  }, 30_000);
});
