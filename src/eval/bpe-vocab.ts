/**
 * Builds a Hugging Face `tokenizer.json` for a byte-level BPE vocabulary saved the slow tokenizers' way (`vocab.json`
 * and `merges.txt`, as many RoBERTa fine-tunes ship without a tokenizer.json), the structure transformers' `convert_slow_tokenizer.RobertaConverter` writes: no normalizer, the
 * ByteLevel pre-tokenizer (`add_prefix_space` per tokenizer_config.json, default false as RobertaTokenizer's), BPE
 * over the vocabulary and merges, and the `<s> A </s></s> B </s>` template (token types all 0, as RoBERTa's).
 */
import { readFileSync } from 'node:fs';
import { DataError, fsReason } from '../errors.ts';
import { utf8Text, withoutBom } from '../files.ts';
import { checkTemplateTokens } from './wordpiece-vocab.ts';

/** The special tokens of a RoBERTa-style vocabulary; defaults are roberta-base's. */
export interface BpeSpecialTokens {
  bos: string;
  eos: string;
  unk: string;
  pad: string;
  mask: string;
  cls: string;
  sep: string;
}

export const DEFAULT_BPE_SPECIAL_TOKENS: BpeSpecialTokens = {
  bos: '<s>',
  eos: '</s>',
  unk: '<unk>',
  pad: '<pad>',
  mask: '<mask>',
  cls: '<s>',
  sep: '</s>',
};

function readText(file: string): string {
  try {
    return withoutBom(utf8Text(readFileSync(file), file));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: cannot read it (${fsReason(e)})`, { cause: e });
  }
}

/** vocab.json: token → id. A one-line DataError for a file that is not such an object. */
function readBpeVocab(file: string): Map<string, number> {
  let json: unknown;
  try {
    json = JSON.parse(readText(file));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new DataError(`${file}: not a JSON object of token ids`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new DataError(`${file}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, not a whole number ≥ 0`);
    vocab.set(token, id);
  }
  return vocab;
}

/** merges.txt: one merge per line ('Ġ t'), after an optional '#version' line. */
export function readBpeMerges(file: string): string[] {
  return readText(file)
    .split(/\r?\n/)
    .filter((line, i) => line !== '' && !(i === 0 && line.startsWith('#version')));
}

export interface ByteLevelBpeOptions {
  addPrefixSpace?: boolean;
  specialTokens?: BpeSpecialTokens;
}

/** The tokenizer.json object for `vocab.json` and `merges.txt` (read from `vocabFile`, `mergesFile`). */
export function byteLevelBpeTokenizerJson(vocabFile: string, mergesFile: string, opts: ByteLevelBpeOptions = {}): object {
  const vocab = readBpeVocab(vocabFile);
  const merges = readBpeMerges(mergesFile);
  const s = opts.specialTokens ?? DEFAULT_BPE_SPECIAL_TOKENS;
  const addPrefixSpace = opts.addPrefixSpace ?? false;
  const specials = [...new Set([s.bos, s.pad, s.eos, s.unk, s.cls, s.sep, s.mask])].filter((t) => vocab.has(t));
  checkTemplateTokens(vocab, vocabFile, s);
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: 'A' | 'B') => ({ Sequence: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials
      .map((t) => ({ id: vocab.get(t)!, content: t, single_word: false, lstrip: t === s.mask, rstrip: false, normalized: false, special: true }))
      .sort((a, b) => a.id - b.id),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(s.cls), sequence('A'), special(s.sep)],
      pair: [special(s.cls), sequence('A'), special(s.sep), special(s.sep), sequence('B'), special(s.sep)],
      special_tokens: Object.fromEntries([s.cls, s.sep].map((t) => [t, { id: t, ids: [vocab.get(t)!], tokens: [t] }])),
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: vocab.has(s.unk) ? s.unk : null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}
