/**
 * Builds a Hugging Face `tokenizer.json` for a byte-level BPE vocabulary saved the slow tokenizers' way (`vocab.json`
 * and `merges.txt`, as many RoBERTa fine-tunes ship without a tokenizer.json), the structure transformers' `convert_slow_tokenizer.RobertaConverter` writes: no normalizer, the
 * ByteLevel pre-tokenizer (`add_prefix_space` per tokenizer_config.json, default false as RobertaTokenizer's), BPE
 * over the vocabulary and merges, and the `<s> A </s></s> B </s>` template (token types all 0, as RoBERTa's).
 */
import { readFileSync } from 'node:fs';
import { counted, DataError, fsReason, quotedText, valueText } from '../errors.ts';
import { jsonTopLevelNumbers, utf8Json, utf8Text, withoutBom } from '../files.ts';
import { pythonSplit } from '../python-int.ts';
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

/** `file`'s bytes; a one-line DataError where it cannot be read. */
function fileBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new DataError(`${file}: cannot read it (${fsReason(e)})`, { cause: e });
  }
}

/** `file`'s UTF-8 text, a BOM kept. */
function fileText(file: string): string {
  return utf8Text(fileBytes(file), file);
}

/** The largest token id tokenizers takes (its ids are u32). */
const MAX_TOKEN_ID = 0xffffffff;

/** Where a JSON text may hold a number with a fraction or exponent after a key (a cheap look before jsonTopLevelNumbers). */
const MAYBE_FLOAT_VALUE = /:\s*-?\d+[.eE]/;

/**
 * vocab.json: token → id, read as every Hugging Face JSON file is (utf8Json: text that is not JSON refused at its line
 * and column). A one-line DataError for a file that is not such an object, or whose id is not a whole number ≥ 0 or
 * past 2^32 − 1 (tokenizers' ids are 32-bit), or is written with a fraction or exponent (1.0, 1e0): transformers' RobertaTokenizer and GPT2Tokenizer json.load it
 * (1.0 a float) and their converters give the dict to tokenizers' BPE, whose vocabulary takes integers alone
 * ('float' object cannot be interpreted as an integer), so transformers fails to load the folder.
 */
function readBpeVocab(file: string): Map<string, number> {
  const { json, text } = utf8Json(fileBytes(file), file);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new DataError(`${file}: not a JSON object of token ids`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new DataError(`${file}: token ${quotedText(token)} has id ${valueText(id)}, not a whole number ≥ 0`);
    // (transformers gives the dict to tokenizers' BPE, whose vocabulary takes ids of 32 bits: a larger one fails the load)
    if (id > MAX_TOKEN_ID)
      throw new DataError(
        `${file}: token ${quotedText(token)} has id ${valueText(id)}, past 2^32 − 1 (${MAX_TOKEN_ID}), the largest id tokenizers' BPE takes (its ids are 32-bit), so transformers fails to load the folder`,
      );
    vocab.set(token, id);
  }
  if (MAYBE_FLOAT_VALUE.test(text))
    for (const [token, written] of jsonTopLevelNumbers(text))
      if (/[.eE]/.test(written))
        throw new DataError(
          `${file}: token ${quotedText(token)} has id ${written}, a float to Python's json, where transformers gives vocab.json's ids to tokenizers' BPE, which takes integers alone, and fails to load the folder ('float' object cannot be interpreted as an integer): write it as ${vocab.get(token)}`,
        );
  return vocab;
}

/** A merge of merges.txt: its two tokens (no whitespace in either: written "a b" in tokenizer.json), and the line of the file (from 1) that holds it. */
export interface BpeMerge {
  pair: [string, string];
  line: number;
}

/**
 * merges.txt's lines as transformers 4.x's RobertaTokenizer and GPT2Tokenizer read them, `read().split("\n")[1:-1]` of
 * the file opened in text mode: split where Python's universal newlines end a line ('\r\n', a lone '\r', '\n'), the
 * first line dropped whatever it holds (most files' '#version: 0.2'), the last too (empty after a final newline; where
 * the file ends in none, its last merge).
 */
function mergesLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).slice(1, -1);
}

/**
 * merges.txt's merges (`file`, whose text is `text`) as transformers 4.x reads them (mergesLines): each line read as
 * `tuple(line.split())` (its words between Python's whitespace), a merge listed twice keeping its first place
 * (RobertaConverter and GPT2Converter give tokenizers `list(bpe_ranks.keys())`, a dict's keys in the order first set).
 * A line that is not two words (an empty one, as two newlines at the file's end leave) is a one-line DataError naming
 * it, as tokenizers' BPE takes only merges of two tokens and transformers fails to load such a file.
 */
export function readBpeMerges(file: string, text = fileText(file)): BpeMerge[] {
  const merges = new Map<string, BpeMerge>();
  for (const [i, written] of mergesLines(text).entries()) {
    const line = i + 2;
    const words = pythonSplit(written);
    if (words.length !== 2)
      throw new DataError(
        `${file}: line ${line} ${words.length === 0 ? (written === '' ? 'is empty' : 'is blank') : `(${quotedText(written)}) holds ${counted(words.length, 'token')}`}, where transformers reads each line between the first and the last as a merge of two tokens and fails to load the file (tokenizers' BPE takes merges of two tokens alone): remove the line or write it as two tokens`,
      );
    const key = JSON.stringify(words);
    if (!merges.has(key)) merges.set(key, { pair: [words[0]!, words[1]!], line });
  }
  return [...merges.values()];
}

/**
 * Throws a one-line DataError for a merge of `merges` (from `file`) whose tokens or whose merged token `vocab` lacks,
 * as tokenizers' BpeBuilder refuses it ('Token `x` out of vocabulary') and transformers fails to load the folder.
 */
function checkMergesInVocab(merges: readonly BpeMerge[], vocab: ReadonlyMap<string, number>, file: string, vocabFile: string): void {
  for (const { pair, line } of merges) {
    const missing = [pair[0], pair[1], pair[0] + pair[1]].find((t) => !vocab.has(t));
    if (missing !== undefined)
      throw new DataError(
        `${file}: line ${line}'s merge ${quotedText(`${pair[0]} ${pair[1]}`)} ${missing === pair[0] + pair[1] ? 'makes' : 'holds'} ${quotedText(missing)}, which ${vocabFile} lacks: transformers fails to load the folder (tokenizers: 'Token \`${missing}\` out of vocabulary'); add it to the vocabulary or remove the merge`,
      );
  }
}

/**
 * How transformers 4.x reads `file`'s merges (readBpeMerges, checked against `vocabFile`'s vocabulary) beside how
 * compress read them before tokenizer reading version 40 (its non-empty lines split at '\n', a '\r' before it dropped,
 * a first line of '#version' left out; each merge taken by @huggingface/tokenizers as its text's split(' ', 2), a merge
 * listed twice ranked at its last place): 'refused' where transformers fails to load them, 'otherwise' where the merges
 * or their order differ, 'same' where they agree. A vocab.json that cannot be read throws its own DataError.
 */
export function mergesReading(file: string, vocabFile: string): 'same' | 'otherwise' | 'refused' {
  const vocab = readBpeVocab(vocabFile);
  const text = fileText(file);
  let now: string[];
  try {
    const merges = readBpeMerges(file, text);
    checkMergesInVocab(merges, vocab, file, vocabFile);
    now = merges.map((m) => JSON.stringify(m.pair));
  } catch (e) {
    if (e instanceof DataError) return 'refused';
    throw e;
  }
  const before = new Map<string, number>();
  for (const [i, line] of withoutBom(text)
    .split(/\r?\n/)
    .filter((l, j) => l !== '' && !(j === 0 && l.startsWith('#version')))
    .entries())
    before.set(JSON.stringify(line.split(' ', 2)), i);
  const ranked = [...before.entries()].sort((a, b) => a[1] - b[1]).map(([key]) => key);
  return ranked.length === now.length && ranked.every((key, i) => key === now[i]) ? 'same' : 'otherwise';
}

export interface ByteLevelBpeOptions {
  addPrefixSpace?: boolean;
  specialTokens?: BpeSpecialTokens;
}

/** The tokenizer.json object for `vocab.json` and `merges.txt` (read from `vocabFile`, `mergesFile`). */
export function byteLevelBpeTokenizerJson(vocabFile: string, mergesFile: string, opts: ByteLevelBpeOptions = {}): object {
  const vocab = readBpeVocab(vocabFile);
  const merges = readBpeMerges(mergesFile);
  checkMergesInVocab(merges, vocab, mergesFile, vocabFile);
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
      merges: merges.map((m) => m.pair.join(' ')),
    },
  };
}
