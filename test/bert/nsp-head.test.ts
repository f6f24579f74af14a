/**
 * A next-sentence-prediction head alone (transformers' BertForNextSentencePrediction exported without config.json):
 * a 2-wide projection on the pooler, as a 2-label classifier's, whose weight keeps transformers' name
 * cls.seq_relationship.weight. Discovery reads it as a pretraining head, so eval refuses it and train asks for
 * --new-head, where both read its is-next and not-next scores as a GLUE task's 2 labels. A classifier's weight of any
 * other name is read as before.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalBert, findBert } from '../../src/bert/index.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { headScores } from '../../src/prune/index.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { runTraining } from '../../src/train/run.ts';
import { tinyBertHeadNamed } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-nsp-head-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
registerAllPasses();

/** `model` as a model folder without config.json (an export as torch.onnx.export writes it, with a vocabulary). */
const folder = (name: string, model: Model) => writeModelFolder(join(work, name), model, { config: false });

describe('a next-sentence-prediction head alone', () => {
  const nsp = tinyBertHeadNamed('cls.seq_relationship');

  it('discovery reads it as a pretraining head; a classifier of another name stays a sequence classifier', () => {
    expect(findBert(nsp).head).toMatchObject({ kind: 'pretraining', numLabels: 2, outputs: ['logits'] });
    expect(findBert(tinyBertHeadNamed('classifier')).head?.kind).toBe('sequence-classification');
    expect(findBert(tinyBertHeadNamed('my_cls_seq_relationship')).head?.kind).toBe('sequence-classification');
  });

  it('stays a pretraining head once quantize stores its weight (int8, int8-group, int4-block), so eval refuses it still', async () => {
    const input = join(folder('quantized', nsp), 'model.onnx');
    for (const mode of ['int8', 'int8-group:2', 'int4-block:32']) {
      const dir = join(work, `quantized-${mode.replace(':', '-')}`);
      await compressFile({ input, output: join(dir, 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode } }] });
      expect(findBert(loadModel(join(dir, 'model.onnx'))).head?.kind, mode).toBe('pretraining');
      expect(await asyncRefusal(evaluate({ model: dir, tasks: ['SST-2'], glueDir })), mode).toMatch(
        /: a pretraining head; GLUE tasks need a sequence classifier/,
      );
    }
  });

  it('eval refuses it in one line, where it scored its is-next scores as SST-2 labels', async () => {
    const dir = folder('eval', nsp);
    expect(await asyncRefusal(evaluate({ model: dir, tasks: ['SST-2'], glueDir }))).toBe(
      `${join(dir, 'model.onnx')}: a pretraining head; GLUE tasks need a sequence classifier (one score per label, or one for regression)`,
    );
  });

  it('train asks for --new-head, where it fine-tuned the NSP projection as the classifier; nothing written', async () => {
    const output = join(work, 'out', 'model.onnx');
    const run = runTraining({ task: 'SST-2', student: folder('train', nsp), output, glueDir, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toMatch(/^--task SST-2: the model has a pretraining head, not a classifier: give --new-head /);
    expect(existsSync(output)).toBe(false);
  });

  it('distill refuses it as a teacher naming NSP alone, where it said the teacher has no classifier; nothing written', async () => {
    const output = join(work, 'kd-out', 'model.onnx');
    const student = 'bert:layers=1,hidden=16,heads=2,intermediate=32';
    const run = runTraining({ task: 'SST-2', teacher: folder('teacher', nsp), student, output, glueDir, distill: {}, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toBe(
      'SST-2 needs 2 outputs; the teacher has no classifier but a pretraining head (NSP alone: is-next and not-next scores)',
    );
    expect(existsSync(output)).toBe(false);
  });

  it('--format transformers.js refuses it in one line naming NSP alone, nothing written, where its config.json named a sequence classifier', async () => {
    const input = join(folder('export', nsp), 'model.onnx');
    const output = join(work, 'out-js');
    expect(await asyncRefusal(compressToTransformersJs({ input, output, steps: [] }))).toBe(
      `--format transformers.js: ${input}: the model has a pretraining head (NSP alone: is-next and not-next scores), not a sequence classifier; the folder's config.json would name it one, and transformers.js read its scores as a sequence classifier's`,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('a measuring pass refuses it in one line naming NSP alone, not the MLM it lacks', async () => {
    expect(await asyncRefusal(headScores('ablation', nsp, findBert(nsp), {}))).toMatch(
      /^prune-heads: .* measures a loss on a sequence classifier's class scores, but the model has a pretraining head \(NSP alone: is-next and not-next scores\), outputs logits; /,
    );
  });

  it("the canonical rebuild (the library's canonicalBert) refuses it naming NSP alone, not the MLM it lacks", () => {
    expect(() => canonicalBert(nsp)).toThrow(
      /^canonical rebuild: the model has a pretraining head \(NSP alone: is-next and not-next scores\): only sequence classifiers are rebuilt$/,
    );
  });
});
