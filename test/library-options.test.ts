/**
 * The package's entry points as a JavaScript caller uses them (README, "Library"): options of the wrong kind are
 * refused in one line naming the option, before any work, where they were read as something else or hung.
 */
import { describe, expect, it } from 'vitest';
import { loadCalibration } from '../src/eval/index.ts';
import { SettingsError } from '../src/errors.ts';

describe('loadCalibration', () => {
  it('refuses a batchSize that is no whole number of rows (0 looped for ever over the examples)', async () => {
    for (const [batchSize, line] of [
      [0, 'batchSize 0: expected an integer from 1 to 2^53 − 1'],
      [2.5, 'batchSize 2.5: expected an integer from 1 to 2^53 − 1'],
      ['x', 'batchSize: expected an integer from 1 to 2^53 − 1, got string "x"'],
    ] as const) {
      const e = await loadCalibration({ model: 'no-such-model', task: 'SST-2', batchSize: batchSize as number }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SettingsError);
      expect((e as Error).message).toBe(line);
    }
  });
});
