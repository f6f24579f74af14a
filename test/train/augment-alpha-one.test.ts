/**
 * A task stage with --augment and --alpha 1 (the labels alone, no teacher term) says as it starts that its augmented
 * examples, which have no gold label, add nothing to the loss; with intermediate-layer KD, whose losses read them, or
 * a teacher term, it says nothing of it.
 */
import { describe, expect, it } from 'vitest';
import type { DistillSettings } from '../../src/train/run.ts';
import { tinyDistill } from '../helpers/tiny-distill.ts';

const run = tinyDistill('bert-compress-augment-alpha-');

const WARNING =
  "warning: --augment 1 with --alpha 1: augmented examples have no gold label and alpha 1 gives the teacher no weight, so they add nothing to the loss but time (and dilute each batch's labelled rows); give --alpha below 1 for the teacher's term to read them, or leave out --augment";

async function warnings(name: string, distill: Partial<DistillSettings>): Promise<string[]> {
  const lines: string[] = [];
  const r = await run.distill(name, distill, { batchSize: 8, log: (l) => lines.push(l) });
  expect(r.lineage?.data.augmented).toBeGreaterThan(0);
  return lines.filter((l) => l.startsWith('warning: --augment'));
}

describe('--augment with --alpha 1', () => {
  it('warns that the augmented examples add nothing to the loss', async () => {
    expect(await warnings('alpha-1', { augment: 1, alpha: 1 })).toEqual([WARNING]);
  });

  it('says nothing with a teacher term, or with intermediate-layer KD, whose losses read the augmented examples', async () => {
    expect(await warnings('alpha-half', { augment: 1, alpha: 0.5 })).toEqual([]);
    expect(await warnings('intermediate', { augment: 1, alpha: 1, intermediate: 'tinybert', intermediateEpochs: 1 })).toEqual([]);
  });
});
