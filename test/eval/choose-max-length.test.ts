import { describe, expect, it } from 'vitest';
import { chooseMaxLength } from '../../src/eval/graph-checks.ts';
import { EMPTY_MODEL_CONFIG, type ModelConfig } from '../../src/eval/model-files.ts';

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
  });
});
