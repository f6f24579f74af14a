/**
 * A train or distill step whose maxLength is beyond the position table of a model it runs at that length (its
 * teacher, the point's model by default or a named one; a student model; the model a first train step trains) is
 * refused by the sweep's plan, before any point runs, in the words its point would fail with; as eval.maxLength and
 * bench.seq are. A length every such table covers plans. So is a length that leaves no room for text after the step's
 * special tokens (maxLength 2 on SST-2, 3 on STS-B's pairs; a teacher's config.json max_length where no length is
 * given), and the sweep's eval.maxLength, at which a step that gives none trains, named so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyBert } from '../helpers/models.ts';
import { runTraining } from '../../src/train/run.ts';
import { planRefusal } from './plan-refusal.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { SettingsError } from '../../src/errors.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { namingSettings } from '../../src/flag-names.ts';
import { trainingSettingNames } from '../../src/sweep/train-step.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'step-length-plan-'));
  writeModelFolder(join(root, 'models', 'p24'), tinyBert({ maxPositions: 24 }, { seed: 1 }));
  writeModelFolder(join(root, 'models', 'p64'), tinyBert({ maxPositions: 64 }, { seed: 2 }));
  writeModelFolder(join(root, 'models', 'p2'), tinyBert({ maxPositions: 2 }, { seed: 3 }));
  writeModelFolder(join(root, 'models', 'sts'), tinyBert({ maxPositions: 24, numLabels: 1 }, { seed: 4 }), { regression: true });
  writeModelFolder(join(root, 'models', 'c2'), tinyBert({ maxPositions: 24 }, { seed: 5 }), { maxLength: 2 });
  writeModelFolder(join(root, 'models', 'c32'), tinyBert({ maxPositions: 24 }, { seed: 6 }), { maxLength: 32 });
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The sweep file planSweep names. */
const file = () => join(root, 'len.yaml');

/** The one line planSweep refuses a sweep of `model` (a folder name) and one pipeline `steps` with, or undefined when it plans. */
const refusal = (model: string, steps: unknown[]) => planRefusal(root, 'len', [model], 'kd', steps);

const step = (pass: 'train' | 'distill', settings: Record<string, unknown>) => ({ pass, settings: { epochs: 1, batchSize: 4, maxExamples: 8, ...settings } });
const onnx = (model: string) => join(root, 'models', model, 'model.onnx');

describe("a sweep's plan checks a training step's maxLength against the position tables it runs at that length", () => {
  it("a distill step beyond its teacher's table (the point's model, or a named teacher)", async () => {
    expect(await refusal('p24', [step('distill', { student: 'bert:layers=1', maxLength: 32 })])).toBe(
      `${file()}: pipeline 'kd' on model 'p24', step 1 (distill): ${onnx('p24')}: distill.maxLength 32 is beyond the model's position table (24 tokens at most)`,
    );
    expect(await refusal('p64', [step('distill', { teacher: 'models/p24', student: 'bert:layers=1', maxLength: 32 })])).toBe(
      `${file()}: pipeline 'kd' on model 'p64', step 1 (distill): ${onnx('p24')}: distill.maxLength 32 is beyond the model's position table (24 tokens at most)`,
    );
    expect(await refusal('p24', [step('distill', { student: 'bert:layers=1', maxLength: 24 })])).toBeUndefined();
  });

  it('a distill step beyond a student model given by path', async () => {
    expect(await refusal('p64', [step('distill', { student: 'models/p24', maxLength: 32 })])).toBe(
      `${file()}: pipeline 'kd' on model 'p64', step 1 (distill): ${onnx('p24')}: distill.maxLength 32 is beyond the model's position table (24 tokens at most)`,
    );
  });

  // (where it planned the step, checking the named teacher's table alone, and every point failed when its training
  // checked the model it trains)
  it("a distill step with a named teacher and no student beyond the point's model, which it trains", async () => {
    const line = `${file()}: pipeline 'kd' on model 'p24', step 1 (distill): ${onnx('p24')}: distill.maxLength 32 is beyond the model's position table (24 tokens at most)`;
    expect(await refusal('p24', [step('distill', { teacher: 'models/p64', maxLength: 32 })])).toBe(line);
    expect(await refusal('p24', [step('distill', { teacher: 'models/p64', maxLength: 24 })])).toBeUndefined();
    // (the point's own refusal: its training trains the point's model, fed at that length)
    const run = runTraining({
      task: 'SST-2',
      teacher: onnx('p64'),
      student: onnx('p24'),
      glueDir: join(root, 'glue'),
      output: join(root, 'out-p24', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      maxLength: 32,
    });
    await expect(run).rejects.toThrow(new SettingsError(line.replace(/^.*\(distill\): /, '').replace('distill.maxLength', '--max-length')));
  });

  it('a train step beyond the model it trains, after graph steps too', async () => {
    expect(await refusal('p24', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, step('train', { maxLength: 32 })])).toBe(
      `${file()}: pipeline 'kd' on model 'p24', step 2 (train): ${onnx('p24')}: train.maxLength 32 is beyond the model's position table (24 tokens at most)`,
    );
    expect(await refusal('p64', [step('train', { maxLength: 32 })])).toBeUndefined();
  });

  // (where it said 'distill.maxLength 16 is beyond the model's position table (2 tokens at most)', then planned
  // maxLength 2 (or none), which its point refused in training's line naming the table)
  it("a teacher's or student model's table that leaves no room for text: training's line, whatever the maxLength", async () => {
    const line = (step: string, model: string) =>
      `${file()}: pipeline 'kd' on model 'p64', step 1 (${step}): ${onnx(model)}: the model's position table covers 2 tokens, which leaves no room for text after the 2 special tokens of a single text: no ${step}.maxLength mends that (a model needs 3 positions or more)`;
    for (const maxLength of [{ maxLength: 16 }, { maxLength: 2 }, {}]) {
      expect(await refusal('p64', [step('distill', { teacher: 'models/p2', student: 'bert:layers=1', ...maxLength })])).toBe(line('distill', 'p2'));
      expect(await refusal('p64', [step('distill', { student: 'models/p2', ...maxLength })])).toBe(line('distill', 'p2'));
    }
    // (the point's own refusal, as training words it)
    const run = runTraining({
      task: 'SST-2',
      teacher: onnx('p2'),
      student: 'bert:layers=1',
      glueDir: join(root, 'glue'),
      output: join(root, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      maxLength: 16,
    });
    await expect(run).rejects.toThrow(
      line('distill', 'p2')
        .replace(/^.*\(distill\): /, '')
        .replace('distill.maxLength', '--max-length'),
    );
  });

  // (the plan passed them, and every point failed when its training read the first example)
  it("a maxLength that leaves no room for text after the special tokens: the tokenizer's line, as the point says it", async () => {
    const line = (model: string, kind: string, length: number, specials: number) =>
      `${file()}: pipeline 'kd' on model '${model}', step 1 (${kind}): ${kind}.maxLength ${length} leaves no room for text after ${specials} special tokens: give ${kind}.maxLength ${specials + 1} or more`;
    expect(await refusal('p64', [step('distill', { student: 'bert:layers=1', maxLength: 2 })])).toBe(line('p64', 'distill', 2, 2));
    expect(await refusal('p64', [step('train', { maxLength: 2 })])).toBe(line('p64', 'train', 2, 2));
    expect(await refusal('p64', [step('train', { maxLength: 3 })])).toBeUndefined();
    const sts = [{ folder: 'sts', tasks: ['STS-B'] }];
    expect(await planRefusal(root, 'len', sts, 'kd', [step('train', { maxLength: 3 })])).toBe(line('sts', 'train', 3, 3));
    expect(await planRefusal(root, 'len', sts, 'kd', [step('train', { maxLength: 4 })])).toBeUndefined();
    // (the point's own refusal, in training's words)
    const run = runTraining({
      task: 'SST-2',
      student: onnx('p64'),
      glueDir: join(root, 'glue'),
      output: join(root, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      maxLength: 2,
    });
    await expect(run).rejects.toThrow(new SettingsError('--max-length 2 leaves no room for text after 2 special tokens: give --max-length 3 or more'));
  });

  // (the plan refused the student's sizes first, which its point, refusing the length before it makes the student,
  // reached only once the length was mended)
  it('a length without room and a student whose sizes are refused: the length first, as training checks it', async () => {
    const spec = 'bert:layers=1,heads=3';
    expect(await refusal('p64', [step('distill', { student: spec, maxLength: 2 })])).toBe(
      `${file()}: pipeline 'kd' on model 'p64', step 1 (distill): distill.maxLength 2 leaves no room for text after 2 special tokens: give distill.maxLength 3 or more`,
    );
    const run = runTraining({
      task: 'SST-2',
      teacher: onnx('p64'),
      student: spec,
      glueDir: join(root, 'glue'),
      output: join(root, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      maxLength: 2,
    });
    await expect(run).rejects.toThrow(new SettingsError('--max-length 2 leaves no room for text after 2 special tokens: give --max-length 3 or more'));
    // (a length with room: the student's sizes, in training's line)
    expect(await refusal('p64', [step('distill', { student: spec, maxLength: 8 })])).toBe(
      `${file()}: pipeline 'kd' on model 'p64', step 1 (distill): student '${spec}': hidden 32 (the teacher's: the spec gives no hidden=H) is not divisible by heads 3; give heads=A dividing 32, e.g. heads=4, or hidden=H divisible by 3, e.g. hidden=33`,
    );
  });

  it("a teacher's config.json max_length, where the step gives no maxLength: named as config.json, as training names it", async () => {
    const config = (model: string) => join(root, 'models', model, 'config.json');
    expect(await refusal('p64', [step('distill', { teacher: 'models/c2', student: 'bert:layers=1' })])).toBe(
      `${file()}: pipeline 'kd' on model 'p64', step 1 (distill): ${config('c2')}: max_length 2 leaves no room for text after 2 special tokens: give distill.maxLength 3 or more`,
    );
    expect(await refusal('p64', [step('distill', { teacher: 'models/c32', student: 'bert:layers=1' })])).toBe(
      `${file()}: pipeline 'kd' on model 'p64', step 1 (distill): ${onnx('c32')}: ${config('c32')}: max_length 32 is beyond the model's position table (24 tokens at most); give distill.maxLength 24 or less`,
    );
    // (a length given mends both)
    expect(await refusal('p64', [step('distill', { teacher: 'models/c2', student: 'bert:layers=1', maxLength: 8 })])).toBeUndefined();
    expect(await refusal('p64', [step('distill', { teacher: 'models/c32', student: 'bert:layers=1', maxLength: 8 })])).toBeUndefined();
  });

  it("the sweep's eval.maxLength, at which a step that gives no maxLength trains: checked, and named eval.maxLength", async () => {
    const spec = (settings: Record<string, unknown>) =>
      parseSweep(
        {
          name: 'len',
          models: [{ path: 'models/p64', tasks: ['SST-2'] }],
          calibration: false,
          eval: { maxLength: 32 },
          pipelines: [{ name: 'kd', steps: [step('distill', { student: 'bert:layers=1', teacher: 'models/p24', ...settings })] }],
        },
        file(),
        'len.yaml',
      );
    const plan = (settings: Record<string, unknown>) => planSweep(spec(settings), { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
    await expect(plan({})).rejects.toThrow(
      new SettingsError(
        `len.yaml: pipeline 'kd' on model 'p64', step 1 (distill): ${onnx('p24')}: eval.maxLength 32 is beyond the model's position table (24 tokens at most)`,
      ),
    );
    expect(await plan({ maxLength: 24 })).toHaveLength(2);
    // (the point names it so too: it runs the step at eval.maxLength)
    const named = namingSettings(trainingSettingNames('distill', true), async () => {
      throw new SettingsError("m.onnx: --max-length 32 is beyond the model's position table (24 tokens at most)");
    });
    await expect(named).rejects.toThrow("m.onnx: eval.maxLength 32 is beyond the model's position table (24 tokens at most)");
    expect(trainingSettingNames('distill')['--max-length']).toBe('distill.maxLength');
  });
});
