/** The message of the one-line SettingsError that `run` must throw (the test fails when it throws another or none). */
import { expect } from 'vitest';
import { SettingsError } from '../../src/errors.ts';

export function refusal(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as Error).message;
  }
  throw new Error('not refused');
}
