/**
 * compress's one-line refusals name the files the user gave (the -o path, the input), never the staging folder
 * (`.compress-<host>-<pid>-XXXXXX`) the output is written and checked in, nor a file under it: onnxruntime's refusal
 * of a written model named the staged copy (`…/.compress-vm-6280-oQXHy6/model.onnx: onnxruntime cannot load the
 * model: Load model from …/.compress-vm-6280-oQXHy6/model.onnx failed: …`), and in a transformers.js folder the
 * staged folder and its inner staged model too. A test pass breaks the model after the real passes would run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { int64Tensor } from '../../src/onnx/tensor.ts';
import { registerPass } from '../../src/pass/registry.ts';
import { declarePass } from '../../src/pass/settings.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

/** A pass whose model onnxruntime refuses to load (an op it has no kernel for) or fails to run (a Reshape to 7 values). */
for (const [name, op] of [
  ['test-unloadable', 'NoSuchOp'],
  ['test-unrunnable', 'Reshape'],
] as const) {
  registerPass({
    ...declarePass({
      name,
      description: 'breaks the model',
      version: 1,
      settings: z.strictObject({}),
      flags: { adds: [], modifiers: [] },
      options: () => ({}),
    }),
    async run(model, _structure, _options, context) {
      // (the float16 model only, with seed 16: a transformers.js folder's float model is written first, unbroken)
      if (context.seed === 16 && ![...model.graph.initializers.values()].some((t) => t.dataType === DataType.FLOAT16))
        return { model, report: { pass: name, settings: {}, summary: 'left the float model alone' } };
      const m = cloneModel(model);
      const out = m.graph.outputs[0]!.name;
      m.graph.nodes.find((n) => n.outputs.includes(out))!.outputs = [`${out}_before`];
      if (op === 'Reshape') m.graph.initializers.set('seven', int64Tensor('seven', [1], [7]));
      m.graph.nodes.push({
        name: 'broken',
        opType: op,
        domain: '',
        inputs: [`${out}_before`, ...(op === 'Reshape' ? ['seven'] : [])],
        outputs: [out],
        attributes: {},
      });
      return { model: m, report: { pass: name, settings: {}, summary: 'broke the model' } };
    },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'bc-user-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const input = join(writeModelFolder(join(dir, 'in'), tinyBert()), 'model.onnx');

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe.each([
  ['test-unloadable', 'cannot load the model'],
  ['test-unrunnable', 'cannot run the model'],
])('a written model onnxruntime refuses (%s)', (pass, what) => {
  it('is refused naming the -o file, not its staged copy', async () => {
    const output = join(dir, `out-${pass}`, 'small.onnx');
    const m = await refusal(() => compressFile({ input, output, steps: [{ pass, settings: {} }] }));
    expect(m).toMatch(new RegExp(`^${output.replace(/[.]/g, '\\.')}: onnxruntime ${what}: `));
    expect(m).not.toContain('.compress-');
    expect(m.indexOf(output)).toBe(m.lastIndexOf(output)); // (onnxruntime's 'Load model from PATH failed' left out)
    expect(existsSync(join(dir, `out-${pass}`))).toBe(false);
  });

  it('is refused naming the file in the transformers.js folder, not the staged folder', async () => {
    const output = join(dir, `tjs-${pass}`);
    const m = await refusal(() => compressToTransformersJs({ input, output, steps: [{ pass, settings: {} }] }));
    expect(m).toMatch(new RegExp(`^${join(output, 'onnx', 'model.onnx').replace(/[.]/g, '\\.')}: onnxruntime ${what}: `));
    expect(m).not.toContain('.compress-');
    expect(readdirSync(dir).filter((n) => n.startsWith('.compress-') || n === `tjs-${pass}`)).toEqual([]);
  });

  it('is refused naming the float16 file in the transformers.js folder, not the staged model', async () => {
    const output = join(dir, `tjs16-${pass}`);
    const steps = [
      { pass: 'quantize', settings: { mode: 'float16' } },
      { pass, settings: {} },
    ];
    const m = await refusal(() => compressToTransformersJs({ input, output, steps, context: { seed: 16 } }));
    expect(m).toMatch(new RegExp(`^${join(output, 'onnx', 'model_fp16.onnx').replace(/[.]/g, '\\.')}: onnxruntime ${what}: `));
    expect(m).not.toContain('.compress-');
    expect(m).not.toContain('staged');
    expect(readdirSync(dir).filter((n) => n.startsWith('.compress-') || n === `tjs16-${pass}`)).toEqual([]);
  });
});
