/**
 * A distill step's student model, given by path, whose classifier is as wide as the task needs but whose config.json
 * id2label cannot be read as the task's labels (a label named twice, a name neither the task's nor generic) is refused
 * by the sweep's plan, before any point runs, in training's words (the label check eval refuses them with), naming
 * the step, where --dry-run listed the point and it failed when it read the student. Labels in another order, generic
 * ones, another GLUE task's (a new classifier) and names the task does not know (read in its order, with a warning)
 * plan.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { distillStudent, planRefusal } from './plan-refusal.ts';

const LABELS: Record<string, string[]> = {
  twice: ['positive', 'positive'],
  half: ['positive', 'neutral'],
  reversed: ['positive', 'negative'],
  generic: ['LABEL_0', 'LABEL_1'],
  rte: ['entailment', 'not_entailment'],
  unknown: ['bad', 'good'],
};

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'student-labels-plan-'));
  writeModelFolder(join(root, 'models', 'teacher'), tinyBert({}, { seed: 1 }));
  for (const [name, labels] of Object.entries(LABELS)) {
    const dir = writeModelFolder(join(root, 'models', name), tinyBert({ numLayers: 1 }, { seed: 2 }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { ...labels }, max_length: 16 }));
  }
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16 };
const refusal = (student: string) => planRefusal(root, 'labels', ['teacher'], 'kd', [{ pass: 'distill', settings: { ...KD, student: `models/${student}` } }]);
const labelLine = (student: string, labels: string) =>
  `${join(root, 'models', student, 'config.json')} id2label {${labels}} does not name SST-2's labels (negative, positive); fix id2label or use LABEL_0… for the canonical order`;

describe("a sweep's plan refuses a distill step's student model whose id2label cannot be read as the task's labels", () => {
  it('a label named twice, in the words training refuses it with', async () => {
    expect(await refusal('twice')).toBe(
      `${join(root, 'labels.yaml')}: pipeline 'kd' on model 'teacher', step 1 (distill): ${labelLine('twice', '0: positive, 1: positive')}`,
    );
    await expect(distillStudent(root, 'twice', KD)).rejects.toThrow(labelLine('twice', '0: positive, 1: positive'));
  });

  it("one of the task's labels beside a name it does not know", async () => {
    expect(await refusal('half')).toBe(
      `${join(root, 'labels.yaml')}: pipeline 'kd' on model 'teacher', step 1 (distill): ${labelLine('half', '0: positive, 1: neutral')}`,
    );
  });

  it("plans labels in another order, generic ones, another GLUE task's and names the task does not know", async () => {
    for (const student of ['reversed', 'generic', 'rte', 'unknown']) expect(await refusal(student)).toBeUndefined();
  });
});
