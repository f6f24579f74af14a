/**
 * A sweep's model whose config.json's `architectures` names another head (BertForMultipleChoice, whose graph looks like
 * a one-label classifier, its scores [batch, choices]) is refused by the plan before any point runs, in eval's words
 * (every point evaluates it), where the plan accepted it and every point failed at eval. A stale class name beside a
 * graph that shows a sequence classifier by itself plans.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeHeadFolder } from '../helpers/model-folder.ts';
import { planRefusal } from './plan-refusal.ts';

let root: string;
/** A one-label model folder under `root`/models (scores declared `scores`) whose config.json names `architectures`. */
function folder(name: string, architectures: string[], scores: Array<string | number>): void {
  writeHeadFolder(join(root, 'models', name), architectures, scores);
}
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'architectures-plan-'));
  folder('choice', ['BertForMultipleChoice'], ['batch', 'num_choices']);
  folder('stale', ['BertForMaskedLM'], ['batch', 1]);
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a sweep's plan of a model whose config.json names another head", () => {
  it('BertForMultipleChoice with scores [batch, choices]: refused in eval words before any point runs', async () => {
    const line = await planRefusal(root, 'mc', [{ folder: 'choice', tasks: ['STS-B'] }], 'ffn', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]);
    expect(line).toBe(
      `${join(root, 'mc.yaml')}: models[0] 'choice': ${join(root, 'models', 'choice', 'config.json')}: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier; GLUE tasks need one (one score per label, or one for regression); every point evaluates it, its baseline too`,
    );
  });

  it('a stale BertForMaskedLM beside a graph that shows a sequence classifier plans', async () => {
    expect(await planRefusal(root, 'stale', [{ folder: 'stale', tasks: ['STS-B'] }], 'ffn', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }])).toBeUndefined();
  });
});
