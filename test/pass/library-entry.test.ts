/**
 * The library as the README's "Library" section shows it: `runPipeline` and `compressFile` imported from the
 * package's entry points run the built-in passes by name, with no registration call first. This file imports
 * nothing that registers the passes itself (each test file runs in a module graph of its own).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  benchModels,
  compressFile,
  compressToTransformersJs,
  evaluate,
  findBert,
  loadCalibration,
  loadModel,
  runPipeline,
  SettingsError,
  UserError,
} from '../../src/index.ts';
import * as root from '../../src/index.ts';
import { EVAL_OPTION_NAMES, loadCalibration as loadCalibrationFromEval } from '../../src/eval/index.ts';
import { renameFlags } from '../../src/flag-names.ts';
import { ALL_PASSES, passNames } from '../../src/pass/index.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, writeTinyBert } from '../helpers/models.ts';

const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
afterAll(() => tiny.cleanup());

describe('the library entry points', () => {
  it('know every built-in pass on import', () => {
    expect(passNames()).toEqual(ALL_PASSES.map((p) => p.name).sort());
  });

  it("the package's root holds every call the README's Library section names", () => {
    const named = [
      'loadModel',
      'saveModel',
      'findBert',
      'ALL_PASSES',
      'runPipeline',
      'compressFile',
      'compressToTransformersJs',
      'loadCalibration',
      'evaluate',
      'benchModels',
      'buildGradientGraph',
      'runTraining',
      'runSweep',
      'loadReport',
      'renderReport',
      'writeReportFiles',
      'UserError',
      'ModelLoadError',
      'NotBertError',
      'SettingsError',
      'DataError',
    ];
    expect(named.filter((name) => !(name in root))).toEqual([]);
    expect(root.ALL_PASSES).toBe(ALL_PASSES);
  });

  it('runPipeline runs a built-in pass by name', async () => {
    const result = await runPipeline(tiny.model, [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]);
    expect(result.structure.layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
    expect(result.steps.map((s) => s.pass)).toEqual(['prune-ffn']);
  });

  it('compressFile writes the model a built-in pass makes', async () => {
    const out = join(tiny.dir, 'out', 'model.onnx');
    const lineage = await compressFile({ input: tiny.path, output: out, steps: [{ pass: 'drop-layers', settings: { layers: [1] } }] });
    expect(lineage.passes.map((p) => p.step.pass)).toEqual(['drop-layers']);
    expect(findBert(loadModel(out)).layers).toHaveLength(1);
  });

  it('--calibrate and --format transformers.js are library calls too: loadCalibration and compressToTransformersJs', async () => {
    expect(loadCalibrationFromEval).toBe(loadCalibration);
    const folder = writeModelFolder(join(tiny.dir, 'folder'), tinyBert({}, { std: 0.2, seed: 5 }));
    const glueDir = join(tiny.dir, 'glue');
    writeGlueTask(glueDir, 'SST-2', 24, ['train', 'dev']);
    const calibration = await loadCalibration({ model: folder, task: 'SST-2', glueDir, examples: 16 });
    expect(calibration.provenance?.examples).toBe(16);
    const pruned = await runPipeline(loadModel(join(folder, 'model.onnx')), [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }], {
      calibration,
    });
    expect(pruned.structure.layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0)).toBe(4);
    const web = join(tiny.dir, 'web');
    const written = await compressToTransformersJs({
      input: join(folder, 'model.onnx'),
      output: web,
      steps: [{ pass: 'quantize', settings: { mode: 'int8' } }],
      modelDir: folder,
    });
    expect(written.lineage.passes.map((p) => p.step.pass)).toEqual(['quantize']);
    expect(existsSync(join(web, 'config.json'))).toBe(true);
    expect(
      readdirSync(join(web, 'onnx'))
        .filter((f) => f.endsWith('.onnx'))
        .sort(),
    ).toEqual(['model.onnx', 'model_quantized.onnx']);
  });

  it('refuse list options that are not lists (a JavaScript caller past the types) in one SettingsError naming them', async () => {
    const refused = async (run: () => Promise<unknown>, message: string) => {
      const e = await run().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(SettingsError);
      expect((e as Error).message).toBe(message);
    };
    const loose = (v: unknown) => v as never;
    await refused(
      () => evaluate({ model: tiny.path, tasks: loose('SST-2') }),
      `tasks: expected a list of GLUE task names (e.g. ['SST-2']) or 'all', got string "SST-2"`,
    );
    await refused(() => evaluate({ model: tiny.path, tasks: loose(['SST-2', 3]) }), 'tasks[1]: expected a GLUE task name, got number 3');
    await refused(
      () => evaluate({ model: tiny.path, tasks: loose(undefined) }),
      `tasks: expected a list of GLUE task names (e.g. ['SST-2']) or 'all', got undefined`,
    );
    await refused(
      () => benchModels({ model: tiny.path, batches: loose('1,8'), seqs: [8] }),
      'batches: expected a list, each an integer from 1 to 2^53 − 1, got string "1,8"',
    );
    await refused(() => runPipeline(tiny.model, loose(undefined)), 'steps: expected a list of {pass, settings}, got undefined');
    await refused(() => runPipeline(tiny.model, loose(['prune-ffn'])), 'steps[0]: expected {pass, settings}, got string "prune-ffn"');
    // (a step without its settings, or settings of another kind: named as the step's, where the pass's schema said
    // 'optimize: Invalid input: expected object, received undefined')
    await refused(
      () => runPipeline(tiny.model, loose([{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, { pass: 'optimize' }])),
      "steps[1].settings: missing (an object of the pass's settings; {} for its defaults)",
    );
    await refused(
      () => runPipeline(tiny.model, loose([{ pass: 'optimize', settings: null }])),
      "steps[0].settings: expected an object of the pass's settings ({} for its defaults), got null",
    );
    await refused(
      () => compressFile({ input: tiny.path, output: join(tiny.dir, 'refused', 'model.onnx'), steps: loose([{ pass: 'prune-ffn', settings: [0.5] }]) }),
      "steps[0].settings: expected an object of the pass's settings ({} for its defaults), got a list",
    );
    await refused(
      () => compressToTransformersJs({ input: tiny.path, output: join(tiny.dir, 'refused-web'), steps: loose([{ pass: 'quantize' }]) }),
      "steps[0].settings: missing (an object of the pass's settings; {} for its defaults)",
    );
    await refused(
      () => compressFile({ input: tiny.path, output: join(tiny.dir, 'refused', 'model.onnx'), steps: loose(undefined) }),
      'steps: expected a list of {pass, settings}, got undefined',
    );
  });

  it('evaluate, loadCalibration, benchModels and runTraining name the options a library caller gives, not the flags of the commands that run them', async () => {
    const refusal = (run: () => Promise<unknown>) =>
      run().then(
        () => 'ran',
        (e: Error) => (expect(e).toBeInstanceOf(UserError), e.message),
      );
    // (the tiny model's position table has 64 rows)
    const folder = writeModelFolder(join(tiny.dir, 'named'), tiny.model);
    expect(await refusal(() => root.evaluate({ model: folder, tasks: ['SST-2'], maxLength: 65 }))).toBe(
      `${join(folder, 'model.onnx')}: maxLength 65 is beyond the model's position table (64 tokens at most)`,
    );
    expect(await refusal(() => root.evaluate({ model: tiny.path, tasks: ['SST-2'] }))).toBe(
      `${tiny.dir}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model (give the tokenizer folder with the tokenizer option)`,
    );
    expect(await refusal(() => root.evaluate({ model: tiny.path, tasks: ['SST-2'], threads: 1e6 }))).toMatch(
      /^threads 1000000: expected an integer from 0 to /,
    );
    // (a modelConfig path that names nothing, a typo: refused, where it was read as an empty config and the scores'
    // labels mapped by the task's order, not the model's id2label)
    const typo = join(tiny.dir, 'conifg.json');
    expect(await refusal(() => root.evaluate({ model: folder, tasks: ['SST-2'], modelConfig: typo }))).toBe(`modelConfig ${typo}: no such file or folder`);
    // (a list that names no task: the option's words, where the command line's 'use --task NAME[,NAME…] or --tasks all')
    expect(await refusal(() => root.evaluate({ model: folder, tasks: [] }))).toBe(
      `tasks: expected a list of GLUE task names (e.g. ['SST-2']) or 'all', got [], which names none`,
    );
    expect(await refusal(() => root.evaluate({ model: folder, tasks: [' , '] }))).toBe(
      `tasks: expected a list of GLUE task names (e.g. ['SST-2']) or 'all', got [" , "], which names none`,
    );
    expect(await refusal(() => root.loadCalibration({ model: tiny.path, task: 'SST-2', examples: 0 }))).toBe(
      'examples 0: expected an integer from 1 to 2^53 − 1',
    );
    expect(await refusal(() => loadCalibrationFromEval({ model: folder, task: 'SST-2', maxLength: 65 }))).toBe(
      `${join(folder, 'model.onnx')}: maxLength 65 is beyond the model's position table (64 tokens at most)`,
    );
    expect(await refusal(() => root.benchModels({ model: tiny.path, seqs: [65], batches: [1] }))).toBe(
      `${tiny.path}: seqs 65 is beyond the model's position table (64 tokens at most)`,
    );
    expect(await refusal(() => root.benchModels({ model: tiny.path, baselineDtype: 'fp32' }))).toBe('baselineDtype: no baseline given');
    const out = join(tiny.dir, 'trained', 'model.onnx');
    expect(await refusal(() => root.runTraining({ task: 'SST-2', student: tiny.path, output: out, settings: { lr: -1 } }))).toBe(
      'settings.lr -1: expected a number greater than 0',
    );
    expect(
      await refusal(() => root.runTraining({ task: 'SST-2', student: 'every-other', teacher: tiny.path, output: out, distill: { alpha: 2 } as never })),
    ).toBe('distill.alpha 2: expected a number in [0, 1]');
    expect(await refusal(() => root.runTraining({ task: 'SST-2', student: folder, output: out, maxExamples: 0 }))).toBe(
      'maxExamples 0: expected an integer from 1 to 2^53 − 1',
    );
    // (distillation settings without a teacher, where it fine-tuned on the labels, distill unread)
    expect(await refusal(() => root.runTraining({ task: 'SST-2', student: folder, output: out, distill: { alpha: 0.5 } }))).toBe(
      'distill: given without teacher; give teacher, the model to distil from (or leave distill out to fine-tune on the labels)',
    );
    // (its feature cache in the bytes given, where it was --feature-cache-mb -9.5367431640625e-7)
    expect(await refusal(() => root.runTraining({ task: 'SST-2', student: folder, output: out, featureCacheBytes: -1 }))).toBe(
      'featureCacheBytes -1: expected a number 0 or greater',
    );
    // (a feature cache without intermediate-layer KD, in the options' words; fine-tuning computes no teacher features either)
    const unread = "featureCacheBytes applies with distill.intermediate (it caches the teacher's intermediate-layer features)";
    expect(await refusal(() => root.runTraining({ task: 'SST-2', student: 'every-other', teacher: tiny.path, output: out, featureCacheBytes: 1 << 20 }))).toBe(
      unread,
    );
    expect(await refusal(() => root.runTraining({ task: 'SST-2', student: folder, output: out, featureCacheBytes: 1 << 20 }))).toBe(unread);
    // (its output named as the option, where it was `-o OUT` of compress train and distill)
    const folderOut = join(tiny.dir, 'a-folder.onnx');
    mkdirSync(folderOut, { recursive: true });
    const outputRefusal = await refusal(() => root.runTraining({ task: 'SST-2', student: tiny.path, output: folderOut }));
    expect(outputRefusal.startsWith(`output ${folderOut}: `), outputRefusal).toBe(true);
    expect(outputRefusal).not.toMatch(/(^|\s)-o\b/);
    // (a command it gives to run keeps its flags)
    expect(renameFlags('task AX: predict it with (compress eval --split test --submission DIR)', EVAL_OPTION_NAMES)).toBe(
      'task AX: predict it with (compress eval --split test --submission DIR)',
    );
  });

  it("every function of the package's root refuses a missing or wrong argument (a JavaScript caller's null, undefined or {}) in one UserError, not a TypeError", async () => {
    // (the functions whose every argument may be left out; error classes are not called)
    const noneRequired = new Set(['registerAllPasses', 'toolVersion', 'hubSettings', 'isHubRef']);
    const functions = Object.entries(root).filter(
      ([name, v]) => typeof v === 'function' && !noneRequired.has(name) && !(v.prototype instanceof Error) && v !== Error,
    );
    expect(functions.length).toBeGreaterThan(20);
    const errors: string[] = [];
    for (const [name, fn] of functions) {
      for (const arg of [null, undefined, {}]) {
        const e = await (async () => (fn as (...a: unknown[]) => unknown)(arg))().then(
          () => undefined,
          (err: unknown) => err,
        );
        const shown = `${name}(${JSON.stringify(arg) ?? 'undefined'})`;
        if (!(e instanceof root.UserError)) errors.push(`${shown}: ${e === undefined ? 'returned' : String(e)}`);
        else if (e.message.includes('\n') || /Cannot read propert|argument must be/.test(e.message)) errors.push(`${shown}: ${e.message}`);
      }
    }
    expect(errors).toEqual([]);
    expect(() => root.hubSettings(null as never)).toThrow(/^hubSettings: env: expected the environment's variables \(process\.env\), got null$/);
    expect(root.hubSettings().cacheDir).toBe(root.hubSettings(process.env).cacheDir);
    expect(() => root.findBert(null as never)).toThrow(/^findBert: model: expected a model \(what loadModel returns\), got null$/);
    expect(() => root.inspectModel(null as never, 'm')).toThrow(/^inspectModel: model: expected a model \(what loadModel returns\), got null$/);
    await expect(root.runTraining({} as never)).rejects.toThrow(/^runTraining: student: missing; expected the student: /);
    await expect(root.runTraining({ student: tiny.path } as never)).rejects.toThrow(/^runTraining: output: missing; expected the output \.onnx path$/);
    await expect(root.runSweep({ file: 'sweep.yaml' } as never)).rejects.toThrow(/^runSweep: store: missing; expected the SQLite store to write$/);
    await expect(root.compressFile({ input: tiny.path, steps: [] } as never)).rejects.toThrow(
      /^compressFile: output: missing; expected the \.onnx file to write$/,
    );
  });

  it('compressFile and compressToTransformersJs refuse an unknown pass or a bad setting before making any folder', async () => {
    const cases = [
      { steps: [{ pass: 'prune-heads', settings: { ratio: 2 } }], message: /^prune-heads: ratio 2: expected a number in \[0, 1\)/ },
      // (named as the step's, where it said 'pass: expected one of …' of no step)
      { steps: [{ pass: 'nope', settings: {} }], message: /^steps\[0\]\.pass: expected one of .*prune-heads.*, got string "nope"$/ },
      {
        steps: [
          { pass: 'prune-heads', settings: { ratio: 0.5 } },
          { pass: 'prune-layers', settings: {} },
        ],
        message: /^steps\[1\]\.pass: expected one of drop-layers, .*, got string "prune-layers"$/,
      },
    ];
    for (const [i, { steps, message }] of cases.entries()) {
      const folder = join(tiny.dir, `refused-${i}`);
      await expect(compressFile({ input: tiny.path, output: join(folder, 'model.onnx'), steps })).rejects.toThrow(message);
      await expect(compressToTransformersJs({ input: tiny.path, output: join(folder, 'web'), steps })).rejects.toThrow(message);
      expect(existsSync(folder)).toBe(false);
    }
  });
});
