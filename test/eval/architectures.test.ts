/**
 * config.json's `architectures` naming a head that is not a sequence classifier (BertForMultipleChoice,
 * …ForTokenClassification, …ForQuestionAnswering, …ForPreTraining, …ForMaskedLM): eval refuses it in one line,
 * unless the graph shows a sequence classifier by itself (a stale class name beside a graph whose head discovery reads
 * as one, its scores [batch, labels] and its ids [batch, sequence]). A multiple-choice export's head looks like a
 * one-label classifier (regression), its scores [batch, choices]: the class name is what tells it apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { otherHeadClass } from '../../src/bert/classifier.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { EMPTY_MODEL_CONFIG } from '../../src/eval/model-files.ts';
import { writeGlueTask, writeHeadFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-eval-architectures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 6);

/** A one-label model folder (its scores output declared `scores`: [batch, 1] or a multiple-choice [batch, choices]) whose config.json names `architectures`. */
function folder(name: string, architectures: string[], scores: Array<string | number> = ['batch', 1]): string {
  return writeHeadFolder(join(work, name), architectures, scores);
}

/** The one line eval of `dir` on STS-B is refused with. */
function refusal(dir: string): Promise<string> {
  return asyncRefusal(evaluate({ model: dir, tasks: ['STS-B'], glueDir }));
}

describe('eval of a model whose config.json names another head', () => {
  it('BertForMultipleChoice with scores [batch, choices]: refused in one line naming the class', async () => {
    const dir = folder('choice', ['BertForMultipleChoice'], ['batch', 'num_choices']);
    expect(await refusal(dir)).toBe(
      `${join(dir, 'config.json')}: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier; GLUE tasks need one (one score per label, or one for regression)`,
    );
  });

  // (a library caller's config of no file, as EMPTY_MODEL_CONFIG's: the line began 'null: architectures names …')
  it('names config.json where the config given (a ModelConfig object) has no file', async () => {
    const dir = folder('choice-no-file', ['BertForMultipleChoice'], ['batch', 'num_choices']);
    const modelConfig = { ...EMPTY_MODEL_CONFIG, numLabels: 1, problemType: 'regression', architectures: ['BertForMultipleChoice'] };
    expect(await asyncRefusal(evaluate({ model: dir, modelConfig, tasks: ['STS-B'], glueDir }))).toBe(
      'config.json: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier; GLUE tasks need one (one score per label, or one for regression)',
    );
  });

  it('BertForMaskedLM beside a graph that shows a sequence classifier: the graph wins, the task is scored', async () => {
    const dir = folder('stale', ['BertForMaskedLM']);
    const result = await evaluate({ model: dir, tasks: ['STS-B'], glueDir });
    expect(result.tasks.map((t) => t.task.name)).toEqual(['STS-B']);
  });

  it('otherHeadClass: the classes of other heads, none for a sequence classifier, a base model or an unknown class', () => {
    expect(otherHeadClass(['BertForTokenClassification'])?.head).toBe('a token-classification head (scores per token)');
    expect(otherHeadClass(['RobertaForQuestionAnswering'])?.name).toBe('RobertaForQuestionAnswering');
    expect(otherHeadClass(['ElectraForPreTraining'])?.head).toBe('a pretraining head');
    expect(otherHeadClass([1, 'DistilBertForMaskedLM'])?.name).toBe('DistilBertForMaskedLM');
    expect(otherHeadClass(['BertForSequenceClassification', 'BertForMaskedLM'])).toBeUndefined();
    expect(otherHeadClass(['BertModel'])).toBeUndefined();
    expect(otherHeadClass(['MyOwnClass'])).toBeUndefined();
    expect(otherHeadClass('BertForMaskedLM')).toBeUndefined();
    expect(otherHeadClass(undefined)).toBeUndefined();
  });
});
