/**
 * Hand-written BERT-style tokenizer.json files for the transformers.js export tests: one shape (BERT's special tokens,
 * post-processor and a WordLevel or WordPiece model), the tiny BERT folder that holds one, and the ids transformers.js
 * gives from the folder exported beside eval's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { tinyBertConfig } from './models.ts';

/** The special tokens every such vocabulary starts with (ids 0–4). */
export const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** A WordPiece model (`##` pieces, [UNK]) of `vocab`. */
export function wordPieceModel(vocab: readonly string[]): Record<string, unknown> {
  return {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
  };
}

/**
 * A tokenizer.json of `vocab` (its first five SPECIALS) with this normalizer and pre-tokenizer, BERT's
 * post-processor, and a WordLevel model unless `model` is given.
 */
export function tokenizerJson(
  vocab: readonly string[],
  parts: { normalizer?: unknown; pre_tokenizer: unknown; model?: Record<string, unknown> },
): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: vocab.slice(0, 5).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: parts.normalizer ?? null,
    pre_tokenizer: parts.pre_tokenizer,
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: null,
    model: parts.model ?? { type: 'WordLevel', unk_token: '[UNK]', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
}

/** A TemplateProcessing's special-token piece and sequence piece. */
export const templateSpecial = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
export const templateSequence = (id: 'A' | 'B', type_id: number) => ({ Sequence: { id, type_id } });

/** A TemplateProcessing of these special_tokens over SPECIALS: single X A [SEP], pair [CLS] A [SEP] B:1 Y:1. */
export function templateOf(specials: Record<string, { id: string; ids: number[]; tokens: string[] }>): Record<string, unknown> {
  return {
    type: 'TemplateProcessing',
    single: [templateSpecial('X', 0), templateSequence('A', 0), templateSpecial('[SEP]', 0)],
    pair: [templateSpecial('[CLS]', 0), templateSequence('A', 0), templateSpecial('[SEP]', 0), templateSequence('B', 1), templateSpecial('Y', 1)],
    special_tokens: specials,
  };
}

/**
 * templateOf's special tokens of their own ids over SPECIALS and 'a' 5, 'b' 6 (X: three ids, tokens no vocabulary
 * holds; [CLS]: an id that is not its text's; Y: keyed Y, named Z, two ids, one token).
 */
export const TEMPLATE_OWN_IDS = templateOf({
  X: { id: 'X', ids: [1, 2, 1], tokens: ['x', 'y', 'x'] },
  '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
  '[CLS]': { id: '[CLS]', ids: [6], tokens: ['[CLS]'] },
  Y: { id: 'Z', ids: [4, 5], tokens: ['[MASK]'] },
});

/** A Hugging Face folder `root/name` of a tiny BERT holding `tokenizer` as its tokenizer.json. */
export function tokenizerFolder(root: string, name: string, tokenizer: object): string {
  const config = tinyBertConfig();
  const hf = join(root, name);
  writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
  writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizer));
  return hf;
}

/** The folder `hf` exported for transformers.js (to `hf`-tjs): ids by transformers.js (of the export) and by eval (of the folder). */
export async function exportedIds(hf: string): Promise<{ out: string; theirs: (text: string) => number[]; ours: (text: string) => number[] }> {
  const out = `${hf}-tjs`;
  await exportToTransformersJs(hf, out);
  const theirs = await AutoTokenizer.from_pretrained(out);
  const ours = loadTokenizer(hf);
  return {
    out,
    theirs: (text) => Array.from(theirs(text).input_ids.data as BigInt64Array, Number),
    ours: (text) => [...ours.encode(text, null, 64).ids],
  };
}
