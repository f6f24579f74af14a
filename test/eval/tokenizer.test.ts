import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DataError, SettingsError } from '../../src/errors.ts';
import { Tokenizer } from '@huggingface/tokenizers';
import { AutoTokenizer, env } from '@huggingface/transformers';
import {
  folderTokenizerJson,
  loadTokenizer,
  readConfig,
  readVocabulary,
  tokenizerFolder,
  tokenizerFromJson,
  vocabTokenizerJson,
  vocabularyDifference,
} from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs, transformersJsTokenizerConfig } from '../../src/export/transformers-js.ts';
import { wordPieceTokenizerJson } from '../../src/eval/wordpiece-vocab.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { MNLI_M, SST2 } from '../../src/glue/tasks.ts';
import { GLUE_DIR, TEACHERS, fixtureTokenizer, hasFixtures, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { refusal } from '../helpers/refusal.ts';
import { tokenizerFolder as tokenizerFolderOf } from '../helpers/tokenizer-json.ts';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { tinyBertConfig } from '../helpers/models.ts';
import { checkStudentVocabulary } from '../../src/train/students/index.ts';

env.allowRemoteModels = false;

/**
 * A tokenizer.json of `model` behind this pre-tokenizer and normalizer (none where not given), with no post-processor
 * or decoder, read as evaluation reads one.
 */
function fromParts(parts: { model: object; pre_tokenizer?: unknown; normalizer?: unknown; added_tokens?: unknown[] }) {
  const json = { version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...parts };
  return tokenizerFromJson(json, {}, 'tokenizer.json');
}

/** A WordLevel model of `vocab`: a pre-token it lacks is <unk>. */
const wordLevel = (vocab: Record<string, number>) => ({ type: 'WordLevel', vocab, unk_token: '<unk>' });

/** A folder with only the vocab.txt of the shared bert-base-uncased tokenizer (and optional config). */
function vocabOnly(config?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
  copyFileSync(join(fixtureTokenizer('distilbert-base-uncased'), 'vocab.txt'), join(dir, 'vocab.txt'));
  if (config) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

/**
 * The shared uncased tokenizer folder as bert-base-uncased's (its tokenizer_config.json naming BertTokenizer, which
 * returns token types, where the shared one names DistilBertTokenizer, which returns none: returnsTokenTypes).
 */
function bertUncased(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bert-uncased-'));
  const from = fixtureTokenizer('distilbert-base-uncased');
  for (const f of ['tokenizer.json', 'vocab.txt', 'special_tokens_map.json']) copyFileSync(join(from, f), join(dir, f));
  const config = JSON.parse(readFileSync(join(from, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, tokenizer_class: 'BertTokenizer' }));
  return dir;
}

describe.skipIf(!hasFixtures)('tokenizer: bert-base-uncased ids (needs ../shared/fixtures/onnx)', () => {
  const tokenizer = loadTokenizer(bertUncased());

  it('encodes "hello world" as [CLS] hello world [SEP] = 101 7592 2088 102', () => {
    // Source: the bert-base-uncased reference sequence given in issue 3 (101 7592 2088 102), which is also what the
    // vocabulary says: in bert-base-uncased vocab.txt (0-based ids = line − 1) [CLS] is line 102, [SEP] line 103,
    // "world" line 2089 and "hello" line 7593.
    expect(tokenizer.encode('Hello world', null, 128)).toEqual({ ids: [101, 7592, 2088, 102], typeIds: [0, 0, 0, 0] });
  });

  it('encodes a sentence pair with token types 0 then 1', () => {
    // Source: Hugging Face course, chapter 3 "Processing the data" (bert-base-uncased):
    // tokenizer("This is the first sentence.", "This is the second one.") →
    // input_ids [101, 2023, 2003, 1996, 2034, 6251, 1012, 102, 2023, 2003, 1996, 2117, 2028, 1012, 102],
    // token_type_ids [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1].
    expect(tokenizer.encode('This is the first sentence.', 'This is the second one.', 128)).toEqual({
      ids: [101, 2023, 2003, 1996, 2034, 6251, 1012, 102, 2023, 2003, 1996, 2117, 2028, 1012, 102],
      typeIds: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
    });
  });

  it('encodes the transformers quicktour sentence, with [UNK] for the emoji', () => {
    // Source: transformers quicktour (distilbert-base-uncased tokenizer):
    // tokenizer("We are very happy to show you the 🤗 Transformers library.") → input_ids
    // [101, 2057, 2024, 2200, 3407, 2000, 2265, 2017, 1996, 100, 19081, 3075, 1012, 102].
    expect(tokenizer.encode('We are very happy to show you the 🤗 Transformers library.', null, 128).ids).toEqual([
      101, 2057, 2024, 2200, 3407, 2000, 2265, 2017, 1996, 100, 19081, 3075, 1012, 102,
    ]);
  });

  it('truncates a pair longest-first to max length, counting the 3 special tokens', () => {
    const long = Array.from({ length: 40 }, () => 'word').join(' ');
    const e = tokenizer.encode(long, 'short one', 16);
    expect(e.ids).toHaveLength(16);
    expect(e.ids.filter((id) => id === 102)).toHaveLength(2);
    expect(e.typeIds.filter((t) => t === 1)).toHaveLength(3); // "short one" + final [SEP]
    expect(() => tokenizer.encode('a', 'b', 3)).toThrow(SettingsError);
  });

  it('builds the same tokenizer from vocab.txt alone (uncased by default)', () => {
    const fromVocab = loadTokenizer(vocabOnly());
    for (const [a, b] of [
      ['Hello world', null],
      ['This is the first sentence.', 'This is the second one.'],
      ["Ça c'est l'été, naïve café!", 'Ünïcödé 東京 tokens'],
    ] as const) {
      expect(fromVocab.encode(a, b, 64)).toEqual(tokenizer.encode(a, b, 64));
    }
    expect(fromVocab.padId).toBe(0);
  });

  it('keeps case when tokenizer_config.json says do_lower_case: false', () => {
    const cased = loadTokenizer(vocabOnly({ do_lower_case: false }));
    // The uncased vocabulary has no "Hello": a cased tokenizer cannot find it.
    expect(cased.encode('Hello world', null, 16).ids).toEqual([101, 100, 2088, 102]);
  });

  it("a file of the folder holding no vocabulary (tokenizer_config.json, config.json, special_tokens_map.json) names the folder's tokenizer, as --help says, where it was read as a tokenizer.json ('Tokenizer must contain a \"model\" property')", () => {
    const dir = vocabOnly({ do_lower_case: false });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ unk_token: '[UNK]' }));
    for (const file of ['tokenizer_config.json', 'config.json', 'special_tokens_map.json']) {
      const given = loadTokenizer(join(dir, file));
      expect(given.encode('Hello world', null, 16).ids).toEqual([101, 100, 2088, 102]); // cased, per the folder's config
      expect(given.source).toBe(join(dir, 'vocab.txt'));
    }
  });

  it('names a folder with no tokenizer files', () => {
    expect(() => loadTokenizer(mkdtempSync(join(tmpdir(), 'empty-')))).toThrow(DataError);
    expect(() => loadTokenizer(mkdtempSync(join(tmpdir(), 'empty-')))).toThrow(
      /no tokenizer\.json, vocab\.txt, vocab\.json with merges\.txt or SentencePiece model/,
    );
  });
});

describe.skipIf(!hasFixtures || !hasGlue)(
  'tokenizer: vocab.txt and tokenizer.json agree on GLUE text (needs ../shared/fixtures/onnx and ../shared/glue)',
  () => {
    it('gives identical ids for SST-2 dev and 300 MNLI pairs', () => {
      const fromJson = loadTokenizer(bertUncased());
      const fromVocab = loadTokenizer(vocabOnly());
      const examples = [...loadSplit(SST2, 'dev', GLUE_DIR).examples, ...loadSplit(MNLI_M, 'dev', GLUE_DIR).examples.slice(0, 300)];
      for (const e of examples) expect(fromVocab.encode(e.textA, e.textB, 128)).toEqual(fromJson.encode(e.textA, e.textB, 128));
    });
  },
);

describe.skipIf(!hasTeachers)('tokenizer: teacher folders (needs ../shared/teachers)', () => {
  it('loads the teacher tokenizer.json (bert-base-uncased ids)', () => {
    const t = loadTokenizer(join(TEACHERS, 'sst2-L4H256'));
    expect(t.encode('hello world', null, 64).ids).toEqual([101, 7592, 2088, 102]);
  });
});

describe.skipIf(!hasFixtures)('tokenizer: XLM-R (RoBERTa template, no token types) (needs ../shared/fixtures/onnx)', () => {
  it('pairs as <s> A </s></s> B </s> with all token types 0 and pads with <pad> = 1', () => {
    // RoBERTa/XLM-R pair format, per the Hugging Face docs of XLMRobertaTokenizer.build_inputs_with_special_tokens:
    // "pair of sequences: <s> A </s></s> B </s>"; the fixture's tokenizer.json sets <s> = 0, </s> = 2, <pad> = 1.
    const t = loadTokenizer(fixtureTokenizer('tiny-xlm-roberta-ce'));
    const e = t.encode('hello world', 'abc', 32);
    expect(e.ids[0]).toBe(0);
    expect(e.ids.at(-1)).toBe(2);
    const seps = e.ids.map((id, i) => (id === 2 ? i : -1)).filter((i) => i >= 0);
    expect(seps).toHaveLength(3);
    expect(seps[1]).toBe(seps[0]! + 1);
    expect(e.typeIds.every((x) => x === 0)).toBe(true);
    expect(t.padId).toBe(1);
    expect(t.encode('hello world hello world hello world', 'abc abc', 8).ids).toHaveLength(8);
  });
});

describe.skipIf(!hasTeachers)('tokenizer: vocabulary of a folder (needs ../shared/teachers/sst2-L2H256)', () => {
  const teacher = join(TEACHERS, 'sst2-L2H256');

  it('reads the same vocabulary from tokenizer.json and vocab.txt, whatever the formatting; a swap is a difference', () => {
    const fromJson = readVocabulary(teacher)!;
    expect(fromJson.file).toBe(join(teacher, 'tokenizer.json'));
    const dir = mkdtempSync(join(tmpdir(), 'bc-vocab-'));
    copyFileSync(join(teacher, 'vocab.txt'), join(dir, 'vocab.txt'));
    const fromTxt = readVocabulary(dir)!;
    expect(fromTxt.file).toBe(join(dir, 'vocab.txt'));
    expect(vocabularyDifference(fromTxt.vocab, fromJson.vocab)).toBeUndefined();
    // the same JSON, indented: the same vocabulary
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(JSON.parse(readFileSync(join(teacher, 'tokenizer.json'), 'utf8')), null, 2));
    expect(vocabularyDifference(readVocabulary(dir)!.vocab, fromJson.vocab)).toBeUndefined();
    // two ids swapped: same size, another vocabulary
    const lines = readFileSync(join(teacher, 'vocab.txt'), 'utf8').split('\n');
    [lines[100], lines[101]] = [lines[101]!, lines[100]!];
    rmSync(join(dir, 'tokenizer.json'));
    writeFileSync(join(dir, 'vocab.txt'), lines.join('\n'));
    const swapped = readVocabulary(dir)!.vocab;
    expect(swapped.size).toBe(fromJson.vocab.size);
    expect(vocabularyDifference(swapped, fromJson.vocab)).toBe(`token '${lines[100]}': id 100 against 101`);
    rmSync(dir, { recursive: true, force: true });
    expect(readVocabulary(dir)).toBeUndefined();
  });
});

describe('tokenizer: vocabulary of a folder whose tokenizer.json loadTokenizer refuses', () => {
  it("is refused with loadTokenizer's line (a tokenizer.json of {}), where it was read as empty and distillation's check said '0 tokens against 7' before the real refusal", () => {
    const root = mkdtempSync(join(tmpdir(), 'refused-vocab-'));
    try {
      const teacher = join(root, 'teacher');
      const student = join(root, 'student');
      for (const dir of [teacher, student]) mkdirSync(dir);
      writeFileSync(join(teacher, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', ''].join('\n'));
      writeFileSync(join(student, 'tokenizer.json'), '{}');
      const line = `${join(student, 'tokenizer.json')}: not a tokenizer we can load: Tokenizer must contain a "model" property`;
      expect(refusal(() => loadTokenizer(student), DataError)).toBe(line);
      expect(refusal(() => readVocabulary(student), DataError)).toBe(line);
      expect(refusal(() => checkStudentVocabulary(7, 7, { student, teacher }), DataError)).toBe(line);
      expect(readVocabulary(teacher)?.vocab.size).toBe(7);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is read without building the tokenizer (30–100 ms of CPU) where only how it reads text is refused (two added tokens normalized to one text), a refusal left to its load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unbuilt-vocab-'));
    try {
      const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
      const model = { type: 'WordLevel', unk_token: '[UNK]', vocab: { '[UNK]': 0, a: 1, b: 2 } };
      const json = {
        version: '1.0',
        added_tokens: [added(3, 'X'), added(4, 'x')],
        normalizer: { type: 'Lowercase' },
        pre_tokenizer: null,
        post_processor: null,
        decoder: null,
        model,
      };
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
      expect(refusal(() => loadTokenizer(dir), DataError)).toMatch(/its added tokens 'X' and 'x' are both of normalized true and normalized to 'x'/);
      expect([...readVocabulary(dir)!.vocab]).toEqual([
        ['[UNK]', 0],
        ['a', 1],
        ['b', 2],
        ['X', 3],
        ['x', 4],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer: vocab.txt with a token on two lines', () => {
  it('gives the token the id of its last line, as transformers (load_vocab) and tokenizers do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dup-vocab-'));
    try {
      writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', 'hello', ''].join('\n'));
      expect(loadTokenizer(dir).encode('Hello world', null, 16).ids).toEqual([2, 7, 6, 3]);
      expect(readVocabulary(dir)!.vocab.get('hello')).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer: vocab.txt with a lone carriage return', () => {
  it("ends a line at a lone '\\r' (and at '\\r\\n' once), as transformers' load_vocab reads it (readlines() in Python's universal newlines mode: ids 5 hello, 6 world, 7 '', 8 film), where the '\\r' was part of a token and every later token had another id", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cr-vocab-'));
    try {
      writeFileSync(join(dir, 'vocab.txt'), '[PAD]\n[UNK]\r\n[CLS]\n[SEP]\n[MASK]\nhello\rworld\r\r\nfilm\r');
      const vocab = readVocabulary(dir)!.vocab;
      expect([...vocab]).toEqual([
        ['[PAD]', 0],
        ['[UNK]', 1],
        ['[CLS]', 2],
        ['[SEP]', 3],
        ['[MASK]', 4],
        ['hello', 5],
        ['world', 6],
        ['', 7],
        ['film', 8],
      ]);
      expect(loadTokenizer(dir).encode('Hello world film', null, 16).ids).toEqual([2, 5, 6, 8, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer: vocab.txt without [UNK]', () => {
  it("is read as transformers' fast tokenizer builds it (BertConverter): a text it spells gets its ids, one holding a piece it lacks is refused in one line as tokenizers fails on it, where the folder was refused whatever the text (the ids are tokenizers 0.23's)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-unk-vocab-'));
    try {
      writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', ''].join('\n'));
      const tokenizer = loadTokenizer(dir);
      expect(tokenizer.encode('Hello worlds', null, 16).ids).toEqual([1, 4, 5, 6, 2]);
      const message = refusal(() => tokenizer.encode('hello there', null, 16), DataError);
      expect(message).toContain(join(dir, 'vocab.txt'));
      expect(message).toContain("'hello there' holds a piece the vocabulary lacks");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is said in one line at --format transformers.js, which gives such a text no id or an added [UNK] past the vocabulary where transformers fails on it and eval refuses it; a folder with [UNK] gets no such line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'no-unk-tjs-'));
    try {
      const warning = (out: string) =>
        `warning: ${out}: its tokenizer's WordPiece model's unk_token '[UNK]' is not in its vocabulary: transformers fails on a text holding a piece the vocabulary lacks and compress eval refuses it, where transformers.js reads it otherwise (no id, which it fails on with an error of its own, or the id of an added '[UNK]', which the model's word embedding may lack): classify with it only texts its vocabulary spells (or add '[UNK]' to the vocabulary)`;
      const vocab = ['[PAD]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world'];
      for (const [name, withUnk] of [
        ['no-unk', false],
        ['with-unk', true],
      ] as const) {
        const hf = tokenizerFolderOf(root, name, {});
        rmSync(join(hf, 'tokenizer.json'));
        writeFileSync(join(hf, 'vocab.txt'), [...vocab, ...(withUnk ? ['[UNK]'] : []), ''].join('\n'));
        const out = `${hf}-tjs`;
        const { notes } = await exportToTransformersJs(hf, out);
        expect(notes).toEqual(withUnk ? [] : [warning(out)]);
        const theirs = await AutoTokenizer.from_pretrained(out);
        const ids = Array.from(theirs('hello there').input_ids.data as BigInt64Array, Number);
        // (transformers.js gives the word it cannot spell the id of the added [UNK], one past the vocabulary)
        if (!withUnk) expect(ids).toEqual([1, 4, vocab.length, 2]);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('tokenizer: a byte-fallback BPE whose vocabulary lacks its unk_token', () => {
  // (its byte pieces spell every character: tokenizers (the Rust binding 0.23.2 gives 'héllo x' these ids too),
  // transformers.js and eval never need the unknown token, where the folder was warned that transformers fails on such
  // a text; without byte_fallback the warning stands)
  it('gets no missing-unk_token line at --format transformers.js when its vocabulary holds every byte piece, and transformers.js gives the ids eval gives', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bpe-byte-unk-'));
    try {
      const vocab: Record<string, number> = {};
      for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = b;
      for (const piece of ['h', 'e', 'l', 'o', 'he', 'll', 'hell', 'hello', '[CLS]', '[SEP]', '[PAD]']) vocab[piece] = Object.keys(vocab).length;
      const config = tinyBertConfig({ vocabSize: Object.keys(vocab).length });
      for (const byteFallback of [true, false]) {
        const hf = join(root, `byte-fallback-${byteFallback}`);
        writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
        const model = {
          type: 'BPE',
          dropout: null,
          unk_token: '<unk>',
          fuse_unk: false,
          byte_fallback: byteFallback,
          vocab,
          merges: ['h e', 'l l', 'he ll', 'hell o'],
        };
        const post_processor = { type: 'BertProcessing', sep: ['[SEP]', vocab['[SEP]']], cls: ['[CLS]', vocab['[CLS]']] };
        const json = { version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor, decoder: null, model };
        writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(json));
        const out = `${hf}-tjs`;
        const { notes } = await exportToTransformersJs(hf, out);
        const missingUnk = notes.filter((n) => n.includes('unk_token'));
        if (!byteFallback) {
          expect(missingUnk).toEqual([expect.stringContaining(`its tokenizer's BPE model's unk_token '<unk>' is not in its vocabulary`)]);
          continue;
        }
        expect(missingUnk).toEqual([]);
        const theirs = await AutoTokenizer.from_pretrained(out);
        const ids = loadTokenizer(hf).encode('héllo x', null, 64).ids;
        expect([...ids]).toEqual([vocab['[CLS]'], vocab.h, 0xc3, 0xa9, vocab.ll, vocab.o, 0x78, vocab['[SEP]']]);
        expect(Array.from(theirs('héllo x').input_ids.data as BigInt64Array, Number)).toEqual([...ids]);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('tokenizer.json without special tokens', () => {
  const vocab = new Map(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world'].map((t, i) => [t, i]));
  const folder = (postProcessor: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'no-specials-'));
    const json = { ...(wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true, stripAccents: null, tokenizeChineseChars: true }) as object) };
    if (postProcessor !== 'keep') Object.assign(json, { post_processor: postProcessor });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    return dir;
  };

  it('warns once on stderr, in one line, when a BERT vocabulary gets no [CLS] / [SEP] (post_processor null); ids as transformers gives them', () => {
    const dir = folder(null);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const tok = loadTokenizer(dir);
      expect(tok.encode('hello world', null, 16).ids).toEqual([5, 6]);
      loadTokenizer(dir); // the same file again: no second line
      const lines = spy.mock.calls.map((c) => String(c[0]));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warning: .*tokenizer\.json: the tokenizer adds no special tokens .*no \[CLS\] … \[SEP\]/);
      expect(lines[0]!.trimEnd().includes('\n')).toBe(false);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing when the template adds them', () => {
    const dir = folder('keep');
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(loadTokenizer(dir).encode('hello world', null, 16).ids).toEqual([2, 5, 6, 3]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer.json without a key tokenizers lets it leave out', () => {
  // tokenizers (src/tokenizer/serialization.rs, TokenizerVisitor::visit_map) reads every key but `model` as optional:
  // added_tokens starts empty, normalizer / pre_tokenizer / post_processor / decoder stay unset (none)
  const vocab = new Map(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world'].map((t, i) => [t, i]));
  const without = (key: string) => {
    const dir = mkdtempSync(join(tmpdir(), `no-${key}-`));
    const json = { ...(wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true, stripAccents: null, tokenizeChineseChars: true }) as object) } as Record<
      string,
      unknown
    >;
    expect(json).toHaveProperty(key);
    delete json[key];
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    return dir;
  };
  const ids = (dir: string, text: string) => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // (no post-processor: its warning)
    try {
      return loadTokenizer(dir).encode(text, null, 16).ids;
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it.each([
    // no added tokens: the special tokens are the WordPiece vocabulary's, the same ids
    ['added_tokens', 'Hello world', [2, 5, 6, 3]],
    // no normalizer: not lower-cased, 'Hello' is no piece of the vocabulary
    ['normalizer', 'Hello world', [2, 1, 6, 3]],
    // no pre-tokenizer: the whole text is one word, 'hello' then '## world' is no piece, so the word is [UNK]
    ['pre_tokenizer', 'hello world', [2, 1, 3]],
    // no post-processor: no [CLS] … [SEP]
    ['post_processor', 'hello world', [5, 6]],
    // no decoder: encoding as with one
    ['decoder', 'Hello world', [2, 5, 6, 3]],
  ])('is read as tokenizers reads it without %s (@huggingface/tokenizers refused all but a missing post_processor)', (key, text, expected) => {
    expect(ids(without(key), text)).toEqual(expected);
  });

  it('is written for --format transformers.js with those keys as tokenizers reads them', () => {
    for (const key of ['added_tokens', 'normalizer', 'pre_tokenizer', 'decoder']) {
      const dir = without(key);
      try {
        const read = folderTokenizerJson(dir)!;
        expect(read.asRead).toBe(false);
        expect(read.json[key]).toEqual(key === 'added_tokens' ? [] : null);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe("tokenizer_config.json's do_lowercase_and_remove_accent (a slow XLMTokenizer's option)", () => {
  // transformers reads it in XLMTokenizer (and FSMT's) alone: PreTrainedTokenizerFast never applies it, nor does a
  // tokenizers Tokenizer; @huggingface/tokenizers (and so transformers.js) lower-cases every text before the normalizer
  const vocab = new Map(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'movie', 'Movie'].map((t, i) => [t, i]));
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lowercase-remove-accent-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: false, stripAccents: false })));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, do_lowercase_and_remove_accent: true }));
    return dir;
  };

  it("is not applied: a cased tokenizer keeps case, as transformers' fast tokenizer reads the folder, where the text was lower-cased", () => {
    const dir = folder();
    try {
      expect(loadTokenizer(dir).encode('Movie MOVIE movie', null, 16).ids).toEqual([2, 6, 1, 5, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is left out of the tokenizer_config.json written for transformers.js, so that it reads the text as evaluation does', () => {
    const dir = folder();
    try {
      const { json } = folderTokenizerJson(dir)!;
      const written = transformersJsTokenizerConfig(readConfig(dir), json, null, null, 'BertTokenizer');
      expect(written).not.toHaveProperty('do_lowercase_and_remove_accent');
      expect(new Tokenizer(json, written).encode('Movie MOVIE movie').ids).toEqual(loadTokenizer(dir).encode('Movie MOVIE movie', null, 16).ids);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a model that fuses unknown pieces (Unigram, BPE with fuse_unk)', () => {
  /** A folder whose tokenizer.json has `model`, splitting words on whitespace and adding no special tokens. */
  const folder = (model: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'fuse-unk-'));
    const json = { version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: null, model };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    return dir;
  };
  const bpe = { type: 'BPE', unk_token: '<unk>', fuse_unk: true, vocab: { '<unk>': 0, a: 1, b: 2, ab: 3 }, merges: ['a b'] };
  const unigram = {
    type: 'Unigram',
    unk_id: 0,
    vocab: [
      ['<unk>', 0],
      ['a', -1],
      ['b', -1],
      ['ab', -1.5],
    ],
  };

  it.each([
    ['BPE', bpe],
    ['Unigram', unigram],
  ])(
    'fuses them within a word only (%s), as tokenizers runs its model on each pre-token, where two unknown words side by side were one unknown token',
    (_, model) => {
      const dir = folder(model);
      try {
        // (é and ü are no pieces: one unknown token each; within a word, 'éü' is one)
        expect(loadTokenizer(dir).encode('é ü ab éü', null, 16).ids).toEqual([0, 0, 3, 0]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('a Unigram model of no unk_id (null or none)', () => {
  const unigram = (vocab: Array<[string, number]>, unkId?: null) => ({
    type: 'Unigram',
    ...(unkId === null ? { unk_id: null } : {}),
    byte_fallback: false,
    vocab,
  });
  const refusal = (char: string, word: string) =>
    new DataError(
      `tokenizer.json: its Unigram model has no unk_id, and '${char}' (in '${word}') is no piece of its vocabulary alone: tokenizers fails on such a text ('Encountered an unknown token but \`unk_id\` is missing'); give the model an unk_id`,
    );

  // (each checked against the tokenizers 0.23.2 node binding, and 240 random vocabularies and texts alike)
  it("refuses a text with a character no piece spells alone in one line, as tokenizers' Unigram fails on it (byte_fallback or not), where an id was given", () => {
    for (const unkId of [null, undefined]) {
      const t = fromParts({
        model: unigram(
          [
            ['a', -1],
            ['b', -2],
          ],
          unkId,
        ),
        pre_tokenizer: { type: 'WhitespaceSplit' },
      });
      expect(t.encode('ab ba', null, 16).ids).toEqual([0, 1, 1, 0]);
      expect(() => t.encode('ab c', null, 16)).toThrow(refusal('c', 'c'));
      expect(() => t.encode('ab', 'bca', 16)).toThrow(refusal('c', 'bca'));
    }
    // (where the unknown token's path would win at the character's end: w 20 then x beats wx's 1)
    const w = fromParts({
      model: unigram(
        [
          ['w', 20],
          ['wx', 1],
        ],
        null,
      ),
    });
    expect(() => w.encode('wx', null, 16)).toThrow(refusal('x', 'wx'));
  });

  it("reads a character no piece spells alone where a longer piece's path to its end is better than the unknown token's, as tokenizers does", () => {
    // (wx's -1 beats w's -1 plus the unknown token's -1 - 10 at x's end)
    const t = fromParts({
      model: unigram(
        [
          ['w', -1],
          ['wx', -1],
        ],
        null,
      ),
    });
    expect(t.encode('wx', null, 16).ids).toEqual([1]);
    expect(() => t.encode('xw', null, 16)).toThrow(refusal('x', 'xw'));
  });

  it('reads a text whose refused character lies past the splits tokenizers tokenizes before it truncates (its early exit at max_length), as it does', () => {
    // [CLS] 1, [SEP] 2, ab 5, 日 6, 本 7, カ 8, ー 9; é no piece (ids as the tokenizers 0.23.2 binding gives them)
    const pieces = ['<pad>', '[CLS]', '[SEP]', 'a', 'b', 'ab', '日', '本', 'カ', 'ー'];
    const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
    const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
    const t = tokenizerFromJson(
      {
        version: '1.0',
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: { type: 'WhitespaceSplit' },
        post_processor: {
          type: 'TemplateProcessing',
          single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
          pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1), special('[SEP]', 1)],
          special_tokens: { '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] } },
        },
        decoder: null,
        model: unigram(
          pieces.map((p, i): [string, number] => [p, i < 3 ? 0 : -1]),
          null,
        ),
      },
      {},
      'tokenizer.json',
    );
    // (ab and 日本カー make 5 tokens: at max_length 5 tokenizers stops before é, at 6 it reaches it and fails)
    expect(t.encode('ab 日本カー é', null, 5).ids).toEqual([1, 5, 6, 7, 2]);
    expect(t.encode('ab 日本カー é', null, 3).ids).toEqual([1, 5, 2]);
    expect(() => t.encode('ab 日本カー é', null, 6)).toThrow(refusal('é', 'é'));
    expect(t.encode('ab 日本カー 日本カー é', 'b a', 6).ids).toEqual([1, 5, 6, 2, 4, 2]);
    expect(t.encode('b a', 'ab 日本カー 日本カー é', 9).ids).toEqual([1, 4, 3, 2, 5, 6, 7, 8, 2]);
    expect(() => t.encode('b a', 'ab 日本カー 日本カー é', 10)).toThrow(refusal('é', 'é'));
    expect(() => t.encode('ab 日本カー é', 'b a', 6)).toThrow(refusal('é', 'é'));
  });
});

describe('a Unigram model of byte_fallback true', () => {
  // <unk> 0, ▁ 1, a 2, ▁a 3, then the 256 byte pieces <0x00>…<0xFF> (ids 4…259)
  const bytePiece = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  const vocab = (bytes: readonly number[]) => [['<unk>', 0], ['▁', -2], ['a', -1], ['▁a', -1], ...bytes.map((b) => [bytePiece(b), 0])];
  const ALL = Array.from({ length: 256 }, (_, b) => b);
  const ids = (byteFallback: boolean, bytes: readonly number[], text: string) =>
    fromParts({
      model: { type: 'Unigram', unk_id: 0, byte_fallback: byteFallback, vocab: vocab(bytes) },
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    }).encode(text, null, 32).ids;

  it("gives an unknown piece as the byte pieces of its UTF-8 bytes, a run of unknown characters fused first, as tokenizers' Unigram::tokenize does, where the unknown token was read", () => {
    // é is C3 A9, ü C3 BC, 😀 F0 9F 98 80: byte piece ids 4 + the byte
    expect(ids(true, ALL, 'a é')).toEqual([3, 1, 4 + 0xc3, 4 + 0xa9]);
    expect(ids(true, ALL, 'aéü😀a')).toEqual([3, 4 + 0xc3, 4 + 0xa9, 4 + 0xc3, 4 + 0xbc, 4 + 0xf0, 4 + 0x9f, 4 + 0x98, 4 + 0x80, 2]);
    // (byte_fallback false: the unknown token, one for the fused run)
    expect(ids(false, ALL, 'a éü')).toEqual([3, 1, 0]);
  });

  it('is said in one line at --format transformers.js, which gives the unknown token (transformers.js ignores byte_fallback)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unigram-byte-fallback-'));
    try {
      const json = {
        version: '1.0',
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        post_processor: null,
        decoder: null,
        // (é's two byte pieces alone: <0xA9> 4, <0xC3> 5, within the tiny model's 128 rows)
        model: { type: 'Unigram', unk_id: 0, byte_fallback: true, vocab: vocab([0xa9, 0xc3]) },
      };
      const hf = tokenizerFolderOf(dir, 'hf', json);
      const out = join(dir, 'tjs');
      const { notes } = await exportToTransformersJs(hf, out);
      expect(notes.filter((n) => n.includes('byte_fallback'))).toEqual([
        `warning: ${out}: its tokenizer's Unigram model has byte_fallback, which transformers.js ignores: a piece its vocabulary lacks (é, an emoji) is the unknown token in transformers.js, where transformers and compress eval give the byte pieces of its UTF-8 bytes (<0xC3> <0xA9>)`,
      ]);
      expect(loadTokenizer(out).encode('a é', null, 16).ids).toEqual([3, 1, 5, 4]);
      const theirs = await AutoTokenizer.from_pretrained(out);
      expect(Array.from(theirs('a é').input_ids.data as BigInt64Array, Number)).toEqual([3, 1, 0]); // (what the warning says)
      const { notes: without } = await exportToTransformersJs(
        tokenizerFolderOf(dir, 'hf-no-fallback', { ...json, model: { ...json.model, byte_fallback: false } }),
        join(dir, 'tjs-no-fallback'),
      );
      expect(without.filter((n) => n.includes('byte_fallback'))).toEqual([]);
      // (byte_fallback true, but no byte piece to fall back to: the unknown token in eval as in transformers.js)
      const bare = tokenizerFolderOf(dir, 'hf-no-byte-pieces', { ...json, model: { ...json.model, vocab: vocab([]) } });
      const { notes: bareNotes } = await exportToTransformersJs(bare, join(dir, 'tjs-no-byte-pieces'));
      expect(bareNotes.filter((n) => n.includes('byte_fallback'))).toEqual([]);
      expect(loadTokenizer(bare).encode('a é', null, 16).ids).toEqual([3, 1, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives the unknown token where the vocabulary lacks one of the bytes, as tokenizers does', () => {
    // (ü's BC missing: the fused run éü is one unknown token; é alone is read as bytes)
    const lacking = ALL.filter((b) => b !== 0xbc);
    expect(ids(true, lacking, 'a éü')).toEqual([3, 1, 0]);
    expect(ids(true, lacking, 'a é')).toEqual([3, 1, 4 + 0xc3 - 1, 4 + 0xa9]);
  });
});

describe("a Metaspace pre-tokenizer of prepend_scheme first (transformers' converters' for legacy false)", () => {
  // ▁ 1, ▁a 2, a 3, b 4, ▁b 5, <m> 6 (an added token), , 7
  const vocab = [
    ['<unk>', 0],
    ['▁', -1],
    ['▁a', -1],
    ['a', -1],
    ['b', -1],
    ['▁b', -1],
    ['<m>', 0],
    [',', -1],
  ];
  const first = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true };
  const m = { id: 6, content: '<m>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  const tokenizer = (pre: object, normalizer: object | null = null) =>
    fromParts({
      model: { type: 'Unigram', unk_id: 0, vocab },
      pre_tokenizer: pre,
      normalizer,
      added_tokens: [m],
    });
  const ids = (t: ReturnType<typeof tokenizer>, text: string) => t.encode(text, null, 32).ids;

  it("prepends ▁ to the pre-token that starts the text alone, as tokenizers does, where every word after a WhitespaceSplit or Punctuation got one (the ids are tokenizers 0.23's)", () => {
    const words = tokenizer({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, first] });
    expect(ids(words, 'a b a')).toEqual([2, 4, 3]);
    // (a text starting with a space: its first word does not start the text, so no word gets one)
    expect(ids(words, ' a b')).toEqual([3, 4]);
    const punctuation = tokenizer({ type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'Isolated' }, first] });
    expect(ids(punctuation, 'a,b')).toEqual([2, 7, 4]);
    expect(ids(punctuation, ',a b')).toEqual([1, 7, 3, 5]);
  });

  it('prepends none after an added token or a first character the normalizer drops, as tokenizers does; the second text of a pair starts a text of its own', () => {
    expect(ids(tokenizer(first), '<m>a b')).toEqual([6, 3, 5]);
    const stripped = tokenizer(first, { type: 'Strip', strip_left: true, strip_right: true });
    expect(ids(stripped, ' a b')).toEqual([3, 5]);
    expect(ids(stripped, 'a b')).toEqual([2, 5]);
    expect(
      ids(tokenizer(first, { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false }), '\u0001a b'),
    ).toEqual([3, 5]);
    const words = tokenizer({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, first] });
    expect(words.encode('a b', 'a b', 32).ids).toEqual([2, 4, 2, 4]);
    // (always, as before: every pre-token)
    expect(ids(tokenizer({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { ...first, prepend_scheme: 'always' }] }), ' a b')).toEqual([2, 5]);
  });

  // (tokenizers 0.23.2's node binding: 'A', 'A<m>b' and the pair 'A', 'A' give ▁a (2) for each A, where eval read a (3))
  it('prepends one where the normalizer turns the text into the content of an added token of normalized false, which is not found there', () => {
    const a = { id: 3, content: 'a', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false };
    const t = fromParts({ model: { type: 'Unigram', unk_id: 0, vocab }, pre_tokenizer: first, normalizer: { type: 'Lowercase' }, added_tokens: [m, a] });
    expect(ids(t, 'A')).toEqual([2]);
    expect(ids(t, 'A<m>b')).toEqual([2, 6, 4]);
    expect(t.encode('A', 'A', 32).ids).toEqual([2, 2]);
    // (the token itself, found in the text as written, is its id, with no ▁)
    expect(ids(t, 'a<m>b')).toEqual([3, 6, 4]);
  });
});

describe('token types of a tokenizer whose class returns none', () => {
  /** A WordPiece folder (BERT template: a pair's second text type 1) with these tokenizer_config.json and config.json. */
  const folder = (tokenizerConfig: object, modelConfig?: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'types-'));
    writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b'].join('\n') + '\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
    return dir;
  };
  const types = (dir: string) => loadTokenizer(dir).encode('a', 'b', 16).typeIds;

  it("are all 0 where transformers' tokenizer class returns no token_type_ids (DistilBertTokenizer's, RobertaTokenizer's …, or model_input_names without them), as the model computes without them, where eval and training fed the template's second text type 1", () => {
    for (const dir of [
      folder({ tokenizer_class: 'DistilBertTokenizer' }),
      folder({ tokenizer_class: 'RobertaTokenizerFast' }),
      folder({}, { model_type: 'distilbert', tokenizer_class: 'DistilBertTokenizer' }),
      folder({}, { model_type: 'distilbert' }),
      folder({ tokenizer_class: 'BertTokenizer', model_input_names: ['input_ids', 'attention_mask'] }),
    ])
      expect(types(dir)).toEqual([0, 0, 0, 0, 0]);
  });

  it("are all 0 for a DPRReaderTokenizer or RetriBertTokenizer (Fast or not, named or by model_type retribert), whose model_input_names in transformers 4.x are input_ids and attention_mask (their models take no token types), where the template's second text type 1 was fed; DPR's encoders' classes return the template's", () => {
    for (const dir of [
      folder({ tokenizer_class: 'DPRReaderTokenizer' }),
      folder({ tokenizer_class: 'DPRReaderTokenizerFast' }),
      folder({ tokenizer_class: 'RetriBertTokenizerFast' }),
      folder({}, { model_type: 'retribert' }),
    ])
      expect(types(dir)).toEqual([0, 0, 0, 0, 0]);
    for (const dir of [
      folder({ tokenizer_class: 'DPRQuestionEncoderTokenizerFast' }),
      folder({ tokenizer_class: 'DPRContextEncoderTokenizer' }),
      folder({}, { model_type: 'dpr' }),
      folder({ tokenizer_class: 'RetriBertTokenizer', model_input_names: ['input_ids', 'token_type_ids', 'attention_mask'] }),
    ])
      expect(types(dir)).toEqual([0, 0, 0, 1, 1]);
  });

  it("give [CLS] type 2 in a folder of vocab.txt alone loaded as FunnelTokenizer (named, Fast or not, or by model_type funnel), as transformers' FunnelConverter writes its template (`{cls}:2`), where it was type 0; a Funnel tokenizer.json's own template, and other classes' vocab.txt, keep [CLS] type 0", () => {
    const funnelTypes = (dir: string) => [loadTokenizer(dir).encode('a', null, 16).typeIds, types(dir)];
    for (const dir of [
      folder({ tokenizer_class: 'FunnelTokenizer' }),
      folder({ tokenizer_class: 'FunnelTokenizerFast' }),
      folder({}, { model_type: 'funnel' }),
    ])
      expect(funnelTypes(dir)).toEqual([
        [2, 0, 0],
        [2, 0, 0, 1, 1],
      ]);
    const withJson = folder({ tokenizer_class: 'FunnelTokenizer' });
    writeFileSync(join(withJson, 'tokenizer.json'), JSON.stringify(vocabTokenizerJson(join(withJson, 'vocab.txt'), { tokenizer_class: 'BertTokenizer' })));
    for (const dir of [withJson, folder({ tokenizer_class: 'BertTokenizer' }, { model_type: 'funnel' })])
      expect(funnelTypes(dir)).toEqual([
        [0, 0, 0],
        [0, 0, 0, 1, 1],
      ]);
  });

  it("are the template's where the class returns them or is not one known here", () => {
    for (const dir of [
      folder({ tokenizer_class: 'BertTokenizer' }),
      folder({}, { model_type: 'bert' }),
      folder({ tokenizer_class: 'ElectraTokenizerFast' }, { model_type: 'distilbert' }),
      folder({ tokenizer_class: 'DistilBertTokenizer', model_input_names: ['input_ids', 'token_type_ids', 'attention_mask'] }),
      folder({}, { model_type: 'constructor' }),
      folder({}),
    ])
      expect(types(dir)).toEqual([0, 0, 0, 1, 1]);
  });
});

describe('a tokenizer loaded as MPNetTokenizer', () => {
  // (microsoft/mpnet-base's layout: <s> <pad> </s> <unk> first, BERT's vocabulary after, <mask> last)
  const VOCAB = ['<s>', '<pad>', '</s>', '<unk>', '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', '<', '>', 'mask', '<mask>'];
  const folder = (tokenizerConfig: object | undefined, modelConfig?: object, json?: (dir: string) => object) => {
    const dir = mkdtempSync(join(tmpdir(), 'mpnet-'));
    writeFileSync(join(dir, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    if (tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
    if (json) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json(dir)));
    return dir;
  };
  const encoded = (dir: string) => {
    const tokenizer = loadTokenizer(dir);
    const pair = tokenizer.encode('a', 'B', 16);
    return { pair: pair.ids, types: pair.typeIds, single: tokenizer.encode('A <mask>', null, 16).ids };
  };

  it("reads a folder of vocab.txt alone as transformers' MPNetConverter writes it (named, Fast or not, or by config.json's model_type mpnet): <s> A </s></s> B </s>, MPNet's special tokens where tokenizer_config.json names none, every token type 0 (its model_input_names), where it was read as BERT's ([CLS] A [SEP] B [SEP], types 1 for B)", () => {
    const hubConfig = { tokenizer_class: 'MPNetTokenizer', cls_token: '<s>', sep_token: '</s>', unk_token: '[UNK]', pad_token: '<pad>', mask_token: '<mask>' };
    for (const dir of [
      folder({ tokenizer_class: 'MPNetTokenizer' }),
      folder({ tokenizer_class: 'MPNetTokenizerFast' }),
      folder(undefined, { model_type: 'mpnet' }),
      folder(hubConfig),
    ])
      expect(encoded(dir)).toEqual({ pair: [0, 9, 2, 2, 10, 2], types: [0, 0, 0, 0, 0, 0], single: [0, 9, 14, 2] });
    // (a BERT class's folder of the same vocabulary, as before)
    expect(encoded(folder({ tokenizer_class: 'BertTokenizer' }))).toEqual({ pair: [6, 9, 7, 10, 7], types: [0, 0, 0, 1, 1], single: [6, 9, 11, 13, 12, 7] });
  });

  it("reads a tokenizer.json's own template, every token type 0 unless tokenizer_config.json's model_input_names lists token_type_ids", () => {
    const withJson = (config: object) =>
      folder(config, undefined, (dir) => vocabTokenizerJson(join(dir, 'vocab.txt'), { tokenizer_class: 'BertTokenizer', cls_token: '<s>', sep_token: '</s>' }));
    expect(encoded(withJson({ tokenizer_class: 'MPNetTokenizerFast' }))).toEqual({
      pair: [0, 9, 2, 10, 2],
      types: [0, 0, 0, 0, 0],
      single: [0, 9, 11, 13, 12, 2],
    });
    expect(encoded(withJson({ tokenizer_class: 'MPNetTokenizerFast', model_input_names: ['input_ids', 'token_type_ids'] })).types).toEqual([0, 0, 0, 1, 1]);
  });
});

describe('a tokenizer.json whose class has no fast tokenizer (XLMTokenizer, FlaubertTokenizer)', () => {
  const vocab = new Map(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'movie'].map((t, i) => [t, i]));
  const folder = (tokenizerConfig: object, modelConfig?: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'slow-only-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true })));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
    return dir;
  };

  it("is read with a one-line warning, once, that transformers tokenizes with the class's own Python rules and files instead (AutoTokenizer falls back to the slow class, which never reads tokenizer.json), where it was read silently", () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const xlm = folder({ tokenizer_class: 'XLMTokenizer' });
      expect(loadTokenizer(xlm).encode('movie', null, 8).ids).toEqual([2, 5, 3]);
      loadTokenizer(xlm);
      const byType = folder({}, { model_type: 'flaubert' });
      loadTokenizer(byType);
      loadTokenizer(folder({ tokenizer_class: 'BertTokenizer' }, { model_type: 'xlm' }));
      expect(stderr.mock.calls.map(([line]) => String(line))).toEqual([
        `warning: ${xlm}: its tokenizer class XLMTokenizer has no fast tokenizer, so transformers tokenizes with the class's own Python rules and vocabulary files, not tokenizer.json, which compress reads (as transformers.js does): its ids may differ from transformers'\n`,
        `warning: ${byType}: its tokenizer class FlaubertTokenizer has no fast tokenizer, so transformers tokenizes with the class's own Python rules and vocabulary files, not tokenizer.json, which compress reads (as transformers.js does): its ids may differ from transformers'\n`,
      ]);
    } finally {
      stderr.mockRestore();
    }
  });
});

describe("an XLM or FlauBERT folder's vocab.json and merges.txt (its slow class's BPE, word ends marked </w>)", () => {
  it('is refused in one line saying to give a tokenizer.json, where it was read as byte-level BPE; a RoBERTa folder of the same files is read', () => {
    const folder = (tokenizerConfig: object, modelConfig?: object) => {
      const dir = mkdtempSync(join(tmpdir(), 'xlm-bpe-'));
      writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, 'movie</w>': 4, m: 5 }));
      writeFileSync(join(dir, 'merges.txt'), 'm o\n');
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
      if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
      return dir;
    };
    for (const [dir, cls] of [
      [folder({ tokenizer_class: 'XLMTokenizer' }), 'XLMTokenizer'],
      [folder({}, { model_type: 'flaubert' }), 'FlaubertTokenizer'],
    ] as const) {
      expect(() => loadTokenizer(dir)).toThrow(
        new DataError(
          `${dir}: its vocab.json and merges.txt are ${cls}'s BPE (word ends marked </w>, Moses pre-tokenizing), which compress does not read (it reads these files as byte-level BPE): give a folder holding a tokenizer.json of this tokenizer (tokenizers' BPE with end_of_word_suffix "</w>")`,
        ),
      );
      expect(() => loadTokenizer(join(dir, 'merges.txt'))).toThrow(DataError);
    }
    expect(loadTokenizer(folder({ tokenizer_class: 'RobertaTokenizer' })).encode('m', null, 8).ids).toEqual([0, 5, 2]);
  });
});

describe('tokenizer: a file of a tokenizer folder given', () => {
  it("names its folder, read as the folder is (tokenizer.json first), by eval as by training and --format transformers.js: vocab.txt beside a tokenizer.json of other ids gives the tokenizer.json's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenizer-file-'));
    try {
      const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
      writeFileSync(join(dir, 'vocab.txt'), [...special, 'hello', 'world', ''].join('\n'));
      // (the folder's tokenizer.json: 'world' at 5, 'hello' at 6, as its model (and training, which reads it) knows them)
      const json = wordPieceTokenizerJson(new Map([...special, 'world', 'hello'].map((t, i) => [t, i])), 'tokenizer.json', { doLowerCase: true });
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
      writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
      writeFileSync(join(dir, 'config.json'), '{}');
      const folder = loadTokenizer(dir).encode('hello world', null, 8).ids;
      expect(folder).toEqual([2, 6, 5, 3]);
      for (const file of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'config.json']) {
        expect(tokenizerFolder(join(dir, file))).toBe(dir);
        expect(loadTokenizer(join(dir, file)).encode('hello world', null, 8).ids).toEqual(folder);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer: a file given that is no tokenizer file', () => {
  it("is refused in one line saying what --tokenizer takes, by every reader of --tokenizer (eval's loadTokenizer, training's and transformers.js' folder), where eval read a model.onnx as a tokenizer.json ('not valid JSON') and training read its folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'not-tokenizer-'));
    try {
      writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', ''].join('\n'));
      writeFileSync(join(dir, 'model.onnx'), Buffer.from([8, 7, 18, 7]));
      writeFileSync(join(dir, 'oracle.json'), '{"accuracy": 1}');
      const takes =
        /: not a tokenizer file: give the tokenizer's folder or one of its files \(tokenizer\.json, vocab\.txt, vocab\.json, merges\.txt, spiece\.model, sentencepiece\.bpe\.model, tokenizer_config\.json, config\.json\)$/;
      for (const file of ['model.onnx', 'oracle.json']) {
        const path = join(dir, file);
        expect(() => loadTokenizer(path)).toThrow(DataError);
        expect(() => loadTokenizer(path)).toThrow(takes);
        expect(() => tokenizerFolder(path)).toThrow(takes);
        await expect(exportToTransformersJs(join(dir, 'no-such-checkpoint'), join(dir, 'web'), { tokenizerDir: path })).rejects.toThrow(takes);
      }
      // a tokenizer file names its folder; a folder is itself
      expect(tokenizerFolder(join(dir, 'vocab.txt'))).toBe(dir);
      expect(tokenizerFolder(dir)).toBe(dir);
      expect(loadTokenizer(join(dir, 'vocab.txt')).encode('hello world', null, 8).ids).toEqual([2, 5, 6, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a Punctuation pre-tokenizer's behavior", () => {
  // a 1, , 2, > 3, < 4, b 5, 'a,' 6, ',b' 7, ',,' 8, '><' 9 (a WordLevel model: a pre-token it lacks is <unk>, 0)
  const vocab = { '<unk>': 0, a: 1, ',': 2, '>': 3, '<': 4, b: 5, 'a,': 6, ',b': 7, ',,': 8, '><': 9 };
  const tokenizer = (pre: object) => fromParts({ model: wordLevel(vocab), pre_tokenizer: pre });
  const texts = ['a,,b', ',,a><', 'a,b,'];

  it("splits as tokenizers' does for each behavior (Isolated where none is written), where a run of punctuation was one pre-token whatever the behavior (the ids are tokenizers 0.23's)", () => {
    const expected: Array<[string | undefined, number[][]]> = [
      [
        undefined,
        [
          [1, 2, 2, 5],
          [2, 2, 1, 3, 4],
          [1, 2, 5, 2],
        ],
      ],
      [
        'Isolated',
        [
          [1, 2, 2, 5],
          [2, 2, 1, 3, 4],
          [1, 2, 5, 2],
        ],
      ],
      ['Removed', [[1, 5], [1], [1, 5]]],
      [
        'MergedWithPrevious',
        [
          [6, 2, 5],
          [2, 2, 0, 4],
          [6, 0],
        ],
      ],
      [
        'MergedWithNext',
        [
          [1, 2, 7],
          [2, 0, 3, 4],
          [1, 7, 2],
        ],
      ],
      [
        'Contiguous',
        [
          [1, 8, 5],
          [8, 1, 9],
          [1, 2, 5, 2],
        ],
      ],
    ];
    for (const [behavior, ids] of expected) {
      const t = tokenizer({ type: 'Punctuation', ...(behavior ? { behavior } : {}) });
      expect([behavior, texts.map((text) => t.encode(text, null, 32).ids)]).toEqual([behavior, ids]);
    }
    const nested = tokenizer({
      type: 'Sequence',
      pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Sequence', pretokenizers: [{ type: 'Punctuation' }] }],
    });
    expect(nested.encode('a,, ><b', null, 32).ids).toEqual([1, 2, 2, 3, 4, 5]);
  });
});

describe('a BertNormalizer as tokenizers normalizes', () => {
  // [UNK] 0, ab 1, cd 2, 𠮶 3, σ 4, ς 5, ##σ 6, ##ς 7, ο 8, ##δ 9, ##ο 10 (a WordPiece model behind a BertPreTokenizer)
  const vocab = { '[UNK]': 0, ab: 1, cd: 2, 𠮶: 3, σ: 4, ς: 5, '##σ': 6, '##ς': 7, ο: 8, '##δ': 9, '##ο': 10 };
  const tokenizer = (normalizer: object) =>
    fromParts({
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      normalizer,
    });
  const bert = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true };

  it("puts a space either side of a Chinese character past U+FFFF (CJK extension B '𠮶'), as tokenizers does by code point, where @huggingface/tokenizers read UTF-16 units and left it inside its word (the ids are tokenizers 0.23's)", () => {
    expect(tokenizer(bert).encode('ab𠮶cd', null, 16).ids).toEqual([1, 3, 2]);
    expect(tokenizer({ type: 'Sequence', normalizers: [bert] }).encode('ab𠮶cd', null, 16).ids).toEqual([1, 3, 2]);
    expect(tokenizer({ ...bert, handle_chinese_chars: false }).encode('ab𠮶cd', null, 16).ids).toEqual([0]);
  });

  it("lower-cases each character by itself, as tokenizers does (a BertNormalizer's lowercase, a Lowercase), so a capital sigma ending a word is σ, where JS's toLowerCase gave ς (the ids are tokenizers 0.23's)", () => {
    expect(tokenizer(bert).encode('ΟΔΟΣ Σ', null, 16).ids).toEqual([8, 9, 10, 6, 4]);
    expect(tokenizer({ type: 'Lowercase' }).encode('ΟΔΟΣ Σ', null, 16).ids).toEqual([8, 9, 10, 6, 4]);
    expect(tokenizer({ type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }] }).encode('ΟΔΟΣ', null, 16).ids).toEqual([8, 9, 10, 6]);
    expect(tokenizer({ ...bert, lowercase: false }).encode('ΟΔΟΣ', null, 16).ids).toEqual([0]);
  });
});

describe('a Whitespace pre-tokenizer', () => {
  // café 1, caf 2, é 3, α 4, + 5, β 6, α+β 7 (a WordLevel model: a pre-token it lacks is <unk>, 0)
  const vocab = { '<unk>': 0, café: 1, caf: 2, é: 3, α: 4, '+': 5, β: 6, 'α+β': 7 };
  const tokenizer = (pre: object) => fromParts({ model: wordLevel(vocab), pre_tokenizer: pre });

  it("splits on the regex crate's Unicode words as tokenizers does (`\\w+|[^\\w\\s]+`), where JS's ASCII \\w split 'café' as caf, é and kept 'α+β' one pre-token (the ids are tokenizers 0.23's)", () => {
    expect(tokenizer({ type: 'Whitespace' }).encode('café α+β', null, 16).ids).toEqual([1, 4, 5, 6]);
    expect(tokenizer({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Whitespace' }] }).encode('café α+β', null, 16).ids).toEqual([
      1, 4, 5, 6,
    ]);
  });
});

describe('a Digits pre-tokenizer', () => {
  it("takes Unicode's numbers as digits as tokenizers does (char::is_numeric), where JS's ASCII \\d kept 'x²³' one pre-token (the ids are tokenizers 0.23's)", () => {
    const vocab = { '<unk>': 0, x: 1, '²': 2, '³': 3, '²³': 4, 'x²³': 5 };
    const tokenizer = (individual: boolean) => fromParts({ model: wordLevel(vocab), pre_tokenizer: { type: 'Digits', individual_digits: individual } });
    expect([tokenizer(true).encode('x²³', null, 16).ids, tokenizer(false).encode('x²³', null, 16).ids]).toEqual([
      [1, 2, 3],
      [1, 4],
    ]);
  });
});

describe('a BertPreTokenizer or WhitespaceSplit behind no normalizer cleaning the text', () => {
  // a 1, b 2, ab 3, U+FEFF 4 (a WordLevel model: a pre-token it lacks is <unk>, 0)
  const vocab = { '<unk>': 0, a: 1, b: 2, ab: 3, '\uFEFF': 4, 'a\uFEFFb': 5 };
  const tokenizer = (pre: object, normalizer: object | null = null) => fromParts({ model: wordLevel(vocab), pre_tokenizer: pre, normalizer });

  it("splits on White_Space as tokenizers' char::is_whitespace does (U+0085 whitespace, U+FEFF not), where JS's \\s split at U+FEFF and not at U+0085", () => {
    for (const pre of [{ type: 'WhitespaceSplit' }, { type: 'BertPreTokenizer' }, { type: 'Sequence', pretokenizers: [{ type: 'BertPreTokenizer' }] }]) {
      expect(tokenizer(pre).encode('a\uFEFFb a\u0085b', null, 16).ids).toEqual([5, 1, 2]);
    }
    // (a BertNormalizer cleaning the text removes both, as control characters: unchanged)
    const clean = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: false };
    expect(tokenizer({ type: 'BertPreTokenizer' }, clean).encode('a\uFEFFb a\u0085b', null, 16).ids).toEqual([3, 3]);
  });
});

describe("a Split or Replace whose regex has Oniguruma's word escapes", () => {
  // x 1, ² 2, x² 3, y 4, x²y 5 (a WordLevel model: a pre-token it lacks is <unk>, 0)
  const vocab = { '<unk>': 0, x: 1, '²': 2, 'x²': 3, y: 4, 'x²y': 5, xy: 6 };
  const tokenizer = (pre: object | null, normalizer: object | null = null) => fromParts({ model: wordLevel(vocab), pre_tokenizer: pre, normalizer });
  const split = (regex: string, behavior: string, invert: boolean) => ({ type: 'Split', pattern: { Regex: regex }, behavior, invert });

  it("reads \\w, \\W, \\b and \\p{Word} outside a class with ², ³, ¹, ¼, ½ and ¾ as word characters, as tokenizers' Oniguruma does (its ISO-8859-1 ctype table), and within a class without them (CR_Word), where stop 49 read them without outside a class too", () => {
    // (each as tokenizers 0.23 gives it)
    expect(tokenizer(split('\\w+', 'Removed', true)).encode('x²', null, 16).ids).toEqual([3]);
    expect(tokenizer(split('\\p{Word}+', 'Removed', true)).encode('x²', null, 16).ids).toEqual([3]);
    expect(tokenizer(split('\\W', 'Isolated', false)).encode('x²y', null, 16).ids).toEqual([5]);
    expect(tokenizer(split('\\b', 'Isolated', false)).encode('x²', null, 16).ids).toEqual([3]);
    expect(tokenizer({ type: 'Sequence', pretokenizers: [split('[\\w]+', 'Removed', true)] }).encode('x²', null, 16).ids).toEqual([1]);
    expect(tokenizer(split('[\\W]', 'Isolated', false)).encode('x²y', null, 16).ids).toEqual([1, 2, 4]);
    // a Replace normalizer likewise; `\b` within a class is a backspace, left as it is
    expect(tokenizer(null, { type: 'Replace', pattern: { Regex: '\\W' }, content: '' }).encode('x²y', null, 16).ids).toEqual([5]);
    expect(tokenizer(null, { type: 'Replace', pattern: { Regex: '[\\b]' }, content: '' }).encode('x\by', null, 16).ids).toEqual([6]);
  });
});

describe('a Strip normalizer', () => {
  // a 1, b 2, ﻿a 3, b﻿ 4 (a WordLevel model after a Split on spaces: a pre-token it lacks is <unk>, 0)
  const vocab = { '<unk>': 0, a: 1, b: 2, '\ufeffa': 3, 'b\ufeff': 4 };
  const tokenizer = (strip_left: boolean, strip_right: boolean) =>
    fromParts({
      model: wordLevel(vocab),
      normalizer: { type: 'Strip', strip_left, strip_right },
      pre_tokenizer: { type: 'Split', pattern: { Regex: ' ' }, behavior: 'Removed', invert: false },
    });

  it("strips White_Space at the ends it names, as tokenizers' lrstrip (char::is_whitespace), where @huggingface/tokenizers trimmed JS's whitespace (U+FEFF, not U+0085)", () => {
    // (each as tokenizers 0.23 gives it)
    expect(tokenizer(true, true).encode('\ufeffa b\ufeff', null, 16).ids).toEqual([3, 4]);
    expect(tokenizer(true, true).encode('\u0085a b\u0085', null, 16).ids).toEqual([1, 2]);
    expect(tokenizer(false, true).encode('\u0085a b\u0085', null, 16).ids).toEqual([0, 2]);
    expect(tokenizer(true, false).encode(' a b ', null, 16).ids).toEqual([1, 2]);
  });
});

describe('a Split pre-tokenizer', () => {
  const text = 'a b  c-d--e';
  // (a WordLevel model of every piece of the text: each pre-token is its own id)
  const pieces = [...new Set([...text].flatMap((_, i) => [...text].map((__, j) => text.slice(i, j + 1)).filter((p) => p !== '')))];
  const vocab = Object.fromEntries([['<unk>', 0], ...pieces.map((p, i) => [p, i + 1])]);
  const split = (pattern: object, behavior: string, invert: boolean) =>
    fromParts({ model: wordLevel(vocab), pre_tokenizer: { type: 'Split', pattern, behavior, invert } })
      .encode(text, null, 64)
      .ids.map((id) => Object.keys(vocab)[id])
      .join('|');

  it('splits by its behavior and invert as tokenizers does, where @huggingface/tokenizers read Merged… and Contiguous as Isolated, invert as the matches alone and a String with Removed keeping it', () => {
    // (each as tokenizers 0.23 gives it; a Regex with a group, as Removed keeps what it captures in String.split)
    const got: Record<string, string> = {};
    for (const pattern of [{ String: '-' }, { Regex: '(-)' }])
      for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'])
        for (const invert of [false, true]) got[`${Object.keys(pattern)[0]} ${behavior}${invert ? ' inverted' : ''}`] = split(pattern, behavior, invert);
    const want = {
      Removed: 'a b  c|d|e',
      'Removed inverted': '-|-|-',
      Isolated: 'a b  c|-|d|-|-|e',
      'Isolated inverted': 'a b  c|-|d|-|-|e',
      MergedWithPrevious: 'a b  c-|d-|-|e',
      'MergedWithPrevious inverted': 'a b  c|-d|-|-e',
      MergedWithNext: 'a b  c|-d|-|-e',
      'MergedWithNext inverted': 'a b  c-|d-|-|e',
      Contiguous: 'a b  c|-|d|--|e',
      'Contiguous inverted': 'a b  c|-|d|--|e',
    };
    expect(got).toEqual(Object.fromEntries(['String', 'Regex'].flatMap((kind) => Object.entries(want).map(([k, v]) => [`${kind} ${k}`, v]))));
    // (an empty match right after a match is skipped, as Oniguruma's find_iter skips it, so 'b' joins the text after it)
    expect(split({ Regex: 'b|(?<=b)' }, 'MergedWithNext', false)).toBe('a |b  c-d--e');
  });
});

describe('a ByteLevel pre-tokenizer', () => {
  // (a WordLevel model of byte-level pieces: Ġ a space, ï»¿ U+FEFF, Âħ U+0085)
  const vocab = { '<unk>': 0, a: 1, b: 2, 'Ġï»¿': 3, '?ï»¿': 4, Ġ: 5, Âħ: 6 };
  const tokenizer = fromParts({ model: wordLevel(vocab), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } });

  it("splits with its regex's \\s as White_Space, as tokenizers' Oniguruma does, where @huggingface/tokenizers' JS \\s took U+FEFF as a space and not U+0085", () => {
    // (each as tokenizers 0.23 gives it)
    expect(tokenizer.encode('a \ufeffb', null, 16).ids).toEqual([1, 3, 2]);
    expect(tokenizer.encode('a?\ufeff', null, 16).ids).toEqual([1, 4]);
    expect(tokenizer.encode('a \u0085b', null, 16).ids).toEqual([1, 5, 6, 2]);
  });
});
