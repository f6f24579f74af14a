/**
 * Quantize steps on a model the plan no longer reads (after prune-heads, prune-ffn, share-layers, factorize-embeddings):
 * the plan tells what each leaves float from the widths it knows there, as the point does, where it let through a
 * second quantize step after one that stored every weight quantized, or one that quantizes no weight, and their points
 * failed.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';

const root = writeTinyPlanFolder('shape-quantize-plan-');
writeModelFolder(join(root, 'models', 'narrow'), tinyBert({ hiddenSize: 16 }));
writeModelFolder(join(root, 'models', 'w8'), tinyBert({ hiddenSize: 8, numHeads: 2, intermediateSize: 16 }));
writeModelFolder(join(root, 'models', 'n64'), tinyBert({ hiddenSize: 64, numHeads: 4, intermediateSize: 96 }));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const step = (pass: string, settings: Record<string, unknown> = {}) => ({ pass, settings });
const quantize = (mode: string, embeddings = true) => step('quantize', embeddings ? { mode } : { mode, embeddings: false });
const at = (model: string, i: number, pass: string) => `${join(root, 'p.yaml')}: pipeline 'p' on model '${model}', step ${i} (${pass}): `;
/** The point's reason for the embedding tables kept float by embeddings: false, which the plan names by these words. */
const tables = 'the embedding tables: kept float by the setting embeddings: false, flag --no-quantize-embeddings';
/** The point's reason for a projection of input width `width` that blocks of 128 store in more bytes than float. */
const wider = (width: number | string, fits: number) =>
  `4-bit blocks of 128 on its input width ${width} would store more bytes than float (use a block of at most ${fits})`;
let outs = 0;
/** The point's run of `steps` on models/`model`: 'ran', or its error's message. */
const point = (model: string, steps: ReturnType<typeof step>[]) =>
  compressFile({ input: join(root, 'models', model, 'model.onnx'), output: join(root, 'out', String(outs++), 'model.onnx'), steps }).then(
    () => 'ran',
    (e: Error) => e.message,
  );

describe('a quantize step after one on a model the plan no longer reads', () => {
  it('refuses one after a quantize step that stored every weight quantized, as the point refuses it', async () => {
    for (const [model, first] of [
      ['narrow', step('prune-ffn', { ratio: 0.5 })],
      ['tiny', step('prune-heads', { ratio: 0.25 })],
      ['tiny', step('share-layers')],
    ] as const) {
      const steps = [first, quantize('int4-block:16'), quantize('int8')];
      expect(await planRefusal(root, 'p', [model], 'p', steps)).toBe(
        `${at(model, 3, 'quantize')}quantize int8: every weight is already quantized (by quantize int4-block:16 before it): quantize the float model instead`,
      );
      expect(await point(model, steps)).toMatch(/^quantize int8: every weight is already quantized \(4 bits, matmul-nbits\)/);
    }
  });

  it('refuses one that leaves float every weight the one before left float, as the point quantizes no weight', async () => {
    const steps = [step('prune-heads', { heads: '1:0' }), quantize('int8', false), quantize('int8', false)];
    expect(await planRefusal(root, 'p', ['tiny'], 'p', steps)).toBe(
      `${at('tiny', 3, 'quantize')}quantize int8: quantizes no weight of this model, which it would write unchanged (${tables}; every other weight: already quantized (by quantize int8 before it))`,
    );
    expect(await point('tiny', steps)).toMatch(/^quantize int8: quantizes no weight of this model/);
    // (n64: blocks of 128 store every projection of input width 64 in fewer bytes, not the tables kept float)
    const int4 = [
      step('prune-ffn', { ratio: 0.5 }),
      step('drop-layers', { layers: '1' }),
      quantize('int4-block:128', false),
      quantize('int4-block:128', false),
    ];
    expect(await planRefusal(root, 'p', ['n64'], 'p', int4)).toBe(
      `${at('n64', 4, 'quantize')}quantize int4-block:128: quantizes no weight of this model, which it would write unchanged (${tables}; every other weight: already quantized (by quantize int4-block:128 before it))`,
    );
    expect(await point('n64', int4)).toMatch(/^quantize int4-block:128: quantizes no weight of this model/);
  });

  it('refuses one that quantizes no weight of the model there, as the point does', async () => {
    // (w8: hidden 8, whose every projection 4-bit blocks of 128 store in more bytes than float)
    const steps = [step('prune-heads', { ratio: 0.25 }), quantize('int4-block:128', false)];
    expect(await planRefusal(root, 'p', ['w8'], 'p', steps)).toBe(
      `${at('w8', 2, 'quantize')}quantize int4-block:128: quantizes no weight of this model, which it would write unchanged (${tables}; layer0.attention.q, layer0.attention.k, layer0.attention.v, … (7 more): ${wider(8, 32)}; layer0.attention.output, layer1.attention.output: ${wider('4 to 8', 16)}; layer0.ffn.out, layer1.ffn.out: ${wider(16, 64)})`,
    );
    expect(await point('w8', steps)).toMatch(/^quantize int4-block:128: quantizes no weight of this model/);
  });

  it("names what a quantize step after int4-block leaves float with the point's reasons, as the point does", async () => {
    // (narrow: hidden 16, which blocks of 128 store in more bytes than float, as the point says; its FFN's output, of
    // input width 64 (32 after prune-ffn), and the tables int4-block stored quantized)
    const narrow = `layer0.attention.q, layer0.attention.k, layer0.attention.v, … (9 more): ${wider(16, 64)}`;
    for (const [first, i] of [
      [[], 2],
      [[step('prune-ffn', { ratio: 0.5 })], 3],
    ] as const) {
      const steps = [...first, quantize('int4-block:128'), quantize('int4-block:128')];
      expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBe(
        `${at('narrow', i, 'quantize')}quantize int4-block:128: quantizes no weight of this model, which it would write unchanged (${narrow}; every other weight: already quantized (by quantize int4-block:128 before it))`,
      );
      const run = await point('narrow', steps);
      expect(run).toMatch(/^quantize int4-block:128: quantizes no weight of this model, which it would write unchanged \(embeddings.word, /);
      expect(run).toContain(`; ${narrow}; layer0.ffn.out, layer1.ffn.out: already quantized (4 bits, matmul-nbits))`);
    }
  });

  it('refuses one after quantize steps that between them stored every weight quantized, as the point refuses it', async () => {
    // (narrow: blocks of 128 leave float every projection but the FFN's output; of 32, none; embeddings: false the tables)
    const steps = [quantize('int4-block:128', false), step('drop-layers', { keep: '0' }), quantize('int4-block:32'), quantize('int4-block:128')];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBe(
      `${at('narrow', 4, 'quantize')}quantize int4-block:128: every weight is already quantized (by quantize int4-block:32 before it): quantize the float model instead`,
    );
    expect(await point('narrow', steps)).toMatch(/^quantize int4-block:128: every weight is already quantized \(4 bits, matmul-nbits\)/);
    const partly = [quantize('int4-block:128', false), quantize('int4-block:128'), quantize('int8')];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', partly)).toBeUndefined();
    expect(await point('narrow', partly)).toBe('ran');
  });

  it('refuses one after optimize fused the tables the one before left float, as the point finds every weight quantized', async () => {
    // (embed-layernorm fuses the float tables into an EmbedLayerNormalization, which no quantize mode rewrites)
    for (const embeddings of [false, true]) {
      const steps = [
        step('prune-heads', { heads: '0:0' }),
        quantize('int8', false),
        step('optimize', { rewrites: 'embed-layernorm' }),
        quantize('int8', embeddings),
      ];
      expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBe(
        `${at('narrow', 4, 'quantize')}quantize int8: every weight is already quantized (by quantize int8 before it): quantize the float model instead`,
      );
      expect(await point('narrow', steps)).toMatch(
        /^quantize int8: every weight is already quantized \(8 bits, matmul-integer-to-float\), but for embeddings.word/,
      );
    }
    // (without embed-layernorm, the tables stay float, which quantize int8 with embeddings quantizes)
    const steps = [step('prune-heads', { heads: '0:0' }), quantize('int8', false), step('optimize', { rewrites: 'attention' }), quantize('int8')];
    expect(await planRefusal(root, 'p', ['narrow'], 'p', steps)).toBeUndefined();
    expect(await point('narrow', steps)).toBe('ran');
  });

  it('plans one that quantizes what the one before left float, whose point runs', async () => {
    for (const [model, steps] of [
      // (narrow: blocks of 128 store only the FFN's output projection, of input width 64, in fewer bytes)
      ['narrow', [step('prune-ffn', { ratio: 0.5 }), quantize('int4-block:128'), quantize('int8')]],
      ['tiny', [step('prune-heads', { heads: '1:0' }), quantize('int8', false), quantize('int4-block:16')]],
      ['w8', [step('prune-heads', { ratio: 0.25 }), quantize('int4-block:128')]],
    ] as const) {
      expect(await planRefusal(root, 'p', [model], 'p', [...steps])).toBeUndefined();
      expect(await point(model, [...steps])).toBe('ran');
    }
  });
});
