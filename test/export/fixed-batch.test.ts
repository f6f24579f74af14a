/**
 * Models exported with static shapes (a fixed batch of 1, as for mobile and browser runtimes): compress runs its
 * sample through them at the batch and sequence length their inputs fix, where a sample of 2 rows was refused by
 * onnxruntime ("Got invalid dimensions for input") and no pass could be applied. And models whose position table
 * is shorter than the sample's 16 tokens are checked on sequences it covers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { TINY_CONFIG, tinyBert } from '../helpers/models.ts';
import { buildBert } from '../../src/bert/build.ts';

registerAllPasses();
const dir = mkdtempSync(join(tmpdir(), 'bert-compress-fixed-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny BERT whose three inputs are fixed to [batch, seq]. */
function fixedModel(batch: number, seq: number): string {
  const model = tinyBert();
  for (const input of model.graph.inputs) input.shape = [batch, seq];
  const path = join(dir, `fixed-${batch}x${seq}.onnx`);
  saveModel(model, path);
  return path;
}

describe('a model with a fixed batch size', () => {
  it('gets sample inputs of its own batch and sequence length', () => {
    const model = loadModel(fixedModel(1, 12));
    const inputs = sampleInputs(model, findBert(model), { batch: 2, seq: 16 });
    expect(inputs.map((i) => [i.name, ...i.dims])).toEqual([
      ['input_ids', 1, 12],
      ['attention_mask', 1, 12],
      ['token_type_ids', 1, 12],
    ]);
  });

  it.each([
    [1, 12],
    [3, 10],
  ])('compresses at batch %i × %i tokens, checked on that batch', async (batch, seq) => {
    const out = join(dir, `out-${batch}`, 'model.onnx');
    const lineage = await compressFile({ input: fixedModel(batch, seq), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect([lineage.check.batch, lineage.check.seq]).toEqual([batch, seq]);
    expect(loadModel(out).graph.inputs.map((i) => i.shape)).toEqual(Array(3).fill([batch, seq]));
  });
});

describe('a model whose position table is shorter than the sample', () => {
  it.each([
    ['BERT, 8 positions', 'bert' as const, 8],
    ['RoBERTa, 10 positions (8 after padding_idx)', 'roberta' as const, 8],
  ])('%s: compress checks it on sequences the table covers, where the position lookup failed in onnxruntime', async (_, family, seq) => {
    const config = { ...TINY_CONFIG, maxPositions: seq + (family === 'roberta' ? 2 : 0), family };
    const input = join(dir, `positions-${config.maxPositions}.onnx`);
    saveModel(buildBert(config, { kind: 'random', seed: 1 }), input);
    const model = loadModel(input);
    expect(sampleInputs(model, findBert(model), { batch: 2, seq: 16 })[0]!.dims).toEqual([2, seq]);
    const lineage = await compressFile({
      input,
      output: join(dir, `positions-out-${config.maxPositions}`, 'model.onnx'),
      steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }],
    });
    expect([lineage.check.batch, lineage.check.seq]).toEqual([2, seq]);
  });
});
