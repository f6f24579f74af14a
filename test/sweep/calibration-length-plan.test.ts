/**
 * A sweep model whose pipelines calibrate on a sentence-pair task (calibration.task STS-B on a model of SST-2's single
 * texts) reads its calibration examples at eval.maxLength: a length that leaves no room for a pair's text after its
 * three special tokens is refused by the plan, before any point runs, as the point's calibration would refuse it (each
 * such point failed when its passes began); and the point names the sweep file's settings, not compress's flags.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { CALIBRATION_SETTING_NAMES } from '../../src/sweep/setting-names.ts';
import { namingSettings } from '../../src/flag-names.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'calibration-length-plan-'));
  writeModelFolder(join(root, 'models', 'tiny'), tinyBert({}, { seed: 1 }));
  // (inputs that fix the batch at 3 rows, as a keras or fixed-shape export's)
  const fixed = tinyBert({}, { seed: 2 });
  for (const input of fixed.graph.inputs) input.shape = [3, 16];
  writeModelFolder(join(root, 'models', 'batch-3'), fixed);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
  registerAllPasses();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = () => join(root, 'cal.yaml');

/** planSweep of the tiny SST-2 model calibrating on `task` at eval.maxLength `maxLength`, one pipeline of `steps`. */
const plan = (task: string, maxLength: number, steps: unknown[]) =>
  planSweep(
    parseSweep(
      {
        name: 'cal',
        models: [{ path: 'models/tiny', tasks: ['SST-2'], calibration: { task, examples: 4 } }],
        eval: { maxLength },
        pipelines: [{ name: 'q', steps }],
      },
      file(),
      'cal.yaml',
    ),
    { glueDir: join(root, 'glue'), workDir: join(root, 'work') },
  );

const STATIC = [{ pass: 'quantize', settings: { mode: 'int8-static' } }];

describe("a sweep's plan checks the eval length against its calibration task's texts", () => {
  it('a pair calibration task at a length that leaves no room for its text: refused, as the point is', async () => {
    await expect(plan('STS-B', 3, STATIC)).rejects.toThrow(
      new SettingsError(`cal.yaml: eval.maxLength 3 leaves no room for text after 3 special tokens: give eval.maxLength 4 or more`),
    );
    expect(await plan('STS-B', 4, STATIC)).toHaveLength(2);
    // (single texts at 3 have room; a pipeline that reads no calibration examples reads none at any length)
    expect(await plan('SST-2', 3, STATIC)).toHaveLength(2);
    expect(await plan('STS-B', 3, [{ pass: 'quantize', settings: { mode: 'int8' } }])).toHaveLength(2);
  });

  it("the point's calibration names eval.maxLength and the calibration settings", async () => {
    const load = (task: string, maxLength: number, examples = 4) =>
      namingSettings(CALIBRATION_SETTING_NAMES, () =>
        loadCalibration({ model: join(root, 'models', 'tiny'), task, examples, glueDir: join(root, 'glue'), maxLength }),
      );
    await expect(load('STS-B', 3)).rejects.toThrow(
      new SettingsError('eval.maxLength 3 leaves no room for text after 3 special tokens: give eval.maxLength 4 or more'),
    );
    await expect(load('AX', 16)).rejects.toThrow(/^calibration\.task AX: AX has no train split/);
  });
});

describe("a sweep's plan checks calibration.examples against the batch a model's inputs fix", () => {
  /** planSweep of the batch-3 SST-2 model calibrating on `examples` SST-2 examples, one pipeline of `steps`. */
  const fixedPlan = (examples: number, steps: unknown[]) =>
    planSweep(
      parseSweep(
        {
          name: 'cal',
          models: [{ path: 'models/batch-3', tasks: ['SST-2'], calibration: { examples } }],
          bench: { batch: [3], seq: [16] },
          eval: { batchSize: 3 },
          pipelines: [{ name: 'q', steps }],
        },
        file(),
        'cal.yaml',
      ),
      { glueDir: join(root, 'glue'), workDir: join(root, 'work') },
    );

  it("fewer examples than one batch: refused in the point's calibration words, where every calibrating point failed so; a batch or more, or no calibration, plans", async () => {
    const onnx = join(root, 'models', 'batch-3', 'model.onnx');
    const few = 'calibration.examples 2: MODEL fixes its batch at 3 rows, and SST-2 gives 2 calibration examples: calibrate on at least 3';
    await expect(fixedPlan(2, STATIC)).rejects.toThrow(new SettingsError(`cal.yaml: ${few.replace('MODEL', onnx)}`));
    // (the point's own refusal, which the plan's repeats)
    await expect(
      namingSettings(CALIBRATION_SETTING_NAMES, () => loadCalibration({ model: onnx, task: 'SST-2', examples: 2, glueDir: join(root, 'glue') })),
    ).rejects.toThrow(new SettingsError(few.replace('MODEL', onnx)));
    expect(await fixedPlan(3, STATIC)).toHaveLength(2);
    expect(await fixedPlan(2, [{ pass: 'quantize', settings: { mode: 'int8' } }])).toHaveLength(2);
  });
});

describe("a sweep's plan checks the calibration labels a step measures the model against", () => {
  const gradient = (target?: string) => [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'gradient', ...(target ? { target } : {}) } }];

  it("STS-B's regression scores for an SST-2 classifier's gradient importance: refused naming the step, where every such point failed when its pass began; SST-2's labels, or the model's own predictions, plan", async () => {
    await expect(plan('STS-B', 16, gradient())).rejects.toThrow(
      new SettingsError(
        "cal.yaml: pipeline 'q' on model 'tiny', step 1 (prune-heads): measures the model against the labels of calibration.task STS-B, which cannot be read as its outputs: STS-B is scored by regression and the model gives 2 scores",
      ),
    );
    expect(await plan('SST-2', 16, gradient())).toHaveLength(2);
    expect(await plan('STS-B', 16, gradient('predictions'))).toHaveLength(2);
  });
});
