/**
 * The package's entry points as a JavaScript caller uses them (README, "Library"): options of the wrong kind are
 * refused in one line naming the option, before any work, where they were read as something else or hung.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, loadCalibration, loadTokenizer, prepareTask, scoreTask } from '../src/eval/index.ts';
import { SST2 } from '../src/glue/tasks.ts';
import { benchModels } from '../src/bench/index.ts';
import { runTraining } from '../src/train/library.ts';
import {
  buildGradientGraph,
  compressFile,
  compressToTransformersJs,
  downloadSnapshot,
  exportHuggingFaceFolder,
  exportToTransformersJs,
  findBert,
  loadModel,
  loadReport,
  openSession,
  renderReport,
  resolveModelRef,
  resolveModelSource,
  runPipeline,
  runSweep,
  saveModel,
  writeReportFiles,
} from '../src/index.ts';
import { encodeModel } from '../src/onnx/save.ts';
import { tinyBert, tinyBertConfig } from './helpers/models.ts';
import { writeModelFolder } from './helpers/model-folder.ts';
import { posterPoints } from './report/points.ts';
import { buildReport, toHtml } from '../src/report/index.ts';
import { writeReportFiles as writeReportFilesNamingFlags } from '../src/report/write.ts';
import { writeHuggingFaceFolder } from '../src/bert/build-hf.ts';
import { randomBertWeights } from '../src/bert/build-weights.ts';
import { buildBert, buildFromHuggingFaceFolder, rebuildCanonical, sampleBatch, sampleInputs } from '../src/bert/index.ts';
import { decodeModel } from '../src/onnx/index.ts';
import { planSweep, runPoint, SweepStore } from '../src/sweep/index.ts';
import { appendLoss } from '../src/gradients/index.ts';
import { glueScore } from '../src/eval/index.ts';
import { acquireTimingLock } from '../src/bench/index.ts';
import { exportHuggingFaceFolder as exportHuggingFaceFolderNamingFlags } from '../src/export/from-huggingface.ts';
import { SettingsError, UserError } from '../src/errors.ts';

describe('loadCalibration', () => {
  it('refuses a batchSize that is no whole number of rows (0 looped for ever over the examples)', async () => {
    for (const [batchSize, line] of [
      [0, 'batchSize 0: expected an integer from 1 to 2^53 − 1'],
      [2.5, 'batchSize 2.5: expected an integer from 1 to 2^53 − 1'],
      ['x', 'batchSize: expected an integer from 1 to 2^53 − 1, got string "x"'],
    ] as const) {
      const e = await loadCalibration({ model: 'no-such-model', task: 'SST-2', batchSize: batchSize as number }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SettingsError);
      expect((e as Error).message).toBe(line);
    }
  });
});

/** The refusal `call` ends in (a SettingsError, its message), or undefined where it refuses none of that kind. */
async function refusal(call: () => Promise<unknown>): Promise<string | undefined> {
  const e = await call().catch((x: unknown) => x);
  return e instanceof SettingsError ? e.message : undefined;
}

describe('option kinds of the entry points, before any work', () => {
  const train = { student: 'no-such-student', task: 'SST-2', output: 'no-such-folder/model.onnx' };
  it('runTraining refuses options of another kind that it read as something else or failed on with a TypeError', async () => {
    for (const [options, line] of [
      // (a string read as true: a new classifier)
      [{ newHead: 'x' }, 'runTraining: newHead: expected true or false, got string "x"'],
      [{ force: 1 }, 'runTraining: force: expected true or false, got number 1'],
      [{ keepWorkDir: 'yes' }, 'runTraining: keepWorkDir: expected true or false, got string "yes"'],
      // (read as refuse, said nothing)
      [{ otherJob: 'x' }, 'runTraining: otherJob: expected one of refuse, start-over, got string "x"'],
      // (TypeError: The "paths[0]" argument must be of type string)
      [{ glueDir: 3 }, 'runTraining: glueDir: expected a non-empty string, got number 3'],
      [{ workDir: 3 }, 'runTraining: workDir: expected a non-empty string, got number 3'],
      [{ tokenizer: {} }, 'runTraining: tokenizer: expected a non-empty string, got an object'],
      [{ cacheDir: 3 }, 'runTraining: cacheDir: expected a non-empty string, got number 3'],
      // (TypeError: log is not a function; onStep 'x' was never called where no step ran)
      [{ log: 'x' }, 'runTraining: log: expected a function, got string "x"'],
      [{ onStep: 'x' }, 'runTraining: onStep: expected a function, got string "x"'],
      [{ signal: 'x' }, 'runTraining: signal: expected an AbortSignal (AbortController.signal), got string "x"'],
      // (a string's characters read as settings '0', '1': the defaults trained)
      [{ settings: 'x' }, 'runTraining: settings: expected an object of options, got string "x"'],
      [{ settings: { sparseEmbeddings: 'x' } }, 'runTraining: settings.sparseEmbeddings: expected true or false, got string "x"'],
      [{ settings: { evalEachEpoch: 0 } }, 'runTraining: settings.evalEachEpoch: expected true or false, got number 0'],
      [{ distill: { corpus: 3 }, teacher: 'no-such-teacher' }, 'runTraining: distill.corpus: expected a non-empty string, got number 3'],
      [{ distill: { intermediate: 3 }, teacher: 'no-such-teacher' }, 'runTraining: distill.intermediate: expected a preset name or a list, got number 3'],
    ] as const) {
      expect(await refusal(() => runTraining({ ...train, ...options } as never))).toBe(line);
    }
  });

  it('refuses an option it does not take, naming those it takes (a misspelt one was read as nothing)', async () => {
    expect(await refusal(() => runTraining({ ...train, maxLenght: 64 } as never))).toMatch(
      /^runTraining: maxLenght: not an option of runTraining \(its options: task, student, teacher, output, newHead, .*, onStep\)$/,
    );
    expect(await refusal(() => runTraining({ ...train, settings: { learningRate: 1e-4 } } as never))).toMatch(
      /^runTraining: settings.learningRate: not an option of runTraining's settings \(its options: epochs, batchSize, lr, .*\)$/,
    );
    expect(await refusal(() => evaluate({ model: 'm', tasks: ['SST-2'], max_length: 64 } as never))).toMatch(
      /^evaluate: max_length: not an option of evaluate /,
    );
    expect(await refusal(() => benchModels({ model: 'm', batch: [1] } as never))).toMatch(/^benchModels: batch: not an option of benchModels /);
    expect(await refusal(() => loadCalibration({ model: 'm', task: 'SST-2', exmaples: 4 } as never))).toMatch(/^loadCalibration: exmaples: not an option /);
  });

  it('evaluate, benchModels and loadCalibration refuse options of another kind', async () => {
    const ev = { model: 'no-such-model', tasks: ['SST-2'] };
    for (const [options, line] of [
      [{ glueDir: 3 }, 'evaluate: glueDir: expected a non-empty string, got number 3'],
      // (TypeError: tokenizer.encode is not a function)
      [{ tokenizer: 3 }, 'evaluate: tokenizer: expected a tokenizer folder or a tokenizer (what loadTokenizer returns), got number 3'],
      [{ modelConfig: [] }, 'evaluate: modelConfig: expected a config.json path or what readModelConfig returns, got a list'],
      // (read as true: WNLI counted)
      [{ includeWnli: 'no' }, 'evaluate: includeWnli: expected true or false, got string "no"'],
      [{ submissionDir: 3 }, 'evaluate: submissionDir: expected a non-empty string, got number 3'],
      [{ modelName: 3 }, 'evaluate: modelName: expected a non-empty string, got number 3'],
      [{ onProgress: 'x' }, 'evaluate: onProgress: expected a function, got string "x"'],
    ] as const) {
      expect(await refusal(() => evaluate({ ...ev, ...options } as never))).toBe(line);
    }
    for (const [options, line] of [
      [{ spinning: 'x' }, 'benchModels: spinning: expected true or false, got string "x"'],
      [{ sessionMemory: 1 }, 'benchModels: sessionMemory: expected true or false, got number 1'],
      [{ onShape: 'x' }, 'benchModels: onShape: expected a function, got string "x"'],
      [{ onLockWait: 'x' }, 'benchModels: onLockWait: expected a function, got string "x"'],
      [{ signal: {} }, 'benchModels: signal: expected an AbortSignal (AbortController.signal), got an object'],
      [{ timingLock: 'x' }, 'benchModels: timingLock: expected an object of options, got string "x"'],
      [{ timingLock: { file: 3 } }, 'benchModels: timingLock.file: expected a non-empty string, got number 3'],
    ] as const) {
      expect(await refusal(() => benchModels({ model: 'no-such-model', ...options } as never))).toBe(line);
    }
    for (const [options, line] of [
      [{ glueDir: 3 }, 'loadCalibration: glueDir: expected a non-empty string, got number 3'],
      [{ tokenizer: 3 }, 'loadCalibration: tokenizer: expected a non-empty string, got number 3'],
    ] as const) {
      expect(await refusal(() => loadCalibration({ model: 'no-such-model', task: 'SST-2', ...options } as never))).toBe(line);
    }
  });

  it('lets options of their kinds, and undefined ones, through to the call (which refuses the missing model)', async () => {
    const e = await runTraining({ ...train, newHead: true, otherJob: 'start-over', settings: { sparseEmbeddings: false, lr: undefined }, log: () => {} }).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toBe('no-such-student: no such model (train needs a model path)');
    const ev = await evaluate({ model: 'no-such-model', tasks: ['SST-2'], includeWnli: false, onProgress: () => {} }).catch((x: unknown) => x);
    expect((ev as Error).message).toMatch(/^no-such-model: no such file or folder/);
  });
});

describe('prepareTask (bert-compress/eval)', () => {
  const glueDir = mkdtempSync(join(tmpdir(), 'lib59-prepare-task-'));
  mkdirSync(join(glueDir, 'SST-2'));
  writeFileSync(join(glueDir, 'SST-2', 'dev.tsv'), 'sentence\tlabel\na charming journey .\t1\n');
  const tokenizer = loadTokenizer(join(import.meta.dirname, '..', 'fixtures', 'tiny-bert'));
  it("names its arguments as evaluate names its options, where it named compress eval's flags", () => {
    expect(() => prepareTask(SST2, 'dev', glueDir, tokenizer, 2)).toThrow(
      /^maxLength 2 leaves no room for text after 2 special tokens: give maxLength 3 or more$/,
    );
    expect(() => prepareTask(SST2, 'dev', join(glueDir, 'none'), tokenizer, 8)).toThrow(/; set glueDir or GLUE_DIR\)$/);
    expect(prepareTask(SST2, 'dev', glueDir, tokenizer, 8).encodings).toHaveLength(1);
  });
  it('refuses a maxLength that is no integer from 2, where it cut no text', () => {
    expect(() => prepareTask(SST2, 'dev', glueDir, tokenizer, 'x' as unknown as number)).toThrow(
      /^maxLength: expected an integer from 2 to 2\^53 − 1, got string "x"$/,
    );
  });
  it('refuses a maxLength left out, where each example was cut to its special tokens alone (no text), silently', () => {
    expect(() => prepareTask(SST2, 'dev', glueDir, tokenizer, undefined as unknown as number)).toThrow(
      /^maxLength: missing; expected an integer from 2 \(the tokens of an example, special tokens included\)$/,
    );
  });
});

describe('scoreTask (bert-compress/eval)', () => {
  // (checked before the session or the task is read)
  const score = (opts: unknown) => scoreTask(null as never, null as never, opts as never);
  it('checks its options by their kinds, where a misspelt one was read as nothing and a modelConfig path mapped no labels', async () => {
    await expect(score({ batchSise: 8 })).rejects.toThrow(/^scoreTask: batchSise: not an option of scoreTask \(its options: batchSize, inputs, /);
    await expect(score({ modelConfig: 'config.json' })).rejects.toThrow(
      /^scoreTask: modelConfig: expected a parsed config.json \(readModelConfig\), got string "config.json"$/,
    );
    await expect(score({ batchSize: 0 })).rejects.toThrow(/^scoreTask: batchSize: expected an integer from 1, got number 0$/);
    await expect(score('x')).rejects.toThrow(/^scoreTask: expected an options object/);
  });
});

describe('hf:org/name given to a library call (the CLI downloads it, the library reads local models)', () => {
  const advice = (fn: string, option: string, ref: string) =>
    `${fn}: ${option} ${ref}: a Hugging Face hub reference, which the library does not download (it reads local models): fetch it first with resolveModelRef('${ref}') (bert-compress), which downloads it into the Hugging Face cache (an ONNX export made once for a safetensors checkpoint) and returns its local folder, and give that`;
  it("says so and names resolveModelRef, where it said 'hf:org/x: no such file or folder'", async () => {
    const train = { student: 'no-such-student', task: 'SST-2', output: 'no-such-folder/model.onnx' };
    for (const [call, option, ref, ref3] of [
      [() => evaluate({ model: 'hf:org/x', tasks: ['SST-2'] }), 'evaluate', 'model'],
      [() => evaluate({ model: 'm', tokenizer: 'hf:org/x', tasks: ['SST-2'] }), 'evaluate', 'tokenizer'],
      [() => loadCalibration({ model: 'hf:org/x', task: 'SST-2' }), 'loadCalibration', 'model'],
      [() => benchModels({ model: 'hf:org/x' }), 'benchModels', 'model'],
      [() => benchModels({ model: 'm', baseline: 'hf:org/x' }), 'benchModels', 'baseline'],
      [() => runTraining({ ...train, student: 'hf:org/x' }), 'runTraining', 'student'],
      [() => runTraining({ ...train, teacher: 'hf:org/x' }), 'runTraining', 'teacher'],
      [() => runTraining({ ...train, tokenizer: 'hf:org/x@v1' }), 'runTraining', 'tokenizer', 'hf:org/x@v1'],
    ] as const) {
      expect(await refusal(call)).toBe(advice(option, ref, ref3 ?? 'hf:org/x'));
    }
  });
  it('reads a local folder of that name as it is', async () => {
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), 'lib59-hub-named-'));
    mkdirSync(join(dir, 'hf:org'));
    mkdirSync(join(dir, 'hf:org', 'x'));
    process.chdir(dir);
    try {
      const e = await benchModels({ model: 'hf:org/x' }).catch((x: unknown) => x);
      expect((e as Error).message).toMatch(/^hf:org\/x: /);
      expect((e as Error).message).not.toMatch(/hub reference/);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("library words that read well where the flags' words, renamed, did not (the CLI's words are as they were)", () => {
  const train = { student: 'no-such-student', task: 'SST-2', output: 'no-such-folder/model.onnx' };
  it('runTraining', async () => {
    // ('distill.layerMap applies to an distill.intermediate preset')
    expect(await refusal(() => runTraining({ ...train, teacher: 'no-such-teacher', distill: { layerMap: 'skip', intermediate: [] } }))).toBe(
      'distill.layerMap applies to a distill.intermediate preset; a list of matches names its layers itself',
    );
    // ('newHead is for compress train: compress distill gives …': commands a library caller does not run)
    expect(await refusal(() => runTraining({ ...train, teacher: 'no-such-teacher', newHead: true }))).toBe(
      'newHead is for fine-tuning on the labels (no teacher): with a teacher, runTraining gives a student model a new classifier where its own is not for task',
    );
  });
  it('evaluate', async () => {
    // ('submissionDir … : add split test')
    expect(await refusal(() => evaluate({ model: 'no-such-model', tasks: ['SST-2'], submissionDir: 'no-such-folder' }))).toBe(
      "submissionDir writes GLUE server files from test predictions: give split 'test'",
    );
  });
  it('benchModels', async () => {
    // ('give a smaller repeats, or a maxSeconds')
    const model = join(import.meta.dirname, '..', 'fixtures', 'tiny-bert');
    expect(await refusal(() => benchModels({ model, batches: [1], seqs: [8], warmup: 0, repeats: 1e12 }))).toMatch(
      /^repeats 1000000000000: the latencies of that many runs could not be kept \(at most .*\); give fewer repeats, or a maxSeconds limit$/,
    );
  });
});

describe('compressFile and compressToTransformersJs', () => {
  const base = { input: 'no-such-model.onnx', output: 'no-such-folder/model.onnx', steps: [] };
  it('refuse options of another kind, where they were taken (a seed or threads of the context no pass checked) or failed with a TypeError', async () => {
    for (const [options, line] of [
      [{ externalData: 'x' }, 'compressFile: externalData: expected true or false, got string "x"'],
      // (read as true: the input's files copied)
      [{ copyModelFiles: 'no' }, 'compressFile: copyModelFiles: expected true or false, got string "no"'],
      [{ force: 1 }, 'compressFile: force: expected true or false, got number 1'],
      // (TypeError: The "paths[0]" argument must be of type string)
      [{ modelDir: 3 }, 'compressFile: modelDir: expected a non-empty string, got number 3'],
      [{ dataFile: 3 }, 'compressFile: dataFile: expected a non-empty string, got number 3'],
      [{ context: 'x' }, 'compressFile: context: expected an object of options, got string "x"'],
      [{ context: { log: 'x' } }, 'compressFile: context.log: expected a function, got string "x"'],
      [{ context: { seed: 'x' } }, 'compressFile: context.seed: expected an integer 0 or greater, got string "x"'],
      [{ context: { threads: -1 } }, 'compressFile: context.threads: expected an integer from 0 to 256 (0: one per physical core), got number -1'],
    ] as const) {
      expect(await refusal(() => compressFile({ ...base, ...options } as never))).toBe(line);
    }
    expect(await refusal(() => compressFile({ ...base, extrnalData: true } as never))).toMatch(/^compressFile: extrnalData: not an option of compressFile /);
    expect(await refusal(() => compressToTransformersJs({ ...base, output: 'no-such-folder', tokenizerDirr: 'x' } as never))).toMatch(
      /^compressToTransformersJs: tokenizerDirr: not an option of compressToTransformersJs \(its options: .*, tokenizerDir\)$/,
    );
  });
  it("read a model folder given as input, as compress MODEL, evaluate's model and runTraining's student do, where they said 'X: is a folder, not an ONNX file'", async () => {
    const root = mkdtempSync(join(tmpdir(), 'bc-library-input-folder-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const folder = writeModelFolder(join(root, 'teacher'), tinyBert({ numLayers: 2 }));
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const lineage = await compressFile({ input: folder, output: join(root, 'out', 'model.onnx'), steps });
    expect(lineage.input.path).toBe(join(folder, 'model.onnx'));
    expect(existsSync(join(root, 'out', 'model.onnx'))).toBe(true);
    expect(existsSync(join(root, 'out', 'vocab.txt'))).toBe(true); // (the folder's side files, as from its model.onnx)
    const web = await compressToTransformersJs({ input: folder, output: join(root, 'web'), steps });
    expect(existsSync(join(root, 'web', 'onnx', 'model.onnx'))).toBe(web !== undefined);
    // (a folder without a model: locateModel's refusal)
    mkdirSync(join(root, 'empty'));
    await expect(compressFile({ input: join(root, 'empty'), output: join(root, 'out2', 'model.onnx'), steps })).rejects.toThrow(
      /empty: folder has no model\.onnx \(nor onnx\/model\.onnx\)$/,
    );
  });
  it("say that the library reads local models where given hf:org/name, where they said 'hf:org/x: no such file'", async () => {
    expect(await refusal(() => compressFile({ ...base, input: 'hf:org/x' }))).toMatch(
      /^compressFile: input hf:org\/x: a Hugging Face hub reference, which the library does not download \(it reads local models\): fetch it first with resolveModelRef\('hf:org\/x'\)/,
    );
    expect(await refusal(() => compressToTransformersJs({ ...base, input: 'hf:org/x', output: 'no-such-folder' }))).toMatch(
      /^compressToTransformersJs: input hf:org\/x: a Hugging Face hub reference/,
    );
  });
});

describe('runSweep', () => {
  it('refuses options of another kind before any point runs (jobs: 0 ran as 1, rerunStale: "no" read as true)', async () => {
    const base = { file: 'no-such-sweep.yaml', store: 'no-such-folder/store.sqlite' };
    for (const [options, line] of [
      [{ jobs: 0 }, 'runSweep: jobs: expected an integer from 1 (points run at once), got number 0'],
      [{ jobs: '2' }, 'runSweep: jobs: expected an integer from 1 (points run at once), got string "2"'],
      [{ rerunStale: 'no' }, 'runSweep: rerunStale: expected true or false, got string "no"'],
      [{ onEvent: 'x' }, 'runSweep: onEvent: expected a function, got string "x"'],
      [{ glueDir: 3 }, 'runSweep: glueDir: expected a non-empty string, got number 3'],
    ] as const) {
      expect(await refusal(() => runSweep({ ...base, ...options } as never))).toBe(line);
    }
    expect(await refusal(() => runSweep({ ...base, rerun_stale: true } as never))).toMatch(/^runSweep: rerun_stale: not an option of runSweep /);
  });
});

describe('an entry point given no options object', () => {
  it('refuses it in one line naming the options it takes, as each entry point checks its options first', async () => {
    for (const [given, got] of [
      [null, 'null'],
      ['x', 'string "x"'],
      [[{}], 'a list'],
    ] as const) {
      expect(await refusal(() => compressFile(given as never))).toBe(`compressFile: expected an options object ({input, output, steps, …}), got ${got}`);
      expect(await refusal(() => compressToTransformersJs(given as never))).toBe(
        `compressToTransformersJs: expected an options object ({input, output, steps, …}), got ${got}`,
      );
      expect(await refusal(() => runSweep(given as never))).toBe(`runSweep: expected an options object ({file, store, …}), got ${got}`);
    }
  });
});

describe('runPipeline', () => {
  const model = tinyBert({ numLayers: 1 });
  it("refuses a context or prefix of another kind before any pass runs, where a seed 'x' or threads -1 were taken and a context null failed with a TypeError", async () => {
    for (const [context, prefix, line] of [
      [{ seed: 'x' }, undefined, 'runPipeline: context.seed: expected an integer 0 or greater, got string "x"'],
      [{ threads: -1 }, undefined, 'runPipeline: context.threads: expected an integer from 0 to 256 (0: one per physical core), got number -1'],
      [{ log: 'x' }, undefined, 'runPipeline: context.log: expected a function, got string "x"'],
      // (TypeError: Cannot read properties of null (reading 'log'))
      [null, undefined, 'runPipeline: context: expected an object of options, got null'],
      // (a prefix without its length: no step shared, silently)
      [{}, {}, 'runPipeline: prefix: expected a SharedPrefix ({length}: how many first steps the runs share, an integer 0 or greater), got an object'],
      [{}, 'x', 'runPipeline: prefix: expected a SharedPrefix ({length}: how many first steps the runs share, an integer 0 or greater), got string "x"'],
    ] as const) {
      expect(await refusal(() => runPipeline(model, [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], context as never, prefix as never))).toBe(line);
    }
    expect(await refusal(() => runPipeline(model, [], { sede: 1 } as never))).toMatch(
      /^runPipeline: context.sede: not an option of runPipeline's context \(its options: calibration, log, warn, seed, threads, measuredAt\)$/,
    );
  });

  it('runs with a context and prefix of their kinds', async () => {
    const prefix = { length: 1 };
    const result = await runPipeline(model, [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], { seed: 1, threads: 1, log: () => {} }, prefix);
    expect(result.reports).toHaveLength(1);
    expect(prefix).toHaveProperty('result');
  });
});

describe('openSession', () => {
  const bytes = encodeModel(tinyBert({ numLayers: 1 }));
  it("refuses options of another kind before the session opens, where threads 'x' or -1 ran on every core and spinning 'no' spun", async () => {
    for (const [options, line] of [
      [{ threads: 'x' }, 'openSession: threads: expected an integer from 0 to 256 (0: one per physical core), got string "x"'],
      [{ threads: -1 }, 'openSession: threads: expected an integer from 0 to 256 (0: one per physical core), got number -1'],
      [{ threads: 2.5 }, 'openSession: threads: expected an integer from 0 to 256 (0: one per physical core), got number 2.5'],
      [{ spinning: 'no' }, 'openSession: spinning: expected true, false or \'during runs\', got string "no"'],
      [{ graphOptimizationLevel: 'none' }, 'openSession: graphOptimizationLevel: expected one of disabled, basic, extended, all, got string "none"'],
      [{ x64QuantPrecision: 'yes' }, 'openSession: x64QuantPrecision: expected true or false, got string "yes"'],
      [null, 'openSession: expected an options object ({threads, graphOptimizationLevel, spinning, x64QuantPrecision}), got null'],
    ] as const) {
      expect(await refusal(() => openSession(bytes, options as never))).toBe(line);
    }
    expect(await refusal(() => openSession(bytes, { thread: 1 } as never))).toBe(
      'openSession: thread: not an option of openSession (its options: threads, graphOptimizationLevel, spinning, x64QuantPrecision)',
    );
  });

  it('opens the model with options of their kinds', async () => {
    const session = await openSession(bytes, { threads: 1, graphOptimizationLevel: 'basic', spinning: 'during runs' });
    expect(session.inputNames.length).toBeGreaterThan(0);
    await session.release();
  });
});

describe('exportHuggingFaceFolder and exportToTransformersJs', () => {
  it("refuse options of another kind before any work, where seedMissing 'x' seeded with it and force 'no' wrote over another model's files", async () => {
    for (const [options, line] of [
      [{ seedMissing: 'x' }, 'seedMissing: expected an integer 0 or greater, got string "x"'],
      [{ seedMissing: 2.5 }, 'seedMissing: expected an integer 0 or greater, got number 2.5'],
      [{ force: 'no' }, 'force: expected true or false, got string "no"'],
      [{ log: 'x' }, 'log: expected a function, got string "x"'],
      [{ label: 3 }, 'label: expected a non-empty string, got number 3'],
    ] as const) {
      expect(await refusal(() => exportHuggingFaceFolder('no-such-checkpoint', 'no-such-folder/model.onnx', options as never))).toBe(
        `exportHuggingFaceFolder: ${line}`,
      );
      expect(await refusal(() => exportToTransformersJs('no-such-checkpoint', 'no-such-folder', options as never))).toBe(`exportToTransformersJs: ${line}`);
    }
    expect(await refusal(() => exportHuggingFaceFolder('no-such-checkpoint', 'no-such-folder/model.onnx', { seed_missing: 1 } as never))).toBe(
      'exportHuggingFaceFolder: seed_missing: not an option of exportHuggingFaceFolder (its options: seedMissing, log, label, force)',
    );
    expect(await refusal(() => exportToTransformersJs('no-such-checkpoint', 'no-such-folder', { tokenizer: 'x' } as never))).toBe(
      'exportToTransformersJs: tokenizer: not an option of exportToTransformersJs (its options: seedMissing, log, label, force, tokenizerDir)',
    );
    expect(await refusal(() => exportHuggingFaceFolder('no-such-checkpoint', 'no-such-folder/model.onnx', null as never))).toBe(
      'exportHuggingFaceFolder: expected an options object ({seedMissing, log, label, force}), got null',
    );
  });
});

describe('exportHuggingFaceFolder and exportToTransformersJs name their arguments and options', () => {
  it("where they named compress export's flags (-o, --force, --tokenizer)", async () => {
    const root = mkdtempSync(join(tmpdir(), 'lib60-export-names-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const config = tinyBertConfig();
    const hf = join(root, 'hf');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
    const out = join(root, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 7 }));
    expect(await refusal(() => exportHuggingFaceFolder(hf, join(out, 'model.onnx')))).toBe(
      `output ${join(out, 'model.onnx')}: ${out} already holds another model's config.json; write into an empty folder or pass force`,
    );
    expect(await refusal(() => exportHuggingFaceFolderNamingFlags(hf, join(out, 'model.onnx')))).toBe(
      `-o ${join(out, 'model.onnx')}: ${out} already holds another model's config.json; write into an empty folder or pass --force`,
    );
    expect(await refusal(() => exportToTransformersJs(hf, join(root, 'web')))).toBe(
      `${hf}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model; transformers.js needs the tokenizer (give its folder with tokenizerDir)`,
    );
  });
});

describe('loadReport, renderReport and writeReportFiles', () => {
  const data = { rows: [] } as never;
  it("refuse arguments and options of another kind before any work, where a misspelt sweep reported every sweep's points and force 'no' wrote over edited files", async () => {
    const out = mkdtempSync(join(tmpdir(), 'lib60-report-kinds-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    expect(await refusal(async () => loadReport({ store: 'no-such-store.sqlite', swep: 'a' } as never))).toBe(
      'loadReport: swep: not an option of loadReport (its options: store, sweep)',
    );
    expect(await refusal(async () => loadReport({ store: 'no-such-store.sqlite', sweep: 3 } as never))).toBe(
      'loadReport: sweep: expected a non-empty string, got number 3',
    );
    // (TypeError: The "path" argument must be of type string, for html; unread for the others)
    expect(await refusal(() => renderReport(data, 'md', 3 as never))).toBe(
      'renderReport: source: expected the sweep store the report was read from (its path), got number 3',
    );
    expect(await refusal(() => writeReportFiles(data, out, ['md'], 3 as never))).toBe(
      'writeReportFiles: source: expected the sweep store the report was read from (its path), got number 3',
    );
    expect(await refusal(() => writeReportFiles(data, out, ['md'], 'store.sqlite', 'x' as never))).toBe(
      'writeReportFiles: onEarlier: expected a function, got string "x"',
    );
    expect(await refusal(() => writeReportFiles(data, out, ['md'], 'store.sqlite', undefined, { force: 'no' } as never))).toBe(
      'writeReportFiles: force: expected true or false, got string "no"',
    );
    expect(await refusal(() => writeReportFiles(data, out, ['md'], 'store.sqlite', undefined, { forse: true } as never))).toBe(
      'writeReportFiles: forse: not an option of writeReportFiles (its options: force)',
    );
  });
});

describe("writeReportFiles names its arguments and options, where it named compress report's flags", () => {
  it("'outDir X: would write over … pass force', where it said '--out X: … pass --force'", async () => {
    const out = mkdtempSync(join(tmpdir(), 'lib60-report-names-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const data = buildReport(posterPoints());
    await writeReportFiles(data, out, ['csv'], 'poster.sqlite');
    writeFileSync(join(out, 'report.csv'), 'my,own\n');
    expect(await userRefusal(() => writeReportFiles(data, out, ['csv'], 'poster.sqlite'))).toBe(
      `outDir ${out}: would write over report.csv (edited since compress report wrote it); move it away, give another folder, or pass force to write over it`,
    );
    expect(await userRefusal(() => writeReportFilesNamingFlags(data, out, ['csv'], 'poster.sqlite'))).toBe(
      `--out ${out}: would write over report.csv (edited since compress report wrote it); move it away, give another folder, or pass --force to write over it`,
    );
  });
});

/** The refusal `call` ends in (a UserError of any kind, its message), or undefined where it refuses none. */
async function userRefusal(call: () => Promise<unknown>): Promise<string | undefined> {
  const e = await call().catch((x: unknown) => x);
  return e instanceof UserError ? e.message : undefined;
}

describe('buildGradientGraph', () => {
  const model = tinyBert({ numLayers: 1 });
  it("refuses options of another kind before any work, where parameters 'w' were read as the names of its letters and parameters left out failed with a TypeError", async () => {
    for (const [options, line] of [
      [{ loss: 'loss', parameters: 'w' }, 'parameters: expected a list of initializer names, got string "w"'],
      [{ loss: 'loss' }, 'parameters: missing; expected a list of initializer names'],
      [{ parameters: [] }, 'loss: missing; expected the name of the scalar loss value'],
      [{ loss: 3, parameters: [] }, 'loss: expected the name of the scalar loss value, got number 3'],
      [{ loss: 'loss', parameters: [], keep: 'logits' }, 'keep: expected a list of value names of the graph, got string "logits"'],
      [{ loss: 'loss', parameters: ['w'], sparse: [3] }, 'sparse: expected a list of initializer names (among parameters), got a list'],
      [{ loss: 'loss', parameters: [], probeFeeds: [] }, 'probeFeeds: expected feeds (an object of input tensors by name), got a list'],
      [null, 'expected an options object ({loss, parameters, …}), got null'],
    ] as const) {
      expect(await refusal(() => buildGradientGraph(model, options as never))).toBe(`buildGradientGraph: ${line}`);
    }
    expect(await refusal(() => buildGradientGraph(model, { loss: 'loss', parameters: [], params: ['w'] } as never))).toBe(
      'buildGradientGraph: params: not an option of buildGradientGraph (its options: loss, parameters, sparse, keep, probeFeeds)',
    );
  });
});

describe('downloadSnapshot, resolveModelRef and resolveModelSource', () => {
  const env = { HF_HUB_OFFLINE: '1', HF_HOME: join(tmpdir(), 'lib60-no-such-hf-home') };
  it("refuse options of another kind before any request, where prefer 'safetensor' was read as 'onnx' and settings.offline 'no' as offline", async () => {
    for (const [options, line] of [
      [{ prefer: 'safetensor' }, 'prefer: expected one of onnx, safetensors, got string "safetensor"'],
      [{ fetch: 'x' }, 'fetch: expected a function, got string "x"'],
      [{ log: 3 }, 'log: expected a function, got number 3'],
      [{ env: 'x' }, 'env: expected the environment\'s variables (process.env), got string "x"'],
      [{ settings: { offline: 'no' } }, 'settings.offline: expected true or false, got string "no"'],
      [{ settings: { downloadTimeoutMs: 0 } }, 'settings.downloadTimeoutMs: expected a number of milliseconds greater than 0, got number 0'],
    ] as const) {
      expect(await refusal(() => downloadSnapshot('hf:org/x', { env, ...options } as never))).toBe(`downloadSnapshot: ${line}`);
      // (a local path was returned as it is, the options unread)
      expect(await refusal(() => resolveModelRef('models/local.onnx', { env, ...options } as never))).toBe(`resolveModelRef: ${line}`);
      expect(await refusal(() => resolveModelSource('models/local.onnx', { env, ...options } as never))).toBe(`resolveModelSource: ${line}`);
    }
    expect(await refusal(() => downloadSnapshot('hf:org/x', { env, evn: {} } as never))).toBe(
      'downloadSnapshot: evn: not an option of downloadSnapshot (its options: settings, env, log, fetch, prefer, checkConfig)',
    );
    expect(await resolveModelRef('models/local.onnx', { env, prefer: 'safetensors' })).toBe('models/local.onnx');
  });
});

describe('loadModel, saveModel and findBert', () => {
  const model = tinyBert({ numLayers: 1 });
  it("refuse options of another kind before any work, where saveModel's externalData 'no' wrote the weights to a data file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lib60-model-kinds-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'model.onnx');
    const thrown = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    expect(thrown(() => saveModel(model, path, { externalData: 'no' } as never))).toBe(
      'saveModel: externalData: expected true, false or \'auto\', got string "no"',
    );
    expect(thrown(() => saveModel(model, path, { autoThreshold: 'x' } as never))).toBe(
      'saveModel: autoThreshold: expected a number of bytes 0 or greater, got string "x"',
    );
    expect(thrown(() => saveModel(model, path, { datafile: 'w.data' } as never))).toBe(
      'saveModel: datafile: not an option of saveModel (its options: externalData, externalSizeThreshold, autoThreshold, dataFile)',
    );
    expect(existsSync(join(dir, 'model.onnx.data'))).toBe(false);
    saveModel(model, path);
    expect(thrown(() => loadModel(path, { baseDir: 3 } as never))).toBe('loadModel: baseDir: expected a non-empty string, got number 3');
    expect(thrown(() => loadModel(path, { onExternalFile: 'x' } as never))).toBe('loadModel: onExternalFile: expected a function, got string "x"');
    expect(thrown(() => findBert(model, { lable: 'm' } as never))).toBe('findBert: lable: not an option of findBert (its options: label)');
    expect(thrown(() => findBert(model, { label: 3 } as never))).toBe("findBert: label: expected a string (the model's name in refusals), got number 3");
    expect(findBert(loadModel(path, {}), { label: 'm' }).numLayers).toBe(1);
  });
});

describe('buildBert, rebuildCanonical and buildFromHuggingFaceFolder (bert-compress/bert)', () => {
  it("refuse options of another kind before the graph is built, where dropout 'no' inserted dropout sites and a misspelt option was read as nothing", () => {
    const thrown = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    const config = tinyBertConfig({ numLayers: 1 });
    expect(thrown(() => buildBert(config, { kind: 'random', seed: 1 }, { dropout: 'no' } as never))).toBe(
      'buildBert: dropout: expected true or false, got string "no"',
    );
    expect(thrown(() => buildBert(config, { kind: 'random', seed: 1 }, { batchDim: 3 } as never))).toBe(
      'buildBert: batchDim: expected a non-empty string, got number 3',
    );
    expect(thrown(() => buildBert(config, { kind: 'random', seed: 1 }, { opsetVersion: 17 } as never))).toBe(
      'buildBert: opsetVersion: not an option of buildBert (its options: opset, batchDim, sequenceDim, dropout)',
    );
    expect(thrown(() => rebuildCanonical(tinyBert({ numLayers: 1 }), { structur: {} } as never))).toBe(
      'rebuildCanonical: structur: not an option of rebuildCanonical (its options: opset, batchDim, sequenceDim, dropout, structure)',
    );
    expect(thrown(() => buildFromHuggingFaceFolder('no-such-checkpoint', { fillMissing: 3 } as never))).toBe(
      'buildFromHuggingFaceFolder: fillMissing: expected a random init ({seed, std?}), got number 3',
    );
    expect(thrown(() => buildFromHuggingFaceFolder('no-such-checkpoint', null as never))).toBe(
      'buildFromHuggingFaceFolder: expected an options object ({opset, batchDim, sequenceDim, dropout, fillMissing}), got null',
    );
    expect(buildBert(config, { kind: 'random', seed: 1 }, { opset: 17, dropout: false }).graph.nodes.length).toBeGreaterThan(0);
  });
});

describe('sampleInputs and sampleBatch (bert-compress/bert)', () => {
  it("refuse options of another kind before any work, where batch 'x' made no rows and a misspelt seqLen was read as nothing", () => {
    const thrown = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    const model = tinyBert({ numLayers: 1 });
    const s = findBert(model);
    expect(thrown(() => sampleInputs(model, s, { batch: 'x' } as never))).toBe('sampleInputs: batch: expected an integer 1 or greater (rows), got string "x"');
    expect(thrown(() => sampleInputs(model, s, { seqLen: 4 } as never))).toBe(
      'sampleInputs: seqLen: not an option of sampleInputs (its options: batch, seq, seed)',
    );
    expect(thrown(() => sampleInputs(model, s, { seed: -1 }))).toBe('sampleInputs: seed: expected an integer 0 or greater, got number -1');
    expect(thrown(() => sampleInputs(null as never, s))).toBe('sampleInputs: model: expected a model (what loadModel returns), got null');
    expect(thrown(() => sampleBatch(model, s, { seq: 2.5 }))).toBe('sampleBatch: seq: expected an integer 1 or greater (the sequence length), got number 2.5');
    expect(thrown(() => sampleBatch(model, s, 'x' as never))).toBe('sampleBatch: expected an options object ({batch, seq, seed}), got string "x"');
    expect(sampleInputs(model, s, { batch: 3, seq: 5, seed: 1 })[0]!.dims).toEqual([3, 5]);
    expect(sampleBatch(model, s, { batch: 2, seq: 4 }).inputIds).toHaveLength(8);
  });
});

describe('decodeModel (bert-compress/onnx)', () => {
  it('refuses bytes and options of another kind before any work, where a misspelt lable was read as nothing and a string failed with a TypeError', () => {
    const thrown = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    const bytes = encodeModel(tinyBert({ numLayers: 1 }));
    expect(thrown(() => decodeModel(bytes, { lable: 'm' } as never))).toBe(
      'decodeModel: lable: not an option of decodeModel (its options: baseDir, onExternalFile, label)',
    );
    expect(thrown(() => decodeModel(bytes, { label: 3 } as never))).toBe('decodeModel: label: expected a non-empty string, got number 3');
    expect(thrown(() => decodeModel(bytes, { onExternalFile: 'x' } as never))).toBe('decodeModel: onExternalFile: expected a function, got string "x"');
    expect(thrown(() => decodeModel('model.onnx' as never))).toBe(
      'decodeModel: bytes: expected the bytes of an ONNX model (a Uint8Array), got string "model.onnx"',
    );
    expect(thrown(() => decodeModel(bytes, null as never))).toBe('decodeModel: expected an options object ({baseDir, onExternalFile, label}), got null');
    expect(decodeModel(bytes, { label: 'm' }).graph.nodes.length).toBeGreaterThan(0);
  });
});

describe('planSweep, runPoint and SweepStore.open (bert-compress/sweep)', () => {
  it("refuse options of another kind before any work, where readonly 'no' opened the store read-only and a misspelt workdir was read as nothing", async () => {
    const refusal = async (f: () => unknown): Promise<string | undefined> => {
      try {
        await f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    const dir = mkdtempSync(join(tmpdir(), 'lib60b-sweep-kinds-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const spec = {} as never;
    expect(await refusal(() => planSweep(spec, { glueDir: dir, workdir: dir } as never))).toBe(
      'planSweep: workdir: not an option of planSweep (its options: glueDir, workDir, cacheDir, hash, log, queued)',
    );
    expect(await refusal(() => planSweep(spec, { glueDir: dir, workDir: dir, queued: 'no' } as never))).toBe(
      'planSweep: queued: expected true or false, got string "no"',
    );
    expect(await refusal(() => planSweep(spec, { glueDir: dir } as never))).toBe('planSweep: workDir: missing; expected the folder of the compressed models');
    expect(await refusal(() => runPoint({} as never, { threads: 'x' } as never))).toBe(
      'runPoint: threads: expected an integer from 0 to 256 (0: one per physical core), got string "x"',
    );
    expect(await refusal(() => runPoint({} as never, { threads: 1, signal: 'stop' } as never))).toBe(
      'runPoint: signal: expected an AbortSignal (AbortController.signal), got string "stop"',
    );
    expect(await refusal(() => runPoint({} as never, {} as never))).toBe(
      'runPoint: threads: missing; expected an integer from 0 to 256 (0: one per physical core)',
    );
    const path = join(dir, 'store.sqlite');
    expect(await refusal(() => SweepStore.open(path, { readonly: 'no' } as never))).toBe('SweepStore.open: readonly: expected true or false, got string "no"');
    expect(await refusal(() => SweepStore.open(path, { readOnly: true } as never))).toBe(
      'SweepStore.open: readOnly: not an option of SweepStore.open (its options: readonly, named)',
    );
    expect(await refusal(() => SweepStore.open(3 as never))).toBe('SweepStore.open: path: expected the path of a sweep store (.sqlite), got number 3');
    expect(existsSync(path)).toBe(false);
    SweepStore.open(path, { named: 'store' }).close();
    expect(existsSync(path)).toBe(true);
  });
});

describe('toHtml (bert-compress/report)', () => {
  it('refuses options of another kind or left out before the page is written, where they failed with a TypeError (s.replace is not a function)', () => {
    const thrown = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    const data = buildReport(posterPoints());
    const charts = { bytes: '<svg/>', latency: '<svg/>' };
    const meta = { title: 't', source: 's.sqlite', generatedAt: '2026-01-01T00:00:00.000Z' };
    expect(thrown(() => toHtml(data, charts, { ...meta, title: 3 } as never))).toBe('toHtml: title: expected a string (the page title), got number 3');
    expect(thrown(() => toHtml(data, charts, { title: 't', source: 's.sqlite' } as never))).toBe(
      'toHtml: generatedAt: missing; expected the time the report was generated (an ISO date)',
    );
    expect(thrown(() => toHtml(data, charts, { ...meta, generated: 'now' } as never))).toBe(
      'toHtml: generated: not an option of toHtml (its options: title, source, generatedAt)',
    );
    expect(thrown(() => toHtml(data, charts, undefined as never))).toBe('toHtml: expected an options object ({title, source, generatedAt}), got undefined');
    expect(toHtml(data, charts, { ...meta, title: '' })).toContain('<title></title>');
  });
});

describe('appendLoss (bert-compress/gradients)', () => {
  it("refuses arguments and loss terms of another kind before any work, where a term's kind 'ce' or a misspelt temprature was read as nothing", () => {
    const thrown = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    const forward = tinyBert({ numLayers: 1 });
    const logits = forward.graph.outputs[0]!.name;
    expect(thrown(() => appendLoss(forward, logits, 2, [{ kind: 'ce', weight: 1 } as never]))).toBe(
      'appendLoss: terms[0].kind: expected one of hard-ce, soft-ce, logit-mse, score-mse, teacher-score-mse, got string "ce"',
    );
    expect(thrown(() => appendLoss(forward, logits, 2, [{ kind: 'soft-ce', weight: 1, temprature: 2 } as never]))).toBe(
      "appendLoss: terms[0].temprature: not an option of appendLoss's terms[0] (its options: kind, weight, temperature)",
    );
    expect(thrown(() => appendLoss(forward, logits, 2, [{ kind: 'hard-ce' } as never]))).toBe('appendLoss: terms[0].weight: missing');
    expect(thrown(() => appendLoss(forward, logits, 2, 'hard-ce' as never))).toBe('appendLoss: terms: expected a list of loss terms, got string "hard-ce"');
    expect(thrown(() => appendLoss(null as never, logits, 2, []))).toBe('appendLoss: forward: expected a model (what loadModel returns), got null');
    expect(
      thrown(() =>
        appendLoss(
          forward,
          logits,
          2,
          [],
          [{ kind: 'mse', weight: 1, student: logits, teacher: 't', teacherDims: ['batch', 2], studentWidth: 2, teacherWidth: '2', label: 'x' } as never],
        ),
      ),
    ).toBe('appendLoss: intermediate[0].teacherWidth: expected an integer 1 or greater, got string "2"');
    expect(thrown(() => appendLoss(forward, logits, 2, [{ kind: 'hard-ce', weight: 1 }], [], -1))).toBe(
      'appendLoss: seed: expected an integer 0 or greater, got number -1',
    );
    expect(appendLoss(forward, logits, 2, [{ kind: 'hard-ce', weight: 1 }]).loss).toBe('loss');
  });
});

describe('glueScore (bert-compress/eval) and acquireTimingLock (bert-compress/bench)', () => {
  it("refuse options of another kind before any work, where includeWnli 'no' counted WNLI and waitSeconds 'x' waited without end for a busy lock", async () => {
    const refusal = async (f: () => unknown): Promise<string | undefined> => {
      try {
        await f();
      } catch (e) {
        return e instanceof SettingsError ? e.message : undefined;
      }
      return undefined;
    };
    expect(await refusal(() => glueScore([], { includeWnli: 'no' } as never))).toBe('glueScore: includeWnli: expected true or false, got string "no"');
    expect(await refusal(() => glueScore([], { includeWNLI: false } as never))).toBe(
      'glueScore: includeWNLI: not an option of glueScore (its options: includeWnli)',
    );
    expect(await refusal(() => glueScore([], {} as never))).toBe('glueScore: includeWnli: missing; expected true or false');
    expect(await refusal(() => glueScore(null as never, { includeWnli: true }))).toBe(
      "glueScore: results: expected a list of scored tasks (evaluate's or scoreTask's results), got null",
    );
    expect(glueScore([], { includeWnli: false }).score).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'lib60b-timing-lock-kinds-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'timing.lock');
    expect(await refusal(() => acquireTimingLock({ file, waitSeconds: 'x' } as never))).toBe(
      'acquireTimingLock: waitSeconds: expected a number of seconds 0 or greater, got string "x"',
    );
    expect(await refusal(() => acquireTimingLock({ file, wait: 5 } as never))).toBe(
      'acquireTimingLock: wait: not an option of acquireTimingLock (its options: file, waitSeconds, onWait, signal)',
    );
    expect(await refusal(() => acquireTimingLock({ file: 3 } as never))).toBe('acquireTimingLock: file: expected a non-empty string, got number 3');
    expect(existsSync(file)).toBe(false);
    // (benchModels' timingLock.waitSeconds, which it listed as checked later and nothing checked)
    expect(await refusal(() => benchModels({ model: 'm.onnx', timingLock: { file, waitSeconds: 'x' } } as never))).toBe(
      'benchModels: timingLock.waitSeconds: expected a number of seconds 0 or greater, got string "x"',
    );
  });
});
