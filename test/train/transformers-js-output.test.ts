/**
 * compress train into the onnx/ folder of a transformers.js folder is refused before any work: its config.json and
 * tokenizer lie above onnx/ (transformers.js reads them for every model there), and the trained model's own would be
 * written into onnx/, unread by transformers.js and read by eval for every model of onnx/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bc-train-tjs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('compress train -o FOLDER/onnx/… of a transformers.js folder', () => {
  it('is refused in one line, and nothing is written into onnx/', async () => {
    const input = join(writeModelFolder(join(work, 'in'), tinyBert({ numLayers: 1 })), 'model.onnx');
    const folder = join(work, 'tjs');
    await compressToTransformersJs({ input, output: folder, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const before = readdirSync(join(folder, 'onnx')).sort();
    const output = join(folder, 'onnx', 'trained.onnx');
    await expect(runTraining({ student: join(folder, 'onnx', 'model.onnx'), output, task: 'SST-2', glueDir, settings: { epochs: 1 } })).rejects.toThrow(
      `-o ${output}: ${folder} is a transformers.js folder (config.json and the tokenizer above onnx/`,
    );
    expect(readdirSync(join(folder, 'onnx')).sort()).toEqual(before);
  });
});
