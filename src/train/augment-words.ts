/**
 * Words for data augmentation (augment.ts): a WordPiece vocabulary with its normalization, BERT's basic
 * tokenization with character offsets into the original text, and which vocabulary tokens are whole words that
 * may replace, or be replaced by, another word.
 *
 * Word splitting follows BERT's BasicTokenizer (and `tokenizers`' BertNormalizer + BertPreTokenizer): words are
 * separated by whitespace, every punctuation character (ASCII symbols and Unicode category P) is a token of its own,
 * CJK ideographs are single-character words; lower-casing (an uncased vocabulary) also strips accents, and control
 * characters are dropped. A word is ONE WordPiece token exactly when its normalized form is in the vocabulary
 * (WordPiece matches the longest prefix first, so a whole word in the vocabulary is never split).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, SettingsError, quotedText } from '../errors.ts';
import { readVocabFile } from '../eval/wordpiece-vocab.ts';
import { readJsonObject } from '../eval/model-files.ts';
import { bertNormalizerLowercase, folderTokenizerJson, isChineseChar, lowercaseEachChar, sentencePieceFile } from '../eval/tokenizer.ts';
import { UNICODE8_NONSPACING_MARK, UNICODE8_OTHER, UNICODE8_PUNCTUATION } from '../eval/unicode-categories-table.ts';
import { normalizedAsTokenizers } from '../eval/unicode-normalization.ts';
import { SENTENCEPIECE_FILES } from '../onnx/locate.ts';

/** A WordPiece vocabulary, as augmentation uses it. */
export interface WordVocab {
  /** Token of each id (id = index). */
  readonly tokens: readonly string[];
  /** Id of each token (the first, when a token appears twice). */
  readonly ids: ReadonlyMap<string, number>;
  /** Whether words are lower-cased and accent-stripped before lookup (an uncased vocabulary). */
  readonly lowercase: boolean;
  /** Where it came from, for messages. */
  readonly source: string;
}

/**
 * A vocabulary from tokens in id order; `lowercase` defaults to true (bert-base-uncased and the shared teachers).
 */
export function wordVocab(tokens: readonly string[], opts: { lowercase?: boolean; source?: string } = {}): WordVocab {
  if (tokens.length === 0) throw new SettingsError('augmentation: empty vocabulary');
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  return { tokens, ids, lowercase: opts.lowercase ?? true, source: opts.source ?? 'vocabulary list' };
}

/**
 * The object of the tokenizer.json file `file` as parsed: a folder's tokenizer.json through the reading eval, training
 * and a sweep's plan share (folderTokenizerJson, kept while the folder's files are unchanged), so that augmentation
 * parses it no more; a file of another name read here.
 */
function tokenizerJsonObject(file: string): Record<string, unknown> {
  const parsed = basename(file) === 'tokenizer.json' ? folderTokenizerJson(dirname(file))?.parsed : undefined;
  return parsed ?? readJsonObject(file);
}

/**
 * Loads the WordPiece vocabulary of a model or tokenizer folder, or of a vocab.txt / tokenizer.json path: vocab.txt
 * when present, else tokenizer.json's WordPiece `model.vocab`. Lower-casing as eval reads it (lowercaseSetting), else true.
 */
export function loadWordVocab(path: string): WordVocab {
  if (!existsSync(path)) throw new DataError(`${path}: no such file or folder`);
  const isFile = statSync(path).isFile();
  const dir = isFile ? dirname(path) : path;
  if (isFile && basename(path) === 'vocab.json') {
    throw new SettingsError(`${path}: augmentation needs a WordPiece vocabulary (vocab.json with merges.txt is a byte-level BPE one)`);
  }
  const vocabTxt = isFile ? (basename(path).endsWith('.json') ? null : path) : join(dir, 'vocab.txt');
  const tokenizerJson = isFile ? (basename(path).endsWith('.json') ? path : null) : join(dir, 'tokenizer.json');
  // (a SentencePiece model given, or a folder's only vocabulary; read as vocab.txt it would be lines of bytes)
  const sentencePiece = isFile
    ? SENTENCEPIECE_FILES.includes(basename(path)) && path
    : !existsSync(vocabTxt!) && !existsSync(tokenizerJson!) && sentencePieceFile(dir);
  if (sentencePiece) throw new SettingsError(`${sentencePiece}: augmentation needs a WordPiece vocabulary (${basename(sentencePiece)} is a SentencePiece one)`);
  const json = tokenizerJson && existsSync(tokenizerJson) ? tokenizerJsonObject(tokenizerJson) : null;
  let lowercase = lowercaseSetting(dir, json);
  if (vocabTxt && existsSync(vocabTxt)) {
    const map = readVocabFile(vocabTxt);
    const tokens: string[] = [];
    for (const [t, id] of map) tokens[id] = t;
    // Lines repeated in vocab.txt keep their ids (readVocabFile maps the token to its last line, as transformers).
    for (let i = 0; i < tokens.length; i++) tokens[i] ??= `[duplicate${i}]`;
    return wordVocab(tokens, { lowercase: lowercase ?? true, source: vocabTxt });
  }
  if (json) {
    const model = json.model as { type?: unknown; vocab?: unknown } | undefined;
    if (model?.type !== 'WordPiece' || !model.vocab || typeof model.vocab !== 'object' || Array.isArray(model.vocab)) {
      throw new SettingsError(`${tokenizerJson}: augmentation needs a WordPiece vocabulary (model.type is ${String(model?.type)})`);
    }
    const tokens: string[] = [];
    for (const [t, id] of Object.entries(model.vocab as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new DataError(`${tokenizerJson}: bad id ${String(id)} for token ${quotedText(t)}`);
      tokens[id] = t;
    }
    for (let i = 0; i < tokens.length; i++) tokens[i] ??= `[missing${i}]`;
    lowercase ??= true;
    return wordVocab(tokens, { lowercase, source: tokenizerJson! });
  }
  throw new DataError(`${path}: no vocab.txt or tokenizer.json to read the vocabulary from`);
}

/**
 * Whether the folder's words are lower-cased: as its tokenizer.json's BertNormalizer is read for eval
 * (bertNormalizerLowercase: tokenizer_config.json's do_lower_case, else its class's default, else the file's), else
 * tokenizer_config.json's do_lower_case, else tokenizer.json's normalizer's lowercase; undefined where none says.
 */
function lowercaseSetting(dir: string, json: Record<string, unknown> | null): boolean | undefined {
  const read = json === null ? undefined : bertNormalizerLowercase(dir, json);
  if (read !== undefined) return read;
  const config = join(dir, 'tokenizer_config.json');
  if (existsSync(config)) {
    const v = readJsonObject(config).do_lower_case;
    if (typeof v === 'boolean') return v;
  }
  const normalizer = json?.normalizer as { type?: unknown; lowercase?: unknown } | null | undefined;
  if (normalizer && typeof normalizer.lowercase === 'boolean') return normalizer.lowercase;
  return undefined;
}

/** One basic token of a text: [start, end) in UTF-16 units of the original text. */
export interface BasicToken {
  readonly start: number;
  readonly end: number;
  /** A punctuation character (always a token of its own). */
  readonly punct: boolean;
}

const ASCII_PUNCT = /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/;
/**
 * Unicode's punctuation as tokenizers' BertPreTokenizer reads it (the unicode_categories crate's P categories, Unicode
 * 8.0), as eval's tokenizer does (3cf1dfe8): a mark assigned since (U+061D, U+2E43) splits no word.
 */
const UNICODE_PUNCT = new RegExp(`[${UNICODE8_PUNCTUATION}]`, 'u');
/** Whitespace as tokenizers' BertNormalizer and BertPreTokenizer read it (char::is_whitespace: White_Space). */
const WHITESPACE = /\p{White_Space}/u;
/**
 * What tokenizers' BertNormalizer drops from the text (clean_text: NUL, U+FFFD and control characters, its is_other:
 * Cc, Cf and Co of Unicode 8.0's tables, as eval's tokenizer reads them, and a lone surrogate; but \t, \n and \r,
 * which are whitespace), before it reads whitespace: U+FEFF or U+0085 inside a word leaves one word.
 */
const DROPPED = new RegExp(`(?![\\t\\n\\r])[\\ufffd${UNICODE8_OTHER}\\p{Cs}]`, 'u');
/** The accents an uncased vocabulary's BertNormalizer strips after NFD: Unicode 8.0's nonspacing marks, as eval's tokenizer. */
const NONSPACING_MARKS = new RegExp(`[${UNICODE8_NONSPACING_MARK}]`, 'gu');
const DROPPED_ALL = new RegExp(DROPPED.source, 'gu');

function isPunct(ch: string): boolean {
  return ASCII_PUNCT.test(ch) || UNICODE_PUNCT.test(ch);
}

/** BERT's basic tokens of `text` (whitespace dropped), with their offsets in `text`. */
export function basicTokens(text: string): BasicToken[] {
  const out: BasicToken[] = [];
  let start = -1;
  let i = 0;
  const flush = (end: number) => {
    if (start >= 0) out.push({ start, end, punct: false });
    start = -1;
  };
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const next = i + ch.length;
    if (DROPPED.test(ch)) {
      // (dropped from the word it stands in, or alone: no word)
    } else if (WHITESPACE.test(ch)) {
      flush(i);
    } else if (isPunct(ch)) {
      flush(i);
      out.push({ start: i, end: next, punct: true });
    } else if (isChineseChar(cp)) {
      flush(i);
      out.push({ start: i, end: next, punct: false });
    } else if (start < 0) {
      start = i;
    }
    i = next;
  }
  flush(text.length);
  return out;
}

/**
 * A word as the vocabulary is looked up: control characters dropped (DROPPED); if uncased, accents stripped and each
 * character lower-cased by itself, as tokenizers' BertNormalizer (a capital sigma ending a word gives σ, not ς).
 */
export function normalizeWord(word: string, lowercase: boolean): string {
  const clean = word.replace(DROPPED_ALL, '');
  return lowercase ? lowercaseEachChar(normalizedAsTokenizers(clean, 'NFD').replace(NONSPACING_MARKS, '')) : clean;
}

const SPECIAL = /^\[[^\]]*\]$/;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * Whether a vocabulary token is a whole word that augmentation may put in a sentence or replace: not a special token
 * (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`, `[unusedN]`, anything in brackets), not a `##` continuation, with a
 * letter or digit, and such that the tokenizer maps it back to itself (already normalized, one basic token, no
 * punctuation).
 */
export function isWordToken(token: string, lowercase: boolean): boolean {
  if (token.length === 0 || token.startsWith('##') || SPECIAL.test(token) || !LETTER_OR_DIGIT.test(token)) return false;
  if (normalizeWord(token, lowercase) !== token) return false;
  const parts = basicTokens(token);
  return parts.length === 1 && !parts[0]!.punct && parts[0]!.start === 0 && parts[0]!.end === token.length;
}

/** For each id of the vocabulary (and below `limit`), 1 when it is a whole-word token (`isWordToken`). */
export function wordTokenMask(vocab: WordVocab, limit = vocab.tokens.length): Uint8Array {
  const mask = new Uint8Array(Math.min(limit, vocab.tokens.length));
  for (let i = 0; i < mask.length; i++) mask[i] = isWordToken(vocab.tokens[i]!, vocab.lowercase) ? 1 : 0;
  return mask;
}

/**
 * WordPiece ids of one basic token (greedy longest match first, `##` continuations, [UNK] for a word that cannot be
 * matched or is longer than 100 characters), as BERT's WordpieceTokenizer.
 */
export function wordPieceIds(vocab: WordVocab, word: string, unkId: number): number[] {
  if (word.length === 0) return [];
  if ([...word].length > 100) return [unkId];
  const out: number[] = [];
  let start = 0;
  while (start < word.length) {
    let end = word.length;
    let found = -1;
    while (end > start) {
      const piece = (start > 0 ? '##' : '') + word.slice(start, end);
      const id = vocab.ids.get(piece);
      if (id !== undefined) {
        found = id;
        break;
      }
      end--;
      // Do not cut a surrogate pair.
      if (end > start && /[\udc00-\udfff]/.test(word[end]!) && /[\ud800-\udbff]/.test(word[end - 1]!)) end--;
    }
    if (found < 0) return [unkId];
    out.push(found);
    start = end;
  }
  return out;
}

/** Puts `replacement` (a vocabulary word) in the case of the word it replaces: UPPER, Capitalized or as is. */
export function matchCase(original: string, replacement: string): string {
  const letters = original.replace(/[^\p{L}]/gu, '');
  if (letters.length === 0) return replacement;
  if (letters.length > 1 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) return replacement.toUpperCase();
  const first = letters[0]!;
  if (first !== first.toLowerCase() && first === first.toUpperCase()) return replacement.charAt(0).toUpperCase() + replacement.slice(1);
  return replacement;
}
