/**
 * A graph step after a distill step's bilstm:… student (the model so far is then a Distilled BiLSTM) that the point
 * would refuse (every pass but quantize; quantize modes other than int8, format standard) is refused by the sweep's
 * plan, before any point runs, in the point's words after the file, the pipeline, the model and the step, where
 * --dry-run listed the point and it failed when it ran. quantize int8 after it plans, and so does any pass after a
 * student that is not a BiLSTM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { bilstmConfigJson, exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'recurrent-plan-'));
  writeModelFolder(join(root, 'models', 'tiny'), tinyBert());
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  // a saved Distilled BiLSTM student, and it stored in int8
  registerAllPasses();
  const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=16'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
  const dir = writeModelFolder(join(root, 'models', 'bilstm'), exportBilstm(config, randomBilstmWeights(config, 5)));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
  await compressFile({
    input: join(dir, 'model.onnx'),
    output: join(root, 'models', 'bilstm-int8', 'model.onnx'),
    steps: [{ pass: 'quantize', settings: { mode: 'int8' } }],
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = () => join(root, 'r.yaml');

/** The one line planSweep refuses one pipeline `steps` on the tiny model with, or undefined when it plans. */
const refusal = (steps: unknown[]) => planRefusal(root, 'r', ['tiny'], 'p', steps);

const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16 };
const bilstm = { pass: 'distill', settings: { ...KD, student: 'bilstm:hidden=8', logitLoss: 'mse' } };

describe("a sweep's plan checks the graph steps after a bilstm:… student", () => {
  it('refuses a pass without a recurrent form, and quantize settings the BiLSTM cannot take, as the point would', async () => {
    expect(await refusal([bilstm, { pass: 'prune-heads', settings: { ratio: 0.5 } }])).toBe(
      `${file()}: pipeline 'p' on model 'tiny', step 2 (prune-heads): prune-heads: the model is a recurrent model (a Distilled BiLSTM student): one LSTM and no attention heads, feed-forward blocks or encoder layers for prune-heads to rewrite; of the passes only quantize int8 (a quantize step of mode 'int8') applies to it`,
    );
    // (a distill step without a student trains the model so far: still the BiLSTM)
    expect(await refusal([bilstm, { pass: 'distill', settings: KD }, { pass: 'quantize', settings: { mode: 'int4-block:16' } }])).toBe(
      `${file()}: pipeline 'p' on model 'tiny', step 3 (quantize): quantize int4-block:16: the model is a recurrent model (a Distilled BiLSTM student), and its LSTM has an int8 form only in mode int8 (DynamicQuantizeLSTM): use step 3's settings.mode int8`,
    );
    expect(await refusal([bilstm, { pass: 'quantize', settings: { mode: 'int8', format: 'standard' } }])).toMatch(
      /step 2 \(quantize\): quantize int8: format 'standard': the model is a recurrent model .*which format standard rules out/,
    );
  });

  it('refuses a pipeline refused at two steps at the first, where its point fails', async () => {
    // (step 3 trains the BiLSTM at a length beyond its teacher's 64 positions: refused too, but its point never gets there)
    expect(await refusal([bilstm, { pass: 'prune-heads', settings: { ratio: 0.5 } }, { pass: 'distill', settings: { ...KD, maxLength: 128 } }])).toMatch(
      /^.*: pipeline 'p' on model 'tiny', step 2 \(prune-heads\): prune-heads: the model is a recurrent model/,
    );
    expect(await refusal([bilstm, { pass: 'distill', settings: { ...KD, maxLength: 128 } }])).toMatch(/step 2 \(distill\): .*128/);
  });

  it('plans quantize int8 after it, and any pass after a student that is not a BiLSTM', async () => {
    expect(await refusal([bilstm, { pass: 'quantize', settings: { mode: 'int8', perChannel: false } }])).toBeUndefined();
    expect(
      await refusal([
        { pass: 'distill', settings: { ...KD, student: 'bert:layers=1' } },
        { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      ]),
    ).toBeUndefined();
  });
});

describe("a sweep's plan checks the graph steps on a saved Distilled BiLSTM: the sweep's model, or a student given by path", () => {
  const RECURRENT = 'the model is a recurrent model (a Distilled BiLSTM student)';
  it('refuses a pass without a recurrent form, and quantize int8 of the student stored in int8, as the point would', async () => {
    const on = (model: string, steps: unknown[]) => planRefusal(root, 'r', [model], 'p', steps);
    expect(await on('bilstm', [{ pass: 'prune-heads', settings: { ratio: 0.5 } }])).toBe(
      `${file()}: pipeline 'p' on model 'bilstm', step 1 (prune-heads): prune-heads: ${RECURRENT}: one LSTM and no attention heads, feed-forward blocks or encoder layers for prune-heads to rewrite; of the passes only quantize int8 (a quantize step of mode 'int8') applies to it`,
    );
    expect(
      await on('bilstm', [
        { pass: 'quantize', settings: { mode: 'int8' } },
        { pass: 'drop-layers', settings: { layers: '0' } },
      ]),
    ).toMatch(/^.*: pipeline 'p' on model 'bilstm', step 2 \(drop-layers\): drop-layers: the model is a recurrent model/);
    expect(await on('bilstm-int8', [{ pass: 'quantize', settings: { mode: 'int8' } }])).toBe(
      `${file()}: pipeline 'p' on model 'bilstm-int8', step 1 (quantize): quantize int8: ${RECURRENT} whose LSTM is quantized already: quantize the float model instead`,
    );
    // (so is quantize after a step that quantized it, where the plan listed the point and it failed when it ran: when
    // the file is read, as on any model, since quantize int8 stores every weight quantized)
    const again = 'quantize int8 cannot follow quantize int8';
    const int8 = { pass: 'quantize', settings: { mode: 'int8' } };
    await expect(on('bilstm', [int8, { pass: 'quantize', settings: { mode: 'int8', perChannel: false } }])).rejects.toThrow(
      new RegExp(`^\\S*/r\\.yaml: pipelines\\[0\\]\\.steps\\[1\\]: ${again} \\(steps\\[0\\]\\)`),
    );
    await expect(refusal([bilstm, int8, int8])).rejects.toThrow(new RegExp(`^\\S*/r\\.yaml: pipelines\\[0\\]\\.steps\\[2\\]: ${again} \\(steps\\[1\\]\\)`));
    const student = join(root, 'models', 'bilstm', 'model.onnx');
    expect(
      await refusal([
        { pass: 'distill', settings: { ...KD, student, logitLoss: 'mse' } },
        { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      ]),
    ).toMatch(/^.*: pipeline 'p' on model 'tiny', step 2 \(prune-ffn\): prune-ffn: the model is a recurrent model/);
  });

  it('refuses a train or distill step whose student is the BiLSTM stored in int8, by path or as the model it trains, in the words training uses', async () => {
    const int8 = join(root, 'models', 'bilstm-int8', 'model.onnx');
    const why = `${int8}: a Distilled BiLSTM student stored in int8 (compress --quantize int8: DynamicQuantizeLSTM), which training cannot read: train the float student it was quantized from (${join(root, 'models', 'bilstm', 'model.onnx')}), then quantize the result`;
    expect(await refusal([{ pass: 'distill', settings: { ...KD, student: int8, logitLoss: 'mse' } }])).toBe(
      `${file()}: pipeline 'p' on model 'tiny', step 1 (distill): ${why}`,
    );
    expect(await planRefusal(root, 'r', ['bilstm-int8'], 'p', [{ pass: 'train', settings: KD }])).toBe(
      `${file()}: pipeline 'p' on model 'bilstm-int8', step 1 (train): ${why}`,
    );
    // (the float one trains)
    expect(await planRefusal(root, 'r', ['bilstm'], 'p', [{ pass: 'train', settings: KD }])).toBeUndefined();
  });

  it('plans quantize int8 of the float one, as the sweep model or a student by path', async () => {
    expect(await planRefusal(root, 'r', ['bilstm'], 'p', [{ pass: 'quantize', settings: { mode: 'int8' } }])).toBeUndefined();
    const student = join(root, 'models', 'bilstm', 'model.onnx');
    expect(
      await refusal([
        { pass: 'distill', settings: { ...KD, student, logitLoss: 'mse' } },
        { pass: 'quantize', settings: { mode: 'int8' } },
      ]),
    ).toBeUndefined();
  });
});

describe("a sweep's plan checks a distill step's teacher", () => {
  it('refuses a Distilled BiLSTM named as the teacher (float or int8) as training would, where the plan listed the point', async () => {
    for (const teacher of ['bilstm', 'bilstm-int8']) {
      const step = { pass: 'distill', settings: { ...KD, student: 'bilstm:hidden=8', logitLoss: 'mse', teacher: join(root, 'models', teacher) } };
      expect(await refusal([step])).toBe(
        `${file()}: pipeline 'p' on model 'tiny', step 1 (distill): teacher: the model is a recurrent model (a Distilled BiLSTM student): a teacher is a BERT-family encoder (distil from the encoder it was distilled from)`,
      );
    }
    // the sweep's own model as the teacher plans
    expect(await refusal([{ pass: 'distill', settings: { ...KD, student: 'bilstm:hidden=8', logitLoss: 'mse' } }])).toBeUndefined();
  });
});
