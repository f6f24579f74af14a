/**
 * The message of the one-line error that `run` must throw: a SettingsError unless another class is named (the test
 * fails when it throws another, a multi-line one, or none).
 */
import { expect } from 'vitest';
import { SettingsError } from '../../src/errors.ts';

export function refusal(run: () => unknown, kind: abstract new (...args: never[]) => Error = SettingsError): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('not refused');
}

/** refusal's check of a run that resolves: the message of the one-line error `run` must reject with. */
export async function asyncRefusal(run: Promise<unknown>, kind: abstract new (...args: never[]) => Error = SettingsError): Promise<string> {
  try {
    await run;
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('not refused');
}
