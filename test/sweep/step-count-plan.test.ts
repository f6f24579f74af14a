/**
 * A train or distill step whose epochs make more optimizer steps than 2^53 − 1 over the examples it trains on (its
 * task's train split as training reads it, at most maxExamples of them, each with its augment variants) is refused by
 * the sweep's plan, before any point runs (--dry-run too), in one line naming the file, the pipeline, the step and the
 * train file; where it planned and its point failed only once it ran, in a line naming no step or file, an ordinary
 * failure that every rerun ran again. Epochs within it plan.
 */
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const MAX = Number.MAX_SAFE_INTEGER;
let root: string;
beforeAll(() => {
  // (SST-2 of 8 examples, and a ninth row of an empty label, which training leaves out)
  root = writeTinyPlanFolder('step-count-plan-');
  appendFileSync(join(root, 'glue', 'SST-2', 'train.tsv'), 'a row without its label\t\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const refusal = (steps: unknown[]) => planRefusal(root, 'count', ['tiny'], 'ft', steps);
const step = (pass: 'train' | 'distill', settings: Record<string, unknown>) => ({ pass, settings: { batchSize: 1, ...settings } });
const line = (pass: string, text: string) => `${join(root, 'count.yaml')}: pipeline 'ft' on model 'tiny', step 1 (${pass}): ${text}`;
const train = () => join(root, 'glue', 'SST-2', 'train.tsv');

describe("a sweep's plan counts a training step's optimizer steps", () => {
  it('refuses epochs past 2^53 − 1 steps over the train split, naming the step and the file', async () => {
    expect(await refusal([step('train', { epochs: MAX })])).toBe(
      line(
        'train',
        `train.epochs ${MAX}: 8 training examples of ${train()} in batches of 1 make ${8n * BigInt(MAX)} optimizer steps, past 2^53 − 1: give fewer epochs`,
      ),
    );
    expect(await refusal([step('distill', { student: 'bert:layers=1', epochs: MAX, batchSize: 3 })])).toBe(
      line(
        'distill',
        `distill.epochs ${MAX}: 8 training examples of ${train()} in batches of 3 make ${3n * BigInt(MAX)} optimizer steps, past 2^53 − 1: give fewer epochs`,
      ),
    );
  });

  it('counts the examples training reads, exactly: a row of an empty label left out, maxExamples, augment', async () => {
    // (8 examples, not the file's 9 rows: within 2^53 − 1)
    const most = Math.floor(MAX / 8);
    expect(await refusal([step('train', { epochs: most })])).toBeUndefined();
    expect(await refusal([step('train', { epochs: most + 1 })])).toMatch(/train\.epochs \d+: 8 training examples of .* past 2\^53 − 1: give fewer epochs$/);
    // (at most maxExamples of them)
    expect(await refusal([step('train', { epochs: Math.floor(MAX / 2), maxExamples: 2 })])).toBeUndefined();
    expect(await refusal([step('train', { epochs: Math.floor(MAX / 2) + 1, maxExamples: 2 })])).toMatch(/: 2 training examples of /);
    // (with their augmented variants: 8 × 3)
    expect(await refusal([step('distill', { student: 'bert:layers=1', epochs: most, augment: 2 })])).toBe(
      line(
        'distill',
        `distill.epochs ${most}: 24 training examples (8 of ${train()}, 2 augmented variants of each) in batches of 1 make ${24n * BigInt(most)} optimizer steps, past 2^53 − 1: give fewer epochs`,
      ),
    );
  });

  it("refuses a distill step's intermediateEpochs (its intermediate phase) past it, naming that setting", async () => {
    expect(await refusal([step('distill', { student: 'bert:layers=1', intermediate: 'tinybert', epochs: 1, intermediateEpochs: MAX })])).toBe(
      line(
        'distill',
        `distill.intermediateEpochs ${MAX}: 8 training examples of ${train()} in batches of 1 make ${8n * BigInt(MAX)} optimizer steps, past 2^53 − 1: give fewer epochs`,
      ),
    );
  });

  // (a point whose plan could not count them, as the file it reads is another by the time it runs: its refusal names
  // the step, where it named no step of the pipeline)
  it("names the step where the point refuses them (the pipeline: the point's name)", async () => {
    const doc = {
      name: 'count',
      models: [{ path: 'models/tiny', tasks: ['SST-2'] }],
      calibration: false,
      pipelines: [{ name: 'ft', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, step('train', { epochs: 1 })] }],
    };
    const point = (await planSweep(parseSweep(doc, join(root, 'count.yaml'), 'count.yaml'), { glueDir: join(root, 'glue'), workDir: join(root, 'work') })).find(
      (p) => p.training,
    );
    point!.training!.steps[0]!.settings.epochs = MAX;
    expect(await asyncRefusal(runPoint(point!, { threads: 1 }))).toBe(
      `step 2 (train): train.epochs ${MAX}: 8 training examples of ${train()} in batches of 1 make ${8n * BigInt(MAX)} optimizer steps, past 2^53 − 1: give fewer epochs`,
    );
  });
});
