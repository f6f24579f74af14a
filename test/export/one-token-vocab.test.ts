/**
 * A model whose word table has one row (vocab_size 1: id 0 only) is checked after compress on ids it can look up,
 * where the sample inputs drew ids from 1 up and compress said onnxruntime cannot run the model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeTinyBert } from '../helpers/models.ts';

registerAllPasses();
const tiny = writeTinyBert({ vocabSize: 1, hiddenSize: 8, numHeads: 1, intermediateSize: 8, numLayers: 1 }, { std: 0.1 });
afterAll(() => tiny.cleanup());

describe('a one-row word table', () => {
  it('is sampled with id 0 and compressed, checked by onnxruntime', async () => {
    const s = findBert(tiny.model);
    const ids = sampleInputs(tiny.model, s, { batch: 2, seq: 6 }).find((i) => i.name === s.inputs.inputIds)!;
    expect(new Set(Array.from(ids.values, Number))).toEqual(new Set([0]));
    const lineage = await compressFile({ input: tiny.path, output: `${tiny.dir}/q.onnx`, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(lineage.check.drift[0].maxAbsDiff).toBeGreaterThan(0);
  });
});
