/**
 * A distill run's lineage records the prediction-layer settings its loss used: with alpha 1 (the labels alone, no
 * teacher term) neither temperature nor logitLoss, as a sweep reads them unused, where it recorded the defaults.
 */
import { describe, expect, it } from 'vitest';
import { tinyDistill } from '../helpers/tiny-distill.ts';

const run = tinyDistill('bert-compress-lineage-kd-');
const distil = (name: string, alpha: number) => run.distill(name, { alpha });

describe("a distill lineage's prediction-layer settings", () => {
  it('leave out temperature and logitLoss with alpha 1 (no teacher term), and keep them below it', async () => {
    const labelsOnly = (await distil('alpha-1', 1)).lineage!;
    expect(labelsOnly.loss).toEqual([{ kind: 'hard-ce', weight: 1 }]);
    expect(labelsOnly.distill).toEqual({ alpha: 1, stage: 'task', augment: 0 });
    expect((await distil('alpha-half', 0.5)).lineage!.distill).toEqual({ alpha: 0.5, temperature: 2, logitLoss: 'ce', stage: 'task', augment: 0 });
  });
});
