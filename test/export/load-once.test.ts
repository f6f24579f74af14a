/**
 * `compress MODEL … --calibrate TASK` reads the model once: the calibration checks its graph and the passes run on
 * the same loaded model (they never change it), for an .onnx output and a transformers.js folder alike.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/index.ts';
import { sha256File } from '../../src/files.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { openSession } from '../../src/runtime/session.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

vi.mock('../../src/onnx/load.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/onnx/load.ts')>();
  return { ...actual, loadModel: vi.fn(actual.loadModel) };
});
vi.mock('../../src/runtime/session.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/runtime/session.ts')>();
  return { ...actual, openSession: vi.fn(actual.openSession) };
});
vi.mock('../../src/files.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/files.ts')>();
  return { ...actual, sha256File: vi.fn(actual.sha256File) };
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
  vi.mocked(openSession).mockClear();
  vi.mocked(sha256File).mockClear();
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
/** How many times onnxruntime opened the input model file, and how many times it was hashed. */
const inputSessions = () =>
  vi.mocked(openSession).mock.calls.filter(([path]) => typeof path === 'string' && resolve(path) === resolve(model, 'model.onnx')).length;
const inputHashes = () => vi.mocked(sha256File).mock.calls.filter(([path]) => resolve(String(path)) === resolve(model, 'model.onnx')).length;

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

describe('compress --quantize --format transformers.js', () => {
  it("runs the input's side of the check once for the float and the quantized model (one onnxruntime session of it, one hash), where each model's run opened and hashed it again", async () => {
    const out = join(root, `tjs-${Math.random().toString(36).slice(2)}`);
    expect(await compress(model, '--prune-ffn', '0.5', '--quantize', 'int8', '--format', 'transformers.js', '-o', out)).toBe(0);
    expect(existsSync(join(out, 'onnx', 'model_quantized.onnx'))).toBe(true);
    expect([inputLoads(), inputSessions(), inputHashes()]).toEqual([1, 1, 1]);
    // both models' lineages record the input and their drift from it, as before
    const lineages = ['model.onnx', 'model_quantized.onnx'].map((f) => JSON.parse(readFileSync(join(out, 'onnx', `${f}.json`), 'utf8')));
    for (const l of lineages) {
      expect(l.input.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(l.check.drift.length).toBeGreaterThan(0);
    }
    expect(lineages[0].input.sha256).toBe(lineages[1].input.sha256);
    expect(lineages[1].check.drift).not.toEqual(lineages[0].check.drift); // (each its own model's)
  });
});
