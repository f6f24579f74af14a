/**
 * The best-epoch rule of the training loop: a dev score that is undefined (NaN, e.g. the Pearson correlation of a
 * student whose STS-B predictions are all equal) never pins the best epoch once a defined score comes.
 */
import { describe, expect, it } from 'vitest';
import { beatsBest } from '../../src/train/trainer.ts';

/**
 * The best epoch over `scores` (1-based), deciding epoch by epoch as the loop does: in one run, and resumed after
 * every epoch (the best score read back from the checkpoint's JSON), which must agree.
 */
function bestOf(scores: readonly number[]): number {
  const once = bestIn(scores, false);
  expect(bestIn(scores, true)).toBe(once);
  return once;
}

function bestIn(scores: readonly number[], resumed: boolean): number {
  let best: number | null = null;
  let bestEpoch = 0;
  scores.forEach((score, i) => {
    if (beatsBest(score, best, bestEpoch)) {
      best = Number.isNaN(score) ? null : score;
      bestEpoch = i + 1;
    }
    if (resumed) best = JSON.parse(JSON.stringify(best));
  });
  return bestEpoch;
}

describe('beatsBest', () => {
  it('keeps an epoch with an undefined score only until an epoch with a score comes', () => {
    expect(bestOf([NaN, 0.3, 0.2])).toBe(2);
    expect(bestOf([NaN, NaN, 0.1])).toBe(3);
    expect(bestOf([NaN, NaN])).toBe(1);
    expect(beatsBest(0.3, Number.NaN, 1)).toBe(true); // a best score held as NaN (not read back from JSON)
  });

  it('never lets an undefined score replace a scored epoch', () => {
    expect(bestOf([0.1, NaN, 0.05])).toBe(1);
    expect(beatsBest(Number.NaN, 0.1, 1)).toBe(false);
  });

  it('takes a strictly higher score; the first of equal epochs stays', () => {
    expect(bestOf([0.5, 0.7, 0.6])).toBe(2);
    expect(bestOf([0.5, 0.5])).toBe(1);
    expect(beatsBest(0.5, null, 0)).toBe(true);
  });
});
