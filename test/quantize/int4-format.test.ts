/**
 * int4-block reads format only where it writes a dynamic int8 node (an MLM decoder reading the int8 word table): on
 * any other model format standard is refused in one line naming the flag, as the settings refuse a setting a mode
 * never reads, where it was taken, did nothing and was recorded in the lineage as applied.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { loadModel } from '../../src/onnx/index.ts';
import type { TensorRecord } from '../../src/quantize/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';
import { quantize } from './helpers.ts';

const REFUSAL =
  "quantize int4-block:16: format 'standard': sets the dynamic int8 nodes, which this mode writes only for an MLM decoder reading the int8 word table, and it writes none in this model (flag --quantize-format)";

describe('int4-block with format standard', () => {
  it('is refused on a model without a tied MLM decoder, naming the flag', async () => {
    const model = tinyBert({}, { std: 0.2 });
    const s = findBert(model);
    const run = quantize(model, s, { mode: 'int4-block:16', format: 'standard' });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(quantize(model, s, { mode: 'int4-block:16', format: 'standard' })).rejects.toThrow(REFUSAL);
    await expect(quantize(model, s, { mode: 'int4-block:16' })).resolves.toBeDefined();
  });

  it.skipIf(!hasFixtures)('is taken where a tied MLM decoder reads the int8 word table, and refused when that table stays float', async () => {
    const model = loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const s = findBert(model);
    const { report } = await quantize(model, s, { mode: 'int4-block:16', format: 'standard' });
    const ops = (report.details as { quantized: TensorRecord[] }).quantized.map((r) => r.op);
    expect(ops).toContain('MatMulInteger');
    await expect(quantize(model, s, { mode: 'int4-block:16', format: 'standard', embeddings: false })).rejects.toThrow(REFUSAL);
  });
});
