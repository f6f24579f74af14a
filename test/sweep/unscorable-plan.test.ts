/**
 * A sweep's plan refuses a model that cannot be scored on one of its tasks (its classifier's width, by config.json or
 * by its scores output, is not the task's), as eval would refuse it at every point, the baseline first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder, writePretrainingFolder } from '../helpers/model-folder.ts';
import { hasFixtures } from '../helpers/paths.ts';
import { multipleChoiceExport, tinyBert } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'unscorable-plan-'));
  writeModelFolder(join(root, 'models', 'sst2'), tinyBert());
  // the same classifier with a config.json naming no labels: its width is read from the graph's scores output
  const bare = writeModelFolder(join(root, 'models', 'bare'), tinyBert());
  writeFileSync(join(bare, 'config.json'), JSON.stringify({ model_type: 'bert', max_length: 16 }));
  // the same, its scores output declaring no label count (logits [batch, labels]): eval reads the classifier's 2
  const dynamic = tinyBert();
  for (const o of dynamic.graph.outputs) o.shape = ['batch', 'labels'];
  const undeclared = writeModelFolder(join(root, 'models', 'undeclared'), dynamic);
  writeFileSync(join(undeclared, 'config.json'), JSON.stringify({ model_type: 'bert', max_length: 16 }));
  // two outputs both named LABEL_1: the width fits SST-2, the names do not
  const twice = writeModelFolder(join(root, 'models', 'twice'), tinyBert());
  writeFileSync(join(twice, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'LABEL_1', 1: 'LABEL_1' }, max_length: 16 }));
  // a pretraining checkpoint (MLM and NSP heads, the shared fixture), its tokenizer's vocabulary of 99 tokens
  if (hasFixtures) writePretrainingFolder(join(root, 'models', 'pretraining'));
  // a multiple-choice export (ids [batch, choices, sequence], one score per choice), no labels in its config.json
  writeModelFolder(join(root, 'models', 'choice'), multipleChoiceExport(), { regression: true });
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
  mkdirSync(join(root, 'glue', 'MRPC'));
  for (const split of ['train', 'dev'])
    writeFileSync(join(root, 'glue', 'MRPC', `${split}.tsv`), 'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\ta b\ta c\n0\t3\t4\tb c\td e\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The line planSweep refuses a one-model sweep with (`model` on `tasks`, a baseline and a train step), or undefined. */
const refusal = (model: string, tasks: string[]) => planRefusal(root, 'u', [{ folder: model, tasks }], 'ft', [{ pass: 'train', settings: { epochs: 1 } }]);

describe("a sweep's plan checks that each model can be scored on its tasks", () => {
  it('refuses a classifier of another width in the words eval uses, saying how to give it the task classifier first', async () => {
    const dir = join(root, 'models', 'sst2');
    expect(await refusal('sst2', ['STS-B'])).toBe(
      `${join(root, 'u.yaml')}: models[0] 'sst2': STS-B is a regression task (1 output) but ${join(dir, 'config.json')} says 2 labels (its id2label's size, as transformers reads it); every point evaluates it on STS-B, its baseline too: give it STS-B's classifier first (compress train ${dir} --task STS-B --new-head -o OUT) and sweep that model`,
    );
    // by the graph's scores output, where config.json names no labels
    expect(await refusal('bare', ['STS-B'])).toMatch(
      /: models\[0\] 'bare': STS-B is a regression task: the model must have 1 output, it has 2; every point evaluates it on STS-B, its baseline too: give it STS-B's classifier first/,
    );
    // by its classifier, as eval reads it, where neither config.json nor the scores output's shape says (planned, then
    // refused at every point, the baseline first)
    expect(await refusal('undeclared', ['STS-B'])).toMatch(
      /: models\[0\] 'undeclared': STS-B is a regression task: the model must have 1 output, it has 2; every point evaluates it on STS-B, its baseline too: give it STS-B's classifier first/,
    );
    expect(await refusal('undeclared', ['SST-2'])).toBeUndefined();
  });

  it("refuses a classifier of the task's width whose labels are another GLUE task's, saying how to give it the task's classifier (as train does)", async () => {
    const dir = join(root, 'models', 'sst2');
    const line = await refusal('sst2', ['MRPC']);
    expect(line).toMatch(/: models\[0\] 'sst2': .*config\.json id2label \{0: negative, 1: positive\} does not name MRPC's labels/);
    expect(line).toMatch(
      new RegExp(
        `; its labels are SST-2's: every point evaluates it on MRPC, its baseline too: give it MRPC's classifier first \\(compress train ${dir} --task MRPC --new-head -o OUT\\) and sweep that model$`,
      ),
    );
  });

  it.skipIf(!hasFixtures)('refuses a pretraining checkpoint (MLM and NSP heads) in the words eval uses, saying how to give it a classifier first', async () => {
    const dir = join(root, 'models', 'pretraining');
    expect(await refusal('pretraining', ['SST-2'])).toBe(
      `${join(root, 'u.yaml')}: models[0] 'pretraining': a pretraining head; GLUE tasks need a sequence classifier (one score per label, or one for regression); every point evaluates it, its baseline too: give it SST-2's classifier first (compress train ${dir} --task SST-2 --new-head -o OUT) and sweep that model`,
    );
  });

  it('refuses a multiple-choice export in the words eval uses, saying how to give it a classifier first (train --new-head takes it)', async () => {
    const dir = join(root, 'models', 'choice');
    expect(await refusal('choice', ['STS-B'])).toBe(
      `${join(root, 'u.yaml')}: models[0] 'choice': a multiple-choice head; GLUE tasks need a sequence classifier (one score per label, or one for regression); every point evaluates it, its baseline too: give it STS-B's classifier first (compress train ${dir} --task STS-B --new-head -o OUT) and sweep that model`,
    );
  });

  it('refuses a multiple-choice export stored quantized naming the float model its lineage names, where it said FLOAT_MODEL', async () => {
    const float = join(root, 'models', 'choice', 'model.onnx');
    registerAllPasses();
    await compressFile({ input: float, output: join(root, 'models', 'choice-int8', 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    const line = await refusal('choice-int8', ['STS-B']);
    expect(line).toMatch(
      /: models\[0\] 'choice-int8': a multiple-choice head; .* is stored quantized \([a-z-]+\), which training cannot read: give STS-B's classifier to /,
    );
    expect(line).toContain(
      `to ${float}, the float model it was quantized from, first (compress train ${float} --task STS-B --new-head -o OUT), then quantize the result and sweep that`,
    );
  });

  it("refuses labels eval cannot read as the task's, without the classifier advice, and plans a model its tasks fit", async () => {
    const line = await refusal('twice', ['SST-2']);
    expect(line).toMatch(/: models\[0\] 'twice': .*config\.json id2label .*ambiguously/);
    expect(line).not.toMatch(/--new-head/);
    expect(await refusal('sst2', ['SST-2'])).toBeUndefined();
  });
});
