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
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

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
