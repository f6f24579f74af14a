/**
 * graphOpTypes: the operator types of a model file's main graph, read from its nodes alone (the file walked with
 * positional reads, never read whole: an inline model's weights are skipped), equal to what loadModel reads.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { graphOpTypes } from '../../src/onnx/load.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, readFileSync: vi.fn(fs.readFileSync) };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-graph-op-types-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const loaded = (path: string) => new Set(loadModel(path).graph.nodes.map((n) => n.opType));

describe('graphOpTypes', () => {
  it('reads the operator types loadModel reads, without reading an inline model whole', () => {
    const file = join(work, 'inline.onnx');
    saveModel(tinyBert(), file, { externalData: false });
    const expected = loaded(file);
    vi.mocked(readFileSync).mockClear();
    expect(graphOpTypes(file)).toEqual(expected);
    expect(vi.mocked(readFileSync).mock.calls.some(([path]) => path === file)).toBe(false);
    expect(expected.has('MatMul')).toBe(true);
  });

  it('reads no weights: a model whose external data file is gone', () => {
    const file = join(work, 'external', 'model.onnx');
    saveModel(tinyBert(), file, { externalData: true });
    const expected = loaded(file);
    rmSync(`${file}.data`);
    expect(graphOpTypes(file)).toEqual(expected);
  });

  it.skipIf(!hasFixtures)('reads what loadModel reads of every exporter fixture', () => {
    const files = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => join(FIXTURES, f));
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(graphOpTypes(file), file).toEqual(loaded(file));
  });
});
