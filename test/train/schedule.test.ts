import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { lrAt, warmupStepsOf } from '../../src/train/schedule.ts';

describe('linear schedule with warmup', () => {
  it('ramps from 0 over the warmup, then decays linearly to 0 at totalSteps (get_linear_schedule_with_warmup)', () => {
    const s = { lr: 1, warmupSteps: 2, totalSteps: 10 };
    // HF: step/max(1, warmup) during warmup, then max(0, (total − step)/max(1, total − warmup)).
    const expected = [0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0, 0];
    expected.forEach((v, step) => expect(lrAt(step, s)).toBeCloseTo(v, 15));
  });

  it('scales with the peak lr and works without warmup', () => {
    expect(lrAt(0, { lr: 2e-5, totalSteps: 4 })).toBe(2e-5);
    expect(lrAt(3, { lr: 2e-5, totalSteps: 4 })).toBeCloseTo(0.5e-5, 20);
    expect(lrAt(1, { lr: 2e-5, totalSteps: 4, warmupSteps: 4 })).toBeCloseTo(0.5e-5, 20);
    expect(lrAt(4, { lr: 2e-5, totalSteps: 4, warmupSteps: 4 })).toBe(0);
  });

  it('rounds a warmup ratio up, as the Trainer does (ceil(total × ratio))', () => {
    expect(warmupStepsOf({ lr: 1, totalSteps: 25, warmupRatio: 0.1 })).toBe(3);
    expect(warmupStepsOf({ lr: 1, totalSteps: 1000, warmupRatio: 0.06 })).toBe(60);
    expect(lrAt(1, { lr: 1, totalSteps: 25, warmupRatio: 0.1 })).toBeCloseTo(1 / 3, 15);
  });

  it('refuses inconsistent settings with a message naming the field', () => {
    expect(() => lrAt(0, { lr: 1, totalSteps: 10, warmupSteps: 1, warmupRatio: 0.1 })).toThrow(SettingsError);
    expect(() => lrAt(0, { lr: 1, totalSteps: 0 })).toThrow(/'totalSteps'/);
    expect(() => lrAt(0, { lr: 1, totalSteps: 10, warmupRatio: 1.5 })).toThrow(/'warmupRatio'/);
    expect(() => lrAt(0, { lr: 1, totalSteps: 10, warmupSteps: 1.5 })).toThrow(/'warmupSteps'/);
    expect(() => lrAt(-1, { lr: 1, totalSteps: 10 })).toThrow(RangeError);
  });
});
