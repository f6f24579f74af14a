/**
 * Eval of a static-shape graph discovery does not read (a Distilled BiLSTM exported with inputs fixed at [1, 16]):
 * fed batches of the rows and tokens its inputs fix, as a BERT of fixed shape is, where onnxruntime refused the
 * batches ('Got invalid dimensions for input'); a --max-length beyond the fixed length is refused in one line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder, WORDS } from '../helpers/model-folder.ts';
import { onnxNode, tableClassifier, tinyBert } from '../helpers/models.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-static-unread-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

describe('a BiLSTM whose inputs fix [1, 16]', () => {
  it('evaluates as the same BiLSTM with dynamic axes', async () => {
    const teacher = writeModelFolder(join(work, 'teacher'), tinyBert({}, { std: 0.2 }));
    const output = join(work, 'bilstm', 'model.onnx');
    const settings = { epochs: 1, batchSize: 4, threads: 1 };
    await runTraining({
      task: 'SST-2',
      student: 'bilstm:hidden=4,embedding=8',
      teacher,
      glueDir,
      output,
      cacheDir: join(work, 'cache'),
      distill: {},
      settings,
      log: () => {},
    });
    const dynamic = await evaluate({ model: join(work, 'bilstm'), tasks: ['SST-2'], glueDir, threads: 1 });
    const model = loadModel(output);
    for (const input of model.graph.inputs) input.shape = [1, 16];
    model.graph.outputs[0]!.shape = [1, 2];
    saveModel(model, output);
    const fixed = await evaluate({ model: join(work, 'bilstm'), tasks: ['SST-2'], glueDir, threads: 1 });
    expect(fixed.tasks[0]!.metrics).toEqual(dynamic.tasks[0]!.metrics);
    await expect(evaluate({ model: join(work, 'bilstm'), tasks: ['SST-2'], glueDir, threads: 1, maxLength: 20 })).rejects.toThrow(
      /--max-length 20 is longer than the 16 tokens the model's inputs are fixed to$/,
    );
  });
});

describe('a classifier discovery does not read, whose ids look up no table (through an Identity), with inputs fixed at [batch, 12]', () => {
  /** tableClassifier with its table read through an Identity (no table found for the ids) and its inputs fixed at 12 tokens. */
  function untabled(): string {
    const model = tableClassifier(5 + WORDS.length);
    const gather = model.graph.nodes.find((n) => n.opType === 'Gather')!;
    gather.inputs[0] = 'table_read';
    model.graph.nodes.unshift(onnxNode('read', 'Identity', ['table'], ['table_read']));
    for (const input of model.graph.inputs) input.shape = ['batch', 12];
    return writeModelFolder(join(work, 'untabled'), model, { config: false });
  }

  it('is calibrated at the length its inputs fix, its batches padded to it, as evaluation reads it (where it took 128 and the longest example)', async () => {
    const dir = untabled();
    const evaluated = await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(evaluated.maxLength).toBe(12);
    const calibration = await loadCalibration({ model: dir, task: 'SST-2', glueDir, examples: 8, batchSize: 4 });
    expect(calibration.provenance?.maxLength).toBe(12);
    expect(calibration.batches.map((b) => b.seq)).toEqual([12, 12]);
    // the batches run on the model (onnxruntime refused the shorter ones: 'Got invalid dimensions for input')
    const session = await openSession(join(dir, 'model.onnx'), { threads: 1 });
    try {
      for (const b of calibration.batches) {
        const dims = [b.batch, b.seq];
        const out = await session.run({ input_ids: new Tensor('int64', b.inputIds, dims), attention_mask: new Tensor('int64', b.attentionMask, dims) });
        expect(out.logits!.dims).toEqual([4, 2]);
      }
    } finally {
      await session.release();
    }
    await expect(loadCalibration({ model: dir, task: 'SST-2', glueDir, examples: 8, maxLength: 20 })).rejects.toThrow(
      /--max-length 20 is longer than the 12 tokens the model's inputs are fixed to$/,
    );
  });
});
