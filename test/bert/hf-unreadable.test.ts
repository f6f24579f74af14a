/**
 * A Hugging Face folder, its config.json or its model.safetensors that cannot be read (permission denied, simulated:
 * root reads anything) is one line naming the path and why, not 'no such folder' or 'no config.json'.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadHuggingFaceFolder, readHuggingFaceConfig, writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { DataError } from '../../src/errors.ts';
import { tinyBertConfig } from '../helpers/models.ts';

/** Paths whose stat or open fails with EACCES. */
const locked = new Set<string>();

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const denied = (path: unknown, syscall: string) => {
    if (locked.has(String(path))) {
      throw Object.assign(new Error(`EACCES: permission denied, ${syscall} '${String(path)}'`), { code: 'EACCES', errno: -13, syscall, path: String(path) });
    }
  };
  const statSync = ((path: import('node:fs').PathLike, opts?: import('node:fs').StatSyncOptions) => {
    denied(path, 'stat');
    return fs.statSync(path, opts);
  }) as typeof fs.statSync;
  const openSync = ((path: import('node:fs').PathLike, flags?: import('node:fs').OpenMode, mode?: import('node:fs').Mode) => {
    denied(path, 'open');
    return fs.openSync(path, flags ?? 'r', mode);
  }) as typeof fs.openSync;
  return { ...fs, statSync, openSync, default: { ...fs, statSync, openSync } };
});

const root = mkdtempSync(join(tmpdir(), 'hf-unreadable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Hugging Face folders that cannot be read', () => {
  it('names the folder, config.json or model.safetensors and says permission denied', () => {
    const config = tinyBertConfig();
    const dir = join(root, 'model');
    writeHuggingFaceFolder(dir, config, randomBertWeights(config, { seed: 1 }));
    expect(loadHuggingFaceFolder(dir).config.numLayers).toBe(2);
    for (const [path, why] of [
      [dir, 'cannot read it: permission denied'],
      [join(dir, 'config.json'), 'cannot read it: permission denied'],
      [join(dir, 'model.safetensors'), 'cannot read it: permission denied'],
    ]) {
      locked.clear();
      locked.add(path);
      expect(() => loadHuggingFaceFolder(dir)).toThrow(new DataError(`${path}: ${why}`));
    }
    locked.clear();
  });

  it("config.json or the safetensors index a folder: 'cannot read it: is a folder', as any file that cannot be read, where it said 'cannot read config.json (EISDIR)'", () => {
    const config = tinyBertConfig();
    const dir = join(root, 'folders');
    writeHuggingFaceFolder(dir, config, randomBertWeights(config, { seed: 1 }));
    rmSync(join(dir, 'config.json'));
    mkdirSync(join(dir, 'config.json'));
    expect(() => loadHuggingFaceFolder(dir)).toThrow(new DataError(`${join(dir, 'config.json')}: cannot read it: is a folder`));
    expect(() => readHuggingFaceConfig(join(dir, 'config.json'), 'hf:org/name (config.json)')).toThrow(
      new DataError('hf:org/name (config.json): cannot read it: is a folder'),
    );
    const sharded = join(root, 'sharded');
    writeHuggingFaceFolder(sharded, config, randomBertWeights(config, { seed: 1 }));
    rmSync(join(sharded, 'model.safetensors'));
    mkdirSync(join(sharded, 'model.safetensors.index.json'));
    expect(() => loadHuggingFaceFolder(sharded)).toThrow(new DataError(`${join(sharded, 'model.safetensors.index.json')}: cannot read it: is a folder`));
  });
});
