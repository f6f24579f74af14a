/**
 * Static int8 in QDQ format (mode int8-static): calibration is required, activation ranges come from the
 * calibration batches, per-channel weights need opset 13 (raised when every op allows it, refused clearly when not).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { encodeModel, loadModel, opsetVersion, readFloat32, type Model } from '../../src/onnx/index.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import type { CalibrationBatch, CalibrationSource } from '../../src/pass/pass.ts';
import { findBert } from '../../src/bert/discover.ts';
import { ModelLoadError, SettingsError } from '../../src/errors.ts';
import type { TensorRecord } from '../../src/quantize/index.ts';
import { opsetRaiseBlocker } from '../../src/quantize/opset.ts';
import { activationQuantParams, addInPasses, RangeCollector } from '../../src/quantize/calibrate.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';
import { expectWeightsReadBack, overflowingModel, quantize, relativeDiff, syntheticCalibration } from './helpers.ts';

/** The same examples one per batch: no padding at all. */
function onePerBatch(calibration: CalibrationSource): CalibrationSource {
  return {
    task: calibration.task,
    batches: calibration.batches.flatMap((b) =>
      Array.from({ length: b.batch }, (_, i): CalibrationBatch => {
        const row = (a: BigInt64Array) => a.subarray(i * b.seq, (i + 1) * b.seq);
        const len = row(b.attentionMask).filter((m) => m !== 0n).length;
        return {
          inputIds: row(b.inputIds).slice(0, len),
          attentionMask: row(b.attentionMask).slice(0, len),
          tokenTypeIds: row(b.tokenTypeIds).slice(0, len),
          batch: 1,
          seq: len,
          labels: b.labels.slice(i, i + 1),
          regression: false,
        };
      }),
    ),
  };
}

describe('quantize int8-static', () => {
  const model = tinyBert({}, { std: 0.1, seed: 3 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);
  const calibration = syntheticCalibration(128, 2);
  let ref: Record<string, Float32Array>;
  beforeAll(async () => {
    ref = await outputsOf(model, feeds);
  });

  it('leaves the padding positions out of the activation ranges, and writes the same model twice from the same data', async () => {
    // a padding id whose embedding is a spike: the padding positions compute values far outside the real tokens'
    const spiked = cloneModel(model);
    const table = spiked.graph.initializers.get(s.embeddings.word.weight)!;
    const rows = readFloat32(table).slice();
    const width = table.dims[1];
    rows.fill(0, 0, width);
    rows[0] = 1000;
    spiked.graph.initializers.set(table.name, float32Tensor(table.name, table.dims, rows));
    const unpadded = onePerBatch(calibration);
    const scales = (q: Model) => q.graph.nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => readFloat32(q.graph.initializers.get(n.inputs[1])!)[0]);
    const padded = (await quantize(spiked, s, { mode: 'int8-static' }, calibration)).model;
    const alone = (await quantize(spiked, s, { mode: 'int8-static' }, unpadded)).model;
    const [a, b] = [scales(padded), scales(alone)];
    expect(a).toHaveLength(4 * s.numLayers + 2);
    for (const [i, x] of a.entries()) expect(Math.abs(x - b[i]) / b[i], `activation scale ${i}`).toBeLessThan(1e-4);
    for (const settings of [
      { mode: 'int8-static' },
      { mode: 'int8-static', calibration: 'percentile:99.9' },
      { mode: 'int8-static', calibration: 'entropy' },
    ]) {
      const once = encodeModel((await quantize(model, s, settings, calibration)).model);
      expect(encodeModel((await quantize(model, s, settings, calibration)).model)).toEqual(once);
    }
  });

  it('ranges the pooler and head inputs ([batch, hidden]) over every value when the hidden size equals the sequence length', async () => {
    // every batch padded to 32 tokens, the hidden size: the per-example inputs must not read as tokens with padding
    const long = syntheticCalibration(128, 2, 3, 11, s.hiddenSize);
    expect(long.batches.every((b) => b.seq === s.hiddenSize && b.attentionMask.includes(0n))).toBe(true);
    const ranges = async (c: CalibrationSource) =>
      ((await quantize(model, s, { mode: 'int8-static' }, c)).report.details as { activationRanges: Record<string, [number, number]> }).activationRanges;
    const [padded, alone] = [await ranges(long), await ranges(onePerBatch(long))];
    for (const lin of [s.pooler!.dense, s.head!.linears[0]]) {
      const x = model.graph.nodes.find((n) => n.name === lin.node)!.inputs[0];
      for (const k of [0, 1]) expect(Math.abs(padded[x][k] - alone[x][k]), `${lin.node} input ${k ? 'max' : 'min'}`).toBeLessThan(1e-4 * Math.abs(alone[x][k]));
    }
  });

  it('entropy ranges lie within the min/max of the same real tokens, and 2048 bins clip some', async () => {
    const ranges = async (method: string) => {
      const { report } = await quantize(model, s, { mode: 'int8-static', calibration: method }, calibration);
      expect(report.settings).toMatchObject({ calibration: method === 'entropy' ? 'entropy:128' : method });
      return (report.details as { activationRanges: Record<string, [number, number]> }).activationRanges;
    };
    const minmax = await ranges('minmax');
    let narrower = 0;
    for (const method of ['entropy', 'entropy:2048']) {
      const entropy = await ranges(method);
      expect(Object.keys(entropy).sort()).toEqual(Object.keys(minmax).sort());
      for (const [v, [lo, hi]] of Object.entries(entropy)) {
        expect(lo, `${method} ${v}`).toBeGreaterThanOrEqual(minmax[v][0]);
        expect(hi, `${method} ${v}`).toBeLessThanOrEqual(minmax[v][1]);
        expect(hi, `${method} ${v}`).toBeGreaterThan(lo);
        if (method === 'entropy:2048' && (lo > minmax[v][0] || hi < minmax[v][1])) narrower++;
      }
    }
    expect(narrower).toBeGreaterThan(0);
  });

  it('refuses an activation the float model computes NaN or Infinity for on the calibration examples, in one line (with each method, its count once)', async () => {
    // layer 1's FFN input weights at ±3e38: their products overflow, GELU gives ±Infinity and NaN
    const overflowing = overflowingModel(model, s);
    const counts = new Set<string>();
    for (const calibrationMethod of ['minmax', 'entropy:2048']) {
      const run = quantize(overflowing, s, { mode: 'int8-static', calibration: calibrationMethod }, calibration);
      await expect(run).rejects.toThrow(ModelLoadError);
      const message = await run.then(
        () => '',
        (e: Error) => e.message,
      );
      expect(message).toMatch(
        /^quantize int8-static: the float model computes (\d+) non-finite values \(NaN or Infinity; the first -?Infinity\) at '[^']*layer\.1\/intermediate[^']*' on the 3 calibration batches: no activation range covers them; fix or retrain the model before quantizing it$/,
      );
      counts.add(message.match(/computes (\d+)/)![1]);
    }
    expect(counts.size).toBe(1);
  });

  it('needs calibration data', async () => {
    await expect(quantize(model, s, { mode: 'int8-static' })).rejects.toThrow(SettingsError);
    await expect(quantize(model, s, { mode: 'int8-static' })).rejects.toThrow(
      'quantize int8-static: activation ranges need calibration data (--calibrate TASK)',
    );
  });

  it.each([
    [{ mode: 'int8-static' }, 0.1],
    [{ mode: 'int8-static', perChannel: false }, 0.15],
    [{ mode: 'int8-static', calibration: 'percentile:99.9' }, 0.15],
    [{ mode: 'int8-static', calibration: 'entropy' }, 0.1],
    [{ mode: 'int8-static', calibration: 'entropy:2048' }, 0.15],
  ])('%j: QDQ pairs around every projection, runs in onnxruntime close to fp32', async (settings, tolerance) => {
    const { model: q, report } = await quantize(model, s, settings, calibration);
    const ops = q.graph.nodes.map((n) => n.opType);
    // one Q/DQ pair per distinct projection input: (x → Q,K,V), context, FFN in, FFN out per layer, plus pooler and head
    expect(ops.filter((o) => o === 'QuantizeLinear')).toHaveLength(4 * s.numLayers + 2);
    const tableDq = (settings as { perChannel?: boolean }).perChannel === false ? 3 : 0; // per-tensor embedding lookups end in a DequantizeLinear
    expect(ops.filter((o) => o === 'DequantizeLinear')).toHaveLength(4 * s.numLayers + 2 + 6 * s.numLayers + 2 + tableDq);
    const d = report.details as { quantized: TensorRecord[]; activationRanges: Record<string, [number, number]> };
    expect(Object.keys(d.activationRanges)).toHaveLength(4 * s.numLayers + 2);
    for (const [lo, hi] of Object.values(d.activationRanges)) expect(hi).toBeGreaterThan(lo);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(tolerance);
    expectWeightsReadBack(model, s, q, d.quantized);
  });

  it.skipIf(!hasFixtures)('raises opset 11 to 13 for per-channel weights when the graph allows it (needs ../shared/fixtures/onnx)', async () => {
    const m = loadModel(join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx'));
    const fs = findBert(m);
    const { model: q, report } = await quantize(m, fs, { mode: 'int8-static' }, syntheticCalibration(fs.vocabSize, 2));
    expect(opsetVersion(q, '')).toBe(13);
    expect((report.details as { notes: string[] }).notes.join(' ')).toMatch(/opset raised from 11 to 13/);
    expect(q.graph.nodes.filter((n) => n.opType === 'Unsqueeze').every((n) => !n.attributes.axes && n.inputs.length === 2)).toBe(true);
    const f = sampleFeeds(m, fs, 2, 9);
    const before = await outputsOf(m, f);
    expect(relativeDiff(before, await outputsOf(q, f))).toBeLessThan(0.2);
  });

  it.skipIf(!hasFixtures)('raises a keras2onnx opset-10 graph (fixed length 7) to 13 (needs ../shared/fixtures/onnx)', async () => {
    const m = loadModel(join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const fs = findBert(m);
    const { model: q, report } = await quantize(m, fs, { mode: 'int8-static' }, syntheticCalibration(fs.vocabSize, 2, 3, 5, 7));
    expect(opsetVersion(q, '')).toBe(13);
    expect((report.details as { notes: string[] }).notes.join(' ')).toMatch(/opset raised from 10 to 13/);
    const f = sampleFeeds(m, fs, 2, 7);
    expect(relativeDiff(await outputsOf(m, f), await outputsOf(q, f))).toBeLessThan(0.2);
  });

  it.skipIf(!hasFixtures)('refuses per-channel on an opset it cannot raise, and works per tensor there (needs ../shared/fixtures/onnx)', async () => {
    const m = loadModel(join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx'));
    const fs = findBert(m);
    // A Softmax with the opset-11 default axis 1 flattens [batch, heads, seq, seq] to 2-D: not the same at opset 13.
    const odd: Model = { ...m, graph: { ...m.graph, nodes: m.graph.nodes.map((n) => (n.opType === 'Softmax' ? { ...n, attributes: {} } : n)) } };
    expect(opsetRaiseBlocker(odd, 13)).toMatch(/Softmax \(axis 1\)/);
    const cal = syntheticCalibration(fs.vocabSize, 2);
    await expect(quantize(odd, fs, { mode: 'int8-static' }, cal)).rejects.toThrow(SettingsError);
    await expect(quantize(odd, fs, { mode: 'int8-static' }, cal)).rejects.toThrow(/cannot be raised: ops Softmax \(axis 1\).*perChannel: false/);
    const { model: q } = await quantize(odd, fs, { mode: 'int8-static', perChannel: false }, cal);
    expect(opsetVersion(q, '')).toBe(11);
    const f = sampleFeeds(m, fs, 2, 9);
    expect(relativeDiff(await outputsOf(odd, f), await outputsOf(q, f))).toBeLessThan(0.2);
  });
});

describe('activation scale and zero point', () => {
  // expected values: onnxruntime's compute_scale_zp (quant_utils.py; uint8, asymmetric) run with numpy 2.4 on the
  // same float32 ends
  it("are onnxruntime's: the width in float32 over 255 in float64, the zero point from that scale, rounded half to even", () => {
    // the width 11.26113545 is not a float32: rounded before it is divided (a float64 width gives 0.04416131600737572)
    expect(activationQuantParams({ min: -0.0007756857085041702, max: 11.260359764099121 })).toEqual({ scale: 0.04416131228208542, zeroPoint: 0 });
    expect(activationQuantParams({ min: -0.22840850055217743, max: 0.1554509997367859 })).toEqual({ scale: 0.0015053314855322242, zeroPoint: 152 });
    expect(activationQuantParams({ min: -6.250954627990723, max: 8.972138404846191 })).toEqual({ scale: 0.059698402881622314, zeroPoint: 105 });
    // 1 / (2 / 255) is 127.5 in float64 (127.49999… over the float32 scale), rounded to 128
    expect(activationQuantParams({ min: -1, max: 1 })).toEqual({ scale: 0.007843137718737125, zeroPoint: 128 });
    expect(activationQuantParams({ min: -0.9921568632125854, max: 1.0078431367874146 })).toEqual({ scale: 0.007843137718737125, zeroPoint: 127 });
    // a width below float32's smallest normal: scale 1, zero point 0
    expect(activationQuantParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
    expect(activationQuantParams({ min: -1e-40, max: 1e-40 })).toEqual({ scale: 1, zeroPoint: 0 });
  });
});

describe('percentile ranges', () => {
  // expected values: onnxruntime's HistogramCollector (collect_value of all batches at once, compute_percentile with
  // CalibTensorRangeSymmetric false, num_bins 2048) run with numpy 2.4 on the same values
  const range = async (percentile: number, batches: readonly Float32Array[]) => {
    const c = new RangeCollector({ kind: 'percentile', percentile });
    await addInPasses([c], () => {
      for (const b of batches) c.addBatch([b]);
    });
    return c.range();
  };

  it("keep P% of the values, (100 - P) / 2 % cut from each end, at the lower edges of onnxruntime's 2048 bins", async () => {
    // 1000 values 0 … 999 in 2048 bins over [-999, 999]: P 90 cuts at the bins holding 49 and 949, read at their lower
    // edges; P 100 and 99.999 end at the last bin's lower edge (the share reaches 1 there), not at 999; P 30 keeps the
    // middle 30%, P 0 is the median's bin
    const values = [Float32Array.from({ length: 1000 }, (_, i) => (i * 7) % 1000)];
    expect(await range(90, values)).toEqual({ min: 48.779296875, max: 948.26953125 });
    expect(await range(30, values)).toEqual({ min: 348.2841796875, max: 648.7646484375 });
    expect(await range(0, values)).toEqual({ min: 498.5244140625, max: 498.5244140625 });
    expect(await range(100, values)).toEqual({ min: 0, max: 998.0244140625 });
    expect(await range(99.999, values)).toEqual({ min: 0, max: 998.0244140625 });
  });

  it("take a later batch reaching further into one histogram of all batches, as onnxruntime's quantize_static collects them", async () => {
    // [-1, 1], then [-2.5, 2.75] (or [-6, 6]): 2048 bins over ±2.75 (±6), not the first batch's bins widened
    const first = Float32Array.from({ length: 303 }, (_, i) => ((i * 37) % 101) / 50 - 1);
    const second = Float32Array.from({ length: 211 }, (_, i) => ((i * 53) % 211) / 40 - 2.5);
    expect(await range(99, [first, second])).toEqual({ min: -2.451904296875, max: 2.698974609375 });
    expect(await range(60, [first, second])).toEqual({ min: -0.781494140625, max: 0.837890625 });
    expect(await range(30, [second, first])).toEqual({ min: -0.38134765625, max: 0.437744140625 });
    const wider = Float32Array.from({ length: 97 }, (_, i) => ((i * 29) % 97) / 8 - 6);
    expect(await range(99, [first, wider])).toEqual({ min: -5.876953125, max: 5.87109375 });
    expect(await range(50, [first, wider])).toEqual({ min: -0.64453125, max: 0.638671875 });
  });
});
