/**
 * reduceRange (--quantize-reduce-range, onnxruntime's reduce_range): int8 projection weights lie in [-64, 64] in every
 * int8 mode (dynamic, group-wise, static QDQ, mixed, QAttention), embedding lookups keep [-127, 127] unless an MLM
 * decoder multiplies with the table (then the one table is 7-bit), the logits stay close to fp32, int4-block refuses
 * it, and without it the output is byte for byte what it was before the setting existed.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/onnx/dtype.ts';
import { encodeModel, loadModel, readNumbers, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { QUANTIZE } from '../../src/quantize/settings.ts';
import { quantizeInt8, quantizedEmbeddings, type TensorRecord } from '../../src/quantize/index.ts';
import { canonicalJson } from '../../src/sweep/key.ts';
import { tinyBert } from '../helpers/models.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';
import { lcg } from '../helpers/feeds.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { expectWeightsReadBack, quantize, relativeDiff, syntheticCalibration } from './helpers.ts';

/** The largest |q| of the int8 matrices of `q`: the embedding tables (read by a Gather) and the rest. */
function int8Range(q: Model): { tables: number; weights: number; weightCount: number } {
  const tables = new Set(quantizedEmbeddings(q).map((e) => e.table));
  const out = { tables: 0, weights: 0, weightCount: 0 };
  for (const t of q.graph.initializers.values()) {
    if (t.dataType !== DataType.INT8 || t.dims.length !== 2) continue;
    const m = readNumbers(t).reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    if (tables.has(t.name)) out.tables = Math.max(out.tables, m);
    else {
      out.weights = Math.max(out.weights, m);
      out.weightCount++;
    }
  }
  return out;
}

const sha256 = (m: Model) => createHash('sha256').update(encodeModel(m)).digest('hex');

describe('quantizeInt8 with a reduced range', () => {
  it('maps max |w| of each channel to ±64 and never leaves [-64, 64]; the default stays [-127, 127]', () => {
    const rand = lcg(5);
    const w = Float32Array.from({ length: 24 * 10 }, () => rand() * 2 - 1);
    const full = quantizeInt8(w, 24, 10, 1, { kind: 'channel' });
    const reduced = quantizeInt8(w, 24, 10, 1, { kind: 'channel' }, 64);
    expect(quantizeInt8(w, 24, 10, 1, { kind: 'channel' }, 127)).toEqual(full);
    expect(Math.max(...full.values.map(Math.abs))).toBe(127);
    expect(Math.max(...reduced.values.map(Math.abs))).toBe(64);
    for (let c = 0; c < 10; c++) {
      let m = 0;
      for (let r = 0; r < 24; r++) m = Math.max(m, Math.abs(w[r * 10 + c]));
      expect(reduced.scales[c]).toBe(Math.fround(m / 64));
    }
    // half the levels: the error bound doubles (a half step of max|w| / 64)
    expect(reduced.maxAbsError).toBeLessThanOrEqual(reduced.maxAbs / 128 + 1e-7);
    expect(() => quantizeInt8(w, 24, 10, 1, { kind: 'channel' }, 128)).toThrow(RangeError);
  });
});

describe('quantize reduceRange', () => {
  const model = tinyBert({}, { std: 0.1, seed: 3 });
  const s = findBert(model);
  const feeds = sampleFeeds(model, s, 3, 12);

  it.each([
    [{ mode: 'int8' }],
    [{ mode: 'int8', format: 'standard' }],
    [{ mode: 'int8', perChannel: false }],
    [{ mode: 'int8-group:8' }],
    [{ mode: 'int8-static' }],
    [{ mode: 'mixed:0.5' }],
  ])('%o: projection weights in [-64, 64], tables in [-127, 127], logits close to fp32', async (settings) => {
    const calibration = settings.mode === 'int8-static' || settings.mode.startsWith('mixed') ? syntheticCalibration(128, 2, 4) : undefined;
    const { model: q, report } = await quantize(model, s, { ...settings, reduceRange: true }, calibration);
    const range = int8Range(q);
    expect(range.weightCount).toBe(6 * s.numLayers + 2);
    expect(range.weights).toBe(64);
    expect(range.tables).toBe(127);
    const d = report.details as { quantized: TensorRecord[] };
    for (const r of d.quantized) {
      expect(r.scheme).toMatch(r.op === 'Gather' ? /^int8 per-(row|tensor)$/ : /reduced-range$/);
      if (r.op !== 'Gather') expect(r.maxAbsError).toBeLessThanOrEqual(r.maxAbs / 128 + 1e-7);
    }
    expect(report.settings).toMatchObject({ reduceRange: true });
    expectWeightsReadBack(model, s, q, d.quantized);
    const ref = await outputsOf(model, feeds);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.05);
    // the same settings without it use the full range
    const { model: full } = await quantize(model, s, settings, calibration);
    expect(int8Range(full).weights).toBe(127);
  });

  it('without it (default or false) writes the bytes it wrote before the setting existed, and keeps the canonical settings', async () => {
    // the sha256 of this output before reduceRange existed: a change here changes stored results (bump the version)
    const before = 'f404ae9b16e89761291d9e334bfe895034d56ab45b987b4c909c65153f8e9fc7';
    expect(sha256((await quantize(model, s, { mode: 'int8' })).model)).toBe(before);
    expect(sha256((await quantize(model, s, { mode: 'int8', reduceRange: false })).model)).toBe(before);
    // sweep keys and lineage hash the canonical settings: false reads as absent, so stored quantize points keep their keys
    const canonical = canonicalJson(QUANTIZE.check({ mode: 'int8', reduceRange: false }));
    expect(canonical).toBe(
      '{"attention":true,"calibration":"minmax","embeddings":true,"format":"contrib","mixedBlockSize":32,"mode":"int8","perChannel":true,"symmetric":true}',
    );
    expect(QUANTIZE.check({ mode: 'int8', reduceRange: 'true' })).toMatchObject({ reduceRange: true });
    expect((await quantize(model, s, { mode: 'int8' })).report.settings).not.toHaveProperty('reduceRange');
  });

  it('is refused with int4-block, which stores no int8 projection, in one line naming the flag', () => {
    const run = () => QUANTIZE.check({ mode: 'int4-block:32', reduceRange: true });
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(
      'quantize int4-block:32: reduceRange true: applies to int8 weights; mode int4-block:32 stores its projections in 4 bits (MatMulNBits) (flag --quantize-reduce-range)',
    );
    expect(() => QUANTIZE.check({ mode: 'int4-block:32', reduceRange: false })).not.toThrow();
  });
});

describe.skipIf(!hasFixtures)('reduceRange on the exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  it.each([[{ mode: 'int8' }], [{ mode: 'int8', perChannel: false }], [{ mode: 'int8-static' }]])(
    'a word table tied to an MLM decoder is stored once, in 7 bits, and read by the decoder (%o)',
    async (settings) => {
      const model = loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
      const s = findBert(model);
      const calibration = settings.mode === 'int8-static' ? syntheticCalibration(99, 2, 6, 11, 7) : undefined;
      const { model: q, report } = await quantize(model, s, { ...settings, reduceRange: true }, calibration);
      const tables = [...q.graph.initializers.values()].filter((t) => t.dims.length === 2 && t.dims[0] * t.dims[1] === 99 * 32);
      expect(tables).toHaveLength(1);
      const stored = tables[0]!;
      expect(stored.dataType).toBe(DataType.INT8);
      expect(q.graph.nodes.some((n) => n.opType === 'Transpose' && n.inputs[0] === stored.name)).toBe(true);
      const range = int8Range(q);
      expect(range.weights).toBe(64);
      expect(Math.max(...readNumbers(stored).map(Math.abs))).toBe(64);
      // the position and token-type tables, read by lookups only, keep the full range
      const others = quantizedEmbeddings(q).filter((e) => e.table !== stored.name);
      expect(others.length).toBeGreaterThan(0);
      for (const e of others) expect(Math.max(...readNumbers(q.graph.initializers.get(e.table)!).map(Math.abs))).toBe(127);
      const d = report.details as { quantized: TensorRecord[]; notes: string[] };
      expect(d.notes.join('\n')).toMatch(/embeddings\.word: stored in 7 bits \(\[-64, 64\], reduceRange\) because head\.\S+ reads it too \(tied\)/);
      expectWeightsReadBack(model, s, q, d.quantized);
      const feeds = sampleFeeds(model, s, 2, 7);
      expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(0.05);
      // without it, the table keeps the full range and is still stored once
      const full = await quantize(model, s, settings, calibration);
      // (the sha256 of the default int8 output before reduceRange existed)
      if (canonicalJson(settings) === canonicalJson({ mode: 'int8' }))
        expect(sha256(full.model)).toBe('f8f88d9af16394ce3be48185be335c792c521573e6dc17b9db932843860c5edb');
      expect([...full.model.graph.initializers.values()].filter((t) => t.dims.length === 2 && t.dims[0] * t.dims[1] === 99 * 32)).toHaveLength(1);
      expect(int8Range(full.model).tables).toBe(127);
    },
  );

  it('QAttention of a fused model gets a 7-bit packed weight', async () => {
    const model = loadModel(fixture('bert-toy-pretraining-ort-fused.onnx'));
    const s = findBert(model);
    const { model: q } = await quantize(model, s, { mode: 'int8', reduceRange: true });
    const qa = q.graph.nodes.filter((n) => n.opType === 'QAttention');
    expect(qa).toHaveLength(s.numLayers);
    for (const n of qa) expect(Math.max(...readNumbers(q.graph.initializers.get(n.inputs[1])!).map(Math.abs))).toBe(64);
    const feeds = sampleFeeds(model, s, 2, 7);
    expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(0.05);
  });
});
