/**
 * loadModelShapes: a model file read with its large weights' data left in the file until asked for (the file walked
 * with positional reads, never read whole), what the sweep plan reads teachers' and students' structure with: the
 * graph, the dims and the structure discovery finds equal loadModel's, each weight's data too once read.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { discovered } from '../../src/bert/model-inputs.ts';
import { loadModel, saveModel, type Model } from '../../src/onnx/index.ts';
import { loadModelShapes } from '../../src/onnx/load.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeExternalAttributeModel } from '../helpers/external-attributes.ts';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, readFileSync: vi.fn(fs.readFileSync) };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-model-shapes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A tiny BERT whose word embedding (1024 × 32 float32, 128 KiB) is past what is read with the graph. */
const model = () => tinyBert({ vocabSize: 1024 }, { seed: 4 });

/** The graph without its weights' data, the weights' data, and the structure discovery finds. */
function read(m: Model) {
  const weights = [...m.graph.initializers.values()];
  return {
    graph: { ...m.graph, initializers: weights.map((t) => [t.name, t.dataType, t.dims]) },
    data: weights.map((t) => Buffer.from(t.data).toString('base64')),
    structure: discovered(m),
  };
}

describe('loadModelShapes', () => {
  it("reads loadModel's model, structure and weights, without reading an inline model whole", () => {
    const file = join(work, 'inline.onnx');
    saveModel(model(), file, { externalData: false });
    vi.mocked(readFileSync).mockClear();
    const shapes = loadModelShapes(file);
    const structure = discovered(shapes);
    expect(vi.mocked(readFileSync).mock.calls.some(([path]) => path === file)).toBe(false);
    expect(structure).toEqual(discovered(loadModel(file)));
    expect(read(shapes)).toEqual(read(loadModel(file)));
  });

  it('reads no external weights until asked for: a model whose external data file is gone has its structure', () => {
    const file = join(work, 'external', 'model.onnx');
    saveModel(model(), file, { externalData: true });
    const expected = loadModel(file);
    expect(read(loadModelShapes(file))).toEqual(read(expected));
    rmSync(`${file}.data`);
    const shapes = loadModelShapes(file);
    expect(discovered(shapes)).toEqual(discovered(expected));
    expect(() => shapes.graph.initializers.get(discovered(expected)!.embeddings.word.weight)!.data).toThrow(/external data file 'model.onnx.data' is missing/);
  });

  it("reads loadModel's model of one whose Constant node's value and subgraph's initializer are in external data", () => {
    const file = writeExternalAttributeModel(join(work, 'attributes'));
    expect(read(loadModelShapes(file))).toEqual(read(loadModel(file)));
  });

  it.skipIf(!hasFixtures)('reads what loadModel reads of every exporter fixture', () => {
    const files = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => join(FIXTURES, f));
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(read(loadModelShapes(file)), file).toEqual(read(loadModel(file)));
  });
});
