/**
 * Builds a Hugging Face `tokenizer.json` for a BERT WordPiece vocabulary (`vocab.txt`), the same structure that
 * transformers' `convert_slow_tokenizer.BertConverter` writes: BertNormalizer (lower-casing per `do_lower_case`),
 * BertPreTokenizer, WordPiece with `##` continuation and 100-character words, and the `[CLS] A [SEP] B [SEP]`
 * template with token types 0/1.
 */
import { basename } from 'node:path';
import { DataError, fsReason, quotedText } from '../errors.ts';
import { READ_CHUNK_BYTES, readLines, withoutBom } from '../files.ts';

/** The special tokens of a BERT vocabulary; defaults are bert-base's. */
export interface BertSpecialTokens {
  unk: string;
  cls: string;
  sep: string;
  pad: string;
  mask: string;
}

export const DEFAULT_BERT_SPECIAL_TOKENS: BertSpecialTokens = {
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  pad: '[PAD]',
  mask: '[MASK]',
};

export interface WordPieceOptions {
  doLowerCase: boolean;
  /** null: strip accents exactly when lower-casing (BERT's default). */
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  specialTokens?: BertSpecialTokens;
  /** The token type of [CLS] in both templates (0 where absent; 2 for Funnel's, as FunnelConverter writes it). */
  clsTypeId?: number;
  /**
   * MPNet's template and mask (MPNetConverter's): a pair's first text followed by two separators (`{cls}:0 $A:0
   * {sep}:0 {sep}:0 $B:1 {sep}:1`), and the mask token an added token that takes the spaces before it (lstrip).
   */
  mpnet?: boolean;
}

/**
 * Reads vocab.txt: one token per line, the id is the 0-based line number (as transformers' `load_vocab`). A line ends
 * at '\n', '\r\n' or a lone '\r', as the file's `readlines()` in Python's universal newlines mode splits it (since
 * tokenizer reading version 36; a lone '\r' was part of its token, every later token taking another id than
 * transformers'); a UTF-8 byte-order mark before the first token (a file saved on Windows) is no part of it, so that
 * `[PAD]` keeps its id 0 and the vocabulary equals the same one in tokenizer.json. The file is read line by line
 * (`readLines`, `chunkBytes` at a time), never held as one string; a file that cannot be read is a one-line
 * DataError, one whose line is not UTF-8 a NotUtf8Error naming the line (transformers' load_vocab fails on it with a
 * UnicodeDecodeError; since reading version 37, where its bytes were read as U+FFFD).
 */
export function readVocabFile(file: string, chunkBytes = READ_CHUNK_BYTES): Map<string, number> {
  try {
    return vocabFromLines(readLines(file, chunkBytes, { strictUtf8: true }), file);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: cannot read it: ${fsReason(e)}`, { cause: e });
  }
}

/**
 * The vocabulary of vocab.txt's lines (without their '\n'; a last empty line after the final '\n' left out). A token
 * on several lines has the id of its last, as transformers' `load_vocab` (and the fast tokenizer built from it, and
 * `tokenizers`' WordPiece file reader) gives it: the id the model was trained with.
 */
function vocabFromLines(lines: Iterable<string>, file: string): Map<string, number> {
  const vocab = new Map<string, number>();
  let i = 0;
  for (const line of lines) {
    for (const token of universalLines(i === 0 ? withoutBom(line) : line)) {
      vocab.set(token, i);
      i++;
    }
  }
  if (vocab.size === 0) throw new DataError(`${file}: empty vocabulary`);
  return vocab;
}

/**
 * The lines of `line` (a line of the file without its '\n') as Python's universal newlines mode reads them: split at
 * each '\r', a '\r' ending it being the '\r' of a '\r\n' (or the file's last line end), no line of its own.
 */
function universalLines(line: string): string[] {
  if (!line.includes('\r')) return [line];
  const lines = line.split('\r');
  if (line.endsWith('\r')) lines.pop();
  return lines;
}

/**
 * Whether vocab.txt `file` holds a lone '\r' (one that ends no '\r\n'), at which readVocabFile ends a line since
 * tokenizer reading version 36 (universalLines: one rule for both), where it was read as part of a token.
 */
export function splitsAtLoneCarriageReturn(file: string): boolean {
  for (const line of readLines(file)) if (universalLines(line).length > 1) return true;
  return false;
}

/**
 * Refuses a vocabulary (`vocab`, read from `file`: vocab.txt, or a byte-level BPE's vocab.json) that lacks the
 * template's `cls` or `sep` token, in one line saying why and what to give. Every input holds them, and transformers
 * adds each as a new token after the vocabulary (PreTrainedTokenizer's _add_tokens: id len(vocab) and on), an id the
 * model never trained, past its word embedding's rows where they are the vocabulary's, on which torch fails; a
 * vocabulary without them is not the model's. The one refusal of both vocabularies' readers (wordPieceTokenizerJson,
 * byteLevelBpeTokenizerJson).
 */
export function checkTemplateTokens(vocab: ReadonlyMap<string, number>, file: string, special: { readonly cls: string; readonly sep: string }): void {
  for (const [t, role] of [
    [special.cls, 'which starts every input'],
    [special.sep, 'which ends every text'],
  ] as const) {
    if (!vocab.has(t))
      throw new DataError(
        `${file}: the vocabulary has no ${quotedText(t)} token, ${role}: transformers would add it as a new token after the vocabulary, whose row the model's word embedding never trained (or lacks): give the model's own ${basename(file)}, or name its tokens in tokenizer_config.json (cls_token, sep_token)`,
      );
  }
}

/** The tokenizer.json object for a WordPiece vocabulary. */
export function wordPieceTokenizerJson(vocab: ReadonlyMap<string, number>, file: string, opts: WordPieceOptions): object {
  const special = opts.specialTokens ?? DEFAULT_BERT_SPECIAL_TOKENS;
  // (an unknown token the vocabulary lacks is no refusal here: tokenizers builds such a model and fails only on a text
  // holding a piece the vocabulary does not spell, as tokenizerFromJson does per text)
  checkTemplateTokens(vocab, file, special);
  const addedTokens = [special.pad, special.unk, special.cls, special.sep, special.mask]
    .filter((t) => vocab.has(t))
    .map((t) => ({
      id: vocab.get(t)!,
      content: t,
      single_word: false,
      lstrip: opts.mpnet === true && t === special.mask,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((a, b) => a.id - b.id);
  const cls = { id: special.cls, ids: [vocab.get(special.cls)!], tokens: [special.cls] };
  const sep = { id: special.sep, ids: [vocab.get(special.sep)!], tokens: [special.sep] };
  const clsType = opts.clsTypeId ?? 0;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: opts.tokenizeChineseChars ?? true,
      strip_accents: opts.stripAccents ?? null,
      lowercase: opts.doLowerCase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: special.cls, type_id: clsType } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: special.sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: special.cls, type_id: clsType } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: special.sep, type_id: 0 } },
        ...(opts.mpnet ? [{ SpecialToken: { id: special.sep, type_id: 0 } }] : []),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: special.sep, type_id: 1 } },
      ],
      special_tokens: { [special.cls]: cls, [special.sep]: sep },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: special.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}
