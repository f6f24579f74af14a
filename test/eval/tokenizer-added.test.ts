/**
 * Added tokens of a folder saved by a slow tokenizer (added_tokens.json, or tokenizer_config.json's
 * added_tokens_decoder): a fine-tune's new tokens are single ids, as transformers' slow→fast conversion adds them, in
 * the byte-level BPE (vocab.json + merges.txt) and the WordPiece (vocab.txt) folders alike.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { loadTokenizer, readVocabulary } from '../../src/eval/tokenizer.ts';
import { wordPieceTokenizerJson } from '../../src/eval/wordpiece-vocab.ts';
import { tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-added-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder holding `files` (name → text, or an object written as JSON). */
function folder(name: string, files: Record<string, string | object>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, body] of Object.entries(files)) writeFileSync(join(dir, file), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

const BPE_VOCAB = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, Ġ: 6, ab: 7, Ġa: 8, '<mask>': 9 };
const MERGES = '#version: 0.2\na b\nĠ a\n';
const WORDPIECE = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'new', '##tok'].join('\n') + '\n';

/**
 * A lower-casing WordPiece tokenizer.json over WORDPIECE with one more added token, id 8 (lstrip, rstrip and special
 * false unless `token` gives them).
 */
function withAdded(token: object): object {
  const vocab = new Map(
    WORDPIECE.trim()
      .split('\n')
      .map((t, i): [string, number] => [t, i]),
  );
  const json = wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true }) as { added_tokens: object[] };
  json.added_tokens.push({ id: 8, lstrip: false, rstrip: false, special: false, ...token });
  return json;
}

describe('added_tokens.json beside vocab.json + merges.txt', () => {
  it('reads each added token as its one id, matched inside words, special ones too', () => {
    const dir = folder('bpe', {
      'vocab.json': BPE_VOCAB,
      'merges.txt': MERGES,
      'added_tokens.json': { '<new>': 10, '<ent>': 11 },
      'special_tokens_map.json': { additional_special_tokens: ['<ent>'] },
    });
    const t = loadTokenizer(dir);
    expect(t.encode('a<new>b', null, 16).ids).toEqual([0, 4, 10, 5, 2]);
    expect(t.encode('ab', '<ent> a', 16).ids).toEqual([0, 7, 2, 2, 11, 8, 2]);
    expect(readVocabulary(dir)?.vocab.get('<new>')).toBe(10);
  });

  it("takes tokenizer_config.json's added_tokens_decoder (its flags) over added_tokens.json", () => {
    const dir = folder('bpe-decoder', {
      'vocab.json': BPE_VOCAB,
      'merges.txt': MERGES,
      'added_tokens.json': { '<old>': 10 },
      'tokenizer_config.json': {
        added_tokens_decoder: { '10': { content: '<new>', lstrip: true, normalized: false, rstrip: false, single_word: false, special: true } },
      },
    });
    const t = loadTokenizer(dir);
    expect(t.encode('a <new>', null, 16).ids).toEqual([0, 4, 10, 2]); // lstrip: the space before it goes with it
    expect(readVocabulary(dir)?.vocab.has('<old>')).toBe(false);
  });

  it('is a one-line error naming added_tokens.json for an id that is not a whole number', () => {
    const dir = folder('bpe-bad', { 'vocab.json': BPE_VOCAB, 'merges.txt': MERGES, 'added_tokens.json': { '<new>': 'ten' } });
    expect(() => loadTokenizer(dir)).toThrow(/added_tokens\.json: token '<new>' has id 'ten', not a whole number ≥ 0/);
  });

  it('is copied beside a compressed model, whose folder then tokenizes as the input', async () => {
    const dir = folder('copy-in', { 'vocab.json': BPE_VOCAB, 'merges.txt': MERGES, 'added_tokens.json': { '<new>': 10 } });
    saveModel(tinyBert({ vocabSize: 11, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'copy-out', 'model.onnx');
    await compressFile({ input: join(dir, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(readdirSync(join(root, 'copy-out'))).toContain('added_tokens.json');
    expect(loadTokenizer(join(root, 'copy-out')).encode('a<new>b', null, 16).ids).toEqual([0, 4, 10, 5, 2]);
  });

  it('goes into the tokenizer.json of --format transformers.js', async () => {
    const dir = folder('tjs-in', { 'vocab.json': BPE_VOCAB, 'merges.txt': MERGES, 'added_tokens.json': { '<new>': 10 } });
    saveModel(tinyBert({ vocabSize: 11, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
    expect(loadTokenizer(out).encode('a<new>b', null, 16).ids).toEqual([0, 4, 10, 5, 2]);
  });
});

describe("special_tokens_map.json's additional_special_tokens in a slow tokenizer's vocabulary", () => {
  it('are matched whole, as transformers adds them to the fast tokenizer, not split into pieces', () => {
    const dir = folder('bpe-additional', {
      'vocab.json': { ...BPE_VOCAB, '<e>': 10 },
      'merges.txt': MERGES,
      'special_tokens_map.json': { additional_special_tokens: ['<e>'] },
    });
    expect(loadTokenizer(dir).encode('a<e>b', null, 16).ids).toEqual([0, 4, 10, 5, 2]);
    const wordPiece = folder('wordpiece-additional', { 'vocab.txt': `${WORDPIECE}[E]\n`, 'special_tokens_map.json': { additional_special_tokens: ['[E]'] } });
    expect(loadTokenizer(wordPiece).encode('hello [E] new', null, 16).ids).toEqual([2, 5, 8, 6, 3]);
  });
});

// transformers' fast tokenizer adds every special token it lacks (tokenization_utils_fast.py, __init__:
// `tokens_to_add += [token for token in self.all_special_tokens_extended if token not in encoder …]`, then add_tokens),
// and tokenizers' add_tokens gives a token the model lacks the next id after the vocabulary and the added tokens, in
// order (tokenizers/src/tokenizer/added_vocabulary.rs, `add_tokens`: `next_id`, `self.token_to_id(&token.content, model)`).
describe("special_tokens_map.json's additional_special_tokens absent from a slow tokenizer's vocabulary", () => {
  it('are special added tokens with the next ids after the vocabulary and the added tokens, in their order', () => {
    const dir = folder('wordpiece-additional-absent', {
      'vocab.txt': WORDPIECE, // 8 tokens, ids 0–7
      'added_tokens.json': { '[A]': 8 },
      'special_tokens_map.json': { additional_special_tokens: ['[X]', '[A]', 'hello', { content: '[Y]' }] },
    });
    // [X] 9 and [Y] 10 after [A] 8; hello keeps its vocabulary id 5; each matched whole (not '[', 'x', ']')
    expect(loadTokenizer(dir).encode('hello [X] [A] [Y]', null, 16).ids).toEqual([2, 5, 9, 8, 10, 3]);
    expect(readVocabulary(dir)?.vocab.get('[Y]')).toBe(10);
    const bpe = folder('bpe-additional-absent', {
      'vocab.json': BPE_VOCAB, // 10 tokens, ids 0–9
      'merges.txt': MERGES,
      'special_tokens_map.json': { additional_special_tokens: [{ content: '<absent>' }] },
    });
    expect(loadTokenizer(bpe).encode('a<absent>b', null, 16).ids).toEqual([0, 4, 10, 5, 2]);
  });
});

describe('added_tokens.json beside vocab.txt', () => {
  it('reads an added token on the normalized (lower-cased) text, as a non-special added token of an uncased BERT', () => {
    const dir = folder('wordpiece', { 'vocab.txt': WORDPIECE, 'added_tokens.json': { NewTok: 8 } });
    const t = loadTokenizer(dir);
    expect(t.encode('hello NewTok', null, 16).ids).toEqual([2, 5, 8, 3]);
    expect(t.encode('hello newtok', null, 16).ids).toEqual([2, 5, 8, 3]);
  });

  it('keeps a cased added token as written', () => {
    const dir = folder('wordpiece-cased', {
      'vocab.txt': WORDPIECE.replace('hello', 'Hello'),
      'added_tokens.json': { NewTok: 8 },
      'tokenizer_config.json': { do_lower_case: false },
    });
    const t = loadTokenizer(dir);
    expect(t.encode('Hello NewTok', null, 16).ids).toEqual([2, 5, 8, 3]);
    expect(t.encode('Hello new', null, 16).ids).toEqual([2, 5, 6, 3]);
  });
});

describe('tokenizer.json with an added token matched on the normalized text', () => {
  it('gives its id, not the unknown token, where the normalizer changes it (lower-casing)', () => {
    const t = loadTokenizer(folder('fast-normalized', { 'tokenizer.json': withAdded({ content: 'NewTok', single_word: false, normalized: true }) }));
    expect(t.encode('hello NewTok', null, 16).ids).toEqual([2, 5, 8, 3]);
  });
});

// tokenizers reads tokenizer.json's added tokens without their written ids (tokenizers/src/tokenizer/serialization.rs:
// an id only warns 'Token … was expected to have ID …', then add_tokens takes the list in order), and add_tokens
// (added_vocabulary.rs) gives each the id it already has as an added token, else the model's, else the next id from the
// model's vocabulary size, and ignores an empty one; @huggingface/tokenizers (and transformers.js) take the written ids.
describe("tokenizer.json's added tokens written with ids other than tokenizers gives them", () => {
  /** WORDPIECE's tokenizer.json (8 tokens, ids 0–7; new is 6) with these added tokens, as written. */
  const written = [
    { id: 20, content: '<b>' }, // past the vocabulary: the next id, 8
    { id: 9, content: '<a>' }, // 9
    { id: 9, content: '<c>' }, // the id of another: 10
    { id: 30, content: '<a>', lstrip: true }, // <a> again: keeps 9, takes these fields
    { id: 2, content: 'new' }, // the model's token: its id, 6
    { id: 40, content: '' }, // empty: ignored
  ].map((t) => ({ single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...t }));
  const json = () => {
    const vocab = new Map(
      WORDPIECE.trim()
        .split('\n')
        .map((t, i): [string, number] => [t, i]),
    );
    const base = wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true }) as { added_tokens: object[] };
    return { ...base, added_tokens: [...base.added_tokens, ...written] };
  };

  it('are read with the ids tokenizers gives them, in eval and in the vocabulary compared', () => {
    const dir = folder('fast-rewritten-ids', { 'tokenizer.json': json() });
    expect(loadTokenizer(dir).encode('<a> <b> <c> new hello<a>', null, 32).ids).toEqual([2, 9, 8, 10, 6, 5, 9, 3]);
    const vocab = readVocabulary(dir)?.vocab;
    expect(['<a>', '<b>', '<c>', 'new'].map((t) => vocab?.get(t))).toEqual([9, 8, 10, 6]);
  });

  it('are written with those ids into the tokenizer.json of --format transformers.js', async () => {
    const dir = folder('fast-rewritten-ids-tjs', { 'tokenizer.json': json() });
    saveModel(tinyBert({ vocabSize: 11, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'fast-rewritten-ids-tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
    const tokens = (JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ id: number; content: string; special: boolean }> })
      .added_tokens;
    expect(tokens.filter((t) => !t.special).map((t) => [t.content, t.id])).toEqual([
      ['new', 6],
      ['<b>', 8],
      ['<a>', 9],
      ['<c>', 10],
    ]);
  });
});

describe('an added token marked single_word', () => {
  const flags = { single_word: true, lstrip: false, rstrip: false, special: false };

  it('is matched only as a word of its own, as tokenizers matches it, in a tokenizer.json', () => {
    const t = loadTokenizer(folder('fast-single-word', { 'tokenizer.json': withAdded({ content: 'tok', normalized: false, ...flags }) }));
    // 'newtok': the token touches a word, so WordPiece reads it (new ##tok); 'tok', '(tok)' stand alone
    expect(t.encode('hello tok newtok', null, 16).ids).toEqual([2, 5, 8, 6, 7, 3]);
    expect(t.encode('tok2 (tok)', null, 16).ids).toEqual([2, 1, 1, 8, 1, 3]); // ('2' is a word character, '(' is not)
  });

  it("is matched only as a word of its own on the normalized text, in a slow tokenizer's added_tokens_decoder", () => {
    const dir = folder('slow-single-word', {
      'vocab.txt': WORDPIECE,
      'tokenizer_config.json': { do_lower_case: true, added_tokens_decoder: { '8': { content: 'tok', normalized: true, ...flags } } },
    });
    expect(loadTokenizer(dir).encode('Hello TOK NewTok', null, 16).ids).toEqual([2, 5, 8, 6, 7, 3]);
  });
});

// tokenizers keeps added tokens apart from the model (tokenizers/src/tokenizer/added_vocabulary.rs, `AddedVocabulary`:
// added_tokens_map beside the model, token_to_id: added first, then model.token_to_id), and WordPiece's tokenize looks
// its pieces up in its own vocab only (tokenizers/src/models/wordpiece/mod.rs, `self.vocab.contains_key(substr)`): an
// added token that was not split out of the text is no piece WordPiece can read.
describe('an added token not split out of the text', () => {
  it('is no WordPiece piece inside a word (single_word): toktok is [UNK], not tok ##tok', () => {
    const t = loadTokenizer(folder('not-a-piece-single-word', { 'tokenizer.json': withAdded({ content: 'tok', normalized: false, single_word: true }) }));
    // 'toktok': tok touches a word, so it stays text; WordPiece's vocab has no tok, to or t: the word is [UNK]
    expect(t.encode('toktok hello', null, 16).ids).toEqual([2, 1, 5, 3]);
  });

  it('is no WordPiece piece where it is matched on the raw text only: TOKTOK lower-cased is [UNK]', () => {
    const t = loadTokenizer(folder('not-a-piece-raw', { 'tokenizer.json': withAdded({ content: 'tok', normalized: false, single_word: false }) }));
    // the raw text has no 'tok' (upper case); normalized 'toktok' is not searched for a token that is not normalized
    expect(t.encode('TOKTOK tok', null, 16).ids).toEqual([2, 1, 8, 3]);
  });

  // (tokenizers 0.23.2's node binding: 'TOK' and the pair 'TOK', 'Tok' give [UNK] for each; eval read the token, 8)
  it('is not found in a normalized text that is its content, where it is not normalized: TOK lower-cased alone is [UNK]', () => {
    const t = loadTokenizer(folder('not-found-normalized', { 'tokenizer.json': withAdded({ content: 'tok', normalized: false, single_word: false }) }));
    expect(t.encode('TOK', 'Tok', 16).ids).toEqual([2, 1, 3, 1, 3]);
    expect(t.encode('tok', null, 16).ids).toEqual([2, 8, 3]);
  });

  // (tokenizers 0.23.2's node binding: 'TOK' and the pair 'Tok hello', 'TOK tok' give [UNK] for each TOK, 8 for tok;
  // eval read 8 for each: the model gave the word 'tok', looked up among the added tokens first)
  it.each([
    [
      'a WordLevel',
      {
        type: 'WordLevel',
        vocab: Object.fromEntries(
          WORDPIECE.trim()
            .split('\n')
            .map((t, i) => [t, i]),
        ),
        unk_token: '[UNK]',
      },
    ],
    [
      'a Unigram',
      {
        type: 'Unigram',
        unk_id: 1,
        byte_fallback: false,
        vocab: WORDPIECE.trim()
          .split('\n')
          .map((t) => [t, -1]),
      },
    ],
  ])('is the unknown token where %s model gives its content, which the model lacks, from a normalized text: TOK lower-cased is [UNK]', (name, model) => {
    const json = { ...withAdded({ content: 'tok', normalized: false, single_word: false }), model };
    const t = loadTokenizer(folder(`not-found-normalized-${name.replace(/ /g, '-')}`, { 'tokenizer.json': json }));
    expect(t.encode('TOK', null, 16).ids).toEqual([2, 1, 3]);
    expect(t.encode('Tok hello', 'TOK tok', 16).ids).toEqual([2, 1, 5, 3, 1, 8, 3]);
  });

  // (tokenizers 0.23.2's node binding: 'xtok' is 5, 1 where eval read 5, 6, the token's id (re-derived: the next after the vocabulary), as the Split gives the word 'tok' to the model)
  it('is the unknown token where a WordLevel model gives its content inside a word a single_word token is not split out of', () => {
    const vocab = Object.fromEntries(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'x'].map((t, i) => [t, i]));
    const split = { type: 'Split', pattern: { String: 'x' }, behavior: 'Isolated', invert: false };
    const json = {
      ...withAdded({ content: 'tok', normalized: true, single_word: true }),
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
      pre_tokenizer: split,
    };
    const t = loadTokenizer(folder('single-word-word-level', { 'tokenizer.json': json }));
    expect(t.encode('xtok', 'tok', 16).ids).toEqual([2, 5, 1, 3, 6, 3]);
  });

  // (tokenizers 0.23.2's node binding: 'hello' and 'xyz' fail, 'Unk token `[UNK]` not found in the vocabulary' and
  // 'WordPiece error: Missing [UNK] token from the vocabulary', where eval read the added token [UNK] for each unknown piece)
  it.each([
    [
      'BPE',
      {
        type: 'BPE',
        dropout: null,
        unk_token: '[UNK]',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        merges: [],
      },
    ],
    ['WordPiece', { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 }],
  ])('refuses a text holding a piece a %s model lacks where its missing unk_token is an added token, as tokenizers fails on it', (type, model) => {
    const vocab = Object.fromEntries(['[PAD]', '[CLS]', '[SEP]', '[MASK]', 'hello'].map((t, i) => [t, i]));
    const json = { ...withAdded({ content: 'tok', normalized: false, single_word: false }), model: { ...model, vocab } };
    const dir = folder(`missing-unk-added-${type}`, { 'tokenizer.json': json });
    expect(() => loadTokenizer(dir).encode('xyz', null, 16)).toThrow(`its ${type} model's unk_token '[UNK]' is not in its vocabulary, and 'xyz' holds a piece`);
  });
});

// tokenizers gives an added token it finds in the text the token's own id (added_vocabulary.rs, split_with_indices:
// `Token::new(id, …)` for a match of split_normalized_trie, which holds a normalized token's normalized text), and
// add_tokens gives a token the model does not list (here 'Hello': the vocabulary has only 'hello') the next id, 8.
describe('an added token whose normalized text the model lists under another id', () => {
  it("is the added token's id where it is found in the text, as tokenizers gives it, not the model's", () => {
    const t = loadTokenizer(folder('added-over-model', { 'tokenizer.json': withAdded({ content: 'Hello', single_word: false, normalized: true }) }));
    expect(t.encode('Hello hello new', null, 16).ids).toEqual([2, 8, 8, 6, 3]);
  });

  // (tokenizers 0.23.2's node binding: 'hellotok' is 5, 7, where eval read 8, 7)
  it("is the model's id where the model gives it as a piece of a word the token is not split out of (single_word)", () => {
    const t = loadTokenizer(folder('added-over-model-single-word', { 'tokenizer.json': withAdded({ content: 'Hello', single_word: true, normalized: true }) }));
    expect(t.encode('hellotok Hello', 'HELLOtok', 16).ids).toEqual([2, 5, 7, 8, 3, 5, 7, 3]);
    expect(t.encode('hello', null, 16).ids).toEqual([2, 8, 3]);
  });
});

// tokenizers finds added tokens of normalized false in the text as written, then those of normalized true in the
// normalized text (added_vocabulary.rs split_with_indices), each token's own id; two of normalized true normalized to
// one text are one pattern twice in its trie, found as either from run to run (the 0.23.2 node binding gave 8 or 9
// for 'NewTok' beside a normalized 'newtok', run after run).
describe('an added token whose normalized text is another added token', () => {
  /** withAdded's tokenizer.json with 'NewTok' (normalized true) id 8 and 'newtok' (normalized `normalized`) id 9. */
  const twoTokens = (normalized: boolean) => {
    const json = withAdded({ content: 'NewTok', single_word: false, normalized: true }) as { added_tokens: object[] };
    json.added_tokens.push({ id: 9, content: 'newtok', single_word: false, lstrip: false, rstrip: false, normalized, special: false });
    return json;
  };

  // (tokenizers 0.23.2's node binding: [2, 8, 9, 5, 3, 9, 3] every run, where eval read 'newtok' as 8)
  it("of normalized false is its own id where the text holds it as written, the normalized one's where the normalizer made it", () => {
    const dir = folder('normalized-text-is-content', { 'tokenizer.json': twoTokens(false) });
    expect(loadTokenizer(dir).encode('NewTok newtok hello', 'newtok', 16).ids).toEqual([2, 8, 9, 5, 3, 9, 3]);
    expect(tokenizerReadingVersion(dir, false)).toBe(26);
    expect(
      tokenizerReadingVersion(
        folder('normalized-text-alone', { 'tokenizer.json': withAdded({ content: 'NewTok', single_word: false, normalized: true }) }),
        false,
      ),
    ).toBeLessThan(26);
  });

  it('of normalized true too is refused in one line naming both, as tokenizers gives either from run to run', () => {
    const dir = folder('normalized-texts-shared', { 'tokenizer.json': twoTokens(true) });
    expect(() => loadTokenizer(dir)).toThrow(
      /^\S+tokenizer\.json: its added tokens 'NewTok' and 'newtok' are both of normalized true and normalized to 'newtok', which tokenizers finds as one or the other from run to run \(its order of them is a hash map's\): remove one, or give one normalized false$/,
    );
    expect(tokenizerReadingVersion(dir, false)).toBe(26);
  });
});

// transformers' fast tokenizer adds every special token its config names that tokenizer.json's added tokens lack
// (tokenization_utils_fast.py, __init__: `tokens_to_add += [token for token in self.all_special_tokens_extended if token
// not in encoder …]`; all_special_tokens_extended: SPECIAL_TOKENS_ATTRIBUTES, bos … mask, then additional_special_tokens),
// through tokenizers' add_tokens: the model's id where its vocab has the token, else the next id (added_vocabulary.rs).
describe('special tokens the tokenizer config names that tokenizer.json does not add', () => {
  const vocab = new Map(
    `${WORDPIECE}[E]\n`
      .trim()
      .split('\n')
      .map((t, i): [string, number] => [t, i]),
  ); // [E] is 8
  /** A tokenizer.json as tokenizers writes one without special tokens: no added tokens at all. */
  const bare = () => ({ ...(wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true }) as object), added_tokens: [] });

  it('are matched whole: in the vocabulary with its id, else with the next ids, a {content} entry with its flags', () => {
    const dir = folder('fast-config-specials', {
      'tokenizer.json': bare(),
      'tokenizer_config.json': {
        cls_token: '[CLS]',
        mask_token: { content: '[MASK]', lstrip: true, rstrip: false, normalized: false, single_word: false },
        additional_special_tokens: ['[E]', '[X]', '[Y]'],
      },
    });
    const t = loadTokenizer(dir);
    // [CLS] 2, [E] 8 from the vocabulary; [X] 9 and [Y] 10 next; ' [MASK]' with its space (lstrip); none split
    expect(t.encode('hello [E] [X] [Y] [CLS] new [MASK]', null, 32).ids).toEqual([2, 5, 8, 9, 10, 2, 6, 4, 3]);
    expect(readVocabulary(dir)?.vocab.get('[Y]')).toBe(10);
    // without the config, tokenizer.json alone splits them ('[' and ']' are not in the vocabulary: [UNK])
    expect(loadTokenizer(folder('fast-no-config', { 'tokenizer.json': bare() })).encode('[E]', null, 16).ids).toEqual([2, 1, 1, 1, 3]);
  });

  it('go into the tokenizer.json of --format transformers.js (which reads only its added tokens)', async () => {
    const dir = folder('fast-config-specials-tjs', { 'tokenizer.json': bare(), 'tokenizer_config.json': { additional_special_tokens: ['[X]'] } });
    saveModel(tinyBert({ vocabSize: 10, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'fast-config-specials-tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
    const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ id: number; content: string }> };
    expect(written.added_tokens.map((t) => [t.content, t.id])).toEqual([['[X]', 9]]);
  });

  it("are the slow tokenizer class's defaults too: a vocab.txt without [MASK] gets it as the next id", () => {
    const dir = folder('slow-no-mask', { 'vocab.txt': WORDPIECE.replace('[MASK]\n', '') }); // 7 tokens: hello 4, new 5
    expect(loadTokenizer(dir).encode('hello [MASK] new', null, 16).ids).toEqual([2, 4, 7, 5, 3]);
  });

  it("give a vocab.txt without [UNK], [PAD] and [MASK] each past the vocabulary in transformers' order (unk, sep, pad, cls, mask: [UNK] 5, [PAD] 6, [MASK] 7, the pad id 6), from its count of distinct tokens where a token is on two lines (len(vocab), tokenizers' get_vocab_size: [UNK] then shares the last line's id), as the tokenizers 0.23.2 binding gives them after add_special_tokens", () => {
    const spare = folder('slow-no-unk-pad-mask', { 'vocab.txt': ['[CLS]', '[SEP]', 'hello', 'new', '##tok'].join('\n') + '\n' });
    expect([loadTokenizer(spare).encode('hello [UNK] [MASK] new', null, 16).ids, loadTokenizer(spare).padId]).toEqual([[0, 2, 5, 7, 3, 1], 6]);
    const twice = folder('slow-no-unk-pad-mask-twice', { 'vocab.txt': ['[CLS]', '[SEP]', 'hello', 'new', 'hello', '##tok'].join('\n') + '\n' });
    expect([loadTokenizer(twice).encode('hello [MASK] new [UNK] newtok', null, 16).ids, loadTokenizer(twice).padId]).toEqual([[0, 4, 7, 3, 5, 3, 5, 1], 6]);
  });
});

// transformers' fast tokenizer passes every entry of tokenizer_config.json's added_tokens_decoder, by id, to add_tokens
// after loading tokenizer.json (tokenization_utils_fast.py __init__: `tokens_to_add = [token for index, token in
// sorted(added_tokens_decoder.items(), …) if hash(repr(token)) not in added_tokens_decoder_hash]`, that set hashing the
// int keys of self.added_tokens_decoder, so every entry passes), special where the entry or the config says so
// (`token.special or str(token) in special_tokens`); add_tokens (added_vocabulary.rs) gives each the id of the token
// already there, else the model's, else the next one after the vocabulary and the added tokens: not the decoder's id.
describe("tokenizer_config.json's added_tokens_decoder beside a tokenizer.json", () => {
  const vocab = new Map(
    WORDPIECE.trim()
      .split('\n')
      .map((t, i): [string, number] => [t, i]),
  );
  /** WORDPIECE's tokenizer.json (ids 0–7: hello 5, new 6) with no added tokens. */
  const bare = () => ({ ...(wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true }) as object), added_tokens: [] });
  const config = {
    added_tokens_decoder: {
      '30': { content: '<Z>', lstrip: false, rstrip: false, single_word: false, normalized: false, special: false }, // next after <y>: 9
      '12': { content: '<y>', special: true }, // the next id after the vocabulary: 8 (not 12)
      '3': { content: 'new', special: true }, // the model's token: its id, 6, matched whole
    },
  };

  it('adds the tokens tokenizer.json lacks, in id order, with the ids tokenizers gives them and their flags', () => {
    const dir = folder('fast-decoder', { 'tokenizer.json': bare(), 'tokenizer_config.json': config });
    // <Z> is not normalized (lower-cased): matched as written; <y> special (not normalized): matched as written
    expect(loadTokenizer(dir).encode('hello <y> <Z> newtok <z>', null, 32).ids).toEqual([2, 5, 8, 9, 6, 1, 1, 1, 1, 3]);
    expect(['<y>', '<Z>', 'new'].map((t) => readVocabulary(dir)?.vocab.get(t))).toEqual([8, 9, 6]);
    // without the config's decoder, '<', 'y' and '>' are each unknown
    expect(loadTokenizer(folder('fast-decoder-none', { 'tokenizer.json': bare() })).encode('<y>', null, 16).ids).toEqual([2, 1, 1, 1, 3]);
  });

  it('leaves a folder whose decoder lists only the tokens tokenizer.json has as it is', () => {
    const json = { ...bare(), added_tokens: [{ id: 2, content: '[CLS]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }] };
    const listed = { added_tokens_decoder: { '2': { content: '[CLS]', special: true } } };
    const dir = folder('fast-decoder-same', { 'tokenizer.json': json, 'tokenizer_config.json': listed });
    expect(loadTokenizer(dir).encode('[CLS] new', null, 16).ids).toEqual([2, 2, 6, 3]);
  });

  it('writes them into the tokenizer.json of --format transformers.js', async () => {
    const dir = folder('fast-decoder-tjs', { 'tokenizer.json': bare(), 'tokenizer_config.json': config });
    saveModel(tinyBert({ vocabSize: 10, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'fast-decoder-tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
    const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ id: number; content: string; special: boolean }> };
    expect(written.added_tokens.map((t) => [t.content, t.id, t.special])).toEqual([
      ['new', 6, true],
      ['<y>', 8, true],
      ['<Z>', 9, false],
    ]);
  });

  it('is a one-line error naming tokenizer_config.json for an entry without a content string', () => {
    const dir = folder('fast-decoder-bad', { 'tokenizer.json': bare(), 'tokenizer_config.json': { added_tokens_decoder: { '8': { special: true } } } });
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer_config\.json: added_tokens_decoder entry '8' is not a token id with a "content" string/);
  });
});

describe('a tokenizer.json whose added_tokens is no list of tokens as tokenizers reads them, or whose version is not "1.0"', () => {
  const json = (added: unknown, version?: unknown) => ({ ...(withAdded({ content: 'x' }) as object), added_tokens: added, version });
  // (an added token's fields, none of which tokenizers defaults: added_vocabulary.rs's AddedTokenWithId)
  const unk = { id: 1, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  const { special: _, ...unflagged } = unk;
  it.each([
    ['a number', 5, 'added_tokens: expected a list of added tokens'],
    ['a string', 'x', 'added_tokens: expected a list of added tokens'],
    ['null', null, 'added_tokens: expected a list of added tokens ({"id": …, "content": "…"}), got null'],
    ['a null entry', [null], 'added_tokens[0]: expected an added token ({"id": …, "content": "…"}), got null'],
    ['an entry without content', [unk, { id: 5 }], 'added_tokens[1]: expected an added token'],
    ['a content of a number', [{ id: 5, content: 5 }], 'added_tokens[0]: expected an added token'],
    ['an entry without special', [unk, unflagged], 'added_tokens[1]: no special, which tokenizers requires (expected true or false)'],
    ['an entry of normalized "false"', [{ ...unk, normalized: 'false' }], 'added_tokens[0]: normalized: expected true or false, got "false"'],
    ['an entry without id', [{ ...unk, id: undefined }], 'added_tokens[0]: no id, which tokenizers requires (expected an integer from 0 to 2^32 − 1)'],
    ['an entry of id -1', [{ ...unk, id: -1 }], 'added_tokens[0]: id: expected an integer from 0 to 2^32 − 1, got -1'],
    ['version 2.0', [unk], 'version: expected "1.0", the one tokenizer.json version tokenizers reads, got "2.0"', '2.0'],
    ['version 1', [unk], 'version: expected "1.0", the one tokenizer.json version tokenizers reads, got 1', 1],
  ])('(%s) is refused in one line naming the file, by eval and --format transformers.js alike', async (name, added, said, version?: unknown) => {
    const dir = folder(`bad-added-${name.replace(/[ "]/g, '-')}`, { 'tokenizer.json': json(added, version) });
    const file = join(dir, 'tokenizer.json');
    expect(() => loadTokenizer(dir)).toThrow(`${file}: not a tokenizer we can load: ${said}`);
    saveModel(tinyBert({ vocabSize: 9, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, `bad-added-${name.replace(/[ "]/g, '-')}-out`);
    await expect(compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] })).rejects.toThrow(
      `${file}: not a tokenizer we can load: ${said}`,
    );
  });
});
