/**
 * The onnxruntime check after a compress: a float16 model's outputs are compared as numbers, not as the 16-bit
 * patterns onnxruntime hands over (which made every float16 output print a drift in the hundreds or thousands).
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { checkRuns, runSample } from '../../src/export/check.ts';
import { encodeModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { toFloat16 } from '../helpers/float16.ts';

describe('checkRuns on float16 models', () => {
  const model32 = tinyBert({}, { std: 0.2 });
  const model16 = toFloat16(model32);
  const inputs = sampleInputs(model32, findBert(model32), { batch: 2, seq: 16 });

  it('reads float16 outputs as their values', async () => {
    const [a, b] = await Promise.all([runSample(encodeModel(model32), inputs, 'a'), runSample(encodeModel(model16), inputs, 'b')]);
    const top = Math.max(...a.logits!.map(Math.abs));
    expect(top).toBeGreaterThan(0.01);
    for (let i = 0; i < a.logits!.length; i++) expect(Math.abs(a.logits![i]! - b.logits![i]!)).toBeLessThan(0.02 * top);
  });

  it('reports a float16 rewrite of a float32 model as drifting by float16 rounding', async () => {
    const { drift } = await checkRuns(encodeModel(model32), encodeModel(model16), inputs);
    expect(drift.map((d) => d.output)).toEqual(['logits']);
    expect(drift[0]!.maxAbsDiff).toBeLessThan(0.05);
  });
});
