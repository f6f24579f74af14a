/** compressFile stages the output beside its destination, checks it there, then moves it into place. */
import { describe, expect, it, afterAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeTinyBert } from '../helpers/models.ts';

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
afterAll(() => tiny.cleanup());

describe('compressFile', () => {
  it('with external data: model and data file at their final names, checked, nothing staged left behind', async () => {
    const out = join(tiny.dir, 'out', 'small.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], externalData: true });
    expect(lineage.output.dataFile).toBe(join(tiny.dir, 'out', 'small.onnx.data'));
    expect(readdirSync(join(tiny.dir, 'out')).sort()).toEqual(['small.onnx', 'small.onnx.data', 'small.onnx.json']);
    expect(lineage.check.drift[0].maxAbsDiff).toBeGreaterThan(0);
    expect(findBert(loadModel(out)).layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
  });

  it('a pass with no effect drifts by less than 1e-5', async () => {
    const out = join(tiny.dir, 'noop.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'prune-heads', settings: { ratio: 0 } }] });
    expect(lineage.check.drift.every((d) => d.maxAbsDiff < 1e-5)).toBe(true);
    expect(readdirSync(tiny.dir).filter((f) => f.startsWith('.compress-'))).toEqual([]);
  });
});
