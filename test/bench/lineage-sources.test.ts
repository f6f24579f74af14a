/**
 * bench follows lineage sidecars to a model's sources (to borrow a structure discovery cannot read, or to tell
 * whether the baseline is an ancestor) to each file once: an older sidecar's relative path read from the sidecar's
 * folder can name the model itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { benchSubject } from '../../src/bench/inputs.ts';
import { sourceHashes } from '../../src/bench/lineage.ts';
import { buildBert } from '../../src/bert/build.ts';
import { SettingsError } from '../../src/errors.ts';
import { sha256FileSync } from '../../src/files.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { TINY_CONFIG, tinyBert } from '../helpers/models.ts';

vi.mock('../../src/onnx/load.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/onnx/load.ts')>();
  return { ...actual, loadModel: vi.fn(actual.loadModel) };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-lineage-sources-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cwd = process.cwd();
beforeEach(() => {
  vi.mocked(loadModel).mockClear();
});
afterEach(() => process.chdir(cwd));

/** A model discovery cannot read (no layers), as `<dir>/model.onnx`, with `lineage` as its sidecar. */
function undiscoverable(dir: string, lineage: unknown): string {
  const path = join(writeModelFolder(dir, buildBert({ ...TINY_CONFIG, numLayers: 0 }, { kind: 'random', seed: 1 })), 'model.onnx');
  writeFileSync(`${path}.json`, JSON.stringify(lineage));
  return path;
}

/** How often bench loaded `path`. */
const loadsOf = (path: string) => vi.mocked(loadModel).mock.calls.filter(([p]) => p === path).length;

describe("bench's lineage sources", () => {
  it('loads a model whose older sidecar names itself (its input relative to the folder compress ran in) once, then refuses', () => {
    const input = join(writeModelFolder(join(work, 'self', 'm'), tinyBert()), 'model.onnx');
    // (`cd m && compress model.onnx -o ../cut/model.onnx` before paths were absolute: from cut's folder, itself)
    const withHash = undiscoverable(join(work, 'self', 'cut'), { input: { path: 'model.onnx', sha256: sha256FileSync(input) } });
    expect(() => benchSubject(withHash)).toThrow(SettingsError);
    expect(loadsOf(withHash)).toBe(1);
    // (written by hand or another tool: no hash to tell)
    const noHash = undiscoverable(join(work, 'self', 'hand'), { input: { path: 'model.onnx' } });
    expect(() => benchSubject(noHash)).toThrow(/cannot find the encoder's inputs .*give --baseline the model it was compressed from/);
    expect(loadsOf(noHash)).toBe(1);
  });

  it('follows a cycle of sidecars without hashes through each model once', () => {
    const a = join(work, 'cycle', 'a', 'model.onnx');
    const b = join(work, 'cycle', 'b', 'model.onnx');
    undiscoverable(join(work, 'cycle', 'a'), { input: { path: b } });
    undiscoverable(join(work, 'cycle', 'b'), { input: { path: a } });
    expect(() => benchSubject(a)).toThrow(SettingsError);
    expect([loadsOf(a), loadsOf(b)]).toEqual([1, 1]);
    expect(sourceHashes(a)).toEqual(new Set());
  });
});
