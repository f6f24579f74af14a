/**
 * compress's onnxruntime check reads non-finite outputs: an input model that computes NaN or Infinity on the check's
 * sample inputs is refused in one line before anything is written (no drift can be told from it, and every model
 * compressed from it computes the same), and an output that computes them where the input's are finite (the passes
 * broke it) is refused so, where both were written with a 'max |output drift| logits NaN' check.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { ModelLoadError, UserError } from '../../src/errors.ts';
import { nonFiniteOutput, requireFiniteOutput } from '../../src/export/check.ts';
import { compressFile } from '../../src/export/compress.ts';
import { readFloat32, saveModel } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-non-finite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny BERT of 2 layers whose layer 0 attention query weight holds `bad` at index 5, saved in its own folder. */
function brokenModel(name: string, bad: number): string {
  const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
  const weight = findBert(model).layers[0]!.attention!.q!.weight;
  const values = readFloat32(model.graph.initializers.get(weight)!).slice();
  values[5] = bad;
  model.graph.initializers.set(weight, float32Tensor(weight, model.graph.initializers.get(weight)!.dims, values));
  const dir = join(root, name);
  mkdirSync(dir);
  saveModel(model, join(dir, 'model.onnx'));
  return join(dir, 'model.onnx');
}

describe("compress's check of non-finite outputs", () => {
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses an input model computing %s before writing anything (prune-ffn, drop-layers, share-layers)', async (name, bad) => {
    const input = brokenModel(name, bad);
    for (const step of [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'drop-layers', settings: { layers: [1] } },
      { pass: 'share-layers', settings: { share: 'all' } },
    ]) {
      const output = join(root, `${name}-${step.pass}`, 'model.onnx');
      const run = compressFile({ input, output, steps: [step] });
      await expect(run).rejects.toThrow(ModelLoadError);
      await expect(compressFile({ input, output, steps: [step] })).rejects.toThrow(
        new RegExp(
          `^${input.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the model computes \\d+ non-finite values? \\(NaN or Infinity; the first (NaN|-?Infinity)\\) at its output 'logits' on the check's sample inputs \\(batch 2 of 16 tokens\\), before any pass: fix or retrain it before compressing it$`,
        ),
      );
      expect(existsSync(join(root, `${name}-${step.pass}`)), step.pass).toBe(false);
    }
  });

  it('refuses an output computing non-finite values where the input computes finite ones, in one line', () => {
    const inputs = sampleInputs(tinyBert(), undefined, { batch: 2, seq: 16 });
    expect(() => requireFiniteOutput({ logits: Float32Array.of(0.5, -1) }, inputs, '-o out.onnx')).not.toThrow();
    expect(() => requireFiniteOutput({ logits: Float32Array.of(0.5, Number.NaN, Number.NaN, Number.NEGATIVE_INFINITY) }, inputs, '-o out.onnx')).toThrow(
      new UserError(
        "-o out.onnx: the compressed model computes 3 non-finite values (NaN or Infinity; the first NaN) at its output 'logits' on the check's sample inputs (batch 2 of 16 tokens), where the input model computes finite values: the passes broke it; nothing written",
      ),
    );
    // an output's name as every refusal quotes a value (quotedText), where a hand '${x}' showed 'it's'
    expect(() => requireFiniteOutput({ "it's": Float32Array.of(Number.NaN) }, inputs, '-o out.onnx')).toThrow(
      new UserError(
        "-o out.onnx: the compressed model computes 1 non-finite value (NaN or Infinity; the first NaN) at its output 'it'\\''s' on the check's sample inputs (batch 2 of 16 tokens), where the input model computes finite values: the passes broke it; nothing written",
      ),
    );
    expect(nonFiniteOutput({ a: Float32Array.of(1), b: Float32Array.of(2, Number.POSITIVE_INFINITY) })).toEqual({
      output: 'b',
      count: 1,
      value: Number.POSITIVE_INFINITY,
    });
  });
});
