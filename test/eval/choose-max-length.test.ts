import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noteFlagText, SettingsError, withFlagTexts } from '../../src/errors.ts';
import { defaultMaxLength } from '../../src/eval/evaluate.ts';
import { chooseMaxLength } from '../../src/eval/graph-checks.ts';
import { EMPTY_MODEL_CONFIG, type ModelConfig, parseModelConfig } from '../../src/eval/model-files.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { SPECIALS, tokenizerJson } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-max-length-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A teacher's config.json naming `max_length` (training reads the teacher's config for the student's length). */
const teacherConfig = (maxLength: number): ModelConfig => ({ ...EMPTY_MODEL_CONFIG, maxLength, file: 'teacher/config.json' });

describe('chooseMaxLength', () => {
  it("says to give --max-length where config.json's max_length is beyond a graph's position table or fixed length (a student's, of a teacher's config)", () => {
    expect(() => chooseMaxLength(undefined, teacherConfig(512), { fixedSequence: null, maxSequence: 40 }, 128, 'student/model.onnx')).toThrow(
      /^student\/model\.onnx: teacher\/config\.json: max_length 512 is beyond the model's position table \(40 tokens at most\); give --max-length 40 or less$/,
    );
    expect(() => chooseMaxLength(undefined, teacherConfig(512), { fixedSequence: 32, maxSequence: 40 }, 128, 'student/model.onnx')).toThrow(
      /^student\/model\.onnx: teacher\/config\.json: max_length 512 is longer than the 32 tokens the model's inputs are fixed to; give --max-length 32 or less$/,
    );
    // a length asked for names the flag already
    expect(() => chooseMaxLength(512, teacherConfig(64), { fixedSequence: null, maxSequence: 40 }, 128, 'student/model.onnx')).toThrow(
      /^student\/model\.onnx: --max-length 512 is beyond the model's position table \(40 tokens at most\)$/,
    );
    expect(chooseMaxLength(40, teacherConfig(512), { fixedSequence: null, maxSequence: 40 }, 128, 'student/model.onnx')).toBe(40);
    // (quoted as typed on the command line, as every refusal of an integer flag's value: '--max-length 1e3', not 1000)
    withFlagTexts(() => {
      noteFlagText('--max-length', '1e3');
      expect(() => chooseMaxLength(1000, teacherConfig(64), { fixedSequence: null, maxSequence: 40 }, 128, 'student/model.onnx')).toThrow(
        /^student\/model\.onnx: --max-length 1e3 is beyond the model's position table \(40 tokens at most\)$/,
      );
    });
  });

  // a length asked checked as every --max-length is (2 at least: a token of text between [CLS] and [SEP]), in the integer
  // wording, where 1 ran and 1.5 said '--max-length must be a positive integer, got 1.5'
  it.each([1, 1.5, 0])('refuses a length asked of %s as --max-length is refused', (asked) => {
    expect(() => chooseMaxLength(asked, EMPTY_MODEL_CONFIG, null, 128, 'm.onnx')).toThrow(
      new RegExp(`^--max-length ${asked}: expected an integer from 2 to 2\\^53 − 1$`),
    );
  });

  // config.json's max_length: 2 at least too, named by the file, the value as it holds it (1 was read, and tokenizing
  // said '--max-length 1 leaves no room for text', a flag never given)
  it.each([
    [1, 'number 1'],
    ['2', 'string "2"'],
    [1.5, 'number 1.5'],
    [2 ** 53, 'number 9007199254740992 \\(past 2\\^53 − 1 a number is not read exactly\\)'],
  ])("refuses config.json's max_length %j in one line naming the file", (v, shown) => {
    expect(() => parseModelConfig({ max_length: v }, 'm/config.json')).toThrow(
      new RegExp(`^m/config\\.json: max_length: expected an integer from 2 to 2\\^53 − 1, got ${shown}$`),
    );
  });
});

describe("tokenizer_config.json's model_max_length", () => {
  /** A BERT-style tokenizer folder whose tokenizer_config.json says this model_max_length (written as JSON text). */
  const folder = (name: string, modelMaxLength: string): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson([...SPECIALS, 'a'], { pre_tokenizer: { type: 'WhitespaceSplit' } })));
    writeFileSync(join(dir, 'tokenizer_config.json'), `{"model_max_length": ${modelMaxLength}}`);
    return dir;
  };

  // (the length where no --max-length is given: tokenizing said '--max-length 1 leaves no room for text', a flag never
  // given, as config.json's max_length did)
  it('names itself and --max-length where it leaves no room for text', () => {
    const dir = folder('one', '1');
    const t = loadTokenizer(dir);
    expect(() => t.encode('a', null, defaultMaxLength(t.modelMaxLength))).toThrow(
      new SettingsError(
        `--max-length 1 (or, where none is given, ${join(dir, 'tokenizer_config.json')}'s model_max_length 1) leaves no room for text after 2 special tokens: give --max-length 3 or more`,
      ),
    );
    // a pair's three special tokens: a model_max_length of 3 leaves none either
    const three = loadTokenizer(folder('three', '3'));
    expect(() => three.encode('a', 'a', defaultMaxLength(three.modelMaxLength))).toThrow(/model_max_length 3\) leaves no room for text after 3 special tokens/);
    expect(three.encode('a', null, defaultMaxLength(three.modelMaxLength)).ids).toEqual([2, 5, 3]);
    // 0 and below, the file's value quoted as written (0.5, read as 0: c484c6f7) (transformers keeps them as the tokenizer's model_max_length and run_glue cuts at them; its fast
    // tokenizer fails on a negative one), where they were read as none: texts cut at the default 128
    for (const [name, text, read] of [
      ['zero', '0', 0],
      ['half', '0.5', 0],
      ['negative', '-1', -1],
    ] as const) {
      const dir = folder(name, text);
      const t = loadTokenizer(dir);
      expect(t.modelMaxLength).toBe(read);
      expect(() => t.encode('a', null, defaultMaxLength(t.modelMaxLength))).toThrow(
        new SettingsError(
          `--max-length ${read} (or, where none is given, ${join(dir, 'tokenizer_config.json')}'s model_max_length ${text}) leaves no room for text after 2 special tokens: give --max-length 3 or more`,
        ),
      );
    }
  });

  // (a template adding one special token, as T5's adds </s>: counted as one, as every refusal of a length counts them)
  it('counts a single special token as one where it leaves no room for text', () => {
    const dir = join(root, 'one-special');
    mkdirSync(dir);
    const sep = { SpecialToken: { id: '[SEP]', type_id: 0 } };
    const json = {
      ...tokenizerJson([...SPECIALS, 'a'], { pre_tokenizer: { type: 'WhitespaceSplit' } }),
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, sep],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, sep, { Sequence: { id: 'B', type_id: 0 } }, sep],
        special_tokens: { '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
      },
    };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"model_max_length": 1}');
    const t = loadTokenizer(dir);
    expect(() => t.encode('a', null, defaultMaxLength(t.modelMaxLength))).toThrow(
      new SettingsError(
        `--max-length 1 (or, where none is given, ${join(dir, 'tokenizer_config.json')}'s model_max_length 1) leaves no room for text after 1 special token: give --max-length 2 or more`,
      ),
    );
    expect(t.encode('a', null, 2).ids).toEqual([5, 3]);
  });

  it("caps no length where it is transformers' VERY_LARGE_INTEGER (int(1e30), no limit)", () => {
    const t = loadTokenizer(folder('huge', '1000000000000000019884624838656'));
    expect(defaultMaxLength(t.modelMaxLength)).toBe(128);
  });
});
