/**
 * A Distilled BiLSTM student (compress distill --student bilstm:…) has no attention, so discovery finds no BERT in it
 * and every pass refused it ('no attention blocks found … not a BERT-family encoder'). quantize int8 now stores it
 * in int8 (the word table per row, the MLP's MatMuls as DynamicQuantizeMatMul, the LSTM as com.microsoft
 * DynamicQuantizeLSTM) and eval scores the result as the float student; every other pass and quantize mode refuses
 * it in one line saying why, before any work.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { readFloat32 } from '../../src/onnx/tensor.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { runTraining } from '../../src/train/run.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { bilstmConfigJson, exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-bilstm-quantize-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=16'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
const student = exportBilstm(config, randomBilstmWeights(config, 5));
const folder = writeModelFolder(join(work, 'student'), student);
writeFileSync(join(folder, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
const input = join(folder, 'model.onnx');
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 24, ['train', 'dev']);
const int8: PassStep = { pass: 'quantize', settings: { mode: 'int8' } };

describe('quantize int8 of a Distilled BiLSTM student', () => {
  it('stores the LSTM, the MLP and the word table in int8; onnxruntime runs it and eval scores it as the float student', async () => {
    const output = join(work, 'int8', 'model.onnx');
    const lineage = await compressFile({ input, output, steps: [int8] });
    const model = loadModel(output);
    const ops = model.graph.nodes.map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`);
    expect(ops).toContain('com.microsoft.DynamicQuantizeLSTM');
    expect(ops).not.toContain('LSTM');
    expect(ops.filter((o) => o === 'com.microsoft.DynamicQuantizeMatMul')).toHaveLength(2);
    const { embeddingSize: E, hiddenSize: H } = config;
    const init = model.graph.initializers;
    // DynamicQuantizeLSTM's layout: W [dirs, in, 4H], R [dirs, H, 4H], one scale and zero point per gate row
    expect([init.get('lstm.W_int8')?.dataType, init.get('lstm.W_int8')?.dims]).toEqual([DataType.INT8, [2, E, 4 * H]]);
    expect([init.get('lstm.R_int8')?.dataType, init.get('lstm.R_int8')?.dims]).toEqual([DataType.INT8, [2, H, 4 * H]]);
    expect(init.get('lstm.W_scale')?.dims).toEqual([2, 4 * H]);
    expect(init.get('embedding.weight_int8')?.dataType).toBe(DataType.INT8);
    for (const float of ['embedding.weight', 'lstm.W', 'lstm.R', 'mlp.0.weight', 'mlp.2.weight']) expect(init.has(float)).toBe(false);
    expect(lineage.after.bytes).toBeLessThan(0.4 * lineage.before.bytes);
    // the LSTM's scales and zero points are storage, as every quantized weight's: the student has as many parameters
    expect(lineage.after.params).toBe(lineage.before.params);
    // the run check: the int8 student on padded sample rows, against the float one
    expect(lineage.check.drift.map((d) => d.output)).toEqual(['logits']);
    expect(lineage.check.drift[0].maxAbsDiff).toBeLessThan(0.02);
    const report = lineage.passes[0].report;
    expect(report.summary).toMatch(/^int8: .*, 5 tensors quantized, max abs error/);
    expect((report.details!.quantized as { target: string; op: string }[]).map((r) => `${r.target} ${r.op}`)).toEqual([
      'lstm.input DynamicQuantizeLSTM',
      'lstm.recurrence DynamicQuantizeLSTM',
      'embeddings.word Gather',
      'head.0 DynamicQuantizeMatMul',
      'head.1 DynamicQuantizeMatMul',
    ]);
    // config.json (model_type bilstm) and the tokenizer come along: eval reads the output folder as the student's
    expect(JSON.parse(readFileSync(join(work, 'int8', 'config.json'), 'utf8'))).toMatchObject({ model_type: 'bilstm', hidden_size: H });
    const [float, quantized] = await Promise.all([folder, join(work, 'int8')].map((model) => evaluate({ model, tasks: ['sst2'], glueDir, threads: 1 })));
    expect(quantized.tasks[0].examples).toBe(24);
    expect(quantized.tasks[0].predictions).toEqual(float.tasks[0].predictions);
  });

  it('per tensor: one scale per direction for the LSTM; reduce range: its weights in [-64, 64]', async () => {
    const output = join(work, 'per-tensor', 'model.onnx');
    await compressFile({ input, output, steps: [{ pass: 'quantize', settings: { mode: 'int8', perChannel: false, reduceRange: true } }] });
    const init = loadModel(output).graph.initializers;
    expect(init.get('lstm.R_scale')?.dims).toEqual([2]);
    expect(init.get('lstm.R_zero_point')?.dims).toEqual([2]);
    const values = new Int8Array(init.get('lstm.R_int8')!.data.buffer, init.get('lstm.R_int8')!.data.byteOffset, init.get('lstm.R_int8')!.data.byteLength);
    expect(Math.max(...values.map(Math.abs))).toBe(64);
    expect(readFloat32(init.get('lstm.R_scale')!).every((s) => s > 0)).toBe(true);
  });

  it('refuses every other pass and quantize mode in one line saying why, before any work, and writes nothing', async () => {
    const cases: [PassStep[], string][] = [
      [[{ pass: 'prune-heads', settings: { ratio: 0.5 } }], 'prune-heads'],
      [[{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], 'prune-ffn'],
      [[{ pass: 'drop-layers', settings: { layers: [0] } }], 'drop-layers'],
      [[{ pass: 'factorize-embeddings', settings: { rank: 4 } }], 'factorize-embeddings'],
      [[{ pass: 'share-layers', settings: { share: 'all' } }], 'share-layers'],
      [[int8, { pass: 'optimize', settings: {} }], 'optimize'],
    ];
    for (const [steps, pass] of cases) {
      const output = join(work, `refused-${pass}`, 'model.onnx');
      await expect(compressFile({ input, output, steps })).rejects.toThrow(
        new SettingsError(
          `${pass}: the model is a recurrent model (a Distilled BiLSTM student): one LSTM and no attention heads, feed-forward blocks or encoder layers for ${pass} to rewrite; of the passes only quantize int8 (--quantize int8) applies to it`,
        ),
      );
      expect(existsSync(join(work, `refused-${pass}`))).toBe(false);
    }
    for (const mode of ['int8-group:8', 'int4-block:16']) {
      await expect(
        compressFile({ input, output: join(work, 'refused-mode', 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode } }] }),
      ).rejects.toThrow(
        new SettingsError(
          `quantize ${mode}: the model is a recurrent model (a Distilled BiLSTM student), and its LSTM has an int8 form only in mode int8 (DynamicQuantizeLSTM): use --quantize int8`,
        ),
      );
    }
    await expect(
      compressFile({
        input,
        output: join(work, 'refused-format', 'model.onnx'),
        steps: [{ pass: 'quantize', settings: { mode: 'int8', format: 'standard' } }],
      }),
    ).rejects.toThrow(/^quantize int8: format 'standard': the model is a recurrent model .*DynamicQuantizeLSTM, which format standard rules out/);
    await expect(compressToTransformersJs({ input, output: join(work, 'refused-tjs'), steps: [int8] })).rejects.toThrow(
      /^--format transformers\.js: the model is a recurrent model \(a Distilled BiLSTM student\), for which transformers\.js has no model type/,
    );
    expect(existsSync(join(work, 'refused-mode'))).toBe(false);
    // the library's runPipeline returns a BERT structure, which a recurrent model has not: said so
    await expect(runPipeline(student, [int8])).rejects.toThrow(/^runPipeline: the model is a recurrent model .*: compressFile writes it quantized$/);
  });

  it('is refused by train and distill as a student in one line naming what to train, where they said it was not a BERT-family encoder', async () => {
    const quantized = join(work, 'trained', 'int8.onnx');
    await compressFile({ input, output: quantized, steps: [int8] });
    const message = `${quantized}: a Distilled BiLSTM student stored in int8 (compress --quantize int8: DynamicQuantizeLSTM), which training cannot read: train the float student it was quantized from (${resolve(input)}), then quantize the result`;
    const settings = { epochs: 1, batchSize: 4, threads: 1 };
    await expect(runTraining({ task: 'SST-2', student: quantized, glueDir, output: join(work, 'trained', 'ft', 'model.onnx'), settings })).rejects.toThrow(
      new SettingsError(message),
    );
    const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
    const distill = { task: 'SST-2', teacher, student: quantized, glueDir, cacheDir: join(work, 'cache'), settings, distill: {} };
    await expect(runTraining({ ...distill, output: join(work, 'trained', 'kd', 'model.onnx') })).rejects.toThrow(new SettingsError(message));
    expect(existsSync(join(work, 'trained', 'ft'))).toBe(false);
    expect(existsSync(join(work, 'trained', 'kd'))).toBe(false);
  });

  it('is refused as a distill teacher in one line saying a teacher is an encoder, where discovery said no attention blocks were found', async () => {
    const message =
      'teacher: the model is a recurrent model (a Distilled BiLSTM student): a teacher is a BERT-family encoder (distil from the encoder it was distilled from)';
    const settings = { epochs: 1, batchSize: 4, threads: 1 };
    for (const student of ['every-other', 'bilstm:hidden=8', 'bert:layers=1,hidden=16,heads=2,intermediate=32']) {
      const output = join(work, 'bilstm-teacher', 'model.onnx');
      await expect(
        runTraining({ task: 'SST-2', teacher: folder, student, glueDir, cacheDir: join(work, 'cache'), output, settings, distill: {} }),
      ).rejects.toThrow(new SettingsError(message));
      expect(existsSync(join(work, 'bilstm-teacher'))).toBe(false);
    }
  });

  it('refuses to quantize the int8 student again', async () => {
    const first = join(work, 'again', 'model.onnx');
    await compressFile({ input, output: first, steps: [int8] });
    await expect(compressFile({ input: first, output: join(work, 'again', 'twice.onnx'), steps: [int8] })).rejects.toThrow(
      new SettingsError(
        'quantize int8: the model is a recurrent model (a Distilled BiLSTM student) whose LSTM is quantized already: quantize the float model instead',
      ),
    );
    // (named by the step's mode, whichever it is: the LSTM stored in int8 is refused first)
    await expect(
      compressFile({ input: first, output: join(work, 'again', 'half.onnx'), steps: [{ pass: 'quantize', settings: { mode: 'float16' } }] }),
    ).rejects.toThrow(/^quantize float16: the model is a recurrent model \(a Distilled BiLSTM student\) whose LSTM is quantized already/);
  });

  it('takes an LSTM whose layout is written out as the default (0), which DynamicQuantizeLSTM has not, and refuses layout 1 in one line', async () => {
    const withLayout = (layout: number): string => {
      const m = cloneModel(student);
      const lstm = m.graph.nodes.find((n) => n.opType === 'LSTM')!;
      lstm.attributes.layout = { type: 'int', value: layout };
      const dir = join(work, `layout-${layout}`);
      writeModelFolder(dir, m);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
      return dir;
    };
    const zero = withLayout(0);
    const output = join(work, 'layout-0-int8', 'model.onnx');
    await compressFile({ input: join(zero, 'model.onnx'), output, steps: [int8] });
    const lstm = loadModel(output).graph.nodes.find((n) => n.opType === 'DynamicQuantizeLSTM')!;
    expect(Object.keys(lstm.attributes).sort()).toEqual(['direction', 'hidden_size']);
    const [float, quantized] = await Promise.all([zero, join(work, 'layout-0-int8')].map((model) => evaluate({ model, tasks: ['sst2'], glueDir, threads: 1 })));
    expect(quantized.tasks[0].predictions).toEqual(float.tasks[0].predictions);

    const one = withLayout(1);
    await expect(compressFile({ input: join(one, 'model.onnx'), output: join(work, 'layout-1-int8', 'model.onnx'), steps: [int8] })).rejects.toThrow(
      new SettingsError(
        'quantize int8: the model is a recurrent model (a Distilled BiLSTM student) whose LSTM has layout 1 (batch first), which its int8 form, com.microsoft DynamicQuantizeLSTM, does not take: export it with layout 0 (sequence first)',
      ),
    );
    expect(existsSync(join(work, 'layout-1-int8'))).toBe(false);
  });
});
