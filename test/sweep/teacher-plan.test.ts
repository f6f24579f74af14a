/**
 * A distill step whose named teacher cannot teach the point's task (a 2-label teacher for STS-B, an SST-2 teacher for
 * MRPC) is refused by the sweep's plan, before any point runs, in the words training refuses it with, after the file,
 * the pipeline, the model and the step, where --dry-run listed the point and it failed when it ran; so is a teacher
 * with no tokenizer in its folder (an .onnx file alone in one, or a link to one), which the step reads its examples
 * with. A teacher that fits plans. So is a model with no tokenizer in its folder, which its baseline's eval reads.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertHeadNamed } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'teacher-plan-'));
  writeModelFolder(join(root, 'models', 'sst2'), tinyBert());
  writeModelFolder(join(root, 'models', 'stsb'), tinyBert({ numLabels: 1 }), { regression: true });
  // an MRPC classifier (its labels named so), and the task's data
  const mrpc = writeModelFolder(join(root, 'models', 'mrpc'), tinyBert({}, { seed: 2 }));
  writeFileSync(
    join(mrpc, 'config.json'),
    JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'not_equivalent', 1: 'equivalent' }, max_length: 16 }),
  );
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
  mkdirSync(join(root, 'glue', 'MRPC'));
  for (const split of ['train', 'dev'])
    writeFileSync(
      join(root, 'glue', 'MRPC', `${split}.tsv`),
      'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tthe man\tthe dog\n0\t3\t4\ta cat\tthe ball\n',
    );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16 };
const distill = (teacher: string, settings: Record<string, unknown> = {}) => ({
  pass: 'distill',
  settings: { ...KD, teacher: join(root, 'models', teacher), ...settings },
});

describe("a sweep's plan checks a distill step's teacher against the point's task", () => {
  it('refuses a teacher of another width as training does', async () => {
    const line = `${join(root, 't.yaml')}: pipeline 'kd' on model 'stsb', step 1 (distill): STS-B needs 1 output; the teacher has 2`;
    expect(await planRefusal(root, 't', [{ folder: 'stsb', tasks: ['STS-B'] }], 'kd', [distill('sst2')])).toBe(line);
    // (training's own words, which the point failed with)
    await expect(
      runTraining({
        task: 'STS-B',
        student: join(root, 'models', 'stsb'),
        teacher: join(root, 'models', 'sst2'),
        glueDir: join(root, 'glue'),
        output: join(root, 'out', 'model.onnx'),
        settings: { epochs: 1, batchSize: 4, threads: 1 },
        distill: {},
        cacheDir: join(root, 'cache'),
      }),
    ).rejects.toThrow(/^STS-B needs 1 output; the teacher has 2$/);
    // (after a graph step too: the teacher is the step's, not the model so far)
    expect(await planRefusal(root, 't', [{ folder: 'stsb', tasks: ['STS-B'] }], 'kd', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, distill('sst2')])).toBe(
      `${join(root, 't.yaml')}: pipeline 'kd' on model 'stsb', step 2 (distill): STS-B needs 1 output; the teacher has 2`,
    );
  });

  it('refuses a teacher whose head is not a classifier naming the head, as training does', async () => {
    // (transformers' BertForNextSentencePrediction exported without config.json: a 2-wide projection on the pooler)
    writeModelFolder(join(root, 'models', 'nsp'), tinyBertHeadNamed('cls.seq_relationship'), { config: false });
    expect(await planRefusal(root, 't', [{ folder: 'sst2', tasks: ['SST-2'] }], 'kd', [distill('nsp')])).toBe(
      `${join(root, 't.yaml')}: pipeline 'kd' on model 'sst2', step 1 (distill): SST-2 needs 2 outputs; the teacher has no classifier but a pretraining head (NSP alone: is-next and not-next scores)`,
    );
  });

  it("refuses a teacher of the task's width with another GLUE task's labels, naming its config.json", async () => {
    const teacher = join(root, 'models', 'sst2');
    expect(await planRefusal(root, 't', [{ folder: 'mrpc', tasks: ['MRPC'] }], 'kd', [distill('sst2')])).toBe(
      `${join(root, 't.yaml')}: pipeline 'kd' on model 'mrpc', step 1 (distill): distill.teacher ${join(teacher, 'model.onnx')}: its labels (${join(teacher, 'config.json')}: negative, positive) are SST-2's, not MRPC's: distil MRPC from a teacher fine-tuned on it`,
    );
  });

  it('refuses a teacher with no tokenizer in its folder (a file alone, or a link to one), as training does', async () => {
    const alone = join(root, 'alone');
    mkdirSync(alone);
    copyFileSync(join(root, 'models', 'sst2', 'model.onnx'), join(alone, 'teacher.onnx'));
    symlinkSync(join(root, 'models', 'sst2', 'model.onnx'), join(alone, 'link.onnx'));
    for (const file of ['teacher.onnx', 'link.onnx']) {
      const teacher = join(alone, file);
      expect(await planRefusal(root, 't', ['sst2'], 'kd', [distill('sst2', { teacher })], DataError)).toBe(
        `${join(root, 't.yaml')}: pipeline 'kd' on model 'sst2', step 1 (distill): the teacher ${teacher} (distill.teacher) has no tokenizer in its folder ${alone} (no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model), which the step reads its examples with: name the teacher's folder, or put its tokenizer beside it`,
      );
    }
    // (training's own refusal, which each point failed with)
    await expect(
      runTraining({
        task: 'SST-2',
        student: 'bert:layers=1',
        teacher: join(alone, 'teacher.onnx'),
        glueDir: join(root, 'glue'),
        output: join(root, 'out', 'model.onnx'),
        settings: { epochs: 1, batchSize: 4, threads: 1 },
        distill: {},
        cacheDir: join(root, 'cache'),
      }),
    ).rejects.toThrow(`${alone}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model`);
  });

  it('plans a teacher that fits', async () => {
    expect(await planRefusal(root, 't', [{ folder: 'sst2', tasks: ['SST-2'] }], 'kd', [distill('sst2')])).toBeUndefined();
    expect(await planRefusal(root, 't', [{ folder: 'mrpc', tasks: ['MRPC'] }], 'kd', [distill('mrpc')])).toBeUndefined();
    expect(await planRefusal(root, 't', [{ folder: 'stsb', tasks: ['STS-B'] }], 'kd', [distill('stsb', { logitLoss: 'mse' })])).toBeUndefined();
  });
});

describe("a sweep's plan checks the model's own tokenizer", () => {
  it("refuses a model with no tokenizer in its folder, which its baseline's GLUE eval reads, whatever its pipelines", async () => {
    const lone = join(root, 'models', 'lone');
    mkdirSync(lone);
    for (const file of ['model.onnx', 'config.json']) copyFileSync(join(root, 'models', 'sst2', file), join(lone, file));
    const line = `${join(root, 't.yaml')}: models[0] 'lone': its folder ${lone} has no tokenizer (no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model), which its points' GLUE eval reads (its baseline's, and every point's whose steps keep the model's files): put the model's tokenizer files beside it`;
    // (a teacher elsewhere gives its own point a tokenizer; the baseline fails still)
    for (const steps of [[{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], [{ pass: 'distill', settings: KD }], [distill('sst2')]])
      expect(await planRefusal(root, 't', ['lone'], 'p', steps, DataError)).toBe(line);
  });
});
