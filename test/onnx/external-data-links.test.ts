/**
 * External data is read only from inside the model's folder, by real path: a location reached through a symbolic
 * link to a folder or file elsewhere (`etcdir → /etc`) is refused when loading, as `inspect` loads.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';

/** A tiny model whose weights live in `<dir>/weights/model.data` (location 'weights/model.data'). */
function modelWithDataIn(dir: string): string {
  mkdirSync(join(dir, 'weights'));
  const path = join(dir, 'model.onnx');
  saveModel(tinyBert({ numLayers: 1 }), path, { externalData: true, dataFile: 'weights/model.data', externalSizeThreshold: 0 });
  return path;
}

/** Moves `<dir>/weights` to a folder outside `dir` and leaves a symbolic link to it in its place. */
function linkWeightsOutside(dir: string): void {
  const outside = mkdtempSync(join(tmpdir(), 'ext-outside-'));
  renameSync(join(dir, 'weights'), join(outside, 'weights'));
  symlinkSync(join(outside, 'weights'), join(dir, 'weights'));
}

describe('external data locations and symbolic links', () => {
  it('loads data in a subfolder of the model folder, and reports each data file read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ext-ok-'));
    const seen: string[] = [];
    loadModel(modelWithDataIn(dir), { onExternalFile: (f) => seen.push(f) });
    expect(seen).toEqual([join(dir, 'weights', 'model.data')]);
  });

  it('refuses a location whose folder is a link to a folder outside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ext-link-'));
    const path = modelWithDataIn(dir);
    linkWeightsOutside(dir);
    expect(() => loadModel(path)).toThrow(ModelLoadError);
    expect(() => loadModel(path)).toThrow(/external data location 'weights\/model\.data' leads outside the model's folder .* through a symbolic link/);
  });

  it('refuses a location that is a link to a file outside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ext-file-'));
    const path = modelWithDataIn(dir);
    const outside = join(mkdtempSync(join(tmpdir(), 'ext-outside-')), 'model.data');
    renameSync(join(dir, 'weights', 'model.data'), outside);
    symlinkSync(outside, join(dir, 'weights', 'model.data'));
    expect(() => loadModel(path)).toThrow(/leads outside the model's folder/);
  });

  it("loads a Hugging Face hub cache snapshot, whose files link to the repo's blobs (and only to those)", () => {
    const repo = join(mkdtempSync(join(tmpdir(), 'ext-hub-')), 'models--org--name');
    const snapshot = join(repo, 'snapshots', 'abc123');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    const path = modelWithDataIn(snapshot);
    renameSync(join(snapshot, 'weights', 'model.data'), join(repo, 'blobs', 'd1'));
    symlinkSync('../../../blobs/d1', join(snapshot, 'weights', 'model.data'));
    renameSync(path, join(repo, 'blobs', 'm1'));
    symlinkSync('../../blobs/m1', path);
    const seen: string[] = [];
    loadModel(path, { onExternalFile: (f) => seen.push(f) });
    expect(seen).toEqual([join(repo, 'blobs', 'd1')]);
    // a link elsewhere in the repo (not a blob) is still refused
    mkdirSync(join(repo, 'other'));
    renameSync(join(repo, 'blobs', 'd1'), join(repo, 'other', 'd1'));
    rmSync(join(snapshot, 'weights', 'model.data'));
    symlinkSync('../../../other/d1', join(snapshot, 'weights', 'model.data'));
    expect(() => loadModel(path)).toThrow(/leads outside the model's folder/);
  });

  it('compress inspect refuses it in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ext-cli-'));
    const path = modelWithDataIn(dir);
    linkWeightsOutside(dir);
    const r = await runMain(['inspect', path]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/leads outside the model's folder/);
  });
});
