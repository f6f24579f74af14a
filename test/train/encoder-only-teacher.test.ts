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
import { encoderOnly, noClassifierPlace } from '../../src/train/students/classifier.ts';
import type { DistillSettings } from '../../src/train/run.ts';
import { buildBert } from '../../src/bert/build.ts';
import { renameValue, type Model } from '../../src/onnx/index.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { planRefusal } from '../sweep/plan-refusal.ts';

let root: string;
let pooled: string;
let bare: string;
let roberta: string;

/**
 * A RoBERTa encoder with its pooler, as torch exports RobertaModel (last_hidden_state, pooler_output): a RoBERTa
 * classifier cut after its dense + tanh, which is RobertaPooler's computation on the first token.
 */
function robertaModel(): Model {
  const config = { ...tinyBertConfig({ typeVocabSize: 1, layerNormEps: 1e-5 }), family: 'roberta' as const, padTokenId: 1 };
  const m = cloneModel(buildBert(config, { kind: 'random', seed: 4 }));
  const tanh = m.graph.nodes.find((n) => n.opType === 'Tanh')!;
  m.graph.outputs = [
    { name: findBert(m).layers.at(-1)!.output, elemType: 1 },
    { name: tanh.outputs[0], elemType: 1 },
  ];
  removeDeadNodes(m.graph);
  renameValue(m.graph, m.graph.outputs[0].name, 'last_hidden_state');
  renameValue(m.graph, m.graph.outputs[1].name, 'pooler_output');
  return m;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'encoder-only-teacher-'));
  writeModelFolder(join(root, 'models', 'point'), tinyBert({}, { seed: 1 }));
  pooled = writeModelFolder(join(root, 'models', 'general'), encoderOnly(tinyBert({}, { seed: 2 })));
  // (last_hidden_state alone: no pooler to put a classifier on)
  const hidden = cloneModel(encoderOnly(tinyBert({}, { seed: 3 })));
  hidden.graph.outputs = [{ name: findBert(hidden).layers.at(-1)!.output, elemType: 1 }];
  removeDeadNodes(hidden.graph);
  bare = writeModelFolder(join(root, 'models', 'hidden'), hidden);
  roberta = writeModelFolder(join(root, 'models', 'roberta'), robertaModel());
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const GENERAL = 'a teacher without one teaches general distillation alone (--stage general)';

async function trainingRefusal(teacher: string, student = 'bert:layers=1', distill: Partial<DistillSettings> = {}): Promise<string> {
  const output = join(root, 'out', 'model.onnx');
  try {
    await runTraining({
      task: 'SST-2',
      teacher,
      student,
      glueDir: join(root, 'glue'),
      cacheDir: join(root, 'cache'),
      output,
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      distill,
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
        `^--teacher ${bare}: encoder-only \\(outputs \\S+; no classifier\\): distillation reads a teacher's class scores; it has no pooler \\(dense \\+ tanh on the first token\\) to put one on, and a teacher without one teaches general distillation alone \\(--stage general\\)$`,
      ),
    );
  });

  it("a RoBERTa encoder with RobertaModel's pooler: read as encoder-only with a pooler (not a classifier of hidden-size outputs), the pooler named as one no RoBERTa classifier reads, not as missing", async () => {
    const s = findBert(robertaModel());
    expect([s.family, s.pooler?.activation, s.head]).toEqual(['roberta', 'tanh', undefined]);
    const unread =
      "its pooler (dense + tanh on the first token) is RobertaModel's, which no RoBERTa classifier reads (RobertaForSequenceClassification's head has a dense + tanh of its own)";
    expect(await trainingRefusal(roberta)).toBe(
      `--teacher ${roberta}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): distillation reads a teacher's class scores; ${unread}, and ${GENERAL}`,
    );
    expect(await trainingRefusal(roberta, 'every-other', { stage: 'general', intermediate: 'tinybert' })).toBe(
      `--student every-other: the teacher has no classifier, and ${unread}; give a student from scratch (bert:layers=L,hidden=H,…) or a student model`,
    );
    expect(noClassifierPlace(robertaModel(), s, 'student x')?.message).toBe(
      `student x has no classifier, and ${unread}: give a BERT or ALBERT encoder with its pooler, or a sequence classifier`,
    );
  });

  it("a sweep's plan refuses it in the same words, after the step", async () => {
    const steps = [{ pass: 'distill', settings: { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16, teacher: 'models/general' } }];
    expect(await planRefusal(root, 'kd', ['point'], 'kd', steps)).toBe(
      `${join(root, 'kd.yaml')}: pipeline 'kd' on model 'point', step 1 (distill): distill.teacher ${join(pooled, 'model.onnx')}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): distillation reads a teacher's class scores; give it SST-2's classifier first (compress train ${join(pooled, 'model.onnx')} --task SST-2 --new-head -o OUT) and distil from that; ${GENERAL}`,
    );
  });
});
