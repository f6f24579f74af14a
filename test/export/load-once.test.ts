/**
 * `compress MODEL … --calibrate TASK` reads the model once: the calibration checks its graph and the passes run on
 * the same loaded model (they never change it), for an .onnx output and a transformers.js folder alike.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/index.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

vi.mock('../../src/onnx/load.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/onnx/load.ts')>();
  return { ...actual, loadModel: vi.fn(actual.loadModel) };
});

const root = mkdtempSync(join(tmpdir(), 'bc-load-once-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = writeModelFolder(join(root, 'model'), tinyBert({}, { std: 0.2 }));
const glueDir = join(root, 'glue');
writeGlueTask(glueDir, 'SST-2', 16, ['train']);

let argv: string[];
beforeEach(() => {
  argv = process.argv;
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.mocked(loadModel).mockClear();
});
afterEach(() => {
  process.argv = argv;
  vi.restoreAllMocks();
});

/** Runs the CLI in this process (compress reads its pass flags from process.argv); returns the exit code. */
async function compress(...args: string[]): Promise<number> {
  process.argv = [process.execPath, 'compress', ...args];
  return main(args);
}

/** How many times the input model file was loaded. */
const inputLoads = () => vi.mocked(loadModel).mock.calls.filter(([path]) => resolve(String(path)) === resolve(model, 'model.onnx')).length;

describe('compress --calibrate', () => {
  it.each([
    ['an .onnx output', (out: string) => ['-o', join(out, 'model.onnx')]],
    ['a transformers.js folder', (out: string) => ['--format', 'transformers.js', '-o', out]],
  ])('loads the input model once (%s)', async (_, output) => {
    const out = join(root, `out-${Math.random().toString(36).slice(2)}`);
    const code = await compress(
      model,
      '--quantize',
      'int8-static',
      '--calibrate',
      'SST-2',
      '--calibration-examples',
      '8',
      '--glue-dir',
      glueDir,
      ...output(out),
    );
    expect(code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(inputLoads()).toBe(1);
  });
});
