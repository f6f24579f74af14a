/**
 * Distillation's task stage from an encoder-only teacher (BertModel: last_hidden_state and pooler_output, no
 * classifier; what `distill --stage general` writes) is refused in eval's words for such a model: the teacher's path,
 * what it outputs, and the way out (its classifier given by `compress train --new-head` where it has a pooler to put
 * one on, or general distillation, which it teaches as it is), in training and in a sweep's plan alike; where it said
 * 'SST-2 needs 2 outputs; the teacher has no classifier', naming neither.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { removeDeadNodes } from '../../src/onnx/analysis.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { runTraining } from '../../src/train/run.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal } from '../sweep/plan-refusal.ts';

let root: string;
let pooled: string;
let bare: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'encoder-only-teacher-'));
  writeModelFolder(join(root, 'models', 'point'), tinyBert({}, { seed: 1 }));
  pooled = writeModelFolder(join(root, 'models', 'general'), encoderOnly(tinyBert({}, { seed: 2 })));
  // (last_hidden_state alone: no pooler to put a classifier on)
  const hidden = cloneModel(encoderOnly(tinyBert({}, { seed: 3 })));
  hidden.graph.outputs = [{ name: findBert(hidden).layers.at(-1)!.output, elemType: 1 }];
  removeDeadNodes(hidden.graph);
  bare = writeModelFolder(join(root, 'models', 'hidden'), hidden);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const GENERAL = 'a teacher without one teaches general distillation alone (--stage general)';

async function trainingRefusal(teacher: string): Promise<string> {
  const output = join(root, 'out', 'model.onnx');
  try {
    await runTraining({
      task: 'SST-2',
      teacher,
      student: 'bert:layers=1',
      glueDir: join(root, 'glue'),
      cacheDir: join(root, 'cache'),
      output,
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      distill: {},
    });
  } catch (e) {
    expect(existsSync(join(root, 'out'))).toBe(false);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('distill --task from an encoder-only teacher', () => {
  it("names the teacher, its outputs and the way to give it a classifier, in training's words", async () => {
    expect(await trainingRefusal(pooled)).toBe(
      `--teacher ${pooled}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): distillation reads a teacher's class scores; give it SST-2's classifier first (compress train ${pooled} --task SST-2 --new-head -o OUT) and distil from that; ${GENERAL}`,
    );
  });

  it('one without a pooler: says it has no place for a classifier', async () => {
    expect(await trainingRefusal(bare)).toMatch(
      new RegExp(
        `^--teacher ${bare}: encoder-only \\(outputs \\S+; no classifier\\): distillation reads a teacher's class scores; it has no pooler to put one on, and a teacher without one teaches general distillation alone \\(--stage general\\)$`,
      ),
    );
  });

  it("a sweep's plan refuses it in the same words, after the step", async () => {
    const steps = [{ pass: 'distill', settings: { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16, teacher: 'models/general' } }];
    expect(await planRefusal(root, 'kd', ['point'], 'kd', steps)).toBe(
      `${join(root, 'kd.yaml')}: pipeline 'kd' on model 'point', step 1 (distill): distill.teacher ${join(pooled, 'model.onnx')}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): distillation reads a teacher's class scores; give it SST-2's classifier first (compress train ${join(pooled, 'model.onnx')} --task SST-2 --new-head -o OUT) and distil from that; ${GENERAL}`,
    );
  });
});
