/**
 * A library call that fails after making its output's folders (a pass refusing at run time, a later destination
 * check) removes those it made that are still empty, as the CLI does for a failed command (removeCreatedFolders),
 * where compressFile, compressToTransformersJs and runTraining left them behind. Folders that were there stay.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-failed-call-folders-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const int8 = [{ pass: 'quantize', settings: { mode: 'int8' } }];
const quantized = join(work, 'q', 'model.onnx');

beforeAll(async () => {
  const dir = writeModelFolder(join(work, 'm'), tinyBert());
  await compressFile({ input: join(dir, 'model.onnx'), output: quantized, steps: int8 });
});

describe('a library call that fails at run time', () => {
  it('compressFile leaves none of the folders it made for its output (a pass refusing an int8 input)', async () => {
    const root = join(work, 'c');
    mkdirSync(root);
    await expect(compressFile({ input: quantized, output: join(root, 'x', 'y', 'a.onnx'), steps: int8 })).rejects.toThrow(/already quantized/);
    expect(readdirSync(root)).toEqual([]);
    // a folder that was there stays
    await expect(compressFile({ input: quantized, output: join(root, 'a.onnx'), steps: int8 })).rejects.toThrow(/already quantized/);
    expect(existsSync(root)).toBe(true);
  });

  it('compressToTransformersJs leaves none either', async () => {
    const root = join(work, 't');
    mkdirSync(root);
    // (a second quantize of the float model, which refuses when it runs: an int8 input is refused before any folder is made)
    const input = join(work, 'm', 'model.onnx');
    await expect(compressToTransformersJs({ input, output: join(root, 'x', 'tjs'), steps: [...int8, ...int8] })).rejects.toThrow(/already quantized/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('runTraining removes the cache folder it made when its output folder is then refused', async () => {
    const root = join(work, 'r');
    mkdirSync(root);
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    writeFileSync(join(root, 'file'), '');
    const run = runTraining({
      task: 'SST-2',
      glueDir,
      student: 'every-other',
      teacher: join(work, 'm'),
      distill: {},
      output: join(root, 'file', 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      cacheDir: join(root, 'cache', 'teachers'),
      log: () => {},
    });
    await expect(run).rejects.toThrow(/is a file, not a folder/);
    expect(readdirSync(root)).toEqual(['file']);
  });
});
