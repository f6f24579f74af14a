/**
 * bench follows lineage sidecars to a model's sources (to borrow a structure discovery cannot read, or to tell
 * whether the baseline is an ancestor) only to the files their records hashed, each file once: an older sidecar's
 * relative path read from the sidecar's folder can name the model itself, and a path can hold another model since
 * the record was written.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { benchSubject } from '../../src/bench/inputs.ts';
import { baselineRelation, sourceHashes } from '../../src/bench/lineage.ts';
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

  it('borrows no structure from a model that is not the one the record hashed', () => {
    const base = join(writeModelFolder(join(work, 'moved', 'base'), tinyBert({ numLayers: 1 })), 'model.onnx');
    const cut = undiscoverable(join(work, 'moved', 'cut'), { input: { path: base, sha256: sha256FileSync(base) } });
    expect(benchSubject(cut).structure?.numLayers).toBe(1);
    writeModelFolder(join(work, 'moved', 'base'), tinyBert({ numLayers: 2 })); // another model written there since
    expect(() => benchSubject(cut)).toThrow(/cannot find the encoder's inputs/);

    // An older relative path read from the folder bench runs in, where another model is, and from the sidecar's
    // folder, where the input is: the input.
    const input = join(writeModelFolder(join(work, 'rel', 'cut', 'sub'), tinyBert({ numLayers: 1 })), 'model.onnx');
    const rel = undiscoverable(join(work, 'rel', 'cut'), { input: { path: 'sub/model.onnx', sha256: sha256FileSync(input) } });
    writeModelFolder(join(work, 'rel', 'other', 'sub'), tinyBert({ numLayers: 3 }));
    process.chdir(join(work, 'rel', 'other'));
    expect(benchSubject(rel).structure?.numLayers).toBe(1);
  });

  it("counts as ancestors only the sources of the file the record hashed, not another model's at its path", async () => {
    const root = join(work, 'hashes');
    const grand = join(writeModelFolder(join(root, 'grand'), tinyBert({}, { seed: 3 })), 'model.onnx');
    const parentDir = join(root, 'parent');
    const parent = join(writeModelFolder(parentDir, tinyBert({}, { seed: 4 })), 'model.onnx');
    writeFileSync(`${parent}.json`, JSON.stringify({ input: { path: grand, sha256: sha256FileSync(grand) } }));
    const model = join(writeModelFolder(join(root, 'model'), tinyBert({}, { seed: 5 })), 'model.onnx');
    writeFileSync(`${model}.json`, JSON.stringify({ input: { path: parent, sha256: sha256FileSync(parent) } }));
    expect(sourceHashes(model)).toEqual(new Set([sha256FileSync(parent), sha256FileSync(grand)]));
    expect(await baselineRelation(model, grand)).toBe('ancestor');

    // The parent's path now holds another model, itself made from the grandparent: not what the model was made from.
    const recorded = sha256FileSync(parent);
    writeModelFolder(parentDir, tinyBert({}, { seed: 6 }));
    writeFileSync(`${parent}.json`, JSON.stringify({ input: { path: grand, sha256: sha256FileSync(grand) } }));
    expect(sourceHashes(model)).toEqual(new Set([recorded]));
    expect(await baselineRelation(model, grand)).toBe('unrelated');
  });
});
