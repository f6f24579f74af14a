/**
 * The passes' refusals as a library caller meets them (runPipeline, parseSteps, compressFile and
 * compressToTransformersJs as the package exports them: src/pass/option-names.ts) name the steps and options given
 * (`(steps[1].settings.heads)`, `context.calibration`, `output`), where `compress` names its flags (`(flag
 * --prune-heads)`, `--calibrate`, `-o`), which it keeps.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressFile, compressToTransformersJs, runPipeline, type PassStep } from '../../src/index.ts';
import { parseSteps } from '../../src/pass/index.ts';
import { parseSteps as parseStepsNamingFlags, runPipeline as runPipelineNamingFlags } from '../../src/pass/pipeline.ts';
import { compressFile as compressFileNamingFlags } from '../../src/export/compress.ts';
import { compressToTransformersJs as compressToTransformersJsNamingFlags } from '../../src/export/transformers-js.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { writeTinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';
import { z } from 'zod';
import { registerPass } from '../../src/pass/registry.ts';
import { declarePass } from '../../src/pass/settings.ts';

const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
afterAll(() => tiny.cleanup());
const folder = writeModelFolder(join(tiny.dir, 'option-names-source'), tiny.model);
const input = join(folder, 'model.onnx');

/** The message of what `run` throws ('ran' where it throws none). */
const refusal = (run: () => unknown) =>
  (async () => run())().then(
    () => 'ran',
    (e: Error) => e.message,
  );

const HEADS: PassStep[] = [
  { pass: 'prune-ffn', settings: { ratio: 0.5 } },
  { pass: 'prune-heads', settings: { heads: '0:x' } },
];
const HEADS_FAULT = "prune-heads: heads '0:x': layer 0's head 'x': expected an integer from 0 to 2^53 − 1";

describe("the passes' refusals name a library caller's steps and options", () => {
  it("a setting's fault names the step given and the setting it gave (heads, not the ratio --prune-heads also fills), where compress names its flag", async () => {
    expect(await refusal(() => runPipeline(tiny.model, HEADS))).toBe(`${HEADS_FAULT} (steps[1].settings.heads)`);
    expect(await refusal(() => parseSteps(HEADS))).toBe(`${HEADS_FAULT} (steps[1].settings.heads)`);
    expect(await refusal(() => compressFile({ input, output: join(tiny.dir, 'heads', 'model.onnx'), steps: HEADS }))).toBe(
      `${HEADS_FAULT} (steps[1].settings.heads)`,
    );
    expect(await refusal(() => runPipelineNamingFlags(tiny.model, HEADS))).toBe(`${HEADS_FAULT} (flag --prune-heads)`);
    expect(await refusal(() => parseStepsNamingFlags(HEADS))).toBe(`${HEADS_FAULT} (flag --prune-heads)`);
    const cli = await runMain([tiny.path, '--prune-ffn', '0.5', '--prune-heads', '0:x', '-o', join(tiny.dir, 'heads-cli', 'model.onnx')]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`${HEADS_FAULT} (flag --prune-heads)`);
  });

  it("a refusal of a step's settings on the model names the caller's index, also where a transformers.js folder's float model runs without the quantize step before it", async () => {
    const share: PassStep = { pass: 'share-layers', settings: { share: 'groups:5' } };
    const fault = "share-layers: share 'groups:5': 5 groups are more than the model's 2 layers";
    const quantized: PassStep[] = [{ pass: 'quantize', settings: { mode: 'int8' } }, share];
    expect(await refusal(() => compressToTransformersJs({ input, output: join(tiny.dir, 'share-web'), steps: quantized }))).toBe(
      `${fault} (steps[1].settings.share)`,
    );
    expect(await refusal(() => compressFile({ input, output: join(tiny.dir, 'share', 'model.onnx'), steps: [share] }))).toBe(
      `${fault} (steps[0].settings.share)`,
    );
    expect(await refusal(() => compressToTransformersJsNamingFlags({ input, output: join(tiny.dir, 'share-web'), steps: quantized }))).toBe(
      `${fault} (flag --share-layers)`,
    );
    const cli = await runMain([input, '--share-layers', 'groups:5', '-o', join(tiny.dir, 'share-cli', 'model.onnx')]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`${fault} (flag --share-layers)`);
  });

  it('calibration, the output and the folder options are named as the options given', async () => {
    const ablation: PassStep[] = [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }];
    const out = join(tiny.dir, 'ablation', 'model.onnx');
    expect(await refusal(() => compressFile({ input, output: out, steps: ablation }))).toBe(
      'prune-heads: ablation importance needs calibration data (context.calibration)',
    );
    expect(await refusal(() => compressFileNamingFlags({ input, output: out, steps: ablation }))).toBe(
      'prune-heads: ablation importance needs calibration data (--calibrate TASK)',
    );
    const steps: PassStep[] = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const aFolder = join(tiny.dir, 'a-folder.onnx');
    mkdirSync(aFolder, { recursive: true });
    expect(await refusal(() => compressFile({ input, output: aFolder, steps }))).toBe(`output ${aFolder}: ${aFolder} is a folder; give a file name`);
    expect(await refusal(() => compressFileNamingFlags({ input, output: aFolder, steps }))).toBe(`-o ${aFolder}: ${aFolder} is a folder; give a file name`);
    const aFile = join(tiny.dir, 'a-file');
    writeFileSync(aFile, 'x');
    expect(await refusal(() => compressToTransformersJs({ input, output: aFile, steps }))).toBe(
      `output ${aFile}: ${aFile} is a file; with compressToTransformersJs, output is the folder to write`,
    );
    expect(await refusal(() => compressToTransformersJsNamingFlags({ input, output: aFile, steps }))).toBe(
      `-o ${aFile}: ${aFile} is a file; with --format transformers.js, -o is the folder to write`,
    );
    expect(await refusal(() => compressToTransformersJs({ input, output: join(tiny.dir, 'web-data'), steps, externalData: true }))).toBe(
      'externalData: a transformers.js folder keeps the weights in its .onnx files',
    );
  });
  it("a setting of a pass the caller registered, which no flag fills, is named by the caller's step, where it said '(no command-line flag)' whatever the step", async () => {
    registerPass({
      ...declarePass({
        name: 'test-option-names-scale',
        description: 'a pass of the caller',
        version: 1,
        settings: z.strictObject({ factor: z.number().default(1).describe('the factor'), shift: z.number().default(0).describe('the shift') }),
        flags: { adds: [], modifiers: [] },
        options: (s) => s,
      }),
      async run(model) {
        return { model, report: { pass: 'test-option-names-scale', settings: {}, summary: 'left it' } };
      },
    });
    const steps: PassStep[] = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'test-option-names-scale', settings: { factor: 2, shift: 'x' } },
    ];
    const fault = "test-option-names-scale: shift 'x': Invalid input: expected number, received string";
    expect(await refusal(() => runPipeline(tiny.model, steps))).toBe(`${fault} (steps[1].settings.shift)`);
    expect(await refusal(() => parseSteps(steps))).toBe(`${fault} (steps[1].settings.shift)`);
    expect(await refusal(() => compressFile({ input, output: join(tiny.dir, 'scale', 'model.onnx'), steps }))).toBe(`${fault} (steps[1].settings.shift)`);
    // (the pass's own check, outside a pipeline, says no flag fills it)
    expect(await refusal(() => parseStepsNamingFlags(steps))).toBe(`${fault} (no command-line flag for shift)`);
  });
});
