/**
 * A model stored quantized (compress --quantize int8: a BERT's int8 weights, a Distilled BiLSTM's DynamicQuantizeLSTM)
 * whose classifier is another task's: eval and a sweep's plan sent the user to `compress train MODEL --new-head`,
 * which refuses it (training cannot read quantized weights). They now say so, and name the way through: the float
 * model it was quantized from given the new classifier, then quantized again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { runTraining } from '../../src/train/run.ts';
import { bilstmConfigJson, exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-new-head-quantized-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
const int8 = { pass: 'quantize', settings: { mode: 'int8' } };
const models: Record<'bert' | 'bert8' | 'bilstm' | 'bilstm8', string> = { bert: '', bert8: '', bilstm: '', bilstm8: '' };

beforeAll(async () => {
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(glueDir, 'STS-B', 8, ['train', 'dev']);
  // SST-2 classifiers (config.json: negative, positive), float and int8
  models.bert = writeModelFolder(join(work, 'bert'), tinyBert());
  const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=4,embedding=6'), { vocabSize: 64, numLabels: 2, maxLength: 16 });
  models.bilstm = writeModelFolder(join(work, 'bilstm'), exportBilstm(config, randomBilstmWeights(config, 2)));
  writeFileSync(join(models.bilstm, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
  for (const name of ['bert', 'bilstm'] as const) {
    models[`${name}8`] = join(work, `${name}8`);
    await compressFile({ input: join(models[name], 'model.onnx'), output: join(models[`${name}8`], 'model.onnx'), steps: [int8] });
  }
});

const STORED = {
  bert8: 'the word embedding is stored quantized (gather-scale)',
  bilstm8: 'its LSTM is stored in int8 (DynamicQuantizeLSTM)',
};
const floatAdvice = (dir: string) => `give it STS-B's classifier first (compress train ${dir} --task STS-B --new-head -o OUT)`;
/** The advice for a quantized model, naming the float model it was quantized from where its lineage finds that file. */
const quantizedAdvice = (name: keyof typeof STORED, float?: string) =>
  float
    ? `${STORED[name]}, which training cannot read: give STS-B's classifier to ${float}, the float model it was quantized from, first (compress train ${float} --task STS-B --new-head -o OUT), then quantize the result`
    : `${STORED[name]}, which training cannot read: give STS-B's classifier to the float model it was quantized from first (compress train FLOAT_MODEL --task STS-B --new-head -o OUT), then quantize the result`;
const floatOf = (name: 'bert8' | 'bilstm8') => join(models[name === 'bert8' ? 'bert' : 'bilstm'], 'model.onnx');

describe("a quantized model with another task's classifier: the way to a new one", () => {
  it('train --new-head refuses the quantized models (training cannot read their weights): the advice below cannot name them', async () => {
    for (const name of ['bert8', 'bilstm8'] as const) {
      const output = join(work, 'trained', name, 'model.onnx');
      await expect(
        runTraining({ task: 'STS-B', student: models[name], newHead: true, glueDir, output, settings: { epochs: 1, batchSize: 4, threads: 1 } }),
      ).rejects.toThrow(/stored quantized|stored in int8/);
    }
  });

  it("train without --new-head refuses an int8 BERT of another task's labels for its int8 weights, naming the float model it was quantized from (its lineage's), where it named --new-head, which refuses it so, then said 'rebuild the float model' without naming it", async () => {
    const settings = { epochs: 1, batchSize: 4, threads: 1 };
    // (the float model: its classifier is another task's, which --new-head replaces)
    await expect(runTraining({ task: 'MRPC', student: models.bert, glueDir, output: join(work, 'mrpc', 'float', 'model.onnx'), settings })).rejects.toThrow(
      /^--task MRPC: the model's classifier is another task's \(its labels are negative, positive, in .*config\.json\): give --new-head/,
    );
    for (const newHead of [false, true]) {
      await expect(
        runTraining({ task: 'MRPC', student: models.bert8, glueDir, output: join(work, 'mrpc', 'int8', 'model.onnx'), settings, newHead }),
      ).rejects.toThrow(
        new SettingsError(
          `${models.bert8}: canonical rebuild: ${STORED.bert8}; train before quantizing (train the float model it was quantized from, ${floatOf('bert8')})`,
        ),
      );
    }
  });

  it('eval names the float model it was quantized from, where it named the quantized model to compress train --new-head', async () => {
    for (const name of ['bert', 'bilstm'] as const) {
      await expect(evaluate({ model: models[name], tasks: ['STS-B'], glueDir, threads: 1 })).rejects.toThrow(
        new RegExp(`; its labels are SST-2's: ${floatAdvice(models[name]).replace(/[()]/g, '\\$&')}$`),
      );
      const quantized = `${name}8` as const;
      const refused = await evaluate({ model: models[quantized], tasks: ['STS-B'], glueDir, threads: 1 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SettingsError);
      expect((refused as Error).message).toMatch(/ says 2 labels \(its id2label's size, as transformers reads it\); its labels are SST-2's: /);
      expect((refused as Error).message.endsWith(`its labels are SST-2's: ${quantizedAdvice(quantized, floatOf(quantized))}`)).toBe(true);
    }
  });

  it('eval names the float file only where the lineage finds it with the bytes it recorded, else FLOAT_MODEL', async () => {
    const src = writeModelFolder(join(work, 'gone'), tinyBert());
    const q = join(work, 'gone8', 'model.onnx');
    await compressFile({ input: join(src, 'model.onnx'), output: q, steps: [int8] });
    writeFileSync(join(src, 'model.onnx'), 'rewritten since');
    const refused = await evaluate({ model: join(work, 'gone8'), tasks: ['STS-B'], glueDir, threads: 1 }).catch((e: unknown) => e);
    expect((refused as Error).message.endsWith(`its labels are SST-2's: ${quantizedAdvice('bert8')}`)).toBe(true);
  });

  it("a transformers.js folder's int8 model: the folder's onnx/model.onnx, the same passes less quantize", async () => {
    const out = join(work, 'tjs');
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, int8];
    await compressToTransformersJs({ input: join(models.bert, 'model.onnx'), output: out, steps });
    const refused = await evaluate({ model: out, tasks: ['STS-B'], glueDir, threads: 1 }).catch((e: unknown) => e);
    expect((refused as Error).message.endsWith(`its labels are SST-2's: ${quantizedAdvice('bert8', join(out, 'onnx', 'model.onnx'))}`)).toBe(true);
  });

  it("a sweep's plan says the same, then to sweep that model", async () => {
    const refusal = async (model: string) => {
      const file = join(work, 'q.yaml');
      const spec = parseSweep({ name: 'q', models: [{ path: model, tasks: ['STS-B'] }], calibration: false, pipelines: ['baseline'] }, file, 'q.yaml');
      const e = await planSweep(spec, { glueDir, workDir: join(work, 'sweep') }).catch((e: unknown) => e);
      expect(e).toBeInstanceOf(SettingsError);
      return (e as Error).message;
    };
    for (const name of ['bert', 'bilstm'] as const) {
      expect(await refusal(models[name])).toMatch(
        /every point evaluates it on STS-B, its baseline too: give it STS-B's classifier first \(compress train .* and sweep that model$/,
      );
      const quantized = `${name}8` as const;
      expect(await refusal(models[quantized])).toMatch(
        new RegExp(
          `every point evaluates it on STS-B, its baseline too: ${quantizedAdvice(quantized, floatOf(quantized)).replace(/[()]/g, '\\$&')} and sweep that$`,
        ),
      );
    }
  });
});
