/**
 * A model whose config.json's `architectures` names another head (BertForMultipleChoice: its graph looks like a
 * one-label classifier, its scores [batch, choices]) is not trained or distilled as the sequence classifier it looks
 * like: train refuses to keep it (naming --new-head), distill refuses it as a teacher and gives it, as a student, a new
 * classifier; a stale class name beside a graph that shows a sequence classifier by itself is not read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getTask } from '../../src/glue/index.ts';
import { classifierFor, runTraining } from '../../src/train/run.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeHeadFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-train-architectures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 8, ['train', 'dev']);

/** A one-label model folder (scores declared `scores`) whose config.json names `architectures`. */
function folder(name: string, architectures: string[], scores: Array<string | number>): string {
  return writeHeadFolder(join(work, name), architectures, scores);
}
const choice = folder('choice', ['BertForMultipleChoice'], ['batch', 'num_choices']);
const plain = folder('plain', ['BertForSequenceClassification'], ['batch', 1]);
const LINE = `${join(choice, 'config.json')}: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier`;

describe('training a model whose config.json names another head', () => {
  it('train keeps no multiple-choice head: refused in one line naming --new-head', async () => {
    const run = runTraining({ task: 'STS-B', student: choice, output: join(work, 'out-train', 'model.onnx'), glueDir, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toBe(`--task STS-B: ${LINE}: give --new-head to replace it by a new classifier for STS-B`);
  });

  it('distill refuses it as a teacher', async () => {
    const run = runTraining({
      task: 'STS-B',
      teacher: choice,
      student: plain,
      output: join(work, 'out-distill', 'model.onnx'),
      glueDir,
      settings: { epochs: 1 },
    });
    expect(await asyncRefusal(run)).toBe(`--teacher ${choice}: ${LINE}; distillation reads a teacher's class scores`);
  });

  it('as a distillation student it gets a new classifier, saying why; a stale class name beside a plain classifier is not read', () => {
    const model = () => tinyBert({ numLabels: 1 }, { seed: 2 });
    const mc = model();
    mc.graph.outputs[0] = { ...mc.graph.outputs[0]!, shape: ['batch', 'num_choices'] };
    expect(classifierFor(mc, choice, getTask('STS-B'), 'task')).toBe(
      `${join(choice, 'config.json')} names BertForMultipleChoice, a multiple-choice head (one score per choice)`,
    );
    writeFileSync(join(plain, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'], num_labels: 1, max_length: 16 }));
    expect(classifierFor(model(), plain, getTask('STS-B'), 'keep')).toBeUndefined();
    expect(classifierFor(model(), plain, getTask('STS-B'), 'task')).toBeUndefined();
  });
});
