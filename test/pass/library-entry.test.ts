/**
 * The library as the README's "Library" section shows it: `runPipeline` and `compressFile` imported from the
 * package's entry points run the built-in passes by name, with no registration call first. This file imports
 * nothing that registers the passes itself (each test file runs in a module graph of its own).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compressFile, findBert, loadModel, runPipeline } from '../../src/index.ts';
import { ALL_PASSES, passNames } from '../../src/pass/index.ts';
import { writeTinyBert } from '../helpers/models.ts';

const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
afterAll(() => tiny.cleanup());

describe('the library entry points', () => {
  it('know every built-in pass on import', () => {
    expect(passNames()).toEqual(ALL_PASSES.map((p) => p.name).sort());
  });

  it('runPipeline runs a built-in pass by name', async () => {
    const result = await runPipeline(tiny.model, [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]);
    expect(result.structure.layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
    expect(result.steps.map((s) => s.pass)).toEqual(['prune-ffn']);
  });

  it('compressFile writes the model a built-in pass makes', async () => {
    const out = join(tiny.dir, 'out', 'model.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'drop-layers', settings: { layers: [1] } }] });
    expect(lineage.passes.map((p) => p.step.pass)).toEqual(['drop-layers']);
    expect(findBert(loadModel(out)).layers).toHaveLength(1);
  });
});
