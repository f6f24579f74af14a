/**
 * A command run without --help builds no help text: yargs builds the matched command's help on every run as its
 * handler starts (cacheHelpMessage), about 0.1 s of each command's start for a text never printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { saveModel } from '../../src/onnx/index.ts';
import { runMain } from '../helpers/cli.ts';
import { tinyBert } from '../helpers/models.ts';

/** Each yargs instance the CLI made, as yargs' default export returned it. */
const made = vi.hoisted(() => [] as unknown[]);
vi.mock('yargs', async (importOriginal) => {
  const real = (await importOriginal<typeof import('yargs')>()).default;
  return {
    default: (...args: Parameters<typeof real>) => {
      const y = real(...args);
      made.push(y);
      return y;
    },
  };
});

/** Whether yargs holds a help text it built (yargs 18's internals). */
const builtHelp = (y: unknown): boolean =>
  (y as { getInternalMethods(): { getUsageInstance(): { hasCachedHelpMessage(): boolean } } }).getInternalMethods().getUsageInstance().hasCachedHelpMessage();

describe('compress run without --help', () => {
  const dir = mkdtempSync(join(tmpdir(), 'help-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds no help text (inspect MODEL)', async () => {
    made.length = 0;
    const model = join(dir, 'model.onnx');
    saveModel(tinyBert(), model);
    const r = await runMain(['inspect', model]);
    expect(r.code, r.stderr).toBe(0);
    expect(made).toHaveLength(1);
    expect(builtHelp(made[0])).toBe(false);
  });

  it('still prints the command help asked for (inspect --help)', async () => {
    const r = await runMain(['inspect', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^compress inspect <model>/);
  });
});
