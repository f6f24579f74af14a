/**
 * How eval and training read a tokenizer has versions (src/eval/tokenizer-reading.ts), which a sweep point's key holds
 * where its tokenizer is one a change touched: a point evaluated with the older reading of such a tokenizer is stale
 * (kept, in the sweep's line, --dry-run and the report; recomputed with --rerun-stale), while a point of an ordinary
 * BERT tokenizer, which no change touched, keeps its key and its result.
 */
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TOKENIZER_READINGS, tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { bpeFiles, bpeTokenizerJson, loadTokenizer, vocabTokenizerJson } from '../../src/eval/tokenizer.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { pointKey } from '../../src/sweep/key.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { staleLine } from '../../src/cli/commands/sweep.ts';
import { loadReport } from '../../src/report/write.ts';
import { FAILED_INPUT_REFUSED_NOTE, FAILED_NOTE, FAILED_REFUSED_INPUT, FAILED_REFUSED_NOTE, mdLine, toMarkdown } from '../../src/report/table.ts';
import { runMain } from '../helpers/cli.ts';
import { storedPoints } from '../helpers/stored-points.ts';
import { hasTeachers, TEACHERS } from '../helpers/paths.ts';
import { ALBERT_SPECIAL_PIECES, identityCharsmap, sentencePieceModelBytes } from '../helpers/sentencepiece-model.ts';
import { writeQuickSweep, writeTinySweep, writeXlmModel, type TinySweep } from './tiny-sweep.ts';
import { PAIR_TRUNCATION_READING, PRECOMPILED_READING, readingVersionApart, readingVersionApartFromPairs } from '../helpers/tokenizer-readings.ts';

/** A precompiled_charsmap tokenizers reads (one that maps nothing), base64 as tokenizer.json holds it. */
const CHARSMAP = Buffer.from(identityCharsmap()).toString('base64');

/** A BERT tokenizer folder as transformers saves one (tokenizer.json, vocab.txt, its configs). */
const TEACHER = join(TEACHERS, 'sst2-L2H256');

/** The changes of the code running now, put back after a test that plays the code before them. */
const readings = TOKENIZER_READINGS as Array<(typeof TOKENIZER_READINGS)[number]>;
const released = [...readings];
afterEach(() => readings.splice(0, readings.length, ...released));

describe("the tokenizer readings' versions", () => {
  it('rise one by one from 2, each change its own version (two changes landed apart keep apart)', () => {
    expect(TOKENIZER_READINGS.map((r) => r.version)).toEqual(TOKENIZER_READINGS.map((_, i) => i + 2));
  });
});

describe.skipIf(!hasTeachers)("a tokenizer's reading version (needs ../shared/teachers)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tokenizer-reading-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A folder holding the teacher's tokenizer files, its tokenizer.json edited by `edit`, and `extra` files. */
  function folder(name: string, edit: (json: Record<string, unknown>) => void = () => {}, extra: Record<string, unknown> = {}): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) copyFileSync(join(TEACHER, f), join(dir, f));
    const json = JSON.parse(readFileSync(join(TEACHER, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    edit(json);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    for (const [f, v] of Object.entries(extra)) writeFileSync(join(dir, f), JSON.stringify(v));
    return dir;
  }
  const added = (json: Record<string, unknown>) => json.added_tokens as Array<Record<string, unknown>>;
  const vocab = (json: Record<string, unknown>) => (json.model as { vocab: Record<string, number> }).vocab;

  it('is 1 for an ordinary BERT tokenizer (tokenizer.json or vocab.txt alone) on single texts; 23 on pairs, whose truncation tokenizers 0.23 changed, 1 before it', () => {
    const dir = join(root, 'vocab-only');
    mkdirSync(dir);
    copyFileSync(join(TEACHER, 'vocab.txt'), join(dir, 'vocab.txt'));
    for (const d of [TEACHER, dir]) {
      expect([tokenizerReadingVersion(d, false), tokenizerReadingVersion(d, true)]).toEqual([1, PAIR_TRUNCATION_READING]);
      expect(readingVersionApartFromPairs(d, true)).toBe(1);
    }
  });

  it('is 2 for a tokenizer with added tokens other than special tokens its vocabulary lists under their ids', () => {
    const plain = folder('not-special', (j) =>
      added(j).push({ id: vocab(j).movie, content: 'movie', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false }),
    );
    expect(tokenizerReadingVersion(plain, false)).toBe(2);
    const moved = folder('moved-id', (j) => {
      const cls = added(j).find((t) => t.content === '[CLS]')!;
      cls.id = 5; // (tokenizers gives it the vocabulary's id on loading)
    });
    expect(tokenizerReadingVersion(moved, false)).toBe(2);
    const single = folder('single-word', (j) => {
      added(j).find((t) => t.content === '[MASK]')!.single_word = true;
    });
    expect(tokenizerReadingVersion(single, false)).toBe(2);
    // (a special token its config names that it lacks: added with the next id)
    const missing = folder('missing-special', () => {}, { 'special_tokens_map.json': { unk_token: '[UNK]', additional_special_tokens: ['[NEW]'] } });
    expect(tokenizerReadingVersion(missing, false)).toBe(2);
    // (a token of tokenizer_config.json's added_tokens_decoder that tokenizer.json lacks: added as transformers adds it)
    const config = JSON.parse(readFileSync(join(TEACHER, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const decoder = { ...(config.added_tokens_decoder as object), '30522': { content: '[NEW]', special: false, normalized: true } };
    const decoded = folder('decoder-added', () => {}, { 'tokenizer_config.json': { ...config, added_tokens_decoder: decoder } });
    expect(tokenizerReadingVersion(decoded, false)).toBe(2);
    const slow = join(root, 'slow-added');
    mkdirSync(slow);
    copyFileSync(join(TEACHER, 'vocab.txt'), join(slow, 'vocab.txt'));
    writeFileSync(join(slow, 'added_tokens.json'), JSON.stringify({ '[NEW]': 30522 }));
    expect(tokenizerReadingVersion(slow, false)).toBe(2);
  });

  it('is 2 on pairs alone for a post-processor whose pair tokenizers joins otherwise (RobertaProcessing, ByteLevel, none)', () => {
    const roberta = folder('roberta', (j) => {
      j.post_processor = { type: 'RobertaProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101], trim_offsets: true, add_prefix_space: false };
    });
    const none = folder('none', (j) => {
      j.post_processor = null;
    });
    const byteLevel = folder('byte-level', (j) => {
      j.post_processor = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    });
    for (const dir of [roberta, none, byteLevel]) expect([readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)]).toEqual([1, 2]);
  });

  it('is 13 for a post-processor tokenizers reads as another type than it says (a RobertaProcessing without trim_offsets as BertProcessing); 1 for a whole BertProcessing', () => {
    const sep = ['[SEP]', 102];
    const cls = ['[CLS]', 101];
    const partial = folder('roberta-partial', (j) => {
      j.post_processor = { type: 'RobertaProcessing', sep, cls, add_prefix_space: false };
    });
    const bertAsRoberta = folder('bert-as-roberta', (j) => {
      j.post_processor = { type: 'BertProcessing', sep, cls, trim_offsets: true, add_prefix_space: false };
    });
    const bert = folder('bert', (j) => {
      j.post_processor = { type: 'BertProcessing', sep, cls };
    });
    for (const dir of [partial, bertAsRoberta]) expect([readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)]).toEqual([13, 13]);
    expect([readingVersionApartFromPairs(bert, false), readingVersionApartFromPairs(bert, true)]).toEqual([1, 1]);
  });

  it('is 14 for a model tokenizers reads otherwise than as written (a WordLevel holding a continuing_subword_prefix, a model of no type)', () => {
    const model = (j: Record<string, unknown>) => j.model as Record<string, unknown>;
    const wordLevel = folder('word-level-prefix', (j) => {
      j.model = { type: 'WordLevel', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab: model(j).vocab };
    });
    const untyped = folder('untyped-word-piece', (j) => {
      j.model = Object.fromEntries(Object.entries(model(j)).filter(([k]) => k !== 'type'));
    });
    for (const dir of [wordLevel, untyped]) expect(tokenizerReadingVersion(dir, false)).toBe(14);
  });

  it('is 15 for a Unigram model of byte_fallback true holding byte pieces (its unknown pieces read as byte pieces); 4 for one of byte_fallback false (its unknown pieces fused per word) or holding no byte piece (the unknown token still)', () => {
    const unigram =
      (byteFallback: boolean, bytePieces = true) =>
      (j: Record<string, unknown>) => {
        // (é's two byte pieces after the vocabulary's tokens, which hold none)
        const pieces = [...Object.keys(vocab(j)), ...(bytePieces ? ['<0xC3>', '<0xA9>'] : [])].map((t) => [t, -1]);
        j.model = { type: 'Unigram', unk_id: vocab(j)['[UNK]'], byte_fallback: byteFallback, vocab: pieces };
        // (the template's special tokens of their pieces' ids, as their texts read: the list puts [CLS] elsewhere than 101)
        const specials = (j.post_processor as { special_tokens: Record<string, { ids: number[] }> }).special_tokens;
        for (const [text, entry] of Object.entries(specials)) entry.ids = [pieces.findIndex(([t]) => t === text)];
      };
    expect(tokenizerReadingVersion(folder('unigram-byte-fallback', unigram(true)), false)).toBe(15);
    expect(tokenizerReadingVersion(folder('unigram-no-byte-fallback', unigram(false)), false)).toBe(4);
    const noBytePieces = folder('unigram-byte-fallback-no-byte-pieces', unigram(true, false));
    expect(tokenizerReadingVersion(noBytePieces, false)).toBe(4);
    // (the ids of version 4, whose reading gave the unknown token: nothing to read again)
    expect(loadTokenizer(noBytePieces).encode('a é', null, 16).ids).toEqual(
      loadTokenizer(folder('unigram-no-byte-fallback-2', unigram(false, false))).encode('a é', null, 16).ids,
    );
  });

  it("is 19 for an added token of normalized true whose content the normalizer gives otherwise than @huggingface/tokenizers did (the BertNormalizer's 'ΟΣ' as 'οσ', not 'ος'); 2 where they agree or it is not normalized, 7 under an Nmt (read so since it was first read)", () => {
    const addedOne = (content: string, normalizer?: unknown) => (j: Record<string, unknown>) => {
      added(j).push({ id: 30522, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
      if (normalizer !== undefined) j.normalizer = normalizer;
    };
    expect(tokenizerReadingVersion(folder('added-sigma', addedOne('ΟΣ')), false)).toBe(19);
    expect(tokenizerReadingVersion(folder('added-sigma-lowercase', addedOne('ΟΣ', { type: 'Lowercase' })), false)).toBe(19);
    expect(tokenizerReadingVersion(folder('added-plain', addedOne('ΟΔΟ')), false)).toBe(2);
    // (7: its BertPreTokenizer now behind no normalizer cleaning the text)
    expect(tokenizerReadingVersion(folder('added-sigma-nmt', addedOne('ΟΣ', { type: 'Nmt' })), false)).toBe(7);
    // (not normalized: looked for in the text as written, by either reading)
    const unnormalized = folder('added-sigma-unnormalized', (j) => {
      added(j).push({ id: 30522, content: 'ΟΣ', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
    });
    expect(tokenizerReadingVersion(unnormalized, false)).toBe(2);
  });

  it('is 21 for a model whose unk_token its vocabulary lacks, which refuses a text holding a piece it does not know, as tokenizers fails on it, where the piece was read as another id; 1 where the vocabulary holds it', () => {
    const unk = (token: string) => (j: Record<string, unknown>) => {
      (j.model as Record<string, unknown>).unk_token = token;
    };
    const missing = folder('unk-missing', unk('[NOPE]'));
    expect(tokenizerReadingVersion(missing, false)).toBe(21);
    expect(tokenizerReadingVersion(folder('unk-held', unk('[UNK]')), false)).toBe(1);
    expect(loadTokenizer(missing).encode('the', null, 16).ids).toEqual(loadTokenizer(TEACHER).encode('the', null, 16).ids);
    expect(() => loadTokenizer(missing).encode('the ⌘', null, 16)).toThrow(/its WordPiece model's unk_token '\[NOPE\]' is not in its vocabulary/);
  });

  it("is 22 for a single_word added token of normalized true whose normalized text the model lists (the uncased BERT's 'hello' of 'Hello'), whose piece inside a word is now the model's id; 2 where it is not single_word", () => {
    const addedHello = (single_word: boolean) => (j: Record<string, unknown>) => {
      added(j).push({ id: 30522, content: 'Hello', single_word, lstrip: false, rstrip: false, normalized: true, special: false });
    };
    const single = folder('added-hello-single-word', addedHello(true));
    expect(tokenizerReadingVersion(single, false)).toBe(22);
    expect(tokenizerReadingVersion(folder('added-hello', addedHello(false)), false)).toBe(2);
    const hello = loadTokenizer(TEACHER).encode('hello', null, 16).ids[1];
    expect(loadTokenizer(single).encode('hello hellos', null, 16).ids.slice(1, 3)).toEqual([30522, hello]);
  });

  it("is 24 for a WordLevel model lacking an added token's content its splitter can miss (normalized false, behind a normalizer), whose word is now the unknown token; an earlier one where the token is normalized (always found) or no normalizer runs", () => {
    const wordLevel = (normalized: boolean) => (j: Record<string, unknown>) => {
      j.model = { type: 'WordLevel', vocab: vocab(j), unk_token: '[UNK]' };
      added(j).push({ id: 30522, content: 'zzqtok', single_word: false, lstrip: false, rstrip: false, normalized, special: false });
    };
    const unnormalized = folder('word-level-added-unnormalized', wordLevel(false));
    expect(tokenizerReadingVersion(unnormalized, false)).toBe(24);
    expect(tokenizerReadingVersion(folder('word-level-added-normalized', wordLevel(true)), false)).toBe(2);
    // (no normalizer: the text as written is the text normalized, where the token is found; 7: its BertPreTokenizer
    // now behind no normalizer cleaning the text)
    const bare = folder('word-level-added-no-normalizer', (j) => {
      wordLevel(false)(j);
      j.normalizer = null;
    });
    expect(tokenizerReadingVersion(bare, false)).toBe(7);
    expect(loadTokenizer(unnormalized).encode('ZZQTOK zzqtok', null, 16).ids.slice(1, 3)).toEqual([
      vocab(JSON.parse(readFileSync(join(TEACHER, 'tokenizer.json'), 'utf8')))['[UNK]'],
      30522,
    ]);
  });

  it('is 4 for a folder whose tokenizer_config.json says do_lowercase_and_remove_accent true, no longer applied; 1 with it false', () => {
    const config = JSON.parse(readFileSync(join(TEACHER, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const lowered = folder('xlm-lowercase', () => {}, { 'tokenizer_config.json': { ...config, do_lowercase_and_remove_accent: true } });
    const kept = folder('xlm-lowercase-false', () => {}, { 'tokenizer_config.json': { ...config, do_lowercase_and_remove_accent: false } });
    expect([tokenizerReadingVersion(lowered, false), tokenizerReadingVersion(kept, false)]).toEqual([4, 1]);
  });

  it('is read again when a tokenizer file changes, and is undefined for a folder without a tokenizer', () => {
    const dir = folder('edited');
    expect(tokenizerReadingVersion(dir, false)).toBe(1);
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    added(json).push({ id: 30522, content: '[NEW]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    writeFileSync(join(dir, 'tokenizer.json'), `${JSON.stringify(json)}\n`);
    expect(tokenizerReadingVersion(dir, false)).toBe(2);
    expect(tokenizerReadingVersion(join(root, 'gone'), false)).toBeUndefined();
  });
});

/** A WordLevel model of '<unk>' and 'a': that of the tokenizer.json files below whose model does not matter. */
const WORD_LEVEL = { type: 'WordLevel', unk_token: '<unk>', vocab: { '<unk>': 0, a: 1 } };

/**
 * The reading version (of single texts) of a tokenizer.json of each of `tokenizers` (its model WORD_LEVEL unless
 * given, no normalizer and no added tokens unless given, a tokenizer_config.json of `config` where given), by name, each written in a
 * folder of that name of a temporary root.
 */
function readingVersions(
  tokenizers: Record<
    string,
    { model?: object; preTokenizer: object | null; normalizer?: object | null; config?: object; modelConfig?: object; added?: object[] }
  >,
  leftOut: readonly number[] = [],
): Record<string, number | undefined> {
  const root = mkdtempSync(join(tmpdir(), 'tokenizer-json-reading-'));
  try {
    return Object.fromEntries(
      Object.entries(tokenizers).map(([name, { model = WORD_LEVEL, preTokenizer, normalizer = null, config, modelConfig, added = [] }]) => {
        const dir = join(root, name);
        mkdirSync(dir);
        if (config) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
        if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
        const json = { version: '1.0', added_tokens: added, normalizer, pre_tokenizer: preTokenizer, post_processor: null, decoder: null, model };
        writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
        return [name, readingVersionApart(dir, false, leftOut)];
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A Split on runs of whitespace, removed. */
const WHITESPACE = { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: false };

describe('a tokenizer whose model fuses unknown pieces', () => {
  it('is at reading version 4 where its pre-tokenizer can give several pre-tokens and no Metaspace of it splits (fused across them before); 1 otherwise', () => {
    const vocab = { '<unk>': 0, a: 1, b: 2 };
    const unigram = {
      type: 'Unigram',
      unk_id: 0,
      vocab: [
        ['<unk>', 0],
        ['▁', -1],
        ['a', -1],
      ],
    };
    expect(
      readingVersions({
        'bpe-fuse': { model: { type: 'BPE', unk_token: '<unk>', fuse_unk: true, vocab, merges: [] }, preTokenizer: WHITESPACE },
        'unigram-whitespace': { model: unigram, preTokenizer: WHITESPACE },
        'bpe-no-fuse': { model: { type: 'BPE', unk_token: '<unk>', fuse_unk: false, vocab, merges: [] }, preTokenizer: WHITESPACE },
        'unigram-none': { model: unigram, preTokenizer: null },
        'unigram-metaspace-whole': { model: unigram, preTokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false } },
        'unigram-metaspace-split': {
          model: unigram,
          preTokenizer: { type: 'Sequence', pretokenizers: [WHITESPACE, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
        },
      }),
    ).toEqual({
      'bpe-fuse': 4,
      'unigram-whitespace': 4,
      'bpe-no-fuse': 1,
      'unigram-none': 1,
      'unigram-metaspace-whole': 1,
      'unigram-metaspace-split': 1,
    });
  });
});

describe('a tokenizer with a Metaspace that splits in a Sequence within a Sequence', () => {
  it('is at reading version 28 (it splits now, as tokenizers does at any depth: one a Sequence holds split since version 3); without version 28, what the earlier ones gave it (4: its unknowns fused across pre-tokens)', () => {
    const unigram = {
      type: 'Unigram',
      unk_id: 0,
      vocab: [
        ['<unk>', 0],
        ['▁a', -1],
        ['a▁b', -1],
      ],
    };
    const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    const tokenizers = {
      nested: { model: unigram, preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Sequence', pretokenizers: [metaspace] }] } },
      'one-level': { model: unigram, preTokenizer: { type: 'Sequence', pretokenizers: [metaspace] } },
    };
    expect(readingVersions(tokenizers)).toEqual({ nested: 28, 'one-level': 3 });
    expect(readingVersions(tokenizers, [28])).toEqual({ nested: 4, 'one-level': 3 });
  });
});

describe('a tokenizer with a Metaspace of prepend_scheme first', () => {
  it("is at reading version 5 where the Metaspace follows another pre-tokenizer or a normalizer (its ▁ now before the text's first pre-token alone); 1 where it is alone", () => {
    const model = { type: 'BPE', unk_token: '<unk>', fuse_unk: false, vocab: { '<unk>': 0, '▁': 1, a: 2 }, merges: [] };
    const first = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
    expect(
      readingVersions({
        'after-whitespace': { model, preTokenizer: { type: 'Sequence', pretokenizers: [WHITESPACE, first] } },
        'behind-strip': { model, preTokenizer: first, normalizer: { type: 'Strip', strip_left: true, strip_right: true } },
        alone: { model, preTokenizer: first },
        'always-after-whitespace': { model, preTokenizer: { type: 'Sequence', pretokenizers: [WHITESPACE, { ...first, prepend_scheme: 'always' }] } },
      }),
      // (behind-strip: 9 too, as its Strip strips White_Space since stop 50)
    ).toEqual({ 'after-whitespace': 5, 'behind-strip': 9, alone: 1, 'always-after-whitespace': 1 });
  });

  it('is at reading version 25 behind a normalizer with an added token of normalized false (a text normalized to its content now gets the ▁); 5 where the token is normalized or no normalizer runs', () => {
    const model = { type: 'BPE', unk_token: '<unk>', fuse_unk: false, vocab: { '<unk>': 0, '▁': 1, a: 2 }, merges: [] };
    const first = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
    const token = (normalized: boolean) => [{ id: 3, content: 'a', single_word: false, lstrip: false, rstrip: false, normalized, special: false }];
    const lowercase = { type: 'Lowercase' };
    expect(
      readingVersions({
        unnormalized: { model, preTokenizer: first, normalizer: lowercase, added: token(false) },
        normalized: { model, preTokenizer: first, normalizer: lowercase, added: token(true) },
        'no-normalizer': { model, preTokenizer: { type: 'Sequence', pretokenizers: [WHITESPACE, first] }, added: token(false) },
      }),
    ).toEqual({ unnormalized: 25, normalized: 5, 'no-normalizer': 5 });
  });
});

describe('a tokenizer with a Punctuation pre-tokenizer', () => {
  it('is at reading version 5 where its behavior is not Contiguous (a run of punctuation now split as tokenizers splits it); 1 where it is', () => {
    const model = { type: 'WordLevel', unk_token: '<unk>', vocab: { '<unk>': 0, a: 1, ',': 2 } };
    expect(
      readingVersions({
        default: { model, preTokenizer: { type: 'Punctuation' } },
        'in-sequence': { model, preTokenizer: { type: 'Sequence', pretokenizers: [WHITESPACE, { type: 'Punctuation', behavior: 'Removed' }] } },
        contiguous: { model, preTokenizer: { type: 'Punctuation', behavior: 'Contiguous' } },
        whitespace: { model, preTokenizer: WHITESPACE },
      }),
    ).toEqual({ default: 5, 'in-sequence': 5, contiguous: 1, whitespace: 1 });
  });
});

describe('a tokenizer with a Whitespace, Digits, WhitespaceSplit or BertPreTokenizer pre-tokenizer', () => {
  it("is at reading version 6 (its words now the regex crate's Unicode ones, its digits Unicode's numbers, where they were ASCII ones); a WhitespaceSplit or BertPreTokenizer at 7 (now on White_Space, where it was JS's \\s), 1 behind a BertNormalizer cleaning the text", () => {
    expect(
      readingVersions({
        whitespace: { preTokenizer: { type: 'Whitespace' } },
        'in-sequence': { preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Whitespace' }] } },
        'whitespace-split': { preTokenizer: { type: 'WhitespaceSplit' } },
        digits: { preTokenizer: { type: 'Digits', individual_digits: true } },
        'bert-pre-tokenizer': { preTokenizer: { type: 'BertPreTokenizer' } },
        cleaned: {
          preTokenizer: { type: 'WhitespaceSplit' },
          normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
        },
        'not-cleaned': {
          preTokenizer: { type: 'BertPreTokenizer' },
          normalizer: {
            type: 'Sequence',
            normalizers: [{ type: 'BertNormalizer', clean_text: false, handle_chinese_chars: true, strip_accents: null, lowercase: true }],
          },
        },
      }),
    ).toEqual({ whitespace: 6, 'in-sequence': 7, 'whitespace-split': 7, digits: 6, 'bert-pre-tokenizer': 7, cleaned: 1, 'not-cleaned': 7 });
  });
});

describe('a tokenizer whose Split or Replace regex has a word escape outside a class, or whose normalizer strips', () => {
  it("is at reading version 9 (², ³, ¹, ¼, ½ and ¾ word characters outside a class again, as in Oniguruma, where version 8 read them as no word characters; a Strip of White_Space, where JS's trim took U+FEFF); 1 where its escapes are within a class or none, or its Strip follows a Precompiled", () => {
    const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
    expect(
      readingVersions(
        {
          'split-w': { preTokenizer: split('\\w+') },
          'in-sequence-b': {
            preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, split('\\b')] },
            normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
          },
          'replace-normalizer': { preTokenizer: null, normalizer: { type: 'Replace', pattern: { Regex: '\\W' }, content: '' } },
          'within-class': { preTokenizer: split('[\\w\\s]+') },
          'escaped-backslash': { preTokenizer: split('\\\\w') },
          'digits-only': { preTokenizer: split('\\d+') },
          strip: {
            preTokenizer: null,
            normalizer: {
              type: 'Sequence',
              normalizers: [
                { type: 'Strip', strip_left: true, strip_right: true },
                { type: 'Precompiled', precompiled_charsmap: CHARSMAP },
              ],
            },
          },
          'strip-after-precompiled': {
            preTokenizer: null,
            normalizer: {
              type: 'Sequence',
              normalizers: [
                { type: 'Precompiled', precompiled_charsmap: CHARSMAP },
                { type: 'Strip', strip_left: false, strip_right: true },
              ],
            },
          },
          // (version 27, every Precompiled's charsmap read, left out: what version 9 marks)
        },
        [PRECOMPILED_READING],
      ),
    ).toEqual({
      'split-w': 9,
      'in-sequence-b': 9,
      'replace-normalizer': 9,
      'within-class': 1,
      'escaped-backslash': 1,
      'digits-only': 1,
      strip: 9,
      'strip-after-precompiled': 1,
    });
  });
});

describe('a tokenizer whose class returns no token types', () => {
  it('is at reading version 5 on pairs where its template gave the second text type 1 (now 0); 1 on single texts, and where the class returns them; 5 too where the BertProcessing is in a Sequence within a Sequence', () => {
    const root = mkdtempSync(join(tmpdir(), 'types-reading-'));
    try {
      const folder = (name: string, tokenizerClass: string) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a'].join('\n') + '\n');
        writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: tokenizerClass }));
        return dir;
      };
      const distil = folder('distil', 'DistilBertTokenizer');
      const bert = folder('bert', 'BertTokenizer');
      expect([readingVersionApartFromPairs(distil, true), readingVersionApartFromPairs(distil, false), readingVersionApartFromPairs(bert, true)]).toEqual([
        5, 1, 1,
      ]);
      // (a tokenizer.json whose BertProcessing is in a Sequence within a Sequence, which tokenizers applies alike)
      const nested = folder('nested', 'DistilBertTokenizer');
      const bertProcessing = { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] };
      const json = vocabTokenizerJson(join(distil, 'vocab.txt'), {});
      writeFileSync(
        join(nested, 'tokenizer.json'),
        JSON.stringify({ ...json, post_processor: { type: 'Sequence', processors: [{ type: 'Sequence', processors: [bertProcessing] }] } }),
      );
      expect([readingVersionApartFromPairs(nested, true), readingVersionApartFromPairs(nested, false)]).toEqual([5, 1]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a sweep point of a tokenizer whose reading changed', () => {
  let t: TinySweep;
  let file: string;
  beforeAll(() => {
    t = writeTinySweep({ rows: 8 });
    // the same model, its vocabulary's 'movie' also an added token (a slow folder's added_tokens.json)
    const addedDir = join(t.root, 'models', 'tiny-added');
    cpSync(join(t.root, 'models', 'tiny-sst2'), addedDir, { recursive: true });
    writeFileSync(join(addedDir, 'added_tokens.json'), JSON.stringify({ movie: 7 }));
    file = writeQuickSweep(
      t.root,
      'reading',
      `models: [{path: models/tiny-sst2, tasks: [SST-2]}, {path: models/tiny-added, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: ffn, steps: [{pass: prune-ffn, settings: {ratio: 0.25}}]}
`,
    );
  });
  afterAll(() => t?.cleanup());

  it("is stale in a store the older reading wrote (kept, reported, recomputed with --rerun-stale); an ordinary tokenizer's points keep their keys", async () => {
    const store = join(t.root, 'older.sqlite');
    // the code before the reading changed: no tokenizer's reading had changed
    readings.splice(0, readings.length);
    expect(await runSweep({ file, store })).toMatchObject({ total: 4, ran: 4, failed: [] });
    const before = storedPoints(store);
    for (const v of before.values()) expect(v.versions.tokenizer).toBeUndefined();
    readings.splice(0, readings.length, ...released);

    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ total: 4, alreadyDone: 2, ran: 0, failed: [] });
    const change = 'tokenizer reading v1 → v2';
    expect(kept.stale.map((s) => [`${s.point.model.name} · ${s.point.label}`, s.stored.map((o) => o.key), s.change])).toEqual([
      ['tiny-added · baseline', [before.get('tiny-added · baseline')!.key], change],
      ['tiny-added · ffn', [before.get('tiny-added · ffn')!.key], change],
    ]);
    expect(staleLine(kept.stale, false)).toEqual({
      line: `2 points stale: stored by other code (${change}) and kept, not recomputed: tiny-added · baseline, tiny-added · ffn; rerun with --rerun-stale to recompute them`,
      standing: true,
    });
    expect(storedPoints(store)).toEqual(before);
    expect(loadReport({ store }).rows.map((r) => [r.model, r.label, r.stale])).toEqual([
      ['tiny-added', 'baseline', change],
      ['tiny-added', 'ffn', change],
      ['tiny-sst2', 'baseline', null],
      ['tiny-sst2', 'ffn', null],
    ]);
    const dry = await runMain(['sweep', file, '--dry-run', '--store', store]);
    expect(dry.code, dry.stderr).toBe(0);

    const rerun = await runSweep({ file, store, rerunStale: true });
    expect(rerun).toMatchObject({ total: 4, alreadyDone: 2, ran: 2, failed: [] });
    expect(staleLine(rerun.stale, true, rerun.failed)).toEqual({
      line: `2 points stale (${change}), recomputed: tiny-added · baseline, tiny-added · ffn`,
      standing: false,
    });
    const after = storedPoints(store);
    for (const label of ['tiny-added · baseline', 'tiny-added · ffn']) {
      expect(after.get(label)!.versions.tokenizer).toBe(2);
      expect(after.get(label)!.key).not.toBe(before.get(label)!.key);
    }
    for (const label of ['tiny-sst2 · baseline', 'tiny-sst2 · ffn']) expect(after.get(label)).toEqual(before.get(label));
    // (--dry-run listed each point under the key the rerun gave it)
    const line = (label: string, state: string) => `${after.get(label)!.key.slice(0, 12)} ${label} (${state})`;
    expect(dry.stdout.trim().split('\n')).toEqual([
      'sweep reading: 4 points (2 models × 2 pipelines), 2 already in the store, 2 stale (kept); dry run: none run, nothing written',
      line('tiny-sst2 · baseline', 'in the store'),
      line('tiny-added · baseline', `stale: ${change}; kept`),
      line('tiny-sst2 · ffn', 'in the store'),
      line('tiny-added · ffn', `stale: ${change}; kept`),
    ]);
    expect(await runSweep({ file, store })).toMatchObject({ alreadyDone: 4, ran: 0, stale: [] });
  });

  it("keys an ordinary tokenizer's point as before tokenizer readings had versions", async () => {
    const store = join(t.root, 'current.sqlite');
    expect(await runSweep({ file, store })).toMatchObject({ ran: 4, failed: [] });
    const db = new Database(store, { readonly: true });
    try {
      for (const row of db.prepare('SELECT key, point FROM points').all() as Array<{ key: string; point: string }>) {
        const point = JSON.parse(row.point) as SweepPoint;
        const { tokenizer, ...older } = point.versions;
        expect(tokenizer).toBe(point.model.name === 'tiny-added' ? 2 : undefined);
        // (the key earlier code gave it, whose versions held no tokenizer reading)
        if (tokenizer === undefined) expect(pointKey({ ...point, versions: older })).toBe(row.key);
      }
    } finally {
      db.close();
    }
  });

  it('is not what the report says changed where the tokenizer files changed since (their data did)', async () => {
    const store = join(t.root, 'edited.sqlite');
    expect(await runSweep({ file, store })).toMatchObject({ ran: 4, failed: [] });
    const addedTokens = join(t.root, 'models', 'tiny-added', 'added_tokens.json');
    const kept = readFileSync(addedTokens);
    rmSync(addedTokens); // (now an ordinary tokenizer, which reads at version 1)
    try {
      const rows = loadReport({ store }).rows.filter((r) => r.model === 'tiny-added');
      expect(rows.map((r) => [r.label, r.dataChange === null, r.stale?.includes('tokenizer reading')])).toEqual([
        ['baseline', false, false],
        ['ffn', false, false],
      ]);
    } finally {
      writeFileSync(addedTokens, kept);
    }
  });
});

describe('a sweep point of an XLM folder of vocab.json and merges.txt (now refused)', () => {
  /** models/tiny-xlm of `t`: tiny-sst2's model with a vocab.json and merges.txt for its tokenizer, and `config` its tokenizer_config.json. */
  it('is stale in the report, at reading version 5, where it was read as byte-level BPE; --rerun-stale fails at it saying what to give', async () => {
    const t = writeTinySweep({ rows: 8 });
    try {
      const dir = writeXlmModel(t.root, 'tiny-xlm', {});
      const configFile = join(dir, 'tokenizer_config.json');
      const file = writeQuickSweep(t.root, 'xlm', 'models: [{path: models/tiny-xlm, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
      const store = join(t.root, 'xlm.sqlite');
      expect(await runSweep({ file, store })).toMatchObject({ ran: 1, failed: [] });
      // the store as the code before the refusal wrote it: the folder's tokenizer_config.json named XLMTokenizer then
      const xlmConfig = JSON.stringify({ tokenizer_class: 'XLMTokenizer' });
      writeFileSync(configFile, xlmConfig);
      const db = new Database(store);
      try {
        const row = db.prepare('SELECT key, point FROM points').get() as { key: string; point: string };
        const point = JSON.parse(row.point) as SweepPoint & { data: { model: Record<string, string> } };
        point.data.model['tokenizer_config.json'] = createHash('sha256').update(xlmConfig).digest('hex');
        db.prepare('UPDATE points SET point = ? WHERE key = ?').run(JSON.stringify(point), row.key);
      } finally {
        db.close();
      }
      expect(tokenizerReadingVersion(dir, false)).toBe(5);
      const report = loadReport({ store });
      const [row] = report.rows;
      expect([row?.label, row?.stale, row?.dataChange]).toEqual(['baseline', 'tokenizer reading v10 → v5', null]);
      // no rerun computes it again: the report says so, in the refusal's words, and promises no --rerun-stale recompute
      expect(row?.refused).toMatch(/^.*tiny-xlm: its vocab\.json and merges\.txt are XLMTokenizer's BPE/);
      const md = toMarkdown(report);
      expect(md).toContain(
        `‡ Stale, and no rerun computes it again: the bert-compress running now refuses an input it read: tiny-xlm · baseline (tokenizer reading v10 → v5; refused now: ${mdLine(row!.refused!)}). A rerun of the sweep, --rerun-stale too, fails at such a point and keeps this result, stale; give the input the refusal asks for.`,
      );
      expect(md).not.toContain('--rerun-stale recomputes');
      // and so does a rerun of the sweep, keeping it
      const kept = await runSweep({ file, store });
      expect(kept.stale.map((s) => s.refused)).toEqual([row!.refused]);
      expect(staleLine(kept.stale, false).line).toBe(
        `1 point stale: stored by other code (tokenizer reading v10 → v5) and kept, not recomputed: tiny-xlm · baseline; no rerun recomputes tiny-xlm · baseline, --rerun-stale neither: the bert-compress running now refuses its input (${row!.refused})`,
      );
      // (and its dry run, which said 'to recompute' of it with --rerun-stale)
      const noRerun = `no rerun recomputes it, --rerun-stale neither: the bert-compress running now refuses its input (${row!.refused})`;
      for (const [flags, mark] of [
        [[], `kept: ${noRerun}`],
        [['--rerun-stale'], `to recompute, which fails: ${noRerun}`],
      ] as const) {
        const dry = await runMain(['sweep', file, '--store', store, '--dry-run', ...flags]);
        expect(dry.stdout.trim().split('\n')[1]).toBe(
          `${kept.stale[0]!.point.key.slice(0, 12)} tiny-xlm · baseline (stale: tokenizer reading v10 → v5; ${mark})`,
        );
      }
      const rerun = await runMain(['sweep', file, '--store', store, '--rerun-stale']);
      expect(rerun.code).toBe(1);
      expect(rerun.stderr).toMatch(
        /tiny-xlm: its vocab\.json and merges\.txt are XLMTokenizer's BPE \(word ends marked <\/w>.*give a folder holding a tokenizer\.json/,
      );
      // the closing lines say the recompute failed, not that the point was recomputed, and that no rerun recomputes it
      // (no line promises a rerun retries it)
      expect(rerun.stderr).toContain(
        `1 point stale (tokenizer reading v10 → v5), failed (errors above; its stored result stands, still stale): tiny-xlm · baseline; no rerun recomputes tiny-xlm · baseline, --rerun-stale neither: the bert-compress running now refuses its input (${row!.refused})\n`,
      );
      expect(rerun.stderr).not.toContain('rerun to retry');
      expect(rerun.stdout).toContain(', 1 failed (');
      expect(rerun.stdout).not.toContain('recomputed');
      // and the report lists the failure with the stale row that stands for it: no rerun computes it
      const after = loadReport({ store });
      expect(after.failed.map((f) => [f.label, f.staleRows])).toEqual([['baseline', [row!.key]]]);
      const afterMd = toMarkdown(after).split('\n');
      expect(afterMd).not.toContain(FAILED_NOTE);
      expect(afterMd.slice(afterMd.indexOf(FAILED_REFUSED_NOTE) + 1, afterMd.indexOf(FAILED_REFUSED_NOTE) + 2)).toEqual([
        `- tiny-xlm · baseline: ${mdLine(row!.refused!)}`,
      ]);
      // its GLUE dev file edited too: the point is another now (other data), which fails as it is refused; the report
      // lists it with the row standing for it, refused, not as 'not in the table' with 'a rerun retries them'
      appendFileSync(join(t.glueDir, 'SST-2', 'dev.tsv'), 'a b\t1\n');
      const edit = await runMain(['sweep', file, '--store', store]);
      expect(edit.code).toBe(1);
      // (its closing line does not say a rerun retries it: the bert-compress running now refuses it on every rerun)
      expect(edit.stderr).not.toContain('rerun to retry');
      expect(edit.stderr).toContain(
        'failed (errors above; the bert-compress running now refuses their input, so a rerun of the sweep fails at them too until it is given as the error asks): tiny-xlm · baseline\n',
      );
      const edited = loadReport({ store });
      expect(edited.rows.map((r) => [r.key, r.dataChange !== null, r.refused])).toEqual([[row!.key, true, row!.refused]]);
      expect(edited.failed.map((f) => [f.label, f.staleRows])).toEqual([['baseline', [row!.key]]]);
      const editedMd = toMarkdown(edited).split('\n');
      expect(editedMd).not.toContain(FAILED_NOTE);
      expect(editedMd.slice(editedMd.indexOf(FAILED_REFUSED_NOTE) + 1, editedMd.indexOf(FAILED_REFUSED_NOTE) + 2)).toEqual([
        `- tiny-xlm · baseline: ${mdLine(row!.refused!)}`,
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('never computed, is listed by the report apart from the failed points a rerun retries: a rerun fails at it too', async () => {
    const t = writeTinySweep({ rows: 8 });
    try {
      const dir = writeXlmModel(t.root);
      const refused = `${dir}: its vocab.json and merges.txt are XLMTokenizer's BPE`;
      const alone = writeQuickSweep(t.root, 'alone', 'models: [{path: models/tiny-xlm, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
      const aloneStore = join(t.root, 'alone.sqlite');
      const first = await runSweep({ file: alone, store: aloneStore });
      expect(first.failed.map((f) => f.refused?.startsWith(refused))).toEqual([true]);
      // a rerun fails it again at once, with its stored error, where it ran it again to fail alike (its refusal: every
      // run fails the same way)
      const events: string[] = [];
      const again = await runSweep({ file: alone, store: aloneStore, onEvent: (e) => events.push(e.type) });
      expect(again).toMatchObject({ ran: 0, failed: [{ error: first.failed[0]!.error, refused: first.failed[0]!.refused }] });
      expect(events).toEqual(['plan', 'failed']);
      // failed before for another fault (a full disk; an error of the code that ran it): it fails again with the
      // refusal, what a run of it fails with, stored and shown, where the stored error was shown and kept, under a
      // closing line saying a rerun fails 'until it is given as the error asks'
      const db = new Database(aloneStore);
      db.prepare("UPDATE points SET error = 'ENOSPC: no space left on device, write' WHERE status = 'failed'").run();
      db.close();
      const lines: string[] = [];
      const other = await runSweep({ file: alone, store: aloneStore, onEvent: (e) => (e.type === 'failed' ? lines.push(e.error) : undefined) });
      expect([other.failed.map((f) => f.error), lines]).toEqual([[first.failed[0]!.refused], [first.failed[0]!.refused]]);
      const stored = new Database(aloneStore, { readonly: true });
      expect(stored.prepare("SELECT error FROM points WHERE status = 'failed'").all()).toEqual([{ error: first.failed[0]!.refused }]);
      stored.close();
      // (and its dry run says so, where it listed the point with no mark, as one to run)
      const dry = await runMain(['sweep', alone, '--store', aloneStore, '--dry-run']);
      expect(dry.stdout.trim().split('\n')[1]).toBe(
        `${first.failed[0]!.point.key.slice(0, 12)} tiny-xlm · baseline (failed before: fails again, not run: the bert-compress running now refuses its input (${first.failed[0]!.refused}))`,
      );
      // (no finished point: the report's refusal says what a rerun does with it)
      expect(() => loadReport({ store: aloneStore })).toThrow(`: no finished point; 1 failed (${FAILED_REFUSED_INPUT}): tiny-xlm · baseline: ${refused}`);
      const both = writeQuickSweep(
        t.root,
        'both',
        'models: [{path: models/tiny-sst2, tasks: [SST-2]}, {path: models/tiny-xlm, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n',
      );
      const store = join(t.root, 'both.sqlite');
      expect(await runSweep({ file: both, store })).toMatchObject({ ran: 1, failed: [{ point: { label: 'baseline', model: { name: 'tiny-xlm' } } }] });
      const report = loadReport({ store });
      expect(report.failed.map((f) => [f.model, f.staleRows, f.refused?.startsWith(refused)])).toEqual([['tiny-xlm', undefined, true]]);
      const md = toMarkdown(report).split('\n');
      expect(md).not.toContain(FAILED_NOTE);
      expect(md.slice(md.indexOf(FAILED_INPUT_REFUSED_NOTE) + 1, md.indexOf(FAILED_INPUT_REFUSED_NOTE) + 2)).toEqual([
        `- tiny-xlm · baseline: ${mdLine(report.failed[0]!.error)}`,
      ]);
    } finally {
      t.cleanup();
    }
  });
});

describe('a tokenizer with a Split that @huggingface/tokenizers read otherwise, or a ByteLevel that splits', () => {
  it("is at reading version 10 (split as tokenizers does: Merged… and Contiguous, invert, Removed of a String or of a Regex with groups; a ByteLevel regex on White_Space, where JS's \\s took U+FEFF); 1 for a Split read alike (Isolated, Removed of a Regex without groups, inverted Removed) and a ByteLevel without its regex", () => {
    const split = (pattern: object, behavior: string, invert = false) => ({ preTokenizer: { type: 'Split', pattern, behavior, invert } });
    expect(
      readingVersions({
        'merged-with-next': split({ Regex: '-' }, 'MergedWithNext'),
        contiguous: split({ Regex: '-' }, 'Contiguous'),
        'isolated-inverted': split({ Regex: '\\w+' }, 'Isolated', true),
        'removed-string': split({ String: ' ' }, 'Removed'),
        'removed-group': split({ Regex: '(-)' }, 'Removed'),
        'in-sequence': { preTokenizer: { type: 'Sequence', pretokenizers: [WHITESPACE, split({ Regex: '-' }, 'MergedWithPrevious').preTokenizer] } },
        'byte-level': { preTokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } },
        isolated: split({ String: '-' }, 'Isolated'),
        'removed-regex': split({ Regex: '(?:-)' }, 'Removed'),
        'removed-inverted': split({ String: '-' }, 'Removed', true),
        'byte-level-no-regex': { preTokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } },
      }),
    ).toEqual({
      'merged-with-next': 10,
      contiguous: 10,
      'isolated-inverted': 10,
      'removed-string': 10,
      'removed-group': 10,
      'in-sequence': 10,
      'byte-level': 10,
      isolated: 1,
      'removed-regex': 1,
      'removed-inverted': 1,
      'byte-level-no-regex': 1,
    });
  });
});

describe("a tokenizer whose ByteLevel pre-tokenizer's add_prefix_space tokenizer_config.json overrides", () => {
  it("is at reading version 11 where, loaded as RobertaTokenizer or GPT2Tokenizer, the config's (false where it says nothing) differs from the file's (read as the config says, as transformers does, where the file's was read); 10 where they agree, the ByteLevel is within a Sequence or the class is another", () => {
    const byteLevel = (prefix: boolean, regex = true) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: true, use_regex: regex });
    const roberta = { tokenizer_class: 'RobertaTokenizerFast' };
    expect(
      readingVersions({
        'file-true': { preTokenizer: byteLevel(true), config: roberta },
        'gpt2-file-true': { preTokenizer: byteLevel(true), config: { tokenizer_class: 'GPT2Tokenizer' } },
        'file-false-config-true': { preTokenizer: byteLevel(false), config: { ...roberta, add_prefix_space: true } },
        'no-regex-file-true': { preTokenizer: byteLevel(true, false), config: roberta },
        'file-true-config-true': { preTokenizer: byteLevel(true), config: { ...roberta, add_prefix_space: true } },
        'file-false': { preTokenizer: byteLevel(false), config: roberta },
        'in-sequence': { preTokenizer: { type: 'Sequence', pretokenizers: [byteLevel(true)] }, config: roberta },
        'no-class': { preTokenizer: byteLevel(true) },
      }),
    ).toEqual({
      'file-true': 11,
      'gpt2-file-true': 11,
      'file-false-config-true': 11,
      'no-regex-file-true': 11,
      'file-true-config-true': 10,
      'file-false': 10,
      'in-sequence': 10,
      'no-class': 10,
    });
  });
});

describe("a tokenizer whose BertNormalizer takes its class's defaults for what tokenizer_config.json leaves out", () => {
  it("is at reading version 29 where, loaded as BertTokenizer, DistilBertTokenizer or ElectraTokenizer, the defaults (do_lower_case true, strip_accents none, tokenize_chinese_chars true) normalize otherwise than the file (read as transformers rebuilds it, where the file's was read); 1 where they normalize alike, the config gives all three or no such class loads it", () => {
    const bert = (lowercase: boolean, strip: boolean | null = null, chinese = true) => ({
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: chinese,
      strip_accents: strip,
      lowercase,
    });
    const preTokenizer = { type: 'BertPreTokenizer' };
    const named = { tokenizer_class: 'BertTokenizer' };
    const tokenizers = {
      cased: { preTokenizer, normalizer: bert(false), config: named },
      'distilbert-cased': { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'DistilBertTokenizerFast' } },
      'keeps-accents': { preTokenizer, normalizer: bert(true, false), config: named },
      'chinese-apart': { preTokenizer, normalizer: bert(true, null, false), config: { ...named, do_lower_case: true } },
      uncased: { preTokenizer, normalizer: bert(true), config: named },
      'strips-as-lowercase-does': { preTokenizer, normalizer: bert(true, true), config: named },
      'config-cased': { preTokenizer, normalizer: bert(false), config: { ...named, do_lower_case: false } },
      'no-class': { preTokenizer, normalizer: bert(false), config: {} },
      'roberta-class': { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'RobertaTokenizer' } },
    };
    expect(readingVersions(tokenizers)).toEqual({
      cased: 29,
      'distilbert-cased': 29,
      'keeps-accents': 29,
      'chinese-apart': 29,
      uncased: 1,
      'strips-as-lowercase-does': 1,
      'config-cased': 1,
      'no-class': 1,
      'roberta-class': 1,
    });
    expect(Object.values(readingVersions(tokenizers, [29]))).toEqual(Object.keys(tokenizers).map(() => 1));
  });

  it("is at reading version 30 where, loaded as PreTrainedTokenizerFast, the config's settings made it normalize otherwise than the file (the file's now, as transformers reads it); 1 where they normalize alike or the config names none", () => {
    const bert = (lowercase: boolean) => ({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase });
    const preTokenizer = { type: 'BertPreTokenizer' };
    const fast = { tokenizer_class: 'PreTrainedTokenizerFast' };
    const tokenizers = {
      'config-uncased': { preTokenizer, normalizer: bert(false), config: { ...fast, do_lower_case: true } },
      'config-cased': { preTokenizer, normalizer: bert(true), config: { ...fast, do_lower_case: false } },
      'config-agrees': { preTokenizer, normalizer: bert(true), config: { ...fast, do_lower_case: true } },
      'config-silent': { preTokenizer, normalizer: bert(false), config: fast },
    };
    expect(readingVersions(tokenizers)).toEqual({ 'config-uncased': 30, 'config-cased': 30, 'config-agrees': 1, 'config-silent': 1 });
    expect(Object.values(readingVersions(tokenizers, [30]))).toEqual([1, 1, 1, 1]);
  });

  it("is at reading version 39 where, loaded as MPNetTokenizer, do_lower_case and strip_accents of the class's defaults normalize otherwise than the file, or the config's tokenize_chinese_chars was read (4.x's MPNetTokenizerFast rebuilds those two alone); 1 where they agree", () => {
    const bert = (lowercase: boolean, chinese = true) => ({
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: chinese,
      strip_accents: null,
      lowercase,
    });
    const preTokenizer = { type: 'BertPreTokenizer' };
    const mpnet = { tokenizer_class: 'MPNetTokenizerFast' };
    const tokenizers = {
      cased: { preTokenizer, normalizer: bert(false), config: mpnet },
      // (the config's tokenize_chinese_chars was read; MPNetTokenizerFast keeps the file's)
      'chinese-unread': { preTokenizer, normalizer: bert(false), config: { ...mpnet, do_lower_case: true, tokenize_chinese_chars: false } },
      'config-uncased': { preTokenizer, normalizer: bert(false), config: { ...mpnet, do_lower_case: true } },
      uncased: { preTokenizer, normalizer: bert(true), config: mpnet },
      'chinese-apart': { preTokenizer, normalizer: bert(true, false), config: mpnet },
      'config-cased': { preTokenizer, normalizer: bert(false), config: { ...mpnet, do_lower_case: false } },
    };
    expect(readingVersions(tokenizers)).toEqual({ cased: 39, 'chinese-unread': 39, 'config-uncased': 1, uncased: 1, 'chinese-apart': 1, 'config-cased': 1 });
    expect(Object.values(readingVersions(tokenizers, [39]))).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe("a tokenizer of MobileBERT's, SqueezeBERT's, Funnel's, LayoutLM's or ConvBERT's class whose BertNormalizer takes the class's defaults", () => {
  it("is at reading version 31 where, loaded as such a class, the defaults normalize otherwise than the file (read as transformers rebuilds it, where the file's was read), not 29; 1 where they normalize alike", () => {
    const bert = (lowercase: boolean) => ({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase });
    const preTokenizer = { type: 'BertPreTokenizer' };
    const tokenizers = {
      mobilebert: { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'MobileBertTokenizer' } },
      squeezebert: { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'SqueezeBertTokenizerFast' } },
      funnel: { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'FunnelTokenizer' } },
      layoutlm: { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'LayoutLMTokenizer' } },
      convbert: { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'ConvBertTokenizer' } },
      'mobilebert-uncased': { preTokenizer, normalizer: bert(true), config: { tokenizer_class: 'MobileBertTokenizer' } },
      'mobilebert-config-cased': { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'MobileBertTokenizer', do_lower_case: false } },
    };
    expect(readingVersions(tokenizers)).toEqual({
      mobilebert: 31,
      squeezebert: 31,
      funnel: 31,
      layoutlm: 31,
      convbert: 31,
      'mobilebert-uncased': 1,
      'mobilebert-config-cased': 1,
    });
    expect(Object.values(readingVersions(tokenizers, [31]))).toEqual(Object.keys(tokenizers).map(() => 1));
  });
});

describe("a tokenizer of a DPR, REALM, LXMERT or RetriBERT class, or naming no class whose config.json's model_type loads BertTokenizerFast, one of those or MobileBERT's, SqueezeBERT's, Funnel's, LayoutLM's or ConvBERT's class in transformers 4.x", () => {
  it("is at reading version 32 where that class's defaults normalize otherwise than the file (read as transformers rebuilds it, where no class was known and the file's was read); 1 where they normalize alike or a class is named; bert's own model_type stays at 29", () => {
    const bert = (lowercase: boolean) => ({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase });
    const preTokenizer = { type: 'BertPreTokenizer' };
    const cased = (model_type: string, config?: object) => ({
      preTokenizer,
      normalizer: bert(false),
      modelConfig: { model_type },
      ...(config ? { config } : {}),
    });
    const tokenizers = {
      ernie: cased('ernie'),
      'megatron-bert': cased('megatron-bert'),
      mobilebert: cased('mobilebert'),
      funnel: cased('funnel', {}),
      'mobilebert-uncased': { preTokenizer, normalizer: bert(true), modelConfig: { model_type: 'mobilebert' } },
      'mobilebert-config-cased': cased('mobilebert', { do_lower_case: false }),
      'mobilebert-class-named': cased('mobilebert', { tokenizer_class: 'BertJapaneseTokenizer' }),
      bert: cased('bert'),
      gpt2: cased('gpt2'),
      dpr: cased('dpr'),
      'dpr-class': { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'DPRContextEncoderTokenizerFast' } },
      'lxmert-class-uncased': { preTokenizer, normalizer: bert(true), config: { tokenizer_class: 'LxmertTokenizer' } },
      retribert: cased('retribert'),
      'retribert-class': { preTokenizer, normalizer: bert(false), config: { tokenizer_class: 'RetriBertTokenizerFast' } },
    };
    expect(readingVersions(tokenizers)).toEqual({
      ernie: 32,
      'megatron-bert': 32,
      mobilebert: 32,
      funnel: 32,
      'mobilebert-uncased': 1,
      'mobilebert-config-cased': 1,
      'mobilebert-class-named': 1,
      bert: 29,
      gpt2: 1,
      dpr: 32,
      'dpr-class': 32,
      'lxmert-class-uncased': 1,
      retribert: 32,
      'retribert-class': 32,
    });
    expect(readingVersions(tokenizers, [32])).toMatchObject({
      ernie: 1,
      mobilebert: 1,
      funnel: 1,
      bert: 29,
      dpr: 1,
      'dpr-class': 1,
      retribert: 1,
      'retribert-class': 1,
    });
  });
});

describe('a tokenizer loaded as DPRReaderTokenizer or RetriBertTokenizer', () => {
  it("is at reading version 33 on pairs where its template gave the second text type 1 (now 0, as transformers feeds no token types); 1 on single texts, for the DPR encoders' classes, and where model_input_names are listed", () => {
    const root = mkdtempSync(join(tmpdir(), 'types-later-reading-'));
    try {
      const folder = (name: string, tokenizerConfig: object, modelConfig?: object) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a'].join('\n') + '\n');
        writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
        if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
        return dir;
      };
      const reader = folder('reader', { tokenizer_class: 'DPRReaderTokenizerFast' });
      const retribert = folder('retribert', {}, { model_type: 'retribert' });
      const question = folder('question', { tokenizer_class: 'DPRQuestionEncoderTokenizer' });
      const listed = folder('listed', { tokenizer_class: 'RetriBertTokenizer', model_input_names: ['input_ids', 'attention_mask'] });
      const versions = (dir: string) => [readingVersionApartFromPairs(dir, true), readingVersionApartFromPairs(dir, false)];
      expect([reader, retribert, question, listed].map(versions)).toEqual([
        [33, 1],
        [33, 1],
        [1, 1],
        // (model_input_names without token_type_ids read so since version 5)
        [5, 1],
      ]);
      expect(readingVersionApartFromPairs(reader, true, [33])).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("an ALBERT SentencePiece model whose tokenizer_config.json's do_lower_case or keep_accents is neither true nor false", () => {
  it('is at reading version 34 where Python\'s truthiness reads it otherwise than before (a null do_lower_case keeps case, a "false" keep_accents keeps accents); 1 where it reads alike ("false" or 1 do_lower_case, null keep_accents) or the setting is true or false', () => {
    const root = mkdtempSync(join(tmpdir(), 'albert-truthiness-reading-'));
    try {
      const model = sentencePieceModelBytes([...ALBERT_SPECIAL_PIECES, { piece: '▁', score: -2 }, { piece: '▁hello', score: -1 }], { unkId: 1 });
      const folder = (name: string, settings: object) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'spiece.model'), model);
        writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'AlbertTokenizer', ...settings }));
        return dir;
      };
      const versions = Object.fromEntries(
        Object.entries({
          'lower-null': { do_lower_case: null },
          'lower-zero': { do_lower_case: 0 },
          'lower-empty-list': { do_lower_case: [] },
          'accents-string-false': { keep_accents: 'false' },
          'accents-one': { keep_accents: 1 },
          'lower-string-false': { do_lower_case: 'false' },
          'lower-one': { do_lower_case: 1 },
          'accents-null': { keep_accents: null },
          'lower-false': { do_lower_case: false },
          plain: {},
        }).map(([name, settings]) => [name, readingVersionApart(folder(name, settings), false, [PRECOMPILED_READING])]),
      );
      expect(versions).toEqual({
        'lower-null': 34,
        'lower-zero': 34,
        'lower-empty-list': 34,
        'accents-string-false': 34,
        'accents-one': 34,
        'lower-string-false': 1,
        'lower-one': 1,
        'accents-null': 1,
        'lower-false': 1,
        plain: 1,
      });
      expect(readingVersionApart(join(root, 'lower-null'), false, [PRECOMPILED_READING, 34])).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a folder of vocab.txt alone loaded as FunnelTokenizer', () => {
  it('is at reading version 35, single texts and pairs ([CLS] type 2, as FunnelConverter writes it, where it was 0); 1 with a tokenizer.json (its own template) or another class', () => {
    const root = mkdtempSync(join(tmpdir(), 'funnel-reading-'));
    try {
      const folder = (name: string, tokenizerConfig: object | undefined, modelConfig: object | undefined, json = false) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a'].join('\n') + '\n');
        if (tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
        if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
        if (json) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(vocabTokenizerJson(join(dir, 'vocab.txt'), {})));
        return dir;
      };
      const dirs = [
        folder('named', { tokenizer_class: 'FunnelTokenizerFast' }, undefined),
        folder('model-type', undefined, { model_type: 'funnel' }),
        folder('with-json', { tokenizer_class: 'FunnelTokenizer' }, undefined, true),
        folder('bert', { tokenizer_class: 'BertTokenizer' }, { model_type: 'funnel' }),
      ];
      expect(dirs.map((dir) => [readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)])).toEqual([
        [35, 35],
        [35, 35],
        [1, 1],
        [1, 1],
      ]);
      expect(readingVersionApartFromPairs(dirs[1]!, true, [35])).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a vocab.txt with a lone '\\r'", () => {
  it("is at reading version 36 (the '\\r' ends a line, as transformers' load_vocab reads it, where it was part of a token); 1 with '\\r\\n' ends alone or beside a tokenizer.json", () => {
    const root = mkdtempSync(join(tmpdir(), 'cr-reading-'));
    try {
      const folder = (name: string, vocab: string, json = false) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.txt'), vocab);
        if (json) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(vocabTokenizerJson(join(dir, 'vocab.txt'), {})));
        return dir;
      };
      const dirs = [
        folder('lone', '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\rb\n'),
        folder('doubled', '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\r\r\n'),
        folder('crlf', '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\na\r'),
        folder('with-json', '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\rb\n', true),
      ];
      expect(dirs.map((dir) => [readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)])).toEqual([
        [36, 36],
        [36, 36],
        [1, 1],
        [1, 1],
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a folder of vocab.json and merges.txt', () => {
  it("is at reading version 40 where transformers 4.x reads its merges.txt otherwise (no #version line, no final newline, a lone '\\r', a merge listed twice) or fails to load it (an empty line); below 40 where they agree", () => {
    const root = mkdtempSync(join(tmpdir(), 'merges-reading-'));
    try {
      const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, Ġ: 6, ab: 7, Ġa: 8, '<mask>': 9 };
      const folder = (name: string, merges: string, json = false) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
        writeFileSync(join(dir, 'merges.txt'), merges);
        if (json) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(bpeTokenizerJson(bpeFiles(join(root, 'plain'))!, {})));
        return dir;
      };
      const dirs = {
        plain: folder('plain', '#version: 0.2\na b\nĠ a\n'),
        crlf: folder('crlf', '#version: 0.2\r\na b\r\nĠ a\r\n'),
        'no-header': folder('no-header', 'a b\nĠ a\n'),
        'no-end': folder('no-end', '#version: 0.2\na b\nĠ a'),
        'lone-cr': folder('lone-cr', '#version: 0.2\ra b\rĠ a\r'),
        twice: folder('twice', '#version: 0.2\nĠ a\na b\nĠ a\n'),
        empty: folder('empty', '#version: 0.2\na b\n\nĠ a\n'),
        'with-json': folder('with-json', 'a b\nĠ a', true),
      };
      const versions = Object.fromEntries(Object.entries(dirs).map(([name, dir]) => [name, readingVersionApartFromPairs(dir, false)]));
      expect(versions).toEqual({ plain: 10, crlf: 10, 'no-header': 40, 'no-end': 40, 'lone-cr': 40, twice: 40, empty: 40, 'with-json': 10 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a tokenizer loaded as MPNetTokenizer', () => {
  it("is at reading version 38 on pairs (a vocab.txt's two separators and types 0; a tokenizer.json's types 0) and on single texts where MPNet's special tokens differ from BERT's for what tokenizer_config.json leaves out; 1 otherwise", () => {
    const root = mkdtempSync(join(tmpdir(), 'mpnet-reading-'));
    try {
      const folder = (name: string, tokenizerConfig: object | undefined, modelConfig: object | undefined, json = false) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.txt'), ['<s>', '<pad>', '</s>', '<unk>', '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', '<mask>'].join('\n') + '\n');
        if (tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
        if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
        if (json)
          writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(vocabTokenizerJson(join(dir, 'vocab.txt'), { cls_token: '<s>', sep_token: '</s>' })));
        return dir;
      };
      const named = { cls_token: '<s>', sep_token: '</s>', pad_token: '<pad>', mask_token: '<mask>' };
      const dirs = [
        folder('named', { tokenizer_class: 'MPNetTokenizer' }, undefined),
        folder('model-type', undefined, { model_type: 'mpnet' }),
        folder('specials-named', { tokenizer_class: 'MPNetTokenizerFast', ...named }, undefined),
        folder('with-json', { tokenizer_class: 'MPNetTokenizer' }, undefined, true),
        folder('with-json-types', { tokenizer_class: 'MPNetTokenizer', model_input_names: ['input_ids', 'token_type_ids'] }, undefined, true),
        folder('bert', { tokenizer_class: 'BertTokenizer' }, { model_type: 'mpnet' }),
      ];
      expect(dirs.map((dir) => [readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)])).toEqual([
        [38, 38],
        [38, 38],
        [1, 38],
        [1, 38],
        [1, 1],
        [1, 1],
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the reading versions', () => {
  it('are 2, 3, … in order, each once (two changes landed side by side gave 20 twice)', () => {
    expect(TOKENIZER_READINGS.map((r) => r.version)).toEqual(TOKENIZER_READINGS.map((_, i) => i + 2));
  });
});

describe('a tokenizer whose Split or Replace regex folds case in (?i:…)', () => {
  it('is at reading version 12 where the group holds s (folded with ſ too, as Oniguruma does, where ASCII letters alone were), 20 where it holds k (folded with the Kelvin sign U+212A, which version 12 missed); 1 where it holds neither', () => {
    const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
    expect(
      readingVersions({
        gpt4: { preTokenizer: split("(?i:'s|'t|'re|'ve|'m|'ll|'d)") },
        replace: { preTokenizer: null, normalizer: { type: 'Replace', pattern: { Regex: '(?i:k)' }, content: 'c' } },
        'no-s-or-k': { preTokenizer: split("(?i:'t|'re)") },
        'fixed-length': { preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'FixedLength', length: 3 }] } },
      }),
    ).toEqual({ gpt4: 12, replace: 20, 'no-s-or-k': 1, 'fixed-length': 12 });
  });
});
