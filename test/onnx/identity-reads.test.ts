/**
 * A model's identity reads an inline model's file once, streamed by its hash: the external data pre-check walks the
 * file with positional reads (FileFields), where it read the whole file into memory to walk it (a BERT-large's
 * 1.34 GB, once more for each model a sweep plans and for a distillation's teacher).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { sha256File } from '../../src/files.ts';
import { externalDataFiles, modelSha256 } from '../../src/onnx/identity.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, readFileSync: vi.fn(fs.readFileSync) };
});

const dir = mkdtempSync(join(tmpdir(), 'identity-reads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `path` was read whole by readFileSync during `f`. */
async function readWhole(path: string, f: () => unknown): Promise<boolean> {
  vi.mocked(readFileSync).mockClear();
  await f();
  return vi.mocked(readFileSync).mock.calls.some(([file]) => file === path);
}

describe("a model's external data files", () => {
  it('of an inline model are found without reading its file whole', async () => {
    const path = join(dir, 'inline.onnx');
    saveModel(tinyBert(), path, { externalData: false });
    expect(await readWhole(path, () => expect(externalDataFiles(path)).toEqual([]))).toBe(false);
    expect(await readWhole(path, async () => expect(await modelSha256(path)).toBe(await sha256File(path)))).toBe(false);
  });

  it('of a model with external data are read from its decoded graph', async () => {
    const path = join(dir, 'external', 'model.onnx');
    saveModel(tinyBert(), path, { externalData: true });
    expect(await readWhole(path, () => expect(externalDataFiles(path)).toEqual([`${path}.data`]))).toBe(true);
  });
});
