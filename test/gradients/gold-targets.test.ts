/** Gold targets as the loss graph reads them, and examples without a gold label (augmented ones). */
import { describe, expect, it } from 'vitest';
import { goldTargets, LOSS_INPUTS } from '../../src/gradients/losses.ts';
import { SettingsError } from '../../src/errors.ts';

describe('goldTargets', () => {
  it('one-hot rows for class indices, an all-zero row for a NaN label (adds nothing to hard-ce)', () => {
    const t = goldTargets([1, Number.NaN, 0], 2, false)[LOSS_INPUTS.labels]!;
    expect(t.dims).toEqual([3, 2]);
    expect(Array.from(t.data as Float32Array)).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it('refuses labels that are not one of the outputs', () => {
    for (const bad of [2, -1, 0.5]) expect(() => goldTargets([bad], 2, false)).toThrow(SettingsError);
  });

  it('regression: scores as [batch, 1]; a NaN score is refused, never regressed on', () => {
    const t = goldTargets([0.5, 4], 1, true)[LOSS_INPUTS.scores]!;
    expect(t.dims).toEqual([2, 1]);
    expect(Array.from(t.data as Float32Array)).toEqual([0.5, 4]);
    expect(() => goldTargets([1, Number.NaN], 1, true)).toThrow(/without a gold score/);
  });
});
