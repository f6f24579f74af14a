/**
 * Calibration data comes from the train split and never from the dev examples a model is judged on: a task
 * without a train file here is refused in one line instead of falling back to dev.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { getTask } from '../../src/glue/registry.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { SettingsError } from '../../src/errors.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

const teacher = join(TEACHERS, 'sst2-L4H256');

describe.skipIf(!hasGlue || !hasTeachers)('loadCalibration (needs ../shared/glue and ../shared/teachers)', () => {
  it('reads the first train examples, in order', async () => {
    const source = await loadCalibration({ model: teacher, task: 'SST-2', examples: 5, glueDir: GLUE_DIR, batchSize: 5 });
    const train = loadSplit(getTask('SST-2'), 'train', GLUE_DIR).examples.slice(0, 5);
    const tokenizer = loadTokenizer(teacher);
    const b = source.batches[0];
    train.forEach((e, r) => {
      const { ids, typeIds } = tokenizer.encode(e.textA, e.textB, 128);
      const row = (a: BigInt64Array) => Array.from(a.slice(r * b.seq, (r + 1) * b.seq), Number);
      const pad = b.seq - ids.length;
      expect(row(b.inputIds)).toEqual([...ids, ...Array(pad).fill(tokenizer.padId)]);
      expect(row(b.attentionMask)).toEqual([...ids.map(() => 1), ...Array(pad).fill(0)]);
      expect(row(b.tokenTypeIds)).toEqual([...typeIds, ...Array(pad).fill(0)]);
      expect(b.labels[r]).toBe(e.label);
    });
  });

  it('refuses a task whose train split is not here rather than calibrating on dev', async () => {
    // the shared GLUE folder holds QNLI's dev and test files only
    await expect(loadCalibration({ model: teacher, task: 'QNLI', examples: 8, glueDir: GLUE_DIR })).rejects.toThrow(SettingsError);
    await expect(loadCalibration({ model: teacher, task: 'QNLI', examples: 8, glueDir: GLUE_DIR })).rejects.toThrow(
      /no train split .*never uses the dev examples/,
    );
  });
});
