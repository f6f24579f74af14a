/**
 * TinyBERT's data augmentation (Jiao et al. 2020, "TinyBERT: Distilling BERT for Natural Language Understanding",
 * Algorithm 1), adapted: each training sentence gets N variants, in which every replaceable word is, with
 * probability p, replaced by one of its K most similar words (drawn uniformly). The variants are new unlabelled
 * examples for task-specific distillation: the teacher labels them (teacher-cache.ts), the student learns from
 * the teacher's outputs.
 *
 * Which words, and by what:
 *  - A sentence is split into words by BERT's basic tokenization (whitespace and punctuation, lower-cased for an
 *    uncased vocabulary); the output is the original text with some word spans replaced, so spacing, punctuation
 *    and the other words stay byte for byte (a replacement takes the case of the word it replaces).
 *  - Only words that are ONE WordPiece token are replaced (TinyBERT asks BERT's MLM for those). TinyBERT replaces
 *    multi-piece words by their nearest GloVe words; we have no GloVe, so multi-piece words (and unknown words)
 *    stay as they are. Punctuation, special tokens and words without a letter or digit stay too.
 *  - Similar words, by default: the K nearest neighbours, by cosine similarity, of the word's row in the teacher's
 *    own word-embedding table (`teacherWordEmbeddings`), among whole-word tokens: never the word itself, a special
 *    token ([CLS], [SEP], [PAD], [UNK], [MASK], [unusedN]), a `##` piece or punctuation. These neighbours do not
 *    depend on the context.
 *  - With `mlm` (a masked-LM graph whose output is scores [batch, seq, vocab]), as TinyBERT: the MLM's top-K
 *    predictions for the word masked in its sentence (fed as the pair masked / original), the same filters applied;
 *    context-dependent, one MLM row per word occurrence.
 *  - For a sentence pair, textA and textB are augmented independently and stay paired.
 *
 * Differences from TinyBERT's script (TinyBERT/data_augmentation.py): exactly N variants per source, each kept also
 * where it replaced nothing (the original text again) or repeats another (TinyBERT makes N tries, drops duplicates and
 * copies of the original and keeps the original in its output; callers add the originals, see
 * `augmentedTrainingSet`): on 1,000 SST-2 train sentences with 4 variants each (sst2-L2H256), 17% of the variants were the
 * original text; N is given (TinyBERT's per task: 20 for SST-2 and QNLI, 10 for MNLI and QQP, 30 for the others); a
 * pair's variant replaces words in both texts (TinyBERT writes the first text's variants beside the original second
 * text, then the second text's variants beside the first text's last variant); no
 * built-in stop-word list (`keepWords` gives one); words with digits or non-ASCII letters are replaceable too (its
 * `_is_valid` takes only words of the letters a-z); MLM candidates never include the word itself (nor special tokens
 * or punctuation), K of them after that filter, where its `_masked_language_model` takes the top K and then drops
 * only the `##` pieces, so the word itself stays a candidate (a replacement by the same word); the MLM source is a
 * library option only (`mlm`), the CLI and sweeps use the embedding neighbours; a replaced word draws its candidate
 * after the coin, not before (same distribution).
 *
 * Randomness: example i's variants of textA (textB) come from their own stream (seed, i), so they do not depend on
 * the other examples. `augmentedSet` caches the variants on disk under a SHA-256 of everything they depend on.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkIntegerOption, SettingsError } from '../errors.ts';
import { loadTokenizer, type TextTokenizer } from '../eval/tokenizer.ts';
import { examplesFromTable } from '../glue/dataset.ts';
import { readTsv } from '../glue/tsv.ts';
import { READ_CHUNK_BYTES, readLines, removeStaleTemporariesIn, writeFileAtomic } from '../files.ts';
import { EmbeddingNeighbours, checkEmbeddings, type WordEmbeddings } from './augment-neighbours.ts';
import { mlmCandidates, type MlmOptions, type MlmQuery } from './augment-mlm.ts';
import { basicTokens, loadWordVocab, matchCase, normalizeWord, wordPieceIds, wordTokenMask, wordVocab, type WordVocab } from './augment-words.ts';
import { examplesDigest, taskOf, tokenizeTexts, type TrainingSet } from './data.ts';
import { counterState, uniformIndex } from './random.ts';
import { Rng } from '../bert/random.ts';

export { EmbeddingNeighbours, normalizeRows, type WordEmbeddings } from './augment-neighbours.ts';
export type { MlmOptions } from './augment-mlm.ts';
export { basicTokens, isWordToken, loadWordVocab, wordVocab, type WordVocab } from './augment-words.ts';

/** TinyBERT's defaults: replacement probability p and candidates per word K. */
export const DEFAULT_AUGMENT_P = 0.4;
export const DEFAULT_AUGMENT_K = 15;

/** A source example: one sentence, or a pair (GLUE examples, with textB null, fit as they are). */
export interface AugmentSource {
  readonly textA: string;
  readonly textB?: string | null;
}

/** One variant: the index of its source example and its texts (textB when the source has one). */
export interface AugmentedExample {
  source: number;
  textA: string;
  textB?: string;
}

export interface AugmentOptions {
  examples: readonly AugmentSource[];
  /**
   * The teacher's WordPiece vocabulary (the ids of `embeddings` / the MLM): a model or tokenizer folder, a vocab.txt
   * or tokenizer.json path, the tokens in id order (uncased), or a loaded `WordVocab`. (A `TextTokenizer` does not
   * expose its vocabulary, so it cannot be used here.)
   */
  tokenizer: string | readonly string[] | WordVocab;
  /** The teacher's word-embedding table (`teacherWordEmbeddings(teacher)`); needed unless `mlm` is given. */
  embeddings?: WordEmbeddings;
  /** Variants per source example. */
  n: number;
  /** Probability that a replaceable word is replaced (default 0.4). */
  p?: number;
  /** Candidates per word (default 15). */
  k?: number;
  seed: number;
  /** Words (as the vocabulary spells them, e.g. lower-case) never replaced: a stop-word list. Default none. */
  keepWords?: Iterable<string>;
  /** Take candidates from a masked LM instead of the embedding table. */
  mlm?: MlmOptions;
  /** onnxruntime intra-op threads for the neighbour search / MLM (default: one per physical core). */
  threads?: number;
  /** Progress notes. */
  log?: (line: string) => void;
  /**
   * Called after each block of the embedding-neighbour search, the part that takes long on a large set (done, total
   * ids); a throw stops the augmentation there, nothing cached.
   */
  onBlock?: (done: number, total: number) => void;
}

/** A replaceable word of one text: its span and vocabulary id. */
interface Slot {
  start: number;
  end: number;
  id: number;
}

/** A text split into its replaceable words (and, for the MLM, its WordPiece ids and each slot's piece position). */
interface ParsedText {
  text: string;
  slots: Slot[];
  pieces?: number[];
  positions?: number[];
}

/** Generates `n` variants of every example (see the file comment), `n` consecutive entries per source, in order. */
export async function augmentExamples(o: AugmentOptions): Promise<AugmentedExample[]> {
  const s = checkOptions(o);
  const { vocab, candidates } = s;
  const keep = new Set([...(o.keepWords ?? [])].map((w) => normalizeWord(w, vocab.lowercase)));
  const unkId = vocab.ids.get('[UNK]') ?? 0;
  const parse = (text: string): ParsedText => parseText(text, vocab, candidates, keep, o.mlm ? unkId : null);
  const parsed = o.examples.map((e) => ({ a: parse(e.textA), b: typeof e.textB === 'string' ? parse(e.textB) : null }));

  // Candidates of each slot: per id (embedding neighbours) or per occurrence (MLM); none needed when nothing is drawn.
  const started = Date.now();
  let slotCandidates: (text: ParsedText, slot: number) => Int32Array;
  if (o.n === 0 || s.p === 0) {
    slotCandidates = () => new Int32Array(0);
  } else if (o.mlm) {
    const texts = parsed.flatMap((p) => (p.b ? [p.a, p.b] : [p.a]));
    const queries: MlmQuery[] = texts.map((t) => ({ pieces: t.pieces!, positions: t.positions! }));
    const answers = await mlmCandidates(queries, vocab, candidates, s.k, { ...(o.threads !== undefined ? { threads: o.threads } : {}), ...o.mlm });
    const byText = new Map(texts.map((t, i) => [t, answers[i]!]));
    slotCandidates = (t, i) => byText.get(t)![i]!;
    o.log?.(`MLM candidates of ${queries.reduce((n, q) => n + q.positions.length, 0)} words in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    const index = new EmbeddingNeighbours(o.embeddings!, {
      k: s.k,
      candidates,
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
      ...(o.onBlock ? { onBlock: o.onBlock } : {}),
    });
    const ids = new Set<number>();
    for (const p of parsed) for (const t of p.b ? [p.a, p.b] : [p.a]) for (const slot of t.slots) ids.add(slot.id);
    const table = await index.neighbours(ids);
    slotCandidates = (t, i) => table.get(t.slots[i]!.id)!;
    o.log?.(`nearest neighbours of ${ids.size} words in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  const out: AugmentedExample[] = [];
  parsed.forEach((p, i) => {
    const va = variants(p.a, o.n, s.p, Rng.fromState(counterState(o.seed, 'train/augment/a', i)), slotCandidates, vocab);
    const vb = p.b ? variants(p.b, o.n, s.p, Rng.fromState(counterState(o.seed, 'train/augment/b', i)), slotCandidates, vocab) : null;
    for (let v = 0; v < o.n; v++) out.push(vb ? { source: i, textA: va[v]!, textB: vb[v]! } : { source: i, textA: va[v]! });
  });
  return out;
}

interface CheckedOptions {
  vocab: WordVocab;
  candidates: Uint8Array;
  p: number;
  k: number;
}

function checkOptions(o: AugmentOptions): CheckedOptions {
  checkIntegerOption('augmentation: n', o.n, 0);
  const p = o.p ?? DEFAULT_AUGMENT_P;
  if (!(p >= 0 && p <= 1)) throw new SettingsError(`augmentation: p must be in [0, 1], got ${p}`);
  const k = o.k ?? DEFAULT_AUGMENT_K;
  checkIntegerOption('augmentation: k', k, 1);
  if (!Number.isSafeInteger(o.seed)) throw new SettingsError(`augmentation: seed must be a safe integer, got ${o.seed}`);
  const vocab = resolveVocab(o.tokenizer);
  let limit = vocab.tokens.length;
  if (!o.mlm) {
    if (!o.embeddings) throw new SettingsError('augmentation: give the teacher word embeddings (or an MLM)');
    checkEmbeddings(o.embeddings);
    if (o.embeddings.vocabSize < vocab.tokens.length) {
      throw new SettingsError(
        `augmentation: the vocabulary (${vocab.source}) has ${vocab.tokens.length} tokens, the embedding table only ${o.embeddings.vocabSize} rows`,
      );
    }
    limit = Math.min(limit, o.embeddings.vocabSize);
  }
  return { vocab, candidates: wordTokenMask(vocab, limit), p, k };
}

/** A vocabulary from any of the forms `AugmentOptions.tokenizer` takes. */
export function resolveVocab(v: AugmentOptions['tokenizer']): WordVocab {
  if (typeof v === 'string') return loadWordVocab(v);
  if (Array.isArray(v)) return wordVocab(v as readonly string[]);
  return v as WordVocab;
}

/** The replaceable words of a text (and its WordPiece ids when `unkId` is given, for the MLM). */
function parseText(text: string, vocab: WordVocab, candidates: Uint8Array, keep: ReadonlySet<string>, unkId: number | null): ParsedText {
  const slots: Slot[] = [];
  const pieces: number[] = [];
  const positions: number[] = [];
  for (const t of basicTokens(text)) {
    const word = normalizeWord(text.slice(t.start, t.end), vocab.lowercase);
    const id = vocab.ids.get(word);
    const replaceable = !t.punct && id !== undefined && candidates[id] === 1 && !keep.has(word);
    if (replaceable) {
      slots.push({ start: t.start, end: t.end, id });
      positions.push(pieces.length);
    }
    if (unkId !== null) {
      if (id !== undefined) pieces.push(id);
      else pieces.push(...wordPieceIds(vocab, word, unkId));
    }
  }
  return unkId === null ? { text, slots } : { text, slots, pieces, positions };
}

/** `n` variants of one text. */
function variants(t: ParsedText, n: number, p: number, rng: Rng, slotCandidates: (t: ParsedText, slot: number) => Int32Array, vocab: WordVocab): string[] {
  const out: string[] = [];
  for (let v = 0; v < n; v++) {
    let text = '';
    let at = 0;
    t.slots.forEach((slot, i) => {
      if (!(rng.nextFloat() < p)) return;
      const c = slotCandidates(t, i);
      if (c.length === 0) return;
      const word = vocab.tokens[c[uniformIndex(rng, c.length)]!]!;
      const original = t.text.slice(slot.start, slot.end);
      text += t.text.slice(at, slot.start) + (vocab.lowercase ? matchCase(original, word) : word);
      at = slot.end;
    });
    out.push(text + t.text.slice(at));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Cache

/** The cache files' format, in their key: 2 since augmentation splits words as tokenizers' BertNormalizer does (stop 50). */
const CACHE_FORMAT = 'augmented-examples/2';

export interface AugmentedSetOptions extends AugmentOptions {
  /** Folder of the cache files (created when needed). */
  cacheDir: string;
}

export interface AugmentedSet {
  readonly examples: AugmentedExample[];
  /** Hex SHA-256 of everything the variants depend on (the cache key). */
  readonly key: string;
  readonly file: string;
  /** Whether the examples were read from the cache. */
  readonly cached: boolean;
}

/**
 * `augmentExamples`, computed once and stored as JSON lines (a header `{format, key, count}`, then one example per
 * line) in `cacheDir/augmented-KEY.jsonl`, written atomically; a later call with the same inputs reads the file.
 * A file that is truncated or written for another key is recomputed. The temporaries that runs killed while writing
 * a cache file in `cacheDir` left are removed. The file is written piece by piece and read
 * line by line: never one string, so any size of file works (past V8's ~512M characters of a string).
 */
export async function augmentedSet(options: AugmentedSetOptions): Promise<AugmentedSet> {
  const o = { ...options, tokenizer: resolveVocab(options.tokenizer) };
  const key = augmentCacheKey(o);
  const file = augmentCacheFile(o.cacheDir, key);
  const count = o.examples.length * o.n;
  // (once per call: what runs killed while writing any cache file here left, a file of other settings, or one another
  // run wrote meanwhile, which this run then reads and never writes)
  removeStaleTemporariesIn(o.cacheDir);
  if (existsSync(file)) {
    const read = readAugmentCache(file, key, count);
    if (typeof read !== 'string') {
      o.log?.(`augmented examples from cache ${file}`);
      return { examples: read, key, file, cached: true };
    }
    o.log?.(`${file}: ${read}; recomputing`);
  }
  const examples = await augmentExamples(o);
  writeAugmentCache(file, key, examples);
  o.log?.(`${examples.length} augmented examples computed and cached in ${file}`);
  return { examples, key, file, cached: false };
}

/**
 * The cache key: SHA-256 of the embedding table's bytes (or the MLM graph's), the vocabulary, the source texts,
 * n, p, k, the seed and the words kept.
 */
export function augmentCacheKey(o: AugmentOptions): string {
  const vocab = resolveVocab(o.tokenizer);
  const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
  const e = o.embeddings;
  const mlmBytes = o.mlm ? (typeof o.mlm.model === 'string' ? readFileSync(o.mlm.model) : o.mlm.model) : null;
  const texts = createHash('sha256');
  for (const x of o.examples) texts.update(JSON.stringify([x.textA, x.textB ?? null])).update('\n');
  const parts = {
    format: CACHE_FORMAT,
    source: o.mlm
      ? { mlm: sha(mlmBytes!), output: o.mlm.output ?? null, maxLength: o.mlm.maxLength ?? 128 }
      : {
          embeddings: e ? sha(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength)) : null,
          vocabSize: e?.vocabSize ?? null,
          width: e?.width ?? null,
        },
    vocab: sha(vocab.tokens.join('\n')),
    lowercase: vocab.lowercase,
    examples: texts.digest('hex'),
    n: o.n,
    p: o.p ?? DEFAULT_AUGMENT_P,
    k: o.k ?? DEFAULT_AUGMENT_K,
    seed: o.seed,
    keepWords: [...new Set(o.keepWords ?? [])].sort(),
  };
  return sha(JSON.stringify(parts));
}

/** The cache file of a key. */
export function augmentCacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `augmented-${key}.jsonl`);
}

/** Characters of cache lines joined into one piece of the file as it is written. */
export const CACHE_CHUNK_CHARS = 1 << 20;

/**
 * The cache file's bytes, in pieces of whole lines of about `chunkChars` characters each: the header
 * `{format, key, count}`, then one example per line. Never the whole file as one string, which past V8's limit on
 * strings (about 512M characters: MNLI with --augment 10) cannot be made.
 */
export function* augmentCacheChunks(
  key: string,
  examples: readonly AugmentedExample[],
  chunkChars = CACHE_CHUNK_CHARS,
): Generator<Uint8Array, void, undefined> {
  const encoder = new TextEncoder();
  let piece = `${JSON.stringify({ format: CACHE_FORMAT, key, count: examples.length })}\n`;
  for (const e of examples) {
    if (piece.length >= chunkChars) {
      yield encoder.encode(piece);
      piece = '';
    }
    piece += `${JSON.stringify(e)}\n`;
  }
  yield encoder.encode(piece);
}

/**
 * Writes the cache file of `key` atomically, piece by piece (`augmentCacheChunks`); what runs killed while writing it
 * left, augmentedSet removed before (removeStaleTemporariesIn over the cache folder).
 */
export function writeAugmentCache(file: string, key: string, examples: readonly AugmentedExample[], chunkChars = CACHE_CHUNK_CHARS): void {
  writeFileAtomic(file, augmentCacheChunks(key, examples, chunkChars));
}

/** The examples of a cache file (read line by line, `chunkBytes` at a time), or why it cannot be used. */
export function readAugmentCache(file: string, key: string, count: number, chunkBytes = READ_CHUNK_BYTES): AugmentedExample[] | string {
  const lines = readLines(file, chunkBytes);
  let header: { format?: unknown; key?: unknown; count?: unknown };
  try {
    header = JSON.parse(lines.next().value ?? '');
  } catch {
    lines.return();
    return 'unreadable header';
  }
  if (header.format !== CACHE_FORMAT || header.key !== key) {
    lines.return();
    return 'written for another key';
  }
  if (header.count !== count) {
    lines.return();
    return `holds ${String(header.count)} examples, expected ${count}`;
  }
  const out: AugmentedExample[] = [];
  let examples = 0;
  // (a return from the loop closes the file)
  for (const line of lines) {
    if (++examples > count) continue; // (counted only, for the message)
    let e: AugmentedExample;
    try {
      e = JSON.parse(line);
    } catch {
      return `line ${examples + 1} is not JSON`;
    }
    if (!e || typeof e.textA !== 'string' || !Number.isInteger(e.source) || (e.textB !== undefined && typeof e.textB !== 'string'))
      return `line ${examples + 1} is not an example`;
    out.push(e);
  }
  return examples === count ? out : `holds ${examples} examples, expected ${count}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Training examples

/** The texts of a training set's examples, in the set's order (re-read from the file the set was read from). */
export function trainingTexts(set: TrainingSet): AugmentSource[] {
  const task = taskOf(set, 'augmentation');
  const spec = task.splits[set.split];
  if (!spec) throw new SettingsError(`task ${task.name} has no ${set.split} split`);
  const all = examplesFromTable(task, spec, readTsv(set.file, spec.headerlessColumns ? { headerlessColumns: spec.headerlessColumns } : {})).examples;
  return Array.from(set.sourceRows, (row) => {
    const e = all[row]!;
    return e.textB === null ? { textA: e.textA } : { textA: e.textA, textB: e.textB };
  });
}

export interface AugmentedTrainingSetOptions {
  /** Put the base set's examples (with their labels) first, as TinyBERT's augmented files hold them. Default true. */
  includeOriginal?: boolean;
}

/**
 * A training set of the augmented examples of `base` (whose `trainingTexts` were augmented; `source` indexes
 * `base.examples`), tokenized with `tokenizer` (the student's, as `base` was) and `base.maxLength`. Augmented
 * examples have label NaN, so train on the teacher's outputs only (distillation with alpha = 0). Its `sha256`
 * covers the base set's and every example's ids, so `teacherLogits` caches the teacher's outputs on it.
 */
export function augmentedTrainingSet(
  base: TrainingSet,
  augmented: readonly AugmentedExample[],
  tokenizer: TextTokenizer | string,
  opts: AugmentedTrainingSetOptions = {},
): TrainingSet {
  const includeOriginal = opts.includeOriginal ?? true;
  const tok = typeof tokenizer === 'string' ? loadTokenizer(tokenizer) : tokenizer;
  for (const e of augmented) {
    if (!(Number.isInteger(e.source) && e.source >= 0 && e.source < base.examples.length)) {
      throw new SettingsError(`augmented example of source ${e.source}: the base set has ${base.examples.length} examples`);
    }
  }
  const added = tokenizeTexts(augmented, tok, base.maxLength, () => Number.NaN);
  const examples = includeOriginal ? [...base.examples, ...added] : added;
  const sourceRows = Int32Array.from([...(includeOriginal ? base.sourceRows : []), ...augmented.map((e) => base.sourceRows[e.source]!)]);
  const header = JSON.stringify({ format: 'augmented-training-set/2', base: base.sha256, maxLength: base.maxLength, includeOriginal });
  return { ...base, padId: tok.padId, examples, sourceRows, sha256: examplesDigest([header], examples) };
}
