/**
 * Raising the default opset to 13 (for per-axis DequantizeLinear) on the exporter fixtures below 13: attributes that
 * became inputs are converted and the raised model computes exactly what the original did.
 */
import { describe, expect, it } from 'vitest';
import { loadModel, opsetVersion, validateModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { GraphEditor } from '../../src/quantize/graph-edit.ts';
import { opsetRaiseBlocker, raiseOpset } from '../../src/quantize/opset.ts';
import { FIXTURE_MODELS, fixture, hasFixtures } from '../helpers/paths.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { quantize, relativeDiff, syntheticCalibration } from './helpers.ts';

describe.skipIf(!hasFixtures)('raising the opset to 13 (needs ../shared/fixtures/onnx)', () => {
  const old = FIXTURE_MODELS.filter((f) => (opsetVersion(loadModel(fixture(f.file)), '') ?? 0) < 13);

  it.each(old.map((f) => [f.file]))('%s computes the same at opset 13', async (file) => {
    const model = loadModel(fixture(file));
    const s = findBert(model);
    const softmax = new Set(s.layers.map((l) => l.attention!.softmax).filter((n): n is string => !!n));
    expect(opsetRaiseBlocker(model, 13, softmax)).toBeUndefined();
    const edit = new GraphEditor(model);
    const r = raiseOpset(edit, 13);
    expect(r.to).toBe(13);
    expect(opsetVersion(edit.model, '')).toBe(13);
    expect(opsetVersion(model, '')).toBe(r.from);
    expect(validateModel(edit.model)).toEqual([]);
    for (const n of edit.model.graph.nodes) {
      if (['Squeeze', 'Unsqueeze', 'ReduceSum'].includes(n.opType)) expect(n.attributes.axes).toBeUndefined();
      if (n.opType === 'Split') expect(n.attributes.split).toBeUndefined();
    }
    const feeds = sampleFeeds(model, s, 2, 7);
    expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(edit.model, feeds))).toBeLessThan(1e-6);
  });

  it('names what blocks the raise', () => {
    const model = loadModel(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    // Without knowing which Softmax is the rank-4 attention one, axis 3 is not provably the last axis.
    expect(opsetRaiseBlocker(model, 13)).toMatch(/Softmax \(axis 3\) change meaning between opset 10 and 13/);
  });
});

describe.skipIf(!hasFixtures)('quantize format standard below opset 11 (needs ../shared/fixtures/onnx)', () => {
  const file = 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx';

  it('raises the opset to 11 and writes ONNX ops only, instead of falling back to com.microsoft ones', async () => {
    const model = loadModel(fixture(file));
    const s = findBert(model);
    const { model: q, report } = await quantize(model, s, { mode: 'int8', format: 'standard' });
    expect(opsetVersion(q, '')).toBe(11);
    expect(q.graph.nodes.filter((n) => n.domain === 'com.microsoft').map((n) => n.opType)).toEqual([]);
    expect(q.graph.nodes.some((n) => n.opType === 'MatMulInteger')).toBe(true);
    // raised to 11, not 13: Squeeze / Unsqueeze keep their axes attribute
    const squeezes = q.graph.nodes.filter((n) => n.opType === 'Unsqueeze' || n.opType === 'Squeeze');
    for (const n of squeezes) expect(n.inputs).toHaveLength(1);
    expect((report.details as { notes: string[] }).notes).toContain('opset raised from 10 to 11 for format standard (DynamicQuantizeLinear)');
    expect(validateModel(q)).toEqual([]);
    const feeds = sampleFeeds(model, s, 2, 7);
    expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(0.05);
  });

  it('mixed precision raises the opset the same way: its int8 layers are ONNX ops, only MatMulNBits is com.microsoft', async () => {
    const model = loadModel(fixture(file));
    const s = findBert(model);
    const calibration = syntheticCalibration(s.vocabSize, 2, 3, 11, 7); // the graph takes 7 tokens exactly
    const { model: q, report } = await quantize(model, s, { mode: 'mixed:0.5', format: 'standard', mixedBlockSize: 16 }, calibration);
    const d = report.details as { notes: string[]; layers: Array<{ bits: number }> };
    expect(d.layers.some((l) => l.bits === 8)).toBe(true);
    expect(opsetVersion(q, '')).toBe(11);
    expect(new Set(q.graph.nodes.filter((n) => n.domain === 'com.microsoft').map((n) => n.opType))).toEqual(
      new Set(d.layers.some((l) => l.bits === 4) ? ['MatMulNBits'] : []),
    );
    expect(q.graph.nodes.some((n) => n.opType === 'DynamicQuantizeLinear')).toBe(true);
    expect(d.notes).toContain('opset raised from 10 to 11 for format standard (DynamicQuantizeLinear)');
    expect(d.notes.join('\n')).not.toMatch(/contrib ops/);
    expect(validateModel(q)).toEqual([]);
    const feeds = sampleFeeds(model, s, 2, 7);
    expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(0.3);
  });

  it('is refused in one line when an op would change meaning at opset 11', async () => {
    const model = loadModel(fixture(file));
    const s = findBert(model);
    const x = s.layers[0]!.attention!.softmax!;
    model.graph.nodes.push({
      name: 'extra_clip',
      opType: 'Clip',
      domain: '',
      inputs: [model.graph.nodes.find((n) => n.name === x)!.outputs[0]!],
      outputs: ['clipped'],
      attributes: {},
    });
    await expect(quantize(model, s, { mode: 'int8', format: 'standard' })).rejects.toThrow(
      /^quantize int8: format standard needs opset 11 \(DynamicQuantizeLinear\), the model has 10, and it cannot be raised: ops Clip change meaning between opset 10 and 11 \(format contrib runs at opset 10\)$/,
    );
    await expect(quantize(model, s, { mode: 'mixed:0.5', format: 'standard' }, syntheticCalibration(s.vocabSize, 2, 3, 11, 7))).rejects.toThrow(
      /^quantize mixed:0\.5: format standard needs opset 11 \(DynamicQuantizeLinear\), the model has 10, and it cannot be raised: ops Clip change meaning between opset 10 and 11 \(format contrib runs at opset 10\)$/,
    );
  });
});
