/**
 * A model whose config.json id2label names classes none of the task's labels are (SST-2 with {0: bad, 1: good} or
 * NEG/POS), with the right count: eval, train, distill and a sweep read its outputs in the task's canonical order, as
 * Hugging Face's run_glue ignores such labels, and say so in one warning line naming the names, where each refused
 * it; train and distill write the task's names. Another GLUE task's names stay refused.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readsCalibrationLabels } from '../../src/pass-declarations.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { planSweepFile, runSweep } from '../../src/sweep/run.ts';
import { runTraining } from '../../src/train/run.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { runMain } from '../helpers/cli.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-unknown-labels-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 12, ['train', 'dev']);
const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };

/** A tiny SST-2 model folder whose config.json names its two outputs `names`. */
function named(dir: string, names: [string, string], seed = 3): string {
  writeModelFolder(join(work, dir), tinyBert({}, { seed, std: 0.3 }));
  const id2label = { 0: names[0], 1: names[1] };
  writeFileSync(join(work, dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label, max_length: 16 }));
  return join(work, dir);
}

const note = (dir: string, names: string) =>
  `SST-2: ${join(dir, 'config.json')}'s id2label names ${names}, not SST-2's labels, so the model's 2 outputs are read in GLUE's order negative, positive, as transformers' run_glue ignores labels that do not match the task's; if the scores are near chance, name the classes in id2label`;
const labelWarnings = (lines: readonly string[] | undefined) => (lines ?? []).filter((l) => l.includes('id2label'));
const id2labelOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).id2label;

describe("id2label names that are none of the task's labels", () => {
  it('eval reads the outputs in the canonical order, as generic names, with one warning naming the names', async () => {
    for (const names of [
      ['bad', 'good'],
      ['NEG', 'POS'],
    ] as Array<[string, string]>) {
      const dir = named(`eval-${names[0]}`, names);
      const r = await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1 });
      expect(labelWarnings(r.warnings)).toEqual([note(dir, names.join(', '))]);
      const generic = await evaluate({ model: named(`eval-generic-${names[0]}`, ['LABEL_0', 'LABEL_1']), tasks: ['SST-2'], glueDir, threads: 1 });
      expect(r.tasks[0]!.predictions).toEqual(generic.tasks[0]!.predictions);
      expect(labelWarnings(generic.warnings)).toEqual([]);
    }
  });

  it('train and distill read them so, say it once, and write the task names', async () => {
    const model = named('train-source', ['bad', 'good']);
    for (const run of [
      { student: model, output: join(work, 'trained', 'model.onnx') },
      { student: 'every-other', teacher: model, distill: {}, cacheDir: join(work, 'cache'), output: join(work, 'distilled', 'model.onnx') },
    ]) {
      const logs: string[] = [];
      const { lineage } = await runTraining({ task: 'SST-2', glueDir, settings, log: (l) => logs.push(l), ...run });
      expect(labelWarnings(logs)).toEqual([`warning: ${note(model, 'bad, good')}`]);
      expect(id2labelOf(join(run.output, '..'))).toEqual({ 0: 'negative', 1: 'positive' });
      const r = await evaluate({ model: run.output, tasks: ['SST-2'], glueDir, threads: 1 });
      expect(labelWarnings(r.warnings)).toEqual([]);
      expect(r.tasks[0]!.metrics).toEqual(lineage!.epochs[lineage!.bestEpoch - 1]!.metrics);
    }
  });

  it("distilling into a student that keeps its own labels says so of the teacher's", async () => {
    const teacher = named('teacher-bad-good', ['bad', 'good']);
    const student = named('student-own-labels', ['negative', 'positive'], 4);
    const logs: string[] = [];
    const output = join(work, 'distilled-own', 'model.onnx');
    await runTraining({ task: 'SST-2', glueDir, settings, teacher, student, distill: {}, cacheDir: join(work, 'cache'), output, log: (l) => logs.push(l) });
    expect(labelWarnings(logs)).toEqual([`warning: ${note(teacher, 'bad, good')}`]);
    expect(id2labelOf(join(output, '..'))).toEqual({ 0: 'negative', 1: 'positive' });
  });

  it('a sweep says it once for the model, before its points run, and runs them', async () => {
    const model = named('sweep-model', ['bad', 'good']);
    const file = join(work, 'sweep.yaml');
    writeFileSync(
      file,
      `name: unknown-labels
glueDir: glue
models:
  - {path: sweep-model, tasks: [SST-2]}
pipelines:
  - baseline
  - name: ffn
    steps:
      - {pass: prune-ffn, settings: {ratio: 0.5}}
bench: {batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1}
eval: {threads: 1}
`,
    );
    const lines: string[] = [];
    const summary = await runSweep({
      file,
      store: join(work, 'sweep.sqlite'),
      planLog: (l) => lines.push(l),
      onEvent: (e) => e.type === 'log' && lines.push(e.line),
    });
    expect(summary.failed).toEqual([]);
    expect(summary.ran).toBe(2);
    expect(labelWarnings(lines)).toEqual([`warning: sweep-model: ${note(model, 'bad, good')}`]);
  });

  it("a sweep says it once for a model's calibration task besides its eval tasks, where a pass reads the calibration labels", async () => {
    const model = named('sweep-calibration-model', ['bad', 'good']);
    mkdirSync(join(glueDir, 'CoLA'), { recursive: true });
    writeFileSync(join(glueDir, 'CoLA', 'train.tsv'), 'gj04\t1\t\tthe cat sat .\ngj04\t0\t*\tcat the sat .\n');
    const plan = async (calibration: string, pipelines: string): Promise<string[]> => {
      const file = join(work, 'sweep-calibration.yaml');
      writeFileSync(
        file,
        `name: calibration-labels
glueDir: glue
models:
  - {path: sweep-calibration-model, tasks: [SST-2]}
calibration: {task: ${calibration}, examples: 8}
pipelines:
  - baseline
${pipelines}`,
      );
      const lines: string[] = [];
      await planSweepFile({ file, store: join(work, 'sweep-calibration.sqlite'), planLog: (l) => lines.push(l) });
      return labelWarnings(lines);
    };
    const labels = `  - name: ablation
    steps: [{pass: prune-heads, settings: {ratio: 0.25, importance: ablation, target: labels}}]
  - name: gradient
    steps: [{pass: prune-heads, settings: {ratio: 0.25, importance: gradient}}]
`;
    const unread = `  - name: static
    steps: [{pass: quantize, settings: {mode: int8-static}}]
`;
    const evalWarning = `warning: sweep-calibration-model: ${note(model, 'bad, good')}`;
    const cola = `warning: sweep-calibration-model: calibration CoLA: ${join(model, 'config.json')}'s id2label names bad, good, not CoLA's labels, so the model's 2 outputs are read in GLUE's order unacceptable, acceptable, as transformers' run_glue ignores labels that do not match the task's; if the scores are near chance, name the classes in id2label`;
    expect(await plan('CoLA', labels + unread)).toEqual([evalWarning, cola]);
    // no pass reads the labels (activation ranges): nothing more; the calibration task one of the eval tasks: said once
    expect(await plan('CoLA', unread)).toEqual([evalWarning]);
    expect(await plan('SST-2', labels)).toEqual([evalWarning]);
    expect(existsSync(join(work, 'sweep-calibration.sqlite'))).toBe(false);
  });

  it('calibration reads the labels so and carries the warning, which compress --calibrate prints where a pass reads the labels', async () => {
    const model = named('calibrate-source', ['bad', 'good']);
    const generic = named('calibrate-generic', ['LABEL_0', 'LABEL_1']);
    const calibration = await loadCalibration({ model, task: 'SST-2', examples: 8, glueDir });
    const canonical = await loadCalibration({ model: generic, task: 'SST-2', examples: 8, glueDir });
    expect(calibration.labelsNote).toBe(note(model, 'bad, good'));
    expect(canonical.labelsNote).toBeUndefined();
    expect(calibration.batches.map((b) => [...b.labels])).toEqual(canonical.batches.map((b) => [...b.labels]));
    const compress = async (passFlags: string[], out: string): Promise<string[]> => {
      const run = await runMain([
        model,
        ...passFlags,
        '--calibrate',
        'SST-2',
        '--calibration-examples',
        '8',
        '--glue-dir',
        glueDir,
        '-o',
        join(work, out, 'model.onnx'),
      ]);
      expect(run.code, run.stderr).toBe(0);
      return run.stderr.split('\n').filter((l) => l.includes('id2label'));
    };
    const warned = [`warning: --calibrate ${note(model, 'bad, good')}`];
    // a loss against the gold labels: ablation or gradient importance with target labels, mixed precision's sensitivity
    expect(await compress(['--prune-heads', '0.25', '--importance', 'ablation', '--importance-target', 'labels'], 'ablation-labels')).toEqual(warned);
    expect(await compress(['--quantize', 'mixed:0.5'], 'mixed')).toEqual(warned);
    // the labels unread: activation ranges, a loss against the model's own predictions
    expect(await compress(['--quantize', 'int8-static'], 'static')).toEqual([]);
    expect(await compress(['--prune-heads', '0.25', '--importance', 'ablation'], 'ablation-predictions')).toEqual([]);
    // (the rule, for the other calibrated settings: gradient's default target is the labels; confidence reads attention)
    const heads = (settings: Record<string, unknown>) => readsCalibrationLabels([{ pass: 'prune-heads', settings: { ratio: 0.25, ...settings } }]);
    expect(heads({ importance: 'gradient' })).toBe(true);
    expect(heads({ importance: 'gradient', target: 'predictions' })).toBe(false);
    expect(heads({ importance: 'confidence' })).toBe(false);
    expect(readsCalibrationLabels([{ pass: 'factorize-embeddings', settings: { rank: 8, weighting: 'tokens' } }])).toBe(false);
  });

  it("another GLUE task's names stay refused in eval and train", async () => {
    const qqp = named('qqp-names', ['not_duplicate', 'duplicate']);
    await expect(evaluate({ model: qqp, tasks: ['SST-2'], glueDir, threads: 1 })).rejects.toThrow(
      /id2label \{0: not_duplicate, 1: duplicate\} does not name SST-2's labels .*; its labels are QQP's: give it SST-2's classifier first \(compress train .*qqp-names --task SST-2 --new-head -o OUT\)$/,
    );
    // (RTE's labels are QNLI's and WNLI's too: the refusal names the three, not the first task that has them)
    const rte = named('rte-names', ['entailment', 'not_entailment']);
    await expect(evaluate({ model: rte, tasks: ['SST-2'], glueDir, threads: 1 })).rejects.toThrow(
      /does not name SST-2's labels .*; its labels are QNLI's, RTE's and WNLI's: give it SST-2's classifier first \(compress train .*rte-names --task SST-2 --new-head -o OUT\)$/,
    );
    // (train: its classifier is another task's, which --new-head replaces: b1fcf33)
    await expect(
      runTraining({ task: 'SST-2', student: qqp, glueDir, settings, output: join(work, 'qqp-trained', 'model.onnx'), log: () => {} }),
    ).rejects.toThrow(
      /^--task SST-2: the model's classifier is another task's \(its labels are not_duplicate, duplicate, in .*config\.json\): give --new-head/,
    );
  });
});
