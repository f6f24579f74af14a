/**
 * Calibration data comes from the train split and never from the dev examples a model is judged on: a task
 * without a train file here is refused in one line instead of falling back to dev.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { getTask } from '../../src/glue/registry.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { SettingsError } from '../../src/errors.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { writeTinyBert } from '../helpers/models.ts';
import { saveModel } from '../../src/onnx/index.ts';

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

  it('says where its examples come from (file, sha256, how many of how many asked), which the lineage of a compressed model records', async () => {
    const file = join(GLUE_DIR, 'STS-B', 'train.tsv');
    const all = await loadCalibration({ model: join(TEACHERS, 'stsb-L4H256'), task: 'STS-B', examples: 100_000, glueDir: GLUE_DIR });
    const labelled = loadSplit(getTask('STS-B'), 'train', GLUE_DIR).examples.filter((e) => e.label !== null).length;
    expect(all.provenance).toEqual({
      task: 'STS-B',
      file,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
      examples: labelled,
      requested: 100_000,
      maxLength: 128,
    });
    const source = await loadCalibration({ model: teacher, task: 'SST-2', examples: 16, glueDir: GLUE_DIR });
    expect(source.provenance).toMatchObject({ task: 'SST-2', examples: 16, requested: 16 });
    const out = join(mkdtempSync(join(tmpdir(), 'calibrated-')), 'model.onnx');
    registerAllPasses();
    const lineage = await compressFile({
      input: join(teacher, 'model.onnx'),
      output: out,
      steps: [{ pass: 'quantize', settings: { mode: 'int8-static' } }],
      context: { calibration: source },
    });
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).calibration).toEqual(source.provenance);
    expect(lineage.calibration).toEqual(source.provenance);
  });

  it("another task's text calibrates what needs no labels (int8-static ranges); a loss against its labels is refused in one line", async () => {
    registerAllPasses();
    const cola = await loadCalibration({ model: teacher, task: 'CoLA', examples: 32, glueDir: GLUE_DIR });
    expect(cola.unlabelled).toMatch(/id2label \{0: negative, 1: positive\} does not name CoLA's labels/);
    expect(cola.batches[0].labels.every(Number.isNaN)).toBe(true);
    const stsb = await loadCalibration({ model: teacher, task: 'STS-B', examples: 32, glueDir: GLUE_DIR });
    expect(stsb.unlabelled).toBe('STS-B is scored by regression and the model gives 2 scores');
    const dir = mkdtempSync(join(tmpdir(), 'unlabelled-'));
    const input = join(teacher, 'model.onnx');
    const lineage = await compressFile({
      input,
      output: join(dir, 'static.onnx'),
      steps: [{ pass: 'quantize', settings: { mode: 'int8-static' } }],
      context: { calibration: cola },
    });
    expect(lineage.after.bytes).toBeLessThan(lineage.before.bytes / 3);
    for (const [step, what] of [
      [
        { pass: 'quantize', settings: { mode: 'mixed:0.3' } },
        /^quantize mixed:0\.3: the layer sensitivity needs --calibrate CoLA's labels: config\.json id2label/,
      ],
      [
        { pass: 'prune-heads', settings: { ratio: 0.25, importance: 'gradient' } },
        /^prune-heads: gradient importance against the labels needs --calibrate CoLA's labels: config\.json/,
      ],
      [
        { pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', target: 'labels' } },
        /^prune-heads: ablation importance against the labels needs --calibrate CoLA's labels: config\.json/,
      ],
    ] as const) {
      await expect(compressFile({ input, output: join(dir, 'refused.onnx'), steps: [step], context: { calibration: cola } })).rejects.toThrow(what);
    }
    // against the model's own predictions (ablation's default), the labels are not read
    await compressFile({
      input,
      output: join(dir, 'ablation.onnx'),
      steps: [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', steps: 1 } }],
      context: { calibration: cola },
    });
  });

  it("a classification task's labels on a model of another output count are refused in one sentence", async () => {
    registerAllPasses();
    const stsbTeacher = join(TEACHERS, 'stsb-L4H256');
    const sst2 = await loadCalibration({ model: stsbTeacher, task: 'SST-2', examples: 4, glueDir: GLUE_DIR });
    expect(sst2.unlabelled).toBe('SST-2 has 2 labels (negative, positive) but the model has 1 output');
    const dir = mkdtempSync(join(tmpdir(), 'unlabelled-'));
    await expect(
      compressFile({
        input: join(stsbTeacher, 'model.onnx'),
        output: join(dir, 'refused.onnx'),
        steps: [{ pass: 'quantize', settings: { mode: 'mixed:0.3' } }],
        context: { calibration: sst2 },
      }),
    ).rejects.toThrow(
      "quantize mixed:0.3: the layer sensitivity needs --calibrate SST-2's labels: SST-2 has 2 labels (negative, positive) but the model has 1 output",
    );
  });

  /** `tiny` quantized mixed:0.5, its layer sensitivity a loss against `calibration`'s labels. */
  const mixed = (tiny: { path: string; dir: string }, calibration: Awaited<ReturnType<typeof loadCalibration>>) =>
    compressFile({
      input: tiny.path,
      output: join(tiny.dir, 'refused.onnx'),
      steps: [{ pass: 'quantize', settings: { mode: 'mixed:0.5' } }],
      context: { calibration },
    });

  it("reads the model's score count off the graph when no config.json gives it: a 1-score model cannot take SST-2's labels", async () => {
    registerAllPasses();
    // a model file alone (no config.json): its graph gives 1 score per example
    const tiny = writeTinyBert({ numLabels: 1, vocabSize: 30522 });
    try {
      const sst2 = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 4, glueDir: GLUE_DIR, tokenizer: teacher });
      expect(sst2.unlabelled).toBe('SST-2 has 2 labels (negative, positive) but the model has 1 output');
      // mixed precision refuses in one line, where every layer's sensitivity was NaN (class 1 of one score)
      await expect(mixed(tiny, sst2)).rejects.toThrow("quantize mixed:0.5: the layer sensitivity needs --calibrate SST-2's labels: SST-2 has 2 labels");
    } finally {
      tiny.cleanup();
    }
  });

  it("refuses a loss against the labels of a model whose config.json's label count is not its score count, naming config.json, where mixed blamed the model for a NaN loss", async () => {
    registerAllPasses();
    // a 1-score model whose config.json says 2 labels: SST-2's class 1 is past its one score, so every loss was NaN,
    // refused as 'the float model computes NaN or Infinity … fix or retrain the model'
    const tiny = writeTinyBert({ numLabels: 1, vocabSize: 30522 });
    try {
      writeFileSync(join(tiny.dir, 'config.json'), JSON.stringify({ num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }));
      const sst2 = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 4, glueDir: GLUE_DIR, tokenizer: teacher });
      const mismatch = `${join(tiny.dir, 'config.json')}: says 2 labels (its id2label's size, as transformers reads it), but ${tiny.path} gives 1 score per example: fix config.json`;
      expect(sst2.unlabelled).toBe(mismatch);
      await expect(mixed(tiny, sst2)).rejects.toThrow(
        new SettingsError(`quantize mixed:0.5: the layer sensitivity needs --calibrate SST-2's labels: ${mismatch}`),
      );
    } finally {
      tiny.cleanup();
    }
  });

  it("--tokenizer of another model, its vocabulary past the word embedding, is refused in one line naming both, as --format transformers.js refuses it, where calibration ran on its ids (the examples' words past the rows spelled by others)", async () => {
    const tiny = writeTinyBert({ vocabSize: 30000 });
    try {
      await expect(loadCalibration({ model: tiny.path, task: 'SST-2', examples: 4, glueDir: GLUE_DIR, tokenizer: teacher })).rejects.toThrow(
        new SettingsError(
          `--tokenizer ${teacher}: its vocabulary has token ids up to 30521, but ${tiny.path} has 30000 rows in its word embedding: the tokenizer's vocabulary is not the model's`,
        ),
      );
    } finally {
      tiny.cleanup();
    }
  });

  it('a model whose inputs fix the batch size is calibrated in whole batches of it, which ablation runs (it failed in onnxruntime with a stack trace)', async () => {
    registerAllPasses();
    const tiny = writeTinyBert({ vocabSize: 30522 });
    try {
      const dynamic = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 10, glueDir: GLUE_DIR, tokenizer: teacher, maxLength: 24 });
      for (const input of tiny.model.graph.inputs) input.shape = [3, 24];
      saveModel(tiny.model, tiny.path);
      const source = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 10, glueDir: GLUE_DIR, tokenizer: teacher });
      expect(source.batches.map((b) => [b.batch, b.seq])).toEqual(Array(3).fill([3, 24]));
      expect(source.provenance).toMatchObject({ examples: 9, requested: 10 });
      const lineage = await compressFile({
        input: tiny.path,
        output: join(tiny.dir, 'out', 'model.onnx'),
        steps: [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', steps: 1 } }],
        context: { calibration: source },
      });
      expect(lineage.check.batch).toBe(3);
      // calibration read for the model before its batch was fixed: refused in one line, not by onnxruntime
      const steps = [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', steps: 1 } }];
      await expect(compressFile({ input: tiny.path, output: join(tiny.dir, 'other', 'model.onnx'), steps, context: { calibration: dynamic } })).rejects.toThrow(
        'the model takes batches of exactly 3 rows, and a calibration batch has 10: calibrate with the model',
      );
      await expect(loadCalibration({ model: tiny.path, task: 'SST-2', examples: 2, glueDir: GLUE_DIR, tokenizer: teacher })).rejects.toThrow(
        `--calibration-examples 2: ${tiny.path} fixes its batch at 3 rows, and SST-2 gives 2 calibration examples: calibrate on at least 3`,
      );
    } finally {
      tiny.cleanup();
    }
  });

  it('a model whose inputs fix the sequence longer than the default 128 is calibrated at that length, as evaluation reads it (a --max-length given still wins)', async () => {
    const tiny = writeTinyBert({ vocabSize: 30522, maxPositions: 160 });
    try {
      const open = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 4, glueDir: GLUE_DIR, tokenizer: teacher });
      expect(open.provenance?.maxLength).toBe(128);
      for (const input of tiny.model.graph.inputs) input.shape = ['batch', 160];
      saveModel(tiny.model, tiny.path);
      const fixed = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 4, glueDir: GLUE_DIR, tokenizer: teacher });
      expect(fixed.provenance?.maxLength).toBe(160);
      expect(fixed.batches.map((b) => b.seq)).toEqual([160]);
      const asked = await loadCalibration({ model: tiny.path, task: 'SST-2', examples: 4, glueDir: GLUE_DIR, tokenizer: teacher, maxLength: 24 });
      expect(asked.provenance?.maxLength).toBe(24);
    } finally {
      tiny.cleanup();
    }
  });

  it('a task that has no train split at all (AX) is refused without sending the user to download one', async () => {
    await expect(loadCalibration({ model: teacher, task: 'AX', examples: 8, glueDir: GLUE_DIR })).rejects.toThrow(
      /^--calibrate AX: AX has no train split \(calibration never uses the dev examples a model is evaluated on\): calibrate on a task with one/,
    );
  });

  it('refuses a task whose train split is not here rather than calibrating on dev', async () => {
    // the shared GLUE folder holds QNLI's dev and test files only
    await expect(loadCalibration({ model: teacher, task: 'QNLI', examples: 8, glueDir: GLUE_DIR })).rejects.toThrow(SettingsError);
    await expect(loadCalibration({ model: teacher, task: 'QNLI', examples: 8, glueDir: GLUE_DIR })).rejects.toThrow(
      /no train split .*never uses the dev examples/,
    );
  });
});
