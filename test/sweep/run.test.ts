/**
 * runSweep's checks before any point runs: a file in the way of the work folder is one line, not an ENOTDIR at
 * each point.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { runSweep, type SweepEvent } from '../../src/sweep/run.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 4 });
});
afterAll(() => t?.cleanup());

describe('runSweep', () => {
  it('refuses a work folder that is a file, or under one, before running any point or creating the store', async () => {
    const file = join(t.root, 'a-file');
    writeFileSync(file, 'x');
    const store = join(t.root, 'store.sqlite');
    for (const workDir of [file, join(file, 'models')]) {
      const events: SweepEvent['type'][] = [];
      const run = runSweep({ file: t.sweepFile, store, workDir, onEvent: (e) => events.push(e.type) });
      await expect(run).rejects.toThrow(UserError);
      await expect(run).rejects.toThrow(new RegExp(`^--work-dir ${workDir}: ${file} is a file, not a folder$`));
      expect(events).toEqual([]);
      expect(existsSync(store)).toBe(false);
    }
    // The default work folder (<store>-models) too, named as such.
    writeFileSync(join(t.root, 'other-models'), 'x');
    const other = join(t.root, 'other.sqlite');
    await expect(runSweep({ file: t.sweepFile, store: other })).rejects.toThrow(/^work folder .*other-models: .*other-models is a file, not a folder$/);
    expect(existsSync(other)).toBe(false);
  });
});
