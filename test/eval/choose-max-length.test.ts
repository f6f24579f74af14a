import { describe, expect, it } from 'vitest';
import { noteFlagText, withFlagTexts } from '../../src/errors.ts';
import { chooseMaxLength } from '../../src/eval/graph-checks.ts';
import { EMPTY_MODEL_CONFIG, type ModelConfig, parseModelConfig } from '../../src/eval/model-files.ts';

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
