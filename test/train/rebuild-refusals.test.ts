/**
 * A model training cannot rebuild (quantized weights) is refused in one line that names which model it is: the
 * student's path, or every-other's teacher, where both said the same 'canonical rebuild: …' and a distillation's
 * user could not tell whether the student or the teacher was at fault.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { makeStudent } from '../../src/train/students/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { refusal } from '../helpers/refusal.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-rebuild-refusals-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('rebuild refusals name the model', () => {
  it('a quantized student model by its path; a quantized teacher of every-other as the teacher', async () => {
    const { model: quantized } = await runPipeline(tinyBert(), [{ pass: 'quantize', settings: { mode: 'int8' } }]);
    const plain = tinyBert();
    const path = join(work, 'model.onnx');
    saveModel(quantized, path);
    expect(refusal(() => makeStudent({ spec: path, model: quantized, teacher: plain, maxLength: 16, seed: 1 }))).toMatch(
      new RegExp(`^${path}: canonical rebuild: .* is stored quantized`),
    );
    expect(refusal(() => makeStudent({ spec: 'every-other', teacher: quantized, maxLength: 16, seed: 1, numLabels: 2 }))).toMatch(
      /^--student every-other copies the teacher's layers: canonical rebuild: .* is stored quantized/,
    );
  });
});
