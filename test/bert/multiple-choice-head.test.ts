/**
 * A multiple-choice export without config.json (transformers' BertForMultipleChoice through torch.onnx.export): its
 * token ids [batch, choices, sequence] flattened to one row per choice before the embeddings, a one-score classifier
 * on the pooler, the scores reshaped to [batch, choices]. Discovery reads it as a multiple-choice head, so eval refuses
 * it in one line (where onnxruntime failed on the rank of its ids), train asks for --new-head (where it trained the
 * choice score as a regression) and takes it, distill refuses it as a teacher naming its head, and a measuring pass
 * refuses it. The same graph whose scores are declared [batch, 1] is a one-label classifier as before. A pass that measures nothing (quantize, prune-ffn) compresses
 * it: the check's sample inputs are [batch, choices, sequence] as its graph declares them.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert, sampleInputs } from '../../src/bert/index.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { checkShapesFit } from '../../src/bench/inputs.ts';
import { formatBench } from '../../src/bench/format.ts';
import { benchModels } from '../../src/bench/run.ts';
import { largestActivationBytes } from '../../src/bert/input-limits.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { headScores } from '../../src/prune/index.ts';
import { float32Tensor, loadModel, readFloat32, type Model } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { multipleChoiceExport as multipleChoice, tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-multiple-choice-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 8, ['train', 'dev']);

/** `model` as a model folder (vocabulary and a regression's config.json without architectures). */
const folder = (name: string, model: Model) => writeModelFolder(join(work, name), model, { regression: true });
registerAllPasses();

describe('a multiple-choice export', () => {
  it('discovery reads it as a multiple-choice head; with scores declared [batch, 1] it is a one-label classifier', () => {
    expect(findBert(multipleChoice()).head).toMatchObject({ kind: 'multiple-choice', numLabels: 1 });
    expect(findBert(multipleChoice(['batch', 4])).head?.kind).toBe('multiple-choice');
    expect(findBert(multipleChoice(['batch', 1])).head?.kind).toBe('sequence-classification');
  });

  it('eval refuses it in one line', async () => {
    const dir = folder('eval', multipleChoice());
    expect(await asyncRefusal(evaluate({ model: dir, tasks: ['STS-B'], glueDir }))).toBe(
      `${join(dir, 'model.onnx')}: a multiple-choice head; GLUE tasks need a sequence classifier (one score per label, or one for regression)`,
    );
  });

  it('--format transformers.js refuses it in one line naming its head as the other refusals do, nothing written', async () => {
    const input = join(folder('tjs', multipleChoice()), 'model.onnx');
    const output = join(work, 'out-js');
    expect(await asyncRefusal(compressToTransformersJs({ input, output, steps: [] }))).toBe(
      `--format transformers.js: ${input}: the model has a multiple-choice head (one score per choice), not a sequence classifier; the folder's config.json would name it one, and transformers.js read its scores as a sequence classifier's`,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('train asks for --new-head, nothing written; with --new-head it trains a classifier on its pooler', async () => {
    const dir = folder('train', multipleChoice());
    const output = join(work, 'out', 'model.onnx');
    const run = runTraining({ task: 'STS-B', student: dir, output, glueDir, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toBe(
      '--task STS-B: the model has a multiple-choice head, not a classifier: give --new-head to replace it by a new classifier for STS-B on its pooler',
    );
    expect(existsSync(output)).toBe(false);
    await runTraining({ task: 'STS-B', student: dir, output, glueDir, newHead: true, settings: { epochs: 1 } });
    expect(findBert(loadModel(output)).head?.kind).toBe('sequence-classification');
  });

  it('distill refuses it as a teacher naming its head, where it said the teacher has no classifier; nothing written', async () => {
    const output = join(work, 'kd-out', 'model.onnx');
    const student = 'bert:layers=1,hidden=16,heads=2,intermediate=32';
    const run = runTraining({ task: 'STS-B', teacher: folder('teacher', multipleChoice()), student, output, glueDir, distill: {}, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toBe('STS-B needs 1 output; the teacher has no classifier but a multiple-choice head (one score per choice)');
    expect(existsSync(output)).toBe(false);
  });

  it("a general distillation reads its encoder as a teacher's, one choice to an example; one of fixed choices is refused, nothing written", async () => {
    const corpus = join(work, 'corpus.txt');
    writeFileSync(corpus, 'the man runs\ta cat eats .\nthe dog sits\n'.repeat(3));
    const student = 'bert:layers=1,hidden=32,heads=2,intermediate=32';
    const general = { stage: 'general' as const, intermediate: 'tinybert' as const, corpus };
    const output = join(work, 'general', 'model.onnx');
    const settings = { epochs: 1, warmup: 0 };
    await runTraining({
      teacher: folder('general-teacher', multipleChoice()),
      student,
      output,
      glueDir,
      cacheDir: join(work, 'cache'),
      distill: general,
      settings,
    });
    expect(existsSync(output)).toBe(true);
    const fixed = multipleChoice();
    for (const input of fixed.graph.inputs) input.shape = ['batch', 2, 'sequence'];
    const refused = join(work, 'general-fixed', 'model.onnx');
    const run = runTraining({
      teacher: folder('general-fixed-teacher', fixed),
      student,
      output: refused,
      glueDir,
      cacheDir: join(work, 'cache'),
      distill: general,
      settings,
    });
    expect(await asyncRefusal(run)).toBe(
      'the teacher takes exactly 2 choices per example (token ids [batch, 2, sequence]), and a training example is one text or pair, fed as one choice: use a model exported with a dynamic choices axis',
    );
    expect(existsSync(refused)).toBe(false);
  });

  it('a measuring pass refuses it in one line', async () => {
    const m = multipleChoice();
    expect(await asyncRefusal(headScores('ablation', m, findBert(m), {}))).toMatch(
      /^prune-heads: .* measures a loss on a sequence classifier's class scores, but the model has a multiple-choice head \(one score per choice\), outputs logits; /,
    );
  });

  it('compress quantizes it and prunes its FFN, the check running it on [batch, choices, sequence] ids', async () => {
    const dir = folder('compress', multipleChoice());
    for (const step of [
      { pass: 'quantize', settings: { mode: 'int8' } },
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
    ]) {
      const output = join(work, 'compressed', `${step.pass}.onnx`);
      const lineage = await compressFile({ input: join(dir, 'model.onnx'), output, steps: [step] });
      expect(lineage.check).toMatchObject({ batch: 2, seq: 16, drift: [{ output: 'logits' }] });
      expect(lineage.check.drift[0]!.maxAbsDiff).toBeLessThan(0.1);
      expect(findBert(loadModel(output)).head?.kind).toBe('multiple-choice');
    }
  });

  it('compress quantizes it int8-static, calibrated on examples fed as [batch, 1, sequence] ids (a choice each)', async () => {
    const dir = folder('static', multipleChoice());
    const input = join(dir, 'model.onnx');
    const calibration = await loadCalibration({ model: input, task: 'STS-B', examples: 5, batchSize: 2, glueDir });
    const output = join(work, 'static-out', 'model.onnx');
    const lineage = await compressFile({ input, output, steps: [{ pass: 'quantize', settings: { mode: 'int8-static' } }], context: { calibration } });
    expect(lineage.check.drift[0]!.maxAbsDiff).toBeLessThan(0.1);
    expect(findBert(loadModel(output)).head?.kind).toBe('multiple-choice');
  });

  it('a graph of fixed choices is refused calibration in one line, nothing written', async () => {
    const m = multipleChoice();
    for (const input of m.graph.inputs) input.shape = ['batch', 2, 'sequence'];
    const input = join(folder('static-fixed', m), 'model.onnx');
    const calibration = await loadCalibration({ model: input, task: 'STS-B', examples: 5, batchSize: 2, glueDir });
    const output = join(work, 'static-fixed-out', 'model.onnx');
    const run = compressFile({ input, output, steps: [{ pass: 'quantize', settings: { mode: 'int8-static' } }], context: { calibration } });
    expect(await asyncRefusal(run)).toBe(
      'the model takes exactly 2 choices per example (token ids [batch, 2, sequence]), and a calibration example is one text or pair, fed as one choice: use a model exported with a dynamic choices axis',
    );
    expect(existsSync(output)).toBe(false);
  });

  it("compress refuses one computing NaN naming the check's sample inputs as it ran them (examples of choices of tokens)", async () => {
    const m = multipleChoice();
    const weight = findBert(m).layers[0]!.attention!.q!.weight;
    const values = readFloat32(m.graph.initializers.get(weight)!).slice();
    values[5] = Number.NaN;
    m.graph.initializers.set(weight, float32Tensor(weight, m.graph.initializers.get(weight)!.dims, values));
    const input = join(folder('nan', m), 'model.onnx');
    const output = join(work, 'nan-out', 'model.onnx');
    await expect(compressFile({ input, output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] })).rejects.toThrow(
      /: the model computes \d+ non-finite values? \(NaN or Infinity; the first NaN\) at its output 'logits' on the check's sample inputs \(batch 2 of 2 choices of 16 tokens\), before any pass: /,
    );
    expect(existsSync(output)).toBe(false);
  });

  it("bench's memory check counts a row per choice of each example, as its sample inputs feed them", () => {
    const m = multipleChoice();
    const subject = { path: 'mc.onnx', model: m, structure: findBert(m) };
    // (batch 4 of 2 choices: 8 rows of 8 tokens)
    const edge = largestActivationBytes(subject.structure, 8, 8);
    expect(() => checkShapesFit([{ batch: 4, seq: 8 }], [subject], edge)).not.toThrow();
    expect(() => checkShapesFit([{ batch: 4, seq: 8 }], [subject], edge - 1)).toThrow(/^--batch 4 --seq 8: one activation of mc\.onnx would take /);
  });

  it("bench says a multiple-choice export's batch is of examples, a row per choice each, and ex/s counts examples", async () => {
    const quick = { batches: [3], seqs: [8], repeats: 1, warmup: 0, threads: 1 };
    const result = await benchModels({ model: join(folder('bench', multipleChoice()), 'model.onnx'), ...quick });
    expect(result.choices).toBe(2);
    expect(formatBench(result)[1]).toBe('multiple-choice: batch N is N examples of 2 choices each (N × 2 rows a run); ex/s counts examples');
    // (a model of token ids [batch, sequence]: a batch of rows, nothing to say)
    const rows = await benchModels({ model: join(folder('bench-rows', tinyBert()), 'model.onnx'), ...quick });
    expect(rows.choices).toBeUndefined();
    expect(formatBench(rows).filter((l) => l.startsWith('multiple-choice:'))).toEqual([]);
  });

  it("the check's sample inputs follow the graph's choices and sequence axes where it fixes them", () => {
    const m = multipleChoice();
    for (const input of m.graph.inputs) input.shape = ['batch', 3, 8];
    const inputs = sampleInputs(m, findBert(m), { batch: 2, seq: 16 });
    expect(inputs.map((i) => [i.name, i.dims, i.values.length])).toEqual(m.graph.inputs.map((v) => [v.name, [2, 3, 8], 48]));
  });
});
