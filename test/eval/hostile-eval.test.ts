/**
 * Evaluation checks a model's graph before running it, so that mismatches are one line naming their cause: token
 * ids beyond the word embedding (a larger vocab.txt), a maximum length beyond the position table or a fixed-length
 * graph's length, config.json's label count, and a dev file without examples. A fixed-length graph is fed
 * batches padded to its length, and a graph that fixes the batch size batches of that size.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalCommand, type EvalArgs } from '../../src/cli/commands/eval.ts';
import { DataError, SettingsError, UsageError } from '../../src/errors.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { loadTrainingSet } from '../../src/train/data.ts';
import { tinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';
import { writeTinySweep } from '../sweep/tiny-sweep.ts';

const tiny = writeTinySweep({ rows: 24 });
afterAll(() => tiny.cleanup());
const MODEL = join(tiny.root, 'models', 'tiny-sst2');
let n = 0;

/** A copy of the tiny SST-2 model folder, changed by `edit`. */
function variant(edit: (dir: string) => void): string {
  const dir = join(tiny.root, `variant-${n++}`);
  cpSync(MODEL, dir, { recursive: true });
  edit(dir);
  return dir;
}

const run = (model: string, extra: Partial<Parameters<typeof evaluate>[0]> = {}) =>
  evaluate({ model, tasks: ['SST-2'], glueDir: tiny.glueDir, threads: 1, ...extra });

describe('evaluate: checks against the graph', () => {
  it('refuses a tokenizer whose ids go beyond the word embedding (a larger vocab.txt)', async () => {
    // The same words at ids 200 and up: the model's word embedding has 128 rows.
    const big = variant((dir) => {
      const words = readFileSync(join(dir, 'vocab.txt'), 'utf8').trim().split('\n');
      const filler = Array.from({ length: 200 }, (_, i) => `[unused${i}]`);
      writeFileSync(join(dir, 'vocab.txt'), [...words.slice(0, 5), ...filler, ...words.slice(5)].join('\n') + '\n');
    });
    await expect(run(big)).rejects.toThrow(DataError);
    await expect(run(big)).rejects.toThrow(/vocab\.txt gives token id \d+, but .*model\.onnx has 128 rows in its word embedding/);
  });

  it('refuses a maximum length beyond the position table, naming where it came from', async () => {
    await expect(run(MODEL, { maxLength: 65 })).rejects.toThrow(/--max-length 65 is beyond the model's position table \(64 tokens at most\)/);
    const config = variant((dir) => {
      const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, max_length: 512 }));
    });
    // (config.json's length, not one asked for: the refusal says how to ask for one)
    await expect(run(config)).rejects.toThrow(
      /config\.json: max_length 512 is beyond the model's position table \(64 tokens at most\); give --max-length 64 or less$/,
    );
    expect((await run(MODEL, { maxLength: 64 })).maxLength).toBe(64);
  });

  it("cuts at the tokenizer's model_max_length when it is below 128 and config.json names no max_length (as run_glue)", async () => {
    const withLimit = (modelMaxLength: number) =>
      variant((dir) => {
        const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        delete c.max_length;
        writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
        const file = join(dir, 'tokenizer_config.json');
        const t = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
        writeFileSync(file, JSON.stringify({ ...t, model_max_length: modelMaxLength }));
      });
    const short = withLimit(24);
    expect((await run(short)).maxLength).toBe(24);
    expect((await run(short, { maxLength: 32 })).maxLength).toBe(32); // a length given still wins
    expect((await loadCalibration({ model: short, task: 'SST-2', examples: 8, glueDir: tiny.glueDir })).provenance?.maxLength).toBe(24);
    expect(loadTrainingSet({ task: 'SST-2', glueDir: tiny.glueDir, tokenizer: short, modelConfig: short }).maxLength).toBe(24); // train / distill
    // transformers' "no limit" (1e30) leaves the default: 128, capped at the position table (64)
    expect((await run(withLimit(1e30))).maxLength).toBe(64);
  });

  it('blames config.json, not the graph, for a num_labels the graph does not have', async () => {
    const three = variant((dir) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ num_labels: 3 })));
    await expect(run(three)).rejects.toThrow(SettingsError);
    await expect(run(three)).rejects.toThrow(
      /SST-2 has 2 labels \(negative, positive\) but .*config\.json says 3 labels \(its num_labels, as transformers reads it without an id2label\)$/,
    );
    // config.json fits the task but not the graph (3 scores per example): config.json is named, not the task.
    const graphOfThree = variant((dir) => saveModel(tinyBert({ numLabels: 3 }, { seed: 1 }), join(dir, 'model.onnx')));
    await expect(run(graphOfThree)).rejects.toThrow(
      /config\.json: says 2 labels \(its id2label's size, as transformers reads it\), but .*model\.onnx gives 3 scores per example: fix config\.json/,
    );
  });

  it('refuses a dev file with only a header', async () => {
    const glue = join(tiny.root, 'glue-empty');
    cpSync(tiny.glueDir, glue, { recursive: true });
    writeFileSync(join(glue, 'SST-2', 'dev.tsv'), 'sentence\tlabel\n');
    await expect(run(MODEL, { glueDir: glue })).rejects.toThrow(/SST-2\/dev\.tsv: no examples/);
  });

  it('pads batches to the length a graph fixes, scoring as the dynamic graph does, and refuses a longer --max-length', async () => {
    const fixed = variant((dir) => {
      const m = loadModel(join(dir, 'model.onnx'));
      for (const input of m.graph.inputs) input.shape = ['batch', 16];
      saveModel(m, join(dir, 'model.onnx'));
    });
    const dynamic = await run(MODEL);
    const padded = await run(fixed);
    expect(padded.maxLength).toBe(16);
    expect(Array.from(padded.tasks[0]!.predictions)).toEqual(Array.from(dynamic.tasks[0]!.predictions));
    await expect(run(fixed, { maxLength: 20 })).rejects.toThrow(/--max-length 20 is longer than the 16 tokens the model's inputs are fixed to/);
  });

  it('feeds a graph that fixes the batch size (1, or 5 with a shorter last batch) batches of that size, scoring as the dynamic graph does', async () => {
    const dynamic = await run(MODEL, { batchSize: 32 });
    for (const size of [1, 5]) {
      const fixed = variant((dir) => {
        const m = loadModel(join(dir, 'model.onnx'));
        for (const input of m.graph.inputs) input.shape = [size, 'sequence'];
        saveModel(m, join(dir, 'model.onnx'));
      });
      // (onnxruntime refused the default --batch-size 32: "Got invalid dimensions for input")
      const result = await run(fixed, { batchSize: 32 });
      expect(Array.from(result.tasks[0]!.predictions)).toEqual(Array.from(dynamic.tasks[0]!.predictions));
    }
  });

  it('calibration (compress --calibrate) checks the same limits', async () => {
    const calibrate = (model: string, maxLength?: number) =>
      loadCalibration({ model, task: 'SST-2', examples: 8, glueDir: tiny.glueDir, ...(maxLength ? { maxLength } : {}) });
    await expect(calibrate(MODEL, 100)).rejects.toThrow(/--max-length 100 is beyond the model's position table/);
    const big = variant((dir) => {
      const words = readFileSync(join(dir, 'vocab.txt'), 'utf8').trim().split('\n');
      writeFileSync(
        join(dir, 'vocab.txt'),
        [...words.slice(0, 5), ...Array.from({ length: 200 }, (_, i) => `[unused${i}]`), ...words.slice(5)].join('\n') + '\n',
      );
    });
    await expect(calibrate(big)).rejects.toThrow(/gives token id \d+, but .* has 128 rows in its word embedding/);
    expect((await calibrate(MODEL)).batches[0]!.seq).toBeLessThanOrEqual(16);
  });

  it('compress eval prints such a refusal as one line', async () => {
    const r = await runMain(['eval', MODEL, '--task', 'sst2', '--glue-dir', tiny.glueDir, '--max-length', '100']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--max-length 100 is beyond the model's position table/);
  });
});

/** A copy of the tiny GLUE folder with an SST-2 test file: the dev sentences, unlabelled, in GLUE's test layout. */
function glueWithTest(): { glue: string; rows: number } {
  const glue = join(tiny.root, `glue-test-${n++}`);
  cpSync(tiny.glueDir, glue, { recursive: true });
  const dev = readFileSync(join(glue, 'SST-2', 'dev.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  writeFileSync(join(glue, 'SST-2', 'test.tsv'), ['index\tsentence', ...dev.map((l, i) => `${i}\t${l.split('\t')[0]}`)].join('\n') + '\n');
  return { glue, rows: dev.length };
}

describe('compress eval --out', () => {
  const evalRun = (model: string, out: string, extra: Partial<EvalArgs> = {}) =>
    evalCommand.run({
      _: ['eval'],
      $0: 'compress',
      model,
      tasks: ['SST-2'],
      split: 'dev',
      'include-wnli': true,
      json: false,
      'glue-dir': tiny.glueDir,
      threads: 1,
      out,
      ...extra,
    } as unknown as Parameters<typeof evalCommand.run>[0]);

  it("refuses to write the JSON report over a file the evaluation reads (the model, its side files, the tokenizer's, the GLUE data), by real path", async () => {
    const dir = variant(() => {});
    const before = (f: string) => readFileSync(f);
    const guarded = [join(dir, 'model.onnx'), join(dir, 'config.json'), join(dir, 'vocab.txt'), join(tiny.glueDir, 'SST-2', 'dev.tsv')];
    const saved = guarded.map(before);
    for (const out of guarded) {
      await expect(evalRun(dir, out)).rejects.toThrow(SettingsError);
      await expect(evalRun(dir, out)).rejects.toThrow(/refusing to overwrite it$/);
    }
    await expect(evalRun(join(dir, 'model.onnx'), join(dir, 'model.onnx'))).rejects.toThrow(/is one of the evaluated model's files/);
    await expect(evalRun(dir, join(tiny.glueDir, 'SST-2', 'dev.tsv'))).rejects.toThrow(/is the SST-2 dev file the evaluation reads/);
    // (a file of the GLUE folder it does not read: as data, refused too)
    const train = join(tiny.glueDir, 'SST-2', 'train.tsv');
    const trainBytes = readFileSync(train);
    await expect(evalRun(dir, train)).rejects.toThrow(/is a file of the GLUE folder/);
    expect(readFileSync(train).equals(trainBytes)).toBe(true);
    // a link to the model, and the --tokenizer folder's files
    const link = join(tiny.root, `link-${n++}.json`);
    symlinkSync(join(dir, 'model.onnx'), link);
    await expect(evalRun(dir, link)).rejects.toThrow(/is one of the evaluated model's files/);
    const tokenizer = variant(() => {});
    await expect(evalRun(dir, join(tokenizer, 'vocab.txt'), { tokenizer })).rejects.toThrow(/is one of the evaluated model's files/);
    // a --tokenizer file is read with its folder's tokenizer files (tokenizer_config.json, merges.txt beside vocab.json)
    const tokenizerFiles = variant((d) => writeFileSync(join(d, 'tokenizer_config.json'), '{"do_lower_case": true}'));
    const config = join(tokenizerFiles, 'tokenizer_config.json');
    await expect(evalRun(dir, config, { tokenizer: join(tokenizerFiles, 'vocab.txt') })).rejects.toThrow(/is one of the evaluated model's files/);
    expect(readFileSync(config, 'utf8')).toBe('{"do_lower_case": true}');
    guarded.forEach((f, i) => expect(readFileSync(f).equals(saved[i]!)).toBe(true));
    // a report file beside the model is written as before
    const out = join(dir, 'eval.json');
    expect(await evalRun(dir, out)).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).tasks['SST-2'].examples).toBe(24);
  });

  it("refuses a report over a task's GLUE file read through a link to a folder elsewhere, and over one of GLUE_DIR's, as the evaluation reads them", async () => {
    // (a GLUE folder whose task folder links to the data kept elsewhere, as a shared data disk is often laid out)
    const kept = join(tiny.root, `kept-sst2-${n++}`);
    cpSync(join(tiny.glueDir, 'SST-2'), kept, { recursive: true });
    const glue = join(tiny.root, `linked-glue-${n++}`);
    mkdirSync(glue);
    symlinkSync(kept, join(glue, 'SST-2'));
    const dev = join(glue, 'SST-2', 'dev.tsv');
    const saved = readFileSync(dev);
    await expect(evalRun(MODEL, dev, { 'glue-dir': glue })).rejects.toThrow(SettingsError);
    await expect(evalRun(MODEL, dev, { 'glue-dir': glue })).rejects.toThrow(
      /^--out \S+dev\.tsv: \S+dev\.tsv is the SST-2 dev file the evaluation reads \(\S+kept-sst2-\d+\/dev\.tsv\); refusing to overwrite it$/,
    );
    expect(readFileSync(dev).equals(saved)).toBe(true);
    // GLUE_DIR, where no --glue-dir is given: the folder the evaluation reads
    const before = process.env.GLUE_DIR;
    process.env.GLUE_DIR = glue;
    try {
      await expect(evalRun(MODEL, join(kept, 'dev.tsv'), { 'glue-dir': undefined })).rejects.toThrow(/is the SST-2 dev file the evaluation reads/);
    } finally {
      if (before === undefined) delete process.env.GLUE_DIR;
      else process.env.GLUE_DIR = before;
    }
    expect(readFileSync(dev).equals(saved)).toBe(true);
  });

  it('refuses a report named as a submission file --submission writes (the report, written last, would replace the predictions)', async () => {
    const { glue, rows } = glueWithTest();
    const submission = join(tiny.root, `submission-${n++}`);
    const test = { split: 'test', 'glue-dir': glue, submission } as Partial<EvalArgs>;
    // (by real path: through a link to the submission folder too)
    const link = join(tiny.root, `submission-link-${n++}`);
    mkdirSync(submission);
    symlinkSync(submission, link);
    for (const out of [join(submission, 'SST-2.tsv'), join(link, 'SST-2.tsv')]) {
      await expect(evalRun(MODEL, out, test)).rejects.toThrow(SettingsError);
      await expect(evalRun(MODEL, out, test)).rejects.toThrow(
        /^--out \S+SST-2\.tsv: \S+ is the SST-2 file --submission \S+ writes \(\S+\); the report would replace it: give --out another name$/,
      );
      expect(existsSync(join(submission, 'SST-2.tsv'))).toBe(false);
    }
    // another name in the folder: both written, the submission as the GLUE server takes it
    const out = join(submission, 'eval.json');
    expect(await evalRun(MODEL, out, test)).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).submissionFiles).toEqual([join(submission, 'SST-2.tsv')]);
    const lines = readFileSync(join(submission, 'SST-2.tsv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('index\tprediction');
    expect(lines).toHaveLength(rows + 1);
  });

  it('refuses --split test without --submission: the predictions, all a test run gives, would be written nowhere', async () => {
    const { glue } = glueWithTest();
    const report = join(tiny.root, `report-${n++}.json`);
    const run = evalRun(MODEL, report, { split: 'test', 'glue-dir': glue } as Partial<EvalArgs>);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(
      /^--split test predicts the unlabelled test examples, which only --submission DIR writes \(GLUE server files; there is nothing to score\): add --submission DIR$/,
    );
    expect(existsSync(report)).toBe(false);
  });

  it('refuses, before any work, a --submission folder where a task file is a folder (the run was lost when writing)', async () => {
    const { glue, rows } = glueWithTest();
    const submission = join(tiny.root, `submission-${n++}`);
    mkdirSync(join(submission, 'SST-2.tsv'), { recursive: true });
    const progress: number[] = [];
    const test = { split: 'test', 'glue-dir': glue, submission } as Partial<EvalArgs>;
    const pattern = /^--submission \S+: \S+SST-2\.tsv is a folder; remove it or give another folder$/;
    await expect(evalRun(MODEL, join(tiny.root, `report-${n++}.json`), test)).rejects.toThrow(pattern);
    await expect(
      evaluate({
        model: MODEL,
        tasks: ['SST-2'],
        split: 'test',
        glueDir: glue,
        submissionDir: submission,
        threads: 1,
        onProgress: (e) => progress.push(e.done),
      }),
    ).rejects.toThrow(SettingsError);
    expect(progress).toEqual([]);
    // the folder gone, the file is written
    rmSync(join(submission, 'SST-2.tsv'), { recursive: true });
    const result = await evaluate({ model: MODEL, tasks: ['SST-2'], split: 'test', glueDir: glue, submissionDir: submission, threads: 1 });
    expect(result.submissionFiles).toEqual([join(submission, 'SST-2.tsv')]);
    expect(readFileSync(join(submission, 'SST-2.tsv'), 'utf8').trimEnd().split('\n')).toHaveLength(rows + 1);
  });

  it("refuses, before any work, evaluate's submission folder under a file (checked as every output's folder is)", async () => {
    const { glue } = glueWithTest();
    const file = join(tiny.root, `not-a-folder-${n++}`);
    writeFileSync(file, 'x');
    const submissionDir = join(file, 'submission');
    const progress: number[] = [];
    const run = evaluate({ model: MODEL, tasks: ['SST-2'], split: 'test', glueDir: glue, submissionDir, threads: 1, onProgress: (e) => progress.push(e.done) });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(run).rejects.toThrow(new RegExp(`^--submission ${submissionDir}: ${file} is a file, not a folder$`));
    expect(progress).toEqual([]);
  });
});
