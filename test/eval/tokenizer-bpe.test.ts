/**
 * A RoBERTa-style folder saved by a slow tokenizer: vocab.json and merges.txt, no tokenizer.json. Evaluation, the
 * passes' copies and training read it as transformers' RobertaConverter builds it (byte-level BPE, `<s> A </s></s> B
 * </s>`), the same ids as the fast tokenizer.json of the same vocabulary.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { Tokenizer } from '@huggingface/tokenizers';
import { bpeFiles, bpeTokenizerJson, loadTokenizer, readVocabulary } from '../../src/eval/tokenizer.ts';
import { loadWordVocab } from '../../src/train/augment-words.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';
import { FIXTURES, GLUE_DIR, hasFixtures, hasGlue } from '../helpers/paths.ts';
import { refusal } from '../helpers/refusal.ts';
import { DataError } from '../../src/errors.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-bpe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder with vocab.json, merges.txt and (when given) tokenizer_config.json. */
function slowFolder(name: string, vocab: Record<string, number>, merges: readonly string[], config?: object): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
  if (config) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

const TINY = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, Ġ: 6, ab: 7, Ġa: 8, '<mask>': 9 };

describe('vocab.json + merges.txt (no tokenizer.json)', () => {
  it('encodes byte-level BPE with the RoBERTa template, pads with <pad>, knows <unk>', () => {
    const t = loadTokenizer(slowFolder('tiny', TINY, ['a b', 'Ġ a']));
    expect(t.encode('ab a', null, 16)).toEqual({ ids: [0, 7, 8, 2], typeIds: [0, 0, 0, 0] });
    expect(t.encode('a', 'b', 16)).toEqual({ ids: [0, 4, 2, 2, 5, 2], typeIds: [0, 0, 0, 0, 0, 0] });
    expect(t.encode('a <mask>', null, 16).ids).toEqual([0, 4, 9, 2]);
    expect(t.padId).toBe(1);
    expect(t.unk).toEqual({ token: '<unk>', id: 3 });
    expect(readVocabulary(join(root, 'tiny'))?.vocab.get('Ġa')).toBe(8);
  });

  it('reads vocab.json (or merges.txt) given as a file as the pair in its folder; one alone is one line', () => {
    const dir = slowFolder('as-file', TINY, ['a b', 'Ġ a']);
    for (const file of ['vocab.json', 'merges.txt']) expect(loadTokenizer(join(dir, file)).encode('ab a', null, 16).ids).toEqual([0, 7, 8, 2]);
    const alone = join(root, 'vocab-alone');
    mkdirSync(alone, { recursive: true });
    writeFileSync(join(alone, 'vocab.json'), JSON.stringify(TINY));
    expect(() => loadTokenizer(join(alone, 'vocab.json'))).toThrow(/vocab\.json: a byte-level BPE vocabulary needs vocab\.json and merges\.txt side by side/);
  });

  it("add_prefix_space from tokenizer_config.json, as RobertaTokenizer's", () => {
    const t = loadTokenizer(slowFolder('prefix', TINY, ['a b', 'Ġ a'], { add_prefix_space: true }));
    expect(t.encode('a', null, 16).ids).toEqual([0, 8, 2]);
  });

  it.skipIf(!hasFixtures || !hasGlue)("gives the ids of the fast tokenizer.json of the same vocabulary (an XLM-R cross-encoder's) on MNLI pairs", () => {
    const fast = JSON.parse(readFileSync(join(FIXTURES, 'tokenizers/tiny-xlm-roberta-ce/tokenizer.json'), 'utf8'));
    const vocab: Record<string, number> = { ...fast.model.vocab };
    for (const t of fast.added_tokens) vocab[t.content] = t.id;
    const merges = (fast.model.merges as Array<string | string[]>).map((m) => (Array.isArray(m) ? m.join(' ') : m));
    const slow = loadTokenizer(slowFolder('xlmr', vocab, merges, { add_prefix_space: fast.pre_tokenizer.add_prefix_space }));
    const reference = loadTokenizer(join(FIXTURES, 'tokenizers/tiny-xlm-roberta-ce'));
    const rows = readFileSync(join(GLUE_DIR, 'MNLI/dev_matched.tsv'), 'utf8')
      .split('\n')
      .slice(1, 101)
      .map((l) => l.split('\t'))
      .filter((r) => r.length > 2);
    expect(rows.length).toBeGreaterThan(50);
    for (const r of rows) expect(slow.encode(r[1]!, r[2]!, 64)).toEqual(reference.encode(r[1]!, r[2]!, 64));
  });

  it('compress copies vocab.json and merges.txt beside its output, so the output folder tokenizes as the input', async () => {
    const dir = slowFolder('model', TINY, ['a b', 'Ġ a']);
    saveModel(tinyBert({ vocabSize: 10, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'out', 'model.onnx');
    await compressFile({ input: join(dir, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(readdirSync(join(root, 'out'))).toEqual(expect.arrayContaining(['vocab.json', 'merges.txt']));
    expect(loadTokenizer(join(root, 'out')).encode('ab a', null, 16).ids).toEqual([0, 7, 8, 2]);
  });
});

describe('--format transformers.js from vocab.json + merges.txt', () => {
  it('writes the tokenizer.json it tokenizes with', async () => {
    const dir = slowFolder('tjs-in', TINY, ['a b', 'Ġ a']);
    saveModel(tinyBert({ vocabSize: 10, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(readdirSync(out)).toContain('tokenizer.json');
    expect(loadTokenizer(out).encode('ab a', 'b', 16).ids).toEqual([0, 7, 8, 2, 2, 5, 2]);
  });

  it('takes --tokenizer DIR/vocab.json (a file) as its folder', async () => {
    const tok = slowFolder('tjs-tok', TINY, ['a b', 'Ġ a']);
    const model = join(root, 'tjs-bare', 'model.onnx');
    mkdirSync(join(root, 'tjs-bare'), { recursive: true });
    saveModel(tinyBert({ vocabSize: 10, numLayers: 1 }), model);
    const out = join(root, 'tjs-out-file');
    await compressToTransformersJs({ input: model, output: out, steps: [], tokenizerDir: join(tok, 'vocab.json') });
    expect(loadTokenizer(out).encode('ab a', 'b', 16).ids).toEqual([0, 7, 8, 2, 2, 5, 2]);
  });
});

/** A folder with TINY's tokenizer.json (no vocab.json or merges.txt), its post-processor `post_processor`. */
function withPostProcessor(name: string, post_processor: object | null): string {
  const dir = slowFolder(name, TINY, ['a b', 'Ġ a']);
  const json = bpeTokenizerJson(bpeFiles(dir)!, {}) as Record<string, unknown>;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, post_processor }));
  rmSync(join(dir, 'vocab.json'));
  rmSync(join(dir, 'merges.txt'));
  return dir;
}

// RoBERTa's tokenizer.json has a RobertaProcessing post-processor, whose every token type is 0 in tokenizers
// (tokenizers/src/processors/roberta.rs, process_encodings: 'Roberta is weird, and every encoding is type_id=0'), where
// @huggingface/tokenizers, which transformers.js runs, gives the second text and its </s> type 1.
describe('a tokenizer.json with RobertaProcessing (roberta-base)', () => {
  /** A folder with TINY's tokenizer.json, its post-processor RoBERTa's. */
  const fastFolder = (name: string) =>
    withPostProcessor(name, { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false });

  it('gives a pair token types 0, as tokenizers does, so a RoBERTa graph of one token type takes it', () => {
    expect(loadTokenizer(fastFolder('roberta-processing')).encode('ab', 'b', 16)).toEqual({ ids: [0, 7, 2, 2, 5, 2], typeIds: [0, 0, 0, 0, 0, 0] });
  });

  it('is written for --format transformers.js so that transformers.js gives those token types too', async () => {
    const dir = fastFolder('roberta-processing-tjs');
    saveModel(tinyBert({ vocabSize: 10, typeVocabSize: 1, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'roberta-processing-tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as object;
    const encoded = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json')).encode('ab', { text_pair: 'b', return_token_type_ids: true });
    expect([encoded.ids, encoded.token_type_ids]).toEqual([
      [0, 7, 2, 2, 5, 2],
      [0, 0, 0, 0, 0, 0],
    ]);
  });
});

// tokenizers encodes a pair's second text with type 1 (tokenizer/mod.rs, encode: encode_single_sequence(pair, 1, …)) and
// joins the two encodings when the post-processor adds nothing: none (PostProcessor::default_process) or ByteLevel's,
// ByteLevelBPETokenizer's, which only trims offsets (pre_tokenizers/byte_level.rs, process_encodings). After a ByteLevel
// post-processor @huggingface/tokenizers (and transformers.js) dropped the second text; after none it gave it type 0.
describe("a RoBERTa folder whose tokenizer_config.json's add_prefix_space or trim_offsets is neither true nor false", () => {
  const roberta = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false };
  /** A tokenizer.json folder of `post` loaded as RobertaTokenizerFast with `settings` in its tokenizer_config.json. */
  const fast = (name: string, post: object, settings: object) => {
    const dir = withPostProcessor(name, post);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'RobertaTokenizerFast', ...settings }));
    return dir;
  };

  it("is refused in one line naming the file where Python's == takes it for no value of the post-processor's, as transformers' RobertaTokenizerFast rebuilds its post-processor of it and tokenizers fails on a value that is no bool; where it was read with the file's", () => {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    for (const [i, [post, settings, shown]] of (
      [
        [
          roberta,
          { add_prefix_space: 'true' },
          'add_prefix_space: expected one of true, false (transformers\' RobertaTokenizerFast builds its RobertaProcessing post-processor of it), got string "true"',
        ],
        [
          roberta,
          { add_prefix_space: null },
          "add_prefix_space: expected one of true, false (transformers' RobertaTokenizerFast builds its RobertaProcessing post-processor of it), got null",
        ],
        [
          roberta,
          { trim_offsets: 'false' },
          'trim_offsets: expected one of true, false (transformers\' RobertaTokenizerFast builds its RobertaProcessing post-processor of it), got string "false"',
        ],
        [
          byteLevel,
          { trim_offsets: 0 },
          "trim_offsets: expected one of true, false (transformers' RobertaTokenizerFast builds its ByteLevel post-processor of it), got number 0",
        ],
      ] as const
    ).entries()) {
      const dir = fast(`roberta-odd-${i}`, post, settings);
      const message = refusal(() => loadTokenizer(dir), DataError);
      expect(message).toContain(`${join(dir, 'tokenizer_config.json')}: ${shown}`);
    }
    // (equal by Python's ==: 0 for false, 1 for true, no rebuild; a true or false moves offsets only)
    for (const [i, settings] of [{ add_prefix_space: 0 }, { trim_offsets: 1 }, { trim_offsets: false }].entries())
      expect(loadTokenizer(fast(`roberta-equal-${i}`, roberta, settings)).encode('ab', 'b', 16).ids).toEqual([0, 7, 2, 2, 5, 2]);
  });

  it("is refused in one line for vocab.json and merges.txt (transformers' converter builds a ByteLevel pre-tokenizer of add_prefix_space, which takes a bool alone), where a value other than true was read as false", () => {
    for (const [i, value] of ['true', 1, null].entries()) {
      const dir = slowFolder(`slow-odd-prefix-${i}`, TINY, ['a b', 'Ġ a'], { add_prefix_space: value });
      expect(refusal(() => loadTokenizer(dir), DataError)).toContain(`${join(dir, 'tokenizer_config.json')}: add_prefix_space: expected one of true, false`);
    }
  });
});

describe('a tokenizer.json whose post-processor adds no special tokens', () => {
  it('gives a pair both texts, the second of type 1, with a ByteLevel post-processor, none, or a ByteLevel in a Sequence', () => {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const pair = { ids: [7, 5], typeIds: [0, 1] };
    expect(loadTokenizer(withPostProcessor('byte-level-processing', byteLevel)).encode('ab a', 'b', 16)).toEqual({ ids: [7, 8, 5], typeIds: [0, 0, 1] });
    expect(loadTokenizer(withPostProcessor('no-processing', null)).encode('ab', 'ab', 16)).toEqual({ ids: [7, 7], typeIds: [0, 1] });
    expect(loadTokenizer(withPostProcessor('sequence-byte-level', { type: 'Sequence', processors: [byteLevel] })).encode('ab', 'b', 16)).toEqual(pair);
  });

  it('is written for --format transformers.js so that transformers.js gives those ids and token types too', async () => {
    const dir = withPostProcessor('byte-level-processing-tjs', { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    saveModel(tinyBert({ vocabSize: 10, numLayers: 1 }), join(dir, 'model.onnx'));
    const out = join(root, 'byte-level-processing-tjs-out');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as object;
    const encoded = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json')).encode('ab a', { text_pair: 'b', return_token_type_ids: true });
    expect([encoded.ids, encoded.token_type_ids]).toEqual([
      [7, 8, 5],
      [0, 0, 1],
    ]);
  });
});

describe('TinyBERT augmentation on vocab.json + merges.txt', () => {
  it('is refused naming the byte-level BPE vocabulary, not a tokenizer.json without a model type', () => {
    const dir = slowFolder('augment', TINY, ['a b', 'Ġ a']);
    expect(() => loadWordVocab(loadTokenizer(dir).source)).toThrow(
      /vocab\.json: augmentation needs a WordPiece vocabulary \(vocab\.json with merges\.txt is a byte-level BPE one\)/,
    );
  });
});

// transformers 4.x's RobertaTokenizer (and GPT2Tokenizer) reads merges.txt as `open(merges_file,
// encoding="utf-8").read().split("\n")[1:-1]`, each line's `tuple(merge.split())`, and RobertaConverter builds the fast
// tokenizer's BPE of `list(bpe_ranks.keys())`; tokenizers' BPE takes merges of two tokens of the vocabulary alone.
describe('merges.txt read as transformers 4.x reads it', () => {
  /** A folder with `vocab` and merges.txt written as `merges` (its bytes, no header or newline added). */
  function mergesFolder(name: string, merges: string, vocab: Record<string, number> = TINY): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
    writeFileSync(join(dir, 'merges.txt'), merges);
    return dir;
  }
  const ids = (dir: string, text: string) => loadTokenizer(dir).encode(text, null, 16).ids;

  it('drops the first line whatever it holds (a merge where the file has no #version line)', () => {
    expect(ids(mergesFolder('m-no-header', 'a b\nĠ a\n'), 'ab a')).toEqual([0, 4, 5, 8, 2]);
    expect(ids(mergesFolder('m-header', '#version: 0.2\na b\nĠ a\n'), 'ab a')).toEqual([0, 7, 8, 2]);
  });

  it('drops the last line where no newline ends the file (its last merge)', () => {
    expect(ids(mergesFolder('m-no-end', '#version: 0.2\na b\nĠ a'), 'ab a')).toEqual([0, 7, 6, 4, 2]);
  });

  it("ends a line at '\\r\\n' and at a lone '\\r' (universal newlines), and splits a merge at any of Python's whitespace", () => {
    expect(ids(mergesFolder('m-crlf', '#version: 0.2\r\na b\r\nĠ a\r\n'), 'ab a')).toEqual([0, 7, 8, 2]);
    expect(ids(mergesFolder('m-lone-cr', '#version: 0.2\ra b\rĠ a\r'), 'ab a')).toEqual([0, 7, 8, 2]);
    expect(ids(mergesFolder('m-tab', '#version: 0.2\na\tb\n Ġ\u00a0 a \n'), 'ab a')).toEqual([0, 7, 8, 2]);
  });

  it('ranks a merge listed twice at its first place', () => {
    const vocab = { ...TINY, c: 10, bc: 11 };
    expect(ids(mergesFolder('m-twice', '#version: 0.2\nb c\na b\nb c\n', vocab), 'abc')).toEqual([0, 4, 11, 2]);
  });

  it('refuses in one line a line that is not a merge of two tokens (an empty one, two newlines at the end) or a merge of tokens vocab.json lacks, as transformers fails to load them', () => {
    const refused = (name: string, merges: string) => refusal(() => loadTokenizer(mergesFolder(name, merges)), DataError);
    const empty = join(root, 'm-empty', 'merges.txt');
    expect(refused('m-empty', '#version: 0.2\na b\n\nĠ a\n')).toBe(
      `${empty}: line 3 is empty, where transformers reads each line between the first and the last as a merge of two tokens and fails to load the file (tokenizers' BPE takes merges of two tokens alone): remove the line or write it as two tokens`,
    );
    expect(refused('m-two-ends', '#version: 0.2\na b\nĠ a\n\n')).toMatch(/merges\.txt: line 4 is empty, where transformers/);
    expect(refused('m-blank', '#version: 0.2\na b\n \t\nĠ a\n')).toMatch(/merges\.txt: line 3 is blank, where/);
    expect(refused('m-three', '#version: 0.2\na b Ġ\nĠ a\n')).toMatch(/merges\.txt: line 2 \('a b Ġ'\) holds 3 tokens, where/);
    // (one token in the singular, where it said 'holds 1 tokens')
    expect(refused('m-one', '#version: 0.2\nab\nĠ a\n')).toMatch(/merges\.txt: line 2 \('ab'\) holds 1 token, where/);
    expect(refused('m-unknown', '#version: 0.2\na b\na Ġ\n')).toBe(
      `${join(root, 'm-unknown', 'merges.txt')}: line 3's merge 'a Ġ' makes 'aĠ', which ${join(root, 'm-unknown', 'vocab.json')} lacks: transformers fails to load the folder (tokenizers: 'Token \`aĠ\` out of vocabulary'); add it to the vocabulary or remove the merge`,
    );
    expect(refused('m-unknown-part', '#version: 0.2\nx b\n')).toMatch(/line 2's merge 'x b' holds 'x', which .*vocab\.json lacks/);
  });
});

describe('a vocab.json that is not JSON', () => {
  it("is refused at its line and column, as every other Hugging Face JSON file is, where V8's character offset was quoted", () => {
    const dir = join(root, 'vocab-not-json');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vocab.json'), '{"<s>": 0,\n "a": 1,\n}\n');
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n');
    expect(refusal(() => loadTokenizer(dir), DataError)).toBe(
      `${join(dir, 'vocab.json')}: not valid JSON (Expected double-quoted property name at line 3, column 1)`,
    );
  });
});

describe('a vocab.json whose id is written with a fraction or exponent (1.0, 1e0)', () => {
  it("is refused in one line, as transformers gives Python's float to tokenizers' BPE and fails to load the folder, where JSON.parse's 1 was read", () => {
    const folder = (name: string, vocab: string) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'vocab.json'), vocab);
      writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\na b\n');
      return dir;
    };
    const vocab = (a: string) => `{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": ${a}, "b": 5, "ab": 7, "x: 1.0": 8}`;
    const fraction = folder('vocab-float', vocab('4.0'));
    expect(refusal(() => loadTokenizer(fraction), DataError)).toBe(
      `${join(fraction, 'vocab.json')}: token 'a' has id 4.0, a float to Python's json, where transformers gives vocab.json's ids to tokenizers' BPE, which takes integers alone, and fails to load the folder ('float' object cannot be interpreted as an integer): write it as 4`,
    );
    expect(refusal(() => loadTokenizer(folder('vocab-exponent', vocab('4e0'))), DataError)).toMatch(
      /token 'a' has id 4e0, a float to Python's json, .*: write it as 4$/,
    );
    // (a token's text that looks like a float id is no id)
    expect(loadTokenizer(folder('vocab-int', vocab('4'))).encode('ab', null, 8).ids).toEqual([0, 7, 2]);
  });

  it("refuses an id past 2^32 − 1 in one line naming the token, as tokenizers' BPE takes 32-bit ids and transformers fails to load the folder", () => {
    const dir = join(root, 'vocab-past-u32');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vocab.json'), '{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4, "b": 4294967296, "ab": 7}');
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\na b\n');
    expect(refusal(() => loadTokenizer(dir), DataError)).toBe(
      `${join(dir, 'vocab.json')}: token 'b' has id 4294967296, past 2^32 − 1 (4294967295), the largest id tokenizers' BPE takes (its ids are 32-bit), so transformers fails to load the folder`,
    );
  });
});
