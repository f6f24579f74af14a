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
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { findBert } from '../../src/bert/discover.ts';
import { quantize, syntheticCalibration } from '../quantize/helpers.ts';
import { planRefusal, writeQuantizedModels } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { namingSettings } from '../../src/flag-names.ts';
import { refusingStep } from '../../src/pass/option-names.ts';
import { passStepNames } from '../../src/sweep/setting-names.ts';
import { SettingsError } from '../../src/errors.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { parseSweep } from '../../src/sweep/spec.ts';

let root: string;
beforeAll(async () => {
  root = await writeQuantizedModels('quantized-plan-');
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
      `${at('int8', 1, 'quantize')}quantize int4-block:16: every weight is already quantized (8 bits, matmul-integer-to-float): quantize the float model instead`,
    );
    expect(await on('fp16', [step('quantize', { mode: 'int8' })])).toMatch(
      /step 1 \(quantize\): quantize int8: weight '.*' \(layer0\.attention\.q\) is float16, and quantize reads float32 weights: quantize the float32 model \(the one converted to float16\) instead$/,
    );
    expect(await on('fp16', [step('quantize', { mode: 'float16' })])).toMatch(
      /step 1 \(quantize\): quantize float16: weight '.*' \(layer0\.attention\.q\) is float16 already/,
    );
  });

  it('refuses quantize of a float16 model after steps that keep its weights float16 under their names, as the point does', async () => {
    for (const [first, mode] of [
      [step('prune-ffn', { ratio: 0.5 }), 'int8'],
      [step('prune-heads', { heads: '0:0' }), 'int4-block:16'],
      [step('factorize-embeddings', { rank: 4 }), 'float16'],
    ] as const) {
      const steps = [first, step('quantize', { mode })];
      const point = await compressFile({ input: join(root, 'models', 'fp16', 'model.onnx'), output: join(root, 'out', first.pass, 'model.onnx'), steps }).then(
        () => 'ran',
        (e: Error) => e.message,
      );
      expect(point.startsWith(`quantize ${mode}: weight '`)).toBe(true);
      expect(point).toMatch(/: weight '.*' \(layer0\.attention\.q\) is float16/);
      expect(await on('fp16', steps)).toBe(`${at('fp16', 2, 'quantize')}${point}`);
    }
  });

  it.each([
    [
      'share-layers, which names the weights it shares anew',
      [step('share-layers'), step('quantize', { mode: 'int8' })],
      "'shared.layers0-1.attention.q.weight' (layer0.attention.q)",
    ],
    ["prune-heads removing layer 0's every head", [step('prune-heads', { heads: '0:0,1,2,3' }), step('quantize', { mode: 'float16' })], '(layer0.ffn.in)'],
    [
      'drop-layers after prune-ffn (layer 1 numbered 0)',
      [step('prune-ffn', { ratio: 0.5 }), step('drop-layers', { layers: '0' }), step('quantize', { mode: 'int4-block:16' })],
      '(layer0.attention.q)',
    ],
    [
      'share-layers after prune-heads and drop-layers',
      [step('prune-heads', { heads: '1:0' }), step('drop-layers', { layers: '0' }), step('share-layers'), step('quantize', { mode: 'int8' })],
      '(layer0.attention.q)',
    ],
  ])('refuses quantize of a float16 model after %s, naming the weight the point names', async (what, steps, weight) => {
    const output = join(root, 'out', `fp16-${what.replace(/\W+/g, '-')}`, 'model.onnx');
    const point = await compressFile({ input: join(root, 'models', 'fp16', 'model.onnx'), output, steps }).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(point.startsWith(`quantize ${steps.at(-1)!.settings.mode}: weight '`)).toBe(true);
    expect(point).toMatch(/: weight '.*' \(layer0\.\w+\.\w+\) is float16/);
    expect(point).toContain(weight);
    expect(await on('fp16', steps)).toBe(`${at('fp16', steps.length, 'quantize')}${point}`);
  });

  it('refuses factorize-embeddings of a float16 model after steps it does not follow, as the point does (its widths known as in float32)', async () => {
    for (const steps of [
      [step('prune-heads', { heads: '0:0' }), step('factorize-embeddings', { rank: 100 })],
      [step('factorize-embeddings', { rank: 8 }), step('prune-ffn', { ratio: 0.5 }), step('factorize-embeddings', { rank: 4 })],
    ]) {
      const output = join(root, 'out', `fp16-${steps.length}`, 'model.onnx');
      const point = await compressFile({ input: join(root, 'models', 'fp16', 'model.onnx'), output, steps }).then(
        () => 'ran',
        (e: Error) => e.message,
      );
      expect(point).toMatch(/^factorize-embeddings: (rank 100 is at or above hidden 32|the word embedding is already factorized)/);
      expect(await on('fp16', steps)).toBe(`${at('fp16', steps.length, 'factorize-embeddings')}${point}`);
    }
  });

  it("refuses an int8 group size that does not divide a layer's projection, as the point would", async () => {
    expect(await on('tiny', [step('quantize', { mode: 'int8-group:5' })])).toBe(
      `${at('tiny', 1, 'quantize')}quantize int8-group:5: the group size 5 does not divide the 32 outputs of layer0.attention.output (the largest group size below it that divides every projection here: 4)`,
    );
    expect(await on('tiny', [step('quantize', { mode: 'int8-group:4' })])).toBeUndefined();
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

describe('a quantize step after one that stored every weight quantized', () => {
  let fusedRoot: string;
  beforeAll(async () => {
    fusedRoot = mkdtempSync(join(tmpdir(), 'quantized-plan-fused-'));
    writeModelFolder(join(fusedRoot, 'models', 'tiny'), tinyBert());
    writeGlueTask(join(fusedRoot, 'glue'), 'SST-2', 8, ['train', 'dev']);
    // an ORT-fused model (Attention nodes), whose fused weight int8-static and int4-block keep float
    const input = join(fusedRoot, 'models', 'tiny', 'model.onnx');
    writeModelFolder(join(fusedRoot, 'models', 'fused'), tinyBert());
    await compressFile({ input, output: join(fusedRoot, 'models', 'fused', 'model.onnx'), steps: [step('optimize', { rewrites: 'attention' })] });
    // and one fused as --optimize all fuses it: its tables read by EmbedLayerNormalization (no Gather), its last layer unfused
    writeModelFolder(join(fusedRoot, 'models', 'fusedall'), tinyBert());
    await compressFile({ input, output: join(fusedRoot, 'models', 'fusedall', 'model.onnx'), steps: [step('optimize', { rewrites: 'all' })] });
  });
  afterAll(() => rmSync(fusedRoot, { recursive: true, force: true }));
  /** planRefusal's line, of a sweep calibrated on SST-2 (int8-static measures the model). */
  const plan = async (model: string, steps: unknown[]): Promise<string | undefined> => {
    const file = join(fusedRoot, 'q.yaml');
    const spec = parseSweep({ name: 'q', models: [{ path: `models/${model}`, tasks: ['SST-2'] }], pipelines: [{ name: 'p', steps }] }, file, 'q.yaml');
    try {
      await planSweep(spec, { glueDir: join(fusedRoot, 'glue'), workDir: join(fusedRoot, 'work') });
      return undefined;
    } catch (e) {
      expect(e).toBeInstanceOf(SettingsError);
      return (e as Error).message;
    }
  };
  const twice = (first: string) => [step('quantize', { mode: first }), step('quantize', { mode: 'int8' })];
  /** compressFile's refusal of `steps` on `model` (calibrated on SST-2) as a sweep point names it, or 'ran'. */
  const point = async (model: string, steps: ReturnType<typeof step>[]): Promise<string> => {
    const input = join(fusedRoot, 'models', model, 'model.onnx');
    const calibration = await loadCalibration({ model: input, task: 'SST-2', examples: 4, glueDir: join(fusedRoot, 'glue') });
    const output = join(fusedRoot, 'out', `${model}-${JSON.stringify(steps).replace(/\W+/g, '-')}`, 'model.onnx');
    // (in a point's words: the file's, as the plan's)
    return namingSettings(
      (e) => passStepNames(steps, refusingStep(e)),
      () => compressFile({ input, output, steps, context: { calibration } }),
    ).then(
      () => 'ran',
      (e: Error) => e.message,
    );
  };
  const elnTables =
    "embeddings.word, embeddings.position, embeddings.token_type: the table is read by com.microsoft EmbedLayerNormalization '/bert/embeddings/LayerNorm/Add_1/EmbedLayerNormalization', which takes float tables (quantize before an optimize step to store it int8)";
  /** The point's reason for keeping a fused Attention's packed weight float in `mode` (int4-block or int8-static). */
  const fusedKept = (mode: string) =>
    mode.startsWith('int4-block')
      ? 'MatMulNBits replaces MatMul / Gemm only: the fused Attention weight stays float'
      : 'int8-static: a fused Attention has no QDQ form here (use mode int8 for QAttention)';

  it('is refused by the plan where the first left no weight float on the model read (int8-static, int4-block on an unfused model), in quantize words', async () => {
    for (const first of ['int8-static', 'int4-block:16']) {
      expect(await plan('tiny', twice(first)), first).toBe(
        `q.yaml: pipeline 'p' on model 'tiny', step 2 (quantize): quantize int8: every weight is already quantized (by quantize ${first} before it): quantize the float model instead`,
      );
    }
    // int8-static stores the word table int8 on any model: factorize-embeddings after it is refused in the sweep file
    await expect(plan('tiny', [step('quantize', { mode: 'int8-static' }), step('factorize-embeddings', { rank: 4 })])).rejects.toThrow(
      /steps\[1\]: factorize-embeddings cannot follow quantize int8-static \(steps\[0\]\)/,
    );
    // the word table kept float by the first: the second quantizes it
    expect(await plan('tiny', [step('quantize', { mode: 'int4-block:16', embeddings: false }), step('quantize', { mode: 'int8' })])).toBeUndefined();
  });

  it('is refused by the plan after steps that add no float weight between them (drop-layers, optimize), as compress refuses it', async () => {
    const input = join(fusedRoot, 'models', 'tiny', 'model.onnx');
    for (const between of [step('drop-layers', { keep: '0' }), step('optimize', {})]) {
      const steps = [step('quantize', { mode: 'int4-block:16' }), between, step('quantize', { mode: 'int8' })];
      const output = join(fusedRoot, 'out', `q-${between.pass}-q`, 'model.onnx');
      await expect(compressFile({ input, output, steps }), between.pass).rejects.toThrow(/^quantize int8: every weight is already quantized/);
      expect(await plan('tiny', steps), between.pass).toBe(
        `q.yaml: pipeline 'p' on model 'tiny', step 3 (quantize): quantize int8: every weight is already quantized (by quantize int4-block:16 before it): quantize the float model instead`,
      );
    }
  });

  it('is refused by the plan where the first kept only the tables float and the second keeps them float too (embeddings: false), as compress refuses it', async () => {
    const input = join(fusedRoot, 'models', 'tiny', 'model.onnx');
    const calibration = await loadCalibration({ model: input, task: 'SST-2', examples: 4, glueDir: join(fusedRoot, 'glue') });
    for (const [first, between, second] of [
      ['int4-block:16', [], 'int8'],
      ['int4-block:16', [step('drop-layers', { keep: '0' })], 'int4-block:16'],
      ['int4-block:16', [], 'int8-static'],
      ['int8-static', [], 'int8-static'],
      ['int8-static', [step('optimize', {})], 'int4-block:16'],
      ['int4-block:16', [step('factorize-embeddings', { rank: 8 })], 'int8-static'],
    ] as const) {
      const steps = [step('quantize', { mode: first, embeddings: false }), ...between, step('quantize', { mode: second, embeddings: false })];
      const output = join(fusedRoot, 'out', `tables-${first}-${steps.length}-${second}`, 'model.onnx');
      await expect(compressFile({ input, output, steps, context: { calibration } })).rejects.toThrow(
        new RegExp(
          `^quantize ${second}: quantizes no weight of this model, which it would write unchanged \\(embeddings\\.word, .*: kept float by the setting embeddings: false`,
        ),
      );
      expect(await plan('tiny', steps)).toBe(
        `q.yaml: pipeline 'p' on model 'tiny', step ${steps.length} (quantize): quantize ${second}: quantizes no weight of this model, which it would write unchanged (embeddings.word, embeddings.position, embeddings.token_type: kept float by the setting embeddings: false, flag --no-quantize-embeddings; every other weight: already quantized (by quantize ${first} before it))`,
      );
    }
  });

  it('plans where the first kept a fused Attention float, which the second quantizes (as compress does)', async () => {
    expect(await plan('fused', twice('int4-block:16'))).toBeUndefined();
    expect(await plan('fused', twice('int8-static'))).toBeUndefined();
    const input = join(fusedRoot, 'models', 'fused', 'model.onnx');
    const once = join(fusedRoot, 'out', 'int4', 'model.onnx');
    await compressFile({ input, output: once, steps: [step('quantize', { mode: 'int4-block:16' })] });
    await compressFile({ input: once, output: join(fusedRoot, 'out', 'int4-int8', 'model.onnx'), steps: [step('quantize', { mode: 'int8' })] });
  });

  it('is refused by the plan where the first kept only a fused Attention float (and the tables) and the second keeps it float too, as compress refuses it', async () => {
    const input = join(fusedRoot, 'models', 'fused', 'model.onnx');
    const calibration = await loadCalibration({ model: input, task: 'SST-2', examples: 4, glueDir: join(fusedRoot, 'glue') });
    for (const [first, between, second, tables] of [
      [{ mode: 'int8-static' }, [step('drop-layers', { layers: '1' })], { mode: 'int4-block:16' }, ''],
      [{ mode: 'int4-block:16' }, [], { mode: 'int8-static' }, ''],
      [
        { mode: 'int4-block:16', embeddings: false },
        [step('optimize', {})],
        { mode: 'int4-block:16', embeddings: false },
        '; embeddings.word, embeddings.position, embeddings.token_type: kept float by the setting embeddings: false, flag --no-quantize-embeddings',
      ],
    ] as const) {
      const steps = [step('quantize', first), ...between, step('quantize', second)];
      const output = join(fusedRoot, 'out', `fused-${steps.length}-${first.mode}`, 'model.onnx');
      await expect(compressFile({ input, output, steps, context: { calibration } })).rejects.toThrow(
        new RegExp(`^quantize ${second.mode}: quantizes no weight of this model, which it would write unchanged \\(.*layer0\\.attention\\.qkv`),
      );
      expect(await plan('fused', steps)).toBe(
        `q.yaml: pipeline 'p' on model 'fused', step ${steps.length} (quantize): quantize ${second.mode}: quantizes no weight of this model, which it would write unchanged (${between[0]?.pass === 'drop-layers' ? 'layer0.attention.qkv' : 'layer0.attention.qkv, layer1.attention.qkv'}: ${fusedKept(second.mode)}${tables}; every other weight: already quantized (by quantize ${first.mode} before it))`,
      );
    }
  });

  it('is refused by the plan where the first left float the tables EmbedLayerNormalization reads (no Gather) and maybe the fused Attention, and the second leaves them float too, whatever its embeddings setting, as compress refuses it', async () => {
    for (const [first, second, fused] of [
      [{ mode: 'int8-static' }, 'int4-block:16', true],
      [{ mode: 'int4-block:16' }, 'int8-static', true],
      [{ mode: 'int8-static', embeddings: false }, 'int8-static', true],
      [{ mode: 'int8', embeddings: false }, 'int4-block:16', false],
    ] as const) {
      const steps = [step('quantize', first), step('quantize', { mode: second })];
      expect(await point('fusedall', steps)).toMatch(/the table is read by com\.microsoft EmbedLayerNormalization/);
      const attention = fused ? `layer0.attention.qkv: ${fusedKept(second)}; ` : '';
      expect(await plan('fusedall', steps)).toBe(
        `q.yaml: pipeline 'p' on model 'fusedall', step 2 (quantize): quantize ${second}: quantizes no weight of this model, which it would write unchanged (${attention}${elnTables}; every other weight: already quantized (by quantize ${first.mode} before it))`,
      );
    }
  });

  it('is refused by the plan where the first left the tables float and optimize fused them into EmbedLayerNormalization, which no quantize step after rewrites, as compress refuses it', async () => {
    for (const [first, rewrites, second] of [
      ['int4-block:16', 'all', 'int8'],
      ['int8-static', 'embed-layernorm', 'int4-block:16'],
    ]) {
      const steps = [step('quantize', { mode: first, embeddings: false }), step('optimize', { rewrites }), step('quantize', { mode: second })];
      expect(await point('tiny', steps)).toMatch(/the table is read by com\.microsoft EmbedLayerNormalization/);
      expect(await plan('tiny', steps)).toBe(
        `q.yaml: pipeline 'p' on model 'tiny', step 3 (quantize): quantize ${second}: quantizes no weight of this model, which it would write unchanged (${elnTables}; every other weight: already quantized (by quantize ${first} before it))`,
      );
    }
    // (optimize leaving the embeddings unfused: the second quantizes the tables)
    const unfused = [
      step('quantize', { mode: 'int4-block:16', embeddings: false }),
      step('optimize', { rewrites: 'attention' }),
      step('quantize', { mode: 'int8' }),
    ];
    expect(await plan('tiny', unfused)).toBeUndefined();
    expect(await point('tiny', unfused)).toBe('ran');
  });

  it('is refused by the plan where drop-layers keeps only the layers whose fused Attention the first left float, which the second leaves float too, as compress refuses it', async () => {
    // (fusedall's layer 0 fused, its last layer not: keeping layer 0 leaves only float weights the first left)
    const steps = [step('quantize', { mode: 'int8-static' }), step('drop-layers', { keep: '0' }), step('quantize', { mode: 'int4-block:16' })];
    expect(await point('fusedall', steps)).toMatch(
      /^quantize int4-block:16: quantizes no weight of this model, which it would write unchanged \(.*layer0\.attention\.qkv: MatMulNBits/,
    );
    expect(await plan('fusedall', steps)).toBe(
      `q.yaml: pipeline 'p' on model 'fusedall', step 3 (quantize): quantize int4-block:16: quantizes no weight of this model, which it would write unchanged (layer0.attention.qkv: ${fusedKept('int4-block:16')}; ${elnTables}; every other weight: already quantized (by quantize int8-static before it))`,
    );
    // (int8 stores the fused Attention kept as QAttention: planned, and the point runs)
    const int8 = [step('quantize', { mode: 'int8-static' }), step('drop-layers', { keep: '0' }), step('quantize', { mode: 'int8' })];
    expect(await plan('fusedall', int8)).toBeUndefined();
    expect(await point('fusedall', int8)).toBe('ran');
  });
});

describe('a quantize step that would quantize no weight of the model read', () => {
  let noneRoot: string;
  beforeAll(async () => {
    noneRoot = mkdtempSync(join(tmpdir(), 'quantized-plan-none-'));
    writeGlueTask(join(noneRoot, 'glue'), 'SST-2', 8, ['train', 'dev']);
    // (every input 2 wide: no projection takes 4-bit blocks of 16; and the tiny BERT's projections in int4, its tables float)
    writeModelFolder(join(noneRoot, 'models', 'narrow'), tinyBert({ hiddenSize: 2, numHeads: 1, intermediateSize: 2 }));
    writeModelFolder(join(noneRoot, 'models', 'tiny'), tinyBert());
    const input = join(noneRoot, 'models', 'tiny', 'model.onnx');
    await compressFile({
      input,
      output: join(noneRoot, 'models', 'int4-tables', 'model.onnx'),
      steps: [step('quantize', { mode: 'int4-block:16', embeddings: false })],
    });
  });
  afterAll(() => rmSync(noneRoot, { recursive: true, force: true }));

  it.each([
    ['every projection too narrow for the 4-bit blocks', 'narrow', 'int4-block:16'],
    ['every projection quantized already (int8 of an int4 model)', 'int4-tables', 'int8'],
    ['every projection quantized already (int4-block)', 'int4-tables', 'int4-block:16'],
  ])('is refused by the plan with the tables left float, in the words of the point (%s)', async (_, model, mode) => {
    const steps = [step('quantize', { mode, embeddings: false })];
    const output = join(noneRoot, 'out', `${model}-${mode}`, 'model.onnx');
    const point = await compressFile({ input: join(noneRoot, 'models', model, 'model.onnx'), output, steps }).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(point).toMatch(
      /quantizes no weight of this model, which it would write unchanged \(embeddings\.word, .*: kept float by the setting embeddings: false/,
    );
    expect(await planRefusal(noneRoot, 'q', [model], 'p', steps)).toBe(
      `${join(noneRoot, 'q.yaml')}: pipeline 'p' on model '${model}', step 1 (quantize): ${point}`,
    );
  });

  it('plans it where the tables are quantized (embeddings: true)', async () => {
    expect(await planRefusal(noneRoot, 'q', ['narrow'], 'p', [step('quantize', { mode: 'int4-block:16' })])).toBeUndefined();
    expect(await planRefusal(noneRoot, 'q', ['int4-tables'], 'p', [step('quantize', { mode: 'int8' })])).toBeUndefined();
  });

  it('refuses a pass on its quantized layers after factorize-embeddings of its float word table (and steps the plan follows), as compress refuses it', {
    timeout: 20_000,
  }, async () => {
    const factorize = step('factorize-embeddings', { rank: 8 });
    for (const [steps, index] of [
      [[factorize, step('prune-heads', { ratio: 0.5 })], 2],
      [[factorize, step('optimize', { rewrites: 'all' }), step('prune-ffn', { ratio: 0.5 })], 3],
      [[factorize, step('drop-layers', { layers: '0' }), step('share-layers')], 3],
      [[factorize, step('quantize', { mode: 'float16' })], 2],
      // (and a second factorize-embeddings, of the table the first factorized)
      [[factorize, step('optimize', { rewrites: 'all' }), step('factorize-embeddings', { rank: 4 })], 3],
    ] as const) {
      const output = join(noneRoot, 'out', `factorized-${steps.map((s) => s.pass).join('-')}`, 'model.onnx');
      const point = await compressFile({ input: join(noneRoot, 'models', 'int4-tables', 'model.onnx'), output, steps: [...steps] }).then(
        () => 'ran',
        (e: Error) => e.message,
      );
      expect(point).toMatch(/quantized|uint8|already factorized/);
      expect(await planRefusal(noneRoot, 'q', ['int4-tables'], 'p', [...steps])).toBe(
        `${join(noneRoot, 'q.yaml')}: pipeline 'p' on model 'int4-tables', step ${index} (${steps[index - 1]!.pass}): ${point}`,
      );
    }
    // (quantize int8 quantizes the factorized table and projection, which are float)
    expect(await planRefusal(noneRoot, 'q', ['int4-tables'], 'p', [factorize, step('quantize', { mode: 'int8' })])).toBeUndefined();
  });

  it.each([
    ['mixed:0.1', {}],
    ['mixed:0.3', { embeddings: false }],
  ])('refuses %s %o, a budget below the smallest the model reaches, in the words of the point', async (mode, settings) => {
    const model = tinyBert();
    const point = await quantize(model, findBert(model), { mode, ...settings }, syntheticCalibration(tinyBertConfig().vocabSize, 2)).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(point).toMatch(/ bytes\), is below the smallest this model reaches \([\d,]+ bytes: every layer 4-bit/);
    // (mixed measures on calibration data, which planRefusal's sweeps leave out)
    const plan = (budget: string) =>
      planSweep(
        parseSweep(
          {
            name: 'mixed',
            models: [{ path: 'models/tiny', tasks: ['SST-2'] }],
            calibration: { examples: 4 },
            pipelines: [{ name: 'p', steps: [step('quantize', { mode: budget, ...settings })] }],
          },
          join(noneRoot, 'mixed.yaml'),
          'mixed.yaml',
        ),
        { glueDir: join(noneRoot, 'glue'), workDir: join(noneRoot, 'work') },
      ).then(
        () => undefined,
        (e: Error) => (expect(e).toBeInstanceOf(SettingsError), e.message),
      );
    expect(await plan(mode)).toBe(`mixed.yaml: pipeline 'p' on model 'tiny', step 1 (quantize): ${point}`);
    expect(await plan('mixed:0.6')).toBeUndefined();
  });
});
