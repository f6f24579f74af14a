/**
 * A sweep's model stored quantized (int8 dynamic, int4 blocks) or in float16 (a transformers.js folder's
 * model_quantized.onnx or model_fp16.onnx): the plan asks each pass step on it whether it would refuse the model
 * (Pass.checkModel, on the graph read without weight values) and refuses the pipeline before any point runs, in the
 * pass's own words after the file, the pipeline, the model and the step, where --dry-run listed the point and it
 * failed when it ran. Passes that rewrite such a model (drop-layers, optimize; every pass on float16 but quantize)
 * plan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'quantized-plan-'));
  writeModelFolder(join(root, 'models', 'tiny'), tinyBert());
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  registerAllPasses();
  for (const [folder, mode] of [
    ['int8', 'int8'],
    ['int4', 'int4-block:16'],
    ['fp16', 'float16'],
  ]) {
    const input = join(root, 'models', 'tiny', 'model.onnx');
    await compressFile({ input, output: join(root, 'models', folder!, 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode } }] });
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const on = (model: string, steps: unknown[]) => planRefusal(root, 'q', [model], 'p', steps);
const step = (pass: string, settings: Record<string, unknown> = {}) => ({ pass, settings });
const at = (model: string, i: number, pass: string) => `${join(root, 'q.yaml')}: pipeline 'p' on model '${model}', step ${i} (${pass}): `;

describe("a sweep's plan asks each pass about a model stored quantized or in float16", () => {
  it('refuses the passes that rewrite float weights on an int8 or int4 model, as the point would', async () => {
    expect(await on('int8', [step('prune-ffn', { ratio: 0.5 })])).toBe(
      `${at('int8', 1, 'prune-ffn')}prune-ffn: layer 0's feed-forward weights are quantized (dynamic-int8, 8-bit) and cannot be sliced; prune FFN neurons before quantizing`,
    );
    expect(await on('int4', [step('prune-heads', { heads: '0:0' })])).toBe(
      `${at('int4', 1, 'prune-heads')}prune-heads: layer 0's attention weights are quantized (matmul-nbits, 4-bit) and cannot be sliced; prune heads before quantizing`,
    );
    expect(await on('int8', [step('share-layers')])).toBe(
      `${at('int8', 1, 'share-layers')}share-layers: attention.q.weight of layer 0 is int8; share layers before quantizing`,
    );
    expect(await on('int4', [step('factorize-embeddings', { rank: 4 })])).toMatch(
      new RegExp(
        `^${at('int4', 1, 'factorize-embeddings').replace(/[()[\]\\/.]/g, '\\$&')}factorize-embeddings: word embedding '.*_int8' is int8; factorize before quantizing$`,
      ),
    );
  });

  it('refuses quantize of a model whose weights it cannot read: quantized already, or float16', async () => {
    expect(await on('int8', [step('quantize', { mode: 'int4-block:16' })])).toBe(
      `${at('int8', 1, 'quantize')}quantize: every weight is already quantized (8 bits, matmul-integer-to-float): quantize the float model instead`,
    );
    expect(await on('fp16', [step('quantize', { mode: 'int8' })])).toMatch(
      /step 1 \(quantize\): quantize: weight '.*' \(layer0\.attention\.q\) is float16, and quantize reads float32 weights: quantize the float32 model \(the one converted to float16\) instead$/,
    );
    expect(await on('fp16', [step('quantize', { mode: 'float16' })])).toMatch(
      /step 1 \(quantize\): quantize float16: weight '.*' \(layer0\.attention\.q\) is float16 already/,
    );
  });

  it('refuses the first step that would fail', async () => {
    expect(await on('int8', [step('prune-ffn', { ratio: 0.5 }), step('drop-layers', { layers: '1' })])).toMatch(/step 1 \(prune-ffn\): prune-ffn: layer 0's/);
  });

  it('plans what the passes rewrite: drop-layers and optimize on an int8 model, every pass but quantize on float16, any pass on the float model', async () => {
    expect(await on('int8', [step('drop-layers', { layers: '0' })])).toBeUndefined();
    expect(await on('int4', [step('optimize')])).toBeUndefined();
    for (const s of [
      step('prune-ffn', { ratio: 0.5 }),
      step('prune-heads', { heads: '0:0' }),
      step('share-layers'),
      step('factorize-embeddings', { rank: 4 }),
    ]) {
      expect(await on('fp16', [s])).toBeUndefined();
      expect(await on('tiny', [s])).toBeUndefined();
    }
  });
});
