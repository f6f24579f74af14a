/**
 * prune-heads and prune-ffn after quantize int4-block: the sweep file lets them through, and the plan judges them on
 * the model, as the point does: MatMulNBits leaves float a projection its blocks would store in more bytes (a model
 * narrower than the blocks), which those passes slice, where the sweep file refused every such pipeline, though its
 * points ran ([prune-ffn, quantize int4-block:128, prune-heads] on a DistilBERT of hidden size 2).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';

const root = writeTinyPlanFolder('int4-prune-plan-');
// hidden 16: every projection but the FFN's output (input width 64) stays float in blocks of 128
writeModelFolder(join(root, 'models', 'narrow'), tinyBert({ hiddenSize: 16 }));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const step = (pass: string, settings: Record<string, unknown> = {}) => ({ pass, settings });
const int4 = (block: number) => step('quantize', { mode: `int4-block:${block}` });
const at = (model: string, i: number, pass: string) => `${join(root, 'p.yaml')}: pipeline 'p' on model '${model}', step ${i} (${pass}): `;
/** The point's run of `steps` on models/`model`: 'ran', or its error's message. */
const point = (model: string, steps: ReturnType<typeof step>[], out: string) =>
  compressFile({ input: join(root, 'models', model, 'model.onnx'), output: join(root, 'out', out, 'model.onnx'), steps }).then(
    () => 'ran',
    (e: Error) => e.message,
  );

describe('prune steps after quantize int4-block', () => {
  it('plans prune-heads after int4-block on a model whose attention projections it leaves float, whose point runs', async () => {
    const steps = [step('prune-ffn', { ratio: 0.5 }), int4(128), step('prune-heads', { ratio: 0.25 })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBeUndefined();
    expect(await point('narrow', steps, 'narrow-heads')).toBe('ran');
  });

  it('refuses one where int4-block stored a weight it slices quantized, as the point refuses it', async () => {
    const ffn = [int4(128), step('prune-ffn', { ratio: 0.5 })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', ffn)).toBe(
      `${at('narrow', 2, 'prune-ffn')}prune-ffn: quantize int4-block:128 before it (step 1) stores layer 0's feed-forward weights quantized (4-bit blocks of 128 on its input width 64), and prune-ffn slices float weights: put prune-ffn before quantize`,
    );
    expect(await point('narrow', ffn, 'narrow-ffn')).toMatch(/^prune-ffn: layer 0's feed-forward weights are quantized \(matmul-nbits, 4-bit\)/);
    const heads = [int4(128), step('prune-heads', { heads: '1:0' })];
    expect(await planRefusal(root, 'p', ['tiny'], 'p', heads)).toBe(
      `${at('tiny', 2, 'prune-heads')}prune-heads: quantize int4-block:128 before it (step 1) stores layer 0's attention weights quantized (4-bit blocks of 128 on its input width 32), and prune-heads slices float weights: put prune-heads before quantize`,
    );
    expect(await point('tiny', heads, 'tiny-heads')).toMatch(/^prune-heads: layer 0's attention weights are quantized \(matmul-nbits, 4-bit\)/);
  });

  it('plans one after prune-heads by ratio before int4-block where the heads before leave every attention projection float, whose point runs', async () => {
    // (prune-heads by ratio chooses its heads when it runs: the plan knows each layer's heads at most, and fewer heads
    // narrow the output projection's input, which 4-bit blocks then store in more bytes still)
    const steps = [step('prune-heads', { ratio: 0.25 }), int4(128), step('prune-heads', { ratio: 0.25 })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBeUndefined();
    expect(await point('narrow', steps, 'narrow-ratio-heads')).toBe('ran');
    // (Q, K and V read the encoder's width whatever heads the ratio chose, which 4-bit blocks store in fewer bytes on
    // tiny: stored quantized in each layer left heads, where it said it could not tell)
    expect(await planRefusal(root, 'p', ['tiny'], 'p', steps)).toBe(
      `${at('tiny', 3, 'prune-heads')}prune-heads: quantize int4-block:128 before it (step 2) stores the Q, K and V weights of each layer with heads quantized (4-bit blocks of 128 on their input width 32, whichever heads the prune-heads by ratio before it left), and prune-heads slices float weights: put prune-heads before quantize`,
    );
    expect(await point('tiny', steps, 'tiny-ratio-heads')).toMatch(/^prune-heads: layer 0's attention weights are quantized \(matmul-nbits, 4-bit\)/);
    // (fused by optimize, Q, K and V stay float, and the output projection's input width is the heads chosen: the plan cannot tell)
    const fused = [steps[0]!, step('optimize', { rewrites: 'attention' }), int4(128), steps[2]!];
    expect(await planRefusal(root, 'p', ['tiny'], 'p', fused)).toBe(
      `${at('tiny', 4, 'prune-heads')}prune-heads: quantize int4-block:128 before it (step 3) stores a projection quantized where its 4-bit blocks take fewer bytes than float, which the plan cannot tell of the model there, and prune-heads slices float weights: put prune-heads before quantize`,
    );
  });

  it('names the feed-forward weights int4-block stored quantized for a prune-ffn after prune-heads by ratio, whose FFN widths it knows (where it said it could not tell)', async () => {
    const steps = [step('prune-heads', { ratio: 0.25 }), int4(128), step('prune-ffn', { ratio: 0.5 })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBe(
      `${at('narrow', 3, 'prune-ffn')}prune-ffn: quantize int4-block:128 before it (step 2) stores layer 0's feed-forward weights quantized (4-bit blocks of 128 on its input width 64), and prune-ffn slices float weights: put prune-ffn before quantize`,
    );
    expect(await point('narrow', steps, 'narrow-ratio-ffn')).toMatch(/^prune-ffn: layer 0's feed-forward weights are quantized \(matmul-nbits, 4-bit\)/);
  });

  it('plans one after optimize between, which fuses float weights only, as the point runs it', async () => {
    // (narrow: int4-block left Q, K, V and the output projection float, which the attention rewrite fuses or keeps float)
    const steps = [int4(128), step('optimize', { rewrites: 'attention' }), step('prune-heads', { ratio: 0.25 })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBeUndefined();
    expect(await point('narrow', steps, 'narrow-optimized-heads')).toBe('ran');
    // (tiny: int4-block stored its attention projections quantized, which the rewrite leaves so)
    expect(await planRefusal(root, 'p', ['tiny'], 'p', steps)).toBe(
      `${at('tiny', 3, 'prune-heads')}prune-heads: quantize int4-block:128 before it (step 1) stores layer 0's attention weights quantized (4-bit blocks of 128 on its input width 32), and prune-heads slices float weights: put prune-heads before quantize`,
    );
    expect(await point('tiny', steps, 'tiny-optimized-heads')).toMatch(/^prune-heads: layer 0's attention weights are quantized/);
  });

  it('refuses one after a step between that the plan does not follow, which it cannot judge', async () => {
    const steps = [int4(128), step('drop-layers', { keep: '0' }), step('prune-heads', { ratio: 0.25 })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBe(
      `${at('narrow', 3, 'prune-heads')}prune-heads: quantize int4-block:128 before it (step 1) stores a projection quantized where its 4-bit blocks take fewer bytes than float, which the plan cannot tell of the model there, and prune-heads slices float weights: put prune-heads before quantize`,
    );
  });
});

describe('a quantize step after quantize int4-block on a model narrower than its blocks', () => {
  it('plans one where int4-block left projections float, which the point quantizes', async () => {
    for (const second of [step('quantize', { mode: 'int8' }), int4(16)]) {
      const steps = [int4(128), second];
      expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBeUndefined();
      expect(await point('narrow', steps, `narrow-${second.settings.mode}`)).toBe('ran');
    }
  });

  it('refuses one that leaves float every projection int4-block left float, as the point quantizes no weight', async () => {
    // (the point's reason for a projection of narrow's input width, 16)
    const wider16 = '4-bit blocks of 128 on its input width 16 would store more bytes than float (use a block of at most 64)';
    const left = 'layer0.attention.q, layer0.attention.k, layer0.attention.v, … (9 more)';
    for (const [steps, i] of [
      [[int4(128), int4(128)], 2],
      [[int4(128), step('drop-layers', { keep: '0' }), int4(128)], 3],
      [[int4(128), step('optimize', {}), int4(128)], 3],
    ] as const) {
      const kept = steps[1]!.pass === 'drop-layers' ? 'layer0.attention.q, layer0.attention.k, layer0.attention.v, … (4 more)' : left;
      expect(await planRefusal(root, 'p', ['narrow'], 'p', [...steps])).toBe(
        `${at('narrow', i, 'quantize')}quantize int4-block:128: quantizes no weight of this model, which it would write unchanged (${kept}: ${wider16}; every other weight: already quantized (by quantize int4-block:128 before it))`,
      );
      expect(await point('narrow', [...steps], `narrow-again-${steps[1]!.pass}`)).toMatch(/^quantize int4-block:128: quantizes no weight of this model/);
    }
    // (after prune-heads, which slices the projections int4-block left float, narrowing the output projection's input)
    const pruned = [int4(128), step('prune-heads', { heads: '0:0' }), int4(128)];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', pruned)).toBe(
      `${at('narrow', 3, 'quantize')}quantize int4-block:128: quantizes no weight of this model, which it would write unchanged (${left}: ${wider16}; every other weight: already quantized (by quantize int4-block:128 before it))`,
    );
    expect(await point('narrow', pruned, 'narrow-pruned')).toMatch(/^quantize int4-block:128: quantizes no weight of this model/);
    // (after optimize's attention rewrite, which fuses the Q, K and V int4-block left float into one Attention whose
    // packed weight int4-block leaves float too; first-token, in 'all', leaves the last layer's unfused)
    for (const [rewrites, qkv, kept] of [
      ['all', 'layer0.attention.qkv', 'layer0.attention.output, layer0.ffn.in, layer1.attention.q, … (6 more)'],
      ['attention', 'layer0.attention.qkv, layer1.attention.qkv', 'layer0.attention.output, layer0.ffn.in, layer1.attention.output, … (3 more)'],
    ]) {
      const fused = [int4(128), step('optimize', { rewrites }), int4(128)];
      expect(await planRefusal(root, 'p', ['narrow'], 'p', fused)).toBe(
        `${at('narrow', 3, 'quantize')}quantize int4-block:128: quantizes no weight of this model, which it would write unchanged (${qkv}: MatMulNBits replaces MatMul / Gemm only: the fused Attention weight stays float; ${kept}: ${wider16}; every other weight: already quantized (by quantize int4-block:128 before it))`,
      );
      expect(await point('narrow', fused, `narrow-fused-${rewrites}`)).toMatch(/^quantize int4-block:128: quantizes no weight of this model/);
    }
    // (quantize int8 after it quantizes the fused Attention, as QAttention)
    const int8 = [int4(128), step('optimize', { rewrites: 'attention' }), step('quantize', { mode: 'int8' })];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', int8)).toBeUndefined();
    expect(await point('narrow', int8, 'narrow-fused-int8')).toBe('ran');
    // (after drop-layers, the kept layers' projections int4-block:64 quantizes: the plan asks of them, not of those dropped)
    const drop = [int4(128), step('drop-layers', { keep: '0' }), int4(64)];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', drop)).toBeUndefined();
    expect(await point('narrow', drop, 'narrow-drop-64')).toBe('ran');
  });
});
