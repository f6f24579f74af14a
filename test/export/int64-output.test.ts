/**
 * A model with an int64 graph output (an ArgMax of the logits that gives the predicted class, as some exports add)
 * is run and checked after compress: its int64 output is read as numbers, where runSample threw 'Cannot convert a
 * BigInt value to a number' and compress said onnxruntime cannot run the model.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { checkRuns, runSample } from '../../src/export/check.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { cloneModel, encodeModel, type Model } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

/** `model` with a second output 'label': the ArgMax of its logits over the classes, int64 [batch]. */
function withLabel(model: Model): Model {
  const m = cloneModel(model);
  m.graph.nodes.push({
    name: 'label_argmax',
    opType: 'ArgMax',
    domain: '',
    inputs: ['logits'],
    outputs: ['label'],
    attributes: { axis: { type: 'int', value: 1 }, keepdims: { type: 'int', value: 0 } },
  });
  m.graph.outputs.push({ name: 'label', elemType: DataType.INT64, shape: ['batch'] });
  return m;
}

describe('an int64 graph output', () => {
  const model = tinyBert({}, { std: 0.3 });
  const labelled = withLabel(model);
  const inputs = sampleInputs(model, findBert(model), { batch: 2, seq: 16 });

  it('is read as its values', async () => {
    const out = await runSample(encodeModel(labelled), inputs, 'labelled');
    const logits = out.logits!;
    expect(Array.from(out.label!)).toEqual([0, 1].map((r) => (logits[2 * r]! >= logits[2 * r + 1]! ? 0 : 1)));
  });

  it('has its drift checked as every output does', async () => {
    const { drift } = await checkRuns(encodeModel(labelled), encodeModel(labelled), inputs);
    expect(drift).toEqual([
      { output: 'logits', maxAbsDiff: 0 },
      { output: 'label', maxAbsDiff: 0 },
    ]);
  });
});
